#!/bin/bash
# The VM tests' switch (tests/vm/gateway.py --switch) without VMs: three listening sockets stand
# for three QEMU socket NICs (`-netdev socket,listen=`), one of them appearing only later. A
# broadcast reaches every other port and not its sender; a unicast to a learnt MAC reaches only
# that port; 802.1Q tags pass unchanged (each port is a trunk); ARP for a gateway is answered on
# its VLAN and not forwarded; a port that closes (a VM killed) is connected again when it returns.
# As root, --tap VLAN=IF (an access port: the rehearsal's event receiver): a host in a network
# namespace behind it answers ARP on that VLAN, tagged on the trunk, and sees no other VLAN.
set -u
cd "$(dirname "$0")/../.." || exit 1
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
exec python3 - "$PWD/tests/vm/gateway.py" <<'PY'
import socket, struct, subprocess, sys, time
gw = sys.argv[1]
fails, n = [], [0]
def check(what, ok):
    n[0] += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails.append(what)

def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))   # a random free port, as QEMU's would be
    s.listen(1)
    return s

def accept(l):
    l.settimeout(15)
    c, _ = l.accept()
    c.settimeout(3)
    return c

def send(c, frame):
    c.sendall(struct.pack("!I", len(frame)) + frame)

def recv(c, timeout=2.0):
    c.settimeout(timeout)
    try:
        head = b""
        while len(head) < 4:
            d = c.recv(4 - len(head))
            if not d:
                return None
            head += d
        k = struct.unpack("!I", head)[0]
        body = b""
        while len(body) < k:
            body += c.recv(k - len(body))
        return body
    except socket.timeout:
        return None

def eth(dst, src, vlan, payload):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan else b""
    return bytes.fromhex(dst) + bytes.fromhex(src) + tag + struct.pack("!H", 0x0800) + payload

def arp(vlan, sha, spa, tpa):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + bytes.fromhex(sha) + socket.inet_aton(spa) + b"\0" * 6 + socket.inet_aton(tpa)
    return bytes.fromhex("ffffffffffff") + bytes.fromhex(sha) + struct.pack("!HH", 0x8100, vlan) + struct.pack("!H", 0x0806) + body

la, lb, lc = listener(), listener(), listener()
pc = lc.getsockname()[1]
lc.close()   # the third "VM" is not there yet
log = "/dev/null"
sw = subprocess.Popen([sys.executable, gw, "--switch", "--port", str(la.getsockname()[1]), "--port", str(lb.getsockname()[1]),
                       "--port", str(pc), "--gw", "20=10.0.50.1", "--lifetime", "60", "--log", log])
try:
    a, b = accept(la), accept(lb)
    A, B, C = "525400000a01", "525400000b01", "525400000c01"
    f = eth("ffffffffffff", A, 40, b"hello from a on vlan 40")
    send(a, f)
    check("a broadcast from a reaches b unchanged, tag and all", recv(b) == f)
    check("and does not come back to a", recv(a, 0.5) is None)
    u = eth(A, B, 40, b"unicast to a")
    send(b, u)
    check("a unicast to a's learnt MAC reaches a", recv(a) == u)
    req = arp(20, A, "10.0.50.13", "10.0.50.1")
    send(a, req)
    rep = recv(a)
    check("ARP for the VLAN 20 gateway is answered on VLAN 20",
          rep is not None and rep[12:16] == struct.pack("!HH", 0x8100, 20) and rep[-14:-10] == socket.inet_aton("10.0.50.1"))
    check("and not forwarded to b", recv(b, 0.5) is None)
    # LACP (slow protocols, 01:80:c2:00:00:02) from a's MAC on b: neither forwarded nor learnt
    send(b, bytes.fromhex("0180c2000002") + bytes.fromhex(A) + struct.pack("!H", 0x8809) + b"\x01" * 50)
    check("an LACPDU is not forwarded", recv(a, 0.5) is None)
    u3 = eth(A, B, 40, b"still to a")
    send(b, u3)
    check("and a's MAC is not learnt from it: a unicast to a still reaches a", recv(a) == u3)
    # the third port appears: it is connected, and learns
    lc = socket.socket(); lc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); lc.bind(("127.0.0.1", pc)); lc.listen(1)
    c = accept(lc)
    time.sleep(0.3)
    f2 = eth("ffffffffffff", C, 20, b"c arrives")
    send(c, f2)
    check("a port that appears later is connected: its broadcast reaches a and b", recv(a) == f2 and recv(b) == f2)
    u2 = eth(C, A, 20, b"to c")
    send(a, u2)
    check("a unicast to c reaches c only", recv(c) == u2 and recv(b, 0.5) is None)
    # c's VM is killed and comes back
    c.close()
    c = accept(lc)
    time.sleep(0.3)
    send(a, eth("ffffffffffff", A, 40, b"after the restart"))
    check("a port that closed is connected again when its VM returns", recv(c) == eth("ffffffffffff", A, 40, b"after the restart"))
finally:
    sw.kill()

import json, os
if os.geteuid() == 0 and os.path.exists("/dev/net/tun"):
    tap, ns = "rsvs%d" % os.getpid(), "rackstack-vm-switch-%d" % os.getpid()
    la = listener()
    sw = subprocess.Popen([sys.executable, gw, "--switch", "--port", str(la.getsockname()[1]), "--gw", "20=10.0.50.1",
                           "--tap", "20=" + tap, "--lifetime", "60", "--log", log])
    try:
        a = accept(la)
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "link", "set", tap, "netns", ns], check=True)
        subprocess.run(["ip", "-n", ns, "addr", "add", "10.0.50.250/24", "dev", tap], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", tap, "up"], check=True)
        time.sleep(0.5)
        A = "525400000a01"
        def rx():
            st = subprocess.run(["ip", "-n", ns, "-s", "-j", "link", "show", tap], capture_output=True, text=True).stdout
            return json.loads(st)[0]["stats64"]["rx"]["packets"]
        before = rx()
        send(a, eth("ffffffffffff", A, 40, b"vlan 40 only"))
        send(a, eth("ffffffffffff", A, 0, b"untagged"))
        time.sleep(0.5)
        check("frames of another VLAN, or untagged, do not reach the access port", rx() == before)
        send(a, arp(20, A, "10.0.50.13", "10.0.50.250"))
        rep = None
        for _ in range(10):     # the namespace's own frames (IPv6 DAD ...) may come first
            r = recv(a, 2.0)
            if r is None or (r[12:16] == struct.pack("!HH", 0x8100, 20) and r[16:18] == b"\x08\x06"):
                rep = r
                break
        check("the access port's host answers ARP on VLAN 20, tagged 20 on the trunk",
              rep is not None and rep[32:36] == socket.inet_aton("10.0.50.250") and rep[0:6] == bytes.fromhex(A))
    finally:
        sw.kill()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
print("%d passed, %d failed" % (n[0] - len(fails), len(fails)))
sys.exit(1 if fails else 0)
PY

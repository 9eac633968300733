#!/usr/bin/env python3
"""A stand-in for the site's switch port and routers, for VM tests and the demo.

QEMU's user network (slirp) drops 802.1Q-tagged frames, so a guest that bonds its NICs and puts its
addresses on VLANs can never reach a gateway there, and firstboot (rightly) refuses to commit a
network whose gateway does not answer. This connects to each of the VM's socket NICs (QEMU
`-netdev socket,listen=127.0.0.1:PORT`: a TCP stream of frames, each behind a 4-byte big-endian
length) and answers ARP requests for the given gateway addresses on the given VLANs, tagged as
they came. It never forwards anything: the guest talks to this process only.

    gateway.py --port 40100 --port 40101 --gw 20=10.0.50.1 --gw 10=10.0.10.1 [--log FILE]

With --switch it is also the site's switch for several VMs: every frame from one port goes on to
the others as it came (802.1Q tags and all: each port is a trunk carrying every VLAN), to the port
a destination MAC was last seen on, or to all others when unknown or broadcast. Ports are
connected as their VMs appear (they are started one after another) and again after a VM restarts,
until --lifetime ends.

With --tap VLAN=NAME the switch also has an access port on VLAN: a TAP interface NAME (made here,
gone when this process ends) whose frames are untagged there and tagged VLAN on the trunks. A test
moves NAME into a network namespace and runs a server there that the VMs reach on that VLAN (the
status-event receiver of full-rehearsal.sh); the host kernel needs no 802.1Q for it.
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import sys
import time

GW_MAC = bytes.fromhex("525400ff0001")


def arp_reply(frame, gateways):
    """The reply to an ARP request for one of our gateways, or None."""
    if len(frame) < 14:
        return None
    dst, src, etype = frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
    vlan, off = 0, 14
    if etype == 0x8100:
        if len(frame) < 18:
            return None
        vlan = struct.unpack("!H", frame[14:16])[0] & 0x0FFF
        etype = struct.unpack("!H", frame[16:18])[0]
        off = 18
    if etype != 0x0806 or len(frame) < off + 28:
        return None
    arp = frame[off:off + 28]
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", arp[0:8])
    sha, spa, tpa = arp[8:14], arp[14:18], arp[24:28]
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 1):
        return None
    if socket.inet_ntoa(tpa) != gateways.get(vlan):
        return None
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + GW_MAC + tpa + sha + spa
    head = src + GW_MAC
    if off == 18:
        head += struct.pack("!HH", 0x8100, vlan) + struct.pack("!H", 0x0806)
    else:
        head += struct.pack("!H", 0x0806)
    return head + body


def arp_request(frame):
    """(vlan, target, sender) of an ARP request, or None: tests read these to see which links are up."""
    if len(frame) < 42:
        return None
    etype, off, vlan = struct.unpack("!H", frame[12:14])[0], 14, 0
    if etype == 0x8100:
        vlan, etype, off = struct.unpack("!H", frame[14:16])[0] & 0x0FFF, struct.unpack("!H", frame[16:18])[0], 18
    if etype != 0x0806 or len(frame) < off + 28 or struct.unpack("!H", frame[off + 6:off + 8])[0] != 1:
        return None
    return vlan, socket.inet_ntoa(frame[off + 24:off + 28]), socket.inet_ntoa(frame[off + 14:off + 18])


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def read_frames(s, bufs):
    """Frames now complete on s; None when it closed."""
    try:
        data = s.recv(65536)
    except OSError:
        data = b""
    if not data:
        return None
    buf = bufs[s] + data
    frames = []
    while len(buf) >= 4:
        n = struct.unpack("!I", buf[:4])[0]
        if len(buf) < 4 + n:
            break
        frames.append(buf[4:4 + n])
        buf = buf[4 + n:]
    bufs[s] = buf
    return frames


TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000


class Tap:
    """An access port: a TAP interface whose untagged frames are VLAN vid's on the trunks."""

    def __init__(self, vid, name):
        self.vid, self.fd = vid, os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))

    def fileno(self):
        return self.fd

    def read_tagged(self):
        f = os.read(self.fd, 65536)
        return f[:12] + struct.pack("!HH", 0x8100, self.vid) + f[12:] if len(f) >= 14 else None

    def write_untagged(self, frame):
        """Only this VLAN's frames go out here, without their tag."""
        if struct.unpack("!H", frame[12:14])[0] != 0x8100 or struct.unpack("!H", frame[14:16])[0] & 0x0FFF != self.vid:
            return
        try:
            os.write(self.fd, frame[:12] + frame[16:])
        except OSError:
            pass


def send(t, frame):
    if isinstance(t, Tap):
        t.write_untagged(frame)
        return
    try:
        t.sendall(struct.pack("!I", len(frame)) + frame)
    except OSError:
        pass


def switch(ports, gateways, log, lifetime, taps=()):
    """A learning switch between the ports (and the TAP access ports), answering ARP for the gateways."""
    conns, bufs, where, retry = {}, {}, {}, {}
    for t in taps:
        conns[t] = "tap"
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        now = time.monotonic()
        for p in ports:
            if p in conns.values() or retry.get(p, 0) > now:
                continue
            try:
                s = socket.create_connection(("127.0.0.1", p), timeout=0.2)
                if s.getsockname() == s.getpeername():
                    # TCP self-connect: retrying a port nobody listens on yet, the kernel may pick
                    # that very port as the source, and then holds it so the VM cannot listen there.
                    s.close()
                    retry[p] = now + 0.5
                    continue
                s.settimeout(None)
                conns[s], bufs[s] = p, b""
                print("switch: port %d connected" % p, file=log, flush=True)
            except OSError:
                retry[p] = now + 0.5
        if not conns:
            time.sleep(0.5)
            continue
        ready, _, _ = select.select(list(conns), [], [], 0.5)
        for s in ready:
            if isinstance(s, Tap):
                frames = [f for f in [s.read_tagged()] if f]
            else:
                frames = read_frames(s, bufs)
            if frames is None:
                print("switch: port %d closed" % conns[s], file=log, flush=True)
                where = {m: q for m, q in where.items() if q is not s}
                del conns[s], bufs[s]
                s.close()
                continue
            for frame in frames:
                if len(frame) < 14:
                    continue
                seen = arp_request(frame)
                if seen:
                    print("arp vlan=%d who-has %s tell %s" % seen, file=log, flush=True)
                reply = arp_reply(frame, gateways)
                if reply:
                    send(s, reply)
                    continue
                if frame[0:5] == b"\x01\x80\xc2\x00\x00":
                    # link-local (LACP and the other slow protocols, STP): a switch neither forwards
                    # nor learns from them. A bond without an LACP partner sends LACPDUs with its MAC
                    # from every slave, but takes frames only on its active one: learning from them
                    # would send unicasts to a slave that drops them.
                    continue
                where[frame[6:12]] = s
                out = where.get(frame[0:6])
                targets = [out] if out is not None and not frame[0] & 1 else [t for t in conns if t is not s]
                for t in targets:
                    if t is not s and t in conns:
                        send(t, frame)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--gw", action="append", required=True, help="VLAN=ADDRESS (VLAN 0: untagged)")
    ap.add_argument("--connect-timeout", type=float, default=120)
    ap.add_argument("--lifetime", type=float, default=3600, help="stop after this many seconds")
    ap.add_argument("--log")
    ap.add_argument("--switch", action="store_true", help="forward frames between the ports (several VMs)")
    ap.add_argument("--tap", action="append", default=[], help="VLAN=IFNAME: an access port on VLAN (with --switch)")
    a = ap.parse_args()
    gateways = {int(v): addr for v, addr in (g.split("=", 1) for g in a.gw)}
    log = open(a.log, "a") if a.log else sys.stderr
    if a.switch:
        taps = [Tap(int(v), name) for v, name in (t.split("=", 1) for t in a.tap)]
        return switch(a.port, gateways, log, a.lifetime, taps)
    deadline = time.monotonic() + a.connect_timeout
    socks = {connect(p, deadline): b"" for p in a.port}
    for s in socks:
        s.settimeout(None)
    end = time.monotonic() + a.lifetime
    while socks and time.monotonic() < end:
        ready, _, _ = select.select(list(socks), [], [], 1.0)
        for s in ready:
            data = s.recv(65536)
            if not data:
                del socks[s]
                continue
            buf = socks[s] + data
            while len(buf) >= 4:
                n = struct.unpack("!I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                frame, buf = buf[4:4 + n], buf[4 + n:]
                seen = arp_request(frame)
                if seen:
                    print("arp vlan=%d who-has %s tell %s" % seen, file=log, flush=True)
                reply = arp_reply(frame, gateways)
                if reply:
                    s.sendall(struct.pack("!I", len(reply)) + reply)
                    print("gateway: answered ARP for %s" % socket.inet_ntoa(reply[-14:-10]), file=log, flush=True)
            socks[s] = buf
    return 0


if __name__ == "__main__":
    sys.exit(main())

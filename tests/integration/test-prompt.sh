#!/bin/bash
# The console prompt driven through a pseudo-terminal, as a person at tty1 or ttyS0 meets it:
# defaults taken with Enter, bad input re-asked with the reason, the password not echoed and kept as a
# SHA-512 crypt hash, Ctrl-D, Ctrl-C, two consoles at once, nobody at the console (fails closed within
# the timeout) and no console at all. No disks or links are touched: `answers --out` writes a kickstart.
set -u
cd "$(dirname "$0")/../.."
FB=$PWD/${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
[ -x "$FB" ] || { echo "skip: $FB not built (run make)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# three NICs in a fake sysfs: two 10G with carrier, one 1G without
for n in "enp1s0 52:54:00:00:00:11 1 10000" "enp2s0 52:54:00:00:00:12 1 10000" "enp3s0 52:54:00:00:00:13 0 1000"; do
        set -- $n; d=$tmp/sys/class/net/$1
        mkdir -p "$d/device" "$tmp/sys/bus/virtio/drivers/virtio_net"
        echo 1 >"$d/type"; echo "$2" >"$d/address"; echo "$3" >"$d/carrier"; echo "$4" >"$d/speed"
        echo 1500 >"$d/mtu"; echo 2 >"$d/ifindex"; ln -s ../../../../bus/virtio/drivers/virtio_net "$d/device/driver"
done
# a partial kickstart: one VLAN's address and the bond options, no host name; everything else is the prompt's
cat >"$tmp/part.ks" <<'KS'
network --device=bond0 --bondopts=mode=802.3ad,miimon=100,lacp_rate=fast --vlanid=20 --bootproto=static --ip=10.0.50.77 --netmask=255.255.255.0 --gateway=10.0.50.1
timezone Etc/UTC --utc
%addon com_rackstack
role db
%end
KS
# the same, naming its host
{ cat "$tmp/part.ks"; echo "network --hostname=lab-db1.domain.com"; } >"$tmp/named.ks"
# an Anaconda kickstart as kickstart-tests has them: DHCP on the first link, no host name, a user
cat >"$tmp/anaconda.ks" <<'KS'
network --bootproto=dhcp --device=link --activate
rootpw --lock
user --name=test --uid=1500 --groups=wheel
timezone America/New_York --utc
lang en_US.UTF-8
keyboard us
%packages
@core
%end
%post
echo SUCCESS > /root/RESULT
%end
KS
chmod 600 "$tmp/part.ks" "$tmp/named.ks" "$tmp/anaconda.ks"

export FB TMP=$tmp
python3 - <<'PY'
import os, pty, re, select, signal, subprocess, sys, termios, time, json

FB, TMP = os.environ["FB"], os.environ["TMP"]
BASE = [FB, "answers", "--no-devices", "--kernel-cmdline", "quiet", "--ks", TMP + "/part.ks",
        "--profiles", "profiles", "--sysfs", TMP + "/sys", "--no-mute"]
fails = n = 0

def check(desc, ok, detail=""):
    global fails, n
    n += 1
    print(("ok   " if ok else "FAIL ") + desc + ("" if ok or not detail else "\n     " + detail.replace("\n", "\n     ")))
    if not ok:
        fails += 1

class Session:
    """The program on a pty's slave as its terminal; we are the person at the keyboard."""
    def __init__(self, args, extra_fds=()):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(args[0], args)
        self.out = b""
        self.status = None
        self.t0 = time.monotonic()
    def read_until(self, pattern, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.out.decode(errors="replace")):
                return True
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                self.out += data
        return bool(re.search(pattern, self.out.decode(errors="replace")))
    def send(self, s):
        os.write(self.fd, s.encode())
    def answer(self, question, text):
        ok = self.read_until(question)
        self.send(text)
        return ok
    def wait(self, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read_until(r"\Z^", 0.1)  # drain
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                self.elapsed = time.monotonic() - self.t0
                try:
                    while True:
                        r, _, _ = select.select([self.fd], [], [], 0.05)
                        if not r:
                            break
                        data = os.read(self.fd, 4096)
                        if not data:
                            break
                        self.out += data
                except OSError:
                    pass
                return self.status
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None
    def text(self):
        return self.out.decode(errors="replace")

# 1. Enter everywhere takes the defaults: the kickstart's, the site's, the two fastest NICs, a locked root.
out = TMP + "/defaults.ks"
s = Session(BASE + ["--ask-all", "--stdio", "--out", out, "--json", "--timeout", "20"])
ok_list = s.answer(r"The site's hosts of role 'db':\s+lab-db1\.domain\.com \(10\.0\.10\.12, 10\.0\.50\.12, 10\.0\.40\.12\)"
                   r"\s+Host name and domain \(e\.g\. name\.domain\.com\): ", "lab-db1.domain.com\r")
check("defaults: the host is asked first, without a guessed default, the role's site hosts listed", ok_list, s.text()[-600:])
for q in [r"Role .*\[db\]: ",
          r"VLAN 10 .*address/prefix \[10\.0\.10\.12/24\]: ", r"VLAN 10 .*gateway, or 'none' \[none\]: ",
          r"VLAN 20 .*address/prefix \[10\.0\.50\.77/24\]: ", r"VLAN 20 .*gateway, or 'none' \[10\.0\.50\.1\]: ",
          r"VLAN 40 .*address/prefix \[10\.0\.40\.12/24\]: ", r"VLAN 40 .*gateway, or 'none' \[none\]: ",
          r"DNS servers .*\[10\.0\.50\.11\]: ", r"NICs that form bond0 .*\[enp1s0,enp2s0\]: ", r"Root password .*: "]:
    if not s.answer(q, "\r"):
        check("defaults: question %r shown" % q, False, s.text()[-600:])
        break
rc = s.wait()
check("defaults: exits 0", rc == 0, s.text()[-800:])
check("defaults: the NIC table lists name, MAC, driver, carrier, speed",
      re.search(r"enp3s0 +52:54:00:00:00:13 +virtio_net +no +1000 Mb/s", s.text()) is not None, s.text())
ks = open(out).read() if os.path.exists(out) else ""
check("defaults: kickstart written with mode 0600", os.path.exists(out) and (os.stat(out).st_mode & 0o777) == 0o600)
check("defaults: VLAN 20 line keeps the kickstart's address and bond options, gains host name, DNS, members",
      re.search(r"network --device=bond0 --bondopts=mode=802\.3ad,miimon=100,lacp_rate=fast --bondslaves=enp1s0,enp2s0 "
                r"--vlanid=20 --bootproto=static --ip=10\.0\.50\.77 --netmask=255\.255\.255\.0 --gateway=10\.0\.50\.1 "
                r"--nameserver=10\.0\.50\.11 --hostname=lab-db1\.domain\.com", ks) is not None, ks)
check("defaults: VLAN 10 and 40 from the site, without a default route",
      "--vlanid=10 --bootproto=static --ip=10.0.10.12 --netmask=255.255.255.0 --nodefroute" in ks and
      "--vlanid=40 --bootproto=static --ip=10.0.40.12 --netmask=255.255.255.0 --nodefroute" in ks, ks)
check("defaults: Enter at the password keeps root locked", "rootpw --lock" in ks, ks)
check("defaults: the kickstart's other lines are kept", "timezone Etc/UTC --utc" in ks and "role db" in ks, ks)
check("defaults: the written kickstart loads", subprocess.run(BASE[:2] + ["--no-devices", "--ks", out, "--profiles", "profiles"],
      capture_output=True).returncode == 0)
m = re.search(r"\[\s*\{.*\}\s*\]", s.text(), re.S)
try:
    j = {a["key"]: a for a in json.loads(m.group(0).replace("\r", ""))}
except Exception as e:
    j = {}
check("defaults: --json keeps each default's source (Enter confirms, it does not re-source)",
      j.get("vlan.20.address", {}).get("source", "").endswith("part.ks line 1") and
      j.get("vlan.10.address", {}).get("source", "").startswith("site.yaml:") and
      j.get("bond.members", {}).get("source") == "prompt" and j.get("hostname", {}).get("source") == "prompt" and
      not any("part.ks" in o for o in j.get("vlan.20.address", {}).get("overruled", [])),
      json.dumps(j)[:900])

# 2. Bad input is re-asked with the reason; the password is not echoed and is stored as $6$.
out = TMP + "/typed.ks"
s = Session(BASE + ["--ask-all", "--stdio", "--out", out, "--timeout", "20", "--json"])
s.answer(r"Host name and domain.*: ", "lab-db1\r")
ok = s.read_until(r"give the host name with its domain")
s.send("lab-db1.domain.com\r")
s.answer(r"Role .*: ", "web\r")
ok_role = s.read_until(r"built for role 'db'")
s.send("\r")
s.answer(r"VLAN 10 .*address/prefix.*: ", "10.0.60.5/24\r")
ok_subnet = s.read_until(r"10\.0\.60\.5/24 is outside VLAN 10's subnet 10\.0\.10\.0/24; try again")
s.send("10.0.10.250\r")
s.answer(r"VLAN 10 .*gateway.*\]: ", "10.0.11.1\r")
ok_gw = s.read_until(r"gateway 10\.0\.11\.1 is outside the subnet 10\.0\.10\.0/24")
s.send("none\r")
s.answer(r"VLAN 20 .*address/prefix.*: ", "10.0.50.255\r")
ok_bcast = s.read_until(r"network or broadcast address")
s.send("\r")
s.answer(r"VLAN 20 .*gateway.*\]: ", "\r")
s.answer(r"VLAN 40 .*address/prefix.*: ", "\r")
s.answer(r"VLAN 40 .*gateway.*\]: ", "\r")
s.answer(r"DNS servers .*: ", "10.0.50.11, 8.8.8.300\r")
ok_dns = s.read_until(r"'8\.8\.8\.300' is not an IPv4 address")
s.send("10.0.50.11\r")
s.answer(r"NICs that form bond0 .*: ", "enp1s0,enp9s0\r")
ok_nic = s.read_until(r"there is no NIC 'enp9s0'")
s.send("52:54:00:00:00:12, enp3s0\r")
s.answer(r"Root password .*: ", "short\r")
ok_short = s.read_until(r"shorter than 8 characters")
s.send("Correct-Horse-9\r")
s.answer(r"Again: ", "Correct-Horse-8\r")
ok_differ = s.read_until(r"the passwords differ")
s.answer(r"Root password .*: ", "Correct-Horse-9\r")
s.answer(r"Again: ", "Correct-Horse-9\r")
rc = s.wait()
t = s.text()
check("invalid: exits 0 after the corrections", rc == 0, t[-800:])
check("invalid: a host name without domain is re-asked with the reason", ok, t[-300:])
check("invalid: another role than the image's is re-asked", ok_role)
check("invalid: an address outside the VLAN's subnet is re-asked", ok_subnet)
check("invalid: a gateway outside the subnet is re-asked", ok_gw)
check("invalid: the broadcast address is re-asked", ok_bcast)
check("invalid: a bad DNS server is re-asked", ok_dns)
check("invalid: a NIC that does not exist is re-asked", ok_nic)
check("invalid: a short password is re-asked", ok_short)
check("invalid: differing passwords are re-asked", ok_differ)
check("password: never echoed", "Correct-Horse" not in t, t)
m = re.search(r"\[\s*\{.*\}\s*\]", t, re.S)
try:
    j = {a["key"]: a for a in json.loads(m.group(0).replace("\r", ""))}
except Exception:
    j = {}
check("password: the answers say 'set' from the prompt, never the hash",
      j.get("rootpw", {}).get("value") == "set" and j.get("rootpw", {}).get("source") == "prompt" and "$6$" not in t,
      json.dumps(j.get("rootpw")))
ks = open(out).read() if os.path.exists(out) else ""
check("invalid: the corrected values are written (a MAC becomes the NIC's name)",
      "--ip=10.0.10.250" in ks and "--bondslaves=enp2s0,enp3s0" in ks, ks)
m = re.search(r"^rootpw --iscrypted (\$6\$([^$]+)\$\S+)$", ks, re.M)
check("password: stored as a SHA-512 crypt hash", m is not None, ks)
if m:
    again = subprocess.run(["openssl", "passwd", "-6", "-salt", m.group(2), "Correct-Horse-9"],
                           capture_output=True, text=True).stdout.strip()
    check("password: the hash is of what was typed", again == m.group(1), again + " vs " + m.group(1))
    p = subprocess.run(BASE[:2] + ["--no-devices", "--ks", out, "--profiles", "profiles"], capture_output=True,
                       text=True)
    check("password: --explain says set, never the hash",
          p.returncode == 0 and re.search(r"^\s*rootpw\b.*\bset\b", p.stdout, re.M) is not None
          and "$6$" not in p.stdout, p.stdout + p.stderr)

# 3. Ctrl-D at a question: a clean failure, and the terminal is restored.
s = Session(BASE + ["--ask-all", "--stdio", "--out", TMP + "/eof.ks", "--timeout", "20"])
s.answer(r"Host name and domain.*: ", "\x04")
rc = s.wait()
check("EOF: exits 1 with 'FAILED at answers: …' naming the missing host and the end of input",
      rc == 1 and re.search(r"rackstack-firstboot: FAILED at answers: the kickstart \(\S+/part\.ks\) names no host "
                            r"\(no 'network --hostname='\) and it could not be asked: end of input at the prompt",
                            s.text()) is not None, s.text()[-400:])
check("EOF: nothing written", not os.path.exists(TMP + "/eof.ks"))

# 4. Ctrl-C in the middle: a clean failure.
s = Session(BASE + ["--ask-all", "--stdio", "--out", TMP + "/int.ks", "--timeout", "20"])
s.answer(r"Host name and domain.*: ", "lab-db1.domain.com\r")
s.answer(r"Role .*: ", "d\x03")
rc = s.wait()
check("Ctrl-C: exits 1 with 'FAILED at answers: interrupted at the prompt'",
      rc == 1 and "rackstack-firstboot: FAILED at answers: interrupted at the prompt" in s.text(), s.text()[-400:])
check("Ctrl-C: nothing written", not os.path.exists(TMP + "/int.ks"))

# 5. The terminal's mode is what it was before (echo and line editing back on).
s = Session(BASE + ["--ask-all", "--stdio", "--out", TMP + "/x.ks", "--timeout", "20"])
s.read_until(r"Host name and domain.*: ")
during = termios.tcgetattr(s.fd)[3]
s.send("\x03")
s.wait()
after = termios.tcgetattr(s.fd)[3] if True else None
check("terminal: raw while asking, echo and canonical mode restored after",
      not (during & termios.ECHO) and (after & termios.ECHO) and (after & termios.ICANON))

# 6. Two consoles (say tty1 and ttyS0): the question is on both; the answer comes from the second.
m2, s2 = os.openpty()
name2 = os.ttyname(s2)
s = Session(BASE + ["--ask-all", "--stdio", "--console", name2, "--out", TMP + "/two.ks", "--timeout", "20"])
second = b""
def read2(pattern, timeout=10):
    global second
    end = time.monotonic() + timeout
    while time.monotonic() < end and not re.search(pattern, second.decode(errors="replace")):
        r, _, _ = select.select([m2], [], [], 0.1)
        if r:
            second += os.read(m2, 4096)
    return re.search(pattern, second.decode(errors="replace")) is not None
ok_both = s.read_until(r"Host name and domain.*: ") and read2(r"Host name and domain.*: ")
os.write(m2, b"lab-db1.domain.com\r")
ok_moved = s.read_until(r"answering on another console")
for q in [r"Role .*: ", r"VLAN 10 .*address.*: ", r"VLAN 10 .*gateway.*: ", r"VLAN 20 .*address.*: ",
          r"VLAN 20 .*gateway.*: ", r"VLAN 40 .*address.*: ", r"VLAN 40 .*gateway.*: ", r"DNS servers .*: ",
          r"NICs that form .*: ", r"Root password .*: "]:
    read2(q)
    second = second[-200:] if False else second
    os.write(m2, b"\r")
    time.sleep(0.05)
rc = s.wait()
check("two consoles: the question shows on both", ok_both)
check("two consoles: the first to answer keeps the prompt, the other is told", ok_moved and rc == 0,
      s.text()[-300:] + "\n---\n" + second.decode(errors="replace")[-300:])
os.close(m2); os.close(s2)

# 7. A console nobody sits at: fails closed within the timeout, with the reason on the console.
s = Session(BASE + ["--ask-all", "--stdio", "--out", TMP + "/nobody.ks", "--timeout", "2"])
rc = s.wait(timeout=20)
check("nobody: exits 1 within the timeout (2 s) plus a second", rc == 1 and s.elapsed < 3.5, "%s %.1f s" % (rc, getattr(s, "elapsed", -1)))
check("nobody: says so on the console, naming the missing host",
      re.search(r"rackstack-firstboot: FAILED at answers: the kickstart \(\S+\) names no host \(no 'network --hostname='\) "
                r"and it could not be asked: no answer at any console within 2 s", s.text()) is not None, s.text()[-300:])

# 8. No terminal at all: stdin is /dev/null and the console device does not exist.
t0 = time.monotonic()
p = subprocess.run(BASE + ["--ask-all", "--console", TMP + "/no-such-tty", "--timeout", "30", "--out", TMP + "/none.ks"],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
el = time.monotonic() - t0
check("no console: fails closed at once with the reason", p.returncode == 1 and el < 5 and
      "names no host (no 'network --hostname=') and it could not be asked: no console to ask on" in p.stdout,
      p.stdout + p.stderr)
t0 = time.monotonic()
p = subprocess.run(BASE + ["--ask-all", "--stdio", "--timeout", "30", "--out", TMP + "/none.ks"],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
el = time.monotonic() - t0
check("stdin /dev/null: fails closed at once (nobody behind it)", p.returncode == 1 and el < 5 and
      "it could not be asked: no console has a person" in p.stdout, p.stdout + p.stderr)

# 9. Nothing missing and no --ask-all: no question, no console needed.
NAMED = [TMP + "/named.ks" if a == TMP + "/part.ks" else a for a in BASE]
p = subprocess.run(NAMED + ["--prompt", "--console", TMP + "/no-such-tty", "--out", TMP + "/complete.ks"],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
check("nothing missing: no prompt, the kickstart is written", p.returncode == 0 and os.path.exists(TMP + "/complete.ks"),
      p.stdout + p.stderr)

# 10. Kernel messages muted while asking (root only: klogctl needs CAP_SYSLOG), restored after.
if os.geteuid() == 0:
    before = open("/proc/sys/kernel/printk").read().split()
    s = Session([a for a in BASE if a != "--no-mute"] + ["--ask-all", "--stdio", "--out", TMP + "/mute.ks", "--timeout", "20"])
    s.read_until(r"Host name and domain.*: ")
    during = open("/proc/sys/kernel/printk").read().split()
    s.send("\x03")
    s.wait()
    after = open("/proc/sys/kernel/printk").read().split()
    check("kernel messages: muted while asking, restored after",
          during[0] == before[2] and after[0] == before[0], "%s %s %s" % (before, during, after))

# 11. An Anaconda kickstart that names no host, with --prompt: only the host is asked; the site's values
#     for that host fill the network, the kickstart's own values stay, each answer says where it came from.
ANA = [TMP + "/anaconda.ks" if a == TMP + "/part.ks" else a for a in BASE] + ["--role", "db"]
out = TMP + "/anaconda-done.ks"
s = Session(ANA + ["--prompt", "--stdio", "--out", out, "--json", "--timeout", "20"])
ok_host = s.answer(r"Host name and domain \(e\.g\. name\.domain\.com\): ", "lab-db1.domain.com\r")
rc = s.wait()
t = s.text()
check("anaconda: the host alone is asked, then the run goes on", ok_host and rc == 0, t[-800:])
check("anaconda: nothing but the host is asked (the site knows the rest)",
      len(re.findall(r"\]: |\): ", t)) == 1 and "Role " not in t and "Root password" not in t, t[-800:])
check("anaconda: the DHCP line is left out with a warning at its line",
      re.search(r"anaconda\.ks:1:1: warning: 'network --device=link --bootproto=dhcp' is not applied: this role's "
                r"network is bond0 with VLANs 10, 20, 40", t) is not None, t[-800:])
m = re.search(r"\[\s*\{.*\}\s*\]", t, re.S)
try:
    j = {a["key"]: a for a in json.loads(m.group(0).replace("\r", ""))}
except Exception:
    j = {}
check("anaconda: sources — host from the prompt, addresses from the site for that host, rootpw from the kickstart",
      j.get("hostname", {}).get("value") == "lab-db1.domain.com" and j.get("hostname", {}).get("source") == "prompt" and
      j.get("vlan.20.address", {}).get("value") == "10.0.50.12/24" and
      j.get("vlan.20.address", {}).get("source", "").startswith("site.yaml:") and
      j.get("rootpw", {}).get("source", "").endswith("anaconda.ks line 2") and
      j.get("role", {}).get("source", "").startswith("site.yaml:"), json.dumps(j)[:900])
ks = open(out).read() if os.path.exists(out) else ""
check("anaconda: the completed kickstart has the site's VLAN lines and the host, keeps the user, zone and sections",
      "--vlanid=20 --bootproto=static --ip=10.0.50.12 --netmask=255.255.255.0 --gateway=10.0.50.1" in ks and
      "--hostname=lab-db1.domain.com" in ks and "--device=link" not in ks and "user --name=test --uid=1500" in ks and
      "timezone America/New_York --utc" in ks and "%packages" in ks and "rootpw --lock" in ks, ks)
p = subprocess.run(BASE[:2] + ["--no-devices", "--ks", out, "--profiles", "profiles", "--json"], capture_output=True, text=True)
try:
    j2 = {a["key"]: a for a in json.loads(p.stdout)}
except Exception:
    j2 = {}
check("anaconda: the completed kickstart names the host itself now", p.returncode == 0 and
      j2.get("hostname", {}).get("source", "").endswith("anaconda-done.ks line 2"), p.stdout[:600] + p.stderr)

# 12. The same kickstart with no console (non-interactive): a clean failure naming the missing host, no guess.
p = subprocess.run(ANA + ["--prompt", "--console", TMP + "/no-such-tty", "--timeout", "30", "--out", TMP + "/ana-none.ks"],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
check("anaconda, no console: FAILED at answers naming the missing host, nothing written",
      p.returncode == 1 and re.search(r"rackstack-firstboot: FAILED at answers: the kickstart \(\S+/anaconda\.ks\) names no "
                                      r"host \(no 'network --hostname='\) and it could not be asked: no console to ask on",
                                      p.stdout) is not None and not os.path.exists(TMP + "/ana-none.ks"), p.stdout + p.stderr)
p = subprocess.run(ANA + ["--out", TMP + "/ana-none.ks"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
check("anaconda, --out without --prompt: refused, naming the missing host",
      p.returncode == 1 and "names no host (no 'network --hostname='); run with --prompt" in p.stderr and
      not os.path.exists(TMP + "/ana-none.ks"), p.stdout + p.stderr)

print("%d checks, %d failed" % (n, fails))
sys.exit(1 if fails else 0)
PY

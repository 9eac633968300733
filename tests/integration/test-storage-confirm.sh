#!/bin/bash
# The disk confirmation at the console: a disk that carries a filesystem the answers do not name for
# clearing is offered for wiping; typing anything but "wipe" (or Ctrl-C) leaves it untouched and the
# step fails; typing "wipe" clears it and lays it out. Driven through a pty, on a real loop device.
set -u
cd "$(dirname "$0")/../.."
FB=$PWD/${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
[ "$(id -u)" = 0 ] || { echo "skip: needs root (loop devices)"; exit 77; }
[ -e /dev/loop-control ] && command -v losetup >/dev/null || { echo "skip: no loop devices"; exit 77; }
command -v mkfs.ext4 >/dev/null && command -v sfdisk >/dev/null || { echo "skip: no mkfs.ext4/sfdisk"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
[ -x "$FB" ] || { echo "skip: $FB not built (run make)"; exit 77; }
T=$(mktemp -d /tmp/rackstack-confirm.XXXXXX)
L=
cleanup() {
        findmnt -rn -o TARGET | grep "^$T/" | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
        [ -n "$L" ] && losetup -d "$L" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
truncate -s 120G "$T/old.img"
mkfs.ext4 -q -F -L olddata "$T/old.img" 2>/dev/null
L=$(losetup -f --show "$T/old.img") || { echo "losetup failed"; exit 1; }
echo 0 >"/sys/block/${L#/dev/}/queue/rotational"

export FB T L
python3 - <<'PY'
import os, pty, re, select, subprocess, sys, time
FB, T, L = os.environ["FB"], os.environ["T"], os.environ["L"]
fails = n = 0
def check(desc, ok, detail=""):
    global fails, n
    n += 1
    print(("ok   " if ok else "FAIL ") + desc + ("" if ok or not detail else "\n     " + detail[-1500:].replace("\n", "\n     ")))
    fails += not ok

def session(root, keys):
    os.makedirs(root, exist_ok=True)
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(FB, [FB, "storage", "--role", "id", "--profiles", os.path.join(os.getcwd(), "profiles"), "--root", root, "--only-use", L, "--no-mount", "--confirm-wipe"])
    out, sent, deadline = b"", 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                d = b""
            if not d:
                break
            out += d
        if sent < len(keys) and re.search(keys[sent][0], out.decode(errors="replace")):
            os.write(fd, keys[sent][1].encode())
            sent += 1
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st), out.decode(errors="replace")

def blkid_type():
    return subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", T + "/old.img"], capture_output=True, text=True).stdout.strip()

rc, out = session(T + "/r1", [(r"Type 'wipe' to wipe them: ", "yes\r"), (r"type 'wipe' to go on.*\n.*Type 'wipe' to wipe them: ", "\x03")])
check("the disk is offered, with what it carries", re.search(r"The disk plan wipes what these disks hold:\s+" + re.escape(L) +
      r" for '[a-z]+': carries ext4", out) is not None, out)
check("it says why it asks", "the disk plan needs a person's confirmation" in out, out)
check("'yes' is not the word: asked again with the reason", "type 'wipe' to go on" in out, out)
check("Ctrl-C: the step fails with the refusal and why it stands, nothing written", rc == 1 and
      re.search(r"FAILED at storage.plan: .*carries ext4, and clearpart does not name it \(wiping not confirmed: "
                r"interrupted at the prompt\)", out) is not None
      and blkid_type() == "ext4", "rc=%s type=%s\n%s" % (rc, blkid_type(), out[-600:]))

rc, out = session(T + "/r2", [(r"Type 'wipe' to wipe them: ", "wipe\r")])
check("'wipe': the disk is cleared and laid out", rc == 0 and "rackstack-firstboot: finished" in out and
      "Wiping confirmed at the console" in out, out)
check("'wipe': the plan printed after it names the disk, its ext4 and the console as what allows it",
      re.search(re.escape(L.split("/")[-1]) + r" .*\n(    .*\n)*    do:  wipe every signature \(both ends\) of what it carries \(ext4\): "
                r"allowed by 'wipe' typed at the console", out) is not None, out)
parts = subprocess.run(["sfdisk", "--json", T + "/old.img"], capture_output=True, text=True).stdout
check("'wipe': a GPT now, the old ext4 gone from the start", '"label":"gpt"' in parts.replace(" ", "") , parts)
print("%d checks, %d failed" % (n, fails))
sys.exit(1 if fails else 0)
PY

#!/bin/bash
# Install, then boot what was installed: the db image compressed as the installer media carry it
# (image.raw.zst, SHA256SUMS with the raw image's sum too, ks.cfg = kickstart/lab-db1.ks) is written
# by `rackstack-firstboot install` onto an empty 60G disk (a sparse file on a loop device, the
# plan choosing it by the role's OS disk spec), and that disk alone then boots under UEFI with the
# role's NVMe and SAS disks and two NICs facing a stand-in gateway. Firstboot must find the
# kickstart the installer carried (/usr/share/rackstack/ks.cfg), grow root into the GPT whose
# backup the installer moved to the disk's end, and end with "rackstack-firstboot: finished".
# Reports the install's throughput on the real image.
. "$(dirname "$0")/lib.sh"
vm_requirements
[ -e /dev/loop-control ] || skip "no /dev/loop-control"
command -v zstd >/dev/null || skip "zstd missing (make deps)"
ensure_image db
exec python3 - "$RAW" "$IMAGE_DIR" "$TOP" "$O" <<'PY'
import os, re, subprocess, sys, tempfile, time
raw, image_dir, top, out = sys.argv[1:5]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, Checks, install_signal_handlers

install_signal_handlers()
check = Checks(limit=None)

tmp = tempfile.mkdtemp(prefix="rackstack-inst-", dir="/var/tmp")
loop = None
gw = None
try:
    # the medium's content
    src = os.path.join(tmp, "medium")
    os.mkdir(src)
    t0 = time.monotonic()
    subprocess.run(["zstd", "-q", "-T2", "-3", raw, "-o", os.path.join(src, "image.raw.zst")], check=True)
    tz = time.monotonic() - t0
    sums = {l.split()[1]: l.split()[0] for l in open(os.path.join(image_dir, "SHA256SUMS")) if l.strip()}
    zsum = subprocess.run(["sha256sum", os.path.join(src, "image.raw.zst")], capture_output=True, text=True,
                          check=True).stdout.split()[0]
    with open(os.path.join(src, "SHA256SUMS"), "w") as f:
        f.write("%s  image.raw.zst\n%s  lab-db1.raw\n" % (zsum, sums["lab-db1.raw"]))
    # Without the join lines: a single VM has no identity, monitoring or log server, and join/time
    # would wait its bound and fail (test-identity-db.sh covers the join).
    with open(os.path.join(top, "kickstart/lab-db1.ks")) as f, open(os.path.join(src, "ks.cfg"), "w") as o:
        o.write("".join(l for l in f if not l.startswith("join ")))
    # install takes the medium's ks.cfg only when SHA256SUMS lists it (rackstack-build lists it)
    ksum = subprocess.run(["sha256sum", os.path.join(src, "ks.cfg")], capture_output=True, text=True,
                          check=True).stdout.split()[0]
    with open(os.path.join(src, "SHA256SUMS"), "a") as f:
        f.write("%s  ks.cfg\n" % ksum)
    zsize = os.path.getsize(os.path.join(src, "image.raw.zst"))
    print("# medium: image.raw.zst %.0f MiB from %.0f MiB raw (zstd -3, %.1f s)" %
          (zsize / 2**20, os.path.getsize(raw) / 2**20, tz), flush=True)

    # the install, onto an empty 60G "SSD"
    target = os.path.join(tmp, "os.img")
    subprocess.run(["truncate", "-s", "60G", target], check=True)
    loop = subprocess.run(["losetup", "-f", "--show", target], capture_output=True, text=True, check=True).stdout.strip()
    open("/sys/block/%s/queue/rotational" % os.path.basename(loop), "w").write("0")
    r = subprocess.run([os.path.join(out, "rackstack-firstboot"), "install", "--source", src, "--target", loop,
                        "--role", "db", "--profiles", os.path.join(top, "profiles"), "--no-reboot"], capture_output=True, text=True)
    text = r.stdout + r.stderr
    open(os.path.join(out, "test-logs", "vm-install-db.install.log"), "w").write(text)
    m = re.search(r"install: ([\d.]+) MiB written \(([\d.]+) MiB of it zeroed in place\) from ([\d.]+) MiB of zstd in "
                  r"([\d.]+) s, ([\d.]+) MB/s; sha256 ok", text)
    check("install onto the 60G disk", r.returncode == 0 and m is not None and
          text.rstrip().endswith("rackstack-firstboot: install finished"), text[-2000:])
    if m:
        print("# install: %s MiB (%s MiB zeroed in place) from %s MiB of zstd in %s s: %s MB/s" % m.groups(), flush=True)
    v = subprocess.run(["sfdisk", "--verify", loop], capture_output=True, text=True)
    check("sfdisk --verify on the installed disk", "No errors detected" in v.stdout, v.stdout + v.stderr)
    subprocess.run(["losetup", "-d", loop])
    loop = None

    # boot it, alone, as the OS disk
    nvme, sas = os.path.join(tmp, "nvme.img"), os.path.join(tmp, "sas.img")
    port = 43000 + os.getpid() % 15000
    gwlog = os.path.join(tmp, "gateway.log")
    gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                           "--port", str(port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                           "--log", gwlog, "--lifetime", "1800"])
    serial = os.path.join(out, "test-logs", "vm-install-db.serial.log")
    with VM(image=target, firmware="uefi", log=serial, name="inst-db",
            disks=[Disk("nvme", "500G", path=nvme), Disk("sas-hdd", "1T", path=sas)],
            nets=Nets(count=2, mode="socket", port=port)) as vm:
        vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", timeout=1500)
        text = vm.output
        check("the installed disk boots and firstboot finishes", "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("the answers are the kickstart the installer carried",
              "answers from image ks.cfg" in text)
        check("root grown into the relocated GPT's space",
              re.search(r"grow root partition \d+ from [\d.]+ GiB to 59\.\d GiB", text) is not None)
        check("the data disks laid out", re.search(r"/dev/nvme0n1: xfs on partition 1", text) is not None)
finally:
    if gw:
        gw.kill()
    if loop:
        subprocess.run(["losetup", "-d", loop])
    subprocess.run(["rm", "-rf", tmp])
sys.exit(check.summary())
PY

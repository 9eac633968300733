#!/bin/bash
# The whole path of a bare-metal install, in QEMU: the db role's installer ISO as a CD under UEFI,
# an empty 60G SATA SSD, the role's NVMe and SAS data disks, lab-db1.ks on the ISO. The installer
# writes the image onto the SSD (never the CD) and reboots; then the SSD alone (no ISO) boots the
# installed system, whose first boot lays out the data disks and ends "rackstack-firstboot: finished".
# In the vm-full tier (make check-full): about 15 minutes under TCG.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/media-lib.sh"
vm_requirements
"${RACKSTACK_MEDIA_FIRSTBOOT:-$O/rackstack-firstboot}" install --help >/dev/null 2>&1 ||
        skip "rackstack-firstboot has no install verb in this build"
ensure_media db
exec python3 - "$ISO" "$TOP" "$O" <<'PY'
import os, re, subprocess, sys, tempfile
iso, top, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, Checks, install_signal_handlers
install_signal_handlers()
check = Checks(limit=None)

tmp = tempfile.mkdtemp(prefix="rackstack-inst-", dir="/var/tmp")
ssd, nvme, sas = (os.path.join(tmp, f) for f in ("ssd.img", "nvme.img", "sas.img"))
port = 41000 + os.getpid() % 20000
gw = None
logs = os.path.join(out, "test-logs")
os.makedirs(logs, exist_ok=True)
def disks(boot):
    # The same identity as the harness gives an image= boot disk, so both boots see one disk.
    return [Disk("sata-ssd", "60G", path=ssd, keep=True, serial="RSBOOT01", model="RS OS SSD",
                 bootindex=0 if boot else None),
            Disk("nvme", "500G", path=nvme, keep=True), Disk("sas-hdd", "1T", path=sas, keep=True)]
try:
    # An install from the ISO needs no network.
    with VM(iso=iso, iso_as="cd", firmware="uefi", media_bootindex=1, disks=disks(True), no_reboot=True,
            nets=0, log=os.path.join(logs, "vm-media-install.serial.log"),
            name="inst-db") as vm:
        vm.boot(expect=r"rackstack-installer: starting \(role db", timeout=300)
        vm.wait_for(r"rackstack-firstboot: (install finished, rebooting|FAILED at [^\r\n]*)", 1500)
        text = vm.output
        check("the installer wrote the image and asked to reboot", "install finished, rebooting" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("the CD was never a target", "RACKSTACK_LAB_DB1: never a target" in text)
        check("the kickstart went onto the installed system", "kickstart is not on the installed system" not in text
              and "rackstack-firstboot: error" not in text,
              "".join(re.findall(r"rackstack-firstboot: (?:error|warning)[^\r\n]*", text)))
        vm.wait_exit(180)
    r = subprocess.run(["sfdisk", "--json", ssd], capture_output=True, text=True)
    check("the SSD holds the image's GPT", '"label": "gpt"' in r.stdout and r.stdout.count('"node"') >= 3, r.stdout)
    check("its backup GPT is at the disk's end", "backup GPT" not in r.stderr, r.stderr)
    # The SSD alone: no ISO attached. Its NICs face a stand-in gateway (tests/vm/gateway.py).
    gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                           "--port", str(port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                           "--log", os.path.join(tmp, "gateway.log"), "--lifetime", "3600"])
    with VM(image=ssd, boot_disk="sata-ssd", firmware="uefi", disks=disks(False)[1:],
            nets=Nets(count=2, mode="socket", port=port), log=os.path.join(logs, "vm-media-installed.serial.log"),
            name="installed-db") as vm:
        vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", timeout=1500)
        text = vm.output
        check("the installed system's first boot finished", "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("root grown to the 60G disk", re.search(r"grow root partition \d+ from [\d.]+ GiB to 59\.\d GiB", text) is not None)
        check("the NVMe laid out", re.search(r"/dev/nvme0n1: xfs on partition 1", text) is not None)
finally:
    if gw:
        gw.kill()
    subprocess.run(["rm", "-rf", tmp])
sys.exit(check.summary())
PY

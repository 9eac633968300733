#!/usr/bin/env python3
"""Boot a hand-made Debian image under UEFI and BIOS with NVMe + SAS + SATA disks and an OEMDRV
stick; log in on the serial console and check what the guest sees. NOT in the default test list:
it needs the image from tests/vm/make-selftest-image.sh (about 2 minutes to build).

    tests/vm/make-selftest-image.sh /work/vmtest                 # once, as root
    RACKSTACK_SELFTEST_IMAGE=/work/vmtest/selftest.raw python3 tests/vm/test_harness_selftest.py -v

Exits 77 when the image is missing. Each boot takes 40-90 s under TCG. Set RACKSTACK_VM_ECHO=1 to
watch the consoles live; logs are kept in $RACKSTACK_SELFTEST_LOGDIR (default a temp dir, printed).
"""
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmharness import VM, Disk, Nets, install_signal_handlers  # noqa: E402

IMAGE = os.environ.get("RACKSTACK_SELFTEST_IMAGE", "/work/vmtest/selftest.raw")
LOGDIR = os.environ.get("RACKSTACK_SELFTEST_LOGDIR") or tempfile.mkdtemp(prefix="rs-selftest-")
os.makedirs(LOGDIR, exist_ok=True)
TIMINGS = []


def lsblk_rows(text):
    rows = {}
    for line in text.splitlines():
        kv = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if "NAME" in kv:
            rows[kv["NAME"]] = kv
    return rows


class Selftest(unittest.TestCase):
    def boot_and_check(self, firmware):
        disks = [Disk("nvme", "500G"), Disk("sas-hdd", "1T"), Disk("sata-ssd", "60G"), Disk("sas-ssd", "100G")]
        ks = os.path.join(LOGDIR, "ks.cfg")
        with open(ks, "w") as f:
            f.write("# rackstack selftest kickstart\n")
        log = os.path.join(LOGDIR, "selftest-%s.log" % firmware)
        payload = os.path.join(LOGDIR, "fwcfg.txt")
        with open(payload, "w") as f:
            f.write("rackstack-fw-cfg-payload\n")
        # UEFI gets the LACP-peer wiring (4 NICs at 10G), BIOS the default two user-mode NICs.
        nets = Nets(2, mode="lacp-peer") if firmware == "uefi" else 2
        vm = VM(image=IMAGE, firmware=firmware, disks=disks, oemdrv=ks, boot_disk_size="60G", nets=nets,
                fw_cfg={"opt/rackstack/selftest": payload},
                log=log, name=firmware, echo=("[%s] " % firmware) if os.environ.get("RACKSTACK_VM_ECHO") else None)
        with vm:
            vm.boot(expect=r"login: ?$", timeout=400)
            t_login = vm.last_match_time
            vm.login()
            TIMINGS.append("%s: login prompt after %.1fs (attempt %d)" % (firmware, t_login, vm.starts))

            rc, out = vm.run("lsblk -b -d -e 7,11 -o NAME,TRAN,ROTA,SERIAL,SIZE -P")
            self.assertEqual(rc, 0, out)
            rows = {r["SERIAL"]: r for r in lsblk_rows(out).values()}
            expect = [(vm.boot_disk, 60 << 30)] + [(d, d.size) for d in disks]
            for d, size in expect:
                self.assertIn(d.serial, rows, "disk %s missing in:\n%s" % (d, out))
                r = rows[d.serial]
                self.assertEqual(r["TRAN"], d.transport, d)
                self.assertEqual(r["ROTA"], "1" if d.rotational else "0", d)
                self.assertEqual(int(r["SIZE"]), size, d)
            self.assertEqual(rows["RSSASHDD01"]["TRAN"], "sas")
            self.assertEqual(rows["RSSASHDD01"]["ROTA"], "1")
            self.assertEqual(rows["RSNVME01"]["ROTA"], "0")
            self.assertEqual(rows["RSSATASSD01"]["TRAN"], "sata")

            # Stable by-id names the tests will rely on.
            rc, out = vm.run("ls /dev/disk/by-id/")
            for d in [vm.boot_disk] + disks:
                self.assertIn(d.by_id, out.split(), "by-id %s missing:\n%s" % (d.by_id, out))

            # The OEMDRV stick is found by label (what Anaconda and firstboot look for).
            rc, out = vm.run("blkid -L OEMDRV && mkdir -p /mnt && mount -r LABEL=OEMDRV /mnt && cat /mnt/ks.cfg")
            self.assertEqual(rc, 0, out)
            self.assertIn("# rackstack selftest kickstart", out)

            # NICs: stable MACs, and link speed where asked for (802.3ad needs it).
            # (speed reads EINVAL while a link is down, so bring them up first)
            rc, out = vm.run("for n in /sys/class/net/*; do [ -e $n/device ] && ip link set ${n##*/} up; done; "
                             "sleep 2; for n in /sys/class/net/*; do [ -e $n/device ] && echo $(cat $n/address) "
                             "$(cat $n/speed 2>/dev/null || echo none); done")
            got = dict(l.split() for l in out.splitlines() if l.count(":") == 5)
            macs = vm.nets.macs + (vm.nets.peer_macs() if vm.nets.mode == "lacp-peer" else [])
            self.assertEqual(sorted(got), sorted(macs), out)
            if vm.nets.mode == "lacp-peer":
                self.assertEqual(set(got.values()), {"10000"}, out)

            # fw_cfg injection (how tests hand scripts to a stock image).
            rc, out = vm.run("modprobe qemu_fw_cfg; cat /sys/firmware/qemu_fw_cfg/by_name/opt/rackstack/selftest/raw")
            self.assertIn("rackstack-fw-cfg-payload", out)

            # A failing command reports its status.
            rc, out = vm.run("false")
            self.assertEqual(rc, 1)

            # QMP reset reboots the guest to the login prompt again (install tests rely on reboots).
            if firmware == "bios":
                t0 = vm.elapsed()
                vm.system_reset()
                vm.wait_for(r"login: ?$", timeout=300)
                TIMINGS.append("%s: login prompt %.1fs after system_reset" % (firmware, vm.elapsed() - t0))

    def test_uefi(self):
        self.boot_and_check("uefi")

    def test_bios(self):
        self.boot_and_check("bios")


if __name__ == "__main__":
    if not os.path.exists(IMAGE):
        print("SKIP: %s missing (build it with tests/vm/make-selftest-image.sh)" % IMAGE)
        sys.exit(77)
    install_signal_handlers()
    print("logs in %s" % LOGDIR)
    t0 = time.monotonic()
    prog = unittest.main(exit=False)
    for t in TIMINGS:
        print(t)
    print("total %.1fs" % (time.monotonic() - t0))
    sys.exit(0 if prog.result.wasSuccessful() else 1)

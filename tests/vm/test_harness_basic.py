#!/usr/bin/env python3
"""Checks of vmharness.py that need QEMU but no guest OS image (about 1 minute under TCG).

Run: python3 tests/vm/test_harness_basic.py [-v]. Exits 77 (skip) when qemu-system-x86_64 is missing.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmharness import VM, Checks, Disk, Nets, VMDied, VMError, VMPanic, VMTimeout, make_oemdrv, make_sparse, parse_size  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

FAKE_KVM_QEMU = """#!%s
import os, re, socket, sys, time
if os.environ.get("FAKE_MODE") == "bad-args":
    sys.stderr.write("qemu-system-x86_64: -device nvme: bad option\\n")
    sys.exit(1)
path = re.search(r"path=([^,]+)", [a for a in sys.argv if a.startswith("socket,id=ser0")][0]).group(1)
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(1)
c, _ = s.accept()
c.sendall(b"SeaBIOS (fake)\\r\\n")
if os.environ.get("FAKE_MODE") == "stall":
    c.sendall(b"[    0.000000] Linux version 6.1 (fake)\\r\\n")
    time.sleep(3600)
if os.environ.get("FAKE_MODE") == "panic":
    # the panic line cut across two writes, as a serial console may deliver it; then QEMU runs on
    c.sendall(b"[    0.000000] Linux version 6.1 (fake)\\r\\nlogin: \\r\\n[   33.5] Kernel pan")
    time.sleep(0.5)
    c.sendall(b"ic - not syncing: Fatal exception in interrupt\\r\\n[   33.5] ---[ end Kernel panic ]---\\r\\n")
    time.sleep(3600)
sys.stderr.write("KVM internal error. Suberror: 1\\nemulation failure\\n")
sys.stderr.flush()
time.sleep(3600)
""" % sys.executable


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Offline(unittest.TestCase):
    def test_checks(self):
        import contextlib, io
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            check = Checks(limit=5)
            self.assertTrue(check("first", True, "never shown"))
            self.assertFalse(check("second", False, "0123456789"))
            status = check.summary()
            tail = Checks(limit=3, from_end=True)
            tail("third", False, "abcdef")
            self.assertEqual(tail.summary(), 1)
            whole = Checks(limit=None)
            whole("fourth", False, ["x"] * 3)
            self.assertEqual(Checks().summary(), 0)
        self.assertEqual(status, 1)
        self.assertEqual(check.fails, ["second"])
        self.assertEqual(out.getvalue().splitlines(), [
            "ok   first", "FAIL second  01234", "1 passed, 1 failed", "FAIL third  def", "0 passed, 1 failed",
            "FAIL fourth  ['x', 'x', 'x']", "0 passed, 0 failed"])

    def test_parse_size(self):
        self.assertEqual(parse_size("500G"), 500 << 30)
        self.assertEqual(parse_size("1T"), 1 << 40)
        self.assertEqual(parse_size("16MiB"), 16 << 20)
        for bad in ("", "G", "1X", "-1G", "1.5G"):
            with self.assertRaises(ValueError):
                parse_size(bad)

    def test_sparse(self):
        with tempfile.TemporaryDirectory() as d:
            p = make_sparse(os.path.join(d, "x.img"), "1T")
            st = os.stat(p)
            self.assertEqual(st.st_size, 1 << 40)
            self.assertLess(st.st_blocks * 512, 1 << 20)

    def test_disk_spec(self):
        d = Disk.parse("sas-hdd:1T:serial=BK1,wwn=0x5000c50000000009")
        self.assertEqual((d.bus, d.rotation_rate, d.size, d.serial, d.wwn),
                         ("sas", 7200, 1 << 40, "BK1", 0x5000c50000000009))
        self.assertEqual(Disk.parse("ssd:60G").kind, "sata-ssd")
        self.assertEqual(Disk.parse("nvme:500G").transport, "nvme")
        self.assertFalse(Disk.parse("nvme:500G").rotational)
        with self.assertRaises(ValueError):
            Disk.parse("floppy:1M")
        with self.assertRaises(ValueError):
            Disk.parse("nvme:1G:colour=red")

    def test_oemdrv_labels(self):
        if not shutil.which("blkid"):
            self.skipTest("no blkid")
        with tempfile.TemporaryDirectory() as d:
            ks = os.path.join(d, "ks.cfg")
            with open(ks, "w") as f:
                f.write("rootpw --lock\n")
            for fmt, typ in (("vfat", "vfat"), ("iso", "iso9660"), ("ext4", "ext4")):
                if fmt == "iso" and not shutil.which("xorriso"):
                    continue
                img = make_oemdrv(ks, os.path.join(d, "oem." + fmt), fmt=fmt)
                out = subprocess.run(["blkid", "-p", "-o", "export", img], capture_output=True,
                                     text=True).stdout
                self.assertIn("LABEL=OEMDRV", out.split(), fmt)
                self.assertIn("TYPE=" + typ, out.split(), fmt)
            # The file really is inside (vfat: read it back with mtools, no mount).
            got = subprocess.run(["mtype", "-i", os.path.join(d, "oem.vfat"), "::/ks.cfg"],
                                 capture_output=True, text=True).stdout
            self.assertEqual(got, "rootpw --lock\n")

    def test_cmdline(self):
        with tempfile.TemporaryDirectory() as d:
            img = make_sparse(os.path.join(d, "boot.raw"), "64M")
            vm = VM(image=img, firmware="uefi", disks=[Disk("nvme", "500G"), Disk("sas-hdd", "1T"),
                                                       Disk("ssd", "60G"), Disk("sas-ssd", "1G")],
                    nets=Nets(2, mode="lacp-peer"), boot_disk_size="60G")
            try:
                cmd = vm.prepare()
                s = " ".join(cmd)
                self.assertIn("-accel " + (os.environ.get("RACKSTACK_ACCEL") or "tcg"), s)
                self.assertIn("-device nvme,id=nvme1,serial=RSNVME01", s)
                self.assertIn("-device mptsas1068,id=mpt0", s)
                self.assertEqual(s.count("-device mptsas1068"), 1)
                self.assertIn("serial=RSSASHDD01,wwn=0x5000525400000203,rotation_rate=7200", s)
                self.assertIn("serial=RSSASSSD01,wwn=0x5000525400000205,rotation_rate=1", s)
                self.assertIn("ide-hd,bus=ide.0,drive=d0,serial=RSBOOT01", s)
                self.assertIn("speed=10000,duplex=full", s)
                self.assertEqual(s.count("virtio-net-pci"), 4)
                self.assertNotIn("-no-reboot", s)
                tmp = vm.tmpdir
                # Backing files are sparse and the overlay carries the larger size.
                st = os.stat(vm.disks[1].path)
                self.assertEqual(st.st_size, 1 << 40)
                info = subprocess.run(["qemu-img", "info", vm.boot_disk.path], capture_output=True,
                                      text=True).stdout
                self.assertIn("60 GiB", info)
                self.assertEqual(os.path.getsize(img), 64 << 20)      # artifact untouched
            finally:
                vm.stop()
            self.assertFalse(os.path.exists(tmp))

    def test_cmdline_bios_oemdrv_iso_and_no_reboot(self):
        if not shutil.which("xorriso"):
            self.skipTest("no xorriso")
        with tempfile.TemporaryDirectory() as d:
            ks = os.path.join(d, "ks.cfg")
            with open(ks, "w") as f:
                f.write("text\n")
            vm = VM(iso=ks, iso_as="usb", firmware="bios", oemdrv=ks, oemdrv_fmt="iso", no_reboot=True,
                    disks=[Disk.parse("ssd:60G:boot=0")], media_bootindex=1,
                    nets=Nets(1, hostfwd=["tcp::2222-:22"], speed=1000))
            try:
                s = " ".join(vm.prepare())
                self.assertNotIn("pflash", s)
                self.assertIn("-no-reboot", s)
                self.assertIn("usb-storage,bus=xhci.0,drive=stick0,bootindex=1", s)
                self.assertIn("rotation_rate=1,bootindex=0", s)      # the install target is tried first
                self.assertIn("media=cdrom", s)                     # an ISO OEMDRV goes in as a CD
                self.assertIn("ide-cd,bus=ide.1,drive=oem0", s)
                self.assertEqual(s.count("qemu-xhci"), 1)
                self.assertIn("user,id=net0,hostfwd=tcp::2222-:22", s)
                self.assertIn("speed=1000,duplex=full", s)
            finally:
                vm.stop()


@unittest.skipUnless(shutil.which("qemu-system-x86_64"), "no qemu-system-x86_64")
class WithQemu(unittest.TestCase):
    def test_silent_console_is_retried_once(self):
        # SeaBIOS with nothing to boot prints nothing on the serial port: a "silent" boot.
        t0 = time.monotonic()
        vm = VM(firmware="bios", nets=0, first_output_timeout=4, memory=256, cpus=1)
        with self.assertRaises(VMTimeout) as cm:
            with vm:
                vm.boot(expect="never", timeout=60)
        self.assertEqual(vm.starts, 2)
        self.assertIn("after 2 attempts", str(cm.exception))
        self.assertLess(time.monotonic() - t0, 40)
        self.assertIsNone(vm.tmpdir)

    def test_uefi_output_and_qmp(self):
        # OVMF writes to the serial console on its own, so this needs no OS.
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "serial.log")
            with VM(firmware="uefi", nets=0, log=log, memory=256, cpus=1) as vm:
                vm.boot(expect=r"BdsDxe|UEFI Interactive Shell|Shell>", timeout=120)
                pid = vm.proc.pid
                tmp = vm.tmpdir
                self.assertTrue(os.path.exists(os.path.join(tmp, "OVMF_VARS.fd")))
                self.assertEqual(vm.qmp("query-status")["status"], "running")
                vm.system_reset()
                vm.wait_for(r"BdsDxe|Shell>", timeout=120)       # firmware ran again after the reset
                with self.assertRaises(VMTimeout):
                    vm.wait_for(r"this will not appear", timeout=2)
            self.assertFalse(pid_alive(pid))
            self.assertFalse(os.path.exists(tmp))
            with open(log, "rb") as f:
                self.assertGreater(f.read().count(b"BdsDxe"), 1)

    def test_socket_nics_link_two_vms(self):
        port = 47000 + os.getpid() % 1000 * 2
        with VM(firmware="uefi", nets=Nets(2, mode="socket", port=port), memory=256, cpus=1, name="a") as a, \
                VM(firmware="uefi", nets=Nets(2, mode="socket", port=port, listen=False), memory=256, cpus=1,
                   name="b") as b:
            a.boot(expect="BdsDxe", timeout=120)
            b.boot(expect="BdsDxe", timeout=120)
            info_a, info_b = a.hmp("info network"), b.hmp("info network")
            self.assertEqual(info_a.count("connection from 127.0.0.1"), 2, info_a)
            self.assertIn("connect to 127.0.0.1:%d" % (port + 1), info_b)
            self.assertIn("52:54:00:00:00:11", info_a)
            self.assertIn("52:54:00:00:00:21", info_b)
            self.assertIn("speed=10000", " ".join(a.cmdline))

    def test_qemu_exit_is_reported(self):
        with VM(firmware="uefi", nets=0, memory=256, cpus=1) as vm:
            vm.boot(expect="BdsDxe", timeout=120)
            vm.qmp("quit")
            with self.assertRaises(VMDied):
                vm.wait_for("never", timeout=30)

    def test_kvm_internal_error_is_detected(self):
        # On the lab host /dev/kvm is kvm_pvm: OVMF dies at once with "KVM internal error" and QEMU
        # would then sit paused forever. Where KVM works, the firmware simply runs.
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            self.skipTest("no usable /dev/kvm")
        t0 = time.monotonic()
        with VM(firmware="uefi", nets=0, accel="kvm", memory=256, cpus=1) as vm:
            try:
                vm.boot(expect="BdsDxe", timeout=60, retries=0)
            except VMDied as e:
                self.assertIn("KVM internal error", str(e))
                self.assertLess(time.monotonic() - t0, 30)
                self.assertFalse(vm.running())

    def test_cli_echo_and_log(self):
        # `make demo` relies on the live echo with a prefix; the log must hold the same console bytes.
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "c.log")
            r = subprocess.run([sys.executable, os.path.join(HERE, "vmharness.py"), "boot", "--firmware", "uefi",
                                "--nics", "0", "--memory", "256", "--cpus", "1", "--expect", "BdsDxe",
                                "--timeout", "120", "--echo", "--echo-prefix", "[demo] ", "--log", log],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            lines = [l for l in r.stderr.splitlines() if "BdsDxe" in l and "reached" not in l]
            self.assertTrue(lines and all(l.startswith("[demo] ") for l in lines), r.stderr[-2000:])
            with open(log, "rb") as f:
                self.assertIn(b"BdsDxe", f.read())
            # A pattern that never comes: exit status 1 and the console tail in the message.
            r = subprocess.run([sys.executable, os.path.join(HERE, "vmharness.py"), "boot", "--firmware", "uefi",
                                "--nics", "0", "--memory", "256", "--cpus", "1", "--expect", "BdsDxe",
                                "--expect", "no such line", "--timeout", "25"],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 1)
            self.assertIn("did not appear", r.stderr)

    def test_kvm_error_from_fake_qemu(self):
        # The same detection, on any host: a stand-in QEMU that connects the console, reports the error
        # the way kvm_pvm makes QEMU report it, and then hangs (as QEMU does, paused).
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "fake-qemu")
            with open(fake, "w") as f:
                f.write(FAKE_KVM_QEMU)
            os.chmod(fake, 0o755)
            old = os.environ.get("RACKSTACK_QEMU")
            os.environ["RACKSTACK_QEMU"] = fake
            try:
                t0 = time.monotonic()
                with VM(firmware="bios", nets=0) as vm:
                    with self.assertRaises(VMDied) as cm:
                        vm.boot(expect="never", timeout=120)
                    self.assertIn("KVM internal error", str(cm.exception))
                    self.assertFalse(vm.running())
                    self.assertEqual(vm.starts, 1)          # a KVM failure is not retried
                self.assertLess(time.monotonic() - t0, 20)
            finally:
                if old is None:
                    del os.environ["RACKSTACK_QEMU"]
                else:
                    os.environ["RACKSTACK_QEMU"] = old

    def test_stall_and_start_failure_with_fake_qemu(self):
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "fake-qemu")
            with open(fake, "w") as f:
                f.write(FAKE_KVM_QEMU)
            os.chmod(fake, 0o755)
            saved = dict(os.environ)
            os.environ["RACKSTACK_QEMU"] = fake
            try:
                # Output stops in the early kernel (the TCG hang seen in the lab): one retry, then give up.
                os.environ["FAKE_MODE"] = "stall"
                vm = VM(firmware="bios", nets=0, stall_timeout=2)
                with vm, self.assertRaises(VMTimeout) as cm:
                    vm.boot(expect="login:", timeout=60)
                self.assertEqual(vm.starts, 2)
                self.assertIn("stalled", str(cm.exception))
                # A stall after userspace started is not a hang: plain timeout, no restart.
                vm = VM(firmware="bios", nets=0, stall_timeout=2, early_boot_done="Linux version")
                with vm, self.assertRaises(VMTimeout) as cm:
                    vm.boot(expect="login:", timeout=5)
                self.assertEqual(vm.starts, 1)
                self.assertIn("did not appear within", str(cm.exception))
                # QEMU refusing its arguments: its message is in the error.
                os.environ["FAKE_MODE"] = "bad-args"
                vm = VM(firmware="bios", nets=0)
                with vm, self.assertRaises(VMError) as cm:
                    vm.boot(expect="login:", timeout=30)
                self.assertIn("bad option", str(cm.exception))
            finally:
                os.environ.clear()
                os.environ.update(saved)

    def test_guest_panic_with_fake_qemu(self):
        # A panicked guest keeps QEMU running: the harness must see the panic on the console and not
        # wait for the timeout; in boot() it is retried once, after it the caller gets VMPanic.
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "fake-qemu")
            with open(fake, "w") as f:
                f.write(FAKE_KVM_QEMU)
            os.chmod(fake, 0o755)
            saved = dict(os.environ)
            os.environ["RACKSTACK_QEMU"] = fake
            os.environ["FAKE_MODE"] = "panic"
            try:
                t0 = time.monotonic()
                vm = VM(firmware="bios", nets=0)
                with vm, self.assertRaises(VMPanic) as cm:
                    vm.boot(expect="never", timeout=300)
                self.assertEqual(vm.starts, 2)
                self.assertIn("Kernel panic - not syncing: Fatal exception in interrupt", str(cm.exception))
                self.assertFalse(vm.running())
                vm = VM(firmware="bios", nets=0)
                with vm:
                    vm.boot(expect="login:", timeout=300)
                    with self.assertRaises(VMPanic):
                        vm.wait_for("never", timeout=300)
                    self.assertEqual(vm.starts, 1)
                    self.assertEqual(vm.panic, "Kernel panic - not syncing: Fatal exception in interrupt")
                self.assertLess(time.monotonic() - t0, 60)
            finally:
                os.environ.clear()
                os.environ.update(saved)

    def test_signals_clean_up(self):
        # The CLI, killed with SIGTERM or interrupted with SIGINT while waiting, must stop QEMU and
        # remove its temp dir (sparse disk included).
        for sig in (signal.SIGTERM, signal.SIGINT):
            with tempfile.TemporaryDirectory() as d:
                env = dict(os.environ, RACKSTACK_VM_TMPDIR=d)
                p = subprocess.Popen([sys.executable, os.path.join(HERE, "vmharness.py"), "boot", "--firmware",
                                      "uefi", "--nics", "0", "--memory", "256", "--expect", "never",
                                      "--disk", "nvme:10G", "--timeout", "300"], env=env,
                                     stderr=subprocess.DEVNULL)
                deadline = time.monotonic() + 30
                qpid = None
                while time.monotonic() < deadline and qpid is None:
                    time.sleep(0.5)
                    r = subprocess.run(["pgrep", "-P", str(p.pid), "-f", "qemu-system"], capture_output=True,
                                       text=True)
                    qpid = int(r.stdout.split()[0]) if r.stdout.split() else None
                self.assertIsNotNone(qpid, "QEMU did not start")
                self.assertTrue(os.listdir(d))
                time.sleep(2)
                p.send_signal(sig)
                p.wait(timeout=30)
                self.assertEqual(p.returncode, 130 if sig == signal.SIGINT else 128 + sig, sig)
                time.sleep(0.5)
                self.assertFalse(pid_alive(qpid), sig)
                self.assertEqual(os.listdir(d), [], sig)


GRUB_SERIAL_CFG = """serial --unit=0 --speed=115200
terminal_output serial console
echo %s
sleep 600
"""


@unittest.skipUnless(shutil.which("qemu-system-x86_64") and shutil.which("grub-mkrescue")
                     and shutil.which("grub-mkimage"), "no qemu or GRUB tools")
class BootSources(unittest.TestCase):
    """Every way the harness can boot something, with GRUB as a tiny payload that prints a marker on the
    serial console (no OS needed): ISO as CD and as USB stick, and PXE from slirp's TFTP server, each
    under UEFI and BIOS."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rs-bootsrc-")
        tree = os.path.join(cls.dir, "tree", "boot", "grub")
        os.makedirs(tree)
        with open(os.path.join(tree, "grub.cfg"), "w") as f:
            f.write(GRUB_SERIAL_CFG % "RS-ISO-OK")
        cls.iso = os.path.join(cls.dir, "t.iso")
        subprocess.run(["grub-mkrescue", "-o", cls.iso, os.path.join(cls.dir, "tree"), "--", "-volid", "RSTEST"],
                       check=True, capture_output=True)
        cls.tftp = os.path.join(cls.dir, "tftp")
        os.makedirs(cls.tftp)
        cfg = os.path.join(cls.dir, "pxe.cfg")
        with open(cfg, "w") as f:
            f.write(GRUB_SERIAL_CFG % "RS-PXE-OK")
        mods = ["echo", "serial", "terminal", "sleep"]
        subprocess.run(["grub-mkimage", "-O", "x86_64-efi", "-o", os.path.join(cls.tftp, "boot.efi"),
                        "-p", "(tftp)/", "-c", cfg, "efinet", "tftp"] + mods, check=True)
        # The i386-pc-pxe format already starts with pxeboot.img (what grub-mknetdir's core.0 is).
        subprocess.run(["grub-mkimage", "-O", "i386-pc-pxe", "-o", os.path.join(cls.tftp, "boot.0"),
                        "-p", "(tftp)/", "-c", cfg, "pxe", "tftp"] + mods, check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def boot(self, marker, **kw):
        with VM(nets=kw.pop("nets", 0), memory=512, cpus=1, **kw) as vm:
            vm.boot(expect=marker, timeout=180)
            sys.stderr.write("[%s after %.1fs] " % (marker, vm.last_match_time))
            return vm.last_match_time

    def test_iso_cd_uefi(self):
        self.boot("RS-ISO-OK", firmware="uefi", iso=self.iso, iso_as="cd")

    def test_iso_cd_bios(self):
        self.boot("RS-ISO-OK", firmware="bios", iso=self.iso, iso_as="cd")

    def test_iso_usb_uefi(self):
        self.boot("RS-ISO-OK", firmware="uefi", iso=self.iso, iso_as="usb")

    def test_iso_usb_bios(self):
        self.boot("RS-ISO-OK", firmware="bios", iso=self.iso, iso_as="usb")

    def test_blank_target_disk_first_falls_through_to_media(self):
        # The install-test boot order: a blank target disk first, the installer second. SeaBIOS has ONE
        # "Hard Disk" entry (the lowest-bootindex disk becomes 0x80; a USB stick is a disk too), so a
        # blank disk first with a USB installer second gives "No bootable device"; a CD falls through.
        for fw, as_ in (("uefi", "usb"), ("uefi", "cd"), ("bios", "cd")):
            self.boot("RS-ISO-OK", firmware=fw, iso=self.iso, iso_as=as_, media_bootindex=1,
                      disks=[Disk("sata-ssd", "60G", bootindex=0)])

    def test_pxe_uefi(self):
        self.boot("RS-PXE-OK", firmware="uefi", pxe=(self.tftp, "boot.efi"), nets=1)

    def test_pxe_bios(self):
        self.boot("RS-PXE-OK", firmware="bios", pxe=(self.tftp, "boot.0"), nets=1)


if __name__ == "__main__":
    unittest.main()

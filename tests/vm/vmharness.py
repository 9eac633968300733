#!/usr/bin/env python3
"""QEMU harness for rackstack's VM tests (stdlib only).

Library:

    from vmharness import VM, Disk, Nets, Checks, make_oemdrv, make_sparse, install_signal_handlers

    install_signal_handlers()           # SIGTERM/SIGHUP unwind like Ctrl-C, so VMs are always stopped
    check = Checks()                    # check(what, ok, detail) prints ok/FAIL; check.summary() at the end
    with VM(image="db.raw", firmware="uefi",
        disks=[Disk("nvme", "500G"), Disk("sas-hdd", "1T")],
        oemdrv="ks.cfg", log="db.log") as vm:
    vm.boot(expect=r"login:", timeout=600)     # starts QEMU, one retry if the console stays silent
    vm.login()                                 # root, empty password, over the serial socket
    out = vm.run("lsblk -d -o NAME,TRAN,ROTA")
    # QEMU is stopped and temp files are gone here, whatever happened inside the block.

Command line: `vmharness.py boot --image X.raw --firmware uefi --disk nvme:500G --expect login: ...`,
`vmharness.py oemdrv ks.cfg out.img`, `vmharness.py sparse FILE SIZE`; see `--help`.

Why things are done this way (measured on the lab host, see research/lab-disk.md and lab-boot.md):
- KVM there is kvm_pvm and cannot run a stock kernel, so the accelerator defaults to TCG and comes from
  $RACKSTACK_ACCEL; a "KVM internal error" leaves QEMU paused forever, so stderr is watched and QEMU killed.
- TCG hangs early in about 1 of 27 boots: a boot whose console stays silent (no byte at all for
  first_output_timeout, or no new byte for stall_timeout before the expected line) is retried once.
- The serial console is a unix-socket chardev with wait=on: QEMU does not run the guest until we are
  connected, so no byte of firmware output is lost, and the same socket is used to type into the guest.
- The boot image is attached through a throw-away qcow2 overlay: the artifact under test is never
  modified, and the OS disk can look bigger than the image (the profiles want a 50G OS disk).
- Only disks with a real rotation_rate are useful to firstboot: virtio-blk always reports rotational=1,
  mptsas1068 is the only emulated HBA whose disks show transport "sas", AHCI shows "sata".
"""

import argparse
import atexit
import codecs
import ctypes
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

__all__ = ["VM", "Disk", "Nets", "VMError", "VMTimeout", "VMDied", "make_oemdrv", "make_sparse",
       "parse_size", "ovmf_paths", "install_signal_handlers", "stop_all"]

QEMU = os.environ.get("RACKSTACK_QEMU", "qemu-system-x86_64")

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}


class VMError(Exception):
    """The VM could not be started or failed in a way that is not a plain timeout."""


class VMTimeout(VMError):
    """An expected console line did not appear in time."""


class VMDied(VMError):
    """QEMU exited (or the console closed) before an expected console line appeared."""


class VMPanic(VMDied):
    """The guest's kernel panicked (its console said "Kernel panic - not syncing"): QEMU is killed,
    since a panicked guest keeps running and would only be found by the next timeout (a rehearsal's
    lab-infra1 double-faulted 33 s into its boot under TCG and was waited on for an hour)."""


_PANIC = "Kernel panic - not syncing"


def parse_size(s):
    """'500G' -> bytes. Binary units (K/M/G/T = 2^10..), as the seed means them; 'GiB'/'GB' accepted."""
    if isinstance(s, int):
        return s
    m = re.fullmatch(r"\s*(\d+)\s*([KMGTPkmgtp]?)(?:i?[Bb])?\s*", str(s))
    if not m:
        raise ValueError("bad size %r (expected e.g. 512M, 500G, 1T)" % (s,))
    return int(m.group(1)) * _UNITS[m.group(2).upper()]


def make_sparse(path, size):
    """Create (or resize) a sparse file of the given size. Nothing is allocated until written."""
    nbytes = parse_size(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.ftruncate(fd, nbytes)
    finally:
        os.close(fd)
    return path


def ovmf_paths():
    """(OVMF_CODE_4M.fd, OVMF_VARS_4M.fd) from the installed ovmf package (or $RACKSTACK_OVMF_CODE/_VARS)."""
    code = os.environ.get("RACKSTACK_OVMF_CODE")
    vars_ = os.environ.get("RACKSTACK_OVMF_VARS")
    if not (code and vars_):
        try:
            files = subprocess.run(["dpkg", "-L", "ovmf"], check=True, capture_output=True,
                           text=True).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            files = []
        files += ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"]
        code = code or next((f for f in files if f.endswith("/OVMF_CODE_4M.fd") and os.path.exists(f)),
                    None)
        vars_ = vars_ or next((f for f in files if f.endswith("/OVMF_VARS_4M.fd") and os.path.exists(f)),
                      None)
    if not code or not vars_:
        raise VMError("OVMF not found (install the ovmf package)")
    return code, vars_


# ---- OEMDRV kickstart disk -------------------------------------------------------------------------

def make_oemdrv(ks, path, fmt="vfat", size="16M", extra_files=None):
    """Build a small disk image whose filesystem is labelled OEMDRV and holds ks.cfg at its root,
    without mounting anything.

    ks: path of the kickstart file (copied as /ks.cfg). extra_files: {name_in_image: host_path}.
    fmt: "vfat" (whole-disk FAT, like a USB stick formatted by a desktop: mkfs.vfat + mcopy),
         "iso" (ISO9660 volume id OEMDRV via xorriso, what Anaconda's docs suggest for a CD),
         "ext4" (mkfs.ext4 -L OEMDRV -d).
    All three are found by libblkid as LABEL=OEMDRV (blkid -p -s LABEL prints it on the host)."""
    files = {"ks.cfg": ks}
    files.update(extra_files or {})
    for name, src in files.items():
        if not os.path.isfile(src):
            raise VMError("OEMDRV: %s: no such file" % src)
    if os.path.exists(path):
        os.unlink(path)
    if fmt == "vfat":
        make_sparse(path, size)
        _run(["mkfs.vfat", "-n", "OEMDRV", "-i", "0E3D0000", path])
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        for name, src in files.items():
            _run(["mcopy", "-o", "-i", path, src, "::/" + name], env=env)
    elif fmt == "ext4":
        staging = tempfile.mkdtemp(prefix="oemdrv-")
        try:
            for name, src in files.items():
                shutil.copyfile(src, os.path.join(staging, name))
            make_sparse(path, size)
            _run(["mkfs.ext4", "-q", "-F", "-L", "OEMDRV", "-d", staging, path])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    elif fmt == "iso":
        cmd = ["xorriso", "-as", "mkisofs", "-quiet", "-V", "OEMDRV", "-J", "-r", "-o", path]
        for name, src in files.items():
            cmd += ["-graft-points", "/%s=%s" % (name, src)]
        _run(cmd)
    else:
        raise ValueError("OEMDRV format must be vfat, ext4 or iso, not %r" % (fmt,))
    return path


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise VMError("%s failed (rc %d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r


# ---- disks -----------------------------------------------------------------------------------------

# kind -> (bus, rotation_rate). rotation_rate 1 reports rotational=0 (SSD), 7200 rotational=1 (HDD).
DISK_KINDS = {
    "nvme": ("nvme", None),
    "sata-ssd": ("sata", 1), "sata-hdd": ("sata", 7200),
    "sas-ssd": ("sas", 1), "sas-hdd": ("sas", 7200),
    "scsi-ssd": ("scsi", 1), "scsi-hdd": ("scsi", 7200),
    "virtio": ("virtio", None),
}
DISK_ALIASES = {"ssd": "sata-ssd", "hdd": "sata-hdd", "sata": "sata-ssd", "sas": "sas-hdd", "scsi": "scsi-ssd"}
_BUS_TAG = {"nvme": "NVME", "sata": "SATA", "sas": "SAS", "scsi": "SCSI", "virtio": "VIRT"}


class Disk:
    """One emulated disk.

    kind: nvme | sata-ssd | sata-hdd | sas-ssd | sas-hdd | scsi-ssd | scsi-hdd | virtio
          (aliases: ssd=sata-ssd, hdd=sata-hdd, sata=sata-ssd, sas=sas-hdd, scsi=scsi-ssd).
    size: e.g. "500G": a sparse backing file of that size is created in the VM's temp dir
          (or at `path` if given and missing). path alone attaches an existing file.
    serial/wwn/model: default to stable values derived from the disk's position (see VM), so tests
          can find disks by-id (ata-<model>_<serial>, wwn-0x..., nvme-QEMU_NVMe_Ctrl_<serial>).
    fmt: raw | qcow2 (default: detected). snapshot: writes go to a temp overlay (QEMU snapshot=on).
    keep: keep a created backing file after the VM stops (it is deleted otherwise).
    bootindex: firmware boot order (lower first). Install tests give the empty target disk 0 and the
          installer VM(media_bootindex=1): the firmware skips the blank disk on the first boot and
          boots the installed system after the installer reboots, as a real server would. Works for
          OVMF with CD and USB and for SeaBIOS with CD; SeaBIOS tries only ONE hard disk (a USB stick
          counts as one), so for BIOS+USB boot the stick first, let the installer power off
          (no_reboot), and start a second VM from the target disk (keep=True)."""

    def __init__(self, kind, size=None, path=None, serial=None, wwn=None, model=None, fmt=None,
             snapshot=False, readonly=False, keep=False, bootindex=None):
        kind = DISK_ALIASES.get(kind, kind)
        if kind not in DISK_KINDS:
            raise ValueError("unknown disk kind %r (one of %s)" %
                     (kind, ", ".join(sorted(list(DISK_KINDS) + list(DISK_ALIASES)))))
        if size is None and path is None:
            raise ValueError("disk %s needs a size or a path" % kind)
        self.kind = kind
        self.bus, self.rotation_rate = DISK_KINDS[kind]
        self.size = parse_size(size) if size is not None else None
        self.path = path
        self.serial = serial
        self.wwn = wwn
        self.model = model
        self.fmt = fmt
        self.snapshot = snapshot
        self.readonly = readonly
        self.keep = keep
        self.bootindex = bootindex
        self._created = False

    @classmethod
    def parse(cls, spec):
        """CLI form: KIND:SIZE[:key=val,...] or KIND:path=FILE[,key=val...]
        (keys: serial, wwn, model, path, fmt, snapshot, keep, boot=BOOTINDEX). E.g. nvme:500G, sas-hdd:1T:serial=BK1."""
        parts = spec.split(":", 2)
        kind = parts[0]
        size = None
        opts = {}
        rest = parts[1:]
        if rest and "=" not in rest[0]:
            size = rest.pop(0)
        for chunk in rest:
            for kv in chunk.split(","):
                if not kv:
                    continue
                k, sep, v = kv.partition("=")
                if not sep or k not in ("serial", "wwn", "model", "path", "fmt", "snapshot", "keep",
                                                "boot"):
                    raise ValueError("bad disk option %r in %r" % (kv, spec))
                opts[k] = v
        for b in ("snapshot", "keep"):
            if b in opts:
                opts[b] = opts[b] in ("1", "on", "yes", "true")
        if "wwn" in opts:
            opts["wwn"] = int(opts["wwn"], 0)
        if "boot" in opts:
            opts["bootindex"] = int(opts.pop("boot"))
        return cls(kind, size=size, **opts)

    def __repr__(self):
        return "Disk(%s, %s, serial=%s)" % (self.kind, self.size or self.path, self.serial)

    @property
    def rotational(self):
        """What the guest will report in /sys/block/X/queue/rotational."""
        return self.bus not in ("nvme",) and self.rotation_rate != 1

    @property
    def transport(self):
        """What lsblk's TRAN column will show ('' for virtio-scsi and virtio-blk)."""
        return {"nvme": "nvme", "sata": "sata", "sas": "sas"}.get(self.bus, "")

    @property
    def by_id(self):
        """The /dev/disk/by-id name the guest's udev creates for this disk."""
        if self.bus == "nvme":
            return "nvme-QEMU_NVMe_Ctrl_%s" % self.serial
        if self.bus == "sata":
            return "ata-%s_%s" % (self.model.replace(" ", "_"), self.serial)
        if self.bus in ("sas", "scsi"):
            return "wwn-0x%016x" % self.wwn
        return "virtio-%s" % self.serial


def _detect_format(path):
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise VMError("%s: %s" % (path, e.strerror)) from None
    return "qcow2" if magic == b"QFI\xfb" else "raw"


def free_port_base(n):
    """A random base port on 127.0.0.1 with it and the n-1 after it free (TCP) at the time of asking:
    the kernel picks the first, so tests running at once on the machine do not collide on a fixed or
    pid-derived port."""
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1]
        s.close()
        if base + n >= 65000:
            continue
        held = []
        try:
            for i in range(n):
                t = socket.socket()
                held.append(t)
                t.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            pass
        finally:
            for t in held:
                t.close()
    raise VMError("no %d free ports in a row on 127.0.0.1" % n)


class Nets:
    """NIC topology.

    mode "user": each NIC has its own slirp network (DHCP 10.0.2.x, host reachable at 10.0.2.2).
             hostfwd (e.g. ["tcp::2222-:22"]) applies to the first NIC.
    mode "lacp-peer": each guest NIC is wired by a QEMU hub (a point-to-point cable) to a peer NIC in
             the same guest (MACs ...:13, :14, ... for NIC 1, 2, ...); a test script moves the peers
             into a netns and bonds them there. speed/duplex are set so 802.3ad aggregates.
    mode "socket": NIC i is connected to another QEMU's NIC i over TCP 127.0.0.1:(port+i);
             listen=True on one side, False on the other.
    mode "none": no NIC.
    speed (Mb/s) and duplex="full" are passed to virtio-net: 802.3ad never aggregates without them."""

    def __init__(self, count=2, mode="user", speed=None, duplex=None, macs=None, hostfwd=None,
             port=None, listen=True, tftp=None, bootfile=None):
        if mode not in ("user", "lacp-peer", "socket", "none"):
            raise ValueError("bad NIC mode %r" % (mode,))
        self.count = 0 if mode == "none" else count
        self.mode = mode
        if mode in ("lacp-peer", "socket") and speed is None:
            speed = 10000
        self.speed = speed
        self.duplex = duplex or ("full" if speed else None)
        # The connecting side of a socket link gets other MACs (:21, :22): both ends share one wire.
        base = 0x21 if mode == "socket" and not listen else 0x11
        self.macs = macs or ["52:54:00:00:00:%02x" % (base + i) for i in range(self.count)]
        self.hostfwd = hostfwd or []
        self.port = port
        self.listen = listen
        self.tftp = tftp
        self.bootfile = bootfile

    def peer_macs(self):
        return ["52:54:00:00:00:%02x" % (0x11 + self.count + i) for i in range(self.count)]

    def args(self, pxe=None):
        a = []
        link = ""
        if self.speed:
            link = ",speed=%d,duplex=%s" % (self.speed, self.duplex)
        for i in range(self.count):
            boot = ",bootindex=%d" % pxe if pxe is not None and i == 0 else ""
            # Without a romfile OVMF uses its own PXE (closer to real UEFI); SeaBIOS uses iPXE.
            if self.mode == "user":
                nd = "user,id=net%d" % i
                if i == 0:
                    nd += "".join(",hostfwd=" + h for h in self.hostfwd)
                    if self.tftp:
                        nd += ",tftp=%s" % self.tftp
                    if self.bootfile:
                        nd += ",bootfile=%s" % self.bootfile
                a += ["-netdev", nd]
            elif self.mode == "lacp-peer":
                a += ["-netdev", "hubport,id=net%d,hubid=%d" % (i, i + 1)]
            elif self.mode == "socket":
                if self.port is None:
                    raise VMError("socket NICs need a port")
                role = "listen" if self.listen else "connect"
                a += ["-netdev", "socket,id=net%d,%s=127.0.0.1:%d" % (i, role, self.port + i)]
            a += ["-device", "virtio-net-pci,netdev=net%d,mac=%s%s%s" % (i, self.macs[i], link, boot)]
        if self.mode == "lacp-peer":
            for i, mac in enumerate(self.peer_macs()):
                a += ["-netdev", "hubport,id=peer%d,hubid=%d" % (i, i + 1),
                      "-device", "virtio-net-pci,netdev=peer%d,mac=%s%s" % (i, mac, link)]
        return a


# ---- process-wide cleanup --------------------------------------------------------------------------

_live = set()
_live_lock = threading.Lock()


def stop_all():
    """Stop every VM this process started (atexit and signal handlers call this)."""
    with _live_lock:
        vms = list(_live)
    for vm in vms:
        try:
            vm.stop()
        except Exception:
            pass


atexit.register(stop_all)


def install_signal_handlers():
    """Make SIGTERM and SIGHUP raise SystemExit in the main thread, like SIGINT raises KeyboardInterrupt,
    so `with VM(...)` blocks and finally clauses run and QEMU is stopped when a test is killed."""
    def handler(signum, frame):
        signal.signal(signum, signal.SIG_DFL)
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


# ---- the tests' checks ------------------------------------------------------------------------------

class Checks:
    """The VM tests' check(): one line per check, "ok   WHAT" or "FAIL WHAT  DETAIL" (the detail cut to
    `limit` characters, its last ones with from_end; None: whole), counted; `fails` lists the failed
    ones by name.

        check = Checks()
        check("firstboot finished", "finished" in text, text)
        sys.exit(check.summary())       # prints "N passed, N failed", returns the exit status
    """

    def __init__(self, limit=2000, from_end=False):
        self.limit, self.from_end = limit, from_end
        self.n = 0
        self.fails = []

    def __call__(self, what, ok, detail=""):
        self.n += 1
        d = str(detail)
        if self.limit is not None:
            d = d[-self.limit:] if self.from_end else d[:self.limit]
        print(("ok   " if ok else "FAIL ") + what + ("" if ok else "  " + d), flush=True)
        if not ok:
            self.fails.append(what)
        return ok

    def summary(self):
        print("%d passed, %d failed" % (self.n - len(self.fails), len(self.fails)), flush=True)
        return 1 if self.fails else 0


def _pdeathsig():
    # QEMU must not outlive a harness killed with SIGKILL; PR_SET_PDEATHSIG = 1.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


# ---- the VM ----------------------------------------------------------------------------------------

class VM:
    """A QEMU q35 virtual machine.

    What to boot (exactly one, or none for a blank machine):
      image=PATH        raw or qcow2 disk image, attached through a temp qcow2 overlay (never modified);
                boot_disk="sata-ssd" (any Disk kind), boot_disk_size="60G" grows the disk the
                guest sees; boot_serial names it.
      iso=PATH          with iso_as="cd" (AHCI CD-ROM) or "usb" (usb-storage stick on qemu-xhci).
      pxe=(TFTPDIR, BOOTFILE)   network boot from NIC 0 through slirp's TFTP server.
      media_bootindex: boot order of the ISO/USB/PXE source (default 0 = first; see Disk.bootindex).
      kernel=, initrd=, append=  direct kernel boot (fast CI shortcut).
    firmware: "uefi" (OVMF, a fresh copy of OVMF_VARS_4M.fd per start) or "bios" (SeaBIOS).
    disks: list of Disk. oemdrv: path of a ks.cfg (an OEMDRV disk is built) or of a ready image;
           oemdrv_fmt vfat|iso|ext4, oemdrv_as usb|sata|cd.
    nets: Nets(...) or an int (that many user-mode NICs). memory (MiB), cpus.
    no_reboot: pass -no-reboot (a guest reboot then ends QEMU). accel: default $RACKSTACK_ACCEL or tcg.
    fw_cfg: {name: host_path} (e.g. {"opt/rackstack/script": "x.sh"}), extra_args: more QEMU args.
    log: serial log file (default: <tmpdir>/serial.log, removed with the tmpdir unless keep_tmp).
    echo: prefix string: console output is echoed live to stderr with it (for `make demo`).
    first_output_timeout / stall_timeout: silence limits for the automatic retry (seconds): no console
        byte at all within first_output_timeout, or no new byte for stall_timeout while the boot is still
        early (before early_boot_done, a regex, matched: a quiet guest later on is normal, not a hang).
    name: used in messages and in stable serials' prefix."""

    def __init__(self, image=None, firmware="uefi", disks=(), oemdrv=None, oemdrv_fmt="vfat",
             oemdrv_as="usb", nets=2, memory=2048, cpus=2, no_reboot=False, accel=None,
             iso=None, iso_as="cd", pxe=None, kernel=None, initrd=None, append=None,
             boot_disk="sata-ssd", boot_disk_size=None, boot_serial=None, fw_cfg=None,
             extra_args=(), log=None, echo=None, name="vm", tmpdir=None, keep_tmp=False,
             first_output_timeout=None, stall_timeout=150,
             early_boot_done=r"Run /init as init process|Welcome to |systemd\[1\]|login: ?$",
             media_bootindex=0):
        if firmware not in ("uefi", "bios"):
            raise ValueError("firmware must be uefi or bios")
        if sum(x is not None for x in (image, iso, pxe, kernel)) > 1:
            raise ValueError("give only one of image, iso, pxe, kernel")
        if iso_as not in ("cd", "usb"):
            raise ValueError("iso_as must be cd or usb")
        self.name = name
        self.image = image
        self.firmware = firmware
        self.disks = list(disks)
        self.oemdrv = oemdrv
        self.oemdrv_fmt = oemdrv_fmt
        self.oemdrv_as = oemdrv_as
        self.nets = nets if isinstance(nets, Nets) else Nets(count=nets)
        self.memory = memory
        self.cpus = cpus
        self.no_reboot = no_reboot
        self.accel = accel or os.environ.get("RACKSTACK_ACCEL") or "tcg"
        self.qemu = os.environ.get("RACKSTACK_QEMU") or QEMU
        self.iso = iso
        self.iso_as = iso_as
        self.pxe = pxe
        self.media_bootindex = media_bootindex
        self.kernel, self.initrd, self.append = kernel, initrd, append
        self.boot_disk = None
        if image is not None:
            self.boot_disk = Disk(boot_disk, path=image, serial=boot_serial)
            self.boot_disk.bootindex = 0
            self.boot_disk_size = parse_size(boot_disk_size) if boot_disk_size else None
        self.fw_cfg = dict(fw_cfg or {})
        self.extra_args = list(extra_args)
        self.echo = echo
        self.keep_tmp = keep_tmp
        # OVMF writes to serial ~4 s in; SeaBIOS writes nothing there, GRUB or the kernel is first.
        self.first_output_timeout = first_output_timeout or (60 if firmware == "uefi" else 120)
        self.stall_timeout = stall_timeout
        self.early_boot_done = re.compile(early_boot_done, re.M) if early_boot_done else None
        self._early_done = False
        self._tmpdir_parent = tmpdir or os.environ.get("RACKSTACK_VM_TMPDIR")
        self.tmpdir = None
        self.log_path = log
        self.proc = None
        self.cmdline = None
        self.starts = 0
        self._sock = None
        self._qmp = None
        self._buf = ""
        self._pos = 0
        self._cond = threading.Condition()
        self._closed = False
        self._last_rx = None
        self._first_rx = None
        self._kvm_error = None
        self.panic = None   # the panic line, once the guest kernel has panicked (VMPanic)
        self._stderr = ""
        self._threads = []
        self._logf = None
        self._echo_bol = True
        self._echo_lock = threading.Lock()
        self._t0 = None
        self._token = 0
        self._prepared = False

    # -- setup --

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _assign_identities(self):
        """Stable serials/WWNs/models by position, so by-id names are the same on every run."""
        counts = {}
        all_disks = ([self.boot_disk] if self.boot_disk else []) + self.disks
        for idx, d in enumerate(all_disks, 1):
            if d.serial is None:
                if d is self.boot_disk:
                    d.serial = "RSBOOT01"
                else:
                    n = counts[d.kind] = counts.get(d.kind, 0) + 1
                    d.serial = "RS%s%s%02d" % (_BUS_TAG[d.bus], "" if d.rotation_rate is None else
                                               ("SSD" if d.rotation_rate == 1 else "HDD"), n)
            if d.wwn is None:
                # NAA 5 (0x5...), fixed company part, vendor part from the position: stable across runs.
                d.wwn = 0x5000525400000000 | (0x100 * (1 if d is self.boot_disk else 2)) | idx
            if d.model is None:
                d.model = {"sata": "RS SATA SSD" if d.rotation_rate == 1 else "RS SATA HDD"}.get(
                    d.bus, "QEMU HARDDISK")
                if d is self.boot_disk and d.bus == "sata":
                    d.model = "RS OS SSD"

    def prepare(self):
        """Create the temp dir, backing files, overlay, OVMF vars and OEMDRV image; build the command
        line. Called by start(); callable alone to inspect self.cmdline (e.g. --print-cmdline)."""
        if self._prepared:
            return self.cmdline
        self.tmpdir = tempfile.mkdtemp(prefix="rsvm-", dir=self._tmpdir_parent)
        with _live_lock:
            _live.add(self)
        self._assign_identities()
        if self.log_path is None:
            self.log_path = os.path.join(self.tmpdir, "serial.log")
        for i, d in enumerate(self.disks):
            if d.path is None:
                d.path = os.path.join(self.tmpdir, "disk%d-%s.img" % (i, d.kind))
            if not os.path.exists(d.path):
                make_sparse(d.path, d.size)
                d._created = True
            elif d.size is not None and os.path.getsize(d.path) < d.size and _detect_format(d.path) == "raw":
                make_sparse(d.path, d.size)
            if d.fmt is None:
                d.fmt = _detect_format(d.path)
        if self.boot_disk is not None:
            self._make_overlay()
        if self.oemdrv is not None:
            if self.oemdrv_fmt == "image":
                self._oemdrv_img = self.oemdrv
            else:
                self._oemdrv_img = os.path.join(self.tmpdir, "oemdrv." +
                                ("iso" if self.oemdrv_fmt == "iso" else "img"))
                make_oemdrv(self.oemdrv, self._oemdrv_img, fmt=self.oemdrv_fmt)
        self.cmdline = self._build_cmdline()
        self._prepared = True
        return self.cmdline

    def _make_overlay(self):
        # A fresh overlay per start: a retried boot must not see what the failed attempt wrote.
        src = os.path.abspath(self.image)
        overlay = os.path.join(self.tmpdir, "boot-overlay.qcow2")
        if os.path.exists(overlay):
            os.unlink(overlay)
        cmd = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", _detect_format(src), "-b", src, overlay]
        if self.boot_disk_size:
            cmd.append(str(self.boot_disk_size))
        _run(cmd)
        self.boot_disk.path = overlay
        self.boot_disk.fmt = "qcow2"

    def _build_cmdline(self):
        t = self.tmpdir
        self.serial_sock = os.path.join(t, "serial.sock")
        self.qmp_sock = os.path.join(t, "qmp.sock")
        a = [self.qemu, "-nodefaults", "-no-user-config", "-machine", "q35", "-accel", self.accel,
             "-m", str(self.memory), "-smp", str(self.cpus), "-display", "none", "-vga", "none",
             "-name", self.name,
             "-qmp", "unix:%s,server=on,wait=off" % self.qmp_sock,
             # wait=on: the guest does not run until the harness is connected, so nothing is lost.
             "-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % self.serial_sock,
             "-serial", "chardev:ser0", "-monitor", "none"]
        if os.environ.get("RACKSTACK_CPU"):
            a += ["-cpu", os.environ["RACKSTACK_CPU"]]
        if self.no_reboot:
            a.append("-no-reboot")
        if self.firmware == "uefi":
            code, vars_ = ovmf_paths()
            self.vars_path = os.path.join(t, "OVMF_VARS.fd")
            a += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s" % code,
                  "-drive", "if=pflash,format=raw,unit=1,file=%s" % self.vars_path]
        ahci_ports = iter(["ide.%d" % i for i in range(6)] +
                  ["ahci1.%d" % i for i in range(6)] + ["ahci2.%d" % i for i in range(6)])
        ahci_added = set()

        def ahci_port():
            p = next(ahci_ports)
            ctl = p.split(".")[0]
            if ctl != "ide" and ctl not in ahci_added:
                ahci_added.add(ctl)
                a.extend(["-device", "ich9-ahci,id=%s" % ctl])
            return p

        have = set()
        scsi_ids = {"sas": 0, "scsi": 0}
        all_disks = ([self.boot_disk] if self.boot_disk else []) + self.disks
        for i, d in enumerate(all_disks):
            drv = "d%d" % i
            opts = "file=%s,if=none,id=%s,format=%s,cache=unsafe,discard=unmap" % (d.path, drv, d.fmt)
            if d.snapshot:
                opts += ",snapshot=on"
            if d.readonly:
                opts += ",readonly=on"
            a += ["-drive", opts]
            boot = ",bootindex=%d" % d.bootindex if d.bootindex is not None else ""
            rot = ",rotation_rate=%d" % d.rotation_rate if d.rotation_rate else ""
            if d.bus == "nvme":
                a += ["-device", "nvme,id=nvme%d,serial=%s" % (i, d.serial),
                      "-device", "nvme-ns,drive=%s,bus=nvme%d,nsid=1,eui64=0x%016x,uuid=%s%s" %
                      (drv, i, d.wwn, _uuid_from(d.wwn), boot)]
            elif d.bus == "sata":
                a += ["-device", "ide-hd,bus=%s,drive=%s,serial=%s,wwn=0x%016x,model=%s%s%s" %
                      (ahci_port(), drv, d.serial, d.wwn, d.model, rot, boot)]
            elif d.bus in ("sas", "scsi"):
                ctl = "mpt0" if d.bus == "sas" else "vscsi0"
                if d.bus not in have:
                    have.add(d.bus)
                    a += ["-device", "mptsas1068,id=mpt0" if d.bus == "sas" else
                          "virtio-scsi-pci,id=vscsi0"]
                a += ["-device", "scsi-hd,bus=%s.0,scsi-id=%d,lun=0,drive=%s,serial=%s,wwn=0x%016x%s%s" %
                      (ctl, scsi_ids[d.bus], drv, d.serial, d.wwn, rot, boot)]
                scsi_ids[d.bus] += 1
            else:
                a += ["-device", "virtio-blk-pci,drive=%s,serial=%s%s" % (drv, d.serial, boot)]
        usb = False

        def need_usb():
            nonlocal usb
            if not usb:
                usb = True
                a.extend(["-device", "qemu-xhci,id=xhci"])

        if self.iso is not None:
            if self.iso_as == "cd":
                a += ["-drive", "file=%s,if=none,id=cd0,media=cdrom,readonly=on,format=raw" %
                      os.path.abspath(self.iso),
                      "-device", "ide-cd,bus=%s,drive=cd0,bootindex=%d" % (ahci_port(), self.media_bootindex)]
            else:
                need_usb()
                a += ["-drive", "file=%s,if=none,id=stick0,format=raw,snapshot=on" %
                      os.path.abspath(self.iso),
                      "-device", "usb-storage,bus=xhci.0,drive=stick0,bootindex=%d" % self.media_bootindex]
        if self.oemdrv is not None:
            img = self._oemdrv_img
            if self.oemdrv_as == "cd" or _detect_iso(img):
                a += ["-drive", "file=%s,if=none,id=oem0,media=cdrom,readonly=on,format=raw" % img,
                      "-device", "ide-cd,bus=%s,drive=oem0" % ahci_port()]
            elif self.oemdrv_as == "sata":
                a += ["-drive", "file=%s,if=none,id=oem0,format=raw" % img,
                      "-device", "ide-hd,bus=%s,drive=oem0,serial=OEMDRV,model=OEMDRV" % ahci_port()]
            else:
                need_usb()
                a += ["-drive", "file=%s,if=none,id=oem0,format=raw" % img,
                      "-device", "usb-storage,bus=xhci.0,drive=oem0,serial=OEMDRV"]
        if self.pxe is not None:
            tftp, bootfile = self.pxe
            self.nets.tftp, self.nets.bootfile = os.path.abspath(tftp), bootfile
        a += self.nets.args(pxe=self.media_bootindex if self.pxe is not None else None)
        if self.kernel:
            a += ["-kernel", self.kernel]
            if self.initrd:
                a += ["-initrd", self.initrd]
            if self.append:
                a += ["-append", self.append]
        for name, path in self.fw_cfg.items():
            a += ["-fw_cfg", "name=%s,file=%s" % (name, os.path.abspath(path))]
        return a + self.extra_args

    # -- lifecycle --

    def start(self):
        """Start QEMU (fresh OVMF vars each time) and connect the serial console."""
        self.prepare()
        if self.proc is not None:
            raise VMError("%s: already running" % self.name)
        if self.firmware == "uefi":
            shutil.copyfile(ovmf_paths()[1], self.vars_path)
        if self.boot_disk is not None and self.starts > 0:
            self._make_overlay()
        for s in (self.serial_sock, self.qmp_sock):
            if os.path.exists(s):
                os.unlink(s)
        self.starts += 1
        if self._logf is None:
            self._logf = open(self.log_path, "wb", buffering=0)
        else:
            self._logf.write(b"\n==== rackstack vmharness: restarting QEMU (attempt %d) ====\n" % self.starts)
        self._buf, self._pos, self._closed = "", 0, False
        self._first_rx = self._last_rx = None
        self._early_done = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._kvm_error = None
        self.panic = None
        self._stderr = ""
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmdline, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, preexec_fn=_pdeathsig,
                         start_new_session=True, close_fds=True)
        self._threads = [threading.Thread(target=self._stderr_reader, daemon=True)]
        self._threads[0].start()
        deadline = time.monotonic() + 30
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        while True:
            try:
                sock.connect(self.serial_sock)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sock.close()
                    time.sleep(0.2)
                    err = self._stderr.strip()
                    self._reap()
                    raise VMError("%s: QEMU did not start: %s\ncommand: %s" %
                              (self.name, err or "no serial socket", self.cmdline_str()))
                time.sleep(0.05)
        self._sock = sock
        t = threading.Thread(target=self._serial_reader, args=(sock,), daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def boot(self, expect=None, timeout=600, retries=1):
        """start() and wait for `expect` (a regex, or a list of them in order). If the console stays
        silent (see first_output_timeout/stall_timeout), kill QEMU and start again, at most `retries`
        times. Returns the last match object (or None when expect is None)."""
        expects = [expect] if isinstance(expect, str) else list(expect or [])
        for attempt in range(retries + 1):
            self.start()
            try:
                m = None
                for e in expects:
                    m = self.wait_for(e, timeout=timeout - self.elapsed(), _boot=True)
                if not expects:
                    self._wait_first_output()
                return m
            except _Silent as e:
                self._note("console silent (%s); %s" %
                       (e, "retrying" if attempt < retries else "giving up"))
                self.kill()
                if attempt == retries:
                    raise VMTimeout("%s: %s (after %d attempts)\n%s" %
                            (self.name, e, attempt + 1, self.tail())) from None
            except VMPanic as e:
                # (a boot from the image again: start() gives the boot disk a fresh overlay)
                self._note("the guest kernel panicked during the boot (%s); %s" %
                       (self.panic, "retrying" if attempt < retries else "giving up"))
                if attempt == retries:
                    raise

    def elapsed(self):
        """Seconds since the current QEMU process was started."""
        return 0.0 if self._t0 is None else time.monotonic() - self._t0

    def stop(self, timeout=10):
        """Stop QEMU (QMP quit, then SIGTERM, then SIGKILL) and remove temp files. Idempotent."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.qmp("quit", timeout=3)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        if self._logf is not None:
            self._logf.close()
            self._logf = None
        for d in self.disks:
            if d._created and not d.keep and d.path and os.path.exists(d.path):
                if not (self.keep_tmp and d.path.startswith(self.tmpdir or "\0")):
                    os.unlink(d.path)
                d._created = False
        if self.tmpdir and not self.keep_tmp:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
            self._prepared = False
        with _live_lock:
            _live.discard(self)

    def kill(self):
        """SIGTERM, then SIGKILL, the QEMU process; keep temp files (stop() removes them)."""
        p = self.proc
        if p is not None:
            if p.poll() is None:
                try:
                    p.terminate()
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                except ProcessLookupError:
                    pass
            self._reap()

    def _reap(self):
        for c in (self._qmp, self._sock):
            if c is not None:
                try:
                    c.close()
                except OSError:
                    pass
        self._qmp = self._sock = None
        if self.proc is not None:
            self.proc.wait()
            self.returncode = self.proc.returncode
            if self.proc.stdout:
                self.proc.stdout.close()
        for t in self._threads:
            t.join(timeout=2)
        self._threads = []
        self.proc = None

    def wait_exit(self, timeout=120):
        """Wait for QEMU to exit by itself (guest poweroff, or a reboot with no_reboot). Returns rc."""
        if self.proc is None:
            raise VMError("%s: not running" % self.name)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise VMTimeout("%s: still running after %ds\n%s" % (self.name, timeout, self.tail())) from None
        self._reap()
        return rc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cmdline_str(self):
        return " ".join(_shquote(x) for x in (self.cmdline or []))

    # -- console --

    def _stderr_reader(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._cond:
                self._stderr += line
                if "KVM internal error" in line:
                    self._kvm_error = line.strip()
                self._cond.notify_all()
            if "QEMU waiting for connection" not in line:
                self._note("qemu: " + line.rstrip())
            if "KVM internal error" in line:
                # QEMU pauses the guest forever after this; nothing more will come.
                try:
                    self.proc.kill()
                except OSError:
                    pass

    def _serial_reader(self, sock):
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            if self._logf is not None:
                try:
                    self._logf.write(data)
                except (OSError, ValueError):
                    pass
            text = self._decoder.decode(data)
            now = time.monotonic()
            with self._cond:
                if self._first_rx is None:
                    self._first_rx = now
                self._last_rx = now
                tail = len(self._buf) - len(_PANIC)
                self._buf += text
                if self.panic is None and _PANIC in self._buf[max(tail, 0):]:
                    i = self._buf.index(_PANIC, max(tail, 0))
                    self.panic = self._buf[i:].split("\n", 1)[0].strip()
                self._cond.notify_all()
            if self.echo is not None:
                self._echo_out(text)

    def _echo_out(self, text):
        with self._echo_lock:
            self._echo_locked(text)

    def _echo_locked(self, text):
        out = []
        for ch in text.replace("\r", ""):
            if self._echo_bol:
                out.append(self.echo)
                self._echo_bol = False
            out.append(ch)
            if ch == "\n":
                self._echo_bol = True
        sys.stderr.write("".join(out))
        sys.stderr.flush()

    def _note(self, msg):
        if self._logf is not None:
            try:
                self._logf.write(("\n[vmharness %.1fs] %s\n" % (self.elapsed(), msg)).encode())
            except (OSError, ValueError):
                pass
        if self.echo is not None:
            with self._echo_lock:
                # Our notes go on their own prefixed line, even in the middle of a console line.
                self._echo_locked("%s[vmharness %.1fs] %s\n" % ("" if self._echo_bol else "\n",
                                                               self.elapsed(), msg))

    @property
    def output(self):
        """All console text of the current QEMU run."""
        return self._buf

    def tail(self, n=25):
        lines = self._buf.replace("\r", "").splitlines()[-n:]
        return "---- last %d console lines of %s (log %s) ----\n%s" % (len(lines), self.name, self.log_path,
                                        "\n".join(lines))

    def wait_for(self, pattern, timeout=600, _boot=False, _quiet=False):
        """Wait until `pattern` (regex, re.M) matches console output that arrived after the previous
        match. Returns the match; raises VMTimeout, or VMDied if QEMU exits or reports a KVM error."""
        rx = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + max(timeout, 0)
        with self._cond:
            while True:
                m = rx.search(self._buf, self._pos)
                if m:
                    self._pos = m.end()
                    self.last_match_time = self.elapsed()
                    if not _quiet:
                        self._note("matched %r after %.1fs" % (rx.pattern, self.last_match_time))
                    return m
                if self._kvm_error:
                    self._cond.release()
                    try:
                        self.kill()
                    finally:
                        self._cond.acquire()
                    raise VMDied("%s: %s (QEMU killed; use RACKSTACK_ACCEL=tcg)\n%s" %
                             (self.name, self._kvm_error, self.tail()))
                if self.panic is not None:
                    self._cond.wait(2.0)    # the rest of the panic's lines, for the tail
                    self._cond.release()
                    try:
                        self.kill()
                    finally:
                        self._cond.acquire()
                    raise VMPanic("%s: the guest kernel panicked (%s) before %r appeared; QEMU killed\n%s" %
                              (self.name, self.panic, rx.pattern, self.tail(60)))
                if self._closed or self.proc is None or self.proc.poll() is not None:
                    self._cond.wait(0.2)    # let the readers drain
                    if rx.search(self._buf, self._pos):
                        continue
                    raise VMDied("%s: QEMU exited (rc %s) before %r appeared\n%s%s" %
                             (self.name, self.proc and self.proc.poll(), rx.pattern,
                              ("qemu: " + self._stderr.strip() + "\n") if self._stderr.strip()
                              else "", self.tail()))
                now = time.monotonic()
                if _boot:
                    if self._first_rx is None and self.elapsed() > self.first_output_timeout:
                        raise _Silent("no console output in %ds" % self.first_output_timeout)
                    if not self._early_done and self.early_boot_done is not None:
                        self._early_done = bool(self.early_boot_done.search(self._buf))
                    if (self.stall_timeout and self._last_rx is not None and not self._early_done and
                            now - self._last_rx > self.stall_timeout):
                        raise _Silent("console stalled for %ds before %r" %
                                  (self.stall_timeout, rx.pattern))
                if now >= deadline:
                    raise VMTimeout("%s: %r did not appear within %ds\n%s" %
                            (self.name, rx.pattern, timeout, self.tail()))
                self._cond.wait(min(1.0, deadline - now))

    def _wait_first_output(self):
        with self._cond:
            while self._first_rx is None:
                if self.elapsed() > self.first_output_timeout:
                    raise _Silent("no console output in %ds" % self.first_output_timeout)
                if self._closed:
                    return
                self._cond.wait(0.5)

    def send(self, text):
        """Type text into the serial console (no newline added)."""
        if self._sock is None:
            raise VMError("%s: console not connected" % self.name)
        self._sock.sendall(text.encode())

    def sendline(self, line=""):
        self.send(line + "\r")

    def login(self, user="root", password="", timeout=120, prompt=r"[#$] ?$"):
        """Log in on the serial getty. Waits for 'login:' (unless it was already matched), answers
        the password prompt if one comes, then quiets the console for run(): kernel messages off,
        no echo, no line editing."""
        if not re.search(r"login: ?$", self._buf[:self._pos].rstrip("\r\n ") + " ", re.M):
            self.wait_for(r"login: ?$", timeout)
        self.sendline(user)
        m = self.wait_for(r"(Password: ?$|%s|Login incorrect)" % prompt, timeout)
        if m.group(0).startswith("Password"):
            self.sendline(password)
            m = self.wait_for(r"(%s|Login incorrect)" % prompt, timeout)
        if "incorrect" in m.group(0):
            raise VMError("%s: login as %s failed\n%s" % (self.name, user, self.tail()))
        self.run("dmesg -n 1; set +o emacs +o vi; stty -echo cols 400; export TERM=dumb PAGER=cat SYSTEMD_PAGER=",
             timeout=timeout)

    def run(self, cmd, timeout=120, check=False):
        """Run a shell command in the logged-in console; returns (rc, output) with CRs removed.
        check=True raises VMError on a non-zero rc."""
        self._token += 1
        tok = "%d_%d" % (os.getpid(), self._token)
        # The markers are split by quotes on the typed line, so only the shell's output matches.
        self.sendline("echo __RSB''%s__; %s; echo __RSE''%s__$?__" % (tok, cmd, tok))
        # Not anchored: with echo off the marker follows the prompt on the same line.
        self.wait_for(r"__RSB%s__\r?\n" % tok, timeout, _quiet=True)
        start = self._pos
        m = self.wait_for(r"__RSE%s__(\d+)__" % tok, timeout, _quiet=True)
        out = self._buf[start:m.start()].replace("\r", "")
        rc = int(m.group(1))
        if check and rc != 0:
            raise VMError("%s: %r failed with rc %d:\n%s" % (self.name, cmd, rc, out))
        return rc, out.strip("\n")

    # -- QMP --

    def qmp(self, command, timeout=10, **arguments):
        """Run one QMP command (e.g. "system_reset", "quit", "query-status") and return its result."""
        if self._qmp is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            s.settimeout(timeout)
            try:
                s.connect(self.qmp_sock)
            except OSError:
                s.close()
                raise
            self._qmp = s
            self._qmp_rbuf = b""
            self._qmp_read(timeout)                  # greeting
            self._qmp_cmd("qmp_capabilities", {}, timeout)
        return self._qmp_cmd(command, arguments, timeout)

    def _qmp_cmd(self, command, arguments, timeout):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._qmp.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._qmp_read(timeout)
            if r is None:
                return None                      # connection closed (after quit)
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise VMError("QMP %s: %s" % (command, r["error"].get("desc")))

    def _qmp_read(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._qmp_rbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise VMTimeout("QMP: no reply")
            r, _, _ = select.select([self._qmp], [], [], left)
            if not r:
                continue
            data = self._qmp.recv(65536)
            if not data:
                return None
            self._qmp_rbuf += data
        line, _, self._qmp_rbuf = self._qmp_rbuf.partition(b"\n")
        return json.loads(line)

    def system_reset(self):
        return self.qmp("system_reset")

    def powerdown(self):
        """ACPI power button."""
        return self.qmp("system_powerdown")

    def hmp(self, cmdline):
        """A human monitor command (e.g. "info block") through QMP."""
        return self.qmp("human-monitor-command", **{"command-line": cmdline})


class _Silent(Exception):
    pass


def _uuid_from(n):
    h = "%032x" % (0x52530000000000000000000000000000 | n)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def _detect_iso(path):
    try:
        with open(path, "rb") as f:
            f.seek(0x8001)
            return f.read(5) == b"CD001"
    except OSError:
        return False


def _shquote(s):
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


# ---- command line ----------------------------------------------------------------------------------

def _cmd_boot(a):
    nets = Nets(count=a.nics, mode=a.net, speed=a.nic_speed, port=a.net_port, listen=not a.net_connect,
            hostfwd=a.hostfwd)
    pxe = tuple(a.pxe.split(":", 1)) if a.pxe else None
    vm = VM(image=a.image, firmware=a.firmware, disks=[Disk.parse(s) for s in a.disk], oemdrv=a.oemdrv,
        oemdrv_fmt=a.oemdrv_format, oemdrv_as=a.oemdrv_as, nets=nets, memory=a.memory, cpus=a.cpus,
        no_reboot=a.no_reboot, iso=a.iso, iso_as=a.iso_as, pxe=pxe, kernel=a.kernel, initrd=a.initrd,
        append=a.append, media_bootindex=a.media_bootindex, boot_disk=a.boot_disk, boot_disk_size=a.boot_disk_size,
        fw_cfg=dict(x.split("=", 1) for x in a.fw_cfg), extra_args=a.qemu_arg, log=a.log,
        echo=(a.echo_prefix if a.echo else None), name=a.name, keep_tmp=a.keep_tmp)
    with vm:
        vm.prepare()
        if a.print_cmdline:
            print(vm.cmdline_str())
            return 0
        try:
            vm.boot(expect=a.expect or None, timeout=a.timeout, retries=a.retries)
            print("%s: reached %s after %.1fs (attempt %d)" %
                  (vm.name, ", ".join(repr(e) for e in a.expect) or "first output",
                   vm.elapsed(), vm.starts), file=sys.stderr)
            if a.run:
                vm.login(timeout=a.timeout)
                for c in a.run:
                    rc, out = vm.run(c, timeout=a.timeout)
                    print("$ %s  [rc=%d]\n%s" % (c, rc, out))
            if a.wait_exit:
                rc = vm.wait_exit(timeout=a.timeout)
                print("%s: QEMU exited rc=%d after %.1fs" % (vm.name, rc, vm.elapsed()),
                      file=sys.stderr)
        except VMError as e:
            print("vmharness: %s" % e, file=sys.stderr)
            return 1
    return 0


def main(argv=None):
    install_signal_handlers()
    p = argparse.ArgumentParser(prog="vmharness.py", description="Boot rackstack artifacts in QEMU for tests.")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("boot", help="boot an artifact and wait for console lines")
    src = b.add_mutually_exclusive_group()
    src.add_argument("--image", help="raw or qcow2 disk image (attached through a temp overlay)")
    src.add_argument("--iso", help="ISO image")
    src.add_argument("--pxe", metavar="TFTPDIR:BOOTFILE", help="network boot from NIC 0")
    src.add_argument("--kernel", help="direct kernel boot")
    b.add_argument("--initrd")
    b.add_argument("--append")
    b.add_argument("--iso-as", choices=["cd", "usb"], default="cd")
    b.add_argument("--media-bootindex", type=int, default=0,
                   help="boot order of --iso/--pxe (1 with a --disk ...:boot=0 target for install tests)")
    b.add_argument("--boot-disk", default="sata-ssd", help="disk kind the --image is attached as")
    b.add_argument("--boot-disk-size", help="grow the OS disk the guest sees (e.g. 60G)")
    b.add_argument("--firmware", choices=["uefi", "bios"], default="uefi")
    b.add_argument("--disk", action="append", default=[], metavar="KIND:SIZE[:k=v,..]",
               help="extra disk: nvme, sata-ssd|ssd, sata-hdd|hdd, sas-ssd, sas-hdd|sas, scsi-ssd, scsi-hdd, virtio")
    b.add_argument("--oemdrv", metavar="KS.CFG", help="attach an OEMDRV disk holding this ks.cfg")
    b.add_argument("--oemdrv-format", choices=["vfat", "iso", "ext4", "image"], default="vfat")
    b.add_argument("--oemdrv-as", choices=["usb", "sata", "cd"], default="usb")
    b.add_argument("--nics", type=int, default=2)
    b.add_argument("--net", choices=["user", "lacp-peer", "socket", "none"], default="user")
    b.add_argument("--nic-speed", type=int, help="virtio-net speed in Mb/s (sets duplex=full)")
    b.add_argument("--net-port", type=int, help="base TCP port for --net socket")
    b.add_argument("--net-connect", action="store_true", help="--net socket: connect instead of listen")
    b.add_argument("--hostfwd", action="append", default=[], help="slirp hostfwd on NIC 0, e.g. tcp::2222-:22")
    b.add_argument("--memory", type=int, default=2048, help="MiB (default 2048)")
    b.add_argument("--cpus", type=int, default=2)
    b.add_argument("--no-reboot", action="store_true")
    b.add_argument("--fw-cfg", action="append", default=[], metavar="NAME=FILE")
    b.add_argument("--qemu-arg", action="append", default=[], help="extra QEMU argument (repeat)")
    b.add_argument("--expect", action="append", default=[], metavar="REGEX", help="console line to wait for (repeat: in order)")
    b.add_argument("--timeout", type=int, default=600)
    b.add_argument("--retries", type=int, default=1, help="restarts after a silent console (default 1)")
    b.add_argument("--run", action="append", default=[], metavar="CMD",
               help="after the expects, log in as root (no password) and run CMD (repeat)")
    b.add_argument("--wait-exit", action="store_true", help="then wait for QEMU to exit by itself")
    b.add_argument("--log", help="serial log file")
    b.add_argument("--echo", action="store_true", help="echo the console live to stderr")
    b.add_argument("--echo-prefix", default="| ")
    b.add_argument("--name", default="vm")
    b.add_argument("--keep-tmp", action="store_true")
    b.add_argument("--print-cmdline", action="store_true", help="print the QEMU command and exit")
    o = sub.add_parser("oemdrv", help="build an OEMDRV kickstart disk image")
    o.add_argument("ks")
    o.add_argument("output")
    o.add_argument("--format", choices=["vfat", "iso", "ext4"], default="vfat")
    o.add_argument("--size", default="16M")
    s = sub.add_parser("sparse", help="create a sparse disk file")
    s.add_argument("path")
    s.add_argument("size")
    a = p.parse_args(argv)
    try:
        if a.cmd == "boot":
            return _cmd_boot(a)
        if a.cmd == "oemdrv":
            make_oemdrv(a.ks, a.output, fmt=a.format, size=a.size)
            return 0
        if a.cmd == "sparse":
            make_sparse(a.path, a.size)
            return 0
    except (VMError, ValueError) as e:
        print("vmharness: %s" % e, file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1
    except KeyboardInterrupt:
        # The VM was already stopped by its `with` block on the way out.
        print("vmharness: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())

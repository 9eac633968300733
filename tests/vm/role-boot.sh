#!/bin/bash
# One role's image, booted with its own hardware as the profile gives it, to "rackstack-firstboot:
# finished":   tests/vm/role-boot.sh ROLE      (base: RACKSTACK_VM_BASE, default ubuntu-24.04)
#  - its data disks by class, size and bus from the profile (class ssd/hdd, transport nvme/sata/sas:
#    the first choice each names; e.g. infra: SAS 500G + SAS 2T), sparse files;
#  - its cores and RAM scaled to what TCG runs beside other work (2 vCPUs at most, RAM/8 clamped to
#    2-4 GiB; the scaling is printed);
#  - its kickstart on an OEMDRV stick (without the join lines: one VM has no identity, monitoring or
#    log server to join, and those steps report skipped), two NICs to the gateway stand-in answering
#    for every VLAN the host has an address on.
# After "finished": every data disk holds one GPT partition per the profile with the filesystem and
# the disk's name as label (sfdisk --json, blkid), status.json (read from the powered-off OS disk) has
# a service/NAME entry for every service of the role: distribution services "done" (firstboot only
# says done when each port answered), vendor ones (apt/oci, fetched at first boot, no vendor source
# reachable here) "skipped" with a reason, none FAILED. Prints one RESULT line with the times.
# Exit 0 pass, 77 skip, 1 fail.
. "$(dirname "$0")/lib.sh"
vm_requirements
role=${1:?usage: role-boot.sh ROLE}
t0=$SECONDS
ensure_image "$role"
build_s=$((SECONDS - t0))
echo "$role image ($(host_base)) ready in ${build_s}s: $(du -h --apparent-size "$RAW" | cut -f1) raw apparent," \
        "$(du -h "$RAW" | cut -f1) allocated, qcow2 $(du -h "$QCOW2" | cut -f1)"
profile_json=$("$O/rackstack-build" show "$role" --json) || { echo "rackstack-build show $role failed"; exit 1; }
exec python3 - "$RAW" "$TOP" "$O" "$role" "$(host_base)" "$build_s" "$profile_json" "$IMAGE_DIR/manifest.json" <<'PY'
import atexit, json, os, re, shutil, subprocess, sys, tempfile, time
raw, top, out, role, base, build_s, pj, manifest = sys.argv[1:9]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, free_port_base, Checks, install_signal_handlers

install_signal_handlers()
check = Checks(limit=1500)

def v(x):
    return x.get("value") if isinstance(x, dict) and "value" in x else x
def first(x):
    x = v(x)
    return v(x[0]) if isinstance(x, list) else x

show = json.loads(pj)
prof, host = show["profile"], show["host"]
hostname = host["name"]

# ---- hardware from the profile -------------------------------------------------------------------
def size_bytes(s):
    m = re.match(r"^(\d+)([KMGT])$", s)
    return int(m.group(1)) << {"K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]
disks = []
for d in prof["disks"]:
    if v(d.get("os")) == "true":
        continue
    cls, tr = first(d.get("class")) or "ssd", first(d.get("transport"))
    if cls == "nvme" or tr == "nvme":
        kind = "nvme"
    else:
        kind = "%s-%s" % (tr or "sata", "hdd" if cls == "hdd" else "ssd")
    parts = [{k: v(p[k]) for k in p} for p in d.get("partitions", [])]
    disks.append({"name": v(d["name"]), "kind": kind, "size": v(d["min-size"]), "parts": parts})
hw = prof.get("hardware", {})
cores, ram = int(v(hw.get("cores", 2))), size_bytes(v(hw.get("ram", "4G")))
cpus = min(cores, int(os.environ.get("RACKSTACK_VM_MAX_CPUS", "2")))
mem = max(2048, min(4096, (ram >> 20) // 8))
print("%s (%s): %d cores %d GiB -> TCG %d vCPUs %d MiB; disks: %s" % (
    role, hostname, cores, ram >> 30, cpus, mem,
    ", ".join("%s %s %s" % (d["name"], d["kind"], d["size"]) for d in disks)), flush=True)

services = []
for s in prof.get("services", []):
    bases = v(s.get("bases")) or []
    services.append({"name": v(s["name"]), "source": v(s.get("source")),
                     "bases": [v(b) for b in (bases if isinstance(bases, list) else [bases])]})

tmp = tempfile.mkdtemp(prefix="rackstack-role-%s-" % role, dir="/var/tmp")
atexit.register(shutil.rmtree, tmp, True)  # the data disks' sparse files too, whichever way this ends

# The image's own boot loader: the EFI GRUB on its ESP is the tree's GRUB (its version string is the
# image's grub-efi-amd64-bin package version), whatever GRUB the build host has.
pkgs = {p["name"]: p["version"] for p in json.load(open(manifest)).get("packages", [])}
gv = pkgs.get("grub-efi-amd64-bin", "")
pt0 = json.loads(subprocess.run(["sfdisk", "--json", raw], capture_output=True, text=True).stdout)
esp = [p for p in pt0["partitiontable"]["partitions"] if p["type"].upper() == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"]
efi = os.path.join(tmp, "BOOTX64.EFI")
if esp:
    subprocess.run(["mcopy", "-n", "-i", "%s@@%d" % (raw, esp[0]["start"] * 512), "::/EFI/BOOT/BOOTX64.EFI", efi])
loader = open(efi, "rb").read() if os.path.exists(efi) else b""
check("the ESP's GRUB is the image's own (grub-efi-amd64-bin %s)" % gv, gv and gv.encode() in loader,
      "version string not in EFI/BOOT/BOOTX64.EFI (%d bytes)" % len(loader))
for d in disks:
    d["path"] = os.path.join(tmp, "%s.img" % d["name"])
port = free_port_base(2)  # QEMU listens on port and port+1 for the two NICs
print("socket NICs on 127.0.0.1:%d and :%d" % (port, port + 1), flush=True)
gwlog = os.path.join(tmp, "gateway.log")
gws = []
for a in host["addresses"]:
    net = a["address"].rsplit(".", 1)[0]
    gws += ["--gw", "%d=%s.1" % (a["vlan"], net)]
gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                       "--port", str(port + 1)] + gws + ["--log", gwlog, "--lifetime", "3000"])
os.makedirs(os.path.join(out, "test-logs"), exist_ok=True)
serial = os.path.join(out, "test-logs", "vm-role-%s-%s.serial.log" % (role, base))
ks = os.path.join(tmp, hostname + ".ks")
with open(os.path.join(top, "kickstart", hostname + ".ks")) as f:
    open(ks, "w").write("".join(l for l in f if not l.startswith("join ")))
fw = os.environ.get("RACKSTACK_VM_FIRMWARE", "uefi")
st, boot_s, login_s = {}, None, None
try:
    t_start = time.monotonic()
    with VM(image=raw, firmware=fw, boot_disk_size="60G", log=serial, name="role-" + role,
            memory=mem, cpus=cpus,
            disks=[Disk(d["kind"], d["size"], path=d["path"], keep=True) for d in disks],
            oemdrv=ks, nets=Nets(count=2, mode="socket", port=port)) as vm:
        # systemd 255 gives its generators 90 s and freezes PID 1 when they overrun ("Failed to fork
        # off sandboxing environment for executing generators: Protocol error ... Freezing
        # execution"): seen under TCG at load 20. A frozen guest never prints again, so that line
        # ends the wait at once instead of after the whole timeout.
        m = vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]|"
                           r"systemd\[1\]: Freezing execution", timeout=2400)
        boot_s = time.monotonic() - t_start
        text = vm.output
        if "Freezing execution" in m.group(0):
            check("systemd started the system (PID 1 froze after %.0f s, before firstboot ran)" % boot_s, False,
                  "; ".join(l.strip() for l in re.findall(r"systemd\[1\]: [^\r\n]*", text)[-3:]))
            print("RESULT role=%s base=%s build=%ss boot-to-finished=- (systemd froze at %.0f s, load %s)" % (
                role, base, build_s, boot_s, open("/proc/loadavg").read().split()[0]), flush=True)
            sys.exit(1)
        check("firstboot finished (%.0f s under TCG)" % boot_s, "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("answers came from the OEMDRV volume", "answers from OEMDRV:/ks.cfg" in text)
        check("gateway verified on bond0.20",
              re.search(r"check gateway-arp +bond0\.20 -> 10\.0\.50\.1 +ok", text) is not None)
        for line in re.findall(r"service \S+ +(?:done|skipped|FAILED)[^\r\n]*", text):
            print("   console: " + line.strip(), flush=True)
        # The serial login comes after firstboot's report (serial-getty@ttyS0 is ordered after it).
        # Under load udev announced ttyS0 after systemd's 90 s device timeout and the login never came;
        # the images wait 15 min for that device (overlays/common, dev-ttyS0.device.d), so this waits
        # as long. The delay after "finished" is printed, not asserted.
        t_fin, login_s = vm.last_match_time, None
        try:
            vm.wait_for(r"login: ?$", 900)
            login_s = vm.last_match_time - t_fin
        except Exception:
            pass
        check("the serial console's login prompt came after firstboot finished%s" % (
              " (%.0f s later)" % login_s if login_s is not None else ""), login_s is not None,
              "; ".join(re.findall(r"[^\r\n]*(?:ttyS0|[Ss]erial [Gg]etty)[^\r\n]*", vm.output)[-4:]) or
              "nothing about ttyS0 on the console")
        vm.powerdown()
        vm.wait_exit(300)
        bootraw = os.path.join(tmp, "boot.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", vm.boot_disk.path, bootraw], check=True)
        pt = json.loads(subprocess.run(["sfdisk", "--json", bootraw], capture_output=True, text=True).stdout or "{}")
        rootp = [p for p in pt.get("partitiontable", {}).get("partitions", [])
                 if p.get("type", "").upper() == "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"]
        status = subprocess.run(["debugfs", "-R", "cat /var/lib/rackstack/status.json",
                                 "%s?offset=%d" % (bootraw, rootp[0]["start"] * 512)] if rootp else ["true"],
                                capture_output=True, text=True).stdout
        os.unlink(bootraw)
        try:
            st = json.loads(status)
        except ValueError:
            st = {}
finally:
    gw.kill()

steps = {s.get("step"): s for s in st.get("steps", [])}
check("status.json read from the OS disk", bool(steps), "no status.json")
report = []
for s in services:
    e = steps.get("service/" + s["name"], {})
    state, reason = e.get("state"), e.get("reason") or ""
    report.append("%s=%s" % (s["name"], state))
    if s["bases"] and base not in s["bases"]:
        check("service %s (only on %s) skipped" % (s["name"], ",".join(s["bases"])), state == "skipped", e)
    elif s["source"] == "distro":
        check("service %s (distribution) done: its ports answered" % s["name"], state == "done", e)
    else:
        check("service %s (%s, vendor) done or skipped with a reason, never FAILED" % (s["name"], s["source"]),
              state == "done" or (state == "skipped" and reason), e)
check("no step FAILED", not [k for k, e in steps.items() if e.get("state") == "failed"],
      [k for k, e in steps.items() if e.get("state") == "failed"])

def blkid_at(img, start):
    r = subprocess.run(["blkid", "-p", "-O", str(start * 512), "-o", "export", img], capture_output=True, text=True)
    return dict(l.split("=", 1) for l in r.stdout.split() if "=" in l)
for d in disks:
    r = subprocess.run(["sfdisk", "--json", d["path"]], capture_output=True, text=True)
    pt = json.loads(r.stdout).get("partitiontable", {}) if r.returncode == 0 else {}
    p = pt.get("partitions", [])
    names = [x.get("name") for x in p]
    want = [x.get("name") for x in d["parts"]]
    check("%s (%s %s): GPT partitions %s" % (d["name"], d["kind"], d["size"], want),
          pt.get("label") == "gpt" and names == want, json.dumps(pt)[:600])
    for x, w in zip(p, d["parts"]):
        fs = blkid_at(d["path"], x["start"])
        check("%s/%s: %s, 1 MiB aligned" % (d["name"], w["name"], w.get("fs")),
              x["start"] % 2048 == 0 and fs.get("TYPE") == w.get("fs"), str(fs))
print("RESULT role=%s base=%s build=%ss boot-to-finished=%ss login-after=%ss services: %s" % (
    role, base, build_s, "%.0f" % boot_s if boot_s else "-", "%.0f" % login_s if login_s is not None else "-",
    " ".join(report)), flush=True)
sys.exit(check.summary())
PY

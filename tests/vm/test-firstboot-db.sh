#!/bin/bash
# The db image's first boot, for real: lab-db1.ks made into another host's (site9-db4, the same VLANs,
# .77 instead of .12: nothing may depend on the seed's own names and addresses) on an OEMDRV disk, an NVMe 500G and a SAS 1T disk
# (sparse), two NICs facing a stand-in gateway. Firstboot must lay out and mount the data disks,
# grow the root, bring up bond0 with VLANs 10/20/40 and verify the gateway, and end with
# "rackstack-firstboot: finished". After a reset, the same links come back from netplan alone
# (firstboot does not run again), and the data disks, read from the host with sfdisk and blkid,
# hold what the profile says. The OS disk, read back on the host after power-off, has the grown root
# in its GPT (both headers, partition 3 to the end) and an ext4 the size of that partition.
. "$(dirname "$0")/lib.sh"
vm_requirements
ensure_image db
exec python3 - "$RAW" "$TOP" "$O" <<'PY'
import json, os, re, subprocess, sys, tempfile, time
raw, top, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, Checks, install_signal_handlers

install_signal_handlers()
check = Checks(limit=None)

def parts(img):
    j = json.loads(subprocess.run(["sfdisk", "--json", img], capture_output=True, text=True, check=True).stdout)
    return j["partitiontable"]

tmp = tempfile.mkdtemp(prefix="rackstack-fb-", dir="/var/tmp")
nvme, sas = os.path.join(tmp, "nvme.img"), os.path.join(tmp, "sas.img")
port = 41000 + os.getpid() % 20000
gwlog = os.path.join(tmp, "gateway.log")
gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                       "--port", str(port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                       "--log", gwlog, "--lifetime", "1800"])
serial = os.path.join(out, "test-logs", "vm-firstboot-db.serial.log")
# A single VM has no identity, monitoring or log server to join: without the join lines those steps
# are skipped, saying so (with them, join/time would wait its bound and fail; test-identity-db.sh
# covers the join and the report).
# Another db host of the site: a name the site does not list and other addresses on the same VLANs
# (Redis failed to start for such a host, #19).
ks = os.path.join(tmp, "site9-db4.ks")
with open(os.path.join(top, "kickstart/lab-db1.ks")) as f:
    text = "".join(l for l in f if not l.startswith("join "))
text = re.sub(r"\b(10\.0\.\d+)\.12\b", r"\1.77", text.replace("lab-db1", "site9-db4"))
open(ks, "w").write(text)
check("the kickstart is not the seed's (other host name and addresses)",
      "lab-db1" not in text and ".12 " not in text and "--ip=10.0.40.77" in text)
img_pt = parts(raw)
img_root = [p for p in img_pt["partitions"] if p.get("type", "").upper() == "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"]
try:
    # BIOS: a QMP system_reset under OVMF stalled here (no console output for 10 minutes), SeaBIOS resets cleanly.
    with VM(image=raw, firmware="bios", boot_disk_size="60G", log=serial, name="fb-db",
            disks=[Disk("nvme", "500G", path=nvme, keep=True), Disk("sas-hdd", "1T", path=sas, keep=True)],
            oemdrv=ks,
            nets=Nets(count=2, mode="socket", port=port)) as vm:
        vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", timeout=1200)
        text = vm.output
        check("firstboot finished", "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("answers came from the OEMDRV volume", "answers from OEMDRV:/ks.cfg" in text)
        check("the plan was shown and accepted", "plan: ok" in text)
        check("root grown to the disk", re.search(r"grow root partition \d+ from [\d.]+ GiB to 59\.\d GiB", text) is not None)
        check("NVMe laid out", re.search(r"/dev/nvme0n1: xfs on partition 1", text) is not None)
        check("gateway verified on bond0.20", re.search(r"check gateway-arp +bond0\.20 -> 10\.0\.50\.1 +ok", text) is not None)
        check("each answer's source is on the console",
              re.search(r"hostname +site9-db4\.domain\.com +OEMDRV:/ks\.cfg line \d+", text) is not None and
              re.search(r"bond\.members +auto +default", text) is not None)
        vm.wait_for(r"login: ?$", 300)
        before = len(open(gwlog).read().splitlines())
        mark = len(vm.output)
        vm.system_reset()
        vm.wait_for(r"login: ?$", 600)
        after_boot = vm.output[mark:]
        check("firstboot does not run again after success", "rackstack-firstboot: starting" not in after_boot)
        seen, deadline = False, time.monotonic() + 180
        while not seen and time.monotonic() < deadline:
            lines = open(gwlog).read().splitlines()[before:]
            seen = any(re.match(r"arp vlan=20 who-has \S+ tell 10\.0\.50\.77$", l) for l in lines)
            time.sleep(2)
        check("after a reset, bond0.20 comes back from netplan (10.0.50.77 speaks on VLAN 20)", seen)
        check("the second boot mounts the grown root (no ext4 geometry error)",
              re.search(r"EXT4-fs[^\r\n]*(bad geometry|exceeds size of device)", after_boot) is None)
        # status.json from the OS disk itself: power off (the qcow2 overlay is closed cleanly), then
        # read the root filesystem's file with debugfs at the partition's offset (root is locked: no login).
        vm.powerdown()
        vm.wait_exit(300)
        boot = os.path.join(tmp, "boot.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", vm.boot_disk.path, boot], check=True)
        pt = parts(boot)
        rootp = [p for p in pt["partitions"] if p.get("type", "").upper() == "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"]
        # The GPT on the powered-off disk is the truth (#19: it was the image's, with the kernel told
        # otherwise): partition 3 ends where the last usable sector is (1 MiB aligned), the backup
        # header is at the disk's end, and sfdisk finds nothing to correct.
        sectors = os.path.getsize(boot) // 512
        ver = subprocess.run(["sfdisk", "--verify", boot], capture_output=True, text=True)
        print("GPT: image root %s; disk %d sectors, root %s, last usable %s" % (
            ["%d+%d" % (p["start"], p["size"]) for p in img_root], sectors,
            ["%d+%d" % (p["start"], p["size"]) for p in rootp], pt.get("lastlba")), flush=True)
        check("the disk's GPT: last usable sector at the end (backup header moved)", pt.get("lastlba") == sectors - 34,
              "lastlba %s of %d sectors" % (pt.get("lastlba"), sectors))
        check("the disk's GPT: root partition grown to the end",
              bool(rootp) and rootp[0]["start"] + rootp[0]["size"] - 1 > sectors - 34 - 2048 and
              bool(img_root) and rootp[0]["size"] > img_root[0]["size"], json.dumps(rootp))
        check("sfdisk --verify: no errors, no backup GPT out of place",
              ver.returncode == 0 and "not on the end" not in ver.stdout + ver.stderr and
              "No errors detected" in ver.stdout, ver.stdout + ver.stderr)
        if rootp:
            de = subprocess.run(["dumpe2fs", "-h", "%s?offset=%d" % (boot, rootp[0]["start"] * 512)],
                                capture_output=True, text=True).stdout
            bc = re.search(r"^Block count:\s+(\d+)", de, re.M)
            bs = re.search(r"^Block size:\s+(\d+)", de, re.M)
            fs_bytes = int(bc.group(1)) * int(bs.group(1)) if bc and bs else 0
            part_bytes = rootp[0]["size"] * 512
            print("ext4: %d bytes in a %d-byte partition" % (fs_bytes, part_bytes), flush=True)
            check("resize2fs grew the root ext4 to its partition, and not past it",
                  part_bytes - 64 * 1024 * 1024 < fs_bytes <= part_bytes, "fs %d, partition %d" % (fs_bytes, part_bytes))
        status = subprocess.run(["debugfs", "-R", "cat /var/lib/rackstack/status.json",
                                 "%s?offset=%d" % (boot, rootp[0]["start"] * 512)] if rootp else ["true"],
                                capture_output=True, text=True).stdout
        os.unlink(boot)
        try:
            st = json.loads(status)
        except ValueError:
            st = {}
        net = st.get("network", {})
        links = {l.get("name"): l for l in net.get("links", [])}
        check("status.json has the live network result: applied, bond0 with two members, bond0.20 addressed",
              net.get("applied") is True and links.get("bond0", {}).get("kind") == "bond" and
              sum(1 for l in links.values() if l.get("master") == "bond0") == 2 and
              "10.0.50.77/24" in links.get("bond0.20", {}).get("addresses", []), status[-1500:])
        svcs = {x.get("name"): x for x in (st.get("services") or {}).get("services", [])}
        check("status.json: redis runs (a host with other addresses binds its own)",
              svcs.get("redis", {}).get("state") == "done", json.dumps(svcs.get("redis")))
        check("status.json says which checks passed (the gateway answered ARP)",
              any(c.get("check") == "gateway-arp" and c.get("passed") for c in net.get("checks", [])), status[-1500:])
        check("status.json has a default route via 10.0.50.1",
              any(r.get("dst") == "default" and r.get("gateway") == "10.0.50.1" for r in net.get("routes", [])),
              status[-800:])
        ans = {a.get("key"): a for a in st.get("answers", [])}
        check("status.json has the answers with their sources",
              ans.get("vlan.20.address", {}).get("source", "").startswith("OEMDRV:/ks.cfg line "), status[-800:])
finally:
    gw.kill()

def blkid_at(img, start):
    r = subprocess.run(["blkid", "-p", "-O", str(start * 512), "-o", "export", img], capture_output=True, text=True)
    return dict(l.split("=", 1) for l in r.stdout.split() if "=" in l)
for img, name, label in ((nvme, "pgdata", "database"), (sas, "backups", "backups")):
    pt = parts(img)
    p = pt["partitions"]
    check("%s: one GPT partition named %s" % (os.path.basename(img), name),
          pt["label"] == "gpt" and len(p) == 1 and p[0].get("name") == name, json.dumps(pt))
    check("%s: 1 MiB aligned" % os.path.basename(img), p and p[0]["start"] % 2048 == 0)
    fs = blkid_at(img, p[0]["start"]) if p else {}
    check("%s: xfs labelled %s" % (os.path.basename(img), label), fs.get("TYPE") == "xfs" and fs.get("LABEL") == label, str(fs))
subprocess.run(["rm", "-rf", tmp])
sys.exit(check.summary())
PY

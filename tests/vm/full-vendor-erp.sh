#!/bin/bash
# The erp role's vendor application booted, stood in (check-full; one TCG guest: 23 min at load 15-24,
# of which stand-ins 102 s cold, image 246 s with a cold erp layer, boot to "finished" 991 s, checks 53 s):
# tests/tools/vendor-standins.sh serves a signed apt repository with a stand-in .deb for Odoo (its
# unit runs busybox httpd on 8069 and, at each start, appends a line to the data directory firstboot
# gives it) and for the vendor Zabbix agent, on loopback. The erp image (Ubuntu 24.04, raw) is built
# through the site mirror mapping, so both come from the image, not from the network. Booted with
# erp's two data disks (appdata: a 200G SATA SSD, attachments: a 500G SAS HDD) and lab-erp1.ks
# (without its join lines) on OEMDRV, after "rackstack-firstboot: finished":
#  - odoo and zabbix-agent2-vendor done in status.json and on the console; odoo.service active,
#    answering Odoo's health endpoint /web/health on 8069; the package is the image's (99:0-standin),
#    and nothing was fetched at boot (no deferred install, no apt-get in the journal);
#  - Odoo's data on the appdata disk: odoo.conf's data_dir is /var/lib/odoo, an XFS filesystem on the
#    200G non-rotational disk, and the running stand-in wrote its start line there (the filestore's
#    place);
#  - the configuration from the site: odoo.conf names the db host's VLAN-40 address, the database
#    and user "odoo", the comm host for SMTP; the drop-in's environment file gives the same facts;
#  - the database password (a site credential made by the test) is in odoo.conf only, which is not
#    world-readable, and nowhere else: journal, ps, status.json, units, environment files, console.
. "$(dirname "$0")/lib.sh"
vm_requirements
for t in docker-registry skopeo gpg apt-ftparchive dpkg-deb; do
        command -v "$t" >/dev/null || skip "$t missing (tests/tools/deps.sh)"
done
ST=$(mktemp -d /var/tmp/rackstack-standins.XXXXXX)
cleanup() { bash "$TOP/tests/tools/vendor-standins.sh" stop "$ST" >/dev/null 2>&1; rm -rf "$ST"; }
trap cleanup EXIT
t0=$(date +%s)
nice -n 10 bash "$TOP/tests/tools/vendor-standins.sh" start "$ST" ||
        { rc=$?; [ $rc = 77 ] && skip "stand-ins cannot run here"; echo "stand-ins failed"; exit 1; }
# shellcheck disable=SC1091
. "$ST/env"
export RACKSTACK_VENDOR_MIRRORS RACKSTACK_VENDOR_PROFILES
echo "stand-ins ready in $(( $(date +%s) - t0 )) s"
# shellcheck disable=SC2034 # lib.sh's ensure_image reads them
VMOUT=${RACKSTACK_VM_VENDOR_OUT:-$TOP/build/vm-images/vendor-$(host_base)}
# shellcheck disable=SC2034
VMFORMATS=raw
t1=$(date +%s)
ensure_image erp
echo "image ready in $(( $(date +%s) - t1 )) s (stand-ins and image: $(( $(date +%s) - t0 )) s)"
python3 - "$RAW" "$TOP" "$O" <<'PY'
import json, os, re, secrets, subprocess, sys, tempfile, time
raw, top, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, install_signal_handlers

install_signal_handlers()
fails, checks = [], [0]
def check(what, ok, detail=""):
    checks[0] += 1
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else "  " + str(detail)[:2000]), flush=True)
    if not ok:
        fails.append(what)

tmp = tempfile.mkdtemp(prefix="rackstack-verp-", dir="/var/tmp")
SECRETS = {"db.odoo": "sv-" + secrets.token_hex(16)}
SDIR = "/var/lib/rackstack-test-secrets"

def open_root(src):
    """A sparse copy of the image with an empty root password, and the site secret as the cluster
    step would deliver it: a file in /run/credentials/rackstack (tmpfiles copies it at boot)."""
    dst = os.path.join(tmp, "boot.raw")
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)
    pt = json.loads(subprocess.run(["sfdisk", "--json", dst], capture_output=True, text=True, check=True).stdout)
    root = [p for p in pt["partitiontable"]["partitions"] if p.get("name") == "root"][0]
    dev = subprocess.run(["losetup", "-f", "--show", "-o", str(root["start"] * 512), "--sizelimit",
                          str(root["size"] * 512), dst], capture_output=True, text=True, check=True).stdout.strip()
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    try:
        subprocess.run(["mount", dev, mnt], check=True)
        try:
            subprocess.run(["sed", "-i", "s/^root:[^:]*:/root::/", os.path.join(mnt, "etc/shadow")], check=True)
            sd = mnt + SDIR
            os.makedirs(sd, mode=0o700)
            lines = ["d /run/credentials/rackstack 0700 root root -"]
            for n, v in SECRETS.items():
                with open(os.path.join(sd, n), "w") as f:
                    f.write(v)
                os.chmod(os.path.join(sd, n), 0o400)
                lines.append("C /run/credentials/rackstack/%s 0400 root root - %s/%s" % (n, SDIR, n))
            with open(os.path.join(sd, "all"), "w") as f:
                f.write("\n".join(SECRETS.values()) + "\n")
            with open(os.path.join(mnt, "etc/tmpfiles.d/rackstack-test-secrets.conf"), "w") as f:
                f.write("\n".join(lines) + "\n")
        finally:
            subprocess.run(["umount", mnt], check=True)
    finally:
        subprocess.run(["losetup", "-d", dev])
    return dst

raw = open_root(raw)
ks = os.path.join(tmp, "ks.cfg")
ks_text = "\n".join(l for l in open(os.path.join(top, "kickstart/lab-erp1.ks")).read().splitlines()
                    if not l.startswith("join "))
open(ks, "w").write(ks_text + "\n")
os.chmod(ks, 0o600)
port = 41000 + (os.getpid() * 7) % 20000
gwlog = os.path.join(tmp, "gateway.log")
gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                       "--port", str(port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                       "--log", gwlog, "--lifetime", "2400"])
serial = os.path.join(out, "test-logs", "vm-vendor-erp.serial.log")
os.makedirs(os.path.dirname(serial), exist_ok=True)
t_start = time.monotonic()
try:
    with VM(image=raw, firmware="bios", boot_disk_size="60G", log=serial, name="vendor-erp", memory=3072,
            disks=[Disk("sata-ssd", "200G"), Disk("sas-hdd", "500G")], oemdrv=ks,
            nets=Nets(count=2, mode="socket", port=port)) as vm:
        vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", timeout=2400)
        print("firstboot ended after %.0f s" % (time.monotonic() - t_start), flush=True)
        text = vm.output
        check("firstboot finished", "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: (?:FAILED|service)[^\r\n]*", text)))
        for s in ("odoo", "zabbix-agent2-vendor"):
            check("console: %s done" % s, re.search(r"service %s +done: " % re.escape(s), text) is not None,
                  "".join(re.findall(r"service %s [^\r\n]*" % re.escape(s), text)))
        vm.login(timeout=600)
        def sh(cmd, timeout=120):
            rc, o = vm.run(cmd, timeout=timeout)
            return o.strip()
        def get(port, path):
            """GET with bash alone (the image has no curl or wget)."""
            return sh("timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; printf \"GET %s HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n\" >&3; cat <&3'" % (port, path))
        for unit in ("odoo.service", "zabbix-agent2.service"):
            state = sh("systemctl is-active %s" % unit).splitlines()
            check("%s active" % unit, state[-1:] == ["active"], sh("systemctl status --no-pager %s | tail -20" % unit))
        check("odoo answers its health endpoint /web/health on 8069", " 200 " in get(8069, "/web/health").splitlines()[0])
        check("odoo's answer is the stand-in's", "stand-in odoo" in get(8069, "/"))
        ver = sh("dpkg-query -W -f '${Version} ${db:Status-Status}' odoo")
        check("odoo is the image's package (99:0-standin, installed)", ver.splitlines()[-1:] == ["99:0-standin installed"], ver)
        vj = json.loads(sh("cat /usr/share/rackstack/vendor.json"))
        st = {e["name"]: e.get("state") for e in vj["services"]}
        check("vendor.json: odoo in-image", st.get("odoo") == "in-image", st)
        fetched = sh("journalctl -b --no-pager -o cat | grep -c -E 'apt-get|fetch-deferred|installed at first boot' ; true")
        check("nothing installed at boot (no apt-get in the journal)", fetched.splitlines()[-1:] == ["0"], fetched)
        # data on the appdata disk
        conf = sh("grep -E '^(db_host|db_port|db_user|db_name|data_dir|smtp_server) ' /etc/odoo/odoo.conf")
        cv = dict(l.split(" = ", 1) for l in conf.splitlines() if " = " in l)
        check("odoo.conf: data_dir = /var/lib/odoo", cv.get("data_dir") == "/var/lib/odoo", conf)
        fm = sh("findmnt -n -o TARGET,FSTYPE --target /var/lib/odoo")
        check("/var/lib/odoo is its own XFS filesystem", fm.split() == ["/var/lib/odoo", "xfs"], fm)
        disk = sh("lsblk -bndo SIZE,ROTA /dev/$(lsblk -no PKNAME $(findmnt -n -o SOURCE /var/lib/odoo))")
        check("... on the 200G non-rotational appdata disk", disk.split()[-2:] == [str(200 << 30), "0"], disk)
        log = sh("cat /var/lib/odoo/standin-odoo.log")
        check("the running odoo wrote its data there", "stand-in odoo (odoo) started" in log, log)
        fm2 = sh("findmnt -n -o TARGET,FSTYPE --target /srv/attachments")
        check("/srv/attachments is XFS on the attachments disk", fm2.split() == ["/srv/attachments", "xfs"], fm2)
        # configuration from the site
        check("odoo.conf: the db host's VLAN-40 address", cv.get("db_host") == "10.0.40.12", conf)
        check("odoo.conf: database and user odoo", cv.get("db_name") == "odoo" and cv.get("db_user") == "odoo", conf)
        check("odoo.conf: SMTP via the comm host", cv.get("smtp_server", "").startswith("10.0.") or
              "comm" in cv.get("smtp_server", ""), conf)
        env = sh("cat /proc/$(systemctl show -p MainPID --value odoo.service)/environ | tr '\\0' '\\n' | "
                 "grep -E '^RACKSTACK_(DB_HOST|DATA_DIR|URL)='")
        check("odoo's unit gets the site's environment (db host, data dir, URL)",
              "RACKSTACK_DB_HOST=10.0.40.12" in env and "RACKSTACK_DATA_DIR=/var/lib/odoo" in env
              and "RACKSTACK_URL=https://erp.domain.com" in env, env)
        # the password: in odoo.conf, compared in the guest, never printed
        check("odoo.conf holds the site's database password",
              sh("grep -qxF \"db_password = $(cat %s/db.odoo)\" /etc/odoo/odoo.conf && echo SAME" % SDIR).endswith("SAME"))
        mode = sh("stat -c '%a %U' /etc/odoo/odoo.conf")
        check("odoo.conf is not world-readable, owned by root", mode.split()[-2:] in (["600", "root"], ["640", "root"]), mode)
        leaks = sh("{ journalctl -b --no-pager; ps -eo args; cat /var/lib/rackstack/status.json; "
                   "cat /etc/systemd/system/*.service /etc/systemd/system/*/*.conf /run/systemd/generator/*.service "
                   "/etc/rackstack/apps/* 2>/dev/null; } | grep -cF -f %s/all" % SDIR)
        check("no secret in the journal, ps, status.json, unit files or the environment files",
              leaks.splitlines()[-1] == "0", leaks)
        stj = json.loads(sh("cat /var/lib/rackstack/status.json"))
        steps = {s.get("step"): s for s in stj.get("steps", [])}
        for name in ("odoo", "zabbix-agent2-vendor"):
            e = steps.get("service/" + name) or {}
            check("status.json: service/%s done" % name, e.get("state") == "done", e)
        print("checks done after %.0f s" % (time.monotonic() - t_start), flush=True)
finally:
    gw.terminate()
console = open(serial, errors="replace").read()
check("no secret on the serial console", not any(v in console for v in SECRETS.values()))
subprocess.run(["rm", "-rf", tmp])
print("%d checks, %d failed" % (checks[0], len(fails)))
sys.exit(1 if fails else 0)
PY

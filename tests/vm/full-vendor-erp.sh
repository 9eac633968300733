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
. "$(dirname "$0")/vendor-lib.sh"
STANDINS_NICE=10 vendor_image erp docker-registry skopeo gpg apt-ftparchive dpkg-deb
python3 - "$RAW" "$TOP" "$O" <<'PY'
import json, os, sys
raw, top, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, install_signal_handlers
from vendorvm import SDIR, VendorTest

install_signal_handlers()
t = VendorTest(top, out, "erp", ("db.odoo",), lifetime=2400)
check = t.check
raw, ks = t.open_root(raw), t.kickstart("lab-erp1.ks")
t.start()
try:
    with VM(image=raw, firmware="bios", boot_disk_size="60G", log=t.serial, name="vendor-erp", memory=3072,
            disks=[Disk("sata-ssd", "200G"), Disk("sas-hdd", "500G")], oemdrv=ks,
            nets=Nets(count=2, mode="socket", port=t.port)) as vm:
        t.boot(vm, ("odoo", "zabbix-agent2-vendor"))
        sh, get = t.shell(vm)
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
        print("checks done after %.0f s" % t.elapsed(), flush=True)
finally:
    t.stop_gateway()
sys.exit(t.finish())
PY

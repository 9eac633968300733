#!/bin/bash
# The app role's vendor applications, for real but stood in: tests/tools/vendor-standins.sh serves
# a real registry (docker-registry) with a busybox-httpd OCI image for each vendor image and a real
# signed apt repository with a .deb holding a unit for each vendor package, on loopback. The app
# image (Ubuntu 24.04) is built through the site mirror mapping (--mirror, as a site's mirrors: would),
# so Nextcloud's and Mattermost's images are the stand-ins' (by digest, in the image's container
# store) and jitsi-meet and the Zabbix agent are the stand-in .debs. Booted with the app role's two
# data disks (a 2T SAS HDD for nextcloud, a 250G SATA SSD for appdata) and lab-app1.ks (without its
# join lines) on OEMDRV, after "rackstack-firstboot: finished":
#  - each vendor service's unit is active and its port answers (Mattermost on 8065 with its health
#    endpoint, jitsi-meet on 4443), and status.json says done for each;
#  - podman images lists each image by vendor.json's digest, and nothing was pulled in this boot;
#  - the containers are Quadlet units (Ubuntu 24.04's podman 4.9), running in the unit's cgroup,
#    run the image by its digest from vendor.json, with the role's memory share as MemoryMax;
#  - their data is on the role's data disks (the container's volume source, findmnt);
#  - their configuration came from the site: the db host's VLAN-40 address and the URL from the
#    site's routes in the environment the container sees;
#  - the secrets (credential files made by the test, as site secrets would be) reach the container
#    and appear nowhere else: console, journal, unit files, status.json, ps.
# The image (raw only) is kept apart from the --defer-vendor images other tests use
# (build/vm-images/vendor-*). make check: the stand-in content and key are kept between runs
# (vendor-standins.sh's cache; test-vendor-build fills it earlier in the same run), so the InRelease
# is the same and the builder reuses the app layer; a warm rebuild is the tree and the image.
# Cost (2 cores): on a cold cache the app layer is this test's own (~2-3 min quiet); the boot to
# "finished" took 1420 s at load 20 (qemu used 462 s of CPU), the checks 4 min at that load.
. "$(dirname "$0")/vendor-lib.sh"
vendor_image app docker-registry skopeo gpg apt-ftparchive dpkg-deb podman
python3 - "$RAW" "$TOP" "$O" <<'PY'
import json, os, sys
raw, top, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, install_signal_handlers
from vendorvm import SDIR, VendorTest

install_signal_handlers()
t = VendorTest(top, out, "app", ("db.nextcloud", "admin.nextcloud", "db.mattermost", "redis", "db.jitsi-meet"), lifetime=1800)
check = t.check
raw, ks = t.open_root(raw), t.kickstart("lab-app1.ks")
t.start()
try:
    with VM(image=raw, firmware="bios", boot_disk_size="60G", log=t.serial, name="vendor-app", memory=3072,
            disks=[Disk("sas-hdd", "2T"), Disk("sata-ssd", "250G")], oemdrv=ks,
            nets=Nets(count=2, mode="socket", port=t.port)) as vm:
        t.boot(vm, ("nextcloud", "mattermost", "jitsi-meet", "zabbix-agent2-vendor"))
        sh, get = t.shell(vm)
        # units active, ports answering
        for unit in ("nextcloud.service", "mattermost.service", "jitsi-videobridge2.service", "zabbix-agent2.service"):
            # the last line: "inactive" and "activating" end in "active" too
            state = sh("systemctl is-active %s" % unit).splitlines()
            check("%s active" % unit, state[-1:] == ["active"], sh("systemctl status --no-pager %s | tail -20" % unit))
        check("mattermost answers its health endpoint on 8065",
              " 200 " in get(8065, "/api/v4/system/ping"))
        check("jitsi-meet's stand-in answers on 4443", "stand-in" in get(4443, "/"))
        # Quadlet, the digest, the memory share
        vj = json.loads(sh("cat /usr/share/rackstack/vendor.json"))
        digests = {e["name"]: e.get("digest") for e in vj["services"]}
        images = {e["name"]: e.get("image") for e in vj["services"]}
        # The images are in the image's read-only store and nothing was pulled: podman lists each
        # by its name and vendor.json's digest, and no podman in this boot tried a registry (the
        # guest has no route to the stand-in registry either, so a pull could only fail).
        listed = sh("podman images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.Digest}}'")
        for name in ("nextcloud", "mattermost"):
            check("podman images lists %s's image by vendor.json's digest" % name,
                  digests.get(name) is not None and "%s %s" % (images.get(name), digests[name]) in listed.splitlines(),
                  "%s\nvs %s %s" % (listed, images.get(name), digests.get(name)))
        pulls = sh("journalctl -b --no-pager -o cat | grep -c -E 'Trying to pull|pulled at first boot' ; true")
        check("no image pulled in this boot (journal)", pulls.splitlines()[-1:] == ["0"], pulls)
        for name in ("nextcloud", "mattermost"):
            st = sh("podman inspect %s --format '{{.State.Status}} {{.State.ConmonPid}}'" % name).split()
            check("%s: the container runs" % name, st[:1] == ["running"], st)
            cg = sh("cat /proc/%s/cgroup" % (st[1] if len(st) == 2 and st[1].isdigit() else "0"))
            check("%s: its container runs in %s.service's cgroup (a systemd unit)" % (name, name),
                  "/system.slice/%s.service" % name in cg, cg)
        for name in ("nextcloud", "mattermost"):
            cont = sh("cat /etc/containers/systemd/%s.container" % name)
            check("%s: a Quadlet .container" % name, "[Container]" in cont, cont[:500])
            img = sh("podman inspect %s --format '{{.ImageDigest}}'" % name)
            check("%s: runs the image by vendor.json's digest" % name, digests.get(name) and digests[name] in img,
                  "%s vs %s" % (img, digests.get(name)))
            mm = sh("systemctl show -p MemoryMax --value %s.service" % name)
            check("%s: the memory share as MemoryMax" % name, mm.isdigit() and int(mm) > 0, mm)
        # data on the role's data disks
        for name, path, mount in (("nextcloud", "/srv/nextcloud", "/srv/nextcloud"), ("mattermost", "/srv/apps/mattermost", "/srv/apps")):
            src = sh("podman inspect %s --format '{{range .Mounts}}{{.Source}} {{end}}'" % name)
            check("%s: its volume is %s" % (name, path), path in src.split(), src)
            fm = sh("findmnt -n -o TARGET,FSTYPE --target %s" % path)
            check("%s: %s is on the data disk mounted at %s (xfs)" % (name, path, mount), fm.split() == [mount, "xfs"], fm)
        # configuration from the site, as the container sees it
        # Only the lines asked for: a type=env secret is in the container's environment by design,
        # and printing it all would put it on this console.
        env = sh("podman exec mattermost /bin/busybox env | grep -E '^(RACKSTACK_DB_HOST|MM_SERVICESETTINGS_SITEURL)='")
        check("mattermost sees the db host's VLAN-40 address", "RACKSTACK_DB_HOST=10.0.40.12" in env, env[:800])
        check("mattermost sees its URL from the site's routes", "MM_SERVICESETTINGS_SITEURL=https://chat.domain.com" in env, env[:800])
        check("nextcloud sees the db host for PostgreSQL", "POSTGRES_HOST=10.0.40.12" in sh("podman exec nextcloud /bin/busybox env | grep '^POSTGRES_HOST='"))
        check("jitsi-meet's unit gets the site's environment",
              "RACKSTACK_DB_HOST=10.0.40.12" in sh("cat /proc/$(systemctl show -p MainPID --value jitsi-videobridge2.service)/environ | tr '\\0' '\\n' | grep '^RACKSTACK_DB_HOST='"))
        # secrets: delivered, and nowhere else
        check("mattermost's DB password reaches the container as a file",
              sh("podman exec mattermost /bin/busybox cat /run/secrets/db-password | cmp -s - %s/db.mattermost && echo SAME" % SDIR).endswith("SAME"))
        # Mattermost reads its DB password only inside its DSN: a podman secret (type=env) composed at
        # first boot. Compared inside the container, so the value is never printed.
        dsn = ("postgres://mattermost:$(cat /run/secrets/db-password)@10.0.40.12:5432/mattermost"
               "?sslmode=disable&connect_timeout=10")
        check("mattermost's DSN holds the DB password, composed at first boot",
              sh("podman exec mattermost /bin/busybox sh -c 'test \"$MM_SQLSETTINGS_DATASOURCE\" = \"%s\" && echo SAME'" % dsn).endswith("SAME"))
        check("the composed DSN's file is gone from the credstore",
              sh("ls /etc/rackstack/credstore/ 2>/dev/null | grep -c dsn").splitlines()[-1] == "0")
        leaks = sh("{ journalctl -b --no-pager; ps -eo args; cat /var/lib/rackstack/status.json; "
                   "cat /etc/systemd/system/*.service /etc/systemd/system/*/*.conf /etc/containers/systemd/* "
                   "/run/systemd/generator/*.service /etc/rackstack/apps/* 2>/dev/null; } | grep -cF -f %s/all" % SDIR)
        check("no secret in the journal, ps, status.json, unit files or the environment files", leaks.splitlines()[-1] == "0", leaks)
        st = json.loads(sh("cat /var/lib/rackstack/status.json"))
        steps = {s.get("step"): s for s in st.get("steps", [])}
        for name in ("nextcloud", "mattermost", "jitsi-meet"):
            e = steps.get("service/" + name) or {}
            check("status.json: service/%s done" % name, e.get("state") == "done", e)
        print("checks done after %.0f s" % t.elapsed(), flush=True)
finally:
    t.stop_gateway()
sys.exit(t.finish())
PY

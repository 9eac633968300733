#!/bin/bash
# The cluster rehearsal, reduced to two hosts: lab-db1 and lab-app1, each from its own role image
# and its own kickstart, with its own credentials bundle beside the kickstart on its OEMDRV stick,
# both on one virtual switch (tests/vm/gateway.py --switch, random ports) that carries the site's
# VLANs and answers ARP for the gateways. Staggered for two cores under TCG: lab-db1 runs its
# first boot to the end before lab-app1 starts.
#
# Shown with the real programs, over VLAN 40:
#   - lab-db1's firstboot made nextcloud's role and database (psql on lab-db1: exactly one);
#   - psql on lab-app1 reaches lab-db1 (10.0.40.12) as nextcloud with the site-issued password and
#     is refused with a wrong one, and refused for zammad's database (not lab-app1's);
#   - PgBouncer (6432) pools nextcloud on lab-db1 with the same password (from lab-app1 the role's
#     firewall drops 6432: only the seed's ports are open);
#   - the credentials are gone from /run/credentials/rackstack on both after the run.
# Then lab-db1 is reset hard and boots again: still one nextcloud database. (A run cut short
# half-way through the SQL is tests/integration/test-db-wiring.sh's.)
# The hosts log in with a test root password (rootpw --iscrypted in the kickstart, on an ext4
# OEMDRV so it keeps mode 0600).
. "$(dirname "$0")/lib.sh"
vm_requirements
ensure_image db
DB_RAW=$RAW
# The app image is built while lab-db1 boots (the VM waits on it only when its turn comes).
mkdir -p "$O/test-logs"
APP_LOG=$O/test-logs/vm-rehearsal-app-build.log APP_RAW_FILE=$(mktemp)
( ensure_image app >"$APP_LOG" 2>&1 && echo "$RAW" >"$APP_RAW_FILE" ) &
exec python3 - "$DB_RAW" "$!" "$APP_RAW_FILE" "$TOP" "$O" <<'PY'
import os, re, socket, subprocess, sys, tempfile, time
db_raw, app_pid, app_raw_file, top, out = sys.argv[1:6]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, install_signal_handlers

install_signal_handlers()
fails, checks = [], [0]
def check(what, ok, detail=""):
    checks[0] += 1
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else "  " + str(detail)[-1500:]), flush=True)
    if not ok:
        fails.append(what)

def free_base(n):
    """A random base port with n free ports after it."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1]
        s.close()
        if base + n >= 65000:
            continue
        try:
            held = []
            for i in range(n):
                t = socket.socket()
                t.bind(("127.0.0.1", base + i))
                held.append(t)
            for t in held:
                t.close()
            return base
        except OSError:
            for t in held:
                t.close()

tmp = tempfile.mkdtemp(prefix="rackstack-rehearsal-", dir="/var/tmp")
B = os.path.join(out, "rackstack-build")
site = os.path.join(tmp, "site")
subprocess.run([B, "secrets", "init", site], check=True, capture_output=True)
creds = {}
for h in ("lab-db1", "lab-app1"):
    subprocess.run([B, "secrets", "bundle", site, h, "--out", os.path.join(tmp, h)], check=True, capture_output=True)
    creds[h] = os.path.join(tmp, h, "rackstack.creds")
def secret(name):
    return open(os.path.join(site, "secrets", name)).read().strip()
PW = "rehearsal"
pwhash = subprocess.run(["openssl", "passwd", "-6", PW], capture_output=True, text=True, check=True).stdout.strip()

def oemdrv(host):
    text = "\n".join(l for l in open(os.path.join(top, "kickstart", host + ".ks")).read().splitlines()
                     if not l.startswith("join "))
    text = text.replace("rootpw --lock", "rootpw --iscrypted " + pwhash)
    ks = os.path.join(tmp, host + ".ks")
    open(ks, "w").write(text + "\n")
    os.chmod(ks, 0o600)
    # ext4 keeps the modes: a kickstart with a password hash must be 0600 where it comes from
    stage = os.path.join(tmp, host + "-oemdrv")
    os.makedirs(stage)
    for name, src in (("ks.cfg", ks), ("rackstack.creds", creds[host])):
        open(os.path.join(stage, name), "wb").write(open(src, "rb").read())
        os.chmod(os.path.join(stage, name), 0o600)
    img = os.path.join(tmp, host + "-oemdrv.img")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "OEMDRV", "-d", stage, img], check=True)
    return img

base = free_base(4)
swlog = os.path.join(tmp, "switch.log")
sw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--switch",
                       "--port", str(base), "--port", str(base + 1), "--port", str(base + 2), "--port", str(base + 3),
                       "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1", "--log", swlog, "--lifetime", "10800"])
logs = os.path.join(out, "test-logs")
os.makedirs(logs, exist_ok=True)
FB = r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]"
t0 = time.monotonic()
def db_vm():
    return VM(image=db_raw, firmware="bios", boot_disk_size="60G", name="rehearsal-db1", memory=2048,
              log=os.path.join(logs, "vm-rehearsal-db1.serial.log"),
              disks=[Disk("nvme", "500G", path=os.path.join(tmp, "db-nvme.img"), keep=True),
                     Disk("sas-hdd", "1T", path=os.path.join(tmp, "db-sas.img"), keep=True)],
              oemdrv=oemdrv("lab-db1"), oemdrv_fmt="image", nets=Nets(count=2, mode="socket", port=base))
try:
    db = db_vm()
    db.__enter__()
    db.boot(expect=FB, timeout=3600)
    t_db = time.monotonic() - t0
    check("lab-db1: firstboot finished (%.0f s)" % t_db, "rackstack-firstboot: finished" in db.output,
          "".join(re.findall(r"rackstack-firstboot: (?:FAILED|service)[^\r\n]*", db.output)))
    check("lab-db1: its bundle was placed", re.search(r"credentials placed in /run/credentials/rackstack: .*db\.nextcloud", db.output) is not None)
    check("lab-db1: postgresql made the consumers' databases",
          re.search(r"service postgresql +done: .*10 consumer databases and roles", db.output) is not None,
          "".join(re.findall(r"service postgresql [^\r\n]*", db.output)))
    db.login(password=PW, timeout=900)
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_database WHERE datname = 'nextcloud'\"")
    check("lab-db1: exactly one nextcloud database", o.strip() == "1", o)
    rc, o = db.run("ls /run/credentials/rackstack/ 2>&1 | wc -l")
    check("lab-db1: no credential left in /run/credentials/rackstack after the run", o.strip() == "0", o)

    os.waitpid(int(app_pid), 0)   # the app image's build (started before lab-db1 booted)
    app_raw = open(app_raw_file).read().strip()
    os.unlink(app_raw_file)
    check("the app image was built", bool(app_raw), open(os.path.join(out, "test-logs", "vm-rehearsal-app-build.log")).read())
    if not app_raw:
        raise SystemExit(1)
    app = VM(image=app_raw, firmware="bios", boot_disk_size="60G", name="rehearsal-app1", memory=2048,
             log=os.path.join(logs, "vm-rehearsal-app1.serial.log"),
             disks=[Disk("sas-hdd", "2T"), Disk("nvme", "250G")],
             oemdrv=oemdrv("lab-app1"), oemdrv_fmt="image", nets=Nets(count=2, mode="socket", port=base + 2))
    with app:
        t1 = time.monotonic()
        app.boot(expect=FB, timeout=3600)
        t_app = time.monotonic() - t1
        check("lab-app1: firstboot finished (%.0f s)" % t_app, "rackstack-firstboot: finished" in app.output,
              "".join(re.findall(r"rackstack-firstboot: (?:FAILED|service)[^\r\n]*", app.output)))
        app.login(password=PW, timeout=900)
        nc, zm = secret("db.nextcloud"), secret("db.zammad")
        def psql(user, pw, port=5432):
            return app.run("PGPASSWORD='%s' PGCONNECT_TIMEOUT=10 psql -X -At -h 10.0.40.12 -p %d -U %s -d %s "
                           "-c 'SELECT current_user, inet_client_addr()' 2>&1" % (pw, port, user, user), timeout=120)[1]
        o = psql("nextcloud", nc)
        check("lab-app1 -> lab-db1:5432 over VLAN 40 as nextcloud with the site's password", "nextcloud|10.0.40.13" in o, o)
        o = psql("nextcloud", "wrong" + nc)
        check("lab-app1 -> lab-db1 with a wrong password: refused", 'password authentication failed for user "nextcloud"' in o, o)
        o = psql("zammad", zm)
        check("lab-app1 -> lab-db1 as zammad: no pg_hba.conf entry", 'no pg_hba.conf entry for host "10.0.40.13"' in o, o)
        # PgBouncer pools on lab-db1, but the role's firewall opens only the seed's ports (no 6432
        # from outside, as test-render's test_nft_db holds): from lab-app1 it is dropped.
        o = psql("nextcloud", nc, 6432)
        check("lab-app1 -> lab-db1:6432 (PgBouncer) is dropped by lab-db1's firewall", "timeout expired" in o, o)
        rc, o = db.run("PGPASSWORD='%s' psql -X -At -h 127.0.0.1 -p 6432 -U nextcloud -d nextcloud -c 'SELECT current_user' 2>&1" % nc)
        check("on lab-db1, PgBouncer (6432) pools nextcloud with the same password", o.strip() == "nextcloud", o)
        rc, o = db.run("PGPASSWORD='wrong%s' psql -X -At -h 127.0.0.1 -p 6432 -U nextcloud -d nextcloud -c 'SELECT 1' 2>&1" % nc)
        check("on lab-db1, PgBouncer refuses a wrong password", "SASL authentication failed" in o, o)
        rc, o = app.run("ls /run/credentials/rackstack/ 2>&1 | wc -l")
        check("lab-app1: no credential left after the run", o.strip() == "0", o)

    # A hard reset of lab-db1 (QMP system_reset: no shutdown, as a power cut; the harness's own
    # restart would give it a fresh disk) and a boot again: nothing doubles.
    mark = len(db.output)
    db.system_reset()
    db.wait_for(r"login: ?$", 1800)
    check("lab-db1 after the reset: firstboot does not run again", "rackstack-firstboot: starting" not in db.output[mark:])
    db.login(password=PW, timeout=900)
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_database WHERE datname = 'nextcloud'\"")
    check("lab-db1 after a kill and a boot: still one nextcloud database", o.strip() == "1", o)
    db.__exit__(None, None, None)
finally:
    sw.kill()
    subprocess.run(["rm", "-rf", tmp])
print("rehearsal: %.0f s on %d cores" % (time.monotonic() - t0, os.cpu_count()))
print("%d passed, %d failed" % (checks[0] - len(fails), len(fails)))
sys.exit(1 if fails else 0)
PY

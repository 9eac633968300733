#!/bin/bash
# The cluster rehearsal: lab-infra1, lab-db1 and lab-app1, each from its own role image (Ubuntu
# 24.04, --defer-vendor) and its own kickstart, with its own credentials bundle beside the
# kickstart on its OEMDRV stick, on one virtual switch (tests/vm/gateway.py --switch, random ports)
# that carries the site's VLANs and answers ARP for the gateways. Staggered for two cores under
# TCG: lab-infra1 first; lab-db1 when lab-infra1's firstboot has finished; lab-app1 when lab-db1's
# has. A status-event receiver sits on the switch too: an access port on VLAN 20 (gateway.py --tap)
# in a network namespace, at 10.0.50.250.
#
# The kickstarts are the repository's, with three test edits: a root password for the console
# (rootpw --iscrypted, on an ext4 OEMDRV so the file keeps 0600); `status-url` + `token-file`
# pointing at the receiver; of the join lines only `join graylog`, with lab-infra1's VLAN-20
# address for its name (no lab-id1 here: no FreeIPA, no site DNS, no Zabbix server), and none on
# lab-infra1 itself (it is the receiver).
#
# Shown with the real programs:
#   - lab-db1's firstboot made the consumers' roles and databases (exactly one nextcloud);
#   - on lab-app1, psql reaches lab-db1 (10.0.40.12, VLAN 40) as nextcloud with the password from
#     lab-app1's own bundle, is refused with a wrong one, and refused for zammad (not lab-app1's);
#     Redis AUTH as the ACL user nextcloud with the bundle's password answers PONG, a wrong one is
#     WRONGPASS, an admin command NOPERM; PgBouncer pools on lab-db1 (6432 is firewalled from
#     other hosts: only the seed's ports are open);
#   - join/logs on lab-db1 and lab-app1 (rsyslog, disk-assisted queue) delivers their lines to
#     lab-infra1:12201/tcp. Graylog is an OCI vendor service (deferred here), so lab-infra1's own
#     rsyslog (imtcp) stands in for its syslog input;
#   - https://cloud.domain.com/ on lab-infra1 answers, from the receiver's namespace, with the
#     certificate firstboot placed for Traefik (/etc/traefik/tls, issued by the site CA for every
#     route name). Traefik is in no Debian/Ubuntu archive: `openssl s_server` serves that pair;
#   - every host's status events arrive at the receiver with an X-Rackstack-Signature that
#     verifies with that host's token (and no other host's);
#   - the credentials are gone from /run/credentials/rackstack on every host after the run.
# lab-db1 is reset hard as its join starts: firstboot runs again from its journal and finishes,
# still one nextcloud database and role. (A run cut short half-way through the SQL is
# tests/integration/test-db-wiring.sh's.)
. "$(dirname "$0")/lib.sh"
vm_requirements
command -v curl >/dev/null || skip "curl missing (make deps)"
ensure_image infra
INFRA_RAW=$RAW
ensure_image db
DB_RAW=$RAW
# The app image is built while the first VMs boot (lab-app1 waits on it only when its turn comes).
mkdir -p "$O/test-logs"
APP_LOG=$O/test-logs/vm-rehearsal-app-build.log APP_RAW_FILE=$(mktemp)
( ensure_image app >"$APP_LOG" 2>&1 && echo "$RAW" >"$APP_RAW_FILE" ) &
exec python3 - "$INFRA_RAW" "$DB_RAW" "$!" "$APP_RAW_FILE" "$TOP" "$O" <<'PY'
import json, os, re, socket, subprocess, sys, tempfile, time
infra_raw, db_raw, app_pid, app_raw_file, top, out = sys.argv[1:7]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, install_signal_handlers

install_signal_handlers()
fails, checks = [], [0]
T0 = time.monotonic()
def check(what, ok, detail=""):
    checks[0] += 1
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else "  " + str(detail)[-1500:]), flush=True)
    if not ok:
        fails.append(what)

def note(what):
    print("[%5.0f s, load %s] %s" % (time.monotonic() - T0, open("/proc/loadavg").read().split()[0], what), flush=True)

def free_base(n):
    """A random base port with n free ports after it."""
    while True:
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
                t.bind(("127.0.0.1", base + i))
                held.append(t)
            return base
        except OSError:
            pass
        finally:
            for t in held:
                t.close()

def read_bundle(path):
    """NAME -> bytes of a rackstack.creds bundle (common/creds.c's format)."""
    data, creds = open(path, "rb").read(), {}
    pos = data.index(b"\n") + 1
    while pos < len(data):
        eol = data.index(b"\n", pos)
        name, n = data[pos:eol].decode().split()
        creds[name] = data[eol + 1:eol + 1 + int(n)]
        pos = eol + 1 + int(n) + 1
    return creds

tmp = tempfile.mkdtemp(prefix="rackstack-rehearsal-", dir="/var/tmp")
B = os.path.join(out, "rackstack-build")
site = os.path.join(tmp, "site")
subprocess.run([B, "secrets", "init", site], check=True, capture_output=True)
HOSTS = ("lab-infra1", "lab-db1", "lab-app1")
creds = {}
for h in HOSTS:
    subprocess.run([B, "secrets", "bundle", site, h, "--out", os.path.join(tmp, h)], check=True, capture_output=True)
    creds[h] = os.path.join(tmp, h, "rackstack.creds")
PW = "rehearsal"
pwhash = subprocess.run(["openssl", "passwd", "-6", PW], capture_output=True, text=True, check=True).stdout.strip()
INFRA = "10.0.50.19"        # lab-infra1 on VLAN 20 (the site's DNS, on lab-id1, is not in this rehearsal)
RECV = "10.0.50.250"        # the status-event receiver, on the switch's VLAN-20 access port
RPORT = free_base(1)

def oemdrv(host):
    keep = []
    for l in open(os.path.join(top, "kickstart", host + ".ks")).read().splitlines():
        if l.startswith("join graylog ") and host != "lab-infra1":
            l = l.replace("server=lab-infra1.domain.com", "server=" + INFRA)
        elif l.startswith("join "):
            continue
        if l == "%end" and "%addon com_rackstack" in keep:
            keep += ["status-url http://%s:%d/events" % (RECV, RPORT), "token-file /run/credentials/rackstack/token"]
        keep.append(l)
    text = "\n".join(keep).replace("rootpw --lock", "rootpw --iscrypted " + pwhash)
    stage = os.path.join(tmp, host + "-oemdrv")
    os.makedirs(stage)
    open(os.path.join(stage, "ks.cfg"), "w").write(text + "\n")
    open(os.path.join(stage, "rackstack.creds"), "wb").write(open(creds[host], "rb").read())
    for name in ("ks.cfg", "rackstack.creds"):
        os.chmod(os.path.join(stage, name), 0o600)
    # ext4 keeps the modes: a kickstart with a password hash must be 0600 where it comes from
    img = os.path.join(tmp, host + "-oemdrv.img")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "OEMDRV", "-d", stage, img], check=True)
    return img

# The switch: 2 trunk ports per VM, and the receiver's access port on VLAN 20.
base = free_base(6)
sfx = "%05d" % (os.getpid() % 100000)
tap, ns = "rsrh" + sfx, "rackstack-rehearsal-" + sfx
swlog = os.path.join(tmp, "switch.log")
sw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--switch"]
                      + sum([["--port", str(base + i)] for i in range(6)], [])
                      + ["--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1", "--tap", "20=" + tap,
                         "--log", swlog, "--lifetime", "14400"])
events = os.path.join(tmp, "events.jsonl")
RECEIVER = r'''
import glob, hashlib, hmac, http.server, json, sys
site, addr, port, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
keys = {p.split("/")[-2]: open(p, "rb").read() for p in glob.glob(site + "/secrets/hosts/*/token")}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        sig = self.headers.get("X-Rackstack-Signature", "")
        by = sorted(h for h, k in keys.items() for kk in {k, k.strip()}
                    if hmac.compare_digest(sig, "sha256=" + hmac.new(kk, body, hashlib.sha256).hexdigest()))
        try:
            ev = json.loads(body)
        except ValueError:
            ev = None
        with open(out, "a") as f:
            f.write(json.dumps({"signed_by": by, "signature": bool(sig), "event": ev}) + "\n")
        self.send_response(204 if by else 403)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((addr, port), H).serve_forever()
'''
logs = os.path.join(out, "test-logs")
os.makedirs(logs, exist_ok=True)
FB = r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]"
recv = None
vms = []

def vm(host, raw, disks, port):
    v = VM(image=raw, firmware="bios", boot_disk_size="60G", name="rehearsal-" + host, memory=2048,
           log=os.path.join(logs, "vm-rehearsal-%s.serial.log" % host), disks=disks,
           oemdrv=oemdrv(host), oemdrv_fmt="image", nets=Nets(count=2, mode="socket", port=port))
    v.__enter__()
    vms.append(v)
    return v

def first_boot(v, host):
    if v.proc is None:
        note("%s: booting" % host)
        v.boot(expect=FB, timeout=3600)
    else:   # started earlier, beside the previous host's checks
        v.wait_for(FB, timeout=max(60, 3600 - v.elapsed()))
    t = v.elapsed()
    note("%s: firstboot ended %.0f s after QEMU started" % (host, t))
    check("%s: firstboot finished (%.0f s)" % (host, t), "rackstack-firstboot: finished" in v.output,
          "".join(re.findall(r"rackstack-firstboot: (?:FAILED|service|step)[^\r\n]*", v.output)))
    check("%s: its bundle was placed" % host,
          re.search(r"credentials placed in /run/credentials/rackstack", v.output) is not None)

KEYS = {"-": "minus", "@": "shift-2", ".": "dot", "/": "slash", " ": "spc", "\n": "ret"}

def console_login(v):
    """Log in on the serial console. Under heavy load udev may announce ttyS0 after systemd gave up
    waiting for it, and serial-getty@ttyS0 never starts ("Dependency failed"): then log in on tty1
    with the keyboard (QMP sendkey; the VM has no display) and start it."""
    if re.search(r"Dependency failed for \S*serial-getty", v.output):
        v.wait_for(r"Started \S*getty@tty1", timeout=900)
        time.sleep(20)
        for line in ("root", PW, "systemctl start serial-getty@ttyS0.service"):
            for ch in line + "\n":
                v.hmp("sendkey " + KEYS.get(ch, "shift-" + ch.lower() if ch.isupper() else ch))
                time.sleep(0.08)
            time.sleep(8)
    v.login(password=PW, timeout=900)

def no_creds_left(v, host):
    rc, o = v.run("ls /run/credentials/rackstack/ 2>&1 | wc -l")
    check("%s: no credential left in /run/credentials/rackstack after the run" % host, o.strip() == "0", o)

def ns_run(cmd, timeout=60):
    return subprocess.run(["ip", "netns", "exec", ns] + cmd, capture_output=True, text=True, timeout=timeout)

try:
    for _ in range(100):
        if subprocess.run(["ip", "link", "show", tap], capture_output=True).returncode == 0:
            break
        time.sleep(0.2)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "link", "set", tap, "netns", ns], check=True)
    subprocess.run(["ip", "-n", ns, "addr", "add", RECV + "/24", "dev", tap], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", tap, "up"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    recv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", RECEIVER, site, RECV, str(RPORT), events])

    # ---- lab-infra1 ----
    infra = vm("lab-infra1", infra_raw, [Disk("sas-hdd", "500G"), Disk("sas-hdd", "2T")], base)
    first_boot(infra, "lab-infra1")
    # lab-db1 boots now; lab-infra1's stand-ins are set up meanwhile (lab-db1's join waits up to
    # 300 s for its log server in any case: the product's bounded retry).
    db = vm("lab-db1", db_raw, [Disk("nvme", "500G", path=os.path.join(tmp, "db-nvme.img"), keep=True),
                                Disk("sas-hdd", "1T", path=os.path.join(tmp, "db-sas.img"), keep=True)], base + 2)
    note("lab-db1: booting")
    db.start()
    console_login(infra)
    # Graylog's syslog TCP input, stood in for by lab-infra1's own rsyslog: a ruleset of its own,
    # so what arrives is written to a file and goes nowhere else.
    rc, o = infra.run("printf '%s' > /etc/rsyslog.d/05-rehearsal-graylog-standin.conf && systemctl restart rsyslog && sleep 3 && ss -ltnH 'sport = :12201'" %
                      r'module(load="imtcp")\ninput(type="imtcp" port="12201" ruleset="rehearsal")\nruleset(name="rehearsal") {\n  action(type="omfile" file="/var/log/rehearsal-remote.log")\n}\n', timeout=300)
    check("lab-infra1: the Graylog stand-in (rsyslog imtcp) listens on 12201/tcp", "12201" in o, o)
    rc, o = infra.run("ls -l /etc/traefik/tls/ && (setsid openssl s_server -quiet -accept 443 -cert /etc/traefik/tls/tls.crt "
                      "-key /etc/traefik/tls/tls.key -www </dev/null >/var/log/rehearsal-s_server.log 2>&1 &); "
                      "for i in $(seq 120); do ss -ltnH 'sport = :443' | grep -q . && break; sleep 1; done; "
                      "ss -ltnH 'sport = :443'; cat /var/log/rehearsal-s_server.log", timeout=300)
    check("lab-infra1: Traefik's TLS pair from the bundle is in /etc/traefik/tls, served on 443 (openssl s_server stands in for Traefik)",
          "tls.key" in o and ":443" in o, o)
    r = ns_run(["curl", "-sS", "--max-time", "60", "--cacert", os.path.join(site, "secrets", "ca.crt"),
                "--resolve", "cloud.domain.com:443:" + INFRA, "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                "https://cloud.domain.com/"], timeout=120)
    check("https://cloud.domain.com/ on lab-infra1 answers with a certificate the site CA verifies for that name",
          r.returncode == 0 and r.stdout.startswith("200 0"), r.stdout + r.stderr)
    r = ns_run(["openssl", "s_client", "-connect", INFRA + ":443", "-servername", "cloud.domain.com",
                "-CAfile", os.path.join(site, "secrets", "ca.crt"), "-verify_hostname", "cloud.domain.com",
                "-verify_return_error"], timeout=120)
    check("the certificate's issuer is the site CA", "Verify return code: 0 (ok)" in r.stdout, r.stdout[-800:] + r.stderr)
    no_creds_left(infra, "lab-infra1")

    # ---- lab-db1 ----
    # Killed mid-join: as its join starts (its databases made, the services step journalled), a
    # hard reset (QMP system_reset: no shutdown, as a power cut; the harness's own restart would
    # give it a fresh disk). Firstboot runs again, takes the earlier run's work from its journal,
    # completes the join, and nothing doubles.
    db.wait_for(r"rackstack-firstboot: start: join/logs", timeout=max(60, 3600 - db.elapsed()))
    note("lab-db1: killed mid-join (system_reset)")
    mark = len(db.output)
    db.system_reset()
    first_boot(db, "lab-db1")
    again = db.output[mark:]
    check("lab-db1: after the kill firstboot ran again and took the earlier run's work from its journal",
          "rackstack-firstboot: starting" in again and re.search(r"done (?:in|by) an earlier run", again) is not None,
          "".join(re.findall(r"rackstack-firstboot: (?:starting|finish)[^\r\n]*", again)))
    check("lab-db1: postgresql made the consumers' databases",
          re.search(r"service postgresql +done: .*10 consumer databases and roles", db.output) is not None,
          "".join(re.findall(r"service postgresql [^\r\n]*", db.output)))
    check("lab-db1: join/logs forwards to lab-infra1", re.search(r"finish: join/logs: SUCCESS: rsyslog forwards to 10\.0\.50\.19:12201", db.output) is not None,
          "".join(re.findall(r"join/logs[^\r\n]*", db.output)))
    # lab-app1 boots now; lab-db1 is checked meanwhile.
    os.waitpid(int(app_pid), 0)   # the app image's build (started before lab-infra1 booted)
    app_raw = open(app_raw_file).read().strip()
    os.unlink(app_raw_file)
    check("the app image was built", bool(app_raw), open(os.path.join(logs, "vm-rehearsal-app-build.log")).read())
    if not app_raw:
        raise SystemExit(1)
    app = vm("lab-app1", app_raw, [Disk("sas-hdd", "2T"), Disk("sata-ssd", "250G")], base + 4)
    note("lab-app1: booting")
    app.start()
    console_login(db)
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_database WHERE datname = 'nextcloud'\"")
    check("lab-db1: exactly one nextcloud database (after the kill mid-join and the second run)", o.strip() == "1", o)
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_roles WHERE rolname = 'nextcloud'\"")
    check("lab-db1: exactly one nextcloud role", o.strip() == "1", o)
    no_creds_left(db, "lab-db1")
    db.run("logger -t rehearsal 'rehearsal-mark from lab-db1'")

    # ---- lab-app1 ----
    first_boot(app, "lab-app1")
    check("lab-app1: join/logs forwards to lab-infra1", re.search(r"finish: join/logs: SUCCESS: rsyslog forwards to 10\.0\.50\.19:12201", app.output) is not None,
          "".join(re.findall(r"join/logs[^\r\n]*", app.output)))
    console_login(app)
    mine = read_bundle(creds["lab-app1"])
    nc, rnc = mine["db.nextcloud"].decode().strip(), mine["redis.nextcloud"].decode().strip()
    zm = open(os.path.join(site, "secrets", "db.zammad")).read().strip()
    def psql(user, pw, port=5432):
        return app.run("PGPASSWORD='%s' PGCONNECT_TIMEOUT=10 psql -X -At -h 10.0.40.12 -p %d -U %s -d %s "
                       "-c 'SELECT current_user, inet_client_addr()' 2>&1" % (pw, port, user, user), timeout=180)[1]
    o = psql("nextcloud", nc)
    check("lab-app1 -> lab-db1:5432 over VLAN 40 as nextcloud with the password from lab-app1's bundle", "nextcloud|10.0.40.13" in o, o)
    o = psql("nextcloud", "wrong" + nc)
    check("lab-app1 -> lab-db1 with a wrong password: refused", 'password authentication failed for user "nextcloud"' in o, o)
    o = psql("zammad", zm)
    check("lab-app1 -> lab-db1 as zammad: no pg_hba.conf entry", 'no pg_hba.conf entry for host "10.0.40.13"' in o, o)
    o = psql("nextcloud", nc, 6432)
    check("lab-app1 -> lab-db1:6432 (PgBouncer) is dropped by lab-db1's firewall", "timeout expired" in o, o)
    def redis(cmds):
        # bash's /dev/tcp: the app image has no redis-cli, and the protocol is lines
        return app.run("exec 3<>/dev/tcp/10.0.40.12/6379 && printf '%s' >&3 && timeout 10 cat <&3; exec 3<&-" %
                       "".join(c + r"\r\n" for c in cmds + ["QUIT"]), timeout=120)[1]
    o = redis(["AUTH nextcloud " + rnc, "PING", "CONFIG GET maxmemory"])
    check("lab-app1 -> lab-db1:6379 Redis AUTH as ACL user nextcloud with the bundle's password: PONG", "+OK" in o and "+PONG" in o, o)
    check("Redis: the consumer's ACL user may not run admin commands (NOPERM)", "-NOPERM" in o, o)
    o = redis(["AUTH nextcloud wrong" + rnc, "PING"])
    check("Redis AUTH with a wrong password: WRONGPASS", "-WRONGPASS" in o, o)
    rc, o = db.run("PGPASSWORD='%s' psql -X -At -h 127.0.0.1 -p 6432 -U nextcloud -d nextcloud -c 'SELECT current_user' 2>&1" % nc)
    check("on lab-db1, PgBouncer (6432) pools nextcloud with the same password", o.strip() == "nextcloud", o)
    no_creds_left(app, "lab-app1")
    app.run("logger -t rehearsal 'rehearsal-mark from lab-app1'")

    # ---- logs and events ----
    for host in ("lab-db1", "lab-app1"):
        o = ""
        for _ in range(30):
            rc, o = infra.run("grep -c 'rehearsal-mark from %s' /var/log/rehearsal-remote.log; grep -c 'rackstack-firstboot' /var/log/rehearsal-remote.log" % host)
            if o.split()[:1] not in (["0"], []):
                break
            time.sleep(10)
        check("syslog from %s arrived at lab-infra1 (the marker line, by join/logs' rsyslog)" % host, o.split()[:1] not in (["0"], []), o)
    rc, o = infra.run("grep -E 'lab-(db|app)1' /var/log/rehearsal-remote.log | grep -c rackstack-firstboot")
    check("lab-infra1 also has firstboot's own lines from db and app", o.strip() not in ("", "0"), o)
    evs = [json.loads(l) for l in open(events)] if os.path.exists(events) else []
    note("%d status events received" % len(evs))
    for host in HOSTS:
        mine = [e for e in evs if e["event"] and str(e["event"].get("host", "")).split(".")[0] == host]
        good = [e for e in mine if e["signed_by"] == [host]]
        check("%s: status events arrived at the receiver signed with its own token (%d of %d)" % (host, len(good), len(mine)),
              mine and len(good) == len(mine), [e["signed_by"] for e in mine][:5])
    check("no event arrived unsigned or signed with a key the site does not have",
          all(e["signed_by"] for e in evs), [e for e in evs if not e["signed_by"]][:3])

finally:
    for v in vms:
        try:
            v.__exit__(None, None, None)
        except Exception as e:
            print("stopping %s: %s" % (v.name, e))
    if recv:
        recv.kill()
    sw.kill()
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["cp", swlog, os.path.join(logs, "vm-rehearsal-switch.log")], capture_output=True)
    if os.path.exists(events):
        subprocess.run(["cp", events, os.path.join(logs, "vm-rehearsal-events.jsonl")], capture_output=True)
    subprocess.run(["rm", "-rf", tmp])
print("rehearsal: %.0f s on %d cores" % (time.monotonic() - T0, os.cpu_count()))
print("%d passed, %d failed" % (checks[0] - len(fails), len(fails)))
sys.exit(1 if fails else 0)
PY

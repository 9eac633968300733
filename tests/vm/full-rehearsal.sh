#!/bin/bash
# The cluster rehearsal: lab-infra1, lab-db1, lab-app1 and lab-comm1, each from its own role image (Ubuntu
# 24.04, --defer-vendor; comm Debian 12) and its own kickstart, with its own credentials bundle beside the
# kickstart on its OEMDRV stick, on one virtual switch (tests/vm/gateway.py --switch, random ports)
# that carries the site's VLANs and answers ARP for the gateways. Staggered for two cores under
# TCG: lab-infra1 first; lab-db1 when lab-infra1's firstboot has finished; lab-app1 when lab-db1's join
# starts. A status-event receiver sits on the switch too: an access port on VLAN 20 (gateway.py --tap)
# in a network namespace, at 10.0.50.250.
#
# Which hosts run: RACKSTACK_REHEARSAL_ROLES, a list of roles that must hold db and app, and may
# add infra and comm. The default is all four, "infra db app comm" (97/97 with every host's power
# cut, 1808 s on 2 cores; lab-comm1's import of Zabbix's schema into lab-db1, batched by
# `rackstack-firstboot zabbix sql-batch`, took 266 s under TCG). "db app" is the reduced form.
# With lab-infra1, lab-db1's backup job (rackstack-pg-backup) runs twice once lab-db1 has finished: its
# dumps land as a restic snapshot on lab-infra1's backup disk over SFTP, the second run without a second init.
# Without lab-infra1 the log server every host joins is a line receiver (Python) on the receiver's
# access port, 10.0.50.250:12201/tcp, and nothing stands in for Traefik.
#
# lab-comm1 (with comm): a Debian 12 image (Ubuntu 24.04 packages no Zabbix server), its own
# kickstart and bundle; it boots when lab-db1's firstboot has finished (after lab-db1's power cut).
# Its firstboot waits for lab-db1, logs in there as zabbix_server over VLAN 40 with its own bundle's
# password, imports Zabbix's schema, and sets up autoregistration (PSK, metadata "rackstack role=").
# The agents: lab-comm1's own (Debian's zabbix-agent2 in its image); on the Ubuntu hosts the agent is
# a vendor service (Zabbix's repository, unreachable: the images are built without it and firstboot
# skips join/monitoring), so Debian 12's zabbix-agent2 from the OEMDRV stick stands in for it,
# installed after the first run, and firstboot is run again: join/monitoring then joins (the
# "re-running firstboot after the dependency appears completes the join" path), and the bundle it
# placed again is gone afterwards. Asserted from Zabbix's database on lab-db1 (psql as postgres):
# every host of the run is a host on the server (PSK both ways, group rackstack, template "Linux
# by Zabbix agent"); a stranger's agent on the switch's VLAN-20 port (this machine's zabbix_agent2,
# the site's PSK, another site's metadata) reached the server (autoreg_host) and is not a host;
# no other host; one autoregistration action, one dbversion row, no host name twice.
#
# The kickstarts are the repository's, with three test edits: a root password for the console
# (rootpw --iscrypted, on an ext4 OEMDRV so the file keeps 0600); `status-url` + `token-file`
# pointing at the receiver; of the join lines only `join graylog`, with the log server's VLAN-20
# address for its name (no lab-id1 here: no FreeIPA, no site DNS, no Zabbix server), and none on
# lab-infra1 itself (it is the log server).
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
#   - https://cloud.domain.com/ through lab-infra1, from the receiver's namespace: the certificate
#     firstboot placed for Traefik (/etc/traefik/tls, issued by the site CA for every route name),
#     and the page comes from lab-app1's nginx (a file made there for this run, and lab-app1's
#     access log names lab-infra1 as the client). Traefik is in no Debian/Ubuntu archive and no
#     registry is reachable, so Ubuntu 24.04's own nginx package (fetched from the archive, checked
#     against its Packages sha256, installed with dpkg in lab-infra1) is the reverse proxy,
#     configured from the routes file firstboot wrote for Traefik (/etc/traefik/dynamic/routes.yml:
#     one server block per router, the backend from its service); a name not in the table is 404;
#   - every host's status events arrive at the receiver with an X-Rackstack-Signature that
#     verifies with that host's token (and no other host's);
#   - the serial login comes by itself (the images wait 15 min for ttyS0);
#   - the credentials are gone from /run/credentials/rackstack on every host after the run.
# lab-db1's power is cut as its join starts (QEMU killed as join/logs begins, started again on the
# same disks): firstboot runs again from its journal and finishes, still one nextcloud database and
# role, one forwarding rule. If it comes back in emergency mode (a device job gave up before udev
# announced the disk), that is a failed check, and Control-D on the console lets the rest run.
# RACKSTACK_REHEARSAL_KILL=0 leaves the cut out (a shorter run); otherwise a list of roles:
# "db app" cuts lab-app1's power at its join/logs too; "infra" cuts lab-infra1's as its services step
# has finished its first service; "comm" cuts lab-comm1's while it imports Zabbix's schema into
# lab-db1. After each cut: firstboot ran again from its journal and nothing doubled (fstab, the nft
# table, the default route, Traefik's routers, rsyslog's forwarding rule; on comm the action, the
# hosts, the schema). lab-app1 boots when lab-db1's join starts.
#
# The refusals: a wrong password (PostgreSQL, Redis), another consumer's database, PgBouncer's port
# from another host, a client trusting another site's CA, and hosts that are not allowed: the
# switch's own VLAN-40 port (10.0.40.250, no consumer's address) with nextcloud's right password,
# MariaDB's 3306 from lab-app1 (none of its consumers) and from that port, and snipe_it's account
# from an address that is not its consumer's.
# (A run cut short half-way through the SQL is tests/integration/test-db-wiring.sh's.)
. "$(dirname "$0")/lib.sh"
vm_requirements
VMFORMATS=raw   # only the raw disks boot here (lib.sh)
command -v curl >/dev/null || skip "curl missing (make deps)"
ROLES=${RACKSTACK_REHEARSAL_ROLES:-infra db app comm}
case " $ROLES " in *" db "*) ;; *) echo "RACKSTACK_REHEARSAL_ROLES must include db (every other host depends on it)"; exit 2 ;; esac
case " $ROLES " in *" app "*) ;; *) echo "RACKSTACK_REHEARSAL_ROLES must include app"; exit 2 ;; esac
INFRA_RAW=
case " $ROLES " in *" infra "*) ensure_image infra; INFRA_RAW=$RAW ;; esac
ensure_image db
DB_RAW=$RAW
# The app image (and comm's, Debian 12: Ubuntu 24.04 packages no Zabbix server) is built while the
# first VMs boot (each VM waits on its image only when its turn comes).
mkdir -p "$O/test-logs"
APP_LOG=$O/test-logs/vm-rehearsal-app-build.log APP_RAW_FILE=$(mktemp)
COMM_LOG=$O/test-logs/vm-rehearsal-comm-build.log COMM_RAW_FILE=
case " $ROLES " in *" comm "*) COMM_RAW_FILE=$(mktemp) ;; esac
(
        # (the file says "-" when the build failed: lab-app1 does not wait for comm's build)
        ensure_image app >"$APP_LOG" 2>&1 && echo "$RAW" >"$APP_RAW_FILE" || echo - >"$APP_RAW_FILE"
        if [ -n "$COMM_RAW_FILE" ]; then
                RACKSTACK_VM_BASE=debian-12 VMOUT=$TOP/build/vm-images/debian-12
                ensure_image comm >"$COMM_LOG" 2>&1 && echo "$RAW" >"$COMM_RAW_FILE"
        fi
) &
exec python3 - "$INFRA_RAW" "$DB_RAW" "$!" "$APP_RAW_FILE" "$TOP" "$O" "$COMM_RAW_FILE" <<'PY'
import hashlib, json, lzma, os, random, re, socket, subprocess, sys, tempfile, threading, time, urllib.request
infra_raw, db_raw, app_pid, app_raw_file, top, out, comm_raw_file = sys.argv[1:8]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, VMPanic, VMTimeout, install_signal_handlers

install_signal_handlers()
fails, checks = [], [0]
T0 = time.monotonic()
WITH_INFRA = bool(infra_raw)
WITH_COMM = bool(comm_raw_file)
def check(what, ok, detail=""):
    checks[0] += 1
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else "  " + str(detail)[-1500:]), flush=True)
    if not ok:
        fails.append(what)
    return ok

def note(what):
    print("[%5.0f s, load %s] %s" % (time.monotonic() - T0, open("/proc/loadavg").read().split()[0], what), flush=True)

def free_base(n):
    """A random base port with n free ports after it, below the kernel's ephemeral range. The VMs'
    NIC ports are bound by QEMU only when each VM starts (lab-app1's ~25 min after the switch was
    told them); in the ephemeral range any outgoing connection on the machine may take one meanwhile
    (a full run's lab-app1 failed so: "can't bind ip=127.0.0.1 to socket: Address already in use").
    Below it only an explicit bind can."""
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    rng = random.SystemRandom()
    while True:
        base = rng.randrange(10000, max(lo - n, 10001))
        held = []
        try:
            for i in range(n):
                held.append(socket.socket())
                held[-1].bind(("127.0.0.1", base + i))
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

def noble_debs(names):
    """Ubuntu 24.04's packages NAMES from the archive the images are built from, each checked
    against the archive's Packages sha256 (kept in build/ between runs, checked again each run)."""
    return archive_debs(os.environ.get("RACKSTACK_UBUNTU_MIRROR", "http://archive.ubuntu.com/ubuntu"),
                        ("noble-updates", "noble"), names, "noble")   # the images take the newest: noble-updates first

def archive_debs(mirror, pockets, names, tag):
    mirror = mirror.rstrip("/")
    keep = os.path.join(out, "rehearsal-debs-" + tag)
    os.makedirs(keep, exist_ok=True)
    found = {}
    for pocket in pockets:
        idx = lzma.decompress(urllib.request.urlopen("%s/dists/%s/main/binary-amd64/Packages.xz" % (mirror, pocket),
                                                     timeout=120).read()).decode()
        for st in idx.split("\n\n"):
            f = dict(l.split(": ", 1) for l in st.splitlines() if ": " in l and not l.startswith(" "))
            if f.get("Package") in names and f["Package"] not in found:
                found[f["Package"]] = f
    paths = []
    for n in names:
        f = found[n]
        path = os.path.join(keep, os.path.basename(f["Filename"]))
        data = open(path, "rb").read() if os.path.exists(path) else b""
        if hashlib.sha256(data).hexdigest() != f["SHA256"]:
            data = urllib.request.urlopen(mirror + "/" + f["Filename"], timeout=300).read()
            if hashlib.sha256(data).hexdigest() != f["SHA256"]:
                raise SystemExit("%s: sha256 differs from the archive's Packages" % f["Filename"])
            open(path, "wb").write(data)
        paths.append(path)
    return paths

# Traefik's file-provider routes (what firstboot writes from the site's routing table) as nginx
# server blocks: one per router, Host(`NAME`) -> the service's first server URL; https backends
# are checked against the site CA, as Traefik's serversTransport "site-ca" does. Anything else: 404.
ROUTES2NGINX = r'''
function flush() { }
/^  routers:/            { sec = "r"; next }
/^  services:/           { sec = "s"; next }
/^  [^ ]/                { sec = ""; next }
/^[^ ]/                  { sec = ""; next }
sec != "" && /^    [^ ]/ { name = $1; sub(/:$/, "", name); next }
sec == "r" && /^      rule:/ {
        if (match($0, /Host\(`[^`]+`\)/)) { host[name] = substr($0, RSTART + 6, RLENGTH - 8); order[++n] = name }
}
sec == "s" && /serversTransport: site-ca/ { verify[name] = 1 }
sec == "s" && /- url: "/ { if (!(name in url) && match($0, /"[^"]+"/)) url[name] = substr($0, RSTART + 1, RLENGTH - 2) }
END {
        tls = "    ssl_certificate /etc/traefik/tls/tls.crt;\n    ssl_certificate_key /etc/traefik/tls/tls.key;\n"
        printf "# From /etc/traefik/dynamic/routes.yml (firstboot's Traefik routes), by the rehearsal.\n"
        printf "server {\n    listen 443 ssl default_server;\n    server_name _;\n%s    return 404;\n}\n", tls
        for (i = 1; i <= n; i++) {
                r = order[i]
                if (!(r in url)) continue
                printf "server {\n    listen 443 ssl;\n    server_name %s;\n%s", host[r], tls
                printf "    location / {\n        proxy_pass %s;\n", url[r]
                printf "        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-For $remote_addr;\n"
                printf "        proxy_set_header X-Forwarded-Proto https;\n        proxy_connect_timeout 10s;\n"
                if (r in verify)
                        printf "        proxy_ssl_trusted_certificate /etc/traefik/tls/ca.crt;\n        proxy_ssl_verify on;\n        proxy_ssl_server_name on;\n"
                printf "    }\n}\n"
        }
}
'''

tmp = tempfile.mkdtemp(prefix="rackstack-rehearsal-", dir="/var/tmp")
B = os.path.join(out, "rackstack-build")
site = os.path.join(tmp, "site")
subprocess.run([B, "secrets", "init", site], check=True, capture_output=True)
HOSTS = (("lab-infra1",) if WITH_INFRA else ()) + ("lab-db1", "lab-app1") + (("lab-comm1",) if WITH_COMM else ())
creds = {}
for h in HOSTS:
    subprocess.run([B, "secrets", "bundle", site, h, "--out", os.path.join(tmp, h)], check=True, capture_output=True)
    creds[h] = os.path.join(tmp, h, "rackstack.creds")
PW = "rehearsal"
pwhash = subprocess.run(["openssl", "passwd", "-6", PW], capture_output=True, text=True, check=True).stdout.strip()
INFRA = "10.0.50.19"        # lab-infra1 on VLAN 20 (the site's DNS, on lab-id1, is not in this rehearsal)
RECV = "10.0.50.250"        # the status-event receiver, on the switch's VLAN-20 access port
ROGUE = "10.0.40.250"       # the receiver's namespace on a VLAN-40 access port: no consumer's address
LOGSRV = INFRA if WITH_INFRA else RECV
RPORT = free_base(1)
NONCE = "rehearsal-%d-%s" % (os.getpid(), os.urandom(6).hex())
DEBS = noble_debs(["nginx-common", "nginx"]) if WITH_INFRA else []
COMM = "10.0.50.14"         # lab-comm1 on VLAN 20: the Zabbix server every agent reports to
# Zabbix agent 2 on the Ubuntu 24.04 hosts: it is a vendor service there (Zabbix's own repository,
# unreachable here, so the images are built without it and firstboot skips join/monitoring). Debian
# 12's zabbix-agent2 package stands in for it (the same Go program; installed with dpkg from the
# OEMDRV stick after the first run, --force-depends for Debian's library package names), and then
# firstboot runs again: join/monitoring, skipped before, now does the join ("re-running firstboot
# after the dependency appears completes the join").
AGENT_DEBS = (archive_debs(os.environ.get("RACKSTACK_DEBIAN_MIRROR", "http://deb.debian.org/debian"), ("bookworm",),
                           ["zabbix-agent2"], "bookworm") + noble_debs(["libsqlite3-0"])) if WITH_COMM else []

def oemdrv(host):
    keep = []
    for l in open(os.path.join(top, "kickstart", host + ".ks")).read().splitlines():
        if l.startswith("join graylog ") and host != "lab-infra1":
            l = l.replace("server=lab-infra1.domain.com", "server=" + LOGSRV)
        elif l.startswith("join zabbix ") and WITH_COMM:   # no site DNS here: comm's VLAN-20 address
            l = l.replace("server=lab-comm1.domain.com", "server=" + COMM)
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
    if host == "lab-infra1":   # the reverse proxy's package and its configuration from the routes
        os.makedirs(os.path.join(stage, "rehearsal"))
        for d in DEBS:
            subprocess.run(["cp", d, os.path.join(stage, "rehearsal")], check=True)
        open(os.path.join(stage, "rehearsal", "routes2nginx.awk"), "w").write(ROUTES2NGINX)
    if host != "lab-comm1" and AGENT_DEBS:   # the Ubuntu hosts' Zabbix agent (above)
        os.makedirs(os.path.join(stage, "rehearsal", "zabbix"))
        for d in AGENT_DEBS:
            subprocess.run(["cp", d, os.path.join(stage, "rehearsal", "zabbix")], check=True)
    # ext4 keeps the modes: a kickstart with a password hash must be 0600 where it comes from
    img = os.path.join(tmp, host + "-oemdrv.img")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "OEMDRV", "-d", stage, img], check=True)
    return img

# The switch: 2 trunk ports per VM (infra, db, app, comm), and the receiver's access port on VLAN 20.
base = free_base(8)
sfx = "%05d" % (os.getpid() % 100000)
tap, tap40, ns = "rsrh" + sfx, "rsrv" + sfx, "rackstack-rehearsal-" + sfx
swlog = os.path.join(tmp, "switch.log")
sw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--switch"]
                      + sum([["--port", str(base + i)] for i in range(8)], [])
                      + ["--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1", "--tap", "20=" + tap, "--tap", "40=" + tap40,
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
# The reduced form's log server: what arrives on 12201/tcp (rsyslog's omfwd, LF-framed), one line
# each, behind the sender's address.
remote_log = os.path.join(tmp, "remote.log")
LOGRECEIVER = r'''
import socketserver, sys
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            with open(out, "ab") as f:
                f.write(self.client_address[0].encode() + b" " + line)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer((addr, port), H).serve_forever()
'''
logs = os.path.join(out, "test-logs")
os.makedirs(logs, exist_ok=True)
FB = r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]"
EMERGENCY = r"Give root password for maintenance"
# Which hosts are reset as their join/logs starts: "1" (the default) lab-db1; "0" none (a shorter
# run); or role names, e.g. "db app".
_kill = os.environ.get("RACKSTACK_REHEARSAL_KILL", "1").split()
KILLED = [] if _kill == ["0"] else ["lab-db1"] if _kill == ["1"] else ["lab-" + r + "1" for r in _kill]
KILL = "lab-db1" in KILLED
recv = logrecv = None
stray = []   # other processes of ours (the stranger's Zabbix agent)
vms = []
times = {}

def vm(host, raw, disks, port, memory=2048):
    v = VM(image=raw, firmware="bios", boot_disk_size="60G", name="rehearsal-" + host, memory=memory,
           log=os.path.join(logs, "vm-rehearsal-%s.serial.log" % host), disks=disks,
           oemdrv=oemdrv(host), oemdrv_fmt="image",
           # each VM its own MACs: the harness's default (52:54:00:00:00:11, :12) is the same for every
           # VM, so two bonds on one switch had one MAC and app -> db on VLAN 40 got "No route to host"
           nets=Nets(count=2, mode="socket", port=port,
                     macs=["52:54:00:%02x:00:%02x" % (HOSTS.index(host) + 1, 0x11 + i) for i in range(2)]))
    v.__enter__()
    vms.append(v)
    return v

def first_boot(v, host):
    if v.proc is None:
        note("%s: booting" % host)
        v.boot(expect=FB, timeout=3600)
    else:   # started earlier, beside the previous host's checks
        since = len(v.output)
        m = surviving_panic(v, host, FB + "|" + EMERGENCY)
        if re.match(EMERGENCY, m.group(0)):
            # A data disk's (or the ESP's) device job gave up (systemd's 90 s DefaultDeviceTimeoutSec)
            # before udev announced it: what an operator sees, and then presses Control-D.
            check("%s: booted again without emergency mode (its fstab devices came within systemd's device timeout)" % host,
                  False, re.findall(r"Timed out waiting for device[^\r\n]*|Dependency failed for[^\r\n]*", v.output[since:]))
            v.send("\x04")
            surviving_panic(v, host, FB)
    # boot to finished, across both QEMU runs when the power was cut
    t = v.elapsed() + times.get(host + " cut at", 0)
    times[host] = t
    note("%s: firstboot ended %.0f s after QEMU first started" % (host, t))
    check("%s: firstboot finished (%.0f s)" % (host, t), "rackstack-firstboot: finished" in v.output,
          "".join(re.findall(r"rackstack-firstboot: (?:FAILED|service|step)[^\r\n]*", v.output)))
    check("%s: its bundle was placed" % host,
          re.search(r"credentials placed in /run/credentials/rackstack", v.output) is not None)

earlier = {}   # host -> its console text before a power cut (a restarted VM's output starts afresh)
panics = []    # (host, the panic line): guest kernel panics survived

def surviving_panic(v, host, pattern):
    """wait_for PATTERN within the hour of firstboot. A guest kernel panic is survived once per host,
    as a power cut is (QEMU started again on the same disks, firstboot resumes from its journal), and
    said: under TCG the guests have double-faulted in the kernel's allocator with garbage EFLAGS (a
    loaded lab-db1 in session 7; lab-infra1 33 s into its boot in session 9), never at the same place
    twice. A second panic of the same host fails the run."""
    try:
        return v.wait_for(pattern, timeout=max(60, 3600 - v.elapsed()))
    except VMPanic:
        if any(h == host for h, _ in panics):
            raise
        panics.append((host, v.panic))
        note("%s: its guest kernel panicked (%s): started again on its disks, as after a power cut" % (host, v.panic))
        power_cut(v, host)
        return v.wait_for(pattern, timeout=max(60, 3600 - v.elapsed()))

def power_cut(v, host):
    """A power cut mid-join: QEMU is killed (the guest's page cache is lost, the disks keep what
    reached them) and started again on the same disks. Until session 7 this was QMP system_reset,
    and a loaded full run's lab-db1 double-faulted in the kernel 43 s into the boot after the
    reset (slab corruption in udev's first netlink message, EFLAGS garbage); the reduced run's
    reset had booted. A new QEMU process carries nothing of the first boot but its disks."""
    t = v.elapsed()
    times[host + " cut at"] = times.get(host + " cut at", 0) + t   # (a panic's restart and a cut: both)
    note("%s: power cut mid-join (QEMU killed), %.0f s after QEMU started" % (host, t))
    earlier[host] = earlier.get(host, "") + v.output
    v.kill()
    v._make_overlay = lambda: None   # vmharness makes a fresh boot-disk overlay per start: keep this one
    v.start()

def cut_when(v, host, marker):
    """Cut V's power (power_cut) when MARKER shows on its console, from a thread (the main thread is
    busy with another host meanwhile; it watches the buffer, not wait_for's position). Returns an
    event set once the cut is made (or will not be: firstboot ended first). The thread that restarts
    QEMU must outlive it: vmharness starts QEMU with PR_SET_PDEATHSIG, which fires when the starting
    *thread* exits, not the process (a first run's lab-app1 was SIGKILLed the moment its cutter
    thread returned). So the thread says "cut" with the event and stays while that QEMU runs."""
    cut = threading.Event()
    def run():
        while v.running() and v.panic is None and marker not in v.output and not re.search(FB, v.output):
            time.sleep(0.5)
        # (a panicked guest is left to surviving_panic in the main thread)
        if v.running() and v.panic is None and not re.search(FB, v.output):
            power_cut(v, host)
        cut.set()
        while v.running():
            time.sleep(1)
    threading.Thread(target=run, daemon=True).start()
    return cut

def no_duplicates(v, host):
    """After a power cut and the second run: nothing that firstboot writes once is there twice."""
    rc, o = v.run("echo fstab=$(awk '!/^#/ && NF {print $2}' /etc/fstab | sort | uniq -d | wc -l); "
                  "echo nft=$(nft list tables | grep -c rackstack); echo default=$(ip -4 route show default | wc -l); "
                  "echo routes=$(test -f /etc/traefik/dynamic/routes.yml && grep '^      rule: ' /etc/traefik/dynamic/routes.yml | sort | uniq -d | wc -l || echo 0); "
                  "echo omfwd=$(grep -rhE '^action[(]type=.omfwd' /etc/rsyslog.d/ | wc -l)", timeout=120)
    f = dict(l.split("=", 1) for l in o.split() if "=" in l)
    check("%s: after the power cut and the second run, nothing doubled (fstab mount points, nft table, default route, "
          "Traefik routers, rsyslog forwarding rules)" % host,
          f.get("fstab") == "0" and f.get("nft") == "1" and f.get("default") == "1" and f.get("routes") == "0"
          and f.get("omfwd") in ("0", "1"), o)

KEYS = {"-": "minus", "@": "shift-2", ".": "dot", "/": "slash", " ": "spc", "\n": "ret"}

def console_login(v, host, since=0):
    """Log in on the serial console. The images wait 15 min for ttyS0 (overlays/common's
    dev-ttyS0.device.d): the login must come by itself, and the check says so. Should udev still
    announce ttyS0 after systemd gave up ("Dependency failed"), log in on tty1 with the keyboard
    (QMP sendkey; the VM has no display) and start the serial getty, so the other checks run."""
    gave_up = r"Dependency failed for \S*serial-getty"
    if not re.search(gave_up, v.output[since:]):
        try:
            v.wait_for(r"login: ?$|" + gave_up, timeout=900)
        except VMTimeout:
            pass
    failed = re.search(gave_up, v.output[since:]) is not None
    check("%s: the serial login came by itself (serial-getty@ttyS0 did not give up on its device)" % host, not failed,
          re.findall(r"[^\r\n]*serial-getty[^\r\n]*", v.output[since:])[-3:] or v.tail())
    if failed:
        note("%s: serial getty gave up on ttyS0: starting it from tty1 with the keyboard" % host)
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

CA = os.path.join(site, "secrets", "ca.crt")
def https(name, path="/", ca=CA):
    """GET https://NAME.domain.com/PATH at lab-infra1 from the receiver's namespace: (rc, code, verify, body).
    ca=None: no certificate check (a name the certificate does not carry)."""
    r = ns_run(["curl", "-sS", "--max-time", "60"] + (["--cacert", ca] if ca else ["--insecure"])
               + ["--resolve", "%s.domain.com:443:%s" % (name, INFRA), "-w", "\n%{http_code} %{ssl_verify_result}",
                  "https://%s.domain.com%s" % (name, path)], timeout=120)
    body, _, tail = r.stdout.rpartition("\n")
    code, _, verify = tail.partition(" ")
    return r.returncode, code, verify, body + r.stderr

try:
    for _ in range(100):
        if all(subprocess.run(["ip", "link", "show", t], capture_output=True).returncode == 0 for t in (tap, tap40)):
            break
        time.sleep(0.2)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    for t, a in ((tap, RECV), (tap40, ROGUE)):
        subprocess.run(["ip", "link", "set", t, "netns", ns], check=True)
        subprocess.run(["ip", "-n", ns, "addr", "add", a + "/24", "dev", t], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", t, "up"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    recv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", RECEIVER, site, RECV, str(RPORT), events])
    if not WITH_INFRA:
        logrecv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LOGRECEIVER, RECV, "12201", remote_log])

    db_disks = [Disk("nvme", "500G", path=os.path.join(tmp, "db-nvme.img"), keep=True),
                Disk("sas-hdd", "1T", path=os.path.join(tmp, "db-sas.img"), keep=True)]
    # ---- lab-infra1 ----
    if WITH_INFRA:
        infra = vm("lab-infra1", infra_raw, [Disk("sas-hdd", "500G"), Disk("sas-hdd", "2T")], base)
        if "lab-infra1" in KILLED:
            # its power is cut as the services step has finished its first service (the routes, the
            # TLS pair and the firewall are written in that step)
            note("lab-infra1: booting")
            infra.start()
            cut_when(infra, "lab-infra1", "rackstack-firstboot: service ").wait(timeout=3600)
        first_boot(infra, "lab-infra1")
        if "lab-infra1" in KILLED:
            check("lab-infra1: after the power cut firstboot ran again and took the earlier run's work from its journal",
                  "lab-infra1" in earlier and "rackstack-firstboot: starting" in infra.output
                  and re.search(r"done (?:in|by) an earlier run", infra.output) is not None,
                  "".join(re.findall(r"rackstack-firstboot: (?:starting|finish)[^\r\n]*", infra.output)))
        # lab-db1 boots now; lab-infra1's stand-ins are set up meanwhile (lab-db1's join waits up to
        # 300 s for its log server in any case: the product's bounded retry).
        db = vm("lab-db1", db_raw, db_disks, base + 2)
        note("lab-db1: booting")
        db.start()
        console_login(infra, "lab-infra1")
        # Graylog's syslog TCP input, stood in for by lab-infra1's own rsyslog: a ruleset of its own,
        # so what arrives is written to a file and goes nowhere else.
        rc, o = infra.run("printf '%s' > /etc/rsyslog.d/05-rehearsal-graylog-standin.conf && systemctl restart rsyslog && sleep 3 && ss -ltnH 'sport = :12201'" %
                          r'module(load="imtcp")\ninput(type="imtcp" port="12201" ruleset="rehearsal")\nruleset(name="rehearsal") {\n  action(type="omfile" file="/var/log/rehearsal-remote.log" template="RSYSLOG_TraditionalFileFormat")\n}\n', timeout=300)
        check("lab-infra1: the Graylog stand-in (rsyslog imtcp) listens on 12201/tcp", "12201" in o, o)
        # The reverse proxy: Ubuntu's nginx from the stick, configured from firstboot's Traefik routes.
        rc, o = infra.run("mkdir -p /mnt/oemdrv && mount -o ro LABEL=OEMDRV /mnt/oemdrv && "
                          "DEBIAN_FRONTEND=noninteractive dpkg -i /mnt/oemdrv/rehearsal/*.deb >/var/log/rehearsal-dpkg.log 2>&1; "
                          "echo dpkg=$?; dpkg-query -W -f '${Package} ${Version} ${Status}\\n' nginx", timeout=600)
        check("lab-infra1: Ubuntu 24.04's nginx package installs with dpkg (the stand-in for Traefik)",
              "dpkg=0" in o and "install ok installed" in o, o)
        rc, o = infra.run("ls -l /etc/traefik/tls/ && awk -f /mnt/oemdrv/rehearsal/routes2nginx.awk /etc/traefik/dynamic/routes.yml "
                          ">/etc/nginx/conf.d/rackstack-routes.conf && rm -f /etc/nginx/sites-enabled/default && nginx -t 2>&1 && "
                          "systemctl restart nginx && echo routers=$(grep -c '^      rule: ' /etc/traefik/dynamic/routes.yml) "
                          "proxied=$(grep -c 'proxy_pass ' /etc/nginx/conf.d/rackstack-routes.conf); "
                          "grep -A4 'server_name cloud' /etc/nginx/conf.d/rackstack-routes.conf; umount /mnt/oemdrv", timeout=300)
        m = re.search(r"routers=(\d+) proxied=(\d+)", o)
        check("lab-infra1: nginx serves every router of firstboot's Traefik routes (/etc/traefik/dynamic/routes.yml) with the TLS pair from the bundle",
              "tls.key" in o and "test is successful" in o and m is not None and m.group(1) == m.group(2) and int(m.group(1)) > 0, o)
        check("lab-infra1: cloud.domain.com is routed to lab-app1's VLAN-20 address, port 80 (the site's table)",
              "proxy_pass http://10.0.50.13:80;" in o, o)
        rc, code, verify, body = https("cloud")
        check("https://cloud.domain.com/ at lab-infra1: a certificate the site CA verifies for that name, and the proxy "
              "answers that its backend (lab-app1, not booted yet) is down (502/504)",
              rc == 0 and verify == "0" and code in ("502", "504"), (rc, code, verify, body))
        rc, code, verify, body = https("nosuchroute", ca=None)
        check("a name that is not in the routing table: 404 from the proxy", rc == 0 and code == "404", (rc, code, verify, body))
        r = ns_run(["openssl", "s_client", "-connect", INFRA + ":443", "-servername", "cloud.domain.com",
                    "-CAfile", CA, "-verify_hostname", "cloud.domain.com", "-verify_return_error"], timeout=120)
        check("the certificate's issuer is the site CA", "Verify return code: 0 (ok)" in r.stdout, r.stdout[-800:] + r.stderr)
        other = os.path.join(tmp, "other-ca")
        subprocess.run([B, "secrets", "init", other], check=True, capture_output=True)
        rc, code, verify, body = https("cloud", ca=os.path.join(other, "secrets", "ca.crt"))
        check("... and a client trusting another site's CA refuses it", rc != 0, (rc, code, verify, body))
        no_creds_left(infra, "lab-infra1")
        if "lab-infra1" in KILLED:
            no_duplicates(infra, "lab-infra1")
    else:
        db = vm("lab-db1", db_raw, db_disks, base + 2)
        note("lab-db1: booting")
        db.start()

    # ---- lab-comm1 boots when lab-db1's databases are made (its firstboot waits for lab-db1 in
    # any case, within the join bound), or, when lab-db1's power is cut, once lab-db1 has finished
    # (not across the cut) ----
    comm = cut_comm = None
    def start_comm():
        global comm, cut_comm
        os.waitpid(int(app_pid), 0)   # the app and comm images' builds
        comm_raw = open(comm_raw_file).read().strip()
        os.unlink(comm_raw_file)
        check("the comm image (Debian 12) was built", bool(comm_raw), open(os.path.join(logs, "vm-rehearsal-comm-build.log")).read())
        if not comm_raw:
            raise SystemExit(1)
        comm = vm("lab-comm1", comm_raw, [Disk("sata-ssd", "500G"), Disk("sas-hdd", "500G")], base + 6, memory=3072)
        note("lab-comm1: booting")
        comm.start()
        # its power is cut while it imports Zabbix's schema into lab-db1 (one transaction: nothing of
        # it stays; the second run ends the dead session's hold first)
        if "lab-comm1" in KILLED:
            cut_comm = cut_when(comm, "lab-comm1", "importing Zabbix's schema")
    if WITH_COMM and not KILL:
        db.wait_for(r"service postgresql +done: ", timeout=max(60, 3600 - db.elapsed()))
        start_comm()
    # Killed mid-join: as its join/logs starts (its databases made, the services step journalled),
    # a power cut (power_cut: QEMU killed, no shutdown, started again on the same disks). Firstboot
    # runs again, takes the earlier run's work from its journal, completes the join, and nothing
    # doubles.
    db.wait_for(r"rackstack-firstboot: start: join/logs", timeout=max(60, 3600 - db.elapsed()))
    # lab-app1 boots now (lab-db1's databases are made; the rest of its run is light).
    while not open(app_raw_file).read().strip():   # the app image's build (started before the first VM booted)
        time.sleep(2)
    app_raw = open(app_raw_file).read().strip().strip("-")
    os.unlink(app_raw_file)
    check("the app image was built", bool(app_raw), open(os.path.join(logs, "vm-rehearsal-app-build.log")).read())
    if not app_raw:
        raise SystemExit(1)
    app = vm("lab-app1", app_raw, [Disk("sas-hdd", "2T"), Disk("sata-ssd", "250G")], base + 4)
    note("lab-app1: booting")
    app.start()
    # lab-app1's power is cut as its join/logs starts too (a thread: the main thread is busy with lab-db1)
    cut_app = cut_when(app, "lab-app1", "rackstack-firstboot: start: join/logs") if "lab-app1" in KILLED else None
    if KILL:
        power_cut(db, "lab-db1")
    first_boot(db, "lab-db1")
    if WITH_COMM and KILL:
        start_comm()
    again = db.output
    if KILL:
        check("lab-db1: after the power cut firstboot ran again and took the earlier run's work from its journal",
              "rackstack-firstboot: starting" in again and re.search(r"done (?:in|by) an earlier run", again) is not None,
              "".join(re.findall(r"rackstack-firstboot: (?:starting|finish)[^\r\n]*", again)))
    check("lab-db1: postgresql made the consumers' databases",
          re.search(r"service postgresql +done: .*8 consumer databases and roles", earlier.get("lab-db1", "") + db.output) is not None,
          "".join(re.findall(r"service postgresql [^\r\n]*", earlier.get("lab-db1", "") + db.output)))
    check("lab-db1: join/logs forwards to the log server", re.search(r"finish: join/logs: SUCCESS: rsyslog forwards to %s:12201" % re.escape(LOGSRV), again) is not None,
          "".join(re.findall(r"join/logs[^\r\n]*", db.output)))
    console_login(db, "lab-db1")
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_database WHERE datname = 'nextcloud'\"")
    check("lab-db1: exactly one nextcloud database" + (" (after the kill mid-join and the second run)" if KILL else ""), o.strip() == "1", o)
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_roles WHERE rolname = 'nextcloud'\"")
    check("lab-db1: exactly one nextcloud role", o.strip() == "1", o)
    rc, o = db.run("runuser -u postgres -- psql -X -At -c \"SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')\"")
    # The seed's 11 consumers: 8 on PostgreSQL (the Zabbix server's among them), SuiteCRM, Snipe-IT and GLPI on
    # MariaDB (MySQL only).
    check("lab-db1: eight PostgreSQL consumer databases in all, none doubled", o.strip() == "8", o)
    rc, o = db.run("mariadb -N -B -e \"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name NOT IN "
                   "('mysql', 'information_schema', 'performance_schema', 'sys')\"; "
                   "mariadb -N -B -e \"SELECT COUNT(*) FROM mysql.user WHERE user = 'snipe_it'\"")
    check("lab-db1: three MariaDB consumer databases, one snipe_it account (after the kill, too)",
          o.split() == ["3", "1"], o)
    rc, o = db.run("grep -rhE '^action[(]type=.omfwd' /etc/rsyslog.d/ | wc -l; grep -rh 'target=' /etc/rsyslog.d/")
    check("lab-db1: one forwarding rule in /etc/rsyslog.d" + (" after join/logs ran twice" if KILL else ""), o.splitlines()[:1] == ["1"], o)
    if KILL:
        no_duplicates(db, "lab-db1")
    no_creds_left(db, "lab-db1")
    db.run("logger -t rehearsal 'rehearsal-mark from lab-db1'")
    if WITH_INFRA:
        # Backups: lab-db1's dumps onto lab-infra1's backup disk, restic over SFTP on VLAN 20, run now
        # rather than waiting for the timer's 01:30.
        job = ("systemctl start rackstack-pg-backup.service; echo rc=$?; "
               "journalctl -o cat _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value rackstack-pg-backup.service) "
               "| grep -E '^pg-backup: '")
        rc, o = db.run("systemctl is-enabled rackstack-pg-backup.timer; " + job + "; ls /var/backups/postgresql/dumps | tr '\\n' ' '",
                       timeout=1800)
        check("lab-db1: its backup job (timer enabled), run now, dumps the consumer databases and stores a snapshot "
              "on lab-infra1, making the repository first",
              o.startswith("enabled") and "rc=0" in o and "restic init" in o and "pg-backup: snapshot of" in o
              and "nextcloud.dump" in o and "globals.sql" in o, o)
        rc, o = infra.run("stat -c '%U %a' /srv/backups/lab-db1 /srv/backups/lab-db1/repo; ls /srv/backups/lab-db1/repo | tr '\\n' ' '; "
                          "echo; findmnt -no TARGET --target /srv/backups/lab-db1/repo", timeout=120)
        check("lab-infra1: lab-db1's repository on the backup disk, in its chroot (root 755), its account's (700)",
              "root 755" in o and "rsbackup-lab-db1 700" in o and "snapshots" in o and o.strip().endswith("/srv/backups"), o)
        rc, o = db.run(job, timeout=1800)
        check("lab-db1: a second backup run succeeds, incremental, without a second restic init",
              "rc=0" in o and "pg-backup: snapshot of" in o and "restic init" not in o, o)

    # ---- lab-app1 ----
    if cut_app:
        cut_app.wait(timeout=max(60, 3600 - app.elapsed()))
    first_boot(app, "lab-app1")
    again = app.output
    if "lab-app1" in KILLED:
        check("lab-app1: after a power cut mid-join firstboot ran again and took the earlier run's work from its journal",
              "lab-app1" in earlier and "rackstack-firstboot: starting" in again and re.search(r"done (?:in|by) an earlier run", again) is not None,
              "".join(re.findall(r"rackstack-firstboot: (?:starting|finish)[^\r\n]*", again)))
    check("lab-app1: join/logs forwards to the log server", re.search(r"finish: join/logs: SUCCESS: rsyslog forwards to %s:12201" % re.escape(LOGSRV), again) is not None,
          "".join(re.findall(r"join/logs[^\r\n]*", app.output)))
    console_login(app, "lab-app1")
    if "lab-app1" in KILLED:
        rc, o = app.run("grep -rhE '^action[(]type=.omfwd' /etc/rsyslog.d/ | wc -l; grep -rh 'target=' /etc/rsyslog.d/")
        check("lab-app1: one forwarding rule in /etc/rsyslog.d after join/logs ran twice", o.splitlines()[:1] == ["1"], o)
        no_duplicates(app, "lab-app1")
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
    # A host that is not allowed, with the right password: the switch's VLAN-40 access port
    # (10.0.40.250, no consumer's address; this machine's own psql).
    r = ns_run(["env", "PGPASSWORD=" + nc, "PGCONNECT_TIMEOUT=10", "psql", "-X", "-At", "-h", "10.0.40.12", "-U", "nextcloud",
                "-d", "nextcloud", "-c", "SELECT current_user"], timeout=120)
    check("another host on VLAN 40 (%s) as nextcloud with the right password: no pg_hba.conf entry" % ROGUE,
          'no pg_hba.conf entry for host "%s"' % ROGUE in r.stderr, r.stdout + r.stderr)
    # MariaDB (3306) is opened to its three consumers' addresses only (lab-it1, lab-biz1): it listens
    # on VLAN 40, and from lab-app1 (not one of them) and from the VLAN-40 port the SYN is dropped.
    snipe = open(os.path.join(site, "secrets", "db.snipe-it")).read().strip()
    rc, o = db.run("ss -ltnH 'sport = :3306'; nft list chain inet rackstack input | grep -c 'dport 3306'; "
                   "mariadb -h 10.0.40.12 -u snipe_it -p'%s' -N -B -e 'SELECT 1' 2>&1" % snipe)
    check("lab-db1: MariaDB listens on VLAN 40 (10.0.40.12:3306), the firewall has rules for 3306, and snipe_it's "
          "account with its right password is refused from an address that is not its consumer's",
          "10.0.40.12:3306" in o and re.search(r"^[1-9]\d*$", o, re.M) is not None
          and ("Access denied for user 'snipe_it'@'10.0.40.12'" in o or "Host '10.0.40.12' is not allowed to connect" in o), o)
    rc, o = app.run("timeout 15 bash -c 'exec 3<>/dev/tcp/10.0.40.12/3306'; echo rc=$?", timeout=60)
    check("lab-app1 -> lab-db1:3306 (MariaDB; lab-app1 is none of its consumers): dropped by lab-db1's firewall",
          "rc=124" in o, o)
    r = ns_run(["timeout", "15", "bash", "-c", "exec 3<>/dev/tcp/10.0.40.12/3306; echo connected"], timeout=60)
    check("another host on VLAN 40 (%s) -> lab-db1:3306: dropped" % ROGUE, r.returncode == 124, (r.returncode, r.stdout, r.stderr))
    no_creds_left(app, "lab-app1")
    app.run("logger -t rehearsal 'rehearsal-mark from lab-app1'")

    # ---- through the reverse proxy to lab-app1 ----
    if WITH_INFRA:
        rc, o = app.run("echo %s > /var/www/html/%s.txt && systemctl is-active nginx" % (NONCE, NONCE))
        rc, code, verify, body = https("cloud", "/%s.txt" % NONCE)
        check("https://cloud.domain.com/ through lab-infra1 serves lab-app1's page (made there for this run), "
              "with the site CA's certificate", rc == 0 and code == "200" and verify == "0" and body.strip() == NONCE,
              (rc, code, verify, body[-500:], o))
        rc, o = app.run("grep -F '%s.txt' /var/log/nginx/access.log" % NONCE)
        check("lab-app1's nginx logged that request from lab-infra1 (10.0.50.19)", o.startswith("10.0.50.19 "), o)
        rc, code, verify, body = https("chat", "/%s.txt" % NONCE)
        check("https://chat.domain.com/ goes to lab-app1:8065 (Mattermost, deferred here): the proxy's 502, not the cloud page",
              rc == 0 and code in ("502", "504") and NONCE not in body, (rc, code, verify, body[-300:]))

    # ---- lab-comm1: the Zabbix server, and every host's agent registered by it ----
    if WITH_COMM:
        if cut_comm:
            cut_comm.wait(timeout=max(60, 3600 - comm.elapsed()))
        first_boot(comm, "lab-comm1")
        before = earlier.get("lab-comm1", "")
        if "lab-comm1" in KILLED:
            check("lab-comm1: its power was cut while it imported Zabbix's schema, and firstboot ran again",
                  "importing Zabbix's schema" in before and "rackstack-firstboot: starting" in comm.output,
                  re.findall(r"[^\r\n]*(?:Zabbix|zabbix)[^\r\n]*", before)[-5:])
        zline = re.findall(r"service zabbix-server +done: [^\r\n]*", comm.output)
        check("lab-comm1: the Zabbix server runs with its database zabbix_server on lab-db1 over VLAN 40 "
              "(the credentials from lab-comm1's own bundle)",
              bool(zline) and "running: database zabbix_server on PostgreSQL on lab-db1 (10.0.40.12:5432)" in zline[-1],
              zline or re.findall(r"[^\r\n]*(?:zabbix|Zabbix)[^\r\n]*", comm.output)[-8:])
        check("lab-comm1: waited for lab-db1 and imported Zabbix's schema (once: the second run finds it)",
              re.search(r"schema imported in \d+ s", before + comm.output) is not None, re.findall(r"[^\r\n]*schema[^\r\n]*", before + comm.output))
        check("lab-comm1: join/monitoring: its own agent reports to the server",
              re.search(r"finish: join/monitoring: SUCCESS: Zabbix agent 2 reports to %s" % re.escape(COMM), comm.output) is not None,
              "".join(re.findall(r"join/monitoring[^\r\n]*", comm.output)))
        check("lab-comm1: join/logs forwards to the log server",
              re.search(r"finish: join/logs: SUCCESS: rsyslog forwards to %s:12201" % re.escape(LOGSRV), comm.output) is not None,
              "".join(re.findall(r"join/logs[^\r\n]*", comm.output)))
        console_login(comm, "lab-comm1")
        rc, o = comm.run("grep -c '^DBPassword' /etc/zabbix/zabbix_server.conf; stat -c '%U:%G %a' /etc/zabbix/rackstack-db.conf; "
                         "grep -c '^DBHost=10.0.40.12$' /etc/zabbix/zabbix_server.conf")
        check("lab-comm1: zabbix_server.conf points at lab-db1 and holds no password (root:zabbix 0640 file for it)",
              o.split()[:4] == ["0", "root:zabbix", "640", "1"], o)
        no_creds_left(comm, "lab-comm1")
        if "lab-comm1" in KILLED:
            no_duplicates(comm, "lab-comm1")
        comm.run("logger -t rehearsal 'rehearsal-mark from lab-comm1'")

        # The Ubuntu hosts' agents (AGENT_DEBS above): installed, and firstboot run again.
        ubuntu = ([(infra, "lab-infra1")] if WITH_INFRA else []) + [(db, "lab-db1"), (app, "lab-app1")]
        for v, host in ubuntu:
            rc, o = v.run("mkdir -p /mnt/oemdrv && mount -o ro LABEL=OEMDRV /mnt/oemdrv && "
                          "DEBIAN_FRONTEND=noninteractive dpkg -i --force-depends /mnt/oemdrv/rehearsal/zabbix/*.deb "
                          ">/var/log/rehearsal-agent-dpkg.log 2>&1; echo dpkg=$?; umount /mnt/oemdrv; "
                          "echo missing=$(ldd /usr/sbin/zabbix_agent2 | grep -c 'not found')", timeout=600)
            check("%s: Debian 12's zabbix-agent2 installs (the stand-in for Zabbix's own package for Ubuntu 24.04)" % host,
                  "dpkg=0" in o and "missing=0" in o, o)
            rc, o = v.run("rackstack-firstboot run --root=/ >/var/log/rehearsal-firstboot-again.log 2>&1; echo rc=$?; "
                          "grep -E 'join/(monitoring|report)|rackstack-firstboot: (finished|FAILED)' /var/log/rehearsal-firstboot-again.log",
                          timeout=1800)
            check("%s: firstboot run again with the agent installed: join/monitoring, skipped before, now joins %s"
                  % (host, COMM), "rc=0" in o and
                  re.search(r"finish: join/monitoring: SUCCESS: Zabbix agent 2 reports to %s" % re.escape(COMM), o) is not None, o)
            rc, o = v.run("systemctl is-active zabbix-agent2; grep -h '^Hostname=\\|^HostMetadata=' /etc/zabbix/zabbix_agent2.d/60-rackstack.conf; "
                          "stat -c '%U %a' /etc/zabbix/rackstack.psk")
            check("%s: its agent runs as %s, metadata 'rackstack role=', PSK file zabbix 600" % (host, host),
                  o.startswith("active") and "Hostname=%s.domain.com" % host in o and "HostMetadata=rackstack role=" in o
                  and "zabbix 600" in o, o)
            rc, o = v.run("ls /run/credentials/rackstack/ 2>&1 | wc -l")
            check("%s: no credential left after the second run (it placed the bundle again)" % host, o.strip() == "0", o)

        # A host that is not the site's: an agent with the site's PSK (it may have leaked) but another
        # site's metadata, on the switch's VLAN-20 port. It reaches the server and is not added.
        psk = read_bundle(creds["lab-db1"])["zabbix-psk"].decode().strip()
        sdir = os.path.join(tmp, "stranger")
        os.makedirs(sdir)
        open(os.path.join(sdir, "psk"), "w").write(psk + "\n")
        os.chmod(os.path.join(sdir, "psk"), 0o600)
        open(os.path.join(sdir, "agent.conf"), "w").write(
            "PidFile={d}/pid\nLogFile={d}/log\nControlSocket={d}/sock\nServer={c}\nServerActive={c}\n"
            "Hostname=stranger.othersite.example\nHostMetadata=othersite role=app\nRefreshActiveChecks=60\n"
            "TLSConnect=psk\nTLSAccept=psk\nTLSPSKIdentity=rackstack\nTLSPSKFile={d}/psk\n"
            "Include=/etc/zabbix/zabbix_agent2.d/plugins.d/*.conf\n".format(d=sdir, c=COMM))
        stranger = subprocess.Popen(["ip", "netns", "exec", ns, "zabbix_agent2", "-f", "-c", os.path.join(sdir, "agent.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stray.append(stranger)

        # What the server registered, from its database on lab-db1.
        want = sorted(h + ".domain.com" for h in HOSTS)
        q = ("SELECT h.host || '|' || h.tls_connect || '|' || h.tls_accept || '|' || "
             "coalesce((SELECT string_agg(g.name, ',') FROM hosts_groups hg JOIN hstgrp g ON g.groupid = hg.groupid WHERE hg.hostid = h.hostid), '') || '|' || "
             "coalesce((SELECT string_agg(t.host, ',') FROM hosts_templates ht JOIN hosts t ON t.hostid = ht.templateid WHERE ht.hostid = h.hostid), '') "
             "FROM hosts h WHERE h.status IN (0, 1) AND h.flags = 0 ORDER BY h.host")
        def zq(sql):
            return db.run("runuser -u postgres -- psql -X -At -d zabbix_server -c \"%s\" 2>&1" % sql, timeout=180)[1]
        rows, t_reg = "", time.monotonic()
        for _ in range(60):
            rows = zq(q)
            seen = [l.split("|")[0] for l in rows.splitlines() if "|" in l]
            if all(w in seen for w in want) and "stranger.othersite.example" in zq("SELECT host FROM autoreg_host"):
                break
            time.sleep(15)
        note("Zabbix hosts (%.0f s after the agents' joins): %s" % (time.monotonic() - t_reg, rows.replace("\n", "; ")))
        for w in want:
            row = [l for l in rows.splitlines() if l.split("|")[0] == w]
            check("Zabbix (its database on lab-db1): %s registered itself by autoregistration: PSK both ways, group rackstack, "
                  "template Linux by Zabbix agent" % w,
                  len(row) == 1 and row[0].split("|")[1:3] == ["2", "2"] and "rackstack" in row[0].split("|")[3].split(",")
                  and "Linux by Zabbix agent" in row[0].split("|")[4], rows)
        o = zq("SELECT host FROM autoreg_host WHERE host = 'stranger.othersite.example'")
        check("the stranger's agent (site PSK, another site's metadata) reached the server", "stranger.othersite.example" in o, o)
        check("... and is not a host on it", "stranger.othersite.example" not in rows, rows)
        check("the Zabbix server has no host the site does not have (only the seed's hosts and its own 'Zabbix server')",
              all(l.split("|")[0] in want + ["Zabbix server"] for l in rows.splitlines() if "|" in l), rows)
        # Hosts only: the templates' host prototypes (flags 2, status 3) repeat names such as {#VM.NAME}.
        o = zq("SELECT (SELECT count(*) FROM actions WHERE eventsource = 2) || ' ' || (SELECT count(*) FROM dbversion) || ' ' || "
               "(SELECT count(*) FROM (SELECT host FROM hosts WHERE status IN (0, 1) AND flags = 0 GROUP BY host HAVING count(*) > 1) d)")
        check("one autoregistration action, one dbversion row, no host name twice" +
              (" (after lab-comm1's power cut mid-import and its second run)" if "lab-comm1" in KILLED else ""),
              o.split() == ["1", "1", "0"], o)

    # ---- logs and events ----
    def remote_lines():
        if WITH_INFRA:
            return infra.run("cat /var/log/rehearsal-remote.log", timeout=300)[1]
        return open(remote_log, errors="replace").read() if os.path.exists(remote_log) else ""
    for host in ("lab-db1", "lab-app1") + (("lab-comm1",) if WITH_COMM else ()):
        o = ""
        for _ in range(30):
            o = remote_lines()
            if "rehearsal-mark from %s" % host in o:
                break
            time.sleep(10)
        check("syslog from %s arrived at the log server %s (the marker line, by join/logs' rsyslog)" % (host, LOGSRV),
              re.search(r"[^\n]*%s[^\n]*rehearsal-mark from %s" % (host, host), o) is not None, o[-1500:])
        check("the log server also has firstboot's own lines from %s" % host,
              re.search(r"[^\n]*%s[^\n]*rackstack-firstboot" % host, o) is not None, o[-800:])
    evs = [json.loads(l) for l in open(events)] if os.path.exists(events) else []
    note("%d status events received" % len(evs))
    for host in HOSTS:
        mine = [e for e in evs if e["event"] and str(e["event"].get("host", "")).split(".")[0] == host]
        good = [e for e in mine if e["signed_by"] == [host]]
        check("%s: status events arrived at the receiver signed with its own token (%d of %d)" % (host, len(good), len(mine)),
              mine and len(good) == len(mine), [e["signed_by"] for e in mine][:5])
    check("no event arrived unsigned or signed with a key the site does not have",
          evs and all(e["signed_by"] for e in evs), [e for e in evs if not e["signed_by"]][:3])

finally:
    for v in vms:
        try:
            v.__exit__(None, None, None)
        except Exception as e:
            print("stopping %s: %s" % (v.name, e))
    for p in [recv, logrecv] + stray:
        if p:
            p.kill()
    sw.kill()
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["cp", swlog, os.path.join(logs, "vm-rehearsal-switch.log")], capture_output=True)
    for f, name in ((events, "vm-rehearsal-events.jsonl"), (remote_log, "vm-rehearsal-remote.log")):
        if os.path.exists(f):
            subprocess.run(["cp", f, os.path.join(logs, name)], capture_output=True)
    subprocess.run(["rm", "-rf", tmp])
note("times: " + ", ".join("%s %.0f s" % kv for kv in times.items()))
print("rehearsal (%s): %.0f s on %d cores" % (" ".join(HOSTS), time.monotonic() - T0, os.cpu_count()))
for host, line in panics:
    print("NOTE a guest kernel panic was survived: %s (%s); the serial log has its trace" % (host, line))
print("%d passed, %d failed" % (checks[0] - len(fails), len(fails)))
sys.exit(1 if fails else 0)
PY

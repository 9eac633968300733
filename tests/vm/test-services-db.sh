#!/bin/bash
# The db image's services on first boot, for real: lab-db1.ks on OEMDRV, NVMe 500G + SAS 1T, two NICs
# facing the stand-in gateway (as test-firstboot-db.sh). After "rackstack-firstboot: finished":
#  - PostgreSQL runs with the settings the renderer computes for the guest's RAM (the host's
#    rackstack-firstboot render pg-budget/postgresql, fed the guest's MemTotal and CPU count),
#  - its data directory is on the NVMe mount (findmnt, SHOW data_directory),
#  - it accepts connections on localhost and on the database VLAN address (10.0.40.12),
#  - nft list ruleset has exactly the role's ports (5432, 9200, 27017), SSH from 10.0.10.0/24; Redis's 6379
#    only per consumer address (none here: no wiring), so it is not open to the VLAN
#    only, policy drop,
#  - Elasticsearch and MongoDB are reported skipped with their source unreachable, not faked,
#  - status.json has a service/<name> entry for every service.
# The kickstart is lab-db1.ks without its "join" lines: no identity, monitoring or log server runs
# here, and the join is test-identity-db.sh's subject; this test is about the services before it.
# The image locks root (as it should); the test boots a private copy whose root password is emptied
# (losetup at the root partition's offset, /etc/shadow edited), so the harness can log in on the
# serial console. The image itself is untouched.
# RACKSTACK_VM_REBUILD=1 rebuilds the image first (it is cached in build/vm-images by lib.sh).
. "$(dirname "$0")/lib.sh"
vm_requirements
command -v nft >/dev/null || skip "nft missing (make deps)"
if [ "${RACKSTACK_VM_REBUILD:-0}" = 1 ]; then
        host=$("$O/rackstack-build" show db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["name"])')
        rm -f "$VMOUT/$host/SHA256SUMS"
fi
t0=$(date +%s)
ensure_image db
echo "image ready in $(( $(date +%s) - t0 )) s"
exec python3 - "$RAW" "$TOP" "$O" "$(host_base)" <<'PY'
import json, os, re, subprocess, sys, tempfile, time
raw, top, out, base = sys.argv[1:5]
sys.path.insert(0, os.path.join(top, "tests/vm"))
from vmharness import VM, Disk, Nets, Checks, install_signal_handlers

install_signal_handlers()
check = Checks()

fb = os.path.join(out, "rackstack-firstboot")
def render(*args):
    return subprocess.run([fb, "render"] + list(args), capture_output=True, text=True, check=True).stdout

def to_kb(setting, unit):
    """pg_settings' value and unit -> kB (memory) or the plain value."""
    mult = {"kB": 1, "8kB": 8, "MB": 1024, "16MB": 16384, "GB": 1024 * 1024}
    if unit in mult:
        return int(setting) * mult[unit]
    return setting

def conf_kb(v):
    m = re.match(r"^(\d+)(kB|MB|GB)$", v)
    if not m:
        return v
    return int(m.group(1)) * {"kB": 1, "MB": 1024, "GB": 1024 * 1024}[m.group(2)]

tmp = tempfile.mkdtemp(prefix="rackstack-svc-", dir="/var/tmp")

def open_root(src):
    """A sparse copy of the image with an empty root password."""
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
        finally:
            subprocess.run(["umount", mnt], check=True)
    finally:
        subprocess.run(["losetup", "-d", dev])
    return dst

raw = open_root(raw)
ks = os.path.join(tmp, "ks.cfg")
ks_text = "\n".join(l for l in open(os.path.join(top, "kickstart/lab-db1.ks")).read().splitlines()
                    if not l.startswith("join "))
open(ks, "w").write(ks_text + "\n")
os.chmod(ks, 0o600)
nvme, sas = os.path.join(tmp, "nvme.img"), os.path.join(tmp, "sas.img")
port = 41000 + (os.getpid() * 7) % 20000
gwlog = os.path.join(tmp, "gateway.log")
gw = subprocess.Popen([sys.executable, os.path.join(top, "tests/vm/gateway.py"), "--port", str(port),
                       "--port", str(port + 1), "--gw", "20=10.0.50.1", "--gw", "10=10.0.10.1",
                       "--log", gwlog, "--lifetime", "1800"])
serial = os.path.join(out, "test-logs", "vm-services-db.serial.log")
os.makedirs(os.path.dirname(serial), exist_ok=True)
t_start = time.monotonic()
try:
    with VM(image=raw, firmware="bios", boot_disk_size="60G", log=serial, name="svc-db", memory=2048,
            disks=[Disk("nvme", "500G", path=nvme, keep=True), Disk("sas-hdd", "1T", path=sas, keep=True)],
            oemdrv=ks,
            nets=Nets(count=2, mode="socket", port=port)) as vm:
        vm.boot(expect=r"rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]", timeout=1500)
        t_fb = time.monotonic() - t_start
        print("firstboot ended after %.0f s" % t_fb, flush=True)
        text = vm.output
        check("firstboot finished", "rackstack-firstboot: finished" in text,
              "".join(re.findall(r"rackstack-firstboot: FAILED[^\r\n]*", text)))
        check("console: postgresql done", re.search(r"service postgresql +done: PostgreSQL \d+", text) is not None)
        check("console: elasticsearch skipped, source unreachable",
              re.search(r"service elasticsearch +skipped: deferred; repository artifacts\.elastic\.co:443 unreachable", text) is not None)
        vm.login(timeout=600)
        t_login = time.monotonic() - t_start
        vm.run("cd /")  # runuser keeps the cwd; postgres cannot enter /root

        rc, mem = vm.run("awk '/^MemTotal:/ {print $2}' /proc/meminfo")
        rc2, ncpu = vm.run("nproc")
        ram = int(mem.strip()) * 1024
        cpus = int(ncpu.strip())
        budget, reserved = render("pg-budget", "--profile", os.path.join(top, "profiles/db.yaml"), "--ram", str(ram),
                                  "--base", base).split()
        expect_conf = render("postgresql", "--ram", budget, "--cpus", str(cpus))
        expect = dict(l.split(" = ", 1) for l in expect_conf.splitlines() if " = " in l and not l.startswith("#"))
        print("guest: MemTotal %d MiB, %d CPUs -> budget %d MiB (%d MiB set aside)" %
              (ram >> 20, cpus, int(budget) >> 20, int(reserved) >> 20), flush=True)
        names = ["shared_buffers", "effective_cache_size", "maintenance_work_mem", "work_mem", "wal_buffers",
                 "max_connections", "random_page_cost", "effective_io_concurrency", "checkpoint_completion_target",
                 "default_statistics_target", "min_wal_size", "max_wal_size", "huge_pages"]
        q = "SELECT name || '|' || setting || '|' || coalesce(unit, '') FROM pg_settings WHERE name IN (%s)" % \
            ",".join("'%s'" % n for n in names)
        rc, res = vm.run('runuser -u postgres -- psql -XAtc "%s"' % q)
        got = {}
        for l in res.splitlines():
            p = l.strip().split("|")
            if len(p) == 3:
                got[p[0]] = to_kb(p[1], p[2])
        for n in names:
            want = expect.get(n, "").strip("'")
            w = conf_kb(want)
            g = got.get(n)
            if isinstance(w, int):
                ok = g == w
            else:
                try:
                    ok = float(g) == float(w)
                except (TypeError, ValueError):
                    ok = str(g) == str(w)
            check("SHOW %s = %s (renderer, %d MiB budget)" % (n, want, int(budget) >> 20), ok, "got %r" % (g,))
        rc, dd = vm.run('runuser -u postgres -- psql -XAtc "SHOW data_directory"')
        dd = dd.strip()
        check("data_directory under /var/lib/postgresql", dd.startswith("/var/lib/postgresql/"), dd)
        rc, fm = vm.run("findmnt -n -o SOURCE,FSTYPE --target %s" % dd)
        check("data directory on the NVMe mount (xfs)", re.match(r"/dev/nvme0n1p1 +xfs", fm.strip()) is not None, fm)
        rc, la = vm.run('runuser -u postgres -- psql -XAtc "SHOW listen_addresses"')
        check("listen_addresses = localhost,10.0.40.12", la.strip() == "localhost,10.0.40.12", la)
        rc, c1 = vm.run('runuser -u postgres -- psql -XAtc "SELECT 6*7"')
        check("local connection answers", c1.strip() == "42", c1)
        rc, c2 = vm.run("runuser -u postgres -- psql -XAtc \"ALTER USER postgres PASSWORD 'pw'\" >/dev/null && "
                        "PGPASSWORD=pw psql -XAt -h 10.0.40.12 -U postgres -c 'SELECT inet_server_addr()'")
        check("TCP connection on the database VLAN address (scram)", c2.strip() == "10.0.40.12", c2)
        rc, c3 = vm.run("PGPASSWORD=pw PGCONNECT_TIMEOUT=5 psql -XAt -h 10.0.50.12 -U postgres -c 'SELECT 1' 2>&1")
        check("no PostgreSQL on the infrastructure VLAN address", rc != 0, c3)

        rc, rp = vm.run("REDISCLI_AUTH=$(awk '/^requirepass / {print $2}' /etc/redis/rackstack.conf) "
                        "redis-cli -h 10.0.40.12 ping")
        check("Redis answers on the database VLAN address (with its password)", rp.strip() == "PONG", rp)
        rc, rn = vm.run("redis-cli -h 10.0.40.12 ping")
        check("Redis refuses a client without the password", "NOAUTH" in rn, rn)
        rc, mm = vm.run("REDISCLI_AUTH=$(awk '/^requirepass / {print $2}' /etc/redis/rackstack.conf) "
                        "redis-cli config get maxmemory | tail -1")
        check("Redis maxmemory is its 10%% of the RAM (%d MiB)" % (ram // 100 * 10 >> 20),
              mm.strip() == str((ram // 100 * 10 >> 20) << 20), mm)

        rc, rs = vm.run("nft list ruleset")
        dports = sorted(re.findall(r"(tcp|udp) dport (\d+)", rs))
        check("ruleset: the role's ports and SSH only",
              dports == sorted([("tcp", "22"), ("tcp", "5432"), ("tcp", "9200"), ("tcp", "27017")]),
              dports)
        check("ruleset: SSH from the management VLAN only", re.search(r"ip saddr 10\.0\.10\.0/24 tcp dport 22 accept", rs) is not None, rs)
        check("ruleset: input policy drop", re.search(r"hook input priority filter; policy drop;", rs) is not None, rs)
        rc, en = vm.run("systemctl is-enabled nftables.service")
        check("nftables.service enabled (the ruleset comes back on reboot)", en.strip() == "enabled", en)

        rc, st = vm.run("cat /var/lib/rackstack/status.json")
        try:
            steps = {s["step"]: s for s in json.loads(st)["steps"]}
        except ValueError:
            steps = {}
        for name, state in (("postgresql", "done"), ("redis", "done"), ("pgbouncer", "done"),
                            ("elasticsearch", "skipped"), ("mongodb", "skipped"), ("zabbix-agent2-vendor", "skipped")):
            s = steps.get("service/" + name, {})
            check("status: service/%s %s" % (name, state), s.get("state") == state, s)
        check("status: elasticsearch's reason names its unreachable source",
              re.search(r"repository artifacts\.elastic\.co:443 unreachable", steps.get("service/elasticsearch", {}).get("reason") or "") is not None)
        check("status: firewall done", steps.get("firewall", {}).get("state") == "done")
        try:
            pgr = json.loads(st)["services"]["postgresql"]
        except (ValueError, KeyError, TypeError):
            pgr = {}
        check("status: services.postgresql has the budget the renderer computes",
              pgr.get("budget") == int(budget) and pgr.get("ram") == ram, pgr)
        print("timing: firstboot finished %.0f s after QEMU start, login %.0f s, checks done %.0f s" %
              (t_fb, t_login, time.monotonic() - t_start), flush=True)
finally:
    gw.kill()
    subprocess.run(["rm", "-rf", tmp])
sys.exit(check.summary())
PY

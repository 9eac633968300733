#!/bin/bash
# The rendered configurations are accepted by the real tools: nft -c for every role's firewall
# (unprivileged: in a user namespace), the Traefik routes are valid YAML with all 15 of the site's
# routes, and the PostgreSQL drop-in is read by the real postgres -C when PostgreSQL is installed.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
F=${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
command -v nft >/dev/null || skip_all "nft missing (apt-get install nftables)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nftc() { if [ "$(id -u)" = 0 ]; then nft -c -f "$1"; else unshare -rn nft -c -f "$1"; fi; }
printf 'table inet probe {\n}\n' >"$tmp/probe.nft"
nftc "$tmp/probe.nft" >/dev/null 2>&1 || skip_all "nft -c cannot run here (not root and no user namespaces)"

for role in id db app comm voip biz erp it infra; do
        "$F" render nftables --profile profiles/$role.yaml --site profiles/site.yaml >"$tmp/$role.nft"
        check "$role: nft -c accepts the ruleset" nftc "$tmp/$role.nft"
        want=$(python3 -c '
import sys, yaml
p = yaml.safe_load(open("profiles/'$role'.yaml"))
b = yaml.safe_load(open("profiles/base.yaml"))
n = 0
for e in (b.get("ports") or []) + (p.get("ports") or []):
    pr = e["proto"] if isinstance(e["proto"], list) else [e["proto"]]
    n += len(pr)
print(n)')
        check "$role: one accept per port and protocol ($want)" test "$(grep -c ' dport .* accept' "$tmp/$role.nft")" = "$want"
done
# nft must reject what it should: a broken rule fails the check (the check is not a no-op)
sed 's/tcp dport 5432 accept/tcp dport 5432 acept/' "$tmp/db.nft" >"$tmp/bad.nft"
nftc "$tmp/bad.nft" 2>/dev/null; rc=$?
check "nft -c rejects a broken ruleset" test $rc != 0

"$F" render traefik --site profiles/site.yaml >"$tmp/routes.yml"
check "traefik routes are YAML with 15 routers and 15 services" python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))["http"]
assert len(d["routers"]) == 15 and len(d["services"]) == 15, d.keys()
assert d["routers"]["erp"]["rule"] == "Host(`erp.domain.com`)"
assert d["services"]["erp"]["loadBalancer"]["servers"][0]["url"] == "http://10.0.50.17:8069"
' "$tmp/routes.yml"

# The services step offline (--root elsewhere: files are written, nothing is started or probed).
r=$tmp/root
mkdir -p "$r/etc/postgresql/15/main" "$r/var/lib/dpkg/info"
touch "$r/etc/postgresql/15/main/postgresql.conf"
printf 'ID=debian\nVERSION_ID="12"\n' >"$r/etc/os-release"
for p in chrony rsyslog zabbix-agent2 postgresql postgresql-contrib pgbouncer; do touch "$r/var/lib/dpkg/info/$p.list"; done
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml --ks kickstart/lab-db1.ks >"$tmp/svc.out" 2>&1; rc=$?
check "services (db, offline): fails because redis-server is not installed" test $rc = 1
check "services: redis reported failed with the reason" grep -q "service redis .*failed: package redis-server is not in the image" "$tmp/svc.out"
check "services: elasticsearch skipped, not faked" grep -Eq "service elasticsearch +skipped: apt repository artifacts.elastic.co unreachable" "$tmp/svc.out"
check "services: the Ubuntu-only Zabbix agent skipped on Debian" grep -Eq "service zabbix-agent2-vendor +skipped: only on ubuntu-24.04; this is debian-12" "$tmp/svc.out"
check "services: /etc/nftables.conf written and accepted by nft" nftc "$r/etc/nftables.conf"
check "services: the tuning drop-in listens on the db VLAN address" grep -qx "listen_addresses = 'localhost,10.0.40.12'" "$r/etc/postgresql/15/main/conf.d/50-rackstack-tuning.conf"
check "services: pg_hba allows the database VLAN" grep -q "^host    all       all   10.0.40.0/24 scram-sha-256" "$r/etc/postgresql/15/main/pg_hba.conf"
touch "$r/var/lib/dpkg/info/redis-server.list" "$r/var/lib/dpkg/info/mariadb-server.list" "$r/var/lib/dpkg/info/restic.list"
mkdir -p "$r/etc/redis" && printf 'bind 127.0.0.1 -::1\nport 6379\n' >"$r/etc/redis/redis.conf"
mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
ln -s /lib/systemd/system/chrony.service "$r/etc/systemd/system/multi-user.target.wants/chrony.service"
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml >"$tmp/svc2.out" 2>&1; rc=$?
check "services (db, offline, rerun with redis): succeeds" test $rc = 0
check "services: one systemctl enable, for the units not enabled yet" \
        grep -qx "rackstack-firstboot:   would run: systemctl enable nftables.service rsyslog.service zabbix-agent2.service postgresql.service pgbouncer.service redis-server.service mariadb.service" "$tmp/svc2.out"
pw1=$(awk '/^requirepass / {print $2}' "$r/etc/redis/rackstack.conf")
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml --ks kickstart/lab-db1.ks >"$tmp/svc4.out" 2>&1
pw2=$(awk '/^requirepass / {print $2}' "$r/etc/redis/rackstack.conf")
check "services: redis gets a random 64-hex-digit password" bash -c "[[ '$pw1' =~ ^[0-9a-f]{64}$ ]]"
check "services: a rerun keeps the redis password" test "$pw1" = "$pw2"
check "services: the password is not on the console" bash -c "! grep -q '$pw1' '$tmp/svc2.out' '$tmp/svc4.out'"
check "services: our redis file is not world-readable" test "$(stat -c %a "$r/etc/redis/rackstack.conf")" = 640
check "services: redis.conf includes our file, once after two runs" test "$(grep -c '^include /etc/redis/rackstack.conf$' "$r/etc/redis/redis.conf")" = 1
check "services: redis binds the db VLAN address" grep -qx "bind 127.0.0.1 -::1 10.0.40.12" "$r/etc/redis/rackstack.conf"
check "services: redis holds to its 10% (maxmemory)" grep -Eq "^maxmemory [0-9]+mb$" "$r/etc/redis/rackstack.conf"
# Another db host of the same site (#19): a name the site does not list and other addresses on
# the same VLANs. Redis and PostgreSQL bind the address the answers gave this host, never the
# site's lab-db1 (a bind to an address the host lacks stops redis-server); redis.conf keeps the
# package's owner and mode (redis:redis 0640 on Debian and Ubuntu; here a stand-in uid/gid).
o=$tmp/other
mkdir -p "$o/etc/postgresql/15/main" "$o/var/lib/dpkg/info" "$o/etc/redis"
touch "$o/etc/postgresql/15/main/postgresql.conf"
printf 'ID=debian\nVERSION_ID="12"\n' >"$o/etc/os-release"
for p in chrony rsyslog zabbix-agent2 postgresql postgresql-contrib pgbouncer redis-server; do touch "$o/var/lib/dpkg/info/$p.list"; done
printf 'bind 127.0.0.1 -::1\nport 6379\n' >"$o/etc/redis/redis.conf"
own=0
if [ "$(id -u)" = 0 ]; then chown 4242:4343 "$o/etc/redis/redis.conf"; own=1; fi
chmod 0640 "$o/etc/redis/redis.conf"
sed -e 's/lab-db1/site9-db4/g' -e 's/10\.0\.\([0-9]*\)\.12\b/10.0.\1.77/g' -e '/^join /d' kickstart/lab-db1.ks >"$tmp/other.ks"
check "the other host's kickstart differs from the shipped one in name and addresses" \
        bash -c "grep -q 'hostname=site9-db4' '$tmp/other.ks' && grep -q 'ip=10.0.40.77' '$tmp/other.ks' && ! grep -q '10.0.40.12' '$tmp/other.ks'"
"$F" services --root "$o" --profile profiles/db.yaml --site profiles/site.yaml --ks "$tmp/other.ks" >"$tmp/svc5.out" 2>&1
check "services (another db host): redis binds the answers' db VLAN address, not lab-db1's" \
        grep -qx "bind 127.0.0.1 -::1 10.0.40.77" "$o/etc/redis/rackstack.conf"
check "services (another db host): PostgreSQL listens on the answers' db VLAN address" \
        grep -qx "listen_addresses = 'localhost,10.0.40.77'" "$o/etc/postgresql/15/main/conf.d/50-rackstack-tuning.conf"
check "services: redis.conf keeps its mode (0640) after the include line is added" \
        test "$(stat -c %a "$o/etc/redis/redis.conf")" = 640
check "services: redis.conf got the include line" grep -qx "include /etc/redis/rackstack.conf" "$o/etc/redis/redis.conf"
if [ $own = 1 ]; then
        check "services: redis.conf keeps the package's owner (not root:root)" \
                test "$(stat -c %u:%g "$o/etc/redis/redis.conf")" = 4242:4343
else
        skip_check "services: redis.conf keeps the package's owner" "not root (cannot give the file another owner)"
fi
"$F" services --root "$r" --profile profiles/infra.yaml --site profiles/site.yaml >"$tmp/svc3.out" 2>&1
check "services (infra): Traefik's routes written though Traefik itself is skipped" \
        test "$(grep -c 'rule: "Host' "$r/etc/traefik/dynamic/routes.yml")" = 15
check "services (infra): traefik skipped with its registry unreachable" grep -Eq "service traefik +skipped: registry docker.io unreachable" "$tmp/svc3.out"

pg=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$pg" ] && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
        "$F" render postgresql --ram 32G --cpus 8 --listen localhost >"$tmp/tune.conf"
        mkdir "$tmp/data" && chown postgres "$tmp" "$tmp/data"
        runuser -u postgres -- "$pg/initdb" -D "$tmp/data" >/dev/null 2>&1
        echo "include '$tmp/tune.conf'" >>"$tmp/data/postgresql.conf"
        for kv in shared_buffers=1048576 work_mem=16384 effective_cache_size=3145728 max_connections=500 wal_buffers=2048; do
                k=${kv%=*} v=${kv#*=}
                got=$(runuser -u postgres -- "$pg/postgres" -D "$tmp/data" -C "$k" 2>&1)
                check "postgres -C $k reads the drop-in ($v in its own units)" test "$got" = "$v"
        done
else
        echo "skip: postgres -C checks (need root and a PostgreSQL install)"
fi
finish

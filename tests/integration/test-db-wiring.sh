#!/bin/bash
# The database host's side of the wiring, with the real servers in network namespaces that stand
# for the site's VLAN 40: lab-db1 (10.0.40.12), lab-app1 (10.0.40.13) and lab-comm1 (10.0.40.14).
# Site secrets are made, lab-db1's bundle is placed by `rackstack-firstboot db-wiring --creds` (a
# bundle for another host is refused), and what it renders is run for real:
#   - PostgreSQL (the host's own version) with the rendered pg_hba.conf (no line in error in
#     pg_hba_file_rules) runs the rendered SQL: one role and one database per consumer; again, and
#     after a prefix of it (what a kill leaves), still exactly one each;
#   - from lab-app1, psql logs in to nextcloud with the password from lab-app1's own bundle, and is
#     refused with a wrong password, and refused for zammad's database (that line is lab-comm1's);
#     from lab-comm1, zammad gets in and nextcloud does not;
#   - PgBouncer with the rendered pgbouncer.ini, auth_hba_file and userlist: the same logins
#     through port 6432, the same refusals;
#   - Redis with the rendered ACL users: nextcloud's password works for user nextcloud, a wrong one
#     does not, and FLUSHALL (@dangerous) is refused to it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
O=$(realpath "${RACKSTACK_BUILD_DIR:-build}")
B=$O/rackstack-build F=$O/rackstack-firstboot
quiet() { "$@" >/dev/null 2>&1; }
if [ ! -x "$B" ] || [ ! -x "$F" ]; then skip_all "$B or $F is not built"; fi
[ "$(id -u)" = 0 ] || skip_all "skip: needs root (network namespaces)"
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/postgres" ] || skip_all "skip: no PostgreSQL server (make deps)"
id postgres >/dev/null 2>&1 || skip_all "skip: no postgres user"
PGB=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$PGB" ] || skip_all "skip: pgbouncer missing (make deps)"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then skip_all "skip: redis-server missing (make deps)"; fi

tmp=$(mktemp -d /tmp/rackstack-dbw-XXXXXX)
chmod 755 "$tmp"
S=$tmp/site ROOT=$tmp/root OUT=$tmp/out
DB=rsdb$$ APP=rsapp$$ COMM=rscomm$$
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        # What runs in the namespaces: $! is the subshell of `inDB ... &`, not the daemon it starts
        # (runuser, pgbouncer, redis-server outlived it before).
        local ns
        for ns in "$DB" "$APP" "$COMM"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
        wait 2>/dev/null
        for ns in "$DB" "$APP" "$COMM"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
        ip netns del "$DB" 2>/dev/null; ip netns del "$APP" 2>/dev/null; ip netns del "$COMM" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
if ! ip netns add "$DB" || ! ip netns add "$APP" || ! ip netns add "$COMM"; then skip_all "skip: cannot create network namespaces"; fi
inDB() { ip netns exec "$DB" "$@"; }
# lab-db1 holds 10.0.40.12 on both links, each with a host route to its peer: a point-to-point
# VLAN 40 without needing the bridge module.
ip link add d-app netns "$DB" type veth peer name eth0 netns "$APP"
ip link add d-comm netns "$DB" type veth peer name eth0 netns "$COMM"
inDB ip link set lo up
for l in d-app:10.0.40.13 d-comm:10.0.40.14; do
        inDB ip addr add 10.0.40.12/32 dev "${l%%:*}"
        inDB ip link set "${l%%:*}" up
        inDB ip route add "${l#*:}/32" dev "${l%%:*}"
done
for ns in "$APP:10.0.40.13" "$COMM:10.0.40.14"; do
        ip -n "${ns%%:*}" link set lo up
        ip -n "${ns%%:*}" addr add "${ns#*:}/24" dev eth0
        ip -n "${ns%%:*}" link set eth0 up
done

# ---- secrets, bundles, and what lab-db1 renders from its own ----
"$B" secrets init "$S" >/dev/null 2>&1 || { echo "secrets init failed"; exit 1; }
for h in lab-db1 lab-app1 lab-comm1; do
        "$B" secrets bundle "$S" "$h" --out "$tmp/b-$h" >/dev/null 2>&1 || { echo "bundle $h failed"; exit 1; }
done
cred() { # BUNDLE NAME -> the value
        python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
_, _, rest = d.partition(b"\n")
while rest:
    line, _, rest = rest.partition(b"\n")
    name, k = line.split()
    k = int(k)
    if name.decode() == sys.argv[2]:
        sys.stdout.write(rest[:k].decode())
    rest = rest[k + 1:]
PY
}
mkdir -p "$ROOT" "$OUT"
"$F" db-wiring --root "$ROOT" --host lab-db1 --out "$OUT" --creds "$tmp/b-lab-app1/rackstack.creds" >"$tmp/e" 2>&1; rc=$?
check "db-wiring refuses lab-app1's bundle on lab-db1" bash -c "test $rc != 0 && grep -q 'is for lab-app1, this host is lab-db1' '$tmp/e'"
"$F" db-wiring --root "$ROOT" --host lab-db1 --out "$OUT" --listen 127.0.0.1,10.0.40.12 \
        --creds "$tmp/b-lab-db1/rackstack.creds" >"$tmp/e" 2>&1; rc=$?
# the seed's ten consumer databases: eight on PostgreSQL (with the Zabbix server), SuiteCRM, Snipe-IT and GLPI on MariaDB
check "db-wiring places lab-db1's bundle and renders for 8 databases, 3 Redis users and 3 MariaDB databases" \
        bash -c "test $rc = 0 && grep -q '8 databases, 3 Redis users, 3 MariaDB databases' '$tmp/e'"
check "the placed credentials are root-only files" \
        test -z "$(find "$ROOT/run/credentials/rackstack" -type f ! -perm 400)"
check "no plaintext password in the SQL, pgbouncer's or Redis's files" bash -c \
        "! grep -rqF '$(cred "$tmp/b-lab-db1/rackstack.creds" db.nextcloud)' '$OUT' &&
         ! grep -rqF '$(cred "$tmp/b-lab-db1/rackstack.creds" redis.nextcloud)' '$OUT'"

# ---- PostgreSQL ----
PGD=$tmp/pg SOCK=$tmp/sock
mkdir -p "$PGD" "$SOCK"
chown postgres: "$PGD" "$SOCK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGD" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >"$tmp/initdb.log" 2>&1 ||
        { echo "initdb failed"; cat "$tmp/initdb.log"; exit 1; }
install -o postgres -m 0600 "$OUT/pg_hba.conf" "$PGD/pg_hba.conf"
inDB runuser -u postgres -- "$PGBIN/postgres" -D "$PGD" -k "$SOCK" -c listen_addresses=127.0.0.1,10.0.40.12 \
        -c port=5432 >"$tmp/pg.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do inDB runuser -u postgres -- "$PGBIN/pg_isready" -q -h "$SOCK" && break; sleep 0.5; done
psql_local() { inDB runuser -u postgres -- psql -X -q -h "$SOCK" -d postgres "$@"; }
check "PostgreSQL takes the rendered pg_hba.conf without an error line" \
        test "$(psql_local -At -c 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')" = 0
check "pg_hba.conf has a line per consumer, /32" \
        test "$(psql_local -At -c "SELECT count(*) FROM pg_hba_file_rules WHERE netmask = '255.255.255.255' AND address LIKE '10.0.40.%'")" = 8
psql_local -v ON_ERROR_STOP=1 -f - <"$OUT/wiring.sql" >"$tmp/sql1" 2>&1; rc=$?
check "the SQL runs (psql exit 0)" test $rc = 0
counts() { psql_local -At -c "SELECT (SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres','template0','template1')) || ' ' || (SELECT count(*) FROM pg_roles WHERE rolcanlogin AND rolname <> 'postgres')"; }
check "eight databases and eight login roles" test "$(counts)" = "8 8"
check "each database is owned by its role, CONNECT not public" test "$(psql_local -At -c \
        "SELECT count(*) FROM pg_database d JOIN pg_roles r ON d.datdba = r.oid WHERE d.datname = r.rolname AND NOT has_database_privilege('public', d.datname, 'CONNECT')")" = 8
# what a kill leaves: a prefix of the statements; then the whole script again, twice
head -n 14 "$OUT/wiring.sql" >"$tmp/prefix.sql"
psql_local -f - <"$tmp/prefix.sql" >/dev/null 2>&1
psql_local -v ON_ERROR_STOP=1 -f - <"$OUT/wiring.sql" >/dev/null 2>&1 && psql_local -v ON_ERROR_STOP=1 -f - <"$OUT/wiring.sql" >/dev/null 2>&1; rc=$?
check "a prefix then two full reruns: exit 0, still exactly eight databases and roles" bash -c "test $rc = 0 && test '$(counts)' = '8 8'"

APP_NC=$(cred "$tmp/b-lab-app1/rackstack.creds" db.nextcloud)
COMM_ZM=$(cred "$tmp/b-lab-comm1/rackstack.creds" db.zammad)
DB_ZM=$(cred "$tmp/b-lab-db1/rackstack.creds" db.zammad)
login() { # NS PORT USER PASSWORD -> psql's output
        ip netns exec "$1" env PGPASSWORD="$4" PGCONNECT_TIMEOUT=5 psql -X -At -h 10.0.40.12 -p "$2" -U "$3" -d "$3" \
                -c 'SELECT current_user, inet_server_addr()' 2>&1
}
check "lab-app1 logs in to nextcloud with its bundle's password" grep -qx 'nextcloud|10.0.40.12' <<<"$(login "$APP" 5432 nextcloud "$APP_NC")"
out=$(login "$APP" 5432 nextcloud "wrong$APP_NC")
check "lab-app1 with a wrong password: refused" grep -q 'password authentication failed for user "nextcloud"' <<<"$out"
out=$(login "$APP" 5432 zammad "$DB_ZM")
check "lab-app1 as zammad (even with the right password): no pg_hba.conf entry" grep -q 'no pg_hba.conf entry for host "10.0.40.13", user "zammad"' <<<"$out"
check "lab-comm1 logs in to zammad with its bundle's password" grep -qx 'zammad|10.0.40.12' <<<"$(login "$COMM" 5432 zammad "$COMM_ZM")"
out=$(login "$COMM" 5432 nextcloud "$APP_NC")
check "lab-comm1 as nextcloud: no pg_hba.conf entry" grep -q 'no pg_hba.conf entry for host "10.0.40.14", user "nextcloud"' <<<"$out"

# ---- PgBouncer, with the rendered files (paths moved into the test's directory) ----
PB=$tmp/pgbouncer
mkdir -p "$PB"
sed -e "s|/etc/pgbouncer/|$PB/|; s|^unix_socket_dir = .*|unix_socket_dir = $SOCK|; s|^listen_addr = .*|listen_addr = 10.0.40.12|" \
        "$OUT/pgbouncer.ini" >"$PB/pgbouncer.ini"
printf 'pidfile = %s/pid\n' "$PB" >>"$PB/pgbouncer.ini"
cp "$OUT/userlist.txt" "$PB/userlist.txt"
cp "$OUT/pgbouncer-hba.conf" "$PB/pg_hba.conf"
chown -R postgres: "$PB"
chmod 0600 "$PB"/*
inDB runuser -u postgres -- "$PGB" "$PB/pgbouncer.ini" >"$tmp/pgb.log" 2>&1 &
pids+=($!)
for _ in $(seq 40); do inDB bash -c 'exec 3<>/dev/tcp/10.0.40.12/6432' 2>/dev/null && break; sleep 0.25; done
# (PgBouncer reaches PostgreSQL over loopback: the server address it reports is 127.0.0.1)
check "through PgBouncer: lab-app1 reaches nextcloud with its password" grep -qx 'nextcloud|127.0.0.1' <<<"$(login "$APP" 6432 nextcloud "$APP_NC")"
out=$(login "$APP" 6432 nextcloud "wrong$APP_NC")
check "through PgBouncer: a wrong password is refused" grep -q 'FATAL:  SASL authentication failed' <<<"$out"
out=$(login "$APP" 6432 zammad "$DB_ZM")
check "through PgBouncer: lab-app1 as zammad is refused by its hba" grep -q 'FATAL:  login rejected' <<<"$out"
check "through PgBouncer: lab-comm1 reaches zammad" grep -qx 'zammad|127.0.0.1' <<<"$(login "$COMM" 6432 zammad "$COMM_ZM")"

# ---- Redis ACL users ----
RD=$tmp/redis
mkdir -p "$RD"
{ printf 'port 6379\nbind 10.0.40.12\ndir %s\nsave ""\nrequirepass %s\n' "$RD" "$(cred "$tmp/b-lab-db1/rackstack.creds" redis)"
  cat "$OUT/redis-acl.conf"; } >"$RD/redis.conf"
inDB redis-server "$RD/redis.conf" >"$tmp/redis.log" 2>&1 &
pids+=($!)
RNC=$(cred "$tmp/b-lab-app1/rackstack.creds" redis.nextcloud)
rcli() { ip netns exec "$APP" redis-cli --no-auth-warning -h 10.0.40.12 -p 6379 "$@" 2>&1; }
for _ in $(seq 40); do rcli PING | grep -q NOAUTH && break; sleep 0.25; done
check "Redis: user nextcloud with lab-app1's password: PONG" grep -qx PONG <<<"$(rcli --user nextcloud --pass "$RNC" PING)"
check "Redis: a wrong password is refused" grep -q 'WRONGPASS' <<<"$(rcli --user nextcloud --pass "x$RNC" PING)"
check "Redis: FLUSHALL is not nextcloud's to run" grep -q 'NOPERM' <<<"$(rcli --user nextcloud --pass "$RNC" FLUSHALL)"

# ---- the services step offline, with lab-db1's bundle placed in its root ----
r=$tmp/svcroot
mkdir -p "$r/etc/postgresql/15/main" "$r/var/lib/dpkg/info" "$r/etc/redis"
touch "$r/etc/postgresql/15/main/postgresql.conf"
printf 'ID=debian\nVERSION_ID="12"\n' >"$r/etc/os-release"
for p in chrony rsyslog zabbix-agent2 postgresql postgresql-contrib pgbouncer redis-server mariadb-server restic; do touch "$r/var/lib/dpkg/info/$p.list"; done
printf 'bind 127.0.0.1 -::1\nport 6379\n' >"$r/etc/redis/redis.conf"
"$F" db-wiring --root "$r" --host lab-db1 --out "$tmp" --creds "$tmp/b-lab-db1/rackstack.creds" >/dev/null 2>&1
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml --ks kickstart/lab-db1.ks >"$tmp/svc.out" 2>&1; rc=$?
hba=$r/etc/postgresql/15/main/pg_hba.conf
check "services (offline) with the bundle: exit 0" test $rc = 0
check "services: pg_hba.conf lets in each consumer's /32 and not the whole VLAN" bash -c \
        "test \$(grep -c '^host .* 10\.0\.40\.[0-9]*/32 scram-sha-256' '$hba') = 8 && ! grep -q '10.0.40.0/24' '$hba'"
check "services: PgBouncer's three files, for the eight databases" bash -c \
        "test \$(grep -c '= host=127.0.0.1 port=5432 dbname=' '$r/etc/pgbouncer/pgbouncer.ini') = 8 &&
         test \$(wc -l < '$r/etc/pgbouncer/userlist.txt') = 8 && test \$(grep -c '10\.0\.40\.[0-9]*/32' '$r/etc/pgbouncer/pg_hba.conf') = 8"
check "services: MariaDB for its three consumers, 3306 open to their addresses only" bash -c \
        "grep -Eq 'service mariadb +done: configured, .*; 3 consumer databases and accounts' '$tmp/svc.out' &&
         test \$(grep -c 'dport 3306' '$r/etc/nftables.conf') = 3 && grep -q 'ip saddr 10.0.40.16 tcp dport 3306 accept' '$r/etc/nftables.conf'"
check "services: Redis takes the site's password and an ACL user per consumer" bash -c \
        "grep -qx 'requirepass $(cred "$tmp/b-lab-db1/rackstack.creds" redis)' '$r/etc/redis/rackstack.conf' &&
         test \$(grep -c '^user .* on #' '$r/etc/redis/rackstack.conf') = 3"
check "services: no password on the console" bash -c "! grep -qF '$(cred "$tmp/b-lab-db1/rackstack.creds" redis)' '$tmp/svc.out'"
check "services: Redis's 6379 open to its three consumers' addresses only, not to the VLAN" bash -c \
        "test \$(grep -c 'dport 6379' '$r/etc/nftables.conf') = 3 &&
         test \$(grep -Ec 'ip saddr 10\.0\.40\.[0-9]+ tcp dport 6379 accept comment \"Redis: ' '$r/etc/nftables.conf') = 3"
if command -v nft >/dev/null; then
        check "nft -c accepts the db firewall with the consumers' rules" nft -c -f "$r/etc/nftables.conf"
fi

# ---- a rerun without the bundle (the join removed it): the same rules from the kept wiring ----
kept_files="etc/nftables.conf etc/postgresql/15/main/pg_hba.conf etc/pgbouncer/pgbouncer.ini etc/pgbouncer/userlist.txt
        etc/pgbouncer/pg_hba.conf etc/redis/rackstack.conf"
mkdir -p "$tmp/first"
for f in $kept_files; do cp "$r/$f" "$tmp/first/${f//\//_}"; done
check "services kept the bundle's wiring: /var/lib/rackstack/wiring, root 0644, no password in it" bash -c \
        "cmp -s '$r/var/lib/rackstack/wiring' '$r/run/credentials/rackstack/wiring' &&
         test \"\$(stat -c '%U %a' '$r/var/lib/rackstack/wiring')\" = 'root 644' &&
         ! grep -qF '$(cred "$tmp/b-lab-db1/rackstack.creds" db.nextcloud)' '$r/var/lib/rackstack/wiring'"
rm -f "$r"/run/credentials/rackstack/*
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml --ks kickstart/lab-db1.ks >"$tmp/svc2.out" 2>&1; rc=$?
check "rerun without the bundle: exit 0, says the wiring is the kept one" bash -c \
        "test $rc = 0 && grep -q 'wiring from /var/lib/rackstack/wiring (no credentials bundle' '$tmp/svc2.out'"
same=""
for f in $kept_files; do cmp -s "$r/$f" "$tmp/first/${f//\//_}" || same="$same $f"; done
check "rerun without the bundle: firewall, pg_hba, PgBouncer's files and Redis's ACL users unchanged${same:+ (differ:$same)}" \
        test -z "$same"
check "rerun without the bundle: 3306 and 6379 still open to exactly their consumers, each consumer's /32 in pg_hba" bash -c \
        "test \$(grep -c 'dport 3306' '$r/etc/nftables.conf') = 3 && test \$(grep -c 'dport 6379' '$r/etc/nftables.conf') = 3 &&
         grep -q 'ip saddr 10.0.40.16 tcp dport 3306 accept' '$r/etc/nftables.conf' &&
         test \$(grep -c '^host .* 10\.0\.40\.[0-9]*/32 scram-sha-256' '$hba') = 8 && test \$(grep -c '^user .* on #' '$r/etc/redis/rackstack.conf') = 3"
if command -v nft >/dev/null; then
        check "rerun without the bundle: nft -c accepts the db firewall" nft -c -f "$r/etc/nftables.conf"
fi
# nothing kept, no bundle: nothing is invented (no consumer rule; pg_hba lets in the VLAN, as for a lone db host)
rm -f "$r/var/lib/rackstack/wiring"
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml --ks kickstart/lab-db1.ks >"$tmp/svc3.out" 2>&1
check "no bundle and nothing kept: says so, and no consumer rule is invented" bash -c \
        "grep -q 'wiring from none' '$tmp/svc3.out' && ! grep -q 'dport 3306\\|dport 6379' '$r/etc/nftables.conf' &&
         ! grep -q '10\\.0\\.40\\.[0-9]*/32' '$hba' && grep -q '10.0.40.0/24' '$hba'"

# ---- the proxy's TLS from the site CA: lab-infra1's services step, offline, with its bundle ----
"$B" secrets bundle "$S" lab-infra1 --out "$tmp/b-lab-infra1" >/dev/null 2>&1
ri=$tmp/infraroot
mkdir -p "$ri/var/lib/dpkg/info" "$ri/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$ri/etc/os-release"
"$F" db-wiring --root "$ri" --host lab-infra1 --out "$tmp" --creds "$tmp/b-lab-infra1/rackstack.creds" >/dev/null 2>&1
"$F" services --root "$ri" --profile profiles/infra.yaml --site profiles/site.yaml --ks kickstart/lab-infra1.ks >"$tmp/svci.out" 2>&1
T=$ri/etc/traefik/tls
check "services (infra): Traefik's certificate verifies against the site CA it was given" \
        quiet openssl verify -CAfile "$T/ca.crt" "$T/tls.crt"
check "services (infra): the certificate answers for cloud.domain.com and the key is root's only" bash -c \
        "openssl x509 -in '$T/tls.crt' -noout -checkhost cloud.domain.com | grep -q 'does match' && test \$(stat -c %a '$T/tls.key') = 600 &&
         cmp -s <(openssl pkey -in '$T/tls.key' -pubout) <(openssl x509 -in '$T/tls.crt' -noout -pubkey)"
check "services (infra): the routes use that pair" grep -q "certFile: /etc/traefik/tls/tls.crt" "$ri/etc/traefik/dynamic/routes.yml"

finish

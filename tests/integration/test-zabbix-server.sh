#!/bin/bash
# The Zabbix server on lab-comm1 for real (issue 14), with Debian 12's packages, in network
# namespaces standing for VLAN 40: lab-db1 (10.0.40.12) runs PostgreSQL with what its own
# `db-wiring` renders from its bundle (the zabbix_server role and database, SCRAM, a /32 pg_hba
# line for 10.0.40.14); lab-comm1 (10.0.40.14) runs firstboot's Zabbix step (`rackstack-firstboot
# zabbix server`, the code the services step runs) with its own bundle, which imports the schema,
# writes the configuration and starts Debian's zabbix_server, PHP-FPM and nginx (through
# --start-with: there is no systemd here; a mount namespace gives them their /etc/zabbix, /etc/nginx,
# /run and /var/log), and sets up autoregistration through the frontend's API. Two real
# zabbix_agent2: lab-app1 (10.0.40.13) with join_render_zabbix's configuration and the site's PSK,
# and 10.0.40.15 with the same PSK but other metadata.
# Asserted: lab-db1 not up -> a bounded wait and a failure naming it; a wrong password -> a failure
# naming lab-db1 and the credential; the run: schema once, files and modes, no password on the
# console; lab-app1 appears (host.get) in group rackstack, linked to "Linux by Zabbix agent", PSK
# both ways; the other agent is seen (autoreg_host) but not added; a second run: no second action,
# no second host, no second import; Admin's default password no longer works.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
O=$(realpath "${RACKSTACK_BUILD_DIR:-build}")
B=$O/rackstack-build F=$O/rackstack-firstboot
[ -x "$B" ] && [ -x "$F" ] || skip_all "skip: $B or $F is not built"
[ "$(id -u)" = 0 ] || skip_all "skip: needs root (network and mount namespaces)"
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/postgres" ] && id postgres >/dev/null 2>&1 || skip_all "skip: no PostgreSQL server (make deps)"
FPM=$(ls /usr/sbin/php-fpm* 2>/dev/null | sort -V | tail -1)
PHPV=${FPM#/usr/sbin/php-fpm}
# Debian 12 packages all of it (tests/tools/deps.sh installs it there: missing is a failure);
# Ubuntu 24.04 packages no Zabbix: a skip that tests/expected-skips names.
missing=
for x in /usr/sbin/zabbix_server /usr/sbin/zabbix_agent2 /usr/sbin/nginx /usr/share/zabbix/api_jsonrpc.php \
        /usr/share/zabbix-server-pgsql/data.sql.gz "${FPM:-/usr/sbin/php-fpm}" /usr/bin/psql /usr/bin/curl; do
        [ -e "$x" ] || missing="$missing $x"
done
php -m 2>/dev/null | grep -qx pgsql || missing="$missing php-pgsql"
if [ -n "$missing" ]; then
        grep -q '^ID=ubuntu' /etc/os-release 2>/dev/null &&
                skip_all "skip: Ubuntu 24.04 packages no Zabbix (server, frontend, agent 2): missing$missing"
        echo "missing$missing: 'make deps' installs Debian's zabbix-server-pgsql zabbix-frontend-php zabbix-agent2 php-fpm php-pgsql nginx postgresql-client curl"
        exit 1
fi

t0=$SECONDS
phase() { echo "     [$((SECONDS - t0)) s] $*"; } # where the time goes (information, not asserted)
tmp=$(mktemp -d /tmp/rackstack-zbx-XXXXXX)
chmod 755 "$tmp"
S=$tmp/site DB=rszdb$$ COMM=rszcomm$$ AG1=rszag1$$ AG2=rszag2$$
cleanup() {
        for f in "$tmp"/run/zabbix/zabbix_server.pid "$tmp"/run/php/php*-fpm.pid "$tmp"/run/nginx.pid "$tmp"/ag*/pid \
                "$tmp"/pg/postmaster.pid; do
                [ -s "$f" ] && kill "$(head -1 "$f")" 2>/dev/null
        done
        sleep 1
        for ns in "$DB" "$COMM" "$AG1" "$AG2"; do
                ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
                ip netns del "$ns" 2>/dev/null
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
for ns in "$DB" "$COMM" "$AG1" "$AG2"; do ip netns add "$ns" || skip_all "skip: cannot create network namespaces"; done
# lab-comm1 is the hub: 10.0.40.14 on each point-to-point link, a host route to each peer
for l in db:"$DB":10.0.40.12 a1:"$AG1":10.0.40.13 a2:"$AG2":10.0.40.15; do
        IFS=: read -r name ns addr <<<"$l"
        ip link add "c-$name" netns "$COMM" type veth peer name eth0 netns "$ns"
        ip -n "$COMM" addr add 10.0.40.14/32 dev "c-$name"
        ip -n "$COMM" link set "c-$name" up
        ip -n "$COMM" route add "$addr/32" dev "c-$name"
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr/24" dev eth0
        ip -n "$ns" link set eth0 up
done
ip -n "$COMM" link set lo up

# ---- the site's secrets and three bundles ----
"$B" secrets init "$S" >/dev/null 2>&1 || { echo "secrets init failed"; exit 1; }
for h in lab-db1 lab-comm1; do
        "$B" secrets bundle "$S" "$h" --out "$tmp/b-$h" >/dev/null 2>&1 || { echo "bundle $h failed"; exit 1; }
done
secret() { tr -d '\n' <"$S/secrets/$1"; }
DBPW=$(secret db.zabbix-server) ADMINPW=$(secret admin.zabbix-server)

# ---- lab-db1: what its db-wiring renders, PostgreSQL not started yet ----
mkdir -p "$tmp/dbroot" "$tmp/dbout"
"$F" db-wiring --root "$tmp/dbroot" --host lab-db1 --out "$tmp/dbout" --listen 127.0.0.1,10.0.40.12 \
        --creds "$tmp/b-lab-db1/rackstack.creds" >"$tmp/dbw" 2>&1
check "lab-db1's wiring has a pg_hba line for zabbix_server from lab-comm1's address only" \
        grep -Eq '^host +zabbix_server +zabbix_server +10\.0\.40\.14/32 scram-sha-256' "$tmp/dbout/pg_hba.conf"
PGD=$tmp/pg SOCK=$tmp/pgsock
mkdir -p "$PGD" "$SOCK" && chown postgres: "$PGD" "$SOCK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGD" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >"$tmp/initdb.log" 2>&1 ||
        { echo "initdb failed"; exit 1; }
install -o postgres -m 0600 "$tmp/dbout/pg_hba.conf" "$PGD/pg_hba.conf"

# ---- lab-comm1: its /etc/zabbix, /etc/nginx, /run and /var/log in a mount namespace ----
mkdir -p "$tmp/run/php" "$tmp/run/zabbix" "$tmp/log/zabbix-server" "$tmp/log/nginx" "$tmp/lib-nginx"
cp -a /etc/zabbix "$tmp/etc-zabbix"
cp -a /etc/nginx "$tmp/etc-nginx"
rm -f "$tmp/etc-zabbix/zabbix_server.conf" "$tmp/etc-nginx/sites-enabled/default"
chown zabbix: "$tmp/run/zabbix" "$tmp/log/zabbix-server"
cat >"$tmp/start.sh" <<EOF
#!/bin/bash
# systemctl restart UNIT, for this test: stop what runs, start it again, daemonised, output to files
stop() { [ -s "\$1" ] && kill "\$(head -1 "\$1")" 2>/dev/null; for _ in \$(seq 100); do [ -e "\$1" ] || break; sleep 0.2; done; rm -f "\$1"; }
exec </dev/null >>"$tmp/start.log" 2>&1
case "\$1" in
zabbix-server.service) stop /run/zabbix/zabbix_server.pid; runuser -u zabbix -- /usr/sbin/zabbix_server -c /etc/zabbix/zabbix_server.conf ;;
php$PHPV-fpm.service) stop /run/php/php$PHPV-fpm.pid; $FPM --daemonize --fpm-config /etc/php/$PHPV/fpm/php-fpm.conf ;;
nginx.service) stop /run/nginx.pid; /usr/sbin/nginx ;;
*) echo "unknown unit \$1"; exit 1 ;;
esac
EOF
chmod 755 "$tmp/start.sh"
comm_step() { # ARGS… : the Zabbix step as on lab-comm1
        ip netns exec "$COMM" unshare -m --propagation private bash -c '
                set -e; t=$1; shift
                mount --bind "$t/etc-zabbix" /etc/zabbix; mount --bind "$t/etc-nginx" /etc/nginx
                mount --bind "$t/run" /run; mount --bind "$t/log" /var/log; mount --bind "$t/lib-nginx" /var/lib/nginx
                exec "$@"' _ "$tmp" "$F" zabbix server --host lab-comm1 --start-with "$tmp/start.sh" "$@"
}

phase "namespaces, secrets, initdb done"
# 1. lab-db1 is not up: a bounded wait, then the dependency named
RACKSTACK_JOIN_WAIT=2 comm_step --creds "$tmp/b-lab-comm1/rackstack.creds" >"$tmp/run0" 2>&1; rc=$?
check "lab-db1 not up: the step fails naming PostgreSQL on lab-db1 and the bound" bash -c \
        "test $rc = 1 && grep -q 'PostgreSQL on lab-db1 (10.0.40.12:5432) did not answer within 2 s' '$tmp/run0'"

# (a test server: no fsync; the import's cost is its 170 000 statements either way)
ip netns exec "$DB" runuser -u postgres -- "$PGBIN/postgres" -D "$PGD" -k "$SOCK" -c listen_addresses=127.0.0.1,10.0.40.12 \
        -c port=5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off >"$tmp/pg.log" 2>&1 &
disown
for _ in $(seq 60); do ip netns exec "$DB" runuser -u postgres -- "$PGBIN/pg_isready" -q -h "$SOCK" && break; sleep 0.5; done
psql_db() { ip netns exec "$DB" runuser -u postgres -- psql -X -q -At -h "$SOCK" -d "${PGDB:-postgres}" "$@"; }
psql_db -v ON_ERROR_STOP=1 -f - <"$tmp/dbout/wiring.sql" >/dev/null 2>&1 || echo "wiring.sql failed"

# 2. a wrong password in lab-comm1's credentials: refused, and said so
CRED=$tmp/run/credentials/rackstack/db.zabbix-server
chmod 600 "$CRED" && echo "wrong$DBPW" >"$CRED" && chmod 400 "$CRED"
RACKSTACK_JOIN_WAIT=5 comm_step >"$tmp/run1" 2>&1; rc=$?
check "wrong password: fails naming lab-db1's PostgreSQL, zabbix_server and the credential" bash -c \
        "test $rc = 1 && grep -q 'PostgreSQL on lab-db1 (10.0.40.12:5432) refuses zabbix_server: password authentication failed (the site.s db.zabbix-server' '$tmp/run1'"
check "wrong password: nothing imported" test "$(PGDB=zabbix_server psql_db -c "SELECT count(*) FROM pg_tables WHERE schemaname='public'")" = 0

phase "lab-db1 up, wrong password tried"
# 3. a run killed in the middle of the schema import (its psql's query is active on lab-db1): the
# transaction is rolled back and the database is empty again
chmod 600 "$CRED" && printf '%s\n' "$DBPW" >"$CRED" && chmod 400 "$CRED"
# the import's own session: a statement of the import (not the step's checks, nor a session still starting up)
active() { PGDB=zabbix_server psql_db -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'zabbix_server' AND (query LIKE 'SET client_min%' OR query LIKE 'CREATE%' OR query LIKE 'INSERT%' OR query LIKE 'ALTER%')"; }
RACKSTACK_JOIN_WAIT=60 comm_step >"$tmp/run-killed" 2>&1 &
killed=$!
for _ in $(seq 600); do [ "$(active)" -ge 1 ] && break; sleep 0.2; done
# everything of lab-comm1's, until nothing is left (a child spawned between listing and killing too)
for _ in $(seq 50); do p=$(ip netns pids "$COMM"); [ -n "$p" ] || break; kill -9 $p 2>/dev/null; sleep 0.2; done
wait "$killed" 2>/dev/null
for _ in $(seq 100); do [ "$(active)" = 0 ] && break; sleep 0.2; done
N=$(PGDB=zabbix_server psql_db -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
A=$(active)
check "killed mid-import: the import had started, its session is gone, and nothing of it is left in the database" bash -c \
        "grep -q 'importing Zabbix.s schema' '$tmp/run-killed' && test '$A' = 0 && test '$N' = 0"

phase "killed run cleaned up"
# 4. the run
RACKSTACK_JOIN_WAIT=120 comm_step --creds "$tmp/b-lab-comm1/rackstack.creds" >"$tmp/run2" 2>&1; rc=$?
check "the rerun after the kill (exit 0): schema imported, action created" bash -c \
        "test $rc = 0 && grep -q 'schema imported' '$tmp/run2' && grep -q \"action 'rackstack: register the site.s hosts' (id [0-9]*, created\" '$tmp/run2'"
echo "     (the step: $(grep -o 'schema imported in [0-9]* s' "$tmp/run2"))"
[ $rc = 0 ] || { tail -5 "$tmp/run2"; tail -20 "$tmp/log/zabbix-server/zabbix_server.log" 2>/dev/null; }
check "zabbix_server.conf: DBHost lab-db1's VLAN-40 address, database and user zabbix_server, the password only through Include, no version override (PostgreSQL $("$PGBIN/postgres" -V | grep -o "[0-9]*" | head -1) is in range)" bash -c \
        "grep -qx DBHost=10.0.40.12 '$tmp/etc-zabbix/zabbix_server.conf' && grep -qx DBName=zabbix_server '$tmp/etc-zabbix/zabbix_server.conf' &&
         grep -qx Include=/etc/zabbix/rackstack-db.conf '$tmp/etc-zabbix/zabbix_server.conf' && ! grep -qF '$DBPW' '$tmp/etc-zabbix/zabbix_server.conf' &&
         ! grep -q AllowUnsupportedDBVersions '$tmp/etc-zabbix/zabbix_server.conf'"
check "the password file is root:zabbix 0640, the frontend's root:www-data 0640" bash -c \
        "test \"\$(stat -c '%U:%G %a' '$tmp/etc-zabbix/rackstack-db.conf')\" = 'root:zabbix 640' &&
         test \"\$(stat -c '%U:%G %a' '$tmp/etc-zabbix/zabbix.conf.php')\" = 'root:www-data 640' && grep -qxF 'DBPassword=$DBPW' '$tmp/etc-zabbix/rackstack-db.conf'"
check "no password on the console, in the start log or in a leftover pgpass" bash -c \
        "! grep -qF '$DBPW' '$tmp/run2' '$tmp/start.log' && ! grep -qF '$ADMINPW' '$tmp/run2' && test ! -e '$tmp/run/rackstack/zabbix.pgpass'"

phase "the step ran"
api() { # METHOD PARAMS [AUTH] -> the response
        local auth=${3:+,\"auth\":\"$3\"}
        ip netns exec "$COMM" curl -s -m 60 -H 'Content-Type: application/json-rpc' \
                -d "{\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":$2,\"id\":1$auth}" http://127.0.0.1:8080/api_jsonrpc.php
}
js() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
TOKEN=$(api user.login "{\"username\":\"Admin\",\"password\":\"$ADMINPW\"}" | js 'd.get("result","")')
check "Admin logs in with the site's admin.zabbix-server" test -n "$TOKEN"
check "Admin's default password is refused" grep -q '"error"' <<<"$(api user.login '{"username":"Admin","password":"zabbix"}')"
A=$(api action.get '{"output":["eventsource"],"selectFilter":"extend","filter":{"eventsource":["2"]}}' "$TOKEN" |
        js '" ".join([str(len(d["result"]))] + [a["eventsource"] + ":" + a["filter"]["conditions"][0]["value"] for a in d["result"]])')
check "the autoregistration action: one, event source 2, metadata contains 'rackstack role='" test "$A" = "1 2:rackstack role="

# ---- the agents: lab-app1 as its join step renders it; another with other metadata ----
agent() { # NS DIR FQDN METADATA-SED
        local d=$tmp/$2
        mkdir -p "$d/etc/zabbix_agent2.d"
        cp -a /etc/zabbix/zabbix_agent2.d/plugins.d "$d/etc/zabbix_agent2.d/" 2>/dev/null
        # (RefreshActiveChecks: the shortest Zabbix allows, so a try turned away is repeated in 60 s, not 120)
        printf 'PidFile=%s/pid\nLogFile=%s/log\nControlSocket=%s/sock\nRefreshActiveChecks=60\nInclude=/etc/zabbix/zabbix_agent2.d/*.conf\n' "$d" "$d" "$d" >"$d/etc/zabbix_agent2.conf"
        "$F" zabbix agent-conf --fqdn "$3" --role app --server 10.0.40.14 | sed "$4" >"$d/etc/zabbix_agent2.d/60-rackstack.conf"
        install -m 0600 "$S/secrets/zabbix-psk" "$d/etc/rackstack.psk"
        ip netns exec "$1" unshare -m --propagation private bash -c \
                'mount --bind "$1/etc" /etc/zabbix && exec /usr/sbin/zabbix_agent2 -c /etc/zabbix/zabbix_agent2.conf' _ "$d" \
                </dev/null >"$d/out" 2>&1 &
}
autoreg_seen() { test "$(PGDB=zabbix_server psql_db -c "SELECT count(*) FROM autoreg_host WHERE host = '$1'")" = 1; }
host_get() { api host.get "{\"output\":[\"host\",\"tls_connect\",\"tls_accept\"],\"selectGroups\":[\"name\"],\"selectParentTemplates\":[\"name\"],\"filter\":{\"host\":[\"$1\"]}}" "$TOKEN"; }
# Both at once. The stranger's outcome is read after its autoreg_host row is there and after
# lab-app1 (started with it) has been added: by then its request has been through the same
# actions. (Were the action to match it, its host would be there: this check can fail.)
# The step ends by asking the server to reload its configuration cache (the autoregistration PSK is
# read from it); an agent that comes before the reload is done is turned away until its next try
for _ in $(seq 120); do grep -q 'forced reloading of the configuration cache' "$tmp/log/zabbix-server/zabbix_server.log" && break; sleep 0.5; done
# The step's import goes through `zabbix sql-batch` (a thousand statements per round trip): the same
# script plain and batched, each into a database of its own, must dump the same (pg_dump). It runs while
# the agents wait for their autoregistration (~90 s of sleeping), so it costs the test little.
zsql() { echo 'SET client_min_messages = error;'; echo 'BEGIN;'; zcat /usr/share/zabbix-server-pgsql/{schema,images,data}.sql.gz; echo 'COMMIT;'; }
compare_imports() {
        psql_db -c 'CREATE DATABASE rs_plain' -c 'CREATE DATABASE rs_batched' >/dev/null
        zsql | PGDB=rs_plain psql_db -v ON_ERROR_STOP=1 >"$tmp/imp-plain" 2>&1
        zsql | "$F" zabbix sql-batch >"$tmp/batched.sql" 2>"$tmp/imp-filter"
        PGDB=rs_batched psql_db -v ON_ERROR_STOP=1 <"$tmp/batched.sql" >"$tmp/imp-batched" 2>&1
        for d in rs_plain rs_batched; do # (pg_dump's \restrict key is new on every run)
                ip netns exec "$DB" runuser -u postgres -- pg_dump -h "$SOCK" "$d" 2>&1 | grep -v '^\\\(un\)\?restrict ' >"$tmp/$d.dump"
        done
}
compare_imports >"$tmp/compare.log" 2>&1 &
compare_pid=$!
agent "$AG2" ag2 other.domain.com 's/^HostMetadata=.*/HostMetadata=othersite role=app/'
agent "$AG1" ag1 lab-app1.domain.com ''
for _ in $(seq 180); do autoreg_seen other.domain.com && host_get lab-app1.domain.com | grep -q '"hostid"' && break; sleep 1; done
check "the other agent's autoregistration reached the server (autoreg_host), with the site's PSK" autoreg_seen other.domain.com
H=$(host_get lab-app1.domain.com | js '" ".join([str(len(d["result"]))] + [("rackstack" if "rackstack" in [g["name"] for g in h["groups"]] else "-") + "/" + ",".join(t["name"] for t in h["parentTemplates"]) + "/" + h["tls_connect"] + h["tls_accept"] for h in d["result"]])' 2>&1)
check "lab-app1 is registered: one host, in group rackstack, linked to 'Linux by Zabbix agent', PSK both ways" \
        test "$H" = "1 rackstack/Linux by Zabbix agent/22"
[ "$H" = "1 rackstack/Linux by Zabbix agent/22" ] || echo "  host.get: $H"
check "the agent with other metadata is not registered" test "$(host_get other.domain.com | js 'len(d["result"])')" = 0

phase "agents registered"
wait "$compare_pid"
check "the batched import gives the database the plain script gives (pg_dump; $(grep -c '\\;' "$tmp/batched.sql") lines joined)" bash -c \
        "! test -s '$tmp/imp-filter' && cmp -s '$tmp/rs_plain.dump' '$tmp/rs_batched.dump' && grep -q 'Linux by Zabbix agent' '$tmp/rs_plain.dump' &&
         test \$(stat -c %s '$tmp/rs_plain.dump') -gt 10000000 && grep -qF '\\;' '$tmp/batched.sql'"
rm -f "$tmp/batched.sql" "$tmp"/rs_*.dump
psql_db -c 'DROP DATABASE rs_plain' -c 'DROP DATABASE rs_batched' >/dev/null
phase "plain and batched imports compared"
# 5. the step again: nothing twice
RACKSTACK_JOIN_WAIT=120 comm_step >"$tmp/run3" 2>&1; rc=$?
check "a second run: exit 0, the schema kept, the action kept" bash -c \
        "test $rc = 0 && grep -q 'schema present' '$tmp/run3' && grep -q '(id [0-9]*, kept' '$tmp/run3'"
C=$(PGDB=zabbix_server psql_db -c "SELECT (SELECT count(*) FROM actions WHERE eventsource = 2) || ' ' || (SELECT count(*) FROM hosts WHERE host = 'lab-app1.domain.com') || ' ' || (SELECT count(*) FROM dbversion)")
check "after it: one autoregistration action, one lab-app1, one dbversion row" test "$C" = "1 1 1"

phase "second run done"
# ---- the services step on comm (offline: files only), as firstboot runs it, with and without a bundle ----
for v in with without; do
        r=$tmp/svc-$v
        mkdir -p "$r/var/lib/dpkg/info" "$r/etc/php/8.2/fpm"
        touch "$r/etc/php/8.2/fpm/php-fpm.conf"
        printf 'ID=debian\nVERSION_ID="12"\n' >"$r/etc/os-release"
        for p in zabbix-server-pgsql postgresql-client zabbix-frontend-php php-pgsql php-fpm nginx; do touch "$r/var/lib/dpkg/info/$p.list"; done
        # db-wiring places the bundle (then says comm provides nothing: not what is tested here)
        [ $v = with ] && "$F" db-wiring --root "$r" --host lab-comm1 --out "$tmp/x" --creds "$tmp/b-lab-comm1/rackstack.creds" >/dev/null 2>&1
        "$F" services --root "$r" --profile profiles/comm.yaml --site profiles/site.yaml --ks kickstart/lab-comm1.ks >"$tmp/svc-$v.out" 2>&1
done
check "services (comm, offline, with the bundle): zabbix-server configured for lab-db1's database" \
        grep -Eq "service zabbix-server +done: configured: database zabbix_server on PostgreSQL on lab-db1 \(10\.0\.40\.12:5432\); offline" "$tmp/svc-with.out"
check "services (comm, offline): zabbix_server.conf and the password file written, no password on the console" bash -c \
        "grep -qx DBHost=10.0.40.12 '$tmp/svc-with/etc/zabbix/zabbix_server.conf' && grep -qxF 'DBPassword=$DBPW' '$tmp/svc-with/etc/zabbix/rackstack-db.conf' &&
         ! grep -qF '$DBPW' '$tmp/svc-with.out'"
check "services (comm, no bundle): zabbix-server not started, and why" \
        grep -Eq "service zabbix-server +done: installed, not started: no wiring for zabbix-server on lab-comm1" "$tmp/svc-without.out"
# a rerun after the join removed the bundle: the wiring the first run kept, the password the server has
rm -rf "$tmp/svc-with/run/credentials"
"$F" services --root "$tmp/svc-with" --profile profiles/comm.yaml --site profiles/site.yaml --ks kickstart/lab-comm1.ks >"$tmp/svc-rerun.out" 2>&1
check "services (comm, rerun without the bundle): configured again from the kept wiring, the same password file" bash -c \
        "grep -q 'the wiring an earlier run kept' '$tmp/svc-rerun.out' &&
         grep -Eq 'service zabbix-server +done: configured: database zabbix_server on PostgreSQL on lab-db1 \(10\.0\.40\.12:5432\)' '$tmp/svc-rerun.out' &&
         grep -qxF 'DBPassword=$DBPW' '$tmp/svc-with/etc/zabbix/rackstack-db.conf' && ! grep -qF '$DBPW' '$tmp/svc-rerun.out'"

finish

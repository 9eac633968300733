#!/bin/bash
# MariaDB for the applications that support only MySQL/MariaDB (SuiteCRM, Snipe-IT, GLPI), for
# real: the SQL the db host's firstboot runs for its "mysql" consumers (firstboot/db-wiring.c, from
# a wiring and password files as the credentials bundle delivers them, through
# `rackstack-firstboot db-wiring`) is run by a real MariaDB server, Debian 12's 10.11 (the db
# image's version), from the distribution's packages unpacked here (no install on this machine, no
# system service), on loopback. Then, as the consumers would:
#   - each consumer logs in from its own address with its password and owns its database;
#   - from another address (suitecrm's account is bound to 127.0.0.2; the client comes from
#     127.0.0.1), with a wrong password, or to another consumer's database: refused;
#   - the SQL holds no password, and a second run keeps exactly one account and database each;
# and the db host's firewall, written by the services step offline, opens 3306 to those consumers'
# addresses only (nft -c accepts it).
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
. tests/integration/lib.sh
F=$TOP/${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
[ "$(id -u)" = 0 ] || skip_all "needs root (the credential files must be root-owned, as on the server)"
tmp=$(mktemp -d)
cleanup() {
        [ -s "$tmp/my/pid" ] && kill "$(cat "$tmp/my/pid")" 2>/dev/null
        sleep 0.5
        rm -rf "$tmp"
}
trap cleanup EXIT

# --- a real MariaDB, from the distribution's packages (kept in build/ between runs) ----------------
M=$TOP/${RACKSTACK_BUILD_DIR:-build}/mariadb-deb
if [ ! -x "$M/root/usr/sbin/mariadbd" ]; then
        rm -rf "$M" && mkdir -p "$M/debs"
        (cd "$M/debs" && apt-get download -q mariadb-server-core mariadb-client-core libaio1 libnuma1 liburing2) \
                >"$tmp/dl.log" 2>&1 || skip_all "cannot download MariaDB's packages with apt-get download: $(tail -1 "$tmp/dl.log")"
        for d in "$M"/debs/*.deb; do dpkg-deb -x "$d" "$M/root"; done
fi
export LD_LIBRARY_PATH=$M/root/usr/lib/x86_64-linux-gnu
mkdir -p "$tmp/my"
"$M/root/usr/bin/mariadb-install-db" --no-defaults --basedir="$M/root/usr" --datadir="$tmp/my/data" --user=root \
        --skip-test-db >"$tmp/my/install.log" 2>&1 || { tail -5 "$tmp/my/install.log"; skip_all "mariadb-install-db failed"; }
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# as the drop-in (render-mariadb.c) configures it: by address, no name resolution
"$M/root/usr/sbin/mariadbd" --no-defaults --basedir="$M/root/usr" --datadir="$tmp/my/data" --user=root \
        --socket="$tmp/my/sock" --port="$P" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$tmp/my/pid" \
        >"$tmp/my/server.log" 2>&1 &
for _ in $(seq 1 120); do [ -S "$tmp/my/sock" ] && [ -s "$tmp/my/pid" ] && break; sleep 0.5; done
[ -S "$tmp/my/sock" ] || { tail -5 "$tmp/my/server.log"; echo "FAIL: mariadbd did not start"; exit 1; }
root_sql() { "$M/root/usr/bin/mariadb" --no-defaults --socket="$tmp/my/sock" -u root --batch --skip-column-names "$@"; }
# a consumer: over TCP from 127.0.0.1, as USER with PASSWORD-FILE
as() { # USER PWFILE SQL...
        local user=$1 pw=$2
        shift 2
        MYSQL_PWD=$(cat "$pw") "$M/root/usr/bin/mariadb" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$P" \
                -u "$user" --batch --skip-column-names "$@"
}

# --- the db host's credentials, as the bundle places them ------------------------------------------
R=$tmp/root
C=$R/run/credentials/rackstack
mkdir -p "$C"
cat >"$C/wiring" <<'EOF'
mysql snipe-it lab-it1 127.0.0.1 lab-db1 127.0.0.1
mysql suitecrm lab-biz1 127.0.0.2 lab-db1 127.0.0.1
postgresql nextcloud lab-app1 127.0.0.1 lab-db1 127.0.0.1
EOF
for s in snipe-it suitecrm nextcloud; do
        python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$C/db.$s"
done
chmod 0600 "$C"/*
mkdir -p "$tmp/out"
"$F" db-wiring --host lab-db1 --out "$tmp/out" --root "$R" >"$tmp/dbw.log" 2>&1
check "db-wiring: writes mariadb-wiring.sql from the bundle" test -s "$tmp/out/mariadb-wiring.sql"
check "the SQL holds no password, only hashes" bash -c "! grep -qF -e \"\$(cat '$C/db.snipe-it')\" -e \"\$(cat '$C/db.suitecrm')\" '$tmp/out/mariadb-wiring.sql' &&
        grep -q \"IDENTIFIED BY PASSWORD '\\*[0-9A-F]\\{40\\}'\" '$tmp/out/mariadb-wiring.sql'"
check "PostgreSQL's consumer is not MariaDB's" bash -c "! grep -q nextcloud '$tmp/out/mariadb-wiring.sql'"

root_sql <"$tmp/out/mariadb-wiring.sql" >"$tmp/run1.log" 2>&1
check "MariaDB runs the SQL" test $? = 0
root_sql <"$tmp/out/mariadb-wiring.sql" >"$tmp/run2.log" 2>&1
check "... and again (idempotent)" test $? = 0
check "exactly one account and one database per consumer after two runs" \
        test "$(root_sql -e "SELECT COUNT(*) FROM mysql.user WHERE User IN ('snipe_it','suitecrm'); SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('snipe_it','suitecrm')" | tr '\n' ' ')" = "2 2 "
check "the accounts are bound to the consumers' addresses, none from anywhere" \
        test "$(root_sql -e "SELECT CONCAT(User,'@',Host) FROM mysql.user WHERE User IN ('snipe_it','suitecrm') OR Host='%' ORDER BY 1" | tr '\n' ' ')" = "snipe_it@127.0.0.1 suitecrm@127.0.0.2 "

# --- as the consumers ---------------------------------------------------------------------------------
check "snipe-it logs in from its address and owns its database" \
        as snipe_it "$C/db.snipe-it" snipe_it -e "CREATE TABLE assets (id INT PRIMARY KEY); INSERT INTO assets VALUES (1); DROP TABLE assets"
out=$(as suitecrm "$C/db.suitecrm" suitecrm -e "SELECT 1" 2>&1)
check "suitecrm, right password, from an address not its own: refused" bash -c "[[ \"\$1\" == *'is not allowed to connect'* || \"\$1\" == *'Access denied'* ]]" _ "$out"
echo wrong-password >"$tmp/wrong" && chmod 600 "$tmp/wrong"
out=$(as snipe_it "$tmp/wrong" snipe_it -e "SELECT 1" 2>&1)
check "a wrong password: refused" bash -c "[[ \"\$1\" == *'Access denied'* ]]" _ "$out"
out=$(as snipe_it "$C/db.snipe-it" suitecrm -e "SELECT 1" 2>&1)
check "another consumer's database: refused" bash -c "[[ \"\$1\" == *'Access denied'* ]]" _ "$out"

# --- the db host's firewall: 3306 only from the consumers ----------------------------------------------
# the services step offline on a db tree with the site's wiring (lab-it1 and lab-biz1 on VLAN 40)
r=$tmp/dbroot
mkdir -p "$r/run/credentials/rackstack" "$r/var/lib/dpkg/info"
mkdir -p "$r/etc" && printf 'ID=ubuntu\nVERSION_ID="24.04"\n' >"$r/etc/os-release"
printf 'mysql snipe-it lab-it1 10.0.40.18 lab-db1 10.0.40.12\nmysql suitecrm lab-biz1 10.0.40.16 lab-db1 10.0.40.12\n' \
        >"$r/run/credentials/rackstack/wiring"
cp "$C/db.snipe-it" "$C/db.suitecrm" "$r/run/credentials/rackstack/"
touch "$r/var/lib/dpkg/info/mariadb-server.list"
"$F" services --root "$r" --profile profiles/db.yaml --site profiles/site.yaml >"$tmp/svc.out" 2>&1
check "services (db, offline): mariadb configured for its two consumers" \
        grep -Eq "service mariadb +done: configured, bound to loopback and the database VLAN address; 2 consumer databases and accounts" "$tmp/svc.out"
check "the drop-in binds loopback and the VLAN-40 address" grep -qx "bind-address = 127.0.0.1,10.0.40.12" "$r/etc/mysql/mariadb.conf.d/60-rackstack.cnf"
check "the firewall opens 3306 to lab-it1 and lab-biz1 only" \
        bash -c "test \"\$(grep -c 'dport 3306' '$r/etc/nftables.conf')\" = 2 &&
                 grep -q 'ip saddr 10.0.40.18 tcp dport 3306 accept comment \"MariaDB: snipe-it on lab-it1\"' '$r/etc/nftables.conf' &&
                 grep -q 'ip saddr 10.0.40.16 tcp dport 3306 accept' '$r/etc/nftables.conf'"
if command -v nft >/dev/null; then
        check "nft -c accepts the firewall with the consumers' rules" nft -c -f "$r/etc/nftables.conf"
else
        skip_check "nft -c accepts the firewall" "nft missing"
fi
finish

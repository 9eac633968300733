#!/bin/bash
# The db host's backups onto the infra host's backup disk (issue 14), with the real programs in
# network namespaces standing for the site's default VLAN 20: lab-db1 (10.0.50.12) with PostgreSQL
# and restic, lab-infra1 (10.0.50.19) with OpenSSH's sshd, lab-app1 (10.0.50.13) as a neighbour.
# Site secrets are made; each host's own bundle is placed and its end rendered by
# `rackstack-firstboot backup` (the code the services step runs): on lab-infra1 the account
# (useradd --root on a copy of the host's passwd), its chroot and repository directory, the keys
# file and the sshd drop-in; on lab-db1 the job (script, units, env, key, repository password).
# sshd runs with Debian's own sshd_config (which includes the drop-in) in a mount namespace that
# gives it that /etc/ssh, passwd and /srv/backups; the job runs as the unit would (its env file).
# Asserted: the units pass systemd-analyze verify, the script shellcheck, infra's firewall nft -c
# with SSH open to lab-db1's address only, also on a rerun after the join removed the bundle (the
# kept wiring), and none invented when nothing was kept; run 1 dumps every database, makes the repository and a
# snapshot; restic restore + pg_restore into a scratch database shows the rows; run 2 sees new rows,
# uses the first snapshot as parent and does not init again; a wrong repository password fails the
# job (exit != 0) and keeps the last dumps; another key, and lab-db1's key from lab-app1's address,
# are refused; the account gets no shell and sees nothing outside its directory.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
O=$(realpath "${RACKSTACK_BUILD_DIR:-build}")
B=$O/rackstack-build F=$O/rackstack-firstboot
[ -x "$B" ] && [ -x "$F" ] || skip_all "skip: $B or $F is not built"
[ "$(id -u)" = 0 ] || skip_all "skip: needs root (network and mount namespaces)"
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/postgres" ] && id postgres >/dev/null 2>&1 || skip_all "skip: no PostgreSQL server (make deps)"
missing=
for x in restic /usr/sbin/sshd ssh sftp ssh-keygen useradd shellcheck systemd-analyze nft; do
        command -v "$x" >/dev/null || missing="$missing $x"
done
[ -z "$missing" ] || { echo "missing:$missing ('make deps' installs restic, openssh-server, shellcheck, nftables)"; exit 1; }

t0=$(date +%s)
tmp=$(mktemp -d /tmp/rackstack-backup-XXXXXX)
chmod 755 "$tmp"
S=$tmp/site RD=$tmp/db RI=$tmp/infra
DB=rsbkdb$$ INF=rsbkinf$$ APP=rsbkapp$$
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for n in "$DB" "$INF" "$APP"; do for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done; done
        wait 2>/dev/null
        for n in "$DB" "$INF" "$APP"; do ip netns del "$n" 2>/dev/null; done
        rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
ip netns add "$DB" && ip netns add "$INF" && ip netns add "$APP" || skip_all "skip: cannot create network namespaces"
# lab-infra1 holds 10.0.50.19 on both links, a host route to each peer (no bridge module needed)
ip link add i-db netns "$INF" type veth peer name eth0 netns "$DB"
ip link add i-app netns "$INF" type veth peer name eth0 netns "$APP"
ip -n "$INF" link set lo up
for l in i-db:10.0.50.12 i-app:10.0.50.13; do
        ip -n "$INF" addr add 10.0.50.19/32 dev "${l%%:*}"
        ip -n "$INF" link set "${l%%:*}" up
        ip -n "$INF" route add "${l#*:}/32" dev "${l%%:*}"
done
for ns in "$DB:10.0.50.12" "$APP:10.0.50.13"; do
        ip -n "${ns%%:*}" link set lo up
        ip -n "${ns%%:*}" addr add "${ns#*:}/24" dev eth0
        ip -n "${ns%%:*}" link set eth0 up
done

# ---- secrets, bundles, each end rendered from its own bundle ----
"$B" secrets init "$S" >/dev/null 2>&1 || { echo "secrets init failed"; exit 1; }
for h in lab-db1 lab-infra1 lab-app1; do
        "$B" secrets bundle "$S" "$h" --out "$tmp/b-$h" >/dev/null 2>&1 || { echo "bundle $h failed"; exit 1; }
done
names() { python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
_, _, rest = d.partition(b"\n")
while rest:
    line, _, rest = rest.partition(b"\n")
    name, k = line.split()
    print(name.decode())
    rest = rest[int(k) + 1:]
PY
}
for h in lab-db1 lab-infra1 lab-app1; do names "$tmp/b-$h/rackstack.creds" >"$tmp/names-$h"; done
check "secrets: the SSH key and the restic password are lab-db1's only, its public key lab-infra1's only" bash -c "
        grep -qx backup-ssh.key '$tmp/names-lab-db1' && grep -qx backup-restic '$tmp/names-lab-db1' &&
        ! grep -q 'backup-ssh\..*\.pub' '$tmp/names-lab-db1' && grep -qx backup-ssh.lab-db1.pub '$tmp/names-lab-infra1' &&
        ! grep -Eqx 'backup-ssh.key|backup-restic' '$tmp/names-lab-infra1' && ! grep -q backup '$tmp/names-lab-app1'"
check "secrets: ssh-keygen reads the made key, and its public key is the one lab-infra1 gets" \
        bash -c "test \"\$(ssh-keygen -y -f '$S/secrets/backup/lab-db1/ssh.key' | cut -d' ' -f2)\" = \"\$(cut -d' ' -f2 '$S/secrets/backup/lab-db1/ssh.pub')\" &&
                 test \$(stat -c %a '$S/secrets/backup/lab-db1/ssh.key') = 600"

mkdir -p "$RD" "$RI/etc"
cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$RI/etc/"
"$F" backup --root "$RD" --host lab-infra1 --creds "$tmp/b-lab-db1/rackstack.creds" >"$tmp/e" 2>&1; rc=$?
check "backup refuses lab-db1's bundle on lab-infra1" bash -c "test $rc != 0 && grep -q 'is for lab-db1, this host is lab-infra1' '$tmp/e'"
"$F" backup --root "$RD" --host lab-db1 --creds "$tmp/b-lab-db1/rackstack.creds" >"$tmp/e" 2>&1; rc=$?
check "backup on lab-db1: the job to lab-infra1" bash -c "test $rc = 0 && grep -q 'rackstack-pg-backup.timer (nightly) sends the dumps to lab-infra1' '$tmp/e'"
"$F" backup --root "$RI" --host lab-infra1 --creds "$tmp/b-lab-infra1/rackstack.creds" >"$tmp/e" 2>&1; rc=$?
check "backup on lab-infra1: an account for lab-db1" bash -c "test $rc = 0 && grep -q 'SFTP-only backup accounts for lab-db1' '$tmp/e'"
"$F" backup --root "$RI" --host lab-infra1 >/dev/null 2>&1
check "a second run on lab-infra1 (bundle already placed): one account, no second" test "$(grep -c '^rsbackup-lab-db1:' "$RI/etc/passwd")" = 1
check "the account: no password, shell nologin, home its chroot" bash -c "
        grep -q '^rsbackup-lab-db1:!' '$RI/etc/shadow' && grep -q '^rsbackup-lab-db1:x:[0-9]*:[0-9]*:[^:]*:/srv/backups/lab-db1:/usr/sbin/nologin\$' '$RI/etc/passwd'"
uid=$(awk -F: '$1 == "rsbackup-lab-db1" { print $3 }' "$RI/etc/passwd")
check "the chroot is root's 0755, the repository directory the account's 0700" bash -c "
        test \"\$(stat -c '%u %a' '$RI/srv/backups/lab-db1')\" = '0 755' && test \"\$(stat -c '%u %a' '$RI/srv/backups/lab-db1/repo')\" = '$uid 700'"
check "the keys file: one restricted line, from lab-db1's address" grep -qx "restrict,from=\"10.0.50.12\" $(cat "$S/secrets/backup/lab-db1/ssh.pub")" \
        "$RI/etc/ssh/rackstack-backup/rsbackup-lab-db1.keys"
check "lab-db1's secrets are root's only (0700 directory, 0600 files)" bash -c "
        test \$(stat -c %a '$RD/etc/rackstack/backup') = 700 && test -z \"\$(find '$RD/etc/rackstack/backup' -type f ! -perm 600)\" &&
        cmp -s '$RD/etc/rackstack/backup/ssh.key' '$S/secrets/backup/lab-db1/ssh.key'"

# ---- the renders against the real tools ----
verify() { local out; out=$(systemd-analyze verify "$@" 2>&1); [ -z "$out" ] || { echo "$out" | head -5; return 1; }; }
mkdir -p "$tmp/u"
sed "s|^ExecStart=.*|ExecStart=$RD/usr/local/lib/rackstack/pg-backup|" "$RD/etc/systemd/system/rackstack-pg-backup.service" >"$tmp/u/rackstack-pg-backup.service"
cp "$RD/etc/systemd/system/rackstack-pg-backup.timer" "$tmp/u/"
check "the service and timer pass systemd-analyze verify" verify "$tmp/u/rackstack-pg-backup.service" "$tmp/u/rackstack-pg-backup.timer"
sed 's/^Persistent=true/Persistant=true/' "$tmp/u/rackstack-pg-backup.timer" >"$tmp/u/bad.timer"
check "systemd-analyze verify reports a misspelt key (the check is not a no-op)" bash -c "! verify '$tmp/u/bad.timer' >/dev/null 2>&1"
check "the timer is nightly and catches up a missed run (Persistent=)" bash -c "
        grep -qx 'OnCalendar=\*-\*-\* 01:30:00' '$tmp/u/rackstack-pg-backup.timer' && grep -qx 'Persistent=true' '$tmp/u/rackstack-pg-backup.timer'"
check "the job's script passes shellcheck" shellcheck "$RD/usr/local/lib/rackstack/pg-backup"
# lab-infra1's services step, offline: the firewall gets SSH from lab-db1's address
ri=$tmp/svcinfra
mkdir -p "$ri/var/lib/dpkg/info" "$ri/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$ri/etc/os-release"
for p in chrony rsyslog zabbix-agent2 restic borgbackup podman; do touch "$ri/var/lib/dpkg/info/$p.list"; done
"$F" backup --root "$ri" --host lab-infra1 --creds "$tmp/b-lab-infra1/rackstack.creds" >/dev/null 2>&1
"$F" services --root "$ri" --profile profiles/infra.yaml --site profiles/site.yaml --ks kickstart/lab-infra1.ks >"$tmp/svc.out" 2>&1
check "services (infra, offline): the backup service is configured from the wiring" \
        grep -Eq 'service backup +done: SFTP-only backup accounts for lab-db1' "$tmp/svc.out"
check "services (infra): SSH open to lab-db1's address only, besides the management VLAN" bash -c "
        test \$(grep -c 'dport 22 accept' '$ri/etc/nftables.conf') = 2 &&
        grep -q 'ip saddr 10.0.50.12 tcp dport 22 accept comment \"backup: pg-backup on lab-db1\"' '$ri/etc/nftables.conf' &&
        grep -q 'ip saddr 10.0.10.0/24 tcp dport 22 accept' '$ri/etc/nftables.conf'"
check "nft -c accepts infra's firewall with the backup rule" nft -c -f "$ri/etc/nftables.conf"
# a rerun of the services step after the join removed the bundle: the rule stays (the kept wiring)
cp "$ri/etc/nftables.conf" "$tmp/nft-first"
rm -f "$ri"/run/credentials/rackstack/*
"$F" services --root "$ri" --profile profiles/infra.yaml --site profiles/site.yaml --ks kickstart/lab-infra1.ks >"$tmp/svc2.out" 2>&1; rc=$?
check "rerun without the bundle: exit 0, the kept wiring is used and said so" bash -c \
        "test $rc = 0 && grep -q 'wiring from /var/lib/rackstack/wiring (no credentials bundle' '$tmp/svc2.out' &&
         grep -Eq 'service backup +done: kept as an earlier run set it up' '$tmp/svc2.out'"
check "rerun without the bundle: infra's firewall unchanged, SSH still from lab-db1's address" bash -c "
        cmp -s '$tmp/nft-first' '$ri/etc/nftables.conf' && test \$(grep -c 'dport 22 accept' '$ri/etc/nftables.conf') = 2 &&
        grep -q 'ip saddr 10.0.50.12 tcp dport 22 accept comment \"backup: pg-backup on lab-db1\"' '$ri/etc/nftables.conf'"
check "rerun without the bundle: nft -c accepts it" nft -c -f "$ri/etc/nftables.conf"
rm -f "$ri/var/lib/rackstack/wiring"
"$F" services --root "$ri" --profile profiles/infra.yaml --site profiles/site.yaml --ks kickstart/lab-infra1.ks >"$tmp/svc3.out" 2>&1
check "no bundle and nothing kept: no backup rule is invented" bash -c \
        "grep -q 'wiring from none' '$tmp/svc3.out' && test \$(grep -c 'dport 22 accept' '$ri/etc/nftables.conf') = 1"

# ---- sshd on lab-infra1: Debian's sshd_config, the rendered drop-in, in its own mount namespace ----
mkdir -p /run/sshd
cp -a "$RI/etc/ssh" "$tmp/etc-ssh"
cp /etc/ssh/sshd_config "$tmp/etc-ssh/sshd_config" 2>/dev/null || cp /usr/share/openssh/sshd_config "$tmp/etc-ssh/sshd_config"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/etc-ssh/ssh_host_ed25519_key"
printf 'ListenAddress 10.0.50.19\nHostKey /etc/ssh/ssh_host_ed25519_key\n' >>"$tmp/etc-ssh/sshd_config"
inINF() { # the namespace's view: its /etc/ssh, passwd and /srv/backups; the host's stay untouched
        ip netns exec "$INF" unshare -m --propagation private bash -c '
                mount -t tmpfs -o mode=755 tmpfs /etc/ssh && cp -a "$1"/. /etc/ssh/ &&
                for f in passwd group shadow gshadow; do mount --bind "$2/etc/$f" "/etc/$f" || exit 1; done &&
                mount -t tmpfs -o mode=755 tmpfs /srv && mkdir /srv/backups && mount --bind "$2/srv/backups" /srv/backups &&
                shift 2 && exec "$@"' _ "$tmp/etc-ssh" "$RI" "$@"
}
inINF /usr/sbin/sshd -t >"$tmp/sshd-t" 2>&1
check "sshd -t accepts Debian's sshd_config with the drop-in" test $? = 0
inINF /usr/sbin/sshd -T -C user=rsbackup-lab-db1,host=lab-db1,addr=10.0.50.12 >"$tmp/sshd-T" 2>&1
check "sshd -T for the account: chroot, internal-sftp, no TTY, no forwarding, public key only" bash -c "
        grep -qx 'chrootdirectory /srv/backups/lab-db1' '$tmp/sshd-T' && grep -qx 'forcecommand internal-sftp -d /repo' '$tmp/sshd-T' &&
        grep -qx 'permittty no' '$tmp/sshd-T' && grep -qx 'allowtcpforwarding no' '$tmp/sshd-T' &&
        grep -qx 'authenticationmethods publickey' '$tmp/sshd-T' && grep -qx 'passwordauthentication no' '$tmp/sshd-T'"
inINF /usr/sbin/sshd -T -C user=root,host=x,addr=10.0.10.5 >"$tmp/sshd-T-root" 2>&1
check "the drop-in's Match does not leak to other users" bash -c "grep -qx 'chrootdirectory none' '$tmp/sshd-T-root' && grep -qx 'forcecommand none' '$tmp/sshd-T-root'"
inINF /usr/sbin/sshd -D -e >"$tmp/sshd.log" 2>&1 &
pids+=($!)
for _ in $(seq 40); do ip netns exec "$DB" bash -c 'exec 3<>/dev/tcp/10.0.50.19/22' 2>/dev/null && break; sleep 0.25; done

# ---- PostgreSQL on lab-db1, two databases with rows ----
PGD=$tmp/pg SOCK=$tmp/sock
mkdir -p "$PGD" "$SOCK"
chown postgres: "$PGD" "$SOCK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGD" --auth-local=peer -E UTF8 >"$tmp/initdb.log" 2>&1 || { echo "initdb failed"; cat "$tmp/initdb.log"; exit 1; }
ip netns exec "$DB" runuser -u postgres -- "$PGBIN/postgres" -D "$PGD" -k "$SOCK" -c listen_addresses= >"$tmp/pg.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do runuser -u postgres -- "$PGBIN/pg_isready" -q -h "$SOCK" && break; sleep 0.5; done
psql_() { runuser -u postgres -- psql -X -q -At -h "$SOCK" -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c 'CREATE DATABASE nextcloud' -c 'CREATE DATABASE zammad' -c 'CREATE ROLE nextcloud LOGIN' >/dev/null
psql_ -d nextcloud -c 'CREATE TABLE notes (id int PRIMARY KEY, body text)' \
        -c "INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 500) g" >/dev/null
psql_ -d zammad -c 'CREATE TABLE tickets (id int)' -c 'INSERT INTO tickets VALUES (1), (2)' >/dev/null

# ---- the job, as its unit runs it: the env file (paths moved into the test's directories) ----
job() { # [ENV-OVERRIDES...] -> the job's output in $tmp/job.out, its exit status returned
        sed -e "s|^BACKUP_DIR=.*|BACKUP_DIR=$tmp/dumps|" -e "s|/etc/rackstack/backup/|$RD/etc/rackstack/backup/|" \
                -e "s|^RESTIC_CACHE_DIR=.*|RESTIC_CACHE_DIR=$tmp/cache|" "$RD/etc/rackstack/backup/env" >"$tmp/env"
        printf 'PGHOST=%s\n' "$SOCK" >>"$tmp/env"
        for o in "$@"; do printf '%s\n' "$o" >>"$tmp/env"; done
        ip netns exec "$DB" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c \
                'set -a; . "$1"; set +a; exec "$2"' _ "$tmp/env" "$RD/usr/local/lib/rackstack/pg-backup" >"$tmp/job.out" 2>&1
}
mkdir -p "$tmp/dumps"
chmod 700 "$tmp/dumps"
job; rc=$?
[ $rc = 0 ] || tail -5 "$tmp/job.out"
check "run 1: exit 0, every database dumped, the repository made (restic init)" bash -c "test $rc = 0 &&
        grep -q 'pg-backup: 3 databases and the globals dumped' '$tmp/job.out' && grep -q 'restic init' '$tmp/job.out'"
check "run 1: the dumps (pg_dump -Fc) and the globals, root's only" bash -c "
        test -s '$tmp/dumps/dumps/nextcloud.dump' && test -s '$tmp/dumps/dumps/zammad.dump' && test -s '$tmp/dumps/dumps/postgres.dump' &&
        grep -q 'CREATE ROLE nextcloud' '$tmp/dumps/dumps/globals.sql' && test -z \"\$(find '$tmp/dumps/dumps' -type f ! -perm 600)\" &&
        test ! -e '$tmp/dumps/dumps.new'"
check "run 1: the repository is on lab-infra1's disk, the account's files" bash -c "
        test -s '$RI/srv/backups/lab-db1/repo/config' && test \$(stat -c %u '$RI/srv/backups/lab-db1/repo/config') = $uid"
check "run 1: lab-infra1's host key is pinned in lab-db1's known_hosts" \
        grep -q "$(cut -d' ' -f2 "$tmp/etc-ssh/ssh_host_ed25519_key.pub")" "$RD/etc/rackstack/backup/known_hosts"
rs() { # restic on lab-db1 as the job calls it
        ip netns exec "$DB" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c 'set -a; . "$1"; set +a; shift
                restic -o "sftp.command=ssh -i $BACKUP_SSH_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$BACKUP_KNOWN_HOSTS $BACKUP_SSH_TARGET -s sftp" "$@"' \
                _ "$tmp/env" "$@"
}
restore_check() { # N: the latest snapshot restored, pg_restore --list sees the table's data, and
        # (with N) pg_restore into a scratch database has N notes
        rm -rf "$tmp/restore"
        rs restore latest --host lab-db1 --target "$tmp/restore" >/dev/null 2>&1 || return 1
        local f
        f=$(find "$tmp/restore" -name nextcloud.dump) && [ -n "$f" ] || return 1
        pg_restore --list "$f" | grep -q 'TABLE DATA public notes' || return 1
        [ $# = 1 ] || return 0
        chmod -R go+rX "$tmp/restore"
        psql_ -d postgres -c 'SET client_min_messages = warning' -c 'DROP DATABASE IF EXISTS scratch' -c 'CREATE DATABASE scratch' >/dev/null &&
                runuser -u postgres -- pg_restore -h "$SOCK" -d scratch --no-owner "$f" &&
                test "$(psql_ -d scratch -c 'SELECT count(*) FROM notes')" = "$1"
}
n_snap() { rs snapshots --json --host lab-db1 --tag postgresql | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
check "one snapshot, of host lab-db1, tag postgresql" test "$(n_snap)" = 1
check "restic restore: nextcloud's dump, pg_restore --list shows the notes table's data" restore_check

psql_ -d nextcloud -c "INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(501, 520) g" >/dev/null
job; rc=$?
cp "$tmp/job.out" "$tmp/job2.out"
check "run 2: exit 0, incremental (the first snapshot as parent), no second init" bash -c "test $rc = 0 &&
        grep -q 'using parent snapshot' '$tmp/job.out' && ! grep -q 'restic init' '$tmp/job.out'"
ns=$(n_snap)
check "run 2: the retention policy (one a day) removed run 1's snapshot: $ns left" bash -c "
        grep -q 'remove 1 snapshots' '$tmp/job2.out' && test '$ns' = 1"
check "restic restore of the latest snapshot + pg_restore into a scratch database: the 520 rows" restore_check 520

printf 'not-the-password\n' >"$tmp/wrongpw"; chmod 600 "$tmp/wrongpw"
job "RESTIC_PASSWORD_FILE=$tmp/wrongpw"; rc=$?
check "a wrong repository password fails the job (exit $rc), no init over the repository, the last dumps kept" bash -c "
        test $rc != 0 && grep -qi 'wrong password' '$tmp/job.out' && ! grep -q 'restic init' '$tmp/job.out' && test -s '$tmp/dumps/dumps/nextcloud.dump'"

# ---- what the account cannot do ----
sshx() { # NS KEY ARGS...: ssh to the account as the job would, output and status
        local ns=$1 key=$2; shift 2
        ip netns exec "$ns" ssh -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
                -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 rsbackup-lab-db1@10.0.50.19 "$@" 2>&1 </dev/null
}
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other-key"
out=$(sshx "$DB" "$tmp/other-key" true)
check "another key, from lab-db1's address: refused" grep -q 'Permission denied (publickey)' <<<"$out"
cp "$RD/etc/rackstack/backup/ssh.key" "$tmp/stolen-key"; chmod 600 "$tmp/stolen-key"
out=$(sshx "$APP" "$tmp/stolen-key" true)
check "lab-db1's key from lab-app1's address (from=): refused" grep -q 'Permission denied (publickey)' <<<"$out"
out=$(sshx "$DB" "$RD/etc/rackstack/backup/ssh.key" 'id; echo shell-ran')
check "the right key and address, a command: logged in, but no shell (internal-sftp only)" bash -c "
        ! grep -q 'Permission denied' <<<'$out' && ! grep -q 'shell-ran\|uid=' <<<'$out'"
out=$(sshx "$DB" "$RD/etc/rackstack/backup/ssh.key" -tt 'echo shell-ran')
check "a TTY is refused" bash -c "grep -q 'PTY allocation request failed' <<<'$out' && ! grep -q shell-ran <<<'$out'"
sftpx() { ip netns exec "$DB" sftp -i "$RD/etc/rackstack/backup/ssh.key" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -b - rsbackup-lab-db1@10.0.50.19 2>&1; }
out=$(printf 'cd /\nls -1a /\ncd ..\npwd\n' | sftpx)
check "SFTP: / is the chroot, holding only the repository; .. stays there" bash -c "
        grep -qx '/repo' <<<'$out' && ! grep -q '/etc\|/srv\|/home' <<<'$out' && grep -q 'Remote working directory: /\$' <<<'$out'"
out=$(printf 'get /etc/passwd %s/leak\n' "$tmp" | sftpx)
check "SFTP: /etc/passwd is not reachable" bash -c "test ! -e '$tmp/leak'"
out=$(printf 'mkdir /escape\n' | sftpx)
check "SFTP: the chroot itself is not writable" bash -c "test ! -e '$RI/srv/backups/lab-db1/escape'"

echo "time: $(($(date +%s) - t0)) s"
finish

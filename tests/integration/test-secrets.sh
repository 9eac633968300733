#!/bin/bash
# Site secrets with the real program and the real tools: `secrets init` makes the site's secrets
# (0700 directories, 0600 files, even under umask 000), keeps them on a rerun and replaces them
# only with --force; every host certificate verifies against the site CA with `openssl verify`
# (name constraints included) and answers for its FQDN and addresses (-checkhost/-checkip), the
# reverse proxy's for every routed name; `secrets bundle` gives each host exactly its own share
# (no other host's OTP, key or token; a database password only to its consumer and the db host),
# 0600, with the sha256 it prints; and bad usage exits 2.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
quiet() { "$@" >/dev/null 2>&1; }
[ -x "$B" ] || skip_all "$B is not built"
command -v openssl >/dev/null || skip_all "openssl is not installed"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
S=$tmp/site
hosts="lab-id1 lab-db1 lab-app1 lab-comm1 lab-voip1 lab-biz1 lab-erp1 lab-it1 lab-infra1"
read -ra host_list <<<"$hosts"

(umask 000; "$B" secrets init "$S" >"$tmp/e" 2>&1); rc=$?
check "init exits 0" test $rc = 0
check "init: every file is 0600, every directory 0700, under umask 000" \
        test -z "$(find "$S/secrets" \( -type f ! -perm 600 \) -o \( -type d ! -perm 700 \))"
check "init: owned by the user who ran it" test -z "$(find "$S/secrets" ! -uid "$(id -u)")"
check "init: a database password per consumer (the seed's ten and the Zabbix server's)" \
        test "$(find "$S/secrets" -maxdepth 1 -name 'db.*' | wc -l)" = 11
check "init: the Zabbix PSK is 64 hex digits" grep -qxE '[0-9a-f]{64}' "$S/secrets/zabbix-psk"

for h in $hosts; do
        out=$(openssl verify -CAfile "$S/secrets/ca.crt" "$S/secrets/hosts/$h/tls.crt" 2>&1)
        check "openssl verify: $h's certificate is signed by the site CA" test "$out" = "$S/secrets/hosts/$h/tls.crt: OK"
done
check "lab-db1's certificate names lab-db1.domain.com and 10.0.40.12" bash -c \
        "openssl x509 -in '$S/secrets/hosts/lab-db1/tls.crt' -noout -checkhost lab-db1.domain.com | grep -q 'does match' &&
         openssl x509 -in '$S/secrets/hosts/lab-db1/tls.crt' -noout -checkip 10.0.40.12 | grep -q 'does match'"
check "lab-db1's certificate does not name lab-app1" bash -c \
        "openssl x509 -in '$S/secrets/hosts/lab-db1/tls.crt' -noout -checkhost lab-app1.domain.com | grep -q 'does NOT match'"
check "lab-infra1's certificate names every route (cloud, monitor, sso)" bash -c \
        "for n in cloud monitor sso; do openssl x509 -in '$S/secrets/hosts/lab-infra1/tls.crt' -noout -checkhost \$n.domain.com | grep -q 'does match' || exit 1; done"
check "the CA is a CA, limited to the site's domain" bash -c \
        "openssl x509 -in '$S/secrets/ca.crt' -noout -text | grep -q 'CA:TRUE, pathlen:0' &&
         openssl x509 -in '$S/secrets/ca.crt' -noout -text | grep -q 'DNS:domain.com'"
check "the CA key matches the CA certificate" bash -c \
        "cmp <(openssl pkey -in '$S/secrets/ca.key' -pubout) <(openssl x509 -in '$S/secrets/ca.crt' -noout -pubkey)"
check "init: lab-db1's backup key is OpenSSH's (ssh-keygen -y reads it) and ssh.pub is its public key" bash -c \
        "test \"\$(ssh-keygen -y -f '$S/secrets/backup/lab-db1/ssh.key')\" = \"\$(cat '$S/secrets/backup/lab-db1/ssh.pub')\""
check "init: ssh-keygen's private working directory is gone" test -z "$(find "$S/secrets" -name '.ssh-keygen.*')"
# What an init killed while ssh-keygen ran leaves (its private directory, an unstored key): the next init removes it.
mkdir -m 700 "$S/secrets/.ssh-keygen.K1LLED" && echo "-----BEGIN OPENSSH PRIVATE KEY-----" >"$S/secrets/.ssh-keygen.K1LLED/key"
"$B" secrets init "$S" >"$tmp/stale" 2>&1; rc=$?
check "init after a killed init: exit 0, the killed run's key directory is gone" bash -c \
        "test $rc = 0 && test ! -e '$S/secrets/.ssh-keygen.K1LLED'"
# Two runs at once: the second waits for the first (flock on the store), so no CA is made twice.
ca_before=$(sha256sum <"$S/secrets/ca.key")
flock "$S/secrets" sleep 3 &
lockpid=$!
sleep 0.5
"$B" secrets init "$S" >"$tmp/wait" 2>&1; rc=$?
wait $lockpid
check "init while another run holds the store: it waits, says so, then keeps everything" bash -c \
        "test $rc = 0 && grep -q 'Waiting for another rackstack-build secrets run on $S/secrets' '$tmp/wait' &&
         test \"\$(sha256sum <'$S/secrets/ca.key')\" = '$ca_before'"
PATH=/nonexistent "$B" secrets init "$tmp/no-keygen" >"$tmp/e" 2>&1; rc=$?
check "init without ssh-keygen: exit 1, names the package, makes nothing" bash -c \
        "test $rc = 1 && grep -q 'ssh-keygen is not installed (package openssh-client)' '$tmp/e' && test ! -e '$tmp/no-keygen/secrets'"

sums() { (cd "$S/secrets" && find . -type f | sort | xargs sha256sum); }
sums >"$tmp/before"
"$B" secrets init "$S" >"$tmp/e" 2>&1; rc=$?
check "init again: exit 0, nothing replaced" bash -c "test $rc = 0 && cmp -s '$tmp/before' <(cd '$S/secrets' && find . -type f | sort | xargs sha256sum)"
check "init again: says so" grep -q '0 made, .* kept (existing secrets are never replaced without --force)' "$tmp/e"
"$B" secrets init "$S" --force >"$tmp/e" 2>&1; rc=$?
sums >"$tmp/after"
check "init --force: exit 0, every secret new" bash -c \
        "test $rc = 0 && test -z \"\$(join <(awk '{print \$2, \$1}' '$tmp/before' | sort) <(awk '{print \$2, \$1}' '$tmp/after' | sort) | awk '\$2 == \$3')\""
check "init --force: the new certificates verify against the new CA" \
        quiet openssl verify -CAfile "$S/secrets/ca.crt" "$S/secrets/hosts/lab-app1/tls.crt"
check "init --force: the new backup key's public key is ssh.pub" bash -c \
        "test \"\$(ssh-keygen -y -f '$S/secrets/backup/lab-db1/ssh.key')\" = \"\$(cat '$S/secrets/backup/lab-db1/ssh.pub')\""

# ---- bundles ----
parse_bundle() { # FILE -> "name" lines
        python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
head, _, rest = d.partition(b"\n")
assert head.startswith(b"rackstack-credentials 1 "), head
print("host", head.split()[2].decode())
while rest:
    line, _, rest = rest.partition(b"\n")
    name, n = line.split()
    n = int(n)
    assert rest[n:n + 1] == b"\n"
    open(sys.argv[1] + "." + name.decode(), "wb").write(rest[:n])
    print("cred", name.decode())
    rest = rest[n + 1:]
PY
}
for h in $hosts; do
        "$B" secrets bundle "$S" "$h" --out "$tmp/b-$h" >"$tmp/o-$h" 2>&1 || echo "bundle $h failed: $(cat "$tmp/o-$h")"
        parse_bundle "$tmp/b-$h/rackstack.creds" >"$tmp/l-$h"
done
check "bundle: 0600" test "$(stat -c %a "$tmp/b-lab-db1/rackstack.creds")" = 600
check "bundle: the printed sha256 is the file's" bash -c \
        "grep -q \"rackstack.creds.sha256=\$(sha256sum < '$tmp/b-lab-db1/rackstack.creds' | cut -c1-64)\" '$tmp/o-lab-db1'"
check "bundle: it says whose it is" grep -qx 'host lab-app1' "$tmp/l-lab-app1"
check "bundle: lab-app1 has its TLS pair, the CA, its database, Redis and admin passwords" bash -c \
        "for c in tls.key tls.crt ca.crt db.nextcloud db.mattermost redis.nextcloud admin.nextcloud ipa-otp zabbix-psk token wiring; do grep -qx \"cred \$c\" '$tmp/l-lab-app1' || exit 1; done"
check "bundle: lab-app1 has no other service's database password, no Redis default password, no CA key" bash -c \
        "! grep -qE '^cred (db\\.(zammad|odoo|glpi)|redis|ca\\.key)\$' '$tmp/l-lab-app1'"
check "bundle: lab-db1 has every consumer's database password and the Redis password" bash -c \
        "test \$(grep -c '^cred db\\.' '$tmp/l-lab-db1') = 11 && grep -qx 'cred redis' '$tmp/l-lab-db1'"
check "bundle: the value is the stored secret" bash -c \
        "cmp <(tr -d '\\n' < '$S/secrets/db.nextcloud') '$tmp/b-lab-app1/rackstack.creds.db.nextcloud'"
check "bundle: lab-app1's tls.crt verifies against its ca.crt" \
        quiet openssl verify -CAfile "$tmp/b-lab-app1/rackstack.creds.ca.crt" "$tmp/b-lab-app1/rackstack.creds.tls.crt"
check "bundle: lab-app1's wiring points nextcloud at lab-db1 on VLAN 40" \
        grep -qx 'postgresql nextcloud lab-app1 10.0.40.13 lab-db1 10.0.40.12' "$tmp/b-lab-app1/rackstack.creds.wiring"
# No host gets another host's own key, OTP or token (the identity server's ipa-otp.HOST copies are
# how it registers the others, by design, and they are checked to equal each host's own).
leak=$(python3 - "$S/secrets" "$tmp" "${host_list[@]}" <<'PY'
import glob, os, sys
store, tmp, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
leaks = []
for h in hosts:
    got = {os.path.basename(f).split(".", 2)[2]: open(f, "rb").read().strip()
           for f in glob.glob(os.path.join(tmp, "b-" + h, "rackstack.creds.*"))}
    for o in hosts:
        for f in ("tls.key", "token", "ipa-otp"):
            path = os.path.join(store, "hosts", o, f)
            if o == h or not os.path.exists(path):
                continue
            v = open(path, "rb").read().strip()
            leaks += ["%s<-%s/%s" % (h, o, f) for name, val in got.items()
                      if val == v and not (h == "lab-id1" and f == "ipa-otp" and name == "ipa-otp." + o)]
print(" ".join(leaks))
PY
)
check "no host's bundle holds another host's tls.key, token or ipa-otp${leak:+:$leak}" test -z "$leak"
check "lab-id1 holds each host's OTP as ipa-otp.HOST, equal to the host's own" bash -c \
        "cmp '$tmp/b-lab-id1/rackstack.creds.ipa-otp.lab-db1' '$tmp/b-lab-db1/rackstack.creds.ipa-otp'"

"$B" secrets bundle "$S" lab-nope1 --out "$tmp/x" >"$tmp/e" 2>&1; rc=$?
check "bundle for an unknown host: exit 2" test $rc = 2
"$B" secrets bundle "$tmp/empty" lab-db1 --out "$tmp/x" >"$tmp/e" 2>&1; rc=$?
check "bundle before init: exit 2, says to run init" bash -c "test $rc = 2 && grep -q 'secrets init' '$tmp/e'"
"$B" secrets init >"$tmp/e" 2>&1; rc=$?
check "init without SITE-DIR: exit 2" test $rc = 2
"$B" secrets bundle "$S" lab-db1 >"$tmp/e" 2>&1; rc=$?
check "bundle without --out: exit 2" test $rc = 2

finish

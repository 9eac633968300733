#!/bin/bash
# Vendor applications, rendered and checked by the real tools: every OCI service of every role as
# a podman-run unit (systemd-analyze verify, Debian 12's podman 4.3) and as a Quadlet .container
# (Ubuntu 24.04's generator, quadlet -dryrun, when a quadlet binary is at hand: /usr/libexec/podman/
# quadlet or $RACKSTACK_QUADLET). Then the services step offline on an app-role tree with a
# vendor.json and credential files: the units and environment written from the site, data on the
# role's data disk, secrets only by reference, a deferred service skipped, a bad pin refused.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
F=${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze missing"
[ -x /usr/bin/podman ] || skip_all "podman missing (the units name /usr/bin/podman; tests/tools/deps.sh installs it)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
D=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
Q=${RACKSTACK_QUADLET:-/usr/libexec/podman/quadlet}
# Debian 12's podman has no Quadlet: take the generator from Ubuntu 24.04's podman, the package the
# app image carries, from Ubuntu's archive (checked against the archive's Packages sha256; kept in build/).
if [ ! -x "$Q" ]; then
        qdir=$PWD/${RACKSTACK_BUILD_DIR:-build}/quadlet-noble
        if [ ! -x "$qdir/quadlet" ]; then
                mkdir -p "$qdir" "$tmp/deb"
                # only the generator is kept: the package's tree has directories named *.d (etc/cni/net.d)
                # that the GNUmakefile's dependency include would trip on
                python3 - "$tmp/podman.deb" "${RACKSTACK_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}" <<'PY' \
                        && dpkg-deb -x "$tmp/podman.deb" "$tmp/deb" \
                        && install -m 0755 "$tmp/deb/usr/libexec/podman/quadlet" "$qdir/quadlet"
import hashlib, lzma, sys, urllib.request
out, mirror = sys.argv[1], sys.argv[2].rstrip("/")
idx = lzma.decompress(urllib.request.urlopen(mirror + "/dists/noble-updates/universe/binary-amd64/Packages.xz", timeout=60).read()).decode()
st = next(s for s in idx.split("\n\n") if s.startswith("Package: podman\n"))
f = dict(l.split(": ", 1) for l in st.splitlines() if ": " in l)
data = urllib.request.urlopen(mirror + "/" + f["Filename"], timeout=120).read()
if hashlib.sha256(data).hexdigest() != f["SHA256"]:
    sys.exit("podman .deb: sha256 differs from the archive's Packages")
open(out, "wb").write(data)
PY
        fi
        Q=$qdir/quadlet
fi
if [ -x "$Q" ]; then echo "quadlet: $Q"; else skip_check "Quadlet generator" "no quadlet binary and Ubuntu's archive unreachable"; Q=; fi

# systemd-analyze verify exits 0 on a unit it only warns about: any output is a failure.
verify() { local out; out=$(systemd-analyze verify "$@" 2>&1); [ -z "$out" ] || { echo "$out" | head -5; return 1; }; }

units=() gen=()
for role in id app voip biz it infra; do
        for svc in $(python3 -c '
import yaml, sys
p = yaml.safe_load(open("profiles/'$role'.yaml"))
print(" ".join(s["name"] for s in p.get("services", []) if s.get("source") == "oci"))'); do
                unit=$(python3 -c '
import yaml
p = yaml.safe_load(open("profiles/'$role'.yaml"))
print([s.get("unit") or s["name"] + ".service" for s in p["services"] if s["name"] == "'"$svc"'"][0])')
                mkdir -p "$tmp/u/$svc" "$tmp/q/$svc"
                "$F" render app --profile profiles/$role.yaml --site profiles/site.yaml --service "$svc" --digest $D \
                        --credential "db.$svc" --credential redis >"$tmp/u/$svc/$unit"
                units+=("$tmp/u/$svc/$unit")
                check "$role/$svc: runs the image by digest, never pulls" grep -q -- "--pull=never .*@$D\$" "$tmp/u/$svc/$unit"
                if [ -n "$Q" ]; then
                        "$F" render app --profile profiles/$role.yaml --site profiles/site.yaml --service "$svc" --digest $D \
                                --credential "db.$svc" --quadlet >"$tmp/q/$svc/${unit%.service}.container"
                        mkdir -p "$tmp/gen/$svc"
                        QUADLET_UNIT_DIRS=$tmp/q/$svc "$Q" -no-kmsg-log "$tmp/gen/$svc" >/dev/null 2>&1
                        check "$role/$svc: Quadlet generates $unit" test -s "$tmp/gen/$svc/$unit"
                        gen+=("$tmp/gen/$svc/$unit")
                        check "$role/$svc: the generated podman run has the digest and the data volume" \
                                grep -Eq "^ExecStart=.* -v /[^ ]+:[^ ]+ .*@$D\$" "$tmp/gen/$svc/$unit"
                fi
        done
done
# One systemd-analyze run for all (a second or more each).
check "the ${#units[@]} podman units pass systemd-analyze verify" verify "${units[@]}"
[ -n "$Q" ] && check "the ${#gen[@]} Quadlet-generated units pass systemd-analyze verify" verify "${gen[@]}"
# The checks can fail: a misspelt key is reported.
sed 's/^Type=notify/Type=notfy/' "$tmp/u/mattermost/mattermost.service" >"$tmp/bad.service"
check "systemd-analyze verify reports a broken unit (the check is not a no-op)" bash -c "! verify $tmp/bad.service 2>/dev/null >/dev/null"

# ---- the services step, offline, on an app-role tree ---------------------------------------------
r=$tmp/root
mkdir -p "$r/var/lib/dpkg/info" "$r/usr/share/rackstack" "$r/run/credentials/rackstack"
mkdir -p "$r/etc" && printf 'ID=ubuntu\nVERSION_ID="24.04"\n' >"$r/etc/os-release"
for p in chrony rsyslog zabbix-agent2 nginx php-fpm jitsi-meet; do touch "$r/var/lib/dpkg/info/$p.list"; done
secret=s3cr3t-$RANDOM$RANDOM-value
for c in db.nextcloud db.mattermost admin.nextcloud redis; do
        printf '%s-%s' "$secret" "$c" >"$r/run/credentials/rackstack/$c"; chmod 0400 "$r/run/credentials/rackstack/$c"
done
cat >"$r/usr/share/rackstack/vendor.json" <<JSON
{"services":[
 {"name":"nextcloud","source":"oci","image":"docker.io/library/nextcloud:28-fpm","digest":"$D","size":1,"state":"in-image"},
 {"name":"mattermost","source":"oci","image":"docker.io/mattermost/mattermost-team-edition:9.3","digest":"$D","size":1,"state":"in-image"},
 {"name":"jitsi-meet","source":"apt","repo":"deb https://download.jitsi.org stable/","key_fingerprint":"0123456789ABCDEF0123456789ABCDEF01234567","packages":{"jitsi-meet":"2.0"},"state":"deferred"}]}
JSON
"$F" services --root "$r" --profile profiles/app.yaml --site profiles/site.yaml >"$tmp/app.out" 2>&1; rc=$?
check "services (app, offline, podman 4.3 tree): succeeds" test $rc = 0 || cat "$tmp/app.out"
check "services: nextcloud done from the image" grep -Eq "service nextcloud +done: image docker.io/library/nextcloud@$D as a podman unit" "$tmp/app.out"
check "services: the nextcloud unit is written and verifies" verify "$r/etc/systemd/system/nextcloud.service"
check "services: nextcloud's data dir on the nextcloud disk's mount" test -d "$r/srv/nextcloud"
check "services: mattermost's data dir on the appdata disk" test -d "$r/srv/apps/mattermost"
check "services: the DB host's VLAN-40 address in nextcloud's environment" grep -qx "POSTGRES_HOST=10.0.40.12" "$r/etc/rackstack/apps/nextcloud.env"
check "services: the external URL from the site's route" grep -qx "MM_SERVICESETTINGS_SITEURL=https://chat.domain.com" "$r/etc/rackstack/apps/mattermost.env"
check "services: the memory share as MemoryMax" grep -Eq "^MemoryMax=[0-9]+$" "$r/etc/systemd/system/mattermost.service"
check "services: podman secrets made from the credential files, by path" \
        grep -q "would run: podman secret create rackstack-nextcloud-db /run/credentials/rackstack/db.nextcloud" "$tmp/app.out"
check "services: mattermost's DSN (it holds the password) is a podman secret made from a composed file, delivered as its variable" \
        bash -c "grep -q 'would run: podman secret create rackstack-mattermost-dsn /etc/rackstack/credstore/rackstack-mattermost-dsn.tmp' '$tmp/app.out' &&
                 grep -q -- '--secret rackstack-mattermost-dsn,type=env,target=MM_SQLSETTINGS_DATASOURCE ' '$r/etc/systemd/system/mattermost.service' &&
                 test ! -e '$r/etc/rackstack/credstore/rackstack-mattermost-dsn.tmp'"
check "services: jitsi-meet deferred in vendor.json: skipped with the reason" \
        grep -Eq "service jitsi-meet +skipped: deferred; repository download.jitsi.org:443 unreachable \(not probed offline\); https://download.jitsi.org$" "$tmp/app.out"
check "services: no secret value in any file written, nor on the console" \
        bash -c "! grep -rl --exclude-dir=credentials '$secret' '$r' '$tmp/app.out'"
# With Quadlet in the tree: .container files, no hand-written unit.
mkdir -p "$r/usr/libexec/podman" && printf '#!/bin/sh\n' >"$r/usr/libexec/podman/quadlet" && chmod +x "$r/usr/libexec/podman/quadlet"
"$F" services --root "$r" --profile profiles/app.yaml --site profiles/site.yaml >"$tmp/app2.out" 2>&1; rc=$?
check "services (app, Quadlet tree): succeeds" test $rc = 0
check "services: nextcloud as a Quadlet .container" grep -qx "Image=docker.io/library/nextcloud@$D" "$r/etc/containers/systemd/nextcloud.container"
if [ -n "$Q" ]; then
        QUADLET_UNIT_DIRS=$r/etc/containers/systemd "$Q" -no-kmsg-log "$tmp/gen2" >/dev/null 2>&1
        check "services: Quadlet turns the written .container files into units" test -s "$tmp/gen2/mattermost.service"
fi
# A deferred image: pulled at first boot by digest, through the site's mirror for its registry
# (offline here: skipped, naming the mirror and the pinned reference it would pull).
sed -i 's/"size":1,"state":"in-image"}/"state":"deferred"}/' "$r/usr/share/rackstack/vendor.json"
{ cat profiles/site.yaml; printf 'mirrors:\n  - { from: docker.io, to: "http://127.0.0.1:5999/docker.io" }\n'; } >"$tmp/site-mirror.yaml"
"$F" services --root "$r" --profile profiles/app.yaml --site "$tmp/site-mirror.yaml" >"$tmp/app4.out" 2>&1; rc=$?
check "services (app, deferred images): succeeds, nothing faked" test $rc = 0
check "services: a deferred image is skipped, naming the mirror and the pinned reference" \
        grep -Eq "service mattermost +skipped: deferred; mirror 127.0.0.1:5999 unreachable \(not probed offline\); 127.0.0.1:5999/docker.io/mattermost/mattermost-team-edition@$D" "$tmp/app4.out"
sed -i 's/"state":"deferred"}/"size":1,"state":"in-image"}/' "$r/usr/share/rackstack/vendor.json"
# A pin that is not a sha256 digest: the step refuses, it runs nothing unpinned.
sed -i "0,/$D/s//sha256:abc/" "$r/usr/share/rackstack/vendor.json"
"$F" services --root "$r" --profile profiles/app.yaml --site profiles/site.yaml >"$tmp/app3.out" 2>&1; rc=$?
check "services: a vendor.json with a bad digest fails the step (exit 1)" test $rc = 1
check "services: ... naming the service" grep -q "nextcloud: an OCI image in the image needs" "$tmp/app3.out"

# ---- the id role: FreeIPA's container is enabled but not started until join/identity has written
# its install options (started without them it fails and restarts for nothing); once its volume
# holds a configured server (a rerun), the step restarts it like any other ----
r=$tmp/idroot
mkdir -p "$r/var/lib/dpkg/info" "$r/usr/share/rackstack" "$r/run/credentials/rackstack" "$r/etc"
printf 'ID=ubuntu\nVERSION_ID="24.04"\n' >"$r/etc/os-release"
for p in chrony rsyslog podman; do touch "$r/var/lib/dpkg/info/$p.list"; done
printf '{"services":[{"name":"freeipa-server","source":"oci","image":"quay.io/freeipa/freeipa-server:almalinux-9","digest":"%s","size":1,"state":"in-image"}]}\n' \
        "$D" >"$r/usr/share/rackstack/vendor.json"
"$F" services --root "$r" --profile profiles/id.yaml --site profiles/site.yaml >"$tmp/id1.out" 2>&1; rc=$?
check "services (id, no FreeIPA yet): freeipa-server enabled, not started, join/identity named" bash -c \
        "test $rc = 0 && grep -q 'would run: systemctl enable freeipa-server.service' '$tmp/id1.out' &&
         ! grep -q 'systemctl restart freeipa-server' '$tmp/id1.out' &&
         grep -Eq 'service freeipa-server +done: .*enabled; not started: FreeIPA is installed in it at join/identity' '$tmp/id1.out'"
data=$(sed -n 's/.*service freeipa-server .*data in \(\/[^ ;]*\).*/\1/p' "$tmp/id1.out" | head -1)
mkdir -p "$r$data/etc/ipa" "$r$data/var/log"
printf '[global]\nrealm = DOMAIN.COM\n' >"$r$data/etc/ipa/default.conf"
echo "FreeIPA server configured." >"$r$data/var/log/ipa-server-configure-first.log"
"$F" services --root "$r" --profile profiles/id.yaml --site profiles/site.yaml >"$tmp/id2.out" 2>&1; rc=$?
check "services (id, FreeIPA configured in $data): freeipa-server restarted and checked" bash -c \
        "test $rc = 0 && grep -q 'would run: systemctl restart freeipa-server.service' '$tmp/id2.out' &&
         grep -q 'would run: systemctl is-active freeipa-server.service' '$tmp/id2.out'"
check "services (id): the summary counts it as enabled for the join, not running" grep -Eq "[0-9]+ running, 1 enabled for the join to start, [0-9]+ skipped, 0 failed" "$tmp/id1.out"
check "  ... and as running once it is configured" bash -c "grep -Eq '[0-9]+ running, [0-9]+ skipped, 0 failed' '$tmp/id2.out' && ! grep -q 'enabled for the join' '$tmp/id2.out'"
finish

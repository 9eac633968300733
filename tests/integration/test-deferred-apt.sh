#!/bin/bash
# Deferred apt services installed at first boot (firstboot/deferred-apt.c), for real: the stand-in
# vendor's signed apt repository on loopback (tests/tools/vendor-standins.sh), reached through the
# site's mirror mapping, and real apt-get and dpkg installing into a scratch root (Dir=, dpkg --root,
# as mmdebstrap's chrootless mode). `rackstack-firstboot fetch-deferred` runs the plan and apply the
# services step runs for a vendor.json "deferred" apt service. Shown:
#   - reachable: the key checked by fingerprint, the keyring holding that key only, the source with
#     signed-by=, the package installed (dpkg knows its version, its unit file is there), for a flat
#     repository and a dists/ one;
#   - unreachable (mirror on a closed port): skipped with the reason, nothing written;
#   - a key with another fingerprint: refused, nothing trusted, nothing installed;
#   - a repository signed by another key: refused by the InRelease check, the keyring taken out again.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
. tests/integration/lib.sh
F=$TOP/${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
[ "$(id -u)" = 0 ] || skip_all "needs root (dpkg --root writes files owned by root)"
for t in apt-get dpkg gpg gpgv docker-registry apt-ftparchive dpkg-deb; do
        command -v $t >/dev/null || skip_all "$t missing (tests/tools/deps.sh)"
done
tmp=$(mktemp -d)
cleanup() { "$TOP/tests/tools/vendor-standins.sh" stop "$tmp/s" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT

# A role with two deferred apt services: a flat repository (Jitsi's layout) and a dists/ one (Elastic's).
mkdir -p "$tmp/p"
cp profiles/base.yaml profiles/site.yaml "$tmp/p/"
python3 - "$tmp/p/deferred.yaml" <<'EOF'
import sys, yaml
app = yaml.safe_load(open("profiles/app.yaml"))
db = yaml.safe_load(open("profiles/db.yaml"))
j = next(s for s in app["services"] if s["name"] == "jitsi-meet")
e = next(s for s in db["services"] if s["name"] == "elasticsearch")
for s in (j, e):
    s["fetch"] = "firstboot"
app["services"] = [j, e]
app["description"] = "deferred apt services (tests)"
yaml.safe_dump(app, open(sys.argv[1], "w"), sort_keys=False)
EOF
nice -n 10 tests/tools/vendor-standins.sh start "$tmp/s" "$tmp/p" >"$tmp/standins.log" 2>&1 ||
        { cat "$tmp/standins.log"; echo "FAIL: the stand-ins did not start"; exit 1; }
. "$tmp/s/env"
P=$RACKSTACK_VENDOR_PROFILES/deferred.yaml
MAPS=()
for m in $RACKSTACK_VENDOR_MIRRORS; do MAPS+=(--mirror "$m"); done
fd() { "$F" fetch-deferred --profile "$P" --site "$RACKSTACK_VENDOR_PROFILES/site.yaml" "$@"; }
inst_ver() { dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Version}' "$2" 2>/dev/null; }

# --- the plan -------------------------------------------------------------------------------------
mkdir -p "$tmp/r0"
fd --root "$tmp/r0" --plan "${MAPS[@]}" jitsi-meet >"$tmp/plan.json" 2>&1
check "plan: through the site's mirror, the fingerprint pinned, signed-by kept" python3 - "$tmp/plan.json" "$STANDIN_APT" "$STANDIN_KEY_FPR" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["repository"].startswith(sys.argv[2]) and p["mirror"] == p["repository"], p
assert p["key_fingerprint"] == sys.argv[3], p
assert p["source_line"].startswith("deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] " + sys.argv[2]), p
assert p["install"][-2:] == ["install", "jitsi-meet"], p
EOF

# --- reachable: installed ---------------------------------------------------------------------------
R=$tmp/r1
mkdir -p "$R"
fd --root "$R" "${MAPS[@]}" jitsi-meet elasticsearch >"$tmp/ok.log" 2>&1
rc=$?
cat "$tmp/ok.log" | sed 's/^/  | /' | head -8
check "reachable: exit 0" test $rc = 0
check "reachable: both reported done, from the mirror, with the version" \
        bash -c "grep -q '^jitsi-meet: done: installed at first boot from $STANDIN_APT.*jitsi-meet 99:0-standin' '$tmp/ok.log' &&
                 grep -q '^elasticsearch: done: .*elasticsearch 99:0-standin' '$tmp/ok.log'"
check "reachable: dpkg in the root has jitsi-meet 99:0-standin" test "$(inst_ver "$R" jitsi-meet)" = 99:0-standin
check "reachable: dpkg in the root has elasticsearch 99:0-standin" test "$(inst_ver "$R" elasticsearch)" = 99:0-standin
check "reachable: the package's unit is in the root" test -f "$R/usr/lib/systemd/system/jitsi-videobridge2.service"
check "reachable: the source names the keyring by signed-by=" \
        grep -qx "deb \[signed-by=/usr/share/keyrings/jitsi-keyring.gpg\] $STANDIN_APT/download.jitsi.org stable/" \
        "$R/etc/apt/sources.list.d/rackstack-jitsi-meet.list"
fprs() { gpg --batch --with-colons --show-keys "$1" 2>/dev/null | awk -F: '/^fpr:/ { print $10 }' | sort -u | tr '\n' ' '; }
check "reachable: the keyring holds the pinned key and nothing else" \
        test "$(fprs "$R/usr/share/keyrings/jitsi-keyring.gpg")" = "$STANDIN_KEY_FPR "
check "reachable: no temporary directory left" bash -c "! ls -d /tmp/rackstack-deferred-* 2>/dev/null | grep -q ."

# --- unreachable: skipped with the reason, nothing written ------------------------------------------
R=$tmp/r2
mkdir -p "$R"
fd --root "$R" --mirror "https://download.jitsi.org=http://127.0.0.1:1/jitsi" "${MAPS[@]}" jitsi-meet >"$tmp/un.log" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/un.log"
check "unreachable: exit 1" test $rc = 1
check "unreachable: skipped, naming the mirror and why" \
        grep -q '^jitsi-meet: skipped: deferred; mirror 127.0.0.1:1 unreachable (port 1: Connection refused); http://127.0.0.1:1/jitsi$' "$tmp/un.log"
check "unreachable: nothing written in the root" test -z "$(find "$R" -mindepth 1 -print -quit)"

# --- a key with another fingerprint: refused ---------------------------------------------------------
R=$tmp/r3
mkdir -p "$R"
sed -E "s/^( +key-fingerprint: ).*/\1\"$STANDIN_OTHER_FPR\"/" "$P" >"$RACKSTACK_VENDOR_PROFILES/other.yaml"
"$F" fetch-deferred --profile "$RACKSTACK_VENDOR_PROFILES/other.yaml" --site "$RACKSTACK_VENDOR_PROFILES/site.yaml" --root "$R" "${MAPS[@]}" \
        jitsi-meet >"$tmp/fpr.log" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/fpr.log"
check "wrong fingerprint: exit 1" test $rc = 1
check "wrong fingerprint: refused, naming both fingerprints" \
        grep -q "^jitsi-meet: failed: the key from $STANDIN_APT/download.jitsi.org/jitsi-key.gpg.key has fingerprint $STANDIN_KEY_FPR, but the profile pins $STANDIN_OTHER_FPR: refusing to trust it" "$tmp/fpr.log"
check "wrong fingerprint: no keyring, no source, nothing installed" test -z "$(find "$R" -mindepth 1 -print -quit)"

# --- a repository signed by another key: refused by the InRelease check ----------------------------------
R=$tmp/r4
mkdir -p "$R"
cp -a "$STANDIN_WWW/download.jitsi.org" "$STANDIN_WWW/badsig"
GNUPGHOME=$STANDIN_GNUPG gpg --batch --yes --quiet --local-user "$STANDIN_OTHER_FPR" --clearsign \
        -o "$STANDIN_WWW/badsig/stable/InRelease" "$STANDIN_WWW/badsig/stable/Release"
fd --root "$R" --mirror "https://download.jitsi.org=$STANDIN_APT/badsig" "${MAPS[@]}" jitsi-meet >"$tmp/sig.log" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/sig.log" | cut -c1-300
check "other signer: exit 1" test $rc = 1
check "other signer: refused, the signature does not verify" \
        grep -q "^jitsi-meet: failed: the signature of $STANDIN_APT/badsig/stable/InRelease does not verify with key $STANDIN_KEY_FPR" "$tmp/sig.log"
v=$(inst_ver "$R" jitsi-meet)
check "other signer: no keyring or source left, nothing installed" \
        bash -c "test ! -e '$R/usr/share/keyrings/jitsi-keyring.gpg' && test ! -e '$R/etc/apt/sources.list.d/rackstack-jitsi-meet.list' && test -z '$v'"

finish

#!/bin/bash
# Vendor services at build time, through real stand-ins on loopback (tests/tools/vendor-standins.sh:
# Debian's docker-registry, an apt-ftparchive repository signed with a key made here, served over
# HTTP) and the mirror mapping (--mirror FROM=TO).
#   good: (twice: as a user builds, and with the work tree kept to look inside)
#         the erp role (Odoo from its apt repository) plus an OCI service added to the stand-in
#         profiles is built; manifest.json records digest, size, package versions, key fingerprint;
#         the tree holds the keyring, the signed-by source with the upstream URL, the package, the
#         image in /usr/lib/containers/storage (skopeo and podman --root see it), vendor.json.
#   bad:  key with another fingerprint, repository signed by another key, a digest the registry
#         does not have, an unreachable repository and registry: each exit 1, the message names
#         the service and its source, and the output directory stays empty.
set -uo pipefail

B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$TOP/tests/integration/lib.sh"
CACHE=${RACKSTACK_TEST_CACHE:-/var/cache/rackstack}
BASE=debian-12
[ "$(id -u)" = 0 ] || skip_all "needs root (the build chroots and keeps owners)"
[ -x "$B" ] || skip_all "$B is not built"
for t in mmdebstrap docker-registry skopeo podman gpg gpgv apt-ftparchive; do
        command -v "$t" >/dev/null || skip_all "$t is not installed (tests/tools/deps.sh)"
done

tmp=$(mktemp -d /var/tmp/rackstack-vendor.XXXXXX)
cleanup() { "$TOP/tests/tools/vendor-standins.sh" stop "$tmp/s" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT

nice -n 10 "$TOP/tests/tools/vendor-standins.sh" start "$tmp/s" >"$tmp/standins.log" 2>&1 ||
        { cat "$tmp/standins.log"; echo "FAIL: the stand-ins did not start"; exit 1; }
# shellcheck disable=SC1091
. "$tmp/s/env"
MAPS=()
for m in $RACKSTACK_VENDOR_MIRRORS; do MAPS+=(--mirror "$m"); done
P=$RACKSTACK_VENDOR_PROFILES
# One OCI service on the erp host too, so one build covers both kinds (the stand-in registry holds
# docker.io/library/nextcloud:28-fpm).
python3 - "$P/erp.yaml" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
svc = ("  - name: standin-web\n    description: an OCI stand-in (tests)\n    source: oci\n"
       "    image: docker.io/library/nextcloud:28-fpm\n    unit: standin-web.service\n    ports: [8080]\n")
i = s.index("\nports:")
open(p, "w").write(s[:i + 1] + svc + s[i + 1:])
EOF
build() { # OUT PROFILES [OPTIONS...]
        local out=$1 prof=$2
        shift 2
        nice -n 10 "$B" build erp --base "$BASE" --format raw --cache "$CACHE" --out "$out" --profiles "$prof" "$@"
}
empty() { [ -z "$(find "$1" -mindepth 1 -not -type d -print -quit 2>/dev/null)" ]; }
bad() { # DESC PATTERN OUT PROFILES [OPTIONS...]
        local desc=$1 pat=$2 out=$3
        shift 2
        build "$@" >"$tmp/log" 2>&1
        local rc=$?
        check "$desc: exit 1 (got $rc)" test "$rc" = 1
        check "$desc: says $pat" grep -q -- "$pat" "$tmp/log"
        check "$desc: nothing in the output directory" empty "$out"
        [ "$rc" = 1 ] && grep -q -- "$pat" "$tmp/log" || { echo "--- log"; tail -n 15 "$tmp/log"; }
}

# --- bad input ------------------------------------------------------------------------------------
bad "key with another fingerprint" "service 'odoo': the key from https://nightly.odoo.com/odoo.key" \
        "$tmp/bad1" "$TOP/profiles" "${MAPS[@]}"
www=$STANDIN_WWW/nightly.odoo.com/17.0/nightly/deb
cp "$www/InRelease" "$tmp/InRelease.good"
GNUPGHOME=$STANDIN_GNUPG gpg --batch --yes --quiet --local-user "$STANDIN_OTHER_FPR" --clearsign -o "$www/InRelease" "$www/Release"
bad "repository signed by another key" "service 'odoo': the signature of repository https://nightly.odoo.com" \
        "$tmp/bad2" "$P" "${MAPS[@]}"
cp "$tmp/InRelease.good" "$www/InRelease"
cp -r "$P" "$tmp/pdigest"
sed -i 's|    unit: standin-web.service|    digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"\n&|' "$tmp/pdigest/erp.yaml"
bad "image digest the registry does not have" "service 'standin-web': image docker.io/library/nextcloud:28-fpm .*the digest does not match" \
        "$tmp/bad3" "$tmp/pdigest" "${MAPS[@]}"
bad "unreachable repository" "service 'odoo': \(repository https://nightly.odoo.com/.* does not answer\|cannot fetch the signing key from https://nightly.odoo.com/\)" \
        "$tmp/bad4" "$P" --mirror "https://nightly.odoo.com=http://127.0.0.1:1/odoo" "${MAPS[@]}"
bad "unreachable registry" "service 'standin-web': cannot resolve image docker.io/library/nextcloud:28-fpm" \
        "$tmp/bad5" "$P" --mirror "docker.io=http://127.0.0.1:1" "${MAPS[@]}"

# --- deferred: no vendor needed ---------------------------------------------------------------------
# (the good build below and --defer-vendor share the base and the layer without Odoo)

# --- good, as a user builds it --------------------------------------------------------------------
# Without RACKSTACK_KEEP_WORK the layer's tree is mounted under an overlay where it can be
# (layer-tree.h), and the image store's overlay driver cannot live on overlayfs: the build must
# still copy the image into the tree (it once failed here with "a mount_program is required").
build "$tmp/out0" "$P" "${MAPS[@]}" >"$tmp/log0" 2>&1
rc=$?
check "build through the stand-ins, work tree not kept: exit 0 (got $rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 30 "$tmp/log0"
check "build through the stand-ins, work tree not kept: the image copied" grep -q "images: 1 image, .* in the image" "$tmp/log0"
rm -rf "$tmp/out0"

# --- good, the work tree kept for a look inside -----------------------------------------------------
t0=$(date +%s)
RACKSTACK_KEEP_WORK=1 build "$tmp/out" "$P" "${MAPS[@]}" >"$tmp/log" 2>&1
rc=$?
t1=$(date +%s)
check "build through the stand-ins: exit 0 (got $rc, $((t1 - t0)) s)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 30 "$tmp/log"
M=$(find "$tmp/out" -name manifest.json | head -n 1)
tree=$(sed -n 's/.*Keeping the work directory \(.*\) (RACKSTACK_KEEP_WORK=1).*/\1/p' "$tmp/log" | tail -n 1)/tree
if [ -n "$M" ]; then
        check "manifest: odoo in-image, version, key fingerprint, InRelease state" python3 - "$M" "$STANDIN_KEY_FPR" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in m["services"]}
o = s["odoo"]
assert o["state"] == "in-image", o
assert o["packages"] == {"odoo": "99:0-standin"}, o
assert o["key_fingerprint"] == sys.argv[2], o
assert len(o["release_sha256"]) == 64 and o["mirror"].startswith("http://127.0.0.1:"), o
EOF
        check "manifest: the image's digest and size, not pinned" python3 - "$M" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
w = {x["name"]: x for x in m["services"]}["standin-web"]
assert w["state"] == "in-image" and w["digest"].startswith("sha256:") and len(w["digest"]) == 71, w
assert w["size"] > 100000 and w["pinned"] is False, w
EOF
        check "build warned: image not pinned" grep -q "standin-web.*is not pinned" "$tmp/log"
fi
if [ -d "$tree" ]; then
        export GNUPGHOME=$tmp/gnupg-check
        mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
        check "tree: keyring under /usr/share/keyrings holds the pinned key only" sh -c \
                "gpg --batch --quiet --show-keys --with-colons '$tree/usr/share/keyrings/odoo-archive-keyring.gpg' | grep -c '^pub:' | grep -qx 1 &&
                 gpg --batch --quiet --show-keys --with-colons '$tree/usr/share/keyrings/odoo-archive-keyring.gpg' | grep -q ':$STANDIN_KEY_FPR:'"
        check "tree: signed-by source with the upstream URL" grep -qx \
                'deb \[signed-by=/usr/share/keyrings/odoo-archive-keyring.gpg\] https://nightly.odoo.com/17.0/nightly/deb ./' \
                "$tree/etc/apt/sources.list.d/rackstack-odoo.list"
        check "tree: the package is installed" sh -c \
                "dpkg-query --admindir='$tree/var/lib/dpkg' -W -f='\${Version}' odoo | grep -qx '99:0-standin'"
        check "tree: vendor.json lists both, in-image" python3 - "$tree/usr/share/rackstack/vendor.json" <<'EOF'
import json, sys
v = {x["name"]: x for x in json.load(open(sys.argv[1]))["services"]}
assert v["odoo"]["state"] == "in-image" and v["odoo"]["packages"]["odoo"] == "99:0-standin", v
assert v["standin-web"]["state"] == "in-image" and v["standin-web"]["digest"].startswith("sha256:"), v
EOF
        store=$tree/usr/lib/containers/storage
        check "tree: storage.conf names the image store" grep -q 'additionalimagestores = \["/usr/lib/containers/storage"\]' \
                "$tree/etc/containers/storage.conf"
        check "skopeo inspect sees the image in the tree's store" sh -c \
                "unshare -m skopeo inspect 'containers-storage:[overlay@$store+$tmp/run]docker.io/library/nextcloud:28-fpm' >/dev/null"
        check "podman images --root lists it" sh -c \
                "unshare -m podman --root '$store' --runroot '$tmp/run2' --storage-driver overlay images --format '{{.Repository}}:{{.Tag}}' | grep -qx docker.io/library/nextcloud:28-fpm"
        rm -rf "$(dirname "$tree")"
else
        not_ok "the kept work tree is missing"
fi
finish

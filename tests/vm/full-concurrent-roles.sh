#!/bin/bash
# check-full (vm-full tier): two builds of different roles (db and erp) at once, on one cache. They
# share the base tarball (read under a shared lock, unpacked with its sum checked) while each makes
# or reads its own role layer under that entry's lock. Both must succeed with outputs that verify,
# on the same base key, and leave the cache without temporaries and with every entry's sum intact.
# Needs root, mmdebstrap and the host's mirror; erp's layer is built the first time (a few minutes).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. tests/vm/lib.sh
[ "$(id -u)" = 0 ] || skip "needs root (the build runs apt in a chroot and keeps owners)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap missing (make deps)"
B=$O/rackstack-build
[ -x "$B" ] || skip "$B is not built"
CACHE=${RACKSTACK_TEST_CACHE:-/var/cache/rackstack}

T=$(mktemp -d /var/tmp/full-concurrent.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

t0=$(date +%s)
"$B" build db --defer-vendor --base "$(host_base)" --format raw,qcow2 --out "$T/out" --cache "$CACHE" >"$T/db.log" 2>&1 &
pd=$!
"$B" build erp --defer-vendor --base "$(host_base)" --format raw,qcow2 --out "$T/out" --cache "$CACHE" >"$T/erp.log" 2>&1 &
pe=$!
wait $pd; rd=$?
wait $pe; re=$?
echo "db and erp at once: exits $rd/$re in $(($(date +%s) - t0)) s"
grep -h 'rootfs:\|layer:\|build:' "$T/db.log" "$T/erp.log" | sed 's/^/    | /'
check "db built" test $rd = 0
check "erp built" test $re = 0
check "db's outputs verify" bash -c "cd '$T/out/lab-db1' && sha256sum --quiet --strict -c SHA256SUMS"
check "erp's outputs verify" bash -c "cd '$T/out/lab-erp1' && sha256sum --quiet --strict -c SHA256SUMS"
rk() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base"]["rootfs_cache_key"])' "$1"; }
kd=$(rk "$T/out/lab-db1/manifest.json"); ke=$(rk "$T/out/lab-erp1/manifest.json")
check "both on the same base ($kd)" test -n "$kd" -a "$kd" = "$ke"
check "no temporaries in the cache" test -z "$(find "$CACHE" -name '*.tmp.*')"
check "every cache entry's sum verifies" bash -c "for k in rootfs layer; do (cd '$CACHE'/\$k && \
        for s in *.tar.sha256; do sha256sum --quiet --strict -c \$s || exit 1; done) || exit 1; done"
[ $fails = 0 ]

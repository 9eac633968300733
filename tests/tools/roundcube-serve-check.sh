#!/bin/bash
# Serve Roundcube from a built comm layer without booting it: the layer's unpacked tree (read-only,
# under an overlay whose upper directory is private) gets firstboot's services step offline (nginx's
# site for Roundcube, the default site stepped aside), then its own php-fpm and nginx run chrooted in
# private mount, PID and network namespaces (loopback only), and the login page is fetched on 80.
#   roundcube-serve-check.sh LAYER.tree [FIRSTBOOT]      (root; not part of make check: it needs a
#   comm layer in the cache, e.g. /var/cache/rackstack/layer/<key>.tree from `rackstack-build build comm`)
set -eu
T=$(realpath "${1:?usage: roundcube-serve-check.sh LAYER.tree [FIRSTBOOT]}")
TOP=$(cd "$(dirname "$0")/../.." && pwd)
F=$(realpath "${2:-$TOP/build/rackstack-firstboot}")
[ -x "$T/usr/sbin/nginx" ] || { echo "no nginx in $T: not a comm layer"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/u" "$tmp/w" "$tmp/m"
unshare -m -n -p -f --mount-proc bash -eu -c '
T=$1 tmp=$2 F=$3 TOP=$4
M=$tmp/m
mount -t overlay overlay -o "lowerdir=$T,upperdir=$tmp/u,workdir=$tmp/w" "$M"
mount -t proc proc "$M/proc"
mount --rbind /dev "$M/dev"
mount -t tmpfs tmpfs "$M/run"
mount -t tmpfs tmpfs "$M/tmp"
ip link set lo up
cd "$TOP"
"$F" services --root "$M" --profile "$TOP/profiles/comm.yaml" --site "$TOP/profiles/site.yaml" \
        >"$tmp/services.out" 2>&1 || true
grep -E "service (roundcube|nginx)" "$tmp/services.out" || true
echo "--- sites-enabled: $(ls "$M/etc/nginx/sites-enabled")"
chroot "$M" nginx -t
mkdir -p "$M/run/php"
v=$(ls "$M/etc/php")
chroot "$M" "/usr/sbin/php-fpm$v"
chroot "$M" /usr/sbin/nginx
for _ in $(seq 1 60); do curl -s -o "$tmp/page" -w "%{http_code}" http://127.0.0.1/ >"$tmp/code" 2>/dev/null && break; sleep 0.5; done
echo "--- GET / : HTTP $(cat "$tmp/code"), $(wc -c <"$tmp/page") bytes"
grep -o "<title>[^<]*</title>" "$tmp/page" || true
# what firstboot checks (roundcube_login_page): both fields, the login task, no PHP source
grep -q "id=\"rcmloginuser\"" "$tmp/page" && grep -q "id=\"rcmloginpwd\"" "$tmp/page" && grep -q _task "$tmp/page" &&
        ! grep -q "<?php" "$tmp/page" && [ "$(cat "$tmp/code")" = 200 ]
' _ "$T" "$tmp" "$F" "$TOP"
echo "Roundcube's login page served through nginx and PHP-FPM"

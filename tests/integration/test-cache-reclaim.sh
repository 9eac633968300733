#!/bin/bash
# The build cache gives room back (cache-reclaim.h): `rackstack-build cache list|prune` and a build's
# own reclaim when its cache's filesystem is short, on a small tmpfs holding a cache laid out as the
# builder lays it out (KEY.tar, KEY.tar.sha256, KEY.lock, a layer's KEY.tree and KEY.ext4-H), with a
# real build holding one entry (an flock taken shared, as cache_entry_lock takes it). Asserted: the
# unpacked copies go before any tarball, least recently used first, no more than asked; an entry in
# use is never touched; --dry-run and bad sizes change nothing; the build says what it removed and
# still refuses when the room is not there.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
[ -x "$B" ] || skip_all "$B is not built"
[ "$(id -u)" = 0 ] || skip_all "needs root (a tmpfs of a known size)"
command -v flock >/dev/null || skip_all "flock (util-linux) is not installed"

tmp=$(mktemp -d /tmp/test-cache-reclaim.XXXXXX)
holder=
cleanup() {
        [ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
        umount "$tmp/fs" 2>/dev/null || umount -l "$tmp/fs" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/fs"
mount -t tmpfs -o size=320m tmpfs "$tmp/fs" || skip_all "cannot mount a tmpfs"
C=$tmp/fs/cache
mkdir -p "$C/rootfs" "$C/layer"

key() { printf '%064d' "$1" | tr 0 "$2"; }
BASE=$(key 0 b) OLD=$(key 0 1) MID=$(key 0 2) BUSY=$(key 0 3)
# entry KIND KEY MiB LAST-USE [copies MiB]: the tarball, its sum, its lock, dated LAST-USE
entry() {
        local d=$C/$1 k=$2
        head -c "$3M" /dev/urandom >"$d/$k.tar"
        echo "$(sha256sum <"$d/$k.tar" | cut -d' ' -f1)  $k.tar" >"$d/$k.tar.sha256"
        # the tarball's time is when it was made, the lock's when a build last took the entry
        touch -d "$4" "$d/$k.tar" "$d/$k.tar.sha256" "$d/$k.lock"
        if [ -n "${5:-}" ]; then
                mkdir -p "$d/$k.tree/usr/lib"
                head -c "$(($5 / 2))M" /dev/urandom >"$d/$k.tree/usr/lib/libbig.so"
                head -c "$(($5 / 2))M" /dev/urandom >"$d/$k.ext4-0123456789abcdef"
        fi
}
entry rootfs "$BASE" 20 "1 min ago"
entry layer "$OLD" 20 "3 days ago" 40
entry layer "$MID" 20 "2 days ago" 40
entry layer "$BUSY" 20 "5 days ago" 40
# A build using BUSY: its lock held shared, as a build holds it while it runs.
( exec 9<"$C/layer/$BUSY.lock" && flock -s 9 && exec sleep 600 ) >/dev/null 2>&1 &
holder=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do flock -n -x "$C/layer/$BUSY.lock" true || break; sleep 0.2; done
present() { [ -e "$C/$1/$2$3" ]; }
state() { for k in "$OLD" "$MID" "$BUSY"; do for s in .tar .tree .ext4-0123456789abcdef; do present layer "$k" "$s" && echo "$k$s"; done; done; }
free_mib() { echo $(($(stat -f -c '%a * %S' "$tmp/fs") / 1048576)); }

# ---- list ------------------------------------------------------------------------------------------
"$B" cache list --cache "$C" >"$tmp/list" 2>&1
check "cache list: four entries" grep -q '^4 entries' "$tmp/list"
check "cache list: the entry a build holds is 'in use'" grep -q "^layer  ${BUSY:0:12} .* in use$" "$tmp/list"
check "cache list: the base's tarball, no copies" grep -Eq "^rootfs ${BASE:0:12} +20(\.0)? MiB +- " "$tmp/list"
sed 's/^/    | /' "$tmp/list"

# ---- bad input: exit 2, nothing removed ------------------------------------------------------------
before=$(state | sort)
"$B" cache prune --cache "$C" >"$tmp/o" 2>&1; rc=$?
check "cache prune without a size: exit 2" test $rc = 2
check "  ... says what it needs" grep -q 'one of --keep-free SIZE, --max-size SIZE, --all' "$tmp/o"
"$B" cache prune --cache "$C" --max-size 12Q >"$tmp/o" 2>&1; rc=$?
check "cache prune --max-size 12Q: exit 2, naming it" bash -c "test $rc = 2 && grep -q \"Bad --max-size '12Q'\" '$tmp/o'"
"$B" build db --cache "$C" --cache-keep-free lots --out "$tmp/out" >"$tmp/o" 2>&1; rc=$?
check "build --cache-keep-free lots: exit 2" test $rc = 2
check "  ... naming it" grep -q "Bad --cache-keep-free 'lots'" "$tmp/o"
"$B" cache prune --cache "$C" --all --dry-run >"$tmp/dry" 2>&1
check "cache prune --all --dry-run: names every step (two layers' copies, three tarballs)" test "$(grep -c '^would remove' "$tmp/dry")" = 5
check "  ... the entry in use is kept, and said so" bash -c "grep -q 'keeping the layer entry ${BUSY:0:12}: a build is using it' '$tmp/dry' && ! grep -q 'would remove.*${BUSY:0:12}' '$tmp/dry'"
check "  ... copies before tarballs" bash -c "! grep '^would remove' '$tmp/dry' | head -2 | grep -q whole && test \"\$(grep '^would remove' '$tmp/dry' | tail -3 | grep -c whole)\" = 3"
check "  ... and nothing went" test "$(state | sort)" = "$before"

# ---- prune --keep-free: the oldest copies that are not in use, no more -----------------------------
f0=$(free_mib)
want=$((f0 + 30))
"$B" cache prune --cache "$C" --keep-free "${want}M" >"$tmp/p1" 2>&1; rc=$?
sed 's/^/    | /' "$tmp/p1"
check "cache prune --keep-free ${want}M: exit 0" test $rc = 0
check "  ... the entry in use was kept (its copies are the oldest)" bash -c "grep -q 'keeping the layer entry ${BUSY:0:12}: a build is using it' '$tmp/p1' && test -d '$C/layer/$BUSY.tree' && test -e '$C/layer/$BUSY.ext4-0123456789abcdef'"
check "  ... the next oldest copies went" bash -c "test ! -e '$C/layer/$OLD.tree' && test ! -e '$C/layer/$OLD.ext4-0123456789abcdef'"
check "  ... and no more: the newer layer's copies and every tarball stay" bash -c "test -d '$C/layer/$MID.tree' && test -e '$C/layer/$OLD.tar' && test -e '$C/layer/$OLD.tar.sha256' && test -e '$C/layer/$MID.tar' && test -e '$C/rootfs/$BASE.tar'"
check "  ... ${want} MiB free now" test "$(free_mib)" -ge "$want"

# ---- a build short of room: it reclaims first, whole entries after copies, and keeps the one in use --
"$B" build db --cache "$C" --cache-keep-free 300M --out "$tmp/out" >"$tmp/b" 2>&1; rc=$?
sed 's/^/    | /' "$tmp/b"
check "build with 300M to keep free in a 320M cache: exit 1 (still not the 6 GiB a build needs)" test $rc = 1
check "  ... it said why it removed things" grep -q 'below the 300 MiB a build keeps free there (--cache-keep-free)' "$tmp/b"
check "  ... copies went before any tarball" bash -c "n1=\$(grep -n 'removed the unpacked copies of the layer entry ${MID:0:12}' '$tmp/b' | cut -d: -f1); n2=\$(grep -n 'removed the whole' '$tmp/b' | head -1 | cut -d: -f1); test -n \"\$n1\" -a -n \"\$n2\" && test \$n1 -lt \$n2"
check "  ... whole entries, the oldest first: the layers, then the base" bash -c "test ! -e '$C/layer/$OLD.tar' -a ! -e '$C/layer/$OLD.tar.sha256' -a ! -e '$C/layer/$MID.tar' -a ! -e '$C/rootfs/$BASE.tar'"
check "  ... the entry in use is whole" bash -c "test -e '$C/layer/$BUSY.tar' -a -e '$C/layer/$BUSY.tar.sha256' -a -d '$C/layer/$BUSY.tree'"
check "  ... and then the room check refused, naming the cache" grep -q "free in $C; a build needs about 6 GiB there" "$tmp/b"
check "  ... with nothing in --out" test -z "$(find "$tmp/out" -type f 2>/dev/null)"

# ---- 0 turns it off --------------------------------------------------------------------------------
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=
RACKSTACK_CACHE_KEEP_FREE=0 "$B" build db --cache "$C" --out "$tmp/out" >"$tmp/b0" 2>&1
check "RACKSTACK_CACHE_KEEP_FREE=0: the build removes nothing (the last entry stays)" bash -c "! grep -q 'cache: removed' '$tmp/b0' && test -e '$C/layer/$BUSY.tar'"
finish

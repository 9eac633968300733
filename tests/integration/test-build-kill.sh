#!/bin/bash
# Crash safety of a real build (warm cache): SIGKILL at each stage boundary and inside each long
# stage, SIGINT and SIGTERM inside the image and qcow2 stages. After every kill the output
# directory holds no file at all (outputs are unnamed O_TMPFILE files until published), no tool
# keeps running, the cache holds no temporary and its entries still verify, and the killed
# build's work directory is unlocked (so the next build removes it). Then a full output disk: a
# clear error and nothing left behind. Raw and qcow2, and once the ISO and PXE set (the ISO is an
# unnamed file like the others; the PXE set is staged in the work directory).
#
# The base and role-layer tarballs are hard-linked from $RACKSTACK_TEST_CACHE (default
# /var/cache/rackstack) into a private cache, so work directories are ours alone; a cold cache
# there is skipped (test-build-cache.sh makes it warm). Needs root.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
CACHE=${RACKSTACK_TEST_CACHE:-/var/cache/rackstack}
# The private cache's tarballs are hard links of the shared cache's: a build's reclaim of room there
# (--cache-keep-free) would free nothing and take the entries this test counts on.
export RACKSTACK_CACHE_KEEP_FREE=0

[ "$(id -u)" = 0 ] || skip_all "needs root (the build runs apt in a chroot and keeps owners)"
[ -x "$B" ] || skip_all "$B is not built"
key=$(ls "$CACHE"/layer/*.tar 2>/dev/null | head -n 1)
ls "$CACHE"/rootfs/*.tar >/dev/null 2>&1 && [ -n "$key" ] || skip_all "no warm cache in $CACHE (run test-build-cache.sh first)"

tmp=$(mktemp -d /var/tmp/test-build-kill.XXXXXX)
cleanup() {
        umount "$tmp/full" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
C=$tmp/cache
mkdir -p "$C/rootfs" "$C/layer"
for kind in rootfs layer; do
        for f in "$CACHE/$kind"/*.tar "$CACHE/$kind"/*.tar.sha256; do
                ln "$f" "$C/$kind/" 2>/dev/null || cp --reflink=auto "$f" "$C/$kind/"
        done
done

# Start a build, wait for a JSON event, then signal it. Sets pid, rc, out.
kill_at() { # name, event-regex, delay after it, signal
        local name=$1 ev=$2 delay=$3 sig=$4
        out=$tmp/out-$name
        : >"$tmp/ev-$name"
        "$B" build db --defer-vendor --base debian-12 --format "${FORMATS:-raw,qcow2}" --out "$out" --cache "$C" --json \
                >"$tmp/ev-$name" 2>"$tmp/log-$name" &
        pid=$!
        local i
        for i in $(seq 3000); do
                grep -Eq "$ev" "$tmp/ev-$name" && break
                kill -0 $pid 2>/dev/null || break
                sleep 0.1
        done
        if ! grep -Eq "$ev" "$tmp/ev-$name"; then
                not_ok "$name: the build never reached $ev"
                wait $pid; return 1
        fi
        sleep "$delay"
        local stage; stage=$(tail -n 1 "$tmp/ev-$name" | cut -c1-60)
        kill -"$sig" $pid
        wait $pid; rc=$?
        echo "-- $name: SIG$sig $delay s after $ev; last event $stage; exit $rc"
        # A short stage (the PXE set takes 0.3 s) can end, and the build publish its outputs, before
        # the signal lands: that point was not reached, which is no failure.
        if [ -e "$out/lab-db1/SHA256SUMS" ] && (cd "$out/lab-db1" && sha256sum --quiet --strict -c SHA256SUMS); then
                echo "   (the build had published a complete, verified set before the signal: point not tested)"
                rm -rf "$out"
                return 1
        fi
        return 0
}

no_process() { # pattern: no process's command line matches (this script's own does not hold it)
        ! pgrep -f -- "$1" >/dev/null
}

after_kill() { # name, signal
        local name=$1 sig=$2
        sleep 1
        check "$name: nothing in the output directory" test -z "$(find "$out" -mindepth 1 -not -type d 2>/dev/null)"
        check "$name: no tool still running for it" no_process "$out|/proc/$pid/fd|$C/work/"
        check "$name: no temporaries in the cache" test -z "$(find "$C" -name '*.tmp.*')"
        local w
        w=$(ls -d "$C"/work/lab-db1-* 2>/dev/null)
        if [ "$sig" = KILL ]; then
                check "$name: the work directory is unlocked, for the next build to remove" \
                        bash -c "[ -n '$w' ] && for d in $w; do [ -e \$d/.lock ] && flock -n \$d/.lock true || exit 1; done"
                rm -rf $w
        else
                check "$name: exit status non-zero" test "$rc" != 0
                check "$name: the build removed its work directory" test -z "$w"
        fi
}

# What killed builds staged under NAME.tmp.PID (the ISO, the PXE directory) goes when the next build
# starts, unless that process still runs (this script's PID stands for a live build).
dead=999999; while kill -0 $dead 2>/dev/null; do dead=$((dead + 1)); done
mkdir -p "$tmp/out-kill-layer/lab-db1/pxe.tmp.$dead"
touch "$tmp/out-kill-layer/lab-db1/lab-db1.iso.tmp.$dead" "$tmp/out-kill-layer/lab-db1/lab-db1.iso.tmp.$$"
kill_at kill-layer '"stage":"layer","state":"start"' 2 KILL
check "a dead build's staged ISO and PXE directory were removed" \
        test ! -e "$out/lab-db1/pxe.tmp.$dead" -a ! -e "$out/lab-db1/lab-db1.iso.tmp.$dead"
check "a live build's staged file was left alone" test -e "$out/lab-db1/lab-db1.iso.tmp.$$"
rm -f "$out/lab-db1/lab-db1.iso.tmp.$$"
after_kill kill-layer KILL
# make check kills at five points (inside the image stage with SIGKILL and SIGINT, inside qcow2 with
# SIGTERM, while hashing with SIGKILL, while xorriso writes the ISO with SIGKILL); make check-full
# (RACKSTACK_FULL=1) at every stage boundary and inside the PXE stage.
full=${RACKSTACK_FULL:-0}
[ "$full" = 1 ] && { kill_at kill-hygiene '"stage":"hygiene","state":"done"' 0 KILL && after_kill kill-hygiene KILL; }
kill_at kill-image '"stage":"image","state":"start"' 3 KILL && after_kill kill-image KILL
[ "$full" = 1 ] && { kill_at kill-image-done '"stage":"image","state":"done"' 0 KILL && after_kill kill-image-done KILL; }
[ "$full" = 1 ] && { kill_at kill-qcow2 '"stage":"qcow2","state":"start"' 3 KILL && after_kill kill-qcow2 KILL; }
kill_at kill-sums '"stage":"qcow2","state":"done"' 0.5 KILL && after_kill kill-sums KILL
FORMATS=raw,iso,pxe kill_at kill-iso '"stage":"iso","state":"start"' 1 KILL && after_kill kill-iso KILL
[ "$full" = 1 ] && { FORMATS=raw,pxe kill_at kill-pxe '"stage":"pxe","state":"start"' 0 KILL && after_kill kill-pxe KILL; }
kill_at int-image '"stage":"image","state":"start"' 3 INT && after_kill int-image INT
kill_at term-qcow2 '"stage":"qcow2","state":"start"' 3 TERM && after_kill term-qcow2 TERM
check "the cache entries still verify" bash -c "cd '$C' && for s in rootfs/*.sha256 layer/*.sha256; do \
        (cd \$(dirname \$s) && sha256sum --quiet --strict -c \$(basename \$s)) || exit 1; done"

# ---- a full output disk, filled while the image is written -------------------------------------------
mkdir -p "$tmp/full"
truncate -s 3G "$tmp/full.img"
if mkfs.ext4 -q -F "$tmp/full.img" && mount -o loop "$tmp/full.img" "$tmp/full" 2>/dev/null; then
        out=$tmp/full/out
        "$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$out" --cache "$C" --json >"$tmp/ev-full" \
                2>"$tmp/log-full" &
        pid=$!
        for _ in $(seq 3000); do
                grep -q '"stage":"image","state":"start"' "$tmp/ev-full" && break
                kill -0 $pid 2>/dev/null || break
                sleep 0.1
        done
        avail=$(df -B1 --output=avail "$tmp/full" | tail -n 1)
        fallocate -l $((avail - 64 * 1024 * 1024)) "$tmp/full/filler"
        wait $pid; rc=$?
        echo "-- full disk: exit $rc"; grep -i 'space\|error' "$tmp/log-full" | head -n 5 | sed 's/^/    | /'
        check "full disk: exit 1" test $rc = 1
        check "full disk: the error says the disk is full" grep -qi 'No space left on device\|Not enough space' "$tmp/log-full"
        rm -f "$tmp/full/filler"
        check "full disk: nothing in the output directory" test -z "$(find "$out" -mindepth 1 -not -type d 2>/dev/null)"
        check "full disk: the space is given back" test "$(df -B1 --output=used "$tmp/full" | tail -n 1)" -lt $((200 * 1024 * 1024))
        umount "$tmp/full"
else
        echo "(no loop mount here: the full-disk case is not run)"
fi

finish

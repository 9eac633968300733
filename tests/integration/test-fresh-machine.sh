#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's first command on a fresh machine: a Debian 12 minbase root made by mmdebstrap (plus
# make, which the README asks for first), this source tree copied in, and `make demo` run in it
# through chroot up to a linked build/rackstack-build that runs. The demo's VM boot is left out
# (tests/vm/demo.sh is replaced in the copy by a stub that runs the freshly linked programs): it is
# what the VM tier tests. This is the run that once failed: the GNUmakefile read pkg-config's flags
# before deps-check had installed the -dev packages, so the first link lacked every library.
#
# The host's apt archive cache is bind-mounted into the root so the packages deps.sh installs are
# not downloaded again (apt's own lock serialises it with the host's apt). Services that packages'
# maintainer scripts would start (PostgreSQL) are held back by a policy-rc.d in the root; the root
# runs in its own mount and PID namespaces, so nothing it starts outlives the test.
#
# Exit: 0 passed, 77 skipped (not root, no mmdebstrap/unshare), 1 failed.
set -u

O=${RACKSTACK_O:-build}
here=$(cd "$(dirname "$0")/../.." && pwd)
case $O in /*) ;; *) O=$here/$O ;; esac
# shellcheck source=tests/integration/lib.sh
. "$here/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "SKIP: needs root (mmdebstrap, chroot)"
for t in mmdebstrap unshare chroot git tar; do command -v $t >/dev/null || skip_all "SKIP: no $t"; done
git -C "$here" rev-parse --git-dir >/dev/null 2>&1 || skip_all "SKIP: not a git checkout (the copy is made from git ls-files)"

MIRROR=${RACKSTACK_FRESH_MIRROR:-http://deb.debian.org/debian}
SECURITY=${RACKSTACK_FRESH_SECURITY:-http://deb.debian.org/debian-security}
CACHE=/var/cache/apt/archives

mkdir -p "$O"
root=$(mktemp -d "$O/fresh-root.XXXXXX")
cleanup() {
        # Anything still mounted belongs to the namespace, which is gone; a lazy unmount covers a
        # mount that leaked (it must never take the host's apt cache with the rm below).
        for m in "$root/var/cache/apt/archives" "$root/proc" "$root/dev"; do
                mountpoint -q "$m" 2>/dev/null && umount -l "$m"
        done
        if ! grep -q " $root/" /proc/self/mounts; then rm -rf "$root"; fi
}
trap cleanup EXIT

t0=$SECONDS
echo "== mmdebstrap: Debian 12 minbase + make into $root"
# The cache is bind-mounted during the bootstrap too and unmounted before mmdebstrap's cleanup (which
# empties the root's archive directory); essential/unlink would delete the cached .debs it used.
mmdebstrap --variant=minbase --include=make --skip=essential/unlink --skip=cleanup/apt/lists \
        --setup-hook="mkdir -p \"\$1$CACHE\" && mount --bind $CACHE \"\$1$CACHE\"" \
        --customize-hook="umount \"\$1$CACHE\"" \
        bookworm "$root" \
        "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
        "deb $SECURITY bookworm-security main" || { echo "FAIL: mmdebstrap"; exit 1; }
echo "   $((SECONDS - t0))s"

# The tree as a clone would have it (tracked and new files, no build/), with the demo's boot stubbed.
mkdir -p "$root/src"
(cd "$here" && git ls-files -z -co --exclude-standard | grep -zv '^build/' | tar --null -T - -cf -) |
        tar -xf - -C "$root/src" || { echo "FAIL: copying the tree"; exit 1; }
cat >"$root/src/tests/vm/demo.sh" <<'EOF'
#!/bin/sh
# Stub laid in by test-fresh-machine.sh: the programs must be linked and run.
set -e
build/rackstack-build list >/dev/null
build/rackstack-firstboot --help >/dev/null
echo "fresh-demo: rackstack-build and rackstack-firstboot linked and ran"
EOF
chmod +x "$root/src/tests/vm/demo.sh"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

echo "== make demo in the fresh root (deps-check installs the packages, then the build)"
t1=$SECONDS
log=$root.log
unshare --mount --pid --fork --propagation private sh -c '
        set -e
        root=$1 cache=$2
        mount --bind "$cache" "$root$cache"
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        exec chroot "$root" /bin/sh -c "cd /src && nice -n 10 make -j2 demo"
' sh "$root" "$CACHE" >"$log" 2>&1
rc=$?
tail -n 15 "$log"
echo "   $((SECONDS - t1))s (total $((SECONDS - t0))s)"
if [ $rc != 0 ]; then
        echo "FAIL: the first 'make demo' on a fresh Debian 12 root exited $rc"
        grep -m 5 -E 'undefined reference|error:' "$log"
        rm -f "$log"
        exit 1
fi
rm -f "$log"
grep -q . "$root/src/build/rackstack-build" 2>/dev/null || { echo "FAIL: no build/rackstack-build"; exit 1; }
ok "the first 'make demo' on a fresh Debian 12 root installed its packages and linked both programs"
finish

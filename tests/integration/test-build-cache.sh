#!/bin/bash
# rackstack-build build, for real, up to and including the disk image stage: usage errors, an
# unreachable mirror, a real db build on the Debian 12 base from the host's mirror (cold or warm
# cache), what the tree holds (hygiene, firstboot, profile), the cache entries and their sums,
# two builds sharing the cache at once, an interrupted build, and that a failed or interrupted
# build leaves nothing in the output directory; --sign and --pin-from on real builds.
#
# The builds run on a private cache: a build started on a shared cache removes the work directory
# of any build that has exited (as stale), and this script inspects its kept work tree after its
# build exits, and counts the work directories and temporaries of the cache. The private cache is
# seeded with hard links to the entries of $RACKSTACK_TEST_CACHE (default /var/cache/rackstack, the
# one the VM tests build from: one cold build per CI run), and the entries the first build makes are
# published back there, under each entry's lock, sum first, as the builder does. So reruns are warm;
# delete the shared cache to measure a cold build. Needs root, mmdebstrap and the host's Debian mirror.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
SHARED=${RACKSTACK_TEST_CACHE:-/var/cache/rackstack}
# The private cache's tarballs are hard links of the shared cache's: a build's reclaim of room there
# (--cache-keep-free) would free nothing and take the entries this test counts on.
export RACKSTACK_CACHE_KEEP_FREE=0

[ "$(id -u)" = 0 ] || skip_all "needs root (mmdebstrap --mode=root, chroot, owners)"
command -v mmdebstrap >/dev/null || skip_all "mmdebstrap is not installed"
[ -x "$B" ] || skip_all "$B is not built"
[ -x "$(dirname "$B")/rackstack-firstboot" ] || skip_all "rackstack-firstboot is not built"
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
[ -n "$MIRROR" ] || skip_all "no Debian mirror in /etc/apt/sources.list.d/debian.sources"
timeout 10 bash -c "exec 3<>/dev/tcp/$(echo "$MIRROR" | sed -E 's|^[a-z]+://([^/:]+).*|\1|')/80" 2>/dev/null ||
        skip_all "the mirror $MIRROR is not reachable"

tmp=$(mktemp -d /var/tmp/test-build-cache.XXXXXX)
cleanup() { umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
out=$tmp/out
CACHE=$tmp/cache

# An entry (KEY.tar and KEY.tar.sha256 of rootfs/ or layer/) from one cache into another, under the
# destination entry's lock and only if it has no such entry: the sum first, then the tarball, each
# appearing whole (a hard link, or a copy renamed into place), so a build that finds the tarball
# finds its sum.
# A build using the entry holds the lock shared for as long as it runs, and one making it holds it
# exclusively: wait only while the entry is missing.
link_entry() { # from-dir to-dir key
        local i
        for i in $(seq 600); do
                [ -e "$2/$3.tar" ] && return 0
                flock -n "$2/$3.lock" bash -c '
                        [ -e "$2/$3.tar" ] && exit 0
                        for f in "$3.tar.sha256" "$3.tar"; do
                                ln -f "$1/$f" "$2/$f" 2>/dev/null && continue
                                cp --reflink=auto "$1/$f" "$2/$f.copy.$$" && mv -f "$2/$f.copy.$$" "$2/$f" || exit 2
                        done' _ "$@"
                case $? in 0) return 0 ;; 2) return 1 ;; esac
                sleep 1
        done
        return 1
}
copy_entries() { # from-cache to-cache
        local kind t key
        for kind in rootfs layer; do
                mkdir -p "$2/$kind"
                for t in "$1/$kind"/*.tar; do
                        [ -s "$t" ] && [ -s "$t.sha256" ] || continue
                        key=${t##*/}; key=${key%.tar}
                        link_entry "$1/$kind" "$2/$kind" "$key" || echo "could not copy $t to $2/$kind"
                done
        done
}
copy_entries "$SHARED" "$CACHE"
no_partial() { # the output directory holds no temporary or partial file
        ! find "$out" -name '*.tmp.*' 2>/dev/null | grep -q .
}
no_artifacts() {
        ! find "$out" -type f 2>/dev/null | grep -q .
}

# ---- usage and input errors: exit 2, before anything is built -------------------------------------
"$B" build >"$tmp/e" 2>&1; check "no role: exit 2" test $? = 2
"$B" build db --defer-vendor --frobnicate >"$tmp/e" 2>&1; check "unknown option: exit 2" test $? = 2
"$B" build db --defer-vendor --base debian-11 >"$tmp/e" 2>&1; check "unknown base: exit 2" test $? = 2
check "unknown base names the choices" grep -q 'ubuntu-24.04 or debian-12' "$tmp/e"
"$B" build db --defer-vendor --format raw,vmdk >"$tmp/e" 2>&1; check "unknown format: exit 2" test $? = 2
"$B" build db --defer-vendor --pxe-url https://x/y >"$tmp/e" 2>&1; check "--pxe-url must be http://: exit 2" test $? = 2
"$B" build db --defer-vendor --pxe-url "http://x/y z" >"$tmp/e" 2>&1; check "--pxe-url with a space: exit 2" test $? = 2
"$B" build db --defer-vendor --ks /nonexistent.ks >"$tmp/e" 2>&1; check "--ks missing file: exit 2" test $? = 2
printf 'network --bootproto=static --frobnicate\n' > "$tmp/bad.ks"
"$B" build db --defer-vendor --ks "$tmp/bad.ks" >"$tmp/e" 2>&1; check "--ks with a bad kickstart: exit 2" test $? = 2
check "--ks error names FILE:LINE" grep -q "bad.ks:1:" "$tmp/e"
"$B" build nosuchrole --base debian-12 --out "$out" --cache "$tmp/c0" >"$tmp/e" 2>&1
check "unknown role: exit 2" test $? = 2
check "unknown role lists the roles" grep -q 'roles: id db app' "$tmp/e"
check "nothing was written for bad usage" no_artifacts
if command -v setpriv >/dev/null; then
        (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$B" build db --defer-vendor --base debian-12 \
                --profiles "$OLDPWD/profiles" --out /nonexistent >"$tmp/e" 2>&1); rn=$?
        check "as non-root: exit 1 with a clear reason" test $rn = 1
        check "  ... which says it needs root" grep -q 'needs root' "$tmp/e"
fi

# ---- an unreachable mirror: a clear error within seconds ---------------------------------------------
t0=$(date +%s.%N)
"$B" build db --defer-vendor --base debian-12 --mirror http://127.0.0.1:1/debian --out "$out" --cache "$tmp/c1" >"$tmp/e" 2>&1
rc=$?
dt=$(echo "$(date +%s.%N) - $t0" | bc)
check "unreachable mirror: exit 1" test $rc = 1
check "unreachable mirror: fails within 10 s ($dt s)" test "$(echo "$dt < 10" | bc)" = 1
check "unreachable mirror: names the mirror and how to change it" \
        grep -q 'Mirror http://127.0.0.1:1/debian (from --mirror).*' "$tmp/e"
grep -q 'Choose another with --mirror URL or RACKSTACK_MIRROR' "$tmp/e"; check "  ... and says --mirror/RACKSTACK_MIRROR" test $? = 0
check "unreachable mirror: nothing in the output directory" no_artifacts
check "unreachable mirror: the work directory is removed" test -z "$(ls -A "$tmp/c1/work" 2>/dev/null)"

# ---- the real build ----------------------------------------------------------------------------------
cold=yes
ls "$CACHE"/rootfs/*.tar >/dev/null 2>&1 && cold=no
t0=$(date +%s)
RACKSTACK_KEEP_WORK=1 "$B" build db --defer-vendor --base debian-12 --out "$out" --cache "$CACHE" --json >"$tmp/events" 2>"$tmp/log"
rc=$?
t1=$(date +%s)
echo "db build (cache was cold: $cold): exit $rc in $((t1 - t0)) s"
# The VM tests and test-build-kill build from the shared cache: give it what this build made.
[ $rc = 0 ] && copy_entries "$CACHE" "$SHARED"
sed 's/^/    | /' "$tmp/log" | grep -v '^    | *$' | tail -n 25
work=$(sed -n 's/.*Keeping the work directory \(.*\) (RACKSTACK_KEEP_WORK=1)/\1/p' "$tmp/log")
tree=$work/tree
check "the build reached the image stage" grep -q '"stage":"image","state":"start"' "$tmp/events"
check "every stdout line is a JSON event" python3 -c '
import json,sys
for line in open(sys.argv[1]):
    e=json.loads(line)
    assert set(e) >= {"stage","state","bytes","elapsed"}, e
    assert e["state"] in ("start","done","fail"), e
' "$tmp/events"
if grep -q '"stage":"image","state":"fail"' "$tmp/events"; then
        check "a failed image stage exits 1" test $rc = 1
        check "a failed build leaves no artifact in DIR" no_artifacts
else
        check "the build succeeded" test $rc = 0
        check "SHA256SUMS verifies" bash -c "cd '$out/lab-db1' && sha256sum --strict -c SHA256SUMS"
        check "the raw image is sparse" test "$(du -k "$out/lab-db1/lab-db1.raw" | cut -f1)" -lt \
                "$(($(stat -c %s "$out/lab-db1/lab-db1.raw") / 1024))"
        check "qcow2 is a qcow2" bash -c "qemu-img info '$out/lab-db1/lab-db1.qcow2' | grep -q 'file format: qcow2'"
        check "the ISO is hybrid (El Torito BIOS + UEFI, GPT)" bash -c "xorriso -indev '$out/lab-db1/lab-db1.iso' \
                -report_el_torito plain -report_system_area plain 2>&1 | grep -c 'El Torito boot img :   [12]  \(BIOS\|UEFI\)' | grep -qx 2"
        check "the PXE set is complete, no template name left" bash -c "cd '$out/lab-db1/pxe' && ls vmlinuz initrd.img \
                installer.squashfs image.raw.zst SHA256SUMS boot.ipxe pxelinux.0 ldlinux.c32 pxelinux.cfg/default \
                grub/grub.cfg grubnetx64.efi >/dev/null && ! grep -l '@[A-Z_]*@' boot.ipxe pxelinux.cfg/default grub/grub.cfg"
        check "the PXE set's image verifies and decompresses to the raw image" bash -c "cd '$out/lab-db1/pxe' && \
                sha256sum --quiet --ignore-missing -c SHA256SUMS && cmp <(zstd -dc image.raw.zst) '$out/lab-db1/lab-db1.raw' && \
                grep -qxF \"\$(grep ' lab-db1.raw\$' ../SHA256SUMS)\" SHA256SUMS"
        check "manifest lists packages and the layout" python3 -c '
import json,sys
m=json.load(open(sys.argv[1]))
assert any(p["name"]=="postgresql" for p in m["packages"])
assert m["layout"]["partitions"]
assert all(len(a["sha256"])==64 for a in m["artifacts"])
' "$out/lab-db1/manifest.json"
fi
check "no partial files in DIR" no_partial

# ---- what the tree holds -----------------------------------------------------------------------------
check "work tree kept for inspection" test -d "$tree/usr"
check "no SSH host keys" test -z "$(ls "$tree"/etc/ssh/ssh_host_* 2>/dev/null)"
check "empty /etc/machine-id" test -f "$tree/etc/machine-id" -a ! -s "$tree/etc/machine-id"
check "no dbus machine-id" test ! -e "$tree/var/lib/dbus/machine-id"
check "no /etc/hostname" test ! -e "$tree/etc/hostname"
check "no random seed" test ! -e "$tree/var/lib/systemd/random-seed"
check "no apt lists" test -z "$(find "$tree/var/lib/apt/lists" -type f ! -name lock 2>/dev/null)"
check "no .debs" test -z "$(find "$tree/var/cache/apt" -name '*.deb' 2>/dev/null)"
check "logs are empty" test -z "$(find "$tree/var/log" -type f -size +0 2>/dev/null)"
check "no policy-rc.d left behind" test ! -e "$tree/usr/sbin/policy-rc.d"
check "firstboot binary installed, executable" test -x "$tree/usr/bin/rackstack-firstboot"
check "firstboot unit installed" test -f "$tree/usr/lib/systemd/system/rackstack-firstboot.service"
check "firstboot unit enabled" test "$(readlink "$tree/etc/systemd/system/multi-user.target.wants/rackstack-firstboot.service")" = \
        /usr/lib/systemd/system/rackstack-firstboot.service
check "ssh host keys made on first boot" grep -q 'ssh-keygen -A' "$tree/etc/systemd/system/ssh.service.d/rackstack-host-keys.conf"
check "profile and site installed" test -s "$tree/usr/share/rackstack/profile.yaml" -a -s "$tree/usr/share/rackstack/site.yaml"
check "overlays applied (common and db)" test -f "$tree/etc/motd" -a -f "$tree/etc/sysctl.d/61-rackstack-db.conf"
check "postgresql, pgbouncer, redis installed" bash -c "dpkg-query --admindir='$tree/var/lib/dpkg' -W postgresql pgbouncer redis-server >/dev/null"
check "kernel installed" bash -c "ls '$tree'/boot/vmlinuz-* >/dev/null"
check "one initramfs per kernel" test "$(ls "$tree"/boot/initrd.img-* 2>/dev/null | wc -l)" = "$(ls "$tree"/boot/vmlinuz-* | wc -l)"
check "update-initramfs is not left diverted" test ! -e "$tree/usr/sbin/update-initramfs.rackstack" -a ! -L "$tree/usr/sbin/update-initramfs"
check "setuid bit kept (su)" test -u "$tree/usr/bin/su"
check "owners kept (shadow group)" test "$(stat -c %G "$tree/etc/shadow")" = shadow
check "a device node kept or none needed" bash -c "test -z \"\$(ls -A '$tree/dev' 2>/dev/null)\" || test -c '$tree/dev/null'"
[ -n "$work" ] && rm -rf "$work"

# ---- a role whose packages are all in the base: no apt run, its layer is the base's tarball ---------------
# The bench's role (bench/profiles/it.yaml) asks for four packages the base has. A private cache with
# the base entries alone, so the layer is made here whatever other caches hold.
mkdir -p "$tmp/cacheL/rootfs"
for t in "$CACHE"/rootfs/*.tar; do link_entry "$CACHE/rootfs" "$tmp/cacheL/rootfs" "$(basename "$t" .tar)"; done
"$B" build it --profiles bench/profiles --base debian-12 --format raw --out "$tmp/outL" --cache "$tmp/cacheL" >"$tmp/logL" 2>&1
rl=$?
grep -E 'rootfs:|layer:' "$tmp/logL" | sed 's/^/    | /'
check "a role with only base packages: the build succeeded" test $rl = 0
check "  ... without an apt run" grep -q 'all in the base already (no apt run)' "$tmp/logL"
check "  ... its layer tarball is the base's (a hard link), with the base's sum" bash -c "
        l=\$(ls '$tmp/cacheL'/layer/*.tar) && b=\$(grep -l \"^\$(cut -c1-64 \$l.sha256) \" '$tmp/cacheL'/rootfs/*.tar.sha256) &&
        test \"\$(stat -c %i \$l)\" = \"\$(stat -c %i \${b%.sha256})\" && cd '$tmp/cacheL/layer' && sha256sum --strict --quiet -c \${l##*/}.sha256"
rootoff=$(python3 -c 'import json,sys
print([p for p in json.load(open(sys.argv[1]))["layout"]["partitions"] if p["mount"] == "/"][0]["offset"])' \
        "$tmp/outL/bench1/manifest.json" 2>/dev/null)
check "  ... and its image has the role's packages" bash -c "debugfs -R 'cat /var/lib/dpkg/status' '$tmp/outL/bench1/bench1.raw?offset=$rootoff' 2>/dev/null |
        grep -A1 -x 'Package: openssh-server' | grep -qx 'Status: install ok installed'"
rm -rf "$tmp/cacheL" "$tmp/outL"

# ---- the cache -----------------------------------------------------------------------------------------
check "one base tarball in the cache" test "$(ls "$CACHE"/rootfs/*.tar | wc -l)" -ge 1
check "base tarball sum verifies" bash -c "cd '$CACHE/rootfs' && for s in *.tar.sha256; do sha256sum --strict --quiet -c \$s || exit 1; done"
check "layer tarball sum verifies" bash -c "cd '$CACHE/layer' && for s in *.tar.sha256; do sha256sum --strict --quiet -c \$s || exit 1; done"
check "no temporary files in the cache" test -z "$(find "$CACHE" -name '*.tmp.*')"

# ---- work directories of dead builds are removed; those of live builds are not ---------------------------
mkdir -p "$CACHE/work/lab-db1-STALE0/tree/etc" "$CACHE/work/lab-db1-LIVE00/tree/etc"
touch "$CACHE/work/lab-db1-STALE0/.lock" "$CACHE/work/lab-db1-LIVE00/.lock"
python3 -c 'import fcntl,sys,time; f=open(sys.argv[1],"w"); fcntl.flock(f,fcntl.LOCK_EX); time.sleep(600)' \
        "$CACHE/work/lab-db1-LIVE00/.lock" &
holder=$!
for _ in $(seq 50); do flock -n "$CACHE/work/lab-db1-LIVE00/.lock" true || break; sleep 0.1; done

# ---- warm: two builds at once share the cache ------------------------------------------------------------
"$B" keygen --out "$tmp/sign" >/dev/null 2>&1
t0=$(date +%s)
"$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$tmp/outA" --cache "$CACHE" --sign "$tmp/sign.key" >"$tmp/logA" 2>&1 &
pa=$!
pin=()
[ -s "$out/lab-db1/manifest.json" ] && pin=(--pin-from "$out/lab-db1/manifest.json")
"$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$tmp/outB" --cache "$CACHE" "${pin[@]}" >"$tmp/logB" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
t1=$(date +%s)
echo "two warm builds at once: exits $ra/$rb in $((t1 - t0)) s"
check "both concurrent builds used the cached layer" bash -c "grep -q 'cached db layer' '$tmp/logA' && grep -q 'cached db layer' '$tmp/logB'"
check "both concurrent builds got as far as the first" test $ra = $rc -a $rb = $rc
grep -h 'layer:' "$tmp/logA" | sed 's/^/    | /'
if [ $ra = 0 ]; then
        check "build --sign: openssl accepts SHA256SUMS.sig" openssl pkeyutl -verify -pubin -inkey "$tmp/sign.pub" -rawin \
                -in "$tmp/outA/lab-db1/SHA256SUMS" -sigfile "$tmp/outA/lab-db1/SHA256SUMS.sig"
        check "build --sign: verify accepts the directory" "$B" verify "$tmp/outA/lab-db1" --key "$tmp/sign.pub" --quiet
        rootoff=$(python3 -c 'import json,sys
print([p for p in json.load(open(sys.argv[1]))["layout"]["partitions"] if p["mount"] == "/"][0]["offset"])' \
                "$tmp/outA/lab-db1/manifest.json")
        debugfs -R 'cat /usr/share/rackstack/signing.pub' "$tmp/outA/lab-db1/lab-db1.raw?offset=$rootoff" \
                >"$tmp/baked.pub" 2>/dev/null
        check "build --sign: the public key is in the image" cmp -s "$tmp/baked.pub" "$tmp/sign.pub"
        check "an unsigned build has no signature" test ! -e "$tmp/outB/lab-db1/SHA256SUMS.sig"
fi
if [ ${#pin[@]} -gt 0 ]; then
        check "--pin-from the first build's manifest: the packages match" grep -q 'pin: all [0-9]* packages match' "$tmp/logB"
        # The same manifest with one version changed: the build stops before the image, naming it.
        python3 -c '
import json,sys
m=json.load(open(sys.argv[1]))
for p in m["packages"]:
    if p["name"]=="postgresql-15": p["version"]="15.0-0+pinned"
json.dump(m,open(sys.argv[2],"w"),indent=2)' "$out/lab-db1/manifest.json" "$tmp/pinned.json"
        "$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$tmp/outP" --cache "$CACHE" --pin-from "$tmp/pinned.json" >"$tmp/logP" 2>&1
        rp=$?
        check "--pin-from with another postgresql-15 version: exit 1" test $rp = 1
        check "  ... naming the package and both versions" grep -q 'postgresql-15: pinned 15.0-0+pinned (amd64), this build has' "$tmp/logP"
        check "  ... before the image stage, with nothing in DIR" bash -c "! grep -q 'image:' '$tmp/logP' && test -z \"\$(find '$tmp/outP' -type f 2>/dev/null)\""
fi
check "a dead build's work directory was removed" test ! -e "$CACHE/work/lab-db1-STALE0"
check "a live build's work directory was left alone" test -d "$CACHE/work/lab-db1-LIVE00/tree/etc"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
rm -rf "$CACHE/work/lab-db1-LIVE00"

# ---- a full output disk: a clear error, nothing half-written ------------------------------------------
mkdir -p "$tmp/small"
if mount -t tmpfs -o size=64m tmpfs "$tmp/small" 2>/dev/null; then
        "$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$tmp/small" --cache "$CACHE" >"$tmp/logS" 2>&1; rs=$?
        check "full output disk: exit 1" test $rs = 1
        check "full output disk: says so" grep -q 'Not enough space in' "$tmp/logS"
        check "full output disk: nothing in DIR" test -z "$(find "$tmp/small" -type f)"
        umount "$tmp/small"
fi

# ---- an interrupted build ----------------------------------------------------------------------------------
"$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$tmp/outI" --cache "$CACHE" >"$tmp/logI" 2>&1 &
pi=$!
sleep 4
kill -INT $pi
wait $pi; ri=$?
check "interrupted build exits non-zero" test $ri != 0
check "interrupted build says so" grep -q 'Interrupted' "$tmp/logI"
check "interrupted build leaves nothing in DIR" test -z "$(find "$tmp/outI" -type f)"
# Other builds may share this cache: theirs are locked, an interrupted build's would not be.
no_unlocked_work() {
        local d
        for d in "$1"/work/*/; do
                [ -d "$d" ] || continue
                flock -n "$d/.lock" true 2>/dev/null && return 1
        done
        return 0
}
check "interrupted build removed its work directory" no_unlocked_work "$CACHE"
check "interrupted build left no temporaries in the cache" test -z "$(find "$CACHE" -name '*.tmp.*')"
check "interrupted build left no mounts" test -z "$(grep " $CACHE" /proc/self/mountinfo)"

# ---- interrupted while mmdebstrap runs (an empty cache): it and its children go, its mounts too --------
"$B" build db --defer-vendor --base debian-12 --format raw,qcow2 --out "$tmp/outM" --cache "$tmp/cacheM" >"$tmp/logM" 2>&1 &
pm=$!
for _ in $(seq 200); do grep -q 'building debian-12 base' "$tmp/logM" 2>/dev/null && break; sleep 0.1; done
sleep 15
t0=$(date +%s.%N)
kill -INT $pm
wait $pm; rm_=$?
dt=$(echo "$(date +%s.%N) - $t0" | bc)
check "interrupted mmdebstrap: exit non-zero" test $rm_ != 0
check "interrupted mmdebstrap: stopped within 10 s ($dt s)" test "$(echo "$dt < 10" | bc)" = 1
check "interrupted mmdebstrap: no partial base tarball" test -z "$(find "$tmp/cacheM" -name '*.tmp.*' -o -name '*.tar')"
check "interrupted mmdebstrap: no mounts left" test -z "$(grep " $tmp" /proc/self/mountinfo)"
check "interrupted mmdebstrap: work directory removed" test -z "$(ls -A "$tmp/cacheM/work" 2>/dev/null)"
check "interrupted mmdebstrap: nothing in DIR" test -z "$(find "$tmp/outM" -type f 2>/dev/null)"
sleep 1
check "interrupted mmdebstrap: no mmdebstrap left running" bash -c "! pgrep -f '^/usr/bin/perl /usr/bin/mmdebstrap .*$tmp/cacheM' >/dev/null"

finish

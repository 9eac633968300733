#!/bin/bash
# SPDX-License-Identifier: MIT
# `rackstack-firstboot install` reads what the target disk holds before writing (#16): the
# installed root's /usr/lib/rackstack/image.json, off the GPT's root partition mounted read-only.
# An image older than the build on the disk, or another role's than the system on it, is refused
# unless --allow-downgrade / --any-role; an older build on the disk, or none, is replaced. The plan
# (install --dry-run, plan --install) names what is on the disk. Loop devices over sparse files;
# the "installed" systems are small GPT images made with sfdisk and mke2fs -d.
#
# Exit: 0 all passed, 77 skipped (not root, no loop devices, a tool missing), 1 a case failed.
set -u

O=${RACKSTACK_O:-build}
here=$(cd "$(dirname "$0")/../.." && pwd)
FB=$here/$O/rackstack-firstboot

. "$here/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "SKIP: needs root (loop devices, mount)"
[ -e /dev/loop-control ] || skip_all "SKIP: no /dev/loop-control"
for t in losetup sfdisk mke2fs zstd; do
        command -v $t >/dev/null || skip_all "SKIP: no $t"
done
[ -x "$FB" ] || { echo "missing $FB (run make)"; exit 1; }

T=$(mktemp -d /tmp/rackstack-downgrade.XXXXXX)
cleanup() {
        findmnt -rn -o TARGET | grep "^/tmp/rackstack-install-root\." | while read -r m; do
                findmnt -rn -o SOURCE "$m" | grep -q "^$D\$" && umount "$m"; done 2>/dev/null
        losetup -n -l -O NAME,BACK-FILE | awk -v t="$T/" 'index($2, t) == 1 { print $1 }' |
                while read -r l; do losetup -d "$l"; done
        rm -rf "$T"
}
trap cleanup EXIT
eval "_lib_$(declare -f not_ok)"
not_ok() { _lib_not_ok "$@"; [ -f "$T/out" ] && sed 's/^/       | /' "$T/out" | tail -25; return 0; }
fb() { "$FB" "$@" --no-search < /dev/null > "$T/out" 2>&1; rc=$?; }

identity() { # role build_time
        printf '{"role": "%s", "host": "lab-%s1", "base": "ubuntu-24.04", "version": "0.1.0", "build_time": %s}\n' \
                "$1" "$1" "$2"
}
mkimg() { # file role build_time ("-": a root without image.json) -> a 64 MiB GPT image, one ext4 root
        local f=$1 s n
        rm -rf "$T/tree"; mkdir -p "$T/tree/usr/lib/rackstack" "$T/tree/etc"
        echo "$2 $3" > "$T/tree/etc/rackstack-image"
        [ "$3" = - ] || identity "$2" "$3" > "$T/tree/usr/lib/rackstack/image.json"
        rm -f "$f"; truncate -s 64M "$f"
        printf 'label: gpt\ntype=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root\n' | sfdisk -q "$f"
        read -r s n < <(sfdisk -l -o Start,Sectors "$f" | awk '$1 ~ /^[0-9]+$/' | sed -n 1p)
        mke2fs -q -F -t ext4 -L root -E offset=$((s * 512)) -d "$T/tree" "$f" $((n / 2))k
}
mksrc() { # dir role build_time -> an install source whose SHA256SUMS lists the image and image.json
        local d=$1
        mkdir -p "$d"; mkimg "$T/src.raw" "$2" "$3"
        zstd -q -f "$T/src.raw" -o "$d/image.raw.zst"
        identity "$2" "$3" > "$d/image.json"
        ( cd "$d" && sha256sum image.raw.zst image.json > SHA256SUMS )
}
put_system() { # role build_time: what the target disk holds
        mkimg "$T/sys.raw" "$1" "$2"
        dd if="$T/sys.raw" of="$D" bs=1M conv=notrunc,fsync status=none
}
dry() { fb install --source "$SRC" --target "$D" --clear "$D" --role db --profiles "$here/profiles" --dry-run "$@"; }

truncate -s 60G "$T/disk.img"
D=$(losetup -f --show "$T/disk.img") || { echo "losetup failed"; exit 1; }
echo 0 > "/sys/block/${D#/dev/}/queue/rotational"
SRC=$T/src
mksrc "$SRC" db 1800000000

# 1. the disk holds a newer build of the role: refused, named; --allow-downgrade installs it
put_system db 1900000000
dry
if [ "$rc" = 1 ] && grep -q "^on it:   a rackstack system: role db, host lab-db1, .* (1900000000)" "$T/out" &&
   grep -q "^error: the image (role db.*(1800000000)) is older than the build on the disk (.*(1900000000)); --allow-downgrade" "$T/out" &&
   grep -q "plan: REFUSED" "$T/out"; then
        ok "a newer build on the disk: refused, and the plan says what is there"
else
        not_ok "newer build on the disk (rc=$rc)"
fi
dry --allow-downgrade
if [ "$rc" = 0 ] && grep -q "^note: --allow-downgrade: the image is older than the build on $D" "$T/out"; then
        ok "--allow-downgrade: planned"
else
        not_ok "--allow-downgrade (rc=$rc)"
fi
# plan --install names it too (it has no image to compare with)
"$FB" plan --install --role db --profiles "$here/profiles" --only-use "$D" --clear "$D" > "$T/out" 2>&1
if grep -q "the OS disk $D holds a rackstack system: role db, host lab-db1, .*(1900000000)" "$T/out"; then
        ok "plan --install names the system on the OS disk"
else
        not_ok "plan --install names the system on the OS disk"
fi

# 2. another role's system on the disk: refused; --any-role installs it
put_system web 1700000000
dry
if [ "$rc" = 1 ] && grep -q "^error: the disk holds the web role's system (host lab-web1) and the image is the db role's" "$T/out"; then
        ok "another role's system on the disk: refused"
else
        not_ok "another role's system (rc=$rc)"
fi
dry --any-role
if [ "$rc" = 0 ] && grep -q "^note: --any-role: the web role's system on $D is replaced by a db image" "$T/out"; then
        ok "--any-role: planned"
else
        not_ok "--any-role (rc=$rc)"
fi

# 3. a root without image.json (an older build, or not ours): nothing to compare, planned
put_system db -
dry
if [ "$rc" = 0 ] && grep -q "^on it:   a root partition without /usr/lib/rackstack/image.json" "$T/out"; then
        ok "a root without image.json: planned, and named"
else
        not_ok "a root without image.json (rc=$rc)"
fi

# 4. an older build on the disk: installed for real; then the installed root's own image.json
#    refuses an older image than itself
put_system db 1700000000
fb install --source "$SRC" --target "$D" --clear "$D" --role db --profiles "$here/profiles" --no-reboot
if [ "$rc" = 0 ] && grep -q "^on it:   a rackstack system: role db, .*(1700000000)" "$T/out" &&
   [ "$(tail -n 1 "$T/out")" = "rackstack-firstboot: install finished" ]; then
        ok "an older build on the disk: installed over"
else
        not_ok "older build on the disk (rc=$rc)"
fi
SRC=$T/src-old
mksrc "$SRC" db 1750000000
dry
if [ "$rc" = 1 ] && grep -q "is older than the build on the disk (.*(1800000000))" "$T/out"; then
        ok "what install wrote is read back: an older image than it is refused"
else
        not_ok "read back after install (rc=$rc)"
fi
# nothing of the target is left mounted or attached: a leftover would pin the disk install writes
if losetup -n -l -O BACK-FILE | grep -qx "$D"; then
        not_ok "the read-only look left a mount or loop device behind"
else
        ok "the read-only look leaves no mount or loop device behind"
fi
finish

#!/bin/bash
# The warm build's root filesystem (builder/ext4-delta.c): the layer's cached ext4 plus a debugfs
# script from the overlay's upper directory must hold the same tree as `mke2fs -d` of the merged
# tree. A lower tree with what a layer has (modes, owners, a set-uid file, hard links, symlinks, an
# extended attribute, a fifo) gets what a build does on top of it (new files and directories, a
# replaced file, chmod/chown, removed files and directories, a directory removed and made again,
# a removed name of a hard link pair); image_assemble() makes the image both ways (image-tool),
# and the two root filesystems are compared entry by entry (type, mode, owner, size, content,
# mtime, link target, extended attributes). Also: e2fsck is clean, the removed file's bytes are
# not in the image, the cached ext4 is reused by the next image, and what the script cannot
# express (a hard link made in the upper directory) makes the root whole again.
# Needs root (overlayfs, owners) and e2fsprogs. Exit 77 = skipped.
set -uo pipefail
O=${RACKSTACK_BUILD_DIR:-${RACKSTACK_O:-build}}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP"
. tests/integration/lib.sh

[ "$(id -u)" = 0 ] || skip_all "needs root (an overlay mount, file owners)"
for t in mke2fs debugfs e2fsck tune2fs unshare mkfifo python3 cc grub-mkimage mkfs.vfat mcopy; do
        command -v $t >/dev/null || skip_all "$t is not installed"
done
[ -e /usr/lib/grub/x86_64-efi/normal.mod ] && [ -e /usr/lib/grub/i386-pc/boot.img ] ||
        skip_all "grub-efi-amd64-bin and grub-pc-bin are needed (the image's boot loaders)"

make -s O="$O" "$O/libbuilder.a" "$O/libcommon.a" || exit 1
PKGS="libarchive blkid libparted libnl-3.0 libnl-route-3.0 yaml-0.1 openssl libkmod"
TOOL=$O/tests/image-tool
mkdir -p "$O/tests"
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -Icommon -Ibuilder \
        $(pkg-config --cflags $PKGS) -o "$TOOL" tests/integration/image-tool.c "$O/libbuilder.a" "$O/libcommon.a" \
        $(pkg-config --libs $PKGS) -lcrypt -lm || exit 1

T=$(mktemp -d /var/tmp/test-ext4-delta.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT

# ---- the lower tree: what a cached layer holds ----
L=$T/layer.tree
mkdir -p "$L"/{boot,etc/keep,etc/gone,etc/remade,usr/bin,usr/lib,var/lib,lib/modules/1.0,tmp}
echo "not a kernel" >"$L/boot/vmlinuz-1.0"
echo "not an initrd" >"$L/boot/initrd.img-1.0"
: >"$L/lib/modules/1.0/modules.dep"
ln -s boot/vmlinuz-1.0 "$L/vmlinuz"
ln -s boot/initrd.img-1.0 "$L/initrd.img"
printf 'hello\n' >"$L/usr/bin/hello"; chmod 4755 "$L/usr/bin/hello"
printf 'ping\n' >"$L/usr/bin/ping"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex("0100000200200000000000000000000000000000"))' "$L/usr/bin/ping"
echo "motd of the layer" >"$L/etc/motd"
echo "SECRET-HOST-KEY-4f1c9e" >"$L/etc/ssh_host_key"; chmod 600 "$L/etc/ssh_host_key"
echo "kept" >"$L/etc/keep/a"; chown 1000:1000 "$L/etc/keep/a"
for i in 1 2 3; do echo "gone $i" >"$L/etc/gone/f$i"; done; mkdir "$L/etc/gone/sub"; echo x >"$L/etc/gone/sub/y"
echo "old" >"$L/etc/remade/old"
echo "linked" >"$L/usr/lib/one"; ln "$L/usr/lib/one" "$L/usr/lib/two"
head -c 2M /dev/urandom >"$L/var/lib/blob"
mkfifo "$L/var/lib/fifo"
touch -d @1600000000 "$L/etc/motd" "$L/etc/keep"
sleep 1; START=$(date +%s) # what the builds below write has a time from here on

# ---- a warm build's changes, through an overlay (in a mount namespace of its own) ----
U=$T/upper M=$T/merged
mkdir -p "$U" "$T/work" "$M"
changes() { # run in the namespace with the overlay mounted on $M
        set -e
        echo "motd of this build" >"$M/etc/motd"
        chmod 640 "$M/etc/keep/a"; chown 1001:1002 "$M/etc/keep/a"
        rm "$M/etc/ssh_host_key"
        rm -r "$M/etc/gone"
        rm -r "$M/etc/remade"; mkdir "$M/etc/remade"; echo "new" >"$M/etc/remade/new"
        rm "$M/usr/lib/two"
        mkdir -p "$M/usr/share/rackstack/deep/er"; echo "profile" >"$M/usr/share/rackstack/deep/er/profile.yaml"
        install -m 0755 /bin/true "$M/usr/bin/rackstack-firstboot"
        ln -s ../share/rackstack "$M/usr/lib/rackstack-link"
        echo "attr" >"$M/etc/with-attr"
        python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.rackstack", b"v\x00\x01")' "$M/etc/with-attr"
        touch -d @1700000000 "$M/etc/motd"
        [ -z "${1:-}" ] || { echo "hard" >"$M/etc/h1"; ln "$M/etc/h1" "$M/etc/h2"; }
}
# image-tool in the namespace: the default OS disk (ESP, BIOS boot, root ext4), 600 MiB.
build_in_ns() { # out.raw json [extra-change] [env...]
        local out=$1 json=$2 extra=${3:-}; shift 3
        rm -rf "$U" "$T/work"; mkdir -p "$U" "$T/work"
        env "$@" unshare -m bash -c '
                set -e
                mount --make-rprivate /
                mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3,redirect_dir=on" "$4"
                '"$(declare -f changes)"'
                M=$4 changes "$8"
                exec "$5" --role=test --lower="$1" --upper="$2" "$4" "$6" 600M >"$7"
        ' _ "$L" "$U" "$T/work" "$M" "$TOOL" "$out" "$json" "$extra"
}

build_in_ns "$T/delta.raw" "$T/delta.json" "" >"$T/delta.log" 2>&1
check "image with the delta: image-tool exit 0" test $? = 0
check "the root came from the layer's ext4 image (made now)" grep -q "root filesystem from the layer's ext4 image (made now)" "$T/delta.log"
check "the layer's ext4 image is cached next to the tree" bash -c "ls '$T'/layer.ext4-* >/dev/null"
build_in_ns "$T/full.raw" "$T/full.json" "" RACKSTACK_EXT4_DELTA=0 >"$T/full.log" 2>&1
check "image made whole (RACKSTACK_EXT4_DELTA=0): exit 0" test $? = 0
check "RACKSTACK_EXT4_DELTA=0 uses no delta" bash -c "! grep -q 'from the layer' '$T/full.log'"

fsck_clean() { e2fsck -fn "$1" >/dev/null 2>&1; }
root_offset() { python3 -c 'import json,sys; print([p["offset"] for p in json.load(open(sys.argv[1]))["parts"] if p["mount"] == "/"][0])' "$1"; }
root_uuid() { python3 -c 'import json,sys; print([p["fs_uuid"] for p in json.load(open(sys.argv[1]))["parts"] if p["mount"] == "/"][0])' "$1"; }
dev_d="$T/delta.raw?offset=$(root_offset "$T/delta.json")"
dev_f="$T/full.raw?offset=$(root_offset "$T/full.json")"
check "e2fsck -fn: the delta's root is clean" fsck_clean "$dev_d"
check "the delta's root has this image's UUID" bash -c "debugfs -R stats '$dev_d' 2>/dev/null | grep -q 'Filesystem UUID: *$(root_uuid "$T/delta.json")'"

# Every entry of a root filesystem: path type mode uid gid size mtime target sha256 xattrs.
listing() { # dev out
        local d=$T/rdump.$$; rm -rf "$d"; mkdir "$d"
        debugfs -R "rdump / $d" "$1" >/dev/null 2>&1
        python3 - "$d" "$1" "$START" >"$2" <<'PY'
import hashlib, os, re, stat, subprocess, sys
top, dev, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
# The boot configuration and the identity name this image's random UUIDs: their content differs
# between any two images. Times this test's builds set (now) differ by seconds: "now".
per_image = ("/etc/fstab", "/boot/grub/grub.cfg", "/usr/lib/rackstack/image.json")
for root, dirs, files in os.walk(top):
    dirs.sort()
    for n in sorted(dirs + files):
        p = os.path.join(root, n); rel = p[len(top):]
        if rel.startswith("/lost+found"):
            continue
        st = os.lstat(p)
        h = ""
        size = st.st_size if not stat.S_ISDIR(st.st_mode) else "-"
        if stat.S_ISREG(st.st_mode):
            h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        if rel in per_image:
            h, size = "(per image)", "-"
        t = os.readlink(p) if stat.S_ISLNK(st.st_mode) else ""
        mt = "" if stat.S_ISLNK(st.st_mode) else "now" if st.st_mtime >= start else int(st.st_mtime)
        # rdump's chown clears set-uid bits and it writes no xattrs: both from debugfs itself
        info = subprocess.run(["debugfs", "-R", "stat " + rel, dev], capture_output=True, text=True).stdout
        mode = re.search(r"Mode:\s+(\d+)", info).group(1)
        ea = " ".join(l.strip() for l in info.split("Extended attributes:", 1)[1].splitlines()[1:]
                      if l.startswith("  ")) if "Extended attributes:" in info else ""
        print(rel, stat.filemode(st.st_mode)[0] + mode, st.st_uid, st.st_gid, size, mt, t, h, ea)
PY
        rm -rf "$d"
}
listing "$dev_d" "$T/delta.list"
listing "$dev_f" "$T/full.list"
check "the listing has the tree ($(wc -l <"$T/full.list") entries)" test "$(wc -l <"$T/full.list")" -gt 25
if diff "$T/full.list" "$T/delta.list" >"$T/diff"; then ok "the delta's root holds the same tree as mke2fs -d of the merged tree"
else not_ok "the delta's root differs from mke2fs -d of the merged tree:"; sed 's/^/    /' "$T/diff" | head -30; fi
check "a new file's content" grep -q '^/usr/share/rackstack/deep/er/profile.yaml ' "$T/delta.list"
check "removed: the file, the directory, one name of a hard link" \
        bash -c "! grep -qE '^/etc/(ssh_host_key|gone)|^/usr/lib/two ' '$T/delta.list'"
check "the remaining hard link name keeps its content" grep -q '^/usr/lib/one ' "$T/delta.list"
check "the directory made again holds only its new file" \
        bash -c "grep '^/etc/remade/' '$T/delta.list' | cut -d' ' -f1 | tr '\n' ' ' | grep -qx '/etc/remade/new '"
check "security.capability kept on a lower file" grep -q '^/usr/bin/ping .*security.capability' "$T/delta.list"
check "user.rackstack on a new file" grep -q '^/etc/with-attr .*user.rackstack' "$T/delta.list"
check "the changed owner and mode" grep -qE '^/etc/keep/a -0*640 1001 1002 ' "$T/delta.list"
check "the set-uid bit" grep -qE '^/usr/bin/hello -0*4755 0 0 ' "$T/delta.list"
check "the removed file's bytes are not in the image" bash -c "! grep -qa 'SECRET-HOST-KEY-4f1c9e' '$T/delta.raw'"
check "links_count of the kept hard link is 1" bash -c "debugfs -R 'stat /usr/lib/one' '$dev_d' 2>/dev/null | grep -q 'Links: 1 '"

# ---- the next image reuses the cached ext4 ----
build_in_ns "$T/delta2.raw" "$T/delta2.json" "" >"$T/delta2.log" 2>&1
check "second image: exit 0" test $? = 0
check "second image: the cached ext4 image is used (not made again)" \
        bash -c "grep -q \"root filesystem from the layer's ext4 image and\" '$T/delta2.log'"
dev_2="$T/delta2.raw?offset=$(root_offset "$T/delta2.json")"
listing "$dev_2" "$T/delta2.list"
check "second image: same tree" diff -q "$T/full.list" "$T/delta2.list"
check "second image: e2fsck -fn clean" fsck_clean "$dev_2"

# ---- what the script cannot express: the root is made whole, and right ----
build_in_ns "$T/hard.raw" "$T/hard.json" hardlink >"$T/hard.log" 2>&1
check "a hard link in the upper directory: exit 0" test $? = 0
check "a hard link in the upper directory: made whole, saying why" grep -q "root filesystem made whole: a hard link" "$T/hard.log"
dev_h="$T/hard.raw?offset=$(root_offset "$T/hard.json")"
check "made whole: e2fsck -fn clean" fsck_clean "$dev_h"
check "made whole: the hard link is there" bash -c "debugfs -R 'stat /etc/h2' '$dev_h' 2>/dev/null | grep -q 'Links: 2 '"
finish

#!/bin/bash
# Integration test for image_assemble(): a small generated tree (fake kernel and initrd) becomes a
# GPT disk image; check it with the tools users use: sfdisk --json, blkid -p, e2fsck -fn, mtools,
# and the MBR/core-image patching GRUB's BIOS boot needs. Booting it for real is tests/vm/.
# Exit 77 = skipped.
set -euo pipefail

O=${RACKSTACK_O:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP"

for t in sfdisk blkid e2fsck mke2fs mkfs.vfat mdir mcopy grub-mkimage python3 cc; do
        command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -e /usr/lib/grub/x86_64-efi/normal.mod ] || { echo "SKIP: grub-efi-amd64-bin not installed"; exit 77; }
[ -e /usr/lib/grub/i386-pc/boot.img ] || { echo "SKIP: grub-pc-bin not installed"; exit 77; }

make -s "$O/libbuilder.a" "$O/libcommon.a"
PKGS="libarchive blkid libparted libnl-3.0 libnl-route-3.0 yaml-0.1 openssl libkmod"
TOOL=$O/tests/image-tool
mkdir -p "$O/tests"
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -Icommon -Ibuilder \
        $(pkg-config --cflags $PKGS) -o "$TOOL" tests/integration/image-tool.c "$O/libbuilder.a" "$O/libcommon.a" \
        $(pkg-config --libs $PKGS) -lcrypt -lm

T=$(mktemp -d "${TMPDIR:-/tmp}/test-image.XXXXXX")
trap 'rm -rf "$T"' EXIT
. tests/integration/lib.sh
# a failure ends the script: what follows builds on what failed
fail() { not_ok "$*"; finish; }

mktree() {
        rm -rf "$1"; mkdir -p "$1"/boot "$1"/etc "$1"/usr/bin "$1"/var/lib
        echo "not a kernel" > "$1"/boot/vmlinuz-1.0
        echo "not an initrd" > "$1"/boot/initrd.img-1.0
        # the boot entry takes the newest kernel that has its modules (as the installer does)
        mkdir -p "$1"/lib/modules/1.0 && : > "$1"/lib/modules/1.0/modules.dep
        ln -s boot/vmlinuz-1.0 "$1"/vmlinuz
        ln -s boot/initrd.img-1.0 "$1"/initrd.img
        printf 'hello\n' > "$1"/usr/bin/hello
        chmod 4755 "$1"/usr/bin/hello
        head -c 3M /dev/urandom > "$1"/var/lib/blob
}

# ---- 1. the seed's OS disk layout, 1 GiB ----
mktree "$T/tree"
"$TOOL" --role=db "$T/tree" "$T/a.raw" 640M > "$T/a.json"
[ "$(stat -c %s "$T/a.raw")" = 671088640 ] || fail "image size"
alloc=$(du -k "$T/a.raw" | cut -f1)
[ "$alloc" -lt 65536 ] || fail "image is not sparse ($alloc KiB allocated)"
ok "640 MiB image, $alloc KiB allocated"

sfdisk --json "$T/a.raw" > "$T/sfdisk.json"
python3 - "$T/sfdisk.json" "$T/a.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["partitiontable"]
l = json.load(open(sys.argv[2]))
assert t["label"] == "gpt", t["label"]
assert t["id"].lower() == l["disk_guid"], (t["id"], l["disk_guid"])
parts = t["partitions"]
want = [("esp", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), ("bios-boot", "21686148-6449-6E6F-744E-656564454649"),
        ("root", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")]
assert [(p["name"], p["type"]) for p in parts] == want, parts
for p, q in zip(parts, l["parts"]):
    assert p["start"] % 2048 == 0, p                      # 1 MiB alignment
    assert p["start"] * 512 == q["offset"] and p["size"] * 512 == q["size"], (p, q)
    assert p["uuid"].lower() == q["part_uuid"], (p, q)
assert parts[0]["size"] == 512 * 2048 and parts[1]["size"] == 2048
# root grows to the end: it ends on a 1 MiB boundary within the last MiB before the backup GPT
end = parts[-1]["start"] + parts[-1]["size"]
assert parts[-1]["name"] == "root" and end % 2048 == 0 and t["lastlba"] + 1 - 2048 < end <= t["lastlba"] + 1, (end, t["lastlba"])
assert parts[-1]["start"] + parts[-1]["size"] <= t["lastlba"] + 1
assert max(p["start"] for p in parts) == parts[-1]["start"]   # root is last
PY
ok "sfdisk: GPT, names, DPS type GUIDs, partition and disk GUIDs, 1 MiB alignment, root last"

read esp_off root_off bios_off esp_uuid root_uuid < <(python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))["parts"]
print(l[0]["offset"], l[2]["offset"], l[1]["offset"], l[0]["fs_uuid"], l[2]["fs_uuid"])' "$T/a.json")

blkid -p -O "$esp_off" -o export "$T/a.raw" > "$T/blkid-esp"
grep -qx "TYPE=vfat" "$T/blkid-esp" && grep -qx "UUID=$esp_uuid" "$T/blkid-esp" && grep -qx "VERSION=FAT32" "$T/blkid-esp" \
        || { cat "$T/blkid-esp"; fail "blkid ESP"; }
blkid -p -O "$root_off" -o export "$T/a.raw" > "$T/blkid-root"
grep -qx "TYPE=ext4" "$T/blkid-root" && grep -qx "UUID=$root_uuid" "$T/blkid-root" && grep -qx "LABEL=root" "$T/blkid-root" \
        || { cat "$T/blkid-root"; fail "blkid root"; }
ok "blkid: FAT32 ESP $esp_uuid, ext4 root $root_uuid"

e2fsck -fn "$T/a.raw?offset=$root_off" > "$T/fsck" 2>&1 || { cat "$T/fsck"; fail "e2fsck"; }
# The tree's files are in the filesystem, with their modes.
debugfs -R "stat /usr/bin/hello" "$T/a.raw?offset=$root_off" 2>/dev/null | grep -q "Mode:  04755" || fail "setuid file"
debugfs -R "cat /etc/fstab" "$T/a.raw?offset=$root_off" 2>/dev/null > "$T/fstab"
grep -q "^UUID=$root_uuid *  / *  ext4" "$T/fstab" || { cat "$T/fstab"; fail "fstab root"; }
grep -q "^UUID=$esp_uuid *  /boot/efi *  vfat  *umask=0077,nofail,x-systemd.device-timeout=15min " "$T/fstab" || { cat "$T/fstab"; fail "fstab esp"; }
debugfs -R "cat /boot/grub/grub.cfg" "$T/a.raw?offset=$root_off" 2>/dev/null > "$T/grub.cfg"
grep -q "linux /vmlinuz root=UUID=$root_uuid rw console=tty0 console=ttyS0,115200n8" "$T/grub.cfg" || fail "grub.cfg"
debugfs -R "cat /var/lib/blob" "$T/a.raw?offset=$root_off" 2>/dev/null | cmp - "$T/tree/var/lib/blob" || fail "blob"
block=$(debugfs -R "stats" "$T/a.raw?offset=$root_off" 2>/dev/null | awk '/^Block size:/{print $3}')
[ "$block" = 4096 ] || fail "block size $block"
ok "e2fsck clean; setuid mode, fstab, grub.cfg and file contents inside; 4 KiB blocks"
# The image says what it is from inside too (install reads it off a disk before overwriting it).
debugfs -R "cat /usr/lib/rackstack/image.json" "$T/a.raw?offset=$root_off" 2>/dev/null > "$T/image.json"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["role"] == "db" and j["host"] == "any" and isinstance(j["build_time"], int) and j["build_time"] > 0, j' \
        "$T/image.json" || { cat "$T/image.json"; fail "/usr/lib/rackstack/image.json"; }
ok "/usr/lib/rackstack/image.json in the root: role db, host any, a build time"

export MTOOLS_SKIP_CHECK=1
mdir -b -i "$T/a.raw@@$esp_off" ::/EFI/BOOT | grep -q "BOOTX64.EFI" || fail "BOOTX64.EFI"
mdir -b -i "$T/a.raw@@$esp_off" ::/EFI/debian | grep -q "grubx64.efi" || fail "debian/grubx64.efi"
mcopy -i "$T/a.raw@@$esp_off" ::/EFI/BOOT/BOOTX64.EFI "$T/bootx64.efi"
[ "$(head -c 2 "$T/bootx64.efi")" = MZ ] || fail "BOOTX64.EFI is not a PE image"
grep -qa "search --no-floppy --fs-uuid --set=root $root_uuid" "$T/bootx64.efi" || fail "early config not embedded"
ok "ESP: EFI/BOOT/BOOTX64.EFI (PE, early config finds $root_uuid) and EFI/debian/grubx64.efi"

# BIOS: boot.img in the MBR pointing at the BIOS boot partition, the core image there with its
# blocklist pointing at its second sector, the protective MBR's partition entry kept.
python3 - "$T/a.raw" "$bios_off" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb"); bios = int(sys.argv[2])
mbr = f.read(512)
boot = open("/usr/lib/grub/i386-pc/boot.img", "rb").read()
assert mbr[510:512] == b"\x55\xaa"
assert mbr[0x1c2] == 0xee, "protective MBR entry lost"
assert struct.unpack_from("<Q", mbr, 0x5c)[0] == bios // 512, "kernel sector"
assert mbr[0x66:0x68] == b"\x90\x90"
assert mbr[0x5a:0x5c] == boot[0x5a:0x5c] and mbr[0x68:0x1b8] == boot[0x68:0x1b8], "boot code"
f.seek(bios); core = f.read(512)
start, length, seg = struct.unpack_from("<QHH", core, 500)
assert start == bios // 512 + 1 and seg == 0x820 and 1 <= length < 2048, (start, length, seg)
f.seek(bios + 512 * (1 + length) - 512); last = f.read(512)
assert any(last), "core image shorter than its blocklist"
PY
ok "BIOS: boot.img in the MBR points at the BIOS boot partition, core blocklist consistent"

# ---- 2. reproducible with SOURCE_DATE_EPOCH ----
mktree "$T/t1"; sleep 1.1; mktree "$T/t2"  # a second apart: different ctimes
cp "$T/tree/var/lib/blob" "$T/t1/var/lib/blob"; cp "$T/tree/var/lib/blob" "$T/t2/var/lib/blob"
find "$T/t1" "$T/t2" -exec touch -h -d @1700000000 {} +
"$TOOL" --sde=1700000000 --role=db "$T/t1" "$T/r1.raw" 640M > "$T/r1.json"
"$TOOL" --sde=1700000000 --role=db "$T/t2" "$T/r2.raw" 640M > "$T/r2.json"
cmp -s <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("seconds"); print(d)' "$T/r1.json") \
       <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("seconds"); print(d)' "$T/r2.json") \
        || fail "layouts differ with the same SOURCE_DATE_EPOCH"
"$TOOL" --sde=1700000000 --role=app "$T/t2" "$T/r3.raw" 640M > "$T/r3.json"
! cmp -s <(grep -o '"disk_guid": "[^"]*"' "$T/r1.json") <(grep -o '"disk_guid": "[^"]*"' "$T/r3.json") \
        || fail "different roles gave the same disk GUID"
# The two trees were made at different times, so their ctimes differ (which mke2fs 1.47.0 -d
# copies and no tool can set): the whole disk must still be byte-identical.
roff=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parts"][2]["offset"])' "$T/r1.json")
cmp -s <(head -c "$roff" "$T/r1.raw") <(head -c "$roff" "$T/r2.raw") || fail "MBR, GPT, ESP or BIOS boot differ"
cmp -s <(tail -c 1M "$T/r1.raw") <(tail -c 1M "$T/r2.raw") || fail "backup GPT differs"
if ! cmp "$T/r1.raw" "$T/r2.raw"; then
        debugfs -R "stat /etc" "$T/r1.raw?offset=$roff" 2>/dev/null | grep time
        debugfs -R "stat /etc" "$T/r2.raw?offset=$roff" 2>/dev/null | grep time
        fail "the two disks differ (first difference above)"
fi
ok "SOURCE_DATE_EPOCH: same GUIDs, byte-identical disks from trees of different ctimes; other role, other GUIDs"

# ---- 2b. rackstack-build compare names the file that differs ----
# One byte changed in /var/lib/blob (same size, same times): compare must say which partition and
# which file holds the first difference.
printf 'Z' | dd of="$T/t2/var/lib/blob" bs=1 seek=2000000 conv=notrunc status=none
touch -h -d @1700000000 "$T/t2/var/lib/blob"
"$TOOL" --sde=1700000000 --role=db "$T/t2" "$T/r4.raw" 640M > /dev/null
mkdir -p "$T/c1" "$T/c2"; ln "$T/r1.raw" "$T/c1/x.raw"; ln "$T/r2.raw" "$T/c2/x.raw"
"$O/rackstack-build" compare "$T/c1" "$T/c2" > "$T/cmp.out" 2>&1 || { cat "$T/cmp.out"; fail "compare: identical disks said to differ"; }
rm "$T/c2/x.raw"; ln "$T/r4.raw" "$T/c2/x.raw"
rc=0; "$O/rackstack-build" compare "$T/c1" "$T/c2" > "$T/cmp.out" 2>&1 || rc=$?
cat "$T/cmp.out"
[ $rc = 1 ] || fail "compare: different disks, exit $rc"
grep -q "x.raw: 1 byte differs, first at byte [0-9]" "$T/cmp.out" || fail "compare: no byte range"
grep -q "partition 3 'root' (ext4) .*: data of inode [0-9]* /var/lib/blob" "$T/cmp.out" ||
        fail "compare does not name /var/lib/blob in the root partition"
ok "compare: identical disks exit 0; one changed byte is named: partition, byte range, file"

# ---- 3. failures leave no output ----
mktree "$T/big"
head -c 90M /dev/zero > "$T/big/var/lib/zeros"
if "$TOOL" "$T/big" "$T/big.raw" 100M esp,esp,40M,vfat,/boot/efi root,root,grow,ext4,/ 2> "$T/big.err"; then
        fail "a tree larger than the root partition was accepted"
fi
grep -q "more than the partition 'root'" "$T/big.err" || { cat "$T/big.err"; fail "no clear error"; }
[ ! -e "$T/big.raw" ] || fail "a failed build left its output"
ok "too-large tree: clear error, no output file"

if "$TOOL" "$T/tree" "$T/small.raw" 500M 2> "$T/small.err"; then fail "500M disk accepted for a 513M layout"; fi
grep -q "partitions need 513M" "$T/small.err" || { cat "$T/small.err"; fail "no layout error"; }
[ ! -e "$T/small.raw" ] || fail "output left behind"
ok "too-small disk: layout error"

# ---- 4. other layouts: /var and a percent partition, Ubuntu ESP path, no BIOS boot ----
mktree "$T/t4"
"$TOOL" --base=ubuntu-24.04 "$T/t4" "$T/c.raw" 1G esp,esp,64M,vfat,/boot/efi var,var,25%,ext4,/var \
        root,root,grow,ext4,/ > "$T/c.json"
sfdisk --json "$T/c.raw" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"]
assert [x["type"] for x in p] == ["C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "4D21B016-B534-45C2-A9FB-5C16E091FD2D",
                                  "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"], p
assert p[1]["size"] == 1024 * 2048 // 4, p[1]'
read esp_off var_off var_uuid root_off < <(python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))["parts"]
print(l[0]["offset"], l[1]["offset"], l[1]["fs_uuid"], l[2]["offset"])' "$T/c.json")
mdir -b -i "$T/c.raw@@$esp_off" ::/EFI/ubuntu | grep -q grubx64.efi || fail "ubuntu path"
e2fsck -fn "$T/c.raw?offset=$var_off" > /dev/null 2>&1 || fail "e2fsck /var"
grep -q "^UUID=$var_uuid *  /var " "$T/t4/etc/fstab" || fail "fstab /var"
# The tree's var/ went into the /var filesystem, not into root (where /var is an empty mount
# point with var's mode), and the tree is as it was afterwards.
debugfs -R "cat /lib/blob" "$T/c.raw?offset=$var_off" 2>/dev/null | cmp - "$T/t4/var/lib/blob" || fail "/var content"
debugfs -R "ls -l /var" "$T/c.raw?offset=$root_off" 2>/dev/null > "$T/rootvar"
[ "$(awk 'NF && $NF != "." && $NF != ".."' "$T/rootvar" | wc -l)" = 0 ] || { cat "$T/rootvar"; fail "root's /var is not empty"; }
debugfs -R "stat /var" "$T/c.raw?offset=$root_off" 2>/dev/null | grep -q "Mode:  0755" || fail "root's /var mode"
[ -f "$T/t4/var/lib/blob" ] && ! ls -d "$T"/t4.split-* 2>/dev/null || fail "tree not restored"
[ "$(head -c 512 "$T/c.raw" | od -An -tx1 -j 0x5c -N 8 | tr -d ' ')" = 0000000000000000 ] || fail "boot code without BIOS boot"
ok "ESP + 25% /var + root: DPS /var type, EFI/ubuntu path, tree's var/ in its own ext4 (root's /var empty), fstab, no BIOS boot code"

# A /var too small for the tree's var/: clear error, no output, the tree put back.
mktree "$T/t7"
if "$TOOL" "$T/t7" "$T/g.raw" 200M esp,esp,64M,vfat,/boot/efi var,var,2M,ext4,/var root,root,grow,ext4,/ \
        2> "$T/g.err" > /dev/null; then fail "a /var smaller than var/ was accepted"; fi
grep -q "more than the partition 'var'" "$T/g.err" || { cat "$T/g.err"; fail "no clear /var error"; }
[ ! -e "$T/g.raw" ] && [ -f "$T/t7/var/lib/blob" ] && ! ls -d "$T"/t7.split-* 2>/dev/null || fail "not cleaned up"
ok "too-small /var: clear error, no output, tree restored"

# ---- 5. which GRUB: the tree's modules when their version matches the host's grub-mkimage ----
mktree "$T/t5"
mkdir -p "$T/t5/usr/lib/grub"
cp -r /usr/lib/grub/x86_64-efi "$T/t5/usr/lib/grub/"
mkdir -p "$T/t5/usr/lib/grub/i386-pc"
printf 'grub_version="9.99"\n' > "$T/t5/usr/lib/grub/i386-pc/modinfo.sh"
touch "$T/t5/usr/lib/grub/i386-pc/boot.img"
"$TOOL" --debug "$T/t5" "$T/e.raw" 640M 2> "$T/e.err" > /dev/null || { cat "$T/e.err"; fail "grub dirs"; }
grep -q "GRUB x86_64-efi from $T/t5/usr/lib/grub/x86_64-efi" "$T/e.err" || { cat "$T/e.err"; fail "tree's GRUB not used"; }
grep -q "The tree has GRUB 9.99 for i386-pc" "$T/e.err" || { cat "$T/e.err"; fail "no version warning"; }
grep -q "GRUB i386-pc from /usr/lib/grub/i386-pc" "$T/e.err" || { cat "$T/e.err"; fail "host's GRUB not used"; }
ok "GRUB modules: the tree's when versions match, else the host's with a warning"

# ---- 5b. a tree with its own grub-mkimage: run in the tree (chroot), whatever the host's version ----
# The tree's "grub-mkimage" is a busybox script that records its arguments and writes a marked
# image; the host's grub-mkimage is never asked (the tree's modules claim version 9.99).
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
        mktree "$T/t8"
        mkdir -p "$T/t8/bin" "$T/t8/tmp" "$T/t8/proc" "$T/t8/sys" "$T/t8/dev" "$T/t8/usr/lib/grub/x86_64-efi" \
                "$T/t8/usr/lib/grub/i386-pc"
        cp /bin/busybox "$T/t8/bin/busybox"
        for a in sh cat printf; do ln -s busybox "$T/t8/bin/$a"; done
        printf 'grub_version="9.99"\n' | tee "$T/t8/usr/lib/grub/x86_64-efi/modinfo.sh" > "$T/t8/usr/lib/grub/i386-pc/modinfo.sh"
        touch "$T/t8/usr/lib/grub/x86_64-efi/normal.mod"
        head -c 512 /usr/lib/grub/i386-pc/boot.img > "$T/t8/usr/lib/grub/i386-pc/boot.img"
        cat > "$T/t8/usr/bin/grub-mkimage" <<'EOS'
#!/bin/sh
# stand-in: MZ + a marker + the arguments, 2 KiB at least (a BIOS core needs >= 1024 bytes)
out=
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
{ printf 'MZ TREE-GRUB-MKIMAGE'; i=0; while [ $i -lt 64 ]; do printf '................................'; i=$((i+1)); done; } > "$out"
EOS
        chmod 755 "$T/t8/usr/bin/grub-mkimage"
        "$TOOL" --debug "$T/t8" "$T/h.raw" 640M 2> "$T/h.err" > /dev/null || { cat "$T/h.err"; fail "tree grub-mkimage"; }
        grep -q "GRUB x86_64-efi from $T/t8/usr/lib/grub/x86_64-efi, by the tree's grub-mkimage in the tree" "$T/h.err" ||
                { cat "$T/h.err"; fail "the tree's grub-mkimage was not used"; }
        esp8=$(sfdisk --json "$T/h.raw" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print([x for x in p if x["type"].upper()=="C12A7328-F81F-11D2-BA4B-00A0C93EC93B"][0]["start"]*512)')
        mcopy -n -i "$T/h.raw@@$esp8" ::/EFI/BOOT/BOOTX64.EFI "$T/h.efi" && grep -q TREE-GRUB-MKIMAGE "$T/h.efi" ||
                fail "the ESP's loader is not the tree's grub-mkimage output"
        [ -z "$(ls -A "$T/t8/tmp")" ] || fail "the tree's /tmp keeps the loader's work files"
        ok "GRUB: a tree with its own grub-mkimage makes the loader in the tree (chroot), its /tmp left empty"
else
        echo "skip - 5b: no static /bin/busybox for a chroot stand-in"
fi

# ---- 6. the db role's real profile (profiles/base.yaml's OS disk) ----
mktree "$T/t6"
"$TOOL" --profiles=profiles --role=db "$T/t6" "$T/f.raw" 640M > "$T/f.json" || fail "db profile"
python3 - "$T/f.json" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
got = [(p["name"], p["type"], p["fs"], p["mount"], p["size"]) for p in l["parts"]]
M = 1 << 20
assert got == [("esp", "esp", "vfat", "/boot/efi", 512 * M), ("bios", "bios-boot", "none", None, M),
               ("root", "root", "ext4", "/", 640 * M - 515 * M)], got
PY
grep -q "/boot/efi *  vfat  *umask=0077" "$T/t6/etc/fstab" && grep -q " /  *  ext4  *errors=remount-ro" "$T/t6/etc/fstab" \
        || { cat "$T/t6/etc/fstab"; fail "fstab options from the profile"; }
ok "db role profile: esp 512M, bios 1M, root grows to the end; fstab options from the profile"

finish

#!/bin/bash
# SPDX-License-Identifier: MIT
# Storage for real: sparse files, real loop devices, the real binary. Every refusal of
# research/firstboot.md §5 "Disks" that a loop device can stage, with exit status, message, and
# the sha256 of every disk that was not cleared; then a fault injected at every step boundary, a
# rerun, and the result compared with an uninterrupted run's.
#
# Exit: 0 all passed, 77 skipped (not root, no loop devices), 1 a case failed.
set -u

O=${RACKSTACK_O:-build}
here=$(cd "$(dirname "$0")/../.." && pwd)
FB=$here/$O/rackstack-firstboot

. "$here/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "SKIP: needs root (loop devices)"
[ -e /dev/loop-control ] || skip_all "SKIP: no /dev/loop-control"
command -v losetup >/dev/null || skip_all "SKIP: no losetup"
command -v sfdisk >/dev/null || skip_all "SKIP: no sfdisk"
command -v mkfs.xfs >/dev/null || skip_all "SKIP: no mkfs.xfs"
[ -x "$FB" ] || { echo "missing $FB (run make)"; exit 1; }

T=$(mktemp -d /tmp/rackstack-storage.XXXXXX)
LOOPS=()
cleanup() {
        # our mounts only, deepest first
        findmnt -rn -o TARGET | grep "^$T/" | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
        for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT

# a failure shows the command's output
eval "_lib_$(declare -f not_ok)"
not_ok() { _lib_not_ok "$@"; [ -f "$T/out" ] && sed 's/^/       | /' "$T/out" | tail -25; return 0; }

# A sparse disk image attached to a loop device, non-rotational (an "ssd", as QEMU's rotation_rate=1).
mkdisk() { # name size -> prints the loop device
        truncate -s "$2" "$T/$1.img"
        local l
        l=$(losetup -f --show "$T/$1.img") || return 1
        LOOPS+=("$l")
        echo 0 > "/sys/block/${l#/dev/}/queue/rotational"
        echo "$l"
}
attach() { # image -> loop device
        local l
        l=$(losetup -f --show "$1") || return 1
        LOOPS+=("$l")
        echo 0 > "/sys/block/${l#/dev/}/queue/rotational"
        echo "$l"
}
detach() { losetup -d "$1"; }

# sha256 of a disk image's content, fast on sparse files: the offset and bytes of every 1 MiB
# block that is not all zeros, found through SEEK_DATA (so holes and zero blocks count alike and the
# host filesystem's extent layout does not matter).
shash() {
        python3 - "$1" <<'EOF'
import hashlib, os, sys
B = 1 << 20
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
h = hashlib.sha256()
h.update(b"size %d\n" % size)
off = 0
zero = bytes(B)
while off < size:
    try:
        d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    e = os.lseek(fd, d, os.SEEK_HOLE)
    blk = d // B * B
    while blk < e:
        b = os.pread(fd, B, blk)
        if b != zero[:len(b)]:
            h.update(b"%d\n" % blk)
            h.update(b)
        blk += B
    off = blk
print(h.hexdigest())
EOF
}

fb() { # args... ; sets rc, output in $T/out
        "$FB" "$@" > "$T/out" 2>&1
        rc=$?
}

# The layout with everything that differs between two runs (UUIDs, device names) taken out.
layout_of() { # loop device
        sfdisk --json "$1" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
for k in ("id", "device"): t.pop(k, None)
for p in t.get("partitions", []):
    for k in ("uuid", "node"): p.pop(k, None)
print(json.dumps(t, sort_keys=True))'
        local n
        for n in $(sfdisk --json "$1" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"].get("partitions", []): print(p["start"])'); do
                blkid -p -o export -O $((n * 512)) "$1" | grep -E '^(TYPE|LABEL)='
        done
}

refusal_case() { # name expect-message loopdev [extra args]
        local name=$1 msg=$2 dev=$3
        shift 3
        local img before after root=$T/root-$name
        img=$(losetup -n -O BACK-FILE "$dev")
        mkdir -p "$root"
        before=$(shash "$img")
        fb storage --role id --profiles "$here/profiles" --root "$root" --only-use "$dev" "$@"
        after=$(shash "$img")
        if [ "$rc" != 1 ]; then not_ok "$name: exit $rc, expected 1"; return; fi
        if ! grep -qF -- "$msg" "$T/out"; then not_ok "$name: no '$msg' in the output"; return; fi
        if ! grep -q "^rackstack-firstboot: FAILED at storage.plan: " "$T/out"; then not_ok "$name: no FAILED console line"; return; fi
        if [ "$before" != "$after" ]; then not_ok "$name: the disk changed"; return; fi
        if ! grep -q '"state": "failed"' "$root/var/lib/rackstack/status.json"; then not_ok "$name: status.json"; return; fi
        if grep -q "started label" "$root/var/lib/rackstack/journal" 2>/dev/null; then not_ok "$name: journal has a label step"; return; fi
        ok "$name: refused ($msg), disk unchanged"
}

echo "# probe and plan"
L=$(mkdisk empty 120G) || { echo "losetup failed"; exit 1; }
h0=$(shash "$T/empty.img")
fb plan --role id --profiles "$here/profiles" --only-use "$L" --json
if [ "$rc" = 0 ] && grep -q '"verdict": "chosen"' "$T/out" && grep -q "\"name\": \"${L#/dev/}\"" "$T/out" \
   && grep -q '"logical_sector_size": 512' "$T/out" && [ "$(shash "$T/empty.img")" = "$h0" ]; then
        ok "plan --json: empty 120G ssd chosen for 'data', nothing written"
else
        not_ok "plan --json on an empty disk (rc=$rc)"
fi
fb plan --role id --profiles "$here/profiles" --only-use "$L"
if [ "$rc" = 0 ] && grep -q "why: matches 'data'" "$T/out" && grep -q "do:  part 1 dirsrv .* mount /var/lib/dirsrv (noatime)" "$T/out"; then
        ok "plan table: reasons and actions, from profiles/id.yaml (--role --profiles)"
else
        not_ok "plan table (rc=$rc)"
fi
fb plan --role db --profiles "$here/profiles" --only-use "$L"
if [ "$rc" = 1 ] && grep -q "not 'database': it is ssd, 'database' asks for nvme" "$T/out"; then
        ok "plan: db role refuses a non-NVMe disk, saying why"
else
        not_ok "plan db (rc=$rc)"
fi
fb plan --profile "$here/profiles/id.yaml" --only-use "$L"
if [ "$rc" = 0 ] && grep -q "do:  part 1 dirsrv .* mount /var/lib/dirsrv (noatime)" "$T/out"; then
        ok "plan --profile profiles/id.yaml: the loader's layout"
else
        not_ok "plan --profile (rc=$rc)"
fi
fb plan --profile "$here/profiles/db.yaml" --ks "$here/kickstart/lab-db1.ks" --only-use "$L"
if [ "$rc" = 1 ] && grep -q "%addon disk database count=1: 0 disks match" "$T/out" \
   && grep -q "not 'database': it is ssd" "$T/out"; then
        ok "plan --ks lab-db1.ks: the %addon assertions apply"
else
        not_ok "plan --ks (rc=$rc)"
fi
fb plan --role id --profiles "$here/profiles" --ks /nonexistent
if [ "$rc" = 2 ]; then ok "--ks missing file: exit 2"; else not_ok "--ks missing (rc=$rc)"; fi
detach "$L"

echo "# refusals: nothing written to any disk"
# A GPT with an xfs inside and data, no clearpart
truncate -s 120G "$T/gpt.img"
echo 'label: gpt
start=2048, size=819200, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=old' | sfdisk -q "$T/gpt.img"
P=$(losetup -f --show -o $((2048 * 512)) --sizelimit $((819200 * 512)) "$T/gpt.img"); LOOPS+=("$P")
mkfs.xfs -q -f "$P"; detach "$P"
L=$(attach "$T/gpt.img")
refusal_case gpt-data "carries gpt" "$L"
grep -q "xfs (part 1)" "$T/out" && ok "gpt-data: the console lists the xfs inside partition 1" || not_ok "gpt-data: xfs not listed"

detach "$L"

# a bare filesystem on the whole disk
truncate -s 120G "$T/bare.img"; mkfs.ext4 -q -F "$T/bare.img" 2>/dev/null
L=$(attach "$T/bare.img")
refusal_case bare-fs "carries ext4" "$L"
# busy: mounted, even when clearpart names it
mkdir -p "$T/mnt-bare"
if mount "$L" "$T/mnt-bare" 2>/dev/null; then
        refusal_case busy "never forced" "$L" --clear "$L"
        umount "$T/mnt-bare"
else
        skip_check "busy" "cannot mount ext4 here"
fi
detach "$L"

# an md RAID 1.0 superblock at the end (no md driver on this host: written as mdadm would)
truncate -s 120G "$T/md.img"
python3 - "$T/md.img" <<'EOF'
import os, struct, sys, uuid
f = sys.argv[1]
size = os.path.getsize(f)
off = (size & ~0xfff) - 0x2000          # where md 1.0 lives
sb = bytearray(256 + 4)
struct.pack_into("<IIII", sb, 0, 0xa92b4efc, 1, 0, 0)
sb[16:32] = uuid.uuid4().bytes
sb[32:40] = b"lab:md0\0"
struct.pack_into("<iiQII", sb, 72, 1, 0, (off // 512) - 16, 0, 2)   # level, layout, size, chunk, raid_disks
struct.pack_into("<QQQ", sb, 128, 0, (off // 512), off // 512)    # data_offset, data_size, super_offset
sb[168:184] = uuid.uuid4().bytes
struct.pack_into("<I", sb, 220, 2)                                  # max_dev
struct.pack_into("<HH", sb, 256, 0, 1)                              # dev_roles
csum = sum(struct.unpack_from("<%dI" % (len(sb) // 4), sb))
csum = (csum & 0xffffffff) + (csum >> 32)
struct.pack_into("<I", sb, 216, csum & 0xffffffff)
with open(f, "r+b") as fh:
    fh.seek(off); fh.write(sb)
EOF
if blkid -p "$T/md.img" | grep -q linux_raid_member; then
        L=$(attach "$T/md.img")
        refusal_case md-at-end "carries linux_raid_member at end" "$L"
        detach "$L"
else
        skip_check "md-at-end" "libblkid does not see the crafted superblock"
fi

# an LVM PV
if command -v pvcreate >/dev/null; then
        truncate -s 120G "$T/pv.img"; L=$(attach "$T/pv.img")
        pvcreate -q -ff -y "$L" >/dev/null 2>&1
        refusal_case lvm-pv "carries LVM2_member" "$L"
        detach "$L"
else
        skip_check "lvm-pv" "no pvcreate (apt-get install lvm2)"
fi

# a LUKS header
if command -v cryptsetup >/dev/null; then
        truncate -s 120G "$T/luks.img"; printf pw > "$T/key"
        cryptsetup luksFormat -q --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
                "$T/luks.img" "$T/key" >/dev/null 2>&1
        L=$(attach "$T/luks.img")
        refusal_case luks "carries crypto_LUKS" "$L"
        detach "$L"
else
        skip_check "luks" "no cryptsetup (apt-get install cryptsetup-bin)"
fi

# Content whose partition table is gone: a filesystem, LVM PV or LUKS header at a usual partition
# offset, which `blkid -p` on the whole disk does not see. Each is data.
at_offset() { # name offset-in-bytes maker(loopdev) -> a loop device of the whole disk, content at offset
        truncate -s 120G "$T/$1.img"
        local P
        P=$(losetup -f --show -o "$2" "$T/$1.img") || return 1
        "$3" "$P" >/dev/null 2>&1
        losetup -d "$P"
        attach "$T/$1.img"
}
mk_ext4() { mke2fs -q -F -t ext4 -L olddata "$1" 2G; }
mk_xfs() { mkfs.xfs -q -f "$1"; }
mk_pv() { pvcreate -q -ff -y "$1"; }
mk_luks() { cryptsetup luksFormat -q --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "$1" "$T/key"; }
printf pw > "$T/key"
for c in "ext4-1mib 1048576 mk_ext4 ext4 (at 1 MiB, in no partition)" \
         "xfs-63s 32256 mk_xfs xfs (at sector 63, in no partition)" \
         "pv-4mib 4194304 mk_pv LVM2_member (at 4 MiB, in no partition)" \
         "luks-2048s 1048576 mk_luks crypto_LUKS (at 1 MiB, in no partition)"; do
        read -r name off maker msg <<< "$c"
        case $maker in mk_pv) command -v pvcreate >/dev/null || { skip_case "$name: no pvcreate"; continue; } ;;
                       mk_luks) command -v cryptsetup >/dev/null || { skip_case "$name: no cryptsetup"; continue; } ;; esac
        L=$(at_offset "$name" "$off" "$maker")
        if [ -n "$(blkid -p -o value -s TYPE "$L")" ]; then
                not_ok "$name: blkid sees the content on the whole disk; the case tests nothing"
        else
                refusal_case "$name" "carries $msg" "$L"
        fi
        detach "$L"; rm -f "$T/$name.img"
done

# a GPT whose primary header and PMBR are gone (the backup at the end is intact)
truncate -s 120G "$T/corrupt.img"
echo 'label: gpt
start=2048, size=204800' | sfdisk -q "$T/corrupt.img"
dd if=/dev/zero of="$T/corrupt.img" bs=1M count=1 conv=notrunc status=none
L=$(attach "$T/corrupt.img")
refusal_case corrupt-gpt "backup header only" "$L"
detach "$L"

# the boot medium named in the answers
truncate -s 120G "$T/boot.img"; L=$(attach "$T/boot.img")
RACKSTACK_TEST_BOOT_DEV=${L#/dev/} refusal_case boot-medium "the boot medium; it is never a candidate" "$L"
detach "$L"

# two role disks, one refused: the other, empty and usable, is not written either
truncate -s 2200G "$T/nc.img"; truncate -s 250G "$T/ad.img"
mkfs.ext4 -q -F "$T/ad.img" 2>/dev/null
A=$(attach "$T/nc.img"); B=$(attach "$T/ad.img")
h1=$(shash "$T/nc.img"); h2=$(shash "$T/ad.img")
mkdir -p "$T/root-app" "$T/root-clearall"
fb storage --role app --profiles "$here/profiles" --root "$T/root-app" --only-use "$A,$B"
if [ "$rc" = 1 ] && grep -q "carries ext4" "$T/out" && [ "$(shash "$T/nc.img")" = "$h1" ] && [ "$(shash "$T/ad.img")" = "$h2" ]; then
        ok "app: one disk refused, nothing written to either"
else
        not_ok "app: partial refusal (rc=$rc)"
fi
detach "$A"; detach "$B"

echo "# clearpart names it: wiped and used; the disk it does not name keeps its content"
truncate -s 120G "$T/c1.img"; truncate -s 120G "$T/c2.img"
echo 'label: gpt
start=2048, size=204800' | sfdisk -q "$T/c1.img"
mkfs.ext4 -q -F "$T/c2.img" 2>/dev/null
A=$(attach "$T/c1.img"); B=$(attach "$T/c2.img"); mkdir -p "$T/root-clear"
h2=$(shash "$T/c2.img")
fb storage --role id --profiles "$here/profiles" --root "$T/root-clear" --only-use "$A,$B" --clear "$A"
lay=$(layout_of "$A")
if [ "$rc" = 0 ] && grep -q "^rackstack-firstboot: finished" "$T/out" && [ "$(shash "$T/c2.img")" = "$h2" ] \
   && grep -q "do:  wipe every signature (both ends) of what it carries (gpt): allowed by clearpart --drives=$A (--clear)" "$T/out" \
   && echo "$lay" | grep -q '"name": "dirsrv"' && echo "$lay" | grep -q 'TYPE=xfs' \
   && grep -q "/var/lib/dirsrv xfs noatime,x-systemd.device-timeout=10min 0 0$" "$T/root-clear/etc/fstab" \
   && findmnt -n "$T/root-clear/var/lib/dirsrv" >/dev/null; then
        ok "clearpart --drives: wiped, labelled, mkfs, fstab, mounted; the other disk unchanged"
else
        not_ok "clearpart --drives (rc=$rc)"
fi
# a rerun after success changes nothing
cp "$T/root-clear/var/lib/rackstack/journal" "$T/j.before"; cp "$T/root-clear/etc/fstab" "$T/f.before"
umount "$T/root-clear/var/lib/dirsrv"
h1=$(shash "$T/c1.img")
fb storage --role id --profiles "$here/profiles" --root "$T/root-clear" --only-use "$A,$B" --clear "$A" --no-mount
if [ "$rc" = 0 ] && cmp -s "$T/j.before" "$T/root-clear/var/lib/rackstack/journal" && cmp -s "$T/f.before" "$T/root-clear/etc/fstab" \
   && [ "$(shash "$T/c1.img")" = "$h1" ]; then
        ok "rerun after success: journal, fstab and disk unchanged"
else
        not_ok "rerun after success (rc=$rc)"
fi
detach "$A"; detach "$B"

echo "# clearpart --all with no drive list: bounded by the role's disk layout"
# Two disks holding data: U1 (120G, ext4) fits 'data' and is assigned, U2 (60G, xfs) fits no role
# disk. The planner sees only these two (a sysfs holding just them): an unbounded clearpart must
# never reach another disk on this machine.
truncate -s 120G "$T/u1.img"; truncate -s 60G "$T/u2.img"
mkfs.ext4 -q -F "$T/u1.img" 2>/dev/null; mkfs.xfs -q -f "$T/u2.img"
A=$(attach "$T/u1.img"); B=$(attach "$T/u2.img"); mkdir -p "$T/root-all" "$T/sysfs-all/block"
for l in "$A" "$B"; do ln -sfn "/sys/block/${l#/dev/}" "$T/sysfs-all/block/"; done
printf 'rootpw --lock\ntimezone Etc/UTC --utc\nclearpart --all --initlabel\n' > "$T/all.ks"
h2=$(shash "$T/u2.img")
fb plan --role id --profiles "$here/profiles" --ks "$T/all.ks" --sysfs "$T/sysfs-all"
p_rc=$rc; cp "$T/out" "$T/plan-all.out"
fb storage --role id --profiles "$here/profiles" --ks "$T/all.ks" --sysfs "$T/sysfs-all" --root "$T/root-all"
lay=$(layout_of "$A")
note="note: warning: clearpart --all ($T/all.ks:3) names no disks: bounded by the role's disk layout, it clears ${A#/dev/}; never a disk outside the plan, the boot medium or the running root's disk; left alone: ${B#/dev/} (xfs)"
if [ "$p_rc" = 0 ] && grep -qF "$note" "$T/plan-all.out" && grep -qF "$note" "$T/out" \
   && grep -q "warning: 'clearpart --all' names no disks" "$T/plan-all.out" \
   && grep -q "allowed by clearpart --all ($T/all.ks:3), bounded by the role's disk layout" "$T/out" \
   && [ "$rc" = 0 ] && grep -q "^rackstack-firstboot: finished" "$T/out" && [ "$(shash "$T/u2.img")" = "$h2" ] \
   && echo "$lay" | grep -q '"name": "dirsrv"'; then
        ok "clearpart --all unbounded: the assigned disk wiped and used, the other left alone and named; plan and storage agree"
else
        cat "$T/plan-all.out" >> "$T/out"
        not_ok "clearpart --all unbounded (plan rc=$p_rc, storage rc=$rc)"
fi
findmnt -rn -o TARGET | grep "^$T/root-all/" | sort -r | while read -r m; do umount "$m"; done
detach "$A"; detach "$B"

echo "# kill at every step boundary, rerun, compare with an uninterrupted run"
truncate -s 120G "$T/ref.img"; R=$(attach "$T/ref.img"); mkdir -p "$T/root-ref"
fb storage --role id --profiles "$here/profiles" --root "$T/root-ref" --only-use "$R"
if [ "$rc" != 0 ]; then not_ok "reference run (rc=$rc)"; fi
ref_layout=$(layout_of "$R")
ref_fstab=$(sed -E 's/UUID=[^ ]+/UUID=X/' "$T/root-ref/etc/fstab")
ref_steps=$(awk '$1 == "done" {print $2}' "$T/root-ref/var/lib/rackstack/journal" | sed -E 's/:.*//' | sort | uniq -c)
umount "$T/root-ref/var/lib/dirsrv"; detach "$R"

for when in before after done; do
        for step in label part mkfs fstab mount; do
                name=$when-$step
                truncate -s 120G "$T/f-$name.img"; F=$(attach "$T/f-$name.img")
                root=$T/root-$name; mkdir -p "$root"
                RACKSTACK_FAULT=$when:$step "$FB" storage --role id --profiles "$here/profiles" --root "$root" --only-use "$F" > "$T/out" 2>&1
                rc1=$?
                fb storage --role id --profiles "$here/profiles" --root "$root" --only-use "$F"
                steps=$(awk '$1 == "done" {print $2}' "$root/var/lib/rackstack/journal" | sed -E 's/:.*//' | sort | uniq -c)
                lay=$(layout_of "$F")
                fst=$(sed -E 's/UUID=[^ ]+/UUID=X/' "$root/etc/fstab" 2>/dev/null)
                if [ "$rc1" != 137 ]; then
                        not_ok "$name: the fault did not fire (exit $rc1)"
                elif [ "$rc" != 0 ]; then
                        not_ok "$name: rerun failed (exit $rc)"
                elif [ "$lay" != "$ref_layout" ]; then
                        not_ok "$name: layout differs: $lay"
                elif [ "$fst" != "$ref_fstab" ]; then
                        not_ok "$name: fstab differs"
                elif [ "$steps" != "$ref_steps" ]; then
                        not_ok "$name: journal steps differ"
                elif ! findmnt -n "$root/var/lib/dirsrv" >/dev/null; then
                        not_ok "$name: not mounted"
                else
                        ok "$name: killed, resumed, same as an uninterrupted run"
                fi
                umount "$root/var/lib/dirsrv" 2>/dev/null
                detach "$F"
                rm -f "$T/f-$name.img"
        done
done

finish

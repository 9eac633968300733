#!/bin/sh
# Build the hand-made Debian image that tests/vm/test_harness_selftest.py boots. It is NOT a rackstack
# artifact: it exists so the harness can be proven before the builder works, and it documents, as
# commands, the two boot routes the builder has to reproduce on a plain file (no loop devices, no
# mounts; the lab host has neither partition nodes nor vfat):
#   UEFI: GPT ESP (FAT32 made with mkfs.fat, filled with mtools) holding a grub-mkstandalone BOOTX64.EFI.
#   BIOS: GRUB i386-pc core.img written raw into the 1 MiB bios_grub partition, and GRUB's boot.img
#         written into the protective MBR with three patches (what grub-bios-setup would do; see
#         tests/vm/grub_bios.py for the byte offsets and why).
# The root is ext4 made with mke2fs -d; serial-getty on ttyS0 (console=ttyS0) gives a `login:` prompt;
# root has no password.
#
# Usage: tests/vm/make-selftest-image.sh OUTDIR      (as root; ~90 s for mmdebstrap, ~10 s for the image)
# Produces OUTDIR/selftest.raw (2 GiB sparse). Reuses OUTDIR/rootfs if it is already there.
set -eu

OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
cd "$OUT"
SRC=/etc/apt/sources.list.d/debian.sources
ROOT_UUID=0b5a1ab0-0000-4000-8000-0000000000a2
ESP_ID=1AB0E5F1

if [ ! -e rootfs/.done ]; then
        rm -rf rootfs
        mkdir -p tmp
        TMPDIR=$PWD/tmp mmdebstrap --mode=root --variant=minbase \
                --include=linux-image-amd64,systemd-sysv,udev,kmod,iproute2 bookworm rootfs "$SRC"
        touch rootfs/.done
fi

K=$(ls rootfs/boot | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
echo selftest > rootfs/etc/hostname
echo "UUID=$ROOT_UUID / ext4 defaults 0 1" > rootfs/etc/fstab
chroot rootfs passwd -d root >/dev/null

# GPT: 1 ESP 256M, 2 bios_grub 1M, 3 root (rest). Same order as the profiles' OS disk (esp, bios-boot, root).
rm -f selftest.raw
truncate -s 2G selftest.raw
sfdisk -q --label gpt selftest.raw <<EOF
start=2048, size=256MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
part() { sfdisk --json selftest.raw | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions'][$1-1]; print(p['start'], p['size'])"; }
set -- $(part 1); ESP_START=$1 ESP_N=$2
set -- $(part 2); BIOS_START=$1 BIOS_N=$2
set -- $(part 3); ROOT_START=$1 ROOT_N=$2

cat > grub-embed.cfg <<EOF
set timeout=0
search --no-floppy --fs-uuid --set=root $ROOT_UUID
linux /boot/vmlinuz-$K root=UUID=$ROOT_UUID rw console=ttyS0,115200n8
initrd /boot/initrd.img-$K
boot
EOF

# UEFI
grub-mkstandalone -O x86_64-efi -o grubx64.efi --locales= --fonts= --themes= \
        --modules="part_gpt fat ext2 search search_fs_uuid linux normal configfile echo" \
        "boot/grub/grub.cfg=grub-embed.cfg"
rm -f esp.img
truncate -s $((ESP_N * 512)) esp.img
mkfs.fat -F 32 -n ESP -i $ESP_ID esp.img >/dev/null
mmd -i esp.img ::/EFI ::/EFI/BOOT
mcopy -i esp.img grubx64.efi ::/EFI/BOOT/BOOTX64.EFI
dd if=esp.img of=selftest.raw bs=512 seek=$ESP_START conv=notrunc,sparse status=none

# Root
mke2fs -q -F -t ext4 -L root -U $ROOT_UUID -E offset=$((ROOT_START * 512)) -d rootfs selftest.raw $((ROOT_N / 2))k

# BIOS: core.img with everything built in, the config above embedded (run by GRUB's rescue parser: plain
# commands only). No normal.mod is needed because the config boots before normal mode would load.
grub-mkimage -O i386-pc -o core.img -c grub-embed.cfg -p "(hd0,gpt3)/boot/grub" \
        biosdisk part_gpt ext2 search search_fs_uuid linux echo
python3 "$HERE/grub_bios.py" selftest.raw core.img /usr/lib/grub/i386-pc/boot.img $BIOS_START $BIOS_N

rm -f esp.img
echo "built $OUT/selftest.raw (kernel $K)"

#!/usr/bin/env python3
"""Install GRUB for BIOS on a GPT disk image FILE, without grub-bios-setup and without a block device.

    grub_bios.py IMAGE CORE_IMG BOOT_IMG BIOS_GRUB_START_LBA BIOS_GRUB_SECTORS

This is exactly what grub-bios-setup (GRUB 2.06, util/setup.c) does when it embeds core.img in a
bios_grub partition, minus the optional Reed-Solomon redundancy (core.img leaves it 0, which the
decompressor treats as "none"):

1. core.img -> the bios_grub partition, at its first sector. core.img's first sector is diskboot.img;
   its last 12 bytes are one blocklist entry {u64 start LBA, u16 sector count, u16 load segment}.
   grub-mkimage fills in the count (core sectors - 1) and the segment (0x820) and assumes start=2;
   we set start = partition start + 1 (the sector right after diskboot).
2. boot.img -> sector 0, keeping the protective MBR's disk signature and partition table
   (bytes 0x1b8..0x1fd) and the 0x55aa signature, and patching:
     0x5c  u64  LBA of core.img's first sector (GRUB_BOOT_MACHINE_KERNEL_SECTOR)
     0x64  u8   0xff = boot from the drive the BIOS passes in %dl (GRUB_BOOT_MACHINE_BOOT_DRIVE)
     0x66  2 x 0x90 over the `jmp` that skips the %dl sanity check, as grub-bios-setup does for hard
          disks (GRUB_BOOT_MACHINE_DRIVE_CHECK), so buggy BIOSes passing 0x00 still boot from 0x80.
Bytes 0x03..0x5a (a DOS BPB) are left as in boot.img: a GPT protective MBR has none to preserve.

The same few writes are what the C builder needs; no GRUB tool has to touch the image.
"""
import struct
import sys

SECTOR = 512
KERNEL_SECTOR = 0x5C
BOOT_DRIVE = 0x64
DRIVE_CHECK = 0x66
MBR_KEEP_FROM = 0x1B8          # disk signature, partition table, 0x55aa: from the existing sector 0


def install(image, core_path, boot_path, start, nsectors):
    core = bytearray(open(core_path, "rb").read())
    boot = bytearray(open(boot_path, "rb").read())
    if len(boot) != SECTOR:
        raise SystemExit("boot.img must be 512 bytes")
    core_sectors = (len(core) + SECTOR - 1) // SECTOR
    if core_sectors > nsectors:
        raise SystemExit("core.img (%d sectors) does not fit the bios_grub partition (%d)" %
                         (core_sectors, nsectors))
    core += b"\0" * (core_sectors * SECTOR - len(core))
    bl = SECTOR - 12
    bl_start, bl_len, bl_seg = struct.unpack_from("<QHH", core, bl)
    if bl_len != core_sectors - 1 or bl_seg != 0x820:
        raise SystemExit("unexpected diskboot blocklist (start %d len %d seg %#x) for %d sectors" %
                         (bl_start, bl_len, bl_seg, core_sectors))
    struct.pack_into("<Q", core, bl, start + 1)

    with open(image, "r+b") as f:
        mbr = bytearray(f.read(SECTOR))
        if mbr[0x1FE:0x200] != b"\x55\xaa" or mbr[0x1C2] != 0xEE:
            raise SystemExit("%s: no GPT protective MBR in sector 0" % image)
        new = boot[:MBR_KEEP_FROM] + mbr[MBR_KEEP_FROM:]
        struct.pack_into("<Q", new, KERNEL_SECTOR, start)
        new[BOOT_DRIVE] = 0xFF
        new[DRIVE_CHECK:DRIVE_CHECK + 2] = b"\x90\x90"
        f.seek(start * SECTOR)
        f.write(core)
        f.seek(0)
        f.write(new)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        raise SystemExit(__doc__.split("\n\n")[1])
    install(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))

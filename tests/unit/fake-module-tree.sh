#!/bin/sh
# A kernel module tree for the module resolver's unit test: tiny ELF objects with the .modinfo and
# export/import symbols depmod reads, and depmod's own indexes over them (modules.dep, .softdep,
# .alias and their .bin files, as libkmod reads them).
#   fake-module-tree.sh DIR [KVER]   -> DIR/lib/modules/KVER (9.9.9)
set -eu
kver=${2:-9.9.9}
d=$1/lib/modules/$kver
SRC=$1/fake-module-src
mkdir -p "$d/kernel" "$SRC"
mk() { # file name (may hold '-'), modinfo, C body
        n=$(basename "$1" .ko)
        printf 'static const char mi[] __attribute__((section(".modinfo"), used, aligned(1))) = "name=%s\\0license=GPL\\0%s";\n%s\n' \
                "$n" "$2" "$3" >"$SRC/$n.c"
        mkdir -p "$(dirname "$d/kernel/$1")"
        cc -c -O0 -fno-asynchronous-unwind-tables -o "$d/kernel/$1" "$SRC/$n.c"
}
export_sym() { # symbol
        printf 'int %s(void) { return 1; } const char __kstrtab_%s[] __attribute__((section("__ksymtab_strings"))) = "%s"; int __ksymtab_%s __attribute__((section("___ksymtab+%s"))) = 0;' \
                "$1" "$1" "$1" "$1" "$1"
}
mk lib/crc16.ko "" "$(export_sym crc16_fn)"
mk fs/jbd2.ko "depends=crc16\\0" "$(export_sym jbd2_fn) extern int crc16_fn(void); int jbd2_use(void) { return crc16_fn(); }"
mk fs/ext4.ko "depends=jbd2\\0softdep=pre: crypto-crc32c\\0" "extern int jbd2_fn(void); int ext4_use(void) { return jbd2_fn(); }"
mk crypto/crc32c_generic.ko "alias=crypto-crc32c\\0alias=crc32c\\0" ""
mk arch/crc32c-intel.ko "alias=crypto-crc32c\\0alias=crc32c\\0" ""
mk lib/libcrc32c.ko "softdep=pre: crc32c\\0" "$(export_sym crc32c_fn)"
mk fs/xfs.ko "depends=libcrc32c\\0" "extern int crc32c_fn(void); int xfs_use(void) { return crc32c_fn(); }"
mk drivers/usb-storage.ko "softdep=post: uas\\0" ""
mk drivers/uas.ko "" ""
printf 'kernel/fs/isofs/isofs.ko\n' >"$d/modules.builtin"
depmod -b "$1" "$kver" 2>/dev/null
rm -rf "$SRC"

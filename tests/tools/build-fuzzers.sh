#!/bin/sh
# Build each tests/fuzz/fuzz-*.c as a libFuzzer binary (clang, ASan+UBSan) into build/fuzz/.
#
#   tests/tools/build-fuzzers.sh            build all
#   tests/tools/build-fuzzers.sh kickstart  build build/fuzz/fuzz-kickstart only
#
# Run one:  build/fuzz/fuzz-kickstart -max_total_time=180 build/fuzz/corpus-kickstart tests/fuzz/corpus/kickstart
# (the first directory collects new inputs; the second is the seed corpus, read only).
set -eu

cd "$(dirname "$0")/../.."
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
        for v in 19 18 17 16 15 14; do
                if command -v "clang-$v" >/dev/null 2>&1; then CLANG=clang-$v; break; fi
        done
fi
command -v "$CLANG" >/dev/null 2>&1 || { echo "build-fuzzers: clang not found (apt-get install clang libclang-rt-dev)" >&2; exit 1; }

O=build/fuzz
mkdir -p "$O/obj"
PKGS="libarchive blkid libparted libnl-3.0 libnl-route-3.0 yaml-0.1 openssl libkmod"
# shellcheck disable=SC2086
PKG_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null || true)
# shellcheck disable=SC2086
PKG_LIBS=$(pkg-config --libs $PKGS 2>/dev/null || true)
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -g -O1 -D_GNU_SOURCE -DRACKSTACK_VERSION=\"fuzz\" -DRACKSTACK_DATADIR=\"/usr/share/rackstack\" \
-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Icommon -Wall -Wno-unused-parameter $SAN $PKG_CFLAGS"

# The common library once, shared by every harness.
objs=""
for c in common/*.c; do
        o="$O/obj/$(basename "${c%.c}").o"
        if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find common -name '*.h' -newer "$o" 2>/dev/null | head -n1)" ]; then
                # shellcheck disable=SC2086
                $CLANG $CFLAGS -c -o "$o" "$c"
        fi
        objs="$objs $o"
done
# An archive, so each harness pulls only the objects it uses, and --as-needed then drops the
# libraries nothing calls (libparted's constructor trips ASan on its own).
rm -f "$O/libcommon.a"
# shellcheck disable=SC2086
ar rcs "$O/libcommon.a" $objs

# firstboot's code too (minus main.c), for harnesses of its planners.
fobjs=""
for c in firstboot/*.c; do
        [ "$c" = firstboot/main.c ] && continue
        o="$O/obj/fb-$(basename "${c%.c}").o"
        if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find common firstboot -name '*.h' -newer "$o" 2>/dev/null | head -n1)" ]; then
                # shellcheck disable=SC2086
                $CLANG $CFLAGS -Ifirstboot -c -o "$o" "$c"
        fi
        fobjs="$fobjs $o"
done
rm -f "$O/libfirstboot.a"
# shellcheck disable=SC2086
ar rcs "$O/libfirstboot.a" $fobjs

want=${1:-}
for h in tests/fuzz/fuzz-*.c; do
        name=$(basename "${h%.c}")
        [ -n "$want" ] && [ "$name" != "fuzz-$want" ] && continue
        # shellcheck disable=SC2086
        $CLANG $CFLAGS -Ifirstboot -fsanitize=fuzzer -o "$O/$name" "$h" "$O/libfirstboot.a" "$O/libcommon.a" \
                -Wl,--as-needed $PKG_LIBS -lcrypt -lm
        echo "  FUZZ     $O/$name"
done

#!/bin/bash
# Boot a raw OS disk image under QEMU (TCG) and wait for a line on the serial console.
#   boot-raw.sh uefi|bios IMAGE [TIMEOUT_S] [PATTERN]      (default 300 s, "login:")
# Prints the seconds from QEMU start until PATTERN; exit 0 if seen, 1 on timeout, 77 = skipped.
# The image is opened with snapshot=on, so it is not modified. The log is kept in IMAGE.MODE.log.
set -euo pipefail

mode=$1 img=$2 timeout=${3:-300} pattern=${4:-login:}
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
log=$img.$mode.log
work=$(mktemp -d "${TMPDIR:-/tmp}/boot-raw.XXXXXX")
qpid=
cleanup() {
        [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

fw=()
case $mode in
uefi)
        code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
        [ -r $code ] || { echo "SKIP: ovmf missing"; exit 77; }
        cp $vars "$work/vars.fd"     # each run its own NVRAM
        fw=(-drive if=pflash,format=raw,unit=0,readonly=on,file=$code -drive if=pflash,format=raw,unit=1,file="$work/vars.fd")
        ;;
bios) ;;                             # QEMU's default firmware is SeaBIOS
*) echo "usage: $0 uefi|bios IMAGE [TIMEOUT] [PATTERN]" >&2; exit 2 ;;
esac

start=$(date +%s%3N)
qemu-system-x86_64 -nodefaults -no-user-config -machine q35 -accel ${RACKSTACK_ACCEL:-tcg} -m 2048 -smp 2 \
        -display none -serial file:"$log" -monitor none -no-reboot "${fw[@]}" \
        -drive file="$img",format=raw,if=none,id=d0,snapshot=on -device virtio-blk-pci,drive=d0,bootindex=0 &
qpid=$!

while :; do
        ms=$(( $(date +%s%3N) - start ))
        el=$((ms / 1000)).$(( (ms % 1000) / 100 ))
        if grep -qa -- "$pattern" "$log" 2>/dev/null; then
                printf '%s: "%s" after %s s\n' "$mode" "$pattern" "$el"
                exit 0
        fi
        if ! kill -0 "$qpid" 2>/dev/null; then
                qpid=
                printf '%s: QEMU exited after %s s without "%s" (log: %s)\n' "$mode" "$el" "$pattern" "$log"
                exit 1
        fi
        if [ $ms -gt $((timeout * 1000)) ]; then
                printf '%s: no "%s" within %s s (log: %s)\n' "$mode" "$pattern" "$timeout" "$log"
                exit 1
        fi
        sleep 1
done

#!/bin/bash
# The VM harness itself, with QEMU and no OS image: ISO as CD and USB and PXE under UEFI and BIOS,
# the retry and KVM-error paths, cleanup on signals, QMP, socket NICs.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (make deps)"
exec python3 "$TOP/tests/vm/test_harness_basic.py" -v

#!/bin/bash
# The db role's installer ISO: xorriso reports an El Torito BIOS and UEFI entry, an isohybrid MBR
# and a GPT whose second partition is an ESP; the ISO boots as a CD and as a USB stick under BIOS
# (isolinux) and UEFI (GRUB from the ESP) to the installer, which finds its medium by label, mounts
# the live root and runs rackstack-firstboot from it (its own first line proves the libraries load).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/media-lib.sh"
vm_requirements
ensure_media db

fails=0
report=$(xorriso -indev "$ISO" -report_el_torito plain -report_system_area plain 2>&1)
for want in 'El Torito boot img :   1  BIOS  y   none' 'El Torito boot img :   2  UEFI  y   none' \
        'El Torito img path :   1  /isolinux/isolinux.bin' 'System area summary: MBR isohybrid cyl-align-off GPT' \
        'GPT type GUID      :   2  28732ac11ff8d211ba4b00a0c93ec93b' "Volume id    : 'RACKSTACK_LAB_DB1'"; do
        if ! grep -qF -- "$want" <<< "$report"; then
                echo "FAIL xorriso -report_el_torito/-report_system_area lacks: $want"; echo "$report"
                fails=$((fails + 1))
        fi
done
[ $fails = 0 ] && echo "ok   xorriso: El Torito BIOS + UEFI, isohybrid MBR, GPT with an ESP"
echo "ISO: $(stat -c %s "$ISO") bytes"

mkdir -p "$O/test-logs"
# One boot: FIRMWARE cd|usb. Two run at a time (the host has two cores; each boot is mostly
# single-threaded TCG).
boot_iso() {
        python3 - "$TOP" "$ISO" "$O/test-logs" "$1" "$2" <<'PYEOF'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests/vm"))
from vmharness import VM, install_signal_handlers
install_signal_handlers()
iso, logdir, fw, how = sys.argv[2:6]
log = os.path.join(logdir, "vm-media-iso-%s-%s.serial.log" % (fw, how))
try:
    with VM(iso=iso, iso_as=how, firmware=fw, nets=0, no_reboot=True, memory=1536, log=log, name="iso-%s-%s" % (fw, how)) as vm:
        vm.boot(expect=r"rackstack-installer: starting \(role db, host lab-db1\)", timeout=240)
        first = vm.last_match_time
        vm.wait_for(r"rackstack-installer: medium RACKSTACK_LAB_DB1 on /dev/(sr|sd)", 120)
        found = vm.last_match_time
        # The medium's ks.cfg is not passed with --ks: install reads it and takes it only when the
        # medium's (signed) SHA256SUMS lists it.
        vm.wait_for(r"rackstack-installer: running /usr/bin/rackstack-firstboot install --source "
                    r"/run/rackstack/medium/rackstack\s", 120)
        # Whatever the install verb says, it said it from the live root: the loader and every
        # library resolved (a missing one prints "error while loading shared libraries").
        vm.wait_for(r"\n(rackstack-firstboot|error while loading shared libraries)", 120)
        if "error while loading shared libraries" in vm.output[-4000:]:
            raise RuntimeError("rackstack-firstboot could not start in the live root")
        print("ok   ISO as %s under %s: first line %.1f s, medium %.1f s, firstboot %.1f s"
              % (how, fw, first, found, vm.last_match_time))
except Exception as e:
    print("FAIL ISO as %s under %s: %s (serial log %s)" % (how, fw, e, log))
    sys.exit(1)
PYEOF
}

t0=$SECONDS
for pair in "bios cd:uefi cd" "bios usb:uefi usb"; do
        boot_iso ${pair%%:*} & a=$!
        boot_iso ${pair##*:} & b=$!
        wait $a || fails=$((fails + 1))
        wait $b || fails=$((fails + 1))
done
echo "4 boots in $((SECONDS - t0)) s"
echo "$fails failed"
[ $fails = 0 ]

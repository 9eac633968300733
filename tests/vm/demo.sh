#!/bin/bash
# make demo: build the db role on this host's own distribution and boot it in QEMU with the db
# role's disks (an SSD for the OS, NVMe 500G and SAS 1T as sparse files) and two NICs; the serial
# console is shown until rackstack-firstboot reports.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "make demo builds an image as root: run it as root (sudo make demo)" >&2; exit 1; }
ensure_image db
echo
echo "== booting $RAW (UEFI, TCG: a few minutes) with NVMe 500G + SAS 1T (sparse) and two NICs"
echo "== lab-db1.ks on an OEMDRV disk; the console follows"
echo
harness boot --image "$RAW" --firmware uefi --boot-disk-size 60G \
        --disk nvme:500G --disk sas-hdd:1T --nics 2 --oemdrv "$TOP/kickstart/lab-db1.ks" \
        --expect 'rackstack-firstboot: (finished|FAILED at .*)' --timeout 1500 \
        --echo --echo-prefix '' --log "$O/demo-serial.log"
rc=$?
echo
if grep -q 'rackstack-firstboot: finished' "$O/demo-serial.log"; then
        echo "== firstboot finished (serial log: $O/demo-serial.log)"
elif grep -q 'rackstack-firstboot: FAILED' "$O/demo-serial.log"; then
        echo "== firstboot reported a failure: $(grep -o 'rackstack-firstboot: FAILED.*' "$O/demo-serial.log" | tail -n 1)"
        echo "== (serial log: $O/demo-serial.log)"
else
        echo "== no report from firstboot (rc $rc); serial log: $O/demo-serial.log"
        exit 1
fi

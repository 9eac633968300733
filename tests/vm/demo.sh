#!/bin/bash
# make demo: build the db role on Ubuntu 24.04, the product's base, whatever the host runs (Ubuntu's
# archive is reachable from a Debian host and the reverse; RACKSTACK_VM_BASE=debian-12 builds the other
# supported base), and boot it in QEMU with the db role's disks (an SSD for the OS, NVMe 500G and
# SAS 1T as sparse files) and two NICs; the serial console is shown until rackstack-firstboot reports.
#
# The NICs are wired to tests/vm/gateway.py, which answers ARP for the site's gateways on their
# VLANs the way the lab's switch and routers would (QEMU's user network drops tagged frames, and
# firstboot refuses a network whose gateway does not answer).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "make demo builds an image as root: run it as root (sudo make demo)" >&2; exit 1; }
ensure_image db

# One VM has no identity, monitoring or log server to join: the demo's answers leave the join lines
# out, so those steps report "skipped" instead of waiting for servers that do not exist.
ks=$O/demo-lab-db1.ks
grep -v '^join ' "$TOP/kickstart/lab-db1.ks" >"$ks"

port=$((40000 + RANDOM % 20000))
python3 "$TOP/tests/vm/gateway.py" --port $port --port $((port + 1)) --gw 20=10.0.50.1 --gw 10=10.0.10.1 \
        --log "$O/demo-gateway.log" --lifetime 2400 &
gw=$!
trap 'kill $gw 2>/dev/null' EXIT

echo
echo "== booting $RAW ($(host_base), UEFI, TCG: a few minutes) with NVMe 500G + SAS 1T (sparse) and two NICs"
echo "== lab-db1.ks on an OEMDRV disk; the console follows"
echo
harness boot --image "$RAW" --firmware uefi --boot-disk-size 60G \
        --disk nvme:500G --disk sas-hdd:1T --nics 2 --net socket --net-port $port \
        --oemdrv "$ks" \
        --expect 'rackstack-firstboot: (finished|FAILED at [^\r\n]*)[\r\n]' --timeout 1500 \
        --echo --echo-prefix '' --log "$O/demo-serial.log"
rc=$?
echo
last=$(grep -ao 'rackstack-firstboot: \(finished\|FAILED at .*\)' "$O/demo-serial.log" | tail -n 1 | tr -d '\r')
case $last in
*finished) echo "== firstboot finished (serial log: $O/demo-serial.log)" ;;
*FAILED*) echo "== firstboot reported a failure: $last"; echo "== (serial log: $O/demo-serial.log)" ;;
*) echo "== no report from firstboot (rc $rc); serial log: $O/demo-serial.log"; exit 1 ;;
esac

#!/bin/bash
# The builder's spine: the db role's raw image boots under UEFI (OVMF) and BIOS (SeaBIOS) to a
# login prompt on the serial console, and its qcow2 passes qemu-img check.
. "$(dirname "$0")/lib.sh"
vm_requirements
ensure_image db

qemu-img check "$QCOW2" || { echo "qemu-img check failed on $QCOW2"; exit 1; }

fails=0
for fw in uefi bios; do
        log=$O/test-logs/vm-boot-db-$fw.serial.log
        if harness boot --image "$RAW" --firmware "$fw" --boot-disk-size 60G --expect 'login:' --timeout 900 \
                --log "$log"; then
                echo "ok   db boots under $fw to a login prompt"
        else
                echo "FAIL db under $fw: no login prompt (serial log $log)"; tail -n 30 "$log"
                fails=$((fails + 1))
        fi
done
echo "$((2 - fails)) passed, $fails failed"
[ $fails = 0 ]

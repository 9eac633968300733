#!/bin/bash
# The Proxmox template's disk boots on the hardware its config describes: proxmox/lab-db1.conf is
# read and turned into the harness's machine — q35, OVMF, the OS disk on virtio-scsi as an SSD grown
# to the config's size, each data disk on its bus (scsiN: virtio-scsi, sataN: AHCI) with ssd=1 as
# non-rotational, two virtio NICs, the guest agent's port — and the guest reaches a login prompt, sees
# that hardware and starts the agent.
# Cores and RAM are the harness's (2, 2 GiB): this host cannot give a TCG guest the role's 8 and 32G.
. "$(dirname "$0")/lib.sh"
vm_requirements
ensure_image db
PX=$IMAGE_DIR/proxmox
CONF=$PX/lab-db1.conf
if [ ! -s "$CONF" ]; then
        (cd "$TOP" && "$O/rackstack-build" build db --defer-vendor --base "$(host_base)" --format raw,qcow2,proxmox --out "$VMOUT" \
                --firstboot "$O/rackstack-firstboot") || { echo "image build failed"; exit 1; }
fi

# the config -> harness arguments
grep -qx "machine: q35" "$CONF" || { echo "FAIL $CONF: not q35"; exit 1; }
grep -qx "bios: ovmf" "$CONF" || { echo "FAIL $CONF: not OVMF"; exit 1; }
grep -qx "scsihw: virtio-scsi-single" "$CONF" || { echo "FAIL $CONF: not virtio-scsi"; exit 1; }
os_size=$(sed -nE 's/^scsi0: .*size=([0-9]+G)$/\1/p' "$CONF")
os_kind=scsi-hdd; grep -qE '^scsi0: .*ssd=1' "$CONF" && os_kind=scsi-ssd
nics=$(grep -c '^net[0-9]*: virtio,' "$CONF")
human() { # 500 -> "500 GiB", 1024 -> "1 TiB": as firstboot's disk table prints sizes
        if [ $(($1 % 1024)) = 0 ]; then echo "$(($1 / 1024)) TiB"; else echo "$1 GiB"; fi
}
args=() want=()
while read -r slot opts; do
        size=$(echo "$opts" | sed -nE 's/.*size=([0-9]+)G.*/\1/p')
        ssd=hdd; case $opts in *ssd=1*) ssd=ssd ;; esac
        case $slot in
        scsi0:) continue ;;
        scsi*) args+=(--disk "scsi-$ssd:${size}G"); want+=("$(human "$size") +$ssd +scsi") ;;
        sata*) args+=(--disk "sata-$ssd:${size}G"); want+=("$(human "$size") +$ssd +sata") ;;
        esac
done < <(grep -E '^(scsi|sata)[0-9]+: ' "$CONF")
echo "config: OS $os_kind $os_size, data ${args[*]}, $nics NICs"

# What the guest saw is on its console: the kernel's DMI line and EFI banner, the NICs' renames,
# and firstboot's disk table (size, class, transport as the storage planner probed them).
mkdir -p "$O/test-logs"
log=$O/test-logs/vm-proxmox-db.serial.log
# agent: enabled=1 is a virtio-serial port named org.qemu.guest_agent.0, as Proxmox wires it
agent=()
if grep -qE '^agent: (1|enabled=1)' "$CONF"; then
        qga=$(mktemp -u /tmp/rackstack-qga.XXXXXX)
        agent=(--qemu-arg=-device --qemu-arg=virtio-serial-pci,id=qgaser --qemu-arg=-chardev
               "--qemu-arg=socket,id=qga0,path=$qga,server=on,wait=off" --qemu-arg=-device
               --qemu-arg=virtserialport,bus=qgaser.0,chardev=qga0,name=org.qemu.guest_agent.0)
fi
rm -f "$log"
harness boot --image "$PX/lab-db1.qcow2" --firmware uefi --boot-disk "$os_kind" --boot-disk-size "$os_size" \
        "${args[@]}" "${agent[@]}" --nics "$nics" --expect 'login:' --timeout 900 --log "$log"
rc=$?
fails=0 n=0
check() { n=$((n + 1)); if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }
disks=$O/test-logs/vm-proxmox-db.disks
grep -a 'rackstack-firstboot\[[0-9]*\]: [a-z][a-z0-9]* \+[0-9.]* [GT]iB' "$log" | sed -E 's/^.*\]: //' > "$disks"
check "the template's disk boots under OVMF to a login prompt" test $rc = 0
check "the machine is q35" grep -aq 'DMI: QEMU Standard PC (Q35 + ICH9, 2009)' "$log"
check "booted through UEFI from the virtio-scsi disk" grep -aqE 'BdsDxe: starting Boot[0-9]+ .*Scsi\(' "$log"
check "the OS disk: $(human "${os_size%G}"), ssd, virtio-scsi" grep -qE "^[a-z]+ +$(human "${os_size%G}") +ssd +scsi .* os:os" "$disks"
for w in "${want[@]}"; do
        check "a data disk: $w" grep -qE "^[a-z]+ +$w " "$disks"
done
[ ${#agent[@]} = 0 ] || check "the guest agent starts on its port" grep -aq 'Started .*qemu-guest-agent.service' "$log"
check "$nics virtio NICs" test "$(grep -ac 'virtio_net virtio[0-9]* .*renamed from eth' "$log")" = "$nics"
# Proxmox has no NVMe: the database disk is an ssd=1 virtio-scsi volume, which firstboot takes for
# it because DMI says QEMU; the storage step gets past its plan. (The network step then fails here:
# these NICs have no gateway answering on the VLANs, unlike test-firstboot-db's.)
check "firstboot plans the db role's disks on Proxmox's buses (no NVMe)" \
        bash -c "! grep -aq 'FAILED at storage' '$log'"
check "  ... and says it took an SSD on any bus because this is QEMU" grep -aq "on QEMU a virtual disk's class" "$log"
[ $rc = 0 ] || tail -n 30 "$log"
rm -f "${qga:-}"
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]

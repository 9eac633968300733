#!/bin/bash
# SPDX-License-Identifier: MIT
# The Proxmox output of a real db build (built by tests/vm/lib.sh's ensure_image, shared with the VM
# tests): the files exist and are in SHA256SUMS, the qcow2 passes qemu-img check, the config has
# what research/proxmox-join.md §1 asks for, import.sh passes bash -n and shellcheck, and run
# against a stand-in `qm` (which records its arguments) it makes the template in one command,
# refuses an existing VMID unless --force, and refuses an image that does not match SHA256SUMS.
. "$(dirname "$0")/../vm/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (the image build)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap missing (make deps)"
command -v qemu-img >/dev/null || skip "qemu-img missing (make deps)"

ensure_image db
PX=$IMAGE_DIR/proxmox
if [ ! -x "$PX/import.sh" ]; then
        # an image built before --format proxmox existed
        (cd "$TOP" && "$O/rackstack-build" build db --defer-vendor --base "$(host_base)" --format raw,qcow2,proxmox --out "$VMOUT" \
                --firstboot "$O/rackstack-firstboot") || { echo "image build failed"; exit 1; }
fi
host=lab-db1

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
not_ok() { fail=$((fail + 1)); echo "FAIL - $*"; }
T=$(mktemp -d /tmp/rackstack-proxmox.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- the files -------------------------------------------------------------------------------------
if [ -s "$PX/$host.qcow2" ] && [ -s "$PX/$host.conf" ] && [ -x "$PX/import.sh" ] \
   && grep -q " proxmox/$host.qcow2\$" "$IMAGE_DIR/SHA256SUMS" && grep -q " proxmox/$host.conf\$" "$IMAGE_DIR/SHA256SUMS" \
   && grep -q " proxmox/import.sh\$" "$IMAGE_DIR/SHA256SUMS"; then
        # ensure_image has run sha256sum -c over all of SHA256SUMS
        ok "proxmox/{$host.qcow2,$host.conf,import.sh} exist, are listed in SHA256SUMS and verify"
else
        not_ok "proxmox files or SHA256SUMS"
fi
if qemu-img check -q "$PX/$host.qcow2"; then ok "qemu-img check $host.qcow2"; else not_ok "qemu-img check"; fi
missing=
for l in "bios: ovmf" "machine: q35" "scsihw: virtio-scsi-single" "cores: 8" "memory: 32768" "serial0: socket" \
         "vga: serial0" "agent: enabled=1,fstrim_cloned_disks=1" "boot: order=scsi0" "ostype: l26" "template: 1" \
         "net0: virtio,bridge=vmbr0,trunks=10;20;40" "net1: virtio,bridge=vmbr0,trunks=10;20;40"; do
        grep -qxF "$l" "$PX/$host.conf" || missing="$missing [$l]"
done
grep -qE '^efidisk0: .*efitype=4m' "$PX/$host.conf" || missing="$missing [efidisk0]"
grep -qE '^scsi0: .*ssd=1,size=50G$' "$PX/$host.conf" || missing="$missing [scsi0 50G ssd]"
grep -qE '^scsi1: .*ssd=1,size=500G$' "$PX/$host.conf" || missing="$missing [scsi1 500G ssd]"
grep -qE '^sata0: .*,size=1024G$' "$PX/$host.conf" && ! grep -qE '^sata0: .*ssd=1' "$PX/$host.conf" || missing="$missing [sata0 1T hdd]"
if [ -z "$missing" ]; then ok "$host.conf: q35, OVMF+efidisk, virtio-scsi-single, 8 cores/32G, NICs trunking 10;20;40, disks"
else not_ok "$host.conf lacks:$missing"; sed 's/^/       | /' "$PX/$host.conf"; fi
# agent: enabled=1 needs the agent in the image (research/proxmox-join.md §1.6)
if python3 -c 'import json, sys; sys.exit(0 if any(p["name"] == "qemu-guest-agent" for p in json.load(open(sys.argv[1]))["packages"]) else 1)' \
        "$IMAGE_DIR/manifest.json"; then
        ok "the image carries qemu-guest-agent (the config enables the agent)"
else
        not_ok "qemu-guest-agent is not in the image's manifest"
fi
if bash -n "$PX/import.sh"; then ok "import.sh: bash -n"; else not_ok "import.sh: bash -n"; fi
if command -v shellcheck >/dev/null; then
        if shellcheck "$PX/import.sh"; then ok "import.sh: shellcheck clean"; else not_ok "import.sh: shellcheck"; fi
else
        not_ok "shellcheck is not installed (tests/tools/deps.sh installs it)"
fi

# ---- import.sh against a stand-in qm ----------------------------------------------------------------
# The directory as it would be copied to a Proxmox host: SHA256SUMS one level up, the files in proxmox/.
H=$T/host
mkdir -p "$H/proxmox" "$T/bin"
ln "$PX/$host.qcow2" "$H/proxmox/" 2>/dev/null || cp "$PX/$host.qcow2" "$H/proxmox/"
cp "$PX/import.sh" "$PX/$host.conf" "$H/proxmox/"
cp "$IMAGE_DIR/SHA256SUMS" "$H/"
cat > "$T/bin/qm" <<'EOF'
#!/bin/bash
# records every call; `qm status` finds the VMIDs listed in $QM_EXISTING
echo "qm $*" >> "$QM_LOG"
if [ "$1" = status ]; then
        for v in $QM_EXISTING; do [ "$v" = "$2" ] && { echo "status: stopped"; exit 0; }; done
        echo "Configuration file 'nodes/pve/qemu-server/$2.conf' does not exist" >&2
        exit 2
fi
exit 0
EOF
chmod +x "$T/bin/qm"
runimport() { # args... -> rc, log in $T/qm.log, output in $T/out
        : > "$T/qm.log"
        (cd "$T" && PATH=$T/bin:$PATH QM_LOG=$T/qm.log QM_EXISTING=${QM_EXISTING:-} "$H/proxmox/import.sh" "$@") > "$T/out" 2>&1
        rc=$?
}
runimport
img=$H/proxmox/$host.qcow2
if [ "$rc" = 0 ] && grep -qF "qm create 9012 --name $host " "$T/qm.log" \
   && grep -qF -- "--scsi0 local-lvm:0,import-from=$img,discard=on,iothread=1,ssd=1" "$T/qm.log" \
   && grep -qF -- "--machine q35 --bios ovmf --efidisk0 local-lvm:1,efitype=4m,pre-enrolled-keys=0" "$T/qm.log" \
   && grep -qF -- "--net1 virtio,bridge=vmbr0,trunks=10;20;40" "$T/qm.log" \
   && grep -qxF "qm resize 9012 scsi0 50G" "$T/qm.log" \
   && grep -qxF "qm set 9012 --scsi1 local-lvm:500,discard=on,iothread=1,ssd=1" "$T/qm.log" \
   && grep -qxF "qm set 9012 --sata0 local-lvm:1024,discard=on" "$T/qm.log" \
   && grep -qxF "qm set 9012 --ide2 local-lvm:cloudinit" "$T/qm.log" && [ "$(tail -n 1 "$T/qm.log")" = "qm template 9012" ]; then
        ok "import.sh: qm create with import-from, resize, data disks, cloud-init, qm template ($(wc -l < "$T/qm.log") qm calls)"
else
        not_ok "import.sh with defaults (rc=$rc)"; sed 's/^/       | /' "$T/out" "$T/qm.log"
fi
QM_EXISTING="9012" runimport
if [ "$rc" = 1 ] && grep -q "VMID 9012 exists" "$T/out" && ! grep -q "qm create\|qm destroy" "$T/qm.log"; then
        ok "import.sh: an existing VMID is refused, nothing created or destroyed"
else
        not_ok "import.sh over an existing VMID (rc=$rc)"; sed 's/^/       | /' "$T/out" "$T/qm.log"
fi
QM_EXISTING="9100" runimport --vmid 9100 --storage tank --bridge vmbr1 --force
if [ "$rc" = 0 ] && grep -qxF "qm destroy 9100 --purge 1 --destroy-unreferenced-disks 1" "$T/qm.log" \
   && grep -qF -- "--scsi0 tank:0,import-from=" "$T/qm.log" && grep -qF -- "--net0 virtio,bridge=vmbr1," "$T/qm.log" \
   && [ "$(grep -n 'qm destroy' "$T/qm.log" | cut -d: -f1)" -lt "$(grep -n 'qm create' "$T/qm.log" | cut -d: -f1)" ]; then
        ok "import.sh --vmid 9100 --storage tank --bridge vmbr1 --force: destroys, then creates"
else
        not_ok "import.sh --force (rc=$rc)"; sed 's/^/       | /' "$T/out" "$T/qm.log"
fi
runimport --vmid 42
if [ "$rc" = 2 ] && [ ! -s "$T/qm.log" ]; then ok "import.sh --vmid 42: refused (below 100)"; else not_ok "import.sh --vmid 42 (rc=$rc)"; fi
# a damaged image: refused before qm is called
rm "$img"; cp "$PX/$host.qcow2" "$img"; printf 'x' | dd of="$img" bs=1 seek=100000 conv=notrunc status=none
runimport
if [ "$rc" = 1 ] && grep -q "does not match SHA256SUMS" "$T/out" && ! grep -q "qm create" "$T/qm.log"; then
        ok "import.sh: an image that does not match SHA256SUMS is refused"
else
        not_ok "import.sh with a damaged image (rc=$rc)"
fi

echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]

#!/bin/bash
# rackstack-firstboot identity, as rackstack-identity.service runs it on every boot: a temporary root
# with a recorded identity and two stand-in sysfs trees, the machine's own and a clone's.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
FB=${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
[ -x "$FB" ] || skip_all "skip: $FB not built (run make)"
command -v ssh-keygen >/dev/null || skip_all "skip: ssh-keygen missing"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

sysfs() { # DIR UUID MAC...
        local d=$1 u=$2; shift 2
        mkdir -p "$d/class/dmi/id" && echo "$u" >"$d/class/dmi/id/product_uuid"
        local i=0
        for m in "$@"; do
                mkdir -p "$d/class/net/enp${i}s0/device" && echo "$m" >"$d/class/net/enp${i}s0/address"
                i=$((i + 1))
        done
        mkdir -p "$d/class/net/lo" && echo 00:00:00:00:00:00 >"$d/class/net/lo/address"
}
sysfs "$tmp/orig" 0b7c5f38-6a4e-4e8b-9d55-0d3f1f6f4a01 52:54:00:00:00:11 52:54:00:00:00:12
sysfs "$tmp/nic" 0b7c5f38-6a4e-4e8b-9d55-0d3f1f6f4a01 52:54:00:00:00:11 52:54:00:00:00:99
sysfs "$tmp/clone" 5d0f8b20-9c7e-4b4c-8f4e-3a7a4cf2b902 52:54:00:00:00:51 52:54:00:00:00:52

mkdir -p "$root/etc/ssh" "$root/var/lib/rackstack"
echo 0123456789abcdef0123456789abcdef >"$root/etc/machine-id"
ssh-keygen -q -A -f "$root"
oldkey=$(cat "$root/etc/ssh/ssh_host_ed25519_key.pub")
cat >"$root/var/lib/rackstack/identity.json" <<'EOF'
{
  "generation": 1,
  "product_uuid": "0b7c5f38-6a4e-4e8b-9d55-0d3f1f6f4a01",
  "macs": ["52:54:00:00:00:11", "52:54:00:00:00:12"],
  "machine_id": "0123456789abcdef0123456789abcdef",
  "hostname": "lab-db1.domain.com"
}
EOF
cat >"$root/var/lib/rackstack/journal" <<'EOF'
# rackstack-firstboot step journal: <state> <step> [detail]
started join/logs
done join/logs
started fstab
done fstab
EOF
touch "$root/var/lib/rackstack/done"

"$FB" identity --check-clone --root="$root" --sysfs="$tmp/orig" >"$tmp/out" 2>&1; rc=$?
check "the same machine: exit 0" test $rc = 0
check "the same machine: says so" grep -q '^rackstack-firstboot: identity: same machine (generation 1)$' "$tmp/out"
check "the same machine: machine-id kept" grep -qx 0123456789abcdef0123456789abcdef "$root/etc/machine-id"

"$FB" identity --check-clone --root="$root" --sysfs="$tmp/nic" >"$tmp/out" 2>&1; rc=$?
check "a replaced NIC: exit 0" test $rc = 0
check "a replaced NIC: same machine, record updated" grep -q 'same machine (a NIC changed) (generation 1); record updated' "$tmp/out"
check "a replaced NIC: machine-id kept" grep -qx 0123456789abcdef0123456789abcdef "$root/etc/machine-id"
check "a replaced NIC: no rejoin" test ! -e "$root/var/lib/rackstack/rejoin"
check "a replaced NIC: the new MAC is recorded" grep -q '52:54:00:00:00:99' "$root/var/lib/rackstack/identity.json"

"$FB" identity --root="$root" --sysfs="$tmp/clone" >"$tmp/out" 2>&1; rc=$?
check "without --check-clone a clone is only reported" grep -q 'clone detected (.*): run with --check-clone' "$tmp/out"
check "without --check-clone nothing changes" grep -qx 0123456789abcdef0123456789abcdef "$root/etc/machine-id"

"$FB" identity --check-clone --root="$root" --sysfs="$tmp/clone" >"$tmp/out" 2>&1; rc=$?
cat "$tmp/out"
check "a clone: exit 0" test $rc = 0
check "a clone: says what differed" grep -q 'clone detected (product_uuid 0b7c5f38-6a4e-4e8b-9d55-0d3f1f6f4a01 -> 5d0f8b20-9c7e-4b4c-8f4e-3a7a4cf2b902 and MACs 52:54:00:00:00:11,52:54:00:00:00:99 -> 52:54:00:00:00:51,52:54:00:00:00:52)' "$tmp/out"
check "a clone: a new machine-id" sh -c "! grep -q 0123456789abcdef0123456789abcdef '$root/etc/machine-id' && grep -Eqx '[0-9a-f]{32}' '$root/etc/machine-id'"
check "a clone: D-Bus's machine-id is a link to it" test "$(readlink "$root/var/lib/dbus/machine-id")" = /etc/machine-id
check "a clone: new host keys" sh -c "test -s '$root/etc/ssh/ssh_host_ed25519_key.pub' && test \"\$(cat '$root/etc/ssh/ssh_host_ed25519_key.pub')\" != '$oldkey'"
fp=$(ssh-keygen -lf "$root/etc/ssh/ssh_host_ed25519_key.pub" | awk '{print $2}')
check "a clone: the printed fingerprint is ssh-keygen's" grep -q "SSH host key SHA256:[^ ]* -> $fp; generation 2" "$tmp/out"
check "a clone: the rejoin marker" test -e "$root/var/lib/rackstack/rejoin"
check "a clone: join/logs is to be redone, storage is not" sh -c "tail -n 1 '$root/var/lib/rackstack/journal' | grep -qx 'started join/logs redo=clone' && ! grep -q 'fstab redo' '$root/var/lib/rackstack/journal'"
check "a clone: generation 2 recorded with the new facts" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["generation"] == 2 and d["product_uuid"].startswith("5d0f8b20") and d["macs"] == ["52:54:00:00:00:51", "52:54:00:00:00:52"]
assert d["machine_id"] == open(sys.argv[2]).read().strip() and d["hostname"] == "lab-db1.domain.com"' \
        "$root/var/lib/rackstack/identity.json" "$root/etc/machine-id"

"$FB" identity --check-clone --root="$root" --sysfs="$tmp/clone" >"$tmp/out" 2>&1
check "the next boot of the clone is the same machine" grep -q 'same machine (generation 2)$' "$tmp/out"

"$FB" identity --check-clone --root="$tmp/none" --sysfs="$tmp/orig" >"$tmp/out" 2>&1; rc=$?
check "a missing root is a failure (exit 1)" test $rc = 1
mkdir -p "$tmp/fresh"
"$FB" identity --check-clone --root="$tmp/fresh" --sysfs="$tmp/orig" >"$tmp/out" 2>&1; rc=$?
check "nothing recorded yet: exit 0, nothing to compare" sh -c "test $rc = 0 && grep -q 'none recorded yet' '$tmp/out'"
"$FB" identity --bogus >"$tmp/out" 2>&1; rc=$?
check "a bad option is exit 2" test $rc = 2

finish

#!/bin/bash
# All nine roles, one after another, each built on the VM base (Ubuntu 24.04 unless RACKSTACK_VM_BASE)
# and booted with its own hardware to "rackstack-firstboot: finished" by role-boot.sh.
# RACKSTACK_VM_ROLES="db infra" boots a subset. Prints each role's RESULT line at the end.
# Exit 0 when every role passed, 77 when role-boot.sh skipped (no root/QEMU), 1 otherwise.
here=$(dirname "$0")
roles=${RACKSTACK_VM_ROLES:-id db app comm voip biz erp it infra}
failed=() results=()
for r in $roles; do
        echo "=== $r"
        log=$(mktemp)
        "$here/role-boot.sh" "$r" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        [ "$rc" = 77 ] && { rm -f "$log"; echo "role-boot.sh skipped"; exit 77; }
        [ "$rc" = 0 ] || failed+=("$r")
        results+=("$(grep '^RESULT ' "$log" | tail -n 1) rc=$rc")
        rm -f "$log"
done
printf '%s\n' "${results[@]}"
[ ${#failed[@]} = 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
echo "all roles finished: $roles"

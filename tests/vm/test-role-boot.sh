#!/bin/bash
# One role besides db, chosen per run, booted with its own hardware to "rackstack-firstboot:
# finished" (tests/vm/role-boot.sh): over a week of runs every role is exercised; full-roles.sh boots
# all nine. RACKSTACK_VM_ROLE=ROLE reproduces a run (the choice is printed first).
roles=(id app comm voip biz erp it infra)
role=${RACKSTACK_VM_ROLE:-${roles[RANDOM % ${#roles[@]}]}}
echo "role chosen for this run: $role (RACKSTACK_VM_ROLE=$role reproduces it)"
exec "$(dirname "$0")/role-boot.sh" "$role"

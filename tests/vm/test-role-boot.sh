#!/bin/bash
# One role besides db, chosen per run, booted with its own hardware to "rackstack-firstboot:
# finished" (tests/vm/role-boot.sh): over a week of runs each of them is exercised; full-roles.sh boots
# all nine. RACKSTACK_VM_ROLE=ROLE reproduces a run (the choice is printed first).
# Every role besides db has finished in a VM: id, app, biz, it, infra, voip (its SIP port checked as
# UDP, Asterisk given a start timeout a busy machine allows), erp, and comm (since its clamav socket
# generator no longer overruns systemd's generator budget and postfix has a start timeout).
roles=(id app biz it infra voip erp comm)
role=${RACKSTACK_VM_ROLE:-${roles[RANDOM % ${#roles[@]}]}}
echo "role chosen for this run: $role (RACKSTACK_VM_ROLE=$role reproduces it)"
exec "$(dirname "$0")/role-boot.sh" "$role"

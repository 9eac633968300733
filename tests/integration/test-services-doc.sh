#!/bin/bash
# docs/services.md is what tests/tools/gen-services-doc.py writes from the profiles today, and it
# lists every service of every role with its source.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
B=${RACKSTACK_BUILD_DIR:-build}
export RACKSTACK_BUILD=$B/rackstack-build
check "docs/services.md is current" python3 tests/tools/gen-services-doc.py --check
for s in keycloak mattermost nextcloud jitsi-meet elasticsearch grafana zammad odoo suitecrm openkm taiga \
         snipe-it glpi traefik graylog freepbx postgresql redis pgbouncer; do
        check "docs/services.md lists $s with its source" grep -Eq "^\| $s \| (distribution|vendor apt|OCI image)" docs/services.md
done
# the check must notice a stale file
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp docs/services.md "$tmp/keep"
sed -i 's/| 5432 |/| 5433 |/' docs/services.md
python3 tests/tools/gen-services-doc.py --check >/dev/null 2>&1; rc=$?
cp "$tmp/keep" docs/services.md
check "a stale docs/services.md is caught" test $rc = 1
finish

#!/bin/bash
# rackstack-build's first commands, as a user runs them: exit statuses, error format, output shape.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
B=${RACKSTACK_BUILD_DIR:-build}/rackstack-build
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$B" validate --profiles profiles profiles/*.yaml >"$tmp/out" 2>&1; rc=$?
check "validate shipped profiles exits 0" test $rc = 0
check "validate says how many files" grep -q '^11 files valid$' "$tmp/out"

"$B" list >"$tmp/list" 2>&1; rc=$?
check "list exits 0" test $rc = 0
check "list has nine roles" test "$(tail -n +2 "$tmp/list" | wc -l)" = 9
check "list shows db's host, address and NVMe disk" grep -Eq '^db +lab-db1 +10\.0\.50\.12 .*database nvme 500G' "$tmp/list"

"$B" show db >"$tmp/show" 2>&1; rc=$?
check "show db exits 0" test $rc = 0
check "show gives each value's source" grep -Eq '^  cores: 8 +# profiles/db\.yaml:[0-9]+$' "$tmp/show"
check "show marks inherited values with base.yaml" grep -Eq 'name: esp +# profiles/base\.yaml:[0-9]+$' "$tmp/show"
"$B" show db --json >"$tmp/json" 2>&1
check "show --json is JSON with sources" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["profile"]["hardware"]["ram"]=={"value":"32G","from":d["profile"]["hardware"]["ram"]["from"]}
assert d["profile"]["hardware"]["ram"]["from"].startswith("profiles/db.yaml:")
assert d["host"]["fqdn"]=="lab-db1.domain.com"
' "$tmp/json"
"$B" show infra >"$tmp/infra" 2>&1
check "show infra lists the Traefik routes" grep -Eq '^  - \{ name: cloud, fqdn: cloud\.domain\.com, backend: lab-app1, port: 80 \}' "$tmp/infra"

"$B" show nosuch >"$tmp/out" 2>&1; rc=$?
check "unknown role exits 2" test $rc = 2
"$B" show dbx >"$tmp/out" 2>&1
check "unknown role hints" grep -q "did you mean 'db'?" "$tmp/out"
"$B" frobnicate >/dev/null 2>&1; rc=$?
check "unknown verb exits 2" test $rc = 2

# A broken copy of the profiles: every error reported, each as FILE:LINE:COL, exit 2.
cp -r profiles "$tmp/p"
sed -i 's/^  ram: 32G$/  ram: 32X/; s/^  vlans: \[40\]$/  vlans: [4095]/' "$tmp/p/db.yaml"
sed -i 's/^    mode: 802.3ad$/    mode: lacp/' "$tmp/p/base.yaml"
"$B" validate --profiles "$tmp/p" "$tmp/p/db.yaml" >"$tmp/out" 2>&1; rc=$?
check "bad profile exits 2" test $rc = 2
check "bad size reported at line:col" grep -Eq "db\.yaml:8:8: error: '32X' is not a size" "$tmp/out"
check "bad VLAN reported too" grep -Eq "db\.yaml:[0-9]+:[0-9]+: error: VLAN id '4095' is outside 1\.\.4094" "$tmp/out"
check "error in the inherited file points at it" grep -Eq "base\.yaml:[0-9]+:[0-9]+: error: unknown bond mode 'lacp'" "$tmp/out"
check "closing count" grep -q '^3 errors in 1 file$' "$tmp/out"

finish

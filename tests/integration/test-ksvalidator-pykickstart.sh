#!/bin/bash
# Anaconda's own validator agrees with our kickstarts: pykickstart's `ksvalidator -v RHEL9` on every
# shipped kickstart/lab-*.ks and on every kickstart rackstack writes (`rackstack-firstboot answers
# --out`, completed from each lab file). pykickstart is not packaged by Debian 12, and CI cannot
# fetch it: give a checkout with RACKSTACK_PYKICKSTART=DIR (it is pure Python; python3-requests is
# its one dependency). Without one this test skips (exit 77) and says so.
#
# One complaint is tolerated, and only that one: "A network device with the name X has already
# been defined". pykickstart compares network lines by --device alone, so two VLANs on one bond
# (--device=bond0 --vlanid=10 and --device=bond0 --vlanid=20) are a "duplicate"; it is a
# KickstartParseWarning that Anaconda logs and installs through, and that ksvalidator alone turns
# into an error. rackstack-kickstart(5) says so.
set -u
cd "$(dirname "$0")/../.." || exit 1
FB=$PWD/${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
PK=${RACKSTACK_PYKICKSTART:-}
if [ -z "$PK" ]; then
        echo "skip: RACKSTACK_PYKICKSTART is not set (a pykickstart checkout; Debian 12 does not package it)"
        exit 77
fi
[ -f "$PK/tools/ksvalidator.py" ] || { echo "skip: $PK/tools/ksvalidator.py not found (RACKSTACK_PYKICKSTART must be a pykickstart checkout)"; exit 77; }
python3 -c 'import requests' 2>/dev/null || { echo "skip: python3-requests is not installed (pykickstart needs it)"; exit 77; }
[ -x "$FB" ] || { echo "skip: $FB not built (run make)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

files=()
for ks in kickstart/*.ks; do
        files+=("$ks")
        gen=$tmp/generated-$(basename "$ks")
        if ! "$FB" answers --no-devices --kernel-cmdline quiet --ks "$ks" --profiles profiles --out "$gen" \
                --timeout 5 </dev/null >"$tmp/answers.log" 2>&1; then
                echo "FAIL: rackstack-firstboot answers --out from $ks:"; cat "$tmp/answers.log"
                exit 1
        fi
        files+=("$gen")
done
[ ${#files[@]} -ge 18 ] || { echo "FAIL: expected 9 shipped and 9 generated kickstarts, have ${#files[@]}"; exit 1; }

pass=0 fail=0
for f in "${files[@]}"; do
        PYTHONPATH=$PK python3 "$PK/tools/ksvalidator.py" -v RHEL9 "$f" >"$tmp/out" 2>&1
        rc=$?
        # Everything ksvalidator said, less its banner and the one tolerated complaint.
        other=$(grep -v -e '^$' -e '^Checking kickstart file' \
                -e '^A network device with the name [^ ]* has already been defined\.$' "$tmp/out")
        if [ -z "$other" ] && { [ $rc -eq 0 ] || grep -q 'has already been defined' "$tmp/out"; }; then
                pass=$((pass + 1))
        else
                echo "FAIL: ksvalidator -v RHEL9 $f (exit $rc):"; cat "$tmp/out"
                fail=$((fail + 1))
        fi
done
# The test can fail: a line continued with '\' must be caught.
printf 'network --device=bond0 \\\n        --vlanid=20 --bootproto=dhcp\n' >"$tmp/continued.ks"
if PYTHONPATH=$PK python3 "$PK/tools/ksvalidator.py" -v RHEL9 "$tmp/continued.ks" >/dev/null 2>&1; then
        echo "FAIL: ksvalidator accepted a continued line; this test would not catch one"
        fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

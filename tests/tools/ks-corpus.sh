#!/bin/bash
# SPDX-License-Identifier: MIT
# The real-kickstart corpus of issue #18: rhinstaller/kickstart-tests flattened as its harness does,
# and rackstack's verdict on each file. kickstart-tests and pykickstart are fetched by whoever runs
# this (neither is committed, and neither is needed by make check: the flattened files that matter
# for crash-freedom are kept in tests/fuzz/corpus/kickstart).
#
#   ks-corpus.sh flatten KICKSTART_TESTS_DIR PYKICKSTART_DIR OUT_DIR
#       One OUT_DIR/TEST.ks per test: scripts/apply-ksappend.py -p rhel9 (the harness's %ksappend
#       step), the @KSTEST_*@ variables of scripts/defaults.sh and defaults-rhel9.sh, then the ones
#       the harness sets per test at run time (a static address, iSCSI and NFS servers…) with
#       plausible values, then @KSINCLUDE@ lines replaced by the file they name.
#   ks-corpus.sh count RACKSTACK_BUILD DIR
#       Runs `rackstack-build validate` on DIR/*.ks and prints: exit 0 with/without warnings,
#       refused, crashed; then each refusal reason with the number of files it refuses, and the
#       files refused for a single reason, by reason.
#   ks-corpus.sh answers BUILD_DIR DIR HOST ROLE   (from the source tree: it reads profiles/)
#       For each file validate accepts: `rackstack-firstboot answers --prompt --out` with only HOST typed
#       at the prompt; prints the files that do not complete, then the counts.
set -euo pipefail

# What the harness's per-test prepare() substitutes, with values a lab would plausibly use.
runtime_vars() {
        cat <<'VARS'
KSTEST_STATIC_IP=192.168.122.50
KSTEST_STATIC_NETMASK=255.255.255.0
KSTEST_STATIC_PREFIX=24
KSTEST_STATIC_GATEWAY=192.168.122.1
KSTEST_STATIC_IP1=192.168.122.51
KSTEST_STATIC_IP2=192.168.122.52
KSTEST_STATIC_IP3=192.168.122.53
KSTEST_STATIC_IP4=192.168.122.54
KSTEST_STATIC_DNS1=192.168.122.1
KSTEST_NETDEV2_MAC=52:54:00:12:34:57
KSTEST_ISCSI_TARGET=iqn.2024-01.com.example:target0
KSTEST_ISCSI_IP=192.168.122.10
KSTEST_ISCSI_PORT=3260
KSTEST_ISCSINAME=iqn.2024-01.com.example:initiator0
KSTEST_MIRRORLIST=http://mirrors.example.com/mirrorlist?repo=rhel-9
KSTEST_METALINK=http://mirrors.example.com/metalink?repo=rhel-9
KSTEST_OSTREE_REPO=http://ostree.example.com/repo
KSTEST_NFS_SERVER=192.168.122.10
KSTEST_NFS_PATH=/srv/nfs/rhel9
KSTEST_LIVEIMG_URL=http://images.example.com/rhel9/rootfs.tar
KSTEST_LIVEIMG_CHECKSUM=0000000000000000000000000000000000000000000000000000000000000000
VARS
}

flatten() {
        local kt=$1 pyk=$2 out=$3
        kt=$(cd "$kt" && pwd) pyk=$(cd "$pyk" && pwd)
        mkdir -p "$out"
        out=$(cd "$out" && pwd)
        cd "$kt"
        local sedf
        sedf=$(mktemp)
        trap 'rm -f "$sedf"' RETURN
        (
                set -a
                # shellcheck disable=SC1091
                . scripts/defaults.sh
                # shellcheck disable=SC1091
                [ -f scripts/defaults-rhel9.sh ] && . scripts/defaults-rhel9.sh
                set +a
                export KSTEST_OS_NAME=rhel KSTEST_OS_VERSION=9
                { printenv | grep '^KSTEST_' || true; runtime_vars; } | while IFS='=' read -r k v; do
                        # '|' as the delimiter; escape what sed treats specially in the replacement
                        v=${v//\\/\\\\}; v=${v//|/\\|}; v=${v//&/\\&}
                        printf 's|@%s@|%s|g\n' "$k" "$v"
                done
        ) > "$sedf"
        local n=0 failed=0 t ks name
        for t in *.sh; do
                name=$(sed -n 's/^KICKSTART_NAME=//p' "$t" | head -n1)
                ks=${name:-${t%.sh}}.ks.in
                [ -f "$ks" ] || continue
                local o=$out/${t%.sh}.ks
                if ! PYTHONPATH=$pyk python3 scripts/apply-ksappend.py -p rhel9 "$ks" 2>/dev/null | sed -f "$sedf" > "$o" ||
                   [ ! -s "$o" ]; then
                        rm -f "$o"
                        failed=$((failed + 1))
                        continue
                fi
                # @KSINCLUDE@ FILE: the harness pastes the file in place
                local line f
                while IFS= read -r line; do
                        f=${line#*@KSINCLUDE@}
                        f=${f#"${f%%[![:space:]]*}"}
                        [ -f "$f" ] || continue
                        python3 - "$o" "$line" "$f" <<'PY'
import sys
path, line, inc = sys.argv[1:]
text = open(path).read().split('\n')
body = open(inc).read().rstrip('\n').split('\n')
out = []
for l in text:
    out.extend(body if l == line else [l])
open(path, 'w').write('\n'.join(out))
PY
                done < <(grep '@KSINCLUDE@' "$o" || true)
                # as a user keeps a kickstart that holds a password (the exposure rule)
                chmod 0600 "$o"
                n=$((n + 1))
        done
        echo "flattened $n kickstarts into $out ($failed could not be flattened)"
}

count() {
        local b=$1 dir=$2 ok=0 okw=0 ref=0 crash=0 f out rc
        local reasons one only
        reasons=$(mktemp) one=$(mktemp) only=$(mktemp)
        trap 'rm -f "$reasons" "$one" "$only"' RETURN
        for f in "$dir"/*.ks; do
                rc=0
                out=$("$b" validate "$f" 2>&1) || rc=$?
                case $rc in
                0) if grep -q ': warning:' <<<"$out"; then okw=$((okw + 1)); else ok=$((ok + 1)); fi ;;
                1 | 2)
                        ref=$((ref + 1))
                        # one count per file and reason; positions in the message are not part of it
                        grep ': error:' <<<"$out" | sed -E 's/^.*: error: //; s/[0-9]+:[0-9]+/L:C/g' | sort -u > "$one"
                        cat "$one" >> "$reasons"
                        [ "$(wc -l < "$one")" -eq 1 ] && cat "$one" >> "$only" ;;
                *) crash=$((crash + 1)); echo "CRASH rc=$rc $f" ;;
                esac
        done
        echo "files=$((ok + okw + ref + crash)) exit0=$ok exit0_with_warnings=$okw refused=$ref crashed=$crash"
        echo "refusal reasons (files):"
        sort "$reasons" | uniq -c | sort -rn
        echo "refused for one reason only (files):"
        sort "$only" | uniq -c | sort -rn
}

# Each file `validate` accepts, completed at the prompt as firstboot would: the host typed (the one
# answer such a kickstart lacks), everything else from the kickstart and the site for that host.
answers() {
        local b=$1 dir=$2 host=$3 role=$4 n=0 ok=0 f out
        out=$(mktemp)
        trap 'rm -f "$out" "$out.ks"' RETURN
        for f in "$dir"/*.ks; do
                "$b/rackstack-build" validate "$f" >/dev/null 2>&1 || continue
                n=$((n + 1))
                if printf '%s\n' "$host" | "$b/rackstack-firstboot" answers --no-devices --kernel-cmdline quiet --ks "$f" \
                        --profiles profiles --role "$role" --prompt --stdio --no-mute --timeout 5 --out "$out.ks" >"$out" 2>&1; then
                        ok=$((ok + 1))
                else
                        echo "FAIL $f: $(grep -E 'error|FAILED' "$out" | head -n1)"
                fi
        done
        echo "accepted=$n completed_with_only_the_host_typed=$ok"
}

case ${1:-} in
flatten) [ $# -eq 4 ] || { echo "usage: $0 flatten KICKSTART_TESTS PYKICKSTART OUT" >&2; exit 2; }; flatten "$2" "$3" "$4" ;;
count) [ $# -eq 3 ] || { echo "usage: $0 count RACKSTACK_BUILD DIR" >&2; exit 2; }; count "$2" "$3" ;;
answers) [ $# -eq 5 ] || { echo "usage: $0 answers BUILD_DIR DIR HOST ROLE" >&2; exit 2; }; answers "$2" "$3" "$4" "$5" ;;
*) echo "usage: $0 flatten KICKSTART_TESTS PYKICKSTART OUT | count RACKSTACK_BUILD DIR | answers BUILD_DIR DIR HOST ROLE" >&2; exit 2 ;;
esac

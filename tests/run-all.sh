#!/bin/bash
# Runs the test tiers and prints one summary line: "N passed, N failed, N skipped".
#   tests/run-all.sh [unit] [sanitize] [fuzz] [integration] [vm] [vm-full]
# A test exits 0 (pass), 77 (skip, with the reason as its last output line) or anything else (fail).
# A test that passes may still have skipped some of its checks: a line "SKIP ID -- REASON" in its
# output (tests/integration/lib.sh's skip_check, tests/unit/skip.h's skip_because) or cmocka's
# "[  SKIPPED ] test_name" counts as one skip each, named "TEST:ID".
# Under CI (CI=true) a skip that tests/expected-skips does not list counts as a failure: CI has
# root, loop devices and QEMU, so every test must really run there. RACKSTACK_ALLOW_SKIP=1 relaxes that.
set -u
cd "$(dirname "$0")/.."
O=${RACKSTACK_O:-build}
LOGDIR=$O/test-logs
mkdir -p "$LOGDIR"
tiers=${*:-unit sanitize fuzz integration vm}

passed=0 failed=0 skipped=0
failures=() skips=() skip_ids=()

# The room left on the build cache's filesystem after each test, the least of it in the summary: a
# full disk on CI's machine is a failure of the image builds, and this shows how near a run came.
CACHE_FS=${RACKSTACK_TEST_CACHE:-/var/cache/rackstack}
[ -d "$CACHE_FS" ] || CACHE_FS=/var/cache
least_free='' least_after=''
note_free() { # name
        local f
        f=$(df -B1 --output=avail "$CACHE_FS" 2>/dev/null | tail -n 1) || return 0
        case $f in ''|*[!0-9\ ]*) return 0 ;; esac
        f=$((f))
        if [ -z "$least_free" ] || [ "$f" -lt "$least_free" ]; then least_free=$f least_after=$1; fi
}
gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 1073741824 }'; }
note_free "the start"
start_free=$least_free

skipped_one() { # id, reason
        skipped=$((skipped + 1)); skips+=("$1: $2"); skip_ids+=("$1")
        printf '  SKIP  %-52s %s\n' "$1" "$2"
}

# The skips inside a test that passed: our "SKIP ID -- REASON" lines, and cmocka's own list (a
# skip() without a reason still shows).
inner_skips() { # name, log
        local line id seen=" "
        while IFS= read -r line; do
                id=${line#SKIP }; id=${id%% -- *}
                seen+="$id "
                skipped_one "$1:$id" "${line#* -- }"
        done < <(grep -a '^SKIP .* -- ' "$2")
        while IFS= read -r id; do
                [[ $seen == *" $id "* ]] || skipped_one "$1:$id" "(cmocka skip(), no reason given)"
        done < <(sed -n 's/^\[  SKIPPED \] \(test_[A-Za-z0-9_]*\)$/\1/p' "$2" | sort -u)
}

# tests/expected-skips: "PATTERN -- reason" per line (a bash glob over TEST or TEST:ID), # comments.
expected_skip() { # id
        local line pat
        [ -f tests/expected-skips ] || return 1
        while IFS= read -r line; do
                case $line in ''|'#'*) continue ;; esac
                pat=${line%% -- *}
                # shellcheck disable=SC2053 # a glob on purpose
                [[ $1 == $pat ]] && return 0
        done < tests/expected-skips
        return 1
}

run() { # name, command...
        local name=$1; shift
        local log="$LOGDIR/${name//\//_}.log"
        local t0=$SECONDS
        "$@" >"$log" 2>&1 </dev/null
        local rc=$?
        local dt=$((SECONDS - t0))
        note_free "$name"
        if [ $rc = 0 ]; then
                passed=$((passed + 1)); printf '  PASS  %-52s %4ss\n' "$name" "$dt"
                inner_skips "$name" "$log"
        elif [ $rc = 77 ]; then
                local why; why=$(grep -v '^$' "$log" | tail -n 1)
                skipped_one "$name" "$why"
        else
                failed=$((failed + 1)); failures+=("$name"); printf '  FAIL  %-52s %4ss (rc %s, log %s)\n' "$name" "$dt" "$rc" "$log"
                sed 's/^/        | /' "$log" | tail -n 40
        fi
}

# libparted 3.5 trips ASan in its own constructor, before main(): see tests/asan.supp.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:suppressions=$PWD/tests/asan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export RACKSTACK_BUILD_DIR=$O

for tier in $tiers; do
        echo "== $tier"
        case $tier in
        unit)
                for t in "$O"/tests/test-*; do [ -x "$t" ] && run "unit/${t##*/}" "$t"; done ;;
        sanitize)
                for t in "$O"/sanitize/tests/test-*; do [ -x "$t" ] && run "sanitize/${t##*/}" "$t"; done ;;
        fuzz)
                for t in "$O"/sanitize/tests/fuzz-*; do
                        [ -x "$t" ] || continue
                        n=${t##*/fuzz-}
                        run "fuzz-replay/$n" "$t" "tests/fuzz/corpus/$n"
                done ;;
        integration)
                for t in tests/integration/test-*.sh; do [ -x "$t" ] && run "integration/${t##*/}" "$t"; done ;;
        vm)
                for t in tests/vm/test-*.sh; do [ -x "$t" ] && run "vm/${t##*/}" "$t"; done ;;
        vm-full)
                for t in tests/vm/full-*.sh; do [ -x "$t" ] && run "vm-full/${t##*/}" "$t"; done ;;
        *)
                echo "unknown tier '$tier'" >&2; exit 2 ;;
        esac
done

echo
for s in "${skips[@]+"${skips[@]}"}"; do echo "skipped: $s"; done
for f in "${failures[@]+"${failures[@]}"}"; do echo "failed: $f"; done
[ -n "$least_free" ] && echo "disk: $(gib "$start_free") free on the filesystem of $CACHE_FS at the start, $(gib "$least_free") at the least (after $least_after)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || exit 1
if [ "$skipped" != 0 ] && [ "${CI:-}" = true ] && [ "${RACKSTACK_ALLOW_SKIP:-}" != 1 ]; then
        unexpected=0
        for id in "${skip_ids[@]}"; do
                expected_skip "$id" && continue
                echo "unexpected skip: $id" >&2; unexpected=$((unexpected + 1))
        done
        if [ $unexpected != 0 ]; then
                echo "CI runs every test: $unexpected skip(s) not in tests/expected-skips count as failures (RACKSTACK_ALLOW_SKIP=1 to relax)" >&2
                exit 1
        fi
fi
exit 0

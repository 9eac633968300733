# shellcheck shell=bash
# Shared by the integration tests (sourced): one way to count checks and to say what did not run.
#   check DESC CMD...      runs CMD: "ok   DESC" if it succeeds, else "FAIL DESC"
#   ok DESC / not_ok DESC  a result the script worked out itself
#   skip_check DESC REASON a check that cannot run here: "SKIP DESC -- REASON". The script still passes,
#                          and tests/run-all.sh counts the line as a skip (CI fails on one that
#                          tests/expected-skips does not list).
#   skip_all REASON        nothing can run here: exit 77 with the reason as the last line
#   finish                 "N passed, N failed, N skipped"; exit 1 on any failure, else 0
# Scripts may wrap not_ok (e.g. to show a log); the counters are _passed, _failed, _skipped.
_passed=0 _failed=0 _skipped=0
ok() { _passed=$((_passed + 1)); echo "ok   $*"; }
not_ok() { _failed=$((_failed + 1)); echo "FAIL $*"; }
check() { if "${@:2}"; then ok "$1"; else not_ok "$1"; fi; }
skip_check() { _skipped=$((_skipped + 1)); echo "SKIP $1 -- $2"; }
skip_all() { echo "$*"; exit 77; }
finish() {
        echo "$_passed passed, $_failed failed, $_skipped skipped"
        [ "$_failed" = 0 ] || exit 1
        exit 0
}

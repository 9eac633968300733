# shellcheck shell=bash
# Shared by the vendor-application VM tests (sourced in place of lib.sh: test-vendor-app.sh,
# full-vendor-erp.sh). The Python half, what the booted guest is checked with, is vendorvm.py.
#   vendor_image ROLE TOOL...  skips (77) without root, QEMU, mmdebstrap or one of TOOL; starts
#                              tests/tools/vendor-standins.sh in ST (stopped and removed on exit;
#                              STANDINS_NICE=N starts it at nice N) and builds ROLE's raw image through
#                              the stand-ins' mirror mapping into build/vm-images/vendor-<base>/
#                              (RACKSTACK_VM_VENDOR_OUT), apart from the --defer-vendor images other tests
#                              use. Sets RAW (lib.sh's ensure_image).
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vendor_cleanup() { bash "$TOP/tests/tools/vendor-standins.sh" stop "$ST" >/dev/null 2>&1; rm -rf "$ST"; }

vendor_image() {
        local role=$1 t t0 t1 rc
        shift
        vm_requirements
        for t in "$@"; do
                command -v "$t" >/dev/null || skip "$t missing (tests/tools/deps.sh)"
        done
        ST=$(mktemp -d /var/tmp/rackstack-standins.XXXXXX)
        trap vendor_cleanup EXIT
        t0=$(date +%s)
        ${STANDINS_NICE:+nice -n "$STANDINS_NICE"} bash "$TOP/tests/tools/vendor-standins.sh" start "$ST" ||
                { rc=$?; [ $rc = 77 ] && skip "stand-ins cannot run here"; echo "stand-ins failed"; exit 1; }
        # shellcheck disable=SC1091
        . "$ST/env"
        export RACKSTACK_VENDOR_MIRRORS RACKSTACK_VENDOR_PROFILES
        echo "stand-ins ready in $(( $(date +%s) - t0 )) s"
        # ensure_image reads them
        VMOUT=${RACKSTACK_VM_VENDOR_OUT:-$TOP/build/vm-images/vendor-$(host_base)}
        VMFORMATS=raw # only the raw is booted
        t1=$(date +%s)
        ensure_image "$role"
        echo "image ready in $(( $(date +%s) - t1 )) s (stand-ins and image: $(( $(date +%s) - t0 )) s)"
}

# Shared by the VM tests (sourced). Builds a role image once per run of the tests and hands out its path.
#   ensure_image ROLE   -> sets IMAGE_DIR (out/<host>/) and RAW, QCOW2
# The image is built on Ubuntu 24.04, the product's base, whatever the host runs (both Ubuntu's and
# Debian's archives are reachable); RACKSTACK_VM_BASE=debian-12 builds the other supported base.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${RACKSTACK_BUILD_DIR:-build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
skip() { echo "$*"; exit 77; }

host_base() {
        echo "${RACKSTACK_VM_BASE:-ubuntu-24.04}"
}
VMOUT=${RACKSTACK_VM_OUT:-$TOP/build/vm-images/$(host_base)}
# What ensure_image builds: a test that boots only the raw may set VMFORMATS=raw before calling it
# (the qcow2 and Proxmox outputs and their checksums cost a minute under load).
VMFORMATS=raw,qcow2,proxmox

vm_requirements() {
        [ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap and image assembly as root)"
        command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (make deps)"
        command -v mmdebstrap >/dev/null || skip "mmdebstrap missing (make deps)"
}


# Vendor services (source apt/oci) are fetched at build time by default, and no vendor is
# reachable here: a test image is built with --defer-vendor (first boot reports them skipped)
# unless the caller set RACKSTACK_VENDOR_MIRRORS ("FROM=TO ..." from tests/tools/vendor-standins.sh),
# which become --mirror options (and RACKSTACK_VENDOR_PROFILES, a profiles directory whose keys
# are the stand-ins', becomes --profiles).
vendor_build_args() {
        if [ -n "${RACKSTACK_VENDOR_MIRRORS:-}" ]; then
                local m
                for m in $RACKSTACK_VENDOR_MIRRORS; do printf -- '--mirror %s ' "$m"; done
                [ -n "${RACKSTACK_VENDOR_PROFILES:-}" ] && printf -- '--profiles %s ' "$RACKSTACK_VENDOR_PROFILES"
        else
                printf -- '--defer-vendor'
        fi
}

ensure_image() {
        local role=$1 host
        host=$("$O/rackstack-build" show "$role" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["name"])')
        IMAGE_DIR=$VMOUT/$host
        RAW=$IMAGE_DIR/$host.raw
        QCOW2=$IMAGE_DIR/$host.qcow2
        # Rebuilt when anything that goes into it is newer than the last build (the builder's own
        # caches keep that cheap), so a test never boots an image with yesterday's firstboot.
        local newer=
        if [ -s "$IMAGE_DIR/SHA256SUMS" ]; then
                newer=$(find "$O/rackstack-build" "$O/rackstack-firstboot" "$TOP/profiles" "$TOP/overlays" \
                        "$TOP/kickstart" "$TOP/iso" "$TOP/firstboot/rackstack-firstboot.service" \
                        -newer "$IMAGE_DIR/SHA256SUMS" -print -quit 2>/dev/null)
        fi
        if [ ! -s "$IMAGE_DIR/SHA256SUMS" ] || [ -n "$newer" ]; then
                [ -n "$newer" ] && echo "$newer changed since the last $role image: rebuilding"
                echo "building the $role image ($(host_base)) into $VMOUT"
                # shellcheck disable=SC2046 # word splitting of the vendor options is wanted
                (cd "$TOP" && "$O/rackstack-build" build "$role" $(vendor_build_args) --base "$(host_base)" --format "$VMFORMATS" \
                        --out "$VMOUT" --firstboot "$O/rackstack-firstboot") || { echo "image build failed"; exit 1; }
        fi
        (cd "$IMAGE_DIR" && sha256sum -c --quiet SHA256SUMS) || { echo "checksums of $IMAGE_DIR do not verify"; exit 1; }
}

harness() { python3 "$TOP/tests/vm/vmharness.py" "$@"; }

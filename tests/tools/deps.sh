#!/bin/sh
# Install (or name) every build, test and image-building dependency, on Debian 12 or Ubuntu 24.04.
#   deps.sh install           apt-get install what is missing; print what it adds
#   deps.sh check-or-install  as root: install; otherwise name exactly what is missing and fail
#   deps.sh list              print the package list
set -eu

PACKAGES="
build-essential pkg-config python3
libarchive-dev libblkid-dev libparted-dev libkmod-dev libnl-3-dev libnl-route-3-dev libyaml-dev libssl-dev libcmocka-dev
mmdebstrap debian-archive-keyring arch-test uidmap
qemu-system-x86 qemu-utils ovmf seabios ipxe-qemu
e2fsprogs xfsprogs dosfstools mtools fdisk parted util-linux udev kmod
squashfs-tools xorriso isolinux syslinux-common syslinux-utils pxelinux zstd cpio busybox-static
grub-efi-amd64-bin grub-pc-bin grub-common
netplan.io iproute2 iputils-ping
mdadm lvm2 cryptsetup-bin
openssl openssh-client shellcheck python3-yaml
nftables postgresql pgbouncer redis-server restic openssh-server
gnupg gpgv skopeo podman docker-registry apt-utils
bind9 bind9-utils bind9-dnsutils
"

# Ubuntu's archive key, for --base ubuntu-24.04 on a Debian host (and the reverse).
if [ -r /etc/os-release ] && grep -q '^ID=ubuntu' /etc/os-release; then
        PACKAGES="$PACKAGES ubuntu-keyring"
fi

# The Zabbix server's integration test (tests/integration/test-zabbix-server.sh): Debian 12 packages
# Zabbix 6.0 (server, frontend, agent 2); Ubuntu 24.04 packages no Zabbix at all, and the test
# skips there (tests/expected-skips says why).
if [ -r /etc/os-release ] && grep -q '^ID=debian' /etc/os-release; then
        PACKAGES="$PACKAGES zabbix-server-pgsql zabbix-frontend-php zabbix-agent2 php-fpm php-pgsql nginx postgresql-client curl"
fi

missing() {
        for p in $PACKAGES; do
                dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
        done
}

case "${1:-check-or-install}" in
list)
        echo $PACKAGES
        ;;
install|check-or-install)
        need=$(missing | tr '\n' ' ')
        if [ -z "${need% }" ]; then
                echo "deps: all $(echo $PACKAGES | wc -w) packages present"
                exit 0
        fi
        if [ "$(id -u)" != 0 ]; then
                echo "deps: missing packages (run 'sudo make deps' or install them):" >&2
                echo "  $need" >&2
                exit 1
        fi
        echo "deps: installing: $need"
        export DEBIAN_FRONTEND=noninteractive
        # apt-cache and install need lists; refresh them if they are missing or a day old.
        if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
                apt-get update -q
        fi
        apt-get install -y -q --no-install-recommends $need
        still=$(missing | tr '\n' ' ')
        if [ -n "${still% }" ]; then
                echo "deps: still missing after install: $still" >&2
                exit 1
        fi
        echo "deps: added: $need"
        ;;
*)
        echo "usage: $0 install|check-or-install|list" >&2
        exit 2
        ;;
esac

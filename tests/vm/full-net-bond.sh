#!/bin/bash
# Bond, VLAN and LACP for real: the network step's libnl path in a QEMU guest whose kernel has bonding
# and 8021q (the host's has neither). No disk image needed: Debian's kernel boots straight into a small
# initramfs holding busybox, iproute2, rackstack-firstboot and the profiles.
#
# Topology (as research/lab-disk.md §4 measured): four virtio NICs at 10G full duplex, joined in pairs
# by QEMU hubs, :11<->:13 and :12<->:14. In the guest :13 and :14 move to netns "peer" and become bond
# "bondp" with VLAN 20 carrying the gateway 10.0.50.1. Then `rackstack-firstboot network --apply` plans
# the db role from kickstart/lab-db1.ks (bond0 802.3ad over :11/:12, bond0.10/.20/.40) and brings it up.
#   peer 802.3ad       -> LACP partner found, gateway answers ARP over bond0.20, exit 0
#   peer active-backup -> no LACP partner: fall back to active-backup, gateway answers, exit 0
#   gateway untagged   -> LACP fine, the gateway does not answer on VLAN 20: roll back, exit 1
# Everything stays inside the guest; QEMU hubs have no outside connection.
set -u
cd "$(dirname "$0")/../.."
O=${RACKSTACK_BUILD_DIR:-build}
FB=$O/rackstack-firstboot
CACHE=${RACKSTACK_VM_CACHE:-$O/vm-cache}
KPKG=${RACKSTACK_VM_KERNEL_PKG:-linux-image-6.1.0-56-amd64}

command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
[ -x /bin/busybox ] || { echo "skip: no /bin/busybox (apt-get install busybox-static)"; exit 77; }
command -v cpio >/dev/null || { echo "skip: no cpio (apt-get install cpio)"; exit 77; }
[ -x "$FB" ] || { echo "skip: $FB not built (run make)"; exit 77; }

mkdir -p "$CACHE"
deb=$(ls "$CACHE"/"$KPKG"_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
        (cd "$CACHE" && apt-get download "$KPKG" >/dev/null 2>&1) || { echo "skip: cannot download $KPKG"; exit 77; }
        deb=$(ls "$CACHE"/"$KPKG"_*.deb | head -n 1)
fi
kdir=$CACHE/${KPKG}
if [ ! -d "$kdir/boot" ]; then
        rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp" && dpkg-deb -x "$deb" "$kdir.tmp" && mv "$kdir.tmp" "$kdir" ||
                { echo "FAIL: cannot unpack $deb"; exit 1; }
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
kmods=$(ls -d "$kdir"/lib/modules/*)/kernel

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,mods,profiles,target}

# Binaries and every library they need, at the same paths.
copy_with_libs() {
        local b=$1 dest=$2
        cp "$b" "$root$dest"
        ldd "$b" | grep -o '/[^ ]*' | while read -r lib; do
                mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
        done
}
cp /bin/busybox "$root/bin/busybox"
for a in sh mount mkdir cat sleep grep poweroff ls echo seq; do ln -s busybox "$root/bin/$a"; done
copy_with_libs /usr/sbin/ip /usr/sbin/ip
copy_with_libs "$FB" /usr/sbin/rackstack-firstboot
cp profiles/*.yaml "$root/profiles/"
mkdir -p "$root/ks" && cp kickstart/lab-db1.ks "$root/ks/"

for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev virtio/virtio_pci \
         ../net/core/failover net/net_failover net/virtio_net ../net/tls/tls net/bonding/bonding ../net/llc/llc \
         ../net/802/stp ../net/802/garp ../net/802/mrp ../net/8021q/8021q; do
        f=$kmods/drivers/$m.ko
        [ -f "$f" ] || { echo "FAIL: no module $f"; exit 1; }
        cp "$f" "$root/mods/"
        echo "$(basename "$m")" >>"$root/mods/order"
done

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/usr/sbin
# busybox sh prefers its own applets: iproute2 by full path (busybox ip has no netns, bond or vlan).
IP=/usr/sbin/ip
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
for m in $(cat /mods/order); do busybox insmod /mods/$m.ko || echo "RS-ERROR insmod $m"; done
peer=$(sed -n 's/.*rs.peer=\([^ ]*\).*/\1/p' /proc/cmdline)
ifname_of() { for d in /sys/class/net/*; do [ "$(cat $d/address)" = "$1" ] && basename $d; done; }
for i in $(seq 50); do [ -n "$(ifname_of 52:54:00:00:00:14)" ] && break; sleep 0.1; done
P1=$(ifname_of 52:54:00:00:00:13) P2=$(ifname_of 52:54:00:00:00:14)
$IP link set lo up
$IP netns add peer
$IP link set "$P1" netns peer; $IP link set "$P2" netns peer
case $peer in active-backup) opts="mode active-backup miimon 100" ;; *) opts="mode 802.3ad miimon 100 lacp_rate fast" ;; esac
# "untagged": the switch port is an access port for VLAN 20, so the gateway is not on our tagged bond0.20.
if [ "$peer" = untagged ]; then gwdev=bondp; vlan=true; else gwdev=bondp.20; vlan="$IP link add link bondp name bondp.20 type vlan id 20"; fi
$IP netns exec peer sh -c "$IP link set lo up; $IP link add bondp type bond $opts &&
        $IP link set $P1 down && $IP link set $P1 master bondp && $IP link set $P2 down && $IP link set $P2 master bondp &&
        $IP link set bondp up && $vlan && $IP addr add 10.0.50.1/24 dev $gwdev && $IP link set $gwdev up" ||
        echo "RS-ERROR peer setup"
echo "RS-BEGIN peer=$peer"
rackstack-firstboot network --apply --json --no-vm --no-persist --profiles /profiles --ks /ks/lab-db1.ks >/tmp/out 2>/tmp/err
echo "RS-RC $?"
echo "RS-JSON-BEGIN"; cat /tmp/out; echo "RS-JSON-END"
echo "RS-STDERR-BEGIN"; cat /tmp/err; echo "RS-STDERR-END"
echo "RS-BONDING-BEGIN"; cat /proc/net/bonding/bond0; echo "RS-BONDING-END"
$IP link show bond0 >/dev/null 2>&1 || echo "RS-NO-BOND0"
$IP link show bond0.20 >/dev/null 2>&1 || echo "RS-NO-BOND0.20"
$IP -d link show bond0.20 | sed 's/^/RS-IP /'
$IP -4 addr show | sed 's/^/RS-IP /'
$IP route | sed 's/^/RS-ROUTE /'
echo "RS-END"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$tmp/initrd" || { echo "FAIL: cpio"; exit 1; }

fails=0 n=0
check() { # description, command...
        n=$((n + 1))
        if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
boot() { # peer mode -> console log in $tmp/console-MODE.log
        local nics="" mac
        for i in 1 3 2 4; do
                hub=$(( i == 1 || i == 3 ? 1 : 2 ))
                nics+=" -netdev hubport,id=p$i,hubid=$hub -device virtio-net-pci,netdev=p$i,mac=52:54:00:00:00:1$i,speed=10000,duplex=full"
        done
        timeout 600 qemu-system-x86_64 -accel "${RACKSTACK_QEMU_ACCEL:-tcg}" -m 768 -smp 1 -nodefaults -display none \
                -serial stdio -no-reboot -kernel "$vmlinuz" -initrd "$tmp/initrd" \
                -append "console=ttyS0 panic=-1 quiet rs.peer=$1" $nics >"$tmp/console-$1.log" 2>&1
        mkdir -p "$O/test-logs" && tr -d '\r' <"$tmp/console-$1.log" >"$O/test-logs/vm-net-bond-$1.console"
        sed -n '/RS-JSON-BEGIN/,/RS-JSON-END/p' "$tmp/console-$1.log" | sed '1d;$d' | tr -d '\r' >"$tmp/result-$1.json"
}
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
show_log() { echo "---- console ($1)"; tr -d '\r' <"$tmp/console-$1.log" | grep -v '^\[' | tail -n 80; }

t0=$SECONDS
boot 802.3ad
log=$tmp/console-802.3ad.log
check "802.3ad: guest ran the step" grep -q "RS-END" "$log"
check "802.3ad: modules loaded" bash -c "! grep -q RS-ERROR '$log'"
check "802.3ad: exit 0" grep -q "RS-RC 0" "$log"
check "802.3ad: applied, no fallback" jq_py "$tmp/result-802.3ad.json" 'd["applied"] and not d["fell_back"] and d["bond_mode"]=="802.3ad"'
check "802.3ad: LACP partner is the peer bond" jq_py "$tmp/result-802.3ad.json" \
        'any(c["check"]=="lacp-partner" and c["passed"] and c["detail"].startswith("partner 52:54:00:00:00:1") for c in d["checks"])'
check "802.3ad: gateway answered ARP over bond0.20" jq_py "$tmp/result-802.3ad.json" \
        'any(c["check"]=="gateway-arp" and c["passed"] and c["subject"]=="bond0.20 -> 10.0.50.1" for c in d["checks"])'
check "802.3ad: both members enslaved and up" jq_py "$tmp/result-802.3ad.json" \
        'len([l for l in d["links"] if l["master"]=="bond0" and l["up"] and l["carrier"]])==2'
check "802.3ad: VLAN links carry the db host's addresses" jq_py "$tmp/result-802.3ad.json" \
        '{l["name"]:l["addresses"] for l in d["links"] if l["kind"]=="vlan"}=={"bond0.10":["10.0.10.12/24"],"bond0.20":["10.0.50.12/24"],"bond0.40":["10.0.40.12/24"]}'
check "802.3ad: default route via 10.0.50.1 on bond0.20" jq_py "$tmp/result-802.3ad.json" \
        '{"dst":"default","gateway":"10.0.50.1","dev":"bond0.20"} in d["routes"]'
check "802.3ad: kernel says 802.3ad, fast LACP, layer3+4, 2 ports" bash -c "tr -d '\r' <'$log' | grep -q 'Bonding Mode: IEEE 802.3ad' &&
        tr -d '\r' <'$log' | grep -q 'LACP rate: fast' && tr -d '\r' <'$log' | grep -q 'Transmit Hash Policy: layer3+4' &&
        tr -d '\r' <'$log' | grep -q 'Number of ports: 2'"
check "802.3ad: bond0.20 is VLAN 20" bash -c "tr -d '\r' <'$log' | grep -q 'RS-IP .*vlan protocol 802.1Q id 20'"
[ $fails = 0 ] || show_log 802.3ad
f0=$fails

boot active-backup
log=$tmp/console-active-backup.log
check "no LACP partner: guest ran the step" grep -q "RS-END" "$log"
check "no LACP partner: exit 0" grep -q "RS-RC 0" "$log"
check "no LACP partner: fell back to active-backup" jq_py "$tmp/result-active-backup.json" \
        'd["applied"] and d["fell_back"] and d["bond_mode"]=="active-backup" and not d["rolled_back"]'
check "no LACP partner: the failed LACP check is reported" jq_py "$tmp/result-active-backup.json" \
        'any(c["check"]=="lacp-partner" and not c["passed"] for c in d["checks"])'
check "no LACP partner: gateway answered ARP after the fallback" jq_py "$tmp/result-active-backup.json" \
        'any(c["check"]=="gateway-arp" and c["passed"] for c in d["checks"])'
check "no LACP partner: kernel says active-backup" bash -c "tr -d '\r' <'$log' | grep -q 'Bonding Mode: fault-tolerance (active-backup)'"
check "no LACP partner: the warning says so" bash -c "tr -d '\r' <'$log' | grep -q 'warning: No LACP partner answered: bond0 fell back from 802.3ad to active-backup'"
[ $fails = $f0 ] || show_log active-backup

f1=$fails
boot untagged
log=$tmp/console-untagged.log
check "gateway not on VLAN 20: guest ran the step" grep -q "RS-END" "$log"
check "gateway not on VLAN 20: exit 1" grep -q "RS-RC 1" "$log"
check "gateway not on VLAN 20: LACP passed, ARP failed, rolled back" jq_py "$tmp/result-untagged.json" \
        'not d["applied"] and d["rolled_back"] and not d["fell_back"] and d["failed_step"]=="check gateway-arp bond0.20 -> 10.0.50.1" and [(c["check"],c["passed"]) for c in d["checks"] if c["check"]!="carrier"]==[("lacp-partner",True),("gateway-arp",False)]'
check "gateway not on VLAN 20: the error names the failed check" bash -c "tr -d '\r' <'$log' | grep -q \"error: Network configuration failed at 'check gateway-arp bond0.20 -> 10.0.50.1'; rolled back\""
check "gateway not on VLAN 20: bond0 and bond0.20 are gone" bash -c "tr -d '\r' <'$log' | grep -qx RS-NO-BOND0 && tr -d '\r' <'$log' | grep -qx RS-NO-BOND0.20"
[ $fails = $f1 ] || show_log untagged

echo "$((n - fails))/$n checks passed in $((SECONDS - t0)) s"
[ $fails = 0 ]

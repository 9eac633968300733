#!/bin/bash
# The db role's PXE set: QEMU's built-in TFTP server (slirp) serves pxe/ to the firmware's PXE
# client and a python http.server on loopback serves the live root, image and kickstart (the guest
# reaches the host's loopback as 10.0.2.2). BIOS: SeaBIOS's iPXE ROM runs boot.ipxe; UEFI: OVMF
# loads grubnetx64.efi, which reads grub/grub.cfg over TFTP. Both reach the installer, which gets
# a DHCP lease, downloads the live root and the kickstart over HTTP and runs rackstack-firstboot
# with --source http://10.0.2.2:PORT.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/media-lib.sh"
vm_requirements
ensure_media db

# A TFTP or HTTP server that is not root hands the set out: every file must be world-readable and
# every directory world-searchable (Ubuntu's /boot/vmlinuz-* is 0600 in the tree); no key material.
bad=$(find "$PXE_DIR" \( -type f ! -perm -0444 \) -o \( -type d ! -perm -0555 \) -printf '%m %P\n')
[ -z "$bad" ] || { echo "FAIL: the PXE set has files a non-root server cannot read:"; echo "$bad"; exit 1; }
keys=$(grep -rl -e 'PRIVATE KEY' "$PXE_DIR" --include='*' -I 2>/dev/null; find "$PXE_DIR" -name '*.key' -printf '%P\n')
[ -z "$keys" ] || { echo "FAIL: key material in the PXE set: $keys"; exit 1; }
echo "ok   every file of the PXE set is world-readable, every directory searchable, no key material"
# The UEFI netboot loader is the image's own GRUB (made in the role's tree), not the build host's.
gv=$(python3 -c 'import json,sys; print({p["name"]: p["version"] for p in json.load(open(sys.argv[1]))["packages"]}.get("grub-efi-amd64-bin", ""))' \
        "$MEDIA_DIR/manifest.json")
[ -n "$gv" ] && grep -qaF "$gv" "$PXE_DIR/grubnetx64.efi" || { echo "FAIL: grubnetx64.efi is not GRUB $gv from the image"; exit 1; }
echo "ok   grubnetx64.efi is the image's GRUB ($gv)"

mkdir -p "$O/test-logs"
httplog=$O/test-logs/vm-media-pxe-http.log
# The HTTP server runs as nobody when it can reach the directory (the checkout's parents may be
# closed to other users; then as root, the modes above still checked).
# The system's python3: a python3 earlier in root's PATH (a pyenv shim under /root) is not nobody's.
serve_as=() py=python3
if [ -x /usr/bin/python3 ] && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$PXE_DIR" \
   && setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '' 2>/dev/null; then
        serve_as=(setpriv --reuid=65534 --regid=65534 --clear-groups) py=/usr/bin/python3
        echo "HTTP server runs as nobody"
fi
"${serve_as[@]}" "$py" -m http.server "$PXE_PORT" --bind 127.0.0.1 --directory "$PXE_DIR" > "$httplog" 2>&1 &
http_pid=$!
trap 'kill "$http_pid" 2>/dev/null; wait "$http_pid" 2>/dev/null' EXIT
for _ in $(seq 50); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$PXE_PORT" \
                2>/dev/null && break
        sleep 0.1
done
echo "PXE set: $(du -sb "$PXE_DIR" | cut -f1) bytes; HTTP on 127.0.0.1:$PXE_PORT (pid $http_pid)"

fails=0
# One boot: FIRMWARE BOOTFILE; both at once (two cores).
boot_pxe() {
        python3 - "$TOP" "$PXE_DIR" "$PXE_PORT" "$O/test-logs" "$1" "$2" <<'PYEOF'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests/vm"))
from vmharness import VM, install_signal_handlers
install_signal_handlers()
pxe_dir, port, logdir, fw, bootfile = sys.argv[2:7]
url = "http://10.0.2.2:%s" % port
log = os.path.join(logdir, "vm-media-pxe-%s.serial.log" % fw)
try:
    with VM(pxe=(pxe_dir, bootfile), firmware=fw, nets=1, no_reboot=True, memory=1536, log=log, name="pxe-" + fw) as vm:
        vm.boot(expect=r"rackstack-installer: starting \(role db, host lab-db1\)", timeout=240)
        first = vm.last_match_time
        vm.wait_for(r"rackstack-installer: network: eth0 10\.0\.2\.15 \(boot server 10\.0\.2\.2\)", 120)
        vm.wait_for(r"rackstack-installer: fetching %s/installer\.squashfs" % url, 60)
        vm.wait_for(r"rackstack-installer: installer root verified", 120)  # rackstack.live.sha256= matched
        vm.wait_for(r"rackstack-installer: fetching %s/ks\.cfg" % url, 120)
        vm.wait_for(r"rackstack-installer: running /usr/bin/rackstack-firstboot install --source %s "
                    r"--ks /run/rackstack/ks\.cfg" % url, 120)
        vm.wait_for(r"\n(rackstack-firstboot|error while loading shared libraries)", 120)
        if "error while loading shared libraries" in vm.output[-4000:]:
            raise RuntimeError("rackstack-firstboot could not start in the live root")
        print("ok   PXE under %s (%s): first line %.1f s, firstboot %.1f s" % (fw, bootfile, first, vm.last_match_time))
except Exception as e:
    print("FAIL PXE under %s (%s): %s (serial log %s)" % (fw, bootfile, e, log))
    sys.exit(1)
PYEOF
}
t0=$SECONDS
boot_pxe bios boot.ipxe & a=$!
boot_pxe uefi grubnetx64.efi & b=$!
wait $a || fails=$((fails + 1))
wait $b || fails=$((fails + 1))
echo "2 boots in $((SECONDS - t0)) s"
# The firmware fetched its files by TFTP, the installer the rest by HTTP: both GETs are in the log.
for f in installer.squashfs ks.cfg; do
        n=$(grep -c "\"GET /$f HTTP/1.[01]\" 200" "$httplog")
        if [ "$n" != 2 ]; then
                echo "FAIL the HTTP server served /$f $n times, not twice:"; cat "$httplog"; fails=$((fails + 1))
        fi
done
echo "$fails failed"
[ $fails = 0 ]

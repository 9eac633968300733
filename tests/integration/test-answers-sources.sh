#!/bin/bash
# Where the kickstart comes from, as `answers --explain` reports it: inst.ks=http://… from a real HTTP
# server on loopback (sha256 pin right and wrong, the size limit, 404 and a refused connection never
# fall back), a path, the image's own ks.cfg, cdrom: from an ISO 9660 image on a loop device (where the
# kernel has iso9660), and the refusal of secrets that others could read.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
FB=$PWD/${RACKSTACK_BUILD_DIR:-build}/rackstack-firstboot
command -v python3 >/dev/null || skip_all "skip: no python3"
[ -x "$FB" ] || skip_all "skip: $FB not built (run make)"
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

mkdir -p "$tmp/www" "$tmp/root"
cp kickstart/lab-db1.ks "$tmp/www/ks.cfg"
sed 's/^rootpw --lock$/rootpw --iscrypted $6$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm/' \
        kickstart/lab-db1.ks >"$tmp/www/secret.cfg"
head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$tmp/www/big.cfg"
sum=$(sha256sum "$tmp/www/ks.cfg" | cut -d' ' -f1)
# the lines the answers cite, read from the kickstart itself (one command per line)
L20=$(grep -n -- '--vlanid=20 ' kickstart/lab-db1.ks | cut -d: -f1)
L40=$(grep -n -- '--vlanid=40 ' kickstart/lab-db1.ks | cut -d: -f1)
LRP=$(grep -n '^rootpw ' kickstart/lab-db1.ks | cut -d: -f1)

# a free port: let the kernel pick one, then give it to the server
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$port" >"$tmp/http.log" 2>&1 &
srv=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port

answers() { # kernel command line, extra args...
        local cmdline=$1; shift
        "$FB" answers --no-devices --root "$tmp/root" --profiles profiles --kernel-cmdline "$cmdline" "$@"
}

answers "quiet inst.ks=$url/ks.cfg" >"$tmp/out" 2>&1; rc=$?
check "http: unpinned, the kickstart is refused (exit 2): the server could choose the disks to wipe" test $rc = 2
check "http: the refusal says how to pin" grep -q "came over plain HTTP unpinned.*inst.ks.sha256=HEX" "$tmp/out"
check "http: nothing kept unpinned" test ! -e "$tmp/root/run/rackstack/answers-verb.ks"

answers "quiet inst.ks=$url/ks.cfg inst.ks.sha256=$sum" >"$tmp/out" 2>&1; rc=$?
check "http: pinned, exits 0" test $rc = 0
check "http: each answer names the URL and line" grep -Eq "^hostname +lab-db1\.domain\.com +kernel cmdline inst\.ks=$url/ks\.cfg line $L20$" "$tmp/out"
check "http: the copy is root-only" test "$(stat -c %a "$tmp/root/run/rackstack/answers-verb.ks")" = 600
check "http: the copy is what the server has" cmp -s "$tmp/root/run/rackstack/answers-verb.ks" "$tmp/www/ks.cfg"

answers "inst.ks=$url/ks.cfg inst.ks.sha256=$sum" --json >"$tmp/out" 2>&1; rc=$?
check "http: a matching sha256 pin is accepted" test $rc = 0
check "http: --json gives the source" python3 -c '
import json, sys
a = {x["key"]: x for x in json.load(open(sys.argv[1]))}
assert a["vlan.40.address"]["value"] == "10.0.40.12/24"
assert a["vlan.40.address"]["source"].endswith("/ks.cfg line " + sys.argv[2]), a["vlan.40.address"]
assert a["rootpw"]["value"] == "locked"
' "$tmp/out" "$L40"

rm -f "$tmp/root/run/rackstack/answers-verb.ks"
bad=$(echo "$sum" | tr '0-9a-f' '1-9a-f0')
answers "inst.ks=$url/ks.cfg inst.ks.sha256=$bad" >"$tmp/out" 2>&1; rc=$?
check "http: a sha256 mismatch fails" test $rc = 1
check "http: a sha256 mismatch says so" grep -q "does not match inst.ks.sha256=$bad" "$tmp/out"
check "http: nothing kept after a mismatch" test ! -e "$tmp/root/run/rackstack/answers-verb.ks"

answers "inst.ks=$url/big.cfg" >"$tmp/out" 2>&1; rc=$?
check "http: over the size limit fails" test $rc = 1
check "http: over the size limit says so" grep -q "is larger than 4194304 bytes" "$tmp/out"

# the image has a kickstart too: a source named on the command line that fails never falls back to it
mkdir -p "$tmp/root/usr/share/rackstack"
cp kickstart/lab-db1.ks "$tmp/root/usr/share/rackstack/ks.cfg"
answers "inst.ks=$url/missing.cfg" >"$tmp/out" 2>&1; rc=$?
check "http: 404 fails, no fallback to the image's kickstart" test $rc = 1
check "http: 404 names the URL" grep -q "Failed to fetch $url/missing.cfg" "$tmp/out"

answers "inst.ks=$url/secret.cfg" >"$tmp/out" 2>&1; rc=$?
check "http: a password hash over plain HTTP is refused (exit 2)" test $rc = 2
check "http: the refusal says why and where" grep -q "secret.cfg line $LRP holds a password hash, and a kickstart fetched over plain HTTP" "$tmp/out"
check "http: the refused file is not kept" test ! -e "$tmp/root/run/rackstack/answers-verb.ks"

answers "inst.ks=https://127.0.0.1:$port/ks.cfg" >"$tmp/out" 2>&1; rc=$?
check "https is refused as bad input (exit 2), not fetched in the clear" test $rc = 2
check "https: the refusal says how to pin instead" grep -q "https is not supported (plain http with inst.ks.sha256= pins the content)" "$tmp/out"

kill "$srv"; wait "$srv" 2>/dev/null; srv=
start=$(date +%s.%N)
answers "inst.ks=$url/ks.cfg" >"$tmp/out" 2>&1; rc=$?
took=$(echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}')
check "http: a refused connection fails after bounded retries ($took s)" \
        awk -v rc=$rc -v t="$took" 'BEGIN { exit !(rc == 1 && t < 30) }'
check "http: the refusal names the URL" grep -q "Failed to fetch $url/ks.cfg" "$tmp/out"

# a path on the kernel command line; the mode of a file holding secrets matters
cp "$tmp/www/secret.cfg" "$tmp/secret.ks"; chmod 644 "$tmp/secret.ks"
answers "inst.ks=$tmp/secret.ks" >"$tmp/out" 2>&1; rc=$?
check "path: secrets in a file others can read are refused (exit 2)" test $rc = 2
check "path: the refusal gives the mode and the fix" grep -q "has mode 0644 (readable by group or others); chmod 0600 it" "$tmp/out"
chmod 600 "$tmp/secret.ks"
answers "inst.ks=$tmp/secret.ks" >"$tmp/out" 2>&1; rc=$?
check "path: the same file with mode 0600 is taken" test $rc = 0
check "path: --explain says the password is set, never the hash" \
        sh -c "grep -Eq '^rootpw +set +kernel cmdline inst.ks=$tmp/secret.ks line $LRP$' '$tmp/out' && ! grep -q 'abcdefgh' '$tmp/out'"

answers "quiet" >"$tmp/out" 2>&1; rc=$?
check "image: without inst.ks the image's ks.cfg is used" test $rc = 0
check "image: sources read 'image ks.cfg line N'" grep -Eq "^vlan\.20\.address +10\.0\.50\.12/24 +image ks\.cfg line $L20\$" "$tmp/out"

answers "inst.ks=nfs:server:/ks.cfg" >"$tmp/out" 2>&1; rc=$?
check "an unsupported scheme is bad input (exit 2) at its column" \
        sh -c "[ $rc = 2 ] && grep -q '^kernel command line:1:1: error: unsupported kickstart source scheme' '$tmp/out'"

# cdrom:/ks.cfg: an ISO 9660 image on a loop device, found by blkid's TYPE
if [ "$(id -u)" = 0 ] && grep -qw iso9660 /proc/filesystems && command -v xorriso >/dev/null && command -v losetup >/dev/null; then
        mkdir -p "$tmp/iso"; cp kickstart/lab-db1.ks "$tmp/iso/ks.cfg"
        xorriso -as mkisofs -quiet -R -V RSKS -o "$tmp/ks.iso" "$tmp/iso" 2>/dev/null
        loop=$(losetup --find --show --read-only "$tmp/ks.iso")
        rm -f "$tmp/root/usr/share/rackstack/ks.cfg"
        answers "inst.ks=cdrom:/ks.cfg" >"$tmp/out" 2>&1; rc=$?
        losetup -d "$loop"
        check "cdrom: the ISO's ks.cfg is found and used" test $rc = 0
        check "cdrom: sources name it" grep -Eq '^hostname +lab-db1\.domain\.com +kernel cmdline inst\.ks=cdrom:/ks\.cfg line '"$L20"'$' "$tmp/out"
else
        skip_check "cdrom: the ISO's ks.cfg is found and used" "needs root, iso9660 in the kernel, xorriso and losetup"
fi

finish

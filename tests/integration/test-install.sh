#!/bin/bash
# SPDX-License-Identifier: MIT
# `rackstack-firstboot install` for real: a GPT image made with sfdisk, mkfs.fat and mke2fs on a
# sparse file, compressed with zstd (and gzip), installed onto a 60G sparse file through a loop
# device, from a directory and over HTTP from python3 -m http.server on loopback. Checked with
# sfdisk --verify/--json (backup GPT at the disk's end, partitions as in the image), cmp against the
# raw image, and the kickstart read back from the installed root. Refusals: a target with a
# filesystem and no clearance, the boot medium, a tampered image or checksum (the target is then
# wiped), a bad or missing signature when a key is given.
#
# Exit: 0 all passed, 77 skipped (not root, no loop devices, a tool missing), 1 a case failed.
set -u

O=${RACKSTACK_O:-build}
here=$(cd "$(dirname "$0")/../.." && pwd)
FB=$here/$O/rackstack-firstboot

. "$here/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "SKIP: needs root (loop devices)"
[ -e /dev/loop-control ] || skip_all "SKIP: no /dev/loop-control"
for t in losetup sfdisk mke2fs mkfs.fat zstd gzip python3 openssl blkid; do
        command -v $t >/dev/null || skip_all "SKIP: no $t"
done
[ -x "$FB" ] || { echo "missing $FB (run make)"; exit 1; }

T=$(mktemp -d /tmp/rackstack-install.XXXXXX)
LOOPS=()
HTTP_PID=
cleanup() {
        [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
        findmnt -rn -o TARGET | grep "^$T/" | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
        for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
        # attach() runs in $(...): its LOOPS+= does not reach here, so find ours by backing file
        losetup -n -l -O NAME,BACK-FILE | awk -v t="$T/" 'index($2, t) == 1 { print $1 }' |
                while read -r l; do losetup -d "$l"; done
        rm -rf "$T"
}
trap cleanup EXIT

# a failure shows the command's output
eval "_lib_$(declare -f not_ok)"
not_ok() { _lib_not_ok "$@"; [ -f "$T/out" ] && sed 's/^/       | /' "$T/out" | tail -25; return 0; }

attach() { # file -> loop device, non-rotational (an "ssd")
        local l
        l=$(losetup -f --show "$1") || return 1
        LOOPS+=("$l")
        echo 0 > "/sys/block/${l#/dev/}/queue/rotational"
        echo "$l"
}
detach() { losetup -d "$1"; }
fb() { "$FB" "$@" --no-search < /dev/null > "$T/out" 2>&1; rc=$?; }
# sha256 of the first and last MiB of a device
ends() { { head -c 1048576 "$1"; tail -c 1048576 "$1"; } | sha256sum | cut -d' ' -f1; }
zero_mib() { # device offset-in-MiB -> 0 if that MiB is all zeros
        [ "$(dd if="$1" bs=1M skip="$2" count=1 status=none | tr -d '\0' | wc -c)" = 0 ]
}

# ---- the image: ESP (vfat) + BIOS boot + root (ext4 with files and 48 MiB of incompressible data) ----
IMG=$T/lab-db1.raw
truncate -s 512M "$IMG"
sfdisk -q "$IMG" <<'EOF'
label: gpt
size=64M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
size=1M, type=21686148-6449-6E6F-744E-656564454649, name=bios
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
EOF
read -r P1S P1N < <(sfdisk -l -o Start,Sectors "$IMG" | awk '$1 ~ /^[0-9]+$/' | sed -n 1p)
read -r P3S P3N < <(sfdisk -l -o Start,Sectors "$IMG" | awk '$1 ~ /^[0-9]+$/' | sed -n 3p)
mkdir -p "$T/tree/etc" "$T/tree/var/lib"
echo "lab-db1 image" > "$T/tree/etc/rackstack-image"
head -c $((48 << 20)) /dev/urandom > "$T/tree/var/lib/payload"
mkfs.fat -F 32 -s 1 -n ESP --offset "$P1S" "$IMG" $((P1N / 2)) >/dev/null
mke2fs -q -F -t ext4 -L root -E offset=$((P3S * 512)) -d "$T/tree" "$IMG" $((P3N / 2))k
RAW_SIZE=$(stat -c %s "$IMG")
RAW_SHA=$(sha256sum "$IMG" | cut -d' ' -f1)
SRC=$T/src
mkdir -p "$SRC"
t0=$(date +%s.%N)
zstd -q -T0 -3 "$IMG" -o "$SRC/image.raw.zst"
tz=$(date +%s.%N)
( cd "$SRC" && sha256sum image.raw.zst > SHA256SUMS && echo "$RAW_SHA  lab-db1.raw" >> SHA256SUMS )
SRC_KS=$T/src-ks
mkdir -p "$SRC_KS"
cp "$SRC"/* "$SRC_KS/"
cat > "$SRC_KS/ks.cfg" <<'EOF'
rootpw --lock
timezone Etc/UTC --utc
clearpart --none
%addon com_rackstack
role db
disk database class=nvme size>=500G count=1 expect=empty
%end
EOF
# A ks.cfg on a source whose SHA256SUMS does not list it is someone else's: refused, nothing written.
SRC_UNLISTED=$T/src-unlisted
mkdir -p "$SRC_UNLISTED"
cp "$SRC_KS"/* "$SRC_UNLISTED/"
( cd "$SRC_KS" && sha256sum ks.cfg >> SHA256SUMS )
echo "# image: $((RAW_SIZE >> 20)) MiB raw, $(( $(stat -c %s "$SRC/image.raw.zst") >> 10 )) KiB zstd ($(awk -v a="$t0" -v b="$tz" 'BEGIN { printf "%.1f", b - a }') s)"

# The installed disk against the image: the partitions are the image's, the backup GPT sits at the
# disk's end, and every byte outside the GPT's own sectors is the image's.
check_installed() { # name loopdev [bytes to compare from the start: default the whole image]
        local name=$1 dev=$2 limit=${3:-$((RAW_SIZE - 33 * 512))} sectors j
        sectors=$(($(blockdev --getsize64 "$dev") / 512))
        if ! sfdisk --verify "$dev" > "$T/verify" 2>&1 || ! grep -q "No errors detected" "$T/verify"; then
                cat "$T/verify" >> "$T/out"; not_ok "$name: sfdisk --verify"; return 1
        fi
        j=$(sfdisk --json "$dev" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
print(t["lastlba"], " ".join("%s:%s:%s:%s" % (p["start"], p["size"], p["type"], p["uuid"]) for p in t["partitions"]))')
        local want
        want=$(sfdisk --json "$IMG" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
print(" ".join("%s:%s:%s:%s" % (p["start"], p["size"], p["type"], p["uuid"]) for p in t["partitions"]))')
        if [ "${j%% *}" != $((sectors - 34)) ]; then not_ok "$name: lastlba ${j%% *}, want $((sectors - 34))"; return 1; fi
        if [ "${j#* }" != "$want" ]; then not_ok "$name: partitions '${j#* }', want '$want'"; return 1; fi
        if [ "$(dd if="$dev" bs=512 skip=$((sectors - 1)) count=1 status=none | head -c 8)" != "EFI PART" ]; then
                not_ok "$name: no backup GPT header in the last sector"; return 1
        fi
        # MBR boot code and everything from LBA 2 up to where the image's backup entries began
        if ! cmp -s -n 446 "$IMG" "$dev" || ! cmp -s -i 1024 -n $((limit - 1024)) "$IMG" "$dev"; then
                not_ok "$name: the disk's content differs from the image"; return 1
        fi
        return 0
}

# ---- 1. from a directory onto an empty 60G disk ---------------------------------------------------
truncate -s 60G "$T/disk1.img"
D1=$(attach "$T/disk1.img") || { echo "losetup failed"; exit 1; }
before=$(ends "$D1")
fb install --source "$SRC" --target "$D1" --role db --profiles "$here/profiles" --dry-run
if [ "$rc" = 0 ] && grep -q "target:  $D1" "$T/out" && grep -q "(512 MiB raw)" "$T/out" && [ "$(ends "$D1")" = "$before" ]; then
        ok "dry run: plans $D1, reads the image's size from its zstd frame header, writes nothing"
else
        not_ok "dry run (rc=$rc)"
fi
# A source whose signed list says the image is another role's: refused unless --any-role.
SRC_WEB=$T/src-web
mkdir -p "$SRC_WEB"
cp "$SRC"/* "$SRC_WEB/"
printf '{"role": "web", "host": "lab-web1", "base": "ubuntu-24.04", "version": "0.1.0", "build_time": 1700000000}\n' \
        > "$SRC_WEB/image.json"
( cd "$SRC_WEB" && sha256sum image.json >> SHA256SUMS )
fb install --source "$SRC_WEB" --target "$D1" --role db --profiles "$here/profiles" --dry-run
if [ "$rc" = 1 ] && grep -q "the image is the web role's (host lab-web1), but the answers are for role db" "$T/out"; then
        ok "image.json names another role: refused"
else
        not_ok "another role's image (rc=$rc)"
fi
fb install --source "$SRC_WEB" --target "$D1" --role db --profiles "$here/profiles" --dry-run --any-role
if [ "$rc" = 0 ] && grep -q "any-role" "$T/out"; then ok "--any-role: planned anyway"; else not_ok "--any-role (rc=$rc)"; fi
fb install --source "$SRC" --target "$D1" --role db --profiles "$here/profiles" --no-reboot
mbs=$(grep -o '[0-9.]* MB/s; sha256 ok' "$T/out" | cut -d' ' -f1)
secs=$(grep -o 'in [0-9.]* s, ' "$T/out" | cut -d' ' -f2)
if [ "$rc" = 0 ] && grep -q '%.*MB/s' "$T/out" && [ "$(tail -n 1 "$T/out")" = "rackstack-firstboot: install finished" ] \
   && check_installed "dir" "$D1"; then
        ok "directory source: installed, sha256 ok, backup GPT at the end of 60G, content = image ($secs s, $mbs MB/s)"
else
        [ "$rc" = 0 ] && not_ok "directory source (see above)" || not_ok "directory source (rc=$rc)"
fi

# with a ks.cfg on the medium: the answers are read from it and carried onto the installed root
truncate -s 60G "$T/disk1k.img"
D1K=$(attach "$T/disk1k.img")
before=$(ends "$D1K")
fb install --source "$SRC_UNLISTED" --target "$D1K" --role db --profiles "$here/profiles" --no-reboot
if [ "$rc" = 1 ] && grep -q "ks.cfg is not listed in $SRC_UNLISTED/SHA256SUMS" "$T/out" && [ "$(ends "$D1K")" = "$before" ]; then
        ok "ks.cfg on the source but not in its SHA256SUMS: refused, nothing written"
else
        not_ok "unlisted ks.cfg (rc=$rc)"
fi
fb install --source "$SRC_KS" --target "$D1K" --role db --profiles "$here/profiles" --no-reboot
if [ "$rc" = 0 ] && grep -q "answers from $SRC_KS/ks.cfg" "$T/out" && check_installed "ks" "$D1K" $((P3S * 512)); then
        ok "ks.cfg on the medium: read as the answers; the image installed (the root fs then carries the kickstart)"
else
        not_ok "install with ks.cfg (rc=$rc)"
fi
R=$(losetup -f --show -o $((P3S * 512)) --sizelimit $((P3N * 512)) "$D1K") && LOOPS+=("$R")
mkdir -p "$T/mnt"
if e2fsck -fn "$R" >/dev/null 2>&1 && mount -o ro "$R" "$T/mnt" && cmp -s "$T/mnt/usr/share/rackstack/ks.cfg" "$SRC_KS/ks.cfg" \
   && [ "$(stat -c %a "$T/mnt/usr/share/rackstack/ks.cfg")" = 600 ] && cmp -s "$T/mnt/var/lib/payload" "$T/tree/var/lib/payload"; then
        ok "the kickstart is at /usr/share/rackstack/ks.cfg (0600) on the installed root; the root fs is clean"
else
        not_ok "kickstart on the installed root"
fi
umount "$T/mnt" 2>/dev/null; detach "$R"; detach "$D1K"; rm -f "$T/disk1k.img"

# ---- 2. a disk with data is refused without clearance, taken with it -----------------------------
truncate -s 60G "$T/disk2.img"
mke2fs -q -F -t ext4 -L olddata "$T/disk2.img" 1G
D2=$(attach "$T/disk2.img")
before=$(ends "$D2")
fb install --source "$SRC" --target "$D2" --role db --profiles "$here/profiles" --no-reboot
if [ "$rc" = 1 ] && grep -q "${D2#/dev/} refused: .*carries ext4" "$T/out" \
   && grep -q "^rackstack-firstboot: FAILED at install: ${D2#/dev/} refused" "$T/out" && [ "$(ends "$D2")" = "$before" ]; then
        ok "a disk with an ext4 and no clearpart: refused, naming it and its ext4; unchanged"
else
        not_ok "data disk without clearance (rc=$rc)"
fi
fb install --source "$SRC" --target "$D2" --clear "$D2" --role db --profiles "$here/profiles" --no-reboot
if [ "$rc" = 0 ] && grep -q "overwrite what is on it (ext4): allowed by clearpart --drives=$D2 (--clear)" "$T/out" \
   && check_installed "cleared" "$D2" \
   && ! blkid -p -o value -s TYPE "$D2" | grep -qx ext4; then
        ok "the same disk with --clear: the plan names it, its ext4 and --clear as what allows it; overwritten, installed"
else
        not_ok "data disk with clearance (rc=$rc)"
fi
detach "$D2"; rm -f "$T/disk2.img"

# ---- 2b. no answers, a person at the console (a pseudo-terminal): asked, not assumed ---------------
# onpty ANSWER,ANSWER,... ARGS...: run the installer on a pty, one answer per prompt ("-" = Enter)
onpty() {
        python3 - "$FB" "$@" <<'PY'
import os, pty, sys
fb, answers, args = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(fb, [fb] + args + ["--no-search"])
out, pending = b"", b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    pending += chunk
    if pending.rstrip(b" ").endswith(b":") and b"Type" in pending.split(b"\n")[-1]:
        a = answers.pop(0) if answers else "-"
        os.write(fd, (("" if a == "-" else a) + "\n").encode())
        pending = b""
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
}
truncate -s 60G "$T/disk3.img"
mke2fs -q -F -t ext4 -L olddata "$T/disk3.img" 1G
D3=$(attach "$T/disk3.img")
before=$(ends "$D3")
onpty "-" install --source "$SRC" --target "$D3" --role db --profiles "$here/profiles" --no-reboot > "$T/out" 2>&1; rc=$?
if [ "$rc" = 1 ] && grep -q "${D3#/dev/} (60 GiB) holds ext4. Type ${D3#/dev/} to overwrite" "$T/out" \
   && [ "$(ends "$D3")" = "$before" ]; then
        ok "at a terminal, a disk with an ext4: asked; Enter leaves it unchanged"
else
        not_ok "interactive refusal (rc=$rc)"
fi
onpty "${D3#/dev/}" install --source "$SRC" --target "$D3" --role db --profiles "$here/profiles" --no-reboot > "$T/out" 2>&1; rc=$?
if [ "$rc" = 0 ] && grep -q "overwrite what is on it (ext4): allowed by ${D3#/dev/} typed at the console" "$T/out" \
   && check_installed "typed" "$D3"; then
        ok "typing the disk's name clears it: installed"
else
        not_ok "interactive clear (rc=$rc)"
fi
truncate -s 60G "$T/disk5.img"
D5=$(attach "$T/disk5.img")
onpty "no" install --source "$SRC" --target "$D5" --role db --profiles "$here/profiles" --no-reboot > "$T/out" 2>&1; rc=$?
if [ "$rc" = 1 ] && grep -q "Type yes to go on" "$T/out" && grep -q "FAILED at install: not confirmed" "$T/out" \
   && zero_mib "$D5" 0; then
        ok "an empty disk at a terminal: asked to confirm; 'no' writes nothing"
else
        not_ok "interactive confirmation (rc=$rc)"
fi
onpty "yes" install --source "$SRC" --target "$D5" --role db --profiles "$here/profiles" --no-reboot > "$T/out" 2>&1; rc=$?
if [ "$rc" = 0 ] && check_installed "confirmed" "$D5"; then ok "'yes': installed"; else not_ok "interactive yes (rc=$rc)"; fi
detach "$D3"; detach "$D5"; rm -f "$T/disk3.img" "$T/disk5.img"

# ---- 3. tampered: a wrong checksum, then a corrupted stream; the disk is wiped --------------------
BAD=$T/bad
mkdir -p "$BAD"
cp "$SRC/image.raw.zst" "$BAD/"
echo "0000000000000000000000000000000000000000000000000000000000000000  image.raw.zst" > "$BAD/SHA256SUMS"
fb install --source "$BAD" --target "$D1" --role db --profiles "$here/profiles" --no-reboot --clear "$D1"
if [ "$rc" = 1 ] && grep -q "sha256 mismatch" "$T/out" && grep -q "FAILED at install: the image does not match" "$T/out" \
   && zero_mib "$D1" 0 && zero_mib "$D1" $((60 * 1024 - 1)) && zero_mib "$D1" $((RAW_SIZE / 1048576 - 1)) \
   && [ -z "$(blkid -p -o value -s PTTYPE "$D1")" ]; then
        ok "checksum mismatch: refused at the end, first/last MiB and the image's last MiB wiped, no partition table"
else
        not_ok "checksum mismatch (rc=$rc)"
fi
# a byte flipped in the middle of the compressed stream, the checksum listed for the flipped file
python3 - "$BAD/image.raw.zst" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR); n = os.fstat(fd).st_size
b = bytearray(os.pread(fd, 1, n // 2)); b[0] ^= 0xff; os.pwrite(fd, bytes(b), n // 2)
EOF
( cd "$BAD" && sha256sum image.raw.zst > SHA256SUMS && echo "$RAW_SHA  lab-db1.raw" >> SHA256SUMS )
fb install --source "$SRC" --target "$D1" --role db --profiles "$here/profiles" --no-reboot --clear "$D1" >/dev/null   # a good install first
fb install --source "$BAD" --target "$D1" --role db --profiles "$here/profiles" --no-reboot --clear "$D1"
if [ "$rc" = 1 ] && grep -qE "decompression failed|sha256 mismatch" "$T/out" && zero_mib "$D1" 0 && zero_mib "$D1" $((60 * 1024 - 1)) \
   && [ -z "$(blkid -p -o value -s PTTYPE "$D1")" ]; then
        ok "corrupted stream: $(grep -oE 'decompression failed|sha256 mismatch' "$T/out" | head -n 1), the disk wiped"
else
        not_ok "corrupted stream (rc=$rc)"
fi

# ---- 4. over HTTP, gzip this time ------------------------------------------------------------------
WEB=$T/web
mkdir -p "$WEB"
gzip -1 -c "$IMG" > "$WEB/image.raw.gz"
( cd "$WEB" && sha256sum image.raw.gz > SHA256SUMS && echo "$RAW_SHA  lab-db1.raw" >> SHA256SUMS )
PORT=$((20000 + RANDOM % 20000))
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WEB" >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break; sleep 0.1; done
truncate -s 60G "$T/disk4.img"
D4=$(attach "$T/disk4.img")
fb install --source "http://127.0.0.1:$PORT" --target "$D4" --role db --profiles "$here/profiles" --no-reboot
hmbs=$(grep -o '[0-9.]* MB/s; sha256 ok' "$T/out" | cut -d' ' -f1)
if [ "$rc" = 0 ] && grep -q "of gzip in" "$T/out" && check_installed "http" "$D4"; then
        ok "HTTP source (gzip, no ks.cfg there): installed, content = image ($hmbs MB/s)"
else
        not_ok "HTTP source (rc=$rc)"
fi
# the server's copy tampered: refused over HTTP too
cp "$BAD/image.raw.zst" "$WEB/image.raw.zst"
echo "$(sha256sum < "$SRC/image.raw.zst" | cut -d' ' -f1)  image.raw.zst" > "$WEB/SHA256SUMS"
fb install --source "http://127.0.0.1:$PORT" --target "$D4" --role db --profiles "$here/profiles" --no-reboot --clear "$D4"
if [ "$rc" = 1 ] && zero_mib "$D4" 0 && [ -z "$(blkid -p -o value -s PTTYPE "$D4")" ]; then
        ok "HTTP source with a tampered image: refused, wiped"
else
        not_ok "HTTP tampered (rc=$rc)"
fi
kill "$HTTP_PID"; HTTP_PID=
detach "$D4"; rm -f "$T/disk4.img"

# ---- 5. the boot medium: the disk the source is mounted from ---------------------------------------
truncate -s 60G "$T/medium.img"
M=$(attach "$T/medium.img")
mke2fs -q -F -t ext4 -L RACKSTACK "$M" 2G
mkdir -p "$T/medium"
mount "$M" "$T/medium" && cp -a "$SRC/." "$T/medium/"
before=$(sha256sum "$T/medium/image.raw.zst")
fb install --source "$T/medium" --target "$M" --role db --profiles "$here/profiles" --no-reboot --clear "$M"
if [ "$rc" = 1 ] && grep -q "the source is on ${M#/dev/}" "$T/out" && grep -q "names ${M#/dev/}, the boot medium" "$T/out" \
   && [ "$(sha256sum "$T/medium/image.raw.zst")" = "$before" ]; then
        ok "the disk holding the source is never a target, even named and cleared"
else
        not_ok "boot medium (rc=$rc)"
fi
umount "$T/medium"; detach "$M"; rm -f "$T/medium.img"

# ---- 6. signatures ---------------------------------------------------------------------------------
openssl genpkey -algorithm ed25519 -out "$T/key.pem" 2>/dev/null
openssl pkey -in "$T/key.pem" -pubout -out "$T/key.pub" 2>/dev/null
SIG=$T/signed
cp -a "$SRC" "$SIG"
openssl pkeyutl -sign -rawin -inkey "$T/key.pem" -in "$SIG/SHA256SUMS" -out "$SIG/SHA256SUMS.sig"
fb install --source "$SIG" --target "$D1" --role db --profiles "$here/profiles" --pubkey "$T/key.pub" --clear "$D1" --dry-run
if [ "$rc" = 0 ] && grep -q "signature verified" "$T/out"; then ok "signed SHA256SUMS: verified"; else not_ok "signed (rc=$rc)"; fi
printf 'x' | dd of="$SIG/SHA256SUMS.sig" bs=1 seek=10 conv=notrunc status=none
before=$(ends "$D1")
fb install --source "$SIG" --target "$D1" --role db --profiles "$here/profiles" --pubkey "$T/key.pub" --clear "$D1" --no-reboot
if [ "$rc" = 1 ] && grep -q "FAILED at install: bad signature" "$T/out" && [ "$(ends "$D1")" = "$before" ]; then
        ok "bad signature: refused before anything is written"
else
        not_ok "bad signature (rc=$rc)"
fi
fb install --source "$SRC" --target "$D1" --role db --profiles "$here/profiles" --pubkey "$T/key.pub" --clear "$D1" --no-reboot
if [ "$rc" = 1 ] && grep -q "no SHA256SUMS.sig" "$T/out" && [ "$(ends "$D1")" = "$before" ]; then
        ok "a key and no signature: refused"
else
        not_ok "unsigned with a key (rc=$rc)"
fi

# ---- 7. too small ----------------------------------------------------------------------------------
truncate -s 40G "$T/small.img"
S=$(attach "$T/small.img")
fb install --source "$SRC" --target "$S" --role db --profiles "$here/profiles" --no-reboot
if [ "$rc" = 1 ] && grep -q "too small" "$T/out"; then ok "a 40G disk for a 50G OS disk: refused"; else not_ok "too small (rc=$rc)"; fi

# ---- 8. which disks install may touch: `plan --install` and `install --dry-run` agree -------------
# Three disks of sizes no other disk here has, so %addon aliases can name them by size: A (73G,
# empty), B (77G, an ext4 holding a sentinel file) and C (131G, an xfs holding one), and the id role
# (OS disk: an SSD of 50G or more; 'data': an SSD of 100G or more). Every row is a kickstart that
# mixes ignoredisk and clearpart with plain names and @alias names; the planner run by `plan
# --install` and the installer's dry run must name the same target (or refuse alike), and the
# answer that allows overwriting it. Then real installs for the rows where a data disk sits next to
# the target: the sentinels must read back afterwards.
P=$here/profiles
mksentinel() { # loopdev fstype
        mkdir -p "$T/sent"
        if [ "$2" = xfs ]; then mkfs.xfs -q -f -L sentinel "$1"; else mke2fs -q -F -t ext4 -L sentinel "$1"; fi
        mount "$1" "$T/sent" && echo "data on $2 $(basename "$1")" > "$T/sent/sentinel" && umount "$T/sent"
}
sentinel_ok() { # loopdev fstype
        local ok=1
        mount -o ro "$1" "$T/sent" 2>/dev/null || return 1
        [ "$(cat "$T/sent/sentinel" 2>/dev/null)" = "data on $2 $(basename "$1")" ] || ok=0
        umount "$T/sent"
        [ "$ok" = 1 ]
}
truncate -s 73G "$T/A.img"; truncate -s 77G "$T/B.img"; truncate -s 131G "$T/C.img"
A=$(attach "$T/A.img"); B=$(attach "$T/B.img"); C=$(attach "$T/C.img")
mksentinel "$B" ext4; mksentinel "$C" xfs
# The planner sees only A, B and C (a sysfs holding just these three): the rows with clearpart
# --all and no drive list are bounded by the role's disk layout, and must never reach another disk
# on this machine.
SYS=$T/sysfs; mkdir -p "$SYS/block"
for l in "$A" "$B" "$C"; do ln -sfn "/sys/block/${l#/dev/}" "$SYS/block/"; done
mkks() { # ignoredisk-line clearpart-line -> $T/scope.ks (lines 3 and 4), with the aliases they use
        local al
        { echo "rootpw --lock"; echo "timezone Etc/UTC --utc"; echo "$1"; echo "$2"
          echo "%addon com_rackstack"; echo "role id"
          for al in "osa size=73G" "osb size=77G" "data size=131G" "big size>=70G count=1"; do
                  case "${1// /,},${2// /,}," in *"@${al%% *},"*) echo "disk $al" ;; esac
          done
          echo "%end"; } | sed '/^$/d' > "$T/scope.ks"
}
# what `plan --install --json` decides: "ok|refused TARGET ALLOWED_BY"
plan_says() {
        "$FB" plan --install --profiles "$P" --role id --ks "$T/scope.ks" --sysfs "$SYS" --json > "$T/plan.json" 2>"$T/plan.err"
        [ $? = 2 ] && { echo "bad-input - -"; return; }
        python3 -c '
import json, sys
try:
    p = json.load(sys.stdin)
except ValueError:
    print("unreadable"); sys.exit()
t = [d for d in p["disks"] if any(a["action"] == "image" for a in d["actions"])]
w = [a.get("allowed_by") for d in t for a in d["actions"] if a["action"] == "wipe"]
print("%s %s %s" % ("ok" if p["ok"] else "refused", t[0]["devnode"] if t and p["ok"] else "-", (w[0] if w and p["ok"] else "-")))' < "$T/plan.json"
}
# what `install --dry-run` decides, in the same words
install_says() {
        "$FB" install --source "$SRC" --profiles "$P" --role id --ks "$T/scope.ks" --sysfs "$SYS" --dry-run --no-search < /dev/null > "$T/out" 2>&1
        [ $? = 2 ] && { echo "bad-input - -"; return; }
        local ok=refused tgt=- by=-
        grep -q "^plan: ok" "$T/out" && ok=ok
        if [ $ok = ok ]; then
                tgt=$(sed -n 's/^target:  \([^ ]*\) .*/\1/p' "$T/out")
                by=$(sed -n 's/^do:      overwrite what is on it (.*): allowed by //p' "$T/out")
                [ -n "$by" ] || by=-
        fi
        echo "$ok $tgt $by"
}
# The rows name the disks %A%, %B%, %C%, put in when the row runs (a loop device detached and
# attached again may have another name: a stale name could be another test's disk).
subst() { local x=${1//%A%/$A}; x=${x//%B%/$B}; x=${x//%C%/$C}; x=${x//%KS%/$T/scope.ks}; echo "$x"; }
#   ignoredisk | clearpart | what both must say: ok|refused|bad-input, target, the answer allowing the overwrite
rows=(
"ignoredisk --only-use=%A%,%B%,%C%|clearpart --none|ok %A% -"
"ignoredisk --only-use=%A%,%B%,%C%|clearpart --drives=%B%|ok %B% clearpart --drives=%B% (%KS%:4)"
"ignoredisk --only-use=%B%,@osa|clearpart --all --drives=@osa|ok %A% -"
"ignoredisk --only-use=@osa,%B%,@data|clearpart --all --drives=@osa,@data|ok %A% -"
"ignoredisk --only-use=@osb|clearpart --all|ok %B% clearpart --all (%KS%:4) within ignoredisk --only-use (%KS%:3)"
"ignoredisk --only-use=%B%|clearpart --none|refused - -"
"ignoredisk --only-use=%A%,%B%|clearpart --drives=@nosuch|bad-input - -"
"ignoredisk --only-use=%A%,%B%,%C%,@big|clearpart --drives=@big|refused - -"
"ignoredisk --drives=%B%|clearpart --drives=%A%|ok %A% -"
"ignoredisk --drives=@osb,@data|clearpart --drives=@osa|ok %A% -"
"ignoredisk --drives=@osa|clearpart --drives=@osb|ok %B% clearpart --drives=@osb (%KS%:4)"
"|clearpart --all --initlabel|ok %A% -"
"ignoredisk --drives=%A%|clearpart --all|ok %B% clearpart --all (%KS%:4), bounded by the role's disk layout"
"ignoredisk --only-use=%A%,%C%|clearpart --drives=%C%|ok %A% -"
)
t0=$(date +%s.%N)
for row in "${rows[@]}"; do
        IFS='|' read -r ign clr want <<< "$(subst "$row")"
        mkks "$ign" "$clr"
        p=$(plan_says); i=$(install_says)
        if [ "$p" != "$i" ]; then
                not_ok "[$ign / $clr] plan --install says '$p', install --dry-run says '$i'"
        elif [ "$i" != "$want" ]; then
                not_ok "[$ign / $clr] both say '$i', expected '$want'"
        else
                ok "[${ign:-no ignoredisk} / $clr] plan and install agree: ${i//$T\//}"
        fi
done
t1=$(date +%s.%N)
echo "# ${#rows[@]} rows in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

# real installs where a data disk sits next to the target: the sentinels read back after
for row in "ignoredisk --only-use=@osa,%B%,@data|clearpart --all --drives=@osa,@data" \
           "ignoredisk --only-use=%A%,%C%|clearpart --drives=%C%" "|clearpart --all --initlabel"; do
        IFS='|' read -r ign clr <<< "$(subst "$row")"
        mkks "$ign" "$clr"
        "$FB" install --source "$SRC" --profiles "$P" --role id --ks "$T/scope.ks" --sysfs "$SYS" --no-reboot --no-search < /dev/null > "$T/out" 2>&1; rc=$?
        if [ "$rc" = 0 ] && grep -q "^rackstack-firstboot: install: writing image.raw.zst to $A\$" "$T/out" \
           && check_installed "scope" "$A" $((P3S * 512)) && sentinel_ok "$B" ext4 && sentinel_ok "$C" xfs; then
                ok "[$ign / $clr] installed on A; B's ext4 and C's xfs read back"
        else
                not_ok "[$ign / $clr] real install (rc=$rc)"
        fi
        if [ -z "$ign" ]; then
                # unbounded: the plan named B, which holds data no rule assigns, as left alone
                if grep -q "^note: warning: clearpart --all ($T/scope.ks:[0-9]*) names no disks: bounded by the role's disk layout, it clears ${C#/dev/}; .*left alone: ${B#/dev/} (ext4)" "$T/out"; then
                        ok "[$clr] the plan names the disk with data it leaves alone"
                else
                        not_ok "[$clr] no 'left alone' note"
                fi
        fi
        # the old name out of the planner's sysfs first: it may be another test's disk next
        rm -f "$SYS/block/${A#/dev/}"
        detach "$A"; rm -f "$T/A.img"; truncate -s 73G "$T/A.img"; A=$(attach "$T/A.img")
        ln -sfn "/sys/block/${A#/dev/}" "$SYS/block/"
done
detach "$A"; detach "$B"; detach "$C"; rm -f "$T/A.img" "$T/B.img" "$T/C.img"

finish

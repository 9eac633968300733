#!/bin/bash
# Benchmarks (not tests): figures and ratios against a peer run in the same go, on this machine.
#   bench/run.sh [cold] [warm] [nine] [assembly] [mkosi]     (all by default)
# Prints a table and writes build/bench/results.tsv. Needs root (mmdebstrap, image assembly).
set -u
cd "$(dirname "$0")/.."
O=${RACKSTACK_BUILD_DIR:-build}
B=$O/rackstack-build
mkdir -p "$O/bench"
OUT=$(cd "$O/bench" && pwd)
RES=$OUT/results.tsv
touch "$RES"
base=debian-12; grep -q '^ID=ubuntu' /etc/os-release 2>/dev/null && base=ubuntu-24.04
what=${*:-cold warm nine assembly mkosi}

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" | tee -a "$RES"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
secs() { local t0; t0=$(now); "$@" >"$OUT/last.log" 2>&1; local rc=$?; elapsed "$t0"; return $rc; }

for w in $what; do
case $w in
cold)
        rm -rf "$OUT/cache-cold" "$OUT/out-cold"
        t=$(secs "$B" build db --base $base --format raw,qcow2 --cache "$OUT/cache-cold" --out "$OUT/out-cold" --firstboot "$O/rackstack-firstboot") || { echo "cold build failed: $OUT/last.log"; exit 1; }
        record cold-build-db-seconds "$t" "empty cache"
        raw=$(ls "$OUT"/out-cold/*/*.raw)
        record raw-apparent-bytes "$(stat -c %s "$raw")" "$raw"
        record raw-allocated-bytes "$(( $(stat -c %b "$raw") * 512 ))" "$raw"
        ;;
warm)
        t=$(secs "$B" build db --base $base --format raw,qcow2 --cache "$OUT/cache-cold" --out "$OUT/out-warm" --firstboot "$O/rackstack-firstboot") || { echo "warm build failed"; exit 1; }
        record warm-build-db-seconds "$t" "base and role layer cached"
        ;;
nine)
        t0=$(now)
        for r in id db app comm voip biz erp it infra; do
                "$B" build $r --base $base --format raw --cache "$OUT/cache-cold" --out "$OUT/out-nine" --firstboot "$O/rackstack-firstboot" >>"$OUT/nine.log" 2>&1 || echo "role $r failed (see $OUT/nine.log)"
        done
        record nine-roles-warm-base-seconds "$(elapsed "$t0")" "9 roles, base cached"
        ;;
assembly)
        # Image assembly of one tree: ours (GPT + ESP + GRUB + ext4 in place) against plain mke2fs -d + dd.
        tree=$(ls -d "$OUT"/cache-cold/work/*/tree 2>/dev/null | head -n 1)
        echo "assembly: measured by tests/integration/test-image.sh and tests/vm/full-image-boot.sh (see their logs)"
        ;;
mkosi)
        command -v mkosi >/dev/null || apt-get install -y -q --no-install-recommends mkosi >/dev/null 2>&1
        if command -v mkosi >/dev/null; then
                d=$OUT/mkosi; rm -rf "$d"; mkdir -p "$d"
                cat > "$d/mkosi.conf" <<M
[Distribution]
Distribution=debian
Release=bookworm
[Output]
Format=gpt_ext4
Bootable=yes
[Packages]
Packages=linux-image-amd64,systemd-sysv,udev,netplan.io,openssh-server,chrony,rsyslog,nftables,zabbix-agent2,postgresql,postgresql-contrib,pgbouncer,redis-server
M
                t=$(cd "$d" && secs timeout 900 mkosi -f build) && record mkosi-build-seconds "$t" "same package set, bootable disk" \
                        || record mkosi-build-seconds failed "see $OUT/mkosi-disk.log (mkosi mounts its ESP: this host has no vfat)"
                cp "$OUT/last.log" "$OUT/mkosi-disk.log"
                # The part mkosi can do here: the same packages into a directory tree, no disk.
                sed -i 's/^Format=gpt_ext4$/Format=directory/; s/^Bootable=yes$/Bootable=no/' "$d/mkosi.conf"
                t=$(cd "$d" && secs timeout 900 mkosi -f build) && record mkosi-tree-seconds "$t" "same package set, directory output" \
                        || record mkosi-tree-seconds failed "see $OUT/last.log (mkosi runs systemd-nspawn, which needs a system bus this host lacks)"
        else
                record mkosi-build-seconds unavailable "mkosi not installable"
        fi
        ;;
esac
done
echo; column -t -s $'\t' "$RES"

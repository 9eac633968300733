#!/bin/bash
# Benchmark (not a test): rackstack-build against mkosi 14 (Debian 12's), run in the same go on the
# same package set (BENCH_PEER_SET below; minbase, no Recommends): rackstack builds the role in
# bench/profiles/ on its Debian 12 base, mkosi a gpt_ext4 bootable image of bookworm with that base's
# and that role's packages. The notes count the packages installed in each image.
#   bench/run.sh [build] [boot]           (both by default; boot needs build's images)
#   bench/run.sh rebuild                  both rebuilds again, at once (after a build: both caches warm)
#   bench/run.sh table                    the table of the figures recorded so far
#   bench/run.sh PART...                  parts of build alone: rackstack-cold rackstack-rebuild
#                                         mkosi-cold mkosi-rebuild (to debug one; the table takes the
#                                         newest figure of each, so its ratios may then mix two goes)
# The two sides run at the same time, at the same priority (nice -n $BENCH_NICE, default 10): the two
# cold builds together, then the two rebuilds, then the two boots, so each ratio compares figures
# taken under the same load, whatever the rest of the machine is doing. Each side has
# $BENCH_TIMEOUT seconds (default 3600) a build and 900 s a boot; a side that does not finish is
# written into the table as such, with the reason (its exit, or the timeout, and its last log line).
# Measured, each with the machine's load average when it started and when it ended:
#   cold build       empty caches for both (rackstack: a new --cache; mkosi: -ff -i --cache-initrd)
#   overlay rebuild  rackstack: one overlay file changed; mkosi: one mkosi.extra file changed, -f -i
#                    --cache-initrd (its incremental mode; it does not see package changes)
#   allocated size   of the raw disk (stat %b)
#   boot to login:   the same QEMU command line for both: q35, OVMF, -smp 2, -m 2G, -accel tcg,
#                    serial console to a file, until the first "login:"
# Writes build/bench/results.tsv (name, rackstack, mkosi, ratio, load) and prints it as a table.
# Needs root; installs mkosi (and mtools, dosfstools) from the Debian archive if missing. mkosi 14
# does not work on this host as shipped: the shims below (a vfat emulation for mount/umount, an
# ESP-check relaxation for nspawn, an e2fsck before its tune2fs -U) are what it needs;
# rackstack-build needs none.
set -u
cd "$(dirname "$0")/.." || exit 1
SRC=$PWD
O=$(realpath -m "${RACKSTACK_BUILD_DIR:-build}")
B=$O/rackstack-build
OUT=$O/bench
NICE="nice -n ${BENCH_NICE:-10}"
TIMEOUT=${BENCH_TIMEOUT:-3600}
what=${*:-build boot}
[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root (both builders run apt in a chroot)"; exit 1; }
[ -x "$B" ] || { echo "$B is not built (make)"; exit 1; }
mkdir -p "$OUT"
RES=$OUT/results.tsv
FIG=$OUT/figures.tsv   # name tool value load, one line per measurement (build, then boot, append)
NOTES=$OUT/notes.txt   # why a figure is missing, and the machine's uptime at the start and end of the go

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
load() { cut -d' ' -f1 /proc/loadavg; }
figure() { # name tool value load-at-start: the load column is "start>end"
        printf '%s\t%s\t%s\t%s>%s\n' "$1" "$2" "$3" "$4" "$(load)" >>"$FIG"; echo "  $1 $2: $3 (load $4>$(load))"
}
# A measurement that did not finish: its figure says so, and the notes say why.
did_not_finish() { # name tool rc log load-at-start
        local why last
        last=$(grep -av -e '^[[:space:]]*$' -e 'error: Interrupted' "$4" 2>/dev/null | tail -n 1 | cut -c1-160)
        if [ "$3" = 124 ]; then why="timed out after $TIMEOUT s"; else why="exit $3"; fi
        figure "$1" "$2" "$([ "$3" = 124 ] && echo timeout || echo failed)" "$5"
        echo "$2 $1: did not finish: $why; last line of $4: $last" | tee -a "$NOTES"
}
allocated() { echo $(( $(stat -c %b "$1") * 512 )); }

# The peer's package set (BENCH_PEER_SET):
#   same     (default) what rackstack's image of the bench role gets: its base (builder/rootfs.c's
#            common_packages and debian_libs, and the kernel) and the role's packages (bench/profiles/
#            it.yaml), read from those files; without initramfs-tools, which mkosi's boot path
#            replaces (it adds dracut, which conflicts with it, and systemd-boot).
#   minimal  the role's packages alone (sessions 6-7: linux-image-amd64 systemd-sysv udev openssh-server).
PEER_SET=${BENCH_PEER_SET:-same}
role_packages() { awk '/^packages:/{on=1; next} on && /^  - /{print $2; next} on{exit}' "$SRC/bench/profiles/it.yaml"; }
base_packages() {
        echo linux-image-amd64
        awk '/^static const char \*const (common_packages|debian_libs)\[\]/{on=1}
             on { while (match($0, /"[^"]+"/)) { print substr($0, RSTART + 1, RLENGTH - 2); $0 = substr($0, RSTART + RLENGTH) } }
             on && /};/ { on = 0 }' "$SRC/builder/rootfs.c"
}
case $PEER_SET in
same) PEER_PACKAGES=$({ base_packages; role_packages; } | grep -vx initramfs-tools | sort -u | paste -sd, -) ;;
minimal) PEER_PACKAGES=$(role_packages | sort -u | paste -sd, -) ;;
*) echo "BENCH_PEER_SET=$PEER_SET: same or minimal"; exit 2 ;;
esac

MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR_SEC=$(awk '/^URIs:/{u=$2} /^Suites:.*security/{print u; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
MIRROR_SEC=${MIRROR_SEC:-${MIRROR%/debian}/debian-security}

# ---- rackstack ----------------------------------------------------------------------------------------
# A data directory of our own (RACKSTACK_DATADIR): the checkout's, with overlays/ copied so the
# overlay change never touches the source tree.
rackstack_data() {
        local d=$OUT/data f
        rm -rf "$d"; mkdir -p "$d"
        for f in "$SRC"/*; do
                case ${f##*/} in overlays|build) ;; *) ln -s "$f" "$d/${f##*/}" ;; esac
        done
        cp -a "$SRC/overlays" "$d/overlays"
        mkdir -p "$d/overlays/it/etc"
        echo "rackstack bench" >"$d/overlays/it/etc/motd"
}
rackstack_build() { # out-dir
        RACKSTACK_DATADIR=$OUT/data $NICE timeout "$TIMEOUT" "$B" build it --profiles "$SRC/bench/profiles" --base debian-12 --format raw \
                --cache "$OUT/rs-cache" --out "$1" --firstboot "$O/rackstack-firstboot" >"$1.log" 2>&1
}
rackstack_cold() {
        echo "rackstack-build: cold (empty cache $OUT/rs-cache)"
        rm -rf "$OUT/rs-cache" "$OUT/rs-cold" "$OUT/rs-warm"
        rackstack_data
        local l t0 t; l=$(load); t0=$(now)
        rackstack_build "$OUT/rs-cold" || { did_not_finish cold-build-s rackstack $? "$OUT/rs-cold.log" "$l"; return 1; }
        t=$(since "$t0"); figure cold-build-s rackstack "$t" "$l"
}
rackstack_rebuild() {
        echo "rackstack-build: rebuild after an overlay change"
        [ -d "$OUT/data" ] || rackstack_data
        rm -rf "$OUT/rs-warm"
        echo "rackstack bench $(date +%s)" >"$OUT/data/overlays/it/etc/motd"
        local l t0 t; l=$(load); t0=$(now)
        rackstack_build "$OUT/rs-warm" || { did_not_finish overlay-rebuild-s rackstack $? "$OUT/rs-warm.log" "$l"; return 1; }
        t=$(since "$t0"); figure overlay-rebuild-s rackstack "$t" "$l"
        grep -E '^\[ *[0-9.]+s\]' "$OUT/rs-warm.log" | sed 's/^/    | /'
        figure raw-allocated-MiB rackstack "$(( $(allocated "$OUT/rs-warm/bench1/bench1.raw") / 1048576 ))" "$(load)"
}

# ---- mkosi 14 -----------------------------------------------------------------------------------------
mkosi_shims() { # $OUT/mkosi/shim: mount/umount emulating vfat (the host kernel has none), nspawn
        local s=$OUT/mkosi/shim
        mkdir -p "$s"
        # mount DEV DIR of a vfat DEV: a tmpfs whose source is DEV (grub-probe and bootctl resolve
        # the ESP through mountinfo), filled from the FAT with mtools; umount writes it back.
        cat >"$s/mount" <<'SH'
#!/bin/bash
pos=(); a=("$@"); i=0
while [ $i -lt ${#a[@]} ]; do
        case ${a[$i]} in -t|-o|-O|--types|--options) i=$((i + 2)); continue ;; -*) ;; *) pos+=("${a[$i]}") ;; esac
        i=$((i + 1))
done
if [ ${#pos[@]} = 2 ] && [ -b "${pos[0]}" ] && [ "$(blkid -o value -s TYPE "${pos[0]}")" = vfat ]; then
        /usr/bin/mount -t tmpfs -o "size=$(blockdev --getsize64 "${pos[0]}"),mode=0755" "${pos[0]}" "${pos[1]}" || exit 32
        mcopy -s -p -n -i "${pos[0]}" '::*' "${pos[1]}/" 2>/dev/null
        echo "$(realpath "${pos[1]}") ${pos[0]}" >>"$ESPSHIM_STATE"
        exit 0
fi
exec /usr/bin/mount "$@"
SH
        cat >"$s/umount" <<'SH'
#!/bin/bash
rec=no; tg=()
for x in "$@"; do case $x in -R|--recursive) rec=yes ;; -*) ;; *) tg+=("$(realpath -m "$x")") ;; esac; done
writeback() { # dir dev
        local t; t=$(mktemp -d "$ESPSHIM_STATE.XXXXXX")
        cp -a "$1/." "$t/"
        /usr/bin/umount "$1" || return 1
        local label id
        label=$(blkid -o value -s LABEL "$2"); id=$(blkid -o value -s UUID "$2" | tr -d -)
        mkfs.fat -F 32 ${label:+-n "$label"} ${id:+-i "$id"} "$2" >/dev/null
        [ -z "$(ls -A "$t")" ] || mcopy -s -p -i "$2" "$t"/* ::/
        rm -rf "$t"
        grep -v "^$1 " "$ESPSHIM_STATE" >"$ESPSHIM_STATE.new"; mv "$ESPSHIM_STATE.new" "$ESPSHIM_STATE"
}
for t in "${tg[@]}"; do
        [ -s "$ESPSHIM_STATE" ] || break
        while read -r dir dev; do
                if [ "$dir" = "$t" ]; then writeback "$dir" "$dev"; exit $?
                elif [ $rec = yes ] && [[ $dir == "$t"/* ]]; then writeback "$dir" "$dev"; fi
        done < <(sort -r "$ESPSHIM_STATE")
done
exec /usr/bin/umount "$@"
SH
        # -i (incremental): mkosi copies its cached image, whose root it had mounted, and runs
        # tune2fs -U random on the copy; tune2fs 1.47 refuses a filesystem mounted after its last
        # check ("requires a freshly checked filesystem") whenever the mount came a second or more
        # after mkfs, as it does on a loaded machine. The check it asks for, first:
        cat >"$s/tune2fs" <<'SH'
#!/bin/bash
[ "${1:-}" = -U ] && [ -b "${3:-}" ] && /usr/sbin/e2fsck -f -p "$3" >/dev/null 2>&1
exec /usr/sbin/tune2fs "$@"
SH
        # bootctl (in nspawn and in systemd-boot's postinst) refuses an ESP that is not vfat.
        cat >"$s/systemd-nspawn" <<'SH'
#!/bin/bash
exec /usr/bin/systemd-nspawn --setenv=SYSTEMD_RELAX_ESP_CHECKS=1 "$@"
SH
        chmod +x "$s"/*
}
mkosi_project() {
        local d=$OUT/mkosi
        mkdir -p "$d/proj/mkosi.extra/etc" "$d/skel/etc/apt/sources.list.d" "$d/out" "$d/tmp" "$d/cache"
        # mkosi 14 writes the upstream security host; the skeleton (copied before apt-get update)
        # points it at the configured mirror, as every other source.
        echo "deb $MIRROR_SEC bookworm-security main" >"$d/skel/etc/apt/sources.list.d/bookworm-security.list"
        echo "mkosi bench" >"$d/proj/mkosi.extra/etc/motd"
        cat >"$d/proj/mkosi.conf" <<M
[Distribution]
Distribution=debian
Release=bookworm
[Output]
Format=gpt_ext4
Bootable=yes
Output=$d/out/image.raw
WorkspaceDirectory=$d/tmp
[Content]
Packages=$PEER_PACKAGES
Cache=$d/cache
SkeletonTree=$d/skel
[Host]
QemuHeadless=yes
ExtraSearchPaths=$d/shim
NspawnKeepUnit=yes
M
}
mkosi_build() { # log, mkosi options...
        local log=$1; shift
        (cd "$OUT/mkosi/proj" && env -u TMPDIR ESPSHIM_STATE="$OUT/mkosi/espshim" SYSTEMD_RELAX_ESP_CHECKS=1 \
                PATH="$OUT/mkosi/shim:$PATH" $NICE timeout "$TIMEOUT" mkosi --mirror="$MIRROR" "$@" build) >"$log" 2>&1
        local rc=$?
        # nspawn leaves its lock directories on a host whose /run is not its own.
        rm -rf /run/systemd/nspawn/locks /run/systemd/nspawn/propagate 2>/dev/null
        # A mkosi stopped by the timeout leaves its loop device attached.
        losetup -nO NAME,BACK-FILE | awk -v d="$OUT/mkosi/" 'index($2, d) == 1 { print $1 }' | xargs -r -n1 losetup -d
        return $rc
}
mkosi_install() { # before any clock starts
        if ! command -v mkosi >/dev/null || ! command -v mcopy >/dev/null || ! command -v mkfs.fat >/dev/null; then
                echo "installing mkosi, mtools, dosfstools from the Debian archive"
                apt-get install -y -q --no-install-recommends mkosi mtools dosfstools >"$OUT/apt.log" 2>&1 ||
                        { echo "mkosi: not installed (apt-get install failed: $OUT/apt.log)" | tee -a "$NOTES"; return 1; }
        fi
}
mkosi_cold() {
        mkosi_install || return 1
        echo "mkosi $(mkosi --version | awk '{print $2}'): cold (empty cache)"
        rm -rf "$OUT/mkosi"; mkdir -p "$OUT/mkosi"; : >"$OUT/mkosi/espshim"
        mkosi_shims; mkosi_project
        local l t0 t; l=$(load); t0=$(now)
        mkosi_build "$OUT/mkosi/cold.log" -ff -i --cache-initrd ||
                { did_not_finish cold-build-s mkosi $? "$OUT/mkosi/cold.log" "$l"; return 1; }
        t=$(since "$t0"); figure cold-build-s mkosi "$t" "$l"
}
mkosi_rebuild() {
        echo "mkosi: rebuild after an mkosi.extra change (-f -i --cache-initrd)"
        echo "mkosi bench $(date +%s)" >"$OUT/mkosi/proj/mkosi.extra/etc/motd"
        local l t0 t; l=$(load); t0=$(now)
        mkosi_build "$OUT/mkosi/warm.log" -f -i --cache-initrd ||
                { did_not_finish overlay-rebuild-s mkosi $? "$OUT/mkosi/warm.log" "$l"; return 1; }
        t=$(since "$t0"); figure overlay-rebuild-s mkosi "$t" "$l"
        figure raw-allocated-MiB mkosi "$(( $(allocated "$OUT/mkosi/out/image.raw") / 1048576 ))" "$(load)"
}

# ---- what each side built: the installed packages of each image's root (dpkg status) -------------------
image_packages() { # raw-image: "name" lines of the packages installed in its root file system
        local start
        # The root is the largest partition (ESP and BIOS boot are small, on both).
        start=$(sfdisk -J "$1" 2>/dev/null | python3 -c 'import json,sys; t=json.load(sys.stdin)["partitiontable"]
p=max(t["partitions"], key=lambda p: p["size"]); print(p["start"] * t.get("sectorsize", 512))') || return 1
        debugfs -R 'cat /var/lib/dpkg/status' "$1?offset=$start" 2>/dev/null |
                awk '/^Package:/{p=$2} /^Status: install ok installed/{print p}' | sort -u
}
packages_note() {
        local rs=$OUT/rs-warm/bench1/bench1.raw mk=$OUT/mkosi/out/image.raw
        [ -s "$rs" ] && [ -s "$mk" ] || return 0
        image_packages "$rs" >"$OUT/packages-rackstack.txt"; image_packages "$mk" >"$OUT/packages-mkosi.txt"
        {
                echo "peer package set ($PEER_SET): $(echo "$PEER_PACKAGES" | tr , ' ')"
                echo "installed packages (dpkg status of each image): rackstack $(wc -l <"$OUT/packages-rackstack.txt")," \
                        "mkosi $(wc -l <"$OUT/packages-mkosi.txt")"
                echo "  only rackstack: $(comm -23 "$OUT/packages-rackstack.txt" "$OUT/packages-mkosi.txt" | paste -sd' ')"
                echo "  only mkosi: $(comm -13 "$OUT/packages-rackstack.txt" "$OUT/packages-mkosi.txt" | paste -sd' ')"
        } | tee -a "$NOTES"
}

# ---- boot to login: -------------------------------------------------------------------------------------
boot_login() { # tool image
        local log=$OUT/boot-$1.serial vars=$OUT/boot-$1.vars t0 l pid
        cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"; : >"$log"
        l=$(load); t0=$(now)
        $NICE qemu-system-x86_64 -machine q35 -accel tcg -smp 2 -m 2048 -display none -monitor none -nic none \
                -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
                -drive if=pflash,format=raw,file="$vars" \
                -drive file="$2",format=raw,if=virtio,snapshot=on -serial file:"$log" &
        pid=$!
        local end=$(($(date +%s) + 900)) why="no login: within 900 s"
        while :; do
                grep -aq 'login:' "$log" && break
                # systemd gave up (on a loaded host: a device job timing out before udev saw the disk)
                if grep -aq 'Entering emergency mode' "$log"; then why="emergency mode: $(grep -a -m1 -e 'Timed out' \
                        -e 'Dependency failed' "$log" | sed 's/\x1b\[[0-9;]*m//g' | tr -d '\r' | cut -c1-100)"; break; fi
                kill -0 $pid 2>/dev/null || { why="qemu exited"; break; }
                [ "$(date +%s)" -lt $end ] || break
                sleep 0.2
        done
        local t; t=$(since "$t0")
        kill $pid 2>/dev/null; wait $pid 2>/dev/null
        if grep -aq 'login:' "$log"; then figure boot-to-login-s "$1" "$t" "$l"
        else
                figure boot-to-login-s "$1" failed "$l"
                echo "$1 boot-to-login-s: $why after $t s (console: $log)" | tee -a "$NOTES"
        fi
}

# ---- the table --------------------------------------------------------------------------------------------
table() {
        awk -F'\t' 'BEGIN { OFS = "\t"; print "figure", "rackstack", "mkosi-14", "ratio", "load(rackstack/mkosi)" }
                { v[$1, $2] = $3; ld[$1, $2] = $4; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
                END { for (i = 0; i < n; i++) { f = order[i]; a = v[f, "rackstack"]; b = v[f, "mkosi"]
                        r = (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "-"
                        print f, a, b, r, ld[f, "rackstack"] "/" ld[f, "mkosi"] } }' "$FIG" >"$RES"
        echo; column -t -s $'\t' "$RES"
        [ -s "$NOTES" ] && sed 's/^/  /' "$NOTES"
        echo "(written to $RES and $NOTES; peer logs in $OUT/mkosi/, rackstack's in $OUT/rs-*.log)"
}

# Both sides at once; a side whose cold build did not finish has no rebuild (nor boot).
both() { # rackstack-part mkosi-part (either may be "-")
        local a=0 b=0 pa pb
        [ "$1" = - ] || { $1 & pa=$!; }
        [ "$2" = - ] || { $2 & pb=$!; }
        [ "$1" = - ] || wait "$pa" || a=1
        [ "$2" = - ] || wait "$pb" || b=1
        rs_ok=$((rs_ok && !a)); mk_ok=$((mk_ok && !b))
        return $((a || b))
}
rc=0 rs_ok=1 mk_ok=1
[ "$what" = "${what#build}" ] || : >"$NOTES"
[ "$what" = table ] || echo "start: $(uptime)" | tee -a "$NOTES"
for w in $what; do
        case $w in
        build)
                : >"$FIG"
                mkosi_install || mk_ok=0
                both rackstack_cold "$( ((mk_ok)) && echo mkosi_cold || echo -)" || rc=1
                both "$( ((rs_ok)) && echo rackstack_rebuild || echo -)" "$( ((mk_ok)) && echo mkosi_rebuild || echo -)" || rc=1
                ((rs_ok && mk_ok)) || rc=1
                packages_note ;;
        rebuild) both rackstack_rebuild mkosi_rebuild || rc=1 ;;
        rackstack-cold) rackstack_cold || rc=1 ;;
        rackstack-rebuild) rackstack_rebuild || rc=1 ;;
        mkosi-cold) mkosi_cold || rc=1 ;;
        mkosi-rebuild) mkosi_rebuild || rc=1 ;;
        boot)
                for t in rackstack:"$OUT/rs-warm/bench1/bench1.raw" mkosi:"$OUT/mkosi/out/image.raw"; do
                        if [ -s "${t#*:}" ]; then boot_login "${t%%:*}" "${t#*:}" &
                        else echo "${t%%:*} boot-to-login-s: not run: no image ${t#*:}" | tee -a "$NOTES"; fi
                done
                wait ;;
        table) ;; # the table of the figures so far, below
        *) echo "unknown part $w (build, rebuild, boot, table, rackstack-cold, rackstack-rebuild, mkosi-cold, mkosi-rebuild)"; exit 2 ;;
        esac
done
[ "$what" = table ] || echo "end: $(uptime)" | tee -a "$NOTES"
table
exit $rc

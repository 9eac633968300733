#!/bin/bash
# Real stand-ins for the vendors' registries and apt repositories, on loopback, for the tests (no
# vendor is reachable here). Not mocks: Debian's docker-registry (the CNCF distribution registry),
# an apt repository made with apt-ftparchive and signed with a gpg key made here, served over HTTP.
#
#   vendor-standins.sh start DIR [PROFILES]   build and serve everything under DIR (PROFILES: default
#                                             profiles/); prints nothing but progress; writes DIR/env
#   vendor-standins.sh stop DIR               stop the servers started by start
#
# For every vendor service of PROFILES (source apt or oci, in every role):
#   oci: a tiny image (busybox-static httpd answering on the service's first port, "/" says its name)
#        pushed to the registry as REGISTRY/<vendor host>/<path>:<tag>, e.g. docker.io/library/nextcloud:28-fpm
#        becomes 127.0.0.1:PORT/docker.io/library/nextcloud:28-fpm
#   apt: for each package a .deb (version 99:0-standin) holding the service's systemd unit, which runs
#        busybox httpd on the service's first port and at each start appends a line to
#        $RACKSTACK_DATA_DIR/standin-PKG.log (the data directory firstboot gives it); the repository laid out like the vendor's (flat
#        "stable/" or dists/SUITE/COMPONENT), InRelease signed with the stand-in vendor key, and the key
#        at the path of the profile's key-url.
# DIR/env (sourceable) then has:
#   STANDIN_REGISTRY=127.0.0.1:P   STANDIN_APT=http://127.0.0.1:Q   STANDIN_KEY_FPR / STANDIN_OTHER_FPR
#   STANDIN_GNUPG (the homedir with both secret keys: "other" signs the bad-repository case)
#   RACKSTACK_VENDOR_MIRRORS="FROM=TO ..."  one per vendor host (docker.io=http://127.0.0.1:P/docker.io,
#                                           https://download.jitsi.org=http://127.0.0.1:Q/download.jitsi.org)
#   RACKSTACK_VENDOR_PROFILES=DIR/profiles  PROFILES with every apt key-fingerprint replaced by the
#                                           stand-in key's (the real vendors' keys sign nothing here)
# tests/vm/lib.sh's ensure_image passes these to the build when they are set.
#
# The content is kept between runs in $RACKSTACK_STANDIN_CACHE (default
# /var/cache/rackstack-test/vendor-standins): the stand-in key (made once, never re-made) and, per
# content stamp (the services asked for, this script, busybox), the signed apt repository and the
# registry's storage. A second run copies them and only starts the servers, so its InRelease is
# byte-identical and the builder's role layer (keyed on the InRelease sha256) is reused.
# RACKSTACK_STANDIN_CACHE=none builds everything in DIR, as a first run would.
set -euo pipefail

cmd=${1:?usage: vendor-standins.sh start|stop DIR [PROFILES]}
D=${2:?usage: vendor-standins.sh start|stop DIR [PROFILES]}
TOP=$(cd "$(dirname "$0")/../.." && pwd)

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # URL: up to 20 s
        for _ in $(seq 1 100); do
                python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null && return 0
                sleep 0.2
        done
        echo "vendor-standins: $1 did not come up" >&2
        return 1
}

if [ "$cmd" = stop ]; then
        for f in "$D"/*.pid; do
                [ -e "$f" ] || continue
                kill "$(cat "$f")" 2>/dev/null || true
                rm -f "$f"
        done
        # gpg started an agent for the keys it made
        [ -d "$D/gnupg" ] && gpgconf --homedir "$D/gnupg" --kill all 2>/dev/null
        exit 0
fi
[ "$cmd" = start ] || { echo "usage: vendor-standins.sh start|stop DIR [PROFILES]" >&2; exit 2; }
PROFILES=$(realpath "${3:-$TOP/profiles}")
for t in docker-registry skopeo gpg apt-ftparchive dpkg-deb; do
        command -v "$t" >/dev/null || { echo "vendor-standins: $t is missing (tests/tools/deps.sh)" >&2; exit 77; }
done
BUSYBOX=$(command -v busybox)
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || BUSYBOX=/bin/busybox
mkdir -p "$D"
D=$(realpath "$D")
rm -rf "$D/www" "$D/registry" "$D/build" "$D/profiles" "$D/gnupg"
mkdir -p "$D/www" "$D/registry" "$D/build" "$D/gnupg"
chmod 700 "$D/gnupg"
export GNUPGHOME=$D/gnupg
CACHE=${RACKSTACK_STANDIN_CACHE:-/var/cache/rackstack-test/vendor-standins}
[ "$CACHE" = none ] && CACHE=
# Fixed times in the debs (dpkg-deb); the signed Release is made once per stamp and kept (below).
export SOURCE_DATE_EPOCH=1700000000

# --- keys: the stand-in vendor key, and another one (a repository signed by it must be refused) ----
# Made once into the cache and copied from there (DIR gets its own agent; stop kills it).
make_keys() { # GNUPGHOME
        GNUPGHOME=$1 gpg --batch --quiet --passphrase '' --quick-gen-key 'Stand-in vendor <standin-vendor@rackstack.test>' ed25519 sign never
        GNUPGHOME=$1 gpg --batch --quiet --passphrase '' --quick-gen-key 'Another key <other@rackstack.test>' ed25519 sign never
        gpgconf --homedir "$1" --kill all 2>/dev/null || true
}
if [ -n "$CACHE" ]; then
        mkdir -p "$CACHE"
        exec 9>"$CACHE/lock"
        flock 9 # held until this script exits: one run builds a stamp, the others wait and reuse it
        if [ ! -s "$CACHE/gnupg/pubring.kbx" ]; then
                rm -rf "$CACHE/gnupg.new" && mkdir -m 700 "$CACHE/gnupg.new"
                make_keys "$CACHE/gnupg.new"
                mv "$CACHE/gnupg.new" "$CACHE/gnupg"
        fi
        (cd "$CACHE/gnupg" && find . -maxdepth 2 ! -name 'S.*' ! -name '*.lock' ! -name '.#*' -print0 |
                cpio --quiet -0 -pdm "$D/gnupg")
        chmod 700 "$D/gnupg"
else
        make_keys "$D/gnupg"
fi
fpr_of() { gpg --batch --with-colons --list-keys "$1" | awk -F: '/^fpr:/ { print $10; exit }'; }
KEY_FPR=$(fpr_of standin-vendor@rackstack.test)
OTHER_FPR=$(fpr_of other@rackstack.test)

# --- what the profiles ask for, one line per vendor service ----------------------------------------
# oci|NAME|IMAGE|PORT          apt|NAME|REPO-LINE|KEY-URL|PORT|UNIT|PKG...
python3 - "$PROFILES" >"$D/services.txt" <<'EOF'
import glob, sys, yaml
seen = set()
for f in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    d = yaml.safe_load(open(f)) or {}
    for s in d.get("services") or []:
        src = s.get("source")
        if src not in ("apt", "oci") or s["name"] in seen:
            continue
        seen.add(s["name"])
        port = str((s.get("ports") or [8080])[0])
        if src == "oci":
            print("|".join(["oci", s["name"], s["image"], port]))
        else:
            print("|".join(["apt", s["name"], s["repo"], s["key-url"], port, s.get("unit") or s["name"] + ".service"]
                           + s["packages"]))
EOF

# The content's stamp: what is asked for, how it is made, the key and busybox. The cache holds the
# apt repository and the registry's storage of a stamp; a hit is copied, a miss is built and stored.
STAMP=$( { cat "$D/services.txt" "$0"; gpg --batch --with-colons --list-keys | grep '^fpr:'; sha256sum <"$BUSYBOX"; } |
        sha256sum | cut -c1-16)
HIT=
if [ -n "$CACHE" ] && [ -e "$CACHE/$STAMP/done" ]; then
        HIT=1
        cp -a "$CACHE/$STAMP/www/." "$D/www/"
        cp -a "$CACHE/$STAMP/registry/." "$D/registry/"
fi

# --- the registry ------------------------------------------------------------------------------------
RPORT=$(free_port)
cat >"$D/registry.yml" <<EOF
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $D/registry }
http:
  addr: 127.0.0.1:$RPORT
EOF
docker-registry serve "$D/registry.yml" >"$D/registry.log" 2>&1 9>&- &
echo $! >"$D/registry.pid"

# --- the apt repositories' web server -------------------------------------------------------------
APORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$D/www" "$APORT" >"$D/http.log" 2>&1 9>&- &
echo $! >"$D/http.pid"

# The health endpoints rackstack-firstboot's services step asks for (firstboot/render-apps.c): a
# stand-in answers them as the application would, with 200.
health_files() { # WWW-DIR
        local h
        for h in status.php api/v4/system/ping health/ready ping api/system/lbstatus api/health web/health; do
                mkdir -p "$1/$(dirname "$h")"
                echo '{"status":"OK"}' >"$1/$h"
        done
}

# --- the OCI stand-in: busybox httpd, one layer, an OCI layout made with tar, sha256sum and JSON ----
oci_layout() { # NAME PORT DIR
        local name=$1 port=$2 out=$3 root=$D/build/oci-root-$1
        rm -rf "$root" "$out"
        mkdir -p "$root/bin" "$root/www" "$out/blobs/sha256"
        cp "$BUSYBOX" "$root/bin/busybox"
        echo "stand-in $name" >"$root/www/index.html"
        health_files "$root/www"
        tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$D/build/$name.tar" .
        local l c m
        l=$(sha256sum "$D/build/$name.tar" | cut -d' ' -f1)
        mv "$D/build/$name.tar" "$out/blobs/sha256/$l"
        printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/busybox","httpd","-f","-p","%s","-h","/www"],"ExposedPorts":{"%s/tcp":{}},"Labels":{"org.rackstack.standin":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
                "$port" "$port" "$name" "$l" >"$D/build/config.json"
        c=$(sha256sum "$D/build/config.json" | cut -d' ' -f1)
        mv "$D/build/config.json" "$out/blobs/sha256/$c"
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
                "$c" "$(stat -c %s "$out/blobs/sha256/$c")" "$l" "$(stat -c %s "$out/blobs/sha256/$l")" >"$D/build/manifest.json"
        m=$(sha256sum "$D/build/manifest.json" | cut -d' ' -f1)
        printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"standin"}}]}' \
                "$m" "$(stat -c %s "$D/build/manifest.json")" >"$out/index.json"
        mv "$D/build/manifest.json" "$out/blobs/sha256/$m"
        echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
}

# --- an apt package: the service's unit running busybox httpd on its port ---------------------------
make_deb() { # PKG UNIT PORT NAME OUTDIR
        local pkg=$1 unit=$2 port=$3 name=$4 root=$D/build/deb-$1
        rm -rf "$root"
        mkdir -p "$root/DEBIAN" "$root/usr/lib/rackstack-standin/$pkg/www" "$root/usr/lib/systemd/system"
        cp "$BUSYBOX" "$root/usr/lib/rackstack-standin/$pkg/busybox"
        echo "stand-in $name ($pkg)" >"$root/usr/lib/rackstack-standin/$pkg/www/index.html"
        health_files "$root/usr/lib/rackstack-standin/$pkg/www"
        cat >"$root/usr/lib/systemd/system/$unit" <<EOF
[Unit]
Description=Stand-in for $name ($pkg), rackstack tests
[Service]
# As the application keeps its data where firstboot says (RACKSTACK_DATA_DIR, from the environment
# file firstboot's drop-in names): one line per start, so a test can see the data on the data disk.
ExecStartPre=/usr/lib/rackstack-standin/$pkg/busybox sh -c 'test -z "\$\$RACKSTACK_DATA_DIR" || echo "stand-in $name ($pkg) started" >>"\$\$RACKSTACK_DATA_DIR/standin-$pkg.log"'
ExecStart=/usr/lib/rackstack-standin/$pkg/busybox httpd -f -p $port -h /usr/lib/rackstack-standin/$pkg/www
Restart=on-failure
[Install]
WantedBy=multi-user.target
EOF
        cat >"$root/DEBIAN/control" <<EOF
Package: $pkg
Version: 99:0-standin
Architecture: amd64
Maintainer: rackstack tests <tests@rackstack.test>
Description: stand-in for $name's $pkg (rackstack tests)
EOF
        dpkg-deb --root-owner-group -Zgzip -b "$root" "$5/${pkg}_0-standin_amd64.deb" >/dev/null
}

sign_release() { # DIR-with-Release KEY
        gpg --batch --yes --quiet --local-user "$2" --clearsign -o "$1/InRelease" "$1/Release"
}

MIRRORS=""
add_mirror() { # FROM TO, once per FROM
        case " $MIRRORS " in *" $1="*) return 0 ;; esac
        MIRRORS="$MIRRORS $1=$2"
}
host_of() { python3 -c 'import sys,urllib.parse as u; x=u.urlsplit(sys.argv[1]); print(x.scheme+"://"+x.netloc, x.netloc+x.path)' "$1"; }

wait_http "http://127.0.0.1:$RPORT/v2/"
wait_http "http://127.0.0.1:$APORT/"

build_content() {
while IFS='|' read -r kind name a b c unit pkgs_rest; do
        if [ "$kind" = oci ]; then
                image=$a port=$b
                reg=${image%%/*}
                oci_layout "$name" "$port" "$D/build/oci-$name"
                skopeo copy --quiet --dest-tls-verify=false "oci:$D/build/oci-$name:standin" \
                        "docker://127.0.0.1:$RPORT/$image" >/dev/null
                add_mirror "$reg" "http://127.0.0.1:$RPORT/$reg"
                continue
        fi
        repo=$a keyurl=$b port=$c
        # deb [signed-by=…] URL SUITE [COMPONENT…]
        read -r _ _ url suite comps <<<"$repo"
        read -r origin path <<<"$(host_of "$url")"
        read -r korigin kpath <<<"$(host_of "$keyurl")"
        add_mirror "$origin" "http://127.0.0.1:$APORT/${origin#*://}"
        add_mirror "$korigin" "http://127.0.0.1:$APORT/${korigin#*://}"
        mkdir -p "$(dirname "$D/www/$kpath")"
        gpg --batch --armor --export "$KEY_FPR" >"$D/www/$kpath"
        base=$D/www/${path%/}
        if [ "${suite%/}" != "$suite" ]; then
                # flat: URL/SUITE/ holds Packages, Release, InRelease and the debs
                dir=$base/${suite%/}
                [ "$suite" = ./ ] && dir=$base
                mkdir -p "$dir"
                for p in $pkgs_rest; do make_deb "$p" "$unit" "$port" "$name" "$dir"; done
                # Filename: is relative to the repository's URL, not to the suite's directory.
                (cd "$base" && apt-ftparchive packages "${suite%/}" >"$dir/Packages" && gzip -kf "$dir/Packages" &&
                        cd "$dir" && apt-ftparchive release . >"$D/build/Release" && mv "$D/build/Release" Release)
                sign_release "$dir" "$KEY_FPR"
        else
                comp=${comps%% *}
                mkdir -p "$base/pool/$comp" "$base/dists/$suite/$comp/binary-amd64"
                for p in $pkgs_rest; do make_deb "$p" "$unit" "$port" "$name" "$base/pool/$comp"; done
                (cd "$base" && apt-ftparchive packages "pool/$comp" >"dists/$suite/$comp/binary-amd64/Packages" &&
                        gzip -kf "dists/$suite/$comp/binary-amd64/Packages" &&
                        apt-ftparchive -o "APT::FTPArchive::Release::Suite=$suite" \
                                -o "APT::FTPArchive::Release::Codename=$suite" \
                                -o "APT::FTPArchive::Release::Components=$comp" \
                                -o "APT::FTPArchive::Release::Architectures=amd64" \
                                release "dists/$suite" >"$D/build/Release" && mv "$D/build/Release" "dists/$suite/Release")
                sign_release "$base/dists/$suite" "$KEY_FPR"
        fi
done <"$D/services.txt"
}
if [ -n "$HIT" ]; then
        # stored with the ports of no run: this run's go in
        MIRRORS=$(sed "s/127.0.0.1:@R@/127.0.0.1:$RPORT/g; s/127.0.0.1:@A@/127.0.0.1:$APORT/g" "$CACHE/$STAMP/mirrors")
else
        build_content
        if [ -n "$CACHE" ]; then
                rm -rf "${CACHE:?}/$STAMP"
                mkdir -p "$CACHE/$STAMP.new"
                cp -a "$D/www" "$D/registry" "$CACHE/$STAMP.new/"
                sed "s/127.0.0.1:$RPORT/127.0.0.1:@R@/g; s/127.0.0.1:$APORT/127.0.0.1:@A@/g" <<<"$MIRRORS" \
                        >"$CACHE/$STAMP.new/mirrors"
                touch "$CACHE/$STAMP.new/done"
                mv "$CACHE/$STAMP.new" "$CACHE/$STAMP"
        fi
fi
# Unlocked here, not at exit: gpg's agent inherited the descriptor and outlives this script.
[ -n "$CACHE" ] && flock -u 9

# --- the profiles, trusting the stand-in key -------------------------------------------------------
cp -r "$PROFILES" "$D/profiles"
sed -i -E "s/^( +key-fingerprint: ).*/\1\"$KEY_FPR\"/" "$D/profiles"/*.yaml

cat >"$D/env" <<EOF
STANDIN_REGISTRY=127.0.0.1:$RPORT
STANDIN_APT=http://127.0.0.1:$APORT
STANDIN_KEY_FPR=$KEY_FPR
STANDIN_OTHER_FPR=$OTHER_FPR
STANDIN_GNUPG=$D/gnupg
STANDIN_WWW=$D/www
RACKSTACK_VENDOR_MIRRORS="${MIRRORS# }"
RACKSTACK_VENDOR_PROFILES=$D/profiles
EOF
echo "vendor-standins: ${HIT:+(cached $STAMP) }registry 127.0.0.1:$RPORT, apt http://127.0.0.1:$APORT, $(wc -l <"$D/services.txt") services, key $KEY_FPR"

#!/bin/bash
# Every role's vendor services, built into the image through the stand-ins (check-full).
# tests/tools/vendor-standins.sh generates a stand-in for every vendor service of every profile (an
# OCI image in a real registry for each `source: oci`, a .deb in a real signed apt repository for
# each package of each `source: apt`) and the mirror mapping to them. For each role (default all
# nine, RACKSTACK_VENDOR_ROLES="id it ..." for a subset), on Ubuntu 24.04 (RACKSTACK_VM_BASE), raw only:
#   build   rackstack-build build ROLE --mirror ... (nice 10), timed;
#   plan    every vendor service the shipped profile declares (rackstack-build show --json, so a
#           service added to a profile without a stand-in fails here) is in manifest.json, state
#           in-image (not-for-base only where the profile's bases: says so);
#   oci     digest = the digest the stand-in registry serves for the tag (skopeo, through the
#           mirror), size > 0, recorded "pinned": false (no digest in the profile), and in the
#           image: its store /usr/lib/containers/storage holds it by name and that digest;
#   apt     key_fingerprint = the stand-in key, release_sha256 = sha256 of the InRelease served,
#           each package at the stand-in's version 99:0-standin in manifest.json and in the image's
#           dpkg status, the keyring and the signed-by source (upstream URL, not the mirror);
#   pin     (roles with OCI images) a second build with --pin-from the first manifest records each
#           image "pinned": true with the same digest; a --pin-from whose digest the registry does
#           not have fails with exit 1, naming the service, and publishes nothing.
#   cost    (RACKSTACK_VENDOR_COMPARE=1, the default) a --defer-vendor build of the same role: the
#           RESULT line gives the image's allocated size with and without its vendor content and
#           both build times.
# Prints one "RESULT role=... " line per role. Cold role layers take 2-10 min each on 2 cores.
. "$(dirname "$0")/lib.sh"
vm_requirements
for t in docker-registry skopeo gpg apt-ftparchive dpkg-deb; do
        command -v "$t" >/dev/null || skip "$t missing (tests/tools/deps.sh)"
done
ROLES=${RACKSTACK_VENDOR_ROLES:-id db app comm voip biz erp it infra}
BASE=$(host_base)
COMPARE=${RACKSTACK_VENDOR_COMPARE:-1}
B=$O/rackstack-build
tmp=$(mktemp -d /var/tmp/rackstack-vroles.XXXXXX)
ST=$tmp/s
OUTROOT=${RACKSTACK_VENDOR_ROLES_OUT:-$TOP/build/vm-images/vendor-roles-$BASE}
cleanup() {
        bash "$TOP/tests/tools/vendor-standins.sh" stop "$ST" >/dev/null 2>&1
        for m in "$tmp"/mnt-*; do [ -d "$m" ] && mountpoint -q "$m" && umount "$m"; done
        for f in "$tmp"/dev-*; do [ -e "$f" ] && losetup -d "$(cat "$f")" 2>/dev/null; done
        rm -rf "$tmp"
}
trap cleanup EXIT
fail=0 checks=0
check() { # DESC CMD...  (its status: a caller may stop on a failure)
        checks=$((checks + 1))
        if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; return 1; fi
}

t0=$(date +%s)
nice -n 10 bash "$TOP/tests/tools/vendor-standins.sh" start "$ST" ||
        { rc=$?; [ $rc = 77 ] && skip "stand-ins cannot run here"; echo "stand-ins failed"; exit 1; }
# shellcheck disable=SC1091
. "$ST/env"
MAPS=()
for m in $RACKSTACK_VENDOR_MIRRORS; do MAPS+=(--mirror "$m"); done
echo "stand-ins ready in $(( $(date +%s) - t0 )) s"

build() { # ROLE OUT [OPTIONS...]  -> exit status; log in $tmp/ROLE.log
        local role=$1 out=$2
        shift 2
        nice -n 10 "$B" build "$role" --base "$BASE" --format raw --out "$out" --firstboot "$O/rackstack-firstboot" \
                --json "$@" >"$tmp/$role.json" 2>"$tmp/$role.log"
}

# The image's root partition, mounted read-only at $tmp/mnt-ROLE.
mount_root() { # RAW ROLE
        local raw=$1 m=$tmp/mnt-$2 start size dev
        read -r start size < <(sfdisk --json "$raw" | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p.get("name") == "root"][0]
print(p["start"] * 512, p["size"] * 512)')
        dev=$(losetup -f --show -r -o "$start" --sizelimit "$size" "$raw") || return 1
        mkdir -p "$m"
        mount -o ro "$dev" "$m" || { losetup -d "$dev"; return 1; }
        echo "$dev" >"$tmp/dev-$2"
}
umount_root() { # ROLE
        umount "$tmp/mnt-$1"
        losetup -d "$(cat "$tmp/dev-$1")"
}

# Per role: the checks on manifest.json and the image, in Python (one line per check).
verify() { # ROLE MANIFEST ROOT
        python3 - "$@" "$B" "$BASE" "$STANDIN_KEY_FPR" "$STANDIN_WWW" "$STANDIN_REGISTRY" "$TOP/profiles" <<'PY'
import hashlib, json, os, subprocess, sys, urllib.parse
role, manifest, root, B, base, fpr, www, registry, shipped = sys.argv[1:10]
m = json.load(open(manifest))
bad = []
def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + role + ": " + what + ("" if ok else "  " + str(detail)[:600]), flush=True)
    if not ok:
        bad.append(what)
# What the shipped profile declares (not the stand-ins' copy): a vendor service without a stand-in
# would be missing from the manifest or fail the build.
prof = json.loads(subprocess.run([B, "show", role, "--json", "--profiles", shipped], capture_output=True, text=True,
                                 check=True).stdout)
def plain(v):
    if isinstance(v, dict) and set(v) == {"value", "from"}:
        return v["value"]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
declared = [s for s in plain(prof["profile"]["services"]) if s.get("source") in ("apt", "oci")]
got = {s["name"]: s for s in m["services"] if s.get("source") in ("apt", "oci")}
check("manifest lists the %d vendor services the profile declares" % len(declared),
      sorted(got) == sorted(s["name"] for s in declared), (sorted(got), [s["name"] for s in declared]))
status = open(os.path.join(root, "var/lib/dpkg/status")).read().split("\n\n")
def dpkg_version(pkg):
    for st in status:
        f = dict(l.split(": ", 1) for l in st.splitlines() if ": " in l and not l.startswith(" "))
        if f.get("Package") == pkg and f.get("Status", "").endswith(" installed"):
            return f.get("Version")
# The image's read-only store, read as files (podman needs a writable store for its locks).
store = os.path.join(root, "usr/lib/containers/storage/overlay-images/images.json")
images = json.load(open(store)) if os.path.exists(store) else []
vj = json.load(open(os.path.join(root, "usr/share/rackstack/vendor.json")))
vjn = {s["name"]: s for s in vj["services"]}
for s in declared:
    n = s["name"]
    e = got.get(n, {})
    if s.get("bases") and base not in s["bases"]:
        check(n + ": not-for-base on " + base, e.get("state") == "not-for-base", e)
        continue
    check(n + ": in-image", e.get("state") == "in-image", e)
    check(n + ": in vendor.json as in-image", vjn.get(n, {}).get("state") == "in-image", vjn.get(n))
    if s["source"] == "oci":
        img = s["image"]
        reg, path = img.split("/", 1)
        want = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                               "docker://%s/%s/%s" % (registry, reg, path)], capture_output=True, text=True).stdout.strip()
        check(n + ": digest is the registry's for " + img, bool(want) and e.get("digest") == want, (e.get("digest"), want))
        check(n + ": size recorded", (e.get("size") or 0) > 0, e.get("size"))
        check(n + ": recorded not pinned (no digest in the profile)", e.get("pinned") is False, e.get("pinned"))
        check(n + ": through the mirror", (e.get("mirror") or "").startswith("http://" + registry + "/"), e.get("mirror"))
        check(n + ": in the image's store (usr/lib/containers/storage) by name and that digest",
              any(want and want in [i.get("digest")] + (i.get("digests") or []) and img in (i.get("names") or [])
                  for i in images), [(i.get("names"), i.get("digest")) for i in images])
    else:
        check(n + ": key fingerprint is the stand-in key's", e.get("key_fingerprint") == fpr, e.get("key_fingerprint"))
        repo = s["repo"].split()
        url, suite = [w for w in repo if "://" in w][0], repo[repo.index([w for w in repo if "://" in w][0]) + 1]
        u = urllib.parse.urlsplit(url)
        rel = os.path.join(www, u.netloc + u.path.rstrip("/"),
                           suite.rstrip("/") if suite.endswith("/") else "dists/" + suite, "InRelease")
        rel = os.path.normpath(rel)
        sha = hashlib.sha256(open(rel, "rb").read()).hexdigest() if os.path.exists(rel) else None
        check(n + ": release_sha256 is the served InRelease's", sha and e.get("release_sha256") == sha,
              (e.get("release_sha256"), sha, rel))
        for p in s["packages"]:
            check(n + ": %s 99:0-standin in the manifest" % p, (e.get("packages") or {}).get(p) == "99:0-standin",
                  e.get("packages"))
            check(n + ": %s 99:0-standin installed in the image" % p, dpkg_version(p) == "99:0-standin", dpkg_version(p))
        sb = [w for w in repo if w.startswith("[signed-by=")][0][len("[signed-by="):].rstrip("]")
        check(n + ": keyring " + sb + " in the image", os.path.getsize(os.path.join(root, sb.lstrip("/"))) > 0)
        srcs = "".join(open(os.path.join(root, "etc/apt/sources.list.d", f)).read()
                       for f in os.listdir(os.path.join(root, "etc/apt/sources.list.d")))
        check(n + ": its source names the upstream URL with signed-by=", url.rstrip("/") in srcs and "signed-by=" + sb in srcs
              and "127.0.0.1" not in srcs, srcs)
print("verified %d vendor services of %s" % (len(declared), role))
sys.exit(1 if bad else 0)
PY
}

alloc_mib() { du -B1M "$1" | cut -f1; }
for role in $ROLES; do
        echo "== $role"
        out=$OUTROOT/vendor
        host=$("$B" show "$role" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["name"])')
        rm -rf "${out:?}/$host"
        s=$(date +%s)
        build "$role" "$out" "${MAPS[@]}" --profiles "$RACKSTACK_VENDOR_PROFILES"
        rc=$?
        bt=$(( $(date +%s) - s ))
        check "$role: build through the stand-ins (exit $rc, $bt s)" test "$rc" = 0 || { tail -n 20 "$tmp/$role.log"; continue; }
        raw=$out/$host/$host.raw
        man=$out/$host/manifest.json
        if mount_root "$raw" "$role"; then
                verify "$role" "$man" "$tmp/mnt-$role" || fail=1
                umount_root "$role"
        else
                check "$role: mount the image's root" false
        fi
        vsize=$(alloc_mib "$raw")
        pin=-
        if python3 -c 'import json,sys; sys.exit(0 if any(s.get("source")=="oci" and s.get("state")=="in-image" for s in json.load(open(sys.argv[1]))["services"]) else 1)' "$man"; then
                cp "$man" "$tmp/$role.pins.json"
                rm -rf "${OUTROOT:?}/pinned/$host"
                s=$(date +%s)
                build "$role" "$OUTROOT/pinned" "${MAPS[@]}" --profiles "$RACKSTACK_VENDOR_PROFILES" --pin-from "$tmp/$role.pins.json"
                rc=$?
                pin=$(( $(date +%s) - s ))
                check "$role: build with --pin-from its manifest (exit $rc)" test "$rc" = 0 || tail -n 20 "$tmp/$role.log"
                check "$role: every image pinned, same digests" python3 - "$man" "$OUTROOT/pinned/$host/manifest.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
oa = {s["name"]: s for s in a["services"] if s.get("source") == "oci" and s.get("state") == "in-image"}
ob = {s["name"]: s for s in b["services"] if s.get("source") == "oci"}
ok = all(ob.get(n, {}).get("pinned") is True and ob[n].get("digest") == s["digest"] for n, s in oa.items())
print(ok, {n: (s["digest"][:19], ob.get(n, {}).get("digest", "")[:19], ob.get(n, {}).get("pinned")) for n, s in oa.items()})
sys.exit(0 if ok else 1)
PY
                rm -rf "${OUTROOT:?}/pinned/$host"
                # the registry no longer serves the pinned digest: the build must stop
                python3 - "$tmp/$role.pins.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for s in m["services"]:
    if s.get("source") == "oci" and s.get("digest"):
        s["digest"] = "sha256:" + "0" * 64
        print(s["name"], file=open(sys.argv[1] + ".victim", "w"))
        break
json.dump(m, open(sys.argv[1], "w"))
PY
                victim=$(cat "$tmp/$role.pins.json.victim")
                build "$role" "$tmp/badpin" "${MAPS[@]}" --profiles "$RACKSTACK_VENDOR_PROFILES" --pin-from "$tmp/$role.pins.json"
                rc=$?
                check "$role: a pin the registry does not have fails (exit $rc)" test "$rc" = 1
                check "$role: ... naming $victim and its image" grep -q "service '$victim': image .* the digest does not match" "$tmp/$role.log" ||
                        tail -n 5 "$tmp/$role.log"
                check "$role: ... and publishes nothing" test -z "$(find "$tmp/badpin" -type f -print -quit 2>/dev/null)"
        fi
        dsize=- dt=-
        if [ "$COMPARE" = 1 ]; then
                rm -rf "${OUTROOT:?}/defer/$host"
                s=$(date +%s)
                build "$role" "$OUTROOT/defer" --defer-vendor
                rc=$?
                dt=$(( $(date +%s) - s ))
                check "$role: --defer-vendor build (exit $rc)" test "$rc" = 0 && dsize=$(alloc_mib "$OUTROOT/defer/$host/$host.raw") ||
                        tail -n 5 "$tmp/$role.log"
                rm -rf "${OUTROOT:?}/defer/$host"
        fi
        nv=$(python3 -c 'import json,sys; print(sum(1 for s in json.load(open(sys.argv[1]))["services"] if s.get("state")=="in-image"))' "$man")
        # The images are measured and checked: only the manifest is kept (disk space on a shared machine).
        rm -f "$out/$host/$host.raw"
        echo "RESULT role=$role base=$BASE vendor_in_image=$nv build_vendor_s=$bt raw_alloc_vendor_mib=$vsize build_defer_s=$dt raw_alloc_defer_mib=$dsize build_pinned_s=$pin load=$(cut -d' ' -f1 /proc/loadavg)"
done
echo "$checks checks, $([ $fail = 0 ] && echo all passed || echo some FAILED) in $(( $(date +%s) - t0 )) s"
exit $fail

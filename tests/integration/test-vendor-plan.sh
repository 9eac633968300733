#!/bin/bash
# Every role's vendor sources resolve through the site's mirror mapping, and every vendor service is
# pinned or deferred on purpose: `rackstack-build build ROLE --vendor-check` (the build's vendor
# stage, nothing built) for all nine roles against tests/tools/vendor-standins.sh (a stand-in for
# every vendor service of every profile, generated from the profiles; cached between runs).
#   - exit 0 for each role, and one line per vendor service the SHIPPED profile declares (rackstack-build
#     show --json --profiles profiles/): a vendor service the stand-ins do not cover fails here;
#   - each in-image service came through the mirror (via=http://127.0.0.1:...), never from the vendor;
#     an apt one with the stand-in key's fingerprint and its InRelease checked; an image with a digest;
#   - not-for-base exactly where the profile's bases: excludes the base (comm on Debian 12 too);
#   - pins: with the digests put into the profiles as a site would (digest: per image, from the first
#     check), every image is "pinned" and every apt source pinned by its key; a deferred
#     (fetch: firstboot) service is reported deferred and not fetched;
#   - the shipped profiles' own pins: each OCI image without a digest or fetch: firstboot is reported
#     (SKIP shipped-pins, listed in tests/expected-skips): the vendors' registries are not reachable
#     here, so their real digests cannot be known; a site pins with --pin-from its first manifest.
# Cost: ~30 s quiet (stand-ins from the cache ~10 s; 18 checks of 1-2 s each).
set -uo pipefail
B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (rackstack-build build needs root)"
[ -x "$B" ] || skip_all "$B is not built"
for t in docker-registry skopeo gpg gpgv apt-ftparchive dpkg-deb; do
        command -v "$t" >/dev/null || skip_all "$t is not installed (tests/tools/deps.sh)"
done
tmp=$(mktemp -d /var/tmp/rackstack-vplan.XXXXXX)
cleanup() { "$TOP/tests/tools/vendor-standins.sh" stop "$tmp/s" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
t0=$(date +%s)
nice -n 10 "$TOP/tests/tools/vendor-standins.sh" start "$tmp/s" >"$tmp/standins.log" 2>&1 ||
        { cat "$tmp/standins.log"; echo "FAIL: the stand-ins did not start"; exit 1; }
# shellcheck disable=SC1091
. "$tmp/s/env"
echo "stand-ins ready in $(( $(date +%s) - t0 )) s"
MAPS=()
for m in $RACKSTACK_VENDOR_MIRRORS; do MAPS+=(--mirror "$m"); done
ROLES="id db app comm voip biz erp it infra"

vcheck() { # ROLE BASE PROFILES OUT-FILE
        "$B" build "$1" --base "$2" --vendor-check "${MAPS[@]}" --profiles "$3" --out "$tmp/out" \
                --firstboot "$(dirname "$B")/rackstack-firstboot" >"$4" 2>"$4.err"
}

# One python pass judges a role's lines against what the shipped profile declares: its FAIL lines
# say what is wrong, its verdict ("ROLE/BASE: N vendor services, ...") is one counted check.
judge() { # ROLE BASE LINES EXPECT(unpinned|pinned)
        rm -f "$3.judged"
        python3 - "$@" "$B" "$TOP/profiles" "$STANDIN_KEY_FPR" "$3.judged" <<'PY'
import json, re, subprocess, sys
role, base, lines, expect, B, shipped, fpr, judged = sys.argv[1:9]
def plain(v):
    if isinstance(v, dict) and set(v) == {"value", "from"}:
        return v["value"]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
prof = plain(json.loads(subprocess.run([B, "show", role, "--json", "--profiles", shipped], capture_output=True,
                                       text=True, check=True).stdout)["profile"])
declared = {s["name"]: s for s in prof["services"] if s.get("source") in ("apt", "oci")}
got = {}
for l in open(lines).read().splitlines():
    m = re.match(r'(\S+) (in-image|deferred|not-for-base) (apt|oci) (.*) via=(\S+) pin=(\S+)(.*)$', l)
    if not m:
        print("FAIL %s/%s: cannot read the line %r" % (role, base, l)); sys.exit(1)
    got[m.group(1)] = m.groups()
bad = []
def check(what, ok, detail=""):
    if not ok:
        print("FAIL %s/%s: %s  %s" % (role, base, what, str(detail)[:400]))
        bad.append(what)
check("a line for each declared vendor service", sorted(got) == sorted(declared), (sorted(got), sorted(declared)))
for n, s in declared.items():
    g = got.get(n)
    if not g:
        continue
    _, state, kind, origin, via, pin, rest = g
    check(n + ": source kind", kind == s["source"], kind)
    want_state = "not-for-base" if s.get("bases") and base not in s["bases"] else \
                 "deferred" if s.get("fetch") == "firstboot" else "in-image"
    check(n + ": " + want_state, state == want_state, state)
    if state != "in-image":
        check(n + ": not checked, so no pin", pin == "none", pin)
        continue
    check(n + ": through the mirror", via.startswith("http://127.0.0.1:"), via)
    if kind == "oci":
        check(n + ": origin is the profile's image", origin == s["image"], origin)
        check(n + ": digest " + expect, re.fullmatch(r"digest:sha256:[0-9a-f]{64}:" + expect, pin) is not None, pin)
    else:
        check(n + ": pinned by the stand-in key", pin == "key:" + fpr, pin)
        check(n + ": InRelease checked", re.search(r"inrelease=[0-9a-f]{64}$", rest) is not None, rest)
with open(judged, "w") as f:
    f.write("%s/%s: %d vendor services, %s" % (role, base, len(declared),
                                             "as declared" if not bad else "%d wrong" % len(bad)))
sys.exit(1 if bad else 0)
PY
        local rc=$?
        check "$(cat "$3.judged" 2>/dev/null || echo "$1/$2: the vendor lines could not be judged")" test "$rc" = 0
}

# --- 1. every role on Ubuntu 24.04, and comm (the one with a vendor and a distribution variant of
# the same service, besides base's agent) on Debian 12: the shipped profiles with the stand-in key -
for base in ubuntu-24.04 debian-12; do
        roles=$ROLES
        [ "$base" = debian-12 ] && roles="comm"
        for role in $roles; do
                vcheck "$role" "$base" "$RACKSTACK_VENDOR_PROFILES" "$tmp/$role-$base"
                rc=$?
                check "$role/$base: --vendor-check exit 0 (got $rc)" test "$rc" = 0
                [ "$rc" = 0 ] || tail -n 5 "$tmp/$role-$base.err"
                judge "$role" "$base" "$tmp/$role-$base" unpinned
        done
done
check "--vendor-check wrote nothing to the output directory" test ! -e "$tmp/out"

# --- 2. pinned as a site pins: each image's digest into the profiles; one service deferred ---------
cp -r "$RACKSTACK_VENDOR_PROFILES" "$tmp/pinned"
python3 - "$tmp/pinned" "$tmp" <<'PY'
import glob, re, sys
d, tmp = sys.argv[1:3]
dig = {}
for f in glob.glob(tmp + "/*-ubuntu-24.04"):
    for l in open(f):
        m = re.match(r"(\S+) in-image oci \S+ via=\S+ pin=digest:(sha256:[0-9a-f]{64}):", l)
        if m:
            dig[m.group(1)] = m.group(2)
for f in glob.glob(d + "/*.yaml"):
    out, cur = [], None
    for l in open(f).read().splitlines():
        m = re.match(r"  - name: (\S+)$", l)
        if m:
            cur = m.group(1)
        out.append(l)
        if cur in dig and re.match(r"    image: ", l):
            out.append('    digest: "%s"' % dig[cur])
    open(f, "w").write("\n".join(out) + "\n")
print(len(dig), "digests pinned")
PY
# (the roles with images; the others' lines would not change)
for role in $(grep -l ' in-image oci ' "$tmp"/*-ubuntu-24.04 | sed 's|.*/||; s|-ubuntu-24.04$||'); do
        vcheck "$role" ubuntu-24.04 "$tmp/pinned" "$tmp/$role-pinned"
        rc=$?
        check "$role pinned: exit 0 (got $rc)" test "$rc" = 0
        [ "$rc" = 0 ] || tail -n 5 "$tmp/$role-pinned.err"
        judge "$role" ubuntu-24.04 "$tmp/$role-pinned" pinned
        check "$role pinned: no 'not pinned' warning" bash -c "! grep -q 'is not pinned' '$tmp/$role-pinned.err'"
done
# fetch: firstboot on one image and one repository: reported deferred, neither probed.
sed -i '/^  - name: keycloak$/a\    fetch: firstboot' "$tmp/pinned/id.yaml"
sed -i '/^  - name: odoo$/a\    fetch: firstboot' "$tmp/pinned/erp.yaml"
for role in id erp; do
        vcheck "$role" ubuntu-24.04 "$tmp/pinned" "$tmp/$role-deferred"
        check "$role: fetch: firstboot reported deferred" grep -Eq '^(keycloak|odoo) deferred (oci|apt) .* via=- pin=none reason="fetch: firstboot in the profile"$' "$tmp/$role-deferred"
done

# --- 3. the shipped profiles' own pins (no vendor registry answers here) ----------------------------
unpinned=$(python3 - "$TOP/profiles" <<'PY'
import glob, sys, yaml
n = []
for f in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    for s in (yaml.safe_load(open(f)) or {}).get("services") or []:
        if s.get("source") == "oci" and not s.get("digest") and s.get("fetch") != "firstboot":
            n.append(s["name"])
print(" ".join(n))
PY
)
if [ -n "$unpinned" ]; then
        skip_check shipped-pins "$(wc -w <<<"$unpinned") OCI images in profiles/ have neither digest: nor fetch: firstboot ($unpinned): the vendors' registries are unreachable here; a site pins with --pin-from its first build's manifest.json"
fi
echo "done in $(( $(date +%s) - t0 )) s"
finish

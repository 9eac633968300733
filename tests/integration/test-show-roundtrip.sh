#!/bin/bash
# `rackstack-build show ROLE` for all nine roles: the text is YAML that python3-yaml (a YAML 1.1
# reader) parses, the JSON parses, and both carry the same data — the resolved profile, the host
# with its addresses, and (on infra) the reverse proxy's routes.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=$PWD/${RACKSTACK_BUILD_DIR:-build}/rackstack-build
[ -x "$B" ] || { echo "skip: $B not built (run make)"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "skip: python3-yaml is not installed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for role in id db app comm voip biz erp it infra; do
        if ! "$B" show "$role" >"$tmp/$role.txt" || ! "$B" show "$role" --json >"$tmp/$role.json"; then
                echo "FAIL: show $role"; exit 1
        fi
done
python3 - "$tmp" <<'PY'
import json, sys, yaml
tmp = sys.argv[1]
passed = failed = 0
def check(what, ok, detail=""):
    global passed, failed
    if ok: passed += 1
    else:
        failed += 1
        print("FAIL:", what, detail)

def plain(n):
    """The JSON profile tree without its 'from' locations: scalars as text."""
    if isinstance(n, dict) and set(n) == {"value", "from"}:
        return n["value"]
    if isinstance(n, dict):
        return {k: plain(v) for k, v in n.items()}
    if isinstance(n, list):
        return [plain(v) for v in n]
    return n

def text(n):
    """The YAML tree with scalars as the text they were written as (YAML 1.1 typed them)."""
    if isinstance(n, dict):
        return {str(k): text(v) for k, v in n.items()}
    if isinstance(n, list):
        return [text(v) for v in n]
    if isinstance(n, bool):
        return "true" if n else "false"
    return str(n)

for role in "id db app comm voip biz erp it infra".split():
    try:
        y = yaml.safe_load(open(f"{tmp}/{role}.txt"))
    except yaml.YAMLError as e:
        check(f"{role}: the text is YAML", False, str(e).replace("\n", " "))
        continue
    j = json.load(open(f"{tmp}/{role}.json"))
    prof = plain(j["profile"])
    for k, v in prof.items():
        check(f"{role}: '{k}' is the same in text and JSON", text(y.get(k)) == text(v),
              f"\n text: {y.get(k)!r}\n json: {v!r}")
    h, yh = j["host"], y.get("host") or {}
    check(f"{role}: host", yh.get("name") == h["name"] and yh.get("fqdn") == h["fqdn"])
    ya = [(a["vlan"], a["address"], a["default_route"]) for a in yh.get("addresses", [])]
    ja = [(a["vlan"], f'{a["address"]}/{a["prefix"]}', a["default_route"]) for a in h["addresses"]]
    check(f"{role}: host addresses", ya == ja, f"{ya} != {ja}")
    if role == "infra":
        jr = [(r["fqdn"], r["backend"], r["port"]) for r in j.get("routes", [])]
        yr = [(r["fqdn"], r["backend"], r["port"]) for r in y.get("routes", [])]
        check("infra: --json has the routes", len(jr) > 0)
        check("infra: routes are the same in text and JSON", jr == yr, f"{yr} != {jr}")
    else:
        check(f"{role}: no routes", "routes" not in j and "routes" not in y)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

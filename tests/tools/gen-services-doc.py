#!/usr/bin/env python3
"""Write docs/services.md from the role profiles, as rackstack-build resolves them (inheritance
applied): every service with its source, version, ports and when it is fetched, and each role's
firewall. --check: fail (exit 1) if docs/services.md is not what this would write."""
import json, os, subprocess, sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
ROLES = ["id", "db", "app", "comm", "voip", "biz", "erp", "it", "infra"]

def v(x):
    if isinstance(x, dict) and "value" in x:
        return x["value"]
    if isinstance(x, list):
        return [v(i) for i in x]
    if isinstance(x, dict):
        return {k: v(i) for k, i in x.items()}
    return x

def show(build, role):
    out = subprocess.run([build, "show", role, "--json"], cwd=TOP, capture_output=True, text=True, check=True).stdout
    return json.loads(out)

def source_of(s):
    src = s.get("source")
    if src == "distro":
        return "distribution: " + ", ".join("`%s`" % p for p in s.get("packages", []))
    if src == "apt":
        return "vendor apt: `%s`, key %s, fingerprint `%s`; %s" % (
            s.get("repo"), s.get("key-url"), s.get("key-fingerprint"),
            ", ".join("`%s`" % p for p in s.get("packages", [])))
    if src == "oci":
        return "OCI image `%s`, %s (podman, %s)" % (
            s.get("image"), "digest `%s`" % s["digest"] if s.get("digest") else "digest resolved at build time",
            s.get("unit"))
    return src

def ports_of(p):
    protos = p.get("proto")
    protos = protos if isinstance(protos, list) else [protos]
    return "%s/%s" % (p.get("port"), ",".join(x.upper() for x in protos if x))

def render(build):
    lines = [
        "# Services by role",
        "",
        "Generated from `profiles/*.yaml` by `tests/tools/gen-services-doc.py` (do not edit; "
        "`tests/integration/test-services-doc.sh` fails when it is stale).",
        "",
        "- **distribution** services are installed into the image at build time and started on first boot.",
        "- **vendor apt** and **OCI image** services are not shipped by Debian or Ubuntu (or not well; see "
        "each description). `fetch: build` (the default): rackstack-build fetches them and puts them in the "
        "image. An apt source is trusted by its key's **fingerprint**, never by the key URL: the builder "
        "fetches the key, refuses it unless its fingerprint is the profile's, checks the repository's "
        "InRelease signature with that key alone, writes it to /usr/share/keyrings/ and installs the "
        "packages into the role layer (their versions and the InRelease sha256 go to manifest.json). An OCI "
        "image with a `digest` is copied by that digest (a registry without it fails the build); without "
        "one the build resolves the tag, records the digest in manifest.json as `\"pinned\": false` with a "
        "warning, and `--pin-from` that manifest enforces it from then on. Images go to the read-only store "
        "/usr/lib/containers/storage (an additional image store in /etc/containers/storage.conf): `podman "
        "images` lists them and nothing is pulled at first boot. An unreachable source, another key, a bad "
        "signature or a digest mismatch stops the build (exit 1) naming the service; nothing is published. "
        "`fetch: firstboot` in a profile (or `rackstack-build build --defer-vendor` for all) defers a "
        "service: the manifest and /usr/share/rackstack/vendor.json say `deferred` and first boot fetches it "
        "or reports it skipped. Sites map vendor sources to their mirrors with `mirrors:` in site.yaml "
        "(or `--mirror FROM=TO`).",
        "- `bases`: the service exists only on those bases; elsewhere first boot reports it skipped.",
        "- `memory`: RAM set aside for the service before PostgreSQL's budget is computed (db role).",
        "- Ports are the seed's; the firewall (nftables, one `inet rackstack` table) opens exactly these, "
        "plus SSH from the management VLAN, and drops everything else.",
        "",
    ]
    for role in ROLES:
        j = show(build, role)
        p = v(j["profile"])
        host = j.get("host") or {}
        hname = host.get("name") if isinstance(host, dict) else None
        lines.append("## %s%s" % (role, " (%s)" % v(hname) if hname else ""))
        lines.append("")
        if p.get("description"):
            lines.append(str(p["description"]))
            lines.append("")
        lines.append("| service | source | version | ports | fetch | bases | memory |")
        lines.append("|---|---|---|---|---|---|---|")
        for s in p.get("services", []):
            fetch = s.get("fetch", "build")
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                s["name"], source_of(s).replace("|", "\\|"),
                s.get("version", "distribution's" if s.get("source") == "distro" else "-"),
                ", ".join(str(x) for x in s.get("ports", [])) or "-", fetch,
                ", ".join(s.get("bases", [])) or "all", s.get("memory", "-")))
        lines.append("")
        lines.append("Firewall (inbound): " + ", ".join(
            "%s %s" % (ports_of(x), x.get("service", "")) for x in p.get("ports", [])) + ".")
        # firstboot opens these per consumer address from the site's wiring, not in the role's ports list
        names = {s["name"] for s in p.get("services", [])}
        per = [port for n, port in (("mariadb", "3306/TCP MariaDB"), ("redis", "6379/TCP Redis")) if n in names]
        if per:
            lines[-1] += " " + " and ".join(per) + ": from each consumer's database-VLAN address only (the site's wiring)."
        lines.append("")
    return "\n".join(lines)

def main():
    build = os.environ.get("RACKSTACK_BUILD", os.path.join(TOP, "build", "rackstack-build"))
    text = render(build)
    path = os.path.join(TOP, "docs", "services.md")
    if "--check" in sys.argv[1:]:
        cur = open(path).read() if os.path.exists(path) else ""
        if cur != text:
            sys.stderr.write("docs/services.md is stale: run tests/tools/gen-services-doc.py\n")
            import difflib
            sys.stderr.writelines(difflib.unified_diff(cur.splitlines(True), text.splitlines(True), "docs/services.md", "generated"))
            return 1
        return 0
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)
    return 0

sys.exit(main())

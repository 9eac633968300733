#!/bin/bash
# FreeIPA's DNS zone holds the seed's records (issue 14), checked with the tools people check zone
# data with. No FreeIPA server is in any archive this machine or CI reaches (Debian 12 and Ubuntu
# 24.04 package freeipa-client only), so FreeIPA itself does not run here; what does:
#   1. `rackstack-firstboot ipa-dns --plan` from the shipped site: every name of the seed's DNS table;
#      a site lacking a host is site.yaml:LINE:COL: error, exit 2;
#   2. `--zone-file` for the forward and the reverse zone, through BIND's named-checkzone;
#   3. `--apply`, the code join/ipa-dns runs on lab-id1, against a stand-in of FreeIPA's `ipa` CLI and
#      kinit (a small script over a record file; it answers as ipa does: --raw lines, exit 2 for not
#      found, exit 1 for a value already there), seeded with what ipa-server-install --setup-dns
#      --auto-reverse makes (the zones, lab-id1's A and PTR). Asserted: the admin password reaches
#      kinit on stdin and is in no process's argv while kinit or ipa runs; every ipa call carries
#      the private ticket cache, which is gone after; a second run adds nothing; a missing reverse
#      zone is added once;
#   4. the records the apply put into the stand-in, as zone files, served by a real named in a
#      network namespace: dig answers every seed name, every host's A and PTR, and the MX.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
O=$(realpath "${RACKSTACK_BUILD_DIR:-build}")
F=$O/rackstack-firstboot
[ -x "$F" ] || skip_all "skip: $F is not built"
for x in named named-checkzone named-checkconf dig; do
        command -v "$x" >/dev/null || { echo "missing $x: 'make deps' installs bind9 bind9-utils bind9-dnsutils"; exit 1; }
done

t0=$SECONDS
phase() { echo "     [$((SECONDS - t0)) s] $*"; } # where the time goes (information, not asserted)
tmp=$(mktemp -d /tmp/rackstack-ipadns-XXXXXX)
NS=rsipadns$$
cleanup() {
        [ -s "$tmp/named.pid" ] && kill "$(cat "$tmp/named.pid")" 2>/dev/null
        ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$NS" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
SITE=profiles/site.yaml

# The seed's DNS table ("Internal DNS (FreeIPA)"; the seed says domain.local there, domain.com
# everywhere else and so does the site) and its servers.
SEED_NAMES="ipa:10.0.50.11 sso:10.0.50.11 db:10.0.50.12 cloud:10.0.50.19 chat:10.0.50.19 meet:10.0.50.19
mail:10.0.50.19 desk:10.0.50.19 voip:10.0.50.19 crm:10.0.50.19 docs:10.0.50.19 erp:10.0.50.19
projects:10.0.50.19 assets:10.0.50.19 itsm:10.0.50.19 monitor:10.0.50.19"
SEED_HOSTS="lab-id1:10.0.50.11 lab-db1:10.0.50.12 lab-app1:10.0.50.13 lab-comm1:10.0.50.14 lab-voip1:10.0.50.15
lab-biz1:10.0.50.16 lab-erp1:10.0.50.17 lab-it1:10.0.50.18 lab-infra1:10.0.50.19"

# ---- 1. the plan ----
"$F" ipa-dns --site "$SITE" --plan >"$tmp/plan" 2>"$tmp/plan.err"
check "--plan from the shipped site exits 0" test $? = 0
miss=
for p in $SEED_NAMES; do grep -q "^domain.com. ${p%%:*} A ${p#*:}  ;" "$tmp/plan" || miss="$miss ${p%%:*}"; done
check "--plan: every name of the seed's DNS table, at the seed's address${miss:+ (missing:$miss)}" test -z "$miss"
check "--plan: the MX to Postfix on lab-comm1" grep -q '^domain.com. @ MX 10 lab-comm1.domain.com.  ;' "$tmp/plan"

awk '/^  - name: lab-infra1$/ { skip = 3 } skip > 0 { skip--; next } { print }' "$SITE" >"$tmp/no-infra.yaml"
webline=$(grep -n '^  web: lab-infra1' "$tmp/no-infra.yaml" | cut -d: -f1)
"$F" ipa-dns --site "$tmp/no-infra.yaml" --plan >/dev/null 2>"$tmp/no-infra.err"
rc=$?
check "a site lacking lab-infra1: exit 2" test "$rc" = 2
check "a site lacking lab-infra1: $tmp/no-infra.yaml:$webline:8: error: names the missing host" \
        grep -q "^$tmp/no-infra.yaml:$webline:8: error: the zone's 'web:' names host 'lab-infra1', which the site does not list" \
        "$tmp/no-infra.err"

phase "zone files"
# ---- 2. the zone files, through named-checkzone ----
"$F" ipa-dns --site "$SITE" --zone-file domain.com >"$tmp/plan.fwd" &&
        "$F" ipa-dns --site "$SITE" --zone-file 50.0.10.in-addr.arpa. >"$tmp/plan.rev"
check "--zone-file renders the forward and the reverse zone" test $? = 0
check "named-checkzone accepts the forward zone (domain.com)" named-checkzone -q -k fail -n fail domain.com "$tmp/plan.fwd"
check "named-checkzone accepts the reverse zone (50.0.10.in-addr.arpa)" \
        named-checkzone -q -k fail -n fail 50.0.10.in-addr.arpa "$tmp/plan.rev"
"$F" ipa-dns --site "$SITE" --zone-file 99.0.10.in-addr.arpa >/dev/null 2>&1
check "--zone-file of a zone the plan lacks: exit 2" test $? = 2

phase "stand-ins"
# ---- 3. --apply against a stand-in of FreeIPA's CLI ----
mkdir -p "$tmp/bin" "$tmp/ipa"
pw="rs-admin-$$-$RANDOM-secret"
printf '%s\n' "$pw" >"$tmp/admin.pw"
chmod 600 "$tmp/admin.pw"
printf '%s\n' "$pw" >"$tmp/pw.pattern" # the scan's pattern, from a file: in its argv it would find itself
# what ipa-server-install --setup-dns --auto-reverse leaves: both zones, the server's A and PTR
printf 'domain.com.\n50.0.10.in-addr.arpa.\n' >"$tmp/ipa/zones"
printf 'domain.com. lab-id1 arecord 10.0.50.11\n50.0.10.in-addr.arpa. 11 ptrrecord lab-id1.domain.com.\n' >"$tmp/ipa/records"
cat >"$tmp/bin/argv-clean" <<EOF
#!/bin/sh
# fails if any process's argv holds the admin password
f=\$(grep -alF -f "$tmp/pw.pattern" /proc/[0-9]*/cmdline 2>/dev/null)
[ -z "\$f" ] || { echo "password in the argv of \$f" >>"$tmp/ipa/violations"; exit 1; }
EOF
cat >"$tmp/bin/kinit" <<EOF
#!/bin/sh
"$tmp/bin/argv-clean"
read -r got
[ "\$got" = "$pw" ] || { echo "kinit: Password incorrect while getting initial credentials" >&2; exit 1; }
[ "\$1" = admin ] || [ "\$1" = admin@DOMAIN.COM ] || { echo "kinit: unexpected principal \$1" >&2; exit 1; }
case "\$KRB5CCNAME" in FILE:/*) : >"\${KRB5CCNAME#FILE:}"; echo "\${KRB5CCNAME#FILE:}" >"$tmp/ipa/ccache-path" ;; *) exit 1 ;; esac
EOF
cat >"$tmp/bin/ipa" <<EOF
#!/bin/bash
# A stand-in of FreeIPA's CLI over $tmp/ipa: its exit statuses (2 not found, 1 nothing to change) and
# dnsrecord-show --raw output; every call logged with its ticket cache. Builtins only (a fork per
# line costs seconds under load). The argv scan runs in kinit and in each session's first ipa call.
S=$tmp/ipa
c=\${KRB5CCNAME:-}
echo "\$* KRB5CCNAME=\$c" >>"\$S/calls"
[ -n "\$c" ] && [ -f "\${c#FILE:}" ] || { echo "ipa: ERROR: did not receive Kerberos credentials" >&2; exit 1; }
m=\${c%/ccache}
m=\$S/scanned.\${m##*/}
[ -e "\$m" ] || { : >"\$m"; "$tmp/bin/argv-clean"; }
has_zone() { local z; while read -r z; do [ "\$z" = "\$1" ] && return 0; done <"\$S/zones"; return 1; }
case "\$1" in
dnszone-show) has_zone "\$2" || { echo "ipa: ERROR: \$2: DNS zone not found" >&2; exit 2; } ;;
dnszone-add) has_zone "\$2" && { echo "ipa: ERROR: DNS zone with name \"\$2\" already exists" >&2; exit 1; }
        echo "\$2" >>"\$S/zones" ;;
dnsrecord-show)
        has_zone "\$2" || { echo "ipa: ERROR: \$2: DNS zone not found" >&2; exit 2; }
        out=
        while read -r z n a v; do [ "\$z \$n" = "\$2 \$3" ] && out+="  \$a: \$v"\$'\n'; done <"\$S/records"
        [ -n "\$out" ] || { echo "ipa: ERROR: \$3: DNS resource record not found" >&2; exit 2; }
        printf '  idnsname: %s\n%s' "\$3" "\$out" ;;
dnsrecord-add)
        has_zone "\$2" || { echo "ipa: ERROR: \$2: DNS zone not found" >&2; exit 2; }
        case "\$4" in --a-rec=*) a=arecord ;; --ptr-rec=*) a=ptrrecord ;; --mx-rec=*) a=mxrecord ;; *) exit 1 ;; esac
        v=\${4#*=}
        while read -r line; do
                [ "\$line" = "\$2 \$3 \$a \$v" ] && { echo "ipa: ERROR: no modifications to be performed" >&2; exit 1; }
        done <"\$S/records"
        echo "\$2 \$3 \$a \$v" >>"\$S/records" ;;
*) echo "ipa: ERROR: unknown command \$1" >&2; exit 1 ;;
esac
EOF
chmod 755 "$tmp/bin/"*
apply() { "$F" ipa-dns --site "$SITE" --apply --admin-password-file "$tmp/admin.pw" --ipa "$tmp/bin/ipa" --kinit "$tmp/bin/kinit"; }
phase "--apply, three times"
apply >"$tmp/apply1" 2>&1
rc=$?
check "--apply exits 0" test "$rc" = 0
check "--apply: 35 records added, the 2 ipa-server-install made already there, no zone added" \
        grep -qx "ipa-dns: domain.com.: 35 record(s) added, 2 already there; 0 reverse zone(s) added" "$tmp/apply1"
check "the admin password was in no process's argv while kinit and ipa ran" test ! -e "$tmp/ipa/violations"
check "the password is not on --apply's output" sh -c "! grep -qF -- '$pw' '$tmp/apply1'"
check "every ipa call carried the private ticket cache kinit made" \
        sh -c "test -s '$tmp/ipa/calls' && ! grep -v 'KRB5CCNAME=FILE:$(cat "$tmp/ipa/ccache-path" 2>/dev/null)\$' '$tmp/ipa/calls' | grep -q ."
ccdir=$(dirname "$(cat "$tmp/ipa/ccache-path" 2>/dev/null || echo /nonexistent/x)")
check "the ticket cache and its directory are gone after the run ($ccdir)" test ! -e "$ccdir"
n1=$(wc -l <"$tmp/ipa/records")
apply >"$tmp/apply2" 2>&1
check "a second --apply adds nothing (37 there, the record file unchanged at $n1 lines)" \
        sh -c "grep -qx 'ipa-dns: domain.com.: 0 record(s) added, 37 already there; 0 reverse zone(s) added' '$tmp/apply2' && test \$(wc -l <'$tmp/ipa/records') = $n1"
check "no record is in FreeIPA twice" sh -c "test -z \"\$(sort '$tmp/ipa/records' | uniq -d)\""
sed -i '/^50.0.10.in-addr.arpa.$/d' "$tmp/ipa/zones"
apply >"$tmp/apply3" 2>&1
check "a reverse zone FreeIPA lacks is added once (and nothing else twice)" \
        grep -qx "ipa-dns: domain.com.: 0 record(s) added, 37 already there; 1 reverse zone(s) added" "$tmp/apply3"
printf 'wrong\n' >"$tmp/bad.pw"
chmod 600 "$tmp/bad.pw"
"$F" ipa-dns --site "$SITE" --apply --admin-password-file "$tmp/bad.pw" --ipa "$tmp/bin/ipa" --kinit "$tmp/bin/kinit" \
        >"$tmp/apply4" 2>&1
rc=$?
check "a wrong admin password: exit 1 naming kinit, nothing added" \
        sh -c "test $rc = 1 && grep -q 'kinit admin failed (exit 1): kinit: Password incorrect' '$tmp/apply4' && test \$(wc -l <'$tmp/ipa/records') = $n1"
chmod 644 "$tmp/bad.pw"
"$F" ipa-dns --site "$SITE" --apply --admin-password-file "$tmp/bad.pw" --ipa "$tmp/bin/ipa" --kinit "$tmp/bin/kinit" \
        >"$tmp/apply5" 2>&1
check "an admin password file others can read is refused" grep -q "not a root-owned 0600 regular file; refused" "$tmp/apply5"

phase "named"
# ---- 4. what the apply put into the stand-in, served by named ----
zone_from_state() { # ZONE
        # shellcheck disable=SC2016 # $ORIGIN and $TTL are the zone file's
        printf '$ORIGIN %s\n$TTL 3600\n@ IN SOA lab-id1.domain.com. hostmaster.domain.com. 1 3600 900 1209600 3600\n' "$1"
        printf '@ IN NS lab-id1.domain.com.\n'
        while read -r z n a v; do
                [ "$z" = "$1" ] || continue
                case $a in arecord) t=A ;; ptrrecord) t=PTR ;; mxrecord) t=MX ;; esac
                echo "$n IN $t $v"
        done <"$tmp/ipa/records"
}
zone_from_state domain.com. >"$tmp/db.fwd"
zone_from_state 50.0.10.in-addr.arpa. >"$tmp/db.rev"
check "named-checkzone accepts the applied forward zone" named-checkzone -q -k fail -n fail domain.com "$tmp/db.fwd"
check "named-checkzone accepts the applied reverse zone" named-checkzone -q -k fail -n fail 50.0.10.in-addr.arpa "$tmp/db.rev"
cat >"$tmp/named.conf" <<EOF
options {
        directory "$tmp";
        pid-file "$tmp/named.pid";
        session-keyfile "$tmp/session.key";
        listen-on port 53 { 127.0.0.1; };
        listen-on-v6 { none; };
        recursion no;
        dnssec-validation no;
};
zone "domain.com" { type primary; file "$tmp/db.fwd"; };
zone "50.0.10.in-addr.arpa" { type primary; file "$tmp/db.rev"; };
EOF
check "named-checkconf accepts the server's configuration" named-checkconf "$tmp/named.conf"
if ! ip netns add "$NS" 2>/dev/null; then
        skip_check "dig every name from a real named" "cannot create a network namespace (needs root)"
        finish
fi
ip -n "$NS" link set lo up
ip netns exec "$NS" named -c "$tmp/named.conf" -n 1 -f >"$tmp/named.log" 2>&1 &
q() { ip netns exec "$NS" dig @127.0.0.1 +short +time=1 +tries=1 "$@"; }
for _ in $(seq 1 50); do [ -n "$(q lab-id1.domain.com A 2>/dev/null)" ] && break; sleep 0.2; done
phase "dig"
check "named serves the zone (lab-id1.domain.com answers)" test "$(q lab-id1.domain.com A)" = 10.0.50.11
# one dig for every query (a dig per name costs seconds under load): "NAME TYPE VALUE" lines
qs=() want=
for p in $SEED_NAMES; do qs+=("${p%%:*}.domain.com" A); want+="${p%%:*}.domain.com. A ${p#*:}"$'\n'; done
for p in $SEED_HOSTS; do
        h=${p%%:*} a=${p#*:}
        qs+=("$h.domain.com" A -x "$a")
        want+="$h.domain.com. A $a"$'\n'
        want+="$(echo "$a" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }').in-addr.arpa. PTR $h.domain.com."$'\n'
done
ip netns exec "$NS" dig @127.0.0.1 +time=1 +tries=1 +noall +answer "${qs[@]}" | awk '{ print $1, $4, $5 }' >"$tmp/answers"
bad=
for p in $SEED_NAMES; do grep -qx "${p%%:*}.domain.com. A ${p#*:}" "$tmp/answers" || bad="$bad ${p%%:*}"; done
check "dig: every name of the seed's DNS table at the seed's address${bad:+ (wrong:$bad)}" test -z "$bad"
check "dig: every host's A and its PTR, and nothing else ($(wc -l <"$tmp/answers") answers)" \
        diff <(sort "$tmp/answers") <(printf '%s' "$want" | sort)
check "dig: domain.com MX 10 lab-comm1.domain.com." test "$(q domain.com MX)" = "10 lab-comm1.domain.com."
check "dig: a name the site does not have is NXDOMAIN" \
        sh -c "ip netns exec '$NS' dig @127.0.0.1 +time=1 +tries=1 nosuch.domain.com A | grep -q 'status: NXDOMAIN'"
finish

#!/bin/bash
# Signing without a build: keygen (modes, never replacing a key without --force), a signature made
# by `openssl pkeyutl -rawin` is accepted by `verify` and one made by rackstack-build is accepted
# by openssl, and `verify` refuses every kind of tampering, naming what failed (exit 1), and bad
# usage (exit 2). build --sign with an unusable key stops before building (exit 2). The signature
# of a real build is checked in test-build-cache.sh.
set -u
cd "$(dirname "$0")/../.."
B=$(realpath "${RACKSTACK_BUILD_DIR:-build}")/rackstack-build
fails=0 n=0
check() { # description, condition...
        n=$((n + 1))
        if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
[ -x "$B" ] || { echo "$B is not built"; exit 77; }
command -v openssl >/dev/null || { echo "openssl is not installed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
K=$tmp/keys/site
mkdir -p "$tmp/keys"

# ---- keygen ----------------------------------------------------------------------------------------
(umask 000; "$B" keygen --out "$K" >"$tmp/e" 2>&1); rc=$?
check "keygen exits 0" test $rc = 0
check "keygen: private key is 0600 even under umask 000" test "$(stat -c %a "$K.key")" = 600
check "keygen: private key is PEM PKCS#8 Ed25519" bash -c "openssl pkey -in '$K.key' -noout -text | grep -q ED25519"
check "keygen: public key is PEM, matches the private key" \
        bash -c "cmp <(openssl pkey -in '$K.key' -pubout) '$K.pub'"
cp "$K.key" "$tmp/key.before"
"$B" keygen --out "$K" >"$tmp/e" 2>&1; rc=$?
check "keygen over an existing key: exit 1" test $rc = 1
check "  ... says so and names --force" grep -q -- '--force' "$tmp/e"
check "  ... the key is unchanged" cmp -s "$K.key" "$tmp/key.before"
"$B" keygen --out "$K" --force >"$tmp/e" 2>&1; rc=$?
check "keygen --force replaces it" bash -c "test $rc = 0 && ! cmp -s '$K.key' '$tmp/key.before'"
check "no temporary files next to the keys" test "$(ls "$tmp/keys" | sort | tr '\n' ' ')" = "site.key site.pub "
"$B" keygen >"$tmp/e" 2>&1; check "keygen without --out: exit 2" test $? = 2
"$B" keygen --out "$tmp/keys/" >"$tmp/e" 2>&1; check "keygen --out DIR/: exit 2" test $? = 2
"$B" keygen --out "$tmp/nodir/k" >"$tmp/e" 2>&1; check "keygen into a missing directory: exit 1" test $? = 1
t0=$(date +%s%N); "$B" keygen --out "$tmp/keys/timed" >/dev/null 2>&1; t1=$(date +%s%N)
echo "keygen took $(( (t1 - t0) / 1000000 )) ms"

# ---- an output directory signed with openssl -----------------------------------------------------------
D=$tmp/out/lab-x1
mkdir -p "$D"
head -c 3000000 /dev/urandom >"$D/lab-x1.raw"
echo '{"role":"x"}' >"$D/manifest.json"
(cd "$D" && sha256sum lab-x1.raw manifest.json >SHA256SUMS)
openssl pkeyutl -sign -inkey "$K.key" -rawin -in "$D/SHA256SUMS" -out "$D/SHA256SUMS.sig"
check "openssl's signature is 64 raw bytes" test "$(stat -c %s "$D/SHA256SUMS.sig")" = 64
"$B" verify "$D" --key "$K.pub" >"$tmp/o" 2>&1; rc=$?
check "verify accepts openssl's signature and the files: exit 0" test $rc = 0
check "  ... and lists each file OK" bash -c "grep -q '^lab-x1.raw: OK' '$tmp/o' && grep -q '^manifest.json: OK' '$tmp/o'"
t0=$(date +%s%N); "$B" verify "$D" --key "$K.pub" --quiet >/dev/null 2>&1; t1=$(date +%s%N)
echo "verify of a 3 MB directory took $(( (t1 - t0) / 1000000 )) ms"

tamper() { # name: a fresh copy of the good directory in $T
        T=$tmp/t-$1; rm -rf "$T"; cp -a "$D" "$T"
}
tamper byte
printf 'X' | dd of="$T/lab-x1.raw" bs=1 seek=1234567 conv=notrunc status=none
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1; rc=$?
check "one changed byte in the image: exit 1" test $rc = 1
check "  ... names the image as FAILED" grep -q '^lab-x1.raw: FAILED, sha256' "$tmp/o"
check "  ... and the manifest as OK" grep -q '^manifest.json: OK' "$tmp/o"

tamper missing; rm "$T/manifest.json"
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1; rc=$?
check "a missing file: exit 1, named" bash -c "test $rc = 1 && grep -q '^manifest.json: FAILED, missing' '$tmp/o'"

tamper sums
(cd "$T" && printf 'X' >>lab-x1.raw && sha256sum lab-x1.raw manifest.json >SHA256SUMS)
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1; rc=$?
check "SHA256SUMS rewritten to match a changed image: exit 1" test $rc = 1
check "  ... the signature is what fails" grep -q 'SHA256SUMS.sig: FAILED, the signature does not match' "$tmp/o"

tamper nosig; rm "$T/SHA256SUMS.sig"
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1; rc=$?
check "no signature: exit 1, says it is not signed" bash -c "test $rc = 1 && grep -q 'is .* signed' '$tmp/o'"

tamper sigbyte
printf '\x01' | dd of="$T/SHA256SUMS.sig" bs=1 seek=10 conv=notrunc status=none
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1
check "a flipped signature byte: exit 1" test $? = 1

tamper truncsig; head -c 63 "$D/SHA256SUMS.sig" >"$T/SHA256SUMS.sig"
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1
check "a short signature: exit 1" test $? = 1

"$B" keygen --out "$tmp/keys/other" >/dev/null 2>&1
"$B" verify "$D" --key "$tmp/keys/other.pub" >"$tmp/o" 2>&1
check "another key's public half: exit 1" test $? = 1

tamper traversal
echo "$(sha256sum /etc/hostname | cut -d' ' -f1)  ../../../etc/hostname" >>"$T/SHA256SUMS"
openssl pkeyutl -sign -inkey "$K.key" -rawin -in "$T/SHA256SUMS" -out "$T/SHA256SUMS.sig"
"$B" verify "$T" --key "$K.pub" >"$tmp/o" 2>&1; rc=$?
check "a signed list naming ../ paths: exit 1, malformed line named" \
        bash -c "test $rc = 1 && grep -q 'SHA256SUMS:3: FAILED' '$tmp/o'"

# ---- bad usage: exit 2 -------------------------------------------------------------------------------
"$B" verify "$D" >"$tmp/o" 2>&1; check "verify without --key: exit 2" test $? = 2
"$B" verify --key "$K.pub" >"$tmp/o" 2>&1; check "verify without DIR: exit 2" test $? = 2
"$B" verify "$tmp/nonexistent" --key "$K.pub" >"$tmp/o" 2>&1; check "verify of a missing DIR: exit 2" test $? = 2
"$B" verify "$D" --key "$tmp/keys/none.pub" >"$tmp/o" 2>&1; check "verify with a missing key: exit 2" test $? = 2
"$B" verify "$D" --key "$K.key" >"$tmp/o" 2>&1; check "verify with the private key file as --key: exit 2" test $? = 2
"$B" verify "$D" --key "$K.pub" --frob >"$tmp/o" 2>&1; check "verify with an unknown option: exit 2" test $? = 2

# ---- build --sign with an unusable key stops before building ---------------------------------------------
"$B" build db --defer-vendor --sign "$tmp/keys/none.key" --out "$tmp/b" >"$tmp/o" 2>&1; rc=$?
check "build --sign with a missing key: exit 2, says so" bash -c "test $rc = 2 && grep -q 'does not exist' '$tmp/o'"
cp "$K.key" "$tmp/keys/loose.key"; cp "$K.pub" "$tmp/keys/loose.pub"; chmod 644 "$tmp/keys/loose.key"
"$B" build db --defer-vendor --sign "$tmp/keys/loose.key" --out "$tmp/b" >"$tmp/o" 2>&1; rc=$?
check "build --sign with a group/world-readable key: exit 2" bash -c "test $rc = 2 && grep -q 'readable by others' '$tmp/o'"
cp "$K.key" "$tmp/keys/mixed.key"; cp "$tmp/keys/other.pub" "$tmp/keys/mixed.pub"
"$B" build db --defer-vendor --sign "$tmp/keys/mixed.key" --out "$tmp/b" >"$tmp/o" 2>&1; rc=$?
check "build --sign whose .pub is another key's: exit 2" bash -c "test $rc = 2 && grep -q 'does not belong' '$tmp/o'"
cp "$K.key" "$tmp/keys/nopub.key"
"$B" build db --defer-vendor --sign "$tmp/keys/nopub.key" --out "$tmp/b" >"$tmp/o" 2>&1; rc=$?
check "build --sign without PREFIX.pub: exit 2" bash -c "test $rc = 2 && grep -q 'PREFIX.pub' '$tmp/o'"
check "nothing was built" test ! -e "$tmp/b"

echo "$((n - fails))/$n checks passed"
[ $fails = 0 ]

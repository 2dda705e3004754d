#!/usr/bin/env bats
# Signed images, the happy paths and interop with the openssl oracle
# (tests/lib/sign.bash): cosign-format signatures made by the openssl CLI
# (ECDSA P-256, Ed25519, RSA) verify in `moat pull` / `moat verify` under a
# sigstoreSigned policy, and moat's own signatures (`moat key generate`,
# `moat sign`, `moat push --sign-key`) verify with openssl; `moat verify`
# reports every signature; `moat run` re-checks the recorded verification
# against the policy in force; `moat load` of an unsigned archive needs
# --trust-local; every decision is in the audit log.
#
# The registries are Debian's docker-registry on 127.0.0.1 (plain HTTP for
# most cases, one TLS case). Every digest is the registry's, every
# signature is checked by openssl: nothing takes moat's word for what moat
# did. The bad inputs are in sign_bad.bats.

load ../lib/helpers
load ../lib/registry
load ../lib/sign

setup_file() {
	reg_require docker-registry openssl curl python3 htpasswd sha256sum base64 || return 1
	moat_setup_file || return 1
	reg_start_pair || return 1
	# keys and policies: readable by the identity under test
	export SK=$MOAT_T/sig
	install -d -m 0755 "$SK"
	local t
	for t in ecdsa ed25519 rsa; do
		sig_keygen "$SK" "$t" "$t" || return 1
	done
	sig_keygen "$SK" other ecdsa || return 1
	# a policy for commands whose policy does not matter (key, sign, push)
	sig_policy "$SK/policy-base.json" "$REG_HTTP/nothing-here" '[{"type":"reject"}]' || return 1
	export OCIBUILD=$MOAT_T/reg/ocibuild.py
	reg_write_ocibuild "$OCIBUILD"
}

teardown_file() {
	reg_stop "${REG_TLS_DIR:-}"
	reg_stop "${REG_HTTP_DIR:-}"
	moat_teardown_file
}

# A directory the identity under test owns (for keys moat writes).
own_dir() {
	local d=$MOAT_T/own-$1
	rm -rf -- "$d"
	install -d -m 0700 -o "$(reg_owner | cut -d: -f1)" -g "$(reg_owner | cut -d: -f2)" "$d"
	echo "$d"
}

# ---- the kit itself (no moat) ----

@test "kit: openssl signs, sig_fetch reads the registry back, openssl verifies (and rejects)" {
	local lay=$MOAT_T/kit-layout info=$MOAT_T/kit-info.json d t i n
	python3 "$OCIBUILD" "$lay" --tag v1 >"$info"
	reg_push_layout "http://$REG_HTTP" kit/img "$lay" "$info" || fail "push of the layout failed"
	d=$(sig_digest "$REG_HTTP" kit/img v1)
	[[ $d == "$(json_get "$info" 'j["top"]')" ]] || fail "registry serves $d"
	run sig_fetch "$REG_HTTP" kit/img "$d" "$BATS_TEST_TMPDIR/none"
	assert_success
	assert_output 0
	for t in ecdsa ed25519 rsa; do
		sig_sign_push "$REG_HTTP" kit/img "$d" "$REG_HTTP/kit/img:v1" "$SK/$t.key" "$t" 1700000000 ||
			fail "sig_sign_push $t"
	done
	n=$(sig_fetch "$REG_HTTP" kit/img "$d" "$BATS_TEST_TMPDIR/f")
	[[ $n == 3 ]] || fail "sig_fetch found $n signatures, expected 3 (appended)"
	# the layout: config diff_ids = the payload digests; media types, annotations
	local m=$BATS_TEST_TMPDIR/f/manifest.json
	[[ $(json_get "$m" 'j["mediaType"]') == "$SIG_MT_MANIFEST" ]] || fail "$(cat "$m")"
	[[ $(json_get "$m" '",".join(sorted(set(l["mediaType"] for l in j["layers"])))') == "$SIG_MT_PAYLOAD" ]] ||
		fail "$(cat "$m")"
	sig_get_blob "$REG_HTTP" kit/img "$(json_get "$m" 'j["config"]["digest"]')" "$BATS_TEST_TMPDIR/cfg"
	[[ $(json_get "$BATS_TEST_TMPDIR/cfg" 'j["rootfs"]["diff_ids"]') == \
		"$(json_get "$m" '[l["digest"] for l in j["layers"]]')" ]] || fail "diff_ids differ from the layers"
	i=0
	for t in ecdsa ed25519 rsa; do
		i=$((i + 1))
		cmp -s "$BATS_TEST_TMPDIR/f/$i.payload" <(sig_payload "$REG_HTTP/kit/img:v1" "$d" 1700000000) ||
			fail "payload $i differs"
		sig_verify_openssl "$SK/$t.pub" "$t" "$BATS_TEST_TMPDIR/f/$i.payload" "$BATS_TEST_TMPDIR/f/$i.sig" ||
			fail "openssl does not verify the $t signature"
		# the oracle can say no: wrong key, one byte changed
		! sig_verify_openssl "$SK/other.pub" ecdsa "$BATS_TEST_TMPDIR/f/$i.payload" \
			"$BATS_TEST_TMPDIR/f/$i.sig" || fail "the $t signature verified with another key"
		sed 's/v1/v2/' "$BATS_TEST_TMPDIR/f/$i.payload" >"$BATS_TEST_TMPDIR/f/$i.bad"
		! sig_verify_openssl "$SK/$t.pub" "$t" "$BATS_TEST_TMPDIR/f/$i.bad" "$BATS_TEST_TMPDIR/f/$i.sig" ||
			fail "the $t signature verified over a changed payload"
	done
	# the fingerprint is sha256 of the DER, independently computed
	[[ $(sig_fp "$SK/ecdsa.pub") == "sha256:$(openssl pkey -pubin -in "$SK/ecdsa.pub" -outform DER |
		sha256sum | cut -d' ' -f1)" ]] || fail "sig_fp"
}

# ---- openssl's signatures in moat ----

# openssl_signed_case TYPE: an image signed by openssl with TYPE's key
# pulls, verifies and runs under a policy that names that key.
openssl_signed_case() {
	local t=$1 repo=ossl-$1/img ref d st pol fp out
	ref=$REG_HTTP/$repo:v1
	d=$(sig_push_image "$ref") || fail "push failed"
	[[ -n $d ]] || fail "no digest for $ref"
	sig_sign_push "$REG_HTTP" "$repo" "$d" "$ref" "$SK/$t.key" "$t" 1700000000 || fail "signing failed"
	pol=$SK/policy-$t.json
	sig_policy "$pol" "$REG_HTTP/ossl-$t" "$(sig_req_key "$SK/$t.pub")"
	sig_use_policy "$pol"
	fp=$(sig_fp "$SK/$t.pub")
	st=$(reg_state "ossl-$t")

	run --separate-stderr mreg_in "$st" verify "$ref"
	assert_success
	out=$output
	assert_line --regexp "^signature 1: accepted: key $fp identity $ref digest $d signed $(sig_time 1700000000)( |$)"
	assert_line --regexp "^Verified $ref@$d: "
	sig_assert_decision "$st" accept verify "$repo"

	run --separate-stderr mreg_in "$st" pull "$ref"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "pulled '$(pulled_digest)', the registry serves $d"$'\n'"$output"
	sig_assert_decision "$st" accept pull "$repo"
	[[ $(sig_field "$(sig_last_decision "$st")" keys) == *"$fp"* ]] ||
		fail "the decision does not name the key $fp: $(sig_last_decision "$st")"
	[[ $(sig_field "$(sig_last_decision "$st")" digest) == "$d" ]] ||
		fail "the decision's digest: $(sig_last_decision "$st")"

	run --separate-stderr mreg_in "$st" run --rm "$ref" true
	assert_success
}

@test "openssl ECDSA P-256 signature: moat verify accepts it (fingerprint = sha256 of the DER), pull and run work" {
	openssl_signed_case ecdsa
}

@test "openssl Ed25519 signature: moat verify accepts it, pull and run work" {
	openssl_signed_case ed25519
}

@test "openssl RSA-2048 signature: moat verify accepts it, pull and run work" {
	openssl_signed_case rsa
}

@test "openssl signature with \"optional\": null (cosign's own form) and matchRepository: a pull by another tag" {
	local repo=ossl-null/img d st pol
	d=$(sig_push_image "$REG_HTTP/$repo:v1") || fail "push failed"
	mreg tag "$IMG" "$REG_HTTP/$repo:other" && mreg push "$REG_HTTP/$repo:other" >/dev/null
	# signed for :v1, no timestamp
	sig_sign_push "$REG_HTTP" "$repo" "$d" "$REG_HTTP/$repo:v1" "$SK/ecdsa.key" ecdsa || fail "signing"
	pol=$SK/policy-null.json
	sig_policy "$pol" "$REG_HTTP/$repo" "$(sig_req_key "$SK/ecdsa.pub" '{"type":"matchRepository"}')"
	sig_use_policy "$pol"
	st=$(reg_state null)
	run --separate-stderr mreg_in "$st" verify "$REG_HTTP/$repo:other"
	assert_success
	assert_line --regexp "^signature 1: accepted: key $(sig_fp "$SK/ecdsa.pub") identity $REG_HTTP/$repo:v1 digest $d signed -"
	run --separate-stderr mreg_in "$st" pull "$REG_HTTP/$repo:other"
	assert_success
	# the default identity rule (matchRepoDigestOrExact) would not take :v1's signature for :other
	sig_policy "$pol" "$REG_HTTP/$repo" "$(sig_req_key "$SK/ecdsa.pub")"
	st=$(reg_state null2)
	run --separate-stderr mreg_in "$st" pull "$REG_HTTP/$repo:other"
	assert_failure 125
	[[ $stderr == *"rejected by the trust policy"* ]] || fail "$stderr"
	# but by digest it is the same repository: accepted
	run --separate-stderr mreg_in "$st" pull "$REG_HTTP/$repo@$d"
	assert_success
}

@test "verify --key PUB: only that key counts, whatever the policy says" {
	local repo=keyflag/img ref d st
	ref=$REG_HTTP/$repo:v1
	d=$(sig_push_image "$ref") || fail "push failed"
	sig_sign_push "$REG_HTTP" "$repo" "$d" "$ref" "$SK/ed25519.key" ed25519 1700000000 || fail "signing"
	# a policy that rejects everything: --key replaces it
	sig_policy "$SK/policy-rejectall.json" "$REG_HTTP" '[{"type":"reject"}]'
	sig_use_policy "$SK/policy-rejectall.json"
	st=$(reg_state keyflag)
	run --separate-stderr mreg_in "$st" verify --key "$SK/ed25519.pub" "$ref"
	assert_success
	assert_line --regexp "^signature 1: accepted: key $(sig_fp "$SK/ed25519.pub") "
	assert_line --regexp "^Verified $ref@$d: "
	run --separate-stderr mreg_in "$st" verify --key "$SK/ecdsa.pub" "$ref"
	assert_failure 1
	assert_line --regexp "^signature 1: rejected: "
	# the spec says "Error: REF@DIGEST: ..."; moat's one error line is "moat: ..."
	[[ $stderr == "moat: $ref@$d: rejected by the trust policy: "* ]] || fail "$stderr"
}

@test "TLS registry: an openssl-signed image pulls under the policy (the --trust-policy flag)" {
	printf '%s\n' "$REG_PASS" | mreg login -u "$REG_USER" --password-stdin "$REG_TLS" >/dev/null ||
		fail "login"
	local repo=tls/img ref d st pol
	ref=$REG_TLS/$repo:v1
	mreg tag "$IMG" "$ref" && mreg push "$ref" >/dev/null || fail "push failed"
	SIG_SCHEME=https
	SIG_CURL=(--cacert "$REG_PKI/ca.crt" -u "$REG_USER:$REG_PASS")
	d=$(sig_digest "$REG_TLS" "$repo" v1)
	[[ -n $d ]] || fail "no digest"
	sig_sign_push "$REG_TLS" "$repo" "$d" "$ref" "$SK/ecdsa.key" ecdsa 1700000000 || fail "signing"
	[[ $(sig_fetch "$REG_TLS" "$repo" "$d" "$BATS_TEST_TMPDIR/f") == 1 ]] || fail "not pushed"
	pol=$SK/policy-tls.json
	sig_policy "$pol" "$REG_TLS/tls" "$(sig_req_key "$SK/ecdsa.pub")"
	st=$(reg_state tls)
	unset REG_EXTRA_ENV
	run --separate-stderr mreg_in "$st" --trust-policy "$pol" pull "$ref"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "$output"
	sig_assert_decision "$st" accept pull "$repo"
	run --separate-stderr mreg_in "$st" --trust-policy "$pol" run --rm "$ref" true
	assert_success
}

# ---- moat's signatures in openssl ----

@test "key generate + sign: moat's signatures verify with openssl (ECDSA, Ed25519, RSA); a second sign appends" {
	local dir t prefix repo ref d n fp
	dir=$(own_dir keygen)
	export SIG_ENV="MOAT_KEY_PASSWORD=test-pass-1"
	sig_use_policy "$SK/policy-base.json"
	for t in ecdsa-p256 ed25519 rsa; do
		prefix=$dir/$t
		run --separate-stderr mreg key generate --out "$prefix" --type "$t"
		assert_success
		[[ $(stat -c %a "$prefix.key") == 600 ]] || fail "$prefix.key mode $(stat -c %a "$prefix.key")"
		[[ $(stat -c %u:%g "$prefix.key") == "$(reg_owner)" ]] || fail "$prefix.key owner"
		[[ $(head -n 1 "$prefix.key") == "-----BEGIN ENCRYPTED PRIVATE KEY-----" ]] ||
			fail "$(head -n 1 "$prefix.key")"
		[[ $(head -n 1 "$prefix.pub") == "-----BEGIN PUBLIC KEY-----" ]] || fail "$(head -n 1 "$prefix.pub")"
		# the password really is the one given (openssl decrypts it)
		openssl pkey -in "$prefix.key" -passin pass:test-pass-1 -noout || fail "openssl cannot decrypt $prefix.key"
		! openssl pkey -in "$prefix.key" -passin pass:wrong -noout 2>/dev/null ||
			fail "$prefix.key decrypts with a wrong password"
		fp=$(sig_fp "$prefix.pub")
		[[ $output == *"$fp"* ]] || fail "key generate printed '$output', the key is $fp"
		case $t in
		ecdsa-p256) [[ $(sig_key_type "$prefix.pub") == ecdsa ]] ;;
		*) [[ $(sig_key_type "$prefix.pub") == "$t" ]] ;;
		esac || fail "$t: the key is $(sig_key_type "$prefix.pub")"

		repo=mine-$t/img
		ref=$REG_HTTP/$repo:v1
		d=$(sig_push_image "$ref") || fail "push failed"
		run --separate-stderr mreg sign --key "$prefix.key" "$ref"
		assert_success
		# the spec: "Signed IMAGE@DIGEST"; moat names the repository and the digest
		assert_output --partial "Signed $REG_HTTP/$repo@$d with key $fp"
		n=$(sig_fetch "$REG_HTTP" "$repo" "$d" "$BATS_TEST_TMPDIR/$t")
		[[ $n == 1 ]] || fail "$n signatures in the registry after one sign"
		sig_verify_openssl "$prefix.pub" "$(sig_key_type "$prefix.pub")" \
			"$BATS_TEST_TMPDIR/$t/1.payload" "$BATS_TEST_TMPDIR/$t/1.sig" ||
			fail "openssl does not verify moat's $t signature"
		# the payload is the spec's
		local p=$BATS_TEST_TMPDIR/$t/1.payload
		[[ $(json_get "$p" 'j["critical"]["identity"]["docker-reference"]') == "$ref" ]] || fail "$(cat "$p")"
		[[ $(json_get "$p" 'j["critical"]["image"]["docker-manifest-digest"]') == "$d" ]] || fail "$(cat "$p")"
		[[ $(json_get "$p" 'j["critical"]["type"]') == "cosign container image signature" ]] || fail "$(cat "$p")"
		[[ $(json_get "$p" '",".join(sorted(j["critical"]))') == "identity,image,type" ]] || fail "$(cat "$p")"
		[[ $(json_get "$p" 'j["optional"]["creator"]') == moat ]] || fail "$(cat "$p")"
		local ts now
		ts=$(json_get "$p" 'j["optional"]["timestamp"]')
		now=$(date +%s)
		((ts > now - 600 && ts <= now + 5)) || fail "timestamp $ts, now $now"
		# the layout is cosign's
		[[ $(json_get "$BATS_TEST_TMPDIR/$t/manifest.json" 'j["layers"][0]["mediaType"]') == "$SIG_MT_PAYLOAD" ]] ||
			fail "$(cat "$BATS_TEST_TMPDIR/$t/manifest.json")"
	done

	# a second signature is appended, the first kept
	run --separate-stderr mreg sign --key "$dir/ecdsa-p256.key" "$REG_HTTP/mine-ed25519/img:v1"
	assert_success
	d=$(sig_digest "$REG_HTTP" mine-ed25519/img v1)
	n=$(sig_fetch "$REG_HTTP" mine-ed25519/img "$d" "$BATS_TEST_TMPDIR/two")
	[[ $n == 2 ]] || fail "$n signatures after the second sign"
	sig_verify_openssl "$dir/ed25519.pub" ed25519 "$BATS_TEST_TMPDIR/two/1.payload" "$BATS_TEST_TMPDIR/two/1.sig" ||
		fail "the first signature changed"
	sig_verify_openssl "$dir/ecdsa-p256.pub" ecdsa "$BATS_TEST_TMPDIR/two/2.payload" "$BATS_TEST_TMPDIR/two/2.sig" ||
		fail "the second signature does not verify"

	# and moat accepts its own signature under a policy naming the key
	sig_policy "$SK/policy-mine.json" "$REG_HTTP/mine-rsa" "$(sig_req_key "$dir/rsa.pub")"
	sig_use_policy "$SK/policy-mine.json"
	local st
	st=$(reg_state mine)
	run --separate-stderr mreg_in "$st" pull "$REG_HTTP/mine-rsa/img:v1"
	assert_success
}

@test "key generate: refuses to overwrite, and without a password and a terminal it fails" {
	local dir
	dir=$(own_dir keygen2)
	export SIG_ENV="MOAT_KEY_PASSWORD=test-pass-1"
	sig_use_policy "$SK/policy-base.json"
	run --separate-stderr mreg key generate --out "$dir/k"
	assert_success
	local before
	before=$(sha256sum "$dir/k.key" "$dir/k.pub")
	run --separate-stderr mreg key generate --out "$dir/k"
	assert_failure 125
	assert_one_error_line
	[[ $(sha256sum "$dir/k.key" "$dir/k.pub") == "$before" ]] || fail "the key was overwritten"
	# no MOAT_KEY_PASSWORD, no /dev/tty (setsid: no controlling terminal)
	export SIG_ENV=
	sig_use_policy "$SK/policy-base.json"
	export MOAT_TEST_USER # for the child bash that runs mreg
	run --separate-stderr setsid -w bash -c "$(declare -f); mreg key generate --out $dir/nopass" \
		</dev/null
	assert_failure 125
	[[ $stderr == *MOAT_KEY_PASSWORD* || $stderr == *tty* ]] || fail "$stderr"
	[[ ! -e $dir/nopass.key ]] || fail "a key was written without a password"
}

@test "sign: openssl-made PKCS#8 keys, unencrypted and encrypted; a wrong password is refused" {
	local dir repo=pk8/img ref d n
	dir=$(own_dir pk8)
	sig_keygen_enc "$dir" p ecdsa 'pk8-pass'
	sig_give "$dir"/p.*
	ref=$REG_HTTP/$repo:v1
	d=$(sig_push_image "$ref") || fail "push failed"
	sig_use_policy "$SK/policy-base.json"
	run --separate-stderr mreg sign --key "$dir/p.key" "$ref"
	assert_success
	export SIG_ENV="MOAT_KEY_PASSWORD=not-it"
	sig_use_policy "$SK/policy-base.json"
	run --separate-stderr mreg sign --key "$dir/p.enc.key" "$ref"
	assert_failure 125
	assert_one_error_line
	export SIG_ENV="MOAT_KEY_PASSWORD=pk8-pass"
	sig_use_policy "$SK/policy-base.json"
	run --separate-stderr mreg sign --key "$dir/p.enc.key" "$REG_HTTP/$repo@$d"
	assert_success
	n=$(sig_fetch "$REG_HTTP" "$repo" "$d" "$BATS_TEST_TMPDIR/f")
	[[ $n == 2 ]] || fail "$n signatures (the wrong password must not have added one)"
	sig_verify_openssl "$dir/p.pub" ecdsa "$BATS_TEST_TMPDIR/f/1.payload" "$BATS_TEST_TMPDIR/f/1.sig" ||
		fail "signature 1"
	sig_verify_openssl "$dir/p.pub" ecdsa "$BATS_TEST_TMPDIR/f/2.payload" "$BATS_TEST_TMPDIR/f/2.sig" ||
		fail "signature 2"
	# by digest: the docker-reference has no tag
	[[ $(json_get "$BATS_TEST_TMPDIR/f/2.payload" 'j["critical"]["identity"]["docker-reference"]') == \
		"$REG_HTTP/$repo" ]] || fail "$(cat "$BATS_TEST_TMPDIR/f/2.payload")"
}

@test "push --sign-key: the pushed image is signed (openssl verifies it)" {
	local dir repo=pushsign/img ref d n
	dir=$(own_dir pushsign)
	sig_keygen "$dir" ps ed25519
	sig_give "$dir"/ps.*
	ref=$REG_HTTP/$repo:v1
	sig_use_policy "$SK/policy-base.json"
	mreg tag "$IMG" "$ref" || fail "tag"
	run --separate-stderr mreg push --sign-key "$dir/ps.key" "$ref"
	assert_success
	d=$(sig_digest "$REG_HTTP" "$repo" v1)
	[[ -n $d ]] || fail "nothing pushed"
	n=$(sig_fetch "$REG_HTTP" "$repo" "$d" "$BATS_TEST_TMPDIR/f")
	[[ $n == 1 ]] || fail "$n signatures after push --sign-key"
	sig_verify_openssl "$dir/ps.pub" ed25519 "$BATS_TEST_TMPDIR/f/1.payload" "$BATS_TEST_TMPDIR/f/1.sig" ||
		fail "openssl does not verify push's signature"
	[[ $(json_get "$BATS_TEST_TMPDIR/f/1.payload" 'j["critical"]["identity"]["docker-reference"]') == "$ref" ]] ||
		fail "$(cat "$BATS_TEST_TMPDIR/f/1.payload")"
	[[ $(json_get "$BATS_TEST_TMPDIR/f/1.payload" 'j["critical"]["image"]["docker-manifest-digest"]') == "$d" ]] ||
		fail "$(cat "$BATS_TEST_TMPDIR/f/1.payload")"
}

# ---- moat verify with several signatures ----

@test "verify: one good and one wrong-key signature: both reported, accepted (exit 0)" {
	local repo=multi/img ref d st
	ref=$REG_HTTP/$repo:v1
	d=$(sig_push_image "$ref") || fail "push failed"
	sig_sign_push "$REG_HTTP" "$repo" "$d" "$ref" "$SK/other.key" ecdsa 1600000000 || fail "signing 1"
	sig_sign_push "$REG_HTTP" "$repo" "$d" "$ref" "$SK/ecdsa.key" ecdsa 1700000000 || fail "signing 2"
	sig_policy "$SK/policy-multi.json" "$REG_HTTP/multi" "$(sig_req_key "$SK/ecdsa.pub")"
	sig_use_policy "$SK/policy-multi.json"
	st=$(reg_state multi)
	run --separate-stderr mreg_in "$st" verify "$ref"
	assert_success
	assert_line --regexp '^signature 1: rejected: '
	assert_line --regexp "^signature 2: accepted: key $(sig_fp "$SK/ecdsa.pub") identity $ref digest $d signed $(sig_time 1700000000)"
	assert_line --regexp "^Verified $ref@$d: "
	[[ $(grep -c '^signature ' <<<"$output") == 2 ]] || fail "$output"
	# the wrong key's fingerprint is not reported as a key that verified
	[[ $output != *"$(sig_fp "$SK/other.pub")"* ]] || fail "the other key is named as verifying: $output"
}

# ---- the policy in force at run time ----

@test "run re-checks the policy: accepted at pull, refused when the policy rejects the scope, runs again after" {
	local repo=later/img ref d st
	ref=$REG_HTTP/$repo:v1
	d=$(sig_push_image "$ref") || fail "push failed"
	sig_sign_push "$REG_HTTP" "$repo" "$d" "$ref" "$SK/ecdsa.key" ecdsa 1700000000 || fail "signing"
	sig_policy "$SK/policy-later-ok.json" "$REG_HTTP/later" "$(sig_req_key "$SK/ecdsa.pub")"
	sig_policy "$SK/policy-later-no.json" "$REG_HTTP/later" '[{"type":"reject"}]'
	sig_policy "$SK/policy-later-key.json" "$REG_HTTP/later" "$(sig_req_key "$SK/other.pub")"
	st=$(reg_state later)
	sig_use_policy "$SK/policy-later-ok.json"
	run --separate-stderr mreg_in "$st" pull "$ref"
	assert_success

	sig_use_policy "$SK/policy-later-no.json"
	run --separate-stderr mreg_in "$st" run --rm "$ref" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"is not trusted by the current policy"* ]] || fail "$stderr"
	[[ $stderr == *"$REG_HTTP/later"* ]] || fail "the message does not name the scope: $stderr"
	local refused
	refused=$(sig_last_decision "$st")

	# another key required now: the recorded signature does not count either
	sig_use_policy "$SK/policy-later-key.json"
	run --separate-stderr mreg_in "$st" run --rm "$ref" true
	assert_failure 125
	[[ $stderr == *"is not trusted by the current policy"* ]] || fail "$stderr"

	sig_use_policy "$SK/policy-later-ok.json"
	run --separate-stderr mreg_in "$st" run --rm "$ref" true
	assert_success
	# the refusal was audited as the spec says
	sig_assert_record "$refused" reject run "$repo"
}

# ---- load ----

@test "load: an unsigned archive is refused without --trust-local, loaded with it; both decisions audited" {
	local tar st
	tar=$(mkimage sign-load.tar --name signload --tag v1)
	st=$(reg_state load)
	sig_policy "$SK/policy-load.json" "$REG_HTTP" '[{"type":"reject"}]'
	sig_use_policy "$SK/policy-load.json"
	local before
	images_in "$st" >/dev/null
	before=$(store_files_in "$st")
	run --separate-stderr mreg_in "$st" load -i "$tar"
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"not signed"* && $stderr == *"--trust-local"* ]] || fail "$stderr"
	[[ $(images_in "$st") != *signload* ]] || fail "loaded anyway: $(images_in "$st")"
	[[ $(store_files_in "$st") == "$before" ]] ||
		fail "files left in the store: $(diff <(echo "$before") <(store_files_in "$st"))"
	sig_assert_decision "$st" reject load signload

	run --separate-stderr mreg_in "$st" load --trust-local -i "$tar"
	assert_success
	[[ $(images_in "$st") == *signload* ]] || fail "not loaded: $(images_in "$st")"
	sig_assert_decision "$st" accept load signload
	[[ $(sig_audit_decisions "$st/audit/audit.log" | grep -c '"action": "load"') -ge 2 ]] ||
		fail "$(sig_audit_decisions "$st/audit/audit.log")"
	run --separate-stderr mreg_in "$st" run --rm signload:v1 true
	assert_success
}

@test "load: a policy scope that accepts the name lets an unsigned archive in without --trust-local" {
	local tar st
	tar=$(mkimage sign-load2.tar --name signload2 --tag v1)
	st=$(reg_state load2)
	sig_policy "$SK/policy-load2.json" docker.io/library/signload2 '[{"type":"insecureAcceptAnything"}]'
	sig_use_policy "$SK/policy-load2.json"
	run --separate-stderr mreg_in "$st" load -i "$tar"
	assert_success
	[[ $(images_in "$st") == *signload2* ]] || fail "not loaded: $(images_in "$st")"
	sig_assert_decision "$st" accept load signload2
}

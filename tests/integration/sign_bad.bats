#!/usr/bin/env bats
# Signed images, the bad inputs: every signature here is made and laid out
# by the openssl oracle (tests/lib/sign.bash), then broken on purpose: no
# signature, a tampered payload, a signature over another digest, one
# replayed from another repository, the wrong key, broken key files,
# broken annotations, a signature manifest of 10,000 layers, a 100 MB
# payload, broken policies, and a tag rolled back to an older signed
# image. Each is rejected with a stable reason (pull exits 125 and stores
# nothing, verify exits 1) and leaves a "reject" trust.decision in the
# audit log; the registry's access log shows what moat did not download.

load ../lib/helpers
load ../lib/registry
load ../lib/sign

setup_file() {
	reg_require docker-registry openssl curl python3 sha256sum base64 || return 1
	moat_setup_file || return 1
	mkdir -p "$MOAT_T/reg/pki"
	export REG_HTTP_DIR=$MOAT_T/reg/http
	REG_HTTP=$(reg_start "$REG_HTTP_DIR" http "$MOAT_T/reg/pki") || return 1
	export REG_HTTP
	reg_client_setup "" "$REG_HTTP"
	export SK=$MOAT_T/sig
	install -d -m 0755 "$SK"
	sig_keygen "$SK" ec ecdsa || return 1
	sig_keygen "$SK" other ecdsa || return 1
	export OCIBUILD=$MOAT_T/reg/ocibuild.py
	reg_write_ocibuild "$OCIBUILD"
}

teardown_file() {
	reg_stop "${REG_HTTP_DIR:-}"
	moat_teardown_file
}

# bad_image NAME [KEYPATH]: the probe image pushed as
# $REG_HTTP/bad-NAME/img:v1, a policy that requires a signature by KEYPATH
# (default: the "ec" key) for $REG_HTTP/bad-NAME, and a fresh state. Sets
# REPO, REF, D (the registry's digest), POL and ST.
bad_image() {
	REPO=bad-$1/img
	REF=$REG_HTTP/$REPO:v1
	D=$(sig_push_image "$REF") || fail "push of $REF failed"
	[[ -n $D ]] || fail "no digest for $REF"
	POL=$SK/policy-$1.json
	sig_policy "$POL" "$REG_HTTP/bad-$1" "$(sig_req_key "${2:-$SK/ec.pub}")"
	sig_use_policy "$POL"
	ST=$(reg_state "$1")
}

# bad_layer PAYLOADFILE SIGB64: a signature layer line for sig_push_layers
# (uploads the payload into REPO).
bad_layer() {
	local pd
	pd=$(sig_put_blob "$REG_HTTP" "$REPO" "$1") || return 1
	echo "$pd $(stat -c %s "$1") $2"
}

# bad_pull_rejected ERE: pull refused (125, store untouched, ERE in the
# message), audited as a rejected pull.
bad_pull_rejected() {
	sig_refused_pull "$ST" "$REF" "$1"
	sig_assert_decision "$ST" reject pull "$REPO"
}

# bad_verify_rejected ERE: `moat verify` exits 1 with the spec's error
# line on stderr; ERE matches its output (signature lines) or stderr.
bad_verify_rejected() {
	run --separate-stderr mreg_in "$ST" verify "$REF"
	assert_failure 1
	# the spec says "Error: REF@DIGEST: ..."; moat's one error line is "moat: ..."
	[[ $stderr == "moat: $REF@$D: rejected by the trust policy: "* ]] ||
		fail "stderr: $stderr"$'\n'"stdout: $output"
	grep -qE -- "$1" <<<"$output"$'\n'"$stderr" || fail "no /$1/ in: $output"$'\n'"$stderr"
	[[ $output != *"Verified "* ]] || fail "$output"
	sig_assert_decision "$ST" reject verify "$REPO"
}

@test "no signature at all: rejected (\"no signatures\"), nothing stored, audited" {
	bad_image nosig
	bad_pull_rejected 'rejected by the trust policy: .*no signature'
	bad_verify_rejected 'no signatures'
}

@test "tampered payload (one byte changed, signature kept): rejected" {
	bad_image tamper
	local p=$BATS_TEST_TMPDIR/p t=$BATS_TEST_TMPDIR/t sig
	sig_payload "$REF" "$D" 1700000000 >"$p"
	sig=$(sig_sign "$SK/ec.key" ecdsa "$p")
	# the same signature over the right payload verifies (a positive control)
	sig_verify_openssl "$SK/ec.pub" ecdsa "$p" <(base64 -d <<<"$sig") || fail "control"
	sed 's/1700000000/1700000001/' "$p" >"$t"
	! cmp -s "$p" "$t" || fail "the payload was not changed"
	bad_layer "$t" "$sig" | sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" >/dev/null ||
		fail "push of the signature manifest"
	bad_pull_rejected 'rejected by the trust policy'
	bad_verify_rejected 'signature 1: rejected: .*(verif|invalid|does not match|bad signature)'
}

@test "a valid signature over another digest, under this digest's .sig tag: rejected" {
	bad_image otherdigest
	local other p=$BATS_TEST_TMPDIR/p
	other=sha256:$(printf 'another image' | sha256sum | cut -d' ' -f1)
	sig_payload "$REF" "$other" 1700000000 >"$p"
	bad_layer "$p" "$(sig_sign "$SK/ec.key" ecdsa "$p")" |
		sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" >/dev/null || fail "push"
	bad_pull_rejected 'rejected by the trust policy'
	bad_verify_rejected "signature 1: rejected: .*$other"
}

@test "replay: repository A's valid signature copied into repository B's .sig tag: rejected for B, explained" {
	local a=$REG_HTTP/bad-replay-a/img:v1 da
	da=$(sig_push_image "$a") || fail "push of $a"
	bad_image replay-b
	[[ $da == "$D" ]] || fail "the two repositories should hold the same image ($da, $D)"
	sig_sign_push "$REG_HTTP" bad-replay-a/img "$D" "$a" "$SK/ec.key" ecdsa 1700000000 || fail "sign A"
	# copied byte for byte: the same payload blob and annotation into B
	local f=$BATS_TEST_TMPDIR/a
	[[ $(sig_fetch "$REG_HTTP" bad-replay-a/img "$D" "$f") == 1 ]] || fail "A's signature"
	bad_layer "$f/1.payload" "$(base64 -w0 <"$f/1.sig")" |
		sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" >/dev/null || fail "push"
	# the signature itself is good: A pulls under a policy for A
	sig_policy "$SK/policy-replay-a.json" "$REG_HTTP/bad-replay-a" "$(sig_req_key "$SK/ec.pub")"
	local sta
	sta=$(reg_state replay-a)
	REG_EXTRA_ENV="MOAT_TRUST_POLICY=$SK/policy-replay-a.json" run --separate-stderr mreg_in "$sta" pull "$a"
	assert_success
	# B: rejected, and verify says why (cosign would accept it)
	bad_pull_rejected 'rejected by the trust policy'
	# the spec's wording: "identity A is not B: a signature for another
	# repository does not count"; moat's names the reference in parentheses
	bad_verify_rejected "signature for another repository \(docker-reference $a\) does not count"
	assert_line --regexp "^signature 1: rejected: key $(sig_fp "$SK/ec.pub") identity $a digest $D "
}

@test "signed with another key: rejected" {
	bad_image wrongkey
	sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/other.key" ecdsa 1700000000 || fail "sign"
	bad_pull_rejected 'rejected by the trust policy'
	bad_verify_rejected 'signature 1: rejected: key -'
}

@test "keyPath with garbage instead of a PEM key: refused, the message names the file" {
	printf 'this is not a key\n%s\n' "$(head -c 300 /dev/urandom | base64 -w0)" >"$SK/garbage.pub"
	chmod 0644 "$SK/garbage.pub"
	bad_image garbagekey "$SK/garbage.pub"
	sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/ec.key" ecdsa 1700000000 || fail "sign"
	bad_pull_rejected "$SK/garbage.pub"
	sig_assert_decision "$ST" reject pull "$REPO"
}

@test "keyPath with a truncated PEM key: refused, the message names the file" {
	head -n 2 "$SK/ec.pub" >"$SK/truncated.pub"
	chmod 0644 "$SK/truncated.pub"
	bad_image truncatedkey "$SK/truncated.pub"
	sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/ec.key" ecdsa 1700000000 || fail "sign"
	bad_pull_rejected "$SK/truncated.pub"
	sig_assert_decision "$ST" reject pull "$REPO"
}

@test "keyPath that does not exist: refused, the message names the file" {
	bad_image nokey "$SK/no-such-key.pub"
	sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/ec.key" ecdsa 1700000000 || fail "sign"
	bad_pull_rejected "$SK/no-such-key.pub"
	sig_assert_decision "$ST" reject pull "$REPO"
}

@test "weak or unsupported keys (RSA-1024, P-384): refused in the policy and for signing, naming the file" {
	local t
	for t in rsa1024 p384; do
		sig_keygen "$SK" "$t" "$t" || fail "keygen $t"
		sig_give "$SK/$t.key"
		bad_image "weak-$t" "$SK/$t.pub"
		# a signature openssl itself accepts
		sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/$t.key" "$t" 1700000000 || fail "sign"
		[[ $(sig_fetch "$REG_HTTP" "$REPO" "$D" "$BATS_TEST_TMPDIR/$t") == 1 ]] || fail "fetch"
		sig_verify_openssl "$SK/$t.pub" "$t" "$BATS_TEST_TMPDIR/$t/1.payload" "$BATS_TEST_TMPDIR/$t/1.sig" ||
			fail "control: openssl does not verify the $t signature"
		bad_pull_rejected "$SK/$t.pub"
		sig_assert_decision "$ST" reject pull "$REPO"
		run --separate-stderr mreg_in "$ST" sign --key "$SK/$t.key" "$REF"
		assert_failure 125
		assert_one_error_line
		[[ $stderr == *"$SK/$t.key"* ]] || fail "$stderr"
		[[ $(sig_fetch "$REG_HTTP" "$REPO" "$D" "$BATS_TEST_TMPDIR/$t.after") == 1 ]] ||
			fail "a refused sign added a signature"
	done
}

@test "signature annotation that is not base64: rejected" {
	bad_image badb64
	local p=$BATS_TEST_TMPDIR/p
	sig_payload "$REF" "$D" 1700000000 >"$p"
	bad_layer "$p" 'MEUC!!not*base64' | sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" >/dev/null ||
		fail "push"
	bad_pull_rejected 'rejected by the trust policy'
	bad_verify_rejected 'signature 1: rejected: .*base64'
}

@test "signature that is valid base64 of garbage (not DER): rejected" {
	bad_image baddder
	local p=$BATS_TEST_TMPDIR/p
	sig_payload "$REF" "$D" 1700000000 >"$p"
	bad_layer "$p" "$(head -c 72 /dev/urandom | base64 -w0)" |
		sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" >/dev/null || fail "push"
	bad_pull_rejected 'rejected by the trust policy'
	bad_verify_rejected 'signature 1: rejected: '
}

@test "a signature manifest of 10,000 layers: rejected as too many, no payload downloaded" {
	bad_image manylayers
	local p=$BATS_TEST_TMPDIR/p line mark
	sig_payload "$REF" "$D" 1700000000 >"$p"
	line=$(bad_layer "$p" "$(sig_sign "$SK/ec.key" ecdsa "$p")") || fail "blob"
	yes "$line" | head -n 10000 | sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" >/dev/null ||
		fail "push of the 10,000-layer manifest"
	[[ $(sig_get_manifest "$REG_HTTP" "$REPO" "$(sig_tag "$D")" | json_get - 'len(j["layers"])') == 10000 ]] ||
		fail "the registry does not hold 10,000 layers"
	mark=$(reg_log_mark "$REG_HTTP_DIR")
	bad_verify_rejected '(layers, at most|too many)'
	bad_pull_rejected 'rejected by the trust policy: .*(layers, at most|too many)'
	local gets
	gets=$(reg_log_since "$REG_HTTP_DIR" "$mark" | grep -c "\"GET /v2/$REPO/blobs/${line%% *} " || true)
	[[ $gets -eq 0 ]] || fail "the payload blob was downloaded $gets times"
}

@test "a 100 MB payload blob: refused by its size, never downloaded" {
	bad_image bigpayload
	local big=$BATS_TEST_TMPDIR/big line mark gets
	head -c 100M /dev/zero >"$big"
	line=$(bad_layer "$big" "$(sig_sign "$SK/ec.key" ecdsa "$big")") || fail "blob"
	[[ $line == *" 104857600 "* ]] || fail "$line"
	rm -f "$big"
	sig_push_layers "$REG_HTTP" "$REPO" "$(sig_tag "$D")" <<<"$line" >/dev/null || fail "push"
	mark=$(reg_log_mark "$REG_HTTP_DIR")
	bad_pull_rejected 'rejected by the trust policy'
	bad_verify_rejected 'signature 1: rejected: .*(at most|too (large|big)|size)'
	gets=$(reg_log_since "$REG_HTTP_DIR" "$mark" | grep -c "\"GET /v2/$REPO/blobs/${line%% *} " || true)
	[[ $gets -eq 0 ]] || fail "the 100 MB blob was downloaded $gets times"
}

@test "a policy file with a syntax error: refused with file:line:column" {
	bad_image syntax
	sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/ec.key" ecdsa 1700000000 || fail "sign"
	# a trailing comma on line 3
	printf '{\n "default": [{"type": "reject"}],\n "transports": {"docker": {"x": [{"type": "reject"},]}}\n}\n' \
		>"$POL"
	sig_refused_pull "$ST" "$REF" "$POL:3:[0-9]+"
	run --separate-stderr mreg_in "$ST" verify "$REF"
	assert_failure
	[[ $stderr == *"$POL:3:"* ]] || fail "$stderr"
	[[ $output != *"Verified "* ]] || fail "$output"
}

@test "a policy with an unknown requirement type: refused, the type named" {
	bad_image unknowntype
	sig_sign_push "$REG_HTTP" "$REPO" "$D" "$REF" "$SK/ec.key" ecdsa 1700000000 || fail "sign"
	sig_policy "$POL" "$REG_HTTP/bad-unknowntype" \
		"[{\"type\":\"sigstoreSignedd\",\"keyPath\":\"$SK/ec.pub\"}]"
	sig_refused_pull "$ST" "$REF" "$POL.*sigstoreSignedd"
	# and not as a weaker rule anywhere: not even for another scope
	run --separate-stderr mreg_in "$ST" verify "$REF"
	assert_failure
	[[ $stderr == *sigstoreSignedd* ]] || fail "$stderr"
}

@test "rollback: the tag moved back to an older signed image; verify shows the old digest and signed time" {
	bad_image rollback
	local da=$D db lay=$BATS_TEST_TMPDIR/lay info=$BATS_TEST_TMPDIR/info.json
	sig_sign_push "$REG_HTTP" "$REPO" "$da" "$REF" "$SK/ec.key" ecdsa 1600000000 || fail "sign A"
	# B: a newer image under the same tag, signed later
	echo "version B" >"$BATS_TEST_TMPDIR/b.txt"
	python3 "$OCIBUILD" "$lay" --tag v1 --file "$BATS_TEST_TMPDIR/b.txt:/version" >"$info"
	reg_push_layout "http://$REG_HTTP" "$REPO" "$lay" "$info" || fail "push B"
	db=$(sig_digest "$REG_HTTP" "$REPO" v1)
	[[ $db != "$da" && -n $db ]] || fail "B's digest $db"
	sig_sign_push "$REG_HTTP" "$REPO" "$db" "$REF" "$SK/ec.key" ecdsa 1700000000 || fail "sign B"
	run --separate-stderr mreg_in "$ST" verify "$REF"
	assert_success
	assert_line --regexp "^Verified $REF@$db: "
	# the attacker moves the tag back to A (a valid, older signature)
	mreg push "$REF" >/dev/null || fail "push A again"
	[[ $(sig_digest "$REG_HTTP" "$REPO" v1) == "$da" ]] || fail "the tag did not move back"
	run --separate-stderr mreg_in "$ST" verify "$REF"
	assert_success
	assert_line --regexp "^signature 1: accepted: key $(sig_fp "$SK/ec.pub") identity $REF digest $da signed $(sig_time 1600000000)"
	assert_line --regexp "^Verified $REF@$da: "
	[[ $output != *"$(sig_time 1700000000)"* ]] || fail "B's time shown for A: $output"
	# a policy that pins the scope REPO@B: the rolled-back tag is refused, B pulls
	sig_policy "$POL" "$REG_HTTP/$REPO" '[{"type":"reject"}]' \
		"$REG_HTTP/$REPO@$db" "$(sig_req_key "$SK/ec.pub")"
	sig_refused_pull "$ST" "$REF" 'rejected by the trust policy'
	sig_assert_decision "$ST" reject pull "$REPO"
	run --separate-stderr mreg_in "$ST" pull "$REG_HTTP/$REPO@$db"
	assert_success
}

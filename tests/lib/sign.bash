# tests/lib/sign.bash - cosign-format image signatures made and read
# without moat: the independent oracle of the signing tests.
#
# Loaded by .bats files after ../lib/helpers and ../lib/registry:
#
#   load ../lib/helpers
#   load ../lib/registry
#   load ../lib/sign
#
# Everything here uses only openssl, curl, python3 (standard library),
# sha256sum and base64, never moat's code, so a test that checks moat's
# signatures with it (or feeds moat signatures made by it) does not take
# moat's word for anything. The layout is cosign's (sigstore/cosign
# specs/SIGNATURE_SPEC.md): the tag sha256-<hex>.sig in the image's own
# repository holds an OCI manifest whose config lists the payload digests
# in rootfs.diff_ids and whose layers are the simple-signing payloads,
# each with its base64 signature in the annotation
# dev.cosignproject.cosign/signature.
#
# The registry is reached over plain HTTP by default. SIG_SCHEME=https and
# the array SIG_CURL (extra curl arguments: --cacert, -u) switch a call to
# the TLS registry.
#
# What it gives:
#  - sig_keygen DIR NAME TYPE, sig_keygen_enc DIR NAME TYPE PASS: keys
#    (TYPE ecdsa = P-256, p384, ed25519, rsa = 2048 bits, rsa1024);
#  - sig_fp PUB: "sha256:<hex>" of the public key's DER (moat's
#    fingerprint);
#  - sig_payload REF DIGEST [TIMESTAMP]: the payload bytes;
#  - sig_sign KEY TYPE FILE / sig_verify_openssl PUB TYPE PAYLOAD SIG;
#  - sig_put_blob, sig_push_manifest, sig_push (append one signature),
#    sig_fetch (every signature of a digest into files);
#  - sig_policy FILE SCOPE REQS [SCOPE REQS]...: a trust policy;
#  - sig_digest HOSTPORT REPO TAG: the manifest digest the registry serves.
#
# Nothing here binds or connects to anything but 127.0.0.1.

SIG_MT_PAYLOAD='application/vnd.dev.cosign.simplesigning.v1+json'
SIG_MT_MANIFEST='application/vnd.oci.image.manifest.v1+json'
SIG_MT_CONFIG='application/vnd.oci.image.config.v1+json'
SIG_ANN='dev.cosignproject.cosign/signature'
SIG_CURL=()

# ---- keys ----

# sig_keygen DIR NAME TYPE: DIR/NAME.key (unencrypted PKCS#8, mode 0600)
# and DIR/NAME.pub (SubjectPublicKeyInfo PEM, mode 0644).
sig_keygen() {
	local d=$1 name=$2 type=$3
	local -a alg
	case $type in
	ecdsa) alg=(-algorithm EC -pkeyopt ec_paramgen_curve:prime256v1
		-pkeyopt ec_param_enc:named_curve) ;;
	p384) alg=(-algorithm EC -pkeyopt ec_paramgen_curve:secp384r1
		-pkeyopt ec_param_enc:named_curve) ;;
	ed25519) alg=(-algorithm ED25519) ;;
	rsa) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
	rsa1024) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:1024) ;;
	*)
		echo "sig_keygen: unknown key type $type" >&2
		return 1
		;;
	esac
	mkdir -p "$d"
	(umask 077 && openssl genpkey "${alg[@]}" -out "$d/$name.key") 2>/dev/null || return 1
	openssl pkey -in "$d/$name.key" -pubout -out "$d/$name.pub" || return 1
	chmod 0644 "$d/$name.pub"
	grep -q -- '-----BEGIN PRIVATE KEY-----' "$d/$name.key" || {
		echo "sig_keygen: $d/$name.key is not an unencrypted PKCS#8 key" >&2
		return 1
	}
}

# sig_keygen_enc DIR NAME TYPE PASS: as sig_keygen, plus DIR/NAME.enc.key,
# the same key as encrypted PKCS#8 (PBES2, AES-256-CBC) under PASS.
sig_keygen_enc() {
	local d=$1 name=$2 type=$3
	sig_keygen "$d" "$name" "$type" || return 1
	(umask 077 && SIG_PASS=$4 openssl pkcs8 -topk8 -v2 aes-256-cbc -passout env:SIG_PASS \
		-in "$d/$name.key" -out "$d/$name.enc.key") || return 1
	grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$d/$name.enc.key"
}

# sig_fp PUB: the fingerprint moat prints, sha256 of the key's DER.
sig_fp() {
	local h
	h=$(openssl pkey -pubin -in "$1" -outform DER | sha256sum) || return 1
	echo "sha256:${h%% *}"
}

# sig_give FILE...: the files belong to the identity under test (a key
# moat must read as that user).
sig_give() { chown "$(reg_owner)" "$@"; }

# ---- payloads and signatures ----

# sig_payload REF DIGEST [TIMESTAMP]: the simple-signing payload, no
# trailing newline, in cosign's key order and without spaces. With no
# TIMESTAMP, "optional" is null (what cosign writes without annotations);
# with one, {"creator":...,"timestamp":N} (what containers/image writes).
sig_payload() {
	local opt=null
	[[ -n ${3:-} ]] && opt="{\"creator\":\"moat-tests\",\"timestamp\":$3}"
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":%s}' \
		"$1" "$2" "$opt"
}

# sig_sign KEY TYPE FILE: base64 (one line) of KEY's signature over the
# bytes of FILE: SHA-256 and DER for ECDSA, PKCS#1 v1.5 for RSA, raw
# (PureEdDSA) for Ed25519.
sig_sign() {
	local key=$1 type=$2 file=$3 sig
	case $type in
	ed25519) sig=$(openssl pkeyutl -sign -inkey "$key" -rawin -in "$file" | base64 -w0) ;;
	ecdsa | p384 | rsa | rsa1024) sig=$(openssl dgst -sha256 -sign "$key" "$file" | base64 -w0) ;;
	*)
		echo "sig_sign: unknown key type $type" >&2
		return 1
		;;
	esac
	[[ -n $sig ]] || return 1
	echo "$sig"
}

# sig_verify_openssl PUB TYPE PAYLOAD SIG: the exit status is openssl's
# verdict on the raw (DER or Ed25519) signature file SIG over PAYLOAD.
sig_verify_openssl() {
	local pub=$1 type=$2 payload=$3 sig=$4
	case $type in
	ed25519)
		openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$payload" -sigfile "$sig" \
			>/dev/null 2>&1
		;;
	*) openssl dgst -sha256 -verify "$pub" -signature "$sig" "$payload" >/dev/null 2>&1 ;;
	esac
}

# sig_key_type PUB: the TYPE word for a public key file (for keys moat
# generated): ecdsa, p384, ed25519 or rsa.
sig_key_type() {
	local t
	t=$(openssl pkey -pubin -in "$1" -noout -text 2>/dev/null) || return 1
	case $t in
	*ED25519*) echo ed25519 ;;
	*"NIST CURVE: P-256"* | *prime256v1*) echo ecdsa ;;
	*"NIST CURVE: P-384"* | *secp384r1*) echo p384 ;;
	*Modulus:*) echo rsa ;;
	*)
		echo "sig_key_type: cannot tell the type of $1: $t" >&2
		return 1
		;;
	esac
}

# ---- the registry ----

sig_base() { echo "${SIG_SCHEME:-http}://$1"; }

# sig_tag DIGEST: the cosign tag for DIGEST (sha256-<hex>.sig).
sig_tag() { echo "sha256-${1#sha256:}.sig"; }

# sig_digest HOSTPORT REPO TAG: the manifest digest the registry serves.
sig_digest() { reg_manifest_digest "$(sig_base "$1")" "$2" "$3" "${SIG_CURL[@]}"; }

# sig_put_blob HOSTPORT REPO FILE: uploads FILE as a blob (POST, then a
# monolithic PUT); prints its digest.
sig_put_blob() {
	local h=$1 repo=$2 file=$3 base hex loc sep
	base=$(sig_base "$h")
	hex=$(sha256sum <"$file") || return 1
	hex=${hex%% *}
	loc=$(curl -sS --fail --max-time 20 -X POST -D - -o /dev/null "${SIG_CURL[@]}" \
		"$base/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p') ||
		return 1
	[[ -n $loc ]] || return 1
	[[ $loc == /* ]] && loc=$base$loc
	sep='?'
	[[ $loc == *\?* ]] && sep='&'
	curl -sS --fail --max-time 300 -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary @"$file" "${SIG_CURL[@]}" "$loc${sep}digest=sha256%3A$hex" >/dev/null ||
		return 1
	echo "sha256:$hex"
}

# sig_push_manifest HOSTPORT REPO TAG FILE: PUTs FILE as an OCI manifest
# under TAG (or a digest); prints the digest the registry gives it.
sig_push_manifest() {
	local h=$1 repo=$2 tag=$3 file=$4
	curl -sS --fail --max-time 60 -X PUT -D - -o /dev/null -H "Content-Type: $SIG_MT_MANIFEST" \
		--data-binary @"$file" "${SIG_CURL[@]}" "$(sig_base "$h")/v2/$repo/manifests/$tag" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | grep . || return 1
}

# sig_get_manifest HOSTPORT REPO REF: the manifest's bytes (fails on 404).
sig_get_manifest() { reg_manifest "$(sig_base "$1")" "$2" "$3" "${SIG_CURL[@]}"; }

# sig_get_blob HOSTPORT REPO DIGEST OUT: downloads a blob into OUT and
# checks its digest.
sig_get_blob() {
	local h=$1 repo=$2 digest=$3 out=$4 got
	curl -sS --fail -L --max-time 300 -o "$out" "${SIG_CURL[@]}" \
		"$(sig_base "$h")/v2/$repo/blobs/$digest" || return 1
	got=$(sha256sum <"$out")
	[[ sha256:${got%% *} == "$digest" ]] || {
		echo "sig_get_blob: $repo blob $digest has digest sha256:${got%% *}" >&2
		return 1
	}
}

# sig_manifest_build [OLD]: reads layer lines "DIGEST SIZE SIGB64" (or
# "DIGEST SIZE -" for a layer without the annotation) on stdin and prints
# a signature manifest whose layers are OLD's (a manifest file; none if
# empty) followed by these. Its config (rootfs.diff_ids = every layer's
# digest, as cosign writes it) goes to the file $SIG_CONFIG_OUT, which the
# caller uploads. Internal to sig_push and the bad-case builders.
sig_manifest_build() {
	# The script itself comes on python's stdin, so the lines go through a
	# file (10,000 of them are more than one argv string may hold).
	local lines rc
	lines=$(mktemp) || return 1
	cat >"$lines"
	python3 - "${1:-}" "$SIG_CONFIG_OUT" "$SIG_MT_PAYLOAD" "$SIG_ANN" "$lines" <<'PY'
import hashlib, json, sys

old, cfg_out, mt, ann, new = sys.argv[1:6]
layers = []
if old:
    with open(old) as f:
        layers = json.load(f).get("layers") or []
for line in open(new).read().splitlines():
    d, size, sig = line.split(" ")
    l = {"mediaType": mt, "size": int(size), "digest": d}
    if sig != "-":
        l["annotations"] = {ann: sig}
    layers.append(l)
cfg = {"architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z",
       "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
       "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}
cfg_b = json.dumps(cfg, separators=(",", ":")).encode()
with open(cfg_out, "wb") as f:
    f.write(cfg_b)
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                  "size": len(cfg_b), "digest": "sha256:" + hashlib.sha256(cfg_b).hexdigest()},
       "layers": layers}
sys.stdout.write(json.dumps(man, separators=(",", ":")))
PY
	rc=$?
	rm -f -- "$lines"
	return $rc
}

# sig_push_layers HOSTPORT REPO TAG [OLD]: layer lines on stdin (see
# sig_manifest_build; the blobs must be in REPO already): uploads the
# config and PUTs the manifest under TAG. Prints the manifest's digest.
sig_push_layers() {
	local h=$1 repo=$2 tag=$3 old=${4:-} tmp
	tmp=$(mktemp -d) || return 1
	SIG_CONFIG_OUT=$tmp/config sig_manifest_build "$old" >"$tmp/manifest" &&
		sig_put_blob "$h" "$repo" "$tmp/config" >/dev/null &&
		sig_push_manifest "$h" "$repo" "$tag" "$tmp/manifest"
	local rc=$?
	rm -rf -- "$tmp"
	return $rc
}

# sig_push HOSTPORT REPO DIGEST PAYLOADFILE SIGB64: appends one signature
# to DIGEST's signature manifest (sha256-<hex>.sig in REPO), creating it
# if absent, as cosign and containers/image do. Prints the new manifest's
# digest.
sig_push() {
	local h=$1 repo=$2 digest=$3 payload=$4 sig=$5 tmp pd size rc
	tmp=$(mktemp -d) || return 1
	pd=$(sig_put_blob "$h" "$repo" "$payload") || {
		rm -rf -- "$tmp"
		return 1
	}
	size=$(stat -c %s "$payload")
	# an absent manifest is a 404: start from nothing
	sig_get_manifest "$h" "$repo" "$(sig_tag "$digest")" >"$tmp/old" 2>/dev/null || : >"$tmp/old"
	[[ -s $tmp/old ]] || rm -f "$tmp/old"
	echo "$pd $size $sig" | sig_push_layers "$h" "$repo" "$(sig_tag "$digest")" \
		"$([[ -f $tmp/old ]] && echo "$tmp/old")"
	rc=$?
	rm -rf -- "$tmp"
	return $rc
}

# sig_sign_push HOSTPORT REPO DIGEST REF KEY TYPE [TIMESTAMP]: the whole
# round: a payload for REF and DIGEST, signed with KEY, appended. Leaves
# the payload in $SIG_LAST_PAYLOAD (a temp file under BATS_TEST_TMPDIR or
# /tmp).
sig_sign_push() {
	local h=$1 repo=$2 digest=$3 ref=$4 key=$5 type=$6 ts=${7:-} sig
	SIG_LAST_PAYLOAD=$(mktemp "${BATS_TEST_TMPDIR:-/tmp}/payload.XXXXXX") || return 1
	sig_payload "$ref" "$digest" "$ts" >"$SIG_LAST_PAYLOAD" || return 1
	sig=$(sig_sign "$key" "$type" "$SIG_LAST_PAYLOAD") || return 1
	sig_push "$h" "$repo" "$digest" "$SIG_LAST_PAYLOAD" "$sig" >/dev/null
}

# sig_fetch HOSTPORT REPO DIGEST OUTDIR: every signature of DIGEST as
# files OUTDIR/N.payload (the blob, digest checked) and OUTDIR/N.sig (the
# annotation, base64-decoded), N = 1, 2, ... in layer order; prints the
# number of layers (0 when there is no signature manifest).
sig_fetch() {
	local h=$1 repo=$2 digest=$3 out=$4 n i d
	mkdir -p "$out"
	if ! sig_get_manifest "$h" "$repo" "$(sig_tag "$digest")" >"$out/manifest.json" 2>/dev/null; then
		echo 0
		return 0
	fi
	n=$(json_get "$out/manifest.json" 'len(j["layers"])') || return 1
	for ((i = 1; i <= n; i++)); do
		d=$(json_get "$out/manifest.json" "j['layers'][$i - 1]['digest']") || return 1
		sig_get_blob "$h" "$repo" "$d" "$out/$i.payload" || return 1
		json_get "$out/manifest.json" \
			"j['layers'][$i - 1].get('annotations', {}).get('$SIG_ANN', '')" |
			base64 -d >"$out/$i.sig" || return 1
	done
	echo "$n"
}

# ---- trust policies ----

# sig_policy FILE SCOPE REQS [SCOPE REQS]...: writes a policy (mode 0644)
# whose default rejects and whose docker transport gives each SCOPE the
# requirement list REQS (JSON text, e.g. '[{"type":"insecureAcceptAnything"}]').
sig_policy() {
	local f=$1
	shift
	python3 - "$f" "$@" <<'PY' || return 1
import json, sys
f, args = sys.argv[1], sys.argv[2:]
scopes = {}
for i in range(0, len(args), 2):
    scopes[args[i]] = json.loads(args[i + 1])
with open(f, "w") as out:
    json.dump({"default": [{"type": "reject"}], "transports": {"docker": scopes}}, out, indent=1)
    out.write("\n")
PY
	chmod 0644 "$f"
}

# sig_req_key PUB [IDENTITY-JSON]: one sigstoreSigned requirement list
# for the key file PUB (absolute), optionally with a signedIdentity.
sig_req_key() {
	if [[ -n ${2:-} ]]; then
		printf '[{"type":"sigstoreSigned","keyPath":"%s","signedIdentity":%s}]' "$1" "$2"
	else
		printf '[{"type":"sigstoreSigned","keyPath":"%s"}]' "$1"
	fi
}

# ---- the audit log ----

# sig_audit_decisions LOGFILE: the "trust.decision" records, one JSON
# object a line (empty when there is none or no log).
sig_audit_decisions() {
	[[ -f $1 ]] || return 0
	python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line:
        continue
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if isinstance(r, dict) and r.get("event") == "trust.decision":
        print(json.dumps(r, sort_keys=True))
PY
}

# ---- moat's side (bats only: needs helpers.bash and registry.bash) ----

# sig_use_policy FILE: moat (mreg / mreg_in) runs with FILE as its whole
# trust policy (MOAT_TRUST_POLICY, through REG_EXTRA_ENV, which the
# rootless identity's `env -i` keeps). No spaces in FILE.
sig_use_policy() { export REG_EXTRA_ENV="MOAT_TRUST_POLICY=$1${SIG_ENV:+ $SIG_ENV}"; }

# sig_time TS: TS (unix seconds) as moat prints it, RFC 3339 UTC.
sig_time() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# sig_push_image REF: the probe image pushed to REF by moat (push needs no
# trust); prints the digest the registry serves for it (plain HTTP).
sig_push_image() {
	local ref=$1 hp repo tag
	hp=${ref%%/*}
	repo=${ref#*/}
	tag=${repo##*:}
	repo=${repo%:*}
	mreg tag "$IMG" "$ref" >/dev/null || return 1
	mreg push "$ref" >/dev/null || return 1
	sig_digest "$hp" "$repo" "$tag"
}

# sig_last_decision STATE: the last "trust.decision" audit record of the
# identity's state dir STATE ('' when none).
sig_last_decision() { sig_audit_decisions "$1/audit/audit.log" | tail -n 1; }

# sig_field JSON KEY: a record's value (strings bare, others as JSON).
sig_field() {
	python3 -c 'import json, sys
v = json.loads(sys.argv[1]).get(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# sig_assert_record RECORD VERDICT ACTION REFPART: the trust.decision
# record (JSON) says VERDICT for ACTION about a ref containing REFPART,
# with a reason.
sig_assert_record() {
	local r=$1
	[[ -n $r ]] || fail "no trust.decision record"
	[[ $(sig_field "$r" verdict) == "$2" ]] || fail "verdict is not $2: $r"
	[[ $(sig_field "$r" action) == "$3" ]] || fail "action is not $3: $r"
	[[ $(sig_field "$r" ref) == *"$4"* ]] || fail "ref does not name $4: $r"
	[[ -n $(sig_field "$r" reason) && $(sig_field "$r" reason) != null ]] ||
		fail "no reason: $r"
}

# sig_assert_decision STATE VERDICT ACTION REFPART: the same for the last
# trust.decision record of STATE's audit log.
sig_assert_decision() {
	local r
	r=$(sig_last_decision "$1")
	[[ -n $r ]] || fail "no trust.decision record in $1/audit/audit.log"
	sig_assert_record "$r" "$2" "$3" "$4"
}

# sig_refused_pull STATE REF ERE: `moat pull REF` in STATE exits 125 with
# one "moat: ..." line matching ERE (grep -E) and saying "rejected by the
# trust policy" or naming a policy problem, and leaves the store as it
# was (files, directories, staging, images). $stderr stays for the caller.
sig_refused_pull() {
	local st=$1 ref=$2 ere=$3 before_images before_files before_dirs
	before_images=$(images_in "$st")
	before_files=$(store_files_in "$st")
	before_dirs=$(store_dirs_in "$st")
	run --separate-stderr mreg_in "$st" pull "$ref"
	assert_failure 125
	assert_one_error_line
	grep -qE -- "$ere" <<<"$stderr" || fail "stderr does not match /$ere/: $stderr"
	[[ $(store_dirs_in "$st") == "$before_dirs" ]] ||
		fail "directories left in the store: $(diff <(echo "$before_dirs") <(store_dirs_in "$st"))"
	[[ -z $(staging_in "$st") ]] || fail "staging left behind: $(staging_in "$st")"
	[[ $(images_in "$st") == "$before_images" ]] ||
		fail "moat images changed: $(diff <(echo "$before_images") <(images_in "$st"))"
	[[ $(store_files_in "$st") == "$before_files" ]] ||
		fail "files left in the store: $(diff <(echo "$before_files") <(store_files_in "$st"))"
}

#!/usr/bin/env bats
# moat against a real registry: Debian's docker-registry on 127.0.0.1,
# three times (tests/lib/registry.bash): with TLS (a CA made at test time)
# and htpasswd Basic auth; plain HTTP without auth (the insecure path);
# TLS with Bearer tokens from a token server in the suite. login/logout,
# push (new, again: blobs skipped, under another name: cross-repository
# mount), pull by tag and by digest into a fresh store, TLS verification
# and the insecure list, multi-arch index selection, the token flow, and
# interop with skopeo and umoci in both directions.
#
# Every digest is checked against what the registry itself serves (curl),
# every "blob skipped" / "mounted" against the registry's access log, so
# no check takes moat's word for what moat did.

load ../lib/helpers
load ../lib/registry

setup_file() {
	reg_require docker-registry skopeo umoci openssl htpasswd curl python3 || return 1
	moat_setup_file || return 1
	reg_start_pair || return 1
	# the third: TLS with Bearer tokens from a token server in the suite
	export REG_TOKEN_DIR=$MOAT_T/reg/token REG_TOK_DIR=$MOAT_T/reg/tok
	REG_REALM=$(reg_token_start "$REG_TOKEN_DIR" "$REG_PKI") || return 1
	REG_TOK=$(reg_start "$REG_TOK_DIR" token "$REG_PKI" "$REG_REALM") || return 1
	export REG_REALM REG_TOK
	# the realm is another port: its CA is there too, whichever moat reads
	local h
	for h in "$REG_TOK" "${REG_REALM#https://}"; do
		h=${h%%/*}
		install -d -m 0755 "$REG_CERTS/$h"
		install -m 0644 "$REG_PKI/ca.crt" "$REG_CERTS/$h/ca.crt"
	done
	export OCIBUILD=$MOAT_T/reg/ocibuild.py
	reg_write_ocibuild "$OCIBUILD"
	export PROBE_ID
	PROBE_ID=$(moat_as inspect -f '{{.Id}}' "$IMG") || return 1
}

teardown_file() {
	reg_stop "${REG_TLS_DIR:-}"
	reg_stop "${REG_HTTP_DIR:-}"
	reg_stop "${REG_TOK_DIR:-}"
	reg_token_stop "${REG_TOKEN_DIR:-}"
	moat_teardown_file
}

TLS_CURL=()
tls_curl_args() { TLS_CURL=(--cacert "$REG_PKI/ca.crt" -u "$REG_USER:$REG_PASS"); }

# tls_digest REPO REF: the digest the TLS registry serves for REPO:REF.
tls_digest() {
	tls_curl_args
	reg_manifest_digest "https://$REG_TLS" "$1" "$2" "${TLS_CURL[@]}"
}

# The layer and config digests of REPO:REF on the TLS registry.
tls_blobs() {
	tls_curl_args
	reg_manifest "https://$REG_TLS" "$1" "$2" "${TLS_CURL[@]}" |
		json_get - '"\n".join([j["config"]["digest"]] + [l["digest"] for l in j["layers"]])'
}

reg_login() {
	printf '%s\n' "$REG_PASS" | mreg login -u "$REG_USER" --password-stdin "$REG_TLS"
}

# The probe image pushed by moat as $REG_TLS/moat/probe:v1 (once per file;
# the push test does it first and checks it).
ensure_probe_pushed() {
	[[ -n $(tls_digest moat/probe v1) ]] && return 0
	reg_login >/dev/null || fail "login failed"
	mreg tag "$IMG" "$REG_TLS/moat/probe:v1" || fail "tag failed"
	mreg push "$REG_TLS/moat/probe:v1" >/dev/null || fail "push failed"
	[[ -n $(tls_digest moat/probe v1) ]] || fail "the push left no manifest in the registry"
}

# config.json as Python sees it: the "auth" for KEY, decoded ('' if none).
config_auth() {
	python3 - "$REG_DOCKER_CONFIG/config.json" "$1" <<'PY'
import base64, json, sys
try:
    j = json.load(open(sys.argv[1]))
except FileNotFoundError:
    j = {}
a = j.get("auths", {}).get(sys.argv[2], {}).get("auth", "")
print(base64.b64decode(a).decode() if a else "")
PY
}

# refused_in STATE ARGS...: `moat ARGS` in STATE exits 125 with one line
# and leaves the images and the store's files as they were. $stderr stays
# for the caller's checks.
refused_in() {
	local st=$1 before_images before_files before_dirs
	shift
	before_images=$(images_in "$st")
	before_files=$(store_files_in "$st")
	before_dirs=$(store_dirs_in "$st")
	run --separate-stderr mreg_in "$st" "$@"
	assert_failure 125
	assert_one_error_line
	[[ $(store_dirs_in "$st") == "$before_dirs" ]] ||
		fail "directories left in the store: $(diff <(echo "$before_dirs") <(store_dirs_in "$st"))"
	[[ -z $(staging_in "$st") ]] || fail "staging left behind: $(staging_in "$st")"
	[[ $(images_in "$st") == "$before_images" ]] ||
		fail "moat images changed: $(diff <(echo "$before_images") <(images_in "$st"))"
	[[ $(store_files_in "$st") == "$before_files" ]] ||
		fail "files left in the store: $(diff <(echo "$before_files") <(store_files_in "$st"))"
}

# ---- login ----

@test "login: a wrong password is refused (exit 1) and nothing is stored" {
	run --separate-stderr mreg login -u "$REG_USER" --password-stdin "$REG_TLS" <<<"not the password"
	assert_failure 1
	grep -qiE 'unauthorized|denied|incorrect|invalid' <<<"$stderr" || fail "$stderr"
	[[ -z $(config_auth "$REG_TLS") ]] || fail "credentials stored after a failed login"
}

@test "login: a wrong user is refused (exit 1)" {
	run --separate-stderr mreg login -u nosuchuser --password-stdin "$REG_TLS" <<<"$REG_PASS"
	assert_failure 1
	[[ -z $(config_auth "$REG_TLS") ]] || fail "credentials stored after a failed login"
}

@test "login: stores the credentials in DOCKER_CONFIG/config.json, mode 0600, other keys kept" {
	# a config.json with other content, as Docker users have
	printf '{"auths": {"other.example:5000": {"auth": "%s"}}, "psFormat": "table {{.ID}}"}\n' \
		"$(printf 'a:b' | base64)" >"$REG_DOCKER_CONFIG/config.json"
	chown "$(reg_owner)" "$REG_DOCKER_CONFIG/config.json"
	chmod 0600 "$REG_DOCKER_CONFIG/config.json"
	run reg_login
	assert_success
	assert_output --partial "Login Succeeded"
	[[ $(config_auth "$REG_TLS") == "$REG_USER:$REG_PASS" ]] ||
		fail "config.json auth for $REG_TLS: '$(config_auth "$REG_TLS")'"
	[[ $(config_auth other.example:5000) == "a:b" ]] || fail "login dropped another registry's auth"
	grep -q psFormat "$REG_DOCKER_CONFIG/config.json" || fail "login dropped psFormat"
	[[ $(stat -c %a "$REG_DOCKER_CONFIG/config.json") == 600 ]] ||
		fail "mode $(stat -c %a "$REG_DOCKER_CONFIG/config.json")"
	[[ $(stat -c %u:%g "$REG_DOCKER_CONFIG/config.json") == "$(reg_owner)" ]] ||
		fail "owner $(stat -c %u:%g "$REG_DOCKER_CONFIG/config.json")"
}

# ---- push ----

@test "push: the probe image goes to the TLS+auth registry; the digest is the registry's" {
	reg_login >/dev/null
	local mark
	mark=$(reg_log_mark "$REG_TLS_DIR")
	run mreg tag "$IMG" "$REG_TLS/moat/probe:v1"
	assert_success
	run mreg push "$REG_TLS/moat/probe:v1"
	assert_success
	local d
	d=$(tls_digest moat/probe v1)
	[[ -n $d ]] || fail "the registry has no moat/probe:v1"
	[[ $(pushed_digest) == "$d" ]] || fail "push printed '$(pushed_digest)', the registry serves $d"$'\n'"$output"
	# every blob went up once
	local n want
	want=$(tls_blobs moat/probe v1 | wc -l)
	n=$(reg_count_uploads "$REG_TLS_DIR" "$mark" moat/probe)
	[[ $n -eq $want ]] || fail "$n blob uploads for $want blobs"
	# and the config the registry holds is the image's own (same image id)
	tls_curl_args
	[[ $(reg_manifest "https://$REG_TLS" moat/probe v1 "${TLS_CURL[@]}" |
		json_get - 'j["config"]["digest"]') == "$PROBE_ID" ]] || fail "config digest differs from $PROBE_ID"
}

@test "push: again, every blob is skipped (no upload in the registry's log)" {
	ensure_probe_pushed
	local mark d
	d=$(tls_digest moat/probe v1)
	mark=$(reg_log_mark "$REG_TLS_DIR")
	run mreg push "$REG_TLS/moat/probe:v1"
	assert_success
	[[ $(pushed_digest) == "$d" ]] || fail "push printed '$(pushed_digest)', expected $d"
	local n
	n=$(reg_count_uploads "$REG_TLS_DIR" "$mark" moat/probe)
	[[ $n -eq 0 ]] || fail "$n blobs uploaded again:"$'\n'"$(reg_log_since "$REG_TLS_DIR" "$mark")"
	reg_log_since "$REG_TLS_DIR" "$mark" | grep -qE '"(HEAD|POST) /v2/moat/probe/blobs/' ||
		fail "push did not even ask the registry about the blobs"
}

@test "push: an image that does not exist locally is refused (exit 125)" {
	reg_login >/dev/null
	run --separate-stderr mreg push "$REG_TLS/moat/nosuch:v1"
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"moat/nosuch"* ]] || fail "$stderr"
}

# ---- pull ----

@test "pull: by tag into a fresh store; same image id; it runs" {
	ensure_probe_pushed
	local st d
	st=$(reg_state pulltag)
	d=$(tls_digest moat/probe v1)
	run --separate-stderr mreg_in "$st" pull "$REG_TLS/moat/probe:v1"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "pull printed '$(pulled_digest)', the registry serves $d"$'\n'"$output"
	run mreg_in "$st" images
	assert_success
	assert_output --partial "$REG_TLS/moat/probe"
	run mreg_in "$st" inspect -f '{{.Id}}' "$REG_TLS/moat/probe:v1"
	assert_success
	assert_output "$PROBE_ID"
	run mreg_in "$st" run --rm "$REG_TLS/moat/probe:v1" /probe pid
	assert_success
	assert_output "pid: 1"
}

@test "pull: by digest into a fresh store; the image is the pushed one" {
	ensure_probe_pushed
	local st d id
	st=$(reg_state pulldigest)
	d=$(tls_digest moat/probe v1)
	run --separate-stderr mreg_in "$st" pull "$REG_TLS/moat/probe@$d"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "pull printed '$(pulled_digest)', expected $d"
	# what the pull prints last names the image (Docker: the reference)
	id=$(tail -n 1 <<<"$output")
	run mreg_in "$st" inspect -f '{{.Id}}' "$id"
	assert_success
	assert_output "$PROBE_ID"
	run mreg_in "$st" run --rm "$id" /probe pid
	assert_success
	assert_output "pid: 1"
}

@test "pull: by digest, then run by NAME@DIGEST (as Docker allows)" {
	ensure_probe_pushed
	local st d
	st=$(reg_state rundigest)
	d=$(tls_digest moat/probe v1)
	mreg_in "$st" pull -q "$REG_TLS/moat/probe@$d" >/dev/null || fail "pull by digest failed"
	run mreg_in "$st" run --rm "$REG_TLS/moat/probe@$d" /probe pid
	assert_success
	assert_output "pid: 1"
}

@test "pull: inspect shows the registry's digest in RepoDigests" {
	ensure_probe_pushed
	local st d
	st=$(reg_state repodigests)
	d=$(tls_digest moat/probe v1)
	mreg_in "$st" pull -q "$REG_TLS/moat/probe:v1" >/dev/null
	run mreg_in "$st" inspect -f '{{.RepoDigests}}' "$REG_TLS/moat/probe:v1"
	assert_success
	assert_output --partial "$REG_TLS/moat/probe@$d"
}

@test "pull: a second pull of the same image downloads no blob" {
	ensure_probe_pushed
	local st mark
	st=$(reg_state pulltwice)
	mreg_in "$st" pull -q "$REG_TLS/moat/probe:v1" >/dev/null
	mark=$(reg_log_mark "$REG_TLS_DIR")
	run mreg_in "$st" pull "$REG_TLS/moat/probe:v1"
	assert_success
	reg_log_since "$REG_TLS_DIR" "$mark" | grep -E '"GET /v2/moat/probe/blobs/' &&
		fail "blobs fetched again"
	return 0
}

@test "pull: an unknown tag is 'manifest unknown' (exit 125), store unchanged" {
	reg_login >/dev/null
	refused_in "$MOAT_STATE" pull "$REG_TLS/moat/probe:nosuchtag"
	[[ $stderr == *"moat/probe"* ]] || fail "the message does not name the image: $stderr"
	grep -qiE 'manifest unknown|not found|MANIFEST_UNKNOWN' <<<"$stderr" || fail "$stderr"
}

@test "pull: a digest the registry does not have is refused (exit 125)" {
	reg_login >/dev/null
	refused_in "$MOAT_STATE" pull "$REG_TLS/moat/probe@sha256:$(printf '%064d' 0)"
	[[ $stderr == *"moat/probe"* ]] || fail "$stderr"
}

# ---- tag + push elsewhere: cross-repository mount ----

@test "tag + push under another name: layers are mounted from the source repo, not uploaded" {
	ensure_probe_pushed
	local st mark b n
	st=$(reg_state mount)
	# a store that got the image from moat/probe knows where its blobs live
	mreg_in "$st" pull -q "$REG_TLS/moat/probe:v1" >/dev/null
	run mreg_in "$st" tag "$REG_TLS/moat/probe:v1" "$REG_TLS/moat/copy:v1"
	assert_success
	mark=$(reg_log_mark "$REG_TLS_DIR")
	run mreg_in "$st" push "$REG_TLS/moat/copy:v1"
	assert_success
	[[ $(tls_digest moat/copy v1) == "$(tls_digest moat/probe v1)" ]] ||
		fail "moat/copy:v1 is $(tls_digest moat/copy v1), moat/probe:v1 $(tls_digest moat/probe v1)"
	n=$(reg_count_mounts "$REG_TLS_DIR" "$mark" moat/copy)
	[[ $n -ge 1 ]] || fail "no cross-repository mount:"$'\n'"$(reg_log_since "$REG_TLS_DIR" "$mark")"
	# no layer travelled again (the config may: Docker and skopeo re-upload it)
	tls_curl_args
	for b in $(reg_manifest "https://$REG_TLS" moat/probe v1 "${TLS_CURL[@]}" |
		json_get - '" ".join(l["digest"] for l in j["layers"])'); do
		[[ $(reg_count_uploads "$REG_TLS_DIR" "$mark" moat/copy "$b") -eq 0 ]] ||
			fail "layer $b uploaded instead of mounted"
	done
}

@test "tag: the new name resolves to the same image; a bad name is refused" {
	run mreg tag "$IMG" "$REG_TLS/moat/tagged:t1"
	assert_success
	run mreg inspect -f '{{.Id}}' "$REG_TLS/moat/tagged:t1"
	assert_success
	assert_output "$PROBE_ID"
	run --separate-stderr mreg tag "$IMG" "$REG_TLS/Moat/UPPER:t1"
	assert_failure 125
	assert_one_error_line
	run --separate-stderr mreg tag nosuchimage:v9 "$REG_TLS/moat/x:v1"
	assert_failure 125
	assert_one_error_line
}

# ---- logout, and what anonymous gets ----

@test "logout: removes the credentials; a pull is then unauthorized (exit 125, store unchanged)" {
	ensure_probe_pushed
	run mreg logout "$REG_TLS"
	assert_success
	[[ -z $(config_auth "$REG_TLS") ]] || fail "credentials still in config.json"
	local st
	st=$(reg_state anon)
	refused_in "$st" pull "$REG_TLS/moat/probe:v1"
	grep -qiE 'unauthori[sz]ed|authentication required|denied' <<<"$stderr" || fail "$stderr"
	[[ $stderr == *"moat/probe"* ]] || fail "the message does not name the image: $stderr"
	# the shared store is no different
	refused_in "$MOAT_STATE" pull "$REG_TLS/moat/probe:v1"
	reg_login >/dev/null
}

@test "push without credentials is unauthorized (exit 125) and the registry is unchanged" {
	ensure_probe_pushed
	mreg logout "$REG_TLS" >/dev/null
	mreg tag "$IMG" "$REG_TLS/moat/anonpush:v1"
	run --separate-stderr mreg push "$REG_TLS/moat/anonpush:v1"
	assert_failure 125
	assert_one_error_line
	grep -qiE 'unauthori[sz]ed|authentication required|denied' <<<"$stderr" || fail "$stderr"
	reg_login >/dev/null
	[[ -z $(tls_digest moat/anonpush v1) ]] || fail "the anonymous push landed"
}

# ---- the insecure path: plain HTTP ----

@test "insecure: a plain-HTTP registry listed as insecure: push, pull and run work" {
	local st d
	run mreg tag "$IMG" "$REG_HTTP/plain/probe:v1"
	assert_success
	run mreg push "$REG_HTTP/plain/probe:v1"
	assert_success
	d=$(reg_manifest_digest "http://$REG_HTTP" plain/probe v1)
	[[ -n $d && $(pushed_digest) == "$d" ]] || fail "registry digest '$d', push printed '$(pushed_digest)'"
	st=$(reg_state plain)
	run --separate-stderr mreg_in "$st" pull "$REG_HTTP/plain/probe:v1"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "pull printed '$(pulled_digest)', expected $d"
	run mreg_in "$st" run --rm "$REG_HTTP/plain/probe:v1" /probe pid
	assert_success
	assert_output "pid: 1"
}

@test "insecure: not listed, the plain-HTTP registry is refused with a TLS error" {
	mreg tag "$IMG" "$REG_HTTP/plain/strict:v1"
	mreg push "$REG_HTTP/plain/strict:v1" >/dev/null || fail "push with the insecure list failed"
	local st mark
	st=$(reg_state strict)
	mark=$(reg_log_mark "$REG_HTTP_DIR")
	REG_CONF=$REG_CONF_STRICT refused_in "$st" pull "$REG_HTTP/plain/strict:v1"
	grep -qiE 'tls|ssl|https|handshake|wrong version' <<<"$stderr" || fail "not a TLS message: $stderr"
	[[ $stderr == *"plain/strict"* ]] || fail "the message does not name the image: $stderr"
	reg_log_since "$REG_HTTP_DIR" "$mark" | grep -q 'plain/strict' &&
		fail "moat spoke plain HTTP to a registry that is not listed insecure"
	# and a push is refused the same way
	REG_CONF=$REG_CONF_STRICT run --separate-stderr mreg push "$REG_HTTP/plain/strict:v1"
	assert_failure 125
	grep -qiE 'tls|ssl|https|handshake|wrong version' <<<"$stderr" || fail "push: $stderr"
}

@test "insecure: --tls-verify=false reaches the plain-HTTP registry without the list" {
	mreg tag "$IMG" "$REG_HTTP/plain/flag:v1"
	mreg push "$REG_HTTP/plain/flag:v1" >/dev/null || fail "push with the insecure list failed"
	local st d
	d=$(reg_manifest_digest "http://$REG_HTTP" plain/flag v1)
	st=$(reg_state tlsflag)
	REG_CONF=$REG_CONF_STRICT run --separate-stderr mreg_in "$st" pull --tls-verify=false \
		"$REG_HTTP/plain/flag:v1"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "pull printed '$(pulled_digest)', expected $d"
}

# ---- TLS verification ----

@test "TLS: no CA configured for the registry: certificate verification error (exit 125)" {
	ensure_probe_pushed
	local st
	st=$(reg_state noca)
	REG_CONF=$REG_CONF_NOCA refused_in "$st" pull "$REG_TLS/moat/probe:v1"
	grep -qiE 'certificate|verif|issuer' <<<"$stderr" || fail "not a verification error: $stderr"
	[[ $stderr == *"moat/probe"* ]] || fail "the message does not name the image: $stderr"
}

@test "TLS: the wrong CA in certs.d: certificate verification error (exit 125)" {
	ensure_probe_pushed
	local st
	st=$(reg_state wrongca)
	REG_CONF=$REG_CONF_WRONGCA refused_in "$st" pull "$REG_TLS/moat/probe:v1"
	grep -qiE 'certificate|verif|issuer' <<<"$stderr" || fail "not a verification error: $stderr"
}

@test "TLS: login to a registry whose CA is not configured fails; nothing stored" {
	mreg logout "$REG_TLS" >/dev/null || true
	REG_CONF=$REG_CONF_NOCA run --separate-stderr mreg login -u "$REG_USER" --password-stdin \
		"$REG_TLS" <<<"$REG_PASS"
	assert_failure
	grep -qiE 'certificate|verif|issuer' <<<"$stderr" || fail "not a verification error: $stderr"
	[[ -z $(config_auth "$REG_TLS") ]] || fail "credentials stored after a failed login"
	reg_login >/dev/null
}

@test "TLS: --tls-verify=false accepts the registry whose CA is not configured" {
	ensure_probe_pushed
	local st
	st=$(reg_state tlsnoverify)
	REG_CONF=$REG_CONF_NOCA run --separate-stderr mreg_in "$st" pull --tls-verify=false \
		"$REG_TLS/moat/probe:v1"
	assert_success
	[[ $(pulled_digest) == "$(tls_digest moat/probe v1)" ]] || fail "$output"
}

# ---- interop with skopeo and umoci ----

@test "interop: an image pushed by moat is inspected and copied by skopeo, unpacked by umoci" {
	ensure_probe_pushed
	local d w=$MOAT_T/interop1
	d=$(tls_digest moat/probe v1)
	rm -rf "$w"
	mkdir -p "$w"
	run skopeo inspect --cert-dir "$REG_CERTS/$REG_TLS" --creds "$REG_USER:$REG_PASS" \
		--format '{{.Digest}}' "docker://$REG_TLS/moat/probe:v1"
	assert_success
	assert_output "$d"
	run skopeo copy --src-cert-dir "$REG_CERTS/$REG_TLS" --src-creds "$REG_USER:$REG_PASS" \
		"docker://$REG_TLS/moat/probe:v1" "oci:$w/layout:v1"
	assert_success
	run umoci unpack --rootless --image "$w/layout:v1" "$w/bundle"
	assert_success
	cmp "$w/bundle/rootfs/probe" "$PROBE" || fail "/probe differs after skopeo + umoci"
	[[ -x $w/bundle/rootfs/probe ]] || fail "/probe lost its mode"
	rm -rf "$w"
}

@test "interop: an image pushed by skopeo (mkimage.py layout) is pulled and run by moat" {
	reg_login >/dev/null
	local tar w=$MOAT_T/interop2 st d
	rm -rf "$w"
	mkdir -p "$w/layout"
	tar=$(mkimage skopeo.tar --name fromskopeo --tag v1 --gzip --file "$PROBE:/probe")
	tar -C "$w/layout" -xf "$tar"
	run skopeo copy --dest-cert-dir "$REG_CERTS/$REG_TLS" --dest-creds "$REG_USER:$REG_PASS" \
		--digestfile "$w/digest" "oci:$w/layout:v1" "docker://$REG_TLS/skopeo/img:v1"
	assert_success
	d=$(cat "$w/digest")
	[[ $d == "$(tls_digest skopeo/img v1)" ]] || fail "skopeo says $d, the registry $(tls_digest skopeo/img v1)"
	st=$(reg_state fromskopeo)
	run --separate-stderr mreg_in "$st" pull "$REG_TLS/skopeo/img:v1"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "moat printed '$(pulled_digest)', skopeo pushed $d"
	run mreg_in "$st" inspect -f '{{.Id}}' "$REG_TLS/skopeo/img:v1"
	assert_success
	assert_output "$(cat "$MOAT_T/scratch/skopeo.tar.id")"
	run mreg_in "$st" run --rm "$REG_TLS/skopeo/img:v1" /probe pid
	assert_success
	assert_output "pid: 1"
	rm -rf "$w"
}

@test "interop: moat save -> skopeo push -> moat pull gives back the same image" {
	reg_login >/dev/null
	local w=$MOAT_T/interop3 st d
	rm -rf "$w"
	install -d -m 0777 "$w"
	run mreg save -o "$w/probe.tar" "$IMG"
	assert_success
	mkdir -p "$w/layout"
	tar -C "$w/layout" -xf "$w/probe.tar"
	[[ -f $w/layout/oci-layout && -f $w/layout/index.json ]] || fail "moat save wrote no OCI layout"
	# one image in the layout: skopeo needs no reference
	run skopeo copy --dest-cert-dir "$REG_CERTS/$REG_TLS" --dest-creds "$REG_USER:$REG_PASS" \
		--digestfile "$w/digest" "oci:$w/layout" "docker://$REG_TLS/saved/probe:v1"
	assert_success
	d=$(cat "$w/digest")
	st=$(reg_state fromsave)
	run --separate-stderr mreg_in "$st" pull "$REG_TLS/saved/probe:v1"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "moat printed '$(pulled_digest)', skopeo pushed $d"
	run mreg_in "$st" inspect -f '{{.Id}}' "$REG_TLS/saved/probe:v1"
	assert_success
	assert_output "$PROBE_ID"
	run mreg_in "$st" run --rm "$REG_TLS/saved/probe:v1" /probe pid
	assert_success
	assert_output "pid: 1"
	rm -rf "$w"
}

# ---- multi-arch ----

@test "multi-arch: --platform picks the manifest from an index (pushed byte for byte with curl)" {
	reg_login >/dev/null
	local w=$MOAT_T/multi st info
	rm -rf "$w"
	mkdir -p "$w"
	info=$w/info.json
	python3 "$OCIBUILD" "$w/layout" --tag v1 --platform linux/amd64 --platform linux/arm64/v8 \
		--platform linux/s390x --file "$PROBE:/probe" >"$info"
	tls_curl_args
	reg_push_layout "https://$REG_TLS" multi/img "$w/layout" "$info" "${TLS_CURL[@]}" ||
		fail "pushing the layout with curl failed"
	local top amd arm
	top=$(json_get "$info" 'j["top"]')
	[[ $(tls_digest multi/img v1) == "$top" ]] || fail "the registry serves $(tls_digest multi/img v1), not $top"
	amd=$(json_get "$info" 'j["manifests"][0]["config"]')
	arm=$(json_get "$info" 'j["manifests"][1]["config"]')

	st=$(reg_state multi-arm)
	run --separate-stderr mreg_in "$st" pull --platform linux/arm64/v8 "$REG_TLS/multi/img:v1"
	assert_success
	[[ $(pulled_digest) == "$top" ]] || fail "pull printed '$(pulled_digest)', the index is $top"
	run mreg_in "$st" inspect -f '{{.Id}} {{.Architecture}}' "$REG_TLS/multi/img:v1"
	assert_success
	assert_output "$arm arm64"

	st=$(reg_state multi-amd)
	run --separate-stderr mreg_in "$st" pull --platform linux/amd64 "$REG_TLS/multi/img:v1"
	assert_success
	run mreg_in "$st" inspect -f '{{.Id}}' "$REG_TLS/multi/img:v1"
	assert_output "$amd"
	run mreg_in "$st" run --rm "$REG_TLS/multi/img:v1" cat /arch
	assert_success
	assert_output "linux/amd64"

	# no --platform: the host's (these tests run on amd64)
	[[ $(uname -m) == x86_64 ]] || skip "host is not amd64"
	st=$(reg_state multi-default)
	run --separate-stderr mreg_in "$st" pull "$REG_TLS/multi/img:v1"
	assert_success
	run mreg_in "$st" inspect -f '{{.Id}}' "$REG_TLS/multi/img:v1"
	assert_output "$amd"
}

@test "multi-arch: a platform the index lacks is refused (exit 125, store unchanged)" {
	reg_login >/dev/null
	local w=$MOAT_T/multi2 info st
	rm -rf "$w"
	mkdir -p "$w"
	info=$w/info.json
	python3 "$OCIBUILD" "$w/layout" --tag v1 --platform linux/amd64 --platform linux/arm64/v8 \
		>"$info"
	tls_curl_args
	reg_push_layout "https://$REG_TLS" multi/two "$w/layout" "$info" "${TLS_CURL[@]}" ||
		fail "pushing the layout with curl failed"
	st=$(reg_state multi-none)
	refused_in "$st" pull --platform linux/riscv64 "$REG_TLS/multi/two:v1"
	grep -qiE 'riscv64|platform' <<<"$stderr" || fail "the message does not name the platform: $stderr"
}

# ---- Bearer tokens ----

# tok_digest REPO REF: the digest the token registry serves, fetched with a
# token curl gets from the realm itself.
tok_digest() {
	local t
	t=$(curl -sS --fail --max-time 20 --cacert "$REG_PKI/ca.crt" -u "$REG_USER:$REG_PASS" \
		"$REG_REALM?service=moat-test-registry&scope=repository:$1:pull" | json_get - 'j["token"]') ||
		return 1
	reg_manifest_digest "https://$REG_TOK" "$1" "$2" --cacert "$REG_PKI/ca.crt" \
		-H "Authorization: Bearer $t"
}

# token_log_since MARK: the token server's log lines after MARK.
token_log_since() { tail -n +"$(($1 + 1))" "$REG_TOKEN_DIR/token.log"; }
token_log_mark() { wc -l <"$REG_TOKEN_DIR/token.log" 2>/dev/null || echo 0; }

tok_login() {
	printf '%s\n' "$REG_PASS" | mreg login -u "$REG_USER" --password-stdin "$REG_TOK"
}

@test "token: login fetches a token with the credentials; a wrong password is exit 1" {
	local mark
	touch "$REG_TOKEN_DIR/token.log"
	mark=$(token_log_mark)
	run --separate-stderr mreg login -u "$REG_USER" --password-stdin "$REG_TOK" <<<"wrong"
	assert_failure 1
	[[ -z $(config_auth "$REG_TOK") ]] || fail "credentials stored after a failed login"
	run tok_login
	assert_success
	[[ $(config_auth "$REG_TOK") == "$REG_USER:$REG_PASS" ]] || fail "not stored"
	token_log_since "$mark" | grep -qF "\"user\": \"$REG_USER\"" ||
		fail "the realm never saw the credentials:"$'\n'"$(token_log_since "$mark")"
}

@test "token: push and pull with Bearer tokens scoped to the repository" {
	tok_login >/dev/null || fail "login failed"
	local mark st d
	mark=$(token_log_mark)
	mreg tag "$IMG" "$REG_TOK/tok/probe:v1"
	run mreg push "$REG_TOK/tok/probe:v1"
	assert_success
	d=$(tok_digest tok/probe v1)
	[[ -n $d && $(pushed_digest) == "$d" ]] || fail "registry '$d', push printed '$(pushed_digest)'"
	token_log_since "$mark" | grep -qE '"repository:tok/probe:(pull,push|push,pull)"' ||
		fail "no push scope asked for:"$'\n'"$(token_log_since "$mark")"
	st=$(reg_state token)
	run --separate-stderr mreg_in "$st" pull "$REG_TOK/tok/probe:v1"
	assert_success
	[[ $(pulled_digest) == "$d" ]] || fail "pull printed '$(pulled_digest)', expected $d"
	run mreg_in "$st" run --rm "$REG_TOK/tok/probe:v1" /probe pid
	assert_success
	assert_output "pid: 1"
}

@test "token: without credentials the realm grants nothing: pull unauthorized (exit 125)" {
	tok_login >/dev/null || fail "login failed"
	mreg tag "$IMG" "$REG_TOK/tok/anon:v1"
	mreg push -q "$REG_TOK/tok/anon:v1" >/dev/null || fail "push failed"
	run mreg logout "$REG_TOK"
	assert_success
	local st mark
	mark=$(token_log_mark)
	st=$(reg_state tokanon)
	refused_in "$st" pull "$REG_TOK/tok/anon:v1"
	grep -qiE 'unauthori[sz]ed|authentication required|denied|insufficient' <<<"$stderr" ||
		fail "$stderr"
	token_log_since "$mark" | grep -qF "\"user\": \"$REG_USER\"" &&
		fail "credentials were sent after logout"
	return 0
}

#!/usr/bin/env bats
# Signature discovery through the OCI 1.1 referrers API
# (GET /v2/<repo>/referrers/<digest>), which Debian's docker-registry
# (distribution 2.8) does not have: a small fake registry (python3
# http.server on 127.0.0.1, written into this file's state dir) serves one
# image, built at test time, under /v2/<MODE>/img:v1 (a multi-platform
# index of the same layers for MODE "multi"), answers 404 for every other
# tag (so the cosign ".sig" tag never exists), and answers the referrers
# endpoint for DIGEST with the file referrers/<MODE>/<hex>.json (404 when
# there is none, or the status in referrers/<MODE>/<hex>.status).
#
# The referrers indexes and the manifests and blobs they point at are made
# here, not by moat: cosign's OCI 1.1 layout (artifactType
# application/vnd.dev.cosign.artifact.sig.v1+json, an empty config, the
# simple-signing payload as the one layer with its signature in the
# dev.cosignproject.cosign/signature annotation, "subject" = the image),
# signed by openssl through tests/lib/sign.bash. Next to the signature the
# good index lists an SBOM (artifactType application/spdx+json) that moat
# must ignore: the fake logs every request (requests.log, JSON lines), and
# the log must show the referrers GET and no request for the SBOM.
#
# A rejected pull exits 125 with one "moat: ..." line and leaves the store
# as it was; a rejected verify exits 1; both are audited.

load ../lib/helpers
load ../lib/registry
load ../lib/sign

SIG_AT='application/vnd.dev.cosign.artifact.sig.v1+json'
SBOM_AT='application/spdx+json'
TS=1700000000

setup_file() {
	reg_require python3 openssl sha256sum base64 curl || return 1
	moat_setup_file || return 1
	local d=$MOAT_T/fake i port
	install -d -m 0755 "$d" "$d/referrers" "$d/tags"
	reg_write_ocibuild "$d/ocibuild.py"
	python3 "$d/ocibuild.py" "$d/layout" --tag v1 --file "$PROBE:/probe" >"$d/info.json" ||
		return 1
	# MODE "multi": an index of two platforms over the same layers
	python3 "$d/ocibuild.py" "$d/layout" --tag v1 --platform linux/amd64 \
		--platform linux/arm64 --file "$PROBE:/probe" >"$d/info-multi.json" || return 1
	json_get "$d/info-multi.json" 'j["top"]' >"$d/tags/multi" || return 1
	write_fake "$d/fake.py"
	write_builder "$d/build.py"
	export DIGEST SUBJECT_SIZE
	DIGEST=$(json_get "$d/info.json" 'j["top"]') || return 1
	SUBJECT_SIZE=$(json_get "$d/info.json" 'j["manifests"][0]["size"]') || return 1
	python3 "$d/fake.py" "$d" "$d/layout/blobs/sha256" "$DIGEST" v1 \
		</dev/null >"$d/fake.out" 2>&1 3>&- &
	echo $! >"$d/pid"
	for ((i = 0; i < 100; i++)); do
		[[ -s $d/port ]] && break
		sleep 0.1
	done
	[[ -s $d/port ]] || {
		echo "# the fake registry did not start: $(cat "$d/fake.out")" >&3
		return 1
	}
	port=$(cat "$d/port")
	export FAKE=127.0.0.1:$port FAKE_DIR=$d
	# the fake is listed insecure (plain HTTP) in MOAT_REGISTRIES_CONF
	reg_client_setup "" "$FAKE"
	export SK=$MOAT_T/sig
	install -d -m 0755 "$SK"
	sig_keygen "$SK" ec ecdsa || return 1
	sig_keygen "$SK" other ecdsa || return 1
	export FP_EC
	FP_EC=$(sig_fp "$SK/ec.pub") || return 1
}

teardown_file() {
	local pid cmd
	if [[ -f ${FAKE_DIR:-/nonexistent}/pid ]]; then
		pid=$(cat "$FAKE_DIR/pid")
		# only if that pid is still our fake (pids are reused)
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || cmd=
		[[ $cmd == *"$FAKE_DIR/fake.py"* ]] && kill -KILL "$pid" 2>/dev/null
	fi
	moat_teardown_file
}

# The fake registry. argv: STATEDIR BLOBDIR TOPDIGEST TAG. Serves
# manifests (by TAG and by digest) and blobs from BLOBDIR, read at each
# request, so that artifacts added after it started are served too.
write_fake() {
	cat >"$1" <<'PY'
import hashlib, http.server, json, os, re, socketserver, sys, threading

state, blobdir, top, tag = sys.argv[1:5]
MT_MAN = "application/vnd.oci.image.manifest.v1+json"
MT_IDX = "application/vnd.oci.image.index.v1+json"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
lock = threading.Lock()
log = open(os.path.join(state, "requests.log"), "a", buffering=1)


def load(d):
    if not DIGEST_RE.match(d):
        return None
    try:
        with open(os.path.join(blobdir, d[7:]), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=(), head=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, code, ecode, msg, head=False):
        body = json.dumps({"errors": [{"code": ecode, "message": msg}]}).encode()
        self.send(code, body, [("Content-Type", "application/json")], head)

    def handle_one(self, head=False):
        with lock:
            log.write(json.dumps({"method": self.command, "path": self.path,
                                  "accept": self.headers.get("Accept", "")}) + "\n")
        path = self.path.split("?")[0]
        if path in ("/v2", "/v2/"):
            return self.send(200, b"{}", [("Content-Type", "application/json")], head)
        parts = path[len("/v2/"):].split("/")
        if not path.startswith("/v2/") or len(parts) < 4:
            return self.error(404, "NAME_UNKNOWN", "no such repository", head)
        kind, ref, mode = parts[-2], parts[-1], parts[0]
        if kind == "manifests":
            # every tag but TAG is unknown: the ".sig" tag is a 404; TAG is
            # TOPDIGEST, or the digest in tags/MODE
            d = ref
            if ref == tag:
                try:
                    d = open(os.path.join(state, "tags", mode)).read().strip()
                except FileNotFoundError:
                    d = top
            body = load(d)
            if body is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown", head)
            try:
                ct = json.loads(body).get("mediaType") or MT_MAN
            except ValueError:
                ct = MT_MAN
            return self.send(200, body, [("Content-Type", ct), ("Docker-Content-Digest", d)],
                             head)
        if kind == "blobs":
            body = load(ref)
            if body is None:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown", head)
            return self.send(200, body, [("Content-Type", "application/octet-stream"),
                                         ("Docker-Content-Digest", ref)], head)
        if kind == "referrers":
            if not DIGEST_RE.match(ref):
                return self.error(400, "DIGEST_INVALID", "invalid digest", head)
            base = os.path.join(state, "referrers", mode, ref[7:])
            if os.path.exists(base + ".status"):
                code = int(open(base + ".status").read())
                return self.error(code, "UNKNOWN", "referrers failed", head)
            if not os.path.exists(base + ".json"):
                # what distribution 2.8's router answers: no such route
                return self.send(404, b"404 page not found\n",
                                 [("Content-Type", "text/plain; charset=utf-8")], head)
            with open(base + ".json", "rb") as f:
                body = f.read()
            return self.send(200, body, [("Content-Type", MT_IDX)], head)
        return self.error(404, "UNSUPPORTED", "not here", head)

    def do_GET(self):
        try:
            self.handle_one()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_HEAD(self):
        try:
            self.handle_one(head=True)
        except (BrokenPipeError, ConnectionResetError):
            pass


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = S(("127.0.0.1", 0), H)
with open(os.path.join(state, "port.tmp"), "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
srv.serve_forever()
PY
}

# The artifact builder. argv: BLOBDIR SUBJECT SUBJECTSIZE OUTINDEX SPEC...
# with SPEC one of
#   sig:PAYLOADFILE:SIGB64FILE  a cosign OCI 1.1 signature manifest;
#   sbom                        an SPDX SBOM manifest (another artifactType);
#   ghost                       a signature entry whose manifest is not stored;
#   baddigest                   an entry whose digest is not a digest.
# SUBJECT is the manifest the artifacts refer to (their "subject").
# Writes every blob and manifest into BLOBDIR and the referrers index into
# OUTINDEX; prints "SPEC-KIND DIGEST" per entry, in order.
write_builder() {
	cat >"$1" <<'PY'
import hashlib, json, os, sys

blobdir, subject, subject_size, out = sys.argv[1:5]
MT_MAN = "application/vnd.oci.image.manifest.v1+json"
MT_IDX = "application/vnd.oci.image.index.v1+json"
MT_EMPTY = "application/vnd.oci.empty.v1+json"
SIG_AT = "application/vnd.dev.cosign.artifact.sig.v1+json"
SBOM_AT = "application/spdx+json"
MT_PAYLOAD = "application/vnd.dev.cosign.simplesigning.v1+json"
ANN = "dev.cosignproject.cosign/signature"


def add(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobdir, h), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}


def manifest(at, layer):
    empty = add(b"{}")
    m = {"schemaVersion": 2, "mediaType": MT_MAN, "artifactType": at,
         "config": dict(mediaType=MT_EMPTY, **empty), "layers": [layer],
         "subject": {"mediaType": MT_MAN, "digest": subject, "size": int(subject_size)},
         "annotations": {"org.opencontainers.image.created": "2023-11-14T22:13:20Z"}}
    b = json.dumps(m, separators=(",", ":")).encode()
    return dict(mediaType=MT_MAN, artifactType=at, **add(b))


entries = []
for spec in sys.argv[5:]:
    kind = spec.split(":")[0]
    if kind == "sig":
        _, payload, sigfile = spec.split(":")
        with open(payload, "rb") as f:
            p = add(f.read())
        with open(sigfile) as f:
            sig = f.read().strip()
        e = manifest(SIG_AT, dict(mediaType=MT_PAYLOAD, annotations={ANN: sig}, **p))
    elif kind == "sbom":
        doc = json.dumps({"spdxVersion": "SPDX-2.3", "name": "moat-test"}).encode()
        e = manifest(SBOM_AT, dict(mediaType=SBOM_AT, **add(doc)))
    elif kind == "ghost":
        e = {"mediaType": MT_MAN, "artifactType": SIG_AT, "size": 512,
             "digest": "sha256:" + hashlib.sha256(b"not stored anywhere").hexdigest()}
    elif kind == "baddigest":
        e = {"mediaType": MT_MAN, "artifactType": SBOM_AT, "size": 512, "digest": "sha256:xyz"}
    else:
        sys.exit("build.py: unknown spec " + spec)
    entries.append(e)
    print(kind, e["digest"])
idx = {"schemaVersion": 2, "mediaType": MT_IDX, "manifests": entries}
with open(out, "w") as f:
    json.dump(idx, f, separators=(",", ":"))
PY
}

# ---- helpers ----

# ref_of MODE: the image's reference under MODE.
ref_of() { echo "$FAKE/$1/img:v1"; }

# signed KEYNAME MODE [DIGEST]: a spec for build.py: a payload for MODE's
# reference and DIGEST (default: the image's), signed by openssl with
# $SK/KEYNAME.key.
signed() {
	local key=$1 mode=$2 digest=${3:-$DIGEST} p
	p=$(mktemp "$FAKE_DIR/payload-$mode.XXXXXX") || return 1
	sig_payload "$(ref_of "$mode")" "$digest" "$TS" >"$p" || return 1
	sig_sign "$SK/$key.key" ecdsa "$p" >"$p.sig" || return 1
	# the oracle checks its own work: the signature verifies with its key
	sig_verify_openssl "$SK/$key.pub" ecdsa "$p" <(base64 -d "$p.sig") || return 1
	echo "sig:$p:$p.sig"
}

# build_index MODE SPEC...: writes the referrers index of the image's
# manifest (or of $SUBJECT, $SUBJECT_SIZE bytes, when set) under MODE;
# leaves build.py's lines (kind digest) in $BATS_TEST_TMPDIR/MODE.entries.
build_index() {
	local mode=$1 subject=${SUBJECT:-$DIGEST}
	shift
	mkdir -p "$FAKE_DIR/referrers/$mode"
	python3 "$FAKE_DIR/build.py" "$FAKE_DIR/layout/blobs/sha256" "$subject" \
		"${SUBJECT_SIZE_OVERRIDE:-$SUBJECT_SIZE}" "$(index_file "$mode" "$subject")" "$@" \
		>"$BATS_TEST_TMPDIR/$mode.entries" || fail "build.py $mode $*"
}

# index_file MODE [DIGEST]: the file the fake serves as DIGEST's (default:
# the image's) referrers under MODE.
index_file() {
	local d=${2:-$DIGEST}
	echo "$FAKE_DIR/referrers/$1/${d#sha256:}.json"
}

# entry MODE N: the digest of the Nth entry (1-based) of MODE's index.
entry() { sed -n "$2p" "$BATS_TEST_TMPDIR/$1.entries" | cut -d' ' -f2; }

# use_policy MODE [KEYNAME]: a policy requiring a signature by KEYNAME
# (default ec) for $FAKE/MODE; a fresh state in $ST.
use_policy() {
	local pol=$SK/policy-$1.json
	sig_policy "$pol" "$FAKE/$1" "$(sig_req_key "$SK/${2:-ec}.pub")"
	sig_use_policy "$pol"
	ST=$(reg_state "$1")
}

# requests MODE: "METHOD PATH" of every request the fake saw for MODE
# (since the log line $LOG_MARK, when set: see log_mark).
requests() {
	python3 - "$FAKE_DIR/requests.log" "/v2/$1/" "${LOG_MARK:-0}" <<'PY'
import json, sys
for line in open(sys.argv[1]).readlines()[int(sys.argv[3]):]:
    r = json.loads(line)
    if r["path"].startswith(sys.argv[2]):
        print(r["method"], r["path"])
PY
}

# log_mark: from now on, requests sees only the requests made after this.
log_mark() { LOG_MARK=$(wc -l <"$FAKE_DIR/requests.log"); }

# assert_asked_referrers MODE: the fake saw moat's referrers GET for the
# image (the request moat must make, whatever the answer).
assert_asked_referrers() {
	requests "$1" | grep -qxF "GET /v2/$1/img/referrers/$DIGEST" ||
		fail "no referrers GET for $1 in the fake's log:"$'\n'"$(requests "$1")"
	requests "$1" | grep -qxE "(GET|HEAD) /v2/$1/img/manifests/sha256-${DIGEST#sha256:}\.sig" ||
		fail "the .sig tag was not asked for:"$'\n'"$(requests "$1")"
}

# assert_not_fetched MODE DIGEST: no request for DIGEST (manifest or blob).
assert_not_fetched() {
	! requests "$1" | grep -qF "$2" || fail "moat fetched $2:"$'\n'"$(requests "$1")"
}

# refused_pull MODE ERE: the pull of MODE's image is refused and the
# store (the file's own, which holds the probe image) is unchanged.
refused_pull() {
	sig_refused_pull "$MOAT_STATE" "$(ref_of "$1")" "$2"
	sig_assert_decision "$MOAT_STATE" reject pull "$1/img"
	[[ $stderr == *"$1/img"* ]] || fail "the message does not name the image: $stderr"
}

# refused_verify MODE: `moat verify` exits 1 with one error line; the
# signature lines stay in $output.
refused_verify() {
	run --separate-stderr mreg_in "$ST" verify "$(ref_of "$1")"
	assert_failure 1
	[[ $stderr == "moat: $(ref_of "$1")@$DIGEST: rejected by the trust policy: "* ]] ||
		fail "stderr: $stderr"$'\n'"stdout: $output"
	[[ $output != *"Verified "* ]] || fail "$output"
	sig_assert_decision "$ST" reject verify "$1/img"
}

# ---- the fake itself ----

@test "fake registry: serves the image, 404 for the .sig tag and for referrers it has not; the index it serves lists what build.py wrote" {
	local base=http://$FAKE d
	build_index fakecheck "$(signed ec fakecheck)" sbom
	d=$(sig_digest "$FAKE" fakecheck/img v1)
	[[ $d == "$DIGEST" ]] || fail "the fake serves $d for v1, the layout says $DIGEST"
	run curl -sS -o /dev/null -w '%{http_code}' "$base/v2/fakecheck/img/manifests/$(sig_tag "$DIGEST")"
	assert_output 404
	run curl -sS -o /dev/null -w '%{http_code}' "$base/v2/noapi/img/referrers/$DIGEST"
	assert_output 404
	run curl -sS --fail "$base/v2/fakecheck/img/referrers/$DIGEST"
	assert_success
	[[ $(json_get - '[m["artifactType"] for m in j["manifests"]]' <<<"$output") == \
		"[\"$SIG_AT\", \"$SBOM_AT\"]" ]] || fail "$output"
	# the signature manifest: cosign's layout, served by digest, payload verifies
	local m=$BATS_TEST_TMPDIR/m.json p=$BATS_TEST_TMPDIR/p
	curl -sS --fail -o "$m" "$base/v2/fakecheck/img/manifests/$(entry fakecheck 1)" || fail "get"
	[[ sha256:$(sha256sum <"$m" | cut -d' ' -f1) == "$(entry fakecheck 1)" ]] || fail "digest"
	[[ $(json_get "$m" 'j["subject"]["digest"]') == "$DIGEST" ]] || fail "$(cat "$m")"
	[[ $(json_get "$m" 'j["layers"][0]["mediaType"]') == "$SIG_MT_PAYLOAD" ]] || fail "$(cat "$m")"
	sig_get_blob "$FAKE" fakecheck/img "$(json_get "$m" 'j["layers"][0]["digest"]')" "$p" ||
		fail "payload blob"
	sig_verify_openssl "$SK/ec.pub" ecdsa "$p" \
		<(json_get "$m" "j['layers'][0]['annotations']['$SIG_ANN']" | base64 -d) ||
		fail "the served signature does not verify"
	! sig_verify_openssl "$SK/other.pub" ecdsa "$p" \
		<(json_get "$m" "j['layers'][0]['annotations']['$SIG_ANN']" | base64 -d) ||
		fail "the served signature verifies with the other key"
	# and an image pulls from it when no signature is needed
	local st
	st=$(reg_state fakecheck)
	REG_TRUST_POLICY=$REG_TRUST_ACCEPT run --separate-stderr mreg_in "$st" pull "$(ref_of fakecheck)"
	assert_success
	[[ $(pulled_digest) == "$DIGEST" ]] || fail "$output"
}

# ---- the referrers path ----

@test "a signature found only through the referrers API: verify names \"referrer sha256:...\", pull and run accept it; the SBOM is never fetched" {
	local ref sigd sbomd out
	ref=$(ref_of good)
	build_index good "$(signed ec good)" sbom
	sigd=$(entry good 1)
	sbomd=$(entry good 2)
	use_policy good

	run --separate-stderr mreg_in "$ST" verify "$ref"
	assert_success
	out=$output
	assert_line --regexp "^signature 1: accepted: key $FP_EC identity $ref digest $DIGEST signed $(sig_time "$TS") \\(referrer ${sigd:0:19} layer 1\\)"
	# one signature line: the SBOM entry is not a signature
	[[ $(grep -c '^signature ' <<<"$out") == 1 ]] || fail "$out"
	assert_line --regexp "^Verified $ref@$DIGEST: "
	sig_assert_decision "$ST" accept verify good/img

	run --separate-stderr mreg_in "$ST" pull "$ref"
	assert_success
	[[ $(pulled_digest) == "$DIGEST" ]] || fail "$output"
	sig_assert_decision "$ST" accept pull good/img
	[[ $(sig_field "$(sig_last_decision "$ST")" keys) == *"$FP_EC"* ]] ||
		fail "the decision does not name the key: $(sig_last_decision "$ST")"

	assert_asked_referrers good
	requests good | grep -qxF "GET /v2/good/img/manifests/$sigd" ||
		fail "the signature manifest was not fetched:"$'\n'"$(requests good)"
	assert_not_fetched good "$sbomd"
	# the recorded verification satisfies the policy at run
	run --separate-stderr mreg_in "$ST" run --rm "$ref" /probe pid
	assert_success
	assert_output "pid: 1"
}

@test "referrers endpoint answers 404 (no API): rejected, \"no signatures\", exit 125, nothing stored" {
	use_policy noapi
	[[ ! -e $(index_file noapi) ]] || fail "noapi must have no index"
	refused_pull noapi 'rejected by the trust policy: .*no signatures'
	refused_verify noapi
	assert_line "no signatures"
	assert_asked_referrers noapi
}

@test "a malformed referrers index (a good index cut short, not JSON at all, over the 4 MiB cap): no referrers, rejected, no crash" {
	local mode
	for mode in truncated notjson huge; do
		build_index "$mode" "$(signed ec "$mode")" sbom
		use_policy "$mode"
		# the control: whole, this index gets the image verified
		run --separate-stderr mreg_in "$ST" verify "$(ref_of "$mode")"
		assert_success
		assert_line --regexp "^signature 1: accepted: key $FP_EC .*\\(referrer $(entry "$mode" 1 | cut -c1-19) layer 1\\)"
	done
	log_mark
	# the cut index still holds the whole signature entry: moat must refuse
	# the document, not read it up to where it breaks
	python3 - "$(index_file truncated)" <<'PY' || fail "truncate"
import sys
p = sys.argv[1]
b = open(p, "rb").read()
assert b.endswith(b"]}")
open(p, "wb").write(b[:-2])
PY
	head -c 4096 /dev/urandom >"$(index_file notjson)"
	# a well-formed index over moat's 4 MiB cap (a 5 MiB annotation)
	python3 - "$(index_file huge)" <<'PY' || fail "pad"
import json, sys
p = sys.argv[1]
j = json.load(open(p))
j["annotations"] = {"pad": "x" * (5 << 20)}
json.dump(j, open(p, "w"))
PY
	for mode in truncated notjson huge; do
		sig_use_policy "$SK/policy-$mode.json"
		ST=$(reg_state "$mode")
		refused_pull "$mode" 'rejected by the trust policy: .*referrers index refused'
		refused_verify "$mode"
		assert_line --regexp "^signature 1: rejected: .*\\(referrers\\): referrers index refused: "
		assert_asked_referrers "$mode"
		# nothing listed in the broken index was followed
		assert_not_fetched "$mode" "$(entry "$mode" 1)"
		assert_not_fetched "$mode" "$(entry "$mode" 2)"
	done
}

@test "a referrers index with one malformed entry is refused whole (its good signature does not count)" {
	local spec
	spec=$(signed ec badentry)
	use_policy badentry
	# the control: without the bad entry, the same signature is accepted
	build_index badentry "$spec"
	run --separate-stderr mreg_in "$ST" verify "$(ref_of badentry)"
	assert_success
	assert_line --regexp "^signature 1: accepted: key $FP_EC "
	log_mark
	ST=$(reg_state badentry)
	build_index badentry "$spec" baddigest
	refused_pull badentry 'rejected by the trust policy: .*referrers index refused'
	refused_verify badentry
	assert_line --regexp "^signature 1: rejected: .*\\(referrers\\): referrers index refused: "
	assert_asked_referrers badentry
	assert_not_fetched badentry "$(entry badentry 1)"
}

@test "the referrer's signature is by another key: rejected; verify shows the signature line \"rejected\"" {
	local sigd
	build_index wrongkey "$(signed other wrongkey)" sbom
	sigd=$(entry wrongkey 1)
	use_policy wrongkey
	refused_pull wrongkey 'rejected by the trust policy'
	refused_verify wrongkey
	assert_line --regexp "^signature 1: rejected: key - identity - digest - signed - \\(referrer ${sigd:0:19} layer 1\\): does not verify with any key the policy names \\(1 key\\)$"
	[[ $(grep -c '^signature ' <<<"$output") == 1 ]] || fail "$output"
	assert_not_fetched wrongkey "$(entry wrongkey 2)"
}

@test "two referrers, one by another key and one by the policy's key: accepted; both reported" {
	local ref
	ref=$(ref_of mixed)
	build_index mixed "$(signed other mixed)" sbom "$(signed ec mixed)"
	use_policy mixed
	run --separate-stderr mreg_in "$ST" verify "$ref"
	assert_success
	assert_line --regexp "^signature 1: rejected: key - .* \\(referrer $(entry mixed 1 | cut -c1-19) layer 1\\): does not verify"
	assert_line --regexp "^signature 2: accepted: key $FP_EC identity $ref digest $DIGEST .*\\(referrer $(entry mixed 3 | cut -c1-19) layer 1\\)"
	run --separate-stderr mreg_in "$ST" pull "$ref"
	assert_success
	[[ $(pulled_digest) == "$DIGEST" ]] || fail "$output"
	assert_not_fetched mixed "$(entry mixed 2)"
}

@test "a referrer signed with the right key over another digest: rejected" {
	local other
	other=sha256:$(printf 'another image' | sha256sum | cut -d' ' -f1)
	build_index otherdigest "$(signed ec otherdigest "$other")"
	use_policy otherdigest
	refused_pull otherdigest 'rejected by the trust policy'
	refused_verify otherdigest
	assert_line --regexp "^signature 1: rejected: key $FP_EC identity $(ref_of otherdigest) digest $other .*\\(referrer "
}

@test "a referrer whose manifest the registry does not have: reported, rejected" {
	build_index ghost ghost
	use_policy ghost
	refused_pull ghost 'rejected by the trust policy'
	refused_verify ghost
	assert_line --regexp "^signature 1: rejected: key - .*\\(referrer $(entry ghost 1 | cut -c1-19)\\): "
	requests ghost | grep -qxF "GET /v2/ghost/img/manifests/$(entry ghost 1)" ||
		fail "the listed manifest was not asked for:"$'\n'"$(requests ghost)"
}

@test "referrers endpoint answers 500: still rejected (no signature is taken from a failing registry)" {
	build_index err500 "$(signed ec err500)"
	local f
	f=$(index_file err500)
	echo 500 >"${f%.json}.status"
	use_policy err500
	refused_pull err500 'rejected by the trust policy: .*referrers index refused'
	refused_verify err500
	assert_asked_referrers err500
	assert_not_fetched err500 "$(entry err500 1)"
}

@test "a multi-platform index: the platform manifest's referrer is found (the index has none) and accepted" {
	local ref idx plat size
	ref=$(ref_of multi)
	idx=$(cat "$FAKE_DIR/tags/multi")
	plat=$(json_get "$FAKE_DIR/info-multi.json" \
		'[m["digest"] for m in j["manifests"] if m["platform"] == "linux/amd64"][0]')
	size=$(stat -c %s "$FAKE_DIR/layout/blobs/sha256/${plat#sha256:}")
	[[ $idx != "$plat" ]] || fail "the index is its own platform manifest"
	SUBJECT=$plat SUBJECT_SIZE_OVERRIDE=$size build_index multi "$(signed ec multi "$plat")" sbom
	[[ ! -e $(index_file multi "$idx") ]] || fail "the index must have no referrers"
	use_policy multi
	run --separate-stderr mreg_in "$ST" verify "$ref"
	assert_success
	assert_line --regexp "^signature 1: accepted: key $FP_EC identity $ref digest $plat signed .*\\(referrer $(entry multi 1 | cut -c1-19) layer 1\\)"
	run --separate-stderr mreg_in "$ST" pull "$ref"
	assert_success
	[[ $(pulled_digest) == "$idx" ]] || fail "pulled $(pulled_digest), the tag is $idx: $output"
	# both digests were looked up, each under its .sig tag and its referrers
	local d
	for d in "$idx" "$plat"; do
		requests multi | grep -qxF "GET /v2/multi/img/referrers/$d" ||
			fail "no referrers GET for $d:"$'\n'"$(requests multi)"
		requests multi | grep -qxE "(GET|HEAD) /v2/multi/img/manifests/sha256-${d#sha256:}\.sig" ||
			fail "no .sig lookup for $d:"$'\n'"$(requests multi)"
	done
	assert_not_fetched multi "$(entry multi 2)"
	run --separate-stderr mreg_in "$ST" run --rm "$ref" cat /arch
	assert_success
	assert_output linux/amd64
}

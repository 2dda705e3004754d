# tests/lib/registry.bash - real OCI registries on loopback for the tests.
#
# Loaded by .bats files after ../lib/helpers (and sourced by bench/pull.sh,
# which uses only the reg_* functions that need no bats):
#
#   load ../lib/helpers
#   load ../lib/registry
#
# What it gives:
#  - reg_pki DIR: a throw-away CA and a server certificate for
#    IP:127.0.0.1 and DNS:localhost, made with openssl at test time (plus a
#    second, unrelated CA: the "wrong CA" case);
#  - reg_start DIR tls|http|token: Debian's docker-registry
#    (`docker-registry serve CONFIG`) on 127.0.0.1 and a free port, its
#    data, config and log in DIR. "tls" serves HTTPS with the certificate
#    above and htpasswd Basic auth (REG_USER / REG_PASS); "http" is plain
#    HTTP with no auth (the insecure path); "token" is HTTPS with Bearer
#    tokens from reg_token_start's token server (a JWT signed with
#    openssl). It waits until the registry answers and prints HOST:PORT.
#    reg_stop DIR kills it (by the pid it recorded, after checking that
#    pid is still that registry) and removes DIR;
#  - reg_client_setup TLSHOST HTTPHOST: what the identity under test needs
#    to talk to them: a certs.d tree <certs>/HOST:PORT/ca.crt readable by
#    that identity, a private DOCKER_CONFIG dir, and registries configs
#    (MOAT_REGISTRIES_CONF, JSON): REG_CONF_DEFAULT lists the HTTP registry
#    as insecure and the certs dir; REG_CONF_STRICT only the certs dir;
#    REG_CONF_NOCA nothing; REG_CONF_WRONGCA a certs dir holding the wrong
#    CA for the TLS registry;
#  - mreg ARGS / mreg_in STATE ARGS: moat as the identity under test (like
#    moat_as) with DOCKER_CONFIG and MOAT_REGISTRIES_CONF (${REG_CONF:-
#    $REG_CONF_DEFAULT}) in its environment, plus whatever REG_EXTRA_ENV
#    ("K=V K=V") holds, with moat started through REG_WRAP (e.g.
#    "timeout 120") when set. helpers.bash's moat_as_user builds the rootless
#    environment with `env -i`, which would drop them, hence a copy of its
#    logic here;
#  - reg_state NAME: a fresh state dir for the identity under test, and
#    store_files_in / store_dirs_in / staging_in / images_in to compare a
#    store before and after;
#  - registry-side checks that do not trust moat: the access log (counts of
#    finished blob uploads and of cross-repository mounts since a mark) and
#    the manifest digest the registry serves (curl with the CA);
#  - reg_write_ocibuild FILE: a Python builder of OCI layouts (single or
#    multi-platform, optional random or many small layers), and
#    reg_push_layout: such a layout pushed byte for byte with curl.
#
# Nothing here binds or connects to anything but 127.0.0.1.

REG_USER=${REG_USER:-moatreg}
# A space and a colon: Basic auth splits user:pass at the FIRST colon only.
REG_PASS=${REG_PASS:-'s3cret pass:word'}
REG_ACCEPT='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'

# ---- registries (no bats needed below this line until "moat") ----

# reg_require CMD...: each is installed, or say which is not (to bats's
# fd 3 when there is one) and fail.
reg_require() {
	local c missing=()
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	if { true >&3; } 2>/dev/null; then
		echo "# not installed: ${missing[*]} (run tools/deps.sh)" >&3
	else
		echo "not installed: ${missing[*]} (run tools/deps.sh)" >&2
	fi
	return 1
}

# A TCP port on 127.0.0.1 that was free a moment ago.
reg_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# reg_pki DIR: ca.{key,crt}, server.{key,crt} (IP:127.0.0.1, DNS:localhost,
# signed by ca), other-ca.crt (an unrelated CA), token.{key,crt} (what a
# token server signs with and the registry trusts).
reg_pki() {
	local d=$1
	mkdir -p "$d"
	(
		set -e
		cd "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca.key -out ca.crt \
			-subj "/CN=moat test CA $$" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout other-ca.key \
			-out other-ca.crt -subj "/CN=moat unrelated CA $$" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		# the token issuer's signing certificate (the registry's rootcertbundle)
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout token.key \
			-out token.crt -subj "/CN=moat test token issuer $$"
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=127.0.0.1"
		printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
			'basicConstraints=CA:FALSE' \
			'keyUsage=critical,digitalSignature,keyEncipherment' \
			'extendedKeyUsage=serverAuth' >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -out server.crt -extfile server.ext
		chmod 0600 ca.key other-ca.key server.key token.key
		chmod 0644 ca.crt other-ca.crt server.crt token.crt
	) >"$d/openssl.log" 2>&1 || {
		cat "$d/openssl.log" >&2
		return 1
	}
}

# reg_start DIR tls|http|token [PKI [REALM]]: starts a registry with its
# state in DIR (PKI defaults to DIR/../pki); prints HOST:PORT once it
# answers. DIR/pid, DIR/registry.log (the access log is in it), DIR/addr.
# "token" is TLS with Bearer token auth: the tokens come from REALM (see
# reg_token_start), signed with PKI/token.key.
reg_start() {
	local d=$1 kind=$2 pki=${3:-$1/../pki} realm=${4:-}
	local port code i pid
	mkdir -p "$d/data"
	chmod 0700 "$d"
	d=$(cd "$d" && pwd) || return 1
	pki=$(cd "$pki" && pwd) || return 1
	if [[ $kind == tls ]]; then
		htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$d/htpasswd" || return 1
	fi
	for _ in 1 2 3 4 5; do
		port=$(reg_free_port) || return 1
		{
			echo "version: 0.1"
			echo "log:"
			echo "  level: info"
			echo "  formatter: text"
			echo "  accesslog:"
			echo "    disabled: false"
			echo "storage:"
			echo "  filesystem:"
			echo "    rootdirectory: $d/data"
			echo "  delete:"
			echo "    enabled: true"
			echo "  maintenance:"
			echo "    uploadpurging:"
			echo "      enabled: false"
			echo "http:"
			echo "  addr: 127.0.0.1:$port"
			echo "  secret: moat-test-$RANDOM$RANDOM"
			if [[ $kind != http ]]; then
				echo "  tls:"
				echo "    certificate: $pki/server.crt"
				echo "    key: $pki/server.key"
			fi
			if [[ $kind == tls ]]; then
				echo "auth:"
				echo "  htpasswd:"
				echo "    realm: moat-test"
				echo "    path: $d/htpasswd"
			elif [[ $kind == token ]]; then
				echo "auth:"
				echo "  token:"
				echo "    realm: $realm"
				echo "    service: moat-test-registry"
				echo "    issuer: moat-test-issuer"
				echo "    rootcertbundle: $pki/token.crt"
			fi
		} >"$d/config.yml"
		# No fd of bats's may stay open in the daemon, or bats waits for it.
		docker-registry serve "$d/config.yml" </dev/null >>"$d/registry.log" 2>&1 3>&- 4>&- &
		pid=$!
		echo "$pid" >"$d/pid"
		for ((i = 0; i < 100; i++)); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break # exited: most likely the port was taken meanwhile
			fi
			if [[ $kind != http ]]; then
				code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
					--cacert "$pki/ca.crt" "https://127.0.0.1:$port/v2/") || code=000
			else
				code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
					"http://127.0.0.1:$port/v2/") || code=000
			fi
			if [[ $code == 200 || $code == 401 ]]; then
				echo "127.0.0.1:$port" >"$d/addr"
				echo "127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
		done
		reg_kill_pid "$pid"
	done
	echo "# docker-registry ($kind) did not start; its log:" >&2
	tail -n 20 "$d/registry.log" >&2
	return 1
}

# reg_token_start DIR [PKI]: a token server (Docker's token auth spec) on
# 127.0.0.1 over TLS (the registry's server certificate): GET
# /token?service=&scope=... with Basic REG_USER:REG_PASS, or the OAuth2
# POST (grant_type=password), answers a JWT signed RS256 with PKI/token.key
# (x5c: PKI/token.crt) granting the scopes asked for; anonymous requests
# get a token that grants nothing; wrong credentials get 401. Every
# request is logged to DIR/token.log (JSON lines: method, path, scopes,
# user, form keys). Prints the realm URL. The signature is made by
# `openssl dgst`, so the standard library is enough.
reg_token_start() {
	local d=$1 pki=${2:-$1/../pki} i
	mkdir -p "$d"
	d=$(cd "$d" && pwd) || return 1
	pki=$(cd "$pki" && pwd) || return 1
	cat >"$d/token.py" <<'PY'
import base64, hashlib, http.server, json, os, socketserver, ssl, subprocess, sys, time
import threading, urllib.parse

d, pki, user, password = sys.argv[1:5]
lock = threading.Lock()
log = open(os.path.join(d, "token.log"), "a", buffering=1)
der = subprocess.run(["openssl", "x509", "-in", os.path.join(pki, "token.crt"), "-outform", "DER"],
                     check=True, capture_output=True).stdout


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(sub, service, scopes):
    access = []
    for sc in scopes:
        parts = sc.split(":")
        if len(parts) == 3 and sub:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    head = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
    claims = {"iss": "moat-test-issuer", "sub": sub or "", "aud": service, "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
    signing = b64u(json.dumps(head).encode()) + "." + b64u(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(pki, "token.key")],
                         input=signing.encode(), check=True, capture_output=True).stdout
    return signing + "." + b64u(sig)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj, extra=()):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b)

    def serve(self, q, form):
        auth = self.headers.get("Authorization", "")
        who = None
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != (user, password):
                who = "!"
            else:
                who = u
        if form.get("grant_type", [""])[0] == "password":
            if (form.get("username", [""])[0], form.get("password", [""])[0]) == (user, password):
                who = user
            else:
                who = "!"
        scopes = q.get("scope", []) + form.get("scope", [])
        service = (q.get("service") or form.get("service") or [""])[0]
        with lock:
            log.write(json.dumps({"method": self.command, "path": self.path.split("?")[0],
                                  "scopes": scopes, "user": who, "form": sorted(form)}) + "\n")
        if who == "!":
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "bad credentials"}]},
                              [("WWW-Authenticate", 'Basic realm="moat-token"')])
        tok = jwt(who, service, " ".join(scopes).split())
        self.reply(200, {"token": tok, "access_token": tok, "expires_in": 300,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def do_GET(self):
        self.serve(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query), {})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        self.serve(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query), form)


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(pki, "server.crt"), os.path.join(pki, "server.key"))
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
srv.serve_forever()
PY
	rm -f "$d/port"
	python3 "$d/token.py" "$d" "$pki" "$REG_USER" "$REG_PASS" </dev/null >>"$d/token.out" 2>&1 \
		3>&- 4>&- &
	echo $! >"$d/pid"
	for ((i = 0; i < 100; i++)); do
		[[ -s $d/port ]] && break
		sleep 0.1
	done
	[[ -s $d/port ]] || {
		echo "# the token server did not start: $(cat "$d/token.out")" >&2
		return 1
	}
	echo "https://127.0.0.1:$(cat "$d/port")/token"
}

# reg_token_stop DIR: stops that token server (if the pid is still it).
reg_token_stop() {
	local d=$1 pid cmd
	[[ -n $d && -f $d/pid ]] || return 0
	d=$(cd "$d" && pwd) || return 0
	pid=$(cat "$d/pid")
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || cmd=
	[[ $cmd == *"$d/token.py"* ]] && kill -KILL "$pid" 2>/dev/null
	rm -rf -- "$d"
}

# reg_kill_pid PID: TERM, then KILL, a docker-registry process we started.
reg_kill_pid() {
	local pid=$1 a0='' i
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 0
	IFS= read -r -d '' a0 </proc/"$pid"/cmdline || true
	[[ $a0 == *docker-registry ]] || return 0 # the pid was reused: not ours
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# reg_stop DIR: stops that registry and removes its data.
reg_stop() {
	local d=$1
	[[ -n $d && -d $d ]] || return 0
	[[ -f $d/pid ]] && reg_kill_pid "$(cat "$d/pid")"
	rm -rf -- "$d"
}

# reg_log_mark DIR: the current length of DIR's log (for reg_log_since).
reg_log_mark() { wc -l <"$1/registry.log"; }

# reg_log_since DIR MARK: the access-log lines written after MARK.
reg_log_since() {
	tail -n +"$(($2 + 1))" "$1/registry.log" | grep -E '^127\.0\.0\.1 - ' || true
}

# reg_count_uploads DIR MARK REPO [DIGEST]: finished blob uploads into
# REPO (the PUT, or monolithic POST, that carries ?digest= and got 201),
# for DIGEST only when given.
reg_count_uploads() {
	local want='[^ "]*'
	[[ -n ${4:-} ]] && want="[^ \"]*digest=${4%%:*}(%3A|:)${4#*:}[^ \"]*"
	reg_log_since "$1" "$2" |
		grep -cE "\"(PUT|POST) /v2/$3/blobs/uploads/[^ \"]*[?&]digest=$want HTTP/[0-9.]+\" 201 " ||
		true
}

# reg_count_mounts DIR MARK REPO: cross-repository mounts into REPO that
# the registry granted (201).
reg_count_mounts() {
	reg_log_since "$1" "$2" |
		grep -cE "\"POST /v2/$3/blobs/uploads/\?[^ \"]*mount=[^ \"]* HTTP/[0-9.]+\" 201 " || true
}

# reg_curl_tls ARGS...: curl against the TLS registry, verified with the
# test CA and authenticated.
reg_curl_tls() {
	curl -sS --max-time 20 --cacert "$REG_PKI/ca.crt" -u "$REG_USER:$REG_PASS" "$@"
}

# reg_manifest_digest URLBASE REPO REF [CURLARGS...]: the
# Docker-Content-Digest the registry answers for that manifest (empty if
# none).
reg_manifest_digest() {
	local base=$1 repo=$2 ref=$3
	shift 3
	curl -sS --max-time 20 -o /dev/null -D - -H "Accept: $REG_ACCEPT" "$@" \
		"$base/v2/$repo/manifests/$ref" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | head -n 1
}

# reg_manifest URLBASE REPO REF [CURLARGS...]: the manifest's bytes.
reg_manifest() {
	local base=$1 repo=$2 ref=$3
	shift 3
	curl -sS --fail --max-time 20 -H "Accept: $REG_ACCEPT" "$@" "$base/v2/$repo/manifests/$ref"
}

# ---- OCI layouts made in Python (standard library only) ----

# reg_write_ocibuild FILE: writes the layout builder.
#   python3 FILE OUTDIR --tag T [--platform OS/ARCH[/VARIANT]]... \
#       [--file HOST:/ctr/path]... [--random-mib N] [--small-layers N] [--gzip]
# Builds an OCI image layout directory: a busybox-static base layer (like
# mkimage.py), then a layer with /arch (the platform) and the --file files,
# then optionally a layer /data/blob of N MiB of random bytes and N small
# layers /layers/K. One --platform (default linux/amd64) gives a manifest;
# several give an index of one manifest per platform (sharing the base
# layer). Prints JSON: {"tag", "top": digest of the manifest or index
# index.json names, "media_type", "manifests": [{"platform", "digest",
# "config", "layers": [...], "blob_sha256"}]}.
reg_write_ocibuild() {
	cat >"$1" <<'PY'
import argparse, gzip, hashlib, io, json, os, sys, tarfile

APPLETS = ["sh", "cat", "echo", "ls", "id", "env", "true", "false", "sleep",
           "pwd", "mkdir", "rm", "touch", "stat", "readlink", "sha256sum", "wc"]
MT_MAN = "application/vnd.oci.image.manifest.v1+json"
MT_IDX = "application/vnd.oci.image.index.v1+json"
MT_CFG = "application/vnd.oci.image.config.v1+json"


def ti(name, kind="f", data=b"", mode=0o644, link=""):
    t = tarfile.TarInfo(name)
    t.mtime = 1700000000
    t.mode = mode
    if kind == "d":
        t.type = tarfile.DIRTYPE
    elif kind == "l":
        t.type = tarfile.SYMTYPE
        t.linkname = link
    else:
        t.size = len(data)
    return t, (data if kind == "f" else None)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


class Layout:
    def __init__(self, out):
        self.out = out
        os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

    def add(self, data):
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.out, "blobs", "sha256", h), "wb") as f:
            f.write(data)
        return "sha256:" + h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--platform", action="append", default=[])
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--random-mib", type=int, default=0)
    ap.add_argument("--small-layers", type=int, default=0)
    ap.add_argument("--gzip", action="store_true")
    a = ap.parse_args()
    plats = a.platform or ["linux/amd64"]
    lay = Layout(a.out)

    def layer(entries):
        raw = tar_bytes(entries)
        blob = gzip.compress(raw, compresslevel=1, mtime=0) if a.gzip else raw
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if a.gzip else "")
        return ({"mediaType": mt, "digest": lay.add(blob), "size": len(blob)},
                "sha256:" + hashlib.sha256(raw).hexdigest())

    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    base = [ti(d, "d", mode=0o1777 if d == "tmp" else 0o755)
            for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "data"]]
    base.append(ti("bin/busybox", data=bb, mode=0o755))
    base += [ti("bin/" + x, "l", link="busybox", mode=0o777) for x in APPLETS]
    base.append(ti("etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n"))
    base.append(ti("etc/group", data=b"root:x:0:\n"))
    base_layer = layer(base)
    extra = []
    blob_sha = None
    if a.random_mib:
        data = os.urandom(a.random_mib << 20)
        blob_sha = hashlib.sha256(data).hexdigest()
        extra.append(layer([ti("data/blob", data=data)]))
    for k in range(a.small_layers):
        extra.append(layer([ti("layers", "d", mode=0o755),
                            ti("layers/%d" % k, data=os.urandom(64 << 10))]))

    mans = []
    for p in plats:
        parts = p.split("/")
        files = [ti("arch", data=(p + "\n").encode())]
        for spec in a.file:
            host, ctr = spec.split(":", 1)
            with open(host, "rb") as f:
                files.append(ti(ctr.lstrip("/"), data=f.read(), mode=0o755))
        layers = [base_layer, layer(files)] + extra
        cfg = {"architecture": parts[1], "os": parts[0],
               "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
               "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
               "history": [{"created_by": "ocibuild"} for _ in layers]}
        if len(parts) > 2:
            cfg["variant"] = parts[2]
        cfg_b = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
        cfg_d = lay.add(cfg_b)
        man = {"schemaVersion": 2, "mediaType": MT_MAN,
               "config": {"mediaType": MT_CFG, "digest": cfg_d, "size": len(cfg_b)},
               "layers": [d for d, _ in layers]}
        man_b = json.dumps(man, sort_keys=True, separators=(",", ":")).encode()
        plat = {"os": parts[0], "architecture": parts[1]}
        if len(parts) > 2:
            plat["variant"] = parts[2]
        mans.append({"platform": p, "digest": lay.add(man_b), "size": len(man_b),
                     "config": cfg_d, "layers": [d["digest"] for d, _ in layers],
                     "blob_sha256": blob_sha, "plat": plat})
    if len(mans) == 1:
        top = {"mediaType": MT_MAN, "digest": mans[0]["digest"], "size": mans[0]["size"]}
    else:
        idx = {"schemaVersion": 2, "mediaType": MT_IDX,
               "manifests": [{"mediaType": MT_MAN, "digest": m["digest"], "size": m["size"],
                              "platform": m["plat"]} for m in mans]}
        idx_b = json.dumps(idx, sort_keys=True, separators=(",", ":")).encode()
        top = {"mediaType": MT_IDX, "digest": lay.add(idx_b), "size": len(idx_b)}
    top["annotations"] = {"org.opencontainers.image.ref.name": a.tag}
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": MT_IDX, "manifests": [top]}, f)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    for m in mans:
        del m["plat"]
    json.dump({"tag": a.tag, "top": top["digest"], "media_type": top["mediaType"],
               "manifests": mans}, sys.stdout)
    print()


main()
PY
}

# reg_push_layout URLBASE REPO DIR INFO CURLARGS...: pushes the layout
# DIR that ocibuild.py made (INFO: its JSON output, a file) to REPO with
# plain curl, byte for byte: every blob (monolithic upload), each
# platform manifest by digest, then the top manifest or index under the
# tag. No moat and no skopeo involved: the digests are the builder's.
reg_push_layout() {
	local base=$1 repo=$2 dir=$3 info=$4
	shift 4
	local f hex loc sep d mt
	local -a mans
	mapfile -t mans < <(json_get "$info" '"\n".join(m["digest"] for m in j["manifests"])')
	for f in "$dir"/blobs/sha256/*; do
		hex=${f##*/}
		[[ " ${mans[*]} $(json_get "$info" 'j["top"]') " == *" sha256:$hex "* ]] && continue
		loc=$(curl -sS --fail --max-time 20 -X POST -D - -o /dev/null "$@" \
			"$base/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p') ||
			return 1
		[[ -n $loc ]] || return 1
		[[ $loc == /* ]] && loc=$base$loc
		sep='?'
		[[ $loc == *\?* ]] && sep='&'
		curl -sS --fail --max-time 60 -X PUT -H 'Content-Type: application/octet-stream' \
			--data-binary @"$f" "$@" "$loc${sep}digest=sha256%3A$hex" >/dev/null || return 1
	done
	for d in "${mans[@]}"; do
		[[ $d == "$(json_get "$info" 'j["top"]')" ]] && continue
		curl -sS --fail --max-time 20 -X PUT \
			-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
			--data-binary @"$dir/blobs/sha256/${d#sha256:}" "$@" \
			"$base/v2/$repo/manifests/$d" >/dev/null || return 1
	done
	d=$(json_get "$info" 'j["top"]')
	mt=$(json_get "$info" 'j["media_type"]')
	curl -sS --fail --max-time 20 -X PUT -H "Content-Type: $mt" \
		--data-binary @"$dir/blobs/sha256/${d#sha256:}" "$@" \
		"$base/v2/$repo/manifests/$(json_get "$info" 'j["tag"]')" >/dev/null
}

# json_get FILE|- EXPR: a value out of JSON with Python (EXPR indexes `j`,
# e.g. 'j["manifests"][0]["digest"]').
json_get() {
	python3 -c 'import json, sys
src = sys.argv[1]
j = json.load(sys.stdin if src == "-" else open(src))
v = eval(sys.argv[2], {"j": j})
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$@"
}

# ---- moat as the identity under test, with the registry environment ----

# The uid:gid files for the identity under test must belong to.
reg_owner() {
	if is_root_identity; then
		echo 0:0
	else
		echo "$(id -u "$MOAT_TEST_USER"):$(id -g "$MOAT_TEST_USER")"
	fi
}

# reg_client_setup TLSHOST HTTPHOST: certs.d, DOCKER_CONFIG and the
# registries configs under $MOAT_T/regclient (see the header).
reg_client_setup() {
	local tls=$1 http=$2 c=$MOAT_T/regclient insecure=
	install -d -m 0755 "$c" "$c/certs.d" "$c/wrong-certs.d"
	if [[ -n $tls ]]; then
		install -d -m 0755 "$c/certs.d/$tls" "$c/wrong-certs.d/$tls"
		install -m 0644 "$REG_PKI/ca.crt" "$c/certs.d/$tls/ca.crt"
		install -m 0644 "$REG_PKI/other-ca.crt" "$c/wrong-certs.d/$tls/ca.crt"
	fi
	install -d -m 0700 -o "$(reg_owner | cut -d: -f1)" -g "$(reg_owner | cut -d: -f2)" \
		"$c/docker"
	[[ -n $http ]] && insecure="\"$http\""
	printf '{"insecure": [%s], "certs_dirs": ["%s"]}\n' "$insecure" "$c/certs.d" \
		>"$c/registries.json"
	printf '{"certs_dirs": ["%s"]}\n' "$c/certs.d" >"$c/registries-strict.json"
	printf '{}\n' >"$c/registries-noca.json"
	printf '{"certs_dirs": ["%s"]}\n' "$c/wrong-certs.d" >"$c/registries-wrongca.json"
	chmod 0644 "$c"/registries*.json
	# The registry suites test transport, not trust: a policy that accepts
	# unsigned images (tests/integration/sign*.bats set their own).
	printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$c/trust-accept.json"
	chmod 0644 "$c/trust-accept.json"
	export REG_TRUST_ACCEPT=$c/trust-accept.json
	export REG_CERTS=$c/certs.d REG_DOCKER_CONFIG=$c/docker
	export REG_CONF_DEFAULT=$c/registries.json REG_CONF_STRICT=$c/registries-strict.json
	export REG_CONF_NOCA=$c/registries-noca.json REG_CONF_WRONGCA=$c/registries-wrongca.json
}

# reg_start_pair: the two registries most suites want, under $MOAT_T/reg:
# a PKI, the TLS one (REG_TLS, htpasswd auth) and the plain-HTTP one
# (REG_HTTP), and the client side for the identity under test
# (reg_client_setup). For setup_file.
reg_start_pair() {
	export REG_PKI=$MOAT_T/reg/pki
	reg_pki "$REG_PKI" || return 1
	export REG_TLS_DIR=$MOAT_T/reg/tls REG_HTTP_DIR=$MOAT_T/reg/http
	REG_TLS=$(reg_start "$REG_TLS_DIR" tls) || return 1
	REG_HTTP=$(reg_start "$REG_HTTP_DIR" http) || return 1
	export REG_TLS REG_HTTP
	reg_client_setup "$REG_TLS" "$REG_HTTP"
}

# reg_moat_user USER STATE ARGS...: moat_as_user with the registry
# environment (REG_EXTRA_ENV and REG_WRAP as MOAT_ENV_EXTRA, MOAT_WRAP),
# and the trust policy REG_TRUST_POLICY (default: REG_TRUST_ACCEPT; set it
# to "" for none, i.e. moat's own files and default).
reg_moat_user() {
	MOAT_TRUST_POLICY=${REG_TRUST_POLICY-$REG_TRUST_ACCEPT} \
		DOCKER_CONFIG=$REG_DOCKER_CONFIG MOAT_REGISTRIES_CONF=${REG_CONF:-$REG_CONF_DEFAULT} \
		MOAT_ENV_EXTRA=${REG_EXTRA_ENV:-} MOAT_WRAP=${REG_WRAP:-} moat_as_user "$@"
}

# mreg_in STATE ARGS...: moat in state dir STATE as the identity under test.
mreg_in() {
	local state=$1
	shift
	if is_root_identity; then
		reg_moat_user root "$state" "$@"
	else
		reg_moat_user "$MOAT_TEST_USER" "$state" "$@"
	fi
}

# mreg ARGS...: moat in the file's own state (MOAT_STATE).
mreg() { mreg_in "$MOAT_STATE" "$@"; }

# reg_state NAME: a fresh, empty state dir for the identity under test;
# prints its path.
reg_state() {
	local dir=$MOAT_T/state-$1
	rm -rf -- "$dir"
	if is_root_identity; then
		install -d -m 0700 "$dir" "$dir/xdg"
	else
		install -d -m 0700 -o "$MOAT_TEST_USER" -g "$(id -g "$MOAT_TEST_USER")" \
			"$dir" "$dir/xdg"
	fi
	echo "$dir"
}

# store_files_in STATE: store_files for another state dir.
store_files_in() {
	find "$1/root" \( -type f -o -type l \) ! -name '*.lock' ! -name 'lock' \
		-printf '%P\n' 2>/dev/null | sort
}

# store_dirs_in STATE: the directories of the store (blobs, layers,
# images): a failed pull must add none.
store_dirs_in() {
	find "$1/root" -mindepth 1 -type d ! -path "$1/root/tmp/*" -printf '%P\n' 2>/dev/null | sort
}

# staging_in STATE: what is left in the store's staging area (ROOT/tmp).
staging_in() { find "$1/root/tmp" -mindepth 1 -maxdepth 1 -printf '%P\n' 2>/dev/null | sort; }

# images_in STATE: `moat images` without the columns that change by
# themselves.
images_in() { mreg_in "$1" images | awk '{ print $1, $2, $3 }'; }

# pulled_digest: the "Digest: sha256:..." line of a pull in $output.
pulled_digest() { sed -n 's/^Digest: *\(sha256:[0-9a-f]\{64\}\).*/\1/p' <<<"$output" | tail -n 1; }

# pushed_digest: Docker's "TAG: digest: sha256:... size: N" line of a push.
pushed_digest() {
	sed -n 's/.*digest: *\(sha256:[0-9a-f]\{64\}\).*/\1/p' <<<"$output" | tail -n 1
}

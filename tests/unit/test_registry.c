/*
 * tests/unit/test_registry.c - image/registry_auth.c's pure parsers, and
 * image/registry.c against servers on loopback:
 *
 *  - a fake registry in Python (embedded below, run with python3 on
 *    127.0.0.1, two ports: the second is "another host" for redirects)
 *    for everything a real registry will not do on demand: Bearer tokens,
 *    identity tokens, 429/500/503, hangs, truncated transfers, servers that
 *    ignore or botch Range, redirects (checking that no credentials reach
 *    the other origin), chunked uploads, oversized and lying answers;
 *  - Debian's docker-registry (distribution 2.8), twice: TLS with a CA
 *    made here by openssl and htpasswd Basic auth, and plain HTTP.
 *
 * Each server group is skipped (with its reason) when its tools are
 * missing; the parsers always run. Every server is started by this file
 * and stopped by pid at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "image/registry.h"

/* The fake registry (python3). Its behaviour is chosen by the last path
 * component of the repository ("x/trunc", "tok/redir"...); "tok/..." wants
 * Bearer tokens from its /token realm, "basic/..." Basic user:pass. GET
 * /_log returns (and forgets) what it saw, one line per event. */
// clang-format off
static const char fake_py[] =
    "import base64, hashlib, json, socket, sys, threading, time, uuid\n"
    "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
    "from urllib.parse import urlsplit, parse_qs\n"
    "\n"
    "BLOB = bytes(range(256)) * 40 + b\"tail\"\n"
    "BD = \"sha256:\" + hashlib.sha256(BLOB).hexdigest()\n"
    "MAN = json.dumps({\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
    "                  \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n"
    "                             \"digest\": BD, \"size\": len(BLOB)}, \"layers\": []}).encode()\n"
    "MD = \"sha256:\" + hashlib.sha256(MAN).hexdigest()\n"
    "OCI = \"application/vnd.oci.image.manifest.v1+json\"\n"
    "lock = threading.Lock()\n"
    "hits = {}\n"
    "log = []\n"
    "store = {}  # (repo, digest) -> bytes\n"
    "uploads = {}\n"
    "tokens = {}\n"
    "PORTS = [0, 0]\n"
    "# repositories that only hold what was pushed to them\n"
    "PUSHY = {\"push\", \"chunk\", \"absloc\", \"mounted\", \"mounted2\", \"mounted3\", \"dst\", \"lie\", \"empty\"}\n"
    "\n"
    "\n"
    "def count(key):\n"
    "    with lock:\n"
    "        hits[key] = hits.get(key, 0) + 1\n"
    "        return hits[key]\n"
    "\n"
    "\n"
    "class H(BaseHTTPRequestHandler):\n"
    "    protocol_version = \"HTTP/1.1\"\n"
    "\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "\n"
    "    def send(self, code, body=b\"\", headers=(), ctype=None):\n"
    "        self.send_response(code)\n"
    "        if ctype:\n"
    "            self.send_header(\"Content-Type\", ctype)\n"
    "        for k, v in headers:\n"
    "            self.send_header(k, v)\n"
    "        self.send_header(\"Content-Length\", str(len(body)))\n"
    "        self.end_headers()\n"
    "        if self.command != \"HEAD\":\n"
    "            self.wfile.write(body)\n"
    "\n"
    "    def err(self, code, ecode, msg, headers=()):\n"
    "        self.send(code, json.dumps({\"errors\": [{\"code\": ecode, \"message\": msg}]}).encode(),\n"
    "                  headers, \"application/json\")\n"
    "\n"
    "    def body(self):\n"
    "        n = int(self.headers.get(\"Content-Length\") or 0)\n"
    "        return self.rfile.read(n) if n else b\"\"\n"
    "\n"
    "    def origin(self):\n"
    "        return \"http://127.0.0.1:%d\" % self.server.server_address[1]\n"
    "\n"
    "    def authed(self, repo):\n"
    "        a = self.headers.get(\"Authorization\", \"\")\n"
    "        if repo.startswith(\"basic/\"):\n"
    "            if a == \"Basic \" + base64.b64encode(b\"user:pass\").decode():\n"
    "                return True\n"
    "            self.err(401, \"UNAUTHORIZED\", \"authentication required\",\n"
    "                     [(\"WWW-Authenticate\", 'Basic realm=\"fake\"')])\n"
    "            return False\n"
    "        if not repo.startswith(\"tok/\") and repo != \"\":\n"
    "            return True\n"
    "        if a.startswith(\"Bearer \") and a[7:] in tokens:\n"
    "            return True\n"
    "        self.err(401, \"UNAUTHORIZED\", \"authentication required\",\n"
    "                 [(\"WWW-Authenticate\", 'Bearer realm=\"%s/token\",service=\"fake\",scope=\"x\"' % self.origin())])\n"
    "        return False\n"
    "\n"
    "    def token(self, q, form):\n"
    "        a = self.headers.get(\"Authorization\", \"\")\n"
    "        with lock:\n"
    "            log.append(\"token %s %s %s\" % (self.command, \",\".join(q.get(\"scope\", [])),\n"
    "                                            \"basic\" if a else \"anon\"))\n"
    "        if form is not None:\n"
    "            if form.get(\"grant_type\") != [\"refresh_token\"] or form.get(\"refresh_token\") != [\"idtok\"]:\n"
    "                return self.send(401, b'{\"details\":\"bad refresh token\"}', (), \"application/json\")\n"
    "        elif a and a != \"Basic \" + base64.b64encode(b\"user:pass\").decode():\n"
    "            return self.send(401, b'{\"details\":\"incorrect username or password\"}', (), \"application/json\")\n"
    "        t = \"t\" + uuid.uuid4().hex\n"
    "        tokens[t] = 1\n"
    "        key = \"access_token\" if form is not None else \"token\"\n"
    "        self.send(200, json.dumps({key: t, \"expires_in\": 300}).encode(), (), \"application/json\")\n"
    "\n"
    "    def route(self):\n"
    "        u = urlsplit(self.path)\n"
    "        q = parse_qs(u.query)\n"
    "        p = u.path\n"
    "        with lock:\n"
    "            log.append(\"%s %s auth=%s\" % (self.command, self.path,\n"
    "                                          \"yes\" if self.headers.get(\"Authorization\") else \"no\"))\n"
    "        if p == \"/token\":\n"
    "            form = None\n"
    "            if self.command == \"POST\":\n"
    "                form = parse_qs(self.body().decode())\n"
    "            return self.token(q, form)\n"
    "        if p.startswith(\"/storage/\"):\n"
    "            # another origin (the second port): must never see credentials\n"
    "            if self.headers.get(\"Authorization\"):\n"
    "                return self.send(400, b\"credentials leaked\")\n"
    "            return self.serve_blob(BLOB)\n"
    "        if p == \"/v2/\":\n"
    "            if not self.authed(\"tok/ping\"):\n"
    "                return\n"
    "            return self.send(200, b\"{}\", (), \"application/json\")\n"
    "        if not p.startswith(\"/v2/\"):\n"
    "            return self.send(404)\n"
    "        rest = p[4:]\n"
    "        for kind in (\"/manifests/\", \"/blobs/uploads/\", \"/blobs/\", \"/tags/list\"):\n"
    "            i = rest.find(kind)\n"
    "            if i > 0:\n"
    "                repo, ref = rest[:i], rest[i + len(kind):]\n"
    "                break\n"
    "        else:\n"
    "            return self.send(404)\n"
    "        if not self.authed(repo):\n"
    "            return\n"
    "        b = repo.split(\"/\")[-1]\n"
    "        if b in (\"flaky500\", \"flaky429\"):\n"
    "            key = self.command + p\n"
    "            if count(key) == 1:\n"
    "                if b == \"flaky429\":\n"
    "                    return self.err(429, \"TOOMANYREQUESTS\", \"slow down\", [(\"Retry-After\", \"1\")])\n"
    "                return self.err(500, \"UNKNOWN\", \"oops\")\n"
    "        if b == \"always500\":\n"
    "            return self.err(503, \"UNAVAILABLE\", \"down for maintenance\")\n"
    "        if b == \"hang\":\n"
    "            time.sleep(30)\n"
    "            return\n"
    "        if kind == \"/manifests/\":\n"
    "            return self.manifest(b, repo, ref)\n"
    "        if kind == \"/tags/list\":\n"
    "            return self.tags(q)\n"
    "        if kind == \"/blobs/uploads/\":\n"
    "            return self.upload(b, repo, ref, q)\n"
    "        return self.blob(b, repo, ref)\n"
    "\n"
    "    def manifest(self, b, repo, ref):\n"
    "        if self.command == \"PUT\":\n"
    "            data = self.body()\n"
    "            d = \"sha256:\" + hashlib.sha256(data).hexdigest()\n"
    "            if b == \"lie\":\n"
    "                d = MD\n"
    "            store[(repo, ref)] = (data, self.headers.get(\"Content-Type\"))\n"
    "            store[(repo, d)] = (data, self.headers.get(\"Content-Type\"))\n"
    "            return self.send(201, b\"\", [(\"Docker-Content-Digest\", d), (\"Location\", \"/v2/%s/manifests/%s\" % (repo, d))])\n"
    "        if (repo, ref) in store:\n"
    "            data, ct = store[(repo, ref)]\n"
    "            return self.send(200, data, [], ct)\n"
    "        if b == \"schema1\":\n"
    "            return self.send(200, b\"{}\", [], \"application/vnd.docker.distribution.manifest.v1+prettyjws\")\n"
    "        if b == \"big\":\n"
    "            return self.send(200, b\" \" * (4 * 1024 * 1024 + 1), [], OCI)\n"
    "        if b == \"nodcd\":\n"
    "            return self.send(200, MAN, [], OCI + \"; charset=utf-8\")\n"
    "        if b == \"wrongdcd\":\n"
    "            return self.send(200, MAN, [(\"Docker-Content-Digest\", BD)], OCI)\n"
    "        if b == \"htmlerr\":\n"
    "            return self.send(404, b\"<html>\\x1b[31mnope</html>\", [], \"text/html\")\n"
    "        if b == \"loop\":\n"
    "            return self.send(302, b\"\", [(\"Location\", self.path)])\n"
    "        if ref in (\"latest\", MD) or b == \"anyref\":\n"
    "            return self.send(200, MAN, [(\"Docker-Content-Digest\", MD)], OCI)\n"
    "        return self.err(404, \"MANIFEST_UNKNOWN\", \"manifest unknown \\x1b[2J\")\n"
    "\n"
    "    def tags(self, q):\n"
    "        last = q.get(\"last\", [\"\"])[0]\n"
    "        allt = [\"a\", \"b\", \"c\", \"d\", \"e\"]\n"
    "        page = [t for t in allt if t > last][:2]\n"
    "        h = []\n"
    "        if page and page[-1] != allt[-1]:\n"
    "            h = [(\"Link\", '<?n=2&last=%s>; rel=\"next\"' % page[-1])]\n"
    "        return self.send(200, json.dumps({\"name\": \"x\", \"tags\": page}).encode(), h, \"application/json\")\n"
    "\n"
    "    def serve_blob(self, data):\n"
    "        rng = self.headers.get(\"Range\")\n"
    "        start = 0\n"
    "        if rng and rng.startswith(\"bytes=\") and rng.endswith(\"-\"):\n"
    "            start = int(rng[6:-1])\n"
    "        if start:\n"
    "            part = data[start:]\n"
    "            return self.send(206, part, [(\"Content-Range\", \"bytes %d-%d/%d\" % (start, len(data) - 1, len(data)))],\n"
    "                             \"application/octet-stream\")\n"
    "        return self.send(200, data, [], \"application/octet-stream\")\n"
    "\n"
    "    def blob(self, b, repo, ref):\n"
    "        with lock:\n"
    "            log.append(\"range %s\" % self.headers.get(\"Range\"))\n"
    "        if (repo, ref) in store:\n"
    "            return self.serve_blob(store[(repo, ref)])\n"
    "        if b in PUSHY:\n"
    "            return self.err(404, \"BLOB_UNKNOWN\", \"blob unknown to registry\")\n"
    "        if b == \"redir\":\n"
    "            return self.send(307, b\"\", [(\"Location\", \"http://127.0.0.1:%d/storage/%s\" % (PORTS[1], ref))])\n"
    "        if b == \"loop\":\n"
    "            return self.send(307, b\"\", [(\"Location\", self.path)])\n"
    "        if ref != BD:\n"
    "            return self.err(404, \"BLOB_UNKNOWN\", \"blob unknown to registry\")\n"
    "        if self.command == \"HEAD\":\n"
    "            return self.head_blob()\n"
    "        if b == \"bad\":\n"
    "            return self.send(200, BLOB[:-1] + b\"X\", [], \"application/octet-stream\")\n"
    "        if b in (\"trunc\", \"norange\", \"badrange\") and count(self.command + self.path) == 1:\n"
    "            # half the blob, then the connection drops\n"
    "            self.send_response(200)\n"
    "            self.send_header(\"Content-Length\", str(len(BLOB)))\n"
    "            self.end_headers()\n"
    "            self.wfile.write(BLOB[: len(BLOB) // 2])\n"
    "            self.wfile.flush()\n"
    "            self.close_connection = True\n"
    "            self.connection.shutdown(socket.SHUT_RDWR)\n"
    "            return\n"
    "        if b == \"norange\":\n"
    "            return self.send(200, BLOB, [], \"application/octet-stream\")\n"
    "        if b == \"badrange\" and self.headers.get(\"Range\"):\n"
    "            return self.send(206, BLOB[10:], [(\"Content-Range\", \"bytes 10-%d/%d\" % (len(BLOB) - 1, len(BLOB)))],\n"
    "                             \"application/octet-stream\")\n"
    "        return self.serve_blob(BLOB)\n"
    "\n"
    "    def head_blob(self):\n"
    "        self.send_response(200)\n"
    "        self.send_header(\"Content-Length\", str(len(BLOB)))\n"
    "        self.end_headers()\n"
    "\n"
    "    def upload(self, b, repo, ref, q):\n"
    "        if self.command == \"POST\" and ref == \"\":\n"
    "            self.body()\n"
    "            if \"mount\" in q:\n"
    "                d, frm = q[\"mount\"][0], q.get(\"from\", [\"\"])[0]\n"
    "                if (frm, d) in store:\n"
    "                    store[(repo, d)] = store[(frm, d)]\n"
    "                    return self.send(201, b\"\", [(\"Location\", \"/v2/%s/blobs/%s\" % (repo, d))])\n"
    "            u = uuid.uuid4().hex\n"
    "            uploads[u] = b\"\"\n"
    "            h = [(\"Location\", \"/v2/%s/blobs/uploads/%s?_state=s\" % (repo, u)), (\"Range\", \"0-0\")]\n"
    "            if b == \"chunk\":\n"
    "                h.append((\"OCI-Chunk-Min-Length\", \"1000\"))\n"
    "            if b == \"absloc\":\n"
    "                h[0] = (\"Location\", \"%s/v2/%s/blobs/uploads/%s?_state=s\" % (self.origin(), repo, u))\n"
    "            return self.send(202, b\"\", h)\n"
    "        u = ref\n"
    "        if u not in uploads:\n"
    "            return self.err(404, \"BLOB_UPLOAD_UNKNOWN\", \"upload unknown\")\n"
    "        if self.command == \"PATCH\":\n"
    "            data = self.body()\n"
    "            cr = self.headers.get(\"Content-Range\", \"\")\n"
    "            a, z = (int(x) for x in cr.split(\"-\"))\n"
    "            if a != len(uploads[u]) or z - a + 1 != len(data):\n"
    "                return self.err(416, \"BLOB_UPLOAD_INVALID\", \"bad range\")\n"
    "            if len(data) < 1000 and a + len(data) != len(BLOB):\n"
    "                return self.err(416, \"BLOB_UPLOAD_INVALID\", \"chunk too small\")\n"
    "            uploads[u] += data\n"
    "            with lock:\n"
    "                log.append(\"patch %s\" % cr)\n"
    "            return self.send(202, b\"\", [(\"Location\", \"/v2/%s/blobs/uploads/%s?_state=t\" % (repo, u)),\n"
    "                                        (\"Range\", \"0-%d\" % (len(uploads[u]) - 1))])\n"
    "        if self.command == \"PUT\":\n"
    "            data = uploads.pop(u) + self.body()\n"
    "            d = q.get(\"digest\", [\"\"])[0]\n"
    "            if \"sha256:\" + hashlib.sha256(data).hexdigest() != d:\n"
    "                return self.err(400, \"DIGEST_INVALID\", \"provided digest did not match uploaded content\")\n"
    "            store[(repo, d)] = data\n"
    "            return self.send(201, b\"\", [(\"Docker-Content-Digest\", d), (\"Location\", \"/v2/%s/blobs/%s\" % (repo, d))])\n"
    "        if self.command == \"DELETE\":\n"
    "            uploads.pop(u, None)\n"
    "            return self.send(204)\n"
    "        return self.send(405)\n"
    "\n"
    "    def control(self):\n"
    "        # /_log: what happened since the last call\n"
    "        with lock:\n"
    "            out = \"\\n\".join(log).encode()\n"
    "            log.clear()\n"
    "        return self.send(200, out)\n"
    "\n"
    "    def do_GET(self):\n"
    "        if self.path == \"/_log\":\n"
    "            return self.control()\n"
    "        self.route()\n"
    "\n"
    "    do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = route\n"
    "\n"
    "\n"
    "class S(ThreadingHTTPServer):\n"
    "    daemon_threads = True\n"
    "    allow_reuse_address = True\n"
    "\n"
    "\n"
    "a = S((\"127.0.0.1\", 0), H)\n"
    "b = S((\"127.0.0.1\", 0), H)\n"
    "PORTS[0], PORTS[1] = a.server_address[1], b.server_address[1]\n"
    "threading.Thread(target=b.serve_forever, daemon=True).start()\n"
    "print(PORTS[0], PORTS[1], BD, MD, flush=True)\n"
    "a.serve_forever()\n";
// clang-format on

/* ---- WWW-Authenticate ---- */

static int chal(const char *h, struct registry_challenge *c, int *code)
{
	struct err *err = NULL;
	int r = registry_challenge_parse(h, c, &err);

	if (r < 0) {
		assert_non_null(err);
		print_message("  (%s)\n", err->msg);
		if (code)
			*code = err->code;
	}
	err_free(&err);
	return r;
}

static void test_challenge_bearer(void **state)
{
	struct registry_challenge c;

	assert_int_equal(
	    chal("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		 "scope=\"repository:library/busybox:pull\"",
		 &c, NULL),
	    0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");
	assert_null(c.error);
	registry_challenge_clear(&c);

	/* Case-insensitive scheme and names, tokens as values, spaces around
	 * '=' and ',', a comma inside a quoted string, escapes, unknown
	 * parameters ignored. */
	assert_int_equal(chal("bEaReR   Realm = \"http://h/t?a=1,b=2\" ,  SERVICE=svc,"
			      "scope=\"repository:a/b:pull,push\",error=\"insufficient_scope\","
			      "extra=\"x\\\"y\\\\z\"",
			      &c, NULL),
			 0);
	assert_string_equal(c.scheme, "bEaReR");
	assert_string_equal(c.realm, "http://h/t?a=1,b=2");
	assert_string_equal(c.service, "svc");
	assert_string_equal(c.scope, "repository:a/b:pull,push");
	assert_string_equal(c.error, "insufficient_scope");
	registry_challenge_clear(&c);

	/* An escaped quote inside the value. */
	assert_int_equal(chal("Bearer realm=\"https://h/t\",service=\"a\\\"b\\\\c\"", &c, NULL), 0);
	assert_string_equal(c.service, "a\"b\\c");
	registry_challenge_clear(&c);

	/* Trailing and doubled commas are empty list elements. */
	assert_int_equal(chal("Bearer realm=\"https://h/t\",,service=s,", &c, NULL), 0);
	assert_string_equal(c.service, "s");
	registry_challenge_clear(&c);
}

static void test_challenge_basic_and_several(void **state)
{
	struct registry_challenge c;

	assert_int_equal(chal("Basic realm=\"Registry Realm\"", &c, NULL), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_string_equal(c.realm, "Registry Realm");
	assert_null(c.service);
	registry_challenge_clear(&c);

	/* Several challenges in one value: Bearer wins wherever it is. */
	assert_int_equal(
	    chal("Basic realm=\"r\", Bearer realm=\"https://t/x\",service=\"s\"", &c, NULL), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://t/x");
	assert_string_equal(c.service, "s");
	registry_challenge_clear(&c);
	assert_int_equal(chal("Negotiate, Basic realm=x,Newauth realm=\"y\"", &c, NULL), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_string_equal(c.realm, "x");
	registry_challenge_clear(&c);

	/* token68 forms are accepted and skipped. */
	assert_int_equal(
	    chal("Negotiate a87421000492aa874209af8bc028==, Basic realm=\"r\"", &c, NULL), 0);
	assert_string_equal(c.scheme, "Basic");
	registry_challenge_clear(&c);
	assert_int_equal(chal("Basic", &c, NULL), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_null(c.realm);
	registry_challenge_clear(&c);
}

static void test_challenge_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "Bearer",					      /* no realm */
	    "Bearer service=\"x\"",			      /* no realm */
	    "Bearer realm=\"\"",			      /* empty realm */
	    "Bearer realm=\"ftp://x/y\"",		      /* not http(s) */
	    "Bearer realm=\"file:///etc/passwd\"",	      /* not http(s) */
	    "Bearer realm=\"https://x",			      /* unterminated */
	    "Bearer realm=\"https://x\\",		      /* unterminated escape */
	    "Bearer realm=\"https://x\",realm=\"https://y\"", /* repeated */
	    "Bearer realm=\"https://x/\r\nX-Injected: 1\"",   /* control chars */
	    "Bearer realm=\"https://x/\xc3\xa9\"",	      /* non-ASCII */
	    "Bearer realm=https://x",			      /* '/' is not a token char */
	    "Bearer realm=\"https://x\" service=\"y\"",	      /* missing comma */
	    "Bearer =\"x\"",
	    "Bearer realm=",
	    "Bearer realm=\"https://x\";",
	    "\"Bearer\" realm=\"https://x\"",
	    "Bearer\trealm=\"https://x\"", /* 1*SP after the scheme */
	    "Bearer realm==\"https://x\"",
	};
	struct registry_challenge c;
	char *big;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("  bad[%zu]\n", i);
		assert_true(chal(bad[i], &c, NULL) < 0);
		assert_null(c.scheme);
		assert_null(c.realm);
	}
	/* A scheme nobody supports is ENOTSUP, and named. */
	{
		int code = 0;
		assert_true(chal("Negotiate abc, NTLM", &c, &code) < 0);
		assert_int_equal(code, ENOTSUP);
	}
	{
		struct err *e = NULL;
		assert_true(registry_challenge_parse(NULL, &c, &e) < 0);
		err_free(&e);
	}
	/* 8 KiB cap. */
	big = malloc(9000);
	assert_non_null(big);
	strcpy(big, "Bearer realm=\"https://x/\",service=\"");
	memset(big + strlen(big), 'a', 8500);
	strcpy(big + 35 + 8500, "\"");
	assert_true(chal(big, &c, NULL) < 0);
	free(big);
}

/* ---- token replies ---- */

static int tok(const char *j, char **t, long *exp, char **refresh)
{
	struct err *err = NULL;
	int r = registry_token_decode(j, strlen(j), t, exp, refresh, &err);

	if (r < 0) {
		assert_non_null(err);
		print_message("  (%s)\n", err->msg);
		assert_null(*t);
	}
	err_free(&err);
	return r;
}

static void test_token_reply(void **state)
{
	char *t = NULL, *rt = NULL;
	long exp = 0;

	assert_int_equal(tok("{\"token\":\"abc.def-ghi\",\"expires_in\":300,\"issued_at\":"
			     "\"2024-01-01T00:00:00Z\"}",
			     &t, &exp, &rt),
			 0);
	assert_string_equal(t, "abc.def-ghi");
	assert_int_equal(exp, 300);
	assert_null(rt);
	free(t);
	/* access_token (OAuth2) wins over token; refresh_token kept. */
	assert_int_equal(
	    tok("{\"token\":\"old\",\"access_token\":\"new\",\"refresh_token\":\"r1\"}", &t, &exp,
		&rt),
	    0);
	assert_string_equal(t, "new");
	assert_string_equal(rt, "r1");
	assert_int_equal(exp, 60); /* default */
	free(t);
	free(rt);
	rt = NULL;
	/* Docker's floor of 60 s; a cap on absurd lifetimes; reals; null. */
	assert_int_equal(tok("{\"token\":\"a\",\"expires_in\":5}", &t, &exp, NULL), 0);
	assert_int_equal(exp, 60);
	free(t);
	assert_int_equal(tok("{\"token\":\"a\",\"expires_in\":-100}", &t, &exp, NULL), 0);
	assert_int_equal(exp, 60);
	free(t);
	assert_int_equal(tok("{\"token\":\"a\",\"expires_in\":99999999999999}", &t, &exp, NULL), 0);
	assert_int_equal(exp, 86400 * 366);
	free(t);
	assert_int_equal(tok("{\"token\":\"a\",\"expires_in\":120.7}", &t, &exp, NULL), 0);
	assert_int_equal(exp, 120);
	free(t);
	assert_int_equal(tok("{\"token\":\"a\",\"expires_in\":null}", &t, &exp, NULL), 0);
	assert_int_equal(exp, 60);
	free(t);
	/* An empty access_token falls back to token. */
	assert_int_equal(tok("{\"token\":\"a\",\"access_token\":\"\"}", &t, &exp, NULL), 0);
	assert_string_equal(t, "a");
	free(t);
}

static void test_token_reply_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "null",
	    "[]",
	    "\"token\"",
	    "{}",
	    "{\"token\":\"\"}",
	    "{\"token\":null}",
	    "{\"token\":5}",
	    "{\"token\":\"a b\"}",		       /* a space: not a header value */
	    "{\"token\":\"a\\r\\nX-Evil: 1\"}",	       /* header injection */
	    "{\"token\":\"a\\u0000b\"}",	       /* NUL */
	    "{\"token\":\"\\u00e9\"}",		       /* non-ASCII */
	    "{\"token\":\"a\",\"expires_in\":\"60\"}", /* wrong type */
	    "{\"token\":\"a\",\"refresh_token\":\"x\\ny\"}",
	    "{\"token\":\"a\",\"token\":\"b\"}", /* duplicate key */
	    "{\"token\":\"a\"} trailing",
	    "{\"token\":\"a\"",
	};
	char *t = NULL, *rt = NULL;
	long exp = 0;
	struct err *err = NULL;
	char *big;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("  bad[%zu]\n", i);
		assert_true(tok(bad[i], &t, &exp, &rt) < 0);
		assert_null(rt);
	}
	/* Capped at 1 MiB before parsing. */
	big = calloc(1, (1u << 20) + 100);
	assert_non_null(big);
	strcpy(big, "{\"token\":\"");
	memset(big + 10, 'a', (1u << 20));
	strcpy(big + 10 + (1u << 20), "\"}");
	assert_int_equal(registry_token_decode(big, strlen(big), &t, &exp, NULL, &err), -EFBIG);
	err_free(&err);
	free(big);
}

/* ---- error bodies ---- */

static char *errtext(const char *j)
{
	struct err *err = NULL;
	char *t = NULL;

	if (registry_error_decode(j, strlen(j), &t, &err) < 0) {
		assert_non_null(err);
		print_message("  (%s)\n", err->msg);
		assert_null(t);
	}
	err_free(&err);
	return t;
}

static void test_error_body(void **state)
{
	char *t;

	t = errtext("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
		    "\"detail\":{\"Tag\":\"x\"}}]}");
	assert_string_equal(t, "manifest unknown: manifest unknown");
	free(t);
	/* The first error counts. */
	t = errtext(
	    "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\","
	    "\"detail\":[{\"Type\":\"repository\"}]},{\"code\":\"DENIED\"}]}");
	assert_string_equal(t, "unauthorized: authentication required");
	free(t);
	t = errtext("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}");
	assert_string_equal(t, "toomanyrequests");
	free(t);
	t = errtext("{\"errors\":[{\"message\":\"only a message\"}]}");
	assert_string_equal(t, "only a message");
	free(t);
	/* Token endpoints. */
	t = errtext("{\"details\":\"incorrect username or password\"}");
	assert_string_equal(t, "incorrect username or password");
	free(t);
	t = errtext("{\"error\":\"invalid_grant\",\"error_description\":\"bad refresh token\"}");
	assert_string_equal(t, "bad refresh token");
	free(t);
	t = errtext("{\"error\":\"invalid_grant\"}");
	assert_string_equal(t, "invalid_grant");
	free(t);
	/* Terminal controls (C0, DEL, C1 as UTF-8) never reach a message;
	 * other UTF-8 does. */
	t = errtext("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"a\\u001b[2Jb\\u007fc\\u009bd"
		    "\\u00e9\\n\"}]}");
	assert_string_equal(t, "denied: a?[2Jb?c?d\xc3\xa9?");
	free(t);
}

static void test_error_body_cap_and_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "<html>nope</html>",
	    "null",
	    "{}",
	    "{\"errors\":[]}",
	    "{\"errors\":{}}",
	    "{\"errors\":[\"x\"]}",
	    "{\"errors\":[{}]}",
	    "{\"errors\":[{\"code\":5}]}",
	    "{\"errors\":[{\"code\":\"\",\"message\":\"\"}]}",
	    "{\"details\":5}",
	    "{\"details\":\"\"}",
	    "{\"error\":[]}",
	};
	char *t, *big, *p;
	size_t n = 5000;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("  bad[%zu]\n", i);
		assert_null(errtext(bad[i]));
	}
	/* Long messages are cut at 512 bytes, on a character boundary. */
	big = malloc(n * 2 + 100);
	assert_non_null(big);
	p = big + sprintf(big, "{\"errors\":[{\"code\":\"X\",\"message\":\"");
	for (size_t i = 0; i < n; i++) {
		memcpy(p, "\xc3\xa9", 2); /* é */
		p += 2;
	}
	strcpy(p, "\"}]}");
	t = errtext(big);
	assert_non_null(t);
	assert_true(strlen(t) <= 512);
	assert_true(strlen(t) > 500);
	/* "x: " then whole é pairs */
	assert_int_equal((strlen(t) - 3) % 2, 0);
	free(t);
	free(big);
}

/* ---- Link, Retry-After, tags ---- */

static void test_link_next(void **state)
{
	struct err *err = NULL;
	char *u = NULL;

	assert_int_equal(registry_link_next("</v2/x/tags/list?n=2&last=b>; rel=\"next\"", &u, &err),
			 0);
	assert_string_equal(u, "/v2/x/tags/list?n=2&last=b");
	free(u);
	assert_int_equal(registry_link_next(
			     "<https://a/p>; rel=prev, <https://a/n>;rel=\"last next\"", &u, &err),
			 0);
	assert_string_equal(u, "https://a/n");
	free(u);
	assert_int_equal(registry_link_next("<https://a/p>; rel=\"prev\"; title=\"x,y\"", &u, &err),
			 0);
	assert_null(u);
	assert_int_equal(registry_link_next(NULL, &u, &err), 0);
	assert_null(u);
	assert_true(registry_link_next("https://a/n; rel=next", &u, &err) < 0);
	err_free(&err);
	assert_true(registry_link_next("<https://a/n; rel=next", &u, &err) < 0);
	err_free(&err);
	assert_true(registry_link_next("<https://a/n x>; rel=next", &u, &err) < 0);
	err_free(&err);
	assert_true(registry_link_next("<>; rel=next", &u, &err) < 0);
	err_free(&err);
	assert_true(registry_link_next("<a> junk", &u, &err) < 0);
	err_free(&err);
	assert_null(u);
}

static void test_retry_after(void **state)
{
	struct err *err = NULL;
	long s = -1;
	time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

	assert_int_equal(registry_retry_after_parse("5", now, &s, &err), 0);
	assert_int_equal(s, 5);
	assert_int_equal(registry_retry_after_parse("  120 ", now, &s, &err), 0);
	assert_int_equal(s, 120);
	assert_int_equal(registry_retry_after_parse("99999999999999999999", now, &s, &err), 0);
	assert_int_equal(s, 1000000000L);
	assert_int_equal(registry_retry_after_parse("Sun, 06 Nov 1994 08:50:07 GMT", now, &s, &err),
			 0);
	assert_int_equal(s, 30);
	/* In the past: now. */
	assert_int_equal(registry_retry_after_parse("Sun, 06 Nov 1994 08:00:00 GMT", now, &s, &err),
			 0);
	assert_int_equal(s, 0);
	assert_true(registry_retry_after_parse("soon", now, &s, &err) < 0);
	err_free(&err);
	assert_true(registry_retry_after_parse("-5", now, &s, &err) < 0);
	err_free(&err);
	assert_true(registry_retry_after_parse("5s", now, &s, &err) < 0);
	err_free(&err);
	assert_true(registry_retry_after_parse("Sun, 06 Xyz 1994 08:50:07 GMT", now, &s, &err) < 0);
	err_free(&err);
	assert_true(registry_retry_after_parse("Sun, 06 Nov 1994 25:50:07 GMT", now, &s, &err) < 0);
	err_free(&err);
	assert_true(registry_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", now, &s, &err) <
		    0);
	err_free(&err);
	assert_true(registry_retry_after_parse("", now, &s, &err) < 0);
	err_free(&err);
}

static void test_tags_decode(void **state)
{
	struct err *err = NULL;
	char **t = NULL;
	const char *j = "{\"name\":\"x\",\"tags\":[\"latest\",\"1.0\",\"v1.2-rc_3\",\"_x\"]}";

	assert_int_equal(registry_tags_decode(j, strlen(j), &t, &err), 0);
	assert_string_equal(t[0], "latest");
	assert_string_equal(t[3], "_x");
	assert_null(t[4]);
	strvfree(t);
	j = "{\"name\":\"x\",\"tags\":null}";
	assert_int_equal(registry_tags_decode(j, strlen(j), &t, &err), 0);
	assert_null(t[0]);
	strvfree(t);
	j = "{\"name\":\"x\",\"tags\":[\"ok\",\"-bad\"]}";
	assert_true(registry_tags_decode(j, strlen(j), &t, &err) < 0);
	assert_null(t);
	err_free(&err);
	j = "{\"name\":\"x\",\"tags\":[\"a\\u001b[2J\"]}";
	assert_true(registry_tags_decode(j, strlen(j), &t, &err) < 0);
	assert_null(strchr(err->msg, 0x1b));
	err_free(&err);
	j = "{\"tags\":\"latest\"}";
	assert_true(registry_tags_decode(j, strlen(j), &t, &err) < 0);
	err_free(&err);
	j = "[]";
	assert_true(registry_tags_decode(j, strlen(j), &t, &err) < 0);
	err_free(&err);
}

/* ---- the fake registry ---- */

static struct {
	pid_t pid;
	int port, port2;
	char bd[80], md[80];
	char dir[64];
	char host[32];
	const char *skip; /* why the group cannot run */
} F = {.pid = -1};

#define BLOB_LEN (256 * 40 + 4)

/* Where the current group makes its temporary files. */
static const char *tmp_root = "/tmp";

/* The fake's blob: bytes 0..255 forty times, then "tail". */
static void blob_bytes(unsigned char *b)
{
	for (int i = 0; i < 256 * 40; i++)
		b[i] = (unsigned char)(i & 255);
	memcpy(b + 256 * 40, "tail", 4);
}

static bool have(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path ? path : "/usr/bin:/bin");

	if (prog[0] == '/')
		return access(prog, X_OK) == 0;
	for (char *sv = NULL, *d = strtok_r(copy, ":", &sv); d; d = strtok_r(NULL, ":", &sv)) {
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s/%s", d, prog) >= 0 && access(p, X_OK) == 0)
			return true;
	}
	return false;
}

static int fake_start(void **state)
{
	char path[128];
	int pfd[2];
	FILE *f;
	char line[512];

	if (!have("python3")) {
		F.skip = "python3 is not installed";
		return 0;
	}
	strcpy(F.dir, "/tmp/moat-test-registry.XXXXXX");
	if (!mkdtemp(F.dir))
		return -1;
	snprintf(path, sizeof(path), "%s/fake.py", F.dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(fake_py, f);
	fclose(f);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	F.pid = fork();
	if (F.pid < 0)
		return -1;
	if (F.pid == 0) {
		/* Gone with us, even if a failed assertion ends us early. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pfd[1], 1);
		execlp("python3", "python3", "-u", path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "%d %d %79s %79s", &F.port, &F.port2, F.bd, F.md) != 4) {
		F.skip = "the fake registry did not start";
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(F.host, sizeof(F.host), "127.0.0.1:%d", F.port);
	tmp_root = F.dir;
	return 0;
}

static int fake_stop(void **state)
{
	char cmd[160];

	if (F.pid > 0) {
		kill(F.pid, SIGTERM);
		waitpid(F.pid, NULL, 0);
		F.pid = -1;
	}
	if (F.dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* GET http://127.0.0.1:PORT/PATH with a plain socket (not the code under test). */
static char *http_get(int port, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	_cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char req[256], *buf = NULL, *body;
	size_t len = 0, cap = 0;
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return NULL;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	if (write(s, req, strlen(req)) < 0)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = read(s, buf + len, 4096);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	if (!buf)
		return NULL;
	buf[len] = 0;
	body = strstr(buf, "\r\n\r\n");
	body = strdup(body ? body + 4 : "");
	free(buf);
	return body;
}

/* What the fake saw since the last call. */
static char *fake_log(void)
{
	char *l = http_get(F.port, "/_log");

	assert_non_null(l);
	return l;
}

#define NEED_FAKE()                                               \
	do {                                                      \
		if (F.skip) {                                     \
			print_message("  skipped: %s\n", F.skip); \
			skip();                                   \
		}                                                 \
	} while (0)

static struct registry *fake_open(const char *repo, const char *actions,
				  const struct registry_creds *creds, long timeout, int retries)
{
	struct registry_opts o = {.tls_verify = true,
				  .plain_http = true,
				  .creds = creds,
				  .timeout_s = timeout,
				  .max_retries = retries};
	struct registry *r = NULL;
	struct err *err = NULL;

	if (registry_open(F.host, repo, actions, &o, &r, &err) < 0)
		fail_msg("registry_open: %s", err->msg);
	return r;
}

static char *tmpfile_in(void)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/blob.XXXXXX", tmp_root) > 0);
	return p;
}

/* Fetches a manifest; returns the error (or NULL), filling MT/DIGEST. */
static struct err *get_manifest(struct registry *r, const char *ref, char **body, size_t *len,
				char **mt, char digest[72])
{
	struct err *err = NULL;

	if (registry_get_manifest(r, ref, body, len, mt, digest, &err) < 0) {
		assert_non_null(err);
		print_message("  (%s)\n", err->msg);
		assert_null(*body);
		assert_null(*mt);
		return err;
	}
	assert_null(err);
	return NULL;
}

static void test_fake_manifest(void **state)
{
	struct registry *r;
	char *body = NULL, *mt = NULL, dg[72], *log;
	size_t len = 0;

	NEED_FAKE();
	/* The fake speaks plain HTTP: https is tried first, the handshake
	 * fails, and the insecure registry falls back to http. */
	r = fake_open("x/img", "pull", NULL, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	assert_string_equal(mt, "application/vnd.oci.image.manifest.v1+json");
	assert_string_equal(dg, F.md);
	assert_non_null(strstr(body, "\"schemaVersion\": 2"));
	assert_int_equal(len, strlen(body));
	free(body);
	free(mt);
	/* By digest; Content-Type parameters are dropped. */
	assert_null(get_manifest(r, F.md, &body, &len, &mt, dg));
	assert_string_equal(dg, F.md);
	free(body);
	free(mt);
	registry_close(r);
	r = fake_open("x/nodcd", "pull", NULL, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	assert_string_equal(mt, "application/vnd.oci.image.manifest.v1+json");
	assert_string_equal(dg, F.md);
	free(body);
	free(mt);
	registry_close(r);
	log = fake_log();
	/* The Accept list: all four types in one header. */
	assert_non_null(strstr(log, "GET /v2/x/img/manifests/latest"));
	free(log);
}

static void test_fake_manifest_https_only(void **state)
{
	struct registry_opts o = {.tls_verify = true, .timeout_s = 5, .max_retries = -1};
	struct registry *r = NULL;
	struct err *err = NULL, *e;
	char *body = NULL, *mt = NULL, dg[72];
	size_t len;

	NEED_FAKE();
	/* Not insecure: no fallback to http. */
	assert_int_equal(registry_open(F.host, "x/img", "pull", &o, &r, &err), 0);
	e = get_manifest(r, "latest", &body, &len, &mt, dg);
	assert_non_null(e);
	assert_int_equal(e->code, EPROTO);
	assert_string_equal(dg, "");
	err_free(&e);
	registry_close(r);
}

static void expect_manifest_error(const char *repo, const char *ref, int code, const char *text)
{
	struct registry *r = fake_open(repo, "pull", NULL, 5, 0);
	char *body = NULL, *mt = NULL, dg[72];
	size_t len;
	struct err *e = get_manifest(r, ref, &body, &len, &mt, dg);

	assert_non_null(e);
	assert_int_equal(e->code, code);
	if (!strstr(e->msg, text))
		fail_msg("\"%s\" lacks \"%s\"", e->msg, text);
	/* The message names the repository, and no terminal control
	 * from the registry reaches it. */
	assert_non_null(strstr(e->msg, repo));
	assert_null(strchr(e->msg, 0x1b));
	assert_string_equal(dg, "");
	err_free(&e);
	registry_close(r);
}

static void test_fake_manifest_errors(void **state)
{
	NEED_FAKE();
	expect_manifest_error(
	    "x/img", "nope", ENOENT,
	    "manifest \"nope\": manifest unknown: manifest unknown ?[2J (HTTP 404)");
	expect_manifest_error("x/schema1", "latest", ENOTSUP,
			      "schema1 images are not supported (pushed with a Docker older than "
			      "1.10): re-push it");
	expect_manifest_error("x/big", "latest", EFBIG, "larger than 4194304 bytes");
	expect_manifest_error("x/wrongdcd", "latest", EINVAL,
			      "not to the registry's Docker-Content-Digest");
	/* Asked by digest, answered with other bytes. */
	expect_manifest_error("x/anyref", F.bd, EINVAL, "does not match its digest");
	expect_manifest_error("x/htmlerr", "latest", ENOENT, "unexpected status (HTTP 404)");
	expect_manifest_error("x/loop", "latest", ELOOP, "more than 10 redirects");
	expect_manifest_error("x/img", "bad tag!", EINVAL, "invalid tag or digest");
	expect_manifest_error("x/img", "sha256:abc", EINVAL, "invalid tag or digest");
}

static void test_fake_open_bad(void **state)
{
	struct registry_opts o = {.tls_verify = true};
	struct registry *r = NULL;
	struct err *err = NULL;

	NEED_FAKE();
	assert_int_equal(registry_open("127.0.0.1:1/x", "a", "pull", &o, &r, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(registry_open("h", "A/b", "pull", &o, &r, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(registry_open("h", "a/../b", "pull", &o, &r, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(registry_open("h", "a?x=1", "pull", &o, &r, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(registry_open("h", "a", "pull\r\n", &o, &r, &err), -EINVAL);
	err_free(&err);
	assert_null(r);
}

static void test_fake_bearer(void **state)
{
	struct registry_creds good = {.username = "user", .password = "pass"};
	struct registry_creds bad = {.username = "user", .password = "wrong"};
	struct registry_creds idt = {.identity_token = "idtok"};
	struct registry_creds badidt = {.identity_token = "nope"};
	struct registry *r;
	char *body = NULL, *mt = NULL, dg[72], *log;
	size_t len;
	struct err *e = NULL;

	NEED_FAKE();
	free(fake_log());
	/* Anonymous token. */
	r = fake_open("tok/app", "pull", NULL, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	free(body);
	free(mt);
	/* The token is cached: the second request goes straight through. */
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	free(body);
	free(mt);
	registry_close(r);
	log = fake_log();
	print_message("%s\n", log);
	/* One anonymous try, one token, two authorized requests. */
	assert_non_null(strstr(log, "GET /v2/tok/app/manifests/latest auth=no\n"
				    "GET /token?"));
	assert_non_null(strstr(log, "token GET repository:tok/app:pull anon\n"
				    "GET /v2/tok/app/manifests/latest auth=yes\n"
				    "GET /v2/tok/app/manifests/latest auth=yes"));
	assert_null(strstr(strstr(log, "token GET") + 1, "token GET"));
	/* No "account=" for an anonymous token, and the service is passed. */
	assert_non_null(
	    strstr(log, "/token?service=fake&scope=repository%3Atok%2Fapp%3Apull auth=no"));
	free(log);

	/* Basic credentials to the realm; pull,push scope. */
	r = fake_open("tok/app", "pull,push", &good, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	free(body);
	free(mt);
	assert_int_equal(registry_ping(r, &e), 0);
	registry_close(r);
	log = fake_log();
	assert_non_null(strstr(log, "token GET repository:tok/app:pull,push basic"));
	assert_non_null(strstr(log, "&account=user auth=yes"));
	free(log);

	/* Wrong password: the realm says no. */
	r = fake_open("tok/app", "pull", &bad, 5, 0);
	e = get_manifest(r, "latest", &body, &len, &mt, dg);
	assert_non_null(e);
	assert_int_equal(e->code, EACCES);
	assert_non_null(strstr(e->msg, "token: unauthorized: incorrect username or password"));
	err_free(&e);
	registry_close(r);

	/* Identity token: the OAuth2 POST. */
	r = fake_open("tok/app", "pull", &idt, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	free(body);
	free(mt);
	registry_close(r);
	log = fake_log();
	assert_non_null(strstr(log, "token POST  anon"));
	free(log);
	r = fake_open("tok/app", "pull", &badidt, 5, 0);
	e = get_manifest(r, "latest", &body, &len, &mt, dg);
	assert_non_null(e);
	assert_int_equal(e->code, EACCES);
	err_free(&e);
	registry_close(r);
	free(fake_log());
}

static void test_fake_basic(void **state)
{
	struct registry_creds good = {.username = "user", .password = "pass"};
	struct registry *r;
	char *body = NULL, *mt = NULL, dg[72], *log;
	size_t len;
	struct err *e;

	NEED_FAKE();
	free(fake_log());
	r = fake_open("basic/app", "pull", &good, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	free(body);
	free(mt);
	assert_null(get_manifest(r, F.md, &body, &len, &mt, dg));
	free(body);
	free(mt);
	registry_close(r);
	log = fake_log();
	/* One anonymous try, then Basic on every request. */
	assert_non_null(strstr(log, "GET /v2/basic/app/manifests/latest auth=no\n"
				    "GET /v2/basic/app/manifests/latest auth=yes\n"
				    "GET /v2/basic/app/manifests/sha256:"));
	assert_null(strstr(log, "token"));
	free(log);
	/* No credentials: unauthorized, with the registry's text. */
	r = fake_open("basic/app", "pull", NULL, 5, 0);
	e = get_manifest(r, "latest", &body, &len, &mt, dg);
	assert_non_null(e);
	assert_int_equal(e->code, EACCES);
	assert_non_null(strstr(e->msg, "unauthorized: authentication required (HTTP 401)"));
	err_free(&e);
	registry_close(r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_fake_retries(void **state)
{
	struct registry *r;
	char *body = NULL, *mt = NULL, dg[72], *log;
	size_t len;
	struct err *e;
	double t0;

	NEED_FAKE();
	free(fake_log());
	/* 500 then 200. */
	r = fake_open("x/flaky500", "pull", NULL, 5, 0);
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	free(body);
	free(mt);
	registry_close(r);
	/* 429 with Retry-After: 1, then 200: we waited. */
	r = fake_open("x/flaky429", "pull", NULL, 5, 0);
	t0 = now_s();
	assert_null(get_manifest(r, "latest", &body, &len, &mt, dg));
	assert_true(now_s() - t0 >= 0.9);
	free(body);
	free(mt);
	registry_close(r);
	log = fake_log();
	assert_non_null(strstr(log, "GET /v2/x/flaky500/manifests/latest auth=no\n"
				    "GET /v2/x/flaky500/manifests/latest auth=no"));
	free(log);
	/* Always 503: max_retries retries, then the registry's text. */
	r = fake_open("x/always500", "pull", NULL, 5, 2);
	e = get_manifest(r, "latest", &body, &len, &mt, dg);
	assert_non_null(e);
	assert_int_equal(e->code, EIO);
	assert_non_null(strstr(e->msg, "unavailable: down for maintenance (HTTP 503)"));
	err_free(&e);
	registry_close(r);
	log = fake_log();
	{
		int n = 0;
		for (char *p = log; (p = strstr(p, "GET /v2/x/always500/")); p++)
			n++;
		assert_int_equal(n, 3);
	}
	free(log);
	/* A 4xx is never retried. */
	r = fake_open("x/img", "pull", NULL, 5, 3);
	e = get_manifest(r, "nope", &body, &len, &mt, dg);
	assert_non_null(e);
	err_free(&e);
	registry_close(r);
	log = fake_log();
	assert_non_null(strstr(log, "manifests/nope"));
	assert_null(strstr(strstr(log, "manifests/nope") + 1, "manifests/nope"));
	free(log);
}

static void test_fake_hang(void **state)
{
	struct registry *r;
	char *body = NULL, *mt = NULL, dg[72];
	size_t len;
	struct err *e;
	double t0;

	NEED_FAKE();
	r = fake_open("x/hang", "pull", NULL, 1, -1);
	t0 = now_s();
	e = get_manifest(r, "latest", &body, &len, &mt, dg);
	assert_non_null(e);
	assert_int_equal(e->code, ETIMEDOUT);
	assert_true(now_s() - t0 < 10);
	err_free(&e);
	registry_close(r);
}

struct prog {
	uint64_t last;
	int calls;
};

static void on_progress(void *arg, uint64_t done)
{
	struct prog *p = arg;

	assert_true(done >= p->last || done == 0 || p->last == 0 || done < p->last);
	p->last = done;
	p->calls++;
}

/* Downloads DIGEST from REPO into a new file that already holds PREFIX
 * bytes of the blob; returns the error or NULL and checks the content. */
static struct err *get_blob(const char *repo, const char *digest, int64_t size, size_t prefix,
			    const unsigned char *prefix_bytes, bool check)
{
	_cleanup_free_ char *path = tmpfile_in();
	_cleanup_close_ int fd = mkstemp(path);
	unsigned char want[BLOB_LEN], got[BLOB_LEN + 16];
	struct registry *r = fake_open(repo, "pull", NULL, 5, 3);
	struct prog pr = {0};
	struct err *err = NULL;
	struct stat st;

	assert_true(fd >= 0);
	unlink(path);
	blob_bytes(want);
	if (prefix)
		assert_int_equal(write(fd, prefix_bytes ? prefix_bytes : want, prefix),
				 (ssize_t)prefix);
	if (registry_get_blob(r, digest, size, fd, on_progress, &pr, &err) < 0) {
		assert_non_null(err);
		print_message("  (%s)\n", err->msg);
		registry_close(r);
		return err;
	}
	registry_close(r);
	assert_null(err);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, BLOB_LEN);
	if (check) {
		assert_int_equal(pread(fd, got, sizeof(got), 0), BLOB_LEN);
		assert_memory_equal(got, want, BLOB_LEN);
		assert_true(pr.calls > 0);
		assert_int_equal(pr.last, BLOB_LEN);
	}
	return NULL;
}

static void test_fake_blob(void **state)
{
	struct err *e = NULL;
	char *log;
	int64_t size = 0;
	struct registry *r;

	NEED_FAKE();
	free(fake_log());
	assert_null(get_blob("x/img", F.bd, BLOB_LEN, 0, NULL, true));
	assert_null(get_blob("x/img", F.bd, -1, 0, NULL, true)); /* size unknown */
	log = fake_log();
	assert_non_null(strstr(log, "range None"));
	free(log);
	/* Resume: the file holds 1000 bytes already. */
	assert_null(get_blob("x/img", F.bd, BLOB_LEN, 1000, NULL, true));
	log = fake_log();
	assert_non_null(strstr(log, "range bytes=1000-"));
	free(log);
	/* Complete already: only checked. */
	assert_null(get_blob("x/img", F.bd, BLOB_LEN, BLOB_LEN, NULL, false));
	log = fake_log();
	assert_null(strstr(log, "/blobs/"));
	free(log);
	/* HEAD. */
	r = fake_open("x/img", "pull", NULL, 5, 0);
	assert_int_equal(registry_blob_exists(r, F.bd, &size, &e), 0);
	assert_int_equal(size, BLOB_LEN);
	e = NULL;
	assert_int_equal(registry_blob_exists(r, F.md, &size, &e), -ENOENT);
	err_free(&e);
	registry_close(r);
}

static void test_fake_blob_resume(void **state)
{
	char *log;

	NEED_FAKE();
	free(fake_log());
	/* The first transfer breaks half way; the second resumes with Range. */
	assert_null(get_blob("x/trunc", F.bd, BLOB_LEN, 0, NULL, true));
	log = fake_log();
	print_message("%s\n", log);
	assert_non_null(strstr(log, "range None\n"));
	assert_non_null(strstr(log, "range bytes=5122-"));
	free(log);
	/* A server that ignores Range after the break: 200, start over. */
	assert_null(get_blob("x/norange", F.bd, BLOB_LEN, 0, NULL, true));
	log = fake_log();
	assert_non_null(strstr(log, "range bytes=5122-"));
	free(log);
	/* A server that answers another range: start over without one. */
	assert_null(get_blob("x/badrange", F.bd, BLOB_LEN, 0, NULL, true));
	log = fake_log();
	assert_non_null(strstr(log, "range bytes=5122-\n"));
	assert_non_null(strstr(strstr(log, "range bytes=5122-\n"), "range None"));
	free(log);
}

static void test_fake_blob_bad(void **state)
{
	struct err *e;
	unsigned char junk[100];

	NEED_FAKE();
	/* Wrong bytes. */
	e = get_blob("x/bad", F.bd, BLOB_LEN, 0, NULL, false);
	assert_non_null(e);
	assert_int_equal(e->code, EINVAL);
	assert_non_null(strstr(e->msg, "does not match its digest"));
	assert_non_null(strstr(e->msg, F.bd));
	err_free(&e);
	/* A wrong prefix in the file: the digest fails, and the file is
	 * truncated so that the next attempt does not resume from it. */
	memset(junk, 'j', sizeof(junk));
	e = get_blob("x/img", F.bd, BLOB_LEN, sizeof(junk), junk, false);
	assert_non_null(e);
	assert_int_equal(e->code, EINVAL);
	err_free(&e);
	/* The descriptor says fewer bytes than the registry sends. */
	e = get_blob("x/img", F.bd, BLOB_LEN - 10, 0, NULL, false);
	assert_non_null(e);
	assert_int_equal(e->code, EFBIG);
	assert_non_null(strstr(e->msg, "larger than its descriptor"));
	err_free(&e);
	/* ... or more. */
	e = get_blob("x/img", F.bd, BLOB_LEN + 10, 0, NULL, false);
	assert_non_null(e);
	assert_int_equal(e->code, EINVAL);
	assert_non_null(strstr(e->msg, "not 10254"));
	err_free(&e);
	/* Unknown blob. */
	e = get_blob("x/img", F.md, 10, 0, NULL, false);
	assert_non_null(e);
	assert_int_equal(e->code, ENOENT);
	assert_non_null(strstr(e->msg, "blob unknown: blob unknown to registry (HTTP 404)"));
	err_free(&e);
	/* A redirect loop. */
	e = get_blob("x/loop", F.bd, BLOB_LEN, 0, NULL, false);
	assert_non_null(e);
	assert_int_equal(e->code, ELOOP);
	err_free(&e);
}

static void test_fake_blob_redirect(void **state)
{
	struct registry_creds good = {.username = "user", .password = "pass"};
	struct registry_opts o = {
	    .tls_verify = true, .plain_http = true, .creds = &good, .timeout_s = 5};
	_cleanup_free_ char *path = tmpfile_in();
	_cleanup_close_ int fd = mkstemp(path);
	struct registry *r = NULL;
	struct err *err = NULL;
	char *log;

	NEED_FAKE();
	unlink(path);
	free(fake_log());
	/* A Bearer-protected repository whose blob lives on "another host"
	 * (the second port): the storage answers 400 if it sees credentials. */
	assert_int_equal(registry_open(F.host, "tok/redir", "pull", &o, &r, &err), 0);
	if (registry_get_blob(r, F.bd, BLOB_LEN, fd, NULL, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
	log = fake_log();
	print_message("%s\n", log);
	assert_non_null(strstr(log, "GET /v2/tok/redir/blobs/sha256:"));
	assert_non_null(strstr(log, "GET /storage/sha256:"));
	{
		char *st = strstr(log, "GET /storage/sha256:");
		assert_non_null(st);
		assert_true(strncmp(strchr(st, ' ') + 1, "/storage/", 9) == 0);
		size_t eol = strcspn(st, "\n");
		assert_true(eol > 8);
		assert_memory_equal(st + eol - 8, " auth=no", 8);
	}
	free(log);
}

static int make_blob_file(unsigned char *b, size_t n)
{
	_cleanup_free_ char *path = tmpfile_in();
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	return fd;
}

static void test_fake_push(void **state)
{
	unsigned char b[BLOB_LEN];
	_cleanup_close_ int fd = -1;
	struct registry *r;
	struct err *err = NULL;
	char dg[72], *log, *body = NULL, *mt = NULL;
	size_t len;
	int64_t size;
	const char *man = "{\"schemaVersion\":2}";
	char mdg[72], hex[65];

	NEED_FAKE();
	blob_bytes(b);
	fd = make_blob_file(b, BLOB_LEN);
	free(fake_log());
	r = fake_open("x/push", "pull,push", NULL, 5, 0);
	if (registry_put_blob(r, F.bd, fd, BLOB_LEN, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(registry_blob_exists(r, F.bd, &size, &err), 0);
	assert_int_equal(size, BLOB_LEN);
	/* Again: the HEAD finds it, nothing is uploaded. */
	assert_int_equal(registry_put_blob(r, F.bd, fd, BLOB_LEN, NULL, &err), 0);
	log = fake_log();
	print_message("%s\n", log);
	assert_non_null(strstr(log, "HEAD /v2/x/push/blobs/sha256:"));
	assert_non_null(strstr(log, "POST /v2/x/push/blobs/uploads/ auth=no\n"
				    "PUT /v2/x/push/blobs/uploads/"));
	assert_non_null(strstr(log, "?_state=s&digest=sha256%3A"));
	assert_null(strstr(strstr(log, "POST") + 1, "POST"));
	free(log);
	/* The manifest, by tag; read back. */
	digest_sha256_hex(man, strlen(man), hex);
	snprintf(mdg, sizeof(mdg), "sha256:%s", hex);
	assert_int_equal(registry_put_manifest(r, "v1",
					       "application/vnd.oci.image.manifest.v1+json", man,
					       strlen(man), dg, &err),
			 0);
	assert_string_equal(dg, mdg);
	assert_null(get_manifest(r, "v1", &body, &len, &mt, dg));
	assert_string_equal(body, man);
	assert_string_equal(mt, "application/vnd.oci.image.manifest.v1+json");
	assert_string_equal(dg, mdg);
	free(body);
	free(mt);
	/* By digest, which must be the body's. */
	assert_int_equal(registry_put_manifest(r, mdg, "application/vnd.oci.image.manifest.v1+json",
					       man, strlen(man), dg, &err),
			 0);
	assert_int_equal(registry_put_manifest(r, F.md,
					       "application/vnd.oci.image.manifest.v1+json", man,
					       strlen(man), dg, &err),
			 -EINVAL);
	err_free(&err);
	/* A media type that would add a header line. */
	assert_int_equal(
	    registry_put_manifest(r, "v2", "a\r\nX-Evil: 1", man, strlen(man), dg, &err), -EINVAL);
	err_free(&err);
	/* The wrong digest for the file: the registry refuses it. */
	assert_true(registry_put_blob(r, F.md, fd, BLOB_LEN, NULL, &err) < 0);
	assert_non_null(strstr(err->msg, "digest invalid: provided digest did not match"));
	err_free(&err);
	registry_close(r);

	/* A registry that claims another digest for our manifest. */
	r = fake_open("x/lie", "pull,push", NULL, 5, 0);
	assert_int_equal(registry_put_manifest(r, "v1",
					       "application/vnd.oci.image.manifest.v1+json", man,
					       strlen(man), dg, &err),
			 -EPROTO);
	assert_string_equal(dg, "");
	err_free(&err);
	registry_close(r);
}

static void test_fake_push_chunked_mount(void **state)
{
	unsigned char b[BLOB_LEN];
	_cleanup_close_ int fd = -1;
	struct registry *r;
	struct err *err = NULL;
	char *log;
	int64_t size;
	int n = 0;

	NEED_FAKE();
	blob_bytes(b);
	fd = make_blob_file(b, BLOB_LEN);
	free(fake_log());
	/* OCI-Chunk-Min-Length: 1000 -> PATCHes of 1000 bytes, then PUT. */
	r = fake_open("x/chunk", "pull,push", NULL, 5, 0);
	if (registry_put_blob(r, F.bd, fd, BLOB_LEN, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
	log = fake_log();
	for (char *p = log; (p = strstr(p, "patch ")); p++)
		n++;
	assert_int_equal(n, 11);
	assert_non_null(strstr(log, "patch 0-999\n"));
	assert_non_null(strstr(log, "patch 10000-10243\n"));
	free(log);
	/* Absolute Location. */
	r = fake_open("x/absloc", "pull,push", NULL, 5, 0);
	if (registry_put_blob(r, F.bd, fd, BLOB_LEN, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
	free(fake_log());
	/* Mount from x/chunk, which has it: 201 and no upload. */
	r = fake_open("x/mounted", "pull,push", NULL, 5, 0);
	if (registry_put_blob(r, F.bd, fd, BLOB_LEN, "x/chunk", &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(registry_blob_exists(r, F.bd, &size, &err), 0);
	registry_close(r);
	log = fake_log();
	assert_non_null(strstr(log, "POST /v2/x/mounted/blobs/uploads/?mount=sha256%3A"));
	assert_non_null(strstr(log, "&from=x%2Fchunk"));
	assert_null(strstr(log, "PUT"));
	free(log);
	/* Mount from a repository without it: 202, a normal upload. */
	r = fake_open("x/mounted2", "pull,push", NULL, 5, 0);
	if (registry_put_blob(r, F.bd, fd, BLOB_LEN, "x/empty", &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
	log = fake_log();
	assert_non_null(strstr(log, "PUT /v2/x/mounted2/blobs/uploads/"));
	free(log);
	/* Bearer: the mount asks for pull on the source too. */
	r = fake_open("tok/dst", "pull,push", NULL, 5, 0);
	if (registry_put_blob(r, F.bd, fd, BLOB_LEN, "x/chunk", &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
	log = fake_log();
	print_message("%s\n", log);
	assert_non_null(
	    strstr(log, "token GET repository:tok/dst:pull,push,repository:x/chunk:pull"));
	free(log);
	/* Bad arguments. */
	r = fake_open("x/mounted3", "pull,push", NULL, 5, 0);
	assert_int_equal(registry_put_blob(r, F.bd, fd, BLOB_LEN + 1, NULL, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(registry_put_blob(r, F.bd, fd, BLOB_LEN, "../x", &err), -EINVAL);
	err_free(&err);
	registry_close(r);
}

static void test_fake_tags(void **state)
{
	struct registry *r;
	struct err *err = NULL;
	char **tags = NULL;

	NEED_FAKE();
	r = fake_open("x/img", "pull", NULL, 5, 0);
	if (registry_list_tags(r, &tags, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(tags[0], "a");
	assert_string_equal(tags[1], "b");
	assert_string_equal(tags[2], "c");
	assert_string_equal(tags[3], "d");
	assert_string_equal(tags[4], "e");
	assert_null(tags[5]);
	strvfree(tags);
	registry_close(r);
	free(fake_log());
}

/* ---- Debian's docker-registry ---- */

static struct {
	pid_t tls_pid, plain_pid;
	int tls_port, plain_port;
	char dir[64];
	char tls_host[32], plain_host[32];
	char certs[128];
	const char *skip;
} L = {.tls_pid = -1, .plain_pid = -1};

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	_cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	return ntohs(sa.sin_port);
}

static bool port_open(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	_cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	return s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static pid_t start_registry(const char *config, const char *logname)
{
	char logp[160];
	pid_t pid;

	snprintf(logp, sizeof(logp), "%s/%s", L.dir, logname);
	pid = fork();
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/bin/docker-registry", "docker-registry", "serve", config, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int live_start(void **state)
{
	char cmd[4096], cfg[160];
	FILE *f;

	if (!have("/usr/bin/docker-registry") || !have("openssl") || !have("htpasswd")) {
		L.skip = "docker-registry, openssl or htpasswd (apache2-utils) is not installed";
		return 0;
	}
	strcpy(L.dir, "/tmp/moat-test-dreg.XXXXXX");
	if (!mkdtemp(L.dir))
		return -1;
	L.tls_port = free_port();
	L.plain_port = free_port();
	if (L.tls_port <= 0 || L.plain_port <= 0 || L.tls_port == L.plain_port) {
		L.skip = "no free loopback port";
		return 0;
	}
	tmp_root = L.dir;
	snprintf(L.tls_host, sizeof(L.tls_host), "127.0.0.1:%d", L.tls_port);
	snprintf(L.plain_host, sizeof(L.plain_host), "127.0.0.1:%d", L.plain_port);
	snprintf(L.certs, sizeof(L.certs), "%s/certs.d", L.dir);
	/* A CA, a server certificate for IP 127.0.0.1 signed by it, the CA
	 * in certs.d/<host:port>/ca.crt, and an htpasswd file. */
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; exec >setup.log 2>&1\n"
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout ca.key -out ca.pem -days 2 -subj /CN=moat-test-ca\n"
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout server.key -out server.csr -subj /CN=127.0.0.1\n"
		 "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf\n"
		 "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-out server.pem -days 2 -extfile ext.cnf\n"
		 "mkdir -p 'certs.d/%s'\n"
		 "cp ca.pem 'certs.d/%s/ca.crt'\n"
		 "htpasswd -Bbn user pass > htpasswd\n",
		 L.dir, L.tls_host, L.tls_host);
	if (system(cmd) != 0) {
		L.skip = "certificate setup failed (see setup.log)";
		return 0;
	}
	snprintf(cfg, sizeof(cfg), "%s/tls.yml", L.dir);
	f = fopen(cfg, "w");
	if (!f)
		return -1;
	fprintf(
	    f,
	    "version: 0.1\nlog: {level: warn}\n"
	    "storage: {filesystem: {rootdirectory: %s/data-tls}, delete: {enabled: true}}\n"
	    "http: {addr: 127.0.0.1:%d, tls: {certificate: %s/server.pem, key: %s/server.key}}\n"
	    "auth: {htpasswd: {realm: moat, path: %s/htpasswd}}\n",
	    L.dir, L.tls_port, L.dir, L.dir, L.dir);
	fclose(f);
	L.tls_pid = start_registry(cfg, "tls.log");
	snprintf(cfg, sizeof(cfg), "%s/plain.yml", L.dir);
	f = fopen(cfg, "w");
	if (!f)
		return -1;
	fprintf(f,
		"version: 0.1\nlog: {level: warn}\n"
		"storage: {filesystem: {rootdirectory: %s/data-plain}, delete: {enabled: true}}\n"
		"http: {addr: 127.0.0.1:%d}\n",
		L.dir, L.plain_port);
	fclose(f);
	L.plain_pid = start_registry(cfg, "plain.log");
	for (int i = 0; i < 200 && !(port_open(L.tls_port) && port_open(L.plain_port)); i++)
		usleep(50000);
	if (!port_open(L.tls_port) || !port_open(L.plain_port))
		L.skip = "docker-registry did not start (see its logs)";
	return 0;
}

static int live_stop(void **state)
{
	char cmd[160];

	if (L.tls_pid > 0) {
		kill(L.tls_pid, SIGTERM);
		waitpid(L.tls_pid, NULL, 0);
	}
	if (L.plain_pid > 0) {
		kill(L.plain_pid, SIGTERM);
		waitpid(L.plain_pid, NULL, 0);
	}
	if (L.dir[0] && !getenv("MOAT_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", L.dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

#define NEED_LIVE()                                               \
	do {                                                      \
		if (L.skip) {                                     \
			print_message("  skipped: %s\n", L.skip); \
			skip();                                   \
		}                                                 \
	} while (0)

static int live_open(const char *host, const char *repo, const char *actions,
		     const struct registry_creds *creds, bool verify, bool with_ca, bool plain,
		     struct registry **r, struct err **err)
{
	struct registry_opts o = {.tls_verify = verify,
				  .plain_http = plain,
				  .creds = creds,
				  .timeout_s = 10,
				  .max_retries = -1};

	o.certs_dirs[0] = with_ca ? L.certs : NULL;
	return registry_open(host, repo, actions, &o, r, err);
}

static void test_live_login(void **state)
{
	struct registry_creds good = {.username = "user", .password = "pass"};
	struct registry_creds bad = {.username = "user", .password = "nope"};
	struct registry *r = NULL;
	struct err *err = NULL;

	NEED_LIVE();
	assert_int_equal(live_open(L.tls_host, "", "pull", &good, true, true, false, &r, &err), 0);
	if (registry_ping(r, &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
	/* Wrong password, no password. */
	assert_int_equal(live_open(L.tls_host, "", "pull", &bad, true, true, false, &r, &err), 0);
	assert_int_equal(registry_ping(r, &err), -EACCES);
	print_message("  (%s)\n", err->msg);
	assert_non_null(strstr(err->msg, "unauthorized"));
	err_free(&err);
	registry_close(r);
	assert_int_equal(live_open(L.tls_host, "", "pull", NULL, true, true, false, &r, &err), 0);
	assert_int_equal(registry_ping(r, &err), -EACCES);
	err_free(&err);
	registry_close(r);
	/* The CA is not in the system store: verification fails without
	 * certs.d, and succeeds unverified. */
	assert_int_equal(live_open(L.tls_host, "", "pull", &good, true, false, false, &r, &err), 0);
	assert_true(registry_ping(r, &err) < 0);
	print_message("  (%s)\n", err->msg);
	assert_int_equal(err->code, EPROTO);
	err_free(&err);
	registry_close(r);
	assert_int_equal(live_open(L.tls_host, "", "pull", &good, false, false, false, &r, &err),
			 0);
	if (registry_ping(r, &err) < 0)
		fail_msg("%s", err->msg);
	registry_close(r);
}

static void push_image(const char *host, const char *repo, const struct registry_creds *creds,
		       bool with_ca, bool plain, char mdg[72])
{
	unsigned char layer[BLOB_LEN];
	char cfg[256], man[1024], ldg[72], cdg[72], hex[65], dg[72];
	_cleanup_close_ int lfd = -1, cfd = -1;
	struct registry *r = NULL;
	struct err *err = NULL;
	int64_t size = 0;

	blob_bytes(layer);
	digest_sha256_hex(layer, sizeof(layer), hex);
	snprintf(ldg, sizeof(ldg), "sha256:%s", hex);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}",
		 ldg);
	digest_sha256_hex(cfg, strlen(cfg), hex);
	snprintf(cdg, sizeof(cdg), "sha256:%s", hex);
	snprintf(
	    man, sizeof(man),
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
	    "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"application/"
	    "vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%d}]}",
	    cdg, strlen(cfg), ldg, BLOB_LEN);
	lfd = make_blob_file(layer, sizeof(layer));
	cfd = make_blob_file((unsigned char *)cfg, strlen(cfg));

	if (live_open(host, repo, "pull,push", creds, true, with_ca, plain, &r, &err) < 0)
		fail_msg("%s", err->msg);
	if (registry_put_blob(r, ldg, lfd, BLOB_LEN, NULL, &err) < 0 ||
	    registry_put_blob(r, cdg, cfd, (int64_t)strlen(cfg), NULL, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(registry_blob_exists(r, ldg, &size, &err), 0);
	assert_int_equal(size, BLOB_LEN);
	/* Re-push: found by HEAD. */
	if (registry_put_blob(r, ldg, lfd, BLOB_LEN, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	if (registry_put_manifest(r, "v1", "application/vnd.oci.image.manifest.v1+json", man,
				  strlen(man), dg, &err) < 0)
		fail_msg("%s", err->msg);
	digest_sha256_hex(man, strlen(man), hex);
	snprintf(mdg, 72, "sha256:%s", hex);
	assert_string_equal(dg, mdg);
	registry_close(r);
}

static void pull_image(const char *host, const char *repo, const struct registry_creds *creds,
		       bool with_ca, bool plain, const char *mdg)
{
	struct registry *r = NULL;
	struct err *err = NULL;
	char *body = NULL, *mt = NULL, dg[72], **tags = NULL, hex[65], ldg[72];
	size_t len = 0;
	unsigned char layer[BLOB_LEN], got[BLOB_LEN];
	_cleanup_free_ char *path = tmpfile_in();
	_cleanup_close_ int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	blob_bytes(layer);
	digest_sha256_hex(layer, sizeof(layer), hex);
	snprintf(ldg, sizeof(ldg), "sha256:%s", hex);
	if (live_open(host, repo, "pull", creds, true, with_ca, plain, &r, &err) < 0)
		fail_msg("%s", err->msg);
	assert_null(get_manifest(r, "v1", &body, &len, &mt, dg));
	assert_string_equal(dg, mdg);
	assert_string_equal(mt, "application/vnd.oci.image.manifest.v1+json");
	free(body);
	free(mt);
	assert_null(get_manifest(r, mdg, &body, &len, &mt, dg));
	free(body);
	free(mt);
	if (registry_get_blob(r, ldg, BLOB_LEN, fd, NULL, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(pread(fd, got, sizeof(got), 0), BLOB_LEN);
	assert_memory_equal(got, layer, BLOB_LEN);
	if (registry_list_tags(r, &tags, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(tags[0], "v1");
	assert_null(tags[1]);
	strvfree(tags);
	/* Unknown tag: the registry's own words. */
	{
		struct err *e = get_manifest(r, "nope", &body, &len, &mt, dg);
		assert_non_null(e);
		assert_int_equal(e->code, ENOENT);
		assert_non_null(strstr(e->msg, "manifest unknown"));
		err_free(&e);
	}
	registry_close(r);
}

static void test_live_tls_push_pull(void **state)
{
	struct registry_creds good = {.username = "user", .password = "pass"};
	struct registry *r = NULL;
	struct err *err = NULL;
	char mdg[72];
	unsigned char layer[BLOB_LEN];
	char hex[65], ldg[72];
	_cleanup_close_ int fd = -1;

	NEED_LIVE();
	push_image(L.tls_host, "ns/app", &good, true, false, mdg);
	pull_image(L.tls_host, "ns/app", &good, true, false, mdg);
	/* Cross-repository mount. */
	blob_bytes(layer);
	digest_sha256_hex(layer, sizeof(layer), hex);
	snprintf(ldg, sizeof(ldg), "sha256:%s", hex);
	fd = make_blob_file(layer, sizeof(layer));
	assert_int_equal(
	    live_open(L.tls_host, "other/app", "pull,push", &good, true, true, false, &r, &err), 0);
	assert_int_equal(registry_blob_exists(r, ldg, NULL, &err), -ENOENT);
	err_free(&err);
	if (registry_put_blob(r, ldg, fd, BLOB_LEN, "ns/app", &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(registry_blob_exists(r, ldg, NULL, &err), 0);
	registry_close(r);
	/* Without credentials: unauthorized. */
	assert_int_equal(live_open(L.tls_host, "ns/app", "pull", NULL, true, true, false, &r, &err),
			 0);
	{
		char *body = NULL, *mt = NULL, dg[72];
		size_t len;
		struct err *e = get_manifest(r, "v1", &body, &len, &mt, dg);
		assert_non_null(e);
		assert_int_equal(e->code, EACCES);
		assert_non_null(strstr(e->msg, "unauthorized: authentication required"));
		err_free(&e);
	}
	registry_close(r);
}

static void test_live_plain_http(void **state)
{
	struct registry *r = NULL;
	struct err *err = NULL;
	char mdg[72];

	NEED_LIVE();
	/* An insecure registry: https first, then http. */
	push_image(L.plain_host, "plain/app", NULL, false, true, mdg);
	pull_image(L.plain_host, "plain/app", NULL, false, true, mdg);
	/* Not declared insecure: refused. */
	assert_int_equal(live_open(L.plain_host, "", "pull", NULL, true, false, false, &r, &err),
			 0);
	assert_true(registry_ping(r, &err) < 0);
	print_message("  (%s)\n", err->msg);
	err_free(&err);
	registry_close(r);
}

int main(void)
{
	const struct CMUnitTest parsers[] = {
	    cmocka_unit_test(test_challenge_bearer),
	    cmocka_unit_test(test_challenge_basic_and_several),
	    cmocka_unit_test(test_challenge_bad),
	    cmocka_unit_test(test_token_reply),
	    cmocka_unit_test(test_token_reply_bad),
	    cmocka_unit_test(test_error_body),
	    cmocka_unit_test(test_error_body_cap_and_bad),
	    cmocka_unit_test(test_link_next),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_tags_decode),
	};
	const struct CMUnitTest fake[] = {
	    cmocka_unit_test(test_fake_manifest),
	    cmocka_unit_test(test_fake_manifest_https_only),
	    cmocka_unit_test(test_fake_manifest_errors),
	    cmocka_unit_test(test_fake_open_bad),
	    cmocka_unit_test(test_fake_bearer),
	    cmocka_unit_test(test_fake_basic),
	    cmocka_unit_test(test_fake_retries),
	    cmocka_unit_test(test_fake_hang),
	    cmocka_unit_test(test_fake_blob),
	    cmocka_unit_test(test_fake_blob_resume),
	    cmocka_unit_test(test_fake_blob_bad),
	    cmocka_unit_test(test_fake_blob_redirect),
	    cmocka_unit_test(test_fake_push),
	    cmocka_unit_test(test_fake_push_chunked_mount),
	    cmocka_unit_test(test_fake_tags),
	};
	const struct CMUnitTest live[] = {
	    cmocka_unit_test(test_live_login),
	    cmocka_unit_test(test_live_tls_push_pull),
	    cmocka_unit_test(test_live_plain_http),
	};
	int failed = 0;

	/* A registry that closes the connection must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	failed += cmocka_run_group_tests_name("registry parsers", parsers, NULL, NULL);
	failed += cmocka_run_group_tests_name("registry client (fake registry)", fake, fake_start,
					      fake_stop);
	failed += cmocka_run_group_tests_name("registry client (docker-registry)", live, live_start,
					      live_stop);
	return failed;
}

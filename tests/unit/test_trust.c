/*
 * tests/unit/test_trust.c - policy/trust.c: the strict decoder and its
 * located errors, scope precedence, every signedIdentity rule (including a
 * signature replayed from another repository), the tighten rule and the
 * default policy; encode (round trips for every requirement and identity
 * type) and set_scope (default, new and existing scopes, and what it must
 * refuse, leaving the policy unchanged).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "policy/trust.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define KEY "/etc/moat/keys/a.pub"
#define KEY2 "/etc/moat/keys/b.pub"

static struct trust_policy *dec_ok(const char *json)
{
	struct trust_policy *p = NULL;
	struct err *err = NULL;

	if (trust_policy_decode(json, strlen(json), "p.json", &p, &err) < 0) {
		print_error("rejected (%s): %.300s\n", err->msg, json);
		err_free(&err);
		fail();
	}
	assert_non_null(p);
	return p;
}

static void expect_error(const char *json, size_t len, const char *msg)
{
	struct trust_policy *p = NULL;
	struct err *err = NULL;

	if (trust_policy_decode(json, len, "p.json", &p, &err) == 0) {
		print_error("accepted: %.200s\n", json);
		trust_policy_free(p);
		fail();
	}
	assert_null(p);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("error for %.200s:\n  want \"%s\"\n  got  \"%s\"\n", json, msg,
			    err->msg);
		fail();
	}
	err_free(&err);
}

static const struct trust_scope *scope(const struct trust_policy *p, enum trust_transport t,
				       const char *s)
{
	for (size_t i = 0; i < p->n_scopes; i++)
		if (p->scopes[i].transport == t && !strcmp(p->scopes[i].scope, s))
			return &p->scopes[i];
	return NULL;
}

static void test_decode_every_type(void **state)
{
	struct trust_policy *p = dec_ok(
	    "{\"default\": [{\"type\": \"reject\"}],\n"
	    " \"transports\": {\n"
	    "  \"docker\": {\n"
	    "   \"\": [{\"type\": \"insecureAcceptAnything\"}],\n"
	    "   \"a.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\"}],\n"
	    "   \"b.io/ns\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": [\"" KEY "\", \"" KEY2
	    "\"],\n"
	    "                \"signedIdentity\": {\"type\": \"matchExact\"}}],\n"
	    "   \"c.io/r:t\": [{\"type\": \"sigstoreSigned\", \"keyData\": \"QUJD\",\n"
	    "                 \"signedIdentity\": {\"type\": \"matchRepository\"}}],\n"
	    "   \"d.io/r@" D1 "\": [{\"type\": \"sigstoreSigned\", \"keyDatas\": [\"QUJD\", "
	    "\"QUI=\"],\n"
	    "      \"signedIdentity\": {\"type\": \"matchRepoDigestOrExact\"}}],\n"
	    "   \"*.e.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\",\n"
	    "      \"signedIdentity\": {\"type\": \"exactReference\", \"dockerReference\": "
	    "\"busybox:1\"}}],\n"
	    "   \"f.io:5000\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\",\n"
	    "      \"signedIdentity\": {\"type\": \"exactRepository\", \"dockerRepository\": "
	    "\"f.io:5000/x\"}}],\n"
	    "   \"g.io/mirror\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\",\n"
	    "      \"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"g.io/mirror\", "
	    "\"signedPrefix\": \"docker.io/library\"}}],\n"
	    "   \"h.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": "
	    "\"/k.gpg\"}, "
	    "{\"type\": \"reject\"}]},\n"
	    "  \"docker-daemon\": {\"\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
	const struct trust_scope *s;
	const char **paths, **datas;

	assert_int_equal(p->n_def, 1);
	assert_int_equal(p->def[0].type, TRUST_REQ_REJECT);
	assert_int_equal(p->n_scopes, 10);
	s = scope(p, TRUST_TRANSPORT_DOCKER, "");
	assert_non_null(s);
	assert_int_equal(s->reqs[0].type, TRUST_REQ_INSECURE_ACCEPT_ANYTHING);
	assert_int_equal(trust_req_keys(&s->reqs[0], &paths, &datas), 0);

	s = scope(p, TRUST_TRANSPORT_DOCKER, "a.io");
	assert_int_equal(s->reqs[0].type, TRUST_REQ_SIGSTORE_SIGNED);
	assert_int_equal(s->reqs[0].ident.type, TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT);
	assert_int_equal(trust_req_keys(&s->reqs[0], &paths, &datas), 1);
	assert_string_equal(paths[0], KEY);
	assert_null(paths[1]);
	assert_null(datas);

	s = scope(p, TRUST_TRANSPORT_DOCKER, "b.io/ns");
	assert_int_equal(trust_req_keys(&s->reqs[0], &paths, &datas), 2);
	assert_string_equal(paths[1], KEY2);
	assert_int_equal(s->reqs[0].ident.type, TRUST_IDENT_MATCH_EXACT);

	s = scope(p, TRUST_TRANSPORT_DOCKER, "c.io/r:t");
	assert_int_equal(trust_req_keys(&s->reqs[0], &paths, &datas), 1);
	assert_null(paths);
	assert_string_equal(datas[0], "QUJD");
	assert_int_equal(s->reqs[0].ident.type, TRUST_IDENT_MATCH_REPOSITORY);

	s = scope(p, TRUST_TRANSPORT_DOCKER, "d.io/r@" D1);
	assert_int_equal(trust_req_keys(&s->reqs[0], &paths, &datas), 2);
	assert_string_equal(datas[1], "QUI=");

	s = scope(p, TRUST_TRANSPORT_DOCKER, "*.e.io");
	assert_int_equal(s->reqs[0].ident.type, TRUST_IDENT_EXACT_REFERENCE);
	/* Stored normalised. */
	assert_string_equal(s->reqs[0].ident.reference, "docker.io/library/busybox:1");

	s = scope(p, TRUST_TRANSPORT_DOCKER, "f.io:5000");
	assert_int_equal(s->reqs[0].ident.type, TRUST_IDENT_EXACT_REPOSITORY);
	assert_string_equal(s->reqs[0].ident.reference, "f.io:5000/x");

	s = scope(p, TRUST_TRANSPORT_DOCKER, "g.io/mirror");
	assert_int_equal(s->reqs[0].ident.type, TRUST_IDENT_REMAP_IDENTITY);
	assert_string_equal(s->reqs[0].ident.prefix, "g.io/mirror");
	assert_string_equal(s->reqs[0].ident.signed_prefix, "docker.io/library");

	s = scope(p, TRUST_TRANSPORT_DOCKER, "h.io");
	assert_int_equal(s->n_reqs, 2);
	assert_int_equal(s->reqs[0].type, TRUST_REQ_SIGNED_BY);
	assert_string_equal(s->reqs[0].key_type, "GPGKeys");
	assert_string_equal(s->reqs[0].key_paths[0], "/k.gpg");

	s = scope(p, TRUST_TRANSPORT_DOCKER_DAEMON, "");
	assert_non_null(s);
	assert_string_equal(trust_req_type_name(s->reqs[0].type), "insecureAcceptAnything");
	trust_policy_free(p);

	/* A Fedora-style /etc/containers/policy.json decodes unchanged. */
	p = dec_ok("{\n    \"default\": [\n        {\n            \"type\": "
		   "\"insecureAcceptAnything\"\n        }\n    ],\n    \"transports\": {\n"
		   "        \"docker-daemon\": {\n            \"\": [{\"type\": "
		   "\"insecureAcceptAnything\"}]\n        }\n    }\n}\n");
	trust_policy_free(p);
	p = dec_ok("{\"default\": [{\"type\": \"reject\"}], \"transports\": {}}");
	assert_int_equal(p->n_scopes, 0);
	trust_policy_free(p);
}

static void test_decode_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
	    /* syntax, located */
	    {"{\n  \"default\": [\n    {\"type\": \"reject\"},,\n  ]\n}", "p.json:3:24: "},
	    {"{\"default\": [{\"type\": \"reject\"}]} x", "p.json:1:"},
	    {"{\"default\": [{\"type\": \"reject\"}], \"default\": []}", "duplicate"},
	    {"[]", "p.json: must be a JSON object"},
	    {"{}", "p.json: \"default\" is required"},
	    {"{\"default\": [], \"x\": 1}", "p.json: unknown key \"x\""},
	    {"{\"default\": []}", "p.json: default: no requirements"},
	    {"{\"default\": {}}", "p.json: default: must be an array"},
	    {"{\"default\": [\"reject\"]}", "p.json: default[0]: a requirement must be an object"},
	    {"{\"default\": [{}]}", "default[0]: \"type\" is required"},
	    {"{\"default\": [{\"type\": 1}]}", "default[0]: \"type\" must be a string"},
	    /* unknown types and keys */
	    {"{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"quay.io\": "
	     "[{\"type\": \"foo\"}]}}}",
	     "p.json: transports.docker.\"quay.io\"[0]: unknown requirement type \"foo\""},
	    {"{\"default\": [{\"type\": \"reject\", \"keyPath\": \"/k\"}]}",
	     "default[0]: unknown key \"keyPath\""},
	    {"{\"default\": [{\"type\": \"insecureAcceptAnything\", \"x\": 1}]}",
	     "default[0]: unknown key \"x\""},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", \"keyPth\": 1}]}",
	     "default[0]: unknown key \"keyPth\""},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"fulcio\": {}}]}",
	     "default[0]: \"fulcio\" is not supported by moat"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"matchEverything\"}}]}",
	     "default[0].signedIdentity: unknown signedIdentity type \"matchEverything\""},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"matchExact\", \"dockerReference\": \"a.io/b:c\"}}]}",
	     "signedIdentity: unknown key \"dockerReference\""},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "\"matchExact\"}]}",
	     "default[0].signedIdentity: must be an object"},
	    {"{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"oci\": {}}}",
	     "p.json: transports: unknown transport \"oci\""},
	    {"{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": []}}",
	     "transports: \"docker\" must be an object"},
	    {"{\"default\": [{\"type\": \"\\u001b[31m\"}]}",
	     "unknown requirement type \"\\x1b[31m\""},
	    /* keys: exactly one, well-formed */
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", \"keyData\": "
	     "\"QUJD\"}]}",
	     "default[0]: \"keyPath\" and \"keyData\" are mutually exclusive"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": [\"/k\"], \"keyDatas\": "
	     "[\"QUJD\"]}]}",
	     "\"keyPaths\" and \"keyDatas\" are mutually exclusive"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\"}]}",
	     "default[0]: one of \"keyPath\", \"keyPaths\", \"keyData\" or \"keyDatas\" is "
	     "required"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"k.pub\"}]}",
	     "\"keyPath\" \"k.pub\" must be an absolute path"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": [\"/k\"]}]}",
	     "\"keyPath\" must be a string"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": []}]}",
	     "\"keyPaths\" is empty"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": \"/k\"}]}",
	     "\"keyPaths\" must be an array of strings"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": [\"/k\", 3]}]}",
	     "\"keyPaths\"[1] must be a string"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyData\": \"QUJ\"}]}",
	     "\"keyData\" is not valid base64"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyDatas\": [\"QU=D\"]}]}",
	     "\"keyDatas\" is not valid base64"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\\u0000x\"}]}",
	     "contains a NUL byte"},
	    {"{\"default\": [{\"type\": \"signedBy\", \"keyPath\": \"/k\"}]}",
	     "\"keyType\" is required"},
	    {"{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"X509\", \"keyPath\": "
	     "\"/k\"}]}",
	     "unknown keyType \"X509\""},
	    /* identities */
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"exactReference\", \"dockerReference\": \"a.io/b\"}}]}",
	     "\"dockerReference\" \"a.io/b\" contains neither a tag nor a digest"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"exactReference\"}}]}",
	     "\"dockerReference\" is required"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"exactRepository\", \"dockerRepository\": \"a.io/b:1\"}}]}",
	     "must be a repository, without tag or digest"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"exactRepository\", \"dockerRepository\": \"a.io/B\"}}]}",
	     "has an invalid repository name"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"remapIdentity\", \"prefix\": \"a.io/x\"}}]}",
	     "\"signedPrefix\" is required"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"remapIdentity\", \"prefix\": \"a.io/x:1\", \"signedPrefix\": "
	     "\"b.io\"}}]}",
	     "\"prefix\" \"a.io/x:1\" must be a fully-qualified host, namespace or repository"},
	    {"{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\", "
	     "\"signedIdentity\": "
	     "{\"type\": \"remapIdentity\", \"prefix\": \"a.io\", \"signedPrefix\": \"*.b.io\"}}]}",
	     "\"signedPrefix\" \"*.b.io\" must be"},
	};
	static const char *const bad_scopes[][2] = {
	    {"docker.io/busybox:1", "is not fully qualified"},
	    {"index.docker.io/library/busybox", "is not fully qualified"},
	    {"docker.io/bitnami", NULL}, /* a namespace */
	    {"docker.io/library", NULL},
	    {"busybox", NULL}, /* a host named busybox: valid */
	    {"quay.io/Foo", "has an invalid repository name"},
	    {"quay.io/foo:", "has an invalid tag"},
	    {"quay.io/foo@sha256:12", "has an invalid digest"},
	    {"quay.io/foo:1@" D1, "has both a tag and a digest"},
	    {"*.", "is not a valid wildcard scope"},
	    {"*.-a.io", "is not a valid wildcard scope"},
	    {"*", "is not a valid registry host"},
	    {"a.io:99999999", "is not a valid registry host"},
	    {"a..io", "is not a valid registry host"},
	    {"a.io/x//y", "has an invalid repository name"},
	    {"a.io/x__y--z.w", NULL},
	    {"[::1]:5000/x", NULL},
	    {"localhost/x", NULL},
	    {"a.io/x/", "has an invalid repository name"},
	    {"a.io/", "has an invalid repository name"},
	    {"a.io/x:1:2", "has an invalid repository name"},
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].json, strlen(cases[i].json), cases[i].msg);
	for (size_t i = 0; i < sizeof(bad_scopes) / sizeof(bad_scopes[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": "
			 "{\"%s\": [{\"type\": \"reject\"}]}}}",
			 bad_scopes[i][0]);
		if (bad_scopes[i][1]) {
			char want[256];

			snprintf(want, sizeof(want), "p.json: transports.docker.\"%.60s",
				 bad_scopes[i][0]);
			expect_error(buf, strlen(buf), want);
			snprintf(want, sizeof(want), "\": scope %s", bad_scopes[i][1]);
			expect_error(buf, strlen(buf), want);
		} else {
			trust_policy_free(dec_ok(buf));
		}
	}
	/* Wildcards are docker-only. */
	snprintf(buf, sizeof(buf),
		 "{\"default\": [{\"type\": \"reject\"}], \"transports\": "
		 "{\"docker-daemon\": {\"*.a.io\": [{\"type\": \"reject\"}]}}}");
	expect_error(buf, strlen(buf), "transports.docker-daemon.\"*.a.io\": scope");
	/* A NUL inside a scope key (jansson refuses it; trust.c checks too). */
	static const char nul[] = "{\"default\": [{\"type\": \"reject\"}], \"transports\": "
				  "{\"docker\": {\"a.io\\u0000b\": [{\"type\": \"reject\"}]}}}";
	expect_error(nul, strlen(nul), "p.json:1:");
}

/* Caps: text size, scopes, requirements per scope. */
static void test_decode_caps(void **state)
{
	size_t big = TRUST_POLICY_MAX_BYTES + 1, n;
	char *s = malloc(big + 64);

	assert_non_null(s);
	memset(s, ' ', big);
	memcpy(s, "{\"default\": [{\"type\": \"reject\"}]}", 33);
	expect_error(s, big, "p.json: larger than 1048576 bytes");
	/* Exactly at the cap is fine. */
	{
		struct trust_policy *p = NULL;
		struct err *err = NULL;

		assert_int_equal(trust_policy_decode(s, big - 1, "p.json", &p, &err), 0);
		trust_policy_free(p);
	}

	for (int over = 0; over < 2; over++) {
		n = (size_t)snprintf(s, big,
				     "{\"default\": [{\"type\": \"reject\"}], "
				     "\"transports\": {\"docker\": {");
		for (int i = 0; i < TRUST_POLICY_MAX_SCOPES - 1 + over; i++)
			n += (size_t)snprintf(s + n, big - n,
					      "%s\"h%d.io\": [{\"type\": \"reject\"}]",
					      i ? "," : "", i);
		n += (size_t)snprintf(s + n, big - n,
				      "}, \"docker-daemon\": {\"\": [{\"type\": \"reject\"}]}}}");
		if (over) {
			expect_error(s, n, "p.json: transports: more than 1000 scopes");
		} else {
			struct trust_policy *p = dec_ok(s);

			assert_int_equal(p->n_scopes, TRUST_POLICY_MAX_SCOPES);
			trust_policy_free(p);
		}
	}
	for (int over = 0; over < 2; over++) {
		n = (size_t)snprintf(s, big, "{\"default\": [");
		for (int i = 0; i < TRUST_POLICY_MAX_REQS + over; i++)
			n += (size_t)snprintf(s + n, big - n, "%s{\"type\": \"reject\"}",
					      i ? "," : "");
		n += (size_t)snprintf(s + n, big - n, "]}");
		if (over) {
			expect_error(s, n, "p.json: default: more than 100 requirements");
		} else {
			struct trust_policy *p = dec_ok(s);

			assert_int_equal(p->n_def, TRUST_POLICY_MAX_REQS);
			trust_policy_free(p);
		}
	}
	n = (size_t)snprintf(s, big,
			     "{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": [");
	for (int i = 0; i < TRUST_POLICY_MAX_KEYS + 1; i++)
		n += (size_t)snprintf(s + n, big - n, "%s\"/k%d\"", i ? "," : "", i);
	n += (size_t)snprintf(s + n, big - n, "]}]}");
	expect_error(s, n, "\"keyPaths\" has more than 100 keys");
	free(s);
}

/* One requirement per scope; the scope's name is in keyPath so that the
 * choice can be checked through both the scope string and the reqs. */
#define SC(s) "\"" s "\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/" s "\"}]"

static void test_scope_precedence(void **state)
{
	/* clang-format off */
	struct trust_policy *p = dec_ok(
	    "{\"default\": [{\"type\": \"reject\"}, {\"type\": \"reject\"}], \"transports\": {"
	    "\"docker\": {"
		SC("") ","
		SC("docker.io") ","
		SC("docker.io/library") ","
		SC("docker.io/library/busybox") ","
		SC("docker.io/library/busybox:1.36") ","
		SC("docker.io/library/busybox@" D1) ","
		SC("quay.io/ns/sub") ","
		SC("*.example.com") ","
		SC("*.b.example.com") ","
		SC("reg.example.com:5000") ","
		SC("localhost:5000/x") ","
		SC("*.com")
	    "}, \"docker-daemon\": {\"docker.io\": [{\"type\": \"reject\"}]}}}");
	/* clang-format on */
	static const char *const table[][2] = {
	    /* exact tag > repo > namespace > host */
	    {"docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
	    {"busybox:1.36", "docker.io/library/busybox:1.36"},
	    {"index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
	    {"docker.io/library/busybox:latest", "docker.io/library/busybox"},
	    {"docker.io/library/busybox", "docker.io/library/busybox"},
	    {"docker.io/library/busybox@" D1, "docker.io/library/busybox@" D1},
	    {"docker.io/library/busybox@" D2, "docker.io/library/busybox"},
	    /* a digest beside a tag: the digest decides */
	    {"docker.io/library/busybox:1.36@" D1, "docker.io/library/busybox@" D1},
	    {"docker.io/library/busybox:1.36@" D2, "docker.io/library/busybox"},
	    {"alpine:3", "docker.io/library"},
	    {"docker.io/library/busyboxx:1", "docker.io/library"},
	    {"someone/app:1", "docker.io"},
	    /* namespace chain */
	    {"quay.io/ns/sub/deep/repo:1", "quay.io/ns/sub"},
	    {"quay.io/ns/sub:1", "quay.io/ns/sub"},
	    {"quay.io/ns/subx:1", ""}, /* "sub" matches only at a '/' boundary */
	    {"quay.io/ns:1", ""},
	    /* wildcards: longest first, host beats wildcard, port kept on host */
	    {"a.b.example.com/x:1", "*.b.example.com"},
	    {"b.example.com/x:1", "*.example.com"},
	    {"example.com/x:1", "*.com"},
	    {"reg.example.com:5000/x:1", "reg.example.com:5000"},
	    {"reg.example.com:5001/x:1", "*.example.com"},
	    {"reg.example.com/x:1", "*.example.com"},
	    {"localhost:5000/x:1", "localhost:5000/x"},
	    {"localhost:5000/y:1", ""},
	    {"localhost/x:1", ""},
	    {"[::1]:5000/x:1", ""},
	    {"ghcr.io/o/r:1", ""},
	};
	const struct trust_req *reqs;
	size_t n;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char *got = trust_policy_scope_for(p, table[i][0], &reqs, &n);

		if (strcmp(got, table[i][1])) {
			print_error("%s: want scope \"%s\", got \"%s\"\n", table[i][0], table[i][1],
				    got);
			fail();
		}
		assert_int_equal(n, 1);
		assert_string_equal(reqs[0].key_paths[0] + 1, table[i][1]);
	}
	/* Unparsable references get the top-level default. */
	assert_ptr_equal(trust_policy_scope_for(p, "Not A Ref", &reqs, &n), trust_scope_default);
	assert_int_equal(n, 2);
	assert_ptr_equal(trust_policy_scope_for(p, "", &reqs, &n), trust_scope_default);
	trust_policy_free(p);

	/* Without a transport default, the top-level default applies. */
	p = dec_ok("{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": "
		   "{\"docker\": {" SC("quay.io") "}}}");
	assert_ptr_equal(trust_policy_scope_for(p, "ghcr.io/a/b:1", &reqs, &n),
			 trust_scope_default);
	assert_int_equal(reqs[0].type, TRUST_REQ_INSECURE_ACCEPT_ANYTHING);
	assert_string_equal(trust_policy_scope_for(p, "quay.io/a/b:1", &reqs, &n), "quay.io");
	trust_policy_free(p);
}

static struct trust_policy *one(const char *ident)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"\": "
		 "[{\"type\": \"sigstoreSigned\", \"keyPaths\": [\"" KEY "\", \"" KEY2
		 "\"]%s%s%s}]}}}",
		 ident ? ", \"signedIdentity\": " : "", ident ? ident : "", "");
	return dec_ok(buf);
}

struct icase {
	const char *ident;   /* NULL: the default */
	const char *ref;     /* the image */
	const char *sig_ref; /* the signature's docker-reference */
	int want;
	const char *reason;
};

static void test_identity_rules(void **state)
{
	static const struct icase cases[] = {
	    /* matchRepoDigestOrExact (the default) */
	    {NULL, "quay.io/a/b:1", "quay.io/a/b:1", TRUST_ACCEPT, "signed by trusted key"},
	    {NULL, "quay.io/a/b:1", "quay.io/a/b:2", TRUST_REJECT,
	     "docker-reference quay.io/a/b:2 does not satisfy signedIdentity "
	     "matchRepoDigestOrExact"},
	    {NULL, "quay.io/a/b:1", "quay.io/a/b", TRUST_REJECT, "does not satisfy"},
	    {NULL, "quay.io/a/b@" D1, "quay.io/a/b:anything", TRUST_ACCEPT,
	     "matchRepoDigestOrExact"},
	    {NULL, "quay.io/a/b@" D1, "quay.io/a/b", TRUST_ACCEPT, "signed"},
	    {NULL, "quay.io/a/b", "quay.io/a/b", TRUST_REJECT, "neither tag nor digest"},
	    {NULL, "busybox:1", "index.docker.io/library/busybox:1", TRUST_ACCEPT, "signed"},
	    {NULL, "docker.io/library/busybox:1", "busybox:1", TRUST_ACCEPT, "signed"},
	    /* the replay: a trusted key, the right digest, another repository */
	    {NULL, "quay.io/victim/app:1", "quay.io/evil/app:1", TRUST_REJECT,
	     "signature for another repository (docker-reference quay.io/evil/app:1) does not "
	     "count"},
	    {NULL, "quay.io/victim/app@" D1, "quay.io/evil/app", TRUST_REJECT,
	     "signature for another repository"},
	    /* matchExact */
	    {"{\"type\": \"matchExact\"}", "quay.io/a/b:1", "quay.io/a/b:1", TRUST_ACCEPT,
	     "signed"},
	    {"{\"type\": \"matchExact\"}", "quay.io/a/b@" D1, "quay.io/a/b", TRUST_REJECT,
	     "does not satisfy signedIdentity matchExact"},
	    {"{\"type\": \"matchExact\"}", "quay.io/a/b@" D1, "quay.io/a/b@" D1, TRUST_ACCEPT,
	     "signed"},
	    {"{\"type\": \"matchExact\"}", "quay.io/a/b:1", "quay.io/a/b:2", TRUST_REJECT,
	     "does not satisfy"},
	    {"{\"type\": \"matchExact\"}", "quay.io/a/b", "quay.io/a/b", TRUST_REJECT,
	     "neither tag nor digest"},
	    {"{\"type\": \"matchExact\"}", "quay.io/a/b:1", "quay.io/a/c:1", TRUST_REJECT,
	     "another repository"},
	    /* matchRepository */
	    {"{\"type\": \"matchRepository\"}", "quay.io/a/b:1", "quay.io/a/b:2", TRUST_ACCEPT,
	     "matchRepository"},
	    {"{\"type\": \"matchRepository\"}", "quay.io/a/b", "quay.io/a/b", TRUST_ACCEPT,
	     "signed"},
	    {"{\"type\": \"matchRepository\"}", "quay.io/a/b:1", "quay.io/a/bb:1", TRUST_REJECT,
	     "another repository"},
	    /* exactReference */
	    {"{\"type\": \"exactReference\", \"dockerReference\": \"quay.io/up/b:1\"}",
	     "mirror.io/b:7", "quay.io/up/b:1", TRUST_ACCEPT, "exactReference"},
	    {"{\"type\": \"exactReference\", \"dockerReference\": \"quay.io/up/b:1\"}",
	     "quay.io/up/b:1", "quay.io/up/b:2", TRUST_REJECT,
	     "does not satisfy signedIdentity exactReference quay.io/up/b:1"},
	    /* exactRepository */
	    {"{\"type\": \"exactRepository\", \"dockerRepository\": \"quay.io/up/b\"}",
	     "mirror.io/x:1", "quay.io/up/b:9", TRUST_ACCEPT, "exactRepository"},
	    {"{\"type\": \"exactRepository\", \"dockerRepository\": \"quay.io/up/b\"}",
	     "quay.io/up/b:1", "quay.io/up/c:1", TRUST_REJECT,
	     "does not satisfy signedIdentity exactRepository quay.io/up/b"},
	    /* remapIdentity: prefix at '/' boundaries, then matchRepoDigestOrExact */
	    {"{\"type\": \"remapIdentity\", \"prefix\": \"mirror.io/dh\", \"signedPrefix\": "
	     "\"docker.io\"}",
	     "mirror.io/dh/library/busybox:1", "docker.io/library/busybox:1", TRUST_ACCEPT,
	     "remapIdentity"},
	    {"{\"type\": \"remapIdentity\", \"prefix\": \"mirror.io/dh\", \"signedPrefix\": "
	     "\"docker.io\"}",
	     "mirror.io/dh/library/busybox:1", "mirror.io/dh/library/busybox:1", TRUST_REJECT,
	     "another repository"},
	    {"{\"type\": \"remapIdentity\", \"prefix\": \"mirror.io/dh\", \"signedPrefix\": "
	     "\"docker.io\"}",
	     "mirror.io/dhx/busybox:1", "mirror.io/dhx/busybox:1", TRUST_ACCEPT, "signed"},
	    {"{\"type\": \"remapIdentity\", \"prefix\": \"mirror.io/dh\", \"signedPrefix\": "
	     "\"docker.io\"}",
	     "mirror.io/dh/library/busybox:1", "docker.io/library/busybox:2", TRUST_REJECT,
	     "does not satisfy"},
	    {"{\"type\": \"remapIdentity\", \"prefix\": \"mirror.io\", \"signedPrefix\": "
	     "\"quay.io\"}",
	     "mirror.io/a/b@" D1, "quay.io/a/b", TRUST_ACCEPT, "signed"},
	    /* a malformed or hostile docker-reference in the payload */
	    {NULL, "quay.io/a/b:1", "quay.io/a/b:1\x1b[2J", TRUST_REJECT,
	     "docker-reference \"quay.io/a/b:1\\x1b[2J\" has an invalid tag"},
	    {NULL, "quay.io/a/b:1", "", TRUST_REJECT, "is not a valid docker reference"},
	};
	char reason[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trust_policy *p = one(cases[i].ident);
		struct trust_sig sig = {KEY2, cases[i].sig_ref, D1};
		int v = trust_policy_evaluate(p, cases[i].ref, D1, &sig, 1, reason, sizeof(reason));

		if (v != cases[i].want || !strstr(reason, cases[i].reason)) {
			print_error(
			    "case %zu: %s / %s / sig %s:\n  want %s \"%s\"\n  got  %s \"%s\"\n", i,
			    cases[i].ident ? cases[i].ident : "(default)", cases[i].ref,
			    cases[i].sig_ref, cases[i].want == TRUST_ACCEPT ? "ACCEPT" : "REJECT",
			    cases[i].reason, v == TRUST_ACCEPT ? "ACCEPT" : "REJECT", reason);
			fail();
		}
		trust_policy_free(p);
	}
}

static void test_evaluate_rules(void **state)
{
	struct trust_policy *p = dec_ok(
	    "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {"
	    "\"quay.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\"}],"
	    "\"quay.io/two\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\"},"
	    "  {\"type\": \"sigstoreSigned\", \"keyData\": \"QUJD\"}],"
	    "\"quay.io/open\": [{\"type\": \"insecureAcceptAnything\"}],"
	    "\"quay.io/gpg\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": "
	    "\"/g\"}],"
	    "\"quay.io/no\": [{\"type\": \"insecureAcceptAnything\"}, {\"type\": \"reject\"}]}}}");
	struct trust_sig good = {KEY, "quay.io/a/b:1", D1};
	struct trust_sig other_key = {KEY2, "quay.io/a/b:1", D1};
	struct trust_sig other_digest = {KEY, "quay.io/a/b:1", D2};
	struct trust_sig replay = {KEY, "quay.io/x/y:1", D1};
	struct trust_sig data = {"QUJD", "quay.io/two/b:1", D1};
	struct trust_sig two[2] = {{KEY, "quay.io/two/b:1", D1}, {"QUJD", "quay.io/two/b:1", D1}};
	struct trust_sig mixed[3] = {other_digest, replay, good};
	char r[512];

	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, &good, 1, r, sizeof(r)),
			 TRUST_ACCEPT);
	assert_non_null(strstr(r, "accepted by policy for scope \"quay.io\": signed by trusted key "
				  "/etc/moat/keys/a.pub as quay.io/a/b:1"));
	/* No signature at all; a signature by an untrusted key. */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_string_equal(
	    r, "rejected by policy for scope \"quay.io\" (requirement 0: "
	       "sigstoreSigned, matchRepoDigestOrExact): no signature by a trusted key");
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, &other_key, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "no signature by a trusted key"));
	/* A trusted key over another manifest. */
	assert_int_equal(
	    trust_policy_evaluate(p, "quay.io/a/b:1", D1, &other_digest, 1, r, sizeof(r)),
	    TRUST_REJECT);
	assert_non_null(strstr(r, "over another manifest (" D2 ")"));
	/* The replay, and a good signature among bad ones still counts. */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, &replay, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "signature for another repository (docker-reference "
				  "quay.io/x/y:1) does not count"));
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, mixed, 2, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "another repository")); /* the closest miss is named */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, mixed, 3, r, sizeof(r)),
			 TRUST_ACCEPT);
	/* The reference's own digest must be the manifest's. */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b@" D2, D1, &good, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "not the reference's"));
	assert_int_equal(
	    trust_policy_evaluate(p, "quay.io/a/b:1", "sha256:12", &good, 1, r, sizeof(r)),
	    TRUST_REJECT);
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", NULL, &good, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_int_equal(trust_policy_evaluate(p, "not a ref", D1, &good, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "reference \"not a ref\""));
	/* Every requirement must hold: two keys, two signatures. */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/two/b:1", D1, two, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "scope \"quay.io/two\" (requirement 1: sigstoreSigned"));
	assert_int_equal(trust_policy_evaluate(p, "quay.io/two/b:1", D1, &data, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "(requirement 0"));
	assert_int_equal(trust_policy_evaluate(p, "quay.io/two/b:1", D1, two, 2, r, sizeof(r)),
			 TRUST_ACCEPT);
	/* insecureAcceptAnything, signedBy, reject, the default. */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/open/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_ACCEPT);
	assert_string_equal(r, "accepted by policy for scope \"quay.io/open\": no signature "
			       "required");
	assert_int_equal(trust_policy_evaluate(p, "quay.io/gpg/b:1", D1, &good, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "signedBy): GPG signatures are not supported"));
	assert_int_equal(trust_policy_evaluate(p, "quay.io/no/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_string_equal(r,
			    "rejected by policy for scope \"quay.io/no\" (requirement 1: reject)");
	assert_int_equal(trust_policy_evaluate(p, "ghcr.io/a/b:1", D1, &good, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_string_equal(r, "rejected by policy for the default policy (requirement 0: reject)");
	/* NULL reason buffer is allowed; a short one truncates. */
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, &good, 1, NULL, 0),
			 TRUST_ACCEPT);
	assert_int_equal(trust_policy_evaluate(p, "quay.io/a/b:1", D1, &good, 1, r, 5),
			 TRUST_ACCEPT);
	assert_string_equal(r, "acce");
	trust_policy_free(p);
}

static void test_tighten(void **state)
{
	struct trust_policy *sys =
	    dec_ok("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {"
		   "\"quay.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\"}],"
		   "\"quay.io/open\": [{\"type\": \"insecureAcceptAnything\"}],"
		   "\"*.corp.io\": [{\"type\": \"insecureAcceptAnything\"}],"
		   "\"\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
	struct trust_policy *user = dec_ok(
	    "{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": {\"docker\": {"
	    "\"quay.io/a\": [{\"type\": \"insecureAcceptAnything\"}],"
	    "\"quay.io/open/x\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY2 "\"}],"
	    "\"reg.corp.io\": [{\"type\": \"reject\"}],"
	    "\"ghcr.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY2 "\"}]}}}");
	struct trust_policy *m = NULL, *copy = NULL;
	struct err *err = NULL;
	struct trust_sig by1 = {KEY, "quay.io/a/b:1", D1};
	struct trust_sig both[2] = {{KEY, "quay.io/open/x:1", D1}, {KEY2, "quay.io/open/x:1", D1}};
	struct trust_sig by2 = {KEY2, "ghcr.io/a/b:1", D1};
	const struct trust_req *reqs;
	size_t n;
	char r[512];

	assert_int_equal(trust_policy_tighten(sys, user, &m, &err), 0);
	/* The user's insecureAcceptAnything for quay.io/a does not lift the
	 * system's sigstoreSigned for quay.io. */
	assert_string_equal(trust_policy_scope_for(m, "quay.io/a/b:1", &reqs, &n), "quay.io/a");
	assert_int_equal(n, 2);
	assert_int_equal(reqs[0].type, TRUST_REQ_SIGSTORE_SIGNED);
	assert_int_equal(reqs[1].type, TRUST_REQ_INSECURE_ACCEPT_ANYTHING);
	assert_int_equal(trust_policy_evaluate(m, "quay.io/a/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_int_equal(trust_policy_evaluate(m, "quay.io/a/b:1", D1, &by1, 1, r, sizeof(r)),
			 TRUST_ACCEPT);
	/* The user adds a key requirement where the system accepted anything. */
	assert_int_equal(trust_policy_evaluate(m, "quay.io/open/x:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_int_equal(trust_policy_evaluate(m, "quay.io/open/x:1", D1, both, 2, r, sizeof(r)),
			 TRUST_ACCEPT);
	assert_int_equal(trust_policy_evaluate(m, "quay.io/open/y:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_ACCEPT);
	/* A user's host scope under a system wildcard; the system's wildcard
	 * elsewhere is untouched. */
	assert_int_equal(trust_policy_evaluate(m, "reg.corp.io/a:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_non_null(strstr(r, "scope \"reg.corp.io\" (requirement 1: reject)"));
	assert_int_equal(trust_policy_evaluate(m, "other.corp.io/a:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_ACCEPT);
	/* The user's default (insecureAcceptAnything) cannot loosen the system's
	 * default reject, and the system's "" still applies beside the user's
	 * ghcr.io scope. */
	assert_ptr_equal(trust_policy_scope_for(m, "Bad Ref", &reqs, &n), trust_scope_default);
	assert_int_equal(n, 2);
	assert_int_equal(reqs[0].type, TRUST_REQ_REJECT);
	assert_int_equal(trust_policy_evaluate(m, "ghcr.io/a/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_int_equal(trust_policy_evaluate(m, "ghcr.io/a/b:1", D1, &by2, 1, r, sizeof(r)),
			 TRUST_ACCEPT);
	/* "" of the merge: the system's "" and the user's default. */
	assert_string_equal(trust_policy_scope_for(m, "elsewhere.io/a:1", &reqs, &n), "");
	assert_int_equal(n, 2);

	/* Property: for many references, the merged verdict is the AND of the
	 * two files' verdicts. */
	static const char *const refs[] = {
	    "quay.io/a/b:1",   "quay.io/open/x:1",  "quay.io/open/y:1", "quay.io/z:1",
	    "reg.corp.io/a:1", "x.corp.io/a:1",	    "ghcr.io/a/b:1",	"busybox:1",
	    ("quay.io/a@" D1), "quay.io/open/x/y:1"};
	struct trust_sig sets[3][2] = {{by1, by2}, {both[0], both[1]}, {by2, by2}};

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		for (size_t s = 0; s < 3; s++)
			for (size_t k = 0; k <= 2; k++) {
				int a =
				    trust_policy_evaluate(sys, refs[i], D1, sets[s], k, NULL, 0);
				int b =
				    trust_policy_evaluate(user, refs[i], D1, sets[s], k, NULL, 0);
				int c = trust_policy_evaluate(m, refs[i], D1, sets[s], k, NULL, 0);
				int want = (a == TRUST_ACCEPT && b == TRUST_ACCEPT) ? TRUST_ACCEPT
										    : TRUST_REJECT;

				if (c != want) {
					print_error("%s set %zu k %zu: sys %d user %d merged %d\n",
						    refs[i], s, k, a, b, c);
					fail();
				}
			}

	/* No user file: a copy of the system's. */
	assert_int_equal(trust_policy_tighten(sys, NULL, &copy, &err), 0);
	assert_int_equal(copy->n_scopes, sys->n_scopes);
	assert_int_equal(trust_policy_evaluate(copy, "quay.io/a/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);
	assert_int_equal(trust_policy_evaluate(copy, "quay.io/open/b:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_ACCEPT);
	trust_policy_free(copy);
	trust_policy_free(m);
	trust_policy_free(user);
	trust_policy_free(sys);
}

static void test_default_reject(void **state)
{
	struct trust_policy *p = trust_policy_default_reject();
	struct trust_sig sig = {KEY, "docker.io/library/busybox:1", D1};
	const struct trust_req *reqs;
	size_t n;
	char r[256];

	assert_non_null(p);
	assert_int_equal(p->n_scopes, 0);
	assert_ptr_equal(trust_policy_scope_for(p, "busybox:1", &reqs, &n), trust_scope_default);
	assert_int_equal(n, 1);
	assert_int_equal(reqs[0].type, TRUST_REQ_REJECT);
	assert_int_equal(trust_policy_evaluate(p, "busybox:1", D1, &sig, 1, r, sizeof(r)),
			 TRUST_REJECT);
	assert_string_equal(r, "rejected by policy for the default policy (requirement 0: reject)");
	assert_int_equal(trust_policy_evaluate(NULL, "busybox:1", D1, &sig, 1, r, sizeof(r)),
			 TRUST_REJECT);
	trust_policy_free(p);
	trust_policy_free(NULL);
}

/* ---- encode and set_scope ---------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool strv_eq(char **a, char **b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b))
			return false;
	return !*a && !*b;
}

static bool reqs_eq(const struct trust_req *a, size_t na, const struct trust_req *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].type != b[i].type || a[i].n_keys != b[i].n_keys ||
		    !strv_eq(a[i].key_paths, b[i].key_paths) ||
		    !strv_eq(a[i].key_datas, b[i].key_datas) ||
		    !str_eq(a[i].key_type, b[i].key_type) || a[i].ident.type != b[i].ident.type ||
		    !str_eq(a[i].ident.reference, b[i].ident.reference) ||
		    !str_eq(a[i].ident.prefix, b[i].ident.prefix) ||
		    !str_eq(a[i].ident.signed_prefix, b[i].ident.signed_prefix))
			return false;
	return true;
}

/* Deep equality, scopes in order (both sides keep them sorted). */
static bool policy_eq(const struct trust_policy *a, const struct trust_policy *b)
{
	if (!reqs_eq(a->def, a->n_def, b->def, b->n_def) || a->n_scopes != b->n_scopes)
		return false;
	for (size_t i = 0; i < a->n_scopes; i++)
		if (a->scopes[i].transport != b->scopes[i].transport ||
		    strcmp(a->scopes[i].scope, b->scopes[i].scope) ||
		    !reqs_eq(a->scopes[i].reqs, a->scopes[i].n_reqs, b->scopes[i].reqs,
			     b->scopes[i].n_reqs))
			return false;
	return true;
}

static char *enc_ok(const struct trust_policy *p)
{
	struct err *err = NULL;
	char *text = NULL;

	if (trust_policy_encode(p, &text, &err) < 0) {
		print_error("encode: %s\n", err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(text);
	return text;
}

/* Every requirement type, every key form, every signedIdentity type. */
static const char every_type[] =
    "{\"default\": [{\"type\": \"reject\"}, {\"type\": \"insecureAcceptAnything\"}],\n"
    " \"transports\": {\n"
    "  \"docker-daemon\": {\"\": [{\"type\": \"insecureAcceptAnything\"}]},\n"
    "  \"docker\": {\n"
    "   \"\": [{\"type\": \"insecureAcceptAnything\"}],\n"
    "   \"a.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\"}],\n"
    "   \"b.io/ns\": [{\"type\": \"sigstoreSigned\", \"keyPaths\": [\"" KEY "\", \"" KEY2 "\"],\n"
    "                \"signedIdentity\": {\"type\": \"matchExact\"}}],\n"
    "   \"c.io/r:t\": [{\"type\": \"sigstoreSigned\", \"keyData\": \"QUJD\",\n"
    "                 \"signedIdentity\": {\"type\": \"matchRepository\"}}],\n"
    "   \"d.io/r@" D1 "\": [{\"type\": \"sigstoreSigned\", \"keyDatas\": [\"QUJD\", \"QUI=\"],\n"
    "      \"signedIdentity\": {\"type\": \"matchRepoDigestOrExact\"}}],\n"
    "   \"*.e.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\",\n"
    "      \"signedIdentity\": {\"type\": \"exactReference\", \"dockerReference\": "
    "\"busybox:1\"}}],\n"
    "   \"f.io:5000\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\",\n"
    "      \"signedIdentity\": {\"type\": \"exactRepository\", \"dockerRepository\": "
    "\"f.io:5000/x\"}}],\n"
    "   \"g.io/mirror\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"" KEY "\",\n"
    "      \"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"g.io/mirror\", "
    "\"signedPrefix\": \"docker.io/library\"}}],\n"
    "   \"h.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k.gpg\"}, "
    "{\"type\": \"reject\"}],\n"
    "   \"i.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPaths\": [\"/a\", "
    "\"/b\"],\n"
    "      \"signedIdentity\": {\"type\": \"matchRepository\"}}],\n"
    "   \"j.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyData\": \"QUJD\"}],\n"
    "   \"k.io/x\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/"
    "k\"}, {\"type\": "
    "\"sigstoreSigned\", \"keyPath\": \"/l\",\n"
    "      \"signedIdentity\": {\"type\": \"exactReference\", \"dockerReference\": \"k.io/x@" D2
    "\"}}]}}}";

static void test_encode_roundtrip(void **state)
{
	static const char *const texts[] = {
	    every_type,
	    "{\"default\": [{\"type\": \"reject\"}]}",
	    "{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": {}}",
	    "{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k\\\"q\\\\u\"}]}",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct trust_policy *a = dec_ok(texts[i]), *b;
		char *t1 = enc_ok(a), *t2;

		b = dec_ok(t1);
		if (!policy_eq(a, b)) {
			print_error("not equal after a round trip:\n%s\n", t1);
			fail();
		}
		/* Stable: encoding the decoded text gives the same bytes. */
		t2 = enc_ok(b);
		assert_string_equal(t1, t2);
		/* The documented shape: 4-space indent, "default" first, a
		 * trailing newline. */
		assert_memory_equal(t1, "{\n    \"default\": [\n        {\n", 28);
		assert_int_equal(t1[strlen(t1) - 1], '\n');
		assert_int_not_equal(t1[strlen(t1) - 2], '\n');
		if (strstr(t1, "\"transports\""))
			assert_true(strstr(t1, "\"default\"") < strstr(t1, "\"transports\""));
		free(t1);
		free(t2);
		trust_policy_free(a);
		trust_policy_free(b);
	}

	/* The every-type policy really does hold every type (so the loop above
	 * covered them) and the defaults are left out, not spelled. */
	{
		struct trust_policy *p = dec_ok(every_type);
		bool req_seen[4] = {false}, ident_seen[6] = {false};
		char *t = enc_ok(p);

		for (size_t i = 0; i < p->n_scopes; i++)
			for (size_t k = 0; k < p->scopes[i].n_reqs; k++) {
				req_seen[p->scopes[i].reqs[k].type] = true;
				ident_seen[p->scopes[i].reqs[k].ident.type] = true;
			}
		for (size_t i = 0; i < 4; i++)
			assert_true(req_seen[i]);
		for (size_t i = 0; i < 6; i++)
			assert_true(ident_seen[i]);
		assert_null(strstr(t, "matchRepoDigestOrExact"));
		assert_non_null(strstr(t, "\"keyPaths\": [\n"));
		assert_non_null(strstr(t, "\"keyDatas\": [\n"));
		assert_non_null(strstr(t, "\"keyType\": \"GPGKeys\""));
		/* Stored normalised, written normalised. */
		assert_non_null(strstr(t, "\"dockerReference\": \"docker.io/library/busybox:1\""));
		assert_non_null(strstr(t, "\"docker-daemon\": {"));
		free(t);
		trust_policy_free(p);
	}
}

/* A hand-built struct that no decoder would produce: encode says so. */
static void test_encode_errors(void **state)
{
	struct trust_policy *p = trust_policy_default_reject();
	char bad[] = "/k\xff", *paths[] = {bad, NULL}, *text = NULL;
	struct err *err = NULL;

	assert_non_null(p);
	p->def[0].type = TRUST_REQ_SIGSTORE_SIGNED;
	p->def[0].key_paths = paths;
	p->def[0].n_keys = 1;
	assert_int_equal(trust_policy_encode(p, &text, &err), -EINVAL);
	assert_null(text);
	assert_non_null(strstr(err->msg, "default: a string is not UTF-8"));
	err_free(&err);
	p->def[0].key_paths = NULL;
	p->def[0].n_keys = 0;
	p->def[0].type = TRUST_REQ_REJECT;
	trust_policy_free(p);
}

static void expect_set_error(struct trust_policy *p, const char *scope,
			     const struct trust_req *reqs, size_t n, const char *msg)
{
	char *before = enc_ok(p), *after;
	struct err *err = NULL;

	if (trust_policy_set_scope(p, scope, reqs, n, &err) == 0) {
		print_error("set_scope(\"%s\") accepted, want \"%s\"\n", scope ? scope : "(null)",
			    msg);
		fail();
	}
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("set_scope(\"%s\"):\n  want \"%s\"\n  got  \"%s\"\n",
			    scope ? scope : "(null)", msg, err->msg);
		fail();
	}
	err_free(&err);
	/* A refused edit leaves the policy as it was. */
	after = enc_ok(p);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void set_ok(struct trust_policy *p, const char *scope, const struct trust_req *reqs,
		   size_t n)
{
	struct err *err = NULL;

	if (trust_policy_set_scope(p, scope, reqs, n, &err) < 0) {
		print_error("set_scope(\"%s\"): %s\n", scope, err->msg);
		err_free(&err);
		fail();
	}
}

static void test_set_scope(void **state)
{
	struct trust_policy *p = trust_policy_default_reject(), *back;
	struct trust_req accept = {.type = TRUST_REQ_INSECURE_ACCEPT_ANYTHING};
	struct trust_req reject = {.type = TRUST_REQ_REJECT};
	char key[] = KEY, *keys[] = {key, NULL};
	struct trust_req signed_by_key = {
	    .type = TRUST_REQ_SIGSTORE_SIGNED, .key_paths = keys, .n_keys = 1};
	struct trust_req two[2];
	struct trust_sig sig = {KEY, "quay.io/org/app:1", D1};
	const struct trust_req *reqs;
	size_t n;
	char r[512], *text;

	assert_non_null(p);
	/* The default, by the word and by the pointer. */
	set_ok(p, "default", &accept, 1);
	assert_int_equal(p->n_def, 1);
	assert_int_equal(p->def[0].type, TRUST_REQ_INSECURE_ACCEPT_ANYTHING);
	assert_int_equal(p->n_scopes, 0);
	two[0] = reject;
	two[1] = accept;
	set_ok(p, trust_scope_default, two, 2);
	assert_int_equal(p->n_def, 2);
	assert_int_equal(p->def[0].type, TRUST_REQ_REJECT);
	assert_int_equal(p->def[1].type, TRUST_REQ_INSECURE_ACCEPT_ANYTHING);

	/* New scopes, added out of order: lookups (a bsearch) find them all. */
	set_ok(p, "quay.io/org", &signed_by_key, 1);
	set_ok(p, "*.corp.io", &accept, 1);
	set_ok(p, "docker.io/library/busybox:1", &accept, 1);
	set_ok(p, "a.io", &reject, 1);
	set_ok(p, "", &reject, 1);
	assert_int_equal(p->n_scopes, 5);
	for (size_t i = 1; i < p->n_scopes; i++)
		assert_true(strcmp(p->scopes[i - 1].scope, p->scopes[i].scope) < 0);
	assert_string_equal(trust_policy_scope_for(p, "quay.io/org/app:1", &reqs, &n),
			    "quay.io/org");
	assert_int_equal(reqs[0].type, TRUST_REQ_SIGSTORE_SIGNED);
	assert_string_equal(trust_policy_scope_for(p, "x.corp.io/a:1", &reqs, &n), "*.corp.io");
	assert_string_equal(trust_policy_scope_for(p, "busybox:1", &reqs, &n),
			    "docker.io/library/busybox:1");
	assert_string_equal(trust_policy_scope_for(p, "a.io/x:1", &reqs, &n), "a.io");
	assert_string_equal(trust_policy_scope_for(p, "b.io/x:1", &reqs, &n), "");
	assert_int_equal(trust_policy_evaluate(p, "quay.io/org/app:1", D1, &sig, 1, r, sizeof(r)),
			 TRUST_ACCEPT);
	assert_int_equal(trust_policy_evaluate(p, "quay.io/org/app:1", D1, NULL, 0, r, sizeof(r)),
			 TRUST_REJECT);

	/* Deep copies: the caller's strings may go away. */
	key[1] = 'X';
	assert_string_equal(p->scopes[4].reqs[0].key_paths[0], KEY);
	assert_string_equal(p->scopes[4].scope, "quay.io/org");

	/* An existing scope is replaced, not duplicated. */
	set_ok(p, "quay.io/org", &reject, 1);
	assert_int_equal(p->n_scopes, 5);
	assert_string_equal(trust_policy_scope_for(p, "quay.io/org/app:1", &reqs, &n),
			    "quay.io/org");
	assert_int_equal(n, 1);
	assert_int_equal(reqs[0].type, TRUST_REQ_REJECT);

	/* Identities are checked and normalised as the decoder does. */
	{
		char k2[] = KEY2, *ks[] = {k2, NULL}, ref[] = "busybox:1";
		struct trust_req s = {
		    .type = TRUST_REQ_SIGSTORE_SIGNED,
		    .key_paths = ks,
		    .n_keys = 1,
		    .ident = {.type = TRUST_IDENT_EXACT_REFERENCE, .reference = ref}};

		set_ok(p, "b.io", &s, 1);
		trust_policy_scope_for(p, "b.io/x:1", &reqs, &n);
		assert_string_equal(reqs[0].ident.reference, "docker.io/library/busybox:1");
	}

	/* What was set survives an encode/decode round trip. */
	text = enc_ok(p);
	back = dec_ok(text);
	assert_true(policy_eq(p, back));
	trust_policy_free(back);
	free(text);
	trust_policy_free(p);
}

static void test_set_scope_errors(void **state)
{
	struct trust_policy *p = trust_policy_default_reject();
	struct trust_req accept = {.type = TRUST_REQ_INSECURE_ACCEPT_ANYTHING};
	struct trust_req many[TRUST_POLICY_MAX_REQS + 1];
	char rel[] = "k.pub", abs_[] = KEY, noref[] = "busybox", pfx[] = "a.io/x", bad64[] = "QUJ";
	char *relv[] = {rel, NULL}, *absv[] = {abs_, NULL}, *b64v[] = {bad64, NULL},
	     *emptyv[] = {NULL};
	struct trust_req sig_none = {.type = TRUST_REQ_SIGSTORE_SIGNED};
	struct trust_req sig_rel = {
	    .type = TRUST_REQ_SIGSTORE_SIGNED, .key_paths = relv, .n_keys = 1};
	struct trust_req sig_empty = {.type = TRUST_REQ_SIGSTORE_SIGNED, .key_paths = emptyv};
	struct trust_req sig_b64 = {
	    .type = TRUST_REQ_SIGSTORE_SIGNED, .key_datas = b64v, .n_keys = 1};
	struct trust_req sig_both = {
	    .type = TRUST_REQ_SIGSTORE_SIGNED, .key_paths = absv, .key_datas = absv, .n_keys = 2};
	struct trust_req rej_key = {.type = TRUST_REQ_REJECT, .key_paths = absv, .n_keys = 1};
	struct trust_req rej_ident = {.type = TRUST_REQ_REJECT,
				      .ident = {.type = TRUST_IDENT_MATCH_EXACT}};
	struct trust_req gpg_no_type = {
	    .type = TRUST_REQ_SIGNED_BY, .key_paths = absv, .n_keys = 1};
	struct trust_req unknown = {.type = (enum trust_req_type)42};
	struct trust_req ident_unknown = {.type = TRUST_REQ_SIGSTORE_SIGNED,
					  .key_paths = absv,
					  .n_keys = 1,
					  .ident = {.type = (enum trust_ident_type)42}};
	struct trust_req ident_noref = {.type = TRUST_REQ_SIGSTORE_SIGNED,
					.key_paths = absv,
					.n_keys = 1,
					.ident = {.type = TRUST_IDENT_EXACT_REFERENCE}};
	struct trust_req ident_untagged = {
	    .type = TRUST_REQ_SIGSTORE_SIGNED,
	    .key_paths = absv,
	    .n_keys = 1,
	    .ident = {.type = TRUST_IDENT_EXACT_REFERENCE, .reference = noref}};
	struct trust_req ident_half_remap = {
	    .type = TRUST_REQ_SIGSTORE_SIGNED,
	    .key_paths = absv,
	    .n_keys = 1,
	    .ident = {.type = TRUST_IDENT_REMAP_IDENTITY, .prefix = pfx}};
	struct trust_req two[2] = {accept, sig_rel};
	static const char *const bad_scopes[][2] = {
	    {"quay.io/Org", "has an invalid repository name"},
	    {"quay.io/a:1@" D1, "has both a tag and a digest"},
	    {"docker.io/busybox:1", "is not fully qualified"},
	    {"*.", "is not a valid wildcard scope"},
	    {"a.io:99999999", "is not a valid registry host"},
	    {"a b", "is not a valid registry host"},
	    {"quay.io/x\x1b[31m", "scope \"quay.io/x\\x1b[31m\""},
	};
	struct err *err = NULL;

	assert_non_null(p);
	/* A valid edit first, so "unchanged" means something. */
	set_ok(p, "quay.io", &accept, 1);
	for (size_t i = 0; i < sizeof(bad_scopes) / sizeof(bad_scopes[0]); i++)
		expect_set_error(p, bad_scopes[i][0], &accept, 1, bad_scopes[i][1]);
	expect_set_error(p, NULL, &accept, 1, "no scope given");
	expect_set_error(p, "quay.io", &accept, 0, "scope \"quay.io\": 0 requirements");
	expect_set_error(p, "default", &accept, 0, "the default: 0 requirements");
	expect_set_error(p, "quay.io", NULL, 1, "0 requirements");
	for (size_t i = 0; i < TRUST_POLICY_MAX_REQS + 1; i++)
		many[i] = accept;
	expect_set_error(p, "quay.io", many, TRUST_POLICY_MAX_REQS + 1, "101 requirements");
	set_ok(p, "quay.io", many, TRUST_POLICY_MAX_REQS);

	expect_set_error(p, "quay.io", &sig_none, 1,
			 "scope \"quay.io\": requirement 0: one of \"keyPath\"");
	expect_set_error(p, "default", &sig_rel, 1,
			 "the default: requirement 0: \"keyPath\" \"k.pub\" must be an absolute");
	expect_set_error(p, "quay.io", two, 2, "requirement 1: \"keyPath\" \"k.pub\"");
	expect_set_error(p, "quay.io", &sig_empty, 1, "\"keyPaths\" is empty");
	expect_set_error(p, "quay.io", &sig_b64, 1, "\"keyData\" is not valid base64");
	expect_set_error(p, "quay.io", &sig_both, 1, "are mutually exclusive");
	expect_set_error(p, "quay.io", &rej_key, 1, "unknown key \"keyPath\"");
	expect_set_error(p, "quay.io", &rej_ident, 1, "unknown key \"signedIdentity\"");
	expect_set_error(p, "quay.io", &gpg_no_type, 1, "\"keyType\" is required");
	expect_set_error(p, "quay.io", &unknown, 1, "unknown requirement type \"?\"");
	expect_set_error(p, "quay.io", &ident_unknown, 1, "unknown signedIdentity type \"?\"");
	expect_set_error(p, "quay.io", &ident_noref, 1, "\"dockerReference\" is required");
	expect_set_error(p, "quay.io", &ident_untagged, 1,
			 "\"dockerReference\" \"busybox\" contains neither a tag nor a digest");
	expect_set_error(p, "quay.io", &ident_half_remap, 1, "\"signedPrefix\" is required");

	/* The scope cap. */
	{
		char name[32];
		size_t have = p->n_scopes;

		for (size_t i = have; i < TRUST_POLICY_MAX_SCOPES; i++) {
			snprintf(name, sizeof(name), "h%zu.io", i);
			set_ok(p, name, &accept, 1);
		}
		assert_int_equal(p->n_scopes, TRUST_POLICY_MAX_SCOPES);
		expect_set_error(p, "one-more.io", &accept, 1, "has 1000 scopes already");
		/* Replacing an existing scope is still fine at the cap. */
		set_ok(p, "h999.io", &accept, 1);
		assert_int_equal(trust_policy_set_scope(p, "h999.io", &accept, 1, &err), 0);
	}
	trust_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_every_type), cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_decode_caps),	      cmocka_unit_test(test_scope_precedence),
	    cmocka_unit_test(test_identity_rules),    cmocka_unit_test(test_evaluate_rules),
	    cmocka_unit_test(test_tighten),	      cmocka_unit_test(test_default_reject),
	    cmocka_unit_test(test_encode_roundtrip),  cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_set_scope),	      cmocka_unit_test(test_set_scope_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/unit/test_signature.c - image/signature.c: the strict payload
 * decoder (cosign's own form, every refusal), the exact bytes moat signs
 * and their round trip, signature manifests (entries with and without
 * problems, whole-document errors, caps), appending a signature (layers
 * kept, config and its digest pinned against an independent sha256), the
 * ".sig" tag and the OCI 1.1 referrers index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/digest.h"
#include "common/err.h"
#include "image/signature.h"

#define HEX1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D1 "sha256:" HEX1
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DP "sha256:abababababababababababababababababababababababababababababababab"
#define REF "registry.example.com/ns/app"
#define SIG "MEUCIQDxAAAA"
#define SIG2 "MEUCIQDyBBBB"
#define CFG_DESC                                                                               \
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":233," \
	"\"digest\":\"" D2 "\"}"
#define OCI_MT "application/vnd.oci.image.manifest.v1+json"

/* cosign's payload, as `cosign sign` writes it (Go's encoding/json of its
 * SimpleContainerImage: compact, "optional" null without annotations). */
#define CRIT(ref, dg)                                                                         \
	"{\"critical\":{\"identity\":{\"docker-reference\":\"" ref "\"},\"image\":{\"docker-" \
	"manifest-digest\":\"" dg "\"},\"type\":\"cosign container image signature\"}"
#define COSIGN_PAYLOAD CRIT(REF, D1) ",\"optional\":null}"

/* ---- helpers ---- */

static void payload_ok(const char *json, struct sig_payload *p)
{
	struct err *err = NULL;

	if (sig_payload_decode(json, strlen(json), p, &err) < 0) {
		print_error("rejected (%s): %.300s\n", err->msg, json);
		err_free(&err);
		fail();
	}
}

static void payload_bad(const char *json, size_t len, int code, const char *msg)
{
	struct sig_payload p;
	struct err *err = NULL;
	int r;

	memset(&p, 0x5a, sizeof(p));
	r = sig_payload_decode(json, len, &p, &err);
	if (r == 0) {
		print_error("accepted: %.300s\n", json);
		sig_payload_clear(&p);
		fail();
	}
	assert_int_equal(r, -code);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("error for %.200s:\n  want \"%s\"\n  got  \"%s\"\n", json, msg,
			    err->msg);
		fail();
	}
	/* Nothing half-decoded is handed back. */
	assert_null(p.docker_reference);
	assert_null(p.creator);
	assert_false(p.has_timestamp);
	err_free(&err);
}

static void payload_bad_s(const char *json, const char *msg)
{
	payload_bad(json, strlen(json), EINVAL, msg);
}

/* A growing string. */
struct buf {
	char *s;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *piece = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	b->s = realloc(b->s, b->len + (size_t)n + 1);
	assert_non_null(b->s);
	memcpy(b->s + b->len, piece, (size_t)n + 1);
	b->len += (size_t)n;
	free(piece);
}

/* "sha256:" and 64 hex digits made from I. */
static void dig(char out[72], unsigned i)
{
	snprintf(out, 72, "sha256:%064x", i);
}

/* A cosign layer for payload digest number I with signature annotation SIG. */
static void add_layer(struct buf *b, unsigned i, const char *sig)
{
	char d[72];

	dig(d, i);
	add(b,
	    "{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\",\"size\":%u,"
	    "\"digest\":\"%s\",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"%s\"}}",
	    200 + i, d, sig);
}

/* A signature manifest whose layers are the N cosign layers 1..N. */
static char *manifest_n(size_t n)
{
	struct buf b = {0};

	add(&b, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT "\"," CFG_DESC ",\"layers\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			add(&b, ",");
		add_layer(&b, (unsigned)i + 1, SIG);
	}
	add(&b, "]}");
	return b.s;
}

/* A manifest around the layers text LAYERS. */
static char *manifest_of(const char *layers)
{
	struct buf b = {0};

	add(&b, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT "\"," CFG_DESC ",\"layers\":[%s]}",
	    layers);
	return b.s;
}

static struct sig_manifest *manifest_ok(const char *json, const char *mt)
{
	struct sig_manifest *m = NULL;
	struct err *err = NULL;

	if (sig_manifest_decode(json, strlen(json), mt, &m, &err) < 0) {
		print_error("rejected (%s): %.300s\n", err->msg, json);
		err_free(&err);
		fail();
	}
	assert_non_null(m);
	return m;
}

static void manifest_bad(const char *json, size_t len, const char *mt, int code, const char *msg)
{
	struct sig_manifest *m = (struct sig_manifest *)&m; /* not NULL */
	struct err *err = NULL;
	int r;

	r = sig_manifest_decode(json, len, mt, &m, &err);
	if (r == 0) {
		print_error("accepted: %.300s\n", json);
		sig_manifest_free(m);
		fail();
	}
	assert_int_equal(r, -code);
	assert_null(m);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("error for %.200s:\n  want \"%s\"\n  got  \"%s\"\n", json, msg,
			    err->msg);
		fail();
	}
	err_free(&err);
}

static void manifest_bad_s(const char *json, const char *msg)
{
	manifest_bad(json, strlen(json), NULL, EINVAL, msg);
}

/* The one entry of a manifest made of the layer text LAYER. */
static void one_entry_problem(const char *layer, const char *want)
{
	char *json = manifest_of(layer);
	struct sig_manifest *m = manifest_ok(json, NULL);

	assert_int_equal(m->n, 1);
	if (!want) {
		if (m->entries[0].problem) {
			print_error("unexpected problem \"%s\" for %s\n", m->entries[0].problem,
				    layer);
			fail();
		}
	} else if (!m->entries[0].problem || !strstr(m->entries[0].problem, want)) {
		print_error("problem for %s:\n  want \"%s\"\n  got  \"%s\"\n", layer, want,
			    m->entries[0].problem ? m->entries[0].problem : "(none)");
		fail();
	}
	sig_manifest_free(m);
	free(json);
}

/* ---- payload ---- */

static void test_payload_cosign_form(void **state)
{
	struct sig_payload p;

	payload_ok(COSIGN_PAYLOAD, &p);
	assert_string_equal(p.docker_reference, REF);
	assert_string_equal(p.manifest_digest, D1);
	assert_null(p.creator);
	assert_false(p.has_timestamp);
	sig_payload_clear(&p);
	assert_null(p.docker_reference);

	payload_ok(CRIT(REF, D1) ",\"optional\":{\"creator\":\"x\",\"timestamp\":1700000000}}", &p);
	assert_string_equal(p.docker_reference, REF);
	assert_string_equal(p.manifest_digest, D1);
	assert_string_equal(p.creator, "x");
	assert_true(p.has_timestamp);
	assert_int_equal(p.timestamp, 1700000000);
	sig_payload_clear(&p);

	/* "optional" absent or empty; unknown optional keys (cosign's free-form
	 * annotations) are ignored, whatever their type. */
	payload_ok(CRIT(REF, D1) "}", &p);
	assert_null(p.creator);
	sig_payload_clear(&p);
	payload_ok(CRIT(REF, D1) ",\"optional\":{\"sig\":[1,{\"a\":null}],\"n\":1.5}}", &p);
	assert_null(p.creator);
	assert_false(p.has_timestamp);
	sig_payload_clear(&p);

	/* Pretty-printed, another key order: the same claims. */
	payload_ok("{\n \"optional\": {\"timestamp\": 0},\n \"critical\": {\n  \"type\": "
		   "\"cosign container image signature\",\n  \"image\": "
		   "{\"docker-manifest-digest\": \"" D2 "\"},\n  \"identity\": "
		   "{\"docker-reference\": \"busybox\"}\n }\n}\n",
		   &p);
	assert_string_equal(p.docker_reference, "busybox"); /* verbatim, not normalised */
	assert_string_equal(p.manifest_digest, D2);
	assert_true(p.has_timestamp);
	assert_int_equal(p.timestamp, 0);
	sig_payload_clear(&p);
	sig_payload_clear(NULL);
}

static void test_payload_refusals(void **state)
{
	char big[1100];

	/* Unknown keys anywhere under "critical", and at the top level. */
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF "\"},\"image\":"
		      "{\"docker-manifest-digest\":\"" D1 "\"},\"type\":\"cosign container image "
		      "signature\",\"extra\":1}}",
		      "unknown key \"extra\" in critical");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\",\"docker-digest\":\"x\"},\"image\":{\"docker-manifest-digest\":\"" D1
		      "\"},\"type\":\"cosign container image signature\"}}",
		      "unknown key \"docker-digest\" in critical.identity");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\"},\"image\":{\"docker-manifest-digest\":\"" D1
		      "\",\"tag\":\"latest\"},\"type\":\"cosign container image signature\"}}",
		      "unknown key \"tag\" in critical.image");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":null,\"annotations\":{}}",
		      "unknown key \"annotations\" in the top level");

	/* Missing parts and wrong types. */
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\"},\"image\":{\"docker-manifest-digest\":\"" D1 "\"}}}",
		      "critical.type is missing");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\"},\"image\":{\"docker-manifest-digest\":\"" D1
		      "\"},\"type\":\"atomic container signature\"}}",
		      "type \"atomic container signature\" is not \"cosign container image "
		      "signature\"");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\"},\"image\":{\"docker-manifest-digest\":\"" D1 "\"},\"type\":7}}",
		      "critical.type must be a string");
	payload_bad_s("{\"optional\":null}", "critical is missing");
	payload_bad_s("{\"critical\":[]}", "critical must be an object");
	payload_bad_s("{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" D1
		      "\"},\"type\":\"cosign container image signature\"}}",
		      "critical.identity is missing");
	payload_bad_s("{\"critical\":{\"identity\":\"" REF "\",\"image\":{\"docker-manifest-"
		      "digest\":\"" D1 "\"},\"type\":\"cosign container image signature\"}}",
		      "critical.identity must be an object");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\"},\"type\":\"cosign container image signature\"}}",
		      "critical.image is missing");
	payload_bad_s("{\"critical\":{\"identity\":{},\"image\":{\"docker-manifest-digest\":\"" D1
		      "\"},\"type\":\"cosign container image signature\"}}",
		      "critical.identity.docker-reference is missing");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":null},\"image\":{\"docker-"
		      "manifest-digest\":\"" D1 "\"},\"type\":\"cosign container image "
		      "signature\"}}",
		      "docker-reference must be a string");

	/* Digests: only "sha256:" and 64 lowercase hex digits, nothing after. */
	payload_bad_s(CRIT(REF, "sha256:" HEX1 "1") "}", "is not a sha256 digest");
	payload_bad_s(
	    CRIT(REF,
		 "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") "}",
	    "is not a sha256 digest");
	payload_bad_s(CRIT(REF, "sha512:" HEX1) "}", "is not a sha256 digest");
	payload_bad_s(CRIT(REF, HEX1) "}", "is not a sha256 digest");
	payload_bad_s(CRIT(REF, D1 "\\u0000junk") "}", "must be a string (without NUL)");
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\"},\"image\":{\"docker-manifest-digest\":null},\"type\":\"cosign container "
		      "image signature\"}}",
		      "docker-manifest-digest must be a string");

	/* Duplicate keys: an ambiguity, refused by the parser. */
	payload_bad_s("{\"critical\":{\"identity\":{\"docker-reference\":\"" REF
		      "\",\"docker-reference\":\"evil.io/x\"},\"image\":{\"docker-manifest-"
		      "digest\":\"" D1 "\"},\"type\":\"cosign container image signature\"}}",
		      "duplicate object key");
	payload_bad_s(CRIT(REF, D1) ",\"critical\":{}}", "duplicate object key");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":{\"creator\":\"a\",\"creator\":\"b\"}}",
		      "duplicate object key");

	/* "optional": only absent, null or an object; typed known keys. */
	payload_bad_s(CRIT(REF, D1) ",\"optional\":[]}", "optional must be an object or null");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":\"x\"}", "optional must be an object or null");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":{\"timestamp\":1700000000.0}}",
		      "optional.timestamp must be an integer");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":{\"timestamp\":1.7e9}}",
		      "optional.timestamp must be an integer");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":{\"timestamp\":\"1700000000\"}}",
		      "optional.timestamp must be an integer");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":{\"creator\":7}}",
		      "optional.creator must be a string");
	payload_bad_s(CRIT(REF, D1) ",\"optional\":{\"creator\":\"a\\u001b[2J\"}}",
		      "optional.creator contains a control character");

	/* The reference: non-empty, at most 1024 bytes, no control characters. */
	payload_bad_s(CRIT("", D1) "}", "docker-reference is empty");
	payload_bad_s(CRIT("a\\nb", D1) "}", "docker-reference contains a control character");
	payload_bad_s(CRIT("a\\u007fb", D1) "}", "docker-reference contains a control character");
	payload_bad_s(CRIT("a\\u0000b", D1) "}", "must be a string (without NUL)");
	memset(big, 'a', sizeof(big));
	{
		char *json = NULL;
		struct sig_payload p;

		assert_true(asprintf(&json, CRIT("%.1025s", D1) "}", big) > 0);
		payload_bad_s(json, "docker-reference is longer than 1024 bytes");
		free(json);
		assert_true(asprintf(&json, CRIT("%.1024s", D1) "}", big) > 0);
		payload_ok(json, &p);
		assert_int_equal(strlen(p.docker_reference), 1024);
		sig_payload_clear(&p);
		free(json);
	}

	/* Not JSON, not an object, trailing garbage. */
	payload_bad_s("not json", "signature payload:1:");
	payload_bad_s("", "signature payload:");
	payload_bad_s("[1]", "not a JSON object");
	payload_bad_s(COSIGN_PAYLOAD "{}", "signature payload:1:");
}

static void test_payload_size_cap(void **state)
{
	size_t n = SIG_PAYLOAD_MAX + 1, body = strlen(COSIGN_PAYLOAD);
	char *buf = malloc(n);
	struct sig_payload p;
	struct err *err = NULL;

	assert_non_null(buf);
	/* Exactly at the cap (padded with JSON whitespace): decodes. */
	memcpy(buf, COSIGN_PAYLOAD, body);
	memset(buf + body, ' ', n - body);
	assert_int_equal(sig_payload_decode(buf, SIG_PAYLOAD_MAX, &p, &err), 0);
	assert_string_equal(p.docker_reference, REF);
	sig_payload_clear(&p);
	/* One byte over: refused before parsing. */
	payload_bad(buf, n, E2BIG, "payload is 131073 bytes (at most 131072)");
	payload_bad(buf, 104857600, E2BIG, "payload is 104857600 bytes (at most 131072)");
	free(buf);
}

static void test_payload_encode_exact(void **state)
{
	struct err *err = NULL;
	char *s = NULL;
	size_t len = 0;

	assert_int_equal(sig_payload_encode(REF, D1, "moat", 1700000000, &s, &len, &err), 0);
	assert_string_equal(s, CRIT(REF, D1) ",\"optional\":{\"creator\":\"moat\","
					     "\"timestamp\":1700000000}}");
	assert_int_equal(len, strlen(s));
	free(s);

	assert_int_equal(sig_payload_encode(REF, D1, NULL, -1, &s, &len, &err), 0);
	assert_string_equal(s, CRIT(REF, D1) ",\"optional\":{}}");
	assert_int_equal(len, strlen(s));
	free(s);

	assert_int_equal(sig_payload_encode(REF, D1, "c", -5, &s, &len, &err), 0);
	assert_string_equal(s, CRIT(REF, D1) ",\"optional\":{\"creator\":\"c\"}}");
	free(s);

	assert_int_equal(sig_payload_encode(REF, D1, NULL, 0, &s, &len, &err), 0);
	assert_string_equal(s, CRIT(REF, D1) ",\"optional\":{\"timestamp\":0}}");
	free(s);

	/* JSON escaping of a quote and a backslash. */
	assert_int_equal(sig_payload_encode("a\"b\\c", D1, "x/y", 1, &s, &len, &err), 0);
	assert_string_equal(s, CRIT("a\\\"b\\\\c", D1) ",\"optional\":{\"creator\":\"x/y\","
						       "\"timestamp\":1}}");
	free(s);
	assert_null(err);
}

static void encode_bad(const char *ref, const char *dg, const char *creator, const char *msg)
{
	struct err *err = NULL;
	char *s = NULL;
	size_t len = 0;

	assert_int_equal(sig_payload_encode(ref, dg, creator, 1, &s, &len, &err), -EINVAL);
	assert_null(s);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("want \"%s\", got \"%s\"\n", msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_payload_encode_refusals(void **state)
{
	char big[1026];

	encode_bad(REF, "sha256:" HEX1 "1", NULL, "is not a sha256 digest");
	encode_bad(REF, "sha256:ABC", NULL, "is not a sha256 digest");
	encode_bad(REF, NULL, NULL, "is not a sha256 digest");
	encode_bad("", D1, NULL, "docker-reference is empty");
	encode_bad(NULL, D1, NULL, "no docker-reference");
	encode_bad("a\tb", D1, NULL, "docker-reference contains a control character");
	encode_bad("a\xff", D1, NULL, "docker-reference is not valid UTF-8");
	encode_bad("a\xc0\xaf", D1, NULL, "docker-reference is not valid UTF-8"); /* overlong */
	encode_bad("a\xed\xa0\x80", D1, NULL,
		   "docker-reference is not valid UTF-8"); /* surrogate */
	encode_bad(REF, D1, "\x1b[31m", "creator contains a control character");
	encode_bad(REF, D1, "\xe2\x82", "creator is not valid UTF-8");
	memset(big, 'r', 1025);
	big[1025] = 0;
	encode_bad(big, D1, NULL, "docker-reference is longer than 1024 bytes");
}

static void round_trip(const char *ref, const char *dg, const char *creator, int64_t ts)
{
	struct sig_payload p;
	struct err *err = NULL;
	char *s = NULL;
	size_t len = 0;

	assert_int_equal(sig_payload_encode(ref, dg, creator, ts, &s, &len, &err), 0);
	assert_int_equal(sig_payload_decode(s, len, &p, &err), 0);
	assert_string_equal(p.docker_reference, ref);
	assert_string_equal(p.manifest_digest, dg);
	if (creator)
		assert_string_equal(p.creator, creator);
	else
		assert_null(p.creator);
	assert_int_equal(p.has_timestamp, ts >= 0);
	if (ts >= 0)
		assert_int_equal(p.timestamp, ts);
	sig_payload_clear(&p);
	free(s);
}

static void test_payload_round_trip(void **state)
{
	round_trip(REF, D1, NULL, -1);
	round_trip(REF, D2, "moat 1.0", 1700000000);
	round_trip("docker.io/library/busybox@" D1, D1, "", 0);
	round_trip("r\xc3\xa9g.example/\xe2\x82\xac/\xf0\x9f\x90\xb3:\"tag\"\\", D1,
		   "\xe6\x97\xa5\xe6\x9c\xac", INT64_MAX);
}

/* ---- signature manifests ---- */

static void test_manifest_one_and_several(void **state)
{
	struct sig_manifest *m;
	char *json;
	char d[72];

	json = manifest_n(1);
	m = manifest_ok(json, OCI_MT);
	assert_int_equal(m->n, 1);
	dig(d, 1);
	assert_string_equal(m->entries[0].digest, d);
	assert_int_equal(m->entries[0].size, 201);
	assert_string_equal(m->entries[0].signature, SIG);
	assert_false(m->entries[0].has_certificate);
	assert_null(m->entries[0].problem);
	sig_manifest_free(m);
	/* Served without a media type, and a document without mediaType. */
	m = manifest_ok(json, NULL);
	assert_int_equal(m->n, 1);
	sig_manifest_free(m);
	free(json);
	m = manifest_ok("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[]}", OCI_MT);
	assert_int_equal(m->n, 0);
	sig_manifest_free(m);

	json = manifest_n(3);
	m = manifest_ok(json, OCI_MT);
	assert_int_equal(m->n, 3);
	for (unsigned i = 0; i < 3; i++) {
		dig(d, i + 1);
		assert_string_equal(m->entries[i].digest, d);
		assert_int_equal(m->entries[i].size, 201 + i);
		assert_string_equal(m->entries[i].signature, SIG);
		assert_null(m->entries[i].problem);
	}
	sig_manifest_free(m);
	free(json);
	sig_manifest_free(NULL);
}

static void test_manifest_entry_problems(void **state)
{
	struct sig_manifest *m;
	char *json, *sig1024, *sig1025, *layer = NULL;
	unsigned char raw[1026];

#define LAYER(mt, size, ann) \
	"{\"mediaType\":\"" mt "\",\"size\":" #size ",\"digest\":\"" D1 "\"" ann "}"
#define SS "application/vnd.dev.cosign.simplesigning.v1+json"
#define ANN(v) ",\"annotations\":{\"dev.cosignproject.cosign/signature\":" v "}"

	/* Mixed media types: only the foreign layer has a problem. */
	json = manifest_of(LAYER(SS, 10, ANN("\"" SIG "\"")) "," LAYER(
	    "application/vnd.oci.image.layer.v1.tar", 10,
	    ANN("\"" SIG "\"")) "," LAYER(SS, 11, ANN("\"" SIG2 "\"")));
	m = manifest_ok(json, OCI_MT);
	assert_int_equal(m->n, 3);
	assert_null(m->entries[0].problem);
	assert_string_equal(m->entries[1].problem, "media type "
						   "\"application/vnd.oci.image.layer.v1.tar\" is "
						   "not a simple-signing payload");
	assert_string_equal(m->entries[1].signature, SIG);
	assert_null(m->entries[2].problem);
	assert_string_equal(m->entries[2].signature, SIG2);
	sig_manifest_free(m);
	free(json);

	one_entry_problem("{\"size\":1,\"digest\":\"" D1 "\"" ANN("\"" SIG "\"") "}",
			  "layer has no media type");
	one_entry_problem("{\"mediaType\":\"x\\u001b]0;\",\"size\":1,\"digest\":\"" D1 "\"}",
			  "media type \"x?]0;\" is not a simple-signing payload");
	/* Payload size: at the cap fine, over it a problem. */
	one_entry_problem(LAYER(SS, 131072, ANN("\"" SIG "\"")), NULL);
	one_entry_problem(LAYER(SS, 131073, ANN("\"" SIG "\"")),
			  "payload is 131073 bytes (at most 131072)");
	one_entry_problem(LAYER(SS, 9000000000000, ANN("\"" SIG "\"")),
			  "payload is 9000000000000 bytes (at most 131072)");
	/* The annotation: missing, not a string, not base64. */
	one_entry_problem(LAYER(SS, 1, ""), "no dev.cosignproject.cosign/signature annotation");
	one_entry_problem(LAYER(SS, 1, ",\"annotations\":null"),
			  "no dev.cosignproject.cosign/signature annotation");
	one_entry_problem(LAYER(SS, 1, ",\"annotations\":{}"),
			  "no dev.cosignproject.cosign/signature annotation");
	one_entry_problem(LAYER(SS, 1, ",\"annotations\":[]"), "\"annotations\" is not an object");
	one_entry_problem(LAYER(SS, 1, ANN("7")), "signature annotation is not valid base64");
	one_entry_problem(LAYER(SS, 1, ANN("\"\"")), "signature annotation is not valid base64");
	one_entry_problem(LAYER(SS, 1, ANN("\"MEUC*QDx\"")),
			  "signature annotation is not valid base64");
	one_entry_problem(LAYER(SS, 1, ANN("\"MEUCIQD\"")),
			  "signature annotation is not valid base64");
	one_entry_problem(LAYER(SS, 1, ANN("\"MEUC\\nIQDx\"")),
			  "signature annotation is not valid base64");
	one_entry_problem(LAYER(SS, 1, ANN("\"MEUCIQDx\\u0000AAA\"")),
			  "signature annotation is not valid base64");

	/* Decoded length: 1024 bytes fine, 1025 a problem (both with and
	 * without padding at the end). */
	memset(raw, 0x30, sizeof(raw));
	sig1024 = base64_encode(raw, 1024);
	sig1025 = base64_encode(raw, 1025);
	assert_true(asprintf(&layer, LAYER(SS, 1, ANN("\"%s\"")), sig1024) > 0);
	one_entry_problem(layer, NULL);
	free(layer);
	assert_true(asprintf(&layer, LAYER(SS, 1, ANN("\"%s\"")), sig1025) > 0);
	one_entry_problem(layer, "signature is 1025 bytes (at most 1024)");
	free(layer);
	free(sig1025);
	sig1025 = base64_encode(raw, 1026);
	assert_true(asprintf(&layer, LAYER(SS, 1, ANN("\"%s\"")), sig1025) > 0);
	one_entry_problem(layer, "signature is 1026 bytes (at most 1024)");
	free(layer);
	free(sig1025);
	free(sig1024);

	/* Keyless: decodes, flagged, no problem (the caller decides). */
	json =
	    manifest_of(LAYER(SS, 1,
			      ",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"" SIG
			      "\",\"dev.sigstore.cosign/certificate\":\"-----BEGIN "
			      "CERTIFICATE-----\\n...\",\"dev.sigstore.cosign/bundle\":\"{}\"}"));
	m = manifest_ok(json, NULL);
	assert_int_equal(m->n, 1);
	assert_true(m->entries[0].has_certificate);
	assert_null(m->entries[0].problem);
	assert_string_equal(m->entries[0].signature, SIG);
	sig_manifest_free(m);
	free(json);
#undef LAYER
#undef ANN
#undef SS
}

static void test_manifest_layer_cap(void **state)
{
	char *json = manifest_n(SIG_MAX_LAYERS);
	struct sig_manifest *m = manifest_ok(json, OCI_MT);

	assert_int_equal(m->n, SIG_MAX_LAYERS);
	sig_manifest_free(m);
	free(json);
	json = manifest_n(SIG_MAX_LAYERS + 1);
	manifest_bad(json, strlen(json), OCI_MT, E2BIG, "257 layers, at most 256");
	free(json);
}

static void test_manifest_whole_errors(void **state)
{
	char *big;
	size_t n = SIG_MANIFEST_MAX + 1;

	/* Media types: served and in the document. */
	manifest_bad(COSIGN_PAYLOAD, strlen(COSIGN_PAYLOAD),
		     "application/vnd.docker.distribution.manifest.v2+json", EINVAL,
		     "served as \"application/vnd.docker.distribution.manifest.v2+json\", not an "
		     "OCI image manifest");
	manifest_bad_s("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution."
		       "manifest.v2+json\"," CFG_DESC ",\"layers\":[]}",
		       "mediaType \"application/vnd.docker.distribution.manifest.v2+json\" is not "
		       "an OCI image manifest");
	manifest_bad_s("{\"schemaVersion\":2,\"mediaType\":7," CFG_DESC ",\"layers\":[]}",
		       "mediaType \"(not a string)\"");
	manifest_bad_s("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT "\\u0000x\"," CFG_DESC
		       ",\"layers\":[]}",
		       "is not an OCI image manifest");
	/* Not a manifest. */
	manifest_bad_s("{\"schemaVersion\":1," CFG_DESC ",\"layers\":[]}",
		       "\"schemaVersion\" must be 2");
	manifest_bad_s("{" CFG_DESC ",\"layers\":[]}", "\"schemaVersion\" must be 2");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[],\"manifests\":[]}",
		       "has \"manifests\"");
	manifest_bad_s("{\"schemaVersion\":2,\"layers\":[]}", "config is not an object");
	manifest_bad_s("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"sha256:x\"},"
		       "\"layers\":[]}",
		       "config: \"sha256:x\" is not a sha256 digest");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC "}", "\"layers\" must be an array");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC ",\"layers\":{}}",
		       "\"layers\" must be an array");
	/* A layer that is not a descriptor. */
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[\"x\"]}",
		       "layers[0] is not an object");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC
		       ",\"layers\":[{\"mediaType\":\"x\",\"size\":1}]}",
		       "layers[0] has no \"digest\" string");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[{\"size\":1,\"digest\":\"" D1
		       "\"},{\"size\":1,\"digest\":\"sha256:" HEX1 "\\u0000\"}]}",
		       "layers[1] has no \"digest\" string");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC
		       ",\"layers\":[{\"size\":1,\"digest\":\"sha512:" HEX1 "\"}]}",
		       "layers[0]: \"sha512:" HEX1 "\" is not a sha256 digest");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[{\"size\":-1,\"digest\":\"" D1
		       "\"}]}",
		       "layers[0]: \"size\" must be an integer >= 0");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC
		       ",\"layers\":[{\"size\":1.0,\"digest\":\"" D1 "\"}]}",
		       "layers[0]: \"size\" must be an integer >= 0");
	manifest_bad_s("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[{\"digest\":\"" D1 "\"}]}",
		       "layers[0]: \"size\" must be an integer >= 0");
	/* JSON itself. */
	manifest_bad_s("{\"schemaVersion\":2,\"schemaVersion\":2," CFG_DESC ",\"layers\":[]}",
		       "duplicate object key");
	manifest_bad_s("{", "signature manifest:1:");
	manifest_bad_s("[]", "not a JSON object");
	/* Size: refused before parsing. */
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	manifest_bad(big, n, NULL, E2BIG, "signature manifest is 4194305 bytes (at most 4194304)");
	free(big);
}

/* ---- append ---- */

#define APPENDED_CONFIG                                                                            \
	"{\"architecture\":\"\",\"config\":{},\"created\":\"0001-01-01T00:00:00Z\",\"history\":[{" \
	"\"created\":\"0001-01-01T00:00:00Z\"}],\"os\":\"\",\"rootfs\":{\"type\":\"layers\","      \
	"\"diff_ids\":[\"" DP "\"]}}"
/* The sha256 of APPENDED_CONFIG, computed with Python's hashlib. */
#define APPENDED_CONFIG_DIGEST \
	"sha256:7c98719c5ea5a82fc3ab881c427273caacf1502c72f308c2bdd6edc3ea82df3c"

static void test_append_first(void **state)
{
	char *config = NULL, *manifest = NULL;
	size_t config_len = 0, manifest_len = 0;
	struct sig_manifest *m;
	struct err *err = NULL;

	assert_int_equal(sig_manifest_append(NULL, 0, DP, 233, SIG, &config, &config_len, &manifest,
					     &manifest_len, &err),
			 0);
	assert_string_equal(config, APPENDED_CONFIG);
	assert_int_equal(config_len, strlen(APPENDED_CONFIG));
	assert_string_equal(
	    manifest, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT "\",\"config\":{\"mediaType\":"
		      "\"application/vnd.oci.image.config.v1+json\",\"size\":233,\"digest\":"
		      "\"" APPENDED_CONFIG_DIGEST "\"},\"layers\":[{\"mediaType\":\"application/"
		      "vnd.dev.cosign.simplesigning.v1+json\",\"size\":233,\"digest\":\"" DP "\","
		      "\"annotations\":{\"dev.cosignproject.cosign/signature\":\"" SIG "\"}}]}");
	assert_int_equal(manifest_len, strlen(manifest));
	/* What it built decodes back to the one usable entry. */
	m = manifest_ok(manifest, OCI_MT);
	assert_int_equal(m->n, 1);
	assert_string_equal(m->entries[0].digest, DP);
	assert_int_equal(m->entries[0].size, 233);
	assert_string_equal(m->entries[0].signature, SIG);
	assert_null(m->entries[0].problem);
	sig_manifest_free(m);
	free(config);
	free(manifest);
}

static void test_append_existing(void **state)
{
	static const char *const existing =
	    "{\"schemaVersion\": 2,\n"
	    " \"mediaType\": \"" OCI_MT "\",\n"
	    " \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\", "
	    "\"size\": 10, \"digest\": \"" D2 "\"},\n"
	    " \"layers\": [\n"
	    "  {\"mediaType\": \"application/vnd.dev.cosign.simplesigning.v1+json\", \"size\": 201,"
	    "   \"digest\": \"" D1 "\", \"urls\": [\"https://example.com/x\"],\n"
	    "   \"annotations\": {\"dev.cosignproject.cosign/signature\": \"" SIG "\",\n"
	    "    \"dev.sigstore.cosign/bundle\": \"{\\\"SignedEntryTimestamp\\\":\\\"MEQ=\\\"}\","
	    "    \"org.example/custom\": \"caf\\u00e9\"}},\n"
	    "  {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", \"size\": 0,"
	    "   \"digest\": \"" D2 "\"}\n"
	    " ],\n"
	    " \"annotations\": {\"org.example/top\": \"dropped\"}}\n";
	json_t *old = NULL, *neu = NULL, *cfg = NULL, *ids, *cdesc;
	char *config = NULL, *manifest = NULL, hex[65], want[72];
	size_t config_len = 0, manifest_len = 0;
	struct err *err = NULL;
	json_error_t je;

	assert_int_equal(sig_manifest_append(existing, strlen(existing), DP, 233, SIG2, &config,
					     &config_len, &manifest, &manifest_len, &err),
			 0);
	assert_null(err);
	old = json_loads(existing, 0, &je);
	neu = json_loadb(manifest, manifest_len, 0, &je);
	cfg = json_loadb(config, config_len, 0, &je);
	assert_non_null(old);
	assert_non_null(neu);
	assert_non_null(cfg);
	assert_int_equal(strlen(manifest), manifest_len);
	assert_int_equal(strlen(config), config_len);

	/* The old layers, field for field (urls, bundle, custom annotation),
	 * then the new one. */
	assert_int_equal(json_array_size(json_object_get(neu, "layers")), 3);
	for (size_t i = 0; i < 2; i++)
		assert_true(json_equal(json_array_get(json_object_get(old, "layers"), i),
				       json_array_get(json_object_get(neu, "layers"), i)));
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_array_get(json_object_get(neu, "layers"), 2), "annotations"),
		"dev.cosignproject.cosign/signature")),
	    SIG2);
	assert_null(json_object_get(neu, "annotations"));

	/* diff_ids: every layer's digest, in order. */
	ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	assert_int_equal(json_array_size(ids), 3);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), D1);
	assert_string_equal(json_string_value(json_array_get(ids, 1)), D2);
	assert_string_equal(json_string_value(json_array_get(ids, 2)), DP);

	/* The config descriptor names exactly the config bytes returned. */
	cdesc = json_object_get(neu, "config");
	digest_sha256_hex(config, config_len, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	assert_string_equal(json_string_value(json_object_get(cdesc, "digest")), want);
	assert_int_equal(json_integer_value(json_object_get(cdesc, "size")), config_len);
	assert_string_equal(json_string_value(json_object_get(cdesc, "mediaType")),
			    "application/vnd.oci.image.config.v1+json");
	assert_int_equal(json_integer_value(json_object_get(neu, "schemaVersion")), 2);
	assert_string_equal(json_string_value(json_object_get(neu, "mediaType")), OCI_MT);

	/* Appending again onto the result: the same signature is a no-op. */
	{
		char *c2 = NULL, *m2 = NULL;
		size_t l1 = 7, l2 = 7;

		assert_int_equal(sig_manifest_append(manifest, manifest_len, DP, 233, SIG2, &c2,
						     &l1, &m2, &l2, &err),
				 1);
		assert_null(c2);
		assert_null(m2);
		assert_int_equal(l1, 7);
		assert_int_equal(l2, 7);
		/* Same payload, another signature (another key): appended. */
		assert_int_equal(sig_manifest_append(manifest, manifest_len, DP, 233, SIG, &c2, &l1,
						     &m2, &l2, &err),
				 0);
		assert_non_null(strstr(m2, SIG));
		free(c2);
		free(m2);
	}
	json_decref(old);
	json_decref(neu);
	json_decref(cfg);
	free(config);
	free(manifest);
}

static void append_bad(const char *existing, const char *dg, int64_t size, const char *sig,
		       int code, const char *msg)
{
	char *config = NULL, *manifest = NULL;
	size_t config_len = 0, manifest_len = 0;
	struct err *err = NULL;

	assert_int_equal(sig_manifest_append(existing, existing ? strlen(existing) : 0, dg, size,
					     sig, &config, &config_len, &manifest, &manifest_len,
					     &err),
			 -code);
	assert_null(config);
	assert_null(manifest);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("want \"%s\", got \"%s\"\n", msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_append_refusals(void **state)
{
	char *full = manifest_n(SIG_MAX_LAYERS), *almost = manifest_n(SIG_MAX_LAYERS - 1);
	char *config = NULL, *manifest = NULL, sig1025[1400] = {0}, *s;
	size_t config_len = 0, manifest_len = 0;
	unsigned char raw[1025];
	struct sig_manifest *m;
	struct err *err = NULL;
	char d[72];

	/* The duplicate check looks at every layer, not only the last. */
	dig(d, 1);
	assert_int_equal(sig_manifest_append(almost, strlen(almost), d, 201, SIG, &config,
					     &config_len, &manifest, &manifest_len, &err),
			 1);
	assert_null(manifest);
	/* Up to the cap: fine. */
	assert_int_equal(sig_manifest_append(almost, strlen(almost), DP, 233, SIG, &config,
					     &config_len, &manifest, &manifest_len, &err),
			 0);
	m = manifest_ok(manifest, OCI_MT);
	assert_int_equal(m->n, SIG_MAX_LAYERS);
	assert_string_equal(m->entries[SIG_MAX_LAYERS - 1].digest, DP);
	sig_manifest_free(m);
	free(config);
	free(manifest);
	/* Beyond it: -E2BIG; a duplicate there is still 1 (nothing to push). */
	append_bad(full, DP, 233, SIG, E2BIG, "257 layers, at most 256");
	dig(d, SIG_MAX_LAYERS);
	assert_int_equal(sig_manifest_append(full, strlen(full), d, 1, SIG, &config, &config_len,
					     &manifest, &manifest_len, &err),
			 1);
	free(full);
	free(almost);

	/* The existing document must decode. */
	append_bad("{\"schemaVersion\":2,\"layers\":[]}", DP, 1, SIG, EINVAL,
		   "config is not an object");
	append_bad("nope", DP, 1, SIG, EINVAL, "signature manifest:1:");
	/* Inputs. */
	append_bad(NULL, "sha256:abc", 1, SIG, EINVAL, "is not a sha256 digest");
	append_bad(NULL, NULL, 1, SIG, EINVAL, "is not a sha256 digest");
	append_bad(NULL, DP, -1, SIG, EINVAL, "payload size -1 out of range");
	append_bad(NULL, DP, SIG_PAYLOAD_MAX + 1, SIG, EINVAL, "payload size 131073 out of range");
	append_bad(NULL, DP, 1, "not base64", EINVAL, "not base64");
	append_bad(NULL, DP, 1, "", EINVAL, "not base64");
	append_bad(NULL, DP, 1, NULL, EINVAL, "not base64");
	memset(raw, 1, sizeof(raw));
	s = base64_encode(raw, sizeof(raw));
	assert_non_null(s);
	snprintf(sig1025, sizeof(sig1025), "%s", s);
	free(s);
	append_bad(NULL, DP, 1, sig1025, EINVAL, "at most 1024 bytes");
}

/* ---- tags ---- */

static void test_tag_for(void **state)
{
	char tag[SIG_TAG_LEN];
	struct err *err = NULL;
	static const char *const bad[] = {
	    "sha256:" HEX1 "1",
	    "sha256:1111111111111111111111111111111111111111111111111111111111111",
	    "sha256:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
	    "sha512:" HEX1,
	    HEX1,
	    "sha256-" HEX1,
	    "",
	};

	memset(tag, 'x', sizeof(tag));
	assert_int_equal(sig_tag_for(D1, tag, &err), 0);
	assert_string_equal(tag, "sha256-" HEX1 ".sig");
	assert_int_equal(strlen(tag), SIG_TAG_LEN - 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sig_tag_for(bad[i], tag, &err), -EINVAL);
		assert_non_null(strstr(err->msg, "is not a sha256 digest"));
		err_free(&err);
	}
	assert_int_equal(sig_tag_for(NULL, tag, &err), -EINVAL);
	err_free(&err);
}

/* ---- referrers ---- */

#define OCI_IX "application/vnd.oci.image.index.v1+json"
#define REFD(dg, at) "{\"mediaType\":\"" OCI_MT "\",\"size\":500,\"digest\":\"" dg "\"" at "}"
#define SIG_AT ",\"artifactType\":\"" SIG_ARTIFACT_TYPE "\""

static void referrers_bad(const char *json, size_t len, int code, const char *msg)
{
	char **d = (char **)&d;
	struct err *err = NULL;

	assert_int_equal(sig_referrers_decode(json, len, &d, &err), -code);
	assert_null(d);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("error for %.200s:\n  want \"%s\"\n  got  \"%s\"\n", json, msg,
			    err->msg);
		fail();
	}
	err_free(&err);
}

static void referrers_bad_s(const char *json, const char *msg)
{
	referrers_bad(json, strlen(json), EINVAL, msg);
}

static void test_referrers_mixed(void **state)
{
	static const char *const json =
	    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_IX
	    "\",\"manifests\":[" REFD(D1, SIG_AT) "," REFD(
		D2,
		",\"artifactType\":\"application/"
		"spdx+json\"") "," REFD("sha256:"
					"333333333333333333333333333333333333333333333333333333"
					"3333333333",
					"") "," REFD("sha256:"
						     "44444444444444444444444444444444444444444"
						     "44444444444444444444444",
						     ",\"artifactType\":null") "," REFD(DP, SIG_AT
											",\"ann"
											"otatio"
											"ns\":{"
											"\"a\":"
											"\"b\""
											"}") "," REFD(D1,
												      SIG_AT) "]}";
	char **d = NULL;
	struct err *err = NULL;

	assert_int_equal(sig_referrers_decode(json, strlen(json), &d, &err), 0);
	assert_non_null(d);
	assert_string_equal(d[0], D1);
	assert_string_equal(d[1], DP);
	assert_null(d[2]); /* the repeated D1 is listed once */
	for (char **p = d; *p; p++)
		free(*p);
	free(d);

	/* No referrers at all; no mediaType. */
	{
		static const char *const empty = "{\"schemaVersion\":2,\"manifests\":[]}";

		assert_int_equal(sig_referrers_decode(empty, strlen(empty), &d, &err), 0);
	}
	assert_non_null(d);
	assert_null(d[0]);
	free(d);
}

static void test_referrers_cap(void **state)
{
	struct buf b = {0};
	char **d = NULL, dg[72];
	struct err *err = NULL;
	size_t n = 0;

	add(&b, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_IX "\",\"manifests\":[");
	for (unsigned i = 0; i < SIG_MAX_REFERRERS + 10; i++) {
		dig(dg, i + 1);
		add(&b, "%s{\"mediaType\":\"" OCI_MT "\",\"size\":1,\"digest\":\"%s\"" SIG_AT "}",
		    i ? "," : "", dg);
	}
	add(&b, "]}");
	assert_int_equal(sig_referrers_decode(b.s, b.len, &d, &err), 0);
	for (; d[n]; n++) {
		dig(dg, (unsigned)n + 1);
		assert_string_equal(d[n], dg);
		free(d[n]);
	}
	assert_int_equal(n, SIG_MAX_REFERRERS);
	free(d);
	free(b.s);

	/* Past the cap the entries are still checked. */
	b = (struct buf){0};
	add(&b, "{\"schemaVersion\":2,\"manifests\":[");
	for (unsigned i = 0; i < SIG_MAX_REFERRERS + 1; i++) {
		dig(dg, i + 1);
		add(&b, "{\"mediaType\":\"" OCI_MT "\",\"size\":1,\"digest\":\"%s\"" SIG_AT "},",
		    dg);
	}
	add(&b, "{\"mediaType\":\"" OCI_MT "\",\"size\":1}]}");
	referrers_bad(b.s, b.len, EINVAL, "manifests[65] has no \"digest\" string");
	free(b.s);
}

static void test_referrers_malformed(void **state)
{
	char *big;
	size_t n = SIG_MANIFEST_MAX + 1;

	referrers_bad_s("nope", "referrers index:1:");
	referrers_bad_s("[]", "not a JSON object");
	referrers_bad_s("{\"schemaVersion\":2}", "\"manifests\" must be an array");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":{}}", "\"manifests\" must be an array");
	referrers_bad_s("{\"manifests\":[]}", "\"schemaVersion\" must be 2");
	referrers_bad_s("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT "\",\"manifests\":[]}",
			"is not an OCI image index");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}",
			"has \"layers\" or \"config\"");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":[7]}", "manifests[0] is not an object");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":[" REFD(
			    D1, SIG_AT) ",{\"mediaType\":"
					"\"" OCI_MT "\",\"size\":1,\"digest\":\"sha256:zz\"" SIG_AT
					"}]}",
			"manifests[1]: \"sha256:zz\" is not a sha256 digest");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT
			"\",\"digest\":\"" D1 "\"" SIG_AT "}]}",
			"\"size\" must be an integer >= 0");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":[{\"size\":1,\"digest\":\"" D1
			"\"" SIG_AT "}]}",
			"manifests[0] has no \"mediaType\" string");
	referrers_bad_s(
	    "{\"schemaVersion\":2,\"manifests\":[" REFD(D1, ",\"artifactType\":[]") "]}",
	    "\"artifactType\" must be a string");
	referrers_bad_s("{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}",
			"duplicate object key");
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	referrers_bad(big, n, E2BIG, "referrers index is 4194305 bytes (at most 4194304)");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_payload_cosign_form),
	    cmocka_unit_test(test_payload_refusals),
	    cmocka_unit_test(test_payload_size_cap),
	    cmocka_unit_test(test_payload_encode_exact),
	    cmocka_unit_test(test_payload_encode_refusals),
	    cmocka_unit_test(test_payload_round_trip),
	    cmocka_unit_test(test_manifest_one_and_several),
	    cmocka_unit_test(test_manifest_entry_problems),
	    cmocka_unit_test(test_manifest_layer_cap),
	    cmocka_unit_test(test_manifest_whole_errors),
	    cmocka_unit_test(test_append_first),
	    cmocka_unit_test(test_append_existing),
	    cmocka_unit_test(test_append_refusals),
	    cmocka_unit_test(test_tag_for),
	    cmocka_unit_test(test_referrers_mixed),
	    cmocka_unit_test(test_referrers_cap),
	    cmocka_unit_test(test_referrers_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

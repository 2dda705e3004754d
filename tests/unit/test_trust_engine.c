/*
 * tests/unit/test_trust_engine.c - the engine's trust decisions that need
 * no registry: the store's trust entries (encode, decode, merge, cap),
 * `run`'s re-check of a recorded verification against the policy in force
 * (every branch: signed and accepted, key no longer trusted, scope now
 * rejecting, unsigned admission under a stricter policy, local images and
 * the local key, no record at all, a keyPath gone), the local key (created
 * 0600 once, then reused), and the load admission rule (accepted unsigned,
 * refused, signed with the local key - and that signature verifies).
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "engine/trust.h"
#include "image/image.h"
#include "image/internal.h"
#include "image/sigkey.h"
#include "image/signature.h"
#include "policy/trust.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define SRC "127.0.0.1:5000/signed/app:v1"

static char dir[] = "/tmp/moat-trust-engine-XXXXXX";
static char keypath[256], keypath2[256];
static char fp1[SIGKEY_FP_LEN], fp2[SIGKEY_FP_LEN];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_key(const char *path, char fp[SIGKEY_FP_LEN])
{
	struct sigkey *k = NULL;
	struct err *err = NULL;
	char *pem = NULL;

	assert_int_equal(sigkey_generate(SIGKEY_ECDSA_P256, &k, &err), 0);
	assert_int_equal(sigkey_public_pem(k, &pem, &err), 0);
	write_file(path, pem);
	snprintf(fp, SIGKEY_FP_LEN, "%s", sigkey_fingerprint(k));
	free(pem);
	sigkey_free(k);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(keypath, sizeof(keypath), "%s/a.pub", dir);
	snprintf(keypath2, sizeof(keypath2), "%s/b.pub", dir);
	make_key(keypath, fp1);
	make_key(keypath2, fp2);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct trust_policy *policy(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct trust_policy *policy(const char *fmt, ...)
{
	struct trust_policy *p = NULL;
	struct err *err = NULL;
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (trust_policy_decode(buf, strlen(buf), "p.json", &p, &err) < 0) {
		print_error("policy refused: %s\n", err->msg);
		fail();
	}
	return p;
}

static struct image_trust entry(const char *source, const char *rule, const char *key,
				const char *identity, const char *digest)
{
	struct image_trust t = {0};

	t.source = (char *)source;
	t.rule = (char *)rule;
	t.key = (char *)key;
	t.identity = (char *)identity;
	t.digest = (char *)digest;
	t.signed_at = 1700000000;
	t.verified_at = 1700000001;
	return t;
}

/* check_image's verdict for an image holding T[0..N) under P (root DIR). */
static int check(const struct trust_policy *p, struct image_trust *t, size_t n, char **how,
		 char *msg, size_t msg_len)
{
	struct image img = {0};
	struct err *err = NULL;
	int r;

	img.trust = t;
	img.n_trust = n;
	r = engine_trust_check_image(p, dir, "app", &img, how, &err);
	if (msg)
		snprintf(msg, msg_len, "%s", err ? err->msg : "");
	err_free(&err);
	return r;
}

static void test_record_trust_roundtrip(void **state)
{
	struct store_record r = {0}, back = {0};
	struct image_trust t[2];
	struct err *err = NULL;
	_cleanup_free_ char *txt = NULL;

	(void)state;
	snprintf(r.id, sizeof(r.id), "%s", D1);
	snprintf(r.manifest, sizeof(r.manifest), "%s", D2);
	r.layers = calloc(1, sizeof(*r.layers));
	t[0] = entry(SRC, "sigstoreSigned", fp1, SRC, D2);
	t[1] = entry("", "insecureAcceptAnything", NULL, NULL, D2);
	assert_int_equal(store_record_add_trust(&r, t, 2, &err), 1);
	/* The same decision again only refreshes verified_at. */
	t[0].verified_at = 1800000000;
	assert_int_equal(store_record_add_trust(&r, t, 1, &err), 1);
	assert_int_equal(r.n_trust, 2);
	assert_int_equal(r.trust[0].verified_at, 1800000000);
	assert_int_equal(store_record_add_trust(&r, t, 1, &err), 0);
	assert_int_equal(store_record_encode(&r, &txt, &err), 0);
	assert_int_equal(store_record_decode(txt, strlen(txt), &D1[7], "x.json", &back, &err), 0);
	assert_int_equal(back.n_trust, 2);
	assert_string_equal(back.trust[0].key, fp1);
	assert_string_equal(back.trust[0].identity, SRC);
	assert_int_equal(back.trust[0].signed_at, 1700000000);
	assert_null(back.trust[1].key);
	assert_string_equal(back.trust[1].rule, "insecureAcceptAnything");
	store_record_clear(&back);
	store_record_clear(&r);
}

static void test_record_trust_bad(void **state)
{
	static const char *const bad[] = {
	    /* unknown rule */
	    "{\"id\":\"" D1 "\",\"manifest\":\"" D2 "\",\"layers\":[],\"trust\":[{\"source\":\"x\","
	    "\"rule\":\"trustMe\",\"digest\":\"" D2 "\"}]}",
	    /* a signed rule without a key */
	    "{\"id\":\"" D1 "\",\"manifest\":\"" D2 "\",\"layers\":[],\"trust\":[{\"source\":\"x\","
	    "\"rule\":\"sigstoreSigned\",\"digest\":\"" D2 "\"}]}",
	    /* a bad digest */
	    "{\"id\":\"" D1 "\",\"manifest\":\"" D2 "\",\"layers\":[],\"trust\":[{\"source\":\"x\","
	    "\"rule\":\"insecureAcceptAnything\",\"digest\":\"sha256:00\"}]}",
	    /* not a list */
	    "{\"id\":\"" D1 "\",\"manifest\":\"" D2 "\",\"layers\":[],\"trust\":{}}",
	    /* an entry that is not an object */
	    "{\"id\":\"" D1 "\",\"manifest\":\"" D2 "\",\"layers\":[],\"trust\":[1]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct store_record r = {0};
		struct err *err = NULL;

		assert_true(
		    store_record_decode(bad[i], strlen(bad[i]), &D1[7], "x.json", &r, &err) < 0);
		assert_non_null(err);
		err_free(&err);
	}
}

static void test_record_trust_cap(void **state)
{
	struct store_record r = {0};
	struct err *err = NULL;
	char src[64];

	(void)state;
	for (int i = 0; i < IMAGE_TRUST_MAX + 5; i++) {
		struct image_trust t;

		snprintf(src, sizeof(src), "h/repo%d:v", i);
		t = entry(src, "insecureAcceptAnything", NULL, NULL, D2);
		assert_int_equal(store_record_add_trust(&r, &t, 1, &err), 1);
	}
	assert_int_equal(r.n_trust, IMAGE_TRUST_MAX);
	/* The oldest went. */
	assert_string_equal(r.trust[0].source, "h/repo5:v");
	store_record_clear(&r);
}

static void test_check_signed(void **state)
{
	struct trust_policy *p = policy(
	    "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"127.0.0.1:5000/"
	    "signed\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}}}",
	    keypath);
	struct trust_policy *other = policy(
	    "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"127.0.0.1:5000/"
	    "signed\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}}}",
	    keypath2);
	struct trust_policy *rej = policy(
	    "{\"default\":[{\"type\":\"insecureAcceptAnything\"}],\"transports\":{\"docker\":{"
	    "\"127.0.0.1:5000/signed\":[{\"type\":\"reject\"}]}}}");
	struct image_trust t[1];
	char msg[1024];
	char *how = NULL;

	(void)state;
	t[0] = entry(SRC, "sigstoreSigned", fp1, SRC, D2);
	assert_int_equal(check(p, t, 1, &how, msg, sizeof(msg)), 0);
	assert_non_null(how);
	assert_non_null(strstr(how, "signed by trusted key"));
	free(how);
	how = NULL;
	/* The policy now trusts another key only. */
	assert_int_equal(check(other, t, 1, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "not trusted by the current policy"));
	assert_non_null(strstr(msg, "no signature by a trusted key"));
	/* The scope now rejects: the message names it. */
	assert_int_equal(check(rej, t, 1, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "scope \"127.0.0.1:5000/signed\""));
	/* A signature for another repository never counts. */
	t[0] = entry(SRC, "sigstoreSigned", fp1, "127.0.0.1:5000/other/app:v1", D2);
	assert_int_equal(check(p, t, 1, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "another repository"));
	trust_policy_free(p);
	trust_policy_free(other);
	trust_policy_free(rej);
}

static void test_check_unsigned_and_missing(void **state)
{
	struct trust_policy *acc = policy("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
	struct trust_policy *rej = trust_policy_default_reject();
	struct trust_policy *gone = policy(
	    "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s/missing.pub\"}]}", dir);
	struct image_trust t[1];
	char msg[1024];
	char *how = NULL;

	(void)state;
	t[0] = entry(SRC, "insecureAcceptAnything", NULL, NULL, D2);
	assert_int_equal(check(acc, t, 1, &how, msg, sizeof(msg)), 0);
	free(how);
	how = NULL;
	assert_int_equal(check(rej, t, 1, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "reject"));
	/* No record at all. */
	assert_int_equal(check(acc, NULL, 0, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "no record"));
	/* A keyPath that is gone: the message says so. */
	t[0] = entry(SRC, "sigstoreSigned", fp1, SRC, D2);
	assert_int_equal(check(gone, t, 1, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "missing.pub"));
	trust_policy_free(acc);
	trust_policy_free(rej);
	trust_policy_free(gone);
}

static void test_local_key_and_admit(void **state)
{
	struct trust_policy *rej = trust_policy_default_reject();
	struct trust_policy *acc = policy("{\"default\":[{\"type\":\"reject\"}],\"transports\":{"
					  "\"docker\":{\"docker.io/library/open\":[{\"type\":"
					  "\"insecureAcceptAnything\"}]}}}");
	struct trust_policy *scoped =
	    policy("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"docker.io/"
		   "library/demo\":[{\"type\":\"reject\"}]}}}");
	struct engine_trust_admit a = {.p = rej, .root = dir};
	char *const names[] = {(char *)"demo:latest", NULL};
	char *const open_names[] = {(char *)"open:1", NULL};
	struct image_trust *t = NULL;
	struct sigkey *k = NULL, *k2 = NULL;
	struct err *err = NULL;
	char path[300], lfp[72], msg[1024];
	char *how = NULL;
	struct stat st;
	size_t n = 0;

	(void)state;
	/* Refused: not signed, the policy rejects, no --trust-local. */
	assert_int_equal(engine_trust_admit(&a, D1, D2, names, &t, &n, &err), -EPERM);
	assert_non_null(strstr(err->msg, "--trust-local"));
	assert_int_equal(n, 0);
	assert_non_null(a.decisions);
	assert_non_null(strstr(a.decisions[0], "reject\t"));
	err_free(&err);
	/* Accepted unsigned where the policy says so. */
	a.p = acc;
	assert_int_equal(engine_trust_admit(&a, D1, D2, open_names, &t, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].rule, "insecureAcceptAnything");
	assert_string_equal(t[0].source, "docker.io/library/open:1");
	image_trust_free(t, n);
	t = NULL;
	n = 0;
	/* --trust-local: signed with the local key, created 0600. */
	a.p = rej;
	a.trust_local = true;
	assert_int_equal(engine_trust_admit(&a, D1, D2, names, &t, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].rule, "local");
	snprintf(path, sizeof(path), "%s/trust/local.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(engine_trust_local_fp(dir, lfp, &err), 0);
	assert_string_equal(t[0].key, lfp);
	/* The stored signature verifies over the stored payload. */
	{
		unsigned char *pl = NULL, *sg = NULL;
		size_t pll = 0, sgl = 0;
		struct sig_payload dec = {0};

		assert_true(engine_trust_local_key(dir, &k, &err) >= 0);
		assert_string_equal(sigkey_fingerprint(k), lfp);
		assert_int_equal(base64_decode(t[0].payload, strlen(t[0].payload), &pl, &pll), 0);
		assert_int_equal(base64_decode(t[0].signature, strlen(t[0].signature), &sg, &sgl),
				 0);
		assert_int_equal(sigkey_verify(k, pl, pll, sg, sgl, &err), 0);
		pl[0] ^= 1;
		assert_int_equal(sigkey_verify(k, pl, pll, sg, sgl, &err), -EBADMSG);
		err_free(&err);
		pl[0] ^= 1;
		assert_int_equal(sig_payload_decode(pl, pll, &dec, &err), 0);
		assert_string_equal(dec.manifest_digest, D2);
		sig_payload_clear(&dec);
		free(pl);
		free(sg);
	}
	/* The key is made once: a second load finds the same one. */
	assert_int_equal(engine_trust_local_key(dir, &k2, &err), 0);
	assert_string_equal(sigkey_fingerprint(k2), lfp);
	/* run: accepted under the default policy as a local image ... */
	assert_int_equal(check(rej, t, n, &how, msg, sizeof(msg)), 0);
	assert_non_null(strstr(how, "local key"));
	free(how);
	how = NULL;
	/* ... but not when an explicit scope covers its name ... */
	assert_int_equal(check(scoped, t, n, &how, msg, sizeof(msg)), -EPERM);
	/* ... nor once the local key is another one. */
	free(t[0].key);
	t[0].key = strdup(fp2);
	assert_int_equal(check(rej, t, n, &how, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "another local key"));
	image_trust_free(t, n);
	strvfree(a.decisions);
	sigkey_free(k);
	sigkey_free(k2);
	trust_policy_free(rej);
	trust_policy_free(acc);
	trust_policy_free(scoped);
}

static void test_source(void **state)
{
	char *s = NULL;
	struct err *err = NULL;

	(void)state;
	assert_int_equal(engine_trust_source("busybox", &s, &err), 0);
	assert_string_equal(s, "docker.io/library/busybox:latest");
	free(s);
	assert_int_equal(engine_trust_source("", &s, &err), 0);
	assert_string_equal(s, "");
	free(s);
	assert_true(engine_trust_source("bad ref", &s, &err) < 0);
	err_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_trust_roundtrip),
	    cmocka_unit_test(test_record_trust_bad),
	    cmocka_unit_test(test_record_trust_cap),
	    cmocka_unit_test(test_check_signed),
	    cmocka_unit_test(test_check_unsigned_and_missing),
	    cmocka_unit_test(test_local_key_and_admit),
	    cmocka_unit_test(test_source),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

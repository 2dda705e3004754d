/*
 * tests/unit/test_sigkey.c - image/sigkey.c: the PEM armour parser and its
 * refusals, the key type policy, sign/verify for each key type (and every
 * way a signature can be wrong), PKCS#8 round trips with and without a
 * passphrase, fingerprints (against openssl's), and vectors made by the
 * openssl CLI (tests/unit/data/sigkey/, embedded through fixtures.h, see
 * the README there for the commands).
 *
 * Loads the system's libcrypto.so.3, as moat does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/digest.h"
#include "common/err.h"
#include "image/sigkey.h"

#include "tests/unit/data/sigkey/fixtures.h"

#define MSG fx_msg_txt
#define MSG_LEN (sizeof(fx_msg_txt) - 1)

static const enum sigkey_type all_types[] = {SIGKEY_ECDSA_P256, SIGKEY_ED25519, SIGKEY_RSA};

/* ---- helpers ---- */

static struct sigkey *pub_ok(const char *pem)
{
	struct sigkey *k = NULL;
	struct err *err = NULL;

	if (sigkey_load_public(pem, strlen(pem), "test.pub", &k, &err) < 0) {
		print_error("public key refused: %s\n", err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(k);
	assert_null(err);
	assert_int_equal(sigkey_is_private(k), 0);
	return k;
}

static struct sigkey *priv_ok(const char *pem, const char *pass)
{
	struct sigkey *k = NULL;
	struct err *err = NULL;

	if (sigkey_load_private(pem, strlen(pem), "test.key", pass, &k, &err) < 0) {
		print_error("private key refused: %s\n", err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(k);
	assert_int_equal(sigkey_is_private(k), 1);
	return k;
}

/* ERR by address: read after R's call has filled it. */
static void check_err(int r, struct err **err, int code, const char *want)
{
	assert_int_equal(r, -code);
	assert_non_null(*err);
	if (!strstr((*err)->msg, want)) {
		print_error("want \"%s\"\ngot  \"%s\"\n", want, (*err)->msg);
		fail();
	}
}

static void pub_bad(const char *pem, size_t len, int code, const char *want)
{
	struct sigkey *k = (struct sigkey *)1;
	struct err *err = NULL;
	int r = sigkey_load_public(pem, len, "test.pub", &k, &err);

	assert_null(k);
	check_err(r, &err, code, want);
	err_free(&err);
}

static void priv_bad(const char *pem, const char *pass, int code, const char *want)
{
	struct sigkey *k = (struct sigkey *)1;
	struct err *err = NULL;
	int r = sigkey_load_private(pem, strlen(pem), "test.key", pass, &k, &err);

	assert_null(k);
	check_err(r, &err, code, want);
	err_free(&err);
}

static void decode_bad(const char *buf, size_t len, const char *want)
{
	uint8_t *der = (uint8_t *)1;
	size_t n = 7;
	char label[40];
	struct err *err = NULL;
	int r = sigkey_pem_decode(buf, len, "k.pem", label, &der, &n, &err);

	if (r == 0)
		print_error("accepted: %.200s\n", buf);
	assert_null(der);
	assert_int_equal(n, 0);
	check_err(r, &err, EINVAL, want);
	/* NAME prefixes every error */
	assert_memory_equal(err->msg, "k.pem: ", 7);
	err_free(&err);
}

static void verify_ok(const struct sigkey *k, const void *msg, size_t len, const uint8_t *sig,
		      size_t n)
{
	struct err *err = NULL;

	if (sigkey_verify(k, msg, len, sig, n, &err) < 0) {
		print_error("%s: %s\n", sigkey_describe(k), err->msg);
		err_free(&err);
		fail();
	}
}

static void verify_bad(const struct sigkey *k, const void *msg, size_t len, const uint8_t *sig,
		       size_t n)
{
	struct err *err = NULL;
	char want[128];
	int r = sigkey_verify(k, msg, len, sig, n, &err);

	if (r == 0) {
		print_error("%s: a bad signature of %zu bytes verified\n", sigkey_describe(k), n);
		fail();
	}
	snprintf(want, sizeof(want), "signature does not verify with key %s",
		 sigkey_fingerprint(k));
	check_err(r, &err, EBADMSG, want);
	err_free(&err);
}

static void sign_ok(const struct sigkey *k, const void *msg, size_t len, uint8_t **sig, size_t *n)
{
	struct err *err = NULL;

	if (sigkey_sign(k, msg, len, sig, n, &err) < 0) {
		print_error("%s: %s\n", sigkey_describe(k), err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(*sig);
	assert_true(*n > 0 && *n <= SIGKEY_SIG_MAX);
}

static struct sigkey *gen_ok(enum sigkey_type t)
{
	struct sigkey *k = NULL;
	struct err *err = NULL;

	if (sigkey_generate(t, &k, &err) < 0) {
		print_error("generate %d: %s\n", (int)t, err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(k);
	assert_int_equal(sigkey_get_type(k), t);
	assert_int_equal(sigkey_is_private(k), 1);
	assert_true(digest_valid(sigkey_fingerprint(k)));
	return k;
}

static char *public_pem_ok(const struct sigkey *k)
{
	struct err *err = NULL;
	char *pem = NULL;

	assert_int_equal(sigkey_public_pem(k, &pem, &err), 0);
	assert_non_null(pem);
	return pem;
}

static char *private_pem_ok(const struct sigkey *k, const char *pass)
{
	struct err *err = NULL;
	char *pem = NULL;

	if (sigkey_private_pem(k, pass, &pem, &err) < 0) {
		print_error("%s\n", err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(pem);
	return pem;
}

static char *fp_pem_ok(const char *pem, char fp[SIGKEY_FP_LEN])
{
	struct err *err = NULL;

	if (sigkey_fingerprint_pem(pem, strlen(pem), "test.pub", fp, &err) < 0) {
		print_error("%s\n", err->msg);
		err_free(&err);
		fail();
	}
	return fp;
}

/* A PEM of LABEL around the base64 of DER, for hand-made bodies. */
static char *armour(const char *label, const uint8_t *der, size_t n)
{
	char *b64 = base64_encode(der, n), *out = NULL;

	assert_non_null(b64);
	assert_true(
	    asprintf(&out, "-----BEGIN %s-----\n%s\n-----END %s-----\n", label, b64, label) > 0);
	free(b64);
	return out;
}

static uint8_t *decode_ok(const char *pem, size_t len, char label[40], size_t *n)
{
	uint8_t *der = NULL;
	struct err *err = NULL;

	if (sigkey_pem_decode(pem, len, "k.pem", label, &der, n, &err) < 0) {
		print_error("refused: %s\n", err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(der);
	return der;
}

/* ---- the PEM parser ---- */

static void test_pem_decode_good(void **state)
{
	char label[40], label2[40];
	size_t n, n2;
	uint8_t *der = decode_ok(fx_ec_pub, strlen(fx_ec_pub), label, &n), *der2;
	char *crlf, *w;
	char fp[SIGKEY_FP_LEN];

	assert_string_equal(label, "PUBLIC KEY");
	assert_int_equal(n, 91); /* P-256 SubjectPublicKeyInfo */
	assert_int_equal(der[0], 0x30);

	/* text around the block, CRLF, trailing blanks and blank lines: the
	 * same DER */
	crlf = malloc(2 * strlen(fx_ec_pub) + 64);
	assert_non_null(crlf);
	w = crlf + sprintf(crlf, "comment: before\r\n\r\n");
	for (const char *p = fx_ec_pub; *p; p++) {
		if (*p == '\n') {
			w += sprintf(w, " \t\r\n");
			if (p[1] == 'M' || p[1] == '-')
				w += sprintf(w, "\r\n");
		} else {
			*w++ = *p;
		}
	}
	w += sprintf(w, "trailing text -----BEGIN X-----\n");
	der2 = decode_ok(crlf, (size_t)(w - crlf), label2, &n2);
	assert_string_equal(label2, "PUBLIC KEY");
	assert_int_equal(n2, n);
	assert_memory_equal(der2, der, n);
	free(der2);

	/* the first block is the one */
	{
		char two[2048];

		snprintf(two, sizeof(two), "%s%s", fx_ed25519_pub, fx_ec_pub);
		der2 = decode_ok(two, strlen(two), label2, &n2);
		assert_int_equal(n2, 44); /* Ed25519's, not P-256's */
		free(der2);
	}

	/* a label of digits and spaces, 39 characters */
	{
		const char *p = "-----BEGIN ABCDEFGHIJ KLMNOPQRST UVWXYZ 0123456789-----\n"
				"QUJD\n"
				"-----END ABCDEFGHIJ KLMNOPQRST UVWXYZ 0123456789-----\n";

		der2 = decode_ok(p, strlen(p), label2, &n2);
		assert_int_equal(strlen(label2), 39);
		assert_string_equal(label2, "ABCDEFGHIJ KLMNOPQRST UVWXYZ 0123456789");
		assert_int_equal(n2, 3);
		assert_memory_equal(der2, "ABC", 3);
		free(der2);
	}

	/* the fingerprint is that of the DER, and openssl agrees */
	fp_pem_ok(crlf, fp);
	assert_string_equal(fp, FX_EC_PUB_FP);
	free(crlf);
	free(der);
}

static void test_pem_decode_bad(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", "no \"-----BEGIN \" line"},
	    {"just text\n", "no \"-----BEGIN \" line"},
	    {"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n", "no \"-----BEGIN \" line"},
	    {" -----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----\n",
	     "no \"-----BEGIN \" line"},
	    {"-----BEGIN PUBLIC KEY-----\nQUJD\n", "no \"-----END PUBLIC KEY-----\" line"},
	    {"-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY\n", "malformed \"-----END"},
	    {"-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PRIVATE KEY-----\n",
	     "\"-----END PRIVATE KEY-----\" does not close \"-----BEGIN PUBLIC KEY-----\""},
	    {"-----BEGIN PUBLIC KEY-----\nQUJD\n-----END public key-----\n",
	     "malformed \"-----END"},
	    {"-----BEGIN PUBLIC KEY-----\nQU!D\n-----END PUBLIC KEY-----\n", "bad base64"},
	    {"-----BEGIN PUBLIC KEY-----\nQUJDQ\n-----END PUBLIC KEY-----\n", "bad base64"},
	    {"-----BEGIN PUBLIC KEY-----\nQQ==QUJD\n-----END PUBLIC KEY-----\n", "bad base64"},
	    {"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", "is empty"},
	    {"-----BEGIN PUBLIC KEY-----\n\n  \n-----END PUBLIC KEY-----\n", "is empty"},
	    {"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
	     "AES-256-CBC,00\n\nQUJD\n-----END RSA PRIVATE KEY-----\n",
	     "PEM headers (\"Proc-Type:\""},
	    {"-----BEGIN public key-----\nQUJD\n-----END public key-----\n",
	     "not 1 to 39 characters"},
	    {"-----BEGIN Public Key-----\nQUJD\n-----END Public Key-----\n",
	     "not 1 to 39 characters"},
	    {"-----BEGIN PUBLIC-KEY-----\nQUJD\n-----END PUBLIC-KEY-----\n",
	     "not 1 to 39 characters"},
	    {"-----BEGIN -----\nQUJD\n-----END -----\n", "not 1 to 39 characters"},
	    {"-----BEGIN ABCDEFGHIJ KLMNOPQRST UVWXYZ 0123456789A-----\nQUJD\n"
	     "-----END ABCDEFGHIJ KLMNOPQRST UVWXYZ 0123456789A-----\n",
	     "not 1 to 39 characters"},
	    {"-----BEGIN PUBLIC KEY\nQUJD\n-----END PUBLIC KEY-----\n", "malformed \"-----BEGIN"},
	    {"-----BEGIN PUBLIC KEY-----\nQUJD\n-----BEGIN PUBLIC KEY-----\nQUJD\n"
	     "-----END PUBLIC KEY-----\n",
	     "unexpected \"-----\" line"},
	};

	static const char nul[] = "-----BEGIN PUBLIC KEY-----\nQUJD\0\n-----END PUBLIC KEY-----\n";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		decode_bad(cases[i].in, strlen(cases[i].in), cases[i].want);
	/* a NUL is not whitespace */
	decode_bad(nul, sizeof(nul) - 1, "bad base64");

	/* NULL buffer */
	decode_bad(NULL, 0, "no \"-----BEGIN \" line");
}

static void test_pem_decode_size_cap(void **state)
{
	size_t plen = strlen(fx_ec_pub);
	char *buf = malloc(SIGKEY_PEM_MAX + 2), label[40];
	uint8_t *der;
	size_t n;

	assert_non_null(buf);
	/* the key, then comment text up to exactly the cap: accepted */
	memcpy(buf, fx_ec_pub, plen);
	memset(buf + plen, 'x', SIGKEY_PEM_MAX + 1 - plen);
	der = decode_ok(buf, SIGKEY_PEM_MAX, label, &n);
	assert_int_equal(n, 91);
	free(der);
	/* one byte more: refused before anything is parsed */
	decode_bad(buf, SIGKEY_PEM_MAX + 1, "over the limit");
	pub_bad(buf, SIGKEY_PEM_MAX + 1, EINVAL, "over the limit");
	free(buf);
}

static void test_fingerprint_pem(void **state)
{
	char fp[SIGKEY_FP_LEN];
	struct err *err = NULL;

	assert_string_equal(fp_pem_ok(fx_ec_pub, fp), FX_EC_PUB_FP);
	assert_string_equal(fp_pem_ok(fx_ed25519_pub, fp), FX_ED25519_PUB_FP);
	assert_string_equal(fp_pem_ok(fx_rsa2048_pub, fp), FX_RSA2048_PUB_FP);
	/* pure: a refused key type still has a fingerprint */
	assert_string_equal(fp_pem_ok(fx_p384_pub, fp), FX_P384_PUB_FP);

	/* only "PUBLIC KEY" */
	check_err(sigkey_fingerprint_pem(fx_ec_key, strlen(fx_ec_key), "k", fp, &err), &err, EINVAL,
		  "\"PRIVATE KEY\" block is not a public key");
	assert_string_equal(fp, "");
	err_free(&err);
	check_err(sigkey_fingerprint_pem("nope", 4, "k", fp, &err), &err, EINVAL,
		  "no \"-----BEGIN");
	err_free(&err);
}

/* ---- generated keys ---- */

static void flip(uint8_t *b, size_t bit)
{
	b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static void test_generate_sign_verify(void **state)
{
	static const char *const desc[] = {"ecdsa-p256", "ed25519", "rsa-3072"};

	struct sigkey *keys[3], *keys2[3];

	for (size_t t = 0; t < 3; t++) {
		keys[t] = gen_ok(all_types[t]);
		keys2[t] = gen_ok(all_types[t]);
	}
	for (size_t t = 0; t < 3; t++) {
		struct sigkey *k = keys[t], *k2 = keys2[t];
		uint8_t *sig = NULL, *sig2 = NULL, *bad;
		size_t n = 0, n2 = 0;
		char msg[] = "the manifest digest sha256:0123";
		size_t mlen = strlen(msg);

		assert_string_equal(sigkey_describe(k), desc[t]);
		sign_ok(k, msg, mlen, &sig, &n);
		verify_ok(k, msg, mlen, sig, n);
		if (all_types[t] == SIGKEY_ED25519)
			assert_int_equal(n, 64);
		if (all_types[t] == SIGKEY_RSA)
			assert_int_equal(n, 384);

		/* one bit of the message */
		for (size_t bit = 0; bit < mlen * 8; bit += 37) {
			flip((uint8_t *)msg, bit);
			verify_bad(k, msg, mlen, sig, n);
			flip((uint8_t *)msg, bit);
		}
		verify_bad(k, msg, mlen - 1, sig, n);
		verify_bad(k, msg, 0, sig, n);
		verify_ok(k, msg, mlen, sig, n);

		/* one bit of the signature, everywhere */
		bad = malloc(n + 1);
		assert_non_null(bad);
		for (size_t bit = 0; bit < n * 8; bit += (n > 100 ? 29 : 7)) {
			memcpy(bad, sig, n);
			flip(bad, bit);
			verify_bad(k, msg, mlen, bad, n);
		}
		/* truncated, extended, empty, garbage, oversized */
		verify_bad(k, msg, mlen, sig, n - 1);
		verify_bad(k, msg, mlen, sig, 1);
		verify_bad(k, msg, mlen, sig, 0);
		verify_bad(k, msg, mlen, NULL, 0);
		memcpy(bad, sig, n);
		bad[n] = 0;
		verify_bad(k, msg, mlen, bad, n + 1);
		memset(bad, 0, n);
		verify_bad(k, msg, mlen, bad, n);
		memset(bad, 0xff, n);
		verify_bad(k, msg, mlen, bad, n);
		free(bad);
		bad = calloc(1, SIGKEY_SIG_MAX + 1);
		assert_non_null(bad);
		memcpy(bad, sig, n);
		verify_bad(k, msg, mlen, bad, SIGKEY_SIG_MAX + 1);
		free(bad);

		/* another key of the same type, and keys of the other types */
		assert_string_not_equal(sigkey_fingerprint(k), sigkey_fingerprint(k2));
		verify_bad(k2, msg, mlen, sig, n);
		sign_ok(k2, msg, mlen, &sig2, &n2);
		verify_bad(k, msg, mlen, sig2, n2);
		verify_ok(k2, msg, mlen, sig2, n2);
		for (size_t o = 0; o < 3; o++)
			if (o != t)
				verify_bad(keys[o], msg, mlen, sig, n);

		/* the empty message signs and verifies */
		free(sig2);
		sign_ok(k, "", 0, &sig2, &n2);
		verify_ok(k, "", 0, sig2, n2);
		verify_ok(k, NULL, 0, sig2, n2);
		verify_bad(k, "x", 1, sig2, n2);

		free(sig);
		free(sig2);
	}
	for (size_t t = 0; t < 3; t++) {
		sigkey_free(keys[t]);
		sigkey_free(keys2[t]);
	}
}

static void test_generate_bad_type(void **state)
{
	struct sigkey *k = (struct sigkey *)1;
	struct err *err = NULL;

	check_err(sigkey_generate((enum sigkey_type)7, &k, &err), &err, EINVAL,
		  "unknown key type 7");
	assert_null(k);
	err_free(&err);
}

/* public_pem -> load_public: same fingerprint, verifies, cannot sign;
 * and fingerprint(load_public(pem)) == fingerprint_pem(pem). */
static void test_public_round_trip(void **state)
{
	for (size_t t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
		struct sigkey *k = gen_ok(all_types[t]), *pub;
		char *pem = public_pem_ok(k), fp[SIGKEY_FP_LEN];
		uint8_t *sig = NULL;
		size_t n = 0;
		struct err *err = NULL;

		assert_memory_equal(pem, "-----BEGIN PUBLIC KEY-----\n", 27);
		pub = pub_ok(pem);
		assert_string_equal(sigkey_fingerprint(pub), sigkey_fingerprint(k));
		assert_string_equal(fp_pem_ok(pem, fp), sigkey_fingerprint(pub));
		assert_string_equal(sigkey_describe(pub), sigkey_describe(k));
		assert_int_equal(sigkey_get_type(pub), all_types[t]);

		sign_ok(k, MSG, MSG_LEN, &sig, &n);
		verify_ok(pub, MSG, MSG_LEN, sig, n);
		free(sig);
		sig = (uint8_t *)1;
		check_err(sigkey_sign(pub, MSG, MSG_LEN, &sig, &n, &err), &err, EINVAL,
			  "is a public key");
		assert_null(sig);
		err_free(&err);
		{
			char *priv = (char *)1;

			check_err(sigkey_private_pem(pub, NULL, &priv, &err), &err, EINVAL,
				  "has no private half");
			assert_null(priv);
			err_free(&err);
		}
		/* a public key is not a private key, nor the other way round */
		priv_bad(pem, NULL, EINVAL, "\"PUBLIC KEY\" block is not a private key");
		free(pem);
		pem = private_pem_ok(k, NULL);
		pub_bad(pem, strlen(pem), EINVAL, "is a private key");
		free(pem);
		sigkey_free(pub);
		sigkey_free(k);
	}
}

static void test_private_round_trip(void **state)
{
	for (size_t t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
		struct sigkey *k = gen_ok(all_types[t]), *back;
		char *enc = private_pem_ok(k, "correct horse"), *plain = private_pem_ok(k, NULL);
		char *pem = (char *)1;
		uint8_t *sig = NULL;
		size_t n = 0;
		struct err *err = NULL;

		assert_memory_equal(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38);
		assert_memory_equal(plain, "-----BEGIN PRIVATE KEY-----\n", 28);

		/* the right passphrase: the same key, it signs for the original */
		back = priv_ok(enc, "correct horse");
		assert_string_equal(sigkey_fingerprint(back), sigkey_fingerprint(k));
		assert_string_equal(sigkey_describe(back), sigkey_describe(k));
		sign_ok(back, MSG, MSG_LEN, &sig, &n);
		verify_ok(k, MSG, MSG_LEN, sig, n);
		free(sig);
		sigkey_free(back);

		/* wrong, missing, and near-miss passphrases */
		priv_bad(enc, "correct horsf", EACCES, "wrong passphrase or corrupt key");
		priv_bad(enc, "correct hors", EACCES, "wrong passphrase or corrupt key");
		priv_bad(enc, "", EACCES, "wrong passphrase or corrupt key");
		priv_bad(enc, NULL, EINVAL, "needs a passphrase");

		/* unencrypted: loads without a passphrase (one given is unused) */
		back = priv_ok(plain, NULL);
		assert_string_equal(sigkey_fingerprint(back), sigkey_fingerprint(k));
		sigkey_free(back);
		back = priv_ok(plain, "ignored");
		assert_string_equal(sigkey_fingerprint(back), sigkey_fingerprint(k));
		sigkey_free(back);

		/* an empty passphrase is refused when writing */
		check_err(sigkey_private_pem(k, "", &pem, &err), &err, EINVAL, "empty passphrase");
		assert_null(pem);
		err_free(&err);

		free(enc);
		free(plain);
		sigkey_free(k);
	}
}

/* A corrupted ciphertext is reported like a wrong passphrase. */
static void test_private_corrupt(void **state)
{
	struct sigkey *k = gen_ok(SIGKEY_ED25519);
	char *enc = private_pem_ok(k, "pw"), label[40], *pem;
	uint8_t *der;
	size_t n;

	der = decode_ok(enc, strlen(enc), label, &n);
	/* The ciphertext ends the DER: 48 bytes of PKCS#8 and 16 of padding,
	 * in 4 AES blocks. A byte of its first block garbles the plaintext's
	 * DER header and leaves the padding intact: decryption "works", the
	 * key does not parse. */
	der[n - 60] ^= 0x40;
	pem = armour(label, der, n);
	priv_bad(pem, "pw", EACCES, "wrong passphrase or corrupt key");
	free(pem);
	/* the structure cut short */
	pem = armour(label, der, n - 20);
	priv_bad(pem, "pw", EINVAL, "malformed encrypted private key");
	free(pem);
	free(der);
	free(enc);
	sigkey_free(k);
}

/* ---- fixed vectors from the openssl CLI ---- */

static void test_fixture_signatures(void **state)
{
	struct sigkey *ec = pub_ok(fx_ec_pub), *ed = pub_ok(fx_ed25519_pub);
	struct sigkey *rsa = pub_ok(fx_rsa2048_pub);
	uint8_t bad[600];

	assert_string_equal(sigkey_describe(ec), "ecdsa-p256");
	assert_string_equal(sigkey_describe(ed), "ed25519");
	assert_string_equal(sigkey_describe(rsa), "rsa-2048");
	assert_int_equal(sigkey_get_type(ec), SIGKEY_ECDSA_P256);
	assert_int_equal(sigkey_get_type(ed), SIGKEY_ED25519);
	assert_int_equal(sigkey_get_type(rsa), SIGKEY_RSA);

	/* openssl's fingerprints, from the loaded key and from the text */
	assert_string_equal(sigkey_fingerprint(ec), FX_EC_PUB_FP);
	assert_string_equal(sigkey_fingerprint(ed), FX_ED25519_PUB_FP);
	assert_string_equal(sigkey_fingerprint(rsa), FX_RSA2048_PUB_FP);

	verify_ok(ec, MSG, MSG_LEN, fx_ec_sig, sizeof(fx_ec_sig));
	verify_ok(ed, MSG, MSG_LEN, fx_ed25519_sig, sizeof(fx_ed25519_sig));
	verify_ok(rsa, MSG, MSG_LEN, fx_rsa2048_sig, sizeof(fx_rsa2048_sig));

	/* each signature with the other keys */
	verify_bad(ec, MSG, MSG_LEN, fx_ed25519_sig, sizeof(fx_ed25519_sig));
	verify_bad(ec, MSG, MSG_LEN, fx_rsa2048_sig, sizeof(fx_rsa2048_sig));
	verify_bad(ed, MSG, MSG_LEN, fx_ec_sig, sizeof(fx_ec_sig));
	verify_bad(rsa, MSG, MSG_LEN, fx_ec_sig, sizeof(fx_ec_sig));

	/* the message without its newline */
	verify_bad(ec, MSG, MSG_LEN - 1, fx_ec_sig, sizeof(fx_ec_sig));
	verify_bad(ed, MSG, MSG_LEN - 1, fx_ed25519_sig, sizeof(fx_ed25519_sig));
	verify_bad(rsa, MSG, MSG_LEN - 1, fx_rsa2048_sig, sizeof(fx_rsa2048_sig));

	/* ECDSA: DER and nothing else (a trailing byte, BER long length) */
	memcpy(bad, fx_ec_sig, sizeof(fx_ec_sig));
	bad[sizeof(fx_ec_sig)] = 0;
	verify_bad(ec, MSG, MSG_LEN, bad, sizeof(fx_ec_sig) + 1);
	bad[0] = 0x30;
	bad[1] = 0x81;
	memcpy(bad + 2, fx_ec_sig + 1, sizeof(fx_ec_sig) - 1);
	verify_bad(ec, MSG, MSG_LEN, bad, sizeof(fx_ec_sig) + 1);
	/* the raw r||s form is not DER */
	memset(bad, 0x11, 64);
	verify_bad(ec, MSG, MSG_LEN, bad, 64);
	/* RSA: exactly the modulus size */
	bad[0] = 0;
	memcpy(bad + 1, fx_rsa2048_sig, sizeof(fx_rsa2048_sig));
	verify_bad(rsa, MSG, MSG_LEN, bad, sizeof(fx_rsa2048_sig) + 1);
	/* Ed25519: exactly 64 bytes */
	verify_bad(ed, MSG, MSG_LEN, fx_ed25519_sig, 63);

	sigkey_free(ec);
	sigkey_free(ed);
	sigkey_free(rsa);
}

static void test_fixture_private_keys(void **state)
{
	static const struct {
		const char *key, *pub;
	} pairs[] = {
	    {fx_ec_key, fx_ec_pub},
	    {fx_ed25519_key, fx_ed25519_pub},
	    {fx_rsa2048_key, fx_rsa2048_pub},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct sigkey *k = priv_ok(pairs[i].key, NULL), *pub = pub_ok(pairs[i].pub);
		char *pem = public_pem_ok(k);
		uint8_t *sig = NULL;
		size_t n = 0;

		/* the public half of openssl's private key is openssl's public
		 * key, byte for byte */
		assert_string_equal(sigkey_fingerprint(k), sigkey_fingerprint(pub));
		assert_string_equal(pem, pairs[i].pub);
		sign_ok(k, MSG, MSG_LEN, &sig, &n);
		verify_ok(pub, MSG, MSG_LEN, sig, n);
		free(sig);
		free(pem);
		sigkey_free(k);
		sigkey_free(pub);
	}
}

static void test_fixture_encrypted(void **state)
{
	struct sigkey *k;

	/* PBES2 + PBKDF2, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes */
	k = priv_ok(fx_ec_enc_key, FIXTURE_PASS);
	assert_string_equal(sigkey_fingerprint(k), FX_EC_PUB_FP);
	sigkey_free(k);
	priv_bad(fx_ec_enc_key, "fixture-Pass", EACCES, "wrong passphrase or corrupt key");
	priv_bad(fx_ec_enc_key, NULL, EINVAL, "needs a passphrase");

	/* PBES2 + scrypt */
	k = priv_ok(fx_ed25519_scrypt_key, FIXTURE_PASS);
	assert_string_equal(sigkey_fingerprint(k), FX_ED25519_PUB_FP);
	sigkey_free(k);
	priv_bad(fx_ed25519_scrypt_key, "nope", EACCES, "wrong passphrase or corrupt key");

	/* over the cost caps: refused before deriving, whatever the passphrase */
	priv_bad(fx_ec_iter_key, FIXTURE_PASS, EINVAL,
		 "PBKDF2 with 6000000 iterations: at most 5000000");
	priv_bad(fx_ed25519_scrypt_p_key, FIXTURE_PASS, EINVAL,
		 "scrypt with N=16384 r=8 p=64: N*r*p at most 4194304");
	/* PBES1 */
	priv_bad(fx_ec_pbes1_key, FIXTURE_PASS, EINVAL, "only PBES2 is supported");
}

static void test_fixture_refused(void **state)
{
	const char *p384 = "key is ecdsa on secp384r1: only P-256 is supported";
	const char *r1024 = "RSA key of 1024 bits: at least 2048";
	const char *cert = "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n";

	pub_bad(fx_p384_pub, strlen(fx_p384_pub), EINVAL, p384);
	priv_bad(fx_p384_key, NULL, EINVAL, p384);
	pub_bad(fx_rsa1024_pub, strlen(fx_rsa1024_pub), EINVAL, r1024);
	priv_bad(fx_rsa1024_key, NULL, EINVAL, r1024);
	pub_bad(fx_dsa_pub, strlen(fx_dsa_pub), EINVAL, "key is dsa: only");
	priv_bad(fx_dsa_key, NULL, EINVAL, "key is dsa: only");
	pub_bad(fx_x25519_pub, strlen(fx_x25519_pub), EINVAL, "key is x25519: only");
	priv_bad(fx_x25519_key, NULL, EINVAL, "key is x25519: only");

	/* legacy private key forms */
	priv_bad(fx_ec_legacy_key, NULL, EINVAL,
		 "\"EC PRIVATE KEY\" is a legacy key format: convert it to PKCS#8 with `openssl "
		 "pkcs8 -topk8");
	priv_bad(fx_rsa_legacy_enc_key, FIXTURE_PASS, EINVAL, "\"Proc-Type:\"");
	priv_bad(fx_rsa_legacy_enc_key, FIXTURE_PASS, EINVAL, "openssl pkcs8 -topk8");
	/* not a key at all */
	priv_bad(cert, NULL, EINVAL, "\"CERTIFICATE\" block is not a private key");
	pub_bad(cert, strlen(cert), EINVAL, "\"CERTIFICATE\" block is not a public key");
	/* the armour errors come through with the file name */
	pub_bad("garbage", 7, EINVAL, "test.pub: no \"-----BEGIN");
	priv_bad("garbage", NULL, EINVAL, "test.key: no \"-----BEGIN");
}

/* DER that is not exactly one canonical SubjectPublicKeyInfo. */
static void test_public_bad_der(void **state)
{
	char label[40], *pem;
	size_t n;
	uint8_t *der = decode_ok(fx_ec_pub, strlen(fx_ec_pub), label, &n), *alt;
	char fp[SIGKEY_FP_LEN];

	alt = malloc(n + 2);
	assert_non_null(alt);

	/* a byte after it */
	memcpy(alt, der, n);
	alt[n] = 0;
	pem = armour("PUBLIC KEY", alt, n + 1);
	pub_bad(pem, strlen(pem), EINVAL, "data after the public key");
	free(pem);

	/* the same key with a BER long-form length: a different
	 * fingerprint_pem, so it must not load (or the two would disagree) */
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[1], 0x59);
	alt[0] = 0x30;
	alt[1] = 0x81;
	memcpy(alt + 2, der + 1, n - 1);
	pem = armour("PUBLIC KEY", alt, n + 1);
	assert_string_not_equal(fp_pem_ok(pem, fp), FX_EC_PUB_FP);
	pub_bad(pem, strlen(pem), EINVAL, "test.pub: public key is not in canonical DER form");
	free(pem);

	/* cut short, and a point off the curve */
	pem = armour("PUBLIC KEY", der, n - 1);
	pub_bad(pem, strlen(pem), EINVAL, "not a valid public key");
	free(pem);
	memcpy(alt, der, n);
	alt[n - 1] ^= 1;
	pem = armour("PUBLIC KEY", alt, n);
	pub_bad(pem, strlen(pem), EINVAL, "not a valid public key");
	free(pem);

	/* base64 of garbage */
	pem = armour("PUBLIC KEY", (const uint8_t *)"garbage!", 8);
	pub_bad(pem, strlen(pem), EINVAL, "not a valid public key");
	free(pem);
	free(alt);
	free(der);
}

static void test_private_bad_der(void **state)
{
	char label[40], *pem;
	size_t n;
	uint8_t *der = decode_ok(fx_ed25519_key, strlen(fx_ed25519_key), label, &n), *alt;

	alt = malloc(n + 1);
	assert_non_null(alt);
	memcpy(alt, der, n);
	alt[n] = 0;
	pem = armour("PRIVATE KEY", alt, n + 1);
	priv_bad(pem, NULL, EINVAL, "data after the private key");
	free(pem);
	pem = armour("PRIVATE KEY", der, n - 1);
	priv_bad(pem, NULL, EINVAL, "not a valid PKCS#8 private key");
	free(pem);
	pem = armour("ENCRYPTED PRIVATE KEY", der, n);
	priv_bad(pem, "pw", EINVAL, "malformed encrypted private key");
	free(pem);
	free(alt);
	free(der);
}

/* A PKCS#8 EC key carrying another key's public point: the fingerprint
 * would name a key that never verifies what this one signs. */
static void test_private_mismatched_halves(void **state)
{
	struct sigkey *other = gen_ok(SIGKEY_ECDSA_P256), *k;
	char label[40], olabel[40], *opem = public_pem_ok(other), *pem;
	size_t n, on;
	uint8_t *der = decode_ok(fx_ec_key, strlen(fx_ec_key), label, &n);
	uint8_t *oder = decode_ok(opem, strlen(opem), olabel, &on);

	/* both end with the uncompressed point: 0x04, X, Y */
	assert_int_equal(der[n - 65], 0x04);
	assert_int_equal(oder[on - 65], 0x04);
	pem = armour("PRIVATE KEY", der, n);
	k = priv_ok(pem, NULL); /* untouched, it loads: the armour is right */
	sigkey_free(k);
	free(pem);
	memcpy(der + n - 65, oder + on - 65, 65);
	pem = armour("PRIVATE KEY", der, n);
	priv_bad(pem, NULL, EINVAL, "test.key: the private and public halves do not match");
	free(pem);
	free(der);
	free(oder);
	free(opem);
	sigkey_free(other);
}

static void *load_thread(void *arg)
{
	struct err *err = NULL;
	int r = sigkey_crypto_load(&err);

	err_free(&err);
	return (void *)(intptr_t)r;
}

static void test_crypto_load_threads(void **state)
{
	pthread_t th[8];

	for (size_t i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, load_thread, NULL), 0);
	for (size_t i = 0; i < 8; i++) {
		void *r;

		assert_int_equal(pthread_join(th[i], &r), 0);
		assert_int_equal((intptr_t)r, 0);
	}
	assert_int_equal(sigkey_crypto_load(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_load_threads),
	    cmocka_unit_test(test_pem_decode_good),
	    cmocka_unit_test(test_pem_decode_bad),
	    cmocka_unit_test(test_pem_decode_size_cap),
	    cmocka_unit_test(test_fingerprint_pem),
	    cmocka_unit_test(test_generate_sign_verify),
	    cmocka_unit_test(test_generate_bad_type),
	    cmocka_unit_test(test_public_round_trip),
	    cmocka_unit_test(test_private_round_trip),
	    cmocka_unit_test(test_private_corrupt),
	    cmocka_unit_test(test_fixture_signatures),
	    cmocka_unit_test(test_fixture_private_keys),
	    cmocka_unit_test(test_fixture_encrypted),
	    cmocka_unit_test(test_fixture_refused),
	    cmocka_unit_test(test_public_bad_der),
	    cmocka_unit_test(test_private_bad_der),
	    cmocka_unit_test(test_private_mismatched_halves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

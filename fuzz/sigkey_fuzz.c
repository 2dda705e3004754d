/*
 * fuzz/sigkey_fuzz.c - libFuzzer target for image/sigkey.c: the PEM armour
 * parser (pure) and the DER it hands to libcrypto (loaded with dlopen, as
 * in moat; it is not instrumented, the code around it is).
 *
 * The input is, at once, PEM text for every reader and a signature over a
 * fixed message for three fixed keys (the openssl-made vectors of
 * tests/unit/data/sigkey/, whose files are the seeds).
 *
 * Properties:
 *  - every failure sets an error and returns no output;
 *  - a decoded block has a label of 1 to 39 characters of A-Z, 0-9 and
 *    space and a non-empty DER; sigkey_fingerprint_pem succeeds exactly on
 *    "PUBLIC KEY" blocks, with "sha256:" + sha256 of that DER;
 *  - a public key that loads has the fingerprint sigkey_fingerprint_pem
 *    gives for the text, and its public_pem loads back to it;
 *  - a private key that loads (unencrypted, or with passphrase "fuzz")
 *    signs, the signature verifies with its public half, and both its PEM
 *    forms load back to the same fingerprint;
 *  - Ed25519 and RSA PKCS#1 v1.5 signatures are unique: one of those keys
 *    accepts the input only when it is the vector itself.
 *
 * Seeds (fuzz/corpus/sigkey/): the fixture files (but ed25519-scrypt.key,
 * whose scrypt costs ~50 ms a run), and two keys under this harness's
 * passphrase, so that decryption succeeds and its output is fuzzed:
 *   openssl pkcs8 -topk8 -v2 aes-256-cbc -in ec.key -passout pass:fuzz \
 *     -out fuzz-ec-enc.key
 *   openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt -scrypt_N 1024 -scrypt_r 8 \
 *     -scrypt_p 1 -in ed25519.key -passout pass:fuzz -out fuzz-ed25519-scrypt.key
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "image/sigkey.h"
#include "tests/unit/data/sigkey/fixtures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PASS "fuzz"

static struct sigkey *fixed_ec, *fixed_ed, *fixed_rsa;

static struct sigkey *load_fixed(const char *pem)
{
	struct sigkey *k = NULL;
	struct err *err = NULL;

	if (sigkey_load_public(pem, strlen(pem), "fixed", &k, &err) < 0) {
		fprintf(stderr, "fixed key: %s\n", err->msg);
		abort();
	}
	return k;
}

static void failed(int r, struct err **err)
{
	if (r >= 0 || !*err || !(*err)->msg[0])
		abort();
	err_free(err);
}

static void check_decode(const char *buf, size_t size)
{
	char label[40], fp[SIGKEY_FP_LEN], want[SIGKEY_FP_LEN];
	uint8_t *der = NULL;
	size_t n = 0, ll;
	struct err *err = NULL, *ferr = NULL;
	int r = sigkey_pem_decode(buf, size, "fuzz", label, &der, &n, &err);
	int rf = sigkey_fingerprint_pem(buf, size, "fuzz", fp, &ferr);

	if (r < 0) {
		if (der || n)
			abort();
		failed(r, &err);
		failed(rf, &ferr); /* the same parser refuses it */
		return;
	}
	ll = strlen(label);
	if (!der || n == 0 || ll == 0 || ll > 39)
		abort();
	for (size_t i = 0; i < ll; i++)
		if (!((label[i] >= 'A' && label[i] <= 'Z') ||
		      (label[i] >= '0' && label[i] <= '9') || label[i] == ' '))
			abort();
	if (strcmp(label, "PUBLIC KEY")) {
		failed(rf, &ferr);
	} else {
		if (rf < 0)
			abort();
		memcpy(want, "sha256:", 7);
		digest_sha256_hex(der, n, want + 7);
		if (strcmp(fp, want))
			abort();
	}
	free(der);
}

static void check_public(const char *buf, size_t size)
{
	struct sigkey *k = (struct sigkey *)1, *back = NULL;
	char fp[SIGKEY_FP_LEN], *pem = NULL;
	struct err *err = NULL;
	int r = sigkey_load_public(buf, size, "fuzz", &k, &err);

	if (r < 0) {
		if (k)
			abort();
		failed(r, &err);
		return;
	}
	if (!k || sigkey_is_private(k) || !digest_valid(sigkey_fingerprint(k)) ||
	    !sigkey_describe(k)[0])
		abort();
	if (sigkey_fingerprint_pem(buf, size, "fuzz", fp, &err) < 0 ||
	    strcmp(fp, sigkey_fingerprint(k)))
		abort();
	if (sigkey_public_pem(k, &pem, &err) < 0 ||
	    sigkey_load_public(pem, strlen(pem), "again", &back, &err) < 0 ||
	    strcmp(sigkey_fingerprint(back), sigkey_fingerprint(k)) ||
	    sigkey_get_type(back) != sigkey_get_type(k))
		abort();
	free(pem);
	sigkey_free(back);
	sigkey_free(k);
}

static void reload_private(const struct sigkey *k, const char *pass)
{
	struct sigkey *back = NULL;
	struct err *err = NULL;
	char *pem = NULL;

	if (sigkey_private_pem(k, pass, &pem, &err) < 0 ||
	    sigkey_load_private(pem, strlen(pem), "again", pass, &back, &err) < 0 ||
	    strcmp(sigkey_fingerprint(back), sigkey_fingerprint(k)))
		abort();
	free(pem);
	sigkey_free(back);
}

static void check_private(const char *buf, size_t size)
{
	static const char msg[] = "fuzz message";
	struct sigkey *k = (struct sigkey *)1, *pub = NULL;
	struct err *err = NULL;
	uint8_t *sig = NULL;
	size_t n = 0;
	char *pem = NULL;
	int r = sigkey_load_private(buf, size, "fuzz", PASS, &k, &err);

	if (r < 0) {
		if (k)
			abort();
		failed(r, &err);
		return;
	}
	if (!k || !sigkey_is_private(k) || !digest_valid(sigkey_fingerprint(k)))
		abort();
	if (sigkey_sign(k, msg, sizeof(msg) - 1, &sig, &n, &err) < 0 ||
	    sigkey_public_pem(k, &pem, &err) < 0 ||
	    sigkey_load_public(pem, strlen(pem), "pub", &pub, &err) < 0 ||
	    strcmp(sigkey_fingerprint(pub), sigkey_fingerprint(k)) ||
	    sigkey_verify(pub, msg, sizeof(msg) - 1, sig, n, &err) < 0)
		abort();
	/* and not over another message */
	if (sigkey_verify(pub, msg, sizeof(msg) - 2, sig, n, &err) != -EBADMSG)
		abort();
	err_free(&err);
	reload_private(k, NULL);
	reload_private(k, PASS);
	free(pem);
	free(sig);
	sigkey_free(pub);
	sigkey_free(k);
}

static void check_signature(const uint8_t *data, size_t size)
{
	struct err *err = NULL;
	int r;

	if (!fixed_ec) {
		fixed_ec = load_fixed(fx_ec_pub);
		fixed_ed = load_fixed(fx_ed25519_pub);
		fixed_rsa = load_fixed(fx_rsa2048_pub);
	}
	r = sigkey_verify(fixed_ec, fx_msg_txt, sizeof(fx_msg_txt) - 1, data, size, &err);
	if (r < 0) {
		if (r != -EBADMSG)
			abort();
		failed(r, &err);
	}
	r = sigkey_verify(fixed_ed, fx_msg_txt, sizeof(fx_msg_txt) - 1, data, size, &err);
	if (r == 0 && (size != sizeof(fx_ed25519_sig) || memcmp(data, fx_ed25519_sig, size)))
		abort();
	if (r < 0)
		failed(r, &err);
	r = sigkey_verify(fixed_rsa, fx_msg_txt, sizeof(fx_msg_txt) - 1, data, size, &err);
	if (r == 0 && (size != sizeof(fx_rsa2048_sig) || memcmp(data, fx_rsa2048_sig, size)))
		abort();
	if (r < 0)
		failed(r, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	check_decode(buf, size);
	check_public(buf, size);
	check_private(buf, size);
	check_signature(data, size);
	return 0;
}

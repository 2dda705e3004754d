/*
 * image/sigkey.c - signing keys and signatures through OpenSSL 3's
 * libcrypto, loaded on first use (see sigkey.h).
 *
 * Runs in: the moat process (pull, push, sign, verify, load, key
 * generate), as the invoking user, before any container exists; never
 * inside one (no dlopen after entering a root: CVE-2019-14271).
 *
 * Invariants:
 *  - PEM armour is parsed here, by sigkey_pem_decode, and nowhere else:
 *    libcrypto is only ever handed DER. So what `moat run` fingerprints
 *    without libcrypto (sigkey_fingerprint_pem) is byte for byte what a
 *    pull verified with, and OpenSSL's more lenient PEM reader (which
 *    skips malformed blocks and would prompt on the terminal for a
 *    passphrase) is never involved.
 *  - A public key loads only when i2d_PUBKEY gives back exactly the DER it
 *    came from, so sigkey_fingerprint(load_public(pem)) ==
 *    sigkey_fingerprint_pem(pem) for every key that loads.
 *  - The key type policy (ECDSA on P-256, Ed25519, RSA of 2048 to 8192
 *    bits) is applied in one place, check_type(), by every constructor:
 *    a struct sigkey that exists has passed it.
 *  - Passphrases reach libcrypto only as arguments (PKCS8_decrypt, the
 *    kstr of PEM_write_bio_PKCS8PrivateKey), never through its default
 *    callback, which would read the terminal. A key file cannot make moat
 *    spin: PBES1 is refused and PBES2's PBKDF2 iterations and scrypt cost
 *    are capped before anything is derived.
 *  - Private key material that passes through buffers allocated here
 *    (base64 text, PKCS#8 DER) is wiped before it is freed; libcrypto's
 *    memory BIO clears its own buffer when freed (BUF_MEM_free).
 *  - DER is at most 3/4 of SIGKEY_PEM_MAX bytes, so the (long) lengths
 *    d2i_* take are exact.
 *
 * Global state: the libcrypto function table and the load result, both
 * written once under pthread_once and only read after.
 */
#include "image/sigkey.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/digest.h"

/* Every libcrypto function used below, each a real exported symbol of
 * libcrypto.so.3 (not a macro), called through the table. */
#define SIGKEY_CRYPTO_FUNCS(X)                    \
	X(ERR_get_error)                          \
	X(ERR_reason_error_string)                \
	X(ERR_clear_error)                        \
	X(BIO_new)                                \
	X(BIO_s_mem)                              \
	X(BIO_ctrl)                               \
	X(BIO_free)                               \
	X(d2i_PUBKEY)                             \
	X(i2d_PUBKEY)                             \
	X(d2i_PKCS8_PRIV_KEY_INFO)                \
	X(PKCS8_PRIV_KEY_INFO_free)               \
	X(EVP_PKCS82PKEY)                         \
	X(d2i_X509_SIG)                           \
	X(X509_SIG_free)                          \
	X(X509_SIG_get0)                          \
	X(X509_ALGOR_get0)                        \
	X(OBJ_obj2nid)                            \
	X(OBJ_nid2sn)                             \
	X(ASN1_STRING_get0_data)                  \
	X(ASN1_STRING_length)                     \
	X(ASN1_INTEGER_get_uint64)                \
	X(d2i_PBE2PARAM)                          \
	X(PBE2PARAM_free)                         \
	X(d2i_PBKDF2PARAM)                        \
	X(PBKDF2PARAM_free)                       \
	X(d2i_SCRYPT_PARAMS)                      \
	X(SCRYPT_PARAMS_free)                     \
	X(PKCS8_decrypt)                          \
	X(PEM_write_bio_PKCS8PrivateKey)          \
	X(EVP_aes_256_cbc)                        \
	X(EVP_sha256)                             \
	X(EVP_PKEY_free)                          \
	X(EVP_PKEY_get_base_id)                   \
	X(EVP_PKEY_get_bits)                      \
	X(EVP_PKEY_get_group_name)                \
	X(EVP_PKEY_get0_type_name)                \
	X(EVP_MD_CTX_new)                         \
	X(EVP_MD_CTX_free)                        \
	X(EVP_DigestSignInit)                     \
	X(EVP_DigestSign)                         \
	X(EVP_DigestVerifyInit)                   \
	X(EVP_DigestVerify)                       \
	X(EVP_PKEY_CTX_new_id)                    \
	X(EVP_PKEY_CTX_free)                      \
	X(EVP_PKEY_keygen_init)                   \
	X(EVP_PKEY_keygen)                        \
	X(EVP_PKEY_CTX_set_ec_paramgen_curve_nid) \
	X(EVP_PKEY_CTX_set_rsa_keygen_bits)

static struct {
#define SIGKEY_PTR(name) __typeof__(name) *name;
	SIGKEY_CRYPTO_FUNCS(SIGKEY_PTR)
#undef SIGKEY_PTR
} ossl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc; /* 0 loaded, a negative errno after a failure */
static char load_failure[256];

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192 /* SIGKEY_SIG_MAX bytes of signature */
#define RSA_GEN_BITS 3072
/* OpenSSL 3 writes PBKDF2 with 2048 iterations and scrypt with N=16384,
 * r=8, p=1; these leave room for stronger settings while bounding what a
 * key file can make moat compute to a few seconds. */
#define PBKDF2_MAX_ITER 5000000
#define SCRYPT_MAX_COST (1u << 22) /* N * r * p */
#define PASSPHRASE_MAX 1024

struct sigkey {
	EVP_PKEY *pkey;
	enum sigkey_type type;
	int priv;
	uint8_t *der; /* SubjectPublicKeyInfo of the public half */
	size_t der_len;
	char desc[16];
	char fp[SIGKEY_FP_LEN];
};

static void pkey_freep(EVP_PKEY **p)
{
	if (*p)
		ossl.EVP_PKEY_free(*p);
}
static void pctx_freep(EVP_PKEY_CTX **p)
{
	if (*p)
		ossl.EVP_PKEY_CTX_free(*p);
}
static void mdctx_freep(EVP_MD_CTX **p)
{
	if (*p)
		ossl.EVP_MD_CTX_free(*p);
}
static void bio_freep(BIO **p)
{
	if (*p)
		ossl.BIO_free(*p);
}
static void p8_freep(PKCS8_PRIV_KEY_INFO **p)
{
	if (*p)
		ossl.PKCS8_PRIV_KEY_INFO_free(*p);
}
static void x509sig_freep(X509_SIG **p)
{
	if (*p)
		ossl.X509_SIG_free(*p);
}
static void pbe2_freep(PBE2PARAM **p)
{
	if (*p)
		ossl.PBE2PARAM_free(*p);
}
static void pbkdf2_freep(PBKDF2PARAM **p)
{
	if (*p)
		ossl.PBKDF2PARAM_free(*p);
}
static void scrypt_freep(SCRYPT_PARAMS **p)
{
	if (*p)
		ossl.SCRYPT_PARAMS_free(*p);
}
static void sigkey_freep(struct sigkey **k)
{
	sigkey_free(*k);
}

#define _cleanup_pkey_ __attribute__((cleanup(pkey_freep)))
#define _cleanup_pctx_ __attribute__((cleanup(pctx_freep)))
#define _cleanup_mdctx_ __attribute__((cleanup(mdctx_freep)))
#define _cleanup_bio_ __attribute__((cleanup(bio_freep)))
#define _cleanup_p8_ __attribute__((cleanup(p8_freep)))
#define _cleanup_x509sig_ __attribute__((cleanup(x509sig_freep)))
#define _cleanup_pbe2_ __attribute__((cleanup(pbe2_freep)))
#define _cleanup_pbkdf2_ __attribute__((cleanup(pbkdf2_freep)))
#define _cleanup_scrypt_ __attribute__((cleanup(scrypt_freep)))
#define _cleanup_sigkey_ __attribute__((cleanup(sigkey_freep)))

/* A malloc'd buffer that may hold key material: wiped, then freed. */
struct secret {
	uint8_t *p;
	size_t n;
};

static void secret_wipep(struct secret *s)
{
	if (s->p) {
		explicit_bzero(s->p, s->n);
		free(s->p);
	}
	s->p = NULL;
	s->n = 0;
}
#define _cleanup_secret_ __attribute__((cleanup(secret_wipep)))

/* ---- loading ---- */

static void load(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(load_failure, sizeof(load_failure),
			 "libcrypto.so.3 cannot be loaded (install OpenSSL 3's libssl3): %s",
			 dlerror());
		load_rc = -ENOENT;
		return;
	}
#define SIGKEY_SYM(name)                                                                        \
	if (!(ossl.name = (__typeof__(name) *)dlsym(h, #name))) {                               \
		snprintf(load_failure, sizeof(load_failure), "libcrypto.so.3 lacks %s", #name); \
		load_rc = -ENOENT;                                                              \
		return;                                                                         \
	}
	SIGKEY_CRYPTO_FUNCS(SIGKEY_SYM)
#undef SIGKEY_SYM
	load_rc = 0;
}

int sigkey_crypto_load(struct err **err)
{
	/* pthread_once orders the table's writes before every reader's use. */
	pthread_once(&load_once, load);
	if (load_rc < 0)
		return err_set(err, -load_rc, "%s", load_failure);
	return 0;
}

/* MSG + ": " + libcrypto's first queued reason (when it has one), then
 * empties the thread's queue so that no later message reports a stale
 * reason. */
__attribute__((format(printf, 3, 4))) static int crypto_err(struct err **err, int code,
							    const char *fmt, ...)
{
	char msg[512];
	const char *reason = NULL;
	unsigned long e = ossl.ERR_get_error();
	va_list ap;

	if (e)
		reason = ossl.ERR_reason_error_string(e);
	ossl.ERR_clear_error();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (reason)
		return err_set(err, code, "%s: %s", msg, reason);
	return err_set(err, code, "%s", msg);
}

/* ---- PEM (pure) ---- */

#define BEGIN "-----BEGIN "
#define END "-----END "
#define DASHES "-----"

struct line {
	const char *s;
	size_t n; /* without the newline and trailing blanks */
};

/* The next line of [*P, END) into L; false at the end of the buffer. */
static bool next_line(const char **p, const char *end, struct line *l)
{
	const char *nl;

	if (*p >= end)
		return false;
	l->s = *p;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	l->n = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	while (l->n && (l->s[l->n - 1] == '\r' || l->s[l->n - 1] == ' ' || l->s[l->n - 1] == '\t'))
		l->n--;
	return true;
}

static bool has_prefix(const struct line *l, const char *pre)
{
	size_t n = strlen(pre);

	return l->n >= n && !memcmp(l->s, pre, n);
}

/* The label of "<PRE><label>-----" in L, or NULL if L is not that. */
static const char *line_label(const struct line *l, const char *pre, size_t *len)
{
	size_t p = strlen(pre), d = strlen(DASHES);

	if (l->n < p + d || memcmp(l->s + l->n - d, DASHES, d))
		return NULL;
	*len = l->n - p - d;
	return l->s + p;
}

static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 39)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == ' '))
			return false;
	return true;
}

int sigkey_pem_decode(const char *buf, size_t len, const char *name, char label[40], uint8_t **der,
		      size_t *der_len, struct err **err)
{
	_cleanup_secret_ struct secret b64 = {NULL, 0};
	const char *p = buf, *end, *lab = NULL;
	struct line l;
	size_t lab_len = 0;
	bool found, closed = false;
	unsigned char *out = NULL;
	size_t out_len = 0;
	int r;

	*der = NULL;
	*der_len = 0;
	label[0] = '\0';
	if (!name)
		name = "key";
	if (len > SIGKEY_PEM_MAX)
		return err_set(err, EINVAL, "%s: %zu bytes of PEM is over the limit of %d", name,
			       len, SIGKEY_PEM_MAX);
	if (!buf)
		return err_set(err, EINVAL, "%s: no \"" BEGIN "\" line: not PEM", name);
	end = buf + len;

	/* Text before the block is ignored, as OpenSSL and Go do; the first
	 * BEGIN line is the block (a malformed one is an error, not skipped,
	 * so that no two readers can disagree on which block counts). */
	while ((found = next_line(&p, end, &l)) && !has_prefix(&l, BEGIN))
		;
	if (!found)
		return err_set(err, EINVAL, "%s: no \"" BEGIN "\" line: not PEM", name);
	lab = line_label(&l, BEGIN, &lab_len);
	if (!lab)
		return err_set(err, EINVAL, "%s: malformed \"" BEGIN "\" line", name);
	if (!label_ok(lab, lab_len))
		return err_set(err, EINVAL,
			       "%s: PEM label is not 1 to 39 characters of A-Z, 0-9 and space",
			       name);
	memcpy(label, lab, lab_len);
	label[lab_len] = '\0';

	b64.p = malloc(len + 1);
	if (!b64.p)
		return err_errno(err, ENOMEM, "%s", name);
	while (next_line(&p, end, &l)) {
		if (has_prefix(&l, END)) {
			const char *e = line_label(&l, END, &lab_len);

			if (!e || lab_len != strlen(label) || memcmp(e, label, lab_len)) {
				if (e && label_ok(e, lab_len))
					return err_set(err, EINVAL,
						       "%s: \"" END "%.*s" DASHES
						       "\" does not close \"" BEGIN "%s" DASHES
						       "\"",
						       name, (int)lab_len, e, label);
				return err_set(err, EINVAL,
					       "%s: malformed \"" END "\" line for \"%s\"", name,
					       label);
			}
			closed = true;
			break;
		}
		if (has_prefix(&l, DASHES))
			return err_set(err, EINVAL,
				       "%s: unexpected \"" DASHES "\" line inside the \"%s\" block",
				       name, label);
		/* RFC 1421 headers; the only ones in use are legacy OpenSSL
		 * encryption's. PKCS#8 is the encrypted form we read. */
		if (memchr(l.s, ':', l.n))
			return err_set(
			    err, EINVAL,
			    "%s: PEM headers (\"Proc-Type:\", legacy PEM encryption) are "
			    "not supported: convert the key with `openssl pkcs8 -topk8`",
			    name);
		for (size_t i = 0; i < l.n; i++)
			if (l.s[i] != ' ' && l.s[i] != '\t' && l.s[i] != '\r')
				b64.p[b64.n++] = (uint8_t)l.s[i];
	}
	if (!closed)
		return err_set(err, EINVAL, "%s: no \"" END "%s" DASHES "\" line", name, label);
	if (b64.n == 0)
		return err_set(err, EINVAL, "%s: the \"%s\" block is empty", name, label);
	r = base64_decode((const char *)b64.p, b64.n, &out, &out_len);
	if (r == -ENOMEM)
		return err_errno(err, ENOMEM, "%s", name);
	if (r < 0)
		return err_set(err, EINVAL, "%s: bad base64 in the \"%s\" block", name, label);
	if (out_len == 0) {
		free(out);
		return err_set(err, EINVAL, "%s: the \"%s\" block is empty", name, label);
	}
	*der = out;
	*der_len = out_len;
	return 0;
}

static void fingerprint_der(const uint8_t *der, size_t len, char fp[SIGKEY_FP_LEN])
{
	memcpy(fp, "sha256:", 7);
	digest_sha256_hex(der, len, fp + 7);
}

int sigkey_fingerprint_pem(const char *buf, size_t len, const char *name, char fp[SIGKEY_FP_LEN],
			   struct err **err)
{
	_cleanup_free_ uint8_t *der = NULL;
	char label[40];
	size_t n;
	int r;

	fp[0] = '\0';
	r = sigkey_pem_decode(buf, len, name, label, &der, &n, err);
	if (r < 0)
		return r;
	if (strcmp(label, "PUBLIC KEY"))
		return err_set(err, EINVAL,
			       "%s: a \"%s\" block is not a public key (want \"PUBLIC KEY\")",
			       name ? name : "key", label);
	fingerprint_der(der, n, fp);
	return 0;
}

/* "-----BEGIN LABEL-----\n", DER in base64 lines of 64, "-----END ...". */
static char *pem_encode(const char *label, const uint8_t *der, size_t n)
{
	_cleanup_free_ char *b64 = base64_encode(der, n);
	size_t bl, cap, o = 0;
	char *out;

	if (!b64)
		return NULL;
	bl = strlen(b64);
	cap = 2 * (strlen(BEGIN) + strlen(label) + strlen(DASHES) + 1) + bl + bl / 64 + 2;
	out = malloc(cap);
	if (!out)
		return NULL;
	o += (size_t)snprintf(out + o, cap - o, BEGIN "%s" DASHES "\n", label);
	for (size_t i = 0; i < bl; i += 64)
		o += (size_t)snprintf(out + o, cap - o, "%.64s\n", b64 + i);
	snprintf(out + o, cap - o, END "%s" DASHES "\n", label);
	return out;
}

/* ---- keys ---- */

/* The policy: what the key is, or an error naming it. */
static int check_type(EVP_PKEY *pkey, const char *name, enum sigkey_type *type, char desc[16],
		      struct err **err)
{
	int id = ossl.EVP_PKEY_get_base_id(pkey), bits;
	char group[64], what[32];
	const char *sn;
	size_t glen = 0;

	switch (id) {
	case EVP_PKEY_EC:
		if (ossl.EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1) {
			ossl.ERR_clear_error();
			return err_set(err, EINVAL,
				       "%s: key is ecdsa with explicit curve parameters: only the "
				       "named curve P-256 is supported",
				       name);
		}
		if (strcmp(group, "prime256v1"))
			return err_set(err, EINVAL,
				       "%s: key is ecdsa on %s: only P-256 is supported", name,
				       group);
		*type = SIGKEY_ECDSA_P256;
		snprintf(desc, 16, "ecdsa-p256");
		return 0;
	case EVP_PKEY_ED25519:
		*type = SIGKEY_ED25519;
		snprintf(desc, 16, "ed25519");
		return 0;
	case EVP_PKEY_RSA:
		bits = ossl.EVP_PKEY_get_bits(pkey);
		if (bits < RSA_MIN_BITS)
			return err_set(err, EINVAL, "%s: RSA key of %d bits: at least %d", name,
				       bits, RSA_MIN_BITS);
		if (bits > RSA_MAX_BITS)
			return err_set(err, EINVAL, "%s: RSA key of %d bits: at most %d", name,
				       bits, RSA_MAX_BITS);
		*type = SIGKEY_RSA;
		snprintf(desc, 16, "rsa-%d", bits);
		return 0;
	default:
		sn = id != NID_undef ? ossl.OBJ_nid2sn(id) : NULL;
		if (!sn)
			sn = ossl.EVP_PKEY_get0_type_name(pkey);
		snprintf(what, sizeof(what), "%s", sn ? sn : "of an unknown type");
		for (char *c = what; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		return err_set(err, EINVAL,
			       "%s: key is %s: only ecdsa-p256, ed25519 and rsa (%d to %d bits) "
			       "are supported",
			       name, what, RSA_MIN_BITS, RSA_MAX_BITS);
	}
}

/* A struct sigkey around *PKEY (taken on success) once the policy allows it. */
static int key_new(EVP_PKEY **pkey, int priv, const char *name, struct sigkey **out,
		   struct err **err)
{
	_cleanup_sigkey_ struct sigkey *k = NULL;
	unsigned char *w;
	int n, r;

	k = calloc(1, sizeof(*k));
	if (!k)
		return err_errno(err, ENOMEM, "%s", name);
	r = check_type(*pkey, name, &k->type, k->desc, err);
	if (r < 0)
		return r;
	n = ossl.i2d_PUBKEY(*pkey, NULL);
	if (n <= 0)
		return crypto_err(err, EINVAL, "%s: cannot encode the public key", name);
	k->der = malloc((size_t)n);
	if (!k->der)
		return err_errno(err, ENOMEM, "%s", name);
	w = k->der;
	if (ossl.i2d_PUBKEY(*pkey, &w) != n)
		return crypto_err(err, EINVAL, "%s: cannot encode the public key", name);
	k->der_len = (size_t)n;
	fingerprint_der(k->der, k->der_len, k->fp);
	k->priv = priv;
	k->pkey = steal_ptr(*pkey);
	*out = steal_ptr(k);
	return 0;
}

void sigkey_free(struct sigkey *k)
{
	if (!k)
		return;
	if (k->pkey)
		ossl.EVP_PKEY_free(k->pkey);
	free(k->der);
	free(k);
}

enum sigkey_type sigkey_get_type(const struct sigkey *k)
{
	return k->type;
}

const char *sigkey_describe(const struct sigkey *k)
{
	return k->desc;
}

const char *sigkey_fingerprint(const struct sigkey *k)
{
	return k->fp;
}

int sigkey_is_private(const struct sigkey *k)
{
	return k->priv;
}

int sigkey_load_public(const char *buf, size_t len, const char *name, struct sigkey **out,
		       struct err **err)
{
	_cleanup_free_ uint8_t *der = NULL;
	_cleanup_pkey_ EVP_PKEY *pkey = NULL;
	_cleanup_sigkey_ struct sigkey *k = NULL;
	const unsigned char *p;
	char label[40];
	size_t n;
	int r;

	*out = NULL;
	if (!name)
		name = "key";
	r = sigkey_pem_decode(buf, len, name, label, &der, &n, err);
	if (r < 0)
		return r;
	if (strcmp(label, "PUBLIC KEY")) {
		if (strstr(label, "PRIVATE KEY"))
			return err_set(err, EINVAL,
				       "%s: is a private key; a public key (\"PUBLIC KEY\") is "
				       "needed here",
				       name);
		return err_set(err, EINVAL,
			       "%s: a \"%s\" block is not a public key (want \"PUBLIC KEY\")", name,
			       label);
	}
	r = sigkey_crypto_load(err);
	if (r < 0)
		return r;
	ossl.ERR_clear_error();
	p = der;
	pkey = ossl.d2i_PUBKEY(NULL, &p, (long)n);
	if (!pkey)
		return crypto_err(err, EINVAL, "%s: not a valid public key", name);
	if ((size_t)(p - der) != n)
		return err_set(err, EINVAL, "%s: data after the public key", name);
	r = key_new(&pkey, 0, name, &k, err);
	if (r < 0)
		return r;
	/* The fingerprint is that of the DER libcrypto re-encodes; refusing
	 * any other encoding of the same key (BER lengths, ...) keeps it
	 * equal to the fingerprint of the PEM text. */
	if (k->der_len != n || memcmp(k->der, der, n))
		return err_set(err, EINVAL, "%s: public key is not in canonical DER form", name);
	*out = steal_ptr(k);
	return 0;
}

/* The DER parameters of algorithm A, when they are a SEQUENCE. */
static int algor_params(const X509_ALGOR *a, int *nid, const unsigned char **p, long *len)
{
	const ASN1_OBJECT *obj = NULL;
	const void *val = NULL;
	int ptype = 0;

	ossl.X509_ALGOR_get0(&obj, &ptype, &val, a);
	*nid = obj ? ossl.OBJ_obj2nid(obj) : NID_undef;
	if (ptype != V_ASN1_SEQUENCE || !val)
		return -1;
	*p = ossl.ASN1_STRING_get0_data(val);
	*len = ossl.ASN1_STRING_length(val);
	return 0;
}

static const char *nid_name(int nid)
{
	const char *s = nid != NID_undef ? ossl.OBJ_nid2sn(nid) : NULL;

	return s ? s : "an unknown algorithm";
}

/* Refuses an encrypted PKCS#8 that is not PBES2, or whose key derivation
 * would cost more than the caps above, before PKCS8_decrypt runs it. */
static int check_kdf(const X509_SIG *sig, const char *name, struct err **err)
{
	_cleanup_pbe2_ PBE2PARAM *pbe2 = NULL;
	_cleanup_pbkdf2_ PBKDF2PARAM *kdf = NULL;
	_cleanup_scrypt_ SCRYPT_PARAMS *sp = NULL;
	const X509_ALGOR *alg = NULL;
	const unsigned char *p = NULL;
	long len = 0;
	int nid, r;
	uint64_t iter, cn, cr, cp;

	ossl.X509_SIG_get0(sig, &alg, NULL);
	r = algor_params(alg, &nid, &p, &len);
	if (nid != NID_pbes2)
		return err_set(err, EINVAL,
			       "%s: encrypted with %s: only PBES2 is supported; re-encrypt with "
			       "`openssl pkcs8 -topk8 -v2 aes-256-cbc`",
			       name, nid_name(nid));
	if (r == 0)
		pbe2 = ossl.d2i_PBE2PARAM(NULL, &p, len);
	if (!pbe2 || algor_params(pbe2->keyfunc, &nid, &p, &len) < 0) {
		ossl.ERR_clear_error();
		return err_set(err, EINVAL, "%s: malformed PBES2 parameters", name);
	}
	switch (nid) {
	case NID_id_pbkdf2:
		kdf = ossl.d2i_PBKDF2PARAM(NULL, &p, len);
		if (!kdf || ossl.ASN1_INTEGER_get_uint64(&iter, kdf->iter) != 1) {
			ossl.ERR_clear_error();
			return err_set(err, EINVAL, "%s: malformed PBKDF2 parameters", name);
		}
		if (iter > PBKDF2_MAX_ITER)
			return err_set(err, EINVAL, "%s: PBKDF2 with %llu iterations: at most %d",
				       name, (unsigned long long)iter, PBKDF2_MAX_ITER);
		return 0;
	case NID_id_scrypt:
		sp = ossl.d2i_SCRYPT_PARAMS(NULL, &p, len);
		if (!sp || ossl.ASN1_INTEGER_get_uint64(&cn, sp->costParameter) != 1 ||
		    ossl.ASN1_INTEGER_get_uint64(&cr, sp->blockSize) != 1 ||
		    ossl.ASN1_INTEGER_get_uint64(&cp, sp->parallelizationParameter) != 1) {
			ossl.ERR_clear_error();
			return err_set(err, EINVAL, "%s: malformed scrypt parameters", name);
		}
		/* Each factor below the cap first, so the product cannot wrap. */
		if (cn > SCRYPT_MAX_COST || cr > SCRYPT_MAX_COST || cp > SCRYPT_MAX_COST ||
		    cn * cr * cp > SCRYPT_MAX_COST)
			return err_set(err, EINVAL,
				       "%s: scrypt with N=%llu r=%llu p=%llu: N*r*p at most %u",
				       name, (unsigned long long)cn, (unsigned long long)cr,
				       (unsigned long long)cp, SCRYPT_MAX_COST);
		return 0;
	default:
		return err_set(err, EINVAL, "%s: key derivation %s is not supported", name,
			       nid_name(nid));
	}
}

/* The PKCS#8 structure of an "ENCRYPTED PRIVATE KEY" body. */
static int decrypt_p8(const uint8_t *der, size_t n, const char *name, const char *passphrase,
		      PKCS8_PRIV_KEY_INFO **p8, struct err **err)
{
	_cleanup_x509sig_ X509_SIG *sig = NULL;
	const unsigned char *p = der;
	size_t plen;
	int r;

	if (!passphrase)
		return err_set(err, EINVAL, "%s: encrypted private key needs a passphrase", name);
	plen = strlen(passphrase);
	if (plen > PASSPHRASE_MAX)
		return err_set(err, EINVAL, "%s: passphrase over %d bytes", name, PASSPHRASE_MAX);
	sig = ossl.d2i_X509_SIG(NULL, &p, (long)n);
	if (!sig || (size_t)(p - der) != n) {
		ossl.ERR_clear_error();
		return err_set(err, EINVAL, "%s: malformed encrypted private key", name);
	}
	r = check_kdf(sig, name, err);
	if (r < 0)
		return r;
	*p8 = ossl.PKCS8_decrypt(sig, passphrase, (int)plen);
	if (!*p8) {
		ossl.ERR_clear_error();
		return err_set(err, EACCES, "%s: wrong passphrase or corrupt key", name);
	}
	return 0;
}

/* Signs a fixed message with K and verifies it with K's public half: a
 * PKCS#8 may carry a public key that does not match its private one, and
 * then the fingerprint would name a key that never verifies. */
static int pairwise_check(const struct sigkey *k, const char *name, struct err **err)
{
	static const char probe[] = "moat sigkey pairwise check";
	_cleanup_free_ uint8_t *sig = NULL;
	size_t n = 0;
	int r;

	r = sigkey_sign(k, probe, sizeof(probe) - 1, &sig, &n, err);
	if (r < 0)
		return err_prefix(err, "%s", name);
	r = sigkey_verify(k, probe, sizeof(probe) - 1, sig, n, err);
	if (r < 0)
		return err_set(err, EINVAL, "%s: the private and public halves do not match", name);
	return 0;
}

int sigkey_load_private(const char *buf, size_t len, const char *name, const char *passphrase,
			struct sigkey **out, struct err **err)
{
	_cleanup_secret_ struct secret der = {NULL, 0};
	_cleanup_p8_ PKCS8_PRIV_KEY_INFO *p8 = NULL;
	_cleanup_pkey_ EVP_PKEY *pkey = NULL;
	_cleanup_sigkey_ struct sigkey *k = NULL;
	const unsigned char *p;
	char label[40];
	bool encrypted;
	int r;

	*out = NULL;
	if (!name)
		name = "key";
	r = sigkey_pem_decode(buf, len, name, label, &der.p, &der.n, err);
	if (r < 0)
		return r;
	encrypted = !strcmp(label, "ENCRYPTED PRIVATE KEY");
	if (!encrypted && strcmp(label, "PRIVATE KEY")) {
		size_t ll = strlen(label);

		if (ll > 12 && !strcmp(label + ll - 12, " PRIVATE KEY"))
			return err_set(err, EINVAL,
				       "%s: \"%s\" is a legacy key format: convert it to PKCS#8 "
				       "with `openssl pkcs8 -topk8 -in KEY -out NEWKEY`",
				       name, label);
		return err_set(err, EINVAL,
			       "%s: a \"%s\" block is not a private key (want \"PRIVATE KEY\" or "
			       "\"ENCRYPTED PRIVATE KEY\")",
			       name, label);
	}
	r = sigkey_crypto_load(err);
	if (r < 0)
		return r;
	ossl.ERR_clear_error();
	if (encrypted) {
		r = decrypt_p8(der.p, der.n, name, passphrase, &p8, err);
		if (r < 0)
			return r;
	} else {
		p = der.p;
		p8 = ossl.d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der.n);
		if (!p8)
			return crypto_err(err, EINVAL, "%s: not a valid PKCS#8 private key", name);
		if ((size_t)(p - der.p) != der.n)
			return err_set(err, EINVAL, "%s: data after the private key", name);
	}
	pkey = ossl.EVP_PKCS82PKEY(p8);
	if (!pkey) {
		if (encrypted) {
			ossl.ERR_clear_error();
			return err_set(err, EACCES, "%s: wrong passphrase or corrupt key", name);
		}
		return crypto_err(err, EINVAL, "%s: not a usable private key", name);
	}
	r = key_new(&pkey, 1, name, &k, err);
	if (r < 0)
		return r;
	r = pairwise_check(k, name, err);
	if (r < 0)
		return r;
	*out = steal_ptr(k);
	return 0;
}

int sigkey_generate(enum sigkey_type type, struct sigkey **out, struct err **err)
{
	_cleanup_pctx_ EVP_PKEY_CTX *ctx = NULL;
	_cleanup_pkey_ EVP_PKEY *pkey = NULL;
	int id, r;

	*out = NULL;
	switch (type) {
	case SIGKEY_ECDSA_P256:
		id = EVP_PKEY_EC;
		break;
	case SIGKEY_ED25519:
		id = EVP_PKEY_ED25519;
		break;
	case SIGKEY_RSA:
		id = EVP_PKEY_RSA;
		break;
	default:
		return err_set(err, EINVAL, "key generation: unknown key type %d", (int)type);
	}
	r = sigkey_crypto_load(err);
	if (r < 0)
		return r;
	ossl.ERR_clear_error();
	ctx = ossl.EVP_PKEY_CTX_new_id(id, NULL);
	if (!ctx || ossl.EVP_PKEY_keygen_init(ctx) <= 0)
		return crypto_err(err, EIO, "key generation");
	if (type == SIGKEY_ECDSA_P256 &&
	    ossl.EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0)
		return crypto_err(err, EIO, "key generation: P-256");
	if (type == SIGKEY_RSA && ossl.EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, RSA_GEN_BITS) <= 0)
		return crypto_err(err, EIO, "key generation: RSA-%d", RSA_GEN_BITS);
	if (ossl.EVP_PKEY_keygen(ctx, &pkey) <= 0)
		return crypto_err(err, EIO, "key generation");
	return key_new(&pkey, 1, "generated key", out, err);
}

/* ---- signatures ---- */

/* The digest of K's algorithm; NULL for Ed25519, which signs the message. */
static const EVP_MD *key_md(const struct sigkey *k)
{
	return k->type == SIGKEY_ED25519 ? NULL : ossl.EVP_sha256();
}

int sigkey_verify(const struct sigkey *k, const void *msg, size_t len, const uint8_t *sig,
		  size_t sig_len, struct err **err)
{
	_cleanup_mdctx_ EVP_MD_CTX *ctx = NULL;
	int r;

	if (!sig || sig_len == 0 || sig_len > SIGKEY_SIG_MAX)
		return err_set(err, EBADMSG,
			       "signature does not verify with key %s (%zu bytes of signature)",
			       k->fp, sig ? sig_len : 0);
	ossl.ERR_clear_error();
	ctx = ossl.EVP_MD_CTX_new();
	if (!ctx || ossl.EVP_DigestVerifyInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1)
		return crypto_err(err, EIO, "signature verification with key %s", k->fp);
	/* Anything but 1 is a refusal: 0 is a signature that does not match,
	 * a negative value one that does not even parse (not DER, wrong
	 * length). Both fail closed. */
	r = ossl.EVP_DigestVerify(ctx, sig, sig_len, msg ? msg : "", msg ? len : 0);
	ossl.ERR_clear_error();
	if (r != 1)
		return err_set(err, EBADMSG, "signature does not verify with key %s", k->fp);
	return 0;
}

int sigkey_sign(const struct sigkey *k, const void *msg, size_t len, uint8_t **sig, size_t *sig_len,
		struct err **err)
{
	_cleanup_mdctx_ EVP_MD_CTX *ctx = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;

	*sig = NULL;
	*sig_len = 0;
	if (!k->priv)
		return err_set(err, EINVAL, "key %s is a public key: it cannot sign", k->fp);
	ossl.ERR_clear_error();
	ctx = ossl.EVP_MD_CTX_new();
	if (!ctx || ossl.EVP_DigestSignInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1)
		return crypto_err(err, EIO, "signing with key %s", k->fp);
	if (!msg) {
		msg = "";
		len = 0;
	}
	/* First the size (an upper bound for ECDSA), then the signature. */
	if (ossl.EVP_DigestSign(ctx, NULL, &n, msg, len) != 1 || n == 0 || n > SIGKEY_SIG_MAX)
		return crypto_err(err, EIO, "signing with key %s", k->fp);
	buf = malloc(n);
	if (!buf)
		return err_errno(err, ENOMEM, "signing with key %s", k->fp);
	if (ossl.EVP_DigestSign(ctx, buf, &n, msg, len) != 1)
		return crypto_err(err, EIO, "signing with key %s", k->fp);
	*sig = steal_ptr(buf);
	*sig_len = n;
	return 0;
}

/* ---- PEM output ---- */

int sigkey_public_pem(const struct sigkey *k, char **pem, struct err **err)
{
	/* The DER the fingerprint was computed over, so the PEM written and
	 * the key's fingerprint always agree. */
	*pem = pem_encode("PUBLIC KEY", k->der, k->der_len);
	if (!*pem)
		return err_errno(err, ENOMEM, "public key %s", k->fp);
	return 0;
}

int sigkey_private_pem(const struct sigkey *k, const char *passphrase, char **pem, struct err **err)
{
	_cleanup_bio_ BIO *bio = NULL;
	char *data = NULL, *out;
	size_t plen = 0;
	long n;

	*pem = NULL;
	if (!k->priv)
		return err_set(err, EINVAL, "key %s has no private half", k->fp);
	if (passphrase) {
		plen = strlen(passphrase);
		if (plen == 0)
			return err_set(err, EINVAL,
				       "an empty passphrase is refused: give one, or none for an "
				       "unencrypted key");
		if (plen > PASSPHRASE_MAX)
			return err_set(err, EINVAL, "passphrase over %d bytes", PASSPHRASE_MAX);
	}
	ossl.ERR_clear_error();
	bio = ossl.BIO_new(ossl.BIO_s_mem());
	if (!bio)
		return crypto_err(err, ENOMEM, "private key %s", k->fp);
	/* kstr given, or no cipher at all: libcrypto never asks a callback. */
	if (ossl.PEM_write_bio_PKCS8PrivateKey(bio, k->pkey,
					       passphrase ? ossl.EVP_aes_256_cbc() : NULL,
					       passphrase, (int)plen, NULL, NULL) != 1)
		return crypto_err(err, EIO, "writing private key %s", k->fp);
	n = ossl.BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
	if (n <= 0 || !data)
		return crypto_err(err, EIO, "writing private key %s", k->fp);
	out = malloc((size_t)n + 1);
	if (!out)
		return err_errno(err, ENOMEM, "private key %s", k->fp);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	/* The memory BIO's buffer is wiped by BIO_free (BUF_MEM_free clears). */
	*pem = out;
	return 0;
}

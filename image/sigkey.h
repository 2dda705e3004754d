/*
 * image/sigkey.h - signing keys and signatures: ECDSA P-256 (the cosign
 * default), Ed25519 and RSA >= 2048 bits, through OpenSSL 3's libcrypto,
 * loaded on first use like libcurl (common/curl.h): `moat run` of an image
 * already verified never pays for it.
 *
 * Runs in: the moat process (pull, push, sign, verify, load, key
 * generate), as the invoking user; never inside a container (no dlopen
 * after entering a root: CVE-2019-14271).
 *
 * Algorithms, fixed per key type (as cosign and containers/image use
 * them): ECDSA P-256 over SHA-256 with an ASN.1 DER signature (what
 * `openssl dgst -sha256 -sign` writes); Ed25519 over the message itself
 * (`openssl pkeyutl -sign -rawin`); RSA PKCS#1 v1.5 over SHA-256
 * (`openssl dgst -sha256 -sign` with an RSA key). Anything else - another
 * curve, RSA below 2048 or above 8192 bits, DSA, X25519 - is refused at
 * load, naming what the key is. Also refused: a public key whose DER is
 * not canonical (its fingerprint would differ from its PEM's), a private
 * key whose public half does not match it, and encrypted keys that are
 * old or costly to open (PBES1, PBKDF2 above 5,000,000 iterations, scrypt
 * with N*r*p above 2^22), before any key is derived.
 *
 * Key files are PEM: public keys "PUBLIC KEY" (SubjectPublicKeyInfo);
 * private keys PKCS#8, "ENCRYPTED PRIVATE KEY" (a passphrase is required)
 * or "PRIVATE KEY" (unencrypted; the local key and openssl-made test keys).
 * One PEM block per file; text before and after it is ignored like
 * OpenSSL does. Caps: SIGKEY_PEM_MAX bytes of PEM, SIGKEY_SIG_MAX bytes of
 * signature.
 *
 * The fingerprint that identifies a key everywhere (store records, audit,
 * `moat verify`) is "sha256:" + the hex sha256 of its SubjectPublicKeyInfo
 * DER, computable from a public PEM without libcrypto
 * (sigkey_fingerprint_pem), so `moat run` can match a policy's keys to the
 * keys a pull verified with without loading OpenSSL.
 */
#ifndef MOAT_IMAGE_SIGKEY_H
#define MOAT_IMAGE_SIGKEY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SIGKEY_PEM_MAX (64 * 1024)
#define SIGKEY_SIG_MAX 1024 /* RSA-4096 is 512 bytes, RSA-8192 1024 */
#define SIGKEY_FP_LEN (7 + 64 + 1)

enum sigkey_type {
	SIGKEY_ECDSA_P256,
	SIGKEY_ED25519,
	SIGKEY_RSA,
};

struct sigkey;

/* Loads libcrypto.so.3 once; 0 or a negative errno with ERR saying what is
 * missing. Every function below that needs it calls it. */
int sigkey_crypto_load(struct err **err);

/* ---- PURE (no libcrypto), fuzzed by fuzz/sigkey_fuzz.c ---- */

/* The first PEM block of BUF[0..LEN): its label ("PUBLIC KEY") into LABEL
 * and its base64 body decoded into *DER (malloc'd). -EINVAL with a reason
 * for: no BEGIN line, no matching END line, a label over 39 characters or
 * with characters other than A-Z, 0-9 and space, PEM headers
 * ("Proc-Type:", legacy encrypted PEM: refused, PKCS#8 is the encrypted
 * form), bad base64, an empty body, LEN > SIGKEY_PEM_MAX. NAME (a file
 * name or "keyData") prefixes errors. */
int sigkey_pem_decode(const char *buf, size_t len, const char *name, char label[40], uint8_t **der,
		      size_t *der_len, struct err **err);

/* "sha256:<hex>" of the DER of the "PUBLIC KEY" block in BUF (any other
 * label is -EINVAL). Does not check that the DER is a key: the caller
 * only compares it with fingerprints of keys that libcrypto loaded. */
int sigkey_fingerprint_pem(const char *buf, size_t len, const char *name, char fp[SIGKEY_FP_LEN],
			   struct err **err);

/* ---- libcrypto ---- */

/* A public key from PEM text. NAME prefixes errors. */
int sigkey_load_public(const char *buf, size_t len, const char *name, struct sigkey **out,
		       struct err **err);
/* A private key (PKCS#8, encrypted or not) from PEM text. PASSPHRASE is
 * used for "ENCRYPTED PRIVATE KEY" (NULL there: -EINVAL "needs a
 * passphrase"); a wrong one is -EACCES "wrong passphrase or corrupt key". */
int sigkey_load_private(const char *buf, size_t len, const char *name, const char *passphrase,
			struct sigkey **out, struct err **err);
/* A new key pair (RSA: 3072 bits). */
int sigkey_generate(enum sigkey_type type, struct sigkey **out, struct err **err);
void sigkey_free(struct sigkey *k);

enum sigkey_type sigkey_get_type(const struct sigkey *k);
/* "ecdsa-p256", "ed25519", "rsa-3072" (bits as loaded). */
const char *sigkey_describe(const struct sigkey *k);
/* The key's fingerprint (see the top of this file); for a private key,
 * that of its public half. */
const char *sigkey_fingerprint(const struct sigkey *k);
/* 1 when K holds a private key. */
int sigkey_is_private(const struct sigkey *k);

/* 0 when SIG[0..SIG_LEN) is K's signature over MSG[0..LEN) under K's
 * algorithm; -EBADMSG when it is not (including a signature that is not
 * valid DER for ECDSA, or the wrong length for Ed25519 and RSA), with ERR
 * saying "signature does not verify with key <fingerprint>". */
int sigkey_verify(const struct sigkey *k, const void *msg, size_t len, const uint8_t *sig,
		  size_t sig_len, struct err **err);
/* K (private) signs MSG: *SIG (malloc'd) of *SIG_LEN bytes. */
int sigkey_sign(const struct sigkey *k, const void *msg, size_t len, uint8_t **sig, size_t *sig_len,
		struct err **err);

/* PEM text (malloc'd, NUL-terminated) of K's public half ("PUBLIC KEY"). */
int sigkey_public_pem(const struct sigkey *k, char **pem, struct err **err);
/* PEM text of K's private key as PKCS#8: "ENCRYPTED PRIVATE KEY" (PBES2,
 * AES-256-CBC, scrypt or PBKDF2 as OpenSSL 3 picks by default for
 * PEM_write_PKCS8PrivateKey) when PASSPHRASE is a non-empty string,
 * "PRIVATE KEY" when it is NULL. An empty passphrase is -EINVAL. The
 * caller writes it 0600. */
int sigkey_private_pem(const struct sigkey *k, const char *passphrase, char **pem,
		       struct err **err);

#endif

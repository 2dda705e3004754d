/*
 * common/digest.h - sha256 digests, HMAC-SHA256 and random ids.
 */
#ifndef MOAT_DIGEST_H
#define MOAT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define SHA256_HEX_LEN 64
#define SHA256_LEN 32

/* Writes 64 lowercase hex chars and a NUL to OUT. */
void digest_sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1]);
/* The 32-byte digest itself. */
void digest_sha256_raw(const void *buf, size_t len, unsigned char out[SHA256_LEN]);
/* HMAC-SHA256 (RFC 2104) of MSG under KEY (any length), as 64 lowercase hex
 * chars and a NUL. */
void digest_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t len,
			    char out[SHA256_HEX_LEN + 1]);
/* Incremental hashing for streams. */
struct digest_ctx;
struct digest_ctx *digest_ctx_new(void);
void digest_ctx_update(struct digest_ctx *c, const void *buf, size_t len);
/* Finishes and frees C. */
void digest_ctx_final(struct digest_ctx *c, char out[SHA256_HEX_LEN + 1]);
/* Which SHA-256 compression function this process uses: "sha-ni" (x86-64
 * SHA extensions) or "generic". Chosen on first use from the CPU's features
 * and cached; MOAT_SHA256_GENERIC=1 in the environment forces "generic". */
const char *digest_sha256_impl(void);
/* For tests and benchmarks: true pins the generic function; false drops the
 * cached choice, so the next hash chooses again (reading the environment). */
void digest_sha256_force_generic(bool on);
/* True for "sha256:" followed by exactly 64 lowercase hex chars. */
bool digest_valid(const char *d);
/* True for exactly 64 lowercase hex chars. */
bool digest_hex_valid(const char *hex);
/* 64 random hex chars (a container id). */
int digest_random_id(char out[SHA256_HEX_LEN + 1], struct err **err);

#endif

/*
 * common/base64.h - base64 (RFC 4648, standard alphabet), one codec for
 * registry credentials, Basic auth headers, trust-policy keyData and
 * signature annotations.
 *
 * Runs in: any process. PURE.
 */
#ifndef MOAT_COMMON_BASE64_H
#define MOAT_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Encodes N bytes of S with padding; NULL on ENOMEM. */
char *base64_encode(const void *s, size_t n);

/* Decodes the N characters of S (padding optional; CR and LF ignored, like
 * Go's decoder) into a malloc'd, NUL-terminated buffer of *OUTLEN bytes.
 * -EINVAL for anything else (a character outside the alphabet, data after
 * padding, an impossible length), -ENOMEM. What was decoded before an
 * error is wiped first: it may be half a password. */
int base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);

/* Strict syntax: a non-empty multiple of 4 characters of the alphabet with
 * at most two '=' at the end, nothing else (no whitespace). */
bool base64_valid(const char *s);

#endif

/*
 * policy/decode.h - what moat's strict policy decoders share (the trust
 * policy, policy/trust.c; the tenant policy, policy/tenant*.c): errors that
 * name the file and the JSON path, the unknown-key check, and quoting of
 * untrusted text for messages.
 *
 * Runs in: any process. PURE.
 */
#ifndef MOAT_POLICY_DECODE_H
#define MOAT_POLICY_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* A decoder's context: the file it reads (for messages) and where the
 * first error goes. */
struct policy_dec {
	const char *file;
	struct err **err;
};

/* -EINVAL with "FILE: PATH: message" ("FILE: message" for an empty PATH). */
__attribute__((format(printf, 3, 4))) int policy_dec_fail(struct policy_dec *d, const char *path,
							  const char *fmt, ...);
/* K is one of the NULL-terminated LIST. */
bool policy_in_list(const char *k, const char *const *list);
/* Every key of OBJ is in ALLOWED; one in UNSUPPORTED (may be NULL) is
 * "not supported by moat", any other "unknown key": a typo is an error,
 * never ignored. Keys with NUL bytes are refused. */
int policy_check_keys(struct policy_dec *d, const char *path, json_t *obj,
		      const char *const *allowed, const char *const *unsupported);
/* S for a message: at most ~80 characters, quotes and backslashes escaped,
 * control and non-ASCII bytes as \xNN, "(null)" for NULL. Returns BUF. */
const char *policy_quote(const char *s, char *buf, size_t size);

#endif

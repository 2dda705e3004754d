/*
 * image/regconf.h - moat's registry configuration: which registries may be
 * reached without verified TLS, and where per-registry CA certificates
 * live.
 *
 * Files (JSON, strict: an unknown key is an error with file:line:column):
 *   /etc/moat/registries.json, then $XDG_CONFIG_HOME/moat/registries.json
 *   (else ~/.config/moat/registries.json), merged; MOAT_REGISTRIES_CONF=FILE
 *   replaces both (and must exist; /dev/null means none).
 *   {"insecure": ["host:port", ...], "certs_dirs": ["/abs/path"]}
 */
#ifndef MOAT_IMAGE_REGCONF_H
#define MOAT_IMAGE_REGCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct regconf {
	char **insecure; /* "host" or "host:port", as references spell them */
	size_t n_insecure;
	char **certs_dirs; /* absolute; at most REGCONF_CERTS_DIRS_MAX in all */
	size_t n_certs_dirs;
	char *user_certs_dir; /* $XDG_CONFIG_HOME/moat/certs.d (or ~/.config/...), or NULL */
};

/* registry_opts.certs_dirs holds 3 roots and a NULL: /etc/docker/certs.d,
 * one from the files, the user's. */
#define REGCONF_CERTS_DIRS_MAX 1

/* Reads the files (missing ones are empty). */
int regconf_load(struct regconf **out, struct err **err);
/* HOST ("localhost:5000") is listed as insecure (exact, case-insensitive). */
bool regconf_insecure(const struct regconf *c, const char *host);
/* /etc/docker/certs.d, the files' certs_dirs, the user's certs.d; NULL-
 * terminated. The strings belong to C. C may be NULL. */
void regconf_certs_dirs(const struct regconf *c, const char *out[4]);
void regconf_free(struct regconf *c);
/* Frees what C holds and zeroes it (for a struct on the stack). */
void regconf_clear(struct regconf *c);

/* PURE (fuzzed): decodes one file's BUF (capped at 1 MiB; empty or
 * whitespace-only is an empty file) and appends its entries to OUT. FILE
 * names it in errors. On error OUT is unchanged. */
int regconf_decode(const char *buf, size_t len, const char *file, struct regconf *out,
		   struct err **err);

#endif

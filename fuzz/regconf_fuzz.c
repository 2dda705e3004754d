/*
 * fuzz/regconf_fuzz.c - libFuzzer target for regconf_decode
 * (image/regconf.c).
 *
 * The input is decoded twice into one struct (the system file, then the
 * user's). Properties: a failed decode leaves the struct as it was; every
 * insecure entry is a valid registry host that regconf_insecure finds;
 * certs_dirs are absolute and at most REGCONF_CERTS_DIRS_MAX; the lists
 * stay NULL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"
#include "image/regconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct regconf *c)
{
	const char *d[4];

	if (c->n_certs_dirs > REGCONF_CERTS_DIRS_MAX)
		abort();
	for (size_t i = 0; i < c->n_insecure; i++)
		if (!image_reference_domain_valid(c->insecure[i]) ||
		    !regconf_insecure(c, c->insecure[i]))
			abort();
	if (c->insecure && c->insecure[c->n_insecure])
		abort();
	for (size_t i = 0; i < c->n_certs_dirs; i++)
		if (c->certs_dirs[i][0] != '/')
			abort();
	regconf_certs_dirs(c, d);
	if (!d[0] || d[3])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct regconf c = {0};
	struct err *err = NULL;

	for (int round = 0; round < 2; round++) {
		size_t ni = c.n_insecure, nc = c.n_certs_dirs;

		if (regconf_decode((const char *)data, size, "fuzz.json", &c, &err) < 0) {
			if (!err || c.n_insecure != ni || c.n_certs_dirs != nc)
				abort();
			err_free(&err);
		}
		check(&c);
	}
	regconf_clear(&c);
	return 0;
}

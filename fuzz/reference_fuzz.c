/*
 * fuzz/reference_fuzz.c - libFuzzer target for image/reference.c.
 *
 * Properties, each an abort() when broken:
 *  - a failed parse leaves every field NULL;
 *  - a parsed reference has a valid domain, a path of at most 255 bytes,
 *    and a tag or a digest;
 *  - image_reference_string() of it parses back to the same four fields
 *    (the canonical form is a fixed point);
 *  - the familiar forms and the registry host are always produced.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_reference r, again;
	struct err *err = NULL;
	char *in = strndup((const char *)data, size < 5000 ? size : 5000);
	char *s, *f, *fn;

	if (!in)
		return 0;
	(void)image_reference_domain_valid(in);
	if (image_reference_parse(in, &r, &err) < 0) {
		if (r.domain || r.path || r.tag || r.digest || !err)
			abort();
		err_free(&err);
		free(in);
		return 0;
	}
	if (!r.domain || !r.path || (!r.tag && !r.digest) ||
	    !image_reference_domain_valid(r.domain) || strlen(r.path) > 255)
		abort();
	s = image_reference_string(&r);
	f = image_reference_familiar(&r);
	fn = image_reference_familiar_name(&r);
	if (!s || !f || !fn || !image_reference_registry_host(&r))
		abort();
	if (image_reference_parse(s, &again, &err) < 0)
		abort();
	if (!same(r.domain, again.domain) || !same(r.path, again.path) || !same(r.tag, again.tag) ||
	    !same(r.digest, again.digest))
		abort();
	image_reference_clear(&again);
	image_reference_clear(&r);
	free(s);
	free(f);
	free(fn);
	free(in);
	return 0;
}

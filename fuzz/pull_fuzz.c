/*
 * fuzz/pull_fuzz.c - libFuzzer target for the pure parts of pull and
 * history (image/pull.c, image/save.c): platform strings, platform
 * selection from a decoded index, config history and RFC 3339 times.
 *
 * Properties checked (abort on violation): a parsed platform prints as a
 * string that parses back to the same platform; a selected entry is in
 * range and is never an attestation manifest; decoded history entries
 * are all there.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void platform(const char *s)
{
	struct image_platform p, q;
	struct err *err = NULL;
	char *a, *b;

	if (image_platform_parse(s, &p, &err) < 0) {
		err_free(&err);
		return;
	}
	a = image_platform_string(&p);
	if (!a || image_platform_parse(a, &q, &err) < 0)
		abort();
	b = image_platform_string(&q);
	if (!b || strcmp(a, b))
		abort();
	free(a);
	free(b);
	image_platform_clear(&p);
	image_platform_clear(&q);
}

static void select_from(const char *buf, size_t len)
{
	static const char *const wants[] = {"linux/amd64", "linux/arm/v7", "linux/arm64",
					    "windows/amd64", "linux/amd64/v3"};
	struct image_index *ix = NULL;
	struct err *err = NULL;

	if (image_index_decode(buf, len, NULL, &ix, &err) < 0) {
		err_free(&err);
		return;
	}
	for (size_t w = 0; w < sizeof(wants) / sizeof(wants[0]); w++) {
		struct image_platform p;
		size_t pick = (size_t)-1;
		const char *ref;

		if (image_platform_parse(wants[w], &p, &err) < 0)
			abort();
		if (image_platform_select(ix, &p, &pick, &err) == 0) {
			if (pick >= ix->n_manifests)
				abort();
			ref = image_descriptor_annotation(&ix->manifests[pick],
							  "vnd.docker.reference.type");
			if (ref && !strcmp(ref, "attestation-manifest"))
				abort();
		}
		err_free(&err);
		image_platform_clear(&p);
	}
	image_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_history_entry *h = NULL;
	struct err *err = NULL;
	size_t n = 0;
	int64_t t;
	char *s = strndup((const char *)data, size < 512 ? size : 512);

	if (s) {
		platform(s);
		image_time_parse(s, &t);
		free(s);
	}
	select_from((const char *)data, size);
	if (image_history_decode((const char *)data, size, &h, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (h[i].size != 0)
				abort();
		image_history_free(h, n);
	} else if (h || n) {
		abort();
	}
	err_free(&err);
	return 0;
}

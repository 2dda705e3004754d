/*
 * fuzz/image_config_fuzz.c - libFuzzer target for image_config_decode().
 *
 * The decoder is pure; the target checks that it never crashes, leaks or
 * reads past the input, and that what it accepts is internally consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_config *c = NULL;
	struct err *err = NULL;

	if (image_config_decode((const char *)data, size, &c, &err) == 0) {
		for (size_t i = 0; i < c->n_diff_ids; i++)
			if (!digest_valid(c->diff_ids[i]))
				abort();
		for (char **v = c->volumes; v && *v; v++)
			if (**v != '/' || strstr(*v, "/../") ||
			    !strcmp(*v + strlen(*v) - (strlen(*v) >= 3 ? 3 : 0), "/.."))
				abort();
		image_config_free(c);
	}
	err_free(&err);
	return 0;
}

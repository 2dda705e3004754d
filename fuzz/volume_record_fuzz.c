/*
 * fuzz/volume_record_fuzz.c - the volume record decoder
 * (volume_record_decode): what `moat volume ls`, `inspect` and every
 * mount of a named volume read back from ROOT/volumes/<name>/volume.json.
 * A record that decodes must encode, the encoding must decode to an equal
 * record, and encoding that again must give the same bytes (the encoding
 * is canonical).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "volume/volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool strv_equal(char **a, char **b)
{
	size_t i = 0;

	if (!a || !b)
		return false; /* never NULL after a decode */
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return !a[i] && !b[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct volume v, again;
	struct err *e = NULL;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;

	if (volume_record_decode((const char *)data, size, &v, &e) < 0) {
		if (!e || e->code == 0 || v.name || v.driver || v.labels || v.options)
			abort(); /* an error always says why and leaves nothing */
		err_free(&e);
		return 0;
	}
	if (!v.name || !v.driver || !v.labels || !v.options || v.created < 0 || v.mountpoint)
		abort();
	if (volume_record_encode(&v, &buf, &len, &e) < 0)
		abort();
	if (len != strlen(buf) || len > VOLUME_RECORD_MAX)
		abort();
	if (volume_record_decode(buf, len, &again, &e) < 0)
		abort();
	if (strcmp(v.name, again.name) || strcmp(v.driver, again.driver) ||
	    v.created != again.created || v.anonymous != again.anonymous ||
	    !strv_equal(v.labels, again.labels) || !strv_equal(v.options, again.options))
		abort();
	if (volume_record_encode(&again, &buf2, &len2, &e) < 0 || len2 != len ||
	    memcmp(buf, buf2, len))
		abort();
	volume_free(&again);
	volume_free(&v);
	free(buf);
	free(buf2);
	return 0;
}

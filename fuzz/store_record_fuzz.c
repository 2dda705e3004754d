/*
 * fuzz/store_record_fuzz.c - the image store's per-image record decoder
 * (store_record_decode, image/records.c): ROOT/images/<id>.json, written
 * by moat but read back by every later command. A decoded record must
 * encode and decode again to the same layers, ids and repo digests.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file name a record is checked against; the seeds carry this id. */
#define HEX "4f2a000000000000000000000000000000000000000000000000000000000001"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_record r = {0}, again = {0};
	struct err *e = NULL;
	char *buf = NULL;

	if (store_record_decode((const char *)data, size, HEX, "fuzz", &r, &e) < 0) {
		err_free(&e);
		return 0;
	}
	if (store_record_encode(&r, &buf, &e) < 0)
		abort();
	if (store_record_decode(buf, strlen(buf), HEX, "fuzz", &again, &e) < 0)
		abort();
	if (strcmp(r.id, again.id) || strcmp(r.manifest, again.manifest) ||
	    r.n_layers != again.n_layers || r.size != again.size)
		abort();
	for (size_t i = 0; r.repo_digests && r.repo_digests[i]; i++)
		if (!again.repo_digests || !again.repo_digests[i] ||
		    strcmp(r.repo_digests[i], again.repo_digests[i]))
			abort();
	store_record_clear(&again);
	store_record_clear(&r);
	free(buf);
	return 0;
}

/*
 * fuzz/container_record_fuzz.c - the container record decoder
 * (engine_container_record_decode): what `moat ps` and `moat rm` read
 * back from ROOT/containers/<id>/container.json. A decoded record must
 * encode again and decode to the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_record r, again;
	struct err *e = NULL;
	char *buf = NULL;
	size_t len = 0;

	if (engine_container_record_decode((const char *)data, size, &r, &e) < 0) {
		err_free(&e);
		return 0;
	}
	if (engine_container_record_encode(&r, &buf, &len, &e) < 0)
		abort();
	if (engine_container_record_decode(buf, len, &again, &e) < 0)
		abort();
	if (strcmp(r.id, again.id) || r.created != again.created || r.exit_code != again.exit_code)
		abort();
	engine_container_record_free(&again);
	engine_container_record_free(&r);
	free(buf);
	return 0;
}

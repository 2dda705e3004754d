/*
 * fuzz/commit_change_fuzz.c - libFuzzer target for `moat commit --change`
 * (image/commit.c: the Dockerfile instruction parser, quote and $VAR
 * processing, and the config editor).
 *
 * Input: --change values separated by NUL bytes, applied to a fixed
 * parent config. Properties: a failure sets an error with a message and
 * returns no config; a success returns compact JSON that parses as an
 * object whose rootfs.diff_ids gained exactly the new DiffID and whose
 * history ends with the commit's entry; the early check never crashes.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/commit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIFF "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char base[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\","
    "\"HOME=/root\"],\"Cmd\":[\"/bin/sh\"],\"Shell\":[\"/bin/ash\",\"-c\"]},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:11111111111111111111111111111"
    "11111111111111111111111111111111111\"]},\"history\":[{\"created_by\":\"ADD\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_commit_meta m = {.created_by = "moat commit", .created = 1, .diff_id = DIFF};
	char *buf, **changes, *out = NULL;
	struct err *err = NULL;
	size_t n = 1, k = 0, len = 0;
	int r;

	if (size > (1u << 20))
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	for (size_t i = 0; i < size; i++)
		n += buf[i] == 0;
	changes = calloc(n + 1, sizeof(char *));
	if (!changes)
		abort();
	for (char *p = buf; p <= buf + size; p += strlen(p) + 1)
		changes[k++] = p;

	r = image_commit_changes_check(changes, &err);
	if (r < 0 && (!err || !err->msg[0]))
		abort();
	err_free(&err);

	r = image_commit_config(base, strlen(base), changes, &m, &out, &len, &err);
	if (r < 0) {
		if (out || !err || !err->msg[0])
			abort();
		err_free(&err);
	} else {
		json_t *j = json_loadb(out, len, 0, NULL);
		json_t *ids = j ? json_object_get(json_object_get(j, "rootfs"), "diff_ids") : NULL;
		json_t *h = j ? json_object_get(j, "history") : NULL;

		if (!j || !json_is_object(j) || strlen(out) != len || json_array_size(ids) != 2 ||
		    strcmp(json_string_value(json_array_get(ids, 1)), DIFF) ||
		    json_array_size(h) != 2 ||
		    strcmp(json_string_value(json_object_get(json_array_get(h, 1), "created_by")),
			   "moat commit"))
			abort();
		json_decref(j);
		free(out);
	}
	free(changes);
	free(buf);
	return 0;
}

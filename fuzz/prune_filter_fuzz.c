/*
 * fuzz/prune_filter_fuzz.c - prune filters (engine/prune.c:
 * prune_filter_parse, prune_filter_match, prune_until_parse,
 * prune_duration_parse). The first input byte picks the target, -a and
 * the local zone's sign; the rest is split on '\n' into --filter values.
 * A filter that parses is matched against a few fixed items (labels with
 * and without values, a repeated key, none at all) at the int64 limits;
 * every line also goes through the until and duration parsers alone
 * (ASan and UBSan judge those: no overflow, no read past the string).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/prune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *labels_a[] = {"env=prod", "tier=front", "flag=", "k", NULL};
static char *labels_b[] = {"env=dev", "env=prod", "=x", "", NULL};
static char **const items[] = {labels_a, labels_b, NULL};
static const int64_t times[] = {INT64_MIN, -1, 0, 1700000000000000000LL, INT64_MAX};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prune_clock clk = {1700000000000000000LL, 3600};
	struct prune_filter f;
	struct err *e = NULL;
	char **specs;
	size_t n = 0, start = 1;
	enum prune_target t;
	bool all;

	if (size < 1 || size > 64 * 1024)
		return 0;
	t = data[0] & 1 ? PRUNE_IMAGES : PRUNE_CONTAINERS;
	all = data[0] & 2;
	if (data[0] & 4)
		clk.utc_offset = -clk.utc_offset;
	if (data[0] & 8)
		clk.now_ns = data[0] & 16 ? INT64_MAX : INT64_MIN;
	specs = calloc(size + 1, sizeof(*specs));
	if (!specs)
		return 0;
	for (size_t i = 1; i <= size; i++) {
		int64_t v;

		if (i < size && data[i] != '\n')
			continue;
		specs[n] = malloc(i - start + 1);
		if (!specs[n])
			goto out;
		memcpy(specs[n], data + start, i - start);
		specs[n][i - start] = 0; /* an embedded NUL just cuts the spec */
		prune_until_parse(specs[n], &clk, &v);
		prune_duration_parse(specs[n], &v);
		n++;
		start = i + 1;
	}
	if (prune_filter_parse(specs, n, t, all, &clk, &f, &e) < 0) {
		/* a refusal says why and leaves nothing behind */
		if (!e || !e->msg[0] || f.labels || f.not_labels || f.shown || f.has_until)
			abort();
		err_free(&e);
	} else {
		if (e || f.n_shown > n || f.n_labels + f.n_not > n)
			abort();
		for (size_t i = 0; i < f.n_shown; i++)
			if (!f.shown[i] || strlen(f.shown[i]) > PRUNE_FILTER_LEN_MAX + 16)
				abort();
		for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
			for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
				if (prune_filter_match(&f, times[k], items[i]) !=
				    prune_filter_match(&f, times[k], items[i]))
					abort();
		prune_filter_clear(&f);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	return 0;
}

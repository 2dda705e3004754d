/*
 * fuzz/psfilter_fuzz.c - `ps --filter` (ps_filter_parse, ps_filter_match).
 * The input is split on '\n' into filter specs; a filter that parses is
 * matched against a few fixed containers, including one with missing
 * fields. Name patterns go through regcomp, so this also guards the cap on
 * pattern complexity (a blow-up shows as a timeout or an out-of-memory).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *labels_web[] = {"env=prod", "tier=front", "flag", NULL};
static char *labels_db[] = {"env=dev", "", "=x", NULL};

static const struct ps_item items[] = {
    {"aaaa111111111111111111111111111111111111111111111111111111111111", "/web", "nginx",
     "sha256:1111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", labels_web, CTR_RUNNING,
     0},
    {"bbbb222222222222222222222222222222222222222222222222222222222222", "db",
     "docker.io/library/postgres:16",
     "sha256:2222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", labels_db, CTR_EXITED,
     1},
    {"cccc", "x", "registry.example.com:5000/a/b@sha256:00", "sha256:", NULL, CTR_PAUSED, 255},
    {NULL, NULL, NULL, NULL, NULL, CTR_DEAD, -1},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **specs;
	size_t n = 0, start = 0;
	struct ps_filter *f = NULL;
	struct err *e = NULL;

	if (size > 64 * 1024)
		return 0;
	specs = calloc(size + 1, sizeof(*specs));
	if (!specs)
		return 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		specs[n] = malloc(i - start + 1);
		if (!specs[n])
			goto out;
		memcpy(specs[n], data + start, i - start);
		specs[n][i - start] = 0; /* an embedded NUL just cuts the spec */
		n++;
		start = i + 1;
	}
	if (ps_filter_parse(specs, n, &f, &e) < 0) {
		if (f || !e || !e->msg[0])
			abort();
		err_free(&e);
	} else {
		for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
			if (ps_filter_match(f, &items[i]) != ps_filter_match(f, &items[i]))
				abort();
		ps_filter_free(f);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	return 0;
}

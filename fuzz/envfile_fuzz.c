/*
 * fuzz/envfile_fuzz.c - the --env-file and --label-file parsers
 * (options_env_file_parse, options_label_file_parse) on the same text.
 * Both follow the same line rules, so they must agree on success; every
 * entry they produce is "KEY=..." with a non-empty key free of spaces and
 * tabs, and a failure must leave the caller's list untouched.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entries(char **v, size_t from)
{
	for (size_t i = from; v && v[i]; i++) {
		size_t k = strcspn(v[i], "=");

		if (k == 0 || v[i][k] != '=' || memchr(v[i], ' ', k) || memchr(v[i], '\t', k))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *environ_[] = {"HOME=/root", "PATH=/usr/bin:/bin", "EMPTY=", "A=from-env", NULL};
	char **env = calloc(2, sizeof(char *)), **labels = NULL, *keep;
	struct err *e = NULL;
	int re, rl;

	if (!env)
		return 0;
	keep = env[0] = strdup("PRE=1");
	re = options_env_file_parse("fuzz.env", (const char *)data, size, environ_, &env, &e);
	if (re < 0) {
		if (!e || !e->msg[0] || env[0] != keep || env[1])
			abort();
		err_free(&e);
	} else {
		if (e || strcmp(env[0], "PRE=1"))
			abort();
		check_entries(env, 1);
	}
	rl = options_label_file_parse("fuzz.labels", (const char *)data, size, &labels, &e);
	if (rl < 0) {
		if (!e || labels)
			abort();
		err_free(&e);
	} else {
		check_entries(labels, 0);
	}
	if ((re < 0) != (rl < 0) || (re < 0 && re != rl))
		abort();
	strvfree(env);
	strvfree(labels);
	return 0;
}

/*
 * fuzz/limits_fuzz.c - libFuzzer target for the unit parser for sizes and
 * CPU quantities, and the cpuset and ulimit parsers (engine/limits.c).
 *
 * Every input goes to all four parsers. Properties: a refusal sets an
 * error and leaves the output alone; a size is >= 0 and printing it in
 * bytes parses back to the same value; nano-CPUs are > 0 and their decimal
 * form (n / 1e9 with nine decimals) parses back to the same value; a cpuset
 * comes out normalised (parsing the output gives the output again) and
 * NUL-terminated; a ulimit has a known resource, a name, and soft <= hard
 * unless hard is unlimited.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "engine/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused(int r, struct err **err)
{
	if (r >= 0 || !*err || !(*err)->msg[0])
		abort();
	err_free(err);
}

static void size_check(const char *s)
{
	struct err *err = NULL;
	int64_t v = -5, back = -5;
	char text[32];

	if (engine_limits_size_parse(s, &v, &err) < 0) {
		if (v != -5)
			abort();
		refused(-1, &err);
		return;
	}
	if (err || v < 0)
		abort();
	snprintf(text, sizeof(text), "%lldb", (long long)v);
	if (engine_limits_size_parse(text, &back, &err) < 0 || back != v)
		abort();
}

static void cpus_check(const char *s)
{
	struct err *err = NULL;
	int64_t v = -5, back = -5;
	char text[48];

	if (engine_limits_cpus_parse(s, &v, &err) < 0) {
		if (v != -5)
			abort();
		refused(-1, &err);
		return;
	}
	if (err || v <= 0)
		abort();
	snprintf(text, sizeof(text), "%lld.%09lld", (long long)(v / 1000000000),
		 (long long)(v % 1000000000));
	if (engine_limits_cpus_parse(text, &back, &err) < 0 || back != v)
		abort();
}

static void cpuset_check(const char *s)
{
	struct err *err = NULL;
	char out[128], again[128];

	memset(out, 'x', sizeof(out));
	if (engine_limits_cpuset_parse(s, out, &err) < 0) {
		for (size_t i = 0; i < sizeof(out); i++)
			if (out[i] != 'x')
				abort();
		refused(-1, &err);
		return;
	}
	if (!memchr(out, '\0', sizeof(out)) || !out[0])
		abort();
	if (engine_limits_cpuset_parse(out, again, &err) < 0 || strcmp(out, again))
		abort();
}

static void ulimit_check(const char *s)
{
	struct err *err = NULL;
	struct engine_ulimit u = {-5, 5, 5};

	if (engine_limits_ulimit_parse(s, &u, &err) < 0) {
		if (u.resource != -5 || u.soft != 5 || u.hard != 5)
			abort();
		refused(-1, &err);
		return;
	}
	if (u.resource < 0 || u.resource >= RLIM_NLIMITS || !engine_limits_ulimit_name(u.resource))
		abort();
	if (u.hard != RLIM_INFINITY && (u.soft == RLIM_INFINITY || u.soft > u.hard))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	size_check(s);
	cpus_check(s);
	cpuset_check(s);
	ulimit_check(s);
	free(s);
	return 0;
}

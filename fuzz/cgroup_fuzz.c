/*
 * fuzz/cgroup_fuzz.c - the cgroup file parsers of sandbox/cgroup.c
 * (mountinfo, /proc/self/cgroup, single values, keyed files, cgroup.procs,
 * freezer state, meminfo): what the kernel writes, read by the monitor and
 * by `moat stats`/`top`/`pause`. Every parser sees every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sandbox/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct sandbox_cgroup_mounts m;
	struct err *e = NULL;
	char path[64];
	uint64_t v;
	bool b;
	pid_t *p = NULL;
	size_t n;

	if (sandbox_cgroup_parse_mountinfo(t, size, &m, &e) == 0) {
		for (int c = 0; c < SANDBOX_CGROUP_NCTRL; c++)
			if (m.v1[c][0] && (m.v1[c][0] != '/' || strlen(m.v1[c]) >= sizeof(m.v1[c])))
				abort();
	}
	err_free(&e);
	if (sandbox_cgroup_parse_self(t, size, path, sizeof(path), &e) == 0 && path[0] != '/')
		abort();
	err_free(&e);
	sandbox_cgroup_parse_u64(t, size, "f", &v, &b, &e);
	err_free(&e);
	sandbox_cgroup_parse_keyed(t, size, "f", "oom_kill", &v, &e);
	err_free(&e);
	if (sandbox_cgroup_parse_procs(t, size, &p, &n, &e) == 0) {
		for (size_t i = 0; i < n; i++)
			if (p[i] <= 0)
				abort();
		free(p);
	}
	err_free(&e);
	sandbox_cgroup_parse_freezer_state(t, size, &b, &e);
	err_free(&e);
	sandbox_cgroup_parse_meminfo(t, size, &v, &e);
	err_free(&e);
	return 0;
}

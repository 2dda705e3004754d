/*
 * engine/limits.h - a container's resource limits: Docker's flags
 * (--memory, --memory-swap, --memory-reservation, --cpus, --cpu-shares,
 * --cpuset-cpus, --pids-limit, --ulimit, --oom-score-adj, --shm-size), as
 * one struct that create fills, the tenant policy bounds and defaults, the
 * record keeps, and start enforces (cgroup where there is one, rlimits and
 * oom_score_adj in the container's init).
 *
 * Runs in: the moat process (parsing, PURE, fuzzed by
 * fuzz/limits_fuzz.c), the monitor and the setup child (enforcement).
 */
#ifndef MOAT_ENGINE_LIMITS_H
#define MOAT_ENGINE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define ENGINE_MAX_ULIMITS 16
/* Without --pids-limit a container still gets this one, so that a fork
 * bomb is contained without anyone asking (Docker has none). */
#define ENGINE_DEFAULT_PIDS_LIMIT 4096

struct engine_ulimit {
	int resource;	     /* RLIMIT_* */
	uint64_t soft, hard; /* RLIM_INFINITY for "unlimited" (-1 in Docker's syntax) */
};

/* 0 (or -1 where noted) means "not set": no limit, the host's default. */
struct engine_limits {
	int64_t memory;		    /* bytes */
	int64_t memory_swap;	    /* bytes of memory+swap; -1: unlimited swap */
	int64_t memory_reservation; /* bytes (soft limit) */
	int64_t nano_cpus;	    /* --cpus 1.5 -> 1500000000 */
	int64_t cpu_shares;	    /* 2..262144 */
	char cpuset_cpus[128];	    /* "0-3,5"; "" not set */
	int64_t pids_limit;	    /* > 0; -1: unlimited (explicit); 0: the default */
	struct engine_ulimit ulimits[ENGINE_MAX_ULIMITS];
	size_t n_ulimits;
	int oom_score_adj; /* -1000..1000 */
	bool has_oom_score_adj;
	int64_t shm_size; /* bytes of /dev/shm; 0: moat's default (64m) */
};

/* ---- PURE parsers (Docker's syntax and messages) ---- */

/* Docker's RAMInBytes: "512m", "1g", "1024" (bytes), "1.5g"; units b, k,
 * m, g, t, p (case-insensitive, optional trailing "b"/"ib"). Negative and
 * overflowing values are refused. */
int engine_limits_size_parse(const char *s, int64_t *out, struct err **err);
/* --cpus: a decimal ("1.5", "0.25") into nano-CPUs; at most 9 decimals,
 * > 0, at most the host's CPU count is the caller's check. */
int engine_limits_cpus_parse(const char *s, int64_t *out, struct err **err);
/* --cpuset-cpus: "0-3,5,7-8" (validated, normalised copy in OUT). */
int engine_limits_cpuset_parse(const char *s, char out[128], struct err **err);
/* --ulimit NAME=SOFT[:HARD] (Docker's names: nofile, nproc, core, ...). */
int engine_limits_ulimit_parse(const char *s, struct engine_ulimit *out, struct err **err);
/* Docker's name of RLIMIT_* RESOURCE ("nofile"), NULL when it has none. */
const char *engine_limits_ulimit_name(int resource);

#endif

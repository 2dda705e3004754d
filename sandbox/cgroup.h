/*
 * sandbox/cgroup.h - per-container cgroups: placement, freeze, stats, teardown.
 *
 * The container's monitor creates the cgroup and attaches the container's
 * init to it before releasing it; `moat pause`, `moat stats` and `moat top`
 * open it again by container id from another process; removal destroys it.
 *
 * Where a container's cgroup lives:
 *  - cgroup v1 (root only): <mnt>/moat/<id> in each of the freezer, memory,
 *    cpuacct (alone or co-mounted with cpu), pids, cpu and cpuset
 *    hierarchies that are mounted; the freezer is required;
 *  - cgroup v2, root: /sys/fs/cgroup/moat/<id>, with memory, pids, cpu and
 *    cpuset enabled on the way down where the kernel offers them;
 *  - cgroup v2, rootless: <D>/moat-<id12>, where D is the topmost cgroup
 *    above the caller's own (from /proc/self/cgroup) that is delegated to the
 *    caller (owned, cgroup.procs and cgroup.subtree_control writable).
 * Rootless on cgroup v1 is refused with -ENOTSUP: v1 has no delegation.
 */
#ifndef MOAT_SANDBOX_CGROUP_H
#define MOAT_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct sandbox_cgroup;

/* Every function below accepts a NULL ERR (best-effort callers, teardown),
 * except the backend interface at the end. Once the cgroup has been removed,
 * freeze, frozen, stats, pids and attach return -ENOENT. */

/*
 * Creates the cgroup for container ID (64 lowercase hex) and returns a handle
 * in *OUT. Directories are mode 0755 and belong to the caller. Fails with
 * -EEXIST when it exists already (and leaves that one alone); on any other
 * failure removes what it created (the shared "moat" parents stay).
 */
int sandbox_cgroup_create(const char *id, struct sandbox_cgroup **out, struct err **err);
/* Opens an existing one (for pause, stats, top, rm); -ENOENT if absent. */
int sandbox_cgroup_open(const char *id, struct sandbox_cgroup **out, struct err **err);
/* Moves PID into it, in every hierarchy (-ESRCH when PID is gone). No
 * rollback on a partial move: the caller kills PID on failure. */
int sandbox_cgroup_attach(const struct sandbox_cgroup *cg, pid_t pid, struct err **err);
/* Freezes (true) or thaws (false) and waits until the kernel reports that
 * state, up to 5 s; then undoes a freeze that did not complete and returns
 * -ETIMEDOUT. */
int sandbox_cgroup_freeze(const struct sandbox_cgroup *cg, bool freeze, struct err **err);
/* True only once every task is frozen (v1 FROZEN, v2 "frozen 1"). */
int sandbox_cgroup_frozen(const struct sandbox_cgroup *cg, bool *frozen, struct err **err);

struct cgroup_stats {
	uint64_t cpu_ns;    /* v1 cpuacct.usage; v2 cpu.stat usage_usec * 1000 */
	uint64_t mem_usage; /* bytes: memory.usage_in_bytes (v1) or memory.current (v2) minus
			     * inactive file cache, as docker reports it */
	uint64_t mem_limit; /* memory.limit_in_bytes / memory.max, never above the host's
			     * MemTotal ("max", v1's huge "unlimited", no memory controller) */
	uint64_t pids;	    /* pids.current; the process count without a pids controller */
	uint64_t oom_kills; /* "oom_kill N" of memory.oom_control (v1) / memory.events (v2) */
};
/*
 * Resource limits, in the kernel's terms (the engine converts Docker's
 * flags; sandbox/ knows nothing of them). 0 means "leave the kernel's
 * default" (no limit) for every field.
 */
struct cgroup_limits {
	int64_t memory;		    /* bytes: v1 memory.limit_in_bytes, v2 memory.max */
	int64_t memory_swap;	    /* memory + swap bytes, -1 unlimited: v1 memsw.limit_in_bytes,
				     * v2 memory.swap.max (the swap part alone) */
	int64_t memory_reservation; /* bytes: v1 memory.soft_limit_in_bytes, v2 memory.low */
	int64_t cpu_quota_us;	    /* per cpu_period_us: v1 cfs_quota_us/period_us, v2 cpu.max */
	int64_t cpu_period_us;
	int64_t cpu_shares;    /* 2..262144: v1 cpu.shares, v2 cpu.weight (runc's mapping) */
	char cpuset_cpus[128]; /* "" none: cpuset.cpus */
	int64_t pids_max;      /* pids.max */
};
/*
 * Writes L into CG; for root containers, called before the init joins CG,
 * so no process ever runs without them. A limit whose controller is
 * missing fails with -ENOTSUP (never silently dropped), except the swap
 * part where the kernel has no swap accounting (v1 without memsw files):
 * APPLIED then lacks "swap". APPLIED (LEN bytes) lists what was written,
 * e.g. "memory swap cpu pids".
 */
int sandbox_cgroup_set_limits(const struct sandbox_cgroup *cg, const struct cgroup_limits *l,
			      char *applied, size_t len, struct err **err);
/* runc's cpu.shares -> cpu.weight: [2, 262144] onto [1, 10000]. */
static inline uint64_t sandbox_cgroup_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* Fields whose controller is absent stay 0 (mem_limit: MemTotal). */
int sandbox_cgroup_stats(const struct sandbox_cgroup *cg, struct cgroup_stats *st,
			 struct err **err);
/* Every process in it (cgroup.procs) in *PIDS (malloc'd, never NULL on
 * success; free it) and their number in *N. */
int sandbox_cgroup_pids(const struct sandbox_cgroup *cg, pid_t **pids, size_t *n, struct err **err);
/*
 * Kills whatever is left and removes the directories: thaw, kill every
 * process (v2 cgroup.kill where present; v1 while frozen, so that no pid can
 * be reused between reading it and signalling it), wait up to 2 s for
 * cgroup.procs to empty, rmdir. A cgroup already gone is success. CG stays
 * allocated: sandbox_cgroup_close() it afterwards.
 */
int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, struct err **err);
/* Frees CG (NULL is fine); removes nothing. */
void sandbox_cgroup_close(struct sandbox_cgroup *cg);

static inline void sandbox_cgroup_closep(struct sandbox_cgroup **cg)
{
	sandbox_cgroup_close(*cg);
}
#define _cleanup_cgroup_ __attribute__((cleanup(sandbox_cgroup_closep)))

/* For `moat info`: "v1 (freezer, memory, cpuacct, pids)", "v2 (memory pids
 * cpu)", or "unavailable: <why>" for this caller. */
void sandbox_cgroup_describe(bool rootless, char *buf, size_t len);

/* Tests only: use the cgroup2 hierarchy mounted at MNT (e.g. the hybrid
 * /sys/fs/cgroup/unified) instead of detecting; NULL detects again. */
void sandbox_cgroup_force_v2(const char *mnt);
/* Tests only: destroy kills by pid, as where cgroup.kill is missing (before
 * Linux 5.14) or a v1 freeze times out. */
void sandbox_cgroup_force_pid_kill(bool on);

/*
 * Pure parsers of what the kernel writes (no file system access; each takes
 * LEN bytes, not necessarily NUL-terminated, refuses NUL bytes, sets a
 * message naming WHAT or the file, and leaves its outputs alone on failure).
 */
enum sandbox_cgroup_ctrl {
	SANDBOX_CGROUP_FREEZER,
	SANDBOX_CGROUP_MEMORY,
	SANDBOX_CGROUP_CPUACCT,
	SANDBOX_CGROUP_PIDS,
	/* For limits only (cpu.cfs_*, cpu.shares; cpuset.cpus): after the
	 * original four so that their indices, and `moat info`, stay. */
	SANDBOX_CGROUP_CPU,
	SANDBOX_CGROUP_CPUSET,
	SANDBOX_CGROUP_NCTRL,
};
#define SANDBOX_CGROUP_MNT_MAX 512

struct sandbox_cgroup_mounts {
	/* Mount point of the v1 hierarchy carrying each controller, "" if none;
	 * a hierarchy mounted at its root ("/") wins over a bind of a subtree. */
	char v1[SANDBOX_CGROUP_NCTRL][SANDBOX_CGROUP_MNT_MAX];
	char v2[SANDBOX_CGROUP_MNT_MAX]; /* first cgroup2 mount point, "" if none */
};
/* /proc/self/mountinfo: "line N: ..." on a malformed line, octal escapes
 * (\040) in mount points decoded. */
int sandbox_cgroup_parse_mountinfo(const char *text, size_t len, struct sandbox_cgroup_mounts *out,
				   struct err **err);
/* /proc/self/cgroup: the path of the "0::" (cgroup v2) entry into PATH;
 * -ENOENT when there is none. */
int sandbox_cgroup_parse_self(const char *text, size_t len, char *path, size_t size,
			      struct err **err);
/* A one-number file (cpuacct.usage, memory.current, pids.current, ...): a
 * decimal and one optional newline. "max" is accepted (*IS_MAX = true, *OUT =
 * UINT64_MAX) only when IS_MAX is not NULL. */
int sandbox_cgroup_parse_u64(const char *text, size_t len, const char *what, uint64_t *out,
			     bool *is_max, struct err **err);
/* A flat keyed file ("key value" lines: memory.stat, memory.oom_control,
 * memory.events, cpu.stat, cgroup.events): the value of KEY. -ENOENT when
 * KEY is absent, -EINVAL on a malformed line or a repeated KEY. */
int sandbox_cgroup_parse_keyed(const char *text, size_t len, const char *what, const char *key,
			       uint64_t *out, struct err **err);
/* cgroup.procs: one pid per line, into *PIDS (malloc'd, never NULL). */
int sandbox_cgroup_parse_procs(const char *text, size_t len, pid_t **pids, size_t *n,
			       struct err **err);
/* v1 freezer.state: FROZEN -> true; THAWED, FREEZING -> false. */
int sandbox_cgroup_parse_freezer_state(const char *text, size_t len, bool *frozen,
				       struct err **err);
/* /proc/meminfo: MemTotal in bytes. */
int sandbox_cgroup_parse_meminfo(const char *text, size_t len, uint64_t *bytes, struct err **err);
/* "freezer", "memory", "cpuacct", "pids", "cpu", "cpuset". */
const char *sandbox_cgroup_ctrl_name(enum sandbox_cgroup_ctrl c);

#ifdef SANDBOX_CGROUP_BACKEND
/*
 * The backend interface: for sandbox/cgroup.c, cgroup_v1.c and cgroup_v2.c
 * only (each defines SANDBOX_CGROUP_BACKEND before including this). Callers
 * see struct sandbox_cgroup as opaque.
 */
#define SANDBOX_CGROUP_ID_LEN 64
#define SANDBOX_CGROUP_SMALL_MAX (64u * 1024)	     /* stat, events, one-number files */
#define SANDBOX_CGROUP_PROCS_MAX (16u * 1024 * 1024) /* cgroup.procs: millions of pids */
#define SANDBOX_CGROUP_PARENT "moat"

/* One hierarchy's view of a container's cgroup (v2 has exactly one). */
struct sandbox_cgroup_hier {
	int parent; /* the directory holding the container's cgroup */
	int dir;    /* the container's cgroup */
	bool made;  /* made by this handle: removed again if create fails */
	char path[SANDBOX_CGROUP_MNT_MAX + 4096 + 80]; /* for messages only */
};

struct sandbox_cgroup {
	const struct sandbox_cgroup_ops *ops;
	char name[SANDBOX_CGROUP_ID_LEN + 1]; /* directory name: the id, or moat-<id12> */
	size_t n;			      /* hierarchies in h; h[0] is read for pids */
	struct sandbox_cgroup_hier h[SANDBOX_CGROUP_NCTRL];
	int ctrl[SANDBOX_CGROUP_NCTRL]; /* index in h per controller, -1 when absent */
};

struct sandbox_cgroup_ops {
	/* Fills CG (n, h, ctrl, name) for container ID, making the directories
	 * with CREATE. On failure CG holds what was made, for the rollback. */
	int (*place)(const struct sandbox_cgroup_mounts *m, const char *id, bool create,
		     struct sandbox_cgroup *cg, struct err **err);
	/* Asks for the state; sandbox_cgroup_freeze() waits for it. */
	int (*set_frozen)(const struct sandbox_cgroup *cg, bool freeze, struct err **err);
	int (*frozen)(const struct sandbox_cgroup *cg, bool *frozen, struct err **err);
	/* ST is zeroed by the caller. */
	int (*stats)(const struct sandbox_cgroup *cg, struct cgroup_stats *st, struct err **err);
	/* Signals every process once without racing pid reuse; -ENOTSUP when
	 * it cannot (the caller then kills by pid). */
	int (*kill_all)(const struct sandbox_cgroup *cg, struct err **err);
	void (*describe)(const struct sandbox_cgroup_mounts *m, bool rootless, char *buf,
			 size_t len);
	/* sandbox_cgroup_set_limits(); APPLIED is "" on entry. */
	int (*set_limits)(const struct sandbox_cgroup *cg, const struct cgroup_limits *l,
			  char *applied, size_t len, struct err **err);
};

extern const struct sandbox_cgroup_ops sandbox_cgroup_v1_ops;
extern const struct sandbox_cgroup_ops sandbox_cgroup_v2_ops;

/* Opens a cgroupfs mount point by absolute PATH (from mountinfo) and checks
 * its type (MAGIC: CGROUP_SUPER_MAGIC or CGROUP2_SUPER_MAGIC). */
int sandbox_cgroup_mount_open(const char *path, long magic, struct err **err);
/* Opens NAME under DIRFD, making it first (mode 0755) with CREATE; for the
 * shared parents, which may exist already and are never removed. */
int sandbox_cgroup_parent_open(int dirfd, const char *dirpath, const char *name, bool create,
			       struct err **err);
/* Makes (CREATE; -EEXIST if there) or opens the container's directory NAME
 * under H->parent, setting H->dir, H->made and H->path. */
int sandbox_cgroup_leaf_place(struct sandbox_cgroup_hier *h, const char *parentpath,
			      const char *name, bool create, struct err **err);
/* Reads NAME in H's cgroup (at most CAP bytes). With OPTIONAL a missing
 * file (a controller that is not there) sets *OUT to NULL and succeeds. */
int sandbox_cgroup_file_read(const struct sandbox_cgroup_hier *h, const char *name, size_t cap,
			     bool optional, char **out, size_t *len, struct err **err);
/* Writes VAL to NAME in DIRFD with one write(2) (DIRPATH for messages). */
int sandbox_cgroup_file_write(int dirfd, const char *dirpath, const char *name, const char *val,
			      struct err **err);
/* A one-number file of H; a missing file leaves *OUT alone. */
int sandbox_cgroup_file_u64(const struct sandbox_cgroup_hier *h, const char *name, uint64_t *out,
			    bool *is_max, struct err **err);
/* KEY of a keyed file of H; a missing file or key leaves *OUT alone. */
int sandbox_cgroup_file_key(const struct sandbox_cgroup_hier *h, const char *name, const char *key,
			    uint64_t *out, struct err **err);
/* The number of processes in H's cgroup. */
int sandbox_cgroup_procs_count(const struct sandbox_cgroup_hier *h, uint64_t *n, struct err **err);
/* MemTotal in bytes, 0 when unknown. */
uint64_t sandbox_cgroup_host_memtotal(void);
/* set_frozen, then waits up to TIMEOUT_MS for the state; undoes a freeze
 * that did not complete and returns -ETIMEDOUT. */
int sandbox_cgroup_freeze_wait(const struct sandbox_cgroup *cg, bool freeze, int timeout_ms,
			       struct err **err);
/* NAMES joined by SEP into BUF (truncated to LEN). */
void sandbox_cgroup_names_join(char *buf, size_t len, const char *sep, const char *const *names,
			       size_t n);

/* Docker's memory "usage": what the cgroup holds minus the cache it can
 * drop at once. */
static inline uint64_t sandbox_cgroup_mem_usage(uint64_t usage, uint64_t inactive_file)
{
	return inactive_file < usage ? usage - inactive_file : usage;
}

/* A limit above the host's memory means none: report the host's memory. */
static inline uint64_t sandbox_cgroup_mem_limit(uint64_t limit, uint64_t memtotal)
{
	return memtotal && limit > memtotal ? memtotal : limit;
}
#endif /* SANDBOX_CGROUP_BACKEND */

#endif

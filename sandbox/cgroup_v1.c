/*
 * sandbox/cgroup_v1.c - the cgroup v1 backend: one directory per
 * hierarchy, <mnt>/moat/<id>, in the freezer, memory, cpuacct, pids, cpu
 * and cpuset hierarchies that are mounted (see cgroup.h).
 *
 * Runs in: the monitor and `moat pause/stats/top/rm`, as root only. v1 has
 * no delegation: a rootless caller gets -ENOTSUP, because making a cgroup
 * writable for a user there would let that user's containers reach every
 * knob of a hierarchy shared with the host.
 *
 * Invariants:
 *  - the freezer hierarchy is required and is h[0], the one whose
 *    cgroup.procs is authoritative (attach writes it first);
 *  - co-mounted controllers ("cpu,cpuacct", or freezer with memory) share
 *    one directory, made once;
 *  - a new cpuset cgroup starts with no CPUs and no memory nodes, and no
 *    task can join it until both are set: create copies them down from
 *    the hierarchy's root into "moat" (when empty) and from there into the
 *    container's, before anything is attached;
 *  - limits are written before the container's init is attached, memory
 *    before memsw (the kernel wants memsw >= memory at every step);
 *  - kill_all signals only while the cgroup is FROZEN, so a pid read from
 *    cgroup.procs cannot have been reused by the time it is signalled.
 */
#define SANDBOX_CGROUP_BACKEND
#include "sandbox/cgroup.h"

#include <errno.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define ROOTLESS_MSG                                                                       \
	"cgroups are not available to rootless containers on this host (cgroup v1 has no " \
	"delegation; Podman has the same limit)"
/* Short: destroy's whole budget is 2 s. */
#define KILL_FREEZE_MS 500

/* Opens (or makes) the container's directory in the hierarchy mounted at
 * MNT, as the next entry of CG->h. Returns its index. */
static int place_one(struct sandbox_cgroup *cg, const char *mnt, const char *id, bool create,
		     struct err **err)
{
	struct sandbox_cgroup_hier *h = &cg->h[cg->n];
	_cleanup_close_ int mfd = -1;
	char parentpath[SANDBOX_CGROUP_MNT_MAX + 8];
	int r;

	mfd = sandbox_cgroup_mount_open(mnt, CGROUP_SUPER_MAGIC, err);
	if (mfd < 0)
		return mfd;
	snprintf(parentpath, sizeof(parentpath), "%s/" SANDBOX_CGROUP_PARENT, mnt);
	r = sandbox_cgroup_parent_open(mfd, mnt, SANDBOX_CGROUP_PARENT, create, err);
	if (r < 0)
		return r;
	h->parent = r;
	cg->n++;
	r = sandbox_cgroup_leaf_place(h, parentpath, id, create, err);
	if (r < 0 && !h->made) {
		/* Nothing of ours in this hierarchy: drop the entry. */
		if (h->dir >= 0)
			close(h->dir);
		close(h->parent);
		h->dir = h->parent = -1;
		cg->n--;
	}
	return r < 0 ? r : (int)(cg->n - 1);
}

/* Copies cpuset.mems and cpuset.cpus from FROM into TO where TO's are
 * still empty (a parent made by an earlier container keeps its own). */
static int cpuset_inherit(int from, const char *frompath, int to, const char *topath,
			  struct err **err)
{
	static const char *const files[] = {"cpuset.mems", "cpuset.cpus"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *have = NULL, *val = NULL;
		size_t hl, vl;

		if (fs_read_at(to, files[i], SANDBOX_CGROUP_SMALL_MAX, &have, &hl, err) < 0)
			return err_prefix(err, "%s", topath);
		if (hl && have[0] != '\n')
			continue;
		if (fs_read_at(from, files[i], SANDBOX_CGROUP_SMALL_MAX, &val, &vl, err) < 0)
			return err_prefix(err, "%s", frompath);
		while (vl && (val[vl - 1] == '\n' || val[vl - 1] == ' '))
			val[--vl] = '\0';
		if (!vl)
			return err_set(err, ENOSPC, "%s/%s is empty", frompath, files[i]);
		if (sandbox_cgroup_file_write(to, topath, files[i], val, err) < 0)
			return err_ret(*err);
	}
	return 0;
}

static int cpuset_prepare(const struct sandbox_cgroup_mounts *m, const struct sandbox_cgroup *cg,
			  struct err **err)
{
	const struct sandbox_cgroup_hier *h = &cg->h[cg->ctrl[SANDBOX_CGROUP_CPUSET]];
	const char *mnt = m->v1[SANDBOX_CGROUP_CPUSET];
	_cleanup_close_ int root = sandbox_cgroup_mount_open(mnt, CGROUP_SUPER_MAGIC, err);
	char parentpath[SANDBOX_CGROUP_MNT_MAX + 8];

	if (root < 0)
		return root;
	snprintf(parentpath, sizeof(parentpath), "%s/" SANDBOX_CGROUP_PARENT, mnt);
	if (cpuset_inherit(root, mnt, h->parent, parentpath, err) < 0 ||
	    cpuset_inherit(h->parent, parentpath, h->dir, h->path, err) < 0)
		return err_prefix(err, "cpuset cgroup");
	return 0;
}

static int v1_place(const struct sandbox_cgroup_mounts *m, const char *id, bool create,
		    struct sandbox_cgroup *cg, struct err **err)
{
	if (geteuid() != 0)
		return err_set(err, ENOTSUP, ROOTLESS_MSG);
	if (!m->v1[SANDBOX_CGROUP_FREEZER][0])
		return err_set(err, ENOTSUP,
			       "cgroup v1 without a freezer hierarchy: containers could not be "
			       "paused or reliably stopped");
	memcpy(cg->name, id, SANDBOX_CGROUP_ID_LEN + 1);
	/* SANDBOX_CGROUP_FREEZER is 0: it is placed first and becomes h[0]. */
	for (int c = 0; c < SANDBOX_CGROUP_NCTRL; c++) {
		int r;

		if (!m->v1[c][0])
			continue;
		for (int d = 0; d < c && cg->ctrl[c] < 0; d++)
			if (cg->ctrl[d] >= 0 && !strcmp(m->v1[d], m->v1[c]))
				cg->ctrl[c] = cg->ctrl[d];
		if (cg->ctrl[c] >= 0)
			continue;
		r = place_one(cg, m->v1[c], id, create, err);
		if (r == -ENOENT && !create && c != SANDBOX_CGROUP_FREEZER) {
			/* A hierarchy mounted after the container was made is
			 * simply not part of it. */
			err_free(err);
			continue;
		}
		if (r < 0)
			return r;
		cg->ctrl[c] = r;
	}
	if (create && cg->ctrl[SANDBOX_CGROUP_CPUSET] >= 0)
		return cpuset_prepare(m, cg, err);
	return 0;
}

static const struct sandbox_cgroup_hier *freezer(const struct sandbox_cgroup *cg)
{
	return &cg->h[cg->ctrl[SANDBOX_CGROUP_FREEZER]];
}

static int v1_set_frozen(const struct sandbox_cgroup *cg, bool freeze, struct err **err)
{
	const struct sandbox_cgroup_hier *h = freezer(cg);

	return sandbox_cgroup_file_write(h->dir, h->path, "freezer.state",
					 freeze ? "FROZEN" : "THAWED", err);
}

static int v1_frozen(const struct sandbox_cgroup *cg, bool *frozen, struct err **err)
{
	const struct sandbox_cgroup_hier *h = freezer(cg);
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (sandbox_cgroup_file_read(h, "freezer.state", SANDBOX_CGROUP_SMALL_MAX, false, &buf,
				     &len, err) < 0)
		return err_ret(*err);
	if (sandbox_cgroup_parse_freezer_state(buf, len, frozen, err) < 0)
		return err_prefix(err, "%s", h->path);
	return 0;
}

static int v1_stats(const struct sandbox_cgroup *cg, struct cgroup_stats *st, struct err **err)
{
	uint64_t memtotal = sandbox_cgroup_host_memtotal();
	int c;

	st->mem_limit = memtotal;
	if ((c = cg->ctrl[SANDBOX_CGROUP_CPUACCT]) >= 0 &&
	    sandbox_cgroup_file_u64(&cg->h[c], "cpuacct.usage", &st->cpu_ns, NULL, err) < 0)
		return err_ret(*err);
	if ((c = cg->ctrl[SANDBOX_CGROUP_MEMORY]) >= 0) {
		const struct sandbox_cgroup_hier *h = &cg->h[c];
		uint64_t usage = 0, inactive = 0, limit = UINT64_MAX;

		/* total_inactive_file counts the whole subtree, like usage. */
		if (sandbox_cgroup_file_u64(h, "memory.usage_in_bytes", &usage, NULL, err) < 0 ||
		    sandbox_cgroup_file_key(h, "memory.stat", "total_inactive_file", &inactive,
					    err) < 0 ||
		    sandbox_cgroup_file_u64(h, "memory.limit_in_bytes", &limit, NULL, err) < 0 ||
		    sandbox_cgroup_file_key(h, "memory.oom_control", "oom_kill", &st->oom_kills,
					    err) < 0)
			return err_ret(*err);
		st->mem_usage = sandbox_cgroup_mem_usage(usage, inactive);
		/* "Unlimited" is PAGE_COUNTER_MAX pages, far above MemTotal. */
		st->mem_limit = sandbox_cgroup_mem_limit(limit, memtotal);
	}
	if ((c = cg->ctrl[SANDBOX_CGROUP_PIDS]) >= 0)
		return sandbox_cgroup_file_u64(&cg->h[c], "pids.current", &st->pids, NULL, err);
	return sandbox_cgroup_procs_count(&cg->h[0], &st->pids, err);
}

/* Frozen tasks cannot exit, so no pid read here is reused before its
 * SIGKILL; the signals take effect at the thaw, before any task returns to
 * user space (so none can fork). */
static int v1_kill_all(const struct sandbox_cgroup *cg, struct err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	r = sandbox_cgroup_freeze_wait(cg, true, KILL_FREEZE_MS, err);
	if (r < 0)
		return r;
	r = sandbox_cgroup_pids(cg, &pids, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		kill(pids[i], SIGKILL);
	if (r == 0)
		return v1_set_frozen(cg, false, err);
	{
		_cleanup_err_ struct err *ignored = NULL;

		v1_set_frozen(cg, false, &ignored);
	}
	return r;
}

static void applied_add(char *buf, size_t len, const char *what)
{
	size_t n = strnlen(buf, len);

	if (n < len)
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", what);
}

/* The hierarchy of controller C, or an error naming what needed it. */
static const struct sandbox_cgroup_hier *need(const struct sandbox_cgroup *cg, int c,
					      const char *what, struct err **err)
{
	if (cg->ctrl[c] < 0) {
		err_set(err, ENOTSUP, "%s needs the cgroup v1 %s hierarchy, which is not mounted",
			what, sandbox_cgroup_ctrl_name(c));
		return NULL;
	}
	return &cg->h[cg->ctrl[c]];
}

static int put(const struct sandbox_cgroup_hier *h, const char *name, int64_t v, struct err **err)
{
	char val[32];

	snprintf(val, sizeof(val), "%lld", (long long)v);
	return sandbox_cgroup_file_write(h->dir, h->path, name, val, err);
}

static int v1_set_limits(const struct sandbox_cgroup *cg, const struct cgroup_limits *l,
			 char *applied, size_t len, struct err **err)
{
	const struct sandbox_cgroup_hier *h;

	if (l->memory || l->memory_swap || l->memory_reservation) {
		if (!(h = need(cg, SANDBOX_CGROUP_MEMORY, "--memory", err)))
			return err_ret(*err);
		if (l->memory) {
			if (put(h, "memory.limit_in_bytes", l->memory, err) < 0)
				return err_ret(*err);
			applied_add(applied, len, "memory");
		}
		/* No memsw files: the kernel does no swap accounting
		 * (swapaccount=0); Docker then limits memory alone. */
		if (l->memory_swap &&
		    faccessat(h->dir, "memory.memsw.limit_in_bytes", F_OK, 0) == 0) {
			if (put(h, "memory.memsw.limit_in_bytes", l->memory_swap, err) < 0)
				return err_ret(*err);
			applied_add(applied, len, "swap");
		}
		if (l->memory_reservation) {
			if (put(h, "memory.soft_limit_in_bytes", l->memory_reservation, err) < 0)
				return err_ret(*err);
			applied_add(applied, len, "reservation");
		}
	}
	if (l->cpu_quota_us || l->cpu_shares) {
		if (!(h = need(cg, SANDBOX_CGROUP_CPU, "--cpus/--cpu-shares", err)))
			return err_ret(*err);
		/* Period first: the kernel checks quota against it. */
		if (l->cpu_quota_us && (put(h, "cpu.cfs_period_us", l->cpu_period_us, err) < 0 ||
					put(h, "cpu.cfs_quota_us", l->cpu_quota_us, err) < 0))
			return err_ret(*err);
		if (l->cpu_shares && put(h, "cpu.shares", l->cpu_shares, err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "cpu");
	}
	if (l->cpuset_cpus[0]) {
		if (!(h = need(cg, SANDBOX_CGROUP_CPUSET, "--cpuset-cpus", err)) ||
		    sandbox_cgroup_file_write(h->dir, h->path, "cpuset.cpus", l->cpuset_cpus, err) <
			0)
			return err_ret(*err);
		applied_add(applied, len, "cpuset");
	}
	if (l->pids_max) {
		if (!(h = need(cg, SANDBOX_CGROUP_PIDS, "--pids-limit", err)) ||
		    put(h, "pids.max", l->pids_max, err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "pids");
	}
	return 0;
}

static void v1_describe(const struct sandbox_cgroup_mounts *m, bool rootless, char *buf, size_t len)
{
	const char *have[SANDBOX_CGROUP_NCTRL];
	char list[128];
	size_t n = 0;

	if (rootless) {
		snprintf(buf, len, "unavailable: %s", ROOTLESS_MSG);
		return;
	}
	if (!m->v1[SANDBOX_CGROUP_FREEZER][0]) {
		snprintf(buf, len, "unavailable: cgroup v1 without a freezer hierarchy");
		return;
	}
	/* The four that every container uses; cpu and cpuset serve limits
	 * only (and tests/unit/test_cgroup.c pins this text). */
	for (int c = 0; c <= SANDBOX_CGROUP_PIDS; c++)
		if (m->v1[c][0])
			have[n++] = sandbox_cgroup_ctrl_name(c);
	sandbox_cgroup_names_join(list, sizeof(list), ", ", have, n);
	snprintf(buf, len, "v1 (%s)", list);
}

const struct sandbox_cgroup_ops sandbox_cgroup_v1_ops = {
    .place = v1_place,
    .set_frozen = v1_set_frozen,
    .frozen = v1_frozen,
    .stats = v1_stats,
    .kill_all = v1_kill_all,
    .describe = v1_describe,
    .set_limits = v1_set_limits,
};

/*
 * sandbox/cgroup_v2.c - the cgroup v2 (unified) backend: one directory,
 * /sys/fs/cgroup/moat/<id> for root, <delegated>/moat-<id12> rootless (see
 * cgroup.h).
 *
 * Runs in: the monitor and `moat pause/stats/top/rm`, as root or as the
 * invoking user.
 *
 * Invariants:
 *  - rootless, only a cgroup delegated to the caller is written: the
 *    directory is the caller's and so are its cgroup.procs and
 *    cgroup.subtree_control (systemd's Delegate=yes), found by walking down
 *    from the root towards the caller's own cgroup, beneath the mount
 *    (path_open_beneath: a path from /proc/self/cgroup cannot step out);
 *  - controllers are enabled best effort, only those the parent offers: a
 *    container without them still freezes and dies (cgroup.freeze and
 *    cgroup.kill are core files), it only reports fewer statistics;
 *  - kill_all is cgroup.kill, which the kernel applies to every task
 *    atomically, forks included;
 *  - a limit is written before the init joins; one whose controller did
 *    not reach the container's cgroup is an error, never dropped (v2
 *    cpuset needs no copying down: an empty cpuset.cpus inherits).
 */
#define SANDBOX_CGROUP_BACKEND
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define SHORT_ID_LEN 12

/* What containers get, in the order `moat info` shows them. */
static const char *const wanted[] = {"memory", "pids", "cpu", "cpuset"};

/* True when the space-separated list TEXT[0, LEN) holds WORD. */
static bool has_word(const char *text, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i < len;) {
		size_t e = i;

		while (e < len && text[e] != ' ' && text[e] != '\n')
			e++;
		if (e - i == wl && !memcmp(text + i, word, wl))
			return true;
		i = e + 1;
	}
	return false;
}

/* Enables in DIRFD's cgroup.subtree_control the wanted controllers it
 * offers. Failure (a cgroup with processes of its own, a realtime task for
 * cpu) only means fewer statistics, so it is not an error. */
static void enable(int dirfd, const char *path)
{
	_cleanup_free_ char *have = NULL, *on = NULL;
	_cleanup_err_ struct err *e = NULL;
	size_t hl, ol;

	if (fs_read_at(dirfd, "cgroup.controllers", SANDBOX_CGROUP_SMALL_MAX, &have, &hl, &e) < 0 ||
	    fs_read_at(dirfd, "cgroup.subtree_control", SANDBOX_CGROUP_SMALL_MAX, &on, &ol, &e) < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
		char cmd[32];

		if (!has_word(have, hl, wanted[i]) || has_word(on, ol, wanted[i]))
			continue;
		snprintf(cmd, sizeof(cmd), "+%s", wanted[i]);
		if (sandbox_cgroup_file_write(dirfd, path, "cgroup.subtree_control", cmd, &e) < 0)
			err_free(&e);
	}
}

/* Whether the caller may make and populate cgroups under FD. */
static bool delegated(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
	       faccessat(fd, "cgroup.procs", W_OK, AT_EACCESS) == 0 &&
	       faccessat(fd, "cgroup.subtree_control", W_OK, AT_EACCESS) == 0;
}

/*
 * The topmost cgroup between the root and the caller's own (both included)
 * that is delegated to the caller; its path relative to the mount in REL.
 * Topmost, not the caller's own: `moat run` and a later `moat pause` run in
 * different leaves of the same delegated subtree (user@UID.service) and
 * must find the same place; and moving the container's init needs write
 * access to the common ancestor of where it is and where it goes.
 */
static int find_delegated(int rootfd, char *rel, size_t size, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	char self[PATH_MAX];
	size_t len, n;

	if (fs_read_at(AT_FDCWD, "/proc/self/cgroup", SANDBOX_CGROUP_SMALL_MAX, &buf, &len, err) <
		0 ||
	    sandbox_cgroup_parse_self(buf, len, self, sizeof(self), err) < 0)
		return err_ret(*err);
	n = strlen(self);
	/* Prefixes "/", "/a", "/a/b", ..., SELF. */
	for (size_t j = 1; j <= n; j++) {
		_cleanup_close_ int fd = -1;
		char sub[PATH_MAX];

		if (j != 1 && j != n && self[j] != '/')
			continue;
		snprintf(sub, sizeof(sub), "%.*s", (int)j, self);
		fd = path_open_beneath(rootfd, sub, O_RDONLY | O_DIRECTORY, 0, err);
		if (fd < 0)
			return err_prefix(err, "cgroup v2");
		if (delegated(fd)) {
			snprintf(rel, size, "%s", sub);
			return steal_fd(fd);
		}
	}
	return err_set(err, ENOTSUP,
		       "cgroups are not available to this rootless container: neither your cgroup "
		       "(\"%s\") nor one above it is delegated to uid %u; run moat from a systemd "
		       "user service or under `systemd-run --user --scope`",
		       self, (unsigned)geteuid());
}

/* Opening from outside the delegated subtree (a login shell's session
 * scope): systemd's per-user manager is where a container made from a user
 * service lives. */
static int user_manager(int rootfd, char *rel, size_t size)
{
	_cleanup_err_ struct err *e = NULL;
	_cleanup_close_ int fd = -1;
	unsigned uid = (unsigned)geteuid();

	snprintf(rel, size, "/user.slice/user-%u.slice/user@%u.service", uid, uid);
	fd = path_open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY, 0, &e);
	if (fd < 0 || !delegated(fd))
		return -ENOENT;
	return steal_fd(fd);
}

static int v2_place(const struct sandbox_cgroup_mounts *m, const char *id, bool create,
		    struct sandbox_cgroup *cg, struct err **err)
{
	struct sandbox_cgroup_hier *h = &cg->h[0];
	char parentpath[sizeof(h->path) - SANDBOX_CGROUP_ID_LEN - 2], rel[PATH_MAX];
	_cleanup_close_ int rootfd = -1;
	int r;

	rootfd = sandbox_cgroup_mount_open(m->v2, CGROUP2_SUPER_MAGIC, err);
	if (rootfd < 0)
		return rootfd;
	if (geteuid() == 0) {
		memcpy(cg->name, id, SANDBOX_CGROUP_ID_LEN + 1);
		if (create)
			enable(rootfd, m->v2);
		r = sandbox_cgroup_parent_open(rootfd, m->v2, SANDBOX_CGROUP_PARENT, create, err);
		snprintf(rel, sizeof(rel), "/" SANDBOX_CGROUP_PARENT);
	} else {
		snprintf(cg->name, sizeof(cg->name), "moat-%.*s", SHORT_ID_LEN, id);
		r = find_delegated(rootfd, rel, sizeof(rel), err);
		if (r == -ENOTSUP && !create) {
			int fd = user_manager(rootfd, rel, sizeof(rel));

			if (fd >= 0) {
				err_free(err);
				r = fd;
			}
		}
	}
	if (r < 0)
		return r;
	if (snprintf(parentpath, sizeof(parentpath), "%s%s", m->v2, strcmp(rel, "/") ? rel : "") >=
	    (int)sizeof(parentpath)) {
		close(r);
		return err_set(err, ENAMETOOLONG, "cgroup path \"%s%s\" too long", m->v2, rel);
	}
	h->parent = r;
	cg->n = 1;
	for (int c = 0; c < SANDBOX_CGROUP_NCTRL; c++)
		cg->ctrl[c] = 0;
	if (create)
		enable(h->parent, parentpath);
	return sandbox_cgroup_leaf_place(h, parentpath, cg->name, create, err);
}

static int v2_set_frozen(const struct sandbox_cgroup *cg, bool freeze, struct err **err)
{
	const struct sandbox_cgroup_hier *h = &cg->h[0];

	if (faccessat(h->dir, "cgroup.freeze", F_OK, 0) < 0 && errno == ENOENT)
		return err_set(err, ENOTSUP,
			       "%s: no cgroup.freeze (the v2 freezer needs Linux 5.2)", h->path);
	return sandbox_cgroup_file_write(h->dir, h->path, "cgroup.freeze", freeze ? "1" : "0", err);
}

static int v2_frozen(const struct sandbox_cgroup *cg, bool *frozen, struct err **err)
{
	const struct sandbox_cgroup_hier *h = &cg->h[0];
	_cleanup_free_ char *buf = NULL;
	uint64_t v;
	size_t len;
	int r;

	if (sandbox_cgroup_file_read(h, "cgroup.events", SANDBOX_CGROUP_SMALL_MAX, false, &buf,
				     &len, err) < 0)
		return err_ret(*err);
	r = sandbox_cgroup_parse_keyed(buf, len, "cgroup.events", "frozen", &v, err);
	if (r == -ENOENT) {
		err_free(err);
		return err_set(err, ENOTSUP,
			       "%s: no freezer state (the v2 freezer needs Linux 5.2)", h->path);
	}
	if (r < 0)
		return err_prefix(err, "%s", h->path);
	if (v > 1)
		return err_set(err, EINVAL, "%s/cgroup.events: frozen %llu", h->path,
			       (unsigned long long)v);
	*frozen = v == 1;
	return 0;
}

static int v2_stats(const struct sandbox_cgroup *cg, struct cgroup_stats *st, struct err **err)
{
	const struct sandbox_cgroup_hier *h = &cg->h[0];
	uint64_t memtotal = sandbox_cgroup_host_memtotal();
	uint64_t usec = 0, usage = UINT64_MAX, inactive = 0, limit = UINT64_MAX;
	bool is_max;

	/* cpu.stat's usage_usec is there even without the cpu controller. */
	if (sandbox_cgroup_file_key(h, "cpu.stat", "usage_usec", &usec, err) < 0)
		return err_ret(*err);
	st->cpu_ns = usec > UINT64_MAX / 1000 ? UINT64_MAX : usec * 1000;
	/* memory.current (and the rest) exist only with the memory controller;
	 * it stays UINT64_MAX when absent. */
	if (sandbox_cgroup_file_u64(h, "memory.current", &usage, NULL, err) < 0)
		return err_ret(*err);
	if (usage != UINT64_MAX) {
		if (sandbox_cgroup_file_key(h, "memory.stat", "inactive_file", &inactive, err) <
			0 ||
		    sandbox_cgroup_file_u64(h, "memory.max", &limit, &is_max, err) < 0 ||
		    sandbox_cgroup_file_key(h, "memory.events", "oom_kill", &st->oom_kills, err) <
			0)
			return err_ret(*err);
		st->mem_usage = sandbox_cgroup_mem_usage(usage, inactive);
	}
	/* "max" (UINT64_MAX) and no controller both mean the host's memory. */
	st->mem_limit = sandbox_cgroup_mem_limit(limit, memtotal);
	if (st->mem_limit == UINT64_MAX)
		st->mem_limit = 0; /* and MemTotal unknown */
	st->pids = UINT64_MAX;
	if (sandbox_cgroup_file_u64(h, "pids.current", &st->pids, NULL, err) < 0)
		return err_ret(*err);
	if (st->pids == UINT64_MAX)
		return sandbox_cgroup_procs_count(h, &st->pids, err);
	return 0;
}

static int v2_kill_all(const struct sandbox_cgroup *cg, struct err **err)
{
	const struct sandbox_cgroup_hier *h = &cg->h[0];

	if (faccessat(h->dir, "cgroup.kill", F_OK, 0) < 0)
		return err_set(err, ENOTSUP, "%s: no cgroup.kill (Linux 5.14)", h->path);
	return sandbox_cgroup_file_write(h->dir, h->path, "cgroup.kill", "1", err);
}

static void applied_add(char *buf, size_t len, const char *what)
{
	size_t n = strnlen(buf, len);

	if (n < len)
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", what);
}

/* Writes VAL to NAME; a missing file is the controller's absence. */
static int put(const struct sandbox_cgroup_hier *h, const char *name, const char *val,
	       const char *flag, struct err **err)
{
	if (faccessat(h->dir, name, F_OK, 0) < 0 && errno == ENOENT)
		return err_set(err, ENOTSUP,
			       "%s needs %s in \"%s\", which is missing (controller not enabled "
			       "for it)",
			       flag, name, h->path);
	return sandbox_cgroup_file_write(h->dir, h->path, name, val, err);
}

static int v2_set_limits(const struct sandbox_cgroup *cg, const struct cgroup_limits *l,
			 char *applied, size_t len, struct err **err)
{
	const struct sandbox_cgroup_hier *h = &cg->h[0];
	char v[64];

	if (l->memory) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory);
		if (put(h, "memory.max", v, "--memory", err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "memory");
	}
	/* v2's swap file is the swap alone; absent without swap accounting. */
	if (l->memory_swap && faccessat(h->dir, "memory.swap.max", F_OK, 0) == 0) {
		if (l->memory_swap < 0)
			snprintf(v, sizeof(v), "max");
		else
			snprintf(v, sizeof(v), "%lld",
				 (long long)(l->memory_swap > l->memory ? l->memory_swap - l->memory
									: 0));
		if (put(h, "memory.swap.max", v, "--memory-swap", err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "swap");
	}
	if (l->memory_reservation) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory_reservation);
		if (put(h, "memory.low", v, "--memory-reservation", err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "reservation");
	}
	if (l->cpu_quota_us) {
		snprintf(v, sizeof(v), "%lld %lld", (long long)l->cpu_quota_us,
			 (long long)l->cpu_period_us);
		if (put(h, "cpu.max", v, "--cpus", err) < 0)
			return err_ret(*err);
	}
	if (l->cpu_shares) {
		snprintf(
		    v, sizeof(v), "%llu",
		    (unsigned long long)sandbox_cgroup_shares_to_weight((uint64_t)l->cpu_shares));
		if (put(h, "cpu.weight", v, "--cpu-shares", err) < 0)
			return err_ret(*err);
	}
	if (l->cpu_quota_us || l->cpu_shares)
		applied_add(applied, len, "cpu");
	if (l->cpuset_cpus[0]) {
		if (put(h, "cpuset.cpus", l->cpuset_cpus, "--cpuset-cpus", err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "cpuset");
	}
	if (l->pids_max) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids_max);
		if (put(h, "pids.max", v, "--pids-limit", err) < 0)
			return err_ret(*err);
		applied_add(applied, len, "pids");
	}
	return 0;
}

static void v2_describe(const struct sandbox_cgroup_mounts *m, bool rootless, char *buf, size_t len)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	_cleanup_err_ struct err *e = NULL;
	_cleanup_free_ char *have = NULL;
	const char *on[ARRAY_SIZE(wanted)];
	char list[64], rel[PATH_MAX];
	size_t hl, n = 0;

	rootfd = sandbox_cgroup_mount_open(m->v2, CGROUP2_SUPER_MAGIC, &e);
	if (rootfd >= 0)
		fd = rootless ? find_delegated(rootfd, rel, sizeof(rel), &e)
			      : fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 && !e)
		err_errno(&e, errno, "dup");
	if (fd < 0 ||
	    fs_read_at(fd, "cgroup.controllers", SANDBOX_CGROUP_SMALL_MAX, &have, &hl, &e) < 0) {
		snprintf(buf, len, "unavailable: %s", e->msg);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
		if (has_word(have, hl, wanted[i]))
			on[n++] = wanted[i];
	sandbox_cgroup_names_join(list, sizeof(list), " ", on, n);
	snprintf(buf, len, "v2 (%s)", n ? list : "no controllers: freeze and kill only");
}

const struct sandbox_cgroup_ops sandbox_cgroup_v2_ops = {
    .place = v2_place,
    .set_frozen = v2_set_frozen,
    .frozen = v2_frozen,
    .stats = v2_stats,
    .kill_all = v2_kill_all,
    .describe = v2_describe,
    .set_limits = v2_set_limits,
};

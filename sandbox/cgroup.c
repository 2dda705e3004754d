/*
 * sandbox/cgroup.c - per-container cgroups: detection, the shared half of
 * both backends, and the public functions (see cgroup.h for the layout).
 * The backends are sandbox/cgroup_v1.c and sandbox/cgroup_v2.c.
 *
 * Runs in: the container's monitor (create, attach; as root, or as the
 * invoking user when rootless) and in short-lived `moat pause/stats/top/rm`
 * processes of the same user (open, freeze, stats, pids, destroy).
 *
 * Invariants:
 *  - the parsers at the top are pure: bytes in, values out, every length
 *    checked, no NUL accepted; they are what the unit tests feed;
 *  - every directory written to was opened relative to a mount point found
 *    in /proc/self/mountinfo (or /sys/fs/cgroup itself) and checked with
 *    fstatfs to be cgroupfs, so nothing here writes outside cgroupfs;
 *  - the id is 64 lowercase hex before it is used as a directory name, so it
 *    cannot name "..", a slash or another container's prefix;
 *  - create removes only directories it made itself: an existing cgroup of
 *    the same id is reported (-EEXIST), never removed; the shared "moat"
 *    parents are never removed (another container may be starting);
 *  - destroy signals only processes read from the container's cgroup.procs,
 *    and the backends' kill_all does so without a pid-reuse window.
 */
#define SANDBOX_CGROUP_BACKEND
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define MOUNTINFO_MAX (16u * 1024 * 1024) /* hosts with thousands of mounts */
#define FREEZE_TIMEOUT_MS 5000
#define KILL_TIMEOUT_MS 2000

static const char *const ctrl_names[SANDBOX_CGROUP_NCTRL] = {"freezer", "memory", "cpuacct",
							     "pids",	"cpu",	  "cpuset"};

const char *sandbox_cgroup_ctrl_name(enum sandbox_cgroup_ctrl c)
{
	return (unsigned)c < SANDBOX_CGROUP_NCTRL ? ctrl_names[c] : "?";
}

/* ---- pure parsers ---- */

/* The next line of TEXT[0, LEN) from *POS, without its newline. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	return true;
}

static bool eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/* A decimal of N bytes; false on anything else or overflow. */
static bool dec(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int no_nul(const char *text, size_t len, const char *what, struct err **err)
{
	if (memchr(text, 0, len))
		return err_set(err, EINVAL, "%s: NUL byte in the text", what);
	return 0;
}

/* Decodes mountinfo's octal escapes (\040 for a space) into OUT. */
static int unescape(const char *s, size_t n, char *out, size_t size, size_t lineno,
		    struct err **err)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\') {
			unsigned v = 0;

			if (n - i < 4)
				return err_set(err, EINVAL, "mountinfo line %zu: bad escape",
					       lineno);
			for (size_t k = 1; k <= 3; k++) {
				if (s[i + k] < '0' || s[i + k] > '7')
					return err_set(err, EINVAL,
						       "mountinfo line %zu: bad escape", lineno);
				v = v * 8 + (unsigned)(s[i + k] - '0');
			}
			if (v == 0 || v > 255)
				return err_set(err, EINVAL, "mountinfo line %zu: bad escape",
					       lineno);
			c = (char)v;
			i += 3;
		}
		if (o + 1 >= size)
			return err_set(err, ENAMETOOLONG,
				       "mountinfo line %zu: mount point too long", lineno);
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

#define MI_FIELDS 32

int sandbox_cgroup_parse_mountinfo(const char *text, size_t len, struct sandbox_cgroup_mounts *out,
				   struct err **err)
{
	bool at_root[SANDBOX_CGROUP_NCTRL] = {false}, v2_root = false;
	struct sandbox_cgroup_mounts m = {0};
	const char *line;
	size_t pos = 0, n, lineno = 0;

	if (no_nul(text, len, "mountinfo", err) < 0)
		return -EINVAL;
	while (next_line(text, len, &pos, &line, &n)) {
		const char *f[MI_FIELDS];
		size_t fl[MI_FIELDS], nf = 0, sep = 0, i = 0;
		char mnt[SANDBOX_CGROUP_MNT_MAX];
		bool root;
		int r;

		lineno++;
		/* Fields are separated by exactly one space. */
		while (i <= n) {
			const char *sp = memchr(line + i, ' ', n - i);
			size_t end = sp ? (size_t)(sp - line) : n;

			if (nf == MI_FIELDS)
				return err_set(err, EINVAL, "mountinfo line %zu: too many fields",
					       lineno);
			f[nf] = line + i;
			fl[nf] = end - i;
			if (fl[nf] == 0)
				return err_set(err, EINVAL, "mountinfo line %zu: empty field",
					       lineno);
			nf++;
			i = end + 1;
		}
		for (i = 6; i < nf; i++) {
			if (eq(f[i], fl[i], "-")) {
				sep = i;
				break;
			}
		}
		if (nf < 10 || sep == 0 || nf - sep != 4)
			return err_set(
			    err, EINVAL,
			    "mountinfo line %zu: expected 6 fields, optional ones, \"-\" "
			    "and 3 more",
			    lineno);
		if (!eq(f[sep + 1], fl[sep + 1], "cgroup") &&
		    !eq(f[sep + 1], fl[sep + 1], "cgroup2"))
			continue;
		r = unescape(f[4], fl[4], mnt, sizeof(mnt), lineno, err);
		if (r < 0)
			return r;
		if (mnt[0] != '/')
			return err_set(err, EINVAL, "mountinfo line %zu: mount point not absolute",
				       lineno);
		root = eq(f[3], fl[3], "/");
		if (eq(f[sep + 1], fl[sep + 1], "cgroup2")) {
			if (!m.v2[0] || (root && !v2_root)) {
				memcpy(m.v2, mnt, strlen(mnt) + 1);
				v2_root = root;
			}
			continue;
		}
		/* Super options name the hierarchy's controllers: "rw,cpu,cpuacct". */
		for (const char *o = f[sep + 3], *end = o + fl[sep + 3]; o < end;) {
			const char *comma = memchr(o, ',', (size_t)(end - o));
			size_t ol = comma ? (size_t)(comma - o) : (size_t)(end - o);

			for (int c = 0; c < SANDBOX_CGROUP_NCTRL; c++) {
				if (!eq(o, ol, ctrl_names[c]))
					continue;
				if (!m.v1[c][0] || (root && !at_root[c])) {
					memcpy(m.v1[c], mnt, strlen(mnt) + 1);
					at_root[c] = root;
				}
			}
			o += ol + 1;
		}
	}
	*out = m;
	return 0;
}

int sandbox_cgroup_parse_self(const char *text, size_t len, char *path, size_t size,
			      struct err **err)
{
	const char *line, *found = NULL;
	size_t pos = 0, n, lineno = 0, flen = 0;

	if (no_nul(text, len, "/proc/self/cgroup", err) < 0)
		return -EINVAL;
	while (next_line(text, len, &pos, &line, &n)) {
		const char *c1 = memchr(line, ':', n), *c2;
		uint64_t hid;

		lineno++;
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(line + n - c1 - 1)) : NULL;
		if (!c2 || !dec(line, (size_t)(c1 - line), &hid))
			return err_set(
			    err, EINVAL,
			    "/proc/self/cgroup line %zu: expected \"ID:CONTROLLERS:PATH\"", lineno);
		if (hid != 0 || c2 != c1 + 1)
			continue;
		if (found)
			return err_set(err, EINVAL,
				       "/proc/self/cgroup line %zu: second \"0::\" entry", lineno);
		n = (size_t)(line + n - c2 - 1);
		if (n == 0 || c2[1] != '/')
			return err_set(err, EINVAL,
				       "/proc/self/cgroup line %zu: cgroup path not absolute",
				       lineno);
		if (n >= size)
			return err_set(err, ENAMETOOLONG,
				       "/proc/self/cgroup line %zu: path too long", lineno);
		found = c2 + 1;
		flen = n;
	}
	if (!found)
		return err_set(err, ENOENT, "/proc/self/cgroup: no cgroup v2 (\"0::\") entry");
	memcpy(path, found, flen);
	path[flen] = 0;
	return 0;
}

int sandbox_cgroup_parse_u64(const char *text, size_t len, const char *what, uint64_t *out,
			     bool *is_max, struct err **err)
{
	uint64_t v;

	if (no_nul(text, len, what, err) < 0)
		return -EINVAL;
	if (len && text[len - 1] == '\n')
		len--;
	if (is_max && eq(text, len, "max")) {
		*is_max = true;
		*out = UINT64_MAX;
		return 0;
	}
	if (!dec(text, len, &v))
		return err_set(err, EINVAL, "%s: \"%.*s\" is not a number", what,
			       (int)(len > 40 ? 40 : len), text);
	if (is_max)
		*is_max = false;
	*out = v;
	return 0;
}

int sandbox_cgroup_parse_keyed(const char *text, size_t len, const char *what, const char *key,
			       uint64_t *out, struct err **err)
{
	const char *line;
	size_t pos = 0, n, lineno = 0;
	bool found = false;
	uint64_t v = 0;

	if (no_nul(text, len, what, err) < 0)
		return -EINVAL;
	while (next_line(text, len, &pos, &line, &n)) {
		const char *sp = memchr(line, ' ', n);
		size_t kl = sp ? (size_t)(sp - line) : 0;

		lineno++;
		if (!sp || kl == 0 || kl + 1 == n || memchr(sp + 1, ' ', n - kl - 1))
			return err_set(err, EINVAL, "%s line %zu: expected \"key value\"", what,
				       lineno);
		if (!eq(line, kl, key))
			continue;
		if (found)
			return err_set(err, EINVAL, "%s line %zu: \"%s\" repeated", what, lineno,
				       key);
		if (!dec(sp + 1, n - kl - 1, &v))
			return err_set(err, EINVAL, "%s line %zu: \"%s\" is not a number", what,
				       lineno, key);
		found = true;
	}
	if (!found)
		return err_set(err, ENOENT, "%s: no \"%s\"", what, key);
	*out = v;
	return 0;
}

int sandbox_cgroup_parse_procs(const char *text, size_t len, pid_t **pids, size_t *n,
			       struct err **err)
{
	_cleanup_free_ pid_t *v = NULL;
	const char *line;
	size_t pos = 0, ln, count = 0, max = 1;

	if (no_nul(text, len, "cgroup.procs", err) < 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		max += text[i] == '\n';
	v = calloc(max, sizeof(*v));
	if (!v)
		return err_errno(err, ENOMEM, "cgroup.procs");
	while (next_line(text, len, &pos, &line, &ln)) {
		uint64_t p;

		if (!dec(line, ln, &p) || p == 0 || p > INT_MAX)
			return err_set(err, EINVAL, "cgroup.procs line %zu: not a pid", count + 1);
		v[count++] = (pid_t)p;
	}
	*pids = steal_ptr(v);
	*n = count;
	return 0;
}

int sandbox_cgroup_parse_freezer_state(const char *text, size_t len, bool *frozen, struct err **err)
{
	if (no_nul(text, len, "freezer.state", err) < 0)
		return -EINVAL;
	if (len && text[len - 1] == '\n')
		len--;
	if (eq(text, len, "FROZEN"))
		*frozen = true;
	else if (eq(text, len, "THAWED") || eq(text, len, "FREEZING"))
		*frozen = false;
	else
		return err_set(err, EINVAL, "freezer.state: unknown state \"%.*s\"",
			       (int)(len > 40 ? 40 : len), text);
	return 0;
}

int sandbox_cgroup_parse_meminfo(const char *text, size_t len, uint64_t *bytes, struct err **err)
{
	const char *line;
	size_t pos = 0, n;

	if (no_nul(text, len, "/proc/meminfo", err) < 0)
		return -EINVAL;
	while (next_line(text, len, &pos, &line, &n)) {
		size_t i = strlen("MemTotal:"), d;
		uint64_t kb;

		if (n < i || memcmp(line, "MemTotal:", i))
			continue;
		while (i < n && line[i] == ' ')
			i++;
		for (d = i; d < n && line[d] >= '0' && line[d] <= '9'; d++)
			;
		if (!dec(line + i, d - i, &kb) || !eq(line + d, n - d, " kB") ||
		    kb > UINT64_MAX / 1024)
			return err_set(err, EINVAL, "/proc/meminfo: bad MemTotal line");
		*bytes = kb * 1024;
		return 0;
	}
	return err_set(err, ENOENT, "/proc/meminfo: no MemTotal");
}

static bool id_valid(const char *id)
{
	size_t i;

	for (i = 0; id && id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == SANDBOX_CGROUP_ID_LEN;
}

/* ---- helpers shared by the backends (impure from here on) ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int sandbox_cgroup_file_read(const struct sandbox_cgroup_hier *h, const char *name, size_t cap,
			     bool optional, char **out, size_t *len, struct err **err)
{
	_cleanup_close_ int fd = openat(h->dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*out = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT && optional)
		return 0;
	if (fd < 0)
		return err_errno(err, errno, "open \"%s/%s\"", h->path, name);
	if (fs_read_fd(fd, cap, out, len, err) < 0)
		return err_prefix(err, "\"%s/%s\"", h->path, name);
	return 0;
}

/* One write(2) per value: cgroupfs takes each write as one command. */
int sandbox_cgroup_file_write(int dirfd, const char *dirpath, const char *name, const char *val,
			      struct err **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t n = strlen(val);
	ssize_t w;

	if (fd < 0)
		return err_errno(err, errno, "open \"%s/%s\"", dirpath, name);
	do {
		w = write(fd, val, n);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return err_errno(err, errno, "write \"%s\" to \"%s/%s\"", val, dirpath, name);
	if ((size_t)w != n)
		return err_set(err, EIO, "short write to \"%s/%s\"", dirpath, name);
	return 0;
}

int sandbox_cgroup_file_u64(const struct sandbox_cgroup_hier *h, const char *name, uint64_t *out,
			    bool *is_max, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (sandbox_cgroup_file_read(h, name, SANDBOX_CGROUP_SMALL_MAX, true, &buf, &len, err) < 0)
		return err_ret(*err);
	if (buf && sandbox_cgroup_parse_u64(buf, len, name, out, is_max, err) < 0)
		return err_prefix(err, "%s", h->path);
	return 0;
}

int sandbox_cgroup_file_key(const struct sandbox_cgroup_hier *h, const char *name, const char *key,
			    uint64_t *out, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (sandbox_cgroup_file_read(h, name, SANDBOX_CGROUP_SMALL_MAX, true, &buf, &len, err) < 0)
		return err_ret(*err);
	if (!buf)
		return 0;
	r = sandbox_cgroup_parse_keyed(buf, len, name, key, out, err);
	if (r == -ENOENT) {
		err_free(err);
		return 0;
	}
	if (r < 0)
		return err_prefix(err, "%s", h->path);
	return 0;
}

int sandbox_cgroup_procs_count(const struct sandbox_cgroup_hier *h, uint64_t *n, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ pid_t *v = NULL;
	size_t len, cnt;

	if (sandbox_cgroup_file_read(h, "cgroup.procs", SANDBOX_CGROUP_PROCS_MAX, false, &buf, &len,
				     err) < 0)
		return err_ret(*err);
	if (sandbox_cgroup_parse_procs(buf, len, &v, &cnt, err) < 0)
		return err_prefix(err, "%s", h->path);
	*n = cnt;
	return 0;
}

uint64_t sandbox_cgroup_host_memtotal(void)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_err_ struct err *e = NULL;
	uint64_t v = 0;
	size_t len;

	if (fs_read_at(AT_FDCWD, "/proc/meminfo", SANDBOX_CGROUP_SMALL_MAX, &buf, &len, &e) < 0 ||
	    sandbox_cgroup_parse_meminfo(buf, len, &v, &e) < 0)
		return 0;
	return v;
}

int sandbox_cgroup_mount_open(const char *path, long magic, struct err **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct statfs s;

	if (fd < 0)
		return err_errno(err, errno, "open cgroup mount \"%s\"", path);
	if (fstatfs(fd, &s) < 0)
		return err_errno(err, errno, "statfs \"%s\"", path);
	if ((long)s.f_type != magic)
		return err_set(err, EINVAL, "\"%s\" is not a cgroup%s mount", path,
			       magic == CGROUP2_SUPER_MAGIC ? "2" : "");
	return steal_fd(fd);
}

int sandbox_cgroup_parent_open(int dirfd, const char *dirpath, const char *name, bool create,
			       struct err **err)
{
	_cleanup_close_ int fd = -1;

	if (create && mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir \"%s/%s\"", dirpath, name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_errno(err, errno, "open \"%s/%s\"", dirpath, name);
	return steal_fd(fd);
}

/* Creating refuses an existing directory: two containers must not share a
 * cgroup, and the rollback must not remove what another one owns. */
int sandbox_cgroup_leaf_place(struct sandbox_cgroup_hier *h, const char *parentpath,
			      const char *name, bool create, struct err **err)
{
	if (snprintf(h->path, sizeof(h->path), "%s/%s", parentpath, name) >= (int)sizeof(h->path))
		return err_set(err, ENAMETOOLONG, "cgroup path \"%s/%s\" too long", parentpath,
			       name);
	if (create) {
		if (mkdirat(h->parent, name, 0755) < 0) {
			if (errno == EEXIST)
				return err_set(err, EEXIST, "cgroup \"%s\" exists already",
					       h->path);
			return err_errno(err, errno, "mkdir \"%s\"", h->path);
		}
		h->made = true;
	}
	h->dir = openat(h->parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (h->dir < 0) {
		if (errno == ENOENT)
			return err_set(err, ENOENT, "no cgroup \"%s\"", h->path);
		return err_errno(err, errno, "open \"%s\"", h->path);
	}
	/* mkdir's mode went through the umask. */
	if (h->made && fchmod(h->dir, 0755) < 0)
		return err_errno(err, errno, "chmod \"%s\"", h->path);
	return 0;
}

void sandbox_cgroup_names_join(char *buf, size_t len, const char *sep, const char *const *names,
			       size_t n)
{
	size_t o = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (size_t i = 0; i < n && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", o ? sep : "", names[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

int sandbox_cgroup_freeze_wait(const struct sandbox_cgroup *cg, bool freeze, int timeout_ms,
			       struct err **err)
{
	int64_t deadline = now_ms() + timeout_ms;
	long nap = 1;
	bool state;
	int r;

	r = cg->ops->set_frozen(cg, freeze, err);
	if (r < 0)
		return r;
	for (;;) {
		r = cg->ops->frozen(cg, &state, err);
		if (r < 0)
			return r;
		if (state == freeze)
			return 0;
		if (now_ms() >= deadline)
			break;
		nap_ms(nap);
		nap = nap < 64 ? nap * 2 : nap;
	}
	/* A task stuck in the kernel (D state, an NFS hang) blocks a freeze:
	 * leave the container running rather than half frozen. */
	if (freeze) {
		_cleanup_err_ struct err *ignored = NULL;

		cg->ops->set_frozen(cg, false, &ignored);
	}
	return err_set(err, ETIMEDOUT, "cgroup \"%s\": not %s after %d ms", cg->h[0].path,
		       freeze ? "frozen" : "thawed", timeout_ms);
}

/* ---- detection and the public functions ---- */

static const char *forced_v2;
static bool forced_pid_kill;

void sandbox_cgroup_force_v2(const char *mnt)
{
	forced_v2 = mnt;
}

void sandbox_cgroup_force_pid_kill(bool on)
{
	forced_pid_kill = on;
}

/* cgroup2 on /sys/fs/cgroup means unified; anything else (a tmpfs of v1
 * hierarchies, perhaps with a controller-less cgroup2 at unified/) is v1. */
static int detect(struct sandbox_cgroup_mounts *m, const struct sandbox_cgroup_ops **ops,
		  struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	struct statfs s;
	size_t len;
	bool any = false;

	memset(m, 0, sizeof(*m));
	if (forced_v2 || (statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)) {
		snprintf(m->v2, sizeof(m->v2), "%s", forced_v2 ? forced_v2 : "/sys/fs/cgroup");
		*ops = &sandbox_cgroup_v2_ops;
		return 0;
	}
	if (fs_read_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &buf, &len, err) < 0 ||
	    sandbox_cgroup_parse_mountinfo(buf, len, m, err) < 0)
		return err_prefix(err, "find cgroup mounts");
	for (int c = 0; c < SANDBOX_CGROUP_NCTRL; c++)
		any |= m->v1[c][0] != 0;
	if (!any && m->v2[0]) {
		/* No v1 at all, cgroup2 mounted somewhere else. */
		*ops = &sandbox_cgroup_v2_ops;
		return 0;
	}
	if (!any)
		return err_set(err, ENOTSUP, "no cgroup hierarchy is mounted");
	*ops = &sandbox_cgroup_v1_ops;
	return 0;
}

void sandbox_cgroup_close(struct sandbox_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < SANDBOX_CGROUP_NCTRL; i++) {
		if (cg->h[i].dir >= 0)
			close(cg->h[i].dir);
		if (cg->h[i].parent >= 0)
			close(cg->h[i].parent);
	}
	free(cg);
}

static int get(const char *id, bool create, struct sandbox_cgroup **out, struct err **err)
{
	const struct sandbox_cgroup_ops *ops = NULL;
	struct sandbox_cgroup_mounts m;
	struct sandbox_cgroup *cg;
	int r;

	*out = NULL;
	if (!id_valid(id))
		return err_set(err, EINVAL, "container id \"%.80s\" is not 64 lowercase hex digits",
			       id ? id : "(null)");
	if (detect(&m, &ops, err) < 0)
		return err_ret(*err);
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return err_errno(err, ENOMEM, "cgroup");
	cg->ops = ops;
	for (size_t i = 0; i < SANDBOX_CGROUP_NCTRL; i++) {
		cg->h[i].parent = cg->h[i].dir = -1;
		cg->ctrl[i] = -1;
	}
	r = ops->place(&m, id, create, cg, err);
	if (r < 0) {
		for (size_t i = cg->n; i-- > 0;)
			if (cg->h[i].made &&
			    unlinkat(cg->h[i].parent, cg->name, AT_REMOVEDIR) < 0 &&
			    errno != ENOENT)
				fprintf(stderr, "moat: warning: cannot remove cgroup \"%s\": %s\n",
					cg->h[i].path, strerror(errno));
		sandbox_cgroup_close(cg);
		return r;
	}
	*out = cg;
	return 0;
}

/* -ENOENT once the cgroup is removed: the backends read some files only
 * where they exist (a controller that is not there), which must not turn a
 * removed cgroup into zeros or into "the kernel is too old". */
static int alive(const struct sandbox_cgroup *cg, struct err **err)
{
	if (faccessat(cg->h[0].dir, "cgroup.procs", F_OK, 0) < 0)
		return err_errno(err, errno, "cgroup \"%s\"", cg->h[0].path);
	return 0;
}

/* The public functions take a NULL ERR (best-effort callers); "none" gives
 * the helpers somewhere to put the message. */
int sandbox_cgroup_create(const char *id, struct sandbox_cgroup **out, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;

	if (!err)
		err = &none;
	if (get(id, true, out, err) < 0)
		return err_prefix(err, "create cgroup");
	return 0;
}

int sandbox_cgroup_open(const char *id, struct sandbox_cgroup **out, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;

	if (!err)
		err = &none;
	if (get(id, false, out, err) < 0)
		return err_prefix(err, "open cgroup");
	return 0;
}

int sandbox_cgroup_attach(const struct sandbox_cgroup *cg, pid_t pid, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;
	char val[24];

	if (!err)
		err = &none;

	if (pid <= 0)
		return err_set(err, EINVAL, "cgroup: cannot attach pid %d", (int)pid);
	snprintf(val, sizeof(val), "%d", (int)pid);
	/* h[0] first (the freezer on v1): a process in any of the container's
	 * hierarchies is then in the one destroy reads. */
	for (size_t i = 0; i < cg->n; i++) {
		int r = sandbox_cgroup_file_write(cg->h[i].dir, cg->h[i].path, "cgroup.procs", val,
						  err);

		if (r == -ESRCH)
			return err_set(err, ESRCH, "cgroup: process %d is gone", (int)pid);
		if (r < 0)
			return r;
	}
	return 0;
}

int sandbox_cgroup_frozen(const struct sandbox_cgroup *cg, bool *frozen, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;

	if (!err)
		err = &none;
	if (alive(cg, err) < 0)
		return err_ret(*err);
	return cg->ops->frozen(cg, frozen, err);
}

int sandbox_cgroup_freeze(const struct sandbox_cgroup *cg, bool freeze, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;

	if (!err)
		err = &none;
	if (alive(cg, err) < 0)
		return err_ret(*err);
	return sandbox_cgroup_freeze_wait(cg, freeze, FREEZE_TIMEOUT_MS, err);
}

int sandbox_cgroup_stats(const struct sandbox_cgroup *cg, struct cgroup_stats *st, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;

	if (!err)
		err = &none;
	memset(st, 0, sizeof(*st));
	if (alive(cg, err) < 0)
		return err_ret(*err);
	return cg->ops->stats(cg, st, err);
}

int sandbox_cgroup_set_limits(const struct sandbox_cgroup *cg, const struct cgroup_limits *l,
			      char *applied, size_t len, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;

	if (!err)
		err = &none;
	if (len)
		applied[0] = '\0';
	if (alive(cg, err) < 0)
		return err_ret(*err);
	return cg->ops->set_limits(cg, l, applied, len, err);
}

int sandbox_cgroup_pids(const struct sandbox_cgroup *cg, pid_t **pids, size_t *n, struct err **err)
{
	_cleanup_err_ struct err *none = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (!err)
		err = &none;
	*pids = NULL;
	*n = 0;
	if (sandbox_cgroup_file_read(&cg->h[0], "cgroup.procs", SANDBOX_CGROUP_PROCS_MAX, false,
				     &buf, &len, err) < 0)
		return err_ret(*err);
	if (sandbox_cgroup_parse_procs(buf, len, pids, n, err) < 0)
		return err_prefix(err, "%s", cg->h[0].path);
	return 0;
}

int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, struct err **err)
{
	int64_t deadline = now_ms() + KILL_TIMEOUT_MS;
	_cleanup_err_ struct err *ignored = NULL, *none = NULL;
	bool killed;

	if (!err)
		err = &none;
	/* Thaw first: on v1 a frozen task does not act on SIGKILL. This fails
	 * harmlessly when the cgroup is gone; the loop finds that out. */
	cg->ops->set_frozen(cg, false, &ignored);
	err_free(&ignored);
	killed = !forced_pid_kill && cg->ops->kill_all(cg, &ignored) == 0;
	err_free(&ignored);
	for (int round = 0;; round++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n;
		int r = sandbox_cgroup_pids(cg, &pids, &n, err);

		if (r == -ENOENT) { /* removed already */
			err_free(err);
			break;
		}
		if (r < 0)
			return err_prefix(err, "remove cgroup");
		if (n == 0)
			break;
		if (now_ms() >= deadline)
			return err_set(err, EBUSY,
				       "remove cgroup \"%s\": %zu processes left after %d s",
				       cg->h[0].path, n, KILL_TIMEOUT_MS / 1000);
		/* No race-free kill (no cgroup.kill before Linux 5.14, a v1
		 * freeze that timed out), or stragglers after it: kill by pid.
		 * A pid read here names a process of this cgroup unless it
		 * exited and the pid was reused within these microseconds. */
		if (!killed || round >= 5)
			for (size_t i = 0; i < n; i++)
				kill(pids[i], SIGKILL);
		nap_ms(10);
	}
	/* Exited but unreaped tasks can keep a cgroup busy for a moment. */
	deadline = now_ms() + KILL_TIMEOUT_MS;
	for (size_t i = cg->n; i-- > 0;) {
		while (unlinkat(cg->h[i].parent, cg->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			if (errno != EBUSY || now_ms() >= deadline)
				return err_errno(err, errno, "remove cgroup \"%s\"", cg->h[i].path);
			nap_ms(10);
		}
	}
	return 0;
}

void sandbox_cgroup_describe(bool rootless, char *buf, size_t len)
{
	const struct sandbox_cgroup_ops *ops = NULL;
	_cleanup_err_ struct err *e = NULL;
	struct sandbox_cgroup_mounts m;

	if (!len)
		return;
	if (detect(&m, &ops, &e) < 0) {
		snprintf(buf, len, "unavailable: %s", e->msg);
		return;
	}
	ops->describe(&m, rootless, buf, len);
}

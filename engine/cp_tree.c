/*
 * engine/cp_tree.c - a tree beneath a directory fd, for `moat cp`:
 * finding the copy's two ends, reading a tree out as entries (a source
 * for a sink), and extracting entries beneath a directory (a sink).
 *
 * Runs in: both processes. In the helper, inside the container's user
 * and mount namespaces, as root of that user namespace, for the
 * container's end; in moat, as the invoker, for the host's end. Uses no
 * library beyond libc (CVE-2019-14271: the helper must not load one).
 *
 * Invariants:
 *  - A container path is resolved beneath the container's root and
 *    nowhere else; below the resolved top nothing follows a symlink.
 *  - An entry name is used only after engine_cp_name_clean, and only
 *    relative to a directory fd opened without following symlinks.
 *  - Nothing is written through an existing name: it is unlinked and
 *    created again with O_EXCL | O_NOFOLLOW.
 *  - Owner, then mode (chown clears set-id bits), then times, each on an
 *    fd; set-id bits are dropped when the caller asks (copying out
 *    without -a). Directories get their mode and times last, deepest
 *    first, so a read-only directory still receives its entries.
 * The threats each part answers are listed at the top of the part.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/cp_internal.h"

/* ---- extraction beneath a directory fd ---- */

/*
 * Threats to the extractor, which writes what the other side names:
 *  - a name with ".." or a leading "/": engine_cp_name_clean refuses the
 *    first and drops the second before anything is resolved;
 *  - a symlink on the way, planted by an earlier record ("x" -> "/", then
 *    "x/etc/passwd") or by the container while we work (CVE-2018-15664):
 *    directories are opened one component at a time with O_NOFOLLOW |
 *    O_DIRECTORY, so the walk stops at it (tests/escape/cp.bats);
 *  - a symlink, FIFO or hard link at the name itself: it is unlinked,
 *    and the new entry created with O_EXCL | O_NOFOLLOW, so a name that
 *    changed between the two fails instead of being written through;
 *  - a hard link whose target is outside: the target is an entry name
 *    too, cleaned and resolved beneath DESTFD without following, and
 *    linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what
 *    it points to;
 *  - owner, mode and times are set on fds (or AT_SYMLINK_NOFOLLOW for a
 *    symlink), never by a name that could have been swapped.
 */

/*
 * Opens directory REL (clean, relative, "" = DESTFD itself) beneath
 * DESTFD one component at a time, never through a symlink or anything
 * but a real directory; creates missing ones when CREATE. Not
 * openat2(RESOLVE_BENEATH): that would follow a symlink that stays
 * beneath, and a symlink here is always refused, wherever it leads.
 */
static int open_dir_beneath(int destfd, const char *rel, bool create, struct err **err)
{
	_cleanup_close_ int cur = fcntl(destfd, F_DUPFD_CLOEXEC, 3);
	const char *p = rel;

	if (cur < 0)
		return err_errno(err, errno, "dup");
	while (*p) {
		size_t n = strcspn(p, "/");
		char comp[CP_PATH_MAX + 1];
		struct stat st;
		int next;

		memcpy(comp, p, n);
		comp[n] = 0;
		next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
				return err_errno(err, errno, "mkdir \"%.*s\"", (int)(p - rel + n),
						 rel);
			next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0 && (errno == ENOTDIR || errno == ELOOP))
			return err_set(err, ENOTDIR,
				       "\"%.*s\" is not a directory: refusing to copy through it",
				       (int)(p - rel + n), rel);
		if (next < 0)
			return err_errno(err, errno, "open \"%.*s\"", (int)(p - rel + n), rel);
		if (fstat(next, &st) < 0 || !S_ISDIR(st.st_mode)) {
			close(next);
			return err_set(err, ENOTDIR, "\"%.*s\" is not a directory",
				       (int)(p - rel + n), rel);
		}
		close(cur);
		cur = next;
		p += n;
		if (*p == '/')
			p++;
	}
	return steal_fd(cur);
}

/* Splits clean relative REL in place: returns the parent ("" for none). */
static const char *rel_split(char *rel, const char **base)
{
	char *slash = strrchr(rel, '/');

	if (!slash) {
		*base = rel;
		return "";
	}
	*slash = 0;
	*base = slash + 1;
	return rel;
}

static int parent_fd(struct cp_extract *x, const char *parent, struct err **err)
{
	int fd;

	if (x->pfd >= 0 && !strcmp(x->pdir, parent))
		return x->pfd;
	if ((fd = open_dir_beneath(x->destfd, parent, true, err)) < 0)
		return fd;
	closep(&x->pfd);
	x->pfd = fd;
	snprintf(x->pdir, sizeof(x->pdir), "%s", parent);
	return fd;
}

static int own(struct cp_extract *x, int dirfd, const char *name, int flags, const struct cp_ent *e,
	       struct err **err)
{
	uid_t u;
	gid_t g;

	switch (x->own) {
	case CP_OWN_KEEP:
		return 0;
	case CP_OWN_FIXED:
		u = x->uid;
		g = x->gid;
		break;
	case CP_OWN_ENTRY:
	default:
		u = e->uid;
		g = e->gid;
		break;
	}
	if (fchownat(dirfd, name, u, g, flags) == 0)
		return 0;
	if (x->own_best_effort && (errno == EPERM || errno == EINVAL))
		return 0;
	if (errno == EINVAL)
		return err_set(err, EINVAL, "\"%s\": owner %u:%u is not mapped in the container",
			       x->rel, (unsigned)u, (unsigned)g);
	return err_errno(err, errno, "chown \"%s\"", x->rel);
}

static mode_t final_mode(const struct cp_extract *x, const struct cp_ent *e)
{
	mode_t m = e->mode & 07777;

	if (x->strip_suid && e->type != CP_ENT_DIR)
		m &= ~(mode_t)(S_ISUID | S_ISGID);
	return m;
}

/* Owner, then mode (chown clears set-id bits), then times, on FD. */
static int finish_fd(struct cp_extract *x, int fd, const struct cp_ent *e, struct err **err)
{
	struct timespec ts[2] = {e->atime, e->mtime};

	if (own(x, fd, "", AT_EMPTY_PATH, e, err) < 0)
		return err_ret(*err);
	if (fchmod(fd, final_mode(x, e)) < 0)
		return err_errno(err, errno, "chmod \"%s\"", x->rel);
	if (futimens(fd, ts) < 0)
		return err_errno(err, errno, "set the times of \"%s\"", x->rel);
	return 0;
}

static int add_fix(struct cp_extract *x, const struct cp_ent *e, bool created, struct err **err)
{
	struct cp_fix *f;

	if (x->n_fixes == x->cap_fixes) {
		size_t cap = x->cap_fixes ? x->cap_fixes * 2 : 64;
		struct cp_fix *nf = realloc(x->fixes, cap * sizeof(*nf));
		if (!nf)
			return err_errno(err, ENOMEM, "copy");
		x->fixes = nf;
		x->cap_fixes = cap;
	}
	f = &x->fixes[x->n_fixes];
	if (!(f->name = strdup(x->rel)))
		return err_errno(err, ENOMEM, "copy");
	f->mode = (uint32_t)final_mode(x, e);
	f->ts[0] = e->atime;
	f->ts[1] = e->mtime;
	f->created = created;
	x->n_fixes++;
	return 0;
}

static int x_begin(struct cp_sink *s, const struct cp_ent *e, struct err **err)
{
	struct cp_extract *x = (struct cp_extract *)s;
	char work[CP_PATH_MAX + 1];
	const char *parent, *base;
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool exists;
	int pfd;

	x->cur = e;
	if (engine_cp_name_clean(e->name, x->rel, sizeof(x->rel), err) < 0)
		return err_ret(*err);
	if (!x->rel[0]) {
		/* The destination itself ("dir/." copies): kept as it is. */
		if (e->type != CP_ENT_DIR)
			return err_set(err, EINVAL, "entry \"%s\" is not a directory", e->name);
		return 0;
	}
	memcpy(work, x->rel, strlen(x->rel) + 1);
	parent = rel_split(work, &base);
	if ((pfd = parent_fd(x, parent, err)) < 0)
		return pfd;
	exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!exists && errno != ENOENT)
		return err_errno(err, errno, "stat \"%s\"", x->rel);
	if (e->type == CP_ENT_DIR) {
		if (exists && !S_ISDIR(st.st_mode))
			return err_set(err, EEXIST,
				       "cannot overwrite non-directory \"%s\" with directory",
				       x->rel);
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return err_errno(err, errno, "mkdir \"%s\"", x->rel);
		fd = openat(pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_errno(err, errno, "open \"%s\"", x->rel);
		if (!exists && own(x, fd, "", AT_EMPTY_PATH, e, err) < 0)
			return err_ret(*err);
		/* Mode and times last: a read-only directory still gets its
		 * entries, and they would change its mtime. */
		return add_fix(x, e, !exists, err);
	}
	if (exists && S_ISDIR(st.st_mode))
		return err_set(err, EEXIST, "cannot overwrite directory \"%s\" with non-directory",
			       x->rel);
	/* What was there goes, and is never written through. */
	if (exists && unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
		return err_errno(err, errno, "replace \"%s\"", x->rel);
	switch (e->type) {
	case CP_ENT_REG:
		x->fd =
		    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (x->fd < 0)
			return err_errno(err, errno, "create \"%s\"", x->rel);
		x->left = e->size;
		return 0;
	case CP_ENT_LNK: {
		struct timespec ts[2] = {e->atime, e->mtime};
		if (symlinkat(e->link, pfd, base) < 0)
			return err_errno(err, errno, "symlink \"%s\"", x->rel);
		if (own(x, pfd, base, AT_SYMLINK_NOFOLLOW, e, err) < 0)
			return err_ret(*err);
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return err_errno(err, errno, "set the times of \"%s\"", x->rel);
		return 0;
	}
	case CP_ENT_FIFO:
		if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
			return err_errno(err, errno, "mkfifo \"%s\"", x->rel);
		fd = openat(pfd, base, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_errno(err, errno, "open \"%s\"", x->rel);
		return finish_fd(x, fd, e, err);
	case CP_ENT_HARDLINK: {
		char target[CP_PATH_MAX + 1];
		const char *tparent, *tbase;
		_cleanup_close_ int tpfd = -1;

		if (engine_cp_name_clean(e->link, target, sizeof(target), err) < 0)
			return err_ret(*err);
		if (!target[0])
			return err_set(err, EINVAL, "hard link \"%s\" to nothing", x->rel);
		tparent = rel_split(target, &tbase);
		if ((tpfd = open_dir_beneath(x->destfd, tparent, false, err)) < 0)
			return err_ret(*err);
		if (linkat(tpfd, tbase, pfd, base, 0) < 0)
			return err_errno(err, errno, "hard link \"%s\"", x->rel);
		return 0;
	}
	case CP_ENT_DIR:
	case CP_ENT_END:
	case CP_ENT_TYPE_MAX:
	default:
		return err_set(err, EPROTO, "bad entry type");
	}
}

static int x_data(struct cp_sink *s, const void *buf, size_t n, struct err **err)
{
	struct cp_extract *x = (struct cp_extract *)s;
	int r;

	if (x->fd < 0 || n > x->left)
		return err_set(err, EPROTO, "\"%s\": more data than announced", x->rel);
	if ((r = fs_write_all(x->fd, buf, n)) < 0)
		return err_errno(err, -r, "write \"%s\"", x->rel);
	x->left -= n;
	return 0;
}

static int x_end(struct cp_sink *s, struct err **err)
{
	struct cp_extract *x = (struct cp_extract *)s;
	int r = 0;

	if (x->fd < 0)
		return 0;
	if (x->left)
		r = err_set(err, EPIPE, "\"%s\": the copy ended early", x->rel);
	else
		r = finish_fd(x, x->fd, x->cur, err);
	closep(&x->fd);
	return r;
}

void engine_cp_extract_init(struct cp_extract *x, int destfd)
{
	memset(x, 0, sizeof(*x));
	x->s = (struct cp_sink){x_begin, x_data, x_end};
	x->destfd = destfd;
	x->fd = x->pfd = -1;
}

/* Directories' modes and times, deepest first (they were created in
 * order, parents before children). Best effort for directories that were
 * there before: they may not be ours to change. */
int engine_cp_extract_finish(struct cp_extract *x, struct err **err)
{
	for (size_t i = x->n_fixes; i-- > 0;) {
		struct cp_fix *f = &x->fixes[i];
		const char *parent, *base;
		_cleanup_close_ int pfd = -1, fd = -1;
		struct err *e = NULL;
		int r = 0;

		snprintf(x->rel, sizeof(x->rel), "%s", f->name);
		parent = rel_split(f->name, &base);
		pfd = open_dir_beneath(x->destfd, parent, false, &e);
		if (pfd >= 0)
			fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pfd < 0 || fd < 0)
			r = e ? err_ret(e) : -errno;
		else if (fchmod(fd, f->mode) < 0 || futimens(fd, f->ts) < 0)
			r = -errno;
		err_free(&e);
		if (r < 0 && f->created)
			return err_errno(err, -r, "set the mode and times of \"%s\"", x->rel);
	}
	return 0;
}

void engine_cp_extract_free(struct cp_extract *x)
{
	for (size_t i = 0; i < x->n_fixes; i++)
		free(x->fixes[i].name);
	free(x->fixes);
	closep(&x->fd);
	closep(&x->pfd);
}

/* ---- reading a tree beneath a directory fd ---- */

/*
 * Threats to the reader, which walks a tree the container may change
 * while it reads:
 *  - symlinks below the top are sent as symlinks, never followed: every
 *    entry is opened O_NOFOLLOW relative to its directory's fd;
 *  - an entry swapped between fstatat and openat is caught by comparing
 *    device, inode and type after the open (ESTALE); the open itself may
 *    land on what was swapped in, so a regular file is opened O_NONBLOCK
 *    | O_NOCTTY (a FIFO cannot block us, a tty cannot become ours) and
 *    anything but a directory or regular file only O_PATH;
 *  - a file that shrinks while read is padded with zeros to the size
 *    announced, one that grows is cut to it: the stream stays in step;
 *  - pseudo filesystems (proc, sysfs, ...) are not descended: in a
 *    running container they are the kernel's view, not files, and /proc
 *    alone would never end; nesting is capped (CP_DEPTH_MAX), names are
 *    bounded (CP_PATH_MAX), device nodes and sockets are skipped.
 */

struct walker {
	struct cp_sink *s;
	struct cp_ent e;
	char *buf;
	unsigned long skipped; /* device nodes and sockets */
};

/*
 * Opens NAME in DIRFD without following it: learns its type first, so
 * that only directories (O_DIRECTORY) and regular files are really
 * opened (never a device or a FIFO), anything else O_PATH; then checks it
 * is still the same inode.
 */
static int open_entry(int dirfd, const char *name, int *out, struct stat *st)
{
	_cleanup_close_ int fd = -1;
	struct stat now;
	int flags = O_PATH;

	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		flags = O_RDONLY | O_DIRECTORY;
	else if (S_ISREG(st->st_mode))
		flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &now) < 0)
		return -errno;
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
		return -ESTALE;
	*st = now;
	*out = steal_fd(fd);
	return 0;
}

static void ent_from_stat(struct cp_ent *e, enum cp_ent_type type, const struct stat *st)
{
	e->type = type;
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->atime = st->st_atim;
	e->mtime = st->st_mtim;
	e->size = 0;
	e->link[0] = 0;
}

/* Kernel interfaces, not files: listed as empty directories. */
static bool pseudo_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch ((unsigned long)sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case DEVPTS_SUPER_MAGIC:
	case SECURITYFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case BPF_FS_MAGIC:
		return true;
	default:
		return false;
	}
}

static int send_file(struct walker *w, int fd, const struct stat *st, struct err **err)
{
	struct cp_ent *e = &w->e;

	ent_from_stat(e, CP_ENT_REG, st);
	e->size = (uint64_t)st->st_size;
	if (w->s->begin(w->s, e, err) < 0)
		return err_ret(*err);
	for (uint64_t left = e->size; left;) {
		size_t chunk = left < CP_BUF ? (size_t)left : CP_BUF;
		ssize_t n = read(fd, w->buf, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, errno, "read \"%s\"", e->name);
		if (n == 0) {
			/* It shrank while being copied: the size sent stands. */
			memset(w->buf, 0, chunk);
			n = (ssize_t)chunk;
		}
		if (w->s->data(w->s, w->buf, (size_t)n, err) < 0)
			return err_ret(*err);
		left -= (uint64_t)n;
	}
	return w->s->end(w->s, err);
}

/* Sends FD (named w->e.name, LEN long; ST its stat) and what is below it. */
static int walk(struct walker *w, int fd, const struct stat *st, size_t len, int depth,
		struct err **err)
{
	struct cp_ent *e = &w->e;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t base;
	int dfd;

	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		return send_file(w, fd, st, err);
	case S_IFLNK: {
		ssize_t n;
		ent_from_stat(e, CP_ENT_LNK, st);
		n = readlinkat(fd, "", e->link, CP_PATH_MAX);
		if (n < 0)
			return err_errno(err, errno, "readlink \"%s\"", e->name);
		if (n == 0 || n >= CP_PATH_MAX)
			return err_set(err, ENAMETOOLONG, "bad symlink \"%s\"", e->name);
		e->link[n] = 0;
		if (w->s->begin(w->s, e, err) < 0)
			return err_ret(*err);
		return w->s->end(w->s, err);
	}
	case S_IFIFO:
		ent_from_stat(e, CP_ENT_FIFO, st);
		if (w->s->begin(w->s, e, err) < 0)
			return err_ret(*err);
		return w->s->end(w->s, err);
	case S_IFDIR:
		break;
	default:
		w->skipped++;
		return 0;
	}
	ent_from_stat(e, CP_ENT_DIR, st);
	if (w->s->begin(w->s, e, err) < 0 || w->s->end(w->s, err) < 0)
		return err_ret(*err);
	if (pseudo_fs(fd))
		return 0;
	if (depth >= CP_DEPTH_MAX)
		return err_set(err, ELOOP, "\"%s\": directories nested too deep", e->name);
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return err_errno(err, errno, "dup");
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return err_errno(err, errno, "read directory \"%s\"", e->name);
	}
	/* Children of "." are named without it. */
	base = (len == 1 && e->name[0] == '.') ? 0 : len + 1;
	for (;;) {
		_cleanup_close_ int cfd = -1;
		struct stat cst;
		size_t nl;
		int r;

		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				return err_errno(err, errno, "read directory \"%.*s\"", (int)len,
						 e->name);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nl = strlen(de->d_name);
		if (base + nl > CP_PATH_MAX)
			return err_set(err, ENAMETOOLONG, "path too long under \"%.*s\"", (int)len,
				       e->name);
		if (base)
			e->name[len] = '/';
		memcpy(e->name + base, de->d_name, nl + 1);
		r = open_entry(dirfd(d), de->d_name, &cfd, &cst);
		if (r == -ENOENT)
			continue; /* gone meanwhile */
		if (r < 0)
			return err_errno(err, -r, "open \"%s\"", e->name);
		if (walk(w, cfd, &cst, base + nl, depth + 1, err) < 0)
			return err_ret(*err);
	}
	e->name[len] = 0;
	return 0;
}

int engine_cp_tree_send(struct cp_sink *s, int fd, const struct stat *st, const char *name,
			unsigned long *skipped, struct err **err)
{
	_cleanup_free_ struct walker *w = calloc(1, sizeof(*w));
	_cleanup_free_ char *buf = malloc(CP_BUF);
	size_t len = strlen(name);

	if (!w || !buf)
		return err_errno(err, ENOMEM, "copy buffer");
	if (len > CP_PATH_MAX)
		return err_set(err, ENAMETOOLONG, "name too long");
	w->s = s;
	w->buf = buf;
	memcpy(w->e.name, name, len + 1);
	if (walk(w, fd, st, len, 0, err) < 0)
		return err_ret(*err);
	*skipped += w->skipped;
	return 0;
}

/* ---- finding the two ends ---- */

/*
 * CVE-2019-10152 (podman cp resolved a container's symlinks on the host)
 * and CVE-2018-15664 (docker cp's check-then-use raced a symlink swap):
 * a container path is resolved only here, only beneath ROOTFD, by the
 * helper, whose "/" is the container's root as well. Every step is
 * path_open_beneath (RESOLVE_IN_ROOT): a symlink in a directory, absolute
 * or with "..", stays inside; the last component's symlinks, followed
 * when Docker's rules say so, are read, joined and resolved beneath
 * ROOTFD again, CP_HOPS_MAX at most. A swap after that moves us to
 * another object inside the container, never outside it. ROOTFD -1 is
 * the host's end: the invoker's own paths, resolved with the invoker's
 * rights as any program would.
 */

/* Opens PATH beneath ROOTFD, or on the host (the invoker's own paths)
 * when ROOTFD is -1; O_PATH | O_DIRECTORY opens are checked to be one. */
static int xopen_dir(int rootfd, const char *path)
{
	struct stat st;
	int fd;

	if (rootfd < 0)
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		fd = path_open_beneath(rootfd, path, O_PATH | O_DIRECTORY, 0, NULL);
	if (rootfd < 0 && fd < 0)
		fd = -errno;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/* One end, found: the object is BASE in PFD, or PFD itself (BASE ""). */
struct loc {
	int pfd;
	const char *base;
	char path[CP_PATH_MAX + 2]; /* with its last symlinks followed */
	char dir[CP_PATH_MAX + 2];
	bool exists;
	struct stat st;
};

/*
 * Finds PATH (clean): its directories resolved beneath ROOTFD (symlinks
 * there stay inside), its last component's symlinks followed only when
 * FOLLOW, one at a time and each again beneath ROOTFD. SELF: PATH names a
 * directory to use as such ("dir/."). Returns 0 (L->exists says whether
 * it is there) or a negative errno for its directory (L->dir).
 */
static int locate(int rootfd, const char *path, bool follow, bool self, struct loc *l)
{
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->pfd = -1;
	l->exists = false;
	for (int hops = 0;; hops++) {
		char target[CP_PATH_MAX + 1], joined[2 * CP_PATH_MAX + 4];
		ssize_t n;

		engine_cp_path_split(l->path, l->dir, &l->base);
		if (self || !strcmp(l->path, "/") || !strcmp(l->base, ".") ||
		    !strcmp(l->base, "..")) {
			snprintf(l->dir, sizeof(l->dir), "%s", l->path);
			l->base = "";
			if ((l->pfd = xopen_dir(rootfd, l->path)) < 0)
				return l->pfd;
			l->exists = fstat(l->pfd, &l->st) == 0;
			return 0;
		}
		if ((l->pfd = xopen_dir(rootfd, l->dir)) < 0)
			return l->pfd;
		if (fstatat(l->pfd, l->base, &l->st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : -errno;
		if (!S_ISLNK(l->st.st_mode) || !follow) {
			l->exists = true;
			return 0;
		}
		if (hops >= CP_HOPS_MAX)
			return -ELOOP;
		n = readlinkat(l->pfd, l->base, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		closep(&l->pfd);
		snprintf(joined, sizeof(joined), "%s%s%s", target[0] == '/' ? "" : l->dir,
			 target[0] == '/' ? "" : "/", target);
		if (strlen(joined) > CP_PATH_MAX)
			return -ENAMETOOLONG;
		engine_cp_path_clean(joined, l->path);
		self = false;
	}
}

int engine_cp_src_open(int rootfd, const struct cp_path *p, bool follow, const char *show,
		       const char *ctr, struct cp_src *s, struct err **err)
{
	struct loc l;
	int r;

	s->fd = -1;
	/* "link/" means the directory the link leads to (Docker). */
	r = locate(rootfd, p->clean, follow || p->asserts_dir, p->contents, &l);
	if (r == 0 && !l.exists)
		r = -ENOENT;
	if (r == 0) {
		if (!l.base[0]) {
			s->fd = openat(l.pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = s->fd < 0 ? -errno : fstat(s->fd, &s->st) < 0 ? -errno : 0;
		} else {
			r = open_entry(l.pfd, l.base, &s->fd, &s->st);
		}
	}
	closep(&l.pfd);
	if (r == 0 && p->asserts_dir && !S_ISDIR(s->st.st_mode))
		r = -ENOTDIR;
	if (r == 0)
		return 0;
	closep(&s->fd);
	if (r == -ENOENT && ctr)
		return err_set(err, ENOENT, "Could not find the file %s in container %s", show,
			       ctr);
	if (r == -ENOENT)
		return err_set(err, ENOENT, "lstat %s: no such file or directory", show);
	return err_errno(err, -r, "%s%s%s", ctr ? ctr : "", ctr ? ":" : "", show);
}

int engine_cp_dest_find(int rootfd, const struct cp_path *p, const char *show, const char *ctr,
			struct cp_dest *out, struct err **err)
{
	struct loc l;
	int r;

	memset(out, 0, sizeof(*out));
	out->pfd = out->fd = -1;
	/* Docker follows a destination symlink: the copy goes where it leads. */
	r = locate(rootfd, p->clean, true, false, &l);
	if (r < 0) {
		closep(&l.pfd);
		if (r == -ENOENT && ctr)
			return err_set(err, ENOENT, "no such directory \"%s\" in container %s",
				       l.dir, ctr);
		if (r == -ENOENT)
			return err_set(err, ENOENT, "invalid output path: no such directory \"%s\"",
				       l.dir);
		if (r == -ENOTDIR)
			return err_set(err, ENOTDIR, "\"%s%s%s\" is not a directory",
				       ctr ? ctr : "", ctr ? ":" : "", l.dir);
		return err_errno(err, -r, "%s", show);
	}
	out->d.exists = l.exists;
	out->d.is_dir = l.exists && S_ISDIR(l.st.st_mode);
	out->d.is_reg = l.exists && S_ISREG(l.st.st_mode);
	out->d.asserts_dir = p->asserts_dir;
	out->d.show = show;
	if (!l.base[0]) {
		/* "/" or "." itself */
		const char *b = strrchr(l.path, '/');
		snprintf(out->base, sizeof(out->base), "%s", b ? b + 1 : l.path);
		out->fd = steal_fd(l.pfd);
		out->pfd = fcntl(out->fd, F_DUPFD_CLOEXEC, 3);
	} else {
		snprintf(out->base, sizeof(out->base), "%s", l.base);
		out->pfd = steal_fd(l.pfd);
		if (out->d.is_dir) {
			out->fd = openat(out->pfd, out->base,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (out->fd < 0)
				return err_errno(err, errno, "open %s", show);
		}
	}
	out->d.base = out->base;
	return 0;
}

void engine_cp_dest_close(struct cp_dest *d)
{
	closep(&d->pfd);
	closep(&d->fd);
}

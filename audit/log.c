/*
 * audit/log.c - appending to the hash-chained audit log: open, append
 * (with rotation and the checkpoint), keys.
 *
 * Runs in: any moat process that records a decision, as the invoking user
 * or root; several processes append to one log at once.
 *
 * Invariants:
 *  - every read-modify-write of the log, its rotated files, its checkpoint
 *    and its gap marker happens under an exclusive flock on "<path>.lock",
 *    taken on a file opened for that one append, so that forked children
 *    and threads sharing a handle still exclude each other;
 *  - a record reaches the file in one write(2) on an O_APPEND fd; a short
 *    write, a failed fsync or a failed checkpoint is cut back with
 *    ftruncate to the size the file had under the lock, so a failed append
 *    leaves no partial line;
 *  - order: line, fsync, checkpoint (atomic rename), directory fsync. The
 *    checkpoint therefore never runs ahead of the log; a crash can leave
 *    it one record behind, which the next append adopts and flags with
 *    audit_gap;
 *  - the writer only chains onto a tail record that passes its own hash
 *    (and hmac) and agrees with the MAC'd checkpoint; anything else is
 *    refused, never overwritten (see audit.h);
 *  - files are reached through the log directory's fd with O_NOFOLLOW;
 *    the log must be a regular file of the caller, not writable by others.
 */
#include "audit/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

struct audit_log {
	char *path; /* as given */
	char *base; /* its file name in dirfd */
	int dirfd;
	char *lock_name, *ck_name, *gap_name;
	unsigned char *ckey, *hkey;
	size_t ckeylen, hkeylen;
	bool fail_open, syslog;
	uint64_t rotate_bytes;
	unsigned keep;
	char **cmdline;
	char host[256];
};

/* What the tail of a file holds. */
struct tail {
	bool have; /* a last record */
	struct audit_record rec;
	off_t valid_end; /* where the last complete line ends */
};

static void tail_free(struct tail *t)
{
	if (t->have)
		audit_record_free(&t->rec);
	t->have = false;
}

/* ---- Keys --------------------------------------------------------------- */

void audit_key_free(unsigned char *key, size_t len)
{
	if (key) {
		explicit_bzero(key, len);
		free(key);
	}
}

static int dir_of(const char *path, char **out, struct err **err)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return err_set(err, ENOMEM, "out of memory");
	*out = strdup(dirname(copy));
	if (!*out)
		return err_set(err, ENOMEM, "out of memory");
	return 0;
}

/* Publishes a new random key at PATH with link(2): whoever links first
 * wins, and nobody reads a key that is half written. */
static int make_key(const char *path, struct err **err)
{
	_cleanup_free_ char *dir = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	unsigned char key[AUDIT_CHECKPOINT_KEY_LEN];
	size_t got = 0;
	int r = 0;

	if (dir_of(path, &dir, err) < 0 || fs_mkdir_p(dir, 0700, err) < 0)
		return err_ret(*err);
	if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
		return err_set(err, ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a crashed process that had our pid. */
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return err_errno(err, errno, "create audit key \"%s\"", tmp);
	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (n > 0)
			got += (size_t)n;
	}
	if (r == 0)
		r = fs_write_all(fd, key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && link(tmp, path) < 0 && errno != EEXIST)
		r = -errno;
	unlink(tmp);
	if (r < 0)
		return err_errno(err, -r, "create audit key \"%s\"", path);
	return 0;
}

int audit_key_load(const char *path, size_t min, bool create, bool check_owner, unsigned char **key,
		   size_t *len, struct err **err)
{
	_cleanup_close_ int fd = -1;
	char *buf = NULL;
	struct stat st;
	size_t n = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (make_key(path, err) < 0)
			return err_ret(*err);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 && errno == ELOOP)
		return err_set(err, ELOOP, "audit key \"%s\" is a symlink", path);
	if (fd < 0)
		return err_errno(err, errno, "audit key \"%s\"", path);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "audit key \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "audit key \"%s\" is not a regular file", path);
	if (check_owner && (st.st_uid != geteuid() || (st.st_mode & 077)))
		return err_set(err, EPERM,
			       "audit key \"%s\" must be owned by uid %u and private to it "
			       "(mode 0600)",
			       path, (unsigned)geteuid());
	if (fs_read_fd(fd, AUDIT_KEY_MAX, &buf, &n, err) < 0)
		return err_prefix(err, "audit key \"%s\"", path);
	if (n < min) {
		audit_key_free((unsigned char *)buf, n);
		return err_set(err, EINVAL, "audit key \"%s\" has %zu bytes, fewer than %zu", path,
			       n, min);
	}
	*key = (unsigned char *)buf;
	*len = n;
	return 0;
}

/* ---- The checkpoint ----------------------------------------------------- */

int audit_checkpoint_read(int dirfd, const char *name, struct audit_checkpoint *c, struct err **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;

	if (fd < 0 && errno == ENOENT)
		return -ENOENT;
	if (fd < 0)
		return err_errno(err, errno, "checkpoint \"%s\"", name);
	if (fs_read_fd(fd, AUDIT_CHECKPOINT_MAX, &buf, &n, err) < 0)
		return err_prefix(err, "checkpoint \"%s\"", name);
	return audit_checkpoint_decode(buf, n, c, err);
}

static int checkpoint_write(struct audit_log *l, uint64_t seq, const char *hash, struct err **err)
{
	struct audit_checkpoint c = {.seq = seq};
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;

	memcpy(c.hash, hash, sizeof(c.hash));
	snprintf(c.file, sizeof(c.file), "%s", l->base);
	audit_checkpoint_mac(l->ckey, l->ckeylen, seq, hash, c.mac);
	if (audit_checkpoint_encode(&c, &buf, &n, err) < 0 ||
	    fs_write_atomic(l->dirfd, l->ck_name, buf, n, 0600, err) < 0)
		return err_ret(*err);
	/* Durability of the rename. Ignoring a failure is safe: a lost
	 * rename leaves the checkpoint one record behind, which the next
	 * append adopts (and flags). */
	(void)fsync(l->dirfd);
	return 0;
}

/* ---- Files ------------------------------------------------------------- */

/* Opens the live log for appending, creating it 0600, refusing what an
 * attacker could have planted: a symlink, a non-file, someone else's file,
 * a file others may write. */
static int open_log(struct audit_log *l, struct stat *st, struct err **err)
{
	_cleanup_close_ int fd =
	    openat(l->dirfd, l->base, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 && errno == ELOOP)
		return err_set(err, ELOOP, "audit log \"%s\" is a symlink", l->path);
	if (fd < 0)
		return err_errno(err, errno, "audit log \"%s\"", l->path);
	if (fstat(fd, st) < 0)
		return err_errno(err, errno, "audit log \"%s\"", l->path);
	if (!S_ISREG(st->st_mode))
		return err_set(err, EINVAL, "audit log \"%s\" is not a regular file", l->path);
	if (st->st_uid != geteuid())
		return err_set(err, EPERM, "audit log \"%s\" is owned by uid %u, not %u", l->path,
			       (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & 022)
		return err_set(err, EPERM, "audit log \"%s\" is writable by others (mode %03o)",
			       l->path, (unsigned)(st->st_mode & 0777));
	return steal_fd(fd);
}

static int lock_log(struct audit_log *l, int how, struct err **err)
{
	_cleanup_close_ int fd =
	    openat(l->dirfd, l->lock_name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_errno(err, errno, "audit log \"%s\": lock", l->path);
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "audit log \"%s\": lock", l->path);
	return steal_fd(fd);
}

/*
 * Finds the last complete line of FD (SIZE bytes) and decodes it. A final
 * line without its newline is not a record: valid_end stops before it.
 * Reads a small window first and at most two record lengths.
 */
static int read_tail(int fd, off_t size, const char *what, struct tail *t, struct err **err)
{
	const off_t cap = 2 * ((off_t)AUDIT_RECORD_MAX + 1);
	off_t w = size < 8192 ? size : 8192;

	t->have = false;
	t->valid_end = 0;
	while (w > 0) {
		_cleanup_free_ char *buf = malloc((size_t)w);
		off_t base = size - w, e, s;
		ssize_t n;

		if (!buf)
			return err_set(err, ENOMEM, "out of memory");
		n = pread(fd, buf, (size_t)w, base);
		if (n < 0)
			return err_errno(err, errno, "read \"%s\"", what);
		if (n != w)
			return err_set(err, EIO, "read \"%s\": file changed under the lock", what);
		for (e = w; e > 0 && buf[e - 1] != '\n'; e--)
			;
		if (e > 0) {
			for (s = e - 1; s > 0 && buf[s - 1] != '\n'; s--)
				;
			if (s > 0 || base == 0) {
				if (e - 1 - s > AUDIT_RECORD_MAX)
					break;
				t->valid_end = base + e;
				if (audit_record_decode(buf + s, (size_t)(e - 1 - s), &t->rec,
							err) < 0)
					return err_prefix(err, "\"%s\": last record", what);
				t->have = true;
				return 0;
			}
		} else if (base == 0) {
			return 0; /* one partial line and nothing else */
		}
		if (w == size || w >= cap)
			break;
		w = size < cap ? size : cap;
	}
	if (w == 0)
		return 0;
	return err_set(err, EINVAL, "\"%s\": the last record is longer than %d bytes", what,
		       AUDIT_RECORD_MAX);
}

int audit_rotated_list(int dirfd, const char *base, unsigned **out, size_t *n, struct err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ unsigned *v = NULL;
	size_t cap = 0, blen = strlen(base);
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "list rotated logs");
	}
	while ((de = readdir(d))) {
		const char *p = de->d_name + blen + 1;
		unsigned long k;
		char *end;

		if (strncmp(de->d_name, base, blen) || de->d_name[blen] != '.' || *p < '1' ||
		    *p > '9' || strlen(p) > 9)
			continue;
		k = strtoul(p, &end, 10);
		if (*end)
			continue;
		if (*n == cap) {
			unsigned *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));
			if (!nv)
				return err_set(err, ENOMEM, "out of memory");
			v = nv;
		}
		v[(*n)++] = (unsigned)k;
	}
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			unsigned x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	*out = steal_ptr(v);
	return 0;
}

/* path -> path.1 -> ... -> path.keep; everything numbered keep or more is
 * dropped first (also files left by a larger keep). */
static int rotate(struct audit_log *l, struct err **err)
{
	_cleanup_free_ unsigned *v = NULL;
	char from[300], to[300];
	size_t n = 0;

	if (audit_rotated_list(l->dirfd, l->base, &v, &n, err) < 0)
		return err_prefix(err, "audit log \"%s\": rotate", l->path);
	for (size_t i = n; i-- > 0;) {
		snprintf(from, sizeof(from), "%s.%u", l->base, v[i]);
		if (v[i] >= l->keep) {
			if (unlinkat(l->dirfd, from, 0) < 0 && errno != ENOENT)
				return err_errno(err, errno, "audit log \"%s\": rotate: remove %s",
						 l->path, from);
			continue;
		}
		snprintf(to, sizeof(to), "%s.%u", l->base, v[i] + 1);
		if (renameat(l->dirfd, from, l->dirfd, to) < 0)
			return err_errno(err, errno, "audit log \"%s\": rotate %s", l->path, from);
	}
	snprintf(to, sizeof(to), "%s.1", l->base);
	if (renameat(l->dirfd, l->base, l->dirfd, to) < 0)
		return err_errno(err, errno, "audit log \"%s\": rotate", l->path);
	(void)fsync(l->dirfd);
	return 0;
}

/* ---- Open and close ------------------------------------------------------ */

static int self_cmdline(char ***out, struct err **err)
{
	_cleanup_close_ int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	_cleanup_strv_ char **v = NULL;
	size_t n = 0, k = 0;

	if (fd < 0 || fs_read_fd(fd, 256 * 1024, &buf, &n, err) < 0) {
		/* No /proc (a minimal chroot): record no argv rather than fail. */
		err_free(err);
		*out = calloc(1, sizeof(char *));
		return *out ? 0 : err_set(err, ENOMEM, "out of memory");
	}
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (!(v[k++] = strdup(buf + i)))
			return err_set(err, ENOMEM, "out of memory");
	*out = steal_ptr(v);
	return 0;
}

static int copy_strv(char *const *src, char ***out, struct err **err)
{
	size_t n = 0;
	_cleanup_strv_ char **v = NULL;

	while (src[n])
		n++;
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i])))
			return err_set(err, ENOMEM, "out of memory");
	*out = steal_ptr(v);
	return 0;
}

/* The directory must not let anyone else swap the log or its checkpoint. */
static int check_dir(int dirfd, const char *dir, struct err **err)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return err_errno(err, errno, "audit log directory \"%s\"", dir);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return err_set(err, EPERM, "audit log directory \"%s\" is owned by uid %u", dir,
			       (unsigned)st.st_uid);
	if (st.st_mode & 022)
		return err_set(err, EPERM, "audit log directory \"%s\" is writable by others", dir);
	return 0;
}

/* A new log gets a checkpoint at seq 0, so that a checkpoint missing
 * beside records is evidence, not a fresh start. */
static int init_checkpoint(struct audit_log *l, struct err **err)
{
	_cleanup_close_ int lock = -1, fd = -1;
	_cleanup_free_ unsigned *v = NULL;
	struct audit_checkpoint c;
	struct stat st;
	size_t n = 0;
	int r;

	lock = lock_log(l, LOCK_EX, err);
	if (lock < 0)
		return lock;
	fd = open_log(l, &st, err);
	if (fd < 0)
		return fd;
	r = audit_checkpoint_read(l->dirfd, l->ck_name, &c, err);
	if (r != -ENOENT)
		return r < 0 ? err_prefix(err, "audit log \"%s\"", l->path) : 0;
	if (st.st_size > 0)
		return 0; /* records and no checkpoint: audit_append refuses */
	if (audit_rotated_list(l->dirfd, l->base, &v, &n, err) < 0)
		return err_prefix(err, "audit log \"%s\"", l->path);
	if (n > 0)
		return 0;
	if (checkpoint_write(l, 0, AUDIT_ZERO_HASH, err) < 0)
		return err_prefix(err, "audit log \"%s\"", l->path);
	return 0;
}

void audit_close(struct audit_log *l)
{
	if (!l)
		return;
	if (l->dirfd >= 0)
		close(l->dirfd);
	audit_key_free(l->ckey, l->ckeylen);
	audit_key_free(l->hkey, l->hkeylen);
	free(l->path);
	free(l->base);
	free(l->lock_name);
	free(l->ck_name);
	free(l->gap_name);
	strvfree(l->cmdline);
	free(l);
}

static void audit_closep(struct audit_log **l)
{
	audit_close(*l);
}

static int do_open(const struct audit_opts *o, struct audit_log *l, struct err **err)
{
	_cleanup_free_ char *dir = NULL, *copy = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!o->path || !*o->path || !o->checkpoint_key_path || !*o->checkpoint_key_path)
		return err_set(err, EINVAL, "audit log: a path and a checkpoint key are required");
	if (o->rotate_bytes && !o->keep)
		return err_set(err, EINVAL,
			       "audit log \"%s\": keep must be at least 1 when rotating (the "
			       "chain continues from the rotated file)",
			       o->path);
	l->path = strdup(o->path);
	copy = strdup(o->path);
	if (!l->path || !copy || dir_of(o->path, &dir, err) < 0)
		return err_set(err, ENOMEM, "out of memory");
	l->base = strdup(basename(copy));
	if (!l->base || asprintf(&l->lock_name, "%s.lock", l->base) < 0 ||
	    asprintf(&l->ck_name, "%s.checkpoint", l->base) < 0 ||
	    asprintf(&l->gap_name, "%s.gap", l->base) < 0)
		return err_set(err, ENOMEM, "out of memory");
	if (strlen(l->base) > 200 || !strcmp(l->base, "/") || !strcmp(l->base, ".") ||
	    !strcmp(l->base, ".."))
		return err_set(err, EINVAL, "audit log \"%s\": not a file name", o->path);
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return err_prefix(err, "audit log");
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return err_errno(err, errno, "audit log directory \"%s\"", dir);
	if (check_dir(l->dirfd, dir, err) < 0)
		return err_ret(*err);
	fd = open_log(l, &st, err);
	if (fd < 0)
		return fd;
	if (audit_key_load(o->checkpoint_key_path, AUDIT_CHECKPOINT_KEY_LEN, true, true, &l->ckey,
			   &l->ckeylen, err) < 0)
		return err_ret(*err);
	if (o->hmac_key_path && audit_key_load(o->hmac_key_path, AUDIT_HMAC_KEY_MIN, false, true,
					       &l->hkey, &l->hkeylen, err) < 0)
		return err_ret(*err);
	if ((o->cmdline ? copy_strv(o->cmdline, &l->cmdline, err)
			: self_cmdline(&l->cmdline, err)) < 0)
		return err_ret(*err);
	if (gethostname(l->host, sizeof(l->host) - 1) < 0)
		snprintf(l->host, sizeof(l->host), "unknown");
	l->fail_open = o->fail_open;
	l->syslog = o->syslog;
	l->rotate_bytes = o->rotate_bytes;
	l->keep = o->keep;
	return init_checkpoint(l, err);
}

/* Best effort, fail-open only: "<path>.gap" says a record may be missing;
 * its first line, kept from the first failure, says when and why. */
static void mark_gap(int dirfd, const char *name, const struct err *why)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct timespec now;
	char t[40], line[1200];
	int n;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	audit_time_format(&now, t);
	n = snprintf(line, sizeof(line), "%s %s\n", t, why ? why->msg : "unknown error");
	if (n > 0)
		(void)fs_write_all(fd, line,
				   (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	(void)fsync(fd);
}

int audit_open(const struct audit_opts *o, struct audit_log **out, struct err **err)
{
	__attribute__((cleanup(audit_closep))) struct audit_log *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return err_set(err, ENOMEM, "out of memory");
	l->dirfd = -1;
	if (do_open(o, l, err) < 0) {
		/* Fail-open callers go on without a handle: leave the marker
		 * where the log would be, if its directory exists. */
		if (o->fail_open && l->dirfd >= 0 && l->gap_name)
			mark_gap(l->dirfd, l->gap_name, err ? *err : NULL);
		return err_ret(err ? *err : NULL);
	}
	*out = steal_ptr(l);
	return 0;
}

bool audit_fail_open(const struct audit_log *l)
{
	return l && l->fail_open;
}

/* ---- Append ----------------------------------------------------------------- */

/* The last record of the log: the live file's tail, or path.1's when the
 * live file holds none (just rotated). *END is where the live file's last
 * complete line ends: a partial line after it is a crash mid-write. */
static int find_last(struct audit_log *l, int fd, off_t size, struct tail *t, off_t *end,
		     struct err **err)
{
	_cleanup_close_ int fd1 = -1;
	char name1[300];
	struct stat st;

	if (read_tail(fd, size, l->path, t, err) < 0)
		return err_ret(*err);
	*end = t->valid_end;
	if (t->have)
		return 0;
	snprintf(name1, sizeof(name1), "%s.1", l->base);
	fd1 = openat(l->dirfd, name1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd1 < 0 && errno == ENOENT)
		return 0;
	if (fd1 < 0 || fstat(fd1, &st) < 0)
		return err_errno(err, errno, "audit log \"%s.1\"", l->path);
	if (read_tail(fd1, st.st_size, name1, t, err) < 0)
		return err_ret(*err);
	if (t->valid_end != st.st_size)
		return err_set(err, EBADMSG, "audit log \"%s.1\" ends in a partial line", l->path);
	return 0;
}

/* The tail must be a record the writer can vouch for before anything is
 * chained onto it (see audit.h for why this refuses instead of repairing). */
static int check_tail(struct audit_log *l, const struct tail *t, bool *gap, struct err **err)
{
	struct audit_checkpoint c;
	char mac[SHA256_HEX_LEN + 1];
	uint64_t seq = t->have ? t->rec.seq : 0;
	const char *hash = t->have ? t->rec.hash : AUDIT_ZERO_HASH;
	int r;

	if (t->have && !audit_record_hash_ok(&t->rec))
		return err_set(
		    err, EBADMSG,
		    "audit log \"%s\": the last record (seq %" PRIu64
		    ") fails its hash; refusing to chain onto it (see moat audit verify)",
		    l->path, seq);
	if (t->have && l->hkey) {
		audit_record_hmac(&t->rec, l->hkey, l->hkeylen, mac);
		if (!audit_hex_eq(mac, t->rec.hmac))
			return err_set(err, EBADMSG,
				       "audit log \"%s\": the last record (seq %" PRIu64
				       ") fails its hmac; refusing to chain onto it",
				       l->path, seq);
	}
	r = audit_checkpoint_read(l->dirfd, l->ck_name, &c, err);
	if (r == -ENOENT)
		return t->have ? err_set(err, EBADMSG,
					 "audit log \"%s\": records but no checkpoint; refusing "
					 "to write on (see moat audit verify)",
					 l->path)
			       : 0;
	if (r < 0)
		return err_prefix(err, "audit log \"%s\"", l->path);
	audit_checkpoint_mac(l->ckey, l->ckeylen, c.seq, c.hash, mac);
	if (!audit_hex_eq(mac, c.mac))
		return err_set(err, EBADMSG,
			       "audit log \"%s\": the checkpoint's mac does not verify (forged, or "
			       "another checkpoint key); refusing to write on",
			       l->path);
	if (seq == c.seq && audit_hex_eq(hash, c.hash))
		return 0;
	if (t->have && seq == c.seq + 1 && audit_hex_eq(t->rec.prev, c.hash)) {
		*gap = true; /* a crash before the checkpoint, or one forged record */
		return 0;
	}
	if (seq < c.seq)
		return err_set(err, EBADMSG,
			       "audit log \"%s\" ends at seq %" PRIu64
			       " but its checkpoint says %" PRIu64
			       " (truncated); refusing to write on (see moat audit verify)",
			       l->path, seq, c.seq);
	if (seq == c.seq)
		return err_set(err, EBADMSG,
			       "audit log \"%s\": seq %" PRIu64
			       " is not the record the checkpoint holds (replaced); refusing to "
			       "write on",
			       l->path, seq);
	return err_set(err, EBADMSG,
		       "audit log \"%s\" runs to seq %" PRIu64
		       " past its checkpoint at seq %" PRIu64
		       " (records appended behind moat's back); refusing to write on",
		       l->path, seq, c.seq);
}

/* Removes what a failed append wrote. */
static void cut_back(int fd, off_t size, struct err **err)
{
	if (ftruncate(fd, size) < 0 || fsync(fd) < 0) {
		int e = errno;
		if (err && *err) {
			size_t n = strlen((*err)->msg);
			snprintf((*err)->msg + n, sizeof((*err)->msg) - n,
				 "; and the partial line could not be removed: %s", strerror(e));
		}
	}
}

static int append_locked(struct audit_log *l, struct audit_event *e, struct err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL;
	struct tail t = {0};
	struct audit_header h = {0};
	char hash[SHA256_HEX_LEN + 1], now_s[40], prev[SHA256_HEX_LEN + 1];
	struct timespec now;
	struct stat st;
	off_t size, end = 0;
	size_t len = 0;
	ssize_t n;
	bool gap = false, marker;
	int r;

	fd = open_log(l, &st, err);
	if (fd < 0)
		return fd;
	size = st.st_size;
	r = find_last(l, fd, size, &t, &end, err);
	if (r == 0)
		r = check_tail(l, &t, &gap, err);
	h.seq = t.have ? t.rec.seq + 1 : 1;
	memcpy(prev, t.have ? t.rec.hash : AUDIT_ZERO_HASH, sizeof(prev));
	tail_free(&t);
	if (r < 0)
		return r;
	if (end < size) {
		/* Not a record: no append completed with it. Cut only once the
		 * tail has been vouched for, so a refused log is left as is. */
		if (ftruncate(fd, end) < 0)
			return err_errno(err, errno, "audit log \"%s\": cut a partial line",
					 l->path);
		size = end;
		gap = true;
	}
	if (l->rotate_bytes && (uint64_t)size >= l->rotate_bytes) {
		if (rotate(l, err) < 0)
			return err_ret(*err);
		closep(&fd);
		fd = open_log(l, &st, err);
		if (fd < 0)
			return fd;
		size = st.st_size;
	}
	marker = faccessat(l->dirfd, l->gap_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	clock_gettime(CLOCK_REALTIME, &now);
	audit_time_format(&now, now_s);
	h.time = now_s;
	h.host = l->host;
	h.uid = getuid();
	h.gid = getgid();
	h.pid = getpid();
	h.cmdline = l->cmdline;
	h.prev = prev;
	h.gap = gap || marker;
	if (audit_record_encode(e, &h, l->hkey, l->hkeylen, &line, &len, hash, err) < 0)
		return err_ret(*err);

	n = write(fd, line, len);
	if (n != (ssize_t)len) {
		if (n < 0)
			r = err_errno(err, errno, "audit log \"%s\"", l->path);
		else
			r = err_set(err, EIO,
				    "audit log \"%s\": short write (%zd of %zu bytes; disk full or "
				    "file size limit)",
				    l->path, n, len);
		if (n > 0)
			cut_back(fd, size, err);
		return r;
	}
	if (fsync(fd) < 0) {
		r = err_errno(err, errno, "audit log \"%s\"", l->path);
		cut_back(fd, size, err);
		return r;
	}
	if (checkpoint_write(l, h.seq, hash, err) < 0) {
		r = err_prefix(err, "audit log \"%s\"", l->path);
		cut_back(fd, size, err);
		return r;
	}
	/* The record is committed; a marker that cannot be removed only
	 * flags the next record too. */
	if (marker)
		(void)unlinkat(l->dirfd, l->gap_name, 0);
	if (l->syslog)
		syslog(LOG_AUTHPRIV | LOG_INFO, "%.*s", (int)(len - 1), line);
	return 0;
}

int audit_append(struct audit_log *l, struct audit_event *e, struct err **err)
{
	_cleanup_close_ int lock = -1;
	int r;

	if (!l) {
		audit_event_free(e);
		return err_set(err, EINVAL, "audit log not open");
	}
	lock = lock_log(l, LOCK_EX, err);
	r = lock < 0 ? lock : audit_event_check(e, err);
	if (r == 0)
		r = append_locked(l, e, err);
	audit_event_free(e);
	/* Under the lock still, so that the next append sees the marker. */
	if (r < 0 && l->fail_open)
		mark_gap(l->dirfd, l->gap_name, err ? *err : NULL);
	return r;
}

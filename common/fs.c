/*
 * common/fs.c - fd-relative path and file helpers (see fs.h).
 *
 * Runs in: any moat process, including the container setup child before
 * pivot_root (path_open_beneath on the new root).
 *
 * Invariants:
 *  - path_open_beneath never yields an fd outside ROOTFD's tree, whichever
 *    of the two implementations runs; the fallback re-checks every
 *    component with O_NOFOLLOW and resolves symlinks itself, clamping ".."
 *    at the root;
 *  - fs_rm_rf_at never follows a symlink (unlinkat on the link itself,
 *    directories opened O_NOFOLLOW).
 */
#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

static int force_fallback = -1;

void path_force_fallback(bool on)
{
	force_fallback = on;
}

static bool use_fallback(void)
{
	if (force_fallback < 0) {
		const char *e = getenv("MOAT_NO_OPENAT2");
		force_fallback = e && *e == '1';
	}
	return force_fallback;
}

#define MAX_SYMLINKS 40

/*
 * The fallback walk. STACK holds the fds of the directories from the root
 * down to the current one so that ".." can step back without a lookup.
 */
static int walk(int rootfd, const char *path, int flags, mode_t mode, struct err **err)
{
	int stack[256];
	int depth = 0, links = 0, ret = -EINVAL;
	_cleanup_free_ char *rest = NULL;
	char *p;

	stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (stack[0] < 0)
		return err_errno(err, errno, "dup root fd");
	rest = strdup(path);
	if (!rest) {
		ret = err_errno(err, ENOMEM, "resolve \"%s\"", path);
		goto out;
	}
	p = rest;
	for (;;) {
		char *slash, *name;
		bool last;
		int fd;
		struct stat st;

		while (*p == '/')
			p++;
		if (!*p) {
			/* The path named a directory we already hold. */
			int f = flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW);
			if (f & O_PATH)
				fd = fcntl(stack[depth], F_DUPFD_CLOEXEC, 3);
			else
				fd = openat(stack[depth], ".", f | O_CLOEXEC);
			if (fd < 0)
				ret = err_errno(err, errno, "open \"%s\"", path);
			else
				ret = fd;
			goto out;
		}
		name = p;
		slash = strchr(p, '/');
		if (slash) {
			*slash = 0;
			p = slash + 1;
		} else {
			p += strlen(p);
		}
		while (*p == '/')
			p++;
		last = !*p;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && last && (flags & O_CREAT)) {
			fd = openat(stack[depth], name, (flags & ~O_PATH) | O_NOFOLLOW | O_CLOEXEC,
				    mode);
			if (fd < 0) {
				ret = err_errno(err, errno, "create \"%s\"", path);
				goto out;
			}
			ret = fd;
			goto out;
		}
		if (fd < 0) {
			ret = err_errno(err, errno, "open \"%s\"", path);
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			ret = err_errno(err, errno, "stat \"%s\"", path);
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			char target[4096];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			char *joined;

			close(fd);
			if (n < 0) {
				ret = err_errno(err, errno, "readlink in \"%s\"", path);
				goto out;
			}
			target[n] = 0;
			if (++links > MAX_SYMLINKS) {
				ret = err_errno(err, ELOOP, "resolve \"%s\"", path);
				goto out;
			}
			if (target[0] == '/') {
				while (depth > 0)
					close(stack[depth--]);
			}
			if (asprintf(&joined, "%s/%s", target, p) < 0) {
				ret = err_errno(err, ENOMEM, "resolve \"%s\"", path);
				goto out;
			}
			free(rest);
			rest = joined;
			p = rest;
			continue;
		}
		if (last) {
			int f = flags & ~(O_CREAT | O_EXCL);
			int r;

			if ((flags & O_CREAT) && (flags & O_EXCL)) {
				close(fd);
				ret = err_errno(err, EEXIST, "create \"%s\"", path);
				goto out;
			}
			if (f & O_PATH) {
				ret = fd;
				goto out;
			}
			if (S_ISLNK(st.st_mode)) {
				close(fd);
				ret = err_errno(err, ELOOP, "open \"%s\"", path);
				goto out;
			}
			/* Reopen the checked inode through its O_PATH fd. */
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			r = open(proc, (f & ~O_NOFOLLOW) | O_CLOEXEC);
			if (r < 0)
				ret = err_errno(err, errno, "open \"%s\"", path);
			else
				ret = r;
			close(fd);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			ret = err_errno(err, ENOTDIR, "open \"%s\"", path);
			goto out;
		}
		if (depth + 1 >= (int)ARRAY_SIZE(stack)) {
			close(fd);
			ret = err_errno(err, ENAMETOOLONG, "open \"%s\"", path);
			goto out;
		}
		stack[++depth] = fd;
	}
out:
	while (depth >= 0)
		close(stack[depth--]);
	return ret;
}

int path_open_beneath(int rootfd, const char *path, int flags, mode_t mode, struct err **err)
{
	struct open_how how = {0};
	int fd;

	if (!path || !*path)
		return err_set(err, EINVAL, "empty path");
	if (use_fallback())
		return walk(rootfd, path, flags, mode, err);
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	/* EAGAIN: a rename or mount anywhere on the system raced with a ".."
	 * of this lookup, and the kernel could not prove it stayed inside;
	 * it asks the caller to try again (bounded: a racer cannot pin us). */
	for (int tries = 0; tries < 64; tries++) {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			break;
	}
	if (errno == ENOSYS || errno == EPERM) {
		/* No openat2 (old kernel, or a filter denies it): walk. */
		return walk(rootfd, path, flags, mode, err);
	}
	return err_errno(err, errno, "open \"%s\"", path);
}

int path_mkdir_beneath(int rootfd, const char *path, mode_t mode, struct err **err)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int cur = -1;
	char *save = NULL, *name;

	if (!copy)
		return err_errno(err, ENOMEM, "mkdir \"%s\"", path);
	cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return err_errno(err, errno, "dup root fd");
	for (name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		int next;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			return err_set(err, EINVAL, "mkdir \"%s\": \".\" and \"..\" are refused",
				       path);
		if (mkdirat(cur, name, mode) < 0 && errno != EEXIST)
			return err_errno(err, errno, "mkdir \"%s\"", path);
		/* Resolve what is there now beneath the root (it may be a
		 * symlink placed by the image; it must stay inside): the path
		 * so far, from ROOTFD, so that an absolute link is the
		 * container's, not relative to the current directory. */
		{
			size_t end = (size_t)(name - copy) + strlen(name);
			_cleanup_free_ char *prefix = strndup(path, end);

			if (!prefix)
				return err_errno(err, ENOMEM, "mkdir \"%s\"", path);
			next = path_open_beneath(rootfd, prefix, O_DIRECTORY | O_RDONLY, 0, err);
		}
		if (next < 0)
			return err_prefix(err, "mkdir \"%s\"", path);
		close(cur);
		cur = next;
	}
	return steal_fd(cur);
}

int fs_mkdir_p(const char *path, mode_t mode, struct err **err)
{
	_cleanup_free_ char *copy = strdup(path);
	char *p;

	if (!copy)
		return err_errno(err, ENOMEM, "mkdir \"%s\"", path);
	/* Usually every parent exists already: one syscall, not one per
	 * component (this runs several times on every `moat run`). */
	if (mkdir(copy, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return err_errno(err, errno, "mkdir \"%s\"", copy);
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return err_errno(err, errno, "mkdir \"%s\"", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir \"%s\"", copy);
	return 0;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		    struct err **err)
{
	return fs_write_atomic_ex(dirfd, name, buf, len, mode, true, err);
}

int fs_write_atomic_ex(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		       bool durable, struct err **err)
{
	char tmp[512];
	_cleanup_close_ int fd = -1;
	int r;

	if (snprintf(tmp, sizeof(tmp), ".tmp-%s-%d", name, getpid()) >= (int)sizeof(tmp))
		return err_set(err, ENAMETOOLONG, "write \"%s\": name too long", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_errno(err, errno, "write \"%s\"", name);
	r = fs_write_all(fd, buf, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return err_errno(err, -r, "write \"%s\"", name);
	}
	return 0;
}

int fs_read_fd(int fd, size_t cap, char **out, size_t *len, struct err **err)
{
	size_t size = 4096, used = 0;
	_cleanup_free_ char *buf = malloc(size + 1);

	if (!buf)
		return err_errno(err, ENOMEM, "read");
	for (;;) {
		ssize_t n;

		if (used == size) {
			char *nb;
			if (size >= cap + 1)
				return err_set(err, EFBIG, "larger than %zu bytes", cap);
			size = size * 2 > cap + 1 ? cap + 1 : size * 2;
			nb = realloc(buf, size + 1);
			if (!nb)
				return err_errno(err, ENOMEM, "read");
			buf = nb;
		}
		n = read(fd, buf + used, size - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(err, errno, "read");
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > cap)
		return err_set(err, EFBIG, "larger than %zu bytes", cap);
	buf[used] = 0;
	if (len)
		*len = used;
	*out = steal_ptr(buf);
	return 0;
}

int fs_read_at(int dirfd, const char *name, size_t cap, char **out, size_t *len, struct err **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return err_errno(err, errno, "open \"%s\"", name);
	if (fs_read_fd(fd, cap, out, len, err) < 0)
		return err_prefix(err, "\"%s\"", name);
	return 0;
}

static int rm_tree(int dirfd, const char *name, int depth, struct err **err);

/* Empties directory FD (consumed). Entries' types come from readdir, so
 * files cost one unlinkat each and no stat. */
static int rm_contents(int fd, int depth, struct err **err)
{
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		return err_errno(err, errno, "opendir");
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
				continue;
			if (errno != EISDIR)
				return err_errno(err, errno, "remove \"%s\"", de->d_name);
		}
		if (rm_tree(dirfd(d), de->d_name, depth + 1, err) < 0)
			return err_ret(*err);
	}
	return 0;
}

static int rm_tree(int dirfd, const char *name, int depth, struct err **err)
{
	struct stat st;
	int fd;

	if (depth > 4096)
		return err_set(err, ELOOP, "remove \"%s\": directory tree too deep", name);
	/* Most entries are not directories: try that first. */
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return err_errno(err, errno, "remove \"%s\"", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* Overlay leaves its work dir mode 000; we own it. */
		if (fchmodat(dirfd, name, 0700, 0) == 0)
			fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ENOENT ? 0 : err_errno(err, errno, "remove \"%s\"", name);
	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		fchmod(fd, st.st_mode | 0700);
	if (rm_contents(fd, depth, err) < 0)
		return err_prefix(err, "remove \"%s\"", name);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_errno(err, errno, "remove \"%s\"", name);
	return 0;
}

int fs_rm_rf_at(int dirfd, const char *name, struct err **err)
{
	return rm_tree(dirfd, name, 0, err);
}

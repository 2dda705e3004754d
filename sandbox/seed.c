/*
 * sandbox/seed.c - Docker's copy-up: a new, empty volume is filled with
 * what the image has at the volume's mount point before it is mounted.
 *
 * Runs in: the container's setup child, as root of its user namespace,
 * after the rootfs is mounted and before the volume is attached over the
 * mount point (so the image's content is still visible there).
 *
 * Invariants:
 *  - Everything is fd-relative: the source tree is entered with
 *    O_NOFOLLOW from an fd resolved beneath the container root, the
 *    destination only below the volume's own fd; a symlink is copied as a
 *    symlink, never followed. Device nodes and sockets are skipped (a
 *    volume is data).
 *  - Only an empty volume is seeded, under an flock on the volume's
 *    directory held across the check and the copy; a failure (a full disk)
 *    empties it again, so the next start seeds afresh instead of using
 *    half a copy.
 *  - Ownership and modes are those the container sees; ids the namespace
 *    cannot represent keep the caller's (single-id rootless).
 *  - Depth is bounded (SEED_MAX_DEPTH): an image cannot exhaust the
 *    child's stack.
 */
#include "sandbox/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define SEED_MAX_DEPTH 128

/* Owner and mode as the container sees them; an unmappable owner (EINVAL)
 * stays the caller's. */
static int copy_meta(int fd, const char *name, const struct stat *st, bool symlink)
{
	int flags = name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (fchownat(fd, name ? name : "", st->st_uid, st->st_gid, flags) < 0 && errno != EINVAL)
		return -errno;
	if (!symlink) {
		int r = name ? fchmodat(fd, name, st->st_mode & 07777, 0)
			     : fchmod(fd, st->st_mode & 07777);
		if (r < 0)
			return -errno;
	}
	if ((name ? utimensat(fd, name, ts, AT_SYMLINK_NOFOLLOW) : futimens(fd, ts)) < 0 &&
	    !symlink)
		return -errno;
	return 0;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;

	if (in < 0)
		return -errno;
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			break;
		if (n < 0) {
			char buf[65536];
			ssize_t r;

			if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
			    errno != EOPNOTSUPP)
				return -errno;
			/* Across filesystems on older kernels: plain copy. */
			while ((r = read(in, buf, sizeof(buf))) > 0)
				if (fs_write_all(out, buf, (size_t)r) < 0)
					return -errno;
			if (r < 0)
				return -errno;
			break;
		}
	}
	return copy_meta(out, NULL, st, false);
}

static int copy_tree(int sdir, int ddir, int depth)
{
	_cleanup_close_ int dup = fcntl(sdir, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (dup < 0)
		return -errno;
	if (depth > SEED_MAX_DEPTH)
		return -ELOOP;
	d = fdopendir(dup);
	if (!d)
		return -errno;
	dup = -1;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		struct stat st;

		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (fstatat(sdir, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int s = -1, t = -1;

			if (mkdirat(ddir, n, 0700) < 0) {
				r = -errno;
				break;
			}
			s = openat(sdir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			t = openat(ddir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0) {
				r = -errno;
				break;
			}
			if ((r = copy_tree(s, t, depth + 1)) == 0)
				r = copy_meta(t, NULL, &st, false);
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(sdir, ddir, n, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlinkat(sdir, n, target, sizeof(target) - 1);

			if (len < 0) {
				r = -errno;
				break;
			}
			target[len] = 0;
			if (symlinkat(target, ddir, n) < 0)
				r = -errno;
			else
				r = copy_meta(ddir, n, &st, true);
		} else if (S_ISFIFO(st.st_mode)) {
			if (mkfifoat(ddir, n, 0600) < 0)
				r = -errno;
			else
				r = copy_meta(ddir, n, &st, false);
		}
		/* devices and sockets: not data, skipped */
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

/* Is DIRFD an empty directory? */
static int is_empty(int dirfd)
{
	_cleanup_close_ int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	struct dirent *de;
	bool empty = true;

	if (dup < 0)
		return -errno;
	d = fdopendir(dup);
	if (!d)
		return -errno;
	dup = -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/* Removes everything in DIRFD (after a failed seed). */
static void empty_dir(int dirfd)
{
	_cleanup_close_ int dup = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (dup < 0)
		return;
	d = fdopendir(dup);
	if (!d)
		return;
	dup = -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fs_rm_rf_at(dirfd, de->d_name, NULL);
	closedir(d);
}

int sandbox_seed_volume(int rootfd, const char *target, int volfd, struct err **err)
{
	_cleanup_close_ int src = -1, dst = -1;
	struct stat st;
	int r;

	src = path_open_beneath(rootfd, target, O_RDONLY | O_DIRECTORY, 0, NULL);
	if (src < 0)
		return 0; /* nothing in the image there (or not a directory) */
	dst = openat(volfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst < 0)
		return err_errno(err, errno, "open the volume for \"%s\"", target);
	/* One seeder at a time: containers starting together on a new volume
	 * wait here, then find it full (and copy nothing) instead of taking
	 * a copy in progress for the user's data. Released when DST closes. */
	while (flock(dst, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "lock the volume for \"%s\"", target);
	if ((r = is_empty(dst)) <= 0) {
		if (r < 0)
			return err_errno(err, -r, "read the volume for \"%s\"", target);
		return 0; /* Docker copies into an empty volume only */
	}
	if (fstat(src, &st) < 0)
		return err_errno(err, errno, "stat \"%s\" in the image", target);
	if ((r = copy_tree(src, dst, 0)) == 0)
		r = copy_meta(dst, NULL, &st, false);
	if (r < 0) {
		empty_dir(dst);
		return err_errno(err, -r, "copy the image's content at \"%s\" into the new volume",
				 target);
	}
	return 0;
}

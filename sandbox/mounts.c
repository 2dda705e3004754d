/*
 * sandbox/mounts.c - the container's filesystem.
 *
 * Runs in: the container's setup child, inside its new user and mount
 * namespaces (mount propagation already made private), before pivot_root.
 *
 * Invariants:
 *  - Host paths (layers, upper/work, generated /etc files, /dev nodes) are
 *    opened by the child right after clone, while its host uid is still the
 *    caller's: so root's 0700 state directory is reachable without giving the
 *    container's ids any access to it. The overlay refers to them as
 *    /proc/self/fd/N, which never walks the host path again.
 *  - Every target inside the container is resolved beneath the new root with
 *    path_open_beneath (RESOLVE_IN_ROOT): a symlink in the image cannot send a
 *    mount outside it. Mounts are made with the fd-based API (fsopen/fsmount,
 *    open_tree, move_mount) onto those fds, never by a path string.
 *  - An image whose /proc, /sys or /dev is not a real directory is refused
 *    (CVE-2023-27561, CVE-2023-28642, the /dev symlink class).
 *  - Device nodes bound into /dev and the /dev/null used for masking are
 *    checked by rdev on an O_PATH|O_NOFOLLOW fd (CVE-2025-31133).
 *  - Read-only flags are set on the detached mount before it is attached.
 *    They hold against the container's root because the child, once every
 *    mount here is made, moves into a nested user namespace whose copy of
 *    the mount tree the kernel locks (sandbox.c, lock_mounts): nothing
 *    made here may need changing by the container afterwards.
 */
#include "sandbox/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "common/cleanup.h"
#include "common/fs.h"

static const struct {
	const char *name;
	unsigned maj, min;
} devices[6] = {
    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static int open_dir_path(const char *path, struct err **err)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(err, errno, "open \"%s\"", path);
	return fd;
}

static int open_checked_dev(const char *path, unsigned maj, unsigned min, struct err **err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return err_errno(err, errno, "open host \"%s\"", path);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat host \"%s\"", path);
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
		return err_set(err, EPERM, "host \"%s\" is not the expected device %u:%u", path,
			       maj, min);
	return steal_fd(fd);
}

void sandbox_host_fds_close(struct host_fds *h)
{
	for (size_t i = 0; i < h->n_lowers; i++)
		closep(&h->lowers[i]);
	closep(&h->upper);
	closep(&h->work);
	closep(&h->rootdir);
	closep(&h->devnull);
	for (size_t i = 0; i < ARRAY_SIZE(h->dev); i++)
		closep(&h->dev[i]);
	for (size_t i = 0; i < ARRAY_SIZE(h->files); i++)
		closep(&h->files[i]);
	for (size_t i = 0; i < h->n_mounts; i++)
		closep(&h->mounts[i]);
	h->n_mounts = 0;
}

/*
 * A bind's source, found again in this (the child's) copy of the host's
 * mount tree: by its real path, with no symlink anywhere on the way, and
 * accepted only when it is the very inode the engine opened and checked.
 */
static int open_bind_source(const struct sandbox_mount *m, struct err **err)
{
	struct open_how how = {
	    .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat want, got;
	int fd;

	if (fstat(m->srcfd, &want) < 0)
		return err_errno(err, errno, "bind source \"%s\"", m->source);
	fd = (int)syscall(SYS_openat2, AT_FDCWD, m->source, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = open(m->source, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "bind source \"%s\"", m->source);
	if (fstat(fd, &got) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		close(fd);
		return err_set(err, EPERM,
			       "bind source \"%s\" was replaced while the container started: "
			       "refused",
			       m->source);
	}
	return fd;
}

int sandbox_host_fds_open(const struct sandbox_spec *spec, struct host_fds *h, struct err **err)
{
	const char *files[3] = {spec->hosts_file, spec->hostname_file, spec->resolv_file};
	size_t n = 0;

	h->upper = h->work = h->rootdir = h->devnull = -1;
	for (size_t i = 0; i < ARRAY_SIZE(h->dev); i++)
		h->dev[i] = -1;
	for (size_t i = 0; i < ARRAY_SIZE(h->files); i++)
		h->files[i] = -1;
	h->n_lowers = 0;
	h->n_mounts = 0;
	if (spec->n_mounts > ARRAY_SIZE(h->mounts))
		return err_set(err, E2BIG, "%zu mounts (at most %zu)", spec->n_mounts,
			       ARRAY_SIZE(h->mounts));
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct sandbox_mount *m = &spec->mounts[i];

		h->mounts[i] = -1;
		h->n_mounts++;
		if (m->kind == SANDBOX_MOUNT_BIND && (h->mounts[i] = open_bind_source(m, err)) < 0)
			return err_ret(*err);
	}
	for (n = 0; spec->lowers && spec->lowers[n]; n++)
		;
	if (n == 0 || n > ARRAY_SIZE(h->lowers))
		return err_set(err, EINVAL, "image has %zu layers (1 to %zu supported)", n,
			       ARRAY_SIZE(h->lowers));
	for (size_t i = 0; i < n; i++) {
		h->lowers[i] = open_dir_path(spec->lowers[i], err);
		if (h->lowers[i] < 0)
			return err_ret(*err);
		h->n_lowers++;
	}
	if ((h->upper = open_dir_path(spec->upper, err)) < 0 ||
	    (h->work = open_dir_path(spec->work, err)) < 0 ||
	    (h->rootdir = open_dir_path(spec->mountpoint, err)) < 0)
		return err_ret(*err);
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char path[32];
		snprintf(path, sizeof(path), "/dev/%s", devices[i].name);
		h->dev[i] = open_checked_dev(path, devices[i].maj, devices[i].min, err);
		if (h->dev[i] < 0)
			return err_ret(*err);
	}
	h->devnull = fcntl(h->dev[0], F_DUPFD_CLOEXEC, 3);
	if (h->devnull < 0)
		return err_errno(err, errno, "dup");
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (!files[i])
			continue;
		h->files[i] = open(files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (h->files[i] < 0)
			return err_errno(err, errno, "open \"%s\"", files[i]);
	}
	return 0;
}

/* A new detached filesystem mount: OPTS are "key=value" or "flag". */
static int new_mount(const char *fstype, const char *source, const char *const *opts,
		     unsigned attrs, struct err **err)
{
	_cleanup_close_ int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	int m;

	if (fs < 0)
		return err_errno(err, errno, "fsopen %s", fstype);
	if (source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return err_errno(err, errno, "%s source", fstype);
	for (size_t i = 0; opts && opts[i]; i++) {
		char key[64];
		const char *eq = strchr(opts[i], '=');
		int r;

		if (eq) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - opts[i]), opts[i]);
			r = fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0);
		} else {
			r = fsconfig(fs, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
		}
		if (r < 0)
			return err_errno(err, errno, "%s option \"%s\"", fstype, opts[i]);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return err_errno(err, errno, "mount %s", fstype);
	m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		return err_errno(err, errno, "fsmount %s", fstype);
	return m;
}

/* Attaches detached mount MFD on TARGET resolved beneath ROOTFD. */
static int attach(int mfd, int rootfd, const char *target, bool create_dir, struct err **err)
{
	_cleanup_close_ int t = -1;

	if (create_dir)
		t = path_mkdir_beneath(rootfd, target, 0755, err);
	else
		t = path_open_beneath(rootfd, target, O_PATH | O_NOFOLLOW, 0, err);
	if (t < 0)
		return err_prefix(err, "mount target");
	if (move_mount(mfd, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_errno(err, errno, "mount on \"%s\"", target);
	return 0;
}

static int mount_new_at(int rootfd, const char *target, const char *fstype, const char *const *opts,
			unsigned attrs, struct err **err)
{
	_cleanup_close_ int m = new_mount(fstype, fstype, opts, attrs, err);

	if (m < 0)
		return err_prefix(err, "\"%s\"", target);
	return attach(m, rootfd, target, true, err);
}

/* Binds host object SRCFD onto TARGET (a file or dir already there). */
static int bind_fd_at(int srcfd, int rootfd, const char *target, unsigned attrs, bool recursive,
		      struct err **err)
{
	_cleanup_close_ int tree = -1;
	struct mount_attr ma = {.attr_set = attrs};

	tree = open_tree(srcfd, "",
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
			     (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return err_errno(err, errno, "clone mount for \"%s\"", target);
	if (attrs && mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &ma,
				   sizeof(ma)) < 0)
		return err_errno(err, errno, "set attributes for \"%s\"", target);
	return attach(tree, rootfd, target, false, err);
}

int sandbox_rootfs_mount(const struct sandbox_spec *spec, const struct host_fds *h,
			 struct err **err)
{
	char lower[4096], upper[40], work[40];
	size_t off = 0;
	const char *opts[5];
	size_t n = 0;
	int m;

	for (size_t i = 0; i < h->n_lowers; i++) {
		int w = snprintf(lower + off, sizeof(lower) - off, "%s/proc/self/fd/%d",
				 i ? ":" : "", h->lowers[i]);
		if (w < 0 || (size_t)w >= sizeof(lower) - off)
			return err_set(err, E2BIG, "too many image layers");
		off += (size_t)w;
	}
	snprintf(upper, sizeof(upper), "/proc/self/fd/%d", h->upper);
	snprintf(work, sizeof(work), "/proc/self/fd/%d", h->work);
	char lo[4200], up[64], wo[64];
	snprintf(lo, sizeof(lo), "lowerdir=%s", lower);
	snprintf(up, sizeof(up), "upperdir=%s", upper);
	snprintf(wo, sizeof(wo), "workdir=%s", work);
	opts[n++] = lo;
	opts[n++] = up;
	opts[n++] = wo;
	/* Layers mark opaque directories with user.overlay.* xattrs, which
	 * every identity (including a user namespace) can set and read. */
	opts[n++] = "userxattr";
	opts[n] = NULL;
	m = new_mount("overlay", "overlay", opts, MOUNT_ATTR_NODEV, err);
	if (m < 0)
		return err_prefix(err, "rootfs overlay of \"%s\"", spec->upper);
	return m;
}

int sandbox_rootfs_check(int rootfd, struct err **err)
{
	static const char *const dirs[] = {"proc", "sys", "dev"};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct stat st;

		if (fstatat(rootfd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return err_errno(err, errno, "image rootfs: /%s", dirs[i]);
		}
		if (!S_ISDIR(st.st_mode))
			return err_set(err, EPERM,
				       "image rootfs: /%s is %s, not a directory: refused", dirs[i],
				       S_ISLNK(st.st_mode) ? "a symlink" : "a file");
	}
	return 0;
}

static int mask_paths(int rootfd, char *const *paths, int devnull, struct err **err)
{
	static const char *const ro_tmpfs[] = {"size=0", "mode=0555", NULL};

	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_close_ int t = -1;
		struct stat st;
		int r;

		t = path_open_beneath(rootfd, paths[i], O_PATH | O_NOFOLLOW, 0, NULL);
		if (t < 0)
			continue; /* absent on this kernel: nothing to mask */
		if (fstat(t, &st) < 0)
			return err_errno(err, errno, "mask \"%s\"", paths[i]);
		if (S_ISDIR(st.st_mode))
			r = mount_new_at(rootfd, paths[i], "tmpfs", ro_tmpfs,
					 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC,
					 err);
		else
			r = bind_fd_at(devnull, rootfd, paths[i], MOUNT_ATTR_RDONLY, false, err);
		if (r < 0)
			return err_prefix(err, "mask");
	}
	return 0;
}

static int readonly_paths(int rootfd, char *const *paths, struct err **err)
{
	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_close_ int t = -1;

		t = path_open_beneath(rootfd, paths[i], O_PATH | O_NOFOLLOW, 0, NULL);
		if (t < 0)
			continue;
		if (bind_fd_at(t, rootfd, paths[i],
			       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				   MOUNT_ATTR_NOEXEC,
			       true, err) < 0)
			return err_prefix(err, "read-only path");
	}
	return 0;
}

static char **filter_prefix(char *const *paths, const char *prefix, char **buf, size_t cap)
{
	size_t n = 0, pl = strlen(prefix);

	for (size_t i = 0; paths && paths[i] && n + 1 < cap; i++)
		if (!strncmp(paths[i], prefix, pl) && (paths[i][pl] == '/' || !paths[i][pl]))
			buf[n++] = paths[i];
	buf[n] = NULL;
	return buf;
}

int sandbox_mount_proc(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		       struct err **err)
{
	char *sel[64];

	if (mount_new_at(rootfd, "/proc", "proc", NULL,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0)
		return err_ret(*err);
	/* Read-only first, then masks: a masked path below a read-only one
	 * (none today) would otherwise be hidden by the later bind. */
	if (readonly_paths(rootfd, filter_prefix(spec->readonly_paths, "/proc", sel, 64), err) < 0)
		return err_ret(*err);
	return mask_paths(rootfd, filter_prefix(spec->masked_paths, "/proc", sel, 64), h->devnull,
			  err);
}

static int touch_beneath(int rootfd, const char *path, struct err **err)
{
	int fd = path_open_beneath(rootfd, path, O_CREAT | O_WRONLY | O_NOFOLLOW, 0644, err);

	if (fd < 0)
		return err_ret(*err);
	close(fd);
	return 0;
}

int sandbox_mount_dev(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		      struct err **err)
{
	static const char *const dev_opts[] = {"mode=0755", "size=65536k", NULL};
	char shm_size[48];
	const char *const shm_opts[] = {"mode=1777", shm_size, NULL};
	static const char *const pts_opts[] = {"newinstance", "ptmxmode=0666", "mode=0620", NULL};
	static const struct {
		const char *target, *link;
	} links[] = {
	    {"ptmx", "pts/ptmx"},	   {"fd", "/proc/self/fd"},
	    {"stdin", "/proc/self/fd/0"},  {"stdout", "/proc/self/fd/1"},
	    {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
	};
	_cleanup_close_ int devfd = -1;

	/* --shm-size (Docker's default 64m); tmpfs rounds up to pages. */
	snprintf(shm_size, sizeof(shm_size), "size=%llu",
		 (unsigned long long)(spec->shm_size ? spec->shm_size : 64ULL << 20));
	if (mount_new_at(rootfd, "/dev", "tmpfs", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
			 err) < 0)
		return err_ret(*err);
	devfd = path_open_beneath(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
	if (devfd < 0)
		return err_ret(*err);
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char path[32];

		snprintf(path, sizeof(path), "/dev/%s", devices[i].name);
		if (touch_beneath(rootfd, path, err) < 0 ||
		    bind_fd_at(h->dev[i], rootfd, path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
			       false, err) < 0)
			return err_prefix(err, "/dev");
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i].link, devfd, links[i].target) < 0)
			return err_errno(err, errno, "symlink /dev/%s", links[i].target);
	if (mount_new_at(rootfd, "/dev/pts", "devpts", pts_opts,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err) < 0 ||
	    mount_new_at(rootfd, "/dev/shm", "tmpfs", shm_opts,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0)
		return err_ret(*err);
	if (mount_new_at(rootfd, "/dev/mqueue", "mqueue", NULL,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, NULL) < 0) {
		/* mqueue needs the IPC namespace to be ours; without it the
		 * directory simply stays empty. */
	}
	return 0;
}

int sandbox_mount_sys(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		      struct err **err)
{
	static const char *const cg_opts[] = {NULL};
	unsigned ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	char *sel[64];

	if (spec->net == SANDBOX_NET_HOST) {
		/* sysfs can only be mounted by the owner of the network
		 * namespace: bind the host's, read-only, recursively. */
		_cleanup_close_ int sys = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (sys < 0)
			return err_errno(err, errno, "open host /sys");
		if (path_mkdir_beneath(rootfd, "/sys", 0755, err) < 0)
			return err_ret(*err);
		if (bind_fd_at(sys, rootfd, "/sys", ro, true, err) < 0)
			return err_prefix(err, "/sys");
	} else {
		if (mount_new_at(rootfd, "/sys", "sysfs", NULL, ro, err) < 0)
			return err_ret(*err);
		/* The container's own cgroup (namespace), read-only. Not every
		 * host layout allows it (cgroup v1 only): then it stays empty. */
		mount_new_at(rootfd, "/sys/fs/cgroup", "cgroup2", cg_opts, ro, NULL);
	}
	return mask_paths(rootfd, filter_prefix(spec->masked_paths, "/sys", sel, 64), h->devnull,
			  err);
}

int sandbox_mount_etc(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		      struct err **err)
{
	static const char *const names[3] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
	_cleanup_close_ int etc = path_mkdir_beneath(rootfd, "/etc", 0755, err);

	if (etc < 0)
		return err_ret(*err);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		bool user = false;

		/* The user's own mount of exactly that file wins (Docker). */
		for (size_t k = 0; k < spec->n_mounts && !user; k++)
			user = !strcmp(spec->mounts[k].target, names[i]);
		if (h->files[i] < 0 || user)
			continue;
		if (touch_beneath(rootfd, names[i], err) < 0) {
			/* A read-only volume over /etc without that file:
			 * the container sees the volume as it is. */
			if ((*err)->code == EROFS) {
				err_free(err);
				continue;
			}
			return err_prefix(err, "%s", names[i]);
		}
		if (bind_fd_at(h->files[i], rootfd, names[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			       false, err) < 0)
			return err_prefix(err, "%s", names[i]);
	}
	return 0;
}

/*
 * Where a target really is, by the kernel's name for its fd: below the
 * container root (RESOLVE_IN_ROOT made sure), but a symlink in the image or
 * in a shared volume may still lead to the root itself (a mount there would
 * vanish under pivot_root) or to /proc, /sys or /dev (CVE-2019-16884,
 * CVE-2019-19921: a volume over /proc fakes what the runtime writes
 * there). User mounts are made before those are mounted, and refused
 * here when they resolve into them.
 */
static int target_check(int rootfd, int t, const char *target, struct err **err)
{
	static const char *const api[] = {"/proc", "/sys", "/dev"};
	char proc[64], root[4096], path[4096];
	ssize_t rl, tl;
	const char *rel;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", rootfd);
	rl = readlink(proc, root, sizeof(root) - 1);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t);
	tl = readlink(proc, path, sizeof(path) - 1);
	if (rl <= 0 || tl <= 0)
		return err_errno(err, errno ? errno : EIO, "mount target \"%s\"", target);
	root[rl] = path[tl] = 0;
	if (!strcmp(root, "/"))
		root[0] = 0;
	rl = (ssize_t)strlen(root);
	if (strncmp(path, root, (size_t)rl) != 0 || (path[rl] != '/' && path[rl] != 0))
		return err_set(err, EPERM, "mount target \"%s\" is outside the container's root",
			       target);
	rel = path + rl;
	if (!*rel || !strcmp(rel, "/"))
		return err_set(err, EINVAL, "mount target \"%s\" resolves to the container's root",
			       target);
	for (size_t i = 0; i < ARRAY_SIZE(api); i++) {
		size_t n = strlen(api[i]);

		if (!strncmp(rel, api[i], n) && (rel[n] == '/' || !rel[n]))
			return err_set(err, EPERM,
				       "mount target \"%s\" resolves to \"%s\" (under %s): "
				       "refused",
				       target, rel, api[i]);
	}
	return 0;
}

/* The mount point of M beneath ROOTFD: a directory for a tmpfs or a
 * directory bind, a file for a file bind; created when missing (Docker
 * does), refused when it exists as the other kind. */
static int mount_point(int rootfd, const struct sandbox_mount *m, bool is_dir, struct err **err)
{
	_cleanup_close_ int t = -1;
	struct stat st;

	/* A symlink in the image is followed, beneath the root (RESOLVE_IN_ROOT):
	 * it can move the mount within the container, never out of it. */
	t = path_open_beneath(rootfd, m->target, O_PATH, 0, NULL);
	if (t >= 0) {
		if (fstat(t, &st) < 0)
			return err_errno(err, errno, "mount target \"%s\"", m->target);
		if (target_check(rootfd, t, m->target, err) < 0)
			return err_ret(*err);
		if (is_dir != !!S_ISDIR(st.st_mode))
			return err_set(err, is_dir ? ENOTDIR : EISDIR,
				       "mount target \"%s\" is %s, the source is %s", m->target,
				       S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
				       is_dir ? "a directory" : "a file");
		return steal_fd(t);
	}
	if (is_dir) {
		t = path_mkdir_beneath(rootfd, m->target, 0755, err);
	} else {
		char parent[4096];
		char *slash;
		_cleanup_close_ int p = -1;

		snprintf(parent, sizeof(parent), "%s", m->target);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = 0;
			if ((p = path_mkdir_beneath(rootfd, parent, 0755, err)) < 0)
				return err_ret(*err);
		}
		t = path_open_beneath(rootfd, m->target, O_CREAT | O_WRONLY | O_NOFOLLOW, 0644,
				      err);
	}
	if (t < 0)
		return err_ret(*err);
	if (target_check(rootfd, t, m->target, err) < 0)
		return err_ret(*err);
	return steal_fd(t);
}

static int mount_one(int rootfd, const struct sandbox_mount *m, int src, struct err **err)
{
	_cleanup_close_ int tree = -1, t = -1;
	unsigned attrs = MOUNT_ATTR_NODEV | (m->readonly ? MOUNT_ATTR_RDONLY : 0);
	bool is_dir = true;

	if (m->kind == SANDBOX_MOUNT_TMPFS) {
		char size[48], mode[32];
		const char *opts[3] = {mode, NULL, NULL};

		snprintf(mode, sizeof(mode), "mode=%o", m->tmpfs_mode ? m->tmpfs_mode : 01777);
		if (m->tmpfs_size) {
			snprintf(size, sizeof(size), "size=%llu",
				 (unsigned long long)m->tmpfs_size);
			opts[1] = size;
		}
		attrs |= (m->tmpfs_exec ? 0 : MOUNT_ATTR_NOEXEC) |
			 (m->tmpfs_suid ? 0 : MOUNT_ATTR_NOSUID);
		tree = new_mount("tmpfs", "tmpfs", opts, attrs, err);
		if (tree < 0)
			return err_prefix(err, "tmpfs on \"%s\"", m->target);
	} else {
		struct mount_attr ma = {
		    .attr_set = attrs | MOUNT_ATTR_NOSUID,
		    .propagation = (uint64_t)m->propagation,
		};
		unsigned rec = m->recursive ? AT_RECURSIVE : 0;
		struct stat st;

		if (fstat(src, &st) < 0)
			return err_errno(err, errno, "bind source \"%s\"", m->source);
		is_dir = S_ISDIR(st.st_mode);
		if (!is_dir && !S_ISREG(st.st_mode))
			return err_set(err, EINVAL,
				       "bind source \"%s\" is neither a directory nor a file",
				       m->source);
		/* The mount point first: a target that leads somewhere it must
		 * not is refused before anything is copied there. */
		if ((t = mount_point(rootfd, m, is_dir, err)) < 0)
			return err_ret(*err);
		if (m->seed && is_dir && sandbox_seed_volume(rootfd, m->target, src, err) < 0)
			return err_ret(*err);
		tree =
		    open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
		if (tree < 0 && errno == EINVAL && !m->recursive)
			return err_errno(
			    err, errno,
			    "clone the mount of \"%s\" without what is mounted below it "
			    "(the kernel does not uncover mounts in a user namespace: "
			    "drop bind-nonrecursive)",
			    m->source);
		if (tree < 0)
			return err_errno(err, errno, "clone the mount of \"%s\"", m->source);
		/* Read-only (and the rest) on the detached tree, before anything
		 * in the container can see it. */
		if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &ma, sizeof(ma)) < 0)
			return err_errno(err, errno, "set the attributes of the mount of \"%s\"",
					 m->source);
	}
	if (t < 0 && (t = mount_point(rootfd, m, is_dir, err)) < 0)
		return err_ret(*err);
	if (move_mount(tree, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_errno(err, errno, "mount on \"%s\"", m->target);
	return 0;
}

int sandbox_mount_user(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		       struct err **err)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (mount_one(rootfd, &spec->mounts[i], h->mounts[i], err) < 0)
			return err_ret(*err);
	return 0;
}

int sandbox_pty_open(int rootfd, bool console, int *slave, struct err **err)
{
	_cleanup_close_ int master = -1, s = -1;
	int unlock = 0;

	master = path_open_beneath(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0, err);
	if (master < 0)
		return err_prefix(err, "pty");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return err_errno(err, errno, "unlock pty");
	/* The slave straight from the master: no path lookup to race. */
	s = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return err_errno(err, errno, "open pty peer");
	/* The container's console; an exec's pty is its own business and must
	 * not replace it for every other process of the container. */
	if (console && touch_beneath(rootfd, "/dev/console", err) < 0)
		return err_ret(*err);
	if (console && bind_fd_at(s, rootfd, "/dev/console", 0, false, err) < 0)
		return err_prefix(err, "/dev/console");
	*slave = steal_fd(s);
	return steal_fd(master);
}

int sandbox_rootfs_readonly(int rootfd, struct err **err)
{
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};

	if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
		return err_errno(err, errno, "make rootfs read-only");
	return 0;
}

int sandbox_workdir_prepare(int rootfd, const char *cwd, struct err **err)
{
	_cleanup_close_ int fd = -1;

	if (!cwd || !strcmp(cwd, "/"))
		return 0;
	fd = path_open_beneath(rootfd, cwd, O_PATH | O_DIRECTORY, 0, NULL);
	if (fd >= 0)
		return 0;
	fd = path_mkdir_beneath(rootfd, cwd, 0755, err);
	if (fd < 0)
		return err_prefix(err, "working directory");
	return 0;
}

int sandbox_pivot(int rootfd, struct err **err)
{
	if (fchdir(rootfd) < 0)
		return err_errno(err, errno, "chdir to rootfs");
	/* pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves no path back to the host tree. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return err_errno(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return err_errno(err, errno, "detach old root");
	if (chdir("/") < 0)
		return err_errno(err, errno, "chdir /");
	return 0;
}

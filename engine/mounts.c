/*
 * engine/mounts.c - a container's storage, from the flags at create to the
 * sandbox's mounts at start and back at teardown (see mounts.h).
 *
 * Runs in: the moat process (create, start, rm) and a container's monitor
 * (teardown).
 *
 * Invariants:
 *  - A bind source is judged by what its fd is: opened with O_PATH (and
 *    O_NOFOLLOW unless follow-symlink), its real path read back from
 *    /proc/self/fd, and that path is what the tenant policy sees, at
 *    create and again at every start. The sandbox refuses anything but
 *    that inode (sandbox/mounts.c).
 *  - Volumes are named by validated names only; a volume's data is opened
 *    O_NOFOLLOW beneath moat's own state.
 *  - Nothing half-made: create removes the volumes and directories it made
 *    when a later step fails; start unmounts the plugin volumes it mounted.
 *  - No Unmount is lost: one the plugin did not take is written to
 *    RUNROOT/plugin-unmounts before the runtime dir's note of the Mount
 *    goes, and leaves that file only when the plugin took it (or removed
 *    the volume). Files there are flock'ed while read or changed, and
 *    changed in place, so a waiter never writes to an unlinked file.
 *  - Targets were normalised by volume/mountspec (no "..", nothing under
 *    /proc, /sys, /dev) and are resolved beneath the container root.
 */
#include "engine/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "engine/tenant_files.h"
#include "engine/volumes.h"
#include "policy/tenant.h"
#include "volume/plugin.h"
#include "volume/volume.h"

#define PLUGIN_MOUNTS "plugin-mounts"

/* The real path of FD, malloc'd. */
static char *fd_path(int fd)
{
	char proc[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* Opens a bind's source as mounts.h says; ENOENT when it does not exist. */
static int open_bind(const struct mount_req *m, struct err **err)
{
	int fd = open(m->source, O_PATH | O_CLOEXEC | (m->follow_symlink ? 0 : O_NOFOLLOW));
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT
				       : err_errno(err, errno, "bind source \"%s\"", m->source);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return err_errno(err, e, "bind source \"%s\"", m->source);
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return err_set(err, ELOOP,
			       "bind source \"%s\" is a symlink: give the path it points to, or "
			       "add the follow-symlink option",
			       m->source);
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, EINVAL,
			       "bind source \"%s\" is neither a directory nor a regular file",
			       m->source);
	}
	return fd;
}

/* Where a missing source would be: the real path of its nearest existing
 * ancestor, then the missing components as given. */
static char *would_be_path(const char *path)
{
	char buf[PATH_MAX], *slash;
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len + 1);
	while ((slash = strrchr(buf, '/'))) {
		_cleanup_close_ int fd = -1;
		_cleanup_free_ char *real = NULL;
		char *out;

		*slash = 0;
		fd = open(buf[0] ? buf : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!(real = fd_path(fd)))
			return NULL;
		if (asprintf(&out, "%s%s", strcmp(real, "/") ? real : "", path + (slash - buf)) < 0)
			return NULL;
		return out;
	}
	return NULL;
}

/* ---- create ---- */

static int strs_add(struct engine_mounts_plan *p, char *s, const char **slot)
{
	size_t n = 0;
	char **v;

	while (p->strs && p->strs[n])
		n++;
	v = realloc(p->strs, (n + 2) * sizeof(char *));
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	v[n] = s;
	v[n + 1] = NULL;
	p->strs = v;
	*slot = s;
	return 0;
}

static bool has_target(const struct mount_req *m, size_t n, const char *target)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].target, target))
			return true;
	return false;
}

static size_t depth(const char *p)
{
	size_t d = 0;

	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int by_depth(const void *a, const void *b)
{
	const struct mount_req *x = a, *y = b;
	size_t dx = depth(x->target), dy = depth(y->target);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->target, y->target);
}

static int add_mount(struct engine_mounts_plan *p, const struct mount_req *m, struct err **err)
{
	struct mount_req *v;

	if (p->n >= ENGINE_MAX_MOUNTS)
		return err_set(err, E2BIG, "too many mounts (at most %d)", ENGINE_MAX_MOUNTS);
	v = realloc(p->mounts, (p->n + 1) * sizeof(*v));
	if (!v)
		return err_errno(err, ENOMEM, "mounts");
	p->mounts = v;
	memset(&v[p->n], 0, sizeof(v[p->n]));
	if (mount_req_copy(m, &v[p->n], err) < 0)
		return err_ret(*err);
	p->n++;
	return 0;
}

static int volumes_from(const struct engine_ctx *c, const char *spec, struct engine_mounts_plan *p,
			struct err **err)
{
	char ref[256], id[SHA256_HEX_LEN + 1];
	const char *colon = strchr(spec, ':');
	struct container_record rec;
	int mode = -1; /* -1 keep, 0 rw, 1 ro */
	int ret = 0;

	snprintf(ref, sizeof(ref), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (colon) {
		if (!strcmp(colon + 1, "ro"))
			mode = 1;
		else if (!strcmp(colon + 1, "rw"))
			mode = 0;
		else
			return err_set(err, EINVAL,
				       "--volumes-from %s: the mode must be \"ro\" or \"rw\"",
				       spec);
	}
	if (!ref[0])
		return err_set(err, EINVAL, "--volumes-from: a container is required");
	if ((ret = engine_container_resolve(c->root, ref, id, err)) < 0 ||
	    (ret = engine_container_load(c->root, id, &rec, err)) < 0) {
		(*err)->exit = 0; /* run/create: 125, not rm's 1 */
		return err_prefix(err, "--volumes-from %s", ref);
	}
	for (size_t i = 0; i < rec.n_mounts && ret == 0; i++) {
		struct mount_req m = rec.mounts[i];

		/* Docker shares volumes and binds, not a tmpfs (it has no
		 * content to share). A flag's own target wins. */
		if (m.type == MOUNT_TMPFS || has_target(p->mounts, p->n, m.target))
			continue;
		if (mode >= 0)
			m.readonly = mode == 1;
		ret = add_mount(p, &m, err);
	}
	engine_container_record_free(&rec);
	return ret;
}

/* The policy's view of M (strings kept in P). */
static int describe(const struct engine_ctx *c, struct engine_mounts_plan *p, size_t i,
		    struct err **err)
{
	struct mount_req *m = &p->mounts[i];
	struct tenant_mount *t = &p->tm[i];

	t->type = mount_type_name(m->type);
	t->readonly = m->readonly;
	if (m->type == MOUNT_VOLUME) {
		struct volume v = {0};

		/* An existing volume keeps its driver; a new one gets the
		 * flag's, or local. */
		if (m->source && volume_load(c->root, m->source, &v, NULL) == 0) {
			if (m->driver && strcmp(m->driver, v.driver) != 0) {
				int r =
				    err_set(err, EEXIST,
					    "volume \"%s\" exists with driver \"%s\", not \"%s\"",
					    m->source, v.driver, m->driver);
				volume_free(&v);
				return r;
			}
			if (strs_add(p, v.driver, &t->driver) < 0) {
				v.driver = NULL;
				volume_free(&v);
				return err_errno(err, ENOMEM, "mounts");
			}
			v.driver = NULL;
			volume_free(&v);
		} else if (m->source && !m->driver) {
			char *drv = NULL;

			/* Docker's rule for a name without a driver: a
			 * plugin's own volume of that name is that volume
			 * (engine_volume_create then records it, no Create). */
			if (engine_volume_probe(c, m->source, &drv) < 0)
				return err_errno(err, ENOMEM, "mounts");
			if (!drv)
				t->driver = VOLUME_DRIVER_LOCAL;
			else if (strs_add(p, drv, &t->driver) < 0)
				return err_errno(err, ENOMEM, "mounts");
		} else {
			t->driver = m->driver ? m->driver : VOLUME_DRIVER_LOCAL;
		}
	} else if (m->type == MOUNT_BIND) {
		int fd = open_bind(m, err);
		char *real;

		if (fd == -ENOENT) {
			if (!m->create_src)
				return err_set(
				    err, ENOENT,
				    "invalid mount config for type \"bind\": bind source "
				    "path does not exist: %s",
				    m->source);
			real = would_be_path(m->source);
			t->create = true;
		} else if (fd < 0) {
			return err_ret(*err);
		} else {
			real = fd_path(fd);
			close(fd);
		}
		if (!real || strs_add(p, real, &t->host_path) < 0)
			return err_errno(err, ENOMEM, "mounts");
	}
	return 0;
}

int engine_mounts_plan(const struct engine_ctx *c, const struct engine_mount_opts *o,
		       const struct image *img, struct engine_mounts_plan *p, struct err **err)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < o->n_reqs; i++) {
		const struct mount_req *m = &o->reqs[i];

		if (has_target(p->mounts, p->n, m->target)) {
			err_set(err, EINVAL, "Duplicate mount point: %s", m->target);
			goto fail;
		}
		if (m->type == MOUNT_BIND &&
		    (m->propagation == MOUNT_PROP_SHARED || m->propagation == MOUNT_PROP_RSHARED)) {
			err_set(
			    err, EPERM,
			    "bind-propagation=%s on \"%s\": moat never lets a container's mounts "
			    "reach the host; use rslave to see the host's later mounts",
			    mount_propagation_name(m->propagation), m->target);
			goto fail;
		}
		if (add_mount(p, m, err) < 0)
			goto fail;
	}
	for (size_t i = 0; o->volumes_from && o->volumes_from[i]; i++)
		if (volumes_from(c, o->volumes_from[i], p, err) < 0)
			goto fail;
	for (size_t i = 0; img && img->config && img->config->volumes && img->config->volumes[i];
	     i++) {
		_cleanup_free_ char *t = NULL;
		struct mount_req m = {.type = MOUNT_VOLUME};

		if (mountspec_target_normalise(img->config->volumes[i], &t, err) < 0) {
			err_prefix(err, "the image's VOLUME");
			goto fail;
		}
		if (has_target(p->mounts, p->n, t))
			continue;
		m.target = t;
		if (add_mount(p, &m, err) < 0)
			goto fail;
	}
	if (p->n)
		qsort(p->mounts, p->n, sizeof(*p->mounts), by_depth);
	if (p->n && !(p->tm = calloc(p->n, sizeof(*p->tm)))) {
		err_errno(err, ENOMEM, "mounts");
		goto fail;
	}
	for (size_t i = 0; i < p->n; i++)
		if (describe(c, p, i, err) < 0)
			goto fail;
	return 0;
fail:
	engine_mounts_plan_free(p);
	return err_ret(*err);
}

void engine_mounts_plan_free(struct engine_mounts_plan *p)
{
	engine_mounts_free(p->mounts, p->n);
	free(p->tm);
	strvfree(p->strs);
	memset(p, 0, sizeof(*p));
}

static int created_add(char ***created, const char *name)
{
	size_t n = 0;
	char **v, *s = strdup(name);

	while (*created && (*created)[n])
		n++;
	v = s ? realloc(*created, (n + 2) * sizeof(char *)) : NULL;
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	v[n] = s;
	v[n + 1] = NULL;
	*created = v;
	return 0;
}

int engine_mounts_make(const struct engine_ctx *c, const struct engine_identity *ident,
		       struct engine_mounts_plan *p, char ***created, struct err **err)
{
	*created = NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct mount_req *m = &p->mounts[i];
		struct volume v = {0};
		bool existed = false;

		if (m->type == MOUNT_BIND && p->tm[i].create) {
			/* Docker's -v makes a missing source directory. */
			if (fs_mkdir_p(m->source, 0755, err) < 0) {
				err_prefix(err, "create the bind source");
				goto fail;
			}
			continue;
		}
		if (m->type != MOUNT_VOLUME)
			continue;
		if (engine_volume_create(c, ident, m->source, p->tm[i].driver, m->labels,
					 m->driver_opts, !m->source, &v, &existed, err) < 0)
			goto fail;
		if (!existed && created_add(created, v.name) < 0) {
			volume_free(&v);
			err_errno(err, ENOMEM, "mounts");
			goto fail;
		}
		if (!m->source) {
			m->source = v.name;
			v.name = NULL;
		}
		/* The volume's own driver (an existing volume keeps its). */
		free(m->driver);
		m->driver = v.driver;
		v.driver = NULL;
		volume_free(&v);
	}
	return 0;
fail:
	engine_mounts_undo(c, ident, *created);
	strvfree(*created);
	*created = NULL;
	return err_ret(*err);
}

void engine_mounts_undo(const struct engine_ctx *c, const struct engine_identity *ident,
			char **created)
{
	(void)ident;
	for (size_t i = 0; created && created[i]; i++) {
		struct err *e = NULL;

		if (engine_volume_remove_unused(c, created[i], &e) < 0) {
			fprintf(stderr, "moat: warning: volume %s left behind: %s\n", created[i],
				e->msg);
			err_free(&e);
		}
	}
}

/* ---- pending Unmounts (mounts.h) ---- */

#define PENDING_DIR "plugin-unmounts"
#define PENDING_MAX (1024 * 1024)
#define ID_LINE (SHA256_HEX_LEN + 1)

/* DRIVER and VOLUME become path components: checked first. (A record's
 * driver may hold '/'; no plugin moat can call does.) */
static bool pending_names_ok(const char *driver, const char *volume)
{
	return plugin_name_valid(driver) && volume_name_valid(volume);
}

/*
 * RUNROOT/plugin-unmounts/DRIVER/VOLUME opened read-write and flock'ed,
 * made first with CREATE. A file that was unlinked while this waited for
 * its lock (its last Unmount was taken meanwhile) is opened anew, so that
 * nothing is ever added to a file nobody will read again; likewise a
 * DRIVER directory removed between its mkdir and the open. -ENOENT: none
 * pending; -EWOULDBLOCK with NONBLOCK: another process has it now.
 */
static int pending_open(const struct engine_ctx *c, const char *driver, const char *volume,
			bool create, bool nonblock)
{
	char dir[4200], path[4400];

	if (!pending_names_ok(driver, volume))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s/" PENDING_DIR "/%s", c->runroot, driver);
	snprintf(path, sizeof(path), "%s/%s", dir, volume);
	for (int tries = 0; tries < 16; tries++) {
		_cleanup_close_ int fd = -1;
		struct stat st;
		int r;

		if (create && (r = fs_mkdir_p(dir, 0700, NULL)) < 0)
			return r;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
		if (fd < 0) {
			if (errno == ENOENT && create)
				continue;
			return -errno;
		}
		if (flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) < 0)
			return -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		if (st.st_nlink == 0)
			continue;
		return steal_fd(fd);
	}
	return -EAGAIN;
}

/* Called with the file's lock held and the file empty: it goes, and its
 * DRIVER directory with it when that is empty too (ENOTEMPTY: another
 * volume's Unmounts are pending, or another process just made it). */
static void pending_drop(const struct engine_ctx *c, const char *driver, const char *volume)
{
	char dir[4200], path[4400];

	snprintf(dir, sizeof(dir), "%s/" PENDING_DIR "/%s", c->runroot, driver);
	snprintf(path, sizeof(path), "%s/%s", dir, volume);
	unlink(path);
	rmdir(dir);
}

static int pending_add(const struct engine_ctx *c, const char *driver, const char *volume,
		       const char *id, struct err **err)
{
	_cleanup_close_ int fd = -1;
	char line[ID_LINE + 1];

	if (!digest_hex_valid(id))
		return err_set(err, EINVAL, "not a container id");
	fd = pending_open(c, driver, volume, true, false);
	if (fd < 0)
		return err_errno(err, -fd, "%s/" PENDING_DIR "/%s/%s", c->runroot, driver, volume);
	snprintf(line, sizeof(line), "%s\n", id);
	if (lseek(fd, 0, SEEK_END) < 0 || fs_write_all(fd, line, ID_LINE) < 0)
		return err_errno(err, errno, "%s/" PENDING_DIR "/%s/%s", c->runroot, driver,
				 volume);
	return 0;
}

/*
 * Sends the Unmounts pending for DRIVER's VOLUME (only those of ONLY_ID
 * when it is set), one attempt each unless ONLY_ID (a start is about to
 * Mount anyway: the plugin gets its usual time to come up). What the
 * plugin took leaves the file; the file goes when nothing is left. The
 * Unmounts still owed for ONLY_ID are counted in the return value, with
 * the last failure in *ERR. A line that is not a container id is
 * dropped (nobody could send it).
 */
static int pending_retry(const struct engine_ctx *c, const char *driver, const char *volume,
			 const char *only_id, bool nonblock, struct err **err)
{
	_cleanup_close_ int fd = pending_open(c, driver, volume, false, nonblock);
	_cleanup_free_ char *buf = NULL, *kept = NULL;
	struct plugin *pl = NULL;
	struct err *fe = NULL;
	size_t len = 0, k = 0;
	int left = 0;

	if (fd < 0)
		return 0;
	if (fs_read_fd(fd, PENDING_MAX, &buf, &len, NULL) < 0 || !(kept = malloc(len + 1)))
		return 0;
	if (plugin_find(driver, &pl, &fe) == 0 && !only_id)
		pl->retry_s = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		char *nl = strchr(line, '\n');
		struct err *e = NULL;
		bool mine;

		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		if (!digest_hex_valid(line))
			continue;
		mine = only_id && !strcmp(line, only_id);
		if ((!only_id || mine) && pl && plugin_volume_unmount(pl, volume, line, &e) == 0)
			continue;
		if (!only_id || mine) {
			const struct err *why = e ? e : fe;

			fprintf(stderr,
				"moat: warning: the Unmount of volume %s for container %.12s is "
				"still pending: %s\n",
				volume, line, why ? why->msg : "?");
			if (mine) {
				left++;
				err_set(err, why ? why->code : EIO, "%s", why ? why->msg : "?");
			}
		}
		err_free(&e);
		memcpy(kept + k, line, ID_LINE - 1);
		kept[k + ID_LINE - 1] = '\n';
		k += ID_LINE;
	}
	plugin_free(pl);
	err_free(&fe);
	if (k == 0) {
		pending_drop(c, driver, volume);
		return left;
	}
	/* In place, under the lock: the file stays the one others wait on. */
	if (k != len && (pwrite(fd, kept, k, 0) != (ssize_t)k || ftruncate(fd, (off_t)k) < 0))
		fprintf(stderr, "moat: warning: rewrite %s/" PENDING_DIR "/%s/%s: %s\n", c->runroot,
			driver, volume, strerror(errno));
	return left;
}

void engine_mounts_retry_unmounts(const struct engine_ctx *c)
{
	char dir[4200];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/" PENDING_DIR, c->runroot);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		_cleanup_closedir_ DIR *vd = NULL;
		struct dirent *ve;
		int dfd;

		if (!plugin_name_valid(de->d_name))
			continue;
		dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || !(vd = fdopendir(dfd))) {
			if (dfd >= 0)
				close(dfd);
			continue;
		}
		while ((ve = readdir(vd)))
			if (volume_name_valid(ve->d_name))
				pending_retry(c, de->d_name, ve->d_name, NULL, true, NULL);
		/* Left empty by an earlier crash or race: it goes too. */
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
}

void engine_mounts_retry_unmounts_of(const struct engine_ctx *c, const char *driver,
				     const char *volume)
{
	pending_retry(c, driver, volume, NULL, false, NULL);
}

void engine_mounts_forget_unmounts(const struct engine_ctx *c, const char *driver,
				   const char *volume)
{
	_cleanup_close_ int fd = pending_open(c, driver, volume, false, false);

	if (fd >= 0)
		pending_drop(c, driver, volume);
}

/* ---- start ---- */

/* Appends "DRIVER NAME" to RDIR/plugin-mounts before the Mount call (a
 * crash after it must still lead to an Unmount); *OFF gets where the line
 * starts, for forget_plugin_mount. */
static int note_plugin_mount(const char *rdir, const char *driver, const char *name, off_t *off,
			     struct err **err)
{
	char path[4200];
	_cleanup_close_ int fd = -1;
	char line[512];
	int len;

	snprintf(path, sizeof(path), "%s/" PLUGIN_MOUNTS, rdir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(err, errno, "open \"%s\"", path);
	*off = lseek(fd, 0, SEEK_END);
	len = snprintf(line, sizeof(line), "%s %s\n", driver, name);
	if (*off < 0 || len < 0 || (size_t)len >= sizeof(line) ||
	    fs_write_all(fd, line, (size_t)len) < 0)
		return err_errno(err, EIO, "write \"%s\"", path);
	return 0;
}

/* The plugin certainly did not mount (it refused, or was never reached):
 * no Unmount is owed, and one would drop another container's mount in a
 * plugin that counts them. */
static void forget_plugin_mount(const char *rdir, off_t off)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/" PLUGIN_MOUNTS, rdir);
	if (truncate(path, off) < 0)
		fprintf(stderr, "moat: warning: truncate \"%s\": %s\n", path, strerror(errno));
}

/* The policy on the binds as they are now. */
static int recheck_binds(const struct engine_ctx *c, const struct container_record *rec,
			 struct sandbox_mount *sm, size_t n, struct err **err)
{
	struct tenant_mount tm[ENGINE_MAX_MOUNTS];
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (sm[i].kind == SANDBOX_MOUNT_BIND && rec->mounts[i].type == MOUNT_BIND)
			tm[k++] = (struct tenant_mount){
			    .type = "bind",
			    .host_path = sm[i].source,
			    .readonly = sm[i].readonly,
			};
	if (!k)
		return 0;
	return engine_tenant_check_mounts(c, tm, k, err);
}

static int open_volume(const struct engine_ctx *c, const struct container_record *rec,
		       const struct mount_req *m, const char *rdir, struct sandbox_mount *s,
		       struct err **err)
{
	struct volume v = {0};
	int ret;

	if ((ret = volume_load(c->root, m->source, &v, err)) < 0)
		return err_prefix(err, "volume of \"%s\"", m->target);
	if (strcmp(v.driver, VOLUME_DRIVER_LOCAL) != 0) {
		struct plugin *pl = NULL;
		_cleanup_free_ char *mp = NULL;
		const char *state[] = {c->root, c->runroot, NULL};

		off_t off = 0;

		ret = plugin_find(v.driver, &pl, err);
		/* An Unmount this container still owes from its last run goes
		 * first: sent after the new Mount (same id), it would drop
		 * the new mount in a plugin that keys mounts by id. */
		if (ret == 0) {
			_cleanup_err_ struct err *pe = NULL;

			if (pending_retry(c, v.driver, v.name, rec->id, false, &pe) > 0)
				ret = err_set(err, EBUSY,
					      "volume %s: the Unmount after this container's last "
					      "run is still pending (%s); it is mounted again once "
					      "the plugin has taken that",
					      v.name, pe ? pe->msg : "?");
		}
		if (ret == 0)
			ret = note_plugin_mount(rdir, v.driver, v.name, &off, err);
		if (ret == 0) {
			ret = plugin_volume_mount(pl, v.name, rec->id, &mp, err);
			if (ret == -EREMOTEIO || ret == -ECONNREFUSED || ret == -ENOTSUP ||
			    ret == -ENOENT)
				forget_plugin_mount(rdir, off);
		}
		if (ret == 0 && (s->srcfd = plugin_mountpoint_open(pl, mp, state, err)) < 0) {
			ret = s->srcfd;
			s->srcfd = -1;
		}
		plugin_free(pl);
		if (ret < 0) {
			volume_free(&v);
			return ret;
		}
	} else {
		_cleanup_close_ int dir = -1;
		char path[4200];

		snprintf(path, sizeof(path), "%s/volumes", c->root);
		dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s/_data", v.name);
		s->srcfd =
		    dir < 0 ? -1 : openat(dir, path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->srcfd < 0) {
			ret = err_errno(err, errno, "the data of volume \"%s\"", v.name);
			volume_free(&v);
			return ret;
		}
		s->seed = !m->nocopy;
	}
	volume_free(&v);
	return 0;
}

int engine_mounts_open(const struct engine_ctx *c, const struct container_record *rec,
		       const char *rdir, struct sandbox_mount **out, size_t *n, struct err **err)
{
	struct sandbox_mount *sm;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!rec->n_mounts)
		return 0;
	if (!(sm = calloc(rec->n_mounts, sizeof(*sm))))
		return err_errno(err, ENOMEM, "mounts");
	for (size_t i = 0; i < rec->n_mounts; i++)
		sm[i].srcfd = -1;
	for (size_t i = 0; i < rec->n_mounts && ret == 0; i++) {
		const struct mount_req *m = &rec->mounts[i];
		struct sandbox_mount *s = &sm[i];
		struct stat st;

		if (!(s->target = strdup(m->target))) {
			ret = err_errno(err, ENOMEM, "mounts");
			break;
		}
		s->readonly = m->readonly;
		s->recursive = !m->nonrecursive;
		s->propagation =
		    m->propagation == MOUNT_PROP_RSLAVE || m->propagation == MOUNT_PROP_SLAVE
			? MS_SLAVE
			: MS_PRIVATE;
		if (m->type == MOUNT_TMPFS) {
			s->kind = SANDBOX_MOUNT_TMPFS;
			s->tmpfs_size = m->tmpfs_size;
			s->tmpfs_mode = m->tmpfs_mode;
			s->tmpfs_exec = m->tmpfs_exec;
			s->tmpfs_suid = m->tmpfs_suid;
			continue;
		}
		s->kind = SANDBOX_MOUNT_BIND;
		if (m->type == MOUNT_BIND) {
			int fd = open_bind(m, err);

			if (fd == -ENOENT && m->create_src) {
				if ((ret = fs_mkdir_p(m->source, 0755, err)) < 0)
					break;
				fd = open_bind(m, err);
			}
			if (fd == -ENOENT)
				ret = err_set(err, ENOENT, "bind source path does not exist: %s",
					      m->source);
			else if (fd < 0)
				ret = fd;
			s->srcfd = fd;
		} else {
			ret = open_volume(c, rec, m, rdir, s, err);
		}
		if (ret < 0)
			break;
		if (!(s->source = fd_path(s->srcfd)) || fstat(s->srcfd, &st) < 0) {
			ret = err_errno(err, errno ? errno : ENOMEM, "mount source of \"%s\"",
					m->target);
			break;
		}
		s->is_dir = S_ISDIR(st.st_mode);
	}
	if (ret == 0)
		ret = recheck_binds(c, rec, sm, rec->n_mounts, err);
	if (ret < 0) {
		engine_mounts_close(sm, rec->n_mounts);
		engine_mounts_release(c, rec, rdir, false);
		return ret;
	}
	*out = sm;
	*n = rec->n_mounts;
	return 0;
}

void engine_mounts_close(struct sandbox_mount *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		if (m[i].srcfd >= 0)
			close(m[i].srcfd);
		free(m[i].target);
		free(m[i].source);
	}
	free(m);
}

void engine_mounts_started(struct container_record *rec, struct sandbox_mount *m, size_t n)
{
	for (size_t i = 0; i < n && i < rec->n_mounts; i++)
		if (m[i].seed) {
			m[i].seed = false;
			rec->mounts[i].nocopy = true;
		}
}

void engine_mounts_release(const struct engine_ctx *c, const struct container_record *rec,
			   const char *rdir, bool remove_anon)
{
	char path[4200];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/" PLUGIN_MOUNTS, rdir);
	if (rdir && rdir[0] && fs_read_at(AT_FDCWD, path, 64 * 1024, &buf, &len, NULL) == 0) {
		for (char *line = buf, *next; line && *line; line = next) {
			char *sp, *nl = strchr(line, '\n');
			const char *driver, *volume;
			struct plugin *pl = NULL;
			struct err *e = NULL;

			next = nl ? nl + 1 : NULL;
			if (nl)
				*nl = 0;
			if (!(sp = strchr(line, ' ')))
				continue;
			*sp = 0;
			driver = line;
			volume = sp + 1;
			if (plugin_find(driver, &pl, &e) < 0 ||
			    plugin_volume_unmount(pl, volume, rec->id, &e) < 0) {
				/* Kept, so that it is sent when the plugin is back:
				 * written before plugin-mounts goes (a crash in
				 * between sends it twice, never not at all). */
				fprintf(stderr,
					"moat: warning: %s (the Unmount is retried later)\n",
					e->msg);
				err_free(&e);
				if (pending_add(c, driver, volume, rec->id, &e) < 0) {
					fprintf(stderr,
						"moat: warning: the Unmount of volume %s for "
						"container %.12s is lost: %s\n",
						volume, rec->id, e->msg);
					err_free(&e);
				}
			}
			plugin_free(pl);
		}
		unlink(path);
	}
	if (remove_anon)
		engine_mounts_remove_anonymous(c, rec);
}

void engine_mounts_remove_anonymous(const struct engine_ctx *c, const struct container_record *rec)
{
	for (size_t i = 0; i < rec->n_mounts; i++) {
		const struct mount_req *m = &rec->mounts[i];
		struct volume v = {0};
		_cleanup_strv_ char **users = NULL;
		bool others = false;
		struct err *e = NULL;

		if (m->type != MOUNT_VOLUME || volume_load(c->root, m->source, &v, NULL) < 0)
			continue;
		if (!v.anonymous) {
			volume_free(&v);
			continue;
		}
		volume_free(&v);
		if (engine_volume_users(c, m->source, &users, NULL) < 0)
			continue;
		for (size_t k = 0; users && users[k]; k++)
			others = others || strcmp(users[k], rec->id) != 0;
		if (others)
			continue; /* shared through --volumes-from: it stays */
		if (engine_volume_remove_unused(c, m->source, &e) < 0) {
			fprintf(stderr, "moat: warning: anonymous volume %s left behind: %s\n",
				m->source, e->msg);
			err_free(&e);
		}
	}
}

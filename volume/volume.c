/*
 * volume/volume.c - the local volume store: records under ROOT/volumes/
 * and the data directories of local volumes (layout in volume.h).
 *
 * Runs in: the moat process, as the invoking user or root. No user
 * namespace is entered here: data owned by sub-ids that the invoker cannot
 * remove is the engine's to remove (see volume_remove).
 *
 * Invariants:
 *  - a name passes volume_name_valid before it reaches a system call, and
 *    then only as one component relative to an fd of ROOT/volumes, opened
 *    O_NOFOLLOW: a name is never a path and never follows a symlink;
 *  - ROOT/volumes/.lock serialises create, remove, seeding and debris
 *    cleaning, so debris (a directory with no volume.json) is never a
 *    create in progress when it is removed. flock is per open file, so a
 *    process that holds volume_lock() and locks again deadlocks itself:
 *    which side takes the lock is therefore fixed per function.
 *    volume_create and volume_clean_debris take it themselves (the caller
 *    must not hold it). volume_remove expects the caller to hold it:
 *    removal must be atomic with the caller's "no container uses it"
 *    check;
 *  - the record is written last (fs_write_atomic, then the directory is
 *    fsync'd) and removed first, so a crash leaves debris, never a record
 *    without its _data;
 *  - a directory whose volume.json exists but does not decode is not
 *    debris: it may hold a user's data under a record a newer moat wrote
 *    or a hand edit broke. list warns about it, create refuses its name,
 *    only an explicit remove deletes it.
 */
#include "volume/volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "volume/mountspec.h"

#define RECORD "volume.json"
#define DATA "_data"

/* Docker's message and exit status (1) for a volume that is not there,
 * in the house style of "No such container: X". */
static int no_such(const char *name, struct err **err)
{
	char q[80];

	err_set(err, ENOENT, "No such volume: %s", volume_shown(name, q, sizeof(q)));
	if (err && *err)
		(*err)->exit = 1;
	return -ENOENT;
}

/* An fd of ROOT/volumes; with CREATE it is made (0700) when missing.
 * Without CREATE a missing directory is -ENOENT and no error is set. */
static int vols_open(const char *root, bool create, struct err **err)
{
	_cleanup_free_ char *path = NULL;
	int fd, r;

	if (asprintf(&path, "%s/volumes", root) < 0) {
		path = NULL;
		return err_errno(err, ENOMEM, "volumes");
	}
	if (create && (r = fs_mkdir_p(path, 0700, err)) < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return -ENOENT;
		return err_errno(err, errno, "open \"%s\"", path);
	}
	return fd;
}

static int lock_at(int vfd, struct err **err)
{
	_cleanup_close_ int fd = -1;

	fd = openat(vfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_errno(err, errno, "open volume lock");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "lock volumes");
	return steal_fd(fd);
}

int volume_lock(const char *root, struct err **err)
{
	_cleanup_close_ int vfd = vols_open(root, true, err);

	if (vfd < 0)
		return vfd;
	return lock_at(vfd, err);
}

static int fsync_dir(int fd, const char *what, struct err **err)
{
	if (fsync(fd) < 0)
		return err_errno(err, errno, "fsync %s", what);
	return 0;
}

/* A local volume's mountpoint, which is not part of the record. */
static int set_mountpoint(const char *root, struct volume *v, struct err **err)
{
	free(v->mountpoint);
	v->mountpoint = NULL;
	if (strcmp(v->driver, VOLUME_DRIVER_LOCAL) != 0)
		return 0;
	if (asprintf(&v->mountpoint, "%s/volumes/%s/" DATA, root, v->name) < 0) {
		v->mountpoint = NULL;
		return err_errno(err, ENOMEM, "volume %s", v->name);
	}
	return 0;
}

/* Loads NAME (valid) from VFD; -ENOENT with "No such volume" for a missing
 * directory or record (debris). Other errors name the record's file. */
static int load_at(const char *root, int vfd, const char *name, struct volume *out,
		   struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	dfd = openat(vfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return no_such(name, err);
		return err_errno(err, errno, "volume %s", name);
	}
	r = fs_read_at(dfd, RECORD, VOLUME_RECORD_MAX, &buf, &len, err);
	if (r == -ENOENT) {
		err_free(err);
		return no_such(name, err);
	}
	if (r == 0) {
		r = volume_record_decode(buf, len, out, err);
		if (r == 0 && strcmp(out->name, name) != 0)
			r = err_set(err, EINVAL, "the record names another volume");
		if (r == 0)
			r = set_mountpoint(root, out, err);
	}
	if (r < 0) {
		volume_free(out);
		err_prefix(err, "volume %s: \"%s/volumes/%s/" RECORD "\"", name, root, name);
		return r;
	}
	return 0;
}

int volume_load(const char *root, const char *name, struct volume *out, struct err **err)
{
	_cleanup_close_ int vfd = -1;

	memset(out, 0, sizeof(*out));
	if (!name || !volume_name_valid(name))
		return no_such(name ? name : "", err);
	vfd = vols_open(root, false, err);
	if (vfd == -ENOENT)
		return no_such(name, err);
	if (vfd < 0)
		return vfd;
	return load_at(root, vfd, name, out, err);
}

static int strv_dup(char *const *in, char ***out, struct err **err)
{
	size_t n = 0;
	_cleanup_strv_ char **r = NULL;

	while (in && in[n])
		n++;
	r = calloc(n + 1, sizeof(char *));
	if (!r)
		return err_errno(err, ENOMEM, "create volume");
	for (size_t i = 0; i < n; i++)
		if (!(r[i] = strdup(in[i])))
			return err_errno(err, ENOMEM, "create volume");
	*out = steal_ptr(r);
	return 0;
}

static int first_option(char *const *options, struct err **err)
{
	_cleanup_free_ char *key = NULL;
	char q[80];

	key = strndup(options[0], strcspn(options[0], "="));
	return err_set(err, EINVAL,
		       "local volume driver: option \"%s\" is not supported by moat (local "
		       "volumes are directories; use a volume plugin or a bind mount)",
		       volume_shown(key ? key : options[0], q, sizeof(q)));
}

/* The directory <name>/ of a new volume, with its _data and its record,
 * in that order. VFD is ROOT/volumes, locked; no record of NAME exists. */
static int make(int vfd, const struct volume *v, const struct volume_create_opts *o,
		const char *rec, size_t len, struct err **err)
{
	_cleanup_close_ int dfd = -1, data = -1;
	struct err *e2 = NULL;
	int r;

	if (mkdirat(vfd, v->name, 0700) < 0) {
		if (errno != EEXIST)
			return err_errno(err, errno, "create volume %s", v->name);
		/* No record (the caller checked, under the lock): debris of a
		 * create or remove that crashed. */
		if ((r = fs_rm_rf_at(vfd, v->name, err)) < 0) {
			err_prefix(err, "create volume %s: remove what a crashed create left",
				   v->name);
			return r;
		}
		if (mkdirat(vfd, v->name, 0700) < 0)
			return err_errno(err, errno, "create volume %s", v->name);
	}
	dfd = openat(vfd, v->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = err_errno(err, errno, "create volume %s", v->name);
		goto undo;
	}
	if (!strcmp(v->driver, VOLUME_DRIVER_LOCAL)) {
		if (mkdirat(dfd, DATA, 0755) < 0 ||
		    (data = openat(dfd, DATA, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
			0) {
			r = err_errno(err, errno, "create volume %s: " DATA, v->name);
			goto undo;
		}
		/* 0755 whatever the invoker's umask: the container's own
		 * users (not only its root) must reach the content. */
		if (fchmod(data, 0755) < 0) {
			r = err_errno(err, errno, "create volume %s: chmod " DATA, v->name);
			goto undo;
		}
		if ((o->owner_uid != geteuid() || o->owner_gid != getegid()) &&
		    fchown(data, o->owner_uid, o->owner_gid) < 0) {
			r = err_errno(err, errno, "create volume %s: chown " DATA " to %u:%u",
				      v->name, (unsigned)o->owner_uid, (unsigned)o->owner_gid);
			goto undo;
		}
	}
	/* Last: the record makes the volume exist. */
	if ((r = fs_write_atomic(dfd, RECORD, rec, len, 0600, err)) < 0) {
		err_prefix(err, "create volume %s", v->name);
		goto undo;
	}
	if ((r = fsync_dir(dfd, v->name, err)) < 0 || (r = fsync_dir(vfd, "volumes", err)) < 0)
		goto undo;
	return 0;
undo:
	/* Best effort: what is left is debris, cleaned by the next create. */
	fs_rm_rf_at(vfd, v->name, &e2);
	err_free(&e2);
	return r;
}

int volume_create(const char *root, const struct volume_create_opts *o, struct volume *out,
		  bool *existed, struct err **err)
{
	_cleanup_close_ int vfd = -1, lock = -1;
	_cleanup_free_ char *rec = NULL;
	struct volume v = {0}, have;
	char id[SHA256_HEX_LEN + 1], q[80];
	bool local = !o->driver || !strcmp(o->driver, VOLUME_DRIVER_LOCAL);
	bool has_opts = o->options && o->options[0];
	struct timespec now;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (existed)
		*existed = false;
	/* Everything that needs no disk is checked before any path is
	 * touched: the name, then (through the encoder) the driver's name
	 * and the labels and options. */
	if (o->name && !volume_name_valid(o->name))
		return err_set(err, EINVAL,
			       "create volume \"%s\": invalid volume name: only "
			       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed, at least two and at "
			       "most %d characters (for a host directory, use an absolute path)",
			       volume_shown(o->name, q, sizeof(q)), VOLUME_NAME_MAX);
	if (o->driver && !strcmp(o->driver, VOLUME_DRIVER_LOCAL) && has_opts)
		return first_option(o->options, err);
	if (!o->name && (r = digest_random_id(id, err)) < 0)
		return r;
	clock_gettime(CLOCK_REALTIME, &now);
	v.created = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	v.anonymous = o->anonymous || !o->name;
	v.name = strdup(o->name ? o->name : id);
	v.driver = strdup(o->driver ? o->driver : VOLUME_DRIVER_LOCAL);
	if (!v.name || !v.driver) {
		r = err_errno(err, ENOMEM, "create volume");
		goto out;
	}
	if ((r = strv_dup(o->labels, &v.labels, err)) < 0 ||
	    (r = strv_dup(o->options, &v.options, err)) < 0)
		goto out;
	if ((r = volume_record_encode(&v, &rec, &len, err)) < 0) {
		err_prefix(err, "create volume %s", v.name);
		goto out;
	}

	vfd = vols_open(root, true, err);
	if (vfd < 0) {
		r = vfd;
		goto out;
	}
	lock = lock_at(vfd, err);
	if (lock < 0) {
		r = lock;
		goto out;
	}
	r = load_at(root, vfd, v.name, &have, err);
	if (r == 0) {
		/* Docker's create is idempotent for the same driver. */
		if (o->driver && strcmp(o->driver, have.driver) != 0) {
			r = err_set(err, EEXIST,
				    "create volume %s: a volume of that name already exists with "
				    "the \"%s\" driver, not \"%s\": choose a different volume name",
				    v.name, have.driver, o->driver);
		} else if (!o->name) {
			r = err_set(err, EEXIST, "create volume: random name %s is taken", v.name);
		} else if (!strcmp(have.driver, VOLUME_DRIVER_LOCAL) && has_opts) {
			r = first_option(o->options, err);
		} else {
			*out = have;
			memset(&have, 0, sizeof(have));
			if (existed)
				*existed = true;
		}
		volume_free(&have);
		goto out;
	}
	if (r != -ENOENT) {
		/* A record that does not decode: not debris (see the top). */
		err_prefix(err, "create volume %s", v.name);
		goto out;
	}
	err_free(err);
	if (local && has_opts) {
		r = first_option(o->options, err);
		goto out;
	}
	if ((r = make(vfd, &v, o, rec, len, err)) < 0)
		goto out;
	/* What was written, as load will read it (labels sorted...). */
	if ((r = volume_record_decode(rec, len, out, err)) < 0 ||
	    (r = set_mountpoint(root, out, err)) < 0)
		volume_free(out);
out:
	volume_free(&v);
	return r;
}

/* The caller holds volume_lock() (see the top). */
int volume_remove(const char *root, const char *name, struct err **err)
{
	_cleanup_close_ int vfd = -1, dfd = -1;
	struct err *e2 = NULL;
	int r;

	if (!name || !volume_name_valid(name))
		return no_such(name ? name : "", err);
	vfd = vols_open(root, false, err);
	if (vfd == -ENOENT)
		return no_such(name, err);
	if (vfd < 0)
		return vfd;
	dfd = openat(vfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return no_such(name, err);
		return err_errno(err, errno, "remove volume %s", name);
	}
	if (unlinkat(dfd, RECORD, 0) < 0) {
		if (errno != ENOENT)
			return err_errno(err, errno, "remove volume %s", name);
		/* Debris: not a volume, but no reason to keep it. */
		fs_rm_rf_at(vfd, name, &e2);
		err_free(&e2);
		return no_such(name, err);
	}
	/* The record is gone for good before any data goes: a crash from here
	 * on leaves debris, never a volume with half its data. */
	if ((r = fsync_dir(dfd, name, err)) < 0)
		return r;
	/*
	 * The volume no longer exists whatever happens next, so a failure to
	 * delete its data is not the caller's failure: a rootless volume's
	 * _data may hold files owned by sub-ids that the invoker cannot
	 * remove outside the user namespace (EACCES/EPERM). The directory is
	 * left as debris for volume_clean_debris, which the engine runs where
	 * it can remove it, and the user is told.
	 */
	if (fs_rm_rf_at(vfd, name, &e2) < 0) {
		fprintf(stderr,
			"moat: warning: volume %s removed, but not all of its data: %s (left in "
			"\"%s/volumes/%s\", removed later)\n",
			name, e2->msg, root, name);
		err_free(&e2);
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct volume *)a)->name, ((const struct volume *)b)->name);
}

int volume_list(const char *root, struct volume **out, size_t *n, struct err **err)
{
	_cleanup_close_ int vfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct volume *v = NULL;
	size_t cnt = 0;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	vfd = vols_open(root, false, err);
	if (vfd == -ENOENT)
		return 0;
	if (vfd < 0)
		return vfd;
	d = fdopendir(vfd);
	if (!d)
		return err_errno(err, errno, "list volumes");
	vfd = -1; /* the DIR owns it now */
	while ((de = readdir(d))) {
		struct err *e = NULL;
		struct volume one, *nv;
		int r;

		if (!volume_name_valid(de->d_name))
			continue; /* ".", "..", ".lock", strays */
		r = load_at(root, dirfd(d), de->d_name, &one, &e);
		if (r == -ENOENT) {
			err_free(&e);
			continue; /* debris */
		}
		if (r < 0) {
			fprintf(stderr, "moat: warning: ignoring a volume: %s\n",
				e ? e->msg : "error");
			err_free(&e);
			continue;
		}
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			volume_free(&one);
			volume_list_free(v, cnt);
			return err_errno(err, ENOMEM, "list volumes");
		}
		v = nv;
		v[cnt++] = one;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_name);
	*out = v;
	*n = cnt;
	return 0;
}

void volume_clean_debris(const char *root)
{
	_cleanup_close_ int vfd = -1, lock = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dup_fd;

	vfd = vols_open(root, false, NULL);
	if (vfd < 0)
		return;
	lock = lock_at(vfd, NULL);
	if (lock < 0)
		return;
	dup_fd = fcntl(vfd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	while ((de = readdir(d))) {
		_cleanup_close_ int dfd = -1;
		struct err *e = NULL;
		struct stat st;

		if (!volume_name_valid(de->d_name))
			continue;
		dfd = openat(vfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || fstatat(dfd, RECORD, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT)
			continue;
		/* Best effort: sub-id owned debris stays until the engine
		 * runs this where it can remove it. */
		fs_rm_rf_at(vfd, de->d_name, &e);
		err_free(&e);
	}
}

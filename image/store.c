/*
 * image/store.c - the local image store under the data root.
 *
 * Runs in: the CLI process, as root (IMAGE_IDS_SHIFT) or as the calling
 * user (SQUASH, USERNS); layer removal for USERNS runs in userns_run().
 *
 * Layout under ROOT (every directory 0700):
 *   store.lock                  flock: shared to read/resolve, exclusive to
 *                               change records or names
 *   names.json                  {"name:tag": "sha256:<config hex>"}
 *   blobs/sha256/<hex>          content-addressed; named only after its
 *                               content was hashed (temp, fsync, rename)
 *   images/<config hex>.json    one record per image (see internal.h)
 *   layers/<modekey>/<diff hex> an extracted layer for one id mode, where
 *                               modekey is "squash", "shift-<host base>" or
 *                               "userns-<host ids of the uid map>"; with a
 *                               <diff hex>.json of extraction counts
 *   tmp/txn-<random>/           a transaction's staging directory: staged
 *                               blobs ("s<N>") and extracted layer trees
 *                               ("l<N>"), flocked by its owner for its life
 *   tmp/ext-<random>/           likewise, for a layer extracted by resolve
 *
 * Invariants:
 *  - a name or a path under blobs/, images/ or layers/ exists only when
 *    complete: everything is built under a temporary name and renamed;
 *  - a record is written only after every blob it names is in place, and
 *    names.json only after the records: a crash leaves at worst garbage
 *    that nothing names;
 *  - ids and digests from records are checked (64 lowercase hex) before
 *    they become file names;
 *  - a staging directory is created and flocked under the shared store
 *    lock and swept only under the exclusive one, and only when its flock
 *    can be taken: what is swept belonged to a process that is gone (a
 *    kill -9 of a load or a pull), never to one still working.
 */
#include "image/image.h"

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
#include "common/json.h"
#include "common/userns.h"
#include "image/internal.h"
#include "image/reference.h"

struct image_store {
	char *root;
	int rootfd, blobsfd, imagesfd, layersfd, modefd, tmpfd;
	char modekey[160];
	char *modedir; /* absolute */
	struct image_idmode mode;
	struct image_admit admit; /* load and demo: may refuse, adds trust entries */
};

void image_store_set_admit(struct image_store *s, const struct image_admit *a)
{
	if (a)
		s->admit = *a;
	else
		memset(&s->admit, 0, sizeof(s->admit));
}

static int modekey(const struct image_idmode *m, char *out, size_t len, struct err **err)
{
	size_t o;

	switch (m->kind) {
	case IMAGE_IDS_SQUASH:
		snprintf(out, len, "squash");
		return 0;
	case IMAGE_IDS_SHIFT:
		snprintf(out, len, "shift-%u", m->n_uid ? m->uid[0].host : MOAT_ROOT_ID_BASE);
		return 0;
	case IMAGE_IDS_USERNS:
		if (!m->n_uid)
			return err_set(err, EINVAL,
				       "image store: user namespace mode without a map");
		o = (size_t)snprintf(out, len, "userns");
		for (size_t i = 0; i < m->n_uid && o < len; i++)
			o += (size_t)snprintf(out + o, len - o, "-%u", m->uid[i].host);
		return 0;
	default:
		return err_set(err, EINVAL, "image store: unknown id mode");
	}
}

static int subdir(int dirfd, const char *name, struct err **err)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return err_errno(err, errno, "image store: mkdir \"%s\"", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "image store: open \"%s\"", name);
	return fd;
}

void image_store_close(struct image_store *s)
{
	if (!s)
		return;
	int fds[] = {s->rootfd, s->blobsfd, s->imagesfd, s->layersfd, s->modefd, s->tmpfd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(s->root);
	free(s->modedir);
	free(s);
}

static void sweep(struct image_store *s, bool legacy);

static void store_closep(struct image_store **s)
{
	image_store_close(*s);
}

int image_store_open(const char *root, const struct image_idmode *mode, struct image_store **out,
		     struct err **err)
{
	__attribute__((cleanup(store_closep))) struct image_store *s = NULL;
	_cleanup_close_ int blobs = -1;

	*out = NULL;
	if (!root || root[0] != '/')
		return err_set(err, EINVAL, "image store: root must be an absolute path");
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_errno(err, ENOMEM, "image store");
	s->rootfd = s->blobsfd = s->imagesfd = s->layersfd = s->modefd = s->tmpfd = -1;
	s->mode = *mode;
	s->root = strdup(root);
	if (!s->root)
		return err_errno(err, ENOMEM, "image store");
	if (modekey(mode, s->modekey, sizeof(s->modekey), err) < 0)
		return err_ret(*err);
	if (fs_mkdir_p(root, 0700, err) < 0)
		return err_prefix(err, "image store");
	s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0)
		return err_errno(err, errno, "image store: open \"%s\"", root);
	if ((blobs = subdir(s->rootfd, "blobs", err)) < 0 ||
	    (s->blobsfd = subdir(blobs, "sha256", err)) < 0 ||
	    (s->imagesfd = subdir(s->rootfd, "images", err)) < 0 ||
	    (s->layersfd = subdir(s->rootfd, "layers", err)) < 0 ||
	    (s->modefd = subdir(s->layersfd, s->modekey, err)) < 0 ||
	    (s->tmpfd = subdir(s->rootfd, "tmp", err)) < 0)
		return err_ret(*err);
	if (asprintf(&s->modedir, "%s/layers/%s", root, s->modekey) < 0) {
		s->modedir = NULL;
		return err_errno(err, ENOMEM, "image store");
	}
	/* Cheap when ROOT/tmp is empty, as it nearly always is. */
	sweep(s, false);
	*out = steal_ptr(s);
	return 0;
}

int store_dirfd(const struct image_store *s, enum store_dir which)
{
	switch (which) {
	case STORE_DIR_ROOT:
		return s->rootfd;
	case STORE_DIR_BLOBS:
		return s->blobsfd;
	case STORE_DIR_IMAGES:
		return s->imagesfd;
	case STORE_DIR_LAYERS:
		return s->layersfd;
	default:
		return -EINVAL;
	}
}

int store_lock_take(struct image_store *s, int op, struct err **err)
{
	_cleanup_close_ int fd =
	    openat(s->rootfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return err_errno(err, errno, "image store: open lock");
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "image store: lock");
	return steal_fd(fd);
}

int store_hash_fd(int fd, char hex[64 + 1], uint64_t *size, struct err **err)
{
	struct digest_ctx *md = digest_ctx_new();
	char buf[65536];
	uint64_t total = 0;
	off_t off = 0;

	if (!md)
		return err_errno(err, ENOMEM, "hash");
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			digest_ctx_final(md, hex);
			return err_errno(err, e, "hash");
		}
		if (n == 0)
			break;
		digest_ctx_update(md, buf, (size_t)n);
		off += n;
		total += (uint64_t)n;
	}
	digest_ctx_final(md, hex);
	if (size)
		*size = total;
	return 0;
}

static int random_name(const char *prefix, char *out, size_t len, struct err **err)
{
	char id[SHA256_HEX_LEN + 1];

	if (digest_random_id(id, err) < 0)
		return err_ret(*err);
	snprintf(out, len, "%s%.16s", prefix, id);
	return 0;
}

struct rm_job {
	int dirfd;
	const char *name;
};

static int rm_in_userns(void *arg)
{
	struct rm_job *j = arg;
	struct err *e = NULL;
	int r = fs_rm_rf_at(j->dirfd, j->name, &e);

	err_free(&e);
	return r < 0 ? 1 : 0;
}

/* Removes a layer tree of mode DIRFD; USERNS trees need the namespace. */
static int remove_tree(struct image_store *s, int dirfd, const char *name, bool userns,
		       struct err **err)
{
	struct rm_job j = {dirfd, name};
	int r = fs_rm_rf_at(dirfd, name, err);

	if (r == 0 || !userns || s->mode.kind != IMAGE_IDS_USERNS)
		return r;
	err_free(err);
	r = userns_run(s->mode.userns, s->mode.uid, s->mode.n_uid, s->mode.gid, s->mode.n_gid,
		       rm_in_userns, &j, err);
	if (r > 0)
		r = err_set(err, EIO, "remove \"%s\" in the user namespace failed", name);
	return r;
}

/* ---- staging directories and the sweep ---- */

/*
 * A new private directory ROOT/tmp/<PREFIX><random>, returned as an fd
 * that holds an exclusive flock on it until it is closed (by the kernel,
 * if the process dies). It is made and locked under the shared store
 * lock, which sweep() holds exclusively: no sweep can see it unlocked.
 */
static int staging_create(struct image_store *s, const char *prefix, char name[64],
			  struct err **err)
{
	_cleanup_close_ int lock = -1, fd = -1;

	if (random_name(prefix, name, 64, err) < 0)
		return err_ret(*err);
	lock = store_lock_take(s, LOCK_SH, err);
	if (lock < 0)
		return lock;
	if (mkdirat(s->tmpfd, name, 0700) < 0)
		return err_errno(err, errno, "image store: mkdir tmp/%s", name);
	fd = openat(s->tmpfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		unlinkat(s->tmpfd, name, AT_REMOVEDIR);
		return err_errno(err, e, "image store: lock tmp/%s", name);
	}
	return steal_fd(fd);
}

static bool is_staging(const char *name)
{
	return !strncmp(name, "txn-", 4) || !strncmp(name, "ext-", 4);
}

/* A directory stream on a dup of DIRFD, from its start. */
static DIR *dir_stream(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	/* The dup shares its offset with DIRFD. */
	rewinddir(d);
	return d;
}

/* Removes the staging directories in ROOT/tmp whose flock can be taken:
 * their owner is gone. */
static void sweep_tmp(struct image_store *s)
{
	_cleanup_closedir_ DIR *d = dir_stream(s->tmpfd);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		struct err *e = NULL;

		if (!is_staging(de->d_name))
			continue;
		fd = openat(s->tmpfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue; /* alive (or not ours to judge) */
		/* Layer trees in it may need the user namespace to go. */
		remove_tree(s, s->tmpfd, de->d_name, true, &e);
		err_free(&e);
	}
}

/* Moats before the staging flock extracted layers in place, as
 * layers/<mode>/.tmp-*: nothing can own them while the exclusive store
 * lock is held (those moats extracted under the shared lock, or in a
 * transaction of a process now gone). */
static void sweep_legacy(struct image_store *s)
{
	_cleanup_closedir_ DIR *modes = dir_stream(s->layersfd);
	struct dirent *m;

	while (modes && (m = readdir(modes))) {
		_cleanup_closedir_ DIR *d = NULL;
		_cleanup_close_ int mfd = -1;
		struct dirent *de;

		if (m->d_name[0] == '.')
			continue;
		mfd =
		    openat(s->layersfd, m->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = mfd >= 0 ? dir_stream(mfd) : NULL;
		while (d && (de = readdir(d))) {
			struct err *e = NULL;

			if (strncmp(de->d_name, ".tmp-", 5))
				continue;
			remove_tree(s, mfd, de->d_name, !strcmp(m->d_name, s->modekey), &e);
			err_free(&e);
		}
	}
}

/*
 * What killed loads and pulls left behind (best effort). Skipped when
 * anyone holds the store lock: the next command will do it. LEGACY also
 * sweeps layers/ (a readdir per id mode), which only transactions pay.
 */
static void sweep(struct image_store *s, bool legacy)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int lock = -1;
	struct err *e = NULL;
	struct dirent *de;
	bool any = legacy;

	d = dir_stream(s->tmpfd);
	while (d && !any && (de = readdir(d)))
		any = is_staging(de->d_name);
	if (!any)
		return;
	lock = store_lock_take(s, LOCK_EX | LOCK_NB, &e);
	err_free(&e);
	if (lock < 0)
		return;
	sweep_tmp(s);
	if (legacy)
		sweep_legacy(s);
}

/* ---- layer trees ---- */

/* Extracts BLOB into the new tree NAME of DIRFD (a staging directory). */
static int extract_layer(struct image_store *s, int blob, const char *diff_id, int dirfd,
			 const char *name, char **info, uint64_t *size, struct err **err)
{
	_cleanup_close_ int dir = -1;
	struct image_layer_stats st;
	_cleanup_json_ json_t *j = NULL;
	int r;

	*info = NULL;
	dir = subdir(dirfd, name, err);
	if (dir < 0)
		return dir;
	r = image_layer_extract(blob, dir, &s->mode, diff_id, NULL, &st, err);
	if (r == 0 && syncfs(dir) < 0)
		r = err_errno(err, errno, "sync");
	if (r == 0) {
		j = json_pack("{s:I, s:I, s:I, s:I, s:I}", "entries", (json_int_t)st.entries,
			      "size", (json_int_t)st.tar_bytes, "squashed", (json_int_t)st.squashed,
			      "devices_skipped", (json_int_t)st.devices_skipped, "xattrs_skipped",
			      (json_int_t)st.xattrs_skipped);
		*info = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
		if (!*info)
			r = err_errno(err, ENOMEM, "layer");
	}
	if (r < 0) {
		struct err *ignored = NULL;
		remove_tree(s, dirfd, name, true, &ignored);
		err_free(&ignored);
		return r;
	}
	if (size)
		*size = st.tar_bytes;
	return 0;
}

/*
 * Renames the tree TMP of DIRFD to layers/<mode>/HEX, its counts first.
 * Returns 1 when another process published the same layer first (TMP is
 * then removed).
 */
static int publish_layer(struct image_store *s, int dirfd, const char *tmp, const char *hex,
			 const char *info, struct err **err)
{
	char name[80];
	int r = 0;

	snprintf(name, sizeof(name), "%s.json", hex);
	if (fs_write_atomic(s->modefd, name, info, strlen(info), 0600, err) < 0)
		r = err_ret(*err);
	if (r == 0 && renameat(dirfd, tmp, s->modefd, hex) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = err_errno(err, errno, "layer %s: rename", hex);
		else
			r = 1;
	}
	if (r != 0) {
		struct err *ignored = NULL;
		remove_tree(s, dirfd, tmp, true, &ignored);
		err_free(&ignored);
	}
	return r;
}

int store_repo_digest_add(struct image_store *s, const char *id, const char *rd, struct err **err)
{
	_cleanup_close_ int lock = store_lock_take(s, LOCK_EX, err);
	char *const rds[] = {(char *)rd, NULL};
	struct store_rewrites rw = {0};
	int r;

	if (lock < 0)
		return lock;
	r = store_repo_digests_claim(s->imagesfd, id, rds, &rw, err);
	if (r < 0)
		store_rewrites_undo(s->imagesfd, &rw);
	store_rewrites_clear(&rw);
	return r;
}

/* ---- transactions ---- */

struct txn_image {
	struct store_record rec;
	char **names;
};

struct txn_layer {
	char tmp[32]; /* its tree in the staging directory ("l<N>") */
	char hex[65]; /* DiffID hex: its final name */
	char *info;   /* extraction counts, written beside it */
	bool published;
};

struct store_txn {
	struct image_store *s;
	char dirname[64]; /* tmp/txn-<random> */
	int dirfd;	  /* holds the staging flock */
	unsigned seq;
	struct image_kv *blobs; /* key: staged name, value: hex */
	size_t n_blobs;
	struct txn_image *images;
	size_t n_images;
	struct txn_layer *layers;
	size_t n_layers;
	bool committed;
};

int store_txn_dirfd(const struct store_txn *t)
{
	return t->dirfd;
}

void store_txn_tmpname(struct store_txn *t, char name[32])
{
	snprintf(name, 32, "s%u", t->seq++);
}

int store_txn_begin(struct image_store *s, struct store_txn **out, struct err **err)
{
	struct store_txn *t;

	*out = NULL;
	sweep(s, true);
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_errno(err, ENOMEM, "image store");
	t->s = s;
	t->dirfd = staging_create(s, "txn-", t->dirname, err);
	if (t->dirfd < 0) {
		free(t);
		return err_ret(*err);
	}
	*out = t;
	return 0;
}

void store_txn_free(struct store_txn *t)
{
	struct err *ignored = NULL;

	if (!t)
		return;
	/* Staged files and unpublished layer trees go with the directory,
	 * whose lock is held until it is gone. */
	remove_tree(t->s, t->s->tmpfd, t->dirname, true, &ignored);
	err_free(&ignored);
	if (t->dirfd >= 0)
		close(t->dirfd);
	for (size_t i = 0; i < t->n_layers; i++)
		free(t->layers[i].info);
	free(t->layers);
	for (size_t i = 0; i < t->n_blobs; i++) {
		free(t->blobs[i].key);
		free(t->blobs[i].value);
	}
	free(t->blobs);
	for (size_t i = 0; i < t->n_images; i++) {
		store_record_clear(&t->images[i].rec);
		strvfree(t->images[i].names);
	}
	free(t->images);
	free(t);
}

int store_txn_add_blob(struct store_txn *t, const char *name, const char *hex, struct err **err)
{
	struct image_kv *nb;

	if (!digest_hex_valid(hex))
		return err_set(err, EINVAL, "blob: bad digest");
	for (size_t i = 0; i < t->n_blobs; i++)
		if (!strcmp(t->blobs[i].value, hex))
			return 0;
	nb = realloc(t->blobs, (t->n_blobs + 1) * sizeof(*nb));
	if (!nb)
		return err_errno(err, ENOMEM, "blob");
	t->blobs = nb;
	nb[t->n_blobs].key = strdup(name);
	nb[t->n_blobs].value = strdup(hex);
	t->n_blobs++;
	if (!nb[t->n_blobs - 1].key || !nb[t->n_blobs - 1].value)
		return err_errno(err, ENOMEM, "blob");
	return 0;
}

int store_txn_add_bytes(struct store_txn *t, const void *buf, size_t len, char hex[64 + 1],
			struct err **err)
{
	char name[32];
	_cleanup_close_ int fd = -1;
	int r;

	store_txn_tmpname(t, name);
	fd = openat(t->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_errno(err, errno, "stage blob");
	r = fs_write_all(fd, buf, len);
	if (r < 0)
		return err_errno(err, -r, "stage blob");
	digest_sha256_hex(buf, len, hex);
	return store_txn_add_blob(t, name, hex, err);
}

int store_txn_add_layer(struct store_txn *t, const char *name, const char *diff_id, uint64_t *size,
			struct err **err)
{
	_cleanup_close_ int fd = openat(t->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct txn_layer *nl, *l;
	char got[7 + 64 + 1];
	struct stat sb;

	if (fd < 0)
		return err_errno(err, errno, "layer %s", diff_id);
	if (!digest_valid(diff_id))
		return err_set(err, EINVAL, "layer: bad DiffID");
	for (size_t i = 0; i < t->n_layers; i++) {
		if (!strcmp(t->layers[i].hex, diff_id + 7)) {
			if (image_layer_digest(fd, NULL, got, size, err) < 0)
				return err_ret(*err);
			goto check;
		}
	}
	if (fstatat(t->s->modefd, diff_id + 7, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Extracted before, from a blob with this DiffID. */
		if (image_layer_digest(fd, NULL, got, size, err) < 0)
			return err_ret(*err);
		goto check;
	}
	nl = realloc(t->layers, (t->n_layers + 1) * sizeof(*nl));
	if (!nl)
		return err_errno(err, ENOMEM, "layer");
	t->layers = nl;
	l = &nl[t->n_layers];
	memset(l, 0, sizeof(*l));
	snprintf(l->tmp, sizeof(l->tmp), "l%u", t->seq++);
	if (extract_layer(t->s, fd, diff_id, t->dirfd, l->tmp, &l->info, size, err) < 0)
		return err_ret(*err);
	snprintf(l->hex, sizeof(l->hex), "%s", diff_id + 7);
	t->n_layers++;
	return 0;
check:
	if (strcmp(got, diff_id))
		return err_set(err, EINVAL, "layer: DiffID mismatch: expected %s, content is %s",
			       diff_id, got);
	return 0;
}

int store_txn_add_image(struct store_txn *t, const struct store_record *rec, char **names,
			struct err **err)
{
	struct txn_image *ni, *img;
	size_t n = 0;

	ni = realloc(t->images, (t->n_images + 1) * sizeof(*ni));
	if (!ni)
		return err_errno(err, ENOMEM, "image");
	t->images = ni;
	img = &ni[t->n_images];
	memset(img, 0, sizeof(*img));
	t->n_images++;
	if (store_record_copy(&img->rec, rec, err) < 0)
		return err_ret(*err);
	if (t->s->admit.fn && t->s->admit.fn(t->s->admit.arg, rec->id, rec->manifest, names,
					     &img->rec.trust, &img->rec.n_trust, err) < 0)
		return err_ret(*err);
	while (names && names[n])
		n++;
	img->names = calloc(n + 1, sizeof(char *));
	if (!img->names)
		return err_errno(err, ENOMEM, "image");
	for (size_t i = 0; i < n; i++)
		if (!(img->names[i] = strdup(names[i])))
			return err_errno(err, ENOMEM, "image");
	return 0;
}

static bool exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Every blob REC names but the manifest (which an image may lack) is in
 * blobs/. */
static bool blobs_present(struct image_store *s, const struct store_record *rec)
{
	if (!exists_at(s->blobsfd, rec->id + 7))
		return false;
	for (size_t i = 0; i < rec->n_layers; i++)
		if (!exists_at(s->blobsfd, rec->layers[i].digest + 7))
			return false;
	return true;
}

int store_txn_commit(struct store_txn *t, struct err **err)
{
	struct image_store *s = t->s;
	_cleanup_close_ int lock = -1;
	_cleanup_free_ bool *added_blob = calloc(t->n_blobs + 1, sizeof(bool));
	_cleanup_free_ bool *added_img = calloc(t->n_images + 1, sizeof(bool));
	struct store_names nm = {0};
	struct store_rewrites rw = {0};
	char name[80];
	int r = 0;

	if (!added_blob || !added_img)
		return err_errno(err, ENOMEM, "commit");
	/* Staged data reaches the disk before any name points at it. */
	for (size_t i = 0; i < t->n_blobs; i++) {
		_cleanup_close_ int fd =
		    openat(t->dirfd, t->blobs[i].key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || fsync(fd) < 0)
			return err_errno(err, errno, "commit: sync staged blob");
	}
	lock = store_lock_take(s, LOCK_EX, err);
	if (lock < 0)
		return lock;
	for (size_t i = 0; i < t->n_blobs; i++) {
		if (exists_at(s->blobsfd, t->blobs[i].value))
			continue;
		if (renameat(t->dirfd, t->blobs[i].key, s->blobsfd, t->blobs[i].value) < 0) {
			r = err_errno(err, errno, "commit: blob sha256:%s", t->blobs[i].value);
			goto rollback;
		}
		added_blob[i] = true;
	}
	if (fsync(s->blobsfd) < 0) {
		r = err_errno(err, errno, "commit: sync blobs");
		goto rollback;
	}
	for (size_t i = 0; i < t->n_layers; i++) {
		r = publish_layer(s, t->dirfd, t->layers[i].tmp, t->layers[i].hex,
				  t->layers[i].info, err);
		if (r < 0)
			goto rollback;
		/* Published, or someone else's copy won: ours is gone. */
		t->layers[i].published = r == 0;
		t->layers[i].tmp[0] = 0;
		r = 0;
	}
	for (size_t i = 0; i < t->n_images; i++) {
		_cleanup_free_ char *txt = NULL;
		const char *hex = t->images[i].rec.id + 7;

		snprintf(name, sizeof(name), "%s.json", hex);
		/* An image already here keeps its record; only repo digests
		 * are added to it, below. */
		if (exists_at(s->imagesfd, name))
			continue;
		/* One that was there when the caller looked (a pull found it
		 * up to date) and was removed since is not brought back
		 * without its content. */
		if (!blobs_present(s, &t->images[i].rec)) {
			r = err_set(err, ENOENT, "commit: image %s: its blobs are gone",
				    t->images[i].rec.id);
			goto rollback;
		}
		if (store_record_encode(&t->images[i].rec, &txt, err) < 0 ||
		    fs_write_atomic(s->imagesfd, name, txt, strlen(txt), 0600, err) < 0) {
			r = err_prefix(err, "commit");
			goto rollback;
		}
		added_img[i] = true;
	}
	for (size_t i = 0; i < t->n_images; i++) {
		r = store_repo_digests_claim(s->imagesfd, t->images[i].rec.id,
					     t->images[i].rec.repo_digests, &rw, err);
		/* An image already here gains this admission's trust entries. */
		if (r == 0 && !added_img[i])
			r = store_trust_claim(s->imagesfd, t->images[i].rec.id,
					      t->images[i].rec.trust, t->images[i].rec.n_trust, &rw,
					      err);
		if (r < 0) {
			err_prefix(err, "commit");
			goto rollback;
		}
	}
	if (store_names_load(s->rootfd, &nm, err) < 0) {
		r = err_ret(*err);
		goto rollback;
	}
	for (size_t i = 0; i < t->n_images; i++)
		for (char **n = t->images[i].names; n && *n; n++)
			if ((r = store_names_set_familiar(&nm, *n, t->images[i].rec.id, err)) < 0)
				goto rollback;
	r = store_names_save(s->rootfd, &nm, err);
	if (r < 0)
		goto rollback;
	store_names_clear(&nm);
	store_rewrites_clear(&rw);
	t->committed = true;
	return 0;
rollback:
	store_names_clear(&nm);
	store_rewrites_undo(s->imagesfd, &rw);
	store_rewrites_clear(&rw);
	for (size_t i = 0; i < t->n_images; i++) {
		if (added_img[i]) {
			snprintf(name, sizeof(name), "%s.json", t->images[i].rec.id + 7);
			unlinkat(s->imagesfd, name, 0);
		}
	}
	for (size_t i = 0; i < t->n_blobs; i++)
		if (added_blob[i])
			unlinkat(s->blobsfd, t->blobs[i].value, 0);
	for (size_t i = 0; i < t->n_layers; i++) {
		struct err *ignored = NULL;
		if (!t->layers[i].published)
			continue;
		snprintf(name, sizeof(name), "%s.json", t->layers[i].hex);
		remove_tree(s, s->modefd, t->layers[i].hex, true, &ignored);
		unlinkat(s->modefd, name, 0);
		err_free(&ignored);
		t->layers[i].published = false;
	}
	return r;
}

/* ---- lookup and listing ---- */

int image_store_lookup(struct image_store *s, const char *ref, char **id, struct err **err)
{
	_cleanup_close_ int lock = store_lock_take(s, LOCK_SH, err);
	struct store_names nm;
	int r;

	if (lock < 0)
		return lock;
	if (store_names_load(s->rootfd, &nm, err) < 0)
		return err_ret(*err);
	r = store_lookup(s->imagesfd, &nm, ref, id, NULL, err);
	store_names_clear(&nm);
	return r;
}

static int names_of(const struct store_names *nm, const char *id, char ***out, struct err **err)
{
	size_t n = 0;

	*out = calloc(nm->n + 1, sizeof(char *));
	if (!*out)
		return err_errno(err, ENOMEM, "names");
	for (size_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->kv[i].value, id))
			if (!((*out)[n++] = strdup(nm->kv[i].key)))
				return err_errno(err, ENOMEM, "names");
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp((*out)[j - 1], (*out)[j]) > 0; j--) {
			char *tmp = (*out)[j];
			(*out)[j] = (*out)[j - 1];
			(*out)[j - 1] = tmp;
		}
	return 0;
}

/* A copy of the NULL-terminated V (an empty one for NULL). */
static int strv_copy(char *const *v, char ***out, struct err **err)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	*out = calloc(n + 1, sizeof(char *));
	if (!*out)
		return err_errno(err, ENOMEM, "image");
	for (size_t i = 0; i < n; i++)
		if (!((*out)[i] = strdup(v[i])))
			return err_errno(err, ENOMEM, "image");
	return 0;
}

void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->id);
	strvfree(img->names);
	strvfree(img->repo_digests);
	image_trust_free(img->trust, img->n_trust);
	image_config_free(img->config);
	for (size_t i = 0; i < img->n_layers; i++)
		free(img->layer_dirs[i]);
	free(img->layer_dirs);
	free(img);
}

static void image_freep(struct image **i)
{
	image_free(*i);
}

int image_store_list(struct image_store *s, struct image ***out, size_t *n, struct err **err)
{
	_cleanup_close_ int lock = store_lock_take(s, LOCK_SH, err);
	_cleanup_strv_ char **ids = NULL;
	struct image **v = NULL;
	struct store_names nm;
	size_t cnt = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (lock < 0)
		return lock;
	if (store_names_load(s->rootfd, &nm, err) < 0)
		return err_ret(*err);
	if (store_record_ids(s->imagesfd, &ids, &cnt, err) < 0) {
		store_names_clear(&nm);
		return err_ret(*err);
	}
	v = calloc(cnt + 1, sizeof(*v));
	if (!v) {
		store_names_clear(&nm);
		return err_errno(err, ENOMEM, "list");
	}
	for (size_t i = 0; i < cnt; i++) {
		struct store_record rec;
		struct image *img;

		if (store_record_load(s->imagesfd, ids[i], &rec, err) < 0) {
			r = err_ret(*err);
			break;
		}
		img = v[*n] = calloc(1, sizeof(*img));
		if (img) {
			(*n)++;
			img->id = strdup(rec.id);
			img->created = rec.created;
			img->size = rec.size;
		}
		if (!img || !img->id || names_of(&nm, img->id, &img->names, err) < 0 ||
		    strv_copy(rec.repo_digests, &img->repo_digests, err) < 0 ||
		    image_trust_copy(rec.trust, rec.n_trust, &img->trust, err) < 0)
			r = err_errno(err, ENOMEM, "list");
		else
			img->n_trust = rec.n_trust;
		store_record_clear(&rec);
		if (r < 0)
			break;
	}
	store_names_clear(&nm);
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			image_free(v[i]);
		free(v);
		*n = 0;
		return r;
	}
	/* Newest first, then by id for a stable order. */
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && (v[j - 1]->created < v[j]->created ||
					     (v[j - 1]->created == v[j]->created &&
					      strcmp(v[j - 1]->id, v[j]->id) > 0));
		     j--) {
			struct image *tmp = v[j];
			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	*out = v;
	return 0;
}

/* ---- layers ---- */

static int read_info(struct image_store *s, const char *hex, struct image *img)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ json_t *root = NULL;
	struct err *e = NULL;
	char name[80];
	json_t *v;
	size_t len;

	snprintf(name, sizeof(name), "%s.json", hex);
	if (fs_read_at(s->modefd, name, 4096, &buf, &len, &e) < 0) {
		err_free(&e);
		return 0;
	}
	root = json_loadb(buf, len, 0, NULL);
	if (!root)
		return 0;
	v = json_object_get(root, "squashed");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		img->ids_squashed += (uint64_t)json_integer_value(v);
	v = json_object_get(root, "devices_skipped");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		img->devices_skipped += (uint64_t)json_integer_value(v);
	return 0;
}

/* Makes layers/<modekey>/<diff hex> exist, extracting it if needed (in a
 * staging directory of its own, so a kill leaves only what the sweep
 * removes). Called under the shared lock. */
static int ensure_layer(struct image_store *s, const struct store_layer *l, struct err **err)
{
	_cleanup_close_ int blob = -1, stage = -1;
	_cleanup_free_ char *info = NULL;
	struct err *ignored = NULL;
	char dir[64];
	struct stat sb;
	int r;

	if (fstatat(s->modefd, l->diff_id + 7, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode))
		return 0;
	blob = openat(s->blobsfd, l->digest + 7, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (blob < 0)
		return err_errno(err, errno, "layer %s: blob %s", l->diff_id, l->digest);
	stage = staging_create(s, "ext-", dir, err);
	if (stage < 0)
		return err_prefix(err, "layer %s", l->diff_id);
	r = extract_layer(s, blob, l->diff_id, stage, "l", &info, NULL, err);
	if (r == 0)
		r = publish_layer(s, stage, "l", l->diff_id + 7, info, err);
	remove_tree(s, s->tmpfd, dir, true, &ignored);
	err_free(&ignored);
	if (r < 0)
		return err_prefix(err, "layer %s", l->diff_id);
	return 0;
}

static int load_config(struct image_store *s, const struct store_record *rec,
		       struct image_config **out, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	char hex[SHA256_HEX_LEN + 1];
	size_t len;

	if (fs_read_at(s->blobsfd, rec->id + 7, IMAGE_JSON_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "image %s: config", rec->id);
	digest_sha256_hex(buf, len, hex);
	if (strcmp(hex, rec->id + 7))
		return err_set(err, EIO, "image %s: config blob is corrupt", rec->id);
	if (image_config_decode(buf, len, out, err) < 0)
		return err_prefix(err, "image %s", rec->id);
	if ((*out)->n_diff_ids != rec->n_layers)
		return err_set(err, EIO, "image %s: config and record disagree", rec->id);
	for (size_t i = 0; i < rec->n_layers; i++)
		if (strcmp((*out)->diff_ids[i], rec->layers[i].diff_id))
			return err_set(err, EIO, "image %s: config and record disagree", rec->id);
	return 0;
}

int image_store_resolve(struct image_store *s, const char *ref, struct image **out,
			struct err **err)
{
	__attribute__((cleanup(image_freep))) struct image *img = NULL;
	_cleanup_close_ int lock = store_lock_take(s, LOCK_SH, err);
	_cleanup_free_ char *id = NULL;
	struct store_record rec = {0};
	struct store_names nm;
	int r;

	*out = NULL;
	if (lock < 0)
		return lock;
	if (store_names_load(s->rootfd, &nm, err) < 0)
		return err_ret(*err);
	r = store_lookup(s->imagesfd, &nm, ref, &id, NULL, err);
	if (r == 0) {
		img = calloc(1, sizeof(*img));
		if (!img)
			r = err_errno(err, ENOMEM, "resolve");
	}
	if (r == 0 && (img->id = strdup(id)) == NULL)
		r = err_errno(err, ENOMEM, "resolve");
	if (r == 0)
		r = names_of(&nm, id, &img->names, err);
	store_names_clear(&nm);
	if (r < 0)
		return r;
	if (store_record_load(s->imagesfd, id + 7, &rec, err) < 0)
		return err_ret(*err);
	img->created = rec.created;
	img->size = rec.size;
	r = strv_copy(rec.repo_digests, &img->repo_digests, err);
	if (r == 0 && (r = image_trust_copy(rec.trust, rec.n_trust, &img->trust, err)) == 0)
		img->n_trust = rec.n_trust;
	if (r == 0)
		r = load_config(s, &rec, &img->config, err);
	if (r == 0) {
		img->layer_dirs = calloc(rec.n_layers + 1, sizeof(char *));
		if (!img->layer_dirs)
			r = err_errno(err, ENOMEM, "resolve");
	}
	for (size_t i = 0; r == 0 && i < rec.n_layers; i++) {
		r = ensure_layer(s, &rec.layers[i], err);
		if (r == 0 && asprintf(&img->layer_dirs[i], "%s/%s", s->modedir,
				       rec.layers[i].diff_id + 7) < 0)
			r = err_errno(err, ENOMEM, "resolve");
		if (r == 0) {
			img->n_layers++;
			read_info(s, rec.layers[i].diff_id + 7, img);
		}
	}
	store_record_clear(&rec);
	if (r < 0)
		return r;
	*out = steal_ptr(img);
	return 0;
}

/* ---- removal ---- */

static bool referenced(struct store_record *recs, size_t n, const char *digest, bool diff)
{
	for (size_t i = 0; i < n; i++) {
		if (!diff && (!strcmp(recs[i].id, digest) || !strcmp(recs[i].manifest, digest)))
			return true;
		for (size_t k = 0; k < recs[i].n_layers; k++)
			if (!strcmp(diff ? recs[i].layers[k].diff_id : recs[i].layers[k].digest,
				    digest))
				return true;
	}
	return false;
}

/* Deletes GONE's record, then its blobs and layer trees nothing else
 * uses. Called under the exclusive lock. */
static int delete_image(struct image_store *s, const char *id, struct err **err)
{
	_cleanup_strv_ char **ids = NULL;
	struct store_record gone, *recs = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t n = 0, nr = 0;
	char name[80];
	int r;

	if (store_record_load(s->imagesfd, id + 7, &gone, err) < 0)
		return err_ret(*err);
	snprintf(name, sizeof(name), "%s.json", id + 7);
	if (unlinkat(s->imagesfd, name, 0) < 0) {
		store_record_clear(&gone);
		return err_errno(err, errno, "delete %s", id);
	}
	r = store_record_ids(s->imagesfd, &ids, &n, err);
	if (r == 0) {
		recs = calloc(n + 1, sizeof(*recs));
		if (!recs)
			r = err_errno(err, ENOMEM, "delete");
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct err *e = NULL;
		/* An unreadable record keeps its blobs: skip GC of all. */
		if (store_record_load(s->imagesfd, ids[i], &recs[nr], &e) < 0) {
			err_free(&e);
			r = 1;
			break;
		}
		nr++;
	}
	if (r == 0) {
		const char *blobs[] = {gone.id, gone.manifest};
		for (size_t i = 0; i < ARRAY_SIZE(blobs); i++)
			if (!referenced(recs, nr, blobs[i], false))
				unlinkat(s->blobsfd, blobs[i] + 7, 0);
		for (size_t i = 0; i < gone.n_layers; i++) {
			const struct store_layer *l = &gone.layers[i];
			struct dirent *de;
			int fd;

			if (!referenced(recs, nr, l->digest, false))
				unlinkat(s->blobsfd, l->digest + 7, 0);
			if (referenced(recs, nr, l->diff_id, true))
				continue;
			/* Every id mode's tree of this layer, best effort: a
			 * tree of another identity may not be ours to remove. */
			fd = fcntl(s->layersfd, F_DUPFD_CLOEXEC, 3);
			if (d)
				closedir(d);
			d = fd >= 0 ? fdopendir(fd) : NULL;
			if (!d) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			/* The dup shares its offset with layersfd. */
			rewinddir(d);
			while ((de = readdir(d))) {
				_cleanup_close_ int mfd = -1;
				struct err *e = NULL;
				char info[80];

				if (de->d_name[0] == '.')
					continue;
				mfd = openat(s->layersfd, de->d_name,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (mfd < 0)
					continue;
				snprintf(info, sizeof(info), "%s.json", l->diff_id + 7);
				if (remove_tree(s, mfd, l->diff_id + 7,
						!strcmp(de->d_name, s->modekey), &e) == 0)
					unlinkat(mfd, info, 0);
				err_free(&e);
			}
		}
	}
	for (size_t i = 0; i < nr; i++)
		store_record_clear(&recs[i]);
	free(recs);
	store_record_clear(&gone);
	return r < 0 ? r : 0;
}

static int strv_push(char ***v, const char *s, struct err **err)
{
	size_t n = 0;
	char **nv;

	if (!v)
		return 0;
	while (*v && (*v)[n])
		n++;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv)
		return err_errno(err, ENOMEM, "remove");
	*v = nv;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : err_errno(err, ENOMEM, "remove");
}

int image_store_remove_report(struct image_store *s, const char *ref, bool force, char ***untagged,
			      char ***deleted, struct err **err)
{
	_cleanup_close_ int lock = store_lock_take(s, LOCK_EX, err);
	_cleanup_free_ char *id = NULL, *matched = NULL;
	struct store_record rec = {0};
	struct store_names nm;
	bool have_rec = false, changed = false;
	size_t left = 0;
	int r;

	if (untagged)
		*untagged = NULL;
	if (deleted)
		*deleted = NULL;
	if (lock < 0)
		return lock;
	if (store_names_load(s->rootfd, &nm, err) < 0)
		return err_ret(*err);
	r = store_lookup(s->imagesfd, &nm, ref, &id, &matched, err);
	if (r < 0)
		goto out;
	{
		/* Unreadable, it has no repo digests to untag; delete_image
		 * says what is wrong with it. */
		struct err *e = NULL;
		have_rec = store_record_load(s->imagesfd, id + 7, &rec, &e) == 0;
		err_free(&e);
	}
	for (size_t i = 0; i < nm.n; i++)
		left += !strcmp(nm.kv[i].value, id);
	if (!matched && left > 1 && !force) {
		r = err_set(err, EBUSY,
			    "conflict: unable to delete %.12s (must be forced) - image is "
			    "referenced in multiple repositories",
			    id + 7);
		goto out;
	}
	/* By name: that name goes. By id: every name goes. By repo digest:
	 * no name. */
	for (size_t i = 0; i < nm.n && !(matched && strchr(matched, '@'));) {
		if (strcmp(nm.kv[i].value, id) || (matched && strcmp(nm.kv[i].key, matched))) {
			i++;
			continue;
		}
		if ((r = strv_push(untagged, nm.kv[i].key, err)) < 0)
			goto out;
		store_names_del(&nm, i);
		left--;
	}
	r = store_untag_repo_digests(&rec, &nm, id, matched, untagged, &changed, err);
	if (r < 0)
		goto out;
	if (left > 0 || (rec.repo_digests && rec.repo_digests[0])) {
		/* The image stays: its record first, then its names. */
		if (have_rec && changed)
			r = store_record_rewrite(s->imagesfd, &rec, NULL, err);
		if (r == 0)
			r = store_names_save(s->rootfd, &nm, err);
		goto out;
	}
	r = store_names_save(s->rootfd, &nm, err);
	if (r == 0)
		r = delete_image(s, id, err);
	if (r == 0)
		r = strv_push(deleted, id, err);
out:
	store_record_clear(&rec);
	store_names_clear(&nm);
	return r;
}

int image_store_remove(struct image_store *s, const char *ref, bool force, struct err **err)
{
	return image_store_remove_report(s, ref, force, NULL, NULL, err);
}

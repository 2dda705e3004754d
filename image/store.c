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
 *   tmp/                        staging for loads and extractions
 *
 * Invariants:
 *  - a name or a path under blobs/, images/ or layers/ exists only when
 *    complete: everything is built under a temporary name and renamed;
 *  - a record is written only after every blob it names is in place, and
 *    names.json only after the records: a crash leaves at worst garbage
 *    that nothing names;
 *  - ids and digests from records are checked (64 lowercase hex) before
 *    they become file names.
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

struct image_store {
	char *root;
	int rootfd, blobsfd, imagesfd, layersfd, modefd, tmpfd;
	char modekey[160];
	char *modedir; /* absolute */
	struct image_idmode mode;
};

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
	*out = steal_ptr(s);
	return 0;
}

static int store_lock(struct image_store *s, int op, struct err **err)
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

/* Extracts BLOB into a new temporary tree of the mode dir, named in TMP. */
static int extract_layer(struct image_store *s, int blob, const char *diff_id, char tmp[64],
			 char **info, uint64_t *size, struct err **err)
{
	_cleanup_close_ int dir = -1;
	struct image_layer_stats st;
	_cleanup_json_ json_t *j = NULL;
	int r;

	*info = NULL;
	if (random_name(".tmp-", tmp, 64, err) < 0)
		return err_ret(*err);
	dir = subdir(s->modefd, tmp, err);
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
		remove_tree(s, s->modefd, tmp, true, &ignored);
		err_free(&ignored);
		return r;
	}
	if (size)
		*size = st.tar_bytes;
	return 0;
}

/*
 * Renames the tree TMP to HEX, its counts first. Returns 1 when another
 * process published the same layer first (TMP is then removed).
 */
static int publish_layer(struct image_store *s, const char *tmp, const char *hex, const char *info,
			 struct err **err)
{
	char name[80];
	int r = 0;

	snprintf(name, sizeof(name), "%s.json", hex);
	if (fs_write_atomic(s->modefd, name, info, strlen(info), 0600, err) < 0)
		r = err_ret(*err);
	if (r == 0 && renameat(s->modefd, tmp, s->modefd, hex) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = err_errno(err, errno, "layer %s: rename", hex);
		else
			r = 1;
	}
	if (r != 0) {
		struct err *ignored = NULL;
		remove_tree(s, s->modefd, tmp, true, &ignored);
		err_free(&ignored);
	}
	return r;
}

/* ---- transactions ---- */

struct txn_image {
	struct store_record rec;
	char **names;
};

struct txn_layer {
	char tmp[64]; /* temporary tree in layers/<modekey>/ */
	char hex[65]; /* DiffID hex: its final name */
	char *info;   /* extraction counts, written beside it */
	bool published;
};

struct store_txn {
	struct image_store *s;
	char dirname[64];
	int dirfd;
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
	struct store_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return err_errno(err, ENOMEM, "image store");
	t->s = s;
	t->dirfd = -1;
	if (random_name("txn-", t->dirname, sizeof(t->dirname), err) < 0) {
		free(t);
		return err_ret(*err);
	}
	t->dirfd = subdir(s->tmpfd, t->dirname, err);
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
	if (t->dirfd >= 0)
		close(t->dirfd);
	fs_rm_rf_at(t->s->tmpfd, t->dirname, &ignored);
	err_free(&ignored);
	for (size_t i = 0; i < t->n_layers; i++) {
		if (!t->layers[i].published && t->layers[i].tmp[0])
			remove_tree(t->s, t->s->modefd, t->layers[i].tmp, true, &ignored);
		err_free(&ignored);
		free(t->layers[i].info);
	}
	free(t->layers);
	err_free(&ignored);
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
	if (extract_layer(t->s, fd, diff_id, l->tmp, &l->info, size, err) < 0)
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

static int copy_record(struct store_record *dst, const struct store_record *src, struct err **err)
{
	*dst = *src;
	dst->layers = calloc(src->n_layers + 1, sizeof(*dst->layers));
	if (!dst->layers)
		return err_errno(err, ENOMEM, "record");
	for (size_t i = 0; i < src->n_layers; i++) {
		struct store_layer *d = &dst->layers[i];
		const struct store_layer *l = &src->layers[i];
		d->digest = strdup(l->digest);
		d->media_type = strdup(l->media_type);
		d->diff_id = strdup(l->diff_id);
		d->size = l->size;
		if (!d->digest || !d->media_type || !d->diff_id) {
			dst->n_layers = i + 1;
			return err_errno(err, ENOMEM, "record");
		}
	}
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
	if (copy_record(&img->rec, rec, err) < 0)
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

int store_txn_commit(struct store_txn *t, struct err **err)
{
	struct image_store *s = t->s;
	_cleanup_close_ int lock = -1;
	_cleanup_free_ bool *added_blob = calloc(t->n_blobs + 1, sizeof(bool));
	_cleanup_free_ bool *added_img = calloc(t->n_images + 1, sizeof(bool));
	struct store_names nm = {0};
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
	lock = store_lock(s, LOCK_EX, err);
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
		r = publish_layer(s, t->layers[i].tmp, t->layers[i].hex, t->layers[i].info, err);
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
		if (exists_at(s->imagesfd, name))
			continue;
		if (store_record_encode(&t->images[i].rec, &txt, err) < 0 ||
		    fs_write_atomic(s->imagesfd, name, txt, strlen(txt), 0600, err) < 0) {
			r = err_prefix(err, "commit");
			goto rollback;
		}
		added_img[i] = true;
	}
	if (store_names_load(s->rootfd, &nm, err) < 0) {
		r = err_ret(*err);
		goto rollback;
	}
	for (size_t i = 0; i < t->n_images; i++)
		for (char **n = t->images[i].names; n && *n; n++)
			if ((r = store_names_set(&nm, *n, t->images[i].rec.id, err)) < 0)
				goto rollback;
	r = store_names_save(s->rootfd, &nm, err);
	if (r < 0)
		goto rollback;
	store_names_clear(&nm);
	t->committed = true;
	return 0;
rollback:
	store_names_clear(&nm);
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

/* ---- lookup ---- */

static bool is_hex_prefix(const char *r)
{
	size_t n = strlen(r);

	if (n < 4 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((r[i] >= '0' && r[i] <= '9') || (r[i] >= 'a' && r[i] <= 'f')))
			return false;
	return true;
}

/* The ids of all records (hex), from images/. */
static int list_ids(struct image_store *s, char ***out, size_t *n, struct err **err)
{
	_cleanup_strv_ char **v = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	int fd = fcntl(s->imagesfd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "image store: list");
	}
	rewinddir(d);
	v = calloc(1, sizeof(char *));
	if (!v)
		return err_errno(err, ENOMEM, "list");
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char hex[65];

		if (l != 64 + 5 || strcmp(de->d_name + 64, ".json"))
			continue;
		memcpy(hex, de->d_name, 64);
		hex[64] = 0;
		if (!digest_hex_valid(hex))
			continue;
		if (cnt + 1 >= cap) {
			char **nv;
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, (cap + 1) * sizeof(char *));
			if (!nv)
				return err_errno(err, ENOMEM, "list");
			v = nv;
		}
		v[cnt] = strdup(hex);
		if (!v[cnt])
			return err_errno(err, ENOMEM, "list");
		v[++cnt] = NULL;
	}
	*out = steal_ptr(v);
	*n = cnt;
	return 0;
}

/*
 * REF -> id, in Docker's order: a name (normalised, then the docker.io
 * and localhost spellings of a short name), a full id, a unique prefix.
 * *NAME is set to the name matched, if any.
 */
static int lookup(struct image_store *s, const struct store_names *nm, const char *ref, char **id,
		  char **name, struct err **err)
{
	_cleanup_free_ char *norm = NULL;
	_cleanup_strv_ char **ids = NULL;
	struct err *e2 = NULL;
	const char *hit = NULL;
	size_t n = 0;

	*id = NULL;
	if (name)
		*name = NULL;
	if (image_ref_normalize(ref, &norm, &e2) == 0) {
		/* Short names also match what docker.io or localhost images
		 * were stored as ("busybox" -> "docker.io/library/busybox"). */
		const char *slash = strchr(norm, '/');
		bool host = slash && (memchr(norm, '.', (size_t)(slash - norm)) ||
				      memchr(norm, ':', (size_t)(slash - norm)) ||
				      !strncmp(norm, "localhost/", 10));
		const char *forms[4];
		size_t nf = 0;

		forms[nf++] = "";
		if (!slash) {
			forms[nf++] = "docker.io/library/";
			forms[nf++] = "localhost/";
		} else if (!host) {
			forms[nf++] = "docker.io/";
		}
		for (size_t i = 0; i < nf && !hit; i++) {
			_cleanup_free_ char *f = NULL;
			if (asprintf(&f, "%s%s", forms[i], norm) < 0) {
				err_free(&e2);
				return err_errno(err, ENOMEM, "lookup");
			}
			hit = store_names_get(nm, f);
			if (hit && name)
				*name = steal_ptr(f);
		}
	}
	err_free(&e2);
	if (hit) {
		*id = strdup(hit);
		return *id ? 0 : err_errno(err, ENOMEM, "lookup");
	}
	if (!strncmp(ref, "sha256:", 7))
		ref += 7;
	if (is_hex_prefix(ref)) {
		if (list_ids(s, &ids, &n, err) < 0)
			return err_ret(*err);
		for (size_t i = 0; i < n; i++) {
			if (strncmp(ids[i], ref, strlen(ref)))
				continue;
			if (hit)
				return err_set(err, EINVAL, "image id prefix \"%s\" is ambiguous",
					       ref);
			hit = ids[i];
		}
		if (hit) {
			if (asprintf(id, "sha256:%s", hit) < 0)
				return err_errno(err, ENOMEM, "lookup");
			return 0;
		}
	}
	return err_set(err, ENOENT, "no such image: %s", ref);
}

int image_store_lookup(struct image_store *s, const char *ref, char **id, struct err **err)
{
	_cleanup_close_ int lock = store_lock(s, LOCK_SH, err);
	struct store_names nm;
	int r;

	if (lock < 0)
		return lock;
	if (store_names_load(s->rootfd, &nm, err) < 0)
		return err_ret(*err);
	r = lookup(s, &nm, ref, id, NULL, err);
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

void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->id);
	strvfree(img->names);
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
	_cleanup_close_ int lock = store_lock(s, LOCK_SH, err);
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
	if (list_ids(s, &ids, &cnt, err) < 0) {
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
		store_record_clear(&rec);
		if (!img || !img->id || names_of(&nm, img->id, &img->names, err) < 0) {
			r = err_errno(err, ENOMEM, "list");
			break;
		}
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

/* Makes layers/<modekey>/<diff hex> exist, extracting it if needed. */
static int ensure_layer(struct image_store *s, const struct store_layer *l, struct err **err)
{
	_cleanup_close_ int blob = -1;
	_cleanup_free_ char *info = NULL;
	char tmp[64];
	struct stat sb;
	int r;

	if (fstatat(s->modefd, l->diff_id + 7, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode))
		return 0;
	blob = openat(s->blobsfd, l->digest + 7, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (blob < 0)
		return err_errno(err, errno, "layer %s: blob %s", l->diff_id, l->digest);
	r = extract_layer(s, blob, l->diff_id, tmp, &info, NULL, err);
	if (r == 0)
		r = publish_layer(s, tmp, l->diff_id + 7, info, err);
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
	_cleanup_close_ int lock = store_lock(s, LOCK_SH, err);
	_cleanup_free_ char *id = NULL;
	struct store_record rec = {0};
	struct store_names nm;
	int r;

	*out = NULL;
	if (lock < 0)
		return lock;
	if (store_names_load(s->rootfd, &nm, err) < 0)
		return err_ret(*err);
	r = lookup(s, &nm, ref, &id, NULL, err);
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
	r = list_ids(s, &ids, &n, err);
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
	_cleanup_close_ int lock = store_lock(s, LOCK_EX, err);
	_cleanup_free_ char *id = NULL, *name = NULL;
	struct store_names nm;
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
	r = lookup(s, &nm, ref, &id, &name, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nm.n; i++)
		left += !strcmp(nm.kv[i].value, id);
	if (!name && left > 1 && !force) {
		r = err_set(err, EBUSY,
			    "conflict: unable to delete %.12s (must be forced) - image is "
			    "referenced in multiple repositories",
			    id + 7);
		goto out;
	}
	/* By name: that name goes. By id: every name goes. */
	for (size_t i = 0; i < nm.n;) {
		if (strcmp(nm.kv[i].value, id) || (name && strcmp(nm.kv[i].key, name))) {
			i++;
			continue;
		}
		if ((r = strv_push(untagged, nm.kv[i].key, err)) < 0)
			goto out;
		store_names_del(&nm, i);
		left--;
	}
	r = store_names_save(s->rootfd, &nm, err);
	if (r < 0 || left > 0)
		goto out;
	r = delete_image(s, id, err);
	if (r == 0)
		r = strv_push(deleted, id, err);
out:
	store_names_clear(&nm);
	return r;
}

int image_store_remove(struct image_store *s, const char *ref, bool force, struct err **err)
{
	return image_store_remove_report(s, ref, force, NULL, NULL, err);
}

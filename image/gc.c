/*
 * image/gc.c - garbage collection of the image store (what no record
 * references) and the config fields prune filters read.
 *
 * Runs in: the moat CLI process, as root (SHIFT) or as the invoking user
 * (SQUASH, USERNS); USERNS layer trees are measured and removed by a
 * child inside the user namespace (userns_run), as store.c removes them.
 *
 * Invariants:
 *  - everything is decided and removed under the store's exclusive lock:
 *    no commit (which renames blobs and layer trees into place and then
 *    writes the records, under that same lock) is half-visible, and no
 *    resolve is extracting a layer (it holds the shared lock);
 *  - ROOT/tmp is never touched: what a running pull or load stages stays
 *    there until its commit; a blob it reuses is a hard link in its
 *    staging directory, so removing the store's name cannot take it away;
 *  - when any record cannot be read nothing is collected: the blobs and
 *    layers it names cannot be known;
 *  - only names that look like the store's own are removed: 64-hex blobs
 *    and layer trees (and "<hex>.json" counts), and ".tmp-*" leftovers;
 *    nothing is followed (O_NOFOLLOW, unlinkat on links themselves).
 */
#include "image/gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/userns.h"
#include "image/internal.h"

#define WALK_DEPTH_MAX 256
#define WALK_ENTRIES_MAX 1000000u

/* ---- what the records reference ---- */

struct refs {
	char **blobs; /* hex of configs, manifests and layer blobs (sorted) */
	size_t n_blobs;
	char **diffs; /* hex of DiffIDs (sorted) */
	size_t n_diffs;
};

static void refs_clear(struct refs *r)
{
	for (size_t i = 0; i < r->n_blobs; i++)
		free(r->blobs[i]);
	for (size_t i = 0; i < r->n_diffs; i++)
		free(r->diffs[i]);
	free(r->blobs);
	free(r->diffs);
	memset(r, 0, sizeof(*r));
}

static int push_hex(char ***v, size_t *n, size_t *cap, const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) || !digest_hex_valid(digest + 7))
		return 0; /* not a name the store could have made */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **nv = realloc(*v, nc * sizeof(char *));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	if (!((*v)[*n] = strdup(digest + 7)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has(char *const *v, size_t n, const char *hex)
{
	return n && bsearch(&hex, v, n, sizeof(char *), cmp_str) != NULL;
}

/* Every record's references; -EIO when one cannot be read. Called under
 * the exclusive lock. */
static int refs_load(int imagesfd, struct refs *r, struct err **err)
{
	_cleanup_strv_ char **ids = NULL;
	size_t n = 0, cb = 0, cd = 0;
	int ret = 0;

	if (store_record_ids(imagesfd, &ids, &n, err) < 0)
		return err_ret(*err);
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct store_record rec;
		_cleanup_err_ struct err *e = NULL;

		if (store_record_load(imagesfd, ids[i], &rec, &e) < 0)
			return err_set(
			    err, EIO,
			    "image store: record %s is unreadable (%s): nothing collected", ids[i],
			    e->msg);
		if (push_hex(&r->blobs, &r->n_blobs, &cb, rec.id) < 0 ||
		    push_hex(&r->blobs, &r->n_blobs, &cb, rec.manifest) < 0)
			ret = -ENOMEM;
		for (size_t k = 0; k < rec.n_layers && ret == 0; k++)
			if (push_hex(&r->blobs, &r->n_blobs, &cb, rec.layers[k].digest) < 0 ||
			    push_hex(&r->diffs, &r->n_diffs, &cd, rec.layers[k].diff_id) < 0)
				ret = -ENOMEM;
		store_record_clear(&rec);
	}
	if (ret < 0)
		return err_errno(err, ENOMEM, "image store: gc");
	if (r->n_blobs)
		qsort(r->blobs, r->n_blobs, sizeof(char *), cmp_str);
	if (r->n_diffs)
		qsort(r->diffs, r->n_diffs, sizeof(char *), cmp_str);
	return 0;
}

/* ---- measuring and removing ---- */

/* The bytes of the regular files and symlinks under NAME of DIRFD (a
 * file counts itself). What cannot be opened is not counted. */
static void walk_size(int at, const char *name, int depth, unsigned *entries, uint64_t *bytes)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	int fd;

	if (depth > WALK_DEPTH_MAX || ++*entries > WALK_ENTRIES_MAX)
		return;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
		*bytes += (uint64_t)st.st_size;
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			walk_size(dirfd(d), de->d_name, depth + 1, entries, bytes);
}

/* Shared with the user namespace child (MAP_SHARED survives its fork). */
struct rm_job {
	int dirfd;
	const char *name;
	uint64_t bytes;
};

static int measure_remove(void *arg)
{
	struct rm_job *j = arg;
	struct err *e = NULL;
	unsigned entries = 0;
	int r;

	j->bytes = 0;
	walk_size(j->dirfd, j->name, 0, &entries, &j->bytes);
	r = fs_rm_rf_at(j->dirfd, j->name, &e);
	err_free(&e);
	return r < 0 ? 1 : 0;
}

/* Measures and removes NAME of DIRFD; a USERNS store retries inside its
 * user namespace (files owned by subordinate ids). *BYTES: its size. */
static int remove_counted(const struct image_idmode *mode, int dirfd, const char *name,
			  uint64_t *bytes, struct err **err)
{
	struct rm_job *j;
	int r;

	*bytes = 0;
	j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (j == MAP_FAILED)
		return err_errno(err, errno, "gc: mmap");
	j->dirfd = dirfd;
	j->name = name;
	r = measure_remove(j) == 0 ? 0 : -EIO;
	if (r < 0 && mode->kind == IMAGE_IDS_USERNS) {
		r = userns_run(mode->userns, mode->uid, mode->n_uid, mode->gid, mode->n_gid,
			       measure_remove, j, err);
		if (r > 0)
			r = err_set(err, EIO, "remove \"%s\" in the user namespace failed", name);
	} else if (r < 0) {
		r = err_set(err, EIO, "remove \"%s\" failed", name);
	}
	if (r == 0)
		*bytes = j->bytes;
	munmap(j, sizeof(*j));
	return r;
}

/* A stream over a dup of DIRFD, from its start. */
static DIR *dir_stream(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

static bool is_leftover(const char *name)
{
	return !strncmp(name, ".tmp-", 5);
}

/* ---- the collection ---- */

static void collect_blobs(int blobsfd, const struct refs *r, struct image_gc_report *rep)
{
	_cleanup_closedir_ DIR *d = dir_stream(blobsfd);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat st;

		if (!digest_hex_valid(de->d_name) && !is_leftover(de->d_name))
			continue;
		if (digest_hex_valid(de->d_name) && has(r->blobs, r->n_blobs, de->d_name))
			continue;
		if (fstatat(blobsfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode))
			continue;
		if (unlinkat(blobsfd, de->d_name, 0) < 0)
			continue;
		rep->blobs++;
		rep->bytes += (uint64_t)st.st_size;
	}
}

/* "<hex>.json" -> true, HEX filled. */
static bool counts_file(const char *name, char hex[65])
{
	if (strlen(name) != 64 + 5 || strcmp(name + 64, ".json"))
		return false;
	memcpy(hex, name, 64);
	hex[64] = 0;
	return digest_hex_valid(hex);
}

static void collect_mode(const struct image_idmode *mode, int mfd, const struct refs *r,
			 struct image_gc_report *rep)
{
	_cleanup_closedir_ DIR *d = dir_stream(mfd);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct err *e = NULL;
		uint64_t bytes = 0;
		char hex[65];
		struct stat st;

		if (counts_file(de->d_name, hex)) {
			/* A counts file goes with its tree; an orphan one alone. */
			if (has(r->diffs, r->n_diffs, hex) ||
			    fstatat(mfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			if (fstatat(mfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    unlinkat(mfd, de->d_name, 0) == 0)
				rep->bytes += (uint64_t)st.st_size;
			continue;
		}
		if (!is_leftover(de->d_name) &&
		    (!digest_hex_valid(de->d_name) || has(r->diffs, r->n_diffs, de->d_name)))
			continue;
		/* Best effort: a tree of another identity may not be ours. */
		if (remove_counted(mode, mfd, de->d_name, &bytes, &e) < 0) {
			err_free(&e);
			continue;
		}
		rep->layers++;
		rep->bytes += bytes;
		if (!is_leftover(de->d_name)) {
			char info[80];
			snprintf(info, sizeof(info), "%s.json", de->d_name);
			if (fstatat(mfd, info, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    unlinkat(mfd, info, 0) == 0)
				rep->bytes += (uint64_t)st.st_size;
		}
	}
}

int image_store_gc(struct image_store *s, const struct image_idmode *mode,
		   struct image_gc_report *rep, struct err **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_closedir_ DIR *modes = NULL;
	struct refs r = {0};
	struct dirent *m;
	int layersfd = store_dirfd(s, STORE_DIR_LAYERS);

	memset(rep, 0, sizeof(*rep));
	lock = store_lock_take(s, LOCK_EX, err);
	if (lock < 0)
		return lock;
	if (refs_load(store_dirfd(s, STORE_DIR_IMAGES), &r, err) < 0) {
		refs_clear(&r);
		return err_ret(*err);
	}
	collect_blobs(store_dirfd(s, STORE_DIR_BLOBS), &r, rep);
	modes = dir_stream(layersfd);
	while (modes && (m = readdir(modes))) {
		_cleanup_close_ int mfd = -1;

		if (m->d_name[0] == '.')
			continue;
		mfd = openat(layersfd, m->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (mfd >= 0)
			collect_mode(mode, mfd, &r, rep);
	}
	refs_clear(&r);
	return 0;
}

/* ---- what prune filters read ---- */

int image_store_prune_meta(struct image_store *s, const char *id, int64_t *created_ns,
			   char ***labels, struct err **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ json_t *root = NULL;
	struct image_config *cfg = NULL;
	char hex[SHA256_HEX_LEN + 1];
	const char *created;
	int64_t secs;
	size_t len;
	int r;

	*created_ns = -1;
	*labels = NULL;
	if (strncmp(id, "sha256:", 7) || !digest_hex_valid(id + 7))
		return err_set(err, EINVAL, "image %s: not an image id", id);
	lock = store_lock_take(s, LOCK_SH, err);
	if (lock < 0)
		return lock;
	r = fs_read_at(store_dirfd(s, STORE_DIR_BLOBS), id + 7, IMAGE_JSON_MAX, &buf, &len, err);
	closep(&lock);
	if (r < 0)
		return err_prefix(err, "image %s: config", id);
	digest_sha256_hex(buf, len, hex);
	if (strcmp(hex, id + 7))
		return err_set(err, EIO, "image %s: config blob is corrupt", id);
	if (image_config_decode(buf, len, &cfg, err) < 0)
		return err_prefix(err, "image %s", id);
	*labels = calloc(cfg->n_labels + 1, sizeof(char *));
	for (size_t i = 0; *labels && i < cfg->n_labels; i++)
		if (asprintf(&(*labels)[i], "%s=%s", cfg->labels[i].key, cfg->labels[i].value) <
		    0) {
			(*labels)[i] = NULL;
			strvfree(*labels);
			*labels = NULL;
		}
	image_config_free(cfg);
	if (!*labels)
		return err_errno(err, ENOMEM, "image %s", id);
	/* image_config_decode checked the document; "created" is optional. */
	root = json_loadb(buf, len, 0, NULL);
	created = root ? json_string_value(json_object_get(root, "created")) : NULL;
	if (created && image_time_parse(created, &secs) == 0 && secs > INT64_MIN / 1000000000 &&
	    secs < INT64_MAX / 1000000000)
		*created_ns = secs * 1000000000;
	return 0;
}

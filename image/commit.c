/*
 * image/commit.c - `moat commit`, the store's half: the tar of a
 * container's upper directory with overlay whiteouts converted to OCI
 * ones, and the store transaction that adds the new image
 * (image/commit.h); the config half is image/commit_config.c.
 *
 * Runs in: the moat CLI process, as the invoking user or root. The tar is
 * written by a child forked by userns_run() inside a user namespace with
 * the container's id maps: there stat() shows the ids the container sees
 * and container root may read every file of the layer; the child only
 * reads the tree (through fds opened before the fork) and writes the
 * staged file (also opened before), so a hostile layer can at worst make
 * a bad tar, which the store's checked extraction then reads like any
 * pulled layer.
 *
 * Invariants:
 *  - the walk is fd-relative with O_NOFOLLOW: a symlink in the layer is an
 *    entry, never followed; names are at most PATH_CAP bytes;
 *  - the new image is added in one transaction: on any failure the store
 *    is as it was.
 */
#include "image/commit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "image/archive.h"

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/userns.h"
#include "image/internal.h"

#define PATH_CAP 4096

/* ==== the layer: a tar of the upper directory ==== */

/* The markers overlayfs (with and without "userxattr") and fuse-overlayfs
 * put on a directory that hides what the layers below have there. */
static const char *const opaque_xattrs[] = {"user.overlay.opaque", "trusted.overlay.opaque",
					    "user.fuseoverlayfs.opaque"};

struct link {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct tw {
	struct archive *a;
	const char *const *skip;
	uint64_t entries;
	struct link *links;
	size_t n_links;
	char path[PATH_CAP + 1];
};

static void archive_wfreep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

static void entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}

static bool is_opaque(int fd)
{
	char v[4];

	for (size_t i = 0; i < ARRAY_SIZE(opaque_xattrs); i++) {
		ssize_t n = fgetxattr(fd, opaque_xattrs[i], v, sizeof(v));
		if (n == 1 && v[0] == 'y')
			return true;
	}
	return false;
}

/* user.* xattrs of FD onto E, minus the overlay's own markers (a layer
 * must not carry them: layer.c refuses them too). */
static int copy_xattrs(int fd, struct archive_entry *e, const char *path, struct err **err)
{
	char names[8192];
	ssize_t n = flistxattr(fd, names, sizeof(names));

	if (n < 0)
		return errno == ENOTSUP || errno == ERANGE || errno == EACCES
			   ? 0
			   : err_errno(err, errno, "xattrs of \"%.200s\"", path);
	for (char *p = names; p < names + n; p += strlen(p) + 1) {
		char val[65536];
		ssize_t vn;

		if (strncmp(p, "user.", 5) || !strncmp(p, "user.overlay.", 13) ||
		    !strncmp(p, "user.fuseoverlayfs.", 19))
			continue;
		vn = fgetxattr(fd, p, val, sizeof(val));
		if (vn < 0)
			continue; /* gone meanwhile, or too large for a layer */
		archive_entry_xattr_add_entry(e, p, val, (size_t)vn);
	}
	return 0;
}

static int put_header(struct tw *t, struct archive_entry *e, const char *path, struct err **err)
{
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		return err_set(err, EIO, "layer \"%.200s\": %s", path, archive_error_string(t->a));
	t->entries++;
	return 0;
}

static struct archive_entry *new_entry(const char *path, mode_t type, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		return NULL;
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, st ? st->st_mode & 07777 : 0600);
	archive_entry_set_uid(e, st ? st->st_uid : 0);
	archive_entry_set_gid(e, st ? st->st_gid : 0);
	archive_entry_set_mtime(e, st ? st->st_mtim.tv_sec : 0, st ? st->st_mtim.tv_nsec : 0);
	archive_entry_set_size(e, 0);
	return e;
}

/* An empty regular file named PATH: an OCI whiteout or opaque marker. */
static int put_marker(struct tw *t, const char *path, struct err **err)
{
	__attribute__((cleanup(entry_freep))) struct archive_entry *e =
	    new_entry(path, AE_IFREG, NULL);

	if (!e)
		return err_errno(err, ENOMEM, "layer");
	return put_header(t, e, path, err);
}

/* The content of FD, exactly SIZE bytes: a file that shrinks while a
 * running container writes it is padded, one that grows is cut. */
static int put_data(struct tw *t, int fd, uint64_t size, const char *path, struct err **err)
{
	static const char zero[4096];
	char buf[65536];
	uint64_t done = 0;

	while (done < size) {
		size_t want = size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, errno, "read \"%.200s\"", path);
		if (n == 0)
			break;
		if (archive_write_data(t->a, buf, (size_t)n) != n)
			return err_set(err, EIO, "layer \"%.200s\": %s", path,
				       archive_error_string(t->a));
		done += (uint64_t)n;
	}
	while (done < size) {
		size_t k = size - done < sizeof(zero) ? (size_t)(size - done) : sizeof(zero);
		if (archive_write_data(t->a, zero, k) != (la_ssize_t)k)
			return err_set(err, EIO, "layer \"%.200s\": %s", path,
				       archive_error_string(t->a));
		done += k;
	}
	return 0;
}

static bool skipped(const struct tw *t, const char *path)
{
	for (size_t i = 0; t->skip && t->skip[i]; i++) {
		size_t n = strlen(t->skip[i]);
		if (!strncmp(path, t->skip[i], n) && (path[n] == 0 || path[n] == '/'))
			return true;
	}
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct tw *t, int dirfd, size_t plen, unsigned depth, struct err **err);

/* A regular file: a hard link to a path already written, or its data. */
static int put_file(struct tw *t, int dirfd, const char *name, const char *path, struct err **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	__attribute__((cleanup(entry_freep))) struct archive_entry *e = NULL;
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? 0 : err_errno(err, errno, "open \"%.200s\"", path);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat \"%.200s\"", path);
	if (!S_ISREG(st.st_mode))
		return 0; /* replaced meanwhile */
	if (!(e = new_entry(path, AE_IFREG, &st)))
		return err_errno(err, ENOMEM, "layer");
	if (st.st_nlink > 1) {
		struct link *nl;

		for (size_t i = 0; i < t->n_links; i++) {
			if (t->links[i].dev == st.st_dev && t->links[i].ino == st.st_ino) {
				archive_entry_set_hardlink(e, t->links[i].path);
				return put_header(t, e, path, err);
			}
		}
		nl = realloc(t->links, (t->n_links + 1) * sizeof(*nl));
		if (!nl)
			return err_errno(err, ENOMEM, "layer");
		t->links = nl;
		nl[t->n_links] = (struct link){st.st_dev, st.st_ino, strdup(path)};
		if (!nl[t->n_links].path)
			return err_errno(err, ENOMEM, "layer");
		t->n_links++;
	}
	archive_entry_set_size(e, (la_int64_t)st.st_size);
	if (copy_xattrs(fd, e, path, err) < 0 || put_header(t, e, path, err) < 0)
		return err_ret(*err);
	return put_data(t, fd, (uint64_t)st.st_size, path, err);
}

static int put_dir(struct tw *t, int dirfd, const char *name, size_t plen, unsigned depth,
		   struct err **err)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	__attribute__((cleanup(entry_freep))) struct archive_entry *e = NULL;
	char marker[PATH_CAP + 32];
	struct stat st;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
			   ? 0
			   : err_errno(err, errno, "open \"%.200s\"", t->path);
	if (depth >= IMAGE_COMMIT_MAX_DEPTH)
		return err_set(err, ELOOP, "\"%.200s\": directories nested deeper than %d", t->path,
			       IMAGE_COMMIT_MAX_DEPTH);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat \"%.200s\"", t->path);
	if (!(e = new_entry(t->path, AE_IFDIR, &st)))
		return err_errno(err, ENOMEM, "layer");
	if (copy_xattrs(fd, e, t->path, err) < 0 || put_header(t, e, t->path, err) < 0)
		return err_ret(*err);
	/* Right after the directory: the lower layers' content is hidden
	 * before this layer's is added. */
	snprintf(marker, sizeof(marker), "%s/.wh..wh..opq", t->path);
	if (is_opaque(fd) && put_marker(t, marker, err) < 0)
		return err_ret(*err);
	return walk(t, fd, plen, depth + 1, err);
}

/* The entries of DIRFD, whose path is T->path[0..PLEN), sorted. */
static int walk(struct tw *t, int dirfd, size_t plen, unsigned depth, struct err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_ char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "list \"%.200s\"", plen ? t->path : "/");
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(char *));
			if (!nv)
				return err_errno(err, ENOMEM, "layer");
			names = nv;
		}
		if (!(names[n++] = strdup(de->d_name)))
			return err_errno(err, ENOMEM, "layer");
		names[n] = NULL;
	}
	if (errno)
		return err_errno(err, errno, "list \"%.200s\"", plen ? t->path : "/");
	if (n)
		qsort(names, n, sizeof(char *), name_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(names[i]), len = plen + (plen ? 1 : 0) + nl;
		char wh[PATH_CAP + 8];
		struct stat st;
		int r = 0;

		if (len > PATH_CAP)
			return err_set(err, ENAMETOOLONG, "\"%.200s/%.200s\": path too long",
				       t->path, names[i]);
		snprintf(t->path + plen, sizeof(t->path) - plen, "%s%s", plen ? "/" : "", names[i]);
		if (skipped(t, t->path))
			continue;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* a running container removed it */
			return err_errno(err, errno, "stat \"%.200s\"", t->path);
		}
		if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) {
			/* The overlay's whiteout becomes OCI's ".wh.NAME". */
			snprintf(wh, sizeof(wh), "%.*s%s.wh.%s", (int)plen, t->path,
				 plen ? "/" : "", names[i]);
			r = put_marker(t, wh, err);
		} else if (S_ISDIR(st.st_mode)) {
			r = put_dir(t, dirfd, names[i], len, depth, err);
		} else if (S_ISREG(st.st_mode)) {
			r = put_file(t, dirfd, names[i], t->path, err);
		} else if (S_ISLNK(st.st_mode) || S_ISFIFO(st.st_mode)) {
			__attribute__((cleanup(entry_freep))) struct archive_entry *e =
			    new_entry(t->path, S_ISLNK(st.st_mode) ? AE_IFLNK : AE_IFIFO, &st);
			char target[PATH_CAP + 1];
			ssize_t tl = 0;

			if (!e)
				return err_errno(err, ENOMEM, "layer");
			if (S_ISLNK(st.st_mode)) {
				tl = readlinkat(dirfd, names[i], target, sizeof(target) - 1);
				if (tl < 0)
					return errno == ENOENT
						   ? 0
						   : err_errno(err, errno, "readlink \"%.200s\"",
							       t->path);
				target[tl] = 0;
				archive_entry_set_symlink(e, target);
			}
			r = put_header(t, e, t->path, err);
		}
		/* Sockets and device nodes: a layer never creates them. */
		if (r < 0)
			return r;
		t->path[plen] = 0;
	}
	return 0;
}

struct fd_sink {
	int fd;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct fd_sink *s = data;
	int r = fs_write_all(s->fd, buf, len);

	if (r < 0) {
		archive_set_error(a, -r, "write layer");
		return -1;
	}
	return (la_ssize_t)len;
}

int image_commit_tar(int dirfd, int outfd, const char *const *skip, uint64_t *entries,
		     struct err **err)
{
	__attribute__((cleanup(archive_wfreep))) struct archive *a = NULL;
	struct fd_sink sink = {.fd = outfd};
	struct tw t = {.skip = skip};
	int r = 0;

	*entries = 0;
	if (image_archive_load(err) < 0)
		return err_ret(*err);
	a = archive_write_new();
	if (!a)
		return err_errno(err, ENOMEM, "layer");
	t.a = a;
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open(a, &sink, NULL, sink_write, NULL) != ARCHIVE_OK)
		r = err_set(err, EIO, "layer: %s", archive_error_string(a));
	if (r == 0)
		r = walk(&t, dirfd, 0, 0, err);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = err_set(err, EIO, "layer: %s", archive_error_string(a));
	for (size_t i = 0; i < t.n_links; i++)
		free(t.links[i].path);
	free(t.links);
	*entries = t.entries;
	return r;
}

/* ==== the transaction ==== */

/* What the child in the container's user namespace reports back. */
struct tar_shared {
	int code;
	uint64_t entries;
	char msg[900];
};

struct tar_job {
	int dirfd, outfd;
	const char *const *skip;
	struct tar_shared *sh;
};

static int tar_child(void *arg)
{
	struct tar_job *j = arg;
	struct err *e = NULL;

	if (image_commit_tar(j->dirfd, j->outfd, j->skip, &j->sh->entries, &e) < 0) {
		j->sh->code = e && e->code ? e->code : EIO;
		snprintf(j->sh->msg, sizeof(j->sh->msg), "%.880s", e ? e->msg : "layer");
		err_free(&e);
		return 1;
	}
	return 0;
}

/* The tar of SRC's tree into OUTFD, as the container's root sees it. */
static int make_layer(const struct image_commit_src *src, int outfd, uint64_t *entries,
		      struct err **err)
{
	struct tar_shared *sh;
	struct tar_job j = {.dirfd = src->upperfd, .outfd = outfd, .skip = src->skip};
	int r;

	if (src->userns == SANDBOX_USERNS_HOST)
		return image_commit_tar(src->upperfd, outfd, src->skip, entries, err);
	/* Loaded here: never dlopen in the child (see image/archive.h). */
	if (image_archive_load(err) < 0)
		return err_ret(*err);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return err_errno(err, errno, "mmap");
	memset(sh, 0, sizeof(*sh));
	j.sh = sh;
	r = userns_run(src->userns, src->ids->uid, src->ids->n_uid, src->ids->gid, src->ids->n_gid,
		       tar_child, &j, err);
	if (r > 0)
		r = err_set(err, sh->code ? sh->code : EIO, "%s", sh->msg[0] ? sh->msg : "layer");
	else if (r == 0)
		*entries = sh->entries;
	munmap(sh, sizeof(*sh));
	return r < 0 ? err_prefix(err, "the container's changes") : 0;
}

/* The parent's record and config, read under the store's shared lock;
 * *SIZES: the size of each of its layer blobs (for the manifest). */
static int parent_load(struct image_store *s, const char *id, struct store_record *rec, char **cfg,
		       size_t *len, int64_t **sizes, struct err **err)
{
	_cleanup_close_ int lock = store_lock_take(s, LOCK_SH, err);
	char hex[SHA256_HEX_LEN + 1];
	int r;

	if (lock < 0)
		return lock;
	if (!digest_valid(id))
		return err_set(err, EINVAL, "bad image id \"%.80s\"", id);
	r = store_record_load(store_dirfd(s, STORE_DIR_IMAGES), id + 7, rec, err);
	if (r < 0)
		return r == -ENOENT ? err_set(err, ENOENT, "No such image: %s", id) : r;
	r = fs_read_at(store_dirfd(s, STORE_DIR_BLOBS), id + 7, IMAGE_JSON_MAX, cfg, len, err);
	if (r < 0)
		return err_prefix(err, "image %s: config", id);
	digest_sha256_hex(*cfg, *len, hex);
	if (strcmp(hex, id + 7))
		return err_set(err, EIO, "config blob %s is corrupt", id);
	*sizes = calloc(rec->n_layers + 1, sizeof(int64_t));
	if (!*sizes)
		return err_errno(err, ENOMEM, "commit");
	for (size_t i = 0; i < rec->n_layers; i++) {
		struct stat st;
		if (!digest_valid(rec->layers[i].digest) ||
		    fstatat(store_dirfd(s, STORE_DIR_BLOBS), rec->layers[i].digest + 7, &st,
			    AT_SYMLINK_NOFOLLOW) < 0)
			return err_set(err, ENOENT, "image %s: layer %s is missing", id,
				       rec->layers[i].digest);
		(*sizes)[i] = st.st_size;
	}
	return 0;
}

static int manifest_make(const struct store_record *p, const int64_t *sizes, const char *diff,
			 uint64_t lsize, const char *cfg_digest, size_t cfg_len, char **out,
			 struct err **err)
{
	_cleanup_json_ json_t *m = NULL;
	json_t *layers = json_array();

	if (!layers)
		return err_errno(err, ENOMEM, "manifest");
	m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
		      IMAGE_MT_OCI_MANIFEST, "config", "mediaType", IMAGE_MT_OCI_CONFIG, "digest",
		      cfg_digest, "size", (json_int_t)cfg_len, "layers", layers);
	if (!m)
		return err_errno(err, ENOMEM, "manifest");
	for (size_t i = 0; i < p->n_layers; i++)
		if (json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
							    p->layers[i].media_type
								? p->layers[i].media_type
								: IMAGE_MT_OCI_LAYER,
							    "digest", p->layers[i].digest, "size",
							    (json_int_t)sizes[i])) < 0)
			return err_errno(err, ENOMEM, "manifest");
	if (diff && json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
							    IMAGE_MT_OCI_LAYER, "digest", diff,
							    "size", (json_int_t)lsize)) < 0)
		return err_errno(err, ENOMEM, "manifest");
	*out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	return *out ? 0 : err_errno(err, ENOMEM, "manifest");
}

int image_store_commit(struct image_store *s, const struct image_commit_src *src,
		       char *const *changes, const struct image_commit_meta *meta, const char *name,
		       char id[72], struct err **err)
{
	_cleanup_free_ char *pcfg = NULL, *cfg = NULL, *man = NULL;
	_cleanup_free_ int64_t *sizes = NULL;
	_cleanup_close_ int lfd = -1;
	struct store_record prec = {0}, rec = {0};
	struct store_layer *layers = NULL;
	struct image_commit_meta m = *meta;
	struct store_txn *t = NULL;
	char lname[32] = "", lhex[SHA256_HEX_LEN + 1] = "", chex[SHA256_HEX_LEN + 1] = "",
	     mhex[SHA256_HEX_LEN + 1] = "", diff[7 + 64 + 1] = "", cd[7 + 64 + 1] = "";
	char *names[2] = {(char *)name, NULL};
	uint64_t entries = 0, lsize = 0;
	size_t plen = 0, clen = 0;
	int r;

	if (image_commit_changes_check(changes, err) < 0)
		return err_ret(*err);
	r = parent_load(s, src->parent, &prec, &pcfg, &plen, &sizes, err);
	if (r == 0)
		r = store_txn_begin(s, &t, err);
	if (r == 0) {
		store_txn_tmpname(t, lname);
		lfd =
		    openat(store_txn_dirfd(t), lname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (lfd < 0)
			r = err_errno(err, errno, "stage layer");
	}
	if (r == 0)
		r = make_layer(src, lfd, &entries, err);
	if (r == 0 && entries) {
		/* The layer goes through the same checked extraction as a
		 * pulled one. */
		r = store_hash_fd(lfd, lhex, &lsize, err);
		snprintf(diff, sizeof(diff), "sha256:%s", lhex);
		if (r == 0)
			r = store_txn_add_blob(t, lname, lhex, err);
		if (r == 0)
			r = store_txn_add_layer(t, lname, diff, NULL, err);
		m.diff_id = diff;
	} else {
		m.diff_id = NULL; /* Docker: an empty layer is no layer */
	}
	if (r == 0)
		r = image_commit_config(pcfg, plen, changes, &m, &cfg, &clen, err);
	if (r == 0)
		r = store_txn_add_bytes(t, cfg, clen, chex, err);
	snprintf(cd, sizeof(cd), "sha256:%s", chex);
	if (r == 0)
		r = manifest_make(&prec, sizes, m.diff_id, lsize, cd, clen, &man, err);
	if (r == 0)
		r = store_txn_add_bytes(t, man, strlen(man), mhex, err);
	if (r == 0) {
		layers = calloc(prec.n_layers + 1, sizeof(*layers));
		if (!layers)
			r = err_errno(err, ENOMEM, "commit");
	}
	if (r == 0) {
		snprintf(rec.id, sizeof(rec.id), "%s", cd);
		snprintf(rec.manifest, sizeof(rec.manifest), "sha256:%s", mhex);
		rec.created = meta->created;
		for (size_t i = 0; i < prec.n_layers; i++) {
			layers[i] = prec.layers[i];
			rec.size += prec.layers[i].size;
		}
		rec.n_layers = prec.n_layers;
		if (m.diff_id) {
			layers[rec.n_layers++] = (struct store_layer){
			    .digest = diff,
			    .media_type = (char *)IMAGE_MT_OCI_LAYER,
			    .diff_id = diff,
			    .size = lsize,
			};
			rec.size += lsize;
		}
		rec.layers = layers;
		r = store_txn_add_image(t, &rec, name ? names : NULL, err);
	}
	if (r == 0)
		r = store_txn_commit(t, err);
	store_txn_free(t);
	free(layers);
	store_record_clear(&prec);
	if (r < 0)
		return err_ret(*err);
	snprintf(id, 72, "%s", cd);
	return 0;
}

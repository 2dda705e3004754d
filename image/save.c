/*
 * image/save.c - images copied out of the store: `moat save` (one OCI
 * layout tar that also carries Docker's manifest.json), the export view
 * `moat push` reads, `moat tag`, and `moat image history`.
 *
 * Runs in: the CLI process, as root or as the calling user; no network.
 *
 * Invariants:
 *  - blobs are opened under the store's shared lock and read through those
 *    fds, so a concurrent `rmi` cannot remove content from under a save or
 *    a push; a blob whose size disagrees with its manifest is refused;
 *  - a stored manifest is used only after its bytes hashed to the record's
 *    manifest digest and its config and layers name the record's blobs;
 *  - names are added under the exclusive store lock, to an image looked
 *    up under that same lock, through the atomic names.json rewrite;
 *  - archive member names are built here from checked digests
 *    ("blobs/sha256/<64 hex>"), never taken from input;
 *  - the history decoder is pure (bytes in, structs out) and capped at
 *    IMAGE_JSON_MAX before parsing.
 */
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "image/internal.h"
#include "image/reference.h"

/* ---- history (pure) ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int image_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t t;

	*out = 0;
	if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	s += 19;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;
		if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -EINVAL;
		oh *= sign;
		om *= sign;
		s += 6;
	} else {
		return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	*out = t - (int64_t)oh * 3600 - (int64_t)om * 60;
	return 0;
}

void image_history_free(struct image_history_entry *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].created_by);
		free(h[i].comment);
	}
	free(h);
}

int image_history_decode(const char *buf, size_t len, struct image_history_entry **out, size_t *n,
			 struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	struct image_history_entry *h = NULL;
	json_t *hist, *e;
	size_t i, cnt = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (len > IMAGE_JSON_MAX)
		return err_set(err, EFBIG, "image config: larger than %u bytes", IMAGE_JSON_MAX);
	root = json_parse_strict(buf, len, "image config", err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "image config: not a JSON object");
	hist = json_object_get(root, "history");
	if (!hist || json_is_null(hist))
		return 0;
	if (!json_is_array(hist))
		return err_set(err, EINVAL, "image config: \"history\" must be an array");
	h = calloc(json_array_size(hist) + 1, sizeof(*h));
	if (!h)
		return err_errno(err, ENOMEM, "image config");
	json_array_foreach (hist, i, e) {
		_cleanup_free_ char *created = NULL;
		char what[64];
		json_t *v;

		snprintf(what, sizeof(what), "image config: history[%zu]", i);
		cnt++;
		if (!json_is_object(e)) {
			r = err_set(err, EINVAL, "%s: not an object", what);
			break;
		}
		if ((r = json_get_str(e, "created", &created, what, err)) < 0 ||
		    (r = json_get_str(e, "created_by", &h[i].created_by, what, err)) < 0 ||
		    (r = json_get_str(e, "comment", &h[i].comment, what, err)) < 0)
			break;
		v = json_object_get(e, "empty_layer");
		if (v && !json_is_boolean(v) && !json_is_null(v)) {
			r = err_set(err, EINVAL, "%s: \"empty_layer\" must be a boolean", what);
			break;
		}
		h[i].empty_layer = json_is_true(v);
		if (created && image_time_parse(created, &h[i].created) < 0)
			h[i].created = 0;
	}
	if (r < 0) {
		image_history_free(h, cnt);
		return r;
	}
	*out = h;
	*n = cnt;
	return 0;
}

/* ---- the export view ---- */

static void blob_clear(struct image_blob *b)
{
	free(b->media_type);
	b->media_type = NULL;
	closep(&b->fd);
}

void image_export_free(struct image_export *x)
{
	if (!x)
		return;
	free(x->manifest);
	free(x->manifest_type);
	blob_clear(&x->config);
	for (size_t i = 0; i < x->n_layers; i++)
		blob_clear(&x->layers[i]);
	free(x->layers);
	strvfree(x->names);
	free(x);
}

static void export_freep(struct image_export **x)
{
	image_export_free(*x);
}

static void manifest_freep(struct image_manifest **m)
{
	image_manifest_free(*m);
}

/* Opens blob DIGEST read-only; fills B's digest, size and fd. */
static int open_blob(int blobsfd, const char *digest, const char *mt, struct image_blob *b,
		     struct err **err)
{
	struct stat st;

	if (!digest_valid(digest))
		return err_set(err, EINVAL, "bad digest \"%.80s\"", digest);
	snprintf(b->digest, sizeof(b->digest), "%s", digest);
	b->fd = openat(blobsfd, digest + 7, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (b->fd < 0)
		return err_errno(err, errno, "blob %s", digest);
	if (fstat(b->fd, &st) < 0)
		return err_errno(err, errno, "blob %s", digest);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EIO, "blob %s is not a regular file", digest);
	b->size = st.st_size;
	b->media_type = strdup(mt);
	return b->media_type ? 0 : err_errno(err, ENOMEM, "blob");
}

/* An OCI manifest can only name OCI layer types: Docker's are mapped. */
static const char *oci_layer_type(const char *mt)
{
	static const struct {
		const char *docker, *oci;
	} map[] = {
	    {"application/vnd.docker.image.rootfs.diff.tar", IMAGE_MT_OCI_LAYER},
	    {"application/vnd.docker.image.rootfs.diff.tar.gzip", IMAGE_MT_OCI_LAYER "+gzip"},
	    {"application/vnd.docker.image.rootfs.diff.tar.zstd", IMAGE_MT_OCI_LAYER "+zstd"},
	    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(mt, map[i].docker))
			return map[i].oci;
	return mt;
}

/* The record has no manifest blob: an OCI manifest from what it says. */
static int build_manifest(struct image_export *x, struct err **err)
{
	_cleanup_json_ json_t *layers = json_array(), *m = NULL;
	char hex[SHA256_HEX_LEN + 1];

	if (!layers)
		return err_errno(err, ENOMEM, "manifest");
	for (size_t i = 0; i < x->n_layers; i++) {
		const struct image_blob *l = &x->layers[i];
		if (json_array_append_new(layers,
					  json_pack("{s:s, s:s, s:I}", "mediaType",
						    oci_layer_type(l->media_type), "digest",
						    l->digest, "size", (json_int_t)l->size)) < 0)
			return err_errno(err, ENOMEM, "manifest");
	}
	m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
		      IMAGE_MT_OCI_MANIFEST, "config", "mediaType", IMAGE_MT_OCI_CONFIG, "digest",
		      x->id, "size", (json_int_t)x->config.size, "layers", layers);
	x->manifest = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	x->manifest_type = strdup(IMAGE_MT_OCI_MANIFEST);
	if (!x->manifest || !x->manifest_type)
		return err_errno(err, ENOMEM, "manifest");
	x->manifest_len = strlen(x->manifest);
	digest_sha256_hex(x->manifest, x->manifest_len, hex);
	snprintf(x->manifest_digest, sizeof(x->manifest_digest), "sha256:%s", hex);
	return 0;
}

/* The stored manifest, checked against the record it belongs to. */
static int stored_manifest(int blobsfd, const struct store_record *rec, struct image_export *x,
			   struct image_manifest **out, struct err **err)
{
	__attribute__((cleanup(manifest_freep))) struct image_manifest *m = NULL;
	char hex[SHA256_HEX_LEN + 1];
	int r;

	*out = NULL;
	r = fs_read_at(blobsfd, rec->manifest + 7, IMAGE_JSON_MAX, &x->manifest, &x->manifest_len,
		       err);
	if (r < 0)
		return r;
	digest_sha256_hex(x->manifest, x->manifest_len, hex);
	if (strcmp(hex, rec->manifest + 7))
		return err_set(err, EIO, "manifest blob %s is corrupt", rec->manifest);
	if (image_manifest_decode(x->manifest, x->manifest_len, NULL, &m, err) < 0)
		return err_prefix(err, "stored manifest %s", rec->manifest);
	if (strcmp(m->config.digest, rec->id) || m->n_layers != rec->n_layers)
		return err_set(err, EIO, "stored manifest %s does not match the image record",
			       rec->manifest);
	for (size_t i = 0; i < m->n_layers; i++)
		if (strcmp(m->layers[i].digest, rec->layers[i].digest))
			return err_set(err, EIO,
				       "stored manifest %s does not match the image record",
				       rec->manifest);
	x->manifest_type = strdup(m->media_type ? m->media_type : IMAGE_MT_OCI_MANIFEST);
	if (!x->manifest_type)
		return err_errno(err, ENOMEM, "manifest");
	snprintf(x->manifest_digest, sizeof(x->manifest_digest), "%s", rec->manifest);
	*out = steal_ptr(m);
	return 0;
}

static int names_of(const struct store_names *nm, const char *id, char ***out, struct err **err)
{
	size_t n = 0;

	*out = calloc(nm->n + 1, sizeof(char *));
	if (!*out)
		return err_errno(err, ENOMEM, "names");
	for (size_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->kv[i].value, id) && !((*out)[n++] = strdup(nm->kv[i].key)))
			return err_errno(err, ENOMEM, "names");
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp((*out)[j - 1], (*out)[j]) > 0; j--) {
			char *tmp = (*out)[j];
			(*out)[j] = (*out)[j - 1];
			(*out)[j - 1] = tmp;
		}
	return 0;
}

static int export_fill(int blobsfd, const struct store_record *rec, struct image_export *x,
		       struct err **err)
{
	__attribute__((cleanup(manifest_freep))) struct image_manifest *m = NULL;
	int r;

	snprintf(x->id, sizeof(x->id), "%s", rec->id);
	r = stored_manifest(blobsfd, rec, x, &m, err);
	if (r == -ENOENT) {
		err_free(err);
		free(x->manifest);
		x->manifest = NULL;
	} else if (r < 0) {
		return r;
	}
	if (open_blob(blobsfd, rec->id, m ? m->config.media_type : IMAGE_MT_OCI_CONFIG, &x->config,
		      err) < 0)
		return err_prefix(err, "config");
	if (m && m->config.size != x->config.size)
		return err_set(err, EIO, "config blob %s: size %lld, manifest says %lld", rec->id,
			       (long long)x->config.size, (long long)m->config.size);
	x->layers = calloc(rec->n_layers + 1, sizeof(*x->layers));
	if (!x->layers)
		return err_errno(err, ENOMEM, "export");
	for (size_t i = 0; i < rec->n_layers; i++) {
		struct image_blob *b = &x->layers[i];

		b->fd = -1;
		x->n_layers++;
		if (open_blob(blobsfd, rec->layers[i].digest,
			      m ? m->layers[i].media_type : rec->layers[i].media_type, b, err) < 0)
			return err_prefix(err, "layer %zu", i);
		if (m && m->layers[i].size != b->size)
			return err_set(err, EIO, "layer blob %s: size %lld, manifest says %lld",
				       b->digest, (long long)b->size, (long long)m->layers[i].size);
	}
	if (!m)
		return build_manifest(x, err);
	return 0;
}

int image_store_export_open(struct image_store *s, const char *ref, struct image_export **out,
			    struct err **err)
{
	__attribute__((cleanup(export_freep))) struct image_export *x = NULL;
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *id = NULL;
	struct store_record rec = {0};
	struct store_names nm = {0};
	int r;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return err_errno(err, ENOMEM, "export");
	x->config.fd = -1;
	/* One shared lock from the lookup to the last blob opened. */
	lock = store_lock_take(s, LOCK_SH, err);
	if (lock < 0)
		return lock;
	if (store_names_load(store_dirfd(s, STORE_DIR_ROOT), &nm, err) < 0)
		return err_ret(*err);
	r = store_lookup(store_dirfd(s, STORE_DIR_IMAGES), &nm, ref, &id, NULL, err);
	if (r < 0) {
		store_names_clear(&nm);
		return r;
	}
	r = store_record_load(store_dirfd(s, STORE_DIR_IMAGES), id + 7, &rec, err);
	if (r == 0)
		r = names_of(&nm, id, &x->names, err);
	if (r == 0)
		r = export_fill(store_dirfd(s, STORE_DIR_BLOBS), &rec, x, err);
	store_names_clear(&nm);
	store_record_clear(&rec);
	if (r < 0)
		return err_prefix(err, "image %s", ref);
	*out = steal_ptr(x);
	return 0;
}

/* ---- tag ---- */

/* "busybox" -> "busybox:latest", "docker.io/library/busybox:1" ->
 * "busybox:1": the familiar form pull gives its names. */
static int familiar_name(const char *ref, char **out, struct err **err)
{
	struct image_reference r = {0};
	_cleanup_free_ char *repo = NULL, *joined = NULL;
	int ret;

	*out = NULL;
	if (image_reference_parse(ref, &r, err) < 0)
		return err_ret(*err);
	if (r.digest) {
		image_reference_clear(&r);
		return err_set(err, EINVAL, "refusing to create a tag with a digest reference");
	}
	repo = image_reference_familiar_name(&r);
	if (repo && asprintf(&joined, "%s:%s", repo, r.tag ? r.tag : "latest") < 0)
		joined = NULL;
	image_reference_clear(&r);
	if (!joined)
		return err_errno(err, ENOMEM, "tag");
	ret = image_ref_normalize(joined, out, err);
	return ret;
}

int image_store_tag(struct image_store *s, const char *src, const char *target, struct err **err)
{
	_cleanup_free_ char *id = NULL, *name = NULL;
	_cleanup_close_ int lock = -1;
	struct store_names nm = {0};
	int r;

	if (familiar_name(target, &name, err) < 0)
		return err_prefix(err, "tag \"%s\"", target);
	/* Exclusive, like every names.json writer in store.c: the image
	 * found is the one named. */
	lock = store_lock_take(s, LOCK_EX, err);
	if (lock < 0)
		return lock;
	r = store_names_load(store_dirfd(s, STORE_DIR_ROOT), &nm, err);
	if (r == 0)
		r = store_lookup(store_dirfd(s, STORE_DIR_IMAGES), &nm, src, &id, NULL, err);
	if (r == 0)
		r = store_names_set_familiar(&nm, name, id, err);
	if (r == 0)
		r = store_names_save(store_dirfd(s, STORE_DIR_ROOT), &nm, err);
	store_names_clear(&nm);
	return r;
}

/* ---- history ---- */

int image_store_history(struct image_store *s, const char *ref, char id[72],
			struct image_history_entry **out, size_t *n, struct err **err)
{
	_cleanup_free_ char *full = NULL, *cfg = NULL;
	_cleanup_close_ int lock = -1;
	struct store_record rec = {0};
	struct image_history_entry *h = NULL;
	char hex[SHA256_HEX_LEN + 1];
	size_t len = 0, cnt = 0, k = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (image_store_lookup(s, ref, &full, err) < 0)
		return err_ret(*err);
	snprintf(id, 72, "%s", full);
	lock = store_lock_take(s, LOCK_SH, err);
	r = lock < 0 ? lock
		     : store_record_load(store_dirfd(s, STORE_DIR_IMAGES), full + 7, &rec, err);
	if (r == 0)
		r = fs_read_at(store_dirfd(s, STORE_DIR_BLOBS), full + 7, IMAGE_JSON_MAX, &cfg,
			       &len, err);
	closep(&lock);
	if (r == 0) {
		digest_sha256_hex(cfg, len, hex);
		if (strcmp(hex, full + 7))
			r = err_set(err, EIO, "config blob %s is corrupt", full);
	}
	if (r == 0)
		r = image_history_decode(cfg, len, &h, &cnt, err);
	if (r == 0 && cnt == 0) {
		/* No history: one entry per layer, as Docker shows them. */
		h = calloc(rec.n_layers + 1, sizeof(*h));
		if (!h)
			r = err_errno(err, ENOMEM, "history");
		cnt = h ? rec.n_layers : 0;
	}
	for (size_t i = 0; r == 0 && i < cnt; i++)
		if (!h[i].empty_layer && k < rec.n_layers)
			h[i].size = rec.layers[k++].size;
	store_record_clear(&rec);
	if (r < 0) {
		image_history_free(h, cnt);
		return err_prefix(err, "image %s", ref);
	}
	*out = h;
	*n = cnt;
	return 0;
}

/* ---- save ---- */

#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

struct saved {
	struct image_export *x;
	char **tags; /* names asked for, as stored (NULL-terminated) */
};

struct writer {
	struct archive *a;
	int fd;
	char **written; /* blob hexes already in the archive */
	size_t n_written;
};

static la_ssize_t write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct writer *w = arg;
	int r = fs_write_all(w->fd, buf, len);

	if (r < 0) {
		archive_set_error(a, -r, "write: %s", strerror(-r));
		return -1;
	}
	return (la_ssize_t)len;
}

static int put_header(struct writer *w, const char *name, mode_t type, int64_t size,
		      struct err **err)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return err_errno(err, ENOMEM, "archive");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(e, size);
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		r = err_set(err, EIO, "archive \"%s\": %s", name, archive_error_string(w->a));
	archive_entry_free(e);
	return r;
}

static int put_bytes(struct writer *w, const char *name, const char *buf, size_t len,
		     struct err **err)
{
	if (put_header(w, name, AE_IFREG, (int64_t)len, err) < 0)
		return err_ret(*err);
	if (len && archive_write_data(w->a, buf, len) != (la_ssize_t)len)
		return err_set(err, EIO, "archive \"%s\": %s", name, archive_error_string(w->a));
	return 0;
}

static bool written(struct writer *w, const char *hex)
{
	for (size_t i = 0; i < w->n_written; i++)
		if (!strcmp(w->written[i], hex))
			return true;
	return false;
}

static int mark_written(struct writer *w, const char *hex, struct err **err)
{
	char **nv = realloc(w->written, (w->n_written + 2) * sizeof(char *));

	if (!nv)
		return err_errno(err, ENOMEM, "save");
	w->written = nv;
	nv[w->n_written] = strdup(hex);
	nv[w->n_written + 1] = NULL;
	if (!nv[w->n_written])
		return err_errno(err, ENOMEM, "save");
	w->n_written++;
	return 0;
}

/* Copies blob B (SIZE bytes from offset 0) as blobs/sha256/<hex>. */
static int put_blob(struct writer *w, const struct image_blob *b, struct err **err)
{
	char name[96], buf[65536];
	int64_t off = 0;

	if (written(w, b->digest + 7))
		return 0;
	snprintf(name, sizeof(name), "blobs/sha256/%s", b->digest + 7);
	if (put_header(w, name, AE_IFREG, b->size, err) < 0)
		return err_ret(*err);
	while (off < b->size) {
		size_t want =
		    (size_t)(b->size - off) < sizeof(buf) ? (size_t)(b->size - off) : sizeof(buf);
		ssize_t n = pread(b->fd, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, errno, "read blob %s", b->digest);
		if (n == 0)
			return err_set(err, EIO, "blob %s: shorter than %lld bytes", b->digest,
				       (long long)b->size);
		if (archive_write_data(w->a, buf, (size_t)n) != n)
			return err_set(err, EIO, "archive \"%s\": %s", name,
				       archive_error_string(w->a));
		off += n;
	}
	return mark_written(w, b->digest + 7, err);
}

static int put_memblob(struct writer *w, const char *digest, const char *buf, size_t len,
		       struct err **err)
{
	char name[96];

	if (written(w, digest + 7))
		return 0;
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	if (put_bytes(w, name, buf, len, err) < 0)
		return err_ret(*err);
	return mark_written(w, digest + 7, err);
}

/* The stored name REF was found under (its forms as store.c's lookup tries
 * them), or NULL when REF named the image by id. */
static const char *asked_name(const char *ref, char **names)
{
	_cleanup_free_ char *norm = NULL;
	struct err *e = NULL;
	const char *forms[] = {"", "docker.io/library/", "localhost/", "docker.io/"};

	if (image_ref_normalize(ref, &norm, &e) < 0) {
		err_free(&e);
		return NULL;
	}
	for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
		for (char **n = names; n && *n; n++) {
			size_t pl = strlen(forms[f]);
			if (!strncmp(*n, forms[f], pl) && !strcmp(*n + pl, norm))
				return *n;
		}
	}
	return NULL;
}

/* NAME as Docker writes it: "docker.io/library/x:1" (FULL) or "x:1". */
static char *name_form(const char *name, bool full)
{
	struct image_reference r = {0};
	struct err *e = NULL;
	char *out;

	if (image_reference_parse(name, &r, &e) < 0) {
		err_free(&e);
		return strdup(name);
	}
	out = full ? image_reference_string(&r) : image_reference_familiar(&r);
	image_reference_clear(&r);
	return out;
}

/* Docker's annotations: the full name and, as ref.name, the tag. */
static int annotate(json_t *d, const char *tag)
{
	_cleanup_free_ char *full = name_form(tag, true);
	const char *colon = full ? strrchr(full, ':') : NULL;

	if (!colon || strchr(colon, '/'))
		return -ENOMEM;
	return json_object_set_new(d, "annotations",
				   json_pack("{s:s, s:s}", "io.containerd.image.name", full,
					     "org.opencontainers.image.ref.name", colon + 1)) < 0
		   ? -ENOMEM
		   : 0;
}

static int index_json(const struct saved *v, size_t n, char **out, struct err **err)
{
	_cleanup_json_ json_t *mans = json_array(), *root = NULL;

	if (!mans)
		return err_errno(err, ENOMEM, "index.json");
	for (size_t i = 0; i < n; i++) {
		const struct image_export *x = v[i].x;
		/* One entry per name asked for; an image saved by id has none. */
		size_t k = 0;

		do {
			const char *tag = v[i].tags[k];
			json_t *d =
			    json_pack("{s:s, s:s, s:I}", "mediaType", x->manifest_type, "digest",
				      x->manifest_digest, "size", (json_int_t)x->manifest_len);
			if (d && tag && annotate(d, tag) < 0) {
				json_decref(d);
				d = NULL;
			}
			if (!d || json_array_append_new(mans, d) < 0)
				return err_errno(err, ENOMEM, "index.json");
		} while (v[i].tags[k] && v[i].tags[++k]);
	}
	root = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", IMAGE_MT_OCI_INDEX,
			 "manifests", mans);
	*out = root ? json_dumps(root, JSON_COMPACT) : NULL;
	return *out ? 0 : err_errno(err, ENOMEM, "index.json");
}

static int manifest_json(const struct saved *v, size_t n, char **out, struct err **err)
{
	_cleanup_json_ json_t *root = json_array();

	if (!root)
		return err_errno(err, ENOMEM, "manifest.json");
	for (size_t i = 0; i < n; i++) {
		const struct image_export *x = v[i].x;
		json_t *tags = json_array(), *layers = json_array(), *e;
		char p[96];

		for (char **t = v[i].tags; tags && *t; t++) {
			char *f = name_form(*t, false);
			if (!f || json_array_append_new(tags, json_string(f)) < 0) {
				json_decref(tags);
				tags = NULL;
			}
			free(f);
		}
		for (size_t k = 0; layers && k < x->n_layers; k++) {
			snprintf(p, sizeof(p), "blobs/sha256/%s", x->layers[k].digest + 7);
			if (json_array_append_new(layers, json_string(p)) < 0) {
				json_decref(layers);
				layers = NULL;
			}
		}
		snprintf(p, sizeof(p), "blobs/sha256/%s", x->id + 7);
		e = tags && layers ? json_pack("{s:s, s:o, s:o}", "Config", p, "RepoTags", tags,
					       "Layers", layers)
				   : NULL;
		if (!e) {
			json_decref(tags);
			json_decref(layers);
		}
		if (!e || json_array_append_new(root, e) < 0)
			return err_errno(err, ENOMEM, "manifest.json");
	}
	*out = json_dumps(root, JSON_COMPACT);
	return *out ? 0 : err_errno(err, ENOMEM, "manifest.json");
}

static int add_saved(struct saved **v, size_t *n, struct image_export **x, const char *tag,
		     struct err **err)
{
	struct saved *nv;
	size_t k = 0;

	/* The same image named twice: one entry, both tags. */
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i].x->id, (*x)->id))
			continue;
		if (!tag)
			return 0;
		for (k = 0; (*v)[i].tags[k]; k++)
			if (!strcmp((*v)[i].tags[k], tag))
				return 0;
		char **nt = realloc((*v)[i].tags, (k + 2) * sizeof(char *));
		if (!nt)
			return err_errno(err, ENOMEM, "save");
		(*v)[i].tags = nt;
		nt[k] = strdup(tag);
		nt[k + 1] = NULL;
		return nt[k] ? 0 : err_errno(err, ENOMEM, "save");
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return err_errno(err, ENOMEM, "save");
	*v = nv;
	nv[*n].tags = calloc(2, sizeof(char *));
	if (!nv[*n].tags)
		return err_errno(err, ENOMEM, "save");
	nv[*n].x = steal_ptr(*x);
	(*n)++;
	if (tag && !(nv[*n - 1].tags[0] = strdup(tag)))
		return err_errno(err, ENOMEM, "save");
	return 0;
}

static void archive_write_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

static int write_archive(struct writer *w, const struct saved *v, size_t n, struct err **err)
{
	_cleanup_free_ char *ix = NULL, *mj = NULL;
	int r = 0;

	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK)
		return err_set(err, EIO, "archive: %s", archive_error_string(w->a));
	if (put_header(w, "blobs/", AE_IFDIR, 0, err) < 0 ||
	    put_header(w, "blobs/sha256/", AE_IFDIR, 0, err) < 0)
		return err_ret(*err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct image_export *x = v[i].x;
		for (size_t k = 0; r == 0 && k < x->n_layers; k++)
			r = put_blob(w, &x->layers[k], err);
		if (r == 0)
			r = put_blob(w, &x->config, err);
		if (r == 0)
			r = put_memblob(w, x->manifest_digest, x->manifest, x->manifest_len, err);
	}
	if (r == 0)
		r = index_json(v, n, &ix, err);
	if (r == 0)
		r = manifest_json(v, n, &mj, err);
	if (r == 0)
		r = put_bytes(w, "oci-layout", OCI_LAYOUT, strlen(OCI_LAYOUT), err);
	if (r == 0)
		r = put_bytes(w, "index.json", ix, strlen(ix), err);
	if (r == 0)
		r = put_bytes(w, "manifest.json", mj, strlen(mj), err);
	if (r == 0 && archive_write_close(w->a) != ARCHIVE_OK)
		r = err_set(err, EIO, "archive: %s", archive_error_string(w->a));
	return r;
}

int image_store_save(struct image_store *s, char *const *refs, int fd, struct err **err)
{
	__attribute__((cleanup(archive_write_freep))) struct archive *a = NULL;
	struct writer w = {.fd = fd};
	struct saved *v = NULL;
	size_t n = 0;
	int r = 0;

	if (!refs || !refs[0])
		return err_set(err, EINVAL, "save: no image given");
	if (image_archive_load(err) < 0)
		return err_prefix(err, "save");
	for (char *const *ref = refs; r == 0 && *ref; ref++) {
		struct image_export *x = NULL;

		r = image_store_export_open(s, *ref, &x, err);
		if (r == 0)
			r = add_saved(&v, &n, &x, asked_name(*ref, x->names), err);
		image_export_free(x);
	}
	if (r == 0) {
		a = w.a = archive_write_new();
		if (!a)
			r = err_errno(err, ENOMEM, "save");
	}
	if (r == 0)
		r = write_archive(&w, v, n, err);
	for (size_t i = 0; i < n; i++) {
		image_export_free(v[i].x);
		strvfree(v[i].tags);
	}
	free(v);
	strvfree(w.written);
	return r < 0 ? err_prefix(err, "save") : 0;
}

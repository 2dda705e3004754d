/*
 * image/load.c - `moat load`: an OCI image layout or a `docker save`
 * archive, read as one tar stream, into the store.
 *
 * Runs in: the CLI process, as root or as the calling user.
 *
 * Invariants:
 *  - the archive is streamed once; every regular member is staged as a
 *    numbered file in the transaction's private directory while it is
 *    hashed, so member names from the archive never become paths;
 *  - a blob is used only after its staged content matched the digest and
 *    size of the descriptor that names it, and JSON is parsed only after
 *    that check (CVE-2021-21285); every layer's DiffID is recomputed and
 *    compared with the config before anything is committed;
 *  - the store changes only in store_txn_commit(), all or nothing; any
 *    earlier failure leaves it untouched (a kill leaves the transaction's
 *    staging directory, which the next transaction sweeps);
 *  - names are stored in Docker's familiar form ("x:1", not
 *    "docker.io/library/x:1"), as pull and tag store them;
 *  - errors name the archive member and what is wrong with it.
 */
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/archive.h"

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "image/internal.h"
#include "image/reference.h"

#define LOAD_MAX_MEMBERS 100000u
#define LOAD_MAX_DEPTH 4 /* nested indexes */

struct member {
	char *name;
	char *link; /* an alias of another member (symlink or hardlink) */
	char stage[32];
	char hex[SHA256_HEX_LEN + 1];
	uint64_t size;
};

struct loader {
	struct image_store *s;
	struct store_txn *t;
	struct member *m;
	size_t n, cap;
	char **out; /* names (or ids) added */
	size_t n_out;
	int64_t now;
};

static void loader_clear(struct loader *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->m[i].name);
		free(l->m[i].link);
	}
	free(l->m);
	strvfree(l->out);
	store_txn_free(l->t);
}

/* "./a//b/" -> "a/b"; resolves ".." lexically; false if it leaves the top. */
static bool norm_path(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;

	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 1 && p[0] == '.') {
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!o)
				return false;
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
		} else {
			if (o + n + 2 > cap)
				return false;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = 0;
	return o > 0;
}

static struct member *find(struct loader *l, const char *name)
{
	char cur[4096];

	if (!norm_path(name, cur, sizeof(cur)))
		return NULL;
	for (int hops = 0; hops < 8; hops++) {
		struct member *m = NULL;
		for (size_t i = l->n; i-- > 0;) {
			if (!strcmp(l->m[i].name, cur)) {
				m = &l->m[i];
				break;
			}
		}
		if (!m || !m->link)
			return m;
		snprintf(cur, sizeof(cur), "%s", m->link);
	}
	return NULL;
}

static int add_member(struct loader *l, const char *name, struct member **out, struct err **err)
{
	char clean[4096];

	*out = NULL;
	if (!norm_path(name, clean, sizeof(clean)))
		return 0; /* unusable name: nothing can refer to it */
	if (l->n >= LOAD_MAX_MEMBERS)
		return err_set(err, EFBIG, "archive: more than %u members", LOAD_MAX_MEMBERS);
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 64;
		struct member *nm = realloc(l->m, c * sizeof(*nm));
		if (!nm)
			return err_errno(err, ENOMEM, "archive");
		l->m = nm;
		l->cap = c;
	}
	*out = &l->m[l->n];
	memset(*out, 0, sizeof(**out));
	(*out)->name = strdup(clean);
	if (!(*out)->name)
		return err_errno(err, ENOMEM, "archive");
	l->n++;
	return 0;
}

static int stage(struct loader *l, struct archive *a, struct member *m, struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct digest_ctx *md = digest_ctx_new();
	static char buf[65536];
	int r = 0;

	if (!md)
		return err_errno(err, ENOMEM, "archive");
	store_txn_tmpname(l->t, m->stage);
	fd = openat(store_txn_dirfd(l->t), m->stage,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		r = err_errno(err, errno, "archive: stage \"%.200s\"", m->name);
	while (r == 0) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			r = err_set(err, EINVAL, "archive: \"%.200s\": %s", m->name,
				    archive_error_string(a));
			break;
		}
		if (n == 0)
			break;
		m->size += (uint64_t)n;
		if (m->size > IMAGE_LAYER_MAX_BYTES) {
			r = err_set(err, EFBIG, "archive: \"%.200s\" is too large", m->name);
			break;
		}
		digest_ctx_update(md, buf, (size_t)n);
		if (fs_write_all(fd, buf, (size_t)n) < 0)
			r = err_errno(err, errno, "archive: stage \"%.200s\"", m->name);
	}
	digest_ctx_final(md, m->hex);
	return r;
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static int read_archive(struct loader *l, int fd, struct err **err)
{
	__attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
	struct archive_entry *e;

	if (!a)
		return err_errno(err, ENOMEM, "archive");
	archive_read_support_format_tar(a);
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(a) != ARCHIVE_OK)
		return err_set(err, ENOTSUP, "archive: libarchive lacks built-in gzip/zstd");
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
		return err_set(err, EINVAL, "archive: %s", archive_error_string(a));
	for (;;) {
		int r = archive_read_next_header(a, &e);
		const char *name, *hl, *sl;
		struct member *m;

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return err_set(err, EINVAL, "archive: %s", archive_error_string(a));
		name = archive_entry_pathname(e);
		if (!name)
			name = archive_entry_pathname_utf8(e);
		if (!name)
			continue;
		hl = archive_entry_hardlink(e);
		sl = archive_entry_filetype(e) == AE_IFLNK ? archive_entry_symlink(e) : NULL;
		if (!hl && !sl && archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (add_member(l, name, &m, err) < 0)
			return err_ret(*err);
		if (!m)
			continue;
		if (hl || sl) {
			char target[4096], joined[8192];
			if (sl && sl[0] != '/') {
				const char *slash = strrchr(m->name, '/');
				snprintf(joined, sizeof(joined), "%.*s/%s",
					 slash ? (int)(slash - m->name) : 0, m->name, sl);
			} else {
				snprintf(joined, sizeof(joined), "%s", hl ? hl : sl);
			}
			if (norm_path(joined, target, sizeof(target)) &&
			    !(m->link = strdup(target)))
				return err_errno(err, ENOMEM, "archive");
			if (!m->link)
				m->link = strdup("");
			continue;
		}
		if (stage(l, a, m, err) < 0)
			return err_ret(*err);
	}
	return 0;
}

static int open_member(struct loader *l, const struct member *m, struct err **err)
{
	int fd = openat(store_txn_dirfd(l->t), m->stage, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	return fd >= 0 ? fd : err_errno(err, errno, "archive: \"%s\"", m->name);
}

static int read_member(struct loader *l, const struct member *m, char **buf, size_t *len,
		       struct err **err)
{
	_cleanup_close_ int fd = -1;

	if (m->size > IMAGE_JSON_MAX)
		return err_set(err, EFBIG, "\"%s\": larger than %u bytes", m->name, IMAGE_JSON_MAX);
	fd = open_member(l, m, err);
	if (fd < 0)
		return fd;
	if (fs_read_fd(fd, IMAGE_JSON_MAX, buf, len, err) < 0)
		return err_prefix(err, "\"%s\"", m->name);
	return 0;
}

/* The blob a descriptor names, checked against its digest and size. */
static int blob(struct loader *l, const struct image_descriptor *d, struct member **out,
		struct err **err)
{
	char name[128];
	struct member *m;

	snprintf(name, sizeof(name), "blobs/sha256/%s", d->digest + 7);
	m = find(l, name);
	if (!m)
		return err_set(err, ENOENT, "\"%s\": missing from the archive", name);
	if (strcmp(m->hex, d->digest + 7))
		return err_set(err, EINVAL, "\"%s\": content does not match its digest (sha256:%s)",
			       name, m->hex);
	if (m->size != (uint64_t)d->size)
		return err_set(err, EINVAL, "\"%s\": size %llu, descriptor says %lld", name,
			       (unsigned long long)m->size, (long long)d->size);
	*out = m;
	return 0;
}

/* Extracts (and so validates) the layer, checking its DiffID. */
static int layer_check(struct loader *l, const struct member *m, const char *diff_id,
		       uint64_t *size, struct err **err)
{
	if (store_txn_add_layer(l->t, m->stage, diff_id, size, err) < 0)
		return err_prefix(err, "\"%s\"", m->name);
	return 0;
}

static int add_output(struct loader *l, char **names, const char *id, struct err **err)
{
	for (char **n = names; n && *n; n++) {
		char **nv = realloc(l->out, (l->n_out + 2) * sizeof(char *));
		if (!nv)
			return err_errno(err, ENOMEM, "load");
		l->out = nv;
		nv[l->n_out] = strdup(*n);
		nv[++l->n_out] = NULL;
		if (!nv[l->n_out - 1])
			return err_errno(err, ENOMEM, "load");
	}
	if (names && *names)
		return 0;
	char *one[] = {(char *)id, NULL};
	return add_output(l, one, id, err);
}

static void record_free_layers(struct store_record *r)
{
	for (size_t i = 0; i < r->n_layers; i++) {
		free(r->layers[i].digest);
		free(r->layers[i].media_type);
		free(r->layers[i].diff_id);
	}
	free(r->layers);
	r->layers = NULL;
	r->n_layers = 0;
}

/* Config checks shared by both formats: REC gets the DiffIDs. */
static int use_config(struct loader *l, struct store_record *rec, const struct member *cm,
		      const char *cfg, size_t cfg_len, struct err **err)
{
	struct image_config *c = NULL;
	int r = 0;

	if (image_config_decode(cfg, cfg_len, &c, err) < 0)
		return err_prefix(err, "\"%s\"", cm->name);
	if (c->n_diff_ids != rec->n_layers)
		r = err_set(err, EINVAL, "\"%s\": %zu diff_ids for %zu layers", cm->name,
			    c->n_diff_ids, rec->n_layers);
	for (size_t i = 0; r == 0 && i < rec->n_layers; i++)
		if (!(rec->layers[i].diff_id = strdup(c->diff_ids[i])))
			r = err_errno(err, ENOMEM, "load");
	image_config_free(c);
	if (r == 0)
		r = store_txn_add_blob(l->t, cm->stage, rec->id + 7, err);
	return r;
}

/* After every layer was extracted and checked: the record goes in. */
static int add_image(struct loader *l, struct store_record *rec, char **names, struct err **err)
{
	int r;

	rec->created = l->now;
	r = store_txn_add_image(l->t, rec, names, err);
	if (r == 0)
		r = add_output(l, names, rec->id, err);
	return r;
}

static int oci_manifest(struct loader *l, const struct image_descriptor *d, char **names,
			struct err **err)
{
	_cleanup_free_ char *buf = NULL, *cfg = NULL;
	struct image_manifest *man = NULL;
	struct store_record rec = {0};
	struct member *m, *cm = NULL;
	size_t len, cfg_len = 0;
	int r;

	if (blob(l, d, &m, err) < 0 || read_member(l, m, &buf, &len, err) < 0)
		return err_ret(*err);
	if (image_manifest_decode(buf, len, d->media_type, &man, err) < 0)
		return err_prefix(err, "\"%s\"", m->name);
	r = store_txn_add_blob(l->t, m->stage, m->hex, err);
	if (r == 0 && strcmp(man->config.media_type, IMAGE_MT_OCI_CONFIG) &&
	    strcmp(man->config.media_type, IMAGE_MT_DOCKER_CONFIG))
		r = err_set(err, ENOTSUP,
			    "\"%s\": not a container image (config media type \"%.200s\")", m->name,
			    man->config.media_type);
	if (r == 0 &&
	    (blob(l, &man->config, &cm, err) < 0 || read_member(l, cm, &cfg, &cfg_len, err) < 0))
		r = err_ret(*err);
	snprintf(rec.id, sizeof(rec.id), "%s", man->config.digest);
	snprintf(rec.manifest, sizeof(rec.manifest), "%s", d->digest);
	if (r == 0 && !(rec.layers = calloc(man->n_layers + 1, sizeof(*rec.layers))))
		r = err_errno(err, ENOMEM, "load");
	for (size_t i = 0; r == 0 && i < man->n_layers; i++) {
		struct member *lm;
		rec.n_layers++;
		rec.layers[i].digest = strdup(man->layers[i].digest);
		rec.layers[i].media_type = strdup(man->layers[i].media_type);
		if (!rec.layers[i].digest || !rec.layers[i].media_type)
			r = err_errno(err, ENOMEM, "load");
		else if (blob(l, &man->layers[i], &lm, err) < 0 ||
			 store_txn_add_blob(l->t, lm->stage, lm->hex, err) < 0)
			r = err_ret(*err);
	}
	/* DiffIDs come from the config, which is checked before use. */
	if (r == 0)
		r = use_config(l, &rec, cm, cfg, cfg_len, err);
	for (size_t i = 0; r == 0 && i < rec.n_layers; i++) {
		struct member *lm = NULL;
		blob(l, &man->layers[i], &lm, err);
		r = layer_check(l, lm, rec.layers[i].diff_id, &rec.layers[i].size, err);
		rec.size += rec.layers[i].size;
	}
	if (r == 0)
		r = add_image(l, &rec, names, err);
	image_manifest_free(man);
	record_free_layers(&rec);
	return r;
}

static bool platform_ok(const struct image_descriptor *d)
{
	const char *ref = image_descriptor_annotation(d, "vnd.docker.reference.type");

	if (ref && !strcmp(ref, "attestation-manifest"))
		return false;
	if (!d->has_platform)
		return true;
	return !strcmp(d->platform.os, "linux") &&
	       !strcmp(d->platform.architecture, image_host_arch());
}

static int oci_desc(struct loader *l, const struct image_descriptor *d, char **names, int depth,
		    struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	struct image_index *ix = NULL;
	struct member *m;
	size_t len;
	int r = 1;

	if (image_media_type_is_manifest(d->media_type))
		return oci_manifest(l, d, names, err);
	if (!image_media_type_is_index(d->media_type))
		return 1; /* not an image: left alone */
	if (depth >= LOAD_MAX_DEPTH)
		return err_set(err, ELOOP, "index %s: nested too deeply", d->digest);
	if (blob(l, d, &m, err) < 0 || read_member(l, m, &buf, &len, err) < 0)
		return err_ret(*err);
	if (image_index_decode(buf, len, d->media_type, &ix, err) < 0)
		return err_prefix(err, "\"%s\"", m->name);
	/* First match for this platform wins. */
	for (size_t i = 0; r > 0 && i < ix->n_manifests; i++)
		if (platform_ok(&ix->manifests[i]))
			r = oci_desc(l, &ix->manifests[i], names, depth + 1, err);
	if (r > 0)
		r = err_set(err, ENOENT, "\"%s\": no image for linux/%s", m->name,
			    image_host_arch());
	image_index_free(ix);
	return r;
}

/* NAME as the store keeps it, Docker's familiar "name:tag" (what `moat
 * save` wrote as "docker.io/library/x:1" comes back as "x:1"); refused
 * when it cannot be a reference or carries a digest. */
static int familiar_tag(const char *name, char **out, struct err **err)
{
	struct image_reference r = {0};
	_cleanup_free_ char *fam = NULL;

	*out = NULL;
	if (image_reference_parse(name, &r, err) < 0)
		return err_ret(*err);
	if (r.digest) {
		image_reference_clear(&r);
		return err_set(err, EINVAL, "\"%.200s\": a digest reference is not an image name",
			       name);
	}
	fam = image_reference_familiar(&r);
	image_reference_clear(&r);
	if (!fam)
		return err_errno(err, ENOMEM, "load");
	return image_ref_normalize(fam, out, err);
}

static int desc_names(const struct image_descriptor *d, size_t i, char ***names, struct err **err)
{
	const char *n = image_descriptor_annotation(d, "io.containerd.image.name");
	char *norm = NULL;

	*names = NULL;
	if (!n) {
		n = image_descriptor_annotation(d, "org.opencontainers.image.ref.name");
		/* A bare tag ("latest") names no repository: no name. */
		if (n && !strchr(n, ':') && !strchr(n, '/'))
			n = NULL;
	}
	if (!n)
		return 0;
	if (familiar_tag(n, &norm, err) < 0)
		return err_prefix(err, "index.json: manifests[%zu]", i);
	*names = calloc(2, sizeof(char *));
	if (!*names) {
		free(norm);
		return err_errno(err, ENOMEM, "load");
	}
	(*names)[0] = norm;
	return 0;
}

static int load_oci(struct loader *l, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ json_t *lay = NULL;
	struct image_index *ix = NULL;
	struct member *m = find(l, "oci-layout");
	json_t *v;
	size_t len;
	int r = 0, found = 0;

	if (read_member(l, m, &buf, &len, err) < 0)
		return err_ret(*err);
	lay = json_parse_strict(buf, len, "oci-layout", err);
	if (!lay)
		return err_ret(*err);
	v = json_object_get(lay, "imageLayoutVersion");
	if (!json_is_string(v) || strncmp(json_string_value(v), "1.0.", 4))
		return err_set(err, ENOTSUP, "oci-layout: unsupported imageLayoutVersion");
	free(buf);
	buf = NULL;
	m = find(l, "index.json");
	if (read_member(l, m, &buf, &len, err) < 0)
		return err_ret(*err);
	if (image_index_decode(buf, len, IMAGE_MT_OCI_INDEX, &ix, err) < 0)
		return err_prefix(err, "index.json");
	for (size_t i = 0; r >= 0 && i < ix->n_manifests; i++) {
		_cleanup_strv_ char **names = NULL;
		const struct image_descriptor *d = &ix->manifests[i];

		if (!platform_ok(d))
			continue;
		r = desc_names(d, i, &names, err);
		if (r == 0)
			r = oci_desc(l, d, names, 0, err);
		if (r == 0)
			found++;
		else if (r < 0)
			err_prefix(err, "index.json: manifests[%zu]", i);
	}
	image_index_free(ix);
	if (r < 0)
		return r;
	if (!found)
		return err_set(err, ENOENT, "index.json: no image for linux/%s", image_host_arch());
	return 0;
}

static const char *layer_type(struct loader *l, const struct member *m, struct err **err)
{
	_cleanup_close_ int fd = open_member(l, m, err);
	unsigned char b[4] = {0};

	if (fd < 0)
		return NULL;
	if (pread(fd, b, sizeof(b), 0) < 0) {
		err_errno(err, errno, "\"%s\"", m->name);
		return NULL;
	}
	if (b[0] == 0x1f && b[1] == 0x8b)
		return IMAGE_MT_OCI_LAYER "+gzip";
	if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return IMAGE_MT_OCI_LAYER "+zstd";
	return IMAGE_MT_OCI_LAYER;
}

/* If PATH ends in a digest ("<hex>.json", "blobs/sha256/<hex>"), it is
 * the digest its content must have. */
static bool name_matches(const char *path, const char *hex)
{
	const char *base = strrchr(path, '/');
	char h[SHA256_HEX_LEN + 1];

	base = base ? base + 1 : path;
	if (strlen(base) < SHA256_HEX_LEN)
		return true;
	memcpy(h, base, SHA256_HEX_LEN);
	h[SHA256_HEX_LEN] = 0;
	if (!digest_hex_valid(h) || (base[64] && strcmp(base + 64, ".json")))
		return true;
	return !strcmp(h, hex);
}

static int docker_entry(struct loader *l, const struct image_save_entry *e, size_t idx,
			struct err **err)
{
	_cleanup_free_ char *cfg = NULL, *man_txt = NULL;
	_cleanup_json_ json_t *man = NULL, *layers = json_array();
	_cleanup_strv_ char **names = NULL;
	struct store_record rec = {0};
	struct member *cm = find(l, e->config);
	char mhex[SHA256_HEX_LEN + 1];
	size_t cfg_len, n = 0;
	int r = 0;

	if (!layers)
		return err_errno(err, ENOMEM, "load");
	if (!cm)
		return err_set(err, ENOENT, "manifest.json[%zu]: \"%.200s\" is missing", idx,
			       e->config);
	if (!name_matches(cm->name, cm->hex))
		return err_set(err, EINVAL, "\"%s\": content does not match its name (sha256:%s)",
			       cm->name, cm->hex);
	if (read_member(l, cm, &cfg, &cfg_len, err) < 0)
		return err_ret(*err);
	snprintf(rec.id, sizeof(rec.id), "sha256:%s", cm->hex);
	names = calloc(1, sizeof(char *));
	for (char **t = e->repo_tags; r == 0 && names && t && *t; t++) {
		char **nv = realloc(names, (n + 2) * sizeof(char *));
		if (!nv)
			return err_errno(err, ENOMEM, "load");
		names = nv;
		names[n + 1] = NULL;
		if (familiar_tag(*t, &names[n], err) < 0)
			return err_prefix(err, "manifest.json[%zu]: RepoTags", idx);
		n++;
	}
	if (!names || !(rec.layers = calloc(e->n_layers + 1, sizeof(*rec.layers))))
		return err_errno(err, ENOMEM, "load");
	for (size_t i = 0; r == 0 && i < e->n_layers; i++) {
		struct member *lm = find(l, e->layers[i]);
		const char *mt;

		rec.n_layers++;
		if (!lm) {
			r = err_set(err, ENOENT, "manifest.json[%zu]: layer \"%.200s\" is missing",
				    idx, e->layers[i]);
			break;
		}
		if (!name_matches(lm->name, lm->hex)) {
			r = err_set(err, EINVAL, "\"%s\": content does not match its name",
				    lm->name);
			break;
		}
		mt = layer_type(l, lm, err);
		if (!mt) {
			r = err_ret(*err);
			break;
		}
		if (asprintf(&rec.layers[i].digest, "sha256:%s", lm->hex) < 0)
			rec.layers[i].digest = NULL;
		rec.layers[i].media_type = strdup(mt);
		if (!rec.layers[i].digest || !rec.layers[i].media_type ||
		    json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", mt,
							    "digest", rec.layers[i].digest, "size",
							    (json_int_t)lm->size)) < 0)
			r = err_errno(err, ENOMEM, "load");
		else
			r = store_txn_add_blob(l->t, lm->stage, lm->hex, err);
	}
	/* docker save has no manifest: one is written, so that every image
	 * in the store has the same shape. */
	if (r == 0) {
		man =
		    json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
			      IMAGE_MT_OCI_MANIFEST, "config", "mediaType", IMAGE_MT_OCI_CONFIG,
			      "digest", rec.id, "size", (json_int_t)cm->size, "layers", layers);
		man_txt = man ? json_dumps(man, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (!man_txt)
			r = err_errno(err, ENOMEM, "load");
		else if (store_txn_add_bytes(l->t, man_txt, strlen(man_txt), mhex, err) < 0)
			r = err_ret(*err);
		snprintf(rec.manifest, sizeof(rec.manifest), "sha256:%s", mhex);
	}
	if (r == 0)
		r = use_config(l, &rec, cm, cfg, cfg_len, err);
	for (size_t i = 0; r == 0 && i < rec.n_layers; i++) {
		r = layer_check(l, find(l, e->layers[i]), rec.layers[i].diff_id,
				&rec.layers[i].size, err);
		rec.size += rec.layers[i].size;
	}
	if (r == 0)
		r = add_image(l, &rec, names, err);
	record_free_layers(&rec);
	return r;
}

static int load_docker(struct loader *l, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	struct image_save_manifest *sm = NULL;
	size_t len;
	int r = 0;

	if (read_member(l, find(l, "manifest.json"), &buf, &len, err) < 0)
		return err_ret(*err);
	if (image_save_manifest_decode(buf, len, &sm, err) < 0)
		return err_ret(*err);
	if (!sm->n_entries)
		r = err_set(err, EINVAL, "manifest.json: no images");
	for (size_t i = 0; r == 0 && i < sm->n_entries; i++)
		r = docker_entry(l, &sm->entries[i], i, err);
	image_save_manifest_free(sm);
	return r;
}

int image_store_load(struct image_store *s, int fd, char ***names, struct err **err)
{
	struct loader l = {.s = s};
	int r;

	*names = NULL;
	l.now = time(NULL);
	r = store_txn_begin(s, &l.t, err);
	if (r == 0)
		r = read_archive(&l, fd, err);
	if (r == 0) {
		struct member *lay = find(&l, "oci-layout"), *ix = find(&l, "index.json");
		/* moby >= 25 writes both; the OCI side carries digests. */
		if (lay && ix)
			r = load_oci(&l, err);
		else if (find(&l, "manifest.json"))
			r = load_docker(&l, err);
		else
			r = err_set(err, EINVAL,
				    "archive has neither oci-layout and index.json nor "
				    "manifest.json: not an OCI layout or docker save archive");
	}
	if (r == 0)
		r = store_txn_commit(l.t, err);
	if (r == 0)
		*names = steal_ptr(l.out);
	loader_clear(&l);
	return r < 0 ? err_prefix(err, "load") : 0;
}

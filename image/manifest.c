/*
 * image/manifest.c - decoding of OCI image indexes and manifests, Docker
 * schema2 manifests and manifest lists, and `docker save` manifest.json;
 * local reference normalisation.
 *
 * Runs in: any moat process. Pure: bytes in, typed structs out; nothing
 * here touches the filesystem. One decoder per schema; no json_t leaves.
 *
 * Invariants:
 *  - input larger than IMAGE_JSON_MAX is refused before it is parsed (the
 *    caller has already checked the bytes against their descriptor);
 *  - a document with "manifests" together with "layers" or "config" is
 *    refused, and a document's mediaType must agree with the descriptor
 *    that led to it (CVE-2021-41190: two tools must never read one digest
 *    as two different things);
 *  - schema1 (and anything with schemaVersion != 2) is refused;
 *  - every descriptor has a sha256 digest and a size >= 0; layers have a
 *    tar, tar+gzip or tar+zstd media type, anything else is named in the
 *    error.
 */
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/json.h"

#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

static const struct {
	const char *mt;
	enum image_layer_comp comp;
} layer_types[] = {
    {"application/vnd.oci.image.layer.v1.tar", IMAGE_LAYER_TAR},
    {"application/vnd.oci.image.layer.v1.tar+gzip", IMAGE_LAYER_GZIP},
    {"application/vnd.oci.image.layer.v1.tar+zstd", IMAGE_LAYER_ZSTD},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar", IMAGE_LAYER_TAR},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", IMAGE_LAYER_GZIP},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", IMAGE_LAYER_ZSTD},
    {"application/vnd.docker.image.rootfs.diff.tar", IMAGE_LAYER_TAR},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", IMAGE_LAYER_GZIP},
    {"application/vnd.docker.image.rootfs.diff.tar.zstd", IMAGE_LAYER_ZSTD},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", IMAGE_LAYER_GZIP},
};

bool image_media_type_is_index(const char *mt)
{
	return mt && (!strcmp(mt, IMAGE_MT_OCI_INDEX) || !strcmp(mt, IMAGE_MT_DOCKER_LIST));
}

bool image_media_type_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, IMAGE_MT_OCI_MANIFEST) || !strcmp(mt, IMAGE_MT_DOCKER_MANIFEST));
}

const char *image_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

static void descriptor_clear(struct image_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	for (size_t i = 0; i < d->n_annotations; i++) {
		free(d->annotations[i].key);
		free(d->annotations[i].value);
	}
	free(d->annotations);
	free(d->platform.architecture);
	free(d->platform.os);
	free(d->platform.variant);
	free(d->platform.os_version);
	memset(d, 0, sizeof(*d));
}

const char *image_descriptor_annotation(const struct image_descriptor *d, const char *key)
{
	for (size_t i = 0; i < d->n_annotations; i++)
		if (!strcmp(d->annotations[i].key, key))
			return d->annotations[i].value;
	return NULL;
}

static int decode_annotations(json_t *obj, struct image_descriptor *d, const char *what,
			      struct err **err)
{
	json_t *v = json_object_get(obj, "annotations"), *e;
	const char *k;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return err_set(err, EINVAL, "%s: \"annotations\" must be an object", what);
	d->annotations = calloc(json_object_size(v) + 1, sizeof(*d->annotations));
	if (!d->annotations)
		return err_errno(err, ENOMEM, "%s", what);
	json_object_foreach (v, k, e) {
		struct image_kv *kv = &d->annotations[d->n_annotations];

		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
			return err_set(err, EINVAL, "%s: annotation \"%s\" must be a string", what,
				       k);
		kv->key = strdup(k);
		kv->value = strdup(json_string_value(e));
		d->n_annotations++;
		if (!kv->key || !kv->value)
			return err_errno(err, ENOMEM, "%s", what);
	}
	return 0;
}

static int decode_platform(json_t *obj, struct image_descriptor *d, const char *what,
			   struct err **err)
{
	json_t *p = json_object_get(obj, "platform");
	int r;

	if (!p || json_is_null(p))
		return 0;
	if (!json_is_object(p))
		return err_set(err, EINVAL, "%s: \"platform\" must be an object", what);
	d->has_platform = true;
	if ((r = json_get_str(p, "architecture", &d->platform.architecture, what, err)) < 0 ||
	    (r = json_get_str(p, "os", &d->platform.os, what, err)) < 0 ||
	    (r = json_get_str(p, "variant", &d->platform.variant, what, err)) < 0 ||
	    (r = json_get_str(p, "os.version", &d->platform.os_version, what, err)) < 0)
		return r;
	if (!d->platform.architecture || !d->platform.os)
		return err_set(err, EINVAL, "%s: platform needs \"architecture\" and \"os\"", what);
	return 0;
}

static int decode_descriptor(json_t *obj, struct image_descriptor *d, const char *what,
			     struct err **err)
{
	json_t *size;
	int r;

	if (!json_is_object(obj))
		return err_set(err, EINVAL, "%s: not an object", what);
	if ((r = json_get_str(obj, "mediaType", &d->media_type, what, err)) < 0 ||
	    (r = json_get_str(obj, "digest", &d->digest, what, err)) < 0)
		return r;
	if (!d->media_type || !*d->media_type)
		return err_set(err, EINVAL, "%s: \"mediaType\" is missing", what);
	if (!d->digest)
		return err_set(err, EINVAL, "%s: \"digest\" is missing", what);
	if (!digest_valid(d->digest)) {
		if (!strncmp(d->digest, "sha512:", 7) || !strncmp(d->digest, "blake3:", 7))
			return err_set(err, ENOTSUP,
				       "%s: digest algorithm of \"%.80s\" is not "
				       "supported (only sha256)",
				       what, d->digest);
		return err_set(err, EINVAL, "%s: \"%.80s\" is not a valid sha256 digest", what,
			       d->digest);
	}
	size = json_object_get(obj, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(err, EINVAL, "%s: \"size\" must be an integer >= 0", what);
	d->size = json_integer_value(size);
	if ((r = decode_annotations(obj, d, what, err)) < 0 ||
	    (r = decode_platform(obj, d, what, err)) < 0)
		return r;
	return 0;
}

static int decode_layer(json_t *obj, struct image_descriptor *d, size_t i, struct err **err)
{
	char what[64];
	size_t k;
	int r;

	snprintf(what, sizeof(what), "manifest: layers[%zu]", i);
	r = decode_descriptor(obj, d, what, err);
	if (r < 0)
		return r;
	for (k = 0; k < ARRAY_SIZE(layer_types); k++) {
		if (!strcmp(d->media_type, layer_types[k].mt)) {
			d->comp = layer_types[k].comp;
			return 0;
		}
	}
	return err_set(err, ENOTSUP, "%s: unsupported layer media type \"%.200s\"", what,
		       d->media_type);
}

/* Parses and applies the checks every manifest-like document shares. */
static json_t *parse_doc(const char *buf, size_t len, const char *what, char **mt, struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *sv;

	*mt = NULL;
	if (len > IMAGE_JSON_MAX) {
		err_set(err, EFBIG, "%s: larger than %u bytes", what, IMAGE_JSON_MAX);
		return NULL;
	}
	root = json_parse_strict(buf, len, what, err);
	if (!root)
		return NULL;
	if (!json_is_object(root)) {
		err_set(err, EINVAL, "%s: not a JSON object", what);
		return NULL;
	}
	if (json_get_str(root, "mediaType", mt, what, err) < 0)
		return NULL;
	sv = json_object_get(root, "schemaVersion");
	if ((*mt && (!strcmp(*mt, MT_DOCKER_SCHEMA1) || !strcmp(*mt, MT_DOCKER_SCHEMA1_SIGNED))) ||
	    (json_is_integer(sv) && json_integer_value(sv) == 1) ||
	    json_object_get(root, "fsLayers") || json_object_get(root, "signatures")) {
		err_set(err, ENOTSUP, "%s: Docker schema1 manifests are not supported", what);
		goto fail;
	}
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		err_set(err, EINVAL, "%s: \"schemaVersion\" must be 2", what);
		goto fail;
	}
	/* CVE-2021-41190: one document must not be both a manifest and an index. */
	if (json_object_get(root, "manifests") &&
	    (json_object_get(root, "layers") || json_object_get(root, "config"))) {
		err_set(err, EINVAL,
			"%s: has \"manifests\" together with \"layers\" or \"config\" "
			"(ambiguous, CVE-2021-41190)",
			what);
		goto fail;
	}
	return steal_ptr(root);
fail:
	free(*mt);
	*mt = NULL;
	return NULL;
}

void image_manifest_free(struct image_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	descriptor_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_clear(&m->layers[i]);
	free(m->layers);
	free(m);
}

static void manifest_freep(struct image_manifest **m)
{
	image_manifest_free(*m);
}

int image_manifest_decode(const char *buf, size_t len, const char *media_type,
			  struct image_manifest **out, struct err **err)
{
	__attribute__((cleanup(manifest_freep))) struct image_manifest *m = NULL;
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *mt = NULL;
	json_t *layers, *e;
	size_t i;
	int r;

	*out = NULL;
	if (media_type && !image_media_type_is_manifest(media_type))
		return err_set(err, EINVAL, "manifest: unexpected media type \"%.200s\"",
			       media_type);
	root = parse_doc(buf, len, "manifest", &mt, err);
	if (!root)
		return err_ret(*err);
	if (mt && !image_media_type_is_manifest(mt))
		return err_set(err, EINVAL, "manifest: mediaType \"%.200s\" is not a manifest", mt);
	if (mt && media_type && strcmp(mt, media_type))
		return err_set(err, EINVAL,
			       "manifest: mediaType \"%.200s\" does not match its descriptor's "
			       "\"%.200s\"",
			       mt, media_type);
	if (!mt && media_type && strcmp(media_type, IMAGE_MT_OCI_MANIFEST))
		return err_set(err, EINVAL, "manifest: mediaType is missing");
	if (json_object_get(root, "manifests"))
		return err_set(err, EINVAL, "manifest: has \"manifests\" (an index?)");
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_errno(err, ENOMEM, "manifest");
	m->media_type = steal_ptr(mt);
	m->docker = m->media_type && !strcmp(m->media_type, IMAGE_MT_DOCKER_MANIFEST);
	if (!json_object_get(root, "config"))
		return err_set(err, EINVAL, "manifest: \"config\" is missing");
	r = decode_descriptor(json_object_get(root, "config"), &m->config, "manifest: config", err);
	if (r < 0)
		return r;
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers))
		return err_set(err, EINVAL, "manifest: \"layers\" must be an array");
	m->layers = calloc(json_array_size(layers) + 1, sizeof(*m->layers));
	if (!m->layers)
		return err_errno(err, ENOMEM, "manifest");
	json_array_foreach (layers, i, e) {
		m->n_layers++;
		r = decode_layer(e, &m->layers[i], i, err);
		if (r < 0)
			return r;
	}
	*out = steal_ptr(m);
	return 0;
}

void image_index_free(struct image_index *ix)
{
	if (!ix)
		return;
	free(ix->media_type);
	for (size_t i = 0; i < ix->n_manifests; i++)
		descriptor_clear(&ix->manifests[i]);
	free(ix->manifests);
	free(ix);
}

static void index_freep(struct image_index **ix)
{
	image_index_free(*ix);
}

int image_index_decode(const char *buf, size_t len, const char *media_type,
		       struct image_index **out, struct err **err)
{
	__attribute__((cleanup(index_freep))) struct image_index *ix = NULL;
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *mt = NULL;
	json_t *mans, *e;
	size_t i;
	int r;

	*out = NULL;
	if (media_type && !image_media_type_is_index(media_type))
		return err_set(err, EINVAL, "index: unexpected media type \"%.200s\"", media_type);
	root = parse_doc(buf, len, "index", &mt, err);
	if (!root)
		return err_ret(*err);
	if (mt && !image_media_type_is_index(mt))
		return err_set(err, EINVAL, "index: mediaType \"%.200s\" is not an index", mt);
	if (mt && media_type && strcmp(mt, media_type))
		return err_set(err, EINVAL,
			       "index: mediaType \"%.200s\" does not match its descriptor's "
			       "\"%.200s\"",
			       mt, media_type);
	if (!mt && media_type && strcmp(media_type, IMAGE_MT_OCI_INDEX))
		return err_set(err, EINVAL, "index: mediaType is missing");
	if (json_object_get(root, "layers") || json_object_get(root, "config"))
		return err_set(err, EINVAL, "index: has \"layers\" or \"config\" (a manifest?)");
	mans = json_object_get(root, "manifests");
	if (!json_is_array(mans))
		return err_set(err, EINVAL, "index: \"manifests\" must be an array");
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return err_errno(err, ENOMEM, "index");
	ix->media_type = steal_ptr(mt);
	ix->docker = ix->media_type && !strcmp(ix->media_type, IMAGE_MT_DOCKER_LIST);
	ix->manifests = calloc(json_array_size(mans) + 1, sizeof(*ix->manifests));
	if (!ix->manifests)
		return err_errno(err, ENOMEM, "index");
	json_array_foreach (mans, i, e) {
		char what[64];

		snprintf(what, sizeof(what), "index: manifests[%zu]", i);
		ix->n_manifests++;
		r = decode_descriptor(e, &ix->manifests[i], what, err);
		if (r < 0)
			return r;
	}
	*out = steal_ptr(ix);
	return 0;
}

void image_save_manifest_free(struct image_save_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_entries; i++) {
		free(m->entries[i].config);
		strvfree(m->entries[i].repo_tags);
		strvfree(m->entries[i].layers);
	}
	free(m->entries);
	free(m);
}

static void save_freep(struct image_save_manifest **m)
{
	image_save_manifest_free(*m);
}

int image_save_manifest_decode(const char *buf, size_t len, struct image_save_manifest **out,
			       struct err **err)
{
	__attribute__((cleanup(save_freep))) struct image_save_manifest *m = NULL;
	_cleanup_json_ json_t *root = NULL;
	const char *what = "manifest.json";
	json_t *e;
	size_t i;
	int r;

	*out = NULL;
	if (len > IMAGE_JSON_MAX)
		return err_set(err, EFBIG, "%s: larger than %u bytes", what, IMAGE_JSON_MAX);
	root = json_parse_strict(buf, len, what, err);
	if (!root)
		return err_ret(*err);
	if (!json_is_array(root))
		return err_set(err, EINVAL, "%s: not a JSON array", what);
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_errno(err, ENOMEM, "%s", what);
	m->entries = calloc(json_array_size(root) + 1, sizeof(*m->entries));
	if (!m->entries)
		return err_errno(err, ENOMEM, "%s", what);
	json_array_foreach (root, i, e) {
		struct image_save_entry *s = &m->entries[i];
		char w[64];

		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		m->n_entries++;
		if (!json_is_object(e))
			return err_set(err, EINVAL, "%s: not an object", w);
		if ((r = json_get_str(e, "Config", &s->config, w, err)) < 0 ||
		    (r = json_get_strv(e, "RepoTags", &s->repo_tags, w, err)) < 0 ||
		    (r = json_get_strv(e, "Layers", &s->layers, w, err)) < 0)
			return r;
		if (!s->config || !*s->config)
			return err_set(err, EINVAL, "%s: \"Config\" is missing", w);
		if (!s->layers)
			return err_set(err, EINVAL, "%s: \"Layers\" is missing", w);
		for (char **l = s->layers; *l; l++) {
			if (!**l)
				return err_set(err, EINVAL, "%s: empty layer path", w);
			s->n_layers++;
		}
		if (!s->repo_tags) {
			s->repo_tags = calloc(1, sizeof(char *));
			if (!s->repo_tags)
				return err_errno(err, ENOMEM, "%s", what);
		}
	}
	*out = steal_ptr(m);
	return 0;
}

/* [a-z0-9] separated by '.', '_', "__" or runs of '-' (Docker's grammar,
 * loosely); the first component may be a registry host[:port]. */
static bool repo_valid(const char *r, size_t n)
{
	size_t i;
	bool host = true; /* still in the first component */

	if (!n || n > 255 || r[0] == '/' || r[n - 1] == '/')
		return false;
	for (i = 0; i < n; i++) {
		char c = r[i];

		if (c == '/') {
			if (r[i + 1] == '/')
				return false;
			host = false;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-')
			continue;
		/* host[:port] and upper-case host names before the first '/'. */
		if (host && memchr(r, '/', n) && ((c >= 'A' && c <= 'Z') || c == ':'))
			continue;
		return false;
	}
	return true;
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (!n || n > 128 || *t == '.' || *t == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int image_ref_normalize(const char *ref, char **out, struct err **err)
{
	const char *slash, *colon;
	size_t rlen;

	*out = NULL;
	if (!ref || !*ref)
		return err_set(err, EINVAL, "invalid reference: empty");
	if (strchr(ref, '@'))
		return err_set(err, EINVAL,
			       "invalid reference \"%.200s\": digests are not supported", ref);
	slash = strrchr(ref, '/');
	colon = strrchr(slash ? slash : ref, ':');
	rlen = colon ? (size_t)(colon - ref) : strlen(ref);
	if (!repo_valid(ref, rlen) || (colon && !tag_valid(colon + 1)))
		return err_set(err, EINVAL, "invalid reference format: \"%.200s\"", ref);
	if (colon)
		*out = strdup(ref);
	else if (asprintf(out, "%s:latest", ref) < 0)
		*out = NULL;
	if (!*out)
		return err_errno(err, ENOMEM, "reference");
	return 0;
}

/*
 * image/records.c - the store's two small JSON files: the names index
 * (ROOT/names.json) and one record per image (ROOT/images/<hex>.json).
 *
 * Runs in: the CLI process, under the store lock taken by store.c (shared
 * to read, exclusive to write). Writes are atomic (temp, fsync, rename).
 *
 * Invariants: every id and digest read back is checked (sha256, and a
 * record's id must match its file name) before it becomes a file name.
 */
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "image/internal.h"

#define RECORD_MAX (1u << 20)
#define NAMES_MAX (16u << 20)

static void layer_clear(struct store_layer *l)
{
	free(l->digest);
	free(l->media_type);
	free(l->diff_id);
}

void store_record_clear(struct store_record *r)
{
	for (size_t i = 0; i < r->n_layers; i++)
		layer_clear(&r->layers[i]);
	free(r->layers);
	memset(r, 0, sizeof(*r));
}

/* ---- names index ---- */

void store_names_clear(struct store_names *nm)
{
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->kv[i].key);
		free(nm->kv[i].value);
	}
	free(nm->kv);
	memset(nm, 0, sizeof(*nm));
}

int store_names_set(struct store_names *nm, const char *name, const char *id, struct err **err)
{
	for (size_t i = 0; i < nm->n; i++) {
		if (!strcmp(nm->kv[i].key, name)) {
			char *v = strdup(id);
			if (!v)
				return err_errno(err, ENOMEM, "names");
			free(nm->kv[i].value);
			nm->kv[i].value = v;
			return 0;
		}
	}
	if (nm->n == nm->cap) {
		size_t c = nm->cap ? nm->cap * 2 : 16;
		struct image_kv *k = realloc(nm->kv, c * sizeof(*k));
		if (!k)
			return err_errno(err, ENOMEM, "names");
		nm->kv = k;
		nm->cap = c;
	}
	nm->kv[nm->n].key = strdup(name);
	nm->kv[nm->n].value = strdup(id);
	nm->n++;
	if (!nm->kv[nm->n - 1].key || !nm->kv[nm->n - 1].value)
		return err_errno(err, ENOMEM, "names");
	return 0;
}

void store_names_del(struct store_names *nm, size_t i)
{
	free(nm->kv[i].key);
	free(nm->kv[i].value);
	nm->kv[i] = nm->kv[--nm->n];
}

const char *store_names_get(const struct store_names *nm, const char *name)
{
	for (size_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->kv[i].key, name))
			return nm->kv[i].value;
	return NULL;
}

int store_names_load(int rootfd, struct store_names *nm, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ json_t *root = NULL;
	const char *k;
	json_t *v;
	size_t len;

	memset(nm, 0, sizeof(*nm));
	if (fs_read_at(rootfd, "names.json", NAMES_MAX, &buf, &len, err) < 0) {
		if ((*err)->code == ENOENT) {
			err_free(err);
			return 0;
		}
		return err_prefix(err, "image store");
	}
	root = json_parse_strict(buf, len, "names.json", err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "names.json: not an object");
	json_object_foreach (root, k, v) {
		if (!json_is_string(v) || !digest_valid(json_string_value(v))) {
			store_names_clear(nm);
			return err_set(err, EINVAL, "names.json: bad id for \"%.200s\"", k);
		}
		if (store_names_set(nm, k, json_string_value(v), err) < 0) {
			store_names_clear(nm);
			return err_ret(*err);
		}
	}
	return 0;
}

int store_names_save(int rootfd, const struct store_names *nm, struct err **err)
{
	_cleanup_json_ json_t *root = json_object();
	_cleanup_free_ char *txt = NULL;

	if (!root)
		return err_errno(err, ENOMEM, "names.json");
	for (size_t i = 0; i < nm->n; i++)
		if (json_object_set_new(root, nm->kv[i].key, json_string(nm->kv[i].value)) < 0)
			return err_errno(err, ENOMEM, "names.json");
	txt = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!txt)
		return err_errno(err, ENOMEM, "names.json");
	return fs_write_atomic(rootfd, "names.json", txt, strlen(txt), 0600, err);
}

/* ---- image records ---- */

int store_record_encode(const struct store_record *r, char **out, struct err **err)
{
	_cleanup_json_ json_t *root = NULL, *layers = json_array();

	if (!layers)
		return err_errno(err, ENOMEM, "record");
	for (size_t i = 0; i < r->n_layers; i++) {
		const struct store_layer *l = &r->layers[i];
		if (json_array_append_new(layers,
					  json_pack("{s:s, s:s, s:s, s:I}", "digest", l->digest,
						    "media_type", l->media_type, "diff_id",
						    l->diff_id, "size", (json_int_t)l->size)) < 0)
			return err_errno(err, ENOMEM, "record");
	}
	root =
	    json_pack("{s:s, s:s, s:I, s:I, s:O}", "id", r->id, "manifest", r->manifest, "created",
		      (json_int_t)r->created, "size", (json_int_t)r->size, "layers", layers);
	if (!root)
		return err_errno(err, ENOMEM, "record");
	*out = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!*out)
		return err_errno(err, ENOMEM, "record");
	return 0;
}

int store_record_load(int imagesfd, const char *hex, struct store_record *r, struct err **err)
{
	_cleanup_free_ char *buf = NULL, *id = NULL, *man = NULL;
	_cleanup_json_ json_t *root = NULL;
	char name[80];
	json_t *layers, *e, *v;
	size_t len, i;

	memset(r, 0, sizeof(*r));
	if (!digest_hex_valid(hex))
		return err_set(err, EINVAL, "image store: bad id \"%.80s\"", hex);
	snprintf(name, sizeof(name), "%s.json", hex);
	if (fs_read_at(imagesfd, name, RECORD_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "image record");
	root = json_parse_strict(buf, len, name, err);
	if (!root)
		return err_ret(*err);
	if (json_get_str(root, "id", &id, name, err) < 0 ||
	    json_get_str(root, "manifest", &man, name, err) < 0)
		return err_ret(*err);
	if (!id || !man || !digest_valid(id) || !digest_valid(man) || strcmp(id + 7, hex))
		return err_set(err, EINVAL, "image record %s: bad id or manifest", name);
	memcpy(r->id, id, strlen(id) + 1);
	memcpy(r->manifest, man, strlen(man) + 1);
	v = json_object_get(root, "created");
	r->created = json_is_integer(v) ? json_integer_value(v) : 0;
	v = json_object_get(root, "size");
	r->size =
	    json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers))
		return err_set(err, EINVAL, "image record %s: no layers", name);
	r->layers = calloc(json_array_size(layers) + 1, sizeof(*r->layers));
	if (!r->layers)
		return err_errno(err, ENOMEM, "record");
	json_array_foreach (layers, i, e) {
		struct store_layer *l = &r->layers[i];

		r->n_layers++;
		if (json_get_str(e, "digest", &l->digest, name, err) < 0 ||
		    json_get_str(e, "media_type", &l->media_type, name, err) < 0 ||
		    json_get_str(e, "diff_id", &l->diff_id, name, err) < 0) {
			store_record_clear(r);
			return err_ret(*err);
		}
		v = json_object_get(e, "size");
		l->size = json_is_integer(v) && json_integer_value(v) > 0
			      ? (uint64_t)json_integer_value(v)
			      : 0;
		if (!digest_valid(l->digest) || !digest_valid(l->diff_id) || !l->media_type) {
			store_record_clear(r);
			return err_set(err, EINVAL, "image record %s: bad layer %zu", name, i);
		}
	}
	return 0;
}

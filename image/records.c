/*
 * image/records.c - the store's two small JSON files: the names index
 * (ROOT/names.json) and one record per image (ROOT/images/<hex>.json),
 * and finding an image by reference among them (store_lookup).
 *
 * Runs in: the CLI process, under the store lock taken by store.c (shared
 * to read, exclusive to write). Writes are atomic (temp, fsync, rename).
 *
 * Invariants: every id and digest read back is checked (sha256, and a
 * record's id must match its file name) before it becomes a file name;
 * a record's repo digests are each a canonical familiar "name@sha256:hex"
 * (at most STORE_REPO_DIGESTS_MAX of them), or the record is refused.
 */
#include "image/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "image/internal.h"
#include "image/reference.h"

#define RECORD_MAX (1u << 20)
#define NAMES_MAX (16u << 20)
#define REPO_DIGEST_MAX 512 /* name (<= 255 path + domain) + "@sha256:" + 64 */

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
	strvfree(r->repo_digests);
	image_trust_free(r->trust, r->n_trust);
	memset(r, 0, sizeof(*r));
}

/* ---- trust entries ---- */

void image_trust_clear(struct image_trust *t)
{
	free(t->source);
	free(t->rule);
	free(t->key);
	free(t->identity);
	free(t->digest);
	free(t->payload);
	free(t->signature);
	memset(t, 0, sizeof(*t));
}

void image_trust_free(struct image_trust *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		image_trust_clear(&t[i]);
	free(t);
}

static int dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

int image_trust_copy(const struct image_trust *src, size_t n, struct image_trust **out,
		     struct err **err)
{
	struct image_trust *v;

	*out = NULL;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return err_errno(err, ENOMEM, "trust");
	for (size_t i = 0; i < n; i++) {
		const struct image_trust *a = &src[i];
		struct image_trust *b = &v[i];

		b->signed_at = a->signed_at;
		b->verified_at = a->verified_at;
		if (dup_opt(a->source, &b->source) < 0 || dup_opt(a->rule, &b->rule) < 0 ||
		    dup_opt(a->key, &b->key) < 0 || dup_opt(a->identity, &b->identity) < 0 ||
		    dup_opt(a->digest, &b->digest) < 0 || dup_opt(a->payload, &b->payload) < 0 ||
		    dup_opt(a->signature, &b->signature) < 0) {
			image_trust_free(v, n);
			return err_errno(err, ENOMEM, "trust");
		}
	}
	*out = v;
	return 0;
}

static bool opt_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The same decision: same source, rule, key, identity and digest. */
static bool trust_same(const struct image_trust *a, const struct image_trust *b)
{
	return opt_eq(a->source, b->source) && opt_eq(a->rule, b->rule) && opt_eq(a->key, b->key) &&
	       opt_eq(a->identity, b->identity) && opt_eq(a->digest, b->digest);
}

int store_record_add_trust(struct store_record *r, const struct image_trust *t, size_t n,
			   struct err **err)
{
	int changed = 0;

	for (size_t i = 0; i < n; i++) {
		struct image_trust *one = NULL, *nv;
		size_t j;

		for (j = 0; j < r->n_trust && !trust_same(&r->trust[j], &t[i]); j++)
			;
		if (j < r->n_trust) {
			/* Seen again: keep the newer check. */
			if (t[i].verified_at > r->trust[j].verified_at) {
				r->trust[j].verified_at = t[i].verified_at;
				changed = 1;
			}
			continue;
		}
		if (image_trust_copy(&t[i], 1, &one, err) < 0)
			return err_ret(*err);
		if (r->n_trust >= IMAGE_TRUST_MAX) {
			image_trust_clear(&r->trust[0]);
			memmove(&r->trust[0], &r->trust[1], (r->n_trust - 1) * sizeof(*r->trust));
			r->n_trust--;
		}
		nv = realloc(r->trust, (r->n_trust + 1) * sizeof(*nv));
		if (!nv) {
			image_trust_free(one, 1);
			return err_errno(err, ENOMEM, "trust");
		}
		r->trust = nv;
		r->trust[r->n_trust++] = *one;
		free(one);
		changed = 1;
	}
	return changed;
}

static bool trust_rule_valid(const char *rule)
{
	return rule && (!strcmp(rule, "sigstoreSigned") ||
			!strcmp(rule, "insecureAcceptAnything") || !strcmp(rule, "local"));
}

static json_t *trust_encode(const struct image_trust *t, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		const struct image_trust *e = &t[i];
		json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "source", e->source ? e->source : "",
				      "rule", e->rule, "signed_at", (json_int_t)e->signed_at,
				      "verified_at", (json_int_t)e->verified_at);
		if (o && e->key && json_object_set_new(o, "key", json_string(e->key)) < 0)
			o = NULL;
		if (o && e->identity &&
		    json_object_set_new(o, "identity", json_string(e->identity)) < 0)
			o = NULL;
		if (o && e->digest && json_object_set_new(o, "digest", json_string(e->digest)) < 0)
			o = NULL;
		if (o && e->payload &&
		    json_object_set_new(o, "payload", json_string(e->payload)) < 0)
			o = NULL;
		if (o && e->signature &&
		    json_object_set_new(o, "signature", json_string(e->signature)) < 0)
			o = NULL;
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int trust_decode(json_t *root, const char *name, struct store_record *r, struct err **err)
{
	json_t *arr = json_object_get(root, "trust"), *e;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > IMAGE_TRUST_MAX)
		return err_set(err, EINVAL, "image record %s: bad trust list", name);
	if (json_array_size(arr) == 0)
		return 0;
	r->trust = calloc(json_array_size(arr), sizeof(*r->trust));
	if (!r->trust)
		return err_errno(err, ENOMEM, "record");
	json_array_foreach (arr, i, e) {
		struct image_trust *t = &r->trust[i];
		json_t *v;

		r->n_trust++;
		if (!json_is_object(e) || json_get_str(e, "source", &t->source, name, err) < 0 ||
		    json_get_str(e, "rule", &t->rule, name, err) < 0 ||
		    json_get_str(e, "key", &t->key, name, err) < 0 ||
		    json_get_str(e, "identity", &t->identity, name, err) < 0 ||
		    json_get_str(e, "digest", &t->digest, name, err) < 0 ||
		    json_get_str(e, "payload", &t->payload, name, err) < 0 ||
		    json_get_str(e, "signature", &t->signature, name, err) < 0) {
			if (!*err)
				err_set(err, EINVAL, "image record %s: bad trust entry %zu", name,
					i);
			return err_ret(*err);
		}
		v = json_object_get(e, "signed_at");
		t->signed_at = json_is_integer(v) ? json_integer_value(v) : 0;
		v = json_object_get(e, "verified_at");
		t->verified_at = json_is_integer(v) ? json_integer_value(v) : 0;
		if (!t->source || !trust_rule_valid(t->rule) ||
		    (t->digest && !digest_valid(t->digest)) || (t->key && !digest_valid(t->key)) ||
		    (strcmp(t->rule, "insecureAcceptAnything") && !t->key))
			return err_set(err, EINVAL, "image record %s: bad trust entry %zu", name,
				       i);
	}
	return 0;
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

/*
 * Docker's longer spellings of the familiar NAME ("docker.io/library/x:1"
 * for "x:1", "docker.io/ns/x:1" for "ns/x:1"), which older moats' loads
 * kept verbatim: the same reference, so NAME replaces them.
 */
static void drop_spellings(struct store_names *nm, const char *name)
{
	const char *slash = strchr(name, '/');
	bool host = slash &&
		    (memchr(name, '.', (size_t)(slash - name)) ||
		     memchr(name, ':', (size_t)(slash - name)) || !strncmp(name, "localhost/", 10));
	const char *prefix = !slash ? "docker.io/library/" : !host ? "docker.io/" : NULL;
	size_t pl;

	if (!prefix)
		return;
	pl = strlen(prefix);
	for (size_t i = 0; i < nm->n;) {
		if (!strncmp(nm->kv[i].key, prefix, pl) && !strcmp(nm->kv[i].key + pl, name))
			store_names_del(nm, i);
		else
			i++;
	}
}

int store_names_set_familiar(struct store_names *nm, const char *name, const char *id,
			     struct err **err)
{
	drop_spellings(nm, name);
	return store_names_set(nm, name, id, err);
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

/* ---- repo digests ---- */

int store_repo_digest_make(const char *ref, const char *digest, char **out, struct err **err)
{
	struct image_reference r = {0};
	_cleanup_free_ char *name = NULL;
	int ret = 0;

	*out = NULL;
	if (image_reference_parse(ref, &r, err) < 0)
		return err_ret(*err);
	if (!digest)
		digest = r.digest;
	if (!digest || !digest_valid(digest))
		ret = err_set(err, EINVAL, "\"%.200s\": no sha256 digest", ref);
	if (ret == 0 && !(name = image_reference_familiar_name(&r)))
		ret = err_errno(err, ENOMEM, "repo digest");
	if (ret == 0 && asprintf(out, "%s@%s", name, digest) < 0) {
		*out = NULL;
		ret = err_errno(err, ENOMEM, "repo digest");
	}
	image_reference_clear(&r);
	return ret;
}

/* S is exactly what store_repo_digest_make gives for itself. */
static bool repo_digest_canonical(const char *s)
{
	_cleanup_free_ char *again = NULL;
	struct err *e = NULL;
	bool ok;

	if (strlen(s) > REPO_DIGEST_MAX || !strchr(s, '@'))
		return false;
	ok = store_repo_digest_make(s, NULL, &again, &e) == 0 && !strcmp(again, s);
	err_free(&e);
	return ok;
}

bool store_record_has_repo_digest(const struct store_record *r, const char *rd)
{
	for (char **d = r->repo_digests; d && *d; d++)
		if (!strcmp(*d, rd))
			return true;
	return false;
}

int store_record_add_repo_digest(struct store_record *r, const char *rd, struct err **err)
{
	size_t n = 0;
	char **nv;

	if (store_record_has_repo_digest(r, rd))
		return 0;
	/* What decode would refuse is never written. */
	if (!repo_digest_canonical(rd))
		return err_set(err, EINVAL, "bad repo digest \"%.200s\"", rd);
	while (r->repo_digests && r->repo_digests[n])
		n++;
	if (n >= STORE_REPO_DIGESTS_MAX) {
		/* Full: the oldest goes, so that a record stays readable. */
		free(r->repo_digests[0]);
		memmove(&r->repo_digests[0], &r->repo_digests[1], n * sizeof(char *));
		n--;
	}
	nv = realloc(r->repo_digests, (n + 2) * sizeof(char *));
	if (!nv)
		return err_errno(err, ENOMEM, "repo digest");
	r->repo_digests = nv;
	nv[n + 1] = NULL;
	nv[n] = strdup(rd);
	return nv[n] ? 1 : err_errno(err, ENOMEM, "repo digest");
}

int store_record_del_repo_digest(struct store_record *r, const char *rd)
{
	size_t n = 0, i;

	while (r->repo_digests && r->repo_digests[n])
		n++;
	for (i = 0; i < n; i++)
		if (!strcmp(r->repo_digests[i], rd))
			break;
	if (i == n)
		return 0;
	free(r->repo_digests[i]);
	memmove(&r->repo_digests[i], &r->repo_digests[i + 1], (n - i) * sizeof(char *));
	return 1;
}

/* ---- image records ---- */

int store_record_encode(const struct store_record *r, char **out, struct err **err)
{
	_cleanup_json_ json_t *root = NULL, *layers = json_array(), *rds = json_array();

	if (!layers || !rds)
		return err_errno(err, ENOMEM, "record");
	for (size_t i = 0; i < r->n_layers; i++) {
		const struct store_layer *l = &r->layers[i];
		if (json_array_append_new(layers,
					  json_pack("{s:s, s:s, s:s, s:I}", "digest", l->digest,
						    "media_type", l->media_type, "diff_id",
						    l->diff_id, "size", (json_int_t)l->size)) < 0)
			return err_errno(err, ENOMEM, "record");
	}
	for (char **d = r->repo_digests; d && *d; d++)
		if (json_array_append_new(rds, json_string(*d)) < 0)
			return err_errno(err, ENOMEM, "record");
	root =
	    json_pack("{s:s, s:s, s:I, s:I, s:O}", "id", r->id, "manifest", r->manifest, "created",
		      (json_int_t)r->created, "size", (json_int_t)r->size, "layers", layers);
	/* Left out when empty: such a record reads the same to older moats. */
	if (root && json_array_size(rds) && json_object_set(root, "repo_digests", rds) < 0)
		return err_errno(err, ENOMEM, "record");
	if (root && r->n_trust) {
		json_t *t = trust_encode(r->trust, r->n_trust);
		if (!t || json_object_set_new(root, "trust", t) < 0)
			return err_errno(err, ENOMEM, "record");
	}
	if (!root)
		return err_errno(err, ENOMEM, "record");
	*out = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!*out)
		return err_errno(err, ENOMEM, "record");
	return 0;
}

static int decode_repo_digests(json_t *root, const char *name, struct store_record *r,
			       struct err **err)
{
	json_t *v = json_object_get(root, "repo_digests");

	if (v && json_is_array(v) && json_array_size(v) > STORE_REPO_DIGESTS_MAX)
		return err_set(err, E2BIG, "image record %s: more than %u repo digests", name,
			       STORE_REPO_DIGESTS_MAX);
	if (json_get_strv(root, "repo_digests", &r->repo_digests, name, err) < 0)
		return err_ret(*err);
	for (char **d = r->repo_digests; d && *d; d++) {
		if (!repo_digest_canonical(*d))
			return err_set(err, EINVAL, "image record %s: bad repo digest \"%.200s\"",
				       name, *d);
		for (char **e = r->repo_digests; e < d; e++)
			if (!strcmp(*e, *d))
				return err_set(err, EINVAL,
					       "image record %s: repo digest \"%.200s\" twice",
					       name, *d);
	}
	return 0;
}

int store_record_decode(const char *buf, size_t len, const char *hex, const char *name,
			struct store_record *r, struct err **err)
{
	_cleanup_free_ char *id = NULL, *man = NULL;
	_cleanup_json_ json_t *root = NULL;
	json_t *layers, *e, *v;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (len > RECORD_MAX)
		return err_set(err, EFBIG, "image record %s: larger than %u bytes", name,
			       RECORD_MAX);
	root = json_parse_strict(buf, len, name, err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "image record %s: not an object", name);
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
	if (decode_repo_digests(root, name, r, err) < 0 || trust_decode(root, name, r, err) < 0) {
		store_record_clear(r);
		return err_ret(*err);
	}
	return 0;
}

int store_record_load(int imagesfd, const char *hex, struct store_record *r, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	char name[80];
	size_t len;

	memset(r, 0, sizeof(*r));
	if (!digest_hex_valid(hex))
		return err_set(err, EINVAL, "image store: bad id \"%.80s\"", hex);
	snprintf(name, sizeof(name), "%s.json", hex);
	if (fs_read_at(imagesfd, name, RECORD_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "image record");
	return store_record_decode(buf, len, hex, name, r, err);
}

int store_record_copy(struct store_record *dst, const struct store_record *src, struct err **err)
{
	size_t n = 0;

	*dst = *src;
	dst->layers = NULL;
	dst->n_layers = 0;
	dst->repo_digests = NULL;
	dst->trust = NULL;
	dst->n_trust = 0;
	if (image_trust_copy(src->trust, src->n_trust, &dst->trust, err) < 0)
		return err_ret(*err);
	dst->n_trust = src->n_trust;
	dst->layers = calloc(src->n_layers + 1, sizeof(*dst->layers));
	if (!dst->layers)
		return err_errno(err, ENOMEM, "record");
	for (size_t i = 0; i < src->n_layers; i++) {
		struct store_layer *d = &dst->layers[i];
		const struct store_layer *l = &src->layers[i];

		dst->n_layers++;
		d->digest = strdup(l->digest);
		d->media_type = strdup(l->media_type);
		d->diff_id = strdup(l->diff_id);
		d->size = l->size;
		if (!d->digest || !d->media_type || !d->diff_id)
			return err_errno(err, ENOMEM, "record");
	}
	while (src->repo_digests && src->repo_digests[n])
		n++;
	dst->repo_digests = calloc(n + 1, sizeof(char *));
	if (!dst->repo_digests)
		return err_errno(err, ENOMEM, "record");
	for (size_t i = 0; i < n; i++)
		if (!(dst->repo_digests[i] = strdup(src->repo_digests[i])))
			return err_errno(err, ENOMEM, "record");
	return 0;
}

int store_record_ids(int imagesfd, char ***out, size_t *n, struct err **err)
{
	_cleanup_strv_ char **v = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	int fd = fcntl(imagesfd, F_DUPFD_CLOEXEC, 3);

	*out = NULL;
	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, errno, "image store: list");
	}
	/* The dup shares its offset with IMAGESFD. */
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

/* NAME@DIGEST: the record that lists it (there is at most one). */
static int lookup_repo_digest(int imagesfd, const char *ref, char **id, char **matched,
			      struct err **err)
{
	_cleanup_free_ char *rd = NULL;
	_cleanup_strv_ char **ids = NULL;
	struct err *e = NULL;
	size_t n = 0;

	if (store_repo_digest_make(ref, NULL, &rd, &e) < 0) {
		err_free(&e);
		return err_set(err, ENOENT, "no such image: %s", ref);
	}
	if (store_record_ids(imagesfd, &ids, &n, err) < 0)
		return err_ret(*err);
	for (size_t i = 0; i < n; i++) {
		struct store_record rec;
		bool hit;

		/* An unreadable record names nothing. */
		if (store_record_load(imagesfd, ids[i], &rec, &e) < 0) {
			err_free(&e);
			continue;
		}
		hit = store_record_has_repo_digest(&rec, rd);
		store_record_clear(&rec);
		if (!hit)
			continue;
		if (asprintf(id, "sha256:%s", ids[i]) < 0) {
			*id = NULL;
			return err_errno(err, ENOMEM, "lookup");
		}
		if (matched)
			*matched = steal_ptr(rd);
		return 0;
	}
	return err_set(err, ENOENT, "no such image: %s", ref);
}

int store_lookup(int imagesfd, const struct store_names *nm, const char *ref, char **id,
		 char **matched, struct err **err)
{
	_cleanup_free_ char *norm = NULL;
	_cleanup_strv_ char **ids = NULL;
	struct err *e2 = NULL;
	const char *hit = NULL;
	size_t n = 0;

	*id = NULL;
	if (matched)
		*matched = NULL;
	if (strchr(ref, '@'))
		return lookup_repo_digest(imagesfd, ref, id, matched, err);
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
			if (hit && matched)
				*matched = steal_ptr(f);
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
		if (store_record_ids(imagesfd, &ids, &n, err) < 0)
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
			if (asprintf(id, "sha256:%s", hit) < 0) {
				*id = NULL;
				return err_errno(err, ENOMEM, "lookup");
			}
			return 0;
		}
	}
	return err_set(err, ENOENT, "no such image: %s", ref);
}

/* ---- records rewritten in place, repo digests claimed and untagged ---- */

/* Appends a copy of S to the NULL-terminated *V. */
static int strv_append(char ***v, const char *s)
{
	size_t n = 0;
	char **nv;

	while (*v && (*v)[n])
		n++;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[n + 1] = NULL;
	nv[n] = strdup(s);
	return nv[n] ? 0 : -ENOMEM;
}

void store_rewrites_clear(struct store_rewrites *rw)
{
	for (size_t i = 0; i < rw->n; i++) {
		free(rw->v[i].key);
		free(rw->v[i].value);
	}
	free(rw->v);
	memset(rw, 0, sizeof(*rw));
}

void store_rewrites_undo(int imagesfd, const struct store_rewrites *rw)
{
	for (size_t i = rw->n; i-- > 0;) {
		struct err *e = NULL;
		fs_write_atomic(imagesfd, rw->v[i].key, rw->v[i].value, strlen(rw->v[i].value),
				0600, &e);
		err_free(&e);
	}
}

int store_record_rewrite(int imagesfd, const struct store_record *rec, struct store_rewrites *rw,
			 struct err **err)
{
	_cleanup_free_ char *txt = NULL, *prev = NULL;
	bool kept = !rw;
	char name[80];
	size_t len;

	snprintf(name, sizeof(name), "%s.json", rec->id + 7);
	for (size_t i = 0; rw && i < rw->n; i++)
		kept |= !strcmp(rw->v[i].key, name);
	if (!kept) {
		struct image_kv *nv;

		if (fs_read_at(imagesfd, name, RECORD_MAX, &prev, &len, err) < 0)
			return err_prefix(err, "image %s", rec->id);
		nv = realloc(rw->v, (rw->n + 1) * sizeof(*nv));
		if (!nv)
			return err_errno(err, ENOMEM, "image %s", rec->id);
		rw->v = nv;
		nv[rw->n].key = strdup(name);
		if (!nv[rw->n].key)
			return err_errno(err, ENOMEM, "image %s", rec->id);
		nv[rw->n++].value = steal_ptr(prev);
	}
	if (store_record_encode(rec, &txt, err) < 0 ||
	    fs_write_atomic(imagesfd, name, txt, strlen(txt), 0600, err) < 0)
		return err_prefix(err, "image %s", rec->id);
	return 0;
}

int store_repo_digests_claim(int imagesfd, const char *id, char *const *rds,
			     struct store_rewrites *rw, struct err **err)
{
	_cleanup_strv_ char **ids = NULL;
	bool found = false;
	size_t n = 0;

	if (!rds || !rds[0])
		return 0;
	if (store_record_ids(imagesfd, &ids, &n, err) < 0)
		return err_ret(*err);
	for (size_t i = 0; i < n; i++) {
		bool mine = !strcmp(ids[i], id + 7), changed = false;
		struct store_record rec;
		struct err *e = NULL;
		int r = 0;

		if (store_record_load(imagesfd, ids[i], &rec, mine ? err : &e) < 0) {
			err_free(&e);
			if (mine)
				return err_ret(*err);
			continue; /* unreadable: it names nothing */
		}
		found |= mine;
		for (char *const *d = rds; r >= 0 && *d; d++) {
			r = mine ? store_record_add_repo_digest(&rec, *d, err)
				 : store_record_del_repo_digest(&rec, *d);
			changed |= r > 0;
		}
		if (r >= 0 && changed)
			r = store_record_rewrite(imagesfd, &rec, rw, err);
		store_record_clear(&rec);
		if (r < 0)
			return r;
	}
	return found ? 0 : err_set(err, ENOENT, "no such image: %s", id);
}

/* The familiar repository of a stored name or repo digest: "x" for
 * "docker.io/library/x:1" and for "x@sha256:..."; NULL if unparsable. */
static char *repo_of(const char *ref)
{
	struct image_reference r = {0};
	struct err *e = NULL;
	char *out = NULL;

	if (image_reference_parse(ref, &r, &e) == 0)
		out = image_reference_familiar_name(&r);
	err_free(&e);
	image_reference_clear(&r);
	return out;
}

/* A name of image ID in NM is in repository REPO. */
static bool repo_tagged(const struct store_names *nm, const char *id, const char *repo)
{
	bool hit = false;

	for (size_t i = 0; i < nm->n && !hit; i++) {
		_cleanup_free_ char *r = NULL;
		if (strcmp(nm->kv[i].value, id))
			continue;
		r = repo_of(nm->kv[i].key);
		hit = r && !strcmp(r, repo);
	}
	return hit;
}

int store_untag_repo_digests(struct store_record *rec, const struct store_names *nm, const char *id,
			     const char *matched, char ***untagged, bool *changed, struct err **err)
{
	_cleanup_free_ char *repo = NULL;
	bool by_digest = matched && strchr(matched, '@');
	size_t i = 0;

	if (matched && !by_digest) {
		repo = repo_of(matched);
		if (!repo || repo_tagged(nm, id, repo))
			return 0;
	}
	while (rec->repo_digests && rec->repo_digests[i]) {
		char *d = rec->repo_digests[i];
		_cleanup_free_ char *drepo = repo ? repo_of(d) : NULL;
		bool go =
		    by_digest ? !strcmp(d, matched) : !repo || (drepo && !strcmp(drepo, repo));

		if (!go) {
			i++;
			continue;
		}
		if (untagged && strv_append(untagged, d) < 0)
			return err_errno(err, ENOMEM, "untag");
		store_record_del_repo_digest(rec, d);
		*changed = true;
	}
	return 0;
}

int store_trust_claim(int imagesfd, const char *id, const struct image_trust *t, size_t n,
		      struct store_rewrites *rw, struct err **err)
{
	struct store_record rec;
	int r;

	if (n == 0)
		return 0;
	if (store_record_load(imagesfd, id + 7, &rec, err) < 0)
		return err_ret(*err);
	r = store_record_add_trust(&rec, t, n, err);
	if (r > 0)
		r = store_record_rewrite(imagesfd, &rec, rw, err);
	store_record_clear(&rec);
	return r < 0 ? r : 0;
}

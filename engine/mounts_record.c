/*
 * engine/mounts_record.c - the "mounts" of a container record, as JSON and
 * back.
 *
 * Runs in: any process. PURE. The record is moat's own file, but it is
 * decoded as strictly as anything else (fuzz/container_record_fuzz.c):
 * what comes back is what mountspec would have accepted.
 */
#include "engine/mounts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *engine_mounts_json(const struct mount_req *m, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		const struct mount_req *r = &m[i];
		json_t *o = json_object();

		if (!o) {
			json_decref(a);
			return NULL;
		}
		json_object_set_new(o, "type", json_string(mount_type_name(r->type)));
		json_object_set_new(o, "target", json_string(r->target));
		if (r->source)
			json_object_set_new(o, "source", json_string(r->source));
		json_object_set_new(o, "readonly", json_boolean(r->readonly));
		switch (r->type) {
		case MOUNT_VOLUME:
			json_object_set_new(o, "nocopy", json_boolean(r->nocopy));
			if (r->driver)
				json_object_set_new(o, "driver", json_string(r->driver));
			if (r->driver_opts)
				json_object_set_new(o, "driver_opts", strv_json(r->driver_opts));
			if (r->labels)
				json_object_set_new(o, "labels", strv_json(r->labels));
			break;
		case MOUNT_BIND:
			json_object_set_new(o, "create_src", json_boolean(r->create_src));
			json_object_set_new(o, "follow_symlink", json_boolean(r->follow_symlink));
			json_object_set_new(o, "nonrecursive", json_boolean(r->nonrecursive));
			json_object_set_new(o, "propagation",
					    json_string(mount_propagation_name(r->propagation)));
			if (r->relabel) {
				char z[2] = {r->relabel, 0};
				json_object_set_new(o, "relabel", json_string(z));
			}
			break;
		case MOUNT_TMPFS:
			json_object_set_new(o, "tmpfs_size",
					    json_integer((json_int_t)r->tmpfs_size));
			json_object_set_new(o, "tmpfs_mode", json_integer(r->tmpfs_mode));
			json_object_set_new(o, "tmpfs_exec", json_boolean(r->tmpfs_exec));
			json_object_set_new(o, "tmpfs_suid", json_boolean(r->tmpfs_suid));
			break;
		default:
			break;
		}
		if (json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int bad(struct err **err, size_t i, const char *what)
{
	return err_set(err, EINVAL, "container record: mounts[%zu]: %s", i, what);
}

static int get_bool(json_t *o, const char *key, bool *out, size_t i, struct err **err)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad(err, i, "a flag is not true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_str(json_t *o, const char *key, char **out, size_t i, struct err **err)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > 4096 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(err, i, "a string is not a short string");
	if (!(*out = strdup(json_string_value(v))))
		return err_errno(err, ENOMEM, "container record");
	return 0;
}

/* "k=v" strings, k non-empty. */
static int get_kv(json_t *o, const char *key, char ***out, size_t i, struct err **err)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (!v)
		return 0;
	if (!json_is_array(v) || (n = json_array_size(v)) > 64)
		return bad(err, i, "options are not a short list");
	if (!(*out = calloc(n + 1, sizeof(char *))))
		return err_errno(err, ENOMEM, "container record");
	for (size_t k = 0; k < n; k++) {
		json_t *s = json_array_get(v, k);
		const char *t = json_string_value(s);

		if (!t || strlen(t) != json_string_length(s) || t[0] == '=' || !strchr(t, '=') ||
		    strlen(t) > 4096)
			return bad(err, i, "an option is not \"key=value\"");
		if (!((*out)[k] = strdup(t)))
			return err_errno(err, ENOMEM, "container record");
	}
	return 0;
}

static int decode_one(json_t *o, size_t i, struct mount_req *m, struct err **err)
{
	static const char *const keys[] = {
	    "type",	    "target",	   "source",  "readonly",   "nocopy",
	    "driver",	    "driver_opts", "labels",  "create_src", "follow_symlink",
	    "nonrecursive", "propagation", "relabel", "tmpfs_size", "tmpfs_mode",
	    "tmpfs_exec",   "tmpfs_suid",
	};
	_cleanup_free_ char *type = NULL, *prop = NULL, *relabel = NULL, *norm = NULL;
	const char *key;
	json_t *val;

	if (!json_is_object(o))
		return bad(err, i, "not an object");
	json_object_foreach (o, key, val) {
		size_t k = 0;
		while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key))
			k++;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return bad(err, i, "unknown key");
	}
	if (get_str(o, "type", &type, i, err) < 0 || get_str(o, "target", &m->target, i, err) < 0 ||
	    get_str(o, "source", &m->source, i, err) < 0 ||
	    get_bool(o, "readonly", &m->readonly, i, err) < 0 ||
	    get_bool(o, "nocopy", &m->nocopy, i, err) < 0 ||
	    get_str(o, "driver", &m->driver, i, err) < 0 ||
	    get_kv(o, "driver_opts", &m->driver_opts, i, err) < 0 ||
	    get_kv(o, "labels", &m->labels, i, err) < 0 ||
	    get_bool(o, "create_src", &m->create_src, i, err) < 0 ||
	    get_bool(o, "follow_symlink", &m->follow_symlink, i, err) < 0 ||
	    get_bool(o, "nonrecursive", &m->nonrecursive, i, err) < 0 ||
	    get_str(o, "propagation", &prop, i, err) < 0 ||
	    get_str(o, "relabel", &relabel, i, err) < 0 ||
	    get_bool(o, "tmpfs_exec", &m->tmpfs_exec, i, err) < 0 ||
	    get_bool(o, "tmpfs_suid", &m->tmpfs_suid, i, err) < 0)
		return err_ret(*err);
	if (!type || mount_type_from_name(type, &m->type) < 0)
		return bad(err, i, "unknown type");
	if (!m->target || mountspec_target_normalise(m->target, &norm, NULL) < 0 ||
	    strcmp(norm, m->target) != 0)
		return bad(err, i, "bad target");
	if (prop && mount_propagation_from_name(prop, &m->propagation) < 0)
		return bad(err, i, "unknown propagation");
	if (relabel) {
		if (strcmp(relabel, "z") && strcmp(relabel, "Z"))
			return bad(err, i, "bad relabel");
		m->relabel = relabel[0];
	}
	{
		json_t *sz = json_object_get(o, "tmpfs_size"),
		       *md = json_object_get(o, "tmpfs_mode");

		if (sz && (!json_is_integer(sz) || json_integer_value(sz) < 0))
			return bad(err, i, "bad tmpfs size");
		if (md && (!json_is_integer(md) || json_integer_value(md) < 0 ||
			   json_integer_value(md) > 07777))
			return bad(err, i, "bad tmpfs mode");
		m->tmpfs_size = sz ? (uint64_t)json_integer_value(sz) : 0;
		m->tmpfs_mode = md ? (uint32_t)json_integer_value(md) : 0;
	}
	switch (m->type) {
	case MOUNT_VOLUME:
		/* Settled at create: every volume has its name by now. */
		if (!m->source || !volume_name_valid(m->source))
			return bad(err, i, "bad volume name");
		break;
	case MOUNT_BIND:
		if (!m->source || m->source[0] != '/')
			return bad(err, i, "bad bind source");
		break;
	case MOUNT_TMPFS:
		if (m->source)
			return bad(err, i, "a tmpfs has no source");
		break;
	default:
		return bad(err, i, "unknown type");
	}
	return 0;
}

int engine_mounts_from_json(json_t *j, struct mount_req **out, size_t *n, struct err **err)
{
	struct mount_req *m;
	size_t len;

	*out = NULL;
	*n = 0;
	if (!json_is_array(j) || (len = json_array_size(j)) > ENGINE_MAX_MOUNTS)
		return err_set(err, EINVAL, "container record: \"mounts\" must be a short list");
	if (!len)
		return 0;
	if (!(m = calloc(len, sizeof(*m))))
		return err_errno(err, ENOMEM, "container record");
	for (size_t i = 0; i < len; i++) {
		if (decode_one(json_array_get(j, i), i, &m[i], err) < 0) {
			engine_mounts_free(m, i + 1);
			return err_ret(*err);
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(m[k].target, m[i].target)) {
				engine_mounts_free(m, i + 1);
				return bad(err, i, "duplicate target");
			}
	}
	*out = m;
	*n = len;
	return 0;
}

void engine_mounts_free(struct mount_req *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		mount_req_free(&m[i]);
	free(m);
}

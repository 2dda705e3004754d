/*
 * common/json.c - strict jansson parsing with located errors, and the
 * "k=v" maps the network and volume records hold as JSON objects.
 *
 * Runs in: any process. PURE: no system calls (the record fuzzers reach
 * it through net/netrecord.c and volume/volume_record.c).
 */
#include "common/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

json_t *json_parse_strict(const char *buf, size_t len, const char *what, struct err **err)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);

	if (!j)
		err_set(err, EINVAL, "%s:%d:%d: %s", what, je.line, je.column, je.text);
	return j;
}

int json_get_str(json_t *obj, const char *key, char **out, const char *what, struct err **err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, EINVAL, "%s: \"%s\" must be a string", what, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, EINVAL, "%s: \"%s\" contains a NUL byte", what, key);
	*out = strdup(json_string_value(v));
	if (!*out)
		return err_errno(err, ENOMEM, "%s", what);
	return 0;
}

int json_get_strv(json_t *obj, const char *key, char ***out, const char *what, struct err **err)
{
	json_t *v = json_object_get(obj, key), *e;
	_cleanup_strv_ char **r = NULL;
	size_t i;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(err, EINVAL, "%s: \"%s\" must be an array of strings", what, key);
	r = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!r)
		return err_errno(err, ENOMEM, "%s", what);
	json_array_foreach (v, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
			return err_set(err, EINVAL, "%s: \"%s\"[%zu] must be a string", what, key,
				       i);
		r[i] = strdup(json_string_value(e));
		if (!r[i])
			return err_errno(err, ENOMEM, "%s", what);
	}
	*out = steal_ptr(r);
	return 0;
}

const char *json_shown(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; s && *s && o + 4 < size && o < 64; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (s && *s)
		for (int i = 0; i < 3 && o + 1 < size; i++)
			buf[o++] = '.';
	buf[o] = 0;
	return buf;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* By key, bytewise: the order JSON_SORT_KEYS gives the object they
 * become (keys hold no '='), so decode hands back what encode wrote. */
static int kv_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = key_len(x), ly = key_len(y);
	int c = memcmp(x, y, lx < ly ? lx : ly);

	if (c)
		return c;
	return lx < ly ? -1 : lx > ly ? 1 : 0;
}

int json_kv_object(char *const *kv, const char *what, const char *field, json_t **out,
		   struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	char q[80];

	if (!o)
		return err_errno(err, ENOMEM, "%s", what);
	for (; kv && *kv; kv++) {
		const char *eq = strchr(*kv, '=');
		_cleanup_free_ char *k = NULL;

		if (!eq || eq == *kv)
			return err_set(err, EINVAL, "%s: %s entry \"%s\" is not KEY=VALUE", what,
				       field, json_shown(*kv, q, sizeof(q)));
		k = strndup(*kv, (size_t)(eq - *kv));
		if (!k)
			return err_errno(err, ENOMEM, "%s", what);
		if (json_object_get(o, k))
			return err_set(err, EINVAL, "%s: %s key \"%s\" is given twice", what, field,
				       json_shown(k, q, sizeof(q)));
		if (json_object_set_new(o, k, json_string(eq + 1)) < 0)
			return err_set(err, EINVAL, "%s: %s \"%s\" is not valid UTF-8", what, field,
				       json_shown(k, q, sizeof(q)));
	}
	*out = steal_ptr(o);
	return 0;
}

int json_get_kv(json_t *o, const char *key, bool empty_null, char ***out, const char *what,
		struct err **err)
{
	json_t *j = json_object_get(o, key), *val;
	_cleanup_strv_ char **r = NULL;
	const char *k;
	size_t klen, i = 0;
	char q[80];

	*out = NULL;
	if (!j)
		return err_set(err, EINVAL, "%s: \"%s\" is missing", what, key);
	if (!json_is_object(j))
		return err_set(err, EINVAL, "%s: \"%s\" must be an object of strings", what, key);
	if (empty_null && json_object_size(j) == 0)
		return 0;
	r = calloc(json_object_size(j) + 1, sizeof(char *));
	if (!r)
		return err_errno(err, ENOMEM, "%s", what);
	json_object_keylen_foreach(j, k, klen, val)
	{
		if (klen == 0 || strlen(k) != klen || strchr(k, '='))
			return err_set(err, EINVAL,
				       "%s: \"%s\": key \"%s\" is empty, holds '=' or a NUL byte",
				       what, key, json_shown(k, q, sizeof(q)));
		if (!json_is_string(val) ||
		    strlen(json_string_value(val)) != json_string_length(val))
			return err_set(err, EINVAL, "%s: \"%s\": \"%s\" must be a string", what,
				       key, json_shown(k, q, sizeof(q)));
		if (asprintf(&r[i], "%s=%s", k, json_string_value(val)) < 0) {
			r[i] = NULL;
			return err_errno(err, ENOMEM, "%s", what);
		}
		i++;
	}
	qsort(r, i, sizeof(char *), kv_cmp);
	*out = steal_ptr(r);
	return 0;
}

/*
 * common/json.c - strict jansson parsing with located errors.
 */
#include "common/json.h"

#include <errno.h>
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

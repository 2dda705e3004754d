/*
 * common/json.h - jansson helpers used at the one decoding boundary per
 * schema. No json_t travels past the decoder that owns the schema.
 */
#ifndef MOAT_JSON_H
#define MOAT_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

static inline void moat_json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(moat_json_decrefp)))

/* Parses BUF (capped by the caller) strictly: rejects duplicate keys and
 * trailing garbage; on error the message is "WHAT:line:column: text". */
json_t *json_parse_strict(const char *buf, size_t len, const char *what, struct err **err);
/* Returns a strdup of a string member, NULL if absent; -EINVAL via *bad
 * when present with another type. */
int json_get_str(json_t *obj, const char *key, char **out, const char *what, struct err **err);
/* Decodes a JSON array of strings (or null) into a NULL-terminated strv. */
int json_get_strv(json_t *obj, const char *key, char ***out, const char *what, struct err **err);

#endif

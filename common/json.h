/*
 * common/json.h - jansson helpers used at the one decoding boundary per
 * schema. No json_t travels past the decoder that owns the schema.
 */
#ifndef MOAT_JSON_H
#define MOAT_JSON_H

#include <jansson.h>
#include <stdbool.h>
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

/* S for a message: at most 64 bytes, non-printable bytes as '?', "..."
 * when cut. Records and names are untrusted text; a message must stay
 * one readable line. Returns BUF (SIZE bytes). */
const char *json_shown(const char *s, char *buf, size_t size);

/*
 * A record's "k=v" map (labels, options) and its JSON object, both ways,
 * so that decode(encode(x)) == x:
 *  - json_kv_object: the strv KV (NULL: none) as an object of strings;
 *    -EINVAL for an entry without '=' or with an empty key, a key given
 *    twice, or text that is not UTF-8. FIELD ("label") names the entry
 *    in messages, WHAT ("volume record") the record;
 *  - json_get_kv: the member KEY of O, required and an object of
 *    strings whose keys are non-empty and hold no '=' or NUL, as a "k=v"
 *    strv sorted by key (bytewise, the order JSON_SORT_KEYS writes the
 *    object in); an empty object gives NULL when EMPTY_NULL, else an
 *    empty strv.
 */
int json_kv_object(char *const *kv, const char *what, const char *field, json_t **out,
		   struct err **err);
int json_get_kv(json_t *o, const char *key, bool empty_null, char ***out, const char *what,
		struct err **err);

#endif

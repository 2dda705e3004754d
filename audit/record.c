/*
 * audit/record.c - PURE: the event builder, the record encoder and strict
 * decoder, the canonical form, RFC 3339 times and the checkpoint codec.
 *
 * Runs in: any process; touches no file, clock or process state (the
 * writer passes time, host and ids in), so the unit tests and the fuzzer
 * reach all of it.
 *
 * Invariants:
 *  - the canonical form of a record is jansson's dump of the record
 *    without "hash" and "hmac" under CANON_FLAGS; the encoder hashes the
 *    bytes it is about to write and the decoder re-derives them from the
 *    parsed object, so a semantically equal line (keys reordered, spacing,
 *    \u escapes) has the same canonical form. The exact bytes are pinned by
 *    a unit test: a jansson that escaped differently would fail it rather
 *    than silently break old logs;
 *  - everything the encoder can produce, the decoder accepts (same key,
 *    value, depth and size rules), and nothing else;
 *  - no json_t leaves this file.
 */
#include "audit/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/json.h"

#define CANON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)
#define KEY_MAX 128
#define EVENT_MAX 64

static const char *const reserved[] = {
    "seq", "time",    "host", "event", "uid",  "gid",
    "pid", "cmdline", "prev", "hash",  "hmac", "audit_gap",
};

static bool is_reserved(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcmp(key, reserved[i]))
			return true;
	return false;
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at P (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF), or 0. P is NUL-terminated, so a
 * truncated sequence stops at the NUL, which is never a continuation. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		if (!n)
			return false;
		p += n;
	}
	return true;
}

/* A JSON string of S, each byte of an ill-formed sequence replaced by
 * U+FFFD: an argv or a host name may hold any bytes, and a record that
 * cannot be written is worse than one that is lossy there. */
static json_t *jstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	_cleanup_free_ char *fixed = NULL;
	char *q;

	if (utf8_valid(s))
		return json_string(s);
	fixed = malloc(strlen(s) * 3 + 1);
	if (!fixed)
		return NULL;
	for (q = fixed; *p;) {
		size_t n = utf8_len(p);
		if (n) {
			memcpy(q, p, n);
			q += n;
			p += n;
		} else {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			p++;
		}
	}
	*q = 0;
	return json_string(fixed);
}

static json_t *jstrv(char *const *v)
{
	_cleanup_json_ json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; v && v[i]; i++)
		if (json_array_append_new(a, jstr(v[i])) < 0)
			return NULL;
	return steal_ptr(a);
}

/* ---- Events ----------------------------------------------------------- */

struct audit_event {
	char *name;
	json_t *stack[AUDIT_DEPTH_MAX]; /* stack[0] is the record itself */
	unsigned depth;			/* open objects, >= 1 */
	int error;			/* the first error, sticky */
	char msg[256];
};

static bool event_name_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= EVENT_MAX;
}

__attribute__((format(printf, 3, 4))) static int fail(struct audit_event *e, int code,
						      const char *fmt, ...)
{
	va_list ap;

	if (e->error)
		return -e->error;
	e->error = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -code;
}

struct audit_event *audit_event_new(const char *event)
{
	struct audit_event *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->stack[0] = json_object();
	e->depth = 1;
	e->name = strdup(event ? event : "");
	if (!e->stack[0] || !e->name) {
		audit_event_free(e);
		return NULL;
	}
	if (!event_name_ok(event))
		fail(e, EINVAL, "event name \"%.64s\" is not 1 to %d characters of [A-Za-z0-9._-]",
		     event ? event : "", EVENT_MAX);
	return e;
}

void audit_event_free(struct audit_event *e)
{
	if (!e)
		return;
	if (e->stack[0])
		json_decref(e->stack[0]);
	free(e->name);
	free(e);
}

/* Adds V (a new reference, NULL meaning no memory) under KEY to the open
 * object, after the key checks; always consumes V. */
static int put(struct audit_event *e, const char *key, json_t *v)
{
	_cleanup_json_ json_t *val = v;
	json_t *obj;

	if (!e)
		return -ENOMEM;
	if (e->error)
		return -e->error;
	if (!val)
		return fail(e, ENOMEM, "out of memory");
	if (!key || !*key || strlen(key) > KEY_MAX || !utf8_valid(key))
		return fail(e, EINVAL, "key \"%.64s\" is not 1 to %d bytes of UTF-8",
			    key ? key : "", KEY_MAX);
	if (e->depth == 1 && is_reserved(key))
		return fail(e, EINVAL, "key \"%s\" is reserved for the log", key);
	obj = e->stack[e->depth - 1];
	if (json_object_get(obj, key))
		return fail(e, EINVAL, "key \"%s\" set twice", key);
	if (json_object_set_new(obj, key, steal_ptr(val)) < 0)
		return fail(e, ENOMEM, "out of memory");
	return 0;
}

int audit_event_str(struct audit_event *e, const char *key, const char *val)
{
	if (e && !e->error && !val)
		return fail(e, EINVAL, "key \"%.64s\": NULL string", key ? key : "");
	return put(e, key, val ? jstr(val) : NULL);
}

int audit_event_int(struct audit_event *e, const char *key, int64_t val)
{
	return put(e, key, json_integer((json_int_t)val));
}

int audit_event_bool(struct audit_event *e, const char *key, bool val)
{
	return put(e, key, json_boolean(val));
}

int audit_event_strv(struct audit_event *e, const char *key, char *const *v)
{
	return put(e, key, jstrv(v));
}

int audit_event_obj_begin(struct audit_event *e, const char *key)
{
	json_t *obj;
	int r;

	if (e && !e->error && e->depth >= AUDIT_DEPTH_MAX)
		return fail(e, EINVAL, "key \"%.64s\": objects nest at most %d deep",
			    key ? key : "", AUDIT_DEPTH_MAX);
	obj = json_object();
	/* put() takes one reference; the stack borrows it from the parent. */
	r = put(e, key, obj);
	if (r < 0)
		return r;
	e->stack[e->depth++] = obj;
	return 0;
}

int audit_event_obj_end(struct audit_event *e)
{
	if (!e)
		return -ENOMEM;
	if (e->error)
		return -e->error;
	if (e->depth <= 1)
		return fail(e, EINVAL, "audit_event_obj_end without an open object");
	e->depth--;
	return 0;
}

/* ---- Encoding ----------------------------------------------------------- */

bool audit_hex_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = 0;

	if (la != lb)
		return false;
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int set(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) : -1;
}

int audit_event_check(struct audit_event *e, struct err **err)
{
	if (!e)
		return err_set(err, ENOMEM, "audit event: out of memory");
	if (!e->error && e->depth != 1)
		fail(e, EINVAL, "an object opened with audit_event_obj_begin is not closed");
	if (e->error)
		return err_set(err, e->error, "audit event \"%s\": %s", e->name, e->msg);
	return 0;
}

int audit_record_encode(struct audit_event *e, const struct audit_header *h, const void *key,
			size_t keylen, char **line, size_t *len, char hash[SHA256_HEX_LEN + 1],
			struct err **err)
{
	_cleanup_free_ char *canon = NULL, *out = NULL;
	char mac[SHA256_HEX_LEN + 1];
	json_t *root;
	size_t n;
	char *grown;

	if (audit_event_check(e, err) < 0)
		return err_ret(*err);
	root = e->stack[0];
	if (set(root, "seq", json_integer((json_int_t)h->seq)) < 0 ||
	    set(root, "time", json_string(h->time)) < 0 || set(root, "host", jstr(h->host)) < 0 ||
	    set(root, "event", json_string(e->name)) < 0 ||
	    set(root, "uid", json_integer((json_int_t)h->uid)) < 0 ||
	    set(root, "gid", json_integer((json_int_t)h->gid)) < 0 ||
	    set(root, "pid", json_integer((json_int_t)h->pid)) < 0 ||
	    set(root, "cmdline", jstrv(h->cmdline)) < 0 ||
	    set(root, "prev", json_string(h->prev)) < 0 ||
	    (h->gap && set(root, "audit_gap", json_true()) < 0))
		return err_set(err, ENOMEM, "audit event \"%s\": out of memory", e->name);
	canon = json_dumps(root, CANON_FLAGS);
	if (!canon)
		return err_set(err, ENOMEM, "audit event \"%s\": out of memory", e->name);
	digest_sha256_hex(canon, strlen(canon), hash);
	if (set(root, "hash", json_string(hash)) < 0)
		return err_set(err, ENOMEM, "audit event \"%s\": out of memory", e->name);
	if (key) {
		digest_hmac_sha256_hex(key, keylen, canon, strlen(canon), mac);
		if (set(root, "hmac", json_string(mac)) < 0)
			return err_set(err, ENOMEM, "audit event \"%s\": out of memory", e->name);
	}
	out = json_dumps(root, CANON_FLAGS);
	if (!out)
		return err_set(err, ENOMEM, "audit event \"%s\": out of memory", e->name);
	n = strlen(out);
	if (n > AUDIT_RECORD_MAX)
		return err_set(err, EFBIG, "audit event \"%s\": record of %zu bytes, more than %d",
			       e->name, n, AUDIT_RECORD_MAX);
	grown = realloc(out, n + 2);
	if (!grown)
		return err_set(err, ENOMEM, "audit event \"%s\": out of memory", e->name);
	out = grown;
	out[n] = '\n';
	out[n + 1] = 0;
	*line = steal_ptr(out);
	*len = n + 1;
	return 0;
}

/* ---- Times ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that no time zone state is consulted. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

int audit_time_parse(const char *s, struct timespec *out, struct err **err)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, dim;
	long nsec = 0;
	int64_t off = 0;
	const char *p = s;

	if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
	    !digits(p + 8, 2, &d))
		goto bad;
	p += 10;
	if (*p) {
		if ((*p != 'T' && *p != 't') || !digits(p + 1, 2, &h) || p[3] != ':' ||
		    !digits(p + 4, 2, &mi) || p[6] != ':' || !digits(p + 7, 2, &sec))
			goto bad;
		p += 9;
		if (*p == '.') {
			int nd = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
				if (nd >= 9)
					goto bad;
				nsec = nsec * 10 + (*p - '0');
			}
			if (!nd)
				goto bad;
			for (; nd < 9; nd++)
				nsec *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
			    oh > 23 || om > 59)
				goto bad;
			off = ((int64_t)oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
			p += 6;
		} else {
			goto bad;
		}
		if (*p)
			goto bad;
	}
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		goto bad;
	dim = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (d < 1 || d > dim)
		goto bad;
	out->tv_sec = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off);
	out->tv_nsec = nsec;
	return 0;
bad:
	return err_set(err, EINVAL,
		       "time \"%.64s\" is not RFC 3339 (2026-11-28T04:30:30Z, an optional "
		       "fraction, Z or +hh:mm) or a date (2026-11-28)",
		       s);
}

void audit_time_format(const struct timespec *ts, char out[40])
{
	struct tm tm;
	time_t t = ts->tv_sec;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + 19, 21, ".%09uZ", (unsigned)ts->tv_nsec % 1000000000u);
}

/* ---- Decoding ------------------------------------------------------------- */

static bool hex64(json_t *v)
{
	return json_is_string(v) && json_string_length(v) == SHA256_HEX_LEN &&
	       digest_hex_valid(json_string_value(v));
}

/* The value rules of event fields, which the builder can only produce. */
static int check_value(json_t *v, unsigned depth, const char *key, struct err **err)
{
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
	case JSON_INTEGER:
	case JSON_TRUE:
	case JSON_FALSE:
		return 0;
	case JSON_ARRAY:
		json_array_foreach (v, i, x)
			if (!json_is_string(x))
				return err_set(err, EINVAL, "\"%s\" must be an array of strings",
					       key);
		return 0;
	case JSON_OBJECT:
		if (depth > AUDIT_DEPTH_MAX)
			return err_set(err, EINVAL, "\"%s\": objects nest more than %d deep", key,
				       AUDIT_DEPTH_MAX);
		json_object_foreach (v, k, x) {
			if (!*k || strlen(k) > KEY_MAX)
				return err_set(err, EINVAL, "\"%s\": a key is not 1 to %d bytes",
					       key, KEY_MAX);
			if (check_value(x, depth + 1, k, err) < 0)
				return err_ret(*err);
		}
		return 0;
	case JSON_REAL:
	case JSON_NULL:
	default:
		return err_set(err, EINVAL, "\"%s\": reals and nulls are not record values", key);
	}
}

static int cmp_field(const void *a, const void *b)
{
	return strcmp(((const struct audit_field *)a)->key, ((const struct audit_field *)b)->key);
}

static int add_field(struct audit_record *r, const char *key, json_t *v, struct err **err)
{
	struct audit_field *f = &r->fields[r->n_fields];

	f->key = strdup(key);
	switch (json_typeof(v)) {
	case JSON_STRING:
		f->type = AUDIT_FIELD_STR;
		f->text = strdup(json_string_value(v));
		break;
	case JSON_INTEGER:
		f->type = AUDIT_FIELD_INT;
		f->num = json_integer_value(v);
		if (asprintf(&f->text, "%" PRId64, f->num) < 0)
			f->text = NULL;
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		f->type = AUDIT_FIELD_BOOL;
		f->num = json_is_true(v);
		f->text = strdup(f->num ? "true" : "false");
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
	case JSON_REAL:
	case JSON_NULL:
	default:
		f->type = json_is_array(v) ? AUDIT_FIELD_STRV : AUDIT_FIELD_OBJ;
		f->text = json_dumps(v, CANON_FLAGS);
		break;
	}
	r->n_fields++;
	if (!f->key || !f->text)
		return err_set(err, ENOMEM, "record: out of memory");
	return 0;
}

static int get_int(json_t *root, const char *key, int64_t min, int64_t max, int64_t *out,
		   struct err **err)
{
	json_t *v = json_object_get(root, key);

	if (!v)
		return err_set(err, EINVAL, "missing \"%s\"", key);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(err, EINVAL,
			       "\"%s\" must be an integer from %" PRId64 " to %" PRId64, key, min,
			       max);
	*out = json_integer_value(v);
	return 0;
}

static int get_str(json_t *root, const char *key, char **out, struct err **err)
{
	json_t *v = json_object_get(root, key);

	if (!v)
		return err_set(err, EINVAL, "missing \"%s\"", key);
	if (!json_is_string(v))
		return err_set(err, EINVAL, "\"%s\" must be a string", key);
	*out = strdup(json_string_value(v));
	if (!*out)
		return err_set(err, ENOMEM, "record: out of memory");
	return 0;
}

static int get_hex(json_t *root, const char *key, bool required, char out[SHA256_HEX_LEN + 1],
		   struct err **err)
{
	json_t *v = json_object_get(root, key);

	out[0] = 0;
	if (!v)
		return required ? err_set(err, EINVAL, "missing \"%s\"", key) : 0;
	if (!hex64(v))
		return err_set(err, EINVAL, "\"%s\" must be 64 lowercase hex characters", key);
	memcpy(out, json_string_value(v), SHA256_HEX_LEN + 1);
	return 0;
}

static int decode(json_t *root, struct audit_record *r, struct err **err)
{
	json_t *v;
	const char *k;
	int64_t seq;
	size_t nf = 0;

	if (!json_is_object(root))
		return err_set(err, EINVAL, "a record must be a JSON object");
	if (get_int(root, "seq", 1, INT64_MAX, &seq, err) < 0)
		return err_ret(*err);
	r->seq = (uint64_t)seq;
	v = json_object_get(root, "time");
	if (!v)
		return err_set(err, EINVAL, "missing \"time\"");
	if (!json_is_string(v) || json_string_length(v) != 30 || json_string_value(v)[19] != '.' ||
	    json_string_value(v)[29] != 'Z' ||
	    audit_time_parse(json_string_value(v), &r->when, NULL) < 0)
		return err_set(err, EINVAL,
			       "\"time\" must be UTC with nanoseconds, like "
			       "2026-11-28T04:30:30.123456789Z");
	memcpy(r->time, json_string_value(v), 31);
	if (get_str(root, "host", &r->host, err) < 0 || get_str(root, "event", &r->event, err) < 0)
		return err_ret(*err);
	if (!event_name_ok(r->event))
		return err_set(err, EINVAL,
			       "\"event\" must be 1 to %d characters of [A-Za-z0-9._-]", EVENT_MAX);
	if (get_int(root, "uid", 0, UINT32_MAX, &r->uid, err) < 0 ||
	    get_int(root, "gid", 0, UINT32_MAX, &r->gid, err) < 0 ||
	    get_int(root, "pid", 0, INT32_MAX, &r->pid, err) < 0)
		return err_ret(*err);
	if (!json_object_get(root, "cmdline"))
		return err_set(err, EINVAL, "missing \"cmdline\"");
	if (json_get_strv(root, "cmdline", &r->cmdline, "record", err) < 0 || !r->cmdline)
		return err_set(err, EINVAL, "\"cmdline\" must be an array of strings");
	if (get_hex(root, "prev", true, r->prev, err) < 0 ||
	    get_hex(root, "hash", true, r->hash, err) < 0 ||
	    get_hex(root, "hmac", false, r->hmac, err) < 0)
		return err_ret(*err);
	v = json_object_get(root, "audit_gap");
	if (v && !json_is_true(v))
		return err_set(err, EINVAL, "\"audit_gap\" may only be true");
	r->gap = v != NULL;
	json_object_foreach (root, k, v) {
		if (is_reserved(k))
			continue;
		if (!*k || strlen(k) > KEY_MAX)
			return err_set(err, EINVAL, "a key is not 1 to %d bytes", KEY_MAX);
		if (check_value(v, 2, k, err) < 0)
			return err_ret(*err);
		nf++;
	}
	r->fields = calloc(nf ? nf : 1, sizeof(*r->fields));
	if (!r->fields)
		return err_set(err, ENOMEM, "record: out of memory");
	json_object_foreach (root, k, v)
		if (!is_reserved(k) && add_field(r, k, v, err) < 0)
			return err_ret(*err);
	qsort(r->fields, r->n_fields, sizeof(*r->fields), cmp_field);
	/* The canonical form is re-derived, never taken from the line: what
	 * is judged is the content, whatever its layout. */
	json_object_del(root, "hash");
	json_object_del(root, "hmac");
	r->canonical = json_dumps(root, CANON_FLAGS);
	if (!r->canonical)
		return err_set(err, ENOMEM, "record: out of memory");
	r->canonical_len = strlen(r->canonical);
	return 0;
}

int audit_record_decode(const char *line, size_t len, struct audit_record *out, struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	json_error_t je;

	memset(out, 0, sizeof(*out));
	if (len > AUDIT_RECORD_MAX)
		return err_set(err, EINVAL, "record of %zu bytes, more than %d", len,
			       AUDIT_RECORD_MAX);
	/* No JSON_ALLOW_NUL: a "\u0000" could not survive as a C string, so
	 * two different records could share typed fields. A record is one
	 * line, so the column is the position that matters. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return err_set(err, EINVAL, "column %d: %s", je.column, je.text);
	if (decode(root, out, err) < 0) {
		audit_record_free(out);
		return err_ret(*err);
	}
	return 0;
}

bool audit_record_hash_ok(const struct audit_record *r)
{
	char h[SHA256_HEX_LEN + 1];

	digest_sha256_hex(r->canonical, r->canonical_len, h);
	return audit_hex_eq(h, r->hash);
}

void audit_record_hmac(const struct audit_record *r, const void *key, size_t keylen,
		       char out[SHA256_HEX_LEN + 1])
{
	digest_hmac_sha256_hex(key, keylen, r->canonical, r->canonical_len, out);
}

const char *audit_record_str(const struct audit_record *r, const char *key)
{
	for (size_t i = 0; i < r->n_fields; i++)
		if (r->fields[i].type == AUDIT_FIELD_STR && !strcmp(r->fields[i].key, key))
			return r->fields[i].text;
	return NULL;
}

void audit_record_free(struct audit_record *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->event);
	strvfree(r->cmdline);
	for (size_t i = 0; i < r->n_fields; i++) {
		free(r->fields[i].key);
		free(r->fields[i].text);
	}
	free(r->fields);
	free(r->canonical);
	memset(r, 0, sizeof(*r));
}

/* ---- The checkpoint ----------------------------------------------------- */

void audit_checkpoint_mac(const void *key, size_t keylen, uint64_t seq, const char *hash,
			  char out[SHA256_HEX_LEN + 1])
{
	char msg[32 + SHA256_HEX_LEN];
	int n = snprintf(msg, sizeof(msg), "%" PRIu64 ":%s", seq, hash);

	digest_hmac_sha256_hex(key, keylen, msg, (size_t)n, out);
}

int audit_checkpoint_encode(const struct audit_checkpoint *c, char **out, size_t *len,
			    struct err **err)
{
	_cleanup_json_ json_t *o = json_pack("{sI ss ss ss}", "seq", (json_int_t)c->seq, "hash",
					     c->hash, "mac", c->mac, "file", c->file);
	_cleanup_free_ char *s = NULL;
	char *grown;
	size_t n;

	if (!o || !(s = json_dumps(o, CANON_FLAGS)))
		return err_set(err, ENOMEM, "checkpoint: out of memory");
	n = strlen(s);
	grown = realloc(s, n + 2);
	if (!grown)
		return err_set(err, ENOMEM, "checkpoint: out of memory");
	s = grown;
	s[n] = '\n';
	s[n + 1] = 0;
	*len = n + 1;
	*out = steal_ptr(s);
	return 0;
}

int audit_checkpoint_decode(const char *buf, size_t len, struct audit_checkpoint *out,
			    struct err **err)
{
	_cleanup_json_ json_t *o = NULL;
	json_t *v;
	int64_t seq;

	memset(out, 0, sizeof(*out));
	if (len > AUDIT_CHECKPOINT_MAX)
		return err_set(err, EINVAL, "checkpoint: more than %d bytes", AUDIT_CHECKPOINT_MAX);
	o = json_parse_strict(buf, len, "checkpoint", err);
	if (!o)
		return err_ret(*err);
	if (!json_is_object(o) || json_object_size(o) != 4)
		return err_set(err, EINVAL,
			       "checkpoint: must be an object of seq, hash, file, mac");
	if (get_int(o, "seq", 0, INT64_MAX, &seq, err) < 0 ||
	    get_hex(o, "hash", true, out->hash, err) < 0 ||
	    get_hex(o, "mac", true, out->mac, err) < 0)
		return err_prefix(err, "checkpoint");
	out->seq = (uint64_t)seq;
	v = json_object_get(o, "file");
	if (!json_is_string(v) || !json_string_length(v) ||
	    json_string_length(v) >= sizeof(out->file) || strchr(json_string_value(v), '/') ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, EINVAL, "checkpoint: \"file\" must be a file name");
	memcpy(out->file, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

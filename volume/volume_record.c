/*
 * volume/volume_record.c - a volume's record, ROOT/volumes/<name>/volume.json,
 * as JSON and back.
 *
 * Runs in: any process. PURE: no system calls; fuzz/volume_record_fuzz.c
 * reaches all of it.
 *
 * The record is Docker's `volume inspect` shape for the fields moat keeps:
 *   {"Anonymous": false, "CreatedAt": "2024-05-01T10:00:00.123456789Z",
 *    "Driver": "local", "Labels": {"k": "v"}, "Name": "data",
 *    "Options": {}}
 *
 * Invariants:
 *  - the input is capped at VOLUME_RECORD_MAX before jansson sees it, and
 *    an encoded record never exceeds it, so what is written can be read;
 *  - decoding is strict: every key is required, unknown or duplicate keys,
 *    wrong types and NUL bytes are errors (a hand-edited record must not
 *    smuggle in what `moat volume create` refuses);
 *  - the name passes volume_name_valid, so a decoded record can never name
 *    a path; the driver name passes driver_valid (below);
 *  - labels and options are "k=v" strvs with non-empty, unique keys that
 *    hold no '=', kept sorted by key, so decode(encode(v)) == v and the
 *    encoding of a volume is stable.
 */
#include "volume/volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "volume/mountspec.h"

#define WHAT "volume record"
#define DRIVER_NAME_MAX 255
#define NS_PER_S 1000000000LL

void volume_free(struct volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->driver);
	strvfree(v->labels);
	strvfree(v->options);
	free(v->mountpoint);
	memset(v, 0, sizeof(*v));
}

void volume_list_free(struct volume *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		volume_free(&v[i]);
	free(v);
}

/* What a message shows of untrusted text (common/json.h). Labels and
 * options go to and from JSON through json_kv_object and json_get_kv. */
const char *volume_shown(const char *s, char *buf, size_t size)
{
	return json_shown(s, buf, size);
}

/*
 * [a-zA-Z0-9][a-zA-Z0-9_.:/-]* (a plugin's name, "vieux/sshfs:latest"),
 * at most 255 bytes, and no "." or ".." component or empty component: the
 * name picks a plugin's socket and spec file (volume/plugin.h), so it must
 * never walk out of a plugin directory.
 */
static bool driver_valid(const char *d)
{
	size_t n = d ? strlen(d) : 0, comp = 0;

	if (n == 0 || n > DRIVER_NAME_MAX)
		return false;
	if (!((d[0] >= 'a' && d[0] <= 'z') || (d[0] >= 'A' && d[0] <= 'Z') ||
	      (d[0] >= '0' && d[0] <= '9')))
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = d[i];

		if (c == '/' || c == 0) {
			if (comp == 0 || (comp == 1 && d[i - 1] == '.') ||
			    (comp == 2 && d[i - 1] == '.' && d[i - 2] == '.'))
				return false;
			comp = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
		comp++;
	}
	return true;
}

/* Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian,
 * exact for every year moat can meet, and no dependence on time_t or TZ. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ": always nine digits and UTC, so equal
 * instants are equal text. */
static void rfc3339_format(int64_t ns, char out[64])
{
	int64_t secs = ns / NS_PER_S, frac = ns % NS_PER_S, days = secs / 86400, y;
	int64_t sod = secs % 86400;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, 64, "%04lld-%02d-%02dT%02d:%02d:%02d.%09lldZ", (long long)y, m, d,
		 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (long long)frac);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * RFC 3339 (upper-case 'T' and 'Z', as Go and moat write it): a date, a
 * time to the second, an optional fraction of 1-9 digits (Docker's own
 * volumes have none), then 'Z' or a +hh:mm / -hh:mm offset. Leap seconds
 * (":60") are refused, as Go's time.Parse refuses them; so are instants
 * before 1970 or past what int64 nanoseconds hold (2262).
 */
static int rfc3339_parse(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, secs;
	const char *p = s + 19;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		int n = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			if (n == 9)
				return -EINVAL;
			frac = frac * 10 + (*p - '0');
		}
		if (n == 0)
			return -EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -EINVAL;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	if (d > mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	secs -= (int64_t)sign * (oh * 3600 + om * 60);
	if (secs < 0 || secs > (INT64_MAX - frac) / NS_PER_S)
		return -EINVAL;
	*out = secs * NS_PER_S + frac;
	return 0;
}

int volume_record_encode(const struct volume *v, char **out, size_t *len, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	json_t *labels = NULL, *options = NULL;
	char created[64], q[80];
	char *s;
	int r;

	*out = NULL;
	if (!o)
		return err_errno(err, ENOMEM, WHAT);
	if (!v->name || !volume_name_valid(v->name))
		return err_set(err, EINVAL, "%s: invalid volume name \"%s\"", WHAT,
			       volume_shown(v->name, q, sizeof(q)));
	if (!driver_valid(v->driver))
		return err_set(err, EINVAL, "%s: invalid volume driver name \"%s\"", WHAT,
			       volume_shown(v->driver, q, sizeof(q)));
	if (v->created < 0)
		return err_set(err, EINVAL, "%s: creation time before 1970", WHAT);
	if ((r = json_kv_object(v->labels, WHAT, "label", &labels, err)) < 0)
		return r;
	json_object_set_new(o, "Labels", labels);
	if ((r = json_kv_object(v->options, WHAT, "option", &options, err)) < 0)
		return r;
	json_object_set_new(o, "Options", options);
	rfc3339_format(v->created, created);
	if (json_object_set_new(o, "Name", json_string(v->name)) < 0 ||
	    json_object_set_new(o, "Driver", json_string(v->driver)) < 0 ||
	    json_object_set_new(o, "CreatedAt", json_string(created)) < 0 ||
	    json_object_set_new(o, "Anonymous", json_boolean(v->anonymous)) < 0)
		return err_errno(err, ENOMEM, WHAT);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	if (!s)
		return err_errno(err, ENOMEM, WHAT);
	if (strlen(s) > VOLUME_RECORD_MAX) {
		free(s);
		return err_set(err, EFBIG, "%s: larger than %d bytes", WHAT, VOLUME_RECORD_MAX);
	}
	*len = strlen(s);
	*out = s;
	return 0;
}

static int get_string(json_t *o, const char *key, const char **out, struct err **err)
{
	json_t *j = json_object_get(o, key);

	if (!j)
		return err_set(err, EINVAL, "%s: \"%s\" is missing", WHAT, key);
	if (!json_is_string(j))
		return err_set(err, EINVAL, "%s: \"%s\" must be a string", WHAT, key);
	if (strlen(json_string_value(j)) != json_string_length(j))
		return err_set(err, EINVAL, "%s: \"%s\" contains a NUL byte", WHAT, key);
	*out = json_string_value(j);
	return 0;
}

static int decode(json_t *o, struct volume *out, struct err **err)
{
	static const char *const keys[] = {
	    "Name", "Driver", "Labels", "Options", "CreatedAt", "Anonymous",
	};
	const char *name = NULL, *driver = NULL, *created = NULL, *k;
	json_t *val, *anon;
	size_t klen;
	char q[80];
	int r;

	if (!json_is_object(o))
		return err_set(err, EINVAL, "%s: not an object", WHAT);
	json_object_keylen_foreach(o, k, klen, val)
	{
		size_t i = 0;

		while (i < ARRAY_SIZE(keys) && (strlen(k) != klen || strcmp(keys[i], k)))
			i++;
		if (i == ARRAY_SIZE(keys))
			return err_set(err, EINVAL, "%s: unknown key \"%s\"", WHAT,
				       volume_shown(k, q, sizeof(q)));
	}
	if ((r = get_string(o, "Name", &name, err)) < 0 ||
	    (r = get_string(o, "Driver", &driver, err)) < 0 ||
	    (r = get_string(o, "CreatedAt", &created, err)) < 0)
		return r;
	if (!volume_name_valid(name))
		return err_set(err, EINVAL, "%s: invalid volume name \"%s\"", WHAT,
			       volume_shown(name, q, sizeof(q)));
	if (!driver_valid(driver))
		return err_set(err, EINVAL, "%s: invalid volume driver name \"%s\"", WHAT,
			       volume_shown(driver, q, sizeof(q)));
	if (rfc3339_parse(created, &out->created) < 0)
		return err_set(err, EINVAL, "%s: \"CreatedAt\" is not an RFC 3339 time: \"%s\"",
			       WHAT, volume_shown(created, q, sizeof(q)));
	anon = json_object_get(o, "Anonymous");
	if (!json_is_boolean(anon))
		return err_set(err, EINVAL, "%s: \"Anonymous\" must be true or false", WHAT);
	out->anonymous = json_is_true(anon);
	if ((r = json_get_kv(o, "Labels", false, &out->labels, WHAT, err)) < 0 ||
	    (r = json_get_kv(o, "Options", false, &out->options, WHAT, err)) < 0)
		return r;
	out->name = strdup(name);
	out->driver = strdup(driver);
	if (!out->name || !out->driver)
		return err_errno(err, ENOMEM, WHAT);
	return 0;
}

int volume_record_decode(const char *buf, size_t len, struct volume *out, struct err **err)
{
	_cleanup_json_ json_t *o = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > VOLUME_RECORD_MAX)
		return err_set(err, EFBIG, "%s: larger than %d bytes", WHAT, VOLUME_RECORD_MAX);
	o = json_parse_strict(buf, len, WHAT, err);
	if (!o)
		return -EINVAL;
	r = decode(o, out, err);
	if (r < 0)
		volume_free(out); /* nothing half-decoded leaves */
	return r;
}

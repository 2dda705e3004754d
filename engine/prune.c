/*
 * engine/prune.c - PURE: Docker's prune filters (see engine/prune.h).
 *
 * Runs in: the moat CLI process, as the invoking user or root; the input
 * is the command line, capped (PRUNE_FILTERS_MAX flags of at most
 * PRUNE_FILTER_LEN_MAX bytes) before anything is copied. Fuzzed by
 * fuzz/prune_filter_fuzz.c.
 *
 * Times are computed with integers only (no mktime, no TZ lookup): the
 * caller passes "now" and the local zone's offset, as Docker's daemon
 * parses zone-less times in time.FixedZone(now.Zone()).
 */
#include "engine/prune.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define NS_PER_S 1000000000LL

void prune_filter_clear(struct prune_filter *f)
{
	if (!f)
		return;
	strvfree(f->labels);
	strvfree(f->not_labels);
	strvfree(f->shown);
	memset(f, 0, sizeof(*f));
}

/* ---- durations ---- */

int prune_duration_parse(const char *s, int64_t *ns)
{
	static const struct {
		const char *u;
		uint64_t mult;
	} units[] = {{"ns", 1ULL},	     {"us", 1000ULL},
		     {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
		     {"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */
		     {"ms", 1000000ULL},     {"s", 1000000000ULL},
		     {"m", 60000000000ULL},  {"h", 3600000000000ULL}};
	const uint64_t limit = (uint64_t)INT64_MAX + 1; /* -2^63 is representable */
	uint64_t total = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		uint64_t v = 0, frac = 0, scale = 1, part;
		bool digits = false;
		size_t best = 0, bl = 0;

		for (; isdigit((unsigned char)*s); s++) {
			if (v > (limit - 9) / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*s - '0');
			digits = true;
		}
		if (*s == '.') {
			/* Digits past nanosecond precision of an hour are dropped,
			 * as Go does once its scale would overflow. */
			for (s++; isdigit((unsigned char)*s); s++) {
				digits = true;
				if (scale > UINT64_MAX / 100)
					continue;
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
		if (!digits)
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].u);
			if (!strncmp(s, units[i].u, l) && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (!bl)
			return -EINVAL;
		s += bl;
		if (v > limit / units[best].mult)
			return -ERANGE;
		part = v * units[best].mult;
		/* frac < scale <= 10^18 and mult <= 3.6e12: split the product so
		 * that it cannot overflow. */
		part += (uint64_t)((long double)frac * (long double)units[best].mult /
				   (long double)scale);
		if (part > limit || total > limit - part)
			return -ERANGE;
		total += part;
	}
	if (total > (uint64_t)INT64_MAX && !neg)
		return -ERANGE;
	*ns = neg ? (int64_t)(0 - total) : (int64_t)total;
	return 0;
}

/* ---- times ---- */

/* Days from 1970-01-01 to Y-M-D (proleptic Gregorian; H. Hinnant). */
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

static bool num(const char **p, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	return r;
}

/*
 * The layouts Docker's GetTimestamp tries: 2006-01-02, then optionally
 * T15, T15:04 or T15:04:05 with an optional fraction of 1..9 digits after
 * the seconds, then a zone (Z or +-07:00) that must be there exactly when
 * the value has 'Z', 'z' or '+' or three '-' in it (lower-case z is then
 * refused, as Go's parser does).
 */
static int parse_time(const char *s, const struct prune_clock *clk, int64_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool zoned = strpbrk(s, "zZ+") != NULL;
	unsigned y, mo, d, h = 0, mi = 0, se = 0, oh, om;
	int64_t frac = 0, off = 0, secs;
	bool have_sec = false;
	size_t dashes = 0;
	const char *p = s;

	for (const char *q = s; *q; q++)
		dashes += *q == '-';
	zoned = zoned || dashes == 3;
	if (!num(&p, 4, &y) || *p++ != '-' || !num(&p, 2, &mo) || *p++ != '-' || !num(&p, 2, &d))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return -EINVAL;
	if (*p == 'T') {
		p++;
		if (!num(&p, 2, &h) || h > 23)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!num(&p, 2, &mi) || mi > 59)
				return -EINVAL;
			if (*p == ':') {
				p++;
				if (!num(&p, 2, &se) || se > 59)
					return -EINVAL;
				have_sec = true;
			}
		}
		if (*p == '.') {
			size_t k = 0;
			/* Only after seconds: "T15:04.5" is no layout. */
			if (!have_sec)
				return -EINVAL;
			for (p++; isdigit((unsigned char)*p); p++, k++) {
				if (k >= 9)
					return -EINVAL;
				frac = frac * 10 + (*p - '0');
			}
			if (!k)
				return -EINVAL;
			for (; k < 9; k++)
				frac *= 10;
		}
	}
	if (zoned) {
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			bool neg = *p++ == '-';
			if (!num(&p, 2, &oh) || *p++ != ':' || !num(&p, 2, &om) || oh > 23 ||
			    om > 59)
				return -EINVAL;
			off = (int64_t)(oh * 3600 + om * 60);
			if (neg)
				off = -off;
		} else {
			return -EINVAL;
		}
	} else {
		off = clk->utc_offset;
	}
	if (*p)
		return -EINVAL;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	*out = sat_add(sat_mul(secs, NS_PER_S), frac);
	return 0;
}

/* Go's strconv.ParseInt(S, 10, 64) on the N bytes at S. */
static bool parse_int64(const char *s, size_t n, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	size_t i = 0;

	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (!isdigit((unsigned char)s[i]) || v > ((uint64_t)INT64_MAX + 1) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* Docker's seconds[.nanoseconds]; a fraction of more than 9 digits is
 * scaled down, as Go's float conversion does. */
static int parse_unix(const char *s, int64_t *out)
{
	const char *dot = strchr(s, '.');
	size_t sl = dot ? (size_t)(dot - s) : strlen(s);
	int64_t sec, nsec = 0;

	if (!parse_int64(s, sl, &sec))
		return -EINVAL;
	if (dot) {
		size_t fl = strlen(dot + 1);
		if (!parse_int64(dot + 1, fl, &nsec))
			return -EINVAL;
		for (size_t k = fl; k < 9; k++)
			nsec = sat_mul(nsec, 10);
		for (size_t k = 9; k < fl; k++)
			nsec /= 10;
	}
	*out = sat_add(sat_mul(sec, NS_PER_S), nsec);
	return 0;
}

int prune_until_parse(const char *s, const struct prune_clock *clk, int64_t *ns)
{
	int64_t d;

	if (strcmp(s, "0") && prune_duration_parse(s, &d) == 0) {
		*ns = d == INT64_MIN ? sat_add(clk->now_ns, INT64_MAX) : sat_add(clk->now_ns, -d);
		return 0;
	}
	if (parse_time(s, clk, ns) == 0)
		return 0;
	/* A value with a '-' was meant as a date (Docker stops there). */
	if (strchr(s, '-'))
		return -EINVAL;
	return parse_unix(s, ns);
}

/* ---- the filter ---- */

static char *trimmed(const char *s, size_t n)
{
	char *r;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	r = strndup(s, n);
	return r;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Appends a copy of S to V unless it is there; *N counts. */
static int strv_put(char ***v, size_t *n, const char *s)
{
	char **nv;

	if (strv_has(*v, *n, s))
		return 0;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	nv[*n + 1] = NULL;
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int prune_natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;
			int c;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : (*b ? -1 : 0);
}

static int natural_qsort(const void *pa, const void *pb)
{
	return prune_natural_cmp(*(char *const *)pa, *(char *const *)pb);
}

struct kv {
	char *key, *val;
};

static void kvs_free(struct kv *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].val);
	}
	free(v);
}

/* Splits the flags like docker/cli's FilterOpt.Set. */
static int split(char *const *specs, size_t n, struct kv **out, struct err **err)
{
	struct kv *v;

	*out = NULL;
	if (n > PRUNE_FILTERS_MAX)
		return err_set(err, E2BIG, "too many filters (at most %d)", PRUNE_FILTERS_MAX);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return err_errno(err, ENOMEM, "filter");
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(specs[i], PRUNE_FILTER_LEN_MAX + 1);
		const char *eq = memchr(specs[i], '=', len);

		if (len > PRUNE_FILTER_LEN_MAX) {
			kvs_free(v, n);
			return err_set(err, E2BIG, "filter longer than %d bytes",
				       PRUNE_FILTER_LEN_MAX);
		}
		if (!eq) {
			kvs_free(v, n);
			return err_set(err, EINVAL,
				       "invalid argument \"%s\" for \"--filter\" flag: bad format "
				       "of filter (expected name=value)",
				       specs[i]);
		}
		v[i].key = trimmed(specs[i], (size_t)(eq - specs[i]));
		v[i].val = trimmed(eq + 1, len - (size_t)(eq - specs[i]) - 1);
		if (!v[i].key || !v[i].val) {
			kvs_free(v, n);
			return err_errno(err, ENOMEM, "filter");
		}
		for (char *c = v[i].key; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	*out = v;
	return 0;
}

static bool known(const char *key, enum prune_target t)
{
	if (t == PRUNE_VOLUMES) /* Docker's volume prune has no until */
		return !strcmp(key, "label") || !strcmp(key, "label!");
	return !strcmp(key, "until") || !strcmp(key, "label") || !strcmp(key, "label!") ||
	       (t == PRUNE_IMAGES && !strcmp(key, "dangling"));
}

static int parse(struct kv *v, size_t n, enum prune_target t, bool all,
		 const struct prune_clock *clk, struct prune_filter *f, struct err **err)
{
	const char *until = NULL;
	bool d_true = false, d_false = false, d_bad = false, any_dangling = false;

	/* The daemon validates every key before it looks at a value. */
	for (size_t i = 0; i < n; i++)
		if (!known(v[i].key, t))
			return err_set(err, EINVAL, "invalid filter '%s'", v[i].key);
	for (size_t i = 0; i < n; i++) {
		const char *k = v[i].key, *val = v[i].val;
		char shown[PRUNE_FILTER_LEN_MAX + 16];
		bool label = !strcmp(k, "label"), not = !strcmp(k, "label!");

		if (label || not ) {
			if (!*val || *val == '=')
				return err_set(err, EINVAL, "invalid filter '%s=%s'", k, val);
			if (strv_put(label ? &f->labels : &f->not_labels,
				     label ? &f->n_labels : &f->n_not, val) < 0)
				return err_errno(err, ENOMEM, "filter");
		} else if (!strcmp(k, "until")) {
			if (until && strcmp(until, val))
				return err_set(err, EINVAL, "more than one until filter specified");
			until = val;
		} else {
			any_dangling = true;
			if (!strcmp(val, "true") || !strcmp(val, "1"))
				d_true = true;
			else if (!strcmp(val, "false") || !strcmp(val, "0"))
				d_false = true;
			else
				d_bad = true;
			continue; /* not in Docker's prompt list */
		}
		snprintf(shown, sizeof(shown), "%s=%s", k, val);
		if (strv_put(&f->shown, &f->n_shown, shown) < 0)
			return err_errno(err, ENOMEM, "filter");
	}
	if (t == PRUNE_IMAGES) {
		/* docker/cli adds dangling=!all to what the user gave. */
		if (all)
			d_false = true;
		else if (!any_dangling)
			d_true = true;
		if (d_bad || d_true == d_false) {
			char list[PRUNE_FILTER_LEN_MAX + 16] = "";
			size_t o = 0;
			for (size_t i = 0; i < n && o < sizeof(list); i++)
				if (!strcmp(v[i].key, "dangling"))
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
							      o ? "," : "", v[i].val);
			if (all && o < sizeof(list))
				snprintf(list + o, sizeof(list) - o, "%sfalse", o ? "," : "");
			return err_set(err, EINVAL, "invalid filter 'dangling=%s'", list);
		}
		f->dangling = d_true;
	}
	if (until) {
		if (prune_until_parse(until, clk, &f->until) < 0)
			return err_set(err, EINVAL,
				       "invalid filter 'until=%s': failed to parse value as time "
				       "or duration",
				       until);
		f->has_until = true;
	}
	if (f->n_shown > 1)
		qsort(f->shown, f->n_shown, sizeof(char *), natural_qsort);
	return 0;
}

int prune_filter_parse(char *const *specs, size_t n, enum prune_target target, bool all,
		       const struct prune_clock *clk, struct prune_filter *out, struct err **err)
{
	struct kv *v = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = split(specs, n, &v, err);
	if (r < 0)
		return r;
	r = parse(v, n, target, all, clk, out, err);
	kvs_free(v, n);
	if (r < 0)
		prune_filter_clear(out);
	return r;
}

/* The value of label KEY (KL bytes) in LABELS, the last one winning. */
static const char *label_value(char *const *labels, const char *key, size_t kl)
{
	const char *val = NULL;

	for (size_t i = 0; labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		size_t l = eq ? (size_t)(eq - labels[i]) : strlen(labels[i]);

		if (l == kl && !strncmp(labels[i], key, kl))
			val = eq ? eq + 1 : "";
	}
	return val;
}

/* MatchKVList for one value: "K" is there, or "K=V" with that value. */
static bool has_label(char *const *labels, const char *want)
{
	const char *weq = strchr(want, '=');
	size_t kl = weq ? (size_t)(weq - want) : strlen(want);
	const char *val = label_value(labels, want, kl);

	return val && (!weq || !strcmp(val, weq + 1));
}

bool prune_filter_match(const struct prune_filter *f, int64_t created_ns, char *const *labels)
{
	bool all_not = f->n_not > 0;

	if (f->has_until && created_ns > f->until)
		return false;
	for (size_t i = 0; i < f->n_labels; i++)
		if (!has_label(labels, f->labels[i]))
			return false;
	for (size_t i = 0; i < f->n_not && all_not; i++)
		all_not = has_label(labels, f->not_labels[i]);
	return !all_not;
}

/*
 * engine/limits.c - the PURE parsers of Docker's resource-limit flags
 * (see engine/limits.h): sizes (go-units' RAMInBytes), --cpus (a decimal
 * into nano-CPUs), --cpuset-cpus lists and --ulimit NAME=SOFT[:HARD].
 *
 * Runs in: the moat process (flag parsing) and the record decoder; fuzzed
 * by fuzz/limits_fuzz.c.
 *
 * Invariants:
 *  - no file system, process or global state: bytes in, a struct out;
 *  - every input is bounded (LIMITS_TEXT_MAX) before it is looked at, and
 *    all arithmetic is checked: a value that does not fit is refused, never
 *    wrapped (a wrapped memory limit would be a tiny or a huge one);
 *  - outputs are written only on success;
 *  - messages are Docker's where Docker has one, so that scripts that match
 *    them keep working.
 */
#include "engine/limits.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Longer flag values are certainly wrong; refusing them early also keeps
 * the echoed value in messages short. */
#define LIMITS_TEXT_MAX 200
/* The kernel's NR_CPUS is at most 8192 (CONFIG_NR_CPUS_RANGE_END). */
#define CPUSET_MAX_CPU 8192

static bool too_long(const char *s)
{
	return strnlen(s, LIMITS_TEXT_MAX + 1) > LIMITS_TEXT_MAX;
}

/* Decimal digits of S[*I..] into *V, at least one; false on overflow. */
static bool digits_u64(const char *s, size_t *i, uint64_t *v, size_t *ndigits)
{
	uint64_t x = 0;
	size_t n = 0;

	for (; isdigit((unsigned char)s[*i]); (*i)++, n++)
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(s[*i] - '0'), &x))
			return false;
	*v = x;
	*ndigits = n;
	return true;
}

/*
 * go-units' parseSize with the binary map (RAMInBytes): a non-negative
 * decimal (an optional fraction), an optional space, then "", "b", or one
 * of k m g t p optionally followed by "b" or "ib", case-insensitive.
 * Docker goes through a float64 and truncates; this computes the same
 * truncation exactly with integers.
 */
int engine_limits_size_parse(const char *s, int64_t *out, struct err **err)
{
	static const char units[] = "kmgtp";
	uint64_t ip = 0, frac = 0, scale = 1, mul = 1;
	unsigned __int128 v;
	size_t i = 0, nd = 0, nf = 0;
	char sfx[4] = "";
	const char *u;

	if (too_long(s))
		return err_set(err, EINVAL, "invalid size: value too long");
	if (!digits_u64(s, &i, &ip, &nd))
		return err_set(err, ERANGE, "invalid size: '%s': too large", s);
	if (s[i] == '.') {
		i++;
		/* Digits past the 18th cannot change a byte count below 2^63
		 * by a whole byte more than truncation already does. */
		for (; isdigit((unsigned char)s[i]); i++, nf++)
			if (nf < 18) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				scale *= 10;
			}
	}
	if (nd + nf == 0)
		return err_set(err, EINVAL, "invalid size: '%s'", s);
	if (s[i] == ' ')
		i++;
	if (strlen(s + i) > 3)
		return err_set(err, EINVAL, "invalid suffix: '%.20s'", s + i);
	for (size_t k = 0; s[i + k]; k++)
		sfx[k] = (char)tolower((unsigned char)s[i + k]);
	if (sfx[0] && sfx[0] != 'b') {
		if (!(u = strchr(units, sfx[0])) || !*u)
			return err_set(err, EINVAL, "invalid suffix: '%s'", sfx);
		mul = 1ULL << (10 * (u - units + 1));
		if ((sfx[1] && strcmp(sfx + 1, "b") && strcmp(sfx + 1, "ib")))
			return err_set(err, EINVAL, "invalid suffix: '%s'", sfx);
	} else if (sfx[0] == 'b' && sfx[1]) {
		return err_set(err, EINVAL, "invalid suffix: '%s'", sfx);
	}
	v = (unsigned __int128)ip * mul + (unsigned __int128)frac * mul / scale;
	if (v > INT64_MAX)
		return err_set(err, ERANGE, "invalid size: '%s': too large", s);
	*out = (int64_t)v;
	return 0;
}

/*
 * Docker parses --cpus as a big.Rat and refuses what is not a whole number
 * of nano-CPUs; moat takes the decimal form only ("1.5", ".5", "2").
 */
int engine_limits_cpus_parse(const char *s, int64_t *out, struct err **err)
{
	uint64_t ip = 0, frac = 0, nano;
	size_t i = 0, nd = 0, nf = 0;

	if (too_long(s))
		return err_set(err, EINVAL, "failed to parse value as a rational number: too long");
	if (!digits_u64(s, &i, &ip, &nd))
		return err_set(err, ERANGE, "value %s is too large", s);
	if (s[i] == '.')
		for (i++; isdigit((unsigned char)s[i]); i++, nf++) {
			if (nf == 9) {
				if (s[i] != '0')
					return err_set(err, EINVAL, "value is too precise");
				continue;
			}
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
	if (nd + nf == 0 || s[i])
		return err_set(err, EINVAL, "failed to parse %s as a rational number", s);
	for (size_t k = nf; k < 9; k++)
		frac *= 10;
	if (__builtin_mul_overflow(ip, 1000000000ULL, &nano) ||
	    __builtin_add_overflow(nano, frac, &nano) || nano > INT64_MAX)
		return err_set(err, ERANGE, "value %s is too large", s);
	if (nano == 0)
		return err_set(err, EINVAL, "invalid value %s: the number of CPUs must be above 0",
			       s);
	*out = (int64_t)nano;
	return 0;
}

/* One CPU number of a cpuset list; Docker's ParseUintList message. */
static int cpu_number(const char *s, size_t *i, const char *all, unsigned *cpu, struct err **err)
{
	uint64_t v;
	size_t nd;

	if (!digits_u64(s, i, &v, &nd) || nd == 0)
		return err_set(err, EINVAL, "invalid format: %s", all);
	if (v >= CPUSET_MAX_CPU)
		return err_set(err, ERANGE, "invalid format: %s: CPU %llu is above %d", all,
			       (unsigned long long)v, CPUSET_MAX_CPU - 1);
	*cpu = (unsigned)v;
	return 0;
}

int engine_limits_cpuset_parse(const char *s, char out[128], struct err **err)
{
	unsigned char set[CPUSET_MAX_CPU / 8] = {0};
	char buf[128];
	size_t i = 0, len = 0;
	int r;

	if (too_long(s))
		return err_set(err, EINVAL, "invalid format: value too long");
	if (!*s)
		return err_set(err, EINVAL, "invalid format: empty CPU list");
	for (;;) {
		unsigned a, b;

		if ((r = cpu_number(s, &i, s, &a, err)) < 0)
			return r;
		b = a;
		if (s[i] == '-') {
			i++;
			if ((r = cpu_number(s, &i, s, &b, err)) < 0)
				return r;
			if (a > b)
				return err_set(err, EINVAL, "invalid range format: %u-%u", a, b);
		}
		for (unsigned c = a; c <= b; c++)
			set[c / 8] |= (unsigned char)(1u << (c % 8));
		if (!s[i])
			break;
		if (s[i++] != ',')
			return err_set(err, EINVAL, "invalid format: %s", s);
	}
	/* Normalised: ascending, overlapping and adjacent ranges merged, so
	 * the record and inspect show one spelling of one set. */
	for (unsigned c = 0; c < CPUSET_MAX_CPU;) {
		unsigned e;
		int n;

		if (!(set[c / 8] & (1u << (c % 8)))) {
			c++;
			continue;
		}
		for (e = c; e + 1 < CPUSET_MAX_CPU && (set[(e + 1) / 8] & (1u << ((e + 1) % 8)));
		     e++)
			;
		n = e == c
			? snprintf(buf + len, sizeof(buf) - len, "%s%u", len ? "," : "", c)
			: snprintf(buf + len, sizeof(buf) - len, "%s%u-%u", len ? "," : "", c, e);
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			return err_set(err, E2BIG, "invalid format: %s: too many ranges", s);
		len += (size_t)n;
		c = e + 1;
	}
	memcpy(out, buf, len + 1);
	return 0;
}

/* Docker's ulimit names (go-units ulimitNameMapping). */
static const struct {
	const char *name;
	int resource;
} ulimit_names[] = {
    {"core", RLIMIT_CORE},	   {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},	   {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},	   {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},	   {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},	   {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},	   {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

/* Docker's name of RESOURCE, NULL for one it has none for. Declared here
 * and in engine/containers.h until engine/limits.h carries it. */
const char *engine_limits_ulimit_name(int resource)
{
	for (size_t i = 0; i < sizeof(ulimit_names) / sizeof(ulimit_names[0]); i++)
		if (ulimit_names[i].resource == resource)
			return ulimit_names[i].name;
	return NULL;
}

/* strconv.ParseInt(s, 10, 64), then moat's rule: -1 ("unlimited") is the
 * only negative value, since setrlimit takes unsigned limits. */
static int ulimit_value(const char *s, uint64_t *out, struct err **err)
{
	size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0, nd;
	uint64_t v;

	if (!digits_u64(s, &i, &v, &nd) || (nd && s[i] == '\0' && v > (uint64_t)INT64_MAX))
		return err_set(err, ERANGE, "strconv.ParseInt: parsing \"%s\": value out of range",
			       s);
	if (nd == 0 || s[i])
		return err_set(err, EINVAL, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
	if (s[0] == '-') {
		if (v != 1)
			return err_set(err, EINVAL,
				       "invalid ulimit value %s: -1 (unlimited) is the only "
				       "negative value",
				       s);
		*out = RLIM_INFINITY;
		return 0;
	}
	*out = v;
	return 0;
}

int engine_limits_ulimit_parse(const char *s, struct engine_ulimit *out, struct err **err)
{
	char buf[LIMITS_TEXT_MAX + 1], *eq, *colon;
	uint64_t soft, hard;
	int resource = -1, r;

	if (too_long(s))
		return err_set(err, EINVAL, "invalid ulimit argument: value too long");
	memcpy(buf, s, strlen(s) + 1);
	if (!(eq = strchr(buf, '=')))
		return err_set(err, EINVAL, "invalid ulimit argument: %s", s);
	*eq = '\0';
	for (size_t i = 0; i < sizeof(ulimit_names) / sizeof(ulimit_names[0]); i++)
		if (!strcmp(buf, ulimit_names[i].name))
			resource = ulimit_names[i].resource;
	if (resource < 0)
		return err_set(err, EINVAL, "invalid ulimit type: %s", buf);
	colon = strchr(eq + 1, ':');
	if (colon && strchr(colon + 1, ':'))
		return err_set(err, EINVAL,
			       "too many limit value arguments - %s, can only have up to two, "
			       "`soft[:hard]`",
			       eq + 1);
	if (colon)
		*colon = '\0';
	if ((r = ulimit_value(eq + 1, &soft, err)) < 0)
		return r;
	hard = soft;
	if (colon && (r = ulimit_value(colon + 1, &hard, err)) < 0)
		return r;
	if (hard != RLIM_INFINITY) {
		if (soft == RLIM_INFINITY)
			return err_set(
			    err, EINVAL,
			    "ulimit soft limit must be less than or equal to hard limit: "
			    "soft: -1 (unlimited), hard: %llu",
			    (unsigned long long)hard);
		if (soft > hard)
			return err_set(
			    err, EINVAL,
			    "ulimit soft limit must be less than or equal to hard limit: "
			    "%llu > %llu",
			    (unsigned long long)soft, (unsigned long long)hard);
	}
	out->resource = resource;
	out->soft = soft;
	out->hard = hard;
	return 0;
}

/*
 * policy/tenant.c - decoding, tightening and evaluation of the tenant
 * policy (see tenant.h for the format): the rule sets, tenants and their
 * selection, images, switches, capabilities and limits. The storage
 * rules ("bindMounts", "volumeDrivers", "forbidTmpfs") are in
 * tenant_storage.c, the network rules ("networks", "publish") in
 * tenant_net.c and the encoder in tenant_encode.c; tenant_internal.h
 * declares what the four share.
 *
 * Runs in: any process, unprivileged. PURE: no system calls, no file
 * I/O. The input is untrusted bytes (a user's policy file) and the
 * request is built from attacker-chosen flags, so this file is what
 * fuzz/tenant_policy_fuzz.c exercises.
 *
 * Invariants:
 *  - the size cap is checked before jansson sees the bytes, and every
 *    count (tenants, patterns, id ranges, ulimits) before anything is
 *    allocated for it;
 *  - strings copied out were checked for NUL bytes; strings quoted in
 *    errors go through policy_quote(), so a policy cannot put terminal escapes
 *    on the user's screen; tenant names are [A-Za-z0-9_.-]{1,64}, so a
 *    JSON path that names one needs no quoting;
 *  - decode returns a complete, consistent policy or frees what it built;
 *  - evaluation fails closed: an image reference it cannot parse does not
 *    match an allow pattern, "unlimited" is above every bound, a --tenant
 *    it cannot grant denies, and a mount it cannot place is refused by
 *    the storage rules (tenant_storage.c, which also holds the invariants
 *    of host paths);
 *  - the storage rules are decoded and checked after every other rule,
 *    so that of several errors or denials the same one is reported.
 */
#include "policy/tenant.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "common/cleanup.h"
#include "policy/decode.h"
#include "common/json.h"
#include "image/reference.h"
#include "policy/caps.h"
#include "policy/tenant_internal.h"

#define NAME_MAX_LEN 64
#define PATTERN_MAX_LEN 300
#define MOAT_SHM_DEFAULT (64LL << 20)
#define KERNEL_CPU_SHARES 1024

static const char *const limit_keys[TENANT_LIMIT_COUNT] = {
    "memory", "memorySwap", "cpus", "cpuShares", "pidsLimit", "shmSize",
};

static const struct {
	const char *name;
	int resource;
} ulimit_names[] = {
    {"as", RLIMIT_AS},		 {"core", RLIMIT_CORE},		{"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},	 {"fsize", RLIMIT_FSIZE},	{"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},	 {"nproc", RLIMIT_NPROC},	{"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},	 {"rttime", RLIMIT_RTTIME},	{"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

const char *tenant_limit_key(enum tenant_limit l)
{
	return (unsigned)l < TENANT_LIMIT_COUNT ? limit_keys[l] : "?";
}

const char *tenant_ulimit_name(int resource)
{
	for (size_t i = 0; i < sizeof(ulimit_names) / sizeof(ulimit_names[0]); i++)
		if (ulimit_names[i].resource == resource)
			return ulimit_names[i].name;
	return "?";
}

static int ulimit_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(ulimit_names) / sizeof(ulimit_names[0]); i++)
		if (!strcmp(ulimit_names[i].name, name))
			return ulimit_names[i].resource;
	return -1;
}

/* ---- sizes and CPU quantities ------------------------------------------ */

/* Docker's RAMInBytes: DIGITS[.DIGITS][b|k|m|g|t|p][b|ib], 1024-based,
 * case-insensitive. Negative, empty and overflowing values are refused. */
int tenant_size_parse(const char *s, int64_t *out)
{
	uint64_t ip = 0, frac = 0, fdiv = 1, mult = 1;
	const char *p = s;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, digits = true)
			if (fdiv < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
	}
	if (!digits)
		return -EINVAL;
	switch (*p | 0x20) {
	case 'k':
		mult = 1ULL << 10;
		break;
	case 'm':
		mult = 1ULL << 20;
		break;
	case 'g':
		mult = 1ULL << 30;
		break;
	case 't':
		mult = 1ULL << 40;
		break;
	case 'p':
		mult = 1ULL << 50;
		break;
	case 'b':
		break;
	default:
		if (*p)
			return -EINVAL;
		break;
	}
	if (*p && (*p | 0x20) != 'b') {
		p++;
		if ((*p | 0x20) == 'i' && (p[1] | 0x20) == 'b')
			p += 2;
		else if ((*p | 0x20) == 'b')
			p++;
	} else if (*p) {
		p++;
	}
	if (*p)
		return -EINVAL;
	if (ip > (uint64_t)INT64_MAX / mult)
		return -ERANGE;
	ip *= mult;
	/* frac/fdiv of MULT, rounded down; frac < fdiv <= 1e9, mult <= 2^50:
	 * split to stay within 64 bits. */
	ip += (mult / fdiv) * frac + (mult % fdiv) * frac / fdiv;
	if (ip > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = (int64_t)ip;
	return 0;
}

/* "1.5" -> 1500000000 nano-CPUs; at most 9 decimals. */
static int cpus_parse(const char *s, int64_t *out)
{
	uint64_t ip = 0, frac = 0;
	int nd = 0;
	const char *p = s;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (ip > 1000000)
			return -ERANGE;
		ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true, nd++) {
			if (nd == 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
	if (!digits || *p)
		return -EINVAL;
	for (; nd < 9; nd++)
		frac *= 10;
	*out = (int64_t)(ip * 1000000000ULL + frac);
	return 0;
}

static void rules_clear(struct tenant_rules *r)
{
	strvfree(r->allow);
	strvfree(r->deny);
	free(r->require_seccomp);
	strvfree(r->bind_allow);
	strvfree(r->bind_deny);
	strvfree(r->volume_drivers);
	tenant_net_clear(r);
	memset(r, 0, sizeof(*r));
}

void tenant_policy_free(struct tenant_policy *p)
{
	if (!p)
		return;
	rules_clear(&p->def);
	for (size_t i = 0; i < p->n_tenants; i++) {
		free(p->tenants[i].name);
		free(p->tenants[i].uids);
		free(p->tenants[i].gids);
		rules_clear(&p->tenants[i].rules);
	}
	free(p->tenants);
	free(p);
}

static void policy_freep(struct tenant_policy **p)
{
	tenant_policy_free(*p);
}
#define _cleanup_tpolicy_ __attribute__((cleanup(policy_freep)))

struct tenant_policy *tenant_policy_empty(void)
{
	return calloc(1, sizeof(struct tenant_policy));
}

/* ---- image patterns ----------------------------------------------------- */

/* Normalises a pattern (see tenant.h) into *OUT: "*", "HOST", "HOST/REPO"
 * or "HOST/NS/" + "*". NULL *WHY on success. */
static int pattern_norm(const char *s, char **out, const char **why)
{
	struct image_reference r = {0};
	struct err *e = NULL;
	size_t len = strlen(s);
	bool prefix = false;
	char *name = NULL;
	int n;

	*out = NULL;
	*why = "is not a valid image pattern";
	if (len == 0 || len > PATTERN_MAX_LEN)
		return -EINVAL;
	if (!strcmp(s, "*")) {
		*out = strdup("*");
		return *out ? 0 : -ENOMEM;
	}
	if (!strchr(s, '/') && (strchr(s, '.') || strchr(s, ':') || !strcmp(s, "localhost"))) {
		if (!image_reference_domain_valid(s)) {
			*why = "is not a valid registry host";
			return -EINVAL;
		}
		*out = strdup(!strcmp(s, "index.docker.io") ? "docker.io" : s);
		return *out ? 0 : -ENOMEM;
	}
	if (len > 2 && !strcmp(s + len - 2, "/*")) {
		prefix = true;
		len -= 2;
	}
	if (!(name = strndup(s, len)))
		return -ENOMEM;
	if (strchr(name, '@') || strchr(name, '*')) {
		free(name);
		*why = "may not hold a digest or a '*' but at its end (\"HOST/NS/*\")";
		return -EINVAL;
	}
	/* "HOST/" + "*" is the host pattern. */
	if (prefix && !strchr(name, '/') &&
	    (strchr(name, '.') || strchr(name, ':') || !strcmp(name, "localhost"))) {
		bool ok = image_reference_domain_valid(name);

		if (!ok) {
			free(name);
			*why = "is not a valid registry host";
			return -EINVAL;
		}
		*out = !strcmp(name, "index.docker.io") ? strdup("docker.io") : steal_ptr(name);
		free(name);
		return *out ? 0 : -ENOMEM;
	}
	/* A pattern names repositories: a tag in its last component is an
	 * error (the parse below would add ":latest" to any name). */
	if (strchr(strrchr(name, '/') ? strrchr(name, '/') : name, ':')) {
		free(name);
		*why = "may not name a tag (patterns match repositories)";
		return -EINVAL;
	}
	/* A namespace is taken literally ("docker.io/library" + "/" + "*" is
	 * not docker.io/library/library): parse it with a component added,
	 * which validates and normalises the host without the library/ rule. */
	if (prefix) {
		char *probe = NULL;

		if (asprintf(&probe, "%s/x", name) < 0) {
			free(name);
			return -ENOMEM;
		}
		free(name);
		name = probe;
	}
	if (image_reference_parse(name, &r, &e) < 0) {
		err_free(&e);
		free(name);
		return -EINVAL;
	}
	free(name);
	if (prefix) {
		size_t pl = strlen(r.path);

		/* The parse may have refused the probe's shape silently (a
		 * name it rewrote); only an exact ".../x" is ours to cut. */
		if (pl < 3 || strcmp(r.path + pl - 2, "/x")) {
			image_reference_clear(&r);
			return -EINVAL;
		}
		r.path[pl - 2] = '\0';
	}
	n = asprintf(out, "%s/%s%s", r.domain, r.path, prefix ? "/*" : "");
	image_reference_clear(&r);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	*why = NULL;
	return 0;
}

enum pkind { P_ALL, P_HOST, P_REPO, P_PREFIX };

static enum pkind pkind(const char *p, size_t *plen)
{
	size_t len = strlen(p);

	*plen = len;
	if (!strcmp(p, "*"))
		return P_ALL;
	if (!strchr(p, '/'))
		return P_HOST;
	if (len > 2 && !strcmp(p + len - 2, "/*")) {
		*plen = len - 1; /* keep the '/' */
		return P_PREFIX;
	}
	return P_REPO;
}

/* Whether REPO ("host/path", normalised) matches pattern P. */
static bool pattern_match(const char *p, const char *repo)
{
	size_t plen;

	switch (pkind(p, &plen)) {
	case P_ALL:
		return true;
	case P_HOST:
		return !strncmp(repo, p, plen) && repo[plen] == '/';
	case P_PREFIX:
		return !strncmp(repo, p, plen);
	case P_REPO:
	default:
		return !strcmp(repo, p);
	}
}

/* Whether every repository B matches is matched by A too. */
static bool pattern_contains(const char *a, const char *b)
{
	size_t al, bl;
	enum pkind ka = pkind(a, &al), kb = pkind(b, &bl);

	switch (ka) {
	case P_ALL:
		return true;
	case P_HOST:
		if (kb == P_HOST)
			return !strcmp(a, b);
		return kb != P_ALL && !strncmp(b, a, al) && b[al] == '/';
	case P_PREFIX:
		return (kb == P_REPO || kb == P_PREFIX) && bl >= al && !strncmp(b, a, al);
	case P_REPO:
	default:
		return kb == P_REPO && !strcmp(a, b);
	}
}

/* ---- decoding ---------------------------------------------------------- */

void tenant_path_join(char *buf, size_t size, const char *a, const char *b)
{
	/* Paths are short; a cut one still names the place. */
	if (snprintf(buf, size, "%s%s%s", a, a[0] ? "." : "", b) < 0)
		buf[0] = '\0';
}

int tenant_get_bool(struct policy_dec *d, const char *path, json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	char p[512];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		tenant_path_join(p, sizeof(p), path, key);
		return policy_dec_fail(d, p, "must be true or false");
	}
	*out = json_is_true(v);
	return 0;
}

static int get_count(struct policy_dec *d, const char *path, json_t *obj, const char *key,
		     bool *has, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[512];

	if (!v)
		return 0;
	tenant_path_join(p, sizeof(p), path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return policy_dec_fail(d, p, "must be an integer of 0 or more");
	*has = true;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int tenant_get_string(struct policy_dec *d, const char *path, json_t *v, size_t max,
		      const char **out)
{
	if (!json_is_string(v))
		return policy_dec_fail(d, path, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return policy_dec_fail(d, path, "contains a NUL byte");
	if (json_string_length(v) > max)
		return policy_dec_fail(d, path, "is longer than %zu bytes", max);
	*out = json_string_value(v);
	return 0;
}

static int decode_patterns(struct policy_dec *d, const char *path, json_t *j, char ***out)
{
	char **v;
	size_t n;
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of image patterns");
	n = json_array_size(j);
	if (n > TENANT_POLICY_MAX_PATTERNS)
		return policy_dec_fail(d, path, "more than %d patterns",
				       TENANT_POLICY_MAX_PATTERNS);
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	*out = v;
	for (size_t i = 0; i < n; i++) {
		const char *s, *why;
		int r;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((r = tenant_get_string(d, p, json_array_get(j, i), PATTERN_MAX_LEN, &s)) < 0)
			return r;
		r = pattern_norm(s, &v[i], &why);
		if (r == -ENOMEM)
			return err_errno(d->err, ENOMEM, "%s", d->file);
		if (r < 0)
			return policy_dec_fail(d, p, "\"%s\" %s", policy_quote(s, q, sizeof(q)),
					       why);
	}
	return 0;
}

static int decode_images(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	static const char *const keys[] = {"allow", "deny", NULL};
	json_t *a = json_object_get(j, "allow"), *dn = json_object_get(j, "deny");
	char p[512];
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, path, "must be an object with \"allow\" and/or \"deny\"");
	if ((ret = policy_check_keys(d, path, j, keys, NULL)) < 0)
		return ret;
	if (a) {
		tenant_path_join(p, sizeof(p), path, "allow");
		if ((ret = decode_patterns(d, p, a, &r->allow)) < 0)
			return ret;
	}
	if (dn) {
		tenant_path_join(p, sizeof(p), path, "deny");
		if ((ret = decode_patterns(d, p, dn, &r->deny)) < 0)
			return ret;
	}
	/* Contradiction: a pattern allowed that a deny pattern wholly covers
	 * can never match; say so rather than let the author believe it. */
	for (size_t i = 0; r->allow && r->allow[i]; i++)
		for (size_t k = 0; r->deny && r->deny[k]; k++)
			if (pattern_contains(r->deny[k], r->allow[i])) {
				snprintf(p, sizeof(p), "%s.allow[%zu]", path, i);
				return policy_dec_fail(
				    d, p, "\"%s\" is also denied by \"%s\" (contradictory rules)",
				    r->allow[i], r->deny[k]);
			}
	return 0;
}

/* A limit's value: sizes as bytes or "512m", cpus as a number or "1.5",
 * counts as integers. */
static int limit_value(struct policy_dec *d, const char *path, json_t *v, int kind, int64_t *out)
{
	char q[128];
	int r;

	if (kind == 'c') { /* cpus */
		if (json_is_string(v)) {
			if (strlen(json_string_value(v)) != json_string_length(v) ||
			    cpus_parse(json_string_value(v), out) < 0)
				return policy_dec_fail(
				    d, path, "\"%s\" is not a CPU quantity (\"1.5\")",
				    policy_quote(json_string_value(v), q, sizeof(q)));
		} else if (json_is_integer(v)) {
			if (json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
				return policy_dec_fail(d, path, "CPU quantity out of range");
			*out = (int64_t)json_integer_value(v) * 1000000000LL;
		} else if (json_is_real(v)) {
			double x = json_real_value(v);

			if (!(x >= 0 && x <= 1000000))
				return policy_dec_fail(d, path, "CPU quantity out of range");
			*out = (int64_t)(x * 1e9 + 0.5);
		} else {
			return policy_dec_fail(d, path, "must be a CPU quantity (1.5 or \"1.5\")");
		}
	} else if (kind == 's') { /* size */
		if (json_is_string(v)) {
			if (strlen(json_string_value(v)) != json_string_length(v) ||
			    (r = tenant_size_parse(json_string_value(v), out)) < 0)
				return policy_dec_fail(
				    d, path,
				    "\"%s\" is not a size (bytes, or a number with b, k, m, "
				    "g, t or p)",
				    policy_quote(json_string_value(v), q, sizeof(q)));
		} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
			*out = (int64_t)json_integer_value(v);
		} else {
			return policy_dec_fail(d, path,
					       "must be a size (bytes, or a string like \"512m\")");
		}
	} else {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return policy_dec_fail(d, path, "must be an integer of 0 or more");
		*out = (int64_t)json_integer_value(v);
	}
	if (*out <= 0)
		return policy_dec_fail(d, path, "must be more than 0");
	return 0;
}

static int decode_bound(struct policy_dec *d, const char *path, json_t *j, int kind, int64_t lo,
			int64_t hi, struct tenant_bound *b)
{
	static const char *const keys[] = {"max", "default", NULL};
	json_t *mx = json_object_get(j, "max"), *df = json_object_get(j, "default");
	char p[512];
	int r;

	if (!json_is_object(j))
		return policy_dec_fail(d, path,
				       "must be an object with \"max\" and/or \"default\"");
	if ((r = policy_check_keys(d, path, j, keys, NULL)) < 0)
		return r;
	if (mx) {
		tenant_path_join(p, sizeof(p), path, "max");
		if ((r = limit_value(d, p, mx, kind, &b->max)) < 0)
			return r;
		if (b->max < lo || b->max > hi)
			return policy_dec_fail(
			    d, p, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", b->max,
			    lo, hi);
		b->has_max = true;
	}
	if (df) {
		tenant_path_join(p, sizeof(p), path, "default");
		if ((r = limit_value(d, p, df, kind, &b->def)) < 0)
			return r;
		if (b->def < lo || b->def > hi)
			return policy_dec_fail(
			    d, p, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", b->def,
			    lo, hi);
		b->has_default = true;
	}
	if (b->has_max && b->has_default && b->def > b->max)
		return policy_dec_fail(d, path,
				       "the default is above the max (contradictory rules)");
	return 0;
}

static int decode_limits(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	static const char *const keys[] = {"memory",	"memorySwap", "cpus",	 "cpuShares",
					   "pidsLimit", "shmSize",    "ulimits", NULL};
	static const int kinds[TENANT_LIMIT_COUNT] = {'s', 's', 'c', 'i', 'i', 's'};
	static const int64_t lo[TENANT_LIMIT_COUNT] = {1, 1, 1, 2, 1, 1};
	static const int64_t hi[TENANT_LIMIT_COUNT] = {INT64_MAX, INT64_MAX, INT64_MAX,
						       262144,	  INT64_MAX, INT64_MAX};
	const char *k;
	json_t *u, *v;
	char p[512], q[128];
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, path, "must be an object");
	if ((ret = policy_check_keys(d, path, j, keys, NULL)) < 0)
		return ret;
	for (int l = 0; l < TENANT_LIMIT_COUNT; l++) {
		json_t *b = json_object_get(j, limit_keys[l]);

		tenant_path_join(p, sizeof(p), path, limit_keys[l]);
		if (b && (ret = decode_bound(d, p, b, kinds[l], lo[l], hi[l], &r->limits[l])) < 0)
			return ret;
	}
	u = json_object_get(j, "ulimits");
	if (!u)
		return 0;
	tenant_path_join(p, sizeof(p), path, "ulimits");
	if (!json_is_object(u))
		return policy_dec_fail(d, p, "must be an object of ulimit names");
	if (json_object_size(u) > ENGINE_MAX_ULIMITS)
		return policy_dec_fail(d, p, "more than %d ulimits", ENGINE_MAX_ULIMITS);
	json_object_foreach (u, k, v) {
		char up[600];
		int res = ulimit_from_name(k);

		if (res < 0)
			return policy_dec_fail(d, p, "unknown ulimit \"%s\"",
					       policy_quote(k, q, sizeof(q)));
		snprintf(up, sizeof(up), "%s.%s", p, k);
		r->ulimits[r->n_ulimits].resource = res;
		if ((ret = decode_bound(d, up, v, 'i', 1, INT64_MAX, &r->ulimits[r->n_ulimits].b)) <
		    0)
			return ret;
		r->n_ulimits++;
	}
	return 0;
}

static int decode_caps(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of capability names");
	if (json_array_size(j) > 64)
		return policy_dec_fail(d, path, "more than 64 capabilities");
	r->has_caps = true;
	for (size_t i = 0; i < json_array_size(j); i++) {
		const char *s;
		int c, ret;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((ret = tenant_get_string(d, p, json_array_get(j, i), 64, &s)) < 0)
			return ret;
		c = policy_cap_from_name(s);
		if (c < 0 || c >= TENANT_CAP_COUNT)
			return policy_dec_fail(d, p, "unknown capability \"%s\"",
					       policy_quote(s, q, sizeof(q)));
		r->caps |= 1ULL << c;
	}
	return 0;
}

#define RULE_KEYS                                                                            \
	"images", "forbidHostNetwork", "forbidHostUserns", "forbidUnconfinedSeccomp",        \
	    "forbidLandlockOff", "forbidLSMOff", "requireReadOnly", "requireSeccompProfile", \
	    "capabilities", "maxEnvBytes", "maxArgs", "limits", TENANT_NET_KEYS,             \
	    TENANT_STORAGE_KEYS

static int decode_rules(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	json_t *v;
	char p[512], q[128];
	int ret;

	if ((v = json_object_get(j, "images"))) {
		tenant_path_join(p, sizeof(p), path, "images");
		if ((ret = decode_images(d, p, v, r)) < 0)
			return ret;
	}
	if ((ret = tenant_get_bool(d, path, j, "forbidHostNetwork", &r->forbid_host_network)) < 0 ||
	    (ret = tenant_get_bool(d, path, j, "forbidHostUserns", &r->forbid_host_userns)) < 0 ||
	    (ret = tenant_get_bool(d, path, j, "forbidUnconfinedSeccomp",
				   &r->forbid_unconfined_seccomp)) < 0 ||
	    (ret = tenant_get_bool(d, path, j, "forbidLandlockOff", &r->forbid_landlock_off)) < 0 ||
	    (ret = tenant_get_bool(d, path, j, "forbidLSMOff", &r->forbid_lsm_off)) < 0 ||
	    (ret = tenant_get_bool(d, path, j, "requireReadOnly", &r->require_read_only)) < 0 ||
	    (ret = get_count(d, path, j, "maxEnvBytes", &r->has_max_env, &r->max_env_bytes)) < 0 ||
	    (ret = get_count(d, path, j, "maxArgs", &r->has_max_args, &r->max_args)) < 0)
		return ret;
	if ((v = json_object_get(j, "requireSeccompProfile"))) {
		const char *s;

		tenant_path_join(p, sizeof(p), path, "requireSeccompProfile");
		if ((ret = tenant_get_string(d, p, v, TENANT_PATH_MAX_LEN, &s)) < 0)
			return ret;
		if (strcmp(s, "default") && s[0] != '/')
			return policy_dec_fail(d, p,
					       "\"%s\" must be \"default\" or an absolute path",
					       policy_quote(s, q, sizeof(q)));
		if (!(r->require_seccomp = strdup(s)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
	}
	if ((v = json_object_get(j, "capabilities"))) {
		tenant_path_join(p, sizeof(p), path, "capabilities");
		if ((ret = decode_caps(d, p, v, r)) < 0)
			return ret;
	}
	if ((v = json_object_get(j, "limits"))) {
		tenant_path_join(p, sizeof(p), path, "limits");
		if ((ret = decode_limits(d, p, v, r)) < 0)
			return ret;
	}
	if ((ret = tenant_net_decode(d, path, j, r)) < 0)
		return ret;
	/* The storage keys last: of several errors, the first in this
	 * order is the one reported. */
	return tenant_storage_decode(d, path, j, r);
}

static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int id_value(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > UINT32_MAX - 1) /* (uid_t)-1 is "no id" */
		return -EINVAL;
	*out = (uint32_t)v;
	return (int)(end - s);
}

static int decode_ids(struct policy_dec *d, const char *path, json_t *j,
		      struct tenant_id_range **out, size_t *n)
{
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of ids or \"LOW-HIGH\" ranges");
	if (json_array_size(j) > TENANT_POLICY_MAX_IDS)
		return policy_dec_fail(d, path, "more than %d entries", TENANT_POLICY_MAX_IDS);
	*out = calloc(json_array_size(j) + 1, sizeof(**out));
	if (!*out)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	for (size_t i = 0; i < json_array_size(j); i++) {
		json_t *v = json_array_get(j, i);
		struct tenant_id_range *r = &(*out)[i];

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (json_is_integer(v)) {
			if (json_integer_value(v) < 0 || json_integer_value(v) >= UINT32_MAX)
				return policy_dec_fail(d, p, "not a valid id");
			r->lo = r->hi = (uint32_t)json_integer_value(v);
		} else if (json_is_string(v) &&
			   strlen(json_string_value(v)) == json_string_length(v)) {
			const char *s = json_string_value(v);
			int a = id_value(s, &r->lo), b = -1;

			if (a > 0 && s[a] == '-')
				b = id_value(s + a + 1, &r->hi);
			if (a <= 0 || b <= 0 || s[a + 1 + b] || r->hi < r->lo)
				return policy_dec_fail(d, p,
						       "\"%s\" is not an id range (\"LOW-HIGH\")",
						       policy_quote(s, q, sizeof(q)));
		} else {
			return policy_dec_fail(d, p, "must be an id or a \"LOW-HIGH\" range");
		}
		(*n)++;
	}
	return 0;
}

static int tenant_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tenant *)a)->name, ((const struct tenant *)b)->name);
}

static int decode_tenants(struct policy_dec *d, json_t *j, struct tenant_policy *p)
{
	static const char *const keys[] = {RULE_KEYS, "uids", "gids", NULL};
	const char *k;
	size_t klen;
	json_t *v;
	char path[512], q[128];
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, "tenants", "must be an object of tenant names");
	if (json_object_size(j) > TENANT_POLICY_MAX_TENANTS)
		return policy_dec_fail(d, "tenants", "more than %d tenants",
				       TENANT_POLICY_MAX_TENANTS);
	p->tenants = calloc(json_object_size(j) + 1, sizeof(*p->tenants));
	if (!p->tenants)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	json_object_keylen_foreach(j, k, klen, v)
	{
		struct tenant *t = &p->tenants[p->n_tenants];
		json_t *ids;

		if (strlen(k) != klen || !name_valid(k, klen))
			return policy_dec_fail(
			    d, "tenants",
			    "\"%s\" is not a valid tenant name ([A-Za-z0-9_.-], 1 to %d)",
			    policy_quote(k, q, sizeof(q)), NAME_MAX_LEN);
		snprintf(path, sizeof(path), "tenants.%s", k);
		if (!json_is_object(v))
			return policy_dec_fail(d, path, "must be an object");
		if ((ret = policy_check_keys(d, path, v, keys, NULL)) < 0)
			return ret;
		if (!(t->name = strdup(k)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
		p->n_tenants++;
		if ((ids = json_object_get(v, "uids"))) {
			char ip[600];

			snprintf(ip, sizeof(ip), "%s.uids", path);
			if ((ret = decode_ids(d, ip, ids, &t->uids, &t->n_uids)) < 0)
				return ret;
		}
		if ((ids = json_object_get(v, "gids"))) {
			char ip[600];

			snprintf(ip, sizeof(ip), "%s.gids", path);
			if ((ret = decode_ids(d, ip, ids, &t->gids, &t->n_gids)) < 0)
				return ret;
		}
		if ((ret = decode_rules(d, path, v, &t->rules)) < 0)
			return ret;
	}
	if (p->n_tenants)
		qsort(p->tenants, p->n_tenants, sizeof(*p->tenants), tenant_cmp);
	return 0;
}

/* Cross-rule consistency of one rule set. */
static int rules_check(struct policy_dec *d, const char *path, const struct tenant_rules *r)
{
	char p[512];

	if (r->require_seccomp && r->forbid_unconfined_seccomp &&
	    !strcmp(r->require_seccomp, "unconfined")) {
		tenant_path_join(p, sizeof(p), path, "requireSeccompProfile");
		return policy_dec_fail(d, p, "requires what forbidUnconfinedSeccomp forbids");
	}
	return 0;
}

int tenant_policy_decode(const char *buf, size_t len, const char *file, struct tenant_policy **out,
			 struct err **err)
{
	static const char *const k_top[] = {"default", "tenants", NULL};
	static const char *const k_rules[] = {RULE_KEYS, NULL};
	_cleanup_tpolicy_ struct tenant_policy *p = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct policy_dec d = {file ? file : "tenant policy", err};
	json_t *v;
	int ret;

	*out = NULL;
	if (len > TENANT_POLICY_MAX_BYTES)
		return err_set(err, EFBIG, "%s: larger than %d bytes", d.file,
			       TENANT_POLICY_MAX_BYTES);
	j = json_parse_strict(buf, len, d.file, err);
	if (!j)
		return err_ret(*err);
	if (!json_is_object(j))
		return policy_dec_fail(&d, "", "must be a JSON object");
	if ((ret = policy_check_keys(&d, "", j, k_top, NULL)) < 0)
		return ret;
	if (!(p = tenant_policy_empty()))
		return err_errno(err, ENOMEM, "%s", d.file);
	if ((v = json_object_get(j, "default"))) {
		if (!json_is_object(v))
			return policy_dec_fail(&d, "default", "must be an object");
		if ((ret = policy_check_keys(&d, "default", v, k_rules, NULL)) < 0 ||
		    (ret = decode_rules(&d, "default", v, &p->def)) < 0)
			return ret;
	}
	if ((v = json_object_get(j, "tenants")) && (ret = decode_tenants(&d, v, p)) < 0)
		return ret;
	if ((ret = rules_check(&d, "default", &p->def)) < 0)
		return ret;
	for (size_t i = 0; i < p->n_tenants; i++) {
		char path[128];

		snprintf(path, sizeof(path), "tenants.%s", p->tenants[i].name);
		if ((ret = rules_check(&d, path, &p->tenants[i].rules)) < 0)
			return ret;
	}
	*out = steal_ptr(p);
	return 0;
}

/* ---- tightening -------------------------------------------------------- */

int tenant_strv_dup(char **v, char ***out)
{
	size_t n = 0;

	*out = NULL;
	if (!v)
		return 0;
	while (v[n])
		n++;
	*out = calloc(n + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!((*out)[i] = strdup(v[i])))
			return -ENOMEM;
	return 0;
}

bool tenant_strv_has(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

int tenant_strv_add(char ***v, size_t *n, const char *s)
{
	char **nv;

	if (tenant_strv_has(*v, s))
		return 0;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* *A := *A with every string of U it lacks added (a NULL *A becomes a
 * list when U has anything). */
int tenant_strv_union(char ***a, char **u)
{
	size_t n = 0;

	while (*a && (*a)[n])
		n++;
	for (size_t i = 0; u && u[i]; i++) {
		if (!*a && !(*a = calloc(1, sizeof(char *))))
			return -ENOMEM;
		if (tenant_strv_add(a, &n, u[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int rules_copy(const struct tenant_rules *s, struct tenant_rules *d)
{
	*d = *s;
	d->allow = d->deny = NULL;
	d->require_seccomp = NULL;
	d->bind_allow = d->bind_deny = d->volume_drivers = NULL;
	d->net_drivers = d->net_allow = d->net_deny = d->host_ips = NULL;
	d->host_ports = NULL;
	if (tenant_strv_dup(s->allow, &d->allow) < 0 || tenant_strv_dup(s->deny, &d->deny) < 0 ||
	    tenant_strv_dup(s->bind_allow, &d->bind_allow) < 0 ||
	    tenant_strv_dup(s->bind_deny, &d->bind_deny) < 0 ||
	    tenant_strv_dup(s->volume_drivers, &d->volume_drivers) < 0)
		return -ENOMEM;
	if (s->require_seccomp && !(d->require_seccomp = strdup(s->require_seccomp)))
		return -ENOMEM;
	return tenant_net_copy(s, d);
}

static void bound_tighten(struct tenant_bound *a, const struct tenant_bound *b)
{
	if (b->has_max && (!a->has_max || b->max < a->max)) {
		a->max = b->max;
		a->has_max = true;
	}
	if (b->has_default && (!a->has_default || b->def < a->def)) {
		a->def = b->def;
		a->has_default = true;
	}
	if (a->has_default && a->has_max && a->def > a->max)
		a->def = a->max;
}

/* A := A tightened by U. */
static int rules_tighten(struct tenant_rules *a, const struct tenant_rules *u, const char *ufile,
			 const char *upath, struct err **err)
{
	size_t n;

	if (u->allow) {
		/* The intersection: an image must match one pattern of each
		 * list; with nested patterns, that is the narrower of every
		 * pair where one holds the other. */
		_cleanup_strv_ char **x = calloc(1, sizeof(char *));

		n = 0;
		if (!x)
			return err_errno(err, ENOMEM, "tenant policy");
		for (size_t i = 0; u->allow[i]; i++) {
			if (!a->allow) {
				if (tenant_strv_add(&x, &n, u->allow[i]) < 0)
					return err_errno(err, ENOMEM, "tenant policy");
				continue;
			}
			for (size_t k = 0; a->allow[k]; k++) {
				const char *w =
				    pattern_contains(a->allow[k], u->allow[i])	 ? u->allow[i]
				    : pattern_contains(u->allow[i], a->allow[k]) ? a->allow[k]
										 : NULL;
				if (w && tenant_strv_add(&x, &n, w) < 0)
					return err_errno(err, ENOMEM, "tenant policy");
			}
		}
		strvfree(a->allow);
		a->allow = steal_ptr(x);
	}
	if (tenant_strv_union(&a->deny, u->deny) < 0)
		return err_errno(err, ENOMEM, "tenant policy");
	a->forbid_host_network |= u->forbid_host_network;
	a->forbid_host_userns |= u->forbid_host_userns;
	a->forbid_unconfined_seccomp |= u->forbid_unconfined_seccomp;
	a->forbid_landlock_off |= u->forbid_landlock_off;
	a->forbid_lsm_off |= u->forbid_lsm_off;
	a->require_read_only |= u->require_read_only;
	if (tenant_storage_tighten(a, u) < 0 || tenant_net_tighten(a, u) < 0)
		return err_errno(err, ENOMEM, "tenant policy");
	if (u->require_seccomp) {
		if (a->require_seccomp && strcmp(a->require_seccomp, u->require_seccomp))
			return err_set(
			    err, EINVAL,
			    "%s: %s.requireSeccompProfile: \"%s\" contradicts the system "
			    "policy's \"%s\"",
			    ufile, upath, u->require_seccomp, a->require_seccomp);
		if (!a->require_seccomp && !(a->require_seccomp = strdup(u->require_seccomp)))
			return err_errno(err, ENOMEM, "tenant policy");
	}
	if (u->has_caps) {
		a->caps = a->has_caps ? a->caps & u->caps : u->caps;
		a->has_caps = true;
	}
	if (u->has_max_env && (!a->has_max_env || u->max_env_bytes < a->max_env_bytes)) {
		a->max_env_bytes = u->max_env_bytes;
		a->has_max_env = true;
	}
	if (u->has_max_args && (!a->has_max_args || u->max_args < a->max_args)) {
		a->max_args = u->max_args;
		a->has_max_args = true;
	}
	for (int l = 0; l < TENANT_LIMIT_COUNT; l++)
		bound_tighten(&a->limits[l], &u->limits[l]);
	for (size_t i = 0; i < u->n_ulimits; i++) {
		size_t k = 0;

		while (k < a->n_ulimits && a->ulimits[k].resource != u->ulimits[i].resource)
			k++;
		if (k == a->n_ulimits) {
			/* Both lists hold distinct names of the same table, so
			 * the union fits; checked anyway. */
			if (a->n_ulimits == ENGINE_MAX_ULIMITS)
				return err_set(err, E2BIG, "%s: %s.limits.ulimits: too many", ufile,
					       upath);
			a->ulimits[a->n_ulimits++] = u->ulimits[i];
		} else {
			bound_tighten(&a->ulimits[k].b, &u->ulimits[i].b);
		}
	}
	return 0;
}

static const struct tenant *tenant_find(const struct tenant_policy *p, const char *name)
{
	struct tenant key = {.name = (char *)name};

	if (!p->n_tenants)
		return NULL;
	return bsearch(&key, p->tenants, p->n_tenants, sizeof(*p->tenants), tenant_cmp);
}

static int merge(const struct tenant_policy *sys, const struct tenant_policy *user,
		 const char *user_file, bool system, struct tenant_policy **out, struct err **err)
{
	_cleanup_tpolicy_ struct tenant_policy *m = tenant_policy_empty();
	const char *uf = user_file ? user_file : "user tenant policy";
	int ret;

	*out = NULL;
	if (!m)
		return err_errno(err, ENOMEM, "tenant policy");
	for (size_t i = 0; user && i < user->n_tenants; i++) {
		const struct tenant *t = &user->tenants[i];

		if (system) {
			const struct tenant *st = tenant_find(sys, t->name);

			if (st && (t->n_uids || t->n_gids))
				return err_set(
				    err, EINVAL,
				    "%s: tenants.%s: its uids and gids are already given "
				    "by another system file",
				    uf, t->name);
			continue;
		}
		if (t->n_uids || t->n_gids)
			return err_set(err, EPERM,
				       "%s: tenants.%s: a user's policy may not map uids or gids "
				       "(only the system policy says who a tenant is)",
				       uf, t->name);
		if (!tenant_find(sys, t->name))
			return err_set(err, EINVAL,
				       "%s: tenants.%s: the system policy has no such tenant", uf,
				       t->name);
	}
	if (rules_copy(&sys->def, &m->def) < 0)
		return err_errno(err, ENOMEM, "tenant policy");
	if (user && (ret = rules_tighten(&m->def, &user->def, uf, "default", err)) < 0)
		return ret;
	if (!(m->tenants =
		  calloc(sys->n_tenants + (user ? user->n_tenants : 0) + 1, sizeof(*m->tenants))))
		return err_errno(err, ENOMEM, "tenant policy");
	for (size_t i = 0; i < sys->n_tenants; i++) {
		const struct tenant *s = &sys->tenants[i];
		struct tenant *t = &m->tenants[i];
		const struct tenant *u = user ? tenant_find(user, s->name) : NULL;
		char path[128];

		m->n_tenants++;
		if (!(t->name = strdup(s->name)) ||
		    (s->n_uids && !(t->uids = malloc(s->n_uids * sizeof(*t->uids)))) ||
		    (s->n_gids && !(t->gids = malloc(s->n_gids * sizeof(*t->gids)))) ||
		    rules_copy(&s->rules, &t->rules) < 0)
			return err_errno(err, ENOMEM, "tenant policy");
		if (s->n_uids)
			memcpy(t->uids, s->uids, s->n_uids * sizeof(*t->uids));
		if (s->n_gids)
			memcpy(t->gids, s->gids, s->n_gids * sizeof(*t->gids));
		t->n_uids = s->n_uids;
		t->n_gids = s->n_gids;
		snprintf(path, sizeof(path), "tenants.%s", s->name);
		if (user && (ret = rules_tighten(&t->rules, &user->def, uf, "default", err)) < 0)
			return ret;
		if (u && (ret = rules_tighten(&t->rules, &u->rules, uf, path, err)) < 0)
			return ret;
	}
	/* Another system file's own tenants: taken as they are, except
	 * that the earlier files' "default" does not bind them (a tenant's
	 * rules replace "default"). */
	for (size_t i = 0; system && user && i < user->n_tenants; i++) {
		const struct tenant *u = &user->tenants[i];
		struct tenant *t = &m->tenants[m->n_tenants];

		if (tenant_find(sys, u->name))
			continue;
		m->n_tenants++;
		if (!(t->name = strdup(u->name)) ||
		    (u->n_uids && !(t->uids = malloc(u->n_uids * sizeof(*t->uids)))) ||
		    (u->n_gids && !(t->gids = malloc(u->n_gids * sizeof(*t->gids)))) ||
		    rules_copy(&u->rules, &t->rules) < 0)
			return err_errno(err, ENOMEM, "tenant policy");
		if (u->n_uids)
			memcpy(t->uids, u->uids, u->n_uids * sizeof(*t->uids));
		if (u->n_gids)
			memcpy(t->gids, u->gids, u->n_gids * sizeof(*t->gids));
		t->n_uids = u->n_uids;
		t->n_gids = u->n_gids;
	}
	if (m->n_tenants)
		qsort(m->tenants, m->n_tenants, sizeof(*m->tenants), tenant_cmp);
	*out = steal_ptr(m);
	return 0;
}

int tenant_policy_tighten(const struct tenant_policy *sys, const struct tenant_policy *user,
			  const char *user_file, struct tenant_policy **out, struct err **err)
{
	return merge(sys, user, user_file, false, out, err);
}

int tenant_policy_combine(const struct tenant_policy *a, const struct tenant_policy *b,
			  const char *b_file, struct tenant_policy **out, struct err **err)
{
	return merge(a, b, b_file, true, out, err);
}

/* ---- evaluation --------------------------------------------------------- */

enum tenant_verdict tenant_deny(struct tenant_decision *d, const char *prefix, const char *rule,
				const char *fmt, ...)
{
	va_list ap;

	d->verdict = TENANT_DENY;
	snprintf(d->rule, sizeof(d->rule), "%s%s%s", prefix, rule[0] ? "." : "", rule);
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return TENANT_DENY;
}

static bool ids_hold(const struct tenant_id_range *r, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= r[i].lo && id <= r[i].hi)
			return true;
	return false;
}

static bool tenant_holds(const struct tenant *t, uint32_t uid, uint32_t gid)
{
	return ids_hold(t->uids, t->n_uids, uid) || ids_hold(t->gids, t->n_gids, gid);
}

/* The repository of REF ("docker.io/library/busybox"), or false. */
static bool repo_of(const char *ref, char *buf, size_t size)
{
	struct image_reference r = {0};
	struct err *e = NULL;
	int n;

	if (!ref || image_reference_parse(ref, &r, &e) < 0) {
		err_free(&e);
		return false;
	}
	n = snprintf(buf, size, "%s/%s", r.domain, r.path);
	image_reference_clear(&r);
	return n > 0 && (size_t)n < size;
}

static bool matches_any(char **pats, const char *repo, const char **which)
{
	for (size_t i = 0; pats && pats[i]; i++)
		if (pattern_match(pats[i], repo)) {
			*which = pats[i];
			return true;
		}
	return false;
}

static enum tenant_verdict check_images(const struct tenant_rules *r, const char *pre,
					const struct tenant_request *q, struct tenant_decision *d)
{
	char repo[600], qb[128];
	const char *which;
	bool allowed = false, named = false;

	/* Every name the image goes by is checked against deny, so a denied
	 * image addressed by its id or another tag is still denied. */
	for (size_t i = 0; i == 0 || (q->image_names && q->image_names[i - 1]); i++) {
		const char *ref = i == 0 ? q->image : q->image_names[i - 1];

		if (!repo_of(ref, repo, sizeof(repo)))
			continue;
		named = true;
		if (matches_any(r->deny, repo, &which))
			return tenant_deny(d, pre, "images.deny",
					   "image \"%s\" matches the denied pattern \"%s\"",
					   policy_quote(ref, qb, sizeof(qb)), which);
		if (matches_any(r->allow, repo, &which))
			allowed = true;
	}
	if (r->allow && !allowed)
		return tenant_deny(d, pre, "images.allow",
				   named
				       ? "image \"%s\" matches no allowed pattern"
				       : "image \"%s\" has no name an allowed pattern could match",
				   policy_quote(q->image ? q->image : "(by id)", qb, sizeof(qb)));
	return TENANT_ALLOW;
}

/* The value the engine will use when the request leaves L unset, for the
 * bound check; INT64_MAX for "unlimited". */
static int64_t implied(enum tenant_limit l)
{
	switch (l) {
	case TENANT_LIMIT_PIDS:
		return ENGINE_DEFAULT_PIDS_LIMIT;
	case TENANT_LIMIT_SHM_SIZE:
		return MOAT_SHM_DEFAULT;
	case TENANT_LIMIT_CPU_SHARES:
		return KERNEL_CPU_SHARES;
	case TENANT_LIMIT_MEMORY:
	case TENANT_LIMIT_MEMORY_SWAP:
	case TENANT_LIMIT_CPUS:
	case TENANT_LIMIT_COUNT:
	default:
		return INT64_MAX;
	}
}

static int64_t *limit_field(struct engine_limits *lim, enum tenant_limit l)
{
	switch (l) {
	case TENANT_LIMIT_MEMORY:
		return &lim->memory;
	case TENANT_LIMIT_MEMORY_SWAP:
		return &lim->memory_swap;
	case TENANT_LIMIT_CPUS:
		return &lim->nano_cpus;
	case TENANT_LIMIT_CPU_SHARES:
		return &lim->cpu_shares;
	case TENANT_LIMIT_PIDS:
		return &lim->pids_limit;
	case TENANT_LIMIT_SHM_SIZE:
		return &lim->shm_size;
	case TENANT_LIMIT_COUNT:
	default:
		return NULL;
	}
}

static void show(char *buf, size_t size, enum tenant_limit l, int64_t v)
{
	if (v == INT64_MAX || v < 0)
		snprintf(buf, size, "unlimited");
	else if (l == TENANT_LIMIT_CPUS)
		snprintf(buf, size, "%" PRId64 ".%09" PRId64 " CPUs", v / 1000000000,
			 v % 1000000000);
	else
		snprintf(buf, size, "%" PRId64, v);
}

static enum tenant_verdict check_limits(const struct tenant_rules *r, const char *pre,
					struct engine_limits *lim, struct tenant_decision *d)
{
	char rule[128], a[64], b[64];

	for (int l = 0; l < TENANT_LIMIT_COUNT; l++) {
		const struct tenant_bound *bd = &r->limits[l];
		int64_t *f = limit_field(lim, (enum tenant_limit)l), v;

		if (!bd->has_max && !bd->has_default)
			continue;
		if (*f == 0) {
			/* Unset: the policy's default, else the engine's own
			 * value when within the max, else the max. */
			if (bd->has_default)
				*f = bd->def;
			else if (implied((enum tenant_limit)l) > bd->max)
				*f = bd->max;
		}
		if (!bd->has_max)
			continue;
		v = *f < 0 ? INT64_MAX : *f == 0 ? implied((enum tenant_limit)l) : *f;
		if (v > bd->max) {
			snprintf(rule, sizeof(rule), "limits.%s.max", limit_keys[l]);
			show(a, sizeof(a), (enum tenant_limit)l, v);
			show(b, sizeof(b), (enum tenant_limit)l, bd->max);
			return tenant_deny(d, pre, rule, "%s %s is above the maximum %s",
					   limit_keys[l], a, b);
		}
	}
	for (size_t i = 0; i < r->n_ulimits; i++) {
		const struct tenant_ulimit_bound *u = &r->ulimits[i];
		const char *nm = tenant_ulimit_name(u->resource);
		struct engine_ulimit *e = NULL;
		uint64_t hard;

		for (size_t k = 0; k < lim->n_ulimits; k++)
			if (lim->ulimits[k].resource == u->resource)
				e = &lim->ulimits[k];
		if (!e) {
			/* Unset means the host's (unknown here): treat it as
			 * unlimited, so a bound always applies. */
			if (!u->b.has_default && !u->b.has_max)
				continue;
			if (lim->n_ulimits == ENGINE_MAX_ULIMITS) {
				snprintf(rule, sizeof(rule), "limits.ulimits.%s", nm);
				return tenant_deny(d, pre, rule,
						   "no room to apply the default ulimit %s", nm);
			}
			e = &lim->ulimits[lim->n_ulimits++];
			e->resource = u->resource;
			e->soft = e->hard = (uint64_t)(u->b.has_default ? u->b.def : u->b.max);
		}
		hard = e->hard > e->soft ? e->hard : e->soft;
		if (u->b.has_max &&
		    (hard == (uint64_t)RLIM_INFINITY || hard > (uint64_t)u->b.max)) {
			snprintf(rule, sizeof(rule), "limits.ulimits.%s.max", nm);
			if (hard == (uint64_t)RLIM_INFINITY)
				snprintf(a, sizeof(a), "unlimited");
			else
				snprintf(a, sizeof(a), "%" PRIu64, hard);
			return tenant_deny(d, pre, rule,
					   "ulimit %s %s is above the maximum %" PRId64, nm, a,
					   u->b.max);
		}
	}
	return TENANT_ALLOW;
}

static enum tenant_verdict check_rules(const struct tenant_rules *r, const char *pre,
				       struct tenant_request *q, struct tenant_decision *d)
{
	const char *sc = q->seccomp ? q->seccomp : "default";
	char qb[128];

	if (check_images(r, pre, q, d) == TENANT_DENY)
		return TENANT_DENY;
	/* The host network by its name or by its driver: a network of
	 * driver "host" under another name is the host's stack too. */
	if (r->forbid_host_network && ((q->network && !strcmp(q->network, "host")) ||
				       (q->network_driver && !strcmp(q->network_driver, "host"))))
		return tenant_deny(d, pre, "forbidHostNetwork", "--network host is forbidden");
	if (tenant_net_check(r, pre, q, d) == TENANT_DENY)
		return TENANT_DENY;
	if (r->forbid_host_userns && q->userns && !strcmp(q->userns, "host"))
		return tenant_deny(d, pre, "forbidHostUserns", "--userns=host is forbidden");
	if (r->forbid_unconfined_seccomp && !strcmp(sc, "unconfined"))
		return tenant_deny(d, pre, "forbidUnconfinedSeccomp",
				   "seccomp=unconfined is forbidden");
	if (r->require_seccomp && strcmp(sc, r->require_seccomp))
		return tenant_deny(d, pre, "requireSeccompProfile",
				   "the seccomp profile must be \"%s\", not \"%s\"",
				   policy_quote(r->require_seccomp, qb, sizeof(qb)), sc);
	if (r->forbid_landlock_off && q->landlock_off)
		return tenant_deny(d, pre, "forbidLandlockOff", "landlock=off is forbidden");
	if (r->forbid_lsm_off && q->apparmor && !strcmp(q->apparmor, "unconfined"))
		return tenant_deny(d, pre, "forbidLSMOff", "apparmor=unconfined is forbidden");
	if (r->require_read_only && !q->read_only)
		return tenant_deny(d, pre, "requireReadOnly", "--read-only is required");
	if (r->has_caps && (q->caps & ~r->caps)) {
		int c = __builtin_ctzll(q->caps & ~r->caps);

		return tenant_deny(d, pre, "capabilities",
				   "capability %s is not in the allowed list", policy_cap_name(c));
	}
	if (r->has_max_env && q->env_bytes > r->max_env_bytes)
		return tenant_deny(d, pre, "maxEnvBytes",
				   "the environment is %" PRIu64 " bytes, more than %" PRIu64,
				   q->env_bytes, r->max_env_bytes);
	if (r->has_max_args && q->argc > r->max_args)
		return tenant_deny(d, pre, "maxArgs",
				   "the command has %" PRIu64 " arguments, more than %" PRIu64,
				   q->argc, r->max_args);
	if (q->limits && check_limits(r, pre, q->limits, d) == TENANT_DENY)
		return TENANT_DENY;
	return tenant_storage_check(r, pre, q, d);
}

/* Picks the rule set for REQ into *R and its JSON path into PRE; a
 * denial (in D) when the caller may not have the one it asked for, or
 * must choose. */
static enum tenant_verdict select_rules(const struct tenant_policy *p,
					const struct tenant_request *req, struct tenant_decision *d,
					const struct tenant_rules **r, char *pre, size_t pre_size)
{
	const struct tenant *t = NULL;
	char qb[128];

	memset(d, 0, sizeof(*d));
	d->verdict = TENANT_ALLOW;
	if (req->tenant) {
		t = tenant_find(p, req->tenant);
		if (!t)
			return tenant_deny(d, "tenants", "", "no tenant \"%s\" in the policy",
					   policy_quote(req->tenant, qb, sizeof(qb)));
		snprintf(d->tenant, sizeof(d->tenant), "%s", t->name);
		if (!tenant_holds(t, req->uid, req->gid))
			return tenant_deny(d, "tenants", t->name,
					   "uid %" PRIu32 " (gid %" PRIu32
					   ") may not use tenant \"%s\"",
					   req->uid, req->gid, t->name);
	} else {
		for (size_t i = 0; i < p->n_tenants; i++) {
			if (!tenant_holds(&p->tenants[i], req->uid, req->gid))
				continue;
			if (t)
				return tenant_deny(d, "tenants", "",
						   "uid %" PRIu32
						   " is in tenants \"%s\" and \"%s\": choose "
						   "one with --tenant",
						   req->uid, t->name, p->tenants[i].name);
			t = &p->tenants[i];
		}
		if (t)
			snprintf(d->tenant, sizeof(d->tenant), "%s", t->name);
	}
	if (t)
		snprintf(pre, pre_size, "tenants.%s", t->name);
	else
		snprintf(pre, pre_size, "default");
	*r = t ? &t->rules : &p->def;
	return TENANT_ALLOW;
}

enum tenant_verdict tenant_policy_evaluate(const struct tenant_policy *p,
					   struct tenant_request *req, struct tenant_decision *d)
{
	const struct tenant_rules *r = NULL;
	char pre[128];

	if (select_rules(p, req, d, &r, pre, sizeof(pre)) == TENANT_DENY)
		return TENANT_DENY;
	return check_rules(r, pre, req, d);
}

enum tenant_verdict tenant_policy_evaluate_mounts(const struct tenant_policy *p,
						  struct tenant_request *req,
						  struct tenant_decision *d)
{
	const struct tenant_rules *r = NULL;
	char pre[128];

	if (select_rules(p, req, d, &r, pre, sizeof(pre)) == TENANT_DENY)
		return TENANT_DENY;
	return tenant_storage_check(r, pre, req, d);
}

/*
 * policy/tenant_storage.c - the tenant policy's storage rules
 * ("bindMounts", "volumeDrivers", "forbidTmpfs"; see tenant.h for the
 * format): their decoding, tightening, evaluation against a request's
 * mounts, and encoding. policy/tenant.c calls in here for those keys;
 * tenant_internal.h declares what the two share.
 *
 * Runs in: any process, unprivileged. PURE: no system calls, no file
 * I/O. The policy is untrusted bytes (a user's file) and the mounts come
 * from attacker-chosen flags; fuzz/tenant_policy_fuzz.c exercises this
 * through tenant.h.
 *
 * Invariants:
 *  - host paths in a policy are normalised at decode (refused, never
 *    cleaned up), and a request's bind source must be too, so string
 *    prefixes taken at a '/' are path prefixes: "/srv/data" holds
 *    "/srv/data/x" and never "/srv/database". The source is the real path
 *    of what the engine opened; resolving symlinks is the engine's job,
 *    not this file's;
 *  - a decoded or tightened rule set holds no allowed path at or under a
 *    denied one, so its encoding decodes again;
 *  - evaluation fails closed: a bind source that is not one normalised
 *    path is under every deny and no allow, a volume without a driver is
 *    refused by volumeDrivers, a mount type not known here is refused by
 *    whichever storage rule the set has; deny wins over allow, and []
 *    allows nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "policy/decode.h"
#include "policy/tenant.h"
#include "policy/tenant_internal.h"

#define DRIVER_MAX_LEN 255

/* ---- host paths and volume drivers ------------------------------------- */

/* Whether S is "/" or "/" followed by components that are neither empty,
 * "." nor "..", with no trailing "/": one spelling per path, so that
 * comparing strings up to a '/' compares paths. */
static bool path_normal(const char *s)
{
	if (s[0] != '/')
		return false;
	if (!s[1])
		return true;
	for (const char *c = s + 1;; c++) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (!*c)
			return true;
	}
}

/* Whether P is BASE or beneath it, component-wise; both normalised. */
static bool path_under(const char *p, const char *base)
{
	size_t n = strlen(base);

	if (n == 1) /* "/" */
		return p[0] == '/';
	return !strncmp(p, base, n) && (p[n] == '\0' || p[n] == '/');
}

static bool under_any(const char *p, char **bases)
{
	for (size_t i = 0; bases && bases[i]; i++)
		if (path_under(p, bases[i]))
			return true;
	return false;
}

/* [a-zA-Z0-9][a-zA-Z0-9_.:/-]*, as volume/volume.h names drivers. */
static bool driver_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > DRIVER_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			     (s[i] >= '0' && s[i] <= '9');

		if (!alnum && (i == 0 || !strchr("_.:/-", s[i])))
			return false;
	}
	return true;
}

/* ---- decoding ---------------------------------------------------------- */

static int decode_paths(struct policy_dec *d, const char *path, json_t *j, char ***out)
{
	char **v;
	size_t n;
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of absolute paths");
	n = json_array_size(j);
	if (n > TENANT_POLICY_MAX_PATTERNS)
		return policy_dec_fail(d, path, "more than %d paths", TENANT_POLICY_MAX_PATTERNS);
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	*out = v;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		int r;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((r = tenant_get_string(d, p, json_array_get(j, i), TENANT_PATH_MAX_LEN, &s)) <
		    0)
			return r;
		if (s[0] != '/')
			return policy_dec_fail(d, p, "\"%s\" is not an absolute path",
					       policy_quote(s, q, sizeof(q)));
		/* Refused, not cleaned up: a policy that says "/srv/../etc"
		 * was most likely not meant to allow /etc. */
		if (!path_normal(s))
			return policy_dec_fail(
			    d, p,
			    "\"%s\" is not a normalised path (no \"//\", no \".\" "
			    "or \"..\" component, no trailing \"/\")",
			    policy_quote(s, q, sizeof(q)));
		if (!(v[i] = strdup(s)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
	}
	return 0;
}

static int decode_binds(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	static const char *const keys[] = {"allow", "deny", "readOnly", "forbidCreate", NULL};
	json_t *a = json_object_get(j, "allow"), *dn = json_object_get(j, "deny");
	char p[512], q1[128], q2[128];
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, path,
				       "must be an object (\"allow\", \"deny\", \"readOnly\", "
				       "\"forbidCreate\")");
	if ((ret = policy_check_keys(d, path, j, keys, NULL)) < 0)
		return ret;
	if (a) {
		tenant_path_join(p, sizeof(p), path, "allow");
		if ((ret = decode_paths(d, p, a, &r->bind_allow)) < 0)
			return ret;
	}
	if (dn) {
		tenant_path_join(p, sizeof(p), path, "deny");
		if ((ret = decode_paths(d, p, dn, &r->bind_deny)) < 0)
			return ret;
	}
	if ((ret = tenant_get_bool(d, path, j, "readOnly", &r->bind_read_only)) < 0 ||
	    (ret = tenant_get_bool(d, path, j, "forbidCreate", &r->bind_forbid_create)) < 0)
		return ret;
	/* An allowed path at or below a denied one can never be used. */
	for (size_t i = 0; r->bind_allow && r->bind_allow[i]; i++)
		for (size_t k = 0; r->bind_deny && r->bind_deny[k]; k++)
			if (path_under(r->bind_allow[i], r->bind_deny[k])) {
				snprintf(p, sizeof(p), "%s.allow[%zu]", path, i);
				return policy_dec_fail(
				    d, p, "\"%s\" is also denied by \"%s\" (contradictory rules)",
				    policy_quote(r->bind_allow[i], q1, sizeof(q1)),
				    policy_quote(r->bind_deny[k], q2, sizeof(q2)));
			}
	return 0;
}

static int decode_drivers(struct policy_dec *d, const char *path, json_t *j, char ***out)
{
	char **v;
	size_t n;
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of volume driver names");
	n = json_array_size(j);
	if (n > TENANT_POLICY_MAX_PATTERNS)
		return policy_dec_fail(d, path, "more than %d drivers", TENANT_POLICY_MAX_PATTERNS);
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	*out = v;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		int r;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((r = tenant_get_string(d, p, json_array_get(j, i), DRIVER_MAX_LEN, &s)) < 0)
			return r;
		if (!driver_valid(s))
			return policy_dec_fail(d, p,
					       "\"%s\" is not a volume driver name "
					       "([a-zA-Z0-9][a-zA-Z0-9_.:/-]*)",
					       policy_quote(s, q, sizeof(q)));
		if (!(v[i] = strdup(s)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
	}
	return 0;
}

int tenant_storage_decode(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	json_t *v;
	/* PATH is "default" or "tenants." and a name of at most 64 bytes,
	 * so PATH.volumeDrivers fits; the decoders below extend it in
	 * buffers of 512. */
	char p[128];
	int ret;

	if ((v = json_object_get(j, "bindMounts"))) {
		tenant_path_join(p, sizeof(p), path, "bindMounts");
		if ((ret = decode_binds(d, p, v, r)) < 0)
			return ret;
	}
	if ((v = json_object_get(j, "volumeDrivers"))) {
		tenant_path_join(p, sizeof(p), path, "volumeDrivers");
		if ((ret = decode_drivers(d, p, v, &r->volume_drivers)) < 0)
			return ret;
	}
	return tenant_get_bool(d, path, j, "forbidTmpfs", &r->forbid_tmpfs);
}

/* ---- tightening -------------------------------------------------------- */

/* Drops from V (in place) every string for which DROP is true. */
static void strv_filter(char **v, bool (*drop)(const char *s, char **arg), char **arg)
{
	size_t k = 0;

	for (size_t i = 0; v && v[i]; i++) {
		if (drop(v[i], arg))
			free(v[i]);
		else
			v[k++] = v[i];
	}
	if (v)
		v[k] = NULL;
}

static bool not_in(const char *s, char **v)
{
	return !tenant_strv_has(v, s);
}

int tenant_storage_tighten(struct tenant_rules *a, const struct tenant_rules *u)
{
	if (u->bind_allow) {
		/* A source must lie under an entry of each list: under the
		 * deeper of every pair where one holds the other. A pair
		 * where neither holds the other admits nothing; [] on
		 * either side stays []. */
		_cleanup_strv_ char **x = calloc(1, sizeof(char *));
		size_t n = 0;

		if (!x)
			return -ENOMEM;
		for (size_t i = 0; u->bind_allow[i]; i++) {
			if (!a->bind_allow) {
				if (tenant_strv_add(&x, &n, u->bind_allow[i]) < 0)
					return -ENOMEM;
				continue;
			}
			for (size_t k = 0; a->bind_allow[k]; k++) {
				const char *w = path_under(u->bind_allow[i], a->bind_allow[k])
						    ? u->bind_allow[i]
						: path_under(a->bind_allow[k], u->bind_allow[i])
						    ? a->bind_allow[k]
						    : NULL;

				if (w && tenant_strv_add(&x, &n, w) < 0)
					return -ENOMEM;
			}
		}
		strvfree(a->bind_allow);
		a->bind_allow = steal_ptr(x);
	}
	if (tenant_strv_union(&a->bind_deny, u->bind_deny) < 0)
		return -ENOMEM;
	/* An allowed path under a denied one admits nothing: dropping it
	 * changes no decision and keeps the result free of contradictions,
	 * so its encoding decodes again. Dropping the last one leaves [],
	 * which also admits nothing. */
	strv_filter(a->bind_allow, under_any, a->bind_deny);
	a->bind_read_only |= u->bind_read_only;
	a->bind_forbid_create |= u->bind_forbid_create;
	if (u->volume_drivers) {
		if (!a->volume_drivers) {
			if (tenant_strv_dup(u->volume_drivers, &a->volume_drivers) < 0)
				return -ENOMEM;
		} else {
			strv_filter(a->volume_drivers, not_in, u->volume_drivers);
		}
	}
	a->forbid_tmpfs |= u->forbid_tmpfs;
	return 0;
}

/* ---- evaluation -------------------------------------------------------- */

static bool has_storage_rules(const struct tenant_rules *r)
{
	return r->bind_allow || r->bind_deny || r->bind_read_only || r->bind_forbid_create ||
	       r->volume_drivers || r->forbid_tmpfs;
}

/* The key of the first storage rule R has: it owns a denial that no one
 * rule does (a mount it cannot place). */
static const char *storage_rule(const struct tenant_rules *r)
{
	if (r->bind_allow || r->bind_deny || r->bind_read_only || r->bind_forbid_create)
		return "bindMounts";
	if (r->volume_drivers)
		return "volumeDrivers";
	return "forbidTmpfs";
}

/* V as "\"a\", \"b\"" for a message, ending in "..." when it does not
 * fit in SIZE (at least 6). */
static void list_show(char *const *v, char *buf, size_t size)
{
	char item[200], q[128];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; v[i]; i++) {
		const char *sep = i ? ", " : "";
		int n =
		    snprintf(item, sizeof(item), "%s\"%s\"", sep, policy_quote(v[i], q, sizeof(q)));

		/* Room is kept for ", ..." and the NUL after every item. */
		if (n < 0 || o + (size_t)n + 6 > size) {
			snprintf(buf + o, size - o, "%s...", sep);
			return;
		}
		memcpy(buf + o, item, (size_t)n + 1);
		o += (size_t)n;
	}
}

static enum tenant_verdict check_bind(const struct tenant_rules *r, const char *pre,
				      const struct tenant_mount *m, struct tenant_decision *d)
{
	const char *hp = m->host_path;
	char qb[128], qd[128], list[300];

	/* Component-wise comparison needs one spelling per path: anything
	 * else is under every deny and no allow. */
	if ((r->bind_deny || r->bind_allow) && !(hp && path_normal(hp)))
		return tenant_deny(d, pre, r->bind_deny ? "bindMounts.deny" : "bindMounts.allow",
				   "bind mount source \"%s\" is not an absolute, normalised path",
				   policy_quote(hp, qb, sizeof(qb)));
	for (size_t i = 0; r->bind_deny && r->bind_deny[i]; i++)
		if (path_under(hp, r->bind_deny[i]))
			return tenant_deny(
			    d, pre, "bindMounts.deny",
			    "bind mount of \"%s\" is under the denied host path \"%s\"",
			    policy_quote(hp, qb, sizeof(qb)),
			    policy_quote(r->bind_deny[i], qd, sizeof(qd)));
	if (r->bind_allow && !under_any(hp, r->bind_allow)) {
		if (!r->bind_allow[0])
			return tenant_deny(d, pre, "bindMounts.allow",
					   "bind mount of \"%s\" is not allowed (no host path is)",
					   policy_quote(hp, qb, sizeof(qb)));
		list_show(r->bind_allow, list, sizeof(list));
		return tenant_deny(d, pre, "bindMounts.allow",
				   "bind mount of \"%s\" is not under an allowed host path (%s)",
				   policy_quote(hp, qb, sizeof(qb)), list);
	}
	if (r->bind_read_only && !m->readonly)
		return tenant_deny(d, pre, "bindMounts.readOnly",
				   "bind mount of \"%s\" must be read-only (add :ro)",
				   policy_quote(hp, qb, sizeof(qb)));
	if (r->bind_forbid_create && m->create)
		return tenant_deny(
		    d, pre, "bindMounts.forbidCreate",
		    "bind mount of \"%s\" would create a missing host directory, which is "
		    "forbidden (create it first)",
		    policy_quote(hp, qb, sizeof(qb)));
	return TENANT_ALLOW;
}

static enum tenant_verdict check_volume(const struct tenant_rules *r, const char *pre,
					const struct tenant_mount *m, struct tenant_decision *d)
{
	char qb[128], list[300];

	if (!r->volume_drivers)
		return TENANT_ALLOW;
	/* No guess: "local" for a volume whose record names a plugin would
	 * let the plugin in. */
	if (!m->driver)
		return tenant_deny(d, pre, "volumeDrivers", "a volume's driver is not known");
	if (tenant_strv_has(r->volume_drivers, m->driver))
		return TENANT_ALLOW;
	if (!r->volume_drivers[0])
		return tenant_deny(d, pre, "volumeDrivers",
				   "volume driver \"%s\" is not allowed (no volumes are)",
				   policy_quote(m->driver, qb, sizeof(qb)));
	list_show(r->volume_drivers, list, sizeof(list));
	return tenant_deny(d, pre, "volumeDrivers",
			   "volume driver \"%s\" is not allowed (allowed: %s)",
			   policy_quote(m->driver, qb, sizeof(qb)), list);
}

enum tenant_verdict tenant_storage_check(const struct tenant_rules *r, const char *pre,
					 const struct tenant_request *q, struct tenant_decision *d)
{
	char qb[128];

	if (!q->n_mounts || !has_storage_rules(r))
		return TENANT_ALLOW;
	if (!q->mounts)
		return tenant_deny(d, pre, storage_rule(r), "the request's %zu mounts are missing",
				   q->n_mounts);
	/* Read-only is a mount flag set in the container's own user
	 * namespace: a container that keeps CAP_SYS_ADMIN with both the
	 * default seccomp filter and Landlock switched off could remount a
	 * read-only bind writable. Such a container gets no binds when the
	 * rule requires them read-only. */
	if (r->bind_read_only && (q->caps & (1ULL << 21)) && q->landlock_off && q->seccomp &&
	    strcmp(q->seccomp, "default") != 0)
		for (size_t i = 0; i < q->n_mounts; i++)
			if (q->mounts[i].type && !strcmp(q->mounts[i].type, "bind"))
				return tenant_deny(
				    d, pre, "bindMounts.readOnly",
				    "read-only bind mounts cannot stay read-only with "
				    "CAP_SYS_ADMIN, seccomp \"%s\" and Landlock off",
				    policy_quote(q->seccomp, qb, sizeof(qb)));
	for (size_t i = 0; i < q->n_mounts; i++) {
		const struct tenant_mount *m = &q->mounts[i];
		enum tenant_verdict v;

		if (m->type && !strcmp(m->type, "bind"))
			v = check_bind(r, pre, m, d);
		else if (m->type && !strcmp(m->type, "volume"))
			v = check_volume(r, pre, m, d);
		else if (m->type && !strcmp(m->type, "tmpfs"))
			v = r->forbid_tmpfs
				? tenant_deny(d, pre, "forbidTmpfs", "tmpfs mounts are forbidden")
				: TENANT_ALLOW;
		else
			v = tenant_deny(d, pre, storage_rule(r),
					"mount type \"%s\" is not one the policy knows",
					policy_quote(m->type, qb, sizeof(qb)));
		if (v == TENANT_DENY)
			return TENANT_DENY;
	}
	return TENANT_ALLOW;
}

/* ---- encoding ---------------------------------------------------------- */

int tenant_storage_encode(const struct tenant_rules *r, json_t *o)
{
	if (r->bind_allow || r->bind_deny || r->bind_read_only || r->bind_forbid_create) {
		json_t *b = json_object();

		if (tenant_json_set(o, "bindMounts", b) < 0 ||
		    (r->bind_allow &&
		     tenant_json_set(b, "allow", tenant_json_strv(r->bind_allow)) < 0) ||
		    (r->bind_deny &&
		     tenant_json_set(b, "deny", tenant_json_strv(r->bind_deny)) < 0) ||
		    (r->bind_read_only && tenant_json_set(b, "readOnly", json_true()) < 0) ||
		    (r->bind_forbid_create && tenant_json_set(b, "forbidCreate", json_true()) < 0))
			return -ENOMEM;
	}
	if (r->volume_drivers &&
	    tenant_json_set(o, "volumeDrivers", tenant_json_strv(r->volume_drivers)) < 0)
		return -ENOMEM;
	if (r->forbid_tmpfs && tenant_json_set(o, "forbidTmpfs", json_true()) < 0)
		return -ENOMEM;
	return 0;
}

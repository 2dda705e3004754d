/*
 * policy/tenant_net.c - the tenant policy's network rules ("networks":
 * drivers and name globs; "publish": whether ports may be published, on
 * which host ports and addresses; see tenant.h for the format): their
 * decoding, tightening, evaluation against a request's network and -p/-P
 * bindings, and encoding. policy/tenant.c calls in here for those keys;
 * tenant_internal.h declares what they share.
 *
 * Runs in: any process, unprivileged. PURE: no system calls, no file
 * I/O. The policy is untrusted bytes (a user's file) and the publish
 * specs come from attacker-chosen flags; fuzz/tenant_policy_fuzz.c
 * exercises this through tenant.h.
 *
 * Invariants:
 *  - decisions are on the final request: the network's own name and
 *    driver (settled by the engine, not the text the user typed), and
 *    every binding of every spec, parsed here by net/portspec.c exactly
 *    as the monitor will bind it (an empty host address binds 0.0.0.0,
 *    a host range asks for any one port of it, 0-0 for any free port);
 *  - host port rules are kept sorted, disjoint and not adjacent, so a
 *    binding's range is allowed exactly when one entry holds all of it,
 *    and two policies that admit the same ports encode the same;
 *  - host addresses are kept in canonical text, so equal addresses
 *    compare equal as strings;
 *  - a decoded or tightened rule set has no allowed glob that a denied
 *    one holds, so its encoding decodes again;
 *  - evaluation fails closed: an unknown driver or name is refused by
 *    whichever network rule the set has, a spec that does not parse by
 *    whichever publish rule the set has; deny wins over allow and []
 *    allows nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "net/cidr.h"
#include "net/portspec.h"
#include "policy/decode.h"
#include "policy/tenant.h"
#include "policy/tenant_internal.h"

#define NET_GLOB_MAX_LEN 128 /* NET_NAME_MAX: a glob is at most a name long */
#define NET_DRIVER_MAX_LEN 64
#define IPV4_ANY "0.0.0.0"

/* ---- names, globs and drivers ------------------------------------------- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* A network name's characters and "*" / "?": nothing that fnmatch would
 * read as a class or an escape, so what a glob admits is plain to see. */
static bool glob_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NET_GLOB_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]) && s[i] != '*' && s[i] != '?')
			return false;
	return true;
}

static bool has_wild(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

/* Whether NAME matches glob G. Iterative with one backtrack point: linear
 * in practice, never exponential, whatever the policy holds. */
static bool glob_match(const char *g, const char *name)
{
	const char *star = NULL, *resume = NULL;

	while (*name) {
		if (*g == '*') {
			star = g++;
			resume = name;
		} else if (*g == '?' || *g == *name) {
			g++;
			name++;
		} else if (star) {
			g = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*g == '*')
		g++;
	return !*g;
}

/* Whether every name B admits is admitted by A. Sound, not complete: it
 * answers yes for equal globs, a literal B that A matches, A "*", and A
 * "PREFIX*" over a B that starts with PREFIX literally; anything else is
 * no, which makes tightening drop a pair (stricter, never looser). */
static bool glob_contains(const char *a, const char *b)
{
	size_t al = strlen(a);

	if (!strcmp(a, b) || !strcmp(a, "*"))
		return true;
	if (!has_wild(b))
		return glob_match(a, b);
	if (al >= 1 && a[al - 1] == '*' && strcspn(a, "*?") == al - 1) {
		size_t lit = strcspn(b, "*?");

		return lit >= al - 1 && !strncmp(a, b, al - 1);
	}
	return false;
}

static bool matches_any(char **globs, const char *name, const char **which)
{
	for (size_t i = 0; globs && globs[i]; i++)
		if (glob_match(globs[i], name)) {
			*which = globs[i];
			return true;
		}
	return false;
}

/* [a-zA-Z0-9][a-zA-Z0-9_.:/-]*: Docker's network driver names (a
 * plugin's included), the same alphabet as volume drivers. */
static bool net_driver_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NET_DRIVER_MAX_LEN)
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

/* J as a string vector at PATH, each entry checked by OK (WHAT names
 * the kind in errors, HINT says what it may hold). */
static int decode_strv(struct policy_dec *d, const char *path, json_t *j, size_t max_len,
		       bool (*ok)(const char *), const char *what, const char *hint, char ***out)
{
	char **v;
	size_t n;
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of %ss", what);
	n = json_array_size(j);
	if (n > TENANT_POLICY_MAX_PATTERNS)
		return policy_dec_fail(d, path, "more than %d entries", TENANT_POLICY_MAX_PATTERNS);
	if (!(v = calloc(n + 1, sizeof(char *))))
		return err_errno(d->err, ENOMEM, "%s", d->file);
	*out = v;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		int r;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((r = tenant_get_string(d, p, json_array_get(j, i), max_len, &s)) < 0)
			return r;
		if (!ok(s))
			return policy_dec_fail(d, p, "\"%s\" is not a valid %s (%s)",
					       policy_quote(s, q, sizeof(q)), what, hint);
		if (!(v[i] = strdup(s)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
	}
	return 0;
}

static int decode_networks(struct policy_dec *d, const char *path, json_t *j,
			   struct tenant_rules *r)
{
	static const char *const keys[] = {"drivers", "allow", "deny", NULL};
	static const struct {
		const char *key;
		size_t max;
		bool (*ok)(const char *);
		const char *what, *hint;
	} lists[] = {
	    {"drivers", NET_DRIVER_MAX_LEN, net_driver_name_ok, "network driver name",
	     "[a-zA-Z0-9][a-zA-Z0-9_.:/-]*"},
	    {"allow", NET_GLOB_MAX_LEN, glob_valid, "network name or glob",
	     "[a-zA-Z0-9_.-], \"*\" and \"?\""},
	    {"deny", NET_GLOB_MAX_LEN, glob_valid, "network name or glob",
	     "[a-zA-Z0-9_.-], \"*\" and \"?\""},
	};
	char ***dst[] = {&r->net_drivers, &r->net_allow, &r->net_deny};
	char p[256], q1[128], q2[128];
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, path,
				       "must be an object (\"drivers\", \"allow\", \"deny\")");
	if ((ret = policy_check_keys(d, path, j, keys, NULL)) < 0)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		json_t *v = json_object_get(j, lists[i].key);

		tenant_path_join(p, sizeof(p), path, lists[i].key);
		if (v && (ret = decode_strv(d, p, v, lists[i].max, lists[i].ok, lists[i].what,
					    lists[i].hint, dst[i])) < 0)
			return ret;
	}
	/* An allowed glob that a denied one holds can never be used. */
	for (size_t i = 0; r->net_allow && r->net_allow[i]; i++)
		for (size_t k = 0; r->net_deny && r->net_deny[k]; k++)
			if (glob_contains(r->net_deny[k], r->net_allow[i])) {
				snprintf(p, sizeof(p), "%s.allow[%zu]", path, i);
				return policy_dec_fail(
				    d, p, "\"%s\" is also denied by \"%s\" (contradictory rules)",
				    policy_quote(r->net_allow[i], q1, sizeof(q1)),
				    policy_quote(r->net_deny[k], q2, sizeof(q2)));
			}
	return 0;
}

/* "N" or "LO-HI", 1..65535, no sign, no leading zero. */
static int port_value(const char *s, uint16_t *out)
{
	unsigned v = 0;
	int n = 0;

	if (*s < '1' || *s > '9')
		return -EINVAL;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		v = v * 10 + (unsigned)(s[n] - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*out = (uint16_t)v;
	return n;
}

static int range_cmp(const void *a, const void *b)
{
	const struct tenant_port_range *x = a, *y = b;

	return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi < y->hi ? -1 : x->hi > y->hi);
}

/* Sorts V and merges overlapping and adjacent ranges, in place. */
static size_t ranges_normalise(struct tenant_port_range *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), range_cmp);
	for (size_t i = 1; i < n; i++) {
		if ((uint32_t)v[i].lo <= (uint32_t)v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	return k + 1;
}

static int decode_ports(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	size_t n;
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of ports or \"LOW-HIGH\" ranges");
	n = json_array_size(j);
	if (n > TENANT_POLICY_MAX_PATTERNS)
		return policy_dec_fail(d, path, "more than %d entries", TENANT_POLICY_MAX_PATTERNS);
	/* One more than needed, so that [] still has an array to point at. */
	if (!(r->host_ports = calloc(n + 1, sizeof(*r->host_ports))))
		return err_errno(d->err, ENOMEM, "%s", d->file);
	r->has_host_ports = true;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(j, i);
		struct tenant_port_range *pr = &r->host_ports[i];

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (json_is_integer(v)) {
			if (json_integer_value(v) < 1 || json_integer_value(v) > 65535)
				return policy_dec_fail(d, p, "not a port (1 to 65535)");
			pr->lo = pr->hi = (uint16_t)json_integer_value(v);
		} else if (json_is_string(v) &&
			   strlen(json_string_value(v)) == json_string_length(v)) {
			const char *s = json_string_value(v);
			int a = port_value(s, &pr->lo), b = 0;

			pr->hi = pr->lo;
			if (a > 0 && s[a] == '-')
				b = port_value(s + a + 1, &pr->hi);
			if (a <= 0 || b < 0 || (s[a] && (s[a] != '-' || s[a + 1 + b])) ||
			    (s[a] == '-' && b == 0) || pr->hi < pr->lo)
				return policy_dec_fail(d, p,
						       "\"%s\" is not a port or a port range "
						       "(\"8000-8999\", 1 to 65535)",
						       policy_quote(s, q, sizeof(q)));
		} else {
			return policy_dec_fail(d, p, "must be a port or a \"LOW-HIGH\" range");
		}
	}
	r->n_host_ports = ranges_normalise(r->host_ports, n);
	return 0;
}

static int decode_ips(struct policy_dec *d, const char *path, json_t *j, char ***out)
{
	size_t n, k = 0;
	char p[512], q[128];

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of IP addresses");
	n = json_array_size(j);
	if (n > TENANT_POLICY_MAX_PATTERNS)
		return policy_dec_fail(d, path, "more than %d entries", TENANT_POLICY_MAX_PATTERNS);
	if (!(*out = calloc(1, sizeof(char *))))
		return err_errno(d->err, ENOMEM, "%s", d->file);
	for (size_t i = 0; i < n; i++) {
		struct net_addr a;
		char canon[NET_ADDR_TEXT_MAX];
		const char *s;
		int r;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((r = tenant_get_string(d, p, json_array_get(j, i), NET_ADDR_TEXT_MAX, &s)) < 0)
			return r;
		if (net_addr_parse(s, &a, NULL) < 0)
			return policy_dec_fail(d, p, "\"%s\" is not an IP address",
					       policy_quote(s, q, sizeof(q)));
		net_addr_format(&a, canon);
		/* Canonical and once: "::1" and "0::1" are one entry. On
		 * failure *OUT still holds what was added, for the caller. */
		if (tenant_strv_add(out, &k, canon) < 0)
			return err_errno(d->err, ENOMEM, "%s", d->file);
	}
	return 0;
}

static int decode_publish(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	static const char *const keys[] = {"allow", "hostPorts", "hostIPs", "allowEphemeral", NULL};
	json_t *v;
	char p[256];
	bool allow = true;
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, path,
				       "must be an object (\"allow\", \"hostPorts\", \"hostIPs\", "
				       "\"allowEphemeral\")");
	if ((ret = policy_check_keys(d, path, j, keys, NULL)) < 0)
		return ret;
	if ((ret = tenant_get_bool(d, path, j, "allow", &allow)) < 0)
		return ret;
	r->publish_forbid = !allow;
	if ((v = json_object_get(j, "hostPorts"))) {
		tenant_path_join(p, sizeof(p), path, "hostPorts");
		if ((ret = decode_ports(d, p, v, r)) < 0)
			return ret;
	}
	if ((v = json_object_get(j, "hostIPs"))) {
		tenant_path_join(p, sizeof(p), path, "hostIPs");
		if ((ret = decode_ips(d, p, v, &r->host_ips)) < 0)
			return ret;
	}
	if (json_object_get(j, "allowEphemeral")) {
		if ((ret = tenant_get_bool(d, path, j, "allowEphemeral", &r->allow_ephemeral)) < 0)
			return ret;
		r->has_ephemeral = true;
	}
	return 0;
}

int tenant_net_decode(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r)
{
	json_t *v;
	/* PATH is "default" or "tenants." and a name of at most 64 bytes. */
	char p[128];
	int ret;

	if ((v = json_object_get(j, "networks"))) {
		tenant_path_join(p, sizeof(p), path, "networks");
		if ((ret = decode_networks(d, p, v, r)) < 0)
			return ret;
	}
	if ((v = json_object_get(j, "publish"))) {
		tenant_path_join(p, sizeof(p), path, "publish");
		if ((ret = decode_publish(d, p, v, r)) < 0)
			return ret;
	}
	return 0;
}

/* ---- copying and freeing ------------------------------------------------ */

void tenant_net_clear(struct tenant_rules *r)
{
	strvfree(r->net_drivers);
	strvfree(r->net_allow);
	strvfree(r->net_deny);
	strvfree(r->host_ips);
	free(r->host_ports);
}

int tenant_net_copy(const struct tenant_rules *s, struct tenant_rules *d)
{
	d->net_drivers = d->net_allow = d->net_deny = d->host_ips = NULL;
	d->host_ports = NULL;
	if (tenant_strv_dup(s->net_drivers, &d->net_drivers) < 0 ||
	    tenant_strv_dup(s->net_allow, &d->net_allow) < 0 ||
	    tenant_strv_dup(s->net_deny, &d->net_deny) < 0 ||
	    tenant_strv_dup(s->host_ips, &d->host_ips) < 0)
		return -ENOMEM;
	if (s->has_host_ports) {
		if (!(d->host_ports = calloc(s->n_host_ports + 1, sizeof(*d->host_ports))))
			return -ENOMEM;
		memcpy(d->host_ports, s->host_ports, s->n_host_ports * sizeof(*d->host_ports));
	}
	return 0;
}

/* ---- tightening -------------------------------------------------------- */

/* Keeps in V (in place) the strings U also has. */
static void strv_keep_common(char **v, char **u)
{
	size_t k = 0;

	for (size_t i = 0; v && v[i]; i++) {
		if (tenant_strv_has(u, v[i]))
			v[k++] = v[i];
		else
			free(v[i]);
	}
	if (v)
		v[k] = NULL;
}

/* *A := *A intersected with U (NULL: no restriction). */
static int strv_intersect(char ***a, char **u)
{
	if (!u)
		return 0;
	if (!*a)
		return tenant_strv_dup(u, a);
	strv_keep_common(*a, u);
	return 0;
}

static bool allows_ephemeral(const struct tenant_rules *r)
{
	return r->has_ephemeral ? r->allow_ephemeral : !r->has_host_ports;
}

/* A's host ports := the ports in both A's and U's (two sorted, disjoint,
 * non-adjacent lists: their intersection is one too). */
static int ports_intersect(struct tenant_rules *a, const struct tenant_rules *u)
{
	struct tenant_port_range *x;
	size_t n = 0, i = 0, k = 0;

	if (!u->has_host_ports)
		return 0;
	if (!a->has_host_ports) {
		if (!(a->host_ports = calloc(u->n_host_ports + 1, sizeof(*a->host_ports))))
			return -ENOMEM;
		memcpy(a->host_ports, u->host_ports, u->n_host_ports * sizeof(*a->host_ports));
		a->n_host_ports = u->n_host_ports;
		a->has_host_ports = true;
		return 0;
	}
	if (!(x = calloc(a->n_host_ports + u->n_host_ports + 1, sizeof(*x))))
		return -ENOMEM;
	while (i < a->n_host_ports && k < u->n_host_ports) {
		const struct tenant_port_range *p = &a->host_ports[i], *q = &u->host_ports[k];
		uint16_t lo = p->lo > q->lo ? p->lo : q->lo, hi = p->hi < q->hi ? p->hi : q->hi;

		if (lo <= hi)
			x[n++] = (struct tenant_port_range){lo, hi};
		if (p->hi < q->hi)
			i++;
		else
			k++;
	}
	free(a->host_ports);
	a->host_ports = x;
	a->n_host_ports = n;
	return 0;
}

static bool held_by_any(const char *g, char **denied)
{
	for (size_t i = 0; denied && denied[i]; i++)
		if (glob_contains(denied[i], g))
			return true;
	return false;
}

int tenant_net_tighten(struct tenant_rules *a, const struct tenant_rules *u)
{
	bool eph = allows_ephemeral(a) && allows_ephemeral(u);

	if (strv_intersect(&a->net_drivers, u->net_drivers) < 0)
		return -ENOMEM;
	if (u->net_allow) {
		/* A name must match a glob of each list: of every pair where
		 * one holds the other, the narrower. */
		_cleanup_strv_ char **x = calloc(1, sizeof(char *));
		size_t n = 0;

		if (!x)
			return -ENOMEM;
		for (size_t i = 0; u->net_allow[i]; i++) {
			if (!a->net_allow) {
				if (tenant_strv_add(&x, &n, u->net_allow[i]) < 0)
					return -ENOMEM;
				continue;
			}
			for (size_t k = 0; a->net_allow[k]; k++) {
				const char *w = glob_contains(a->net_allow[k], u->net_allow[i])
						    ? u->net_allow[i]
						: glob_contains(u->net_allow[i], a->net_allow[k])
						    ? a->net_allow[k]
						    : NULL;

				if (w && tenant_strv_add(&x, &n, w) < 0)
					return -ENOMEM;
			}
		}
		strvfree(a->net_allow);
		a->net_allow = steal_ptr(x);
	}
	if (tenant_strv_union(&a->net_deny, u->net_deny) < 0)
		return -ENOMEM;
	/* An allowed glob a denied one holds admits nothing: dropped, so the
	 * result has no contradiction and its encoding decodes again. */
	if (a->net_allow) {
		size_t k = 0;

		for (size_t i = 0; a->net_allow[i]; i++) {
			if (held_by_any(a->net_allow[i], a->net_deny))
				free(a->net_allow[i]);
			else
				a->net_allow[k++] = a->net_allow[i];
		}
		a->net_allow[k] = NULL;
	}
	a->publish_forbid |= u->publish_forbid;
	if (ports_intersect(a, u) < 0 || strv_intersect(&a->host_ips, u->host_ips) < 0)
		return -ENOMEM;
	/* The merged set allows an ephemeral port only when both did:
	 * said explicitly when a side said it, or when the implicit rule
	 * (allowed without hostPorts) would say otherwise. */
	if (a->has_ephemeral || u->has_ephemeral || !a->has_host_ports != eph) {
		a->has_ephemeral = true;
		a->allow_ephemeral = eph;
	}
	return 0;
}

/* ---- evaluation -------------------------------------------------------- */

static bool has_network_rules(const struct tenant_rules *r)
{
	return r->net_drivers || r->net_allow || r->net_deny;
}

static bool has_publish_rules(const struct tenant_rules *r)
{
	return r->publish_forbid || r->has_host_ports || r->host_ips || r->has_ephemeral;
}

/* The key of the first publish rule R has: it owns a denial no one rule
 * does (a spec that does not parse). */
static const char *publish_rule(const struct tenant_rules *r)
{
	if (r->publish_forbid)
		return "publish.allow";
	if (r->host_ips)
		return "publish.hostIPs";
	if (r->has_host_ports)
		return "publish.hostPorts";
	return "publish.allowEphemeral";
}

static enum tenant_verdict check_network(const struct tenant_rules *r, const char *pre,
					 const struct tenant_request *q, struct tenant_decision *d)
{
	const char *which, *driver = q->network_driver;
	char qn[128], qw[128];

	/* "none" and "host" are the predefined networks of those drivers
	 * and no other network may take their names (engine/networks.h):
	 * the name alone says the driver. */
	if (!driver && q->network && (!strcmp(q->network, "none") || !strcmp(q->network, "host")))
		driver = q->network;
	if (r->net_drivers) {
		if (!driver)
			return tenant_deny(d, pre, "networks.drivers",
					   "the driver of network \"%s\" is not known",
					   policy_quote(q->network, qn, sizeof(qn)));
		if (!tenant_strv_has(r->net_drivers, driver))
			return tenant_deny(
			    d, pre, "networks.drivers",
			    "network \"%s\" has the driver \"%s\", which is not allowed%s",
			    policy_quote(q->network, qn, sizeof(qn)),
			    policy_quote(driver, qw, sizeof(qw)),
			    r->net_drivers[0] ? "" : " (no network is)");
	}
	if (!r->net_allow && !r->net_deny)
		return TENANT_ALLOW;
	/* No name: under every deny and no allow. */
	if (!q->network)
		return tenant_deny(d, pre, r->net_deny ? "networks.deny" : "networks.allow",
				   "the network's name is not known");
	if (matches_any(r->net_deny, q->network, &which))
		return tenant_deny(
		    d, pre, "networks.deny", "network \"%s\" matches the denied name \"%s\"",
		    policy_quote(q->network, qn, sizeof(qn)), policy_quote(which, qw, sizeof(qw)));
	if (r->net_allow && !matches_any(r->net_allow, q->network, &which))
		return tenant_deny(d, pre, "networks.allow",
				   "network \"%s\" matches no allowed name%s",
				   policy_quote(q->network, qn, sizeof(qn)),
				   r->net_allow[0] ? "" : " (no network is)");
	return TENANT_ALLOW;
}

static enum tenant_verdict check_binding(const struct tenant_rules *r, const char *pre,
					 const char *spec, const struct net_port_binding *b,
					 struct tenant_decision *d)
{
	/* The monitor binds an empty host address as 0.0.0.0
	 * (engine/netrun.c): that is the address decided on. */
	const char *ip = b->host_ip[0] ? b->host_ip : IPV4_ANY;
	char qs[128];

	if (r->host_ips && !tenant_strv_has(r->host_ips, ip))
		return tenant_deny(
		    d, pre, "publish.hostIPs",
		    "publishing \"%s\" binds host address %s, which is not allowed%s",
		    policy_quote(spec, qs, sizeof(qs)), ip,
		    r->host_ips[0] ? "" : " (no address is)");
	if (b->host_port_lo == 0) {
		if (allows_ephemeral(r))
			return TENANT_ALLOW;
		return tenant_deny(
		    d, pre, r->has_ephemeral ? "publish.allowEphemeral" : "publish.hostPorts",
		    "publishing \"%s\" puts container port %u on any free host "
		    "port, which is not allowed (name a host port)",
		    policy_quote(spec, qs, sizeof(qs)), (unsigned)b->ctr_port);
	}
	if (!r->has_host_ports)
		return TENANT_ALLOW;
	for (size_t i = 0; i < r->n_host_ports; i++)
		if (b->host_port_lo >= r->host_ports[i].lo &&
		    b->host_port_hi <= r->host_ports[i].hi)
			return TENANT_ALLOW;
	if (b->host_port_lo == b->host_port_hi)
		return tenant_deny(d, pre, "publish.hostPorts",
				   "publishing \"%s\" uses host port %u, which is not allowed",
				   policy_quote(spec, qs, sizeof(qs)), (unsigned)b->host_port_lo);
	return tenant_deny(d, pre, "publish.hostPorts",
			   "publishing \"%s\" may use any host port of %u-%u, not all of "
			   "which are allowed",
			   policy_quote(spec, qs, sizeof(qs)), (unsigned)b->host_port_lo,
			   (unsigned)b->host_port_hi);
}

static enum tenant_verdict check_publish(const struct tenant_rules *r, const char *pre,
					 const struct tenant_request *q, struct tenant_decision *d)
{
	char qs[128];

	if (!has_publish_rules(r) || (!q->publish_all && !(q->publish && q->publish[0])))
		return TENANT_ALLOW;
	if (r->publish_forbid)
		return tenant_deny(d, pre, "publish.allow", "publishing ports (%s) is forbidden",
				   q->publish_all ? "-P" : "-p");
	for (size_t i = 0; q->publish && q->publish[i]; i++) {
		_cleanup_free_ struct net_port_binding *b = NULL;
		struct err *e = NULL;
		size_t n = 0;

		if (net_portspec_parse(q->publish[i], &b, &n, &e) < 0) {
			err_free(&e);
			return tenant_deny(
			    d, pre, publish_rule(r),
			    "publishing \"%s\": not a port spec the policy can decide on",
			    policy_quote(q->publish[i], qs, sizeof(qs)));
		}
		for (size_t k = 0; k < n; k++)
			if (check_binding(r, pre, q->publish[i], &b[k], d) == TENANT_DENY)
				return TENANT_DENY;
	}
	return TENANT_ALLOW;
}

enum tenant_verdict tenant_net_check(const struct tenant_rules *r, const char *pre,
				     const struct tenant_request *q, struct tenant_decision *d)
{
	if (has_network_rules(r) && check_network(r, pre, q, d) == TENANT_DENY)
		return TENANT_DENY;
	return check_publish(r, pre, q, d);
}

/* ---- encoding ---------------------------------------------------------- */

static json_t *ports_json(const struct tenant_rules *r)
{
	json_t *a = json_array();
	char buf[16];

	for (size_t i = 0; a && i < r->n_host_ports; i++) {
		const struct tenant_port_range *p = &r->host_ports[i];

		if (p->lo == p->hi)
			snprintf(buf, sizeof(buf), "%u", (unsigned)p->lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", (unsigned)p->lo, (unsigned)p->hi);
		if (json_array_append_new(a, json_string(buf)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int tenant_net_encode(const struct tenant_rules *r, json_t *o)
{
	if (has_network_rules(r)) {
		json_t *n = json_object();

		if (tenant_json_set(o, "networks", n) < 0 ||
		    (r->net_drivers &&
		     tenant_json_set(n, "drivers", tenant_json_strv(r->net_drivers)) < 0) ||
		    (r->net_allow &&
		     tenant_json_set(n, "allow", tenant_json_strv(r->net_allow)) < 0) ||
		    (r->net_deny && tenant_json_set(n, "deny", tenant_json_strv(r->net_deny)) < 0))
			return -ENOMEM;
	}
	if (has_publish_rules(r)) {
		json_t *p = json_object();

		if (tenant_json_set(o, "publish", p) < 0 ||
		    (r->publish_forbid && tenant_json_set(p, "allow", json_false()) < 0) ||
		    (r->has_host_ports && tenant_json_set(p, "hostPorts", ports_json(r)) < 0) ||
		    (r->host_ips &&
		     tenant_json_set(p, "hostIPs", tenant_json_strv(r->host_ips)) < 0) ||
		    (r->has_ephemeral &&
		     tenant_json_set(p, "allowEphemeral", json_boolean(r->allow_ephemeral)) < 0))
			return -ENOMEM;
	}
	return 0;
}

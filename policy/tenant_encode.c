/*
 * policy/tenant_encode.c - the tenant policy as text again
 * (tenant_policy_encode; see tenant.h): `moat policy show` prints the
 * policy in force, the system and user files merged, this way.
 *
 * Runs in: any process, unprivileged. PURE: builds a JSON document in
 * memory, no system calls, no file I/O.
 *
 * Invariants:
 *  - the output is in the format tenant_policy_decode reads: sizes in
 *    bytes, cpus as "N.NNNNNNNNN", only the keys a rule set has, keys
 *    sorted, so equal policies encode to equal bytes and a decoded
 *    policy's encoding decodes back to an equal one
 *    (fuzz/tenant_policy_fuzz.c checks it re-encodes the same);
 *  - the storage keys are written by tenant_storage_encode
 *    (tenant_storage.c), the network keys by tenant_net_encode
 *    (tenant_net.c), the rest here;
 *  - an allocation that fails fails the whole encoding: no partial text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "policy/caps.h"
#include "policy/tenant.h"
#include "policy/tenant_internal.h"

json_t *tenant_json_strv(char **v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int tenant_json_set(json_t *o, const char *k, json_t *v)
{
	return v && json_object_set_new(o, k, v) == 0 ? 0 : -ENOMEM;
}

static json_t *bound_json(enum tenant_limit l, const struct tenant_bound *b)
{
	json_t *o = json_object();
	char buf[64];

	for (int i = 0; o && i < 2; i++) {
		bool has = i ? b->has_default : b->has_max;
		int64_t v = i ? b->def : b->max;
		json_t *x;

		if (!has)
			continue;
		if (l == TENANT_LIMIT_CPUS) {
			snprintf(buf, sizeof(buf), "%" PRId64 ".%09" PRId64, v / 1000000000,
				 v % 1000000000);
			x = json_string(buf);
		} else {
			x = json_integer(v);
		}
		if (json_object_set_new(o, i ? "default" : "max", x) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int rules_json(const struct tenant_rules *r, json_t *o)
{
	static const char *const bools[] = {
	    "forbidHostNetwork", "forbidHostUserns", "forbidUnconfinedSeccomp",
	    "forbidLandlockOff", "forbidLSMOff",     "requireReadOnly"};
	const bool vals[] = {
	    r->forbid_host_network, r->forbid_host_userns, r->forbid_unconfined_seccomp,
	    r->forbid_landlock_off, r->forbid_lsm_off,	   r->require_read_only};
	json_t *lim = NULL;

	if (r->allow || r->deny) {
		json_t *im = json_object();

		if (tenant_json_set(o, "images", im) < 0 ||
		    (r->allow && tenant_json_set(im, "allow", tenant_json_strv(r->allow)) < 0) ||
		    (r->deny && tenant_json_set(im, "deny", tenant_json_strv(r->deny)) < 0))
			return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (vals[i] && tenant_json_set(o, bools[i], json_true()) < 0)
			return -ENOMEM;
	if (r->require_seccomp &&
	    tenant_json_set(o, "requireSeccompProfile", json_string(r->require_seccomp)) < 0)
		return -ENOMEM;
	if (r->has_caps) {
		json_t *a = json_array();

		if (tenant_json_set(o, "capabilities", a) < 0)
			return -ENOMEM;
		for (int c = 0; c < TENANT_CAP_COUNT; c++)
			if ((r->caps & (1ULL << c)) &&
			    json_array_append_new(a, json_string(policy_cap_name(c))) < 0)
				return -ENOMEM;
	}
	if (r->has_max_env &&
	    tenant_json_set(o, "maxEnvBytes", json_integer((json_int_t)r->max_env_bytes)) < 0)
		return -ENOMEM;
	if (r->has_max_args &&
	    tenant_json_set(o, "maxArgs", json_integer((json_int_t)r->max_args)) < 0)
		return -ENOMEM;
	for (int l = 0; l < TENANT_LIMIT_COUNT; l++) {
		if (!r->limits[l].has_max && !r->limits[l].has_default)
			continue;
		if (!lim && (!(lim = json_object()) || tenant_json_set(o, "limits", lim) < 0))
			return -ENOMEM;
		if (tenant_json_set(lim, tenant_limit_key((enum tenant_limit)l),
				    bound_json((enum tenant_limit)l, &r->limits[l])) < 0)
			return -ENOMEM;
	}
	if (tenant_net_encode(r, o) < 0 || tenant_storage_encode(r, o) < 0)
		return -ENOMEM;
	if (r->n_ulimits) {
		json_t *u = json_object();

		if (!lim && (!(lim = json_object()) || tenant_json_set(o, "limits", lim) < 0))
			return -ENOMEM;
		if (tenant_json_set(lim, "ulimits", u) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < r->n_ulimits; i++)
			if (tenant_json_set(u, tenant_ulimit_name(r->ulimits[i].resource),
					    bound_json(TENANT_LIMIT_PIDS, &r->ulimits[i].b)) < 0)
				return -ENOMEM;
	}
	return 0;
}

static json_t *ids_json(const struct tenant_id_range *r, size_t n)
{
	json_t *a = json_array();
	char buf[32];

	for (size_t i = 0; a && i < n; i++) {
		json_t *v;

		if (r[i].lo == r[i].hi) {
			v = json_integer(r[i].lo);
		} else {
			snprintf(buf, sizeof(buf), "%" PRIu32 "-%" PRIu32, r[i].lo, r[i].hi);
			v = json_string(buf);
		}
		if (json_array_append_new(a, v) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int tenant_policy_encode(const struct tenant_policy *p, char **out, struct err **err)
{
	_cleanup_json_ json_t *root = json_object();
	json_t *def = json_object(), *tn = NULL;

	*out = NULL;
	if (!root || tenant_json_set(root, "default", def) < 0 || rules_json(&p->def, def) < 0)
		return err_errno(err, ENOMEM, "encoding the tenant policy");
	if (p->n_tenants && (!(tn = json_object()) || tenant_json_set(root, "tenants", tn) < 0))
		return err_errno(err, ENOMEM, "encoding the tenant policy");
	for (size_t i = 0; i < p->n_tenants; i++) {
		const struct tenant *t = &p->tenants[i];
		json_t *o = json_object();

		if (tenant_json_set(tn, t->name, o) < 0 || rules_json(&t->rules, o) < 0 ||
		    (t->n_uids && tenant_json_set(o, "uids", ids_json(t->uids, t->n_uids)) < 0) ||
		    (t->n_gids && tenant_json_set(o, "gids", ids_json(t->gids, t->n_gids)) < 0))
			return err_errno(err, ENOMEM, "encoding the tenant policy");
	}
	*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!*out)
		return err_errno(err, ENOMEM, "encoding the tenant policy");
	return 0;
}

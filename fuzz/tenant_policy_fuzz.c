/*
 * fuzz/tenant_policy_fuzz.c - libFuzzer target for tenant_policy_decode,
 * evaluation, tightening and encoding (policy/tenant.c, tenant_storage.c,
 * tenant_net.c, tenant_encode.c), and the size parser the policy's
 * limits use. Requests vary the network (predefined, user-defined,
 * unknown driver or name) and the -p specs (fixed, range, ephemeral,
 * with and without an address, and ones that do not parse).
 *
 * Properties: a failed decode sets an error and returns no policy; a
 * decoded policy has its tenants sorted and unique, no default above its
 * max, and only absolute, normalised bind paths; evaluation always gives
 * a verdict, a denial always names a rule and a one-line reason, and an
 * allowed request's limits are within every max; the mounts-only
 * evaluation selects the same tenant, allows whatever the full one
 * allows and denies only what it denies; a policy tightened by an empty
 * user file decides every request as the policy itself does; the
 * encoding (storage and network rules included) decodes back and
 * re-encodes to the same bytes; decoded host port rules are sorted,
 * disjoint and not adjacent.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/tenant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const images[] = {
    "busybox", "docker.io/library/evil:1", "quay.io/a/b",
    "localhost:5000/x/y@sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111",
    NULL};

/* Sources that are allowed, denied, neighbours of a path by prefix only,
 * not normalised or missing; drivers local, a plugin, none; a type no
 * policy knows. */
static const struct tenant_mount mounts[] = {
    {"bind", "/srv/data", NULL, true, false},
    {"bind", "/srv/data/x", NULL, false, true},
    {"bind", "/srv/database", NULL, true, false},
    {"bind", "/etc", NULL, true, false},
    {"bind", "/", NULL, false, false},
    {"bind", "/srv/../etc", NULL, true, false},
    {"bind", NULL, NULL, true, false},
    {"volume", NULL, "local", false, false},
    {"volume", NULL, "nfs", false, false},
    {"volume", NULL, NULL, false, false},
    {"tmpfs", NULL, NULL, false, false},
    {"overlay", "/srv/data", NULL, true, false},
};
#define N_MOUNTS (sizeof(mounts) / sizeof(mounts[0]))

static const struct {
	const char *name, *driver;
} nets[] = {
    {"none", "none"},	   {"host", "host"},  {"bridge", "bridge"},
    {"front-a", "bridge"}, {"mv", "macvlan"}, {"hostnet", "host"},
    {"x", NULL},	   {NULL, NULL},      {"none", NULL},
};
#define N_NETS (sizeof(nets) / sizeof(nets[0]))

static char *const specs[] = {
    "8080:80",
    "127.0.0.1:8080:80",
    "80",
    "80/tcp",
    "127.0.0.1::80",
    "8000-8010:80",
    "8998-9001:80-83",
    "[::1]:443:443/udp",
    "0.0.0.0:1:1",
    "80x",
    "",
    "65535:1",
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static void req_for(unsigned i, struct tenant_request *q, struct engine_limits *lim,
		    struct tenant_mount m[3], char *pub[4])
{
	unsigned h = i * 2654435761u;

	static const char *const tenants[] = {NULL, "ci", "ops", "a.b-c"};

	memset(q, 0, sizeof(*q));
	memset(lim, 0, sizeof(*lim));
	q->uid = (i & 1) ? 1000 : 0;
	q->gid = (i & 2) ? 50 : 0;
	q->tenant = tenants[(i >> 2) & 3];
	q->image = images[(i >> 4) % 5];
	q->network = nets[(h >> 3) % N_NETS].name;
	q->network_driver = nets[(h >> 3) % N_NETS].driver;
	if (i & 64) {
		q->network = "host";
		q->network_driver = (i & 32) ? "host" : NULL;
	}
	q->publish_all = (h >> 28) & 1;
	for (size_t k = 0; k < 3; k++)
		pub[k] = k < (h >> 29) % 4 ? specs[(h >> (20 + 3 * k)) % N_SPECS] : NULL;
	pub[3] = NULL;
	q->publish = pub[0] ? pub : NULL;
	q->userns = (i & 128) ? "host" : "single";
	q->seccomp = (i & 256) ? "unconfined" : "default";
	q->landlock_off = i & 512;
	q->apparmor = (i & 1024) ? "unconfined" : NULL;
	q->caps = (i & 2048) ? ~0ULL >> 23 : 1;
	q->read_only = i & 4096;
	q->env_bytes = i;
	q->argc = i % 7;
	if (i & 8192) {
		lim->pids_limit = -1;
		lim->memory_swap = -1;
		lim->ulimits[0] = (struct engine_ulimit){7, 10, UINT64_MAX};
		lim->n_ulimits = 1;
	}
	q->limits = lim;
	q->n_mounts = (h >> 8) % 4;
	for (size_t k = 0; k < q->n_mounts; k++)
		m[k] = mounts[(h >> (12 + 5 * k)) % N_MOUNTS];
	q->mounts = q->n_mounts ? m : NULL;
}

static enum tenant_verdict eval(const struct tenant_policy *p, unsigned i)
{
	struct tenant_request q;
	struct engine_limits lim;
	struct tenant_decision d, dm;
	struct tenant_mount m[3];
	char *pub[4];
	enum tenant_verdict v, vm;

	req_for(i, &q, &lim, m, pub);
	v = tenant_policy_evaluate(p, &q, &d);
	if (v != d.verdict)
		abort();
	if (v == TENANT_DENY && (!d.rule[0] || !d.reason[0] || strchr(d.reason, '\n')))
		abort();
	if (v == TENANT_ALLOW && d.rule[0])
		abort();
	vm = tenant_policy_evaluate_mounts(p, &q, &dm);
	if (vm != dm.verdict || strcmp(d.tenant, dm.tenant))
		abort();
	if (vm == TENANT_DENY &&
	    (v != TENANT_DENY || !dm.rule[0] || !dm.reason[0] || strchr(dm.reason, '\n')))
		abort();
	if (vm == TENANT_ALLOW && dm.rule[0])
		abort();
	return v;
}

/* Absolute and normalised: no empty, "." or ".." component, no trailing
 * '/' (but "/"). Written again here, not taken from tenant.c. */
static bool path_ok(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '/' || strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../"))
		return false;
	if (n > 1 && s[n - 1] == '/')
		return false;
	if ((n >= 2 && !strcmp(s + n - 2, "/.")) || (n >= 3 && !strcmp(s + n - 3, "/..")))
		return false;
	return true;
}

static void check_rules(const struct tenant_rules *r)
{
	for (int l = 0; l < TENANT_LIMIT_COUNT; l++) {
		const struct tenant_bound *b = &r->limits[l];

		if (b->has_max && b->has_default && b->def > b->max)
			abort();
	}
	for (size_t i = 0; r->bind_allow && r->bind_allow[i]; i++)
		if (!path_ok(r->bind_allow[i]))
			abort();
	for (size_t i = 0; r->bind_deny && r->bind_deny[i]; i++)
		if (!path_ok(r->bind_deny[i]))
			abort();
	if (r->n_host_ports && !r->has_host_ports)
		abort();
	for (size_t i = 0; i < r->n_host_ports; i++) {
		if (!r->host_ports[i].lo || r->host_ports[i].lo > r->host_ports[i].hi)
			abort();
		if (i && (uint32_t)r->host_ports[i - 1].hi + 1 >= r->host_ports[i].lo)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tenant_policy *p = NULL, *m = NULL, *e = NULL, *p2 = NULL;
	struct err *err = NULL;
	char *t1 = NULL, *t2 = NULL, *s;
	int64_t v;

	/* The size parser on the raw bytes as a string. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tenant_size_parse(s, &v) == 0 && v < 0)
		abort();
	free(s);

	if (tenant_policy_decode((const char *)data, size, "fuzz.json", &p, &err) < 0) {
		if (p || !err)
			abort();
		err_free(&err);
		return 0;
	}
	for (size_t i = 1; i < p->n_tenants; i++)
		if (strcmp(p->tenants[i - 1].name, p->tenants[i].name) >= 0)
			abort();
	check_rules(&p->def);
	for (size_t i = 0; i < p->n_tenants; i++)
		check_rules(&p->tenants[i].rules);
	e = tenant_policy_empty();
	if (!e)
		abort();
	if (tenant_policy_tighten(p, e, "empty", &m, &err) < 0)
		abort();
	for (unsigned i = 0; i < 16384; i += 97)
		if (eval(p, i) != eval(m, i))
			abort();
	if (tenant_policy_encode(p, &t1, &err) < 0)
		abort();
	if (tenant_policy_decode(t1, strlen(t1), "encoded", &p2, &err) < 0) {
		fprintf(stderr, "re-decode: %s\n%s\n", err->msg, t1);
		abort();
	}
	if (tenant_policy_encode(p2, &t2, &err) < 0 || strcmp(t1, t2))
		abort();
	free(t1);
	free(t2);
	tenant_policy_free(p);
	tenant_policy_free(p2);
	tenant_policy_free(m);
	tenant_policy_free(e);
	return 0;
}

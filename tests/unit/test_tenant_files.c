/*
 * tests/unit/test_tenant_files.c - engine/tenant_files.c: the shipped
 * examples load and decide as their README says; the system directory's
 * files all apply, in order, and the user's file only tightens; --policy
 * replaces both; a directory that does not exist is "no policy".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/tenant_files.h"
#include "policy/caps.h"

static struct tenant_policy *load(const char *dir, const char *override)
{
	struct tenant_policy *p = NULL;
	struct err *err = NULL;

	if (engine_tenant_policy_load_from(dir, override, false, &p, NULL, &err) < 0) {
		print_error("load: %s\n", err->msg);
		fail();
	}
	return p;
}

static enum tenant_verdict decide(const struct tenant_policy *p, uint32_t uid, const char *img,
				  const char *net, uint64_t caps, struct engine_limits *lim,
				  struct tenant_decision *d)
{
	struct tenant_request q = {0};

	memset(lim, 0, sizeof(*lim));
	q.uid = uid;
	q.gid = uid;
	q.image = img;
	q.network = net;
	q.userns = "single";
	q.seccomp = "default";
	q.caps = caps;
	q.read_only = true;
	q.limits = lim;
	return tenant_policy_evaluate(p, &q, d);
}

static void test_examples(void **state)
{
	struct tenant_policy *p = load("/nonexistent", "policy/examples/untrusted-jobs.json");
	struct engine_limits lim;
	struct tenant_decision d;
	uint64_t def = 1ULL << policy_cap_from_name("CHOWN");

	assert_int_equal(decide(p, 1000, "busybox", "none", def, &lim, &d), TENANT_ALLOW);
	assert_int_equal(lim.pids_limit, 256);
	assert_int_equal(lim.memory, 512LL << 20);
	assert_int_equal(decide(p, 1000, "busybox", "host", def, &lim, &d), TENANT_DENY);
	assert_string_equal(d.rule, "default.forbidHostNetwork");
	assert_int_equal(decide(p, 1000, "busybox", "none",
				def | 1ULL << policy_cap_from_name("SYS_ADMIN"), &lim, &d),
			 TENANT_DENY);
	assert_string_equal(d.rule, "default.capabilities");
	tenant_policy_free(p);

	p = load("/nonexistent", "policy/examples/build-farm.json");
	assert_int_equal(decide(p, 2000, "busybox", "none", def, &lim, &d), TENANT_ALLOW);
	assert_string_equal(d.tenant, "builders");
	assert_int_equal(lim.pids_limit, 512);
	assert_int_equal(decide(p, 2150, "busybox", "none", def, &lim, &d), TENANT_DENY);
	assert_string_equal(d.rule, "tenants.testers.images.allow");
	assert_int_equal(decide(p, 2150, "registry.example.com/test/x:1", "none", def, &lim, &d),
			 TENANT_ALLOW);
	assert_int_equal(decide(p, 5, "busybox", "none", def, &lim, &d), TENANT_DENY);
	assert_string_equal(d.rule, "default.images.allow");
	tenant_policy_free(p);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_system_dir_and_user(void **state)
{
	char dir[] = "/tmp/moat-tenant-files.XXXXXX", sys[200], path[300], xdg[200];
	struct tenant_policy *p;
	struct engine_limits lim;
	struct tenant_decision d;
	struct engine_tenant_sources src;
	struct err *err = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(sys, sizeof(sys), "%s/policy.d", dir);
	snprintf(xdg, sizeof(xdg), "%s/xdg", dir);
	mkdir(sys, 0755);
	mkdir(xdg, 0755);
	snprintf(path, sizeof(path), "%s/moat", xdg);
	mkdir(path, 0755);
	setenv("XDG_CONFIG_HOME", xdg, 1);

	/* No file at all: no restrictions. */
	assert_int_equal(engine_tenant_policy_load_from(sys, NULL, false, &p, &src, &err), 0);
	assert_true(src.is_empty);
	engine_tenant_sources_clear(&src);
	tenant_policy_free(p);

	snprintf(path, sizeof(path), "%s/10-net.json", sys);
	put(path, "{\"default\": {\"forbidHostNetwork\": true}}");
	snprintf(path, sizeof(path), "%s/20-pids.json", sys);
	put(path, "{\"default\": {\"limits\": {\"pidsLimit\": {\"max\": 100}}}, \"tenants\": "
		  "{\"ci\": {\"uids\": [7]}}}");
	snprintf(path, sizeof(path), "%s/notes.txt", sys);
	put(path, "not json, not read");
	p = load(sys, NULL);
	assert_int_equal(decide(p, 1, "busybox", "host", 0, &lim, &d), TENANT_DENY);
	assert_int_equal(decide(p, 1, "busybox", "none", 0, &lim, &d), TENANT_ALLOW);
	assert_int_equal(lim.pids_limit, 100);
	assert_int_equal(decide(p, 7, "busybox", "host", 0, &lim, &d), TENANT_ALLOW);
	assert_string_equal(d.tenant, "ci");
	tenant_policy_free(p);

	/* The user's file tightens, never loosens. */
	snprintf(path, sizeof(path), "%s/moat/policy.json", xdg);
	put(path, "{\"default\": {\"forbidHostNetwork\": false, \"maxArgs\": 0}}");
	p = load(sys, NULL);
	assert_int_equal(decide(p, 1, "busybox", "host", 0, &lim, &d), TENANT_DENY);
	assert_string_equal(d.rule, "default.forbidHostNetwork");
	tenant_policy_free(p);

	/* A user file that maps uids is refused. */
	put(path, "{\"tenants\": {\"ci\": {\"uids\": [1]}}}");
	p = NULL;
	assert_true(engine_tenant_policy_load_from(sys, NULL, false, &p, NULL, &err) < 0);
	assert_non_null(strstr(err->msg, "may not map uids"));
	err_free(&err);

	/* --policy replaces both: the broken user file is not read. */
	snprintf(path, sizeof(path), "%s/only.json", dir);
	put(path, "{}");
	p = load(sys, path);
	assert_int_equal(decide(p, 1, "busybox", "host", 0, &lim, &d), TENANT_ALLOW);
	tenant_policy_free(p);

	/* A broken system file is an error naming it, not "no policy". */
	snprintf(path, sizeof(path), "%s/30-bad.json", sys);
	put(path, "{\"default\": {\"nope\": 1}}");
	assert_true(engine_tenant_policy_load_from(sys, NULL, false, &p, NULL, &err) < 0);
	assert_non_null(strstr(err->msg, "30-bad.json: default: unknown key \"nope\""));
	err_free(&err);

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_system_dir_and_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

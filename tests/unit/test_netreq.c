/*
 * tests/unit/test_netreq.c - a container's network request
 * (engine/netreq.c): the checks create runs on --ip, --network-alias,
 * --dns*, --add-host and -p for each network mode, the normalisation, -P,
 * and the record's "network" object both ways.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "engine/netreq.h"

static char **sv(int n, ...)
{
	char **v = calloc((size_t)n + 1, sizeof(char *));
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		v[i] = strdup(va_arg(ap, const char *));
	va_end(ap);
	return v;
}

/* Checks Q for MODE; returns the error code (0 on success), message in MSG. */
static int check(const char *mode, bool user, struct engine_netreq *q, char *msg, size_t len)
{
	struct err *e = NULL;
	int r = engine_netreq_check(mode, user, q, &e);

	msg[0] = 0;
	if (r < 0) {
		assert_non_null(e);
		snprintf(msg, len, "%.500s", e->msg);
		err_free(&e);
	}
	return r;
}

static void test_good_normalised(void **state)
{
	struct engine_netreq q = {0};
	char msg[512];

	(void)state;
	q.ip = strdup("10.89.0.7");
	q.aliases = sv(2, "api", "db.internal");
	q.dns = sv(2, "192.0.2.53", "2001:db8:0:0::1");
	q.dns_search = sv(1, "example.org");
	q.dns_options = sv(1, "ndots:2");
	q.add_hosts = sv(3, "gw:host-gateway", "h6:[2001:db8::5]", "eq=192.0.2.9");
	q.publish = sv(2, "8080:80", "127.0.0.1::53/udp");
	assert_int_equal(check("web", true, &q, msg, sizeof(msg)), 0);
	assert_string_equal(q.dns[1], "2001:db8::1");
	assert_string_equal(q.add_hosts[0], "gw:host-gateway");
	assert_string_equal(q.add_hosts[1], "h6:2001:db8::5");
	assert_string_equal(q.add_hosts[2], "eq:192.0.2.9");
	engine_netreq_free(&q);
}

static void test_refused(void **state)
{
	static const struct {
		const char *mode;
		bool user;
		const char *field, *value, *want;
	} cases[] = {
	    {"bridge", false, "ip", "10.88.0.9", "user defined networks only"},
	    {"web", true, "ip", "10.89.0", "invalid IPv4 address"},
	    {"web", true, "ip", "fd00::1", "invalid IPv4 address"},
	    {"none", false, "alias", "api", "user defined networks"},
	    {"web", true, "alias", "bad name", "invalid network alias"},
	    {"web", true, "alias", "-x..y", "invalid network alias"},
	    {"web", true, "dns", "8.8.8", "invalid --dns"},
	    {"web", true, "dns", "localhost", "invalid --dns"},
	    {"web", true, "host", "nocolon", "--add-host"},
	    {"web", true, "host", ":1.2.3.4", "--add-host"},
	    {"web", true, "host", "name:", "--add-host"},
	    {"web", true, "host", "na me:1.2.3.4", "not a valid host name"},
	    {"web", true, "host", "h:1.2.3.400", "IP address in --add-host"},
	    {"web", true, "publish", "80x", "Invalid containerPort"},
	    {"web", true, "publish", "0:80", "Invalid hostPort"},
	    {"none", false, "publish", "80", "--network none"},
	    {"web", true, "search", "a b", "--dns-search"},
	    {"web", true, "option", "nd ots", "--dns-option"},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct engine_netreq q = {0};
		char msg[512];

		if (!strcmp(cases[k].field, "ip"))
			q.ip = strdup(cases[k].value);
		else if (!strcmp(cases[k].field, "alias"))
			q.aliases = sv(1, cases[k].value);
		else if (!strcmp(cases[k].field, "dns"))
			q.dns = sv(1, cases[k].value);
		else if (!strcmp(cases[k].field, "host"))
			q.add_hosts = sv(1, cases[k].value);
		else if (!strcmp(cases[k].field, "publish"))
			q.publish = sv(1, cases[k].value);
		else if (!strcmp(cases[k].field, "search"))
			q.dns_search = sv(1, cases[k].value);
		else
			q.dns_options = sv(1, cases[k].value);
		if (check(cases[k].mode, cases[k].user, &q, msg, sizeof(msg)) == 0)
			fail_msg("%s=%s accepted on %s", cases[k].field, cases[k].value,
				 cases[k].mode);
		if (!strstr(msg, cases[k].want))
			fail_msg("%s=%s: \"%s\" lacks \"%s\"", cases[k].field, cases[k].value, msg,
				 cases[k].want);
		engine_netreq_free(&q);
	}
}

/* Docker drops -p with --network host (a warning), it is not an error. */
static void test_host_drops_ports(void **state)
{
	struct engine_netreq q = {0};
	char msg[512];

	(void)state;
	q.publish = sv(1, "80:80");
	q.publish_all = true;
	assert_int_equal(check("host", false, &q, msg, sizeof(msg)), 0);
	assert_null(q.publish);
	assert_false(q.publish_all);
	engine_netreq_free(&q);
}

static void test_too_many(void **state)
{
	struct engine_netreq q = {0};
	char msg[512];

	(void)state;
	q.dns = calloc(ENGINE_NETREQ_MAX_ITEMS + 2, sizeof(char *));
	for (int i = 0; i <= ENGINE_NETREQ_MAX_ITEMS; i++)
		q.dns[i] = strdup("192.0.2.1");
	assert_int_equal(check("web", true, &q, msg, sizeof(msg)), -E2BIG);
	engine_netreq_free(&q);
}

static void test_publish_exposed(void **state)
{
	struct engine_netreq q = {0};
	char *keys[] = {"80/tcp", "53/udp", NULL};
	char *bad[] = {"x/tcp", NULL};
	struct err *e = NULL;

	(void)state;
	q.publish = sv(1, "8080:8080");
	assert_int_equal(engine_netreq_publish_exposed(&q, keys, &e), 0);
	assert_string_equal(q.publish[0], "8080:8080");
	assert_string_equal(q.publish[1], "80/tcp");
	assert_string_equal(q.publish[2], "53/udp");
	assert_null(q.publish[3]);
	assert_true(engine_netreq_publish_exposed(&q, bad, &e) < 0);
	assert_non_null(e);
	err_free(&e);
	engine_netreq_free(&q);
}

static void test_json_roundtrip(void **state)
{
	struct engine_netreq q = {0}, back = {0}, copy = {0};
	struct err *e = NULL;
	json_t *j;
	char *a, *b;

	(void)state;
	q.network_id = strdup("ab12");
	q.ip = strdup("10.89.0.7");
	q.aliases = sv(1, "api");
	q.add_hosts = sv(1, "gw:host-gateway");
	q.publish = sv(2, "80", "127.0.0.1:53:53/udp");
	q.publish_all = true;
	assert_int_equal(engine_netreq_dup(&q, &copy, &e), 0);
	j = engine_netreq_json(&copy);
	assert_non_null(j);
	a = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(engine_netreq_from_json(j, &back, &e), 0);
	json_decref(j);
	j = engine_netreq_json(&back);
	b = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(a, b);
	assert_true(back.publish_all);
	assert_string_equal(back.publish[1], "127.0.0.1:53:53/udp");
	free(a);
	free(b);
	json_decref(j);
	engine_netreq_free(&q);
	engine_netreq_free(&copy);
	engine_netreq_free(&back);
}

static void test_json_refused(void **state)
{
	static const char *const bad[] = {
	    "[]", "{\"nope\":1}", "{\"ip\":5}", "{\"aliases\":[1]}", "{\"publish_all\":\"yes\"}",
	};

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct engine_netreq q;
		struct err *e = NULL;
		json_t *j = json_loads(bad[k], 0, NULL);

		assert_non_null(j);
		if (engine_netreq_from_json(j, &q, &e) == 0)
			fail_msg("accepted %s", bad[k]);
		assert_non_null(e);
		assert_null(q.ip);
		assert_null(q.aliases);
		err_free(&e);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_normalised),  cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_host_drops_ports), cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_publish_exposed),  cmocka_unit_test(test_json_roundtrip),
	    cmocka_unit_test(test_json_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

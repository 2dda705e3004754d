/*
 * tests/unit/test_regconf.c - image/regconf.c: the strict decoder and its
 * located errors, merging, the insecure lookup, the certs.d order, and
 * regconf_load's choice of files (in a mkdtemp() directory).
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "image/regconf.h"

static int dec(const char *json, struct regconf *c, struct err **err)
{
	return regconf_decode(json, strlen(json), "r.json", c, err);
}

static void expect_error(const char *json, const char *msg)
{
	struct regconf c = {0};
	struct err *err = NULL;

	if (dec(json, &c, &err) == 0) {
		print_error("accepted: %s\n", json);
		fail();
	}
	if (!strstr(err->msg, msg)) {
		print_error("error for %s:\n  want \"%s\"\n  got  \"%s\"\n", json, msg, err->msg);
		fail();
	}
	/* Nothing half-decoded is left in OUT. */
	assert_int_equal(c.n_insecure, 0);
	assert_null(c.insecure);
	assert_int_equal(c.n_certs_dirs, 0);
	err_free(&err);
}

static void test_decode_good(void **state)
{
	struct regconf c = {0};
	struct err *err = NULL;

	assert_int_equal(dec("{\"insecure\": [\"localhost:5000\", \"[::1]:5001\", \"reg.lan\"],"
			     " \"certs_dirs\": [\"/srv/certs.d\"]}",
			     &c, &err),
			 0);
	assert_int_equal(c.n_insecure, 3);
	assert_string_equal(c.insecure[0], "localhost:5000");
	assert_string_equal(c.insecure[2], "reg.lan");
	assert_null(c.insecure[3]);
	assert_int_equal(c.n_certs_dirs, 1);
	assert_string_equal(c.certs_dirs[0], "/srv/certs.d");
	/* A second file appends. */
	assert_int_equal(dec("{\"insecure\": [\"127.0.0.1:5000\"]}", &c, &err), 0);
	assert_int_equal(c.n_insecure, 4);
	assert_string_equal(c.insecure[3], "127.0.0.1:5000");
	assert_null(c.insecure[4]);
	regconf_clear(&c);
	assert_null(c.insecure);
}

static void test_decode_empty_forms(void **state)
{
	static const char *const ok[] = {"", " \n\t", "{}", "{\"insecure\": []}",
					 "{\"insecure\": [], \"certs_dirs\": []}"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct regconf c = {0};
		struct err *err = NULL;

		assert_int_equal(dec(ok[i], &c, &err), 0);
		assert_int_equal(c.n_insecure, 0);
		assert_int_equal(c.n_certs_dirs, 0);
		regconf_clear(&c);
	}
}

static void test_decode_located_errors(void **state)
{
	/* Unknown keys carry their own line and column. */
	expect_error("{\n  \"insecure\": [],\n  \"insecrue\": [\"a\"]\n}",
		     "r.json:3:3: \"insecrue\": unknown key");
	expect_error("{\"certs_dir\": []}", "r.json:1:2: \"certs_dir\": unknown key");
	/* Even one spelled with escapes is found. */
	expect_error("{\"insecure\": [],\n\t\"\\u0078\": 1}", "r.json:2:2: \"x\": unknown key");
	/* A key after a nested value with brackets inside strings. */
	expect_error(
	    "{\"insecure\": [\"a:1\", \"b\"], \"certs_dirs\": [\"/x]{\\\"\"],\n \"z\": {}}",
	    "r.json:2:2: \"z\": unknown key");
	/* Types. */
	expect_error("{\"insecure\": \"localhost:5000\"}",
		     "r.json:1:2: \"insecure\": must be an array of strings");
	expect_error("{\"certs_dirs\": null}", "\"certs_dirs\": must be an array of strings");
	expect_error("{\n\"insecure\": [\"a\", 5]}", "r.json:2:1: \"insecure\": must be an array");
	expect_error("{\"insecure\": [\"a\\u0000b\"]}", "without NUL bytes");
	expect_error("[\"localhost:5000\"]", "r.json:1:1: the top level must be an object");
	expect_error("\"x\"", "r.json:1:3: '[' or '{' expected");
	/* Syntax errors: jansson's position. */
	expect_error("{\"insecure\": [\"a\",]}", "r.json:1:");
	expect_error("{\"insecure\": []} x", "r.json:1:");
	expect_error("{\"insecure\": [], \"insecure\": []}", "duplicate");
	/* Values. */
	expect_error("{\"insecure\": [\"http://localhost:5000\"]}",
		     "\"insecure\": not a registry host or host:port: http://localhost:5000");
	expect_error("{\"insecure\": [\"localhost:5000/ns\"]}", "not a registry host");
	expect_error("{\"insecure\": [\"\"]}", "not a registry host");
	expect_error("{\"insecure\": [\"a b\"]}", "not a registry host");
	expect_error("{\"certs_dirs\": [\"certs.d\"]}",
		     "\"certs_dirs\": not an absolute path: certs.d");
	expect_error("{\"certs_dirs\": [\"/a\", \"/b\"]}", "one certs.d directory");
}

static void test_decode_limits(void **state)
{
	struct regconf c = {0};
	struct err *err = NULL;
	size_t big = (1u << 20) + 1;
	char *buf = malloc(big), *p;

	assert_non_null(buf);
	memset(buf, ' ', big);
	assert_int_equal(regconf_decode(buf, big, "r.json", &c, &err), -EFBIG);
	err_free(&err);

	/* 1024 insecure entries in all, across files. */
	p = buf;
	p += sprintf(p, "{\"insecure\": [");
	for (int i = 0; i < 1024; i++)
		p += sprintf(p, "%s\"h%d:1\"", i ? "," : "", i);
	sprintf(p, "]}");
	assert_int_equal(dec(buf, &c, &err), 0);
	assert_int_equal(c.n_insecure, 1024);
	assert_int_equal(dec("{\"insecure\": [\"one.more\"]}", &c, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "more than 1024"));
	assert_int_equal(c.n_insecure, 1024);
	err_free(&err);

	/* One certs_dirs entry in all. */
	assert_int_equal(dec("{\"certs_dirs\": [\"/a\"]}", &c, &err), 0);
	assert_int_equal(dec("{\"certs_dirs\": [\"/b\"]}", &c, &err), -EINVAL);
	assert_int_equal(c.n_certs_dirs, 1);
	assert_string_equal(c.certs_dirs[0], "/a");
	err_free(&err);
	regconf_clear(&c);
	free(buf);
}

static void test_insecure_lookup(void **state)
{
	struct regconf c = {0};
	struct err *err = NULL;

	assert_int_equal(dec("{\"insecure\": [\"localhost:5000\", \"Reg.Lan\"]}", &c, &err), 0);
	assert_true(regconf_insecure(&c, "localhost:5000"));
	assert_true(regconf_insecure(&c, "LOCALHOST:5000"));
	assert_true(regconf_insecure(&c, "reg.lan"));
	/* Exact: another port, no port, or a prefix do not match. */
	assert_false(regconf_insecure(&c, "localhost:5001"));
	assert_false(regconf_insecure(&c, "localhost"));
	assert_false(regconf_insecure(&c, "reg.lan:443"));
	assert_false(regconf_insecure(&c, "localhost:500"));
	assert_false(regconf_insecure(&c, NULL));
	/* Loopback is not insecure by default. */
	assert_false(regconf_insecure(&c, "127.0.0.1:5000"));
	assert_false(regconf_insecure(NULL, "localhost:5000"));
	regconf_clear(&c);
}

static void test_certs_dirs_order(void **state)
{
	struct regconf c = {0};
	struct err *err = NULL;
	const char *d[4];

	regconf_certs_dirs(NULL, d);
	assert_string_equal(d[0], "/etc/docker/certs.d");
	assert_null(d[1]);
	assert_null(d[3]);

	c.user_certs_dir = strdup("/home/u/.config/moat/certs.d");
	regconf_certs_dirs(&c, d);
	assert_string_equal(d[0], "/etc/docker/certs.d");
	assert_string_equal(d[1], "/home/u/.config/moat/certs.d");
	assert_null(d[2]);

	assert_int_equal(dec("{\"certs_dirs\": [\"/srv/certs.d\"]}", &c, &err), 0);
	regconf_certs_dirs(&c, d);
	assert_string_equal(d[0], "/etc/docker/certs.d");
	assert_string_equal(d[1], "/srv/certs.d");
	assert_string_equal(d[2], "/home/u/.config/moat/certs.d");
	assert_null(d[3]);
	regconf_clear(&c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_files(void **state)
{
	char dir[] = "/tmp/moat-regconf-XXXXXX", path[256], sub[256];
	struct regconf *c = NULL;
	struct err *err = NULL;
	const char *d[4];
	struct stat st;

	assert_non_null(mkdtemp(dir));

	/* MOAT_REGISTRIES_CONF: only that file, and it must exist. */
	snprintf(path, sizeof(path), "%s/only.json", dir);
	setenv("MOAT_REGISTRIES_CONF", path, 1);
	assert_int_equal(regconf_load(&c, &err), -ENOENT);
	assert_non_null(strstr(err->msg, "only.json"));
	assert_null(c);
	err_free(&err);
	write_file(path, "{\"insecure\": [\"localhost:5000\"]}");
	assert_int_equal(regconf_load(&c, &err), 0);
	assert_true(regconf_insecure(c, "localhost:5000"));
	regconf_free(c);
	c = NULL;
	write_file(path, "{\"insecure\": [\"localhost:5000\"],\n \"bogus\": 1}");
	assert_int_equal(regconf_load(&c, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "only.json:2:2: \"bogus\": unknown key"));
	assert_null(c);
	err_free(&err);
	/* /dev/null: no configuration at all; a directory is refused. */
	setenv("MOAT_REGISTRIES_CONF", "/dev/null", 1);
	assert_int_equal(regconf_load(&c, &err), 0);
	assert_int_equal(c->n_insecure, 0);
	regconf_free(c);
	c = NULL;
	setenv("MOAT_REGISTRIES_CONF", dir, 1);
	assert_int_equal(regconf_load(&c, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "is not a regular file"));
	err_free(&err);
	unsetenv("MOAT_REGISTRIES_CONF");

	/* The user's file under $XDG_CONFIG_HOME, and its certs.d. */
	if (stat("/etc/moat/registries.json", &st) == 0) {
		print_message(
		    "  (skipping the user-file half: /etc/moat/registries.json exists)\n");
	} else {
		setenv("XDG_CONFIG_HOME", dir, 1);
		assert_int_equal(regconf_load(&c, &err), 0); /* none at all: empty */
		assert_int_equal(c->n_insecure, 0);
		regconf_free(c);
		snprintf(sub, sizeof(sub), "%s/moat", dir);
		assert_int_equal(mkdir(sub, 0700), 0);
		snprintf(path, sizeof(path), "%s/moat/registries.json", dir);
		write_file(path, "{\"insecure\": [\"reg.lan:80\"], \"certs_dirs\": [\"/srv/c\"]}");
		assert_int_equal(regconf_load(&c, &err), 0);
		assert_true(regconf_insecure(c, "reg.lan:80"));
		regconf_certs_dirs(c, d);
		snprintf(sub, sizeof(sub), "%s/moat/certs.d", dir);
		assert_string_equal(d[0], "/etc/docker/certs.d");
		assert_string_equal(d[1], "/srv/c");
		assert_string_equal(d[2], sub);
		assert_null(d[3]);
		regconf_free(c);
		/* A broken user file is an error, not an empty config. */
		write_file(path, "{\"insecure\": [\"reg.lan:80\"");
		c = NULL;
		assert_int_equal(regconf_load(&c, &err), -EINVAL);
		assert_non_null(strstr(err->msg, "registries.json:1:"));
		err_free(&err);
		unlink(path);
		rmdir(sub);
		snprintf(sub, sizeof(sub), "%s/moat", dir);
		rmdir(sub);
		unsetenv("XDG_CONFIG_HOME");
	}
	snprintf(path, sizeof(path), "%s/only.json", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_good),
	    cmocka_unit_test(test_decode_empty_forms),
	    cmocka_unit_test(test_decode_located_errors),
	    cmocka_unit_test(test_decode_limits),
	    cmocka_unit_test(test_insecure_lookup),
	    cmocka_unit_test(test_certs_dirs_order),
	    cmocka_unit_test(test_load_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for engine/config.c (pure): image config + run flags, and
 * user resolution against passwd/group text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/config.h"
#include "engine/containers.h"

#include <jansson.h>

static char *img_entry[] = {"/entry", "-x", NULL};
static char *img_cmd[] = {"default", "arg", NULL};
static char *img_env[] = {"PATH=/img/bin", "A=image", "B=image", NULL};

static struct image_config cfg = {
    .env = img_env,
    .entrypoint = img_entry,
    .cmd = img_cmd,
    .workdir = "/work",
    .user = "moat",
};

static void argv_is(char **argv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
}

static const char *env_get(char **env, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, kl) && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

static void test_image_defaults(void **state)
{
	struct run_request req = {0};
	struct run_process p;
	struct err *e = NULL;

	assert_int_equal(engine_process_build(&cfg, &req, "h1", NULL, &p, &e), 0);
	argv_is(p.argv, (const char *[]){"/entry", "-x", "default", "arg", NULL});
	assert_string_equal(p.cwd, "/work");
	assert_string_equal(p.user, "moat");
	assert_string_equal(env_get(p.env, "PATH"), "/img/bin");
	assert_string_equal(env_get(p.env, "HOSTNAME"), "h1");
	assert_null(env_get(p.env, "TERM"));
	engine_process_free(&p);
}

static void test_user_cmd_replaces_cmd(void **state)
{
	char *cmd[] = {"echo", "hi", NULL};
	struct run_request req = {.cmd = cmd};
	struct run_process p;
	struct err *e = NULL;

	assert_int_equal(engine_process_build(&cfg, &req, "h", NULL, &p, &e), 0);
	argv_is(p.argv, (const char *[]){"/entry", "-x", "echo", "hi", NULL});
	engine_process_free(&p);
}

static void test_entrypoint_drops_image_cmd(void **state)
{
	struct run_request req = {.entrypoint = "/bin/sh"};
	struct run_process p;
	struct err *e = NULL;

	assert_int_equal(engine_process_build(&cfg, &req, "h", NULL, &p, &e), 0);
	argv_is(p.argv, (const char *[]){"/bin/sh", NULL});
	engine_process_free(&p);

	char *cmd[] = {"-c", "true", NULL};
	req.cmd = cmd;
	assert_int_equal(engine_process_build(&cfg, &req, "h", NULL, &p, &e), 0);
	argv_is(p.argv, (const char *[]){"/bin/sh", "-c", "true", NULL});
	engine_process_free(&p);
}

static void test_empty_entrypoint_clears(void **state)
{
	char *cmd[] = {"ls", NULL};
	struct run_request req = {.entrypoint = "", .cmd = cmd};
	struct run_process p;
	struct err *e = NULL;

	assert_int_equal(engine_process_build(&cfg, &req, "h", NULL, &p, &e), 0);
	argv_is(p.argv, (const char *[]){"ls", NULL});
	engine_process_free(&p);

	req.cmd = NULL;
	assert_true(engine_process_build(&cfg, &req, "h", NULL, &p, &e) < 0);
	assert_non_null(strstr(e->msg, "no command"));
	err_free(&e);
}

static void test_env_override(void **state)
{
	char *env[] = {"A=user", "C=new", "FROMHOST", "UNSET", NULL};
	char *host[] = {"FROMHOST=hostval", NULL};
	struct run_request req = {.env = env, .tty = true};
	struct run_process p;
	struct err *e = NULL;

	assert_int_equal(engine_process_build(&cfg, &req, "h", host, &p, &e), 0);
	assert_string_equal(env_get(p.env, "A"), "user");
	assert_string_equal(env_get(p.env, "B"), "image");
	assert_string_equal(env_get(p.env, "C"), "new");
	assert_string_equal(env_get(p.env, "FROMHOST"), "hostval");
	assert_null(env_get(p.env, "UNSET"));
	assert_string_equal(env_get(p.env, "TERM"), "xterm");
	engine_process_free(&p);
}

static void test_bad_env_and_workdir(void **state)
{
	char *env[] = {"=x", NULL};
	struct run_request req = {.env = env};
	struct run_process p;
	struct err *e = NULL;

	assert_true(engine_process_build(&cfg, &req, "h", NULL, &p, &e) < 0);
	err_free(&e);
	req.env = NULL;
	req.workdir = "relative";
	assert_true(engine_process_build(&cfg, &req, "h", NULL, &p, &e) < 0);
	assert_non_null(strstr(e->msg, "absolute"));
	err_free(&e);
}

static void test_no_config(void **state)
{
	char *cmd[] = {"x", NULL};
	struct run_request req = {.cmd = cmd};
	struct run_process p;
	struct err *e = NULL;

	assert_int_equal(engine_process_build(NULL, &req, NULL, NULL, &p, &e), 0);
	assert_string_equal(p.cwd, "/");
	assert_string_equal(p.user, "");
	assert_non_null(env_get(p.env, "PATH"));
	engine_process_free(&p);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "# comment\n"
			     "moat:x:1000:1000::/home/moat:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
			     "broken:x:notanumber:1::/:/bin/sh\n";
static const char group[] = "root:x:0:\nusers:x:100:moat,other\nmoat:x:1000:\n"
			    "wheel:x:10:root,moat\nnogroup:x:65534:\n";

static void test_user_names(void **state)
{
	struct user_ids u;
	struct err *e = NULL;

	assert_int_equal(engine_user_resolve("moat", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_string_equal(u.home, "/home/moat");
	/* primary + users + wheel */
	assert_int_equal(u.n_groups, 3);
	assert_int_equal(u.groups[0], 1000);
	assert_int_equal(u.groups[1], 100);
	assert_int_equal(u.groups[2], 10);

	assert_int_equal(engine_user_resolve("", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 0);
	assert_string_equal(u.home, "/root");

	assert_int_equal(engine_user_resolve("nobody:users", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(u.gid, 100);
	assert_int_equal(u.n_groups, 1);
}

static void test_user_numeric(void **state)
{
	struct user_ids u;
	struct err *e = NULL;

	assert_int_equal(engine_user_resolve("1000", passwd, group, &u, &e), 0);
	assert_int_equal(u.gid, 1000); /* from the passwd entry */
	assert_int_equal(engine_user_resolve("4242:77", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 77);
	assert_int_equal(engine_user_resolve("4242", NULL, NULL, &u, &e), 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/");
}

static void test_user_errors(void **state)
{
	struct user_ids u;
	struct err *e = NULL;

	assert_true(engine_user_resolve("ghost", passwd, group, &u, &e) < 0);
	assert_non_null(strstr(e->msg, "unable to find user ghost"));
	err_free(&e);
	assert_true(engine_user_resolve("moat:ghosts", passwd, group, &u, &e) < 0);
	assert_non_null(strstr(e->msg, "unable to find group ghosts"));
	err_free(&e);
	assert_true(engine_user_resolve("moat:", passwd, group, &u, &e) < 0);
	err_free(&e);
	assert_true(engine_user_resolve(":1", passwd, group, &u, &e) < 0);
	err_free(&e);
	assert_true(engine_user_resolve("broken", passwd, group, &u, &e) < 0);
	err_free(&e);
	assert_true(engine_user_resolve("-1", passwd, group, &u, &e) < 0);
	err_free(&e);
	assert_true(engine_user_resolve("root", NULL, NULL, &u, &e) < 0);
	err_free(&e);
}

static void test_container_record(void **state)
{
	char *argv[] = {"sh", "-c", "exit 4", NULL};
	char *env[] = {"PATH=/bin", "A=b", NULL};
	char *labels[] = {"com.example=1", "x=", NULL};
	struct container_record r = {.name = "web",
				     .image = "demo",
				     .image_id = "sha256:00",
				     .argv = argv,
				     .env = env,
				     .labels = labels,
				     .cwd = "/work",
				     .user = "1000:1000",
				     .uid = 1000,
				     .gid = 1000,
				     .groups = {1000, 27},
				     .n_groups = 2,
				     .hostname = "h",
				     .tty = true,
				     .stdin_open = true,
				     .userns = "subuid",
				     .net = "none",
				     .read_only = true,
				     .landlock = true,
				     .caps = 0x800405fbULL,
				     .seccomp = "default",
				     .apparmor = NULL,
				     .rm = false,
				     .stop_signal = 15,
				     .stop_timeout = -1,
				     .restart = "on-failure:3",
				     .log_max_size = 1024,
				     .log_max_file = 3,
				     .state = CTR_EXITED,
				     .created = 100,
				     .started = 150,
				     .finished = 200,
				     .exit_code = 4,
				     .oom_killed = true,
				     .restart_count = 2};
	struct container_record d;
	struct err *e = NULL;
	char *buf = NULL, *again = NULL;
	size_t len = 0, len2 = 0;

	memset(r.id, 'a', 64);
	r.id[64] = 0;
	assert_int_equal(engine_container_record_encode(&r, &buf, &len, &e), 0);
	assert_int_equal(engine_container_record_decode(buf, len, &d, &e), 0);
	assert_string_equal(d.id, r.id);
	assert_string_equal(d.name, "web");
	assert_string_equal(d.image, "demo");
	assert_string_equal(d.argv[2], "exit 4");
	assert_null(d.argv[3]);
	assert_string_equal(d.env[1], "A=b");
	assert_string_equal(d.labels[0], "com.example=1");
	assert_string_equal(d.cwd, "/work");
	assert_int_equal(d.uid, 1000);
	assert_int_equal(d.n_groups, 2);
	assert_int_equal(d.groups[1], 27);
	assert_true(d.tty && d.stdin_open && d.read_only && d.landlock && !d.rm && !d.init);
	assert_string_equal(d.userns, "subuid");
	assert_true(d.caps == 0x800405fbULL);
	assert_null(d.apparmor);
	assert_int_equal(d.stop_timeout, -1);
	assert_string_equal(d.restart, "on-failure:3");
	assert_int_equal(d.log_max_size, 1024);
	assert_int_equal(d.log_max_file, 3);
	assert_int_equal(d.state, CTR_EXITED);
	assert_int_equal(d.created, 100);
	assert_int_equal(d.started, 150);
	assert_int_equal(d.finished, 200);
	assert_int_equal(d.exit_code, 4);
	assert_true(d.oom_killed);
	assert_int_equal(d.restart_count, 2);
	/* stable: encoding the decoded record gives the same bytes */
	assert_int_equal(engine_container_record_encode(&d, &again, &len2, &e), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, again, len);
	free(again);
	engine_container_record_free(&d);

	/* Each of these replacements makes the good record bad. */
	static const char *const bad[][2] = {
	    {"id", "\"../../etc\""},  {"exit_code", "300"},
	    {"exit_code", "-2"},      {"argv", "\"sh\""},
	    {"name", "\"a/b\""},      {"state", "\"zombie\""},
	    {"caps", "\"xyz\""},      {"caps", "\"10000000000000000\""},
	    {"groups", "[-1]"},	      {"tty", "1"},
	    {"uid", "4294967296"},    {"stop_signal", "65"},
	    {"log_max_file", "1001"}, {"unknown", "1"},
	    {"env", "[1]"},	      {"apparmor", "3"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = json_loadb(buf, len, 0, NULL),
		       *v = json_loads(bad[i][1], JSON_DECODE_ANY, NULL);
		char *text;

		assert_non_null(o);
		assert_non_null(v);
		json_object_set_new(o, bad[i][0], v);
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		assert_true(engine_container_record_decode(text, strlen(text), &d, &e) < 0);
		assert_non_null(e);
		err_free(&e);
		free(text);
	}
	/* missing key, duplicate key, garbage */
	static const char *const broken[] = {"{\"id\":\"x\",\"id\":\"y\"}", "[1,2", "{}"};
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		assert_true(engine_container_record_decode(broken[i], strlen(broken[i]), &d, &e) <
			    0);
		err_free(&e);
		/* listings pass no err: still an error, never a crash */
		assert_true(engine_container_record_decode(broken[i], strlen(broken[i]), &d, NULL) <
			    0);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_defaults),
	    cmocka_unit_test(test_user_cmd_replaces_cmd),
	    cmocka_unit_test(test_entrypoint_drops_image_cmd),
	    cmocka_unit_test(test_empty_entrypoint_clears),
	    cmocka_unit_test(test_env_override),
	    cmocka_unit_test(test_bad_env_and_workdir),
	    cmocka_unit_test(test_no_config),
	    cmocka_unit_test(test_user_names),
	    cmocka_unit_test(test_user_numeric),
	    cmocka_unit_test(test_user_errors),
	    cmocka_unit_test(test_container_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the lifecycle's plumbing: the control protocol codec
 * (engine/ctl.c) and its socket ends, and container names and lookup on
 * a scratch ROOT (engine/containers.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"
#include "engine/containers.h"
#include "engine/ctl.h"

static void test_ctl_codec(void **state)
{
	unsigned char buf[CTL_MSG_MAX];
	struct ctl_msg m;
	struct err *e = NULL;
	size_t n;

	n = ctl_encode(buf, CTL_STOP, 15, -1, "xy", 2);
	assert_int_equal(n, CTL_HDR_LEN + 2);
	assert_int_equal(ctl_decode(buf, n, &m, &e), 0);
	assert_int_equal(m.type, CTL_STOP);
	assert_int_equal(m.a, 15);
	assert_int_equal(m.b, -1);
	assert_int_equal(m.len, 2);
	assert_memory_equal(m.data, "xy", 2);

	/* short, oversized, bad magic, unknown types */
	assert_true(ctl_decode(buf, CTL_HDR_LEN - 1, &m, &e) < 0);
	err_free(&e);
	assert_true(ctl_decode(buf, CTL_MSG_MAX + 1, &m, &e) < 0);
	err_free(&e);
	buf[0] ^= 1;
	assert_true(ctl_decode(buf, n, &m, &e) < 0);
	assert_non_null(strstr(e->msg, "magic"));
	err_free(&e);
	n = ctl_encode(buf, CTL_TYPE_MAX, 0, 0, NULL, 0);
	assert_true(ctl_decode(buf, n, &m, &e) < 0);
	err_free(&e);
	n = ctl_encode(buf, 0, 0, 0, NULL, 0);
	assert_true(ctl_decode(buf, n, &m, &e) < 0);
	err_free(&e);
}

/* A one-shot server: answers CTL_PIDFD with CTL_OK and an fd, anything
 * else with CTL_ERROR. */
static void serve_once(int lis)
{
	unsigned char buf[CTL_MSG_MAX];
	struct ctl_msg m;
	int c, fd = -1;

	struct pollfd p = {.fd = lis, .events = POLLIN};

	/* The listening socket is non-blocking (as the monitor's is). */
	if (poll(&p, 1, 10000) != 1)
		_exit(3);
	c = accept4(lis, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		_exit(1);
	{
		int fl = fcntl(c, F_GETFL);
		fcntl(c, F_SETFL, fl & ~O_NONBLOCK);
	}
	if (ctl_recv(c, buf, &m, &fd, NULL) != 1)
		_exit(2);
	if (m.type == CTL_PIDFD) {
		int devnull = open("/dev/null", O_RDONLY);
		ctl_send(c, CTL_OK, 42, 0, NULL, 0, devnull);
	} else {
		ctl_send(c, CTL_ERROR, 3, 7, "no such thing", 13, -1);
	}
	_exit(0);
}

static void test_ctl_socket(void **state)
{
	char tmpl[] = "/tmp/moat-ctl-XXXXXX", *dir = mkdtemp(tmpl);
	struct err *e = NULL;
	int dfd, lis, fd = -1, status;
	int32_t a = 0;
	struct stat st;
	pid_t pid;
	char path[256];

	assert_non_null(dir);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	lis = ctl_listen(dfd, &e);
	assert_true(lis >= 0);
	snprintf(path, sizeof(path), "%s/ctl", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600); /* only its owner connects */

	pid = fork();
	if (pid == 0)
		serve_once(lis);
	assert_int_equal(ctl_call(dir, CTL_PIDFD, 0, 0, &a, &fd, &e), 0);
	assert_int_equal(a, 42);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);

	pid = fork();
	if (pid == 0)
		serve_once(lis);
	assert_true(ctl_call(dir, CTL_KILL, 9, 0, NULL, NULL, &e) < 0);
	assert_string_equal(e->msg, "no such thing");
	assert_int_equal(e->code, 3);
	assert_int_equal(e->exit, 7);
	err_free(&e);
	waitpid(pid, &status, 0);

	close(lis);
	unlink(path);
	/* nobody listening */
	assert_true(ctl_call(dir, CTL_WAIT, 0, 0, NULL, NULL, &e) < 0);
	err_free(&e);
	close(dfd);
	rmdir(dir);
}

static char *root_dir(void)
{
	char tmpl[] = "/tmp/moat-names-XXXXXX", *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void make_container(const char *root, const char *id, const char *name)
{
	char dir[512];
	struct container_record r = {.name = (char *)name,
				     .image = "demo",
				     .image_id = "sha256:00",
				     .cwd = "/",
				     .user = "",
				     .hostname = "h",
				     .userns = "single",
				     .net = "none",
				     .seccomp = "default",
				     .restart = "no",
				     .state = CTR_CREATED,
				     .created = 1};
	struct err *e = NULL;

	snprintf(dir, sizeof(dir), "%s/containers/%s", root, id);
	assert_int_equal(fs_mkdir_p(dir, 0700, &e), 0);
	memcpy(r.id, id, 65);
	assert_int_equal(engine_name_reserve(root, name, id, &e), 0);
	assert_int_equal(engine_container_save(root, &r, false, &e), 0);
}

static void test_names(void **state)
{
	char *root = root_dir();
	const char *a = "abc0000000000000000000000000000000000000000000000000000000000001";
	const char *b = "abd0000000000000000000000000000000000000000000000000000000000002";
	char id[65], gen[64];
	struct err *e = NULL;
	struct container_record r;

	make_container(root, a, "web");
	make_container(root, b, "db");
	/* full id, name (with Docker's leading slash), unique prefix */
	assert_int_equal(engine_container_resolve(root, a, id, &e), 0);
	assert_string_equal(id, a);
	assert_int_equal(engine_container_resolve(root, "db", id, &e), 0);
	assert_string_equal(id, b);
	assert_int_equal(engine_container_resolve(root, "/web", id, &e), 0);
	assert_string_equal(id, a);
	assert_int_equal(engine_container_resolve(root, "abd", id, &e), 0);
	assert_string_equal(id, b);
	/* ambiguous, unknown */
	assert_true(engine_container_resolve(root, "ab", id, &e) < 0);
	assert_non_null(strstr(e->msg, "multiple"));
	assert_int_equal(e->exit, 1);
	err_free(&e);
	assert_true(engine_container_resolve(root, "nope", id, &e) < 0);
	assert_non_null(strstr(e->msg, "No such container: nope"));
	err_free(&e);

	/* a taken name, Docker's words; the same id may re-reserve */
	assert_true(engine_name_reserve(root, "web", b, &e) < 0);
	assert_non_null(strstr(e->msg, "is already in use by container"));
	assert_int_equal(e->exit, 125);
	err_free(&e);
	assert_int_equal(engine_name_reserve(root, "web", a, &e), 0);
	assert_true(engine_name_reserve(root, "bad/name", a, &e) < 0);
	err_free(&e);

	/* a stale name (its container renamed away) is reclaimed */
	assert_int_equal(engine_container_load(root, a, &r, &e), 0);
	free(r.name);
	r.name = strdup("web2");
	assert_int_equal(engine_container_save(root, &r, false, &e), 0);
	engine_container_record_free(&r);
	assert_int_equal(engine_name_reserve(root, "web", b, &e), 0);
	assert_int_equal(engine_container_load(root, b, &r, &e), 0);
	free(r.name);
	r.name = strdup("web");
	assert_int_equal(engine_container_save(root, &r, false, &e), 0);
	engine_container_record_free(&r);
	engine_name_release(root, "web", a); /* not a's: stays */
	assert_int_equal(engine_container_resolve(root, "web", id, &e), 0);
	assert_string_equal(id, b);
	engine_name_release(root, "web", b);
	assert_true(engine_container_resolve(root, "web", id, &e) < 0);
	err_free(&e);

	assert_int_equal(engine_name_generate(root, a, gen, &e), 0);
	assert_true(names_valid(gen));
	{
		char link[512], target[128];
		ssize_t n;
		snprintf(link, sizeof(link), "%s/names/%s", root, gen);
		n = readlink(link, target, sizeof(target) - 1);
		assert_int_equal(n, 64);
		target[n] = 0;
		assert_string_equal(target, a);
	}

	/* no monitor: a record that says running is exited now */
	assert_int_equal(engine_container_load(root, b, &r, &e), 0);
	r.state = CTR_RUNNING;
	assert_int_equal(engine_container_state(root, &r), CTR_EXITED);
	r.state = CTR_CREATED;
	assert_int_equal(engine_container_state(root, &r), CTR_CREATED);
	engine_container_record_free(&r);

	fs_rm_rf_at(AT_FDCWD, root, NULL);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl_codec),
	    cmocka_unit_test(test_ctl_socket),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/unit/test_plugin.c - volume/plugin.c, the volume plugin client,
 * run for real:
 *
 *  - against tests/lib/volplugin.py (python3, started here on a unix
 *    socket in a mkdtemp directory, stopped by pid with SIGTERM, which it
 *    must survive cleanly) in each of its modes: the whole volume life
 *    cycle with refcounted mount IDs and a restart, and for every failure
 *    mode the errno and the message prefix; a late-starting plugin
 *    (retries), an absent one (unreachable), a slow one (timeout);
 *  - against a scripted HTTP server in a thread of this process for what
 *    the plugin will not do on demand: oversized replies and headers,
 *    error statuses with and without JSON, the request's shape;
 *  - discovery: the order .sock, NAME/NAME.sock, .spec, .json within a
 *    directory and directories in order, what is passed over and what is
 *    an error, invalid names refused before any path is built, the list of
 *    names, the default search path, MOAT_PLUGIN_TIMEOUT;
 *  - plugin_mountpoint_open: symlinks, files, the deny list, ".." tricks,
 *    MountRoot, moat's state directories (in, under and above), each both
 *    with openat2 and with the fallback walk (MOAT_NO_OPENAT2=1).
 *
 * python3 is a dependency of the test suite (tools/deps.sh): when it is
 * missing the plugin tests FAIL, they are not skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "volume/plugin.h"

#define VOLPLUGIN "tests/lib/volplugin.py"
#define MAX_PIDS 4
/* plugin.c's longest name (not in plugin.h). */
#define PLUGIN_NAME_MAX_TEST 128

struct fx {
	char dir[64];	   /* mkdtemp */
	char plugins[128]; /* DIR/plugins: MOAT_PLUGIN_PATH */
	char sock[160];	   /* DIR/plugins/tp.sock */
	char state[128];   /* DIR/state */
	char log[128];	   /* DIR/log */
	pid_t pids[MAX_PIDS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/moat-plugin-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->plugins, sizeof(f->plugins), "%s/plugins", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/tp.sock", f->plugins);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	if (mkdir(f->plugins, 0700) < 0)
		return -1;
	setenv("MOAT_PLUGIN_PATH", f->plugins, 1);
	unsetenv("MOAT_PLUGIN_TIMEOUT");
	unsetenv("MOAT_PLUGIN_RETRY_SECONDS");
	unsetenv("MOAT_NO_OPENAT2");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct err *err = NULL;

	for (int i = 0; i < MAX_PIDS; i++) {
		if (f->pids[i] <= 0)
			continue;
		kill(f->pids[i], SIGTERM);
		waitpid(f->pids[i], NULL, 0);
	}
	if (fs_rm_rf_at(AT_FDCWD, f->dir, &err) < 0)
		err_free(&err);
	unsetenv("MOAT_PLUGIN_PATH");
	unsetenv("MOAT_PLUGIN_TIMEOUT");
	unsetenv("MOAT_PLUGIN_RETRY_SECONDS");
	unsetenv("MOAT_NO_OPENAT2");
	free(f);
	return 0;
}

/* Starts volplugin.py (after START_DELAY ms, in the child) and returns
 * its pid, remembered in F for teardown. */
static pid_t spawn(struct fx *f, const char *sock, const char *st, const char *mode,
		   const char *delay, const char *mount_root, long start_delay)
{
	const char *argv[16];
	int n = 0, slot;
	pid_t pid;

	for (slot = 0; slot < MAX_PIDS && f->pids[slot] > 0; slot++)
		;
	assert_true(slot < MAX_PIDS);
	argv[n++] = "python3";
	argv[n++] = VOLPLUGIN;
	argv[n++] = "--socket";
	argv[n++] = sock;
	argv[n++] = "--state";
	argv[n++] = st;
	argv[n++] = "--log";
	argv[n++] = f->log;
	argv[n++] = "--mode";
	argv[n++] = mode;
	if (delay) {
		argv[n++] = "--delay";
		argv[n++] = delay;
	}
	if (mount_root) {
		argv[n++] = "--mount-root";
		argv[n++] = mount_root;
	}
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (start_delay)
			sleep_ms(start_delay);
		execvp("python3", (char *const *)argv);
		fprintf(stderr, "test_plugin: cannot run python3: %s\n", strerror(errno));
		_exit(127);
	}
	f->pids[slot] = pid;
	return pid;
}

static void forget(struct fx *f, pid_t pid)
{
	for (int i = 0; i < MAX_PIDS; i++)
		if (f->pids[i] == pid)
			f->pids[i] = 0;
}

/* Waits for PID's socket; a plugin that exits first (python3 missing,
 * a crash) fails the test. */
static void wait_socket(pid_t pid, const char *sock)
{
	struct stat st;
	int status;

	for (int i = 0; i < 1000; i++) {
		if (lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return;
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("volplugin.py exited before listening (status %#x): is python3 "
				 "installed (tools/deps.sh)?",
				 status);
		sleep_ms(10);
	}
	fail_msg("volplugin.py did not create %s in 10 s", sock);
}

static pid_t start(struct fx *f, const char *mode, const char *delay)
{
	pid_t pid = spawn(f, f->sock, f->state, mode, delay, NULL, 0);

	wait_socket(pid, f->sock);
	return pid;
}

/* SIGTERM: the plugin must exit 0 and remove its socket. */
static void stop(struct fx *f, pid_t pid, const char *sock)
{
	struct stat st;
	int status = 0;

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	forget(f, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("volplugin.py did not exit cleanly on SIGTERM (status %#x)", status);
	assert_int_equal(lstat(sock, &st), -1);
}

static struct plugin *find_ok(const char *name)
{
	struct plugin *p = NULL;
	struct err *err = NULL;

	if (plugin_find(name, &p, &err) < 0)
		fail_msg("plugin_find(%s): %s", name, err->msg);
	assert_non_null(p);
	assert_null(err);
	return p;
}

/* ERR holds CODE and a message that starts with PREFIX. */
static void expect(int r, struct err **err, int code, const char *prefix)
{
	if (r >= 0)
		fail_msg("succeeded; wanted errno %d \"%s...\"", code, prefix);
	assert_non_null(*err);
	if (r != -code || (*err)->code != code || strncmp((*err)->msg, prefix, strlen(prefix)))
		fail_msg("want errno %d \"%s...\"\n  got errno %d/%d \"%s\"", code, prefix, -r,
			 (*err)->code, (*err)->msg);
	err_free(err);
}

/* Calls of METHOD in the plugin's log; their IDs ("," joined) in IDS. */
static int count_calls(const char *log, const char *method, char *ids, size_t size)
{
	_cleanup_fclose_ FILE *fp = fopen(log, "r");
	char line[8192];
	int n = 0;

	if (ids)
		ids[0] = '\0';
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		json_t *j = json_loads(line, 0, NULL), *m, *id;

		assert_non_null(j);
		m = json_object_get(j, "method");
		if (json_is_string(m) && !strcmp(json_string_value(m), method)) {
			n++;
			id = json_object_get(json_object_get(j, "body"), "ID");
			if (ids && json_is_string(id))
				snprintf(ids + strlen(ids), size - strlen(ids), "%s%s",
					 ids[0] ? "," : "", json_string_value(id));
		}
		json_decref(j);
	}
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* A socket inode at PATH (nothing listens on it). */
static void make_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

/* ---- against volplugin.py ---- */

static void test_lifecycle(void **state)
{
	struct fx *f = *state;
	char *const opts[] = {(char *)"size=1G", (char *)"flag", (char *)"a=b=c", NULL};
	const char *const state_dirs[] = {"/var/lib/moat-test-none", NULL};
	struct plugin *p = NULL;
	struct plugin_volume v = {0}, *vols = NULL;
	struct err *err = NULL;
	char *mp = NULL, *mp2 = NULL, *scope = NULL, want[256], ids[256];
	struct stat a, b;
	bool found = false;
	size_t n = 0;
	pid_t pid;
	int fd;

	pid = start(f, "ok", NULL);
	p = find_ok("tp");
	snprintf(want, sizeof(want), "unix://%s", f->sock);
	assert_string_equal(p->addr, want);
	assert_string_equal(p->found_in, f->sock);
	assert_string_equal(p->name, "tp");
	assert_null(p->mount_root);
	assert_int_equal(p->timeout_s, 30);
	assert_int_equal(p->retry_s, 15);
	assert_false(p->activated);

	assert_int_equal(plugin_volume_create(p, "v1", opts, &err), 0);
	assert_true(p->activated);
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), 0); /* idempotent */
	assert_int_equal(plugin_capabilities(p, &scope, &err), 0);
	assert_string_equal(scope, "local");
	free(scope);

	assert_int_equal(plugin_volume_get(p, "v1", &v, &found, &err), 0);
	assert_true(found);
	assert_string_equal(v.name, "v1");
	snprintf(want, sizeof(want), "%s/mnt/v1", f->state);
	assert_string_equal(v.mountpoint, want);
	assert_non_null(v.created_at);
	assert_string_equal(v.status, "{\"ids\":0}");
	plugin_volume_free(&v);
	expect(plugin_volume_get(p, "nope", &v, &found, &err), &err, EREMOTEIO,
	       "volume plugin tp: no such volume");
	assert_false(found);
	assert_null(v.name);

	assert_int_equal(plugin_volume_list(p, &vols, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(vols[0].name, "v1");
	plugin_volume_free(&vols[0]);
	free(vols);

	/* Two mounts by two IDs: one mountpoint, refcounted. */
	assert_int_equal(plugin_volume_mount(p, "v1", "c1", &mp, &err), 0);
	assert_string_equal(mp, want);
	fd = plugin_mountpoint_open(p, mp, state_dirs, &err);
	if (fd < 0)
		fail_msg("mountpoint_open: %s", err->msg);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(want, &b), 0);
	assert_true(S_ISDIR(a.st_mode));
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	assert_int_equal(plugin_volume_mount(p, "v1", "c2", &mp2, &err), 0);
	assert_string_equal(mp2, mp);
	free(mp2);
	assert_int_equal(plugin_volume_path(p, "v1", &mp2, &err), 0);
	assert_string_equal(mp2, mp);
	free(mp2);
	free(mp);

	expect(plugin_volume_remove(p, "v1", &err), &err, EREMOTEIO,
	       "volume plugin tp: volume v1 is in use");
	assert_int_equal(plugin_volume_unmount(p, "v1", "c1", &err), 0);
	expect(plugin_volume_remove(p, "v1", &err), &err, EREMOTEIO,
	       "volume plugin tp: volume v1 is in use");
	assert_int_equal(plugin_volume_unmount(p, "v1", "c2", &err), 0);
	assert_int_equal(plugin_volume_remove(p, "v1", &err), 0);
	expect(plugin_volume_get(p, "v1", &v, &found, &err), &err, EREMOTEIO,
	       "volume plugin tp: no such volume");
	expect(plugin_volume_mount(p, "v1", "c1", &mp, &err), &err, EREMOTEIO,
	       "volume plugin tp: no such volume");
	assert_null(mp);

	/* Bad arguments never reach the plugin. */
	expect(plugin_volume_mount(p, "v1", "", &mp, &err), &err, EINVAL, "volume plugin tp: ");
	expect(plugin_volume_create(p, NULL, NULL, &err), &err, EINVAL, "volume plugin tp: ");

	/* What the plugin saw: one Activate for this struct plugin, the
	 * options as an object, the IDs. */
	assert_int_equal(count_calls(f->log, "Plugin.Activate", NULL, 0), 1);
	assert_int_equal(count_calls(f->log, "VolumeDriver.Create", NULL, 0), 2);
	assert_int_equal(count_calls(f->log, "VolumeDriver.Mount", ids, sizeof(ids)), 3);
	assert_string_equal(ids, "c1,c2,c1");
	assert_int_equal(count_calls(f->log, "VolumeDriver.Unmount", ids, sizeof(ids)), 2);
	assert_string_equal(ids, "c1,c2");
	{
		_cleanup_fclose_ FILE *fp = fopen(f->log, "r");
		char line[4096];
		bool seen = false;

		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp))
			if (strstr(line, "\"VolumeDriver.Create\"") &&
			    strstr(line, "\"Opts\": {\"size\": \"1G\", \"flag\": \"\", \"a\": "
					 "\"b=c\"}"))
				seen = true;
		assert_true(seen);
	}
	plugin_free(p);

	/* A restarted plugin keeps its volumes; a new struct plugin
	 * activates again. */
	p = find_ok("tp");
	assert_int_equal(plugin_volume_create(p, "v2", NULL, &err), 0);
	assert_int_equal(plugin_volume_mount(p, "v2", "c9", &mp, &err), 0);
	free(mp);
	plugin_free(p);
	stop(f, pid, f->sock);
	pid = start(f, "ok", NULL);
	p = find_ok("tp");
	assert_int_equal(plugin_volume_get(p, "v2", &v, &found, &err), 0);
	assert_true(found);
	plugin_volume_free(&v);
	expect(plugin_volume_remove(p, "v2", &err), &err, EREMOTEIO,
	       "volume plugin tp: volume v2 is in use");
	assert_int_equal(count_calls(f->log, "Plugin.Activate", NULL, 0), 3);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_error(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	char *mp = NULL, *scope = NULL;
	struct plugin_volume *vols = NULL;
	size_t n = 0;
	pid_t pid = start(f, "error", NULL);

	p = find_ok("tp");
	expect(plugin_volume_create(p, "v1", NULL, &err), &err, EREMOTEIO,
	       "volume plugin tp: injected failure");
	assert_true(p->activated); /* Activate itself worked */
	expect(plugin_volume_mount(p, "v1", "c1", &mp, &err), &err, EREMOTEIO,
	       "volume plugin tp: injected failure");
	assert_null(mp);
	expect(plugin_volume_list(p, &vols, &n, &err), &err, EREMOTEIO,
	       "volume plugin tp: injected failure");
	assert_null(vols);
	expect(plugin_capabilities(p, &scope, &err), &err, EREMOTEIO,
	       "volume plugin tp: injected failure");
	assert_null(scope);
	assert_int_equal(plugin_volume_unmount(p, "v1", "c1", &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin tp: injected failure");
	err_free(&err);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_malformed(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	char *mp = NULL;
	pid_t pid = start(f, "malformed", NULL);

	p = find_ok("tp");
	expect(plugin_volume_mount(p, "v1", "c1", &mp, &err), &err, EPROTO,
	       "volume plugin tp: malformed reply to VolumeDriver.Mount: not JSON");
	assert_null(mp);
	expect(plugin_volume_create(p, "v1", NULL, &err), &err, EPROTO,
	       "volume plugin tp: malformed reply to VolumeDriver.Create: ");
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_crash_mount(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	char *mp = NULL, want[256];
	int status = 0;
	int64_t t0;
	pid_t pid = start(f, "crash-mount", NULL);

	setenv("MOAT_PLUGIN_TIMEOUT", "1", 1);
	p = find_ok("tp");
	assert_int_equal(p->timeout_s, 1);
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), 0);
	expect(plugin_volume_mount(p, "v1", "c1", &mp, &err), &err, EIO,
	       "volume plugin tp: no reply to VolumeDriver.Mount: ");
	assert_null(mp);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	forget(f, pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	/* It reached the plugin once: never retried. */
	assert_int_equal(count_calls(f->log, "VolumeDriver.Mount", NULL, 0), 1);

	/* The socket is left behind, nobody listens: refused, retried for
	 * the whole budget. */
	snprintf(want, sizeof(want),
		 "volume plugin tp: not reachable at unix://%s: Connection refused", f->sock);
	t0 = now_ms();
	expect(plugin_volume_unmount(p, "v1", "c1", &err), &err, ECONNREFUSED, want);
	assert_true(now_ms() - t0 >= 900);
	assert_true(now_ms() - t0 < 2500);
	plugin_free(p);
}

static void test_mode_outside(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	char *mp = NULL;
	pid_t pid = start(f, "outside", NULL);

	p = find_ok("tp");
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), 0);
	/* The call succeeds: the mountpoint is judged by mountpoint_open. */
	assert_int_equal(plugin_volume_mount(p, "v1", "c1", &mp, &err), 0);
	assert_string_equal(mp, "/etc");
	expect(plugin_mountpoint_open(p, mp, NULL, &err), &err, EPERM,
	       "volume plugin tp: mountpoint \"/etc\" is in /etc");
	free(mp);
	assert_int_equal(plugin_volume_path(p, "v1", &mp, &err), 0);
	assert_string_equal(mp, "/etc");
	free(mp);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_file_symlink(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	char *mp = NULL, real[256];
	int fd;
	pid_t pid = start(f, "file", NULL);

	p = find_ok("tp");
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), 0);
	assert_int_equal(plugin_volume_mount(p, "v1", "c1", &mp, &err), 0);
	expect(plugin_mountpoint_open(p, mp, NULL, &err), &err, ENOTDIR,
	       "volume plugin tp: mountpoint \"");
	setenv("MOAT_NO_OPENAT2", "1", 1);
	expect(plugin_mountpoint_open(p, mp, NULL, &err), &err, ENOTDIR,
	       "volume plugin tp: mountpoint \"");
	unsetenv("MOAT_NO_OPENAT2");
	free(mp);
	plugin_free(p);
	stop(f, pid, f->sock);

	pid = start(f, "symlink", NULL);
	p = find_ok("tp");
	assert_int_equal(plugin_volume_mount(p, "v1", "c2", &mp, &err), 0);
	snprintf(real, sizeof(real), "%s/link-v1", f->state);
	assert_string_equal(mp, real);
	for (int fallback = 0; fallback < 2; fallback++) {
		if (fallback)
			setenv("MOAT_NO_OPENAT2", "1", 1);
		expect(plugin_mountpoint_open(p, mp, NULL, &err), &err, ELOOP,
		       "volume plugin tp: mountpoint \"");
		/* The directory the link points to is fine: the link is what
		 * is refused. */
		snprintf(real, sizeof(real), "%s/mnt/v1", f->state);
		fd = plugin_mountpoint_open(p, real, NULL, &err);
		if (fd < 0)
			fail_msg("%s", err->msg);
		close(fd);
	}
	unsetenv("MOAT_NO_OPENAT2");
	free(mp);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_http500(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	pid_t pid = start(f, "http500", NULL);

	p = find_ok("tp");
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin tp: HTTP 500: internal meltdown");
	err_free(&err);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_no_volumedriver(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	pid_t pid = start(f, "no-volumedriver", NULL);

	p = find_ok("tp");
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), -ENOTSUP);
	assert_string_equal(err->msg, "volume plugin tp: does not implement VolumeDriver "
				      "(implements: NetworkDriver)");
	err_free(&err);
	assert_false(p->activated);
	/* Every call tries Activate again, and none goes further. */
	expect(plugin_volume_remove(p, "v1", &err), &err, ENOTSUP,
	       "volume plugin tp: does not implement VolumeDriver");
	assert_int_equal(count_calls(f->log, "Plugin.Activate", NULL, 0), 2);
	assert_int_equal(count_calls(f->log, "VolumeDriver.Create", NULL, 0), 0);
	assert_int_equal(count_calls(f->log, "VolumeDriver.Remove", NULL, 0), 0);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_mode_slow(void **state)
{
	struct fx *f = *state;
	struct plugin *p;
	struct err *err = NULL;
	int64_t t0, dt;
	pid_t pid = start(f, "slow", "5");

	setenv("MOAT_PLUGIN_TIMEOUT", "1", 1);
	p = find_ok("tp");
	t0 = now_ms();
	expect(plugin_volume_create(p, "v1", NULL, &err), &err, ETIMEDOUT,
	       "volume plugin tp: timed out after 1s calling VolumeDriver.Create");
	dt = now_ms() - t0;
	if (dt < 900 || dt > 2000)
		fail_msg("timed out after %lld ms, want ~1000", (long long)dt);
	/* Connected, then timed out: not retried. */
	assert_int_equal(count_calls(f->log, "VolumeDriver.Create", NULL, 0), 1);
	plugin_free(p);
	stop(f, pid, f->sock);

	/* Slow but within the budget: fine. */
	pid = start(f, "slow", "0.3");
	setenv("MOAT_PLUGIN_TIMEOUT", "3", 1);
	p = find_ok("tp");
	t0 = now_ms();
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), 0);
	assert_true(now_ms() - t0 >= 250);
	plugin_free(p);
	stop(f, pid, f->sock);
}

static void test_retry_late_start(void **state)
{
	struct fx *f = *state;
	char spec[256], late[256], sock[256], text[300];
	struct plugin *p;
	struct err *err = NULL;
	int64_t t0, dt;
	pid_t pid;

	/* Found through a .spec, so discovery needs no socket yet. */
	path_in(late, sizeof(late), f->dir, "late");
	assert_int_equal(mkdir(late, 0700), 0);
	path_in(sock, sizeof(sock), late, "late.sock");
	path_in(spec, sizeof(spec), f->plugins, "late.spec");
	snprintf(text, sizeof(text), "unix://%s\n", sock);
	write_file(spec, text);
	p = find_ok("late");
	assert_string_equal(p->found_in, spec);

	t0 = now_ms();
	pid = spawn(f, sock, f->state, "ok", NULL, NULL, 300);
	if (plugin_volume_create(p, "v1", NULL, &err) < 0)
		fail_msg("create with a late plugin: %s", err->msg);
	dt = now_ms() - t0;
	if (dt < 300 || dt > 10000)
		fail_msg("took %lld ms", (long long)dt);
	assert_int_equal(count_calls(f->log, "Plugin.Activate", NULL, 0), 1);
	assert_int_equal(count_calls(f->log, "VolumeDriver.Create", NULL, 0), 1);
	plugin_free(p);
	stop(f, pid, sock);
}

static void test_unreachable(void **state)
{
	struct fx *f = *state;
	char spec[256], text[300], want[400];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct plugin *p;
	struct err *err = NULL;
	int64_t t0, dt;
	int s;

	setenv("MOAT_PLUGIN_TIMEOUT", "1", 1);
	path_in(spec, sizeof(spec), f->plugins, "gone.spec");
	snprintf(text, sizeof(text), "unix://%s/gone.sock", f->dir);
	write_file(spec, text);
	p = find_ok("gone");
	snprintf(
	    want, sizeof(want),
	    "volume plugin gone: not reachable at unix://%s/gone.sock: No such file or directory",
	    f->dir);
	t0 = now_ms();
	expect(plugin_volume_create(p, "v1", NULL, &err), &err, ECONNREFUSED, want);
	dt = now_ms() - t0;
	/* 100 + 200 + 400 ms of backoff at least, and the budget at most. */
	if (dt < 700 || dt > 2000)
		fail_msg("gave up after %lld ms", (long long)dt);
	plugin_free(p);

	/* A loopback TCP port nobody listens on (bound, then closed). */
	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	snprintf(text, sizeof(text), "tcp://127.0.0.1:%d\n", ntohs(sa.sin_port));
	write_file(spec, text);
	p = find_ok("gone");
	snprintf(want, sizeof(want),
		 "volume plugin gone: not reachable at tcp://127.0.0.1:%d: ", ntohs(sa.sin_port));
	expect(plugin_volume_create(p, "v1", NULL, &err), &err, ECONNREFUSED, want);
	plugin_free(p);
}

/* What a discovered plugin that never starts costs: the retry budget
 * (MOAT_PLUGIN_RETRY_SECONDS, within the timeout), said in the error. */
static void test_retry_budget(void **state)
{
	struct fx *f = *state;
	char spec[256], text[300], want[400];
	static const char *const bad[] = {"-1", "abc", "1.5", "601", " 2", "2s"};
	struct plugin *p = NULL;
	struct err *err = NULL;
	int64_t t0, dt;

	path_in(spec, sizeof(spec), f->plugins, "never.spec");
	snprintf(text, sizeof(text), "unix://%s/never.sock\n", f->dir);
	write_file(spec, text);
	snprintf(want, sizeof(want),
		 "volume plugin never: not reachable at unix://%s/never.sock: No such file or "
		 "directory",
		 f->dir);

	/* The default, and the values taken. */
	p = find_ok("never");
	assert_int_equal(p->retry_s, 15);
	plugin_free(p);
	setenv("MOAT_PLUGIN_RETRY_SECONDS", "", 1);
	p = find_ok("never");
	assert_int_equal(p->retry_s, 15);
	plugin_free(p);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char msg[200];

		setenv("MOAT_PLUGIN_RETRY_SECONDS", bad[i], 1);
		snprintf(msg, sizeof(msg),
			 "volume plugin never: MOAT_PLUGIN_RETRY_SECONDS=\"%s\" is not a whole "
			 "number of seconds from 0 to 600",
			 bad[i]);
		expect(plugin_find("never", &p, &err), &err, EINVAL, msg);
		assert_null(p);
	}

	/* 1 s of retries, measured and said. */
	setenv("MOAT_PLUGIN_RETRY_SECONDS", "1", 1);
	p = find_ok("never");
	assert_int_equal(p->retry_s, 1);
	t0 = now_ms();
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), -ECONNREFUSED);
	dt = now_ms() - t0;
	if (dt < 950 || dt > 1600)
		fail_msg("gave up after %lld ms, want ~1000", (long long)dt);
	if (strncmp(err->msg, want, strlen(want)) ||
	    strncmp(err->msg + strlen(want), " (retried for 1.", 16) ||
	    strcmp(err->msg + strlen(err->msg) - 2, "s)"))
		fail_msg("got \"%s\"", err->msg);
	err_free(&err);
	plugin_free(p);

	/* 0: one attempt, at once, and nothing said about waiting. */
	setenv("MOAT_PLUGIN_RETRY_SECONDS", "0", 1);
	p = find_ok("never");
	t0 = now_ms();
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), -ECONNREFUSED);
	dt = now_ms() - t0;
	if (dt > 300)
		fail_msg("one attempt took %lld ms", (long long)dt);
	assert_string_equal(err->msg, want);
	err_free(&err);
	/* A caller can take the retries away from a plugin it found. */
	plugin_free(p);
	unsetenv("MOAT_PLUGIN_RETRY_SECONDS");
	p = find_ok("never");
	p->retry_s = 0;
	t0 = now_ms();
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), -ECONNREFUSED);
	assert_true(now_ms() - t0 <= 300);
	err_free(&err);
	plugin_free(p);

	/* The timeout still bounds the whole call: 15 s of retries, 1 s of
	 * timeout. */
	setenv("MOAT_PLUGIN_TIMEOUT", "1", 1);
	p = find_ok("never");
	assert_int_equal(p->retry_s, 15);
	t0 = now_ms();
	assert_int_equal(plugin_volume_create(p, "v1", NULL, &err), -ECONNREFUSED);
	dt = now_ms() - t0;
	if (dt < 950 || dt > 1600)
		fail_msg("gave up after %lld ms, want ~1000 (the timeout)", (long long)dt);
	err_free(&err);
	plugin_free(p);

	/* Nothing discovered: not found at once, whatever the budget. */
	unsetenv("MOAT_PLUGIN_TIMEOUT");
	setenv("MOAT_PLUGIN_RETRY_SECONDS", "30", 1);
	t0 = now_ms();
	expect(plugin_find("absent", &p, &err), &err, ENOENT, "volume plugin absent not found");
	assert_true(now_ms() - t0 < 300);
	assert_null(p);
}

static void test_tcp_and_tls_refused(void **state)
{
	struct fx *f = *state;
	char path[256];
	struct plugin *p = NULL, hand = {0};
	struct err *err = NULL;

	path_in(path, sizeof(path), f->plugins, "far.spec");
	write_file(path, "tcp://10.1.2.3:80\n");
	expect(plugin_find("far", &p, &err), &err, EPERM,
	       "volume plugin far: tcp address 10.1.2.3 is not loopback; moat only talks to "
	       "remote plugins over TLS, which it does not support yet");
	assert_null(p);
	write_file(path, "tcp://[::2]:80\n");
	expect(plugin_find("far", &p, &err), &err, EPERM,
	       "volume plugin far: tcp address [::2] is not loopback");
	write_file(path, "tcp://localhost.example.com:80\n");
	expect(plugin_find("far", &p, &err), &err, EPERM, "volume plugin far: tcp address ");
	/* Loopback in every spelling moat accepts. */
	write_file(path, "tcp://[::1]:80\n");
	p = find_ok("far");
	plugin_free(p);
	write_file(path, "tcp://LocalHost:80\n");
	p = find_ok("far");
	plugin_free(p);

	/* A struct plugin made by hand is checked when it is called:
	 * nothing is sent. */
	hand.name = (char *)"hand";
	hand.addr = (char *)"tcp://10.1.2.3:80";
	hand.timeout_s = 1;
	expect(plugin_volume_create(&hand, "v1", NULL, &err), &err, EPERM,
	       "volume plugin hand: tcp address 10.1.2.3 is not loopback");
	hand.addr = (char *)"http://127.0.0.1:80";
	expect(plugin_volume_create(&hand, "v1", NULL, &err), &err, EINVAL,
	       "volume plugin hand: unsupported address");

	unlink(path);
	path_in(path, sizeof(path), f->plugins, "tls.json");
	write_file(path, "{\"Name\": \"tls\", \"Addr\": \"tcp://127.0.0.1:9\", \"TLSConfig\": "
			 "{\"InsecureSkipVerify\": false, \"CAFile\": \"/ca.pem\"}}");
	expect(plugin_find("tls", &p, &err), &err, ENOTSUP, "volume plugin tls: ");
	write_file(path, "{\"Addr\": \"tcp://192.168.1.1:9\"}");
	expect(plugin_find("tls", &p, &err), &err, EPERM,
	       "volume plugin tls: tcp address 192.168.1.1 is not loopback");
}

/* ---- a scripted server in a thread ---- */

struct canned_reply {
	const char *head; /* status line, headers, maybe a body */
	size_t stream;	  /* then this many more bytes of 'x' */
};

struct canned {
	int lfd;
	char path[200];
	const struct canned_reply *replies;
	size_t n;
	char reqs[8][2048]; /* request head + body, as received */
	size_t nreq;
	pthread_t th;
};

static void *canned_main(void *ud)
{
	struct canned *c = ud;

	for (size_t i = 0; i < c->n; i++) {
		struct pollfd pfd = {c->lfd, POLLIN, 0};
		char *req = c->reqs[i < 8 ? i : 7];
		size_t got = 0, need = 0;
		int cfd;

		if (poll(&pfd, 1, 10000) != 1)
			break;
		cfd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		/* The head, then Content-Length bytes of body. */
		for (;;) {
			char *end;
			ssize_t r;

			if (got >= 2047)
				break;
			r = read(cfd, req + got, 2047 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			end = strstr(req, "\r\n\r\n");
			if (end) {
				char *cl = strcasestr(req, "Content-Length:");

				need =
				    (size_t)(end + 4 - req) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
				if (got >= need)
					break;
			}
		}
		c->nreq++;
		if (send(cfd, c->replies[i].head, strlen(c->replies[i].head), MSG_NOSIGNAL) >= 0) {
			static char chunk[65536];
			size_t left = c->replies[i].stream;

			memset(chunk, 'x', sizeof(chunk));
			while (left) {
				size_t k = left < sizeof(chunk) ? left : sizeof(chunk);

				if (send(cfd, chunk, k, MSG_NOSIGNAL) < 0)
					break;
				left -= k;
			}
		}
		close(cfd);
	}
	return NULL;
}

static void canned_start(struct fx *f, struct canned *c, const struct canned_reply *r, size_t n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s/canned.sock", f->dir);
	unlink(c->path);
	strcpy(sa.sun_path, c->path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->lfd >= 0);
	assert_int_equal(bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(c->lfd, 8), 0);
	c->replies = r;
	c->n = n;
	assert_int_equal(pthread_create(&c->th, NULL, canned_main, c), 0);
}

static void canned_stop(struct canned *c)
{
	shutdown(c->lfd, SHUT_RDWR);
	pthread_join(c->th, NULL);
	close(c->lfd);
}

#define ACTIVATE_OK                                                                               \
	{                                                                                         \
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 32\r\n\r\n" \
		"{\"Implements\": [\"VolumeDriver\"]}",                                           \
		    0                                                                             \
	}

static void canned_plugin(struct canned *c, struct plugin *p, char *addr, size_t size)
{
	snprintf(addr, size, "unix://%s", c->path);
	*p = (struct plugin){.name = (char *)"canned", .addr = addr, .timeout_s = 3};
}

static void test_canned_request_shape(void **state)
{
	static const struct canned_reply r[] = {
	    ACTIVATE_OK,
	    {"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"Err\": \"\"}", 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"Volume\": null}", 0},
	};
	struct canned c;
	struct plugin p;
	struct plugin_volume v = {0};
	struct err *err = NULL;
	char addr[256];
	bool found = true;

	canned_start(*state, &c, r, 3);
	canned_plugin(&c, &p, addr, sizeof(addr));
	assert_int_equal(plugin_volume_mount(&p, "v", "id", &(char *){NULL}, &err), -EPROTO);
	/* ^ Activate OK, then Mount got {"Err": ""} without a Mountpoint. */
	assert_non_null(
	    strstr(err->msg, "malformed reply to VolumeDriver.Mount: no \"Mountpoint\""));
	err_free(&err);
	/* Get with a null Volume: not found, and no error. */
	assert_int_equal(plugin_volume_get(&p, "v", &v, &found, &err), 0);
	assert_false(found);
	assert_null(v.name);
	canned_stop(&c);

	assert_int_equal(c.nreq, 3);
	assert_non_null(strstr(c.reqs[0], "POST /Plugin.Activate HTTP/1.1\r\n"));
	assert_non_null(strstr(c.reqs[0], "Content-Length: 0\r\n"));
	assert_non_null(strstr(c.reqs[1], "POST /VolumeDriver.Mount HTTP/1.1\r\n"));
	assert_non_null(
	    strcasestr(c.reqs[1], "\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"));
	assert_non_null(strstr(c.reqs[1], "\r\n\r\n{\"Name\":\"v\",\"ID\":\"id\"}"));
	assert_non_null(strstr(c.reqs[2], "POST /VolumeDriver.Get HTTP/1.1\r\n"));
	assert_non_null(strstr(c.reqs[2], "\r\n\r\n{\"Name\":\"v\"}"));
}

static void test_canned_errors(void **state)
{
	static const struct canned_reply r[] = {
	    ACTIVATE_OK,
	    /* 404 with a JSON Err: the Err. */
	    {"HTTP/1.1 404 Not Found\r\nContent-Length: 28\r\n\r\n{\"Err\": \"no \\u001b[2J "
	     "such\"}",
	     0},
	    /* 500 with no body at all. */
	    {"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 0},
	    /* a redirect is not followed */
	    {"HTTP/1.1 307 Moved\r\nLocation: http://127.0.0.2/x\r\nContent-Length: 5\r\n\r\nmoved",
	     0},
	    /* 200 with text */
	    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0},
	    /* not HTTP */
	    {"SSH-2.0-OpenSSH_9.2\r\n", 0},
	    /* 403 with a long first line full of escapes */
	    {"HTTP/1.1 403 Forbidden\r\nContent-Length: 14\r\n\r\nno\x1b]0;x\x07\r\nmore", 0},
	};
	struct canned c;
	struct plugin p;
	struct err *err = NULL;
	char addr[256];

	canned_start(*state, &c, r, ARRAY_SIZE(r));
	canned_plugin(&c, &p, addr, sizeof(addr));
	assert_int_equal(plugin_volume_remove(&p, "v", &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin canned: no \\x1b[2J such");
	err_free(&err);
	assert_int_equal(plugin_volume_remove(&p, "v", &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin canned: HTTP 500: (no body)");
	err_free(&err);
	assert_int_equal(plugin_volume_remove(&p, "v", &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin canned: HTTP 307: moved");
	err_free(&err);
	expect(plugin_volume_remove(&p, "v", &err), &err, EPROTO,
	       "volume plugin canned: malformed reply to VolumeDriver.Remove: not JSON");
	expect(plugin_volume_remove(&p, "v", &err), &err, EPROTO,
	       "volume plugin canned: malformed reply to VolumeDriver.Remove: ");
	assert_int_equal(plugin_volume_remove(&p, "v", &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin canned: HTTP 403: no\\x1b]0;x\\x07");
	err_free(&err);
	canned_stop(&c);
	assert_int_equal(c.nreq, ARRAY_SIZE(r));
}

static void test_canned_activate(void **state)
{
	static const struct canned_reply r[] = {
	    {"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"Err\": \"not today\"}", 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"Implements\": 1}", 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0},
	};
	struct canned c;
	struct plugin p;
	struct err *err = NULL;
	char addr[256];

	canned_start(*state, &c, r, ARRAY_SIZE(r));
	canned_plugin(&c, &p, addr, sizeof(addr));
	assert_int_equal(plugin_volume_remove(&p, "v", &err), -EREMOTEIO);
	assert_string_equal(err->msg, "volume plugin canned: not today");
	err_free(&err);
	expect(plugin_volume_remove(&p, "v", &err), &err, EPROTO,
	       "volume plugin canned: malformed reply to Plugin.Activate: \"Implements\" must be");
	assert_int_equal(plugin_volume_remove(&p, "v", &err), -ENOTSUP);
	assert_string_equal(err->msg,
			    "volume plugin canned: does not implement VolumeDriver (implements: "
			    "nothing)");
	err_free(&err);
	assert_false(p.activated);
	canned_stop(&c);
}

static void test_canned_caps(void **state)
{
	/* Content-Length past the cap: refused at the header. Then a body
	 * with no length that streams past the cap: cut off by moat. Then
	 * 300 KiB of headers. */
	static char many_headers[310 * 1024];
	static struct canned_reply r[] = {
	    ACTIVATE_OK,
	    {"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n{\"Mountpoint\": \"/", 5000000},
	    {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"Mountpoint\": \"/", 6000000},
	    {many_headers, 0},
	    {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"Mountpoint\": \"/m\"}", 0},
	};
	struct canned c;
	struct plugin p;
	struct err *err = NULL;
	char addr[256], *mp = NULL;
	size_t o;

	o = (size_t)sprintf(many_headers, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; o + 200 < sizeof(many_headers); i++)
		o += (size_t)sprintf(many_headers + o, "X-Filler-%06d: %060d\r\n", i, i);
	sprintf(many_headers + o, "Content-Length: 2\r\n\r\n{}");

	canned_start(*state, &c, r, ARRAY_SIZE(r));
	canned_plugin(&c, &p, addr, sizeof(addr));
	expect(plugin_volume_mount(&p, "v", "i", &mp, &err), &err, EPROTO,
	       "volume plugin canned: malformed reply to VolumeDriver.Mount: the reply is larger "
	       "than 4194304 bytes");
	expect(plugin_volume_mount(&p, "v", "i", &mp, &err), &err, EPROTO,
	       "volume plugin canned: malformed reply to VolumeDriver.Mount: the reply is larger "
	       "than 4194304 bytes");
	expect(plugin_volume_mount(&p, "v", "i", &mp, &err), &err, EPROTO,
	       "volume plugin canned: malformed reply to VolumeDriver.Mount: the reply's header is "
	       "larger than 262144 bytes");
	assert_null(mp);
	/* A body delimited by the connection's close is fine otherwise. */
	assert_int_equal(plugin_volume_mount(&p, "v", "i", &mp, &err), 0);
	assert_string_equal(mp, "/m");
	free(mp);
	canned_stop(&c);
}

/* ---- discovery ---- */

static void test_discovery_order(void **state)
{
	struct fx *f = *state;
	char a[200], b[200], sock[256], spec[256], js[256], sub[256], subsock[256], tmp[512];
	struct plugin *p;
	struct err *err = NULL;

	snprintf(a, sizeof(a), "%s", f->plugins);
	path_in(b, sizeof(b), f->dir, "b");
	assert_int_equal(mkdir(b, 0700), 0);
	path_in(sock, sizeof(sock), a, "tp.sock");
	path_in(spec, sizeof(spec), a, "tp.spec");
	path_in(js, sizeof(js), a, "tp.json");
	make_socket(sock);
	write_file(spec, "  unix:///x/spec.sock  \n");
	write_file(js, "{\"Name\": \"tp\", \"Addr\": \"unix:///x/json.sock\", \"MountRoot\": "
		       "\"/srv/tp\", \"Unknown\": [1]}");

	/* .sock beats .spec beats .json */
	p = find_ok("tp");
	assert_string_equal(p->found_in, sock);
	snprintf(tmp, sizeof(tmp), "unix://%s", sock);
	assert_string_equal(p->addr, tmp);
	plugin_free(p);
	unlink(sock);
	p = find_ok("tp");
	assert_string_equal(p->found_in, spec);
	assert_string_equal(p->addr, "unix:///x/spec.sock");
	assert_null(p->mount_root);
	plugin_free(p);
	unlink(spec);
	p = find_ok("tp");
	assert_string_equal(p->found_in, js);
	assert_string_equal(p->addr, "unix:///x/json.sock");
	assert_string_equal(p->mount_root, "/srv/tp");
	plugin_free(p);

	/* A NAME.sock that is not a socket is passed over. */
	write_file(sock, "stale");
	p = find_ok("tp");
	assert_string_equal(p->found_in, js);
	plugin_free(p);
	unlink(sock);

	/* NAME/NAME.sock, after NAME.sock, before .spec/.json. */
	path_in(sub, sizeof(sub), a, "tp");
	assert_int_equal(mkdir(sub, 0700), 0);
	path_in(subsock, sizeof(subsock), sub, "tp.sock");
	make_socket(subsock);
	p = find_ok("tp");
	assert_string_equal(p->found_in, subsock);
	plugin_free(p);
	make_socket(sock);
	p = find_ok("tp");
	assert_string_equal(p->found_in, sock);
	plugin_free(p);
	unlink(sock);
	/* ... but not through a NAME symlink. */
	snprintf(tmp, sizeof(tmp), "%s/tp-real", a);
	assert_int_equal(rename(sub, tmp), 0);
	assert_int_equal(symlink(tmp, sub), 0);
	p = find_ok("tp");
	assert_string_equal(p->found_in, js);
	plugin_free(p);

	/* Directories in order: B's .json beats A's .sock. */
	make_socket(sock);
	snprintf(tmp, sizeof(tmp), "%s/tp.json", b);
	write_file(tmp, "{\"Addr\": \"unix:///x/b.sock\"}");
	snprintf(tmp, sizeof(tmp), "relative/dir:%s::%s", b, a);
	setenv("MOAT_PLUGIN_PATH", tmp, 1);
	p = find_ok("tp");
	assert_string_equal(p->addr, "unix:///x/b.sock");
	plugin_free(p);
	snprintf(tmp, sizeof(tmp), "%s:%s", a, b);
	setenv("MOAT_PLUGIN_PATH", tmp, 1);
	p = find_ok("tp");
	assert_string_equal(p->found_in, sock);
	plugin_free(p);

	/* Not found: every directory named. */
	snprintf(tmp, sizeof(tmp), "volume plugin nope not found (looked in %s, %s)", a, b);
	assert_int_equal(plugin_find("nope", &p, &err), -ENOENT);
	assert_string_equal(err->msg, tmp);
	err_free(&err);
	setenv("MOAT_PLUGIN_PATH", "", 1);
	expect(plugin_find("tp", &p, &err), &err, ENOENT, "volume plugin tp not found (looked in ");
}

static void test_discovery_files(void **state)
{
	struct fx *f = *state;
	char spec[256], js[256], tmp[512], *big;
	struct plugin *p = NULL;
	struct err *err = NULL;

	path_in(spec, sizeof(spec), f->plugins, "tp.spec");
	path_in(js, sizeof(js), f->plugins, "tp.json");

	/* Present but unusable: errors, not "not found". */
	write_file(spec, "unix://relative.sock");
	snprintf(tmp, sizeof(tmp), "volume plugin tp: %s: .spec: a unix:// address", spec);
	expect(plugin_find("tp", &p, &err), &err, EINVAL, tmp);
	write_file(spec, "");
	expect(plugin_find("tp", &p, &err), &err, EINVAL, "volume plugin tp: ");
	unlink(spec);
	assert_int_equal(symlink("/etc/hostname", spec), 0);
	snprintf(tmp, sizeof(tmp), "volume plugin tp: %s is a symlink", spec);
	expect(plugin_find("tp", &p, &err), &err, EINVAL, tmp);
	unlink(spec);
	/* A FIFO would block a plain open: refused at once. */
	assert_int_equal(mkfifo(spec, 0600), 0);
	snprintf(tmp, sizeof(tmp), "volume plugin tp: %s is not a regular file", spec);
	expect(plugin_find("tp", &p, &err), &err, EINVAL, tmp);
	unlink(spec);
	assert_int_equal(mkdir(spec, 0700), 0);
	expect(plugin_find("tp", &p, &err), &err, EINVAL, tmp);
	rmdir(spec);
	big = malloc(PLUGIN_SPEC_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', PLUGIN_SPEC_MAX + 1);
	memcpy(big, "unix:///x.sock", 14);
	big[PLUGIN_SPEC_MAX + 1] = '\0';
	write_file(spec, big);
	expect(plugin_find("tp", &p, &err), &err, EFBIG, "volume plugin tp: ");
	big[PLUGIN_SPEC_MAX] = '\0';
	write_file(spec, big);
	p = find_ok("tp");
	assert_string_equal(p->addr, "unix:///x.sock");
	plugin_free(p);
	free(big);
	unlink(spec);

	write_file(js, "{\"Addr\": 5}");
	snprintf(tmp, sizeof(tmp), "volume plugin tp: %s: .json: \"Addr\" must be a string", js);
	expect(plugin_find("tp", &p, &err), &err, EINVAL, tmp);
	write_file(js, "{\"Addr\": \"unix:///j.sock\", \"MountRoot\": \"rel\"}");
	expect(plugin_find("tp", &p, &err), &err, EINVAL, "volume plugin tp: ");

	/* MOAT_PLUGIN_TIMEOUT */
	write_file(js, "{\"Addr\": \"unix:///j.sock\"}");
	setenv("MOAT_PLUGIN_TIMEOUT", "600", 1);
	p = find_ok("tp");
	assert_int_equal(p->timeout_s, 600);
	plugin_free(p);
	setenv("MOAT_PLUGIN_TIMEOUT", "1", 1);
	p = find_ok("tp");
	assert_int_equal(p->timeout_s, 1);
	plugin_free(p);
	{
		static const char *const bad[] = {"0",	"601", "-1", "abc",
						  "5s", " 5",  "+5", "99999999999999999999"};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			setenv("MOAT_PLUGIN_TIMEOUT", bad[i], 1);
			expect(plugin_find("tp", &p, &err), &err, EINVAL,
			       "volume plugin tp: MOAT_PLUGIN_TIMEOUT=");
			assert_null(p);
		}
	}
}

static void test_invalid_names(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"../x", "a/b", "",  ".x", "-x", "_x",	  "x y",
					  "x\n",  "..",	 ".", "x/", "/x", "x\\y", "ü"};
	char sub[256], tmp[512], longname[PLUGIN_NAME_MAX_TEST + 2];
	struct plugin *p = NULL;
	struct err *err = NULL;

	/* Sockets where the bad names would lead if they were joined to
	 * the search directory. */
	path_in(sub, sizeof(sub), f->plugins, "sub");
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(tmp, sizeof(tmp), "%s/x.sock", f->plugins);
	make_socket(tmp);
	snprintf(tmp, sizeof(tmp), "%s/a", f->plugins);
	assert_int_equal(mkdir(tmp, 0700), 0);
	snprintf(tmp, sizeof(tmp), "%s/a/b.sock", f->plugins);
	make_socket(tmp);
	setenv("MOAT_PLUGIN_PATH", sub, 1);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect(plugin_find(bad[i], &p, &err), &err, EINVAL, "volume plugin \"");
		assert_null(p);
	}
	expect(plugin_find(NULL, &p, &err), &err, EINVAL, "volume plugin \"");
	setenv("MOAT_PLUGIN_PATH", f->plugins, 1);
	expect(plugin_find("a/b", &p, &err), &err, EINVAL, "volume plugin \"a/b\": invalid name");
	p = find_ok("x"); /* the control: the socket is findable by its name */
	plugin_free(p);

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect(plugin_find(longname, &p, &err), &err, EINVAL, "volume plugin \"");
	longname[sizeof(longname) - 2] = '\0'; /* exactly the maximum: valid */
	expect(plugin_find(longname, &p, &err), &err, ENOENT, "volume plugin aaa");
	expect(plugin_find("A.b-c_9", &p, &err), &err, ENOENT, "volume plugin A.b-c_9 not found");
}

static void test_list_names(void **state)
{
	struct fx *f = *state;
	char b[256], tmp[512];
	char **names;

	path_in(b, sizeof(b), f->dir, "b");
	assert_int_equal(mkdir(b, 0700), 0);
#define IN(dir, name) (snprintf(tmp, sizeof(tmp), "%s/%s", (dir), (name)), tmp)
	make_socket(IN(f->plugins, "a.sock"));
	write_file(IN(f->plugins, "b.spec"), "unix:///b.sock");
	write_file(IN(f->plugins, "c.json"), "{}");
	assert_int_equal(mkdir(IN(f->plugins, "d"), 0700), 0);
	make_socket(IN(f->plugins, "d/d.sock"));
	write_file(IN(f->plugins, "e.sock"), "not a socket");
	write_file(IN(f->plugins, "f.txt"), "");
	write_file(IN(f->plugins, "bad name.spec"), "");
	write_file(IN(f->plugins, ".hidden.spec"), "");
	write_file(IN(f->plugins, ".spec"), "");
	assert_int_equal(mkdir(IN(f->plugins, "g.spec"), 0700), 0);
	assert_int_equal(mkdir(IN(f->plugins, "h"), 0700), 0); /* no h/h.sock */
	assert_int_equal(symlink("/etc/hostname", IN(f->plugins, "i.json")), 0);
	write_file(IN(b, "a.json"), "{}");
	write_file(IN(b, "z.spec"), "");
	write_file(IN(b, "Z.spec"), "");
#undef IN
	snprintf(tmp, sizeof(tmp), "%s:%s:/nonexistent-moat-dir", f->plugins, b);
	setenv("MOAT_PLUGIN_PATH", tmp, 1);
	names = plugin_list_names();
	assert_non_null(names);
	{
		static const char *const want[] = {"Z", "a", "b", "c", "d", "z"};
		size_t n = 0;

		for (; names[n]; n++)
			if (n >= ARRAY_SIZE(want) || strcmp(names[n], want[n]))
				fail_msg("names[%zu] = %s", n, names[n]);
		assert_int_equal(n, ARRAY_SIZE(want));
	}
	strvfree(names);
	setenv("MOAT_PLUGIN_PATH", "/nonexistent-moat-dir", 1);
	names = plugin_list_names();
	assert_non_null(names);
	assert_null(names[0]);
	strvfree(names);
}

static void test_search_path(void **state)
{
	char **v;
	char *saved_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;

	setenv("MOAT_PLUGIN_PATH", "/a:relative:/b/::/c", 1);
	v = plugin_search_path();
	assert_non_null(v);
	assert_string_equal(v[0], "/a");
	assert_string_equal(v[1], "/b/");
	assert_string_equal(v[2], "/c");
	assert_null(v[3]);
	strvfree(v);
	setenv("MOAT_PLUGIN_PATH", "", 1);
	v = plugin_search_path();
	assert_non_null(v);
	assert_null(v[0]);
	strvfree(v);

	unsetenv("MOAT_PLUGIN_PATH");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	v = plugin_search_path();
	assert_non_null(v);
	assert_string_equal(v[0], geteuid() == 0 ? "/etc/moat/plugins" : "/xdg/moat/plugins");
	assert_string_equal(v[1], "/run/docker/plugins");
	assert_string_equal(v[2], "/etc/docker/plugins");
	assert_string_equal(v[3], "/usr/lib/docker/plugins");
	assert_null(v[4]);
	strvfree(v);
	if (saved_xdg)
		setenv("XDG_CONFIG_HOME", saved_xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	free(saved_xdg);
}

/* ---- mountpoints ---- */

static int mp_open(const struct plugin *p, const char *path, const char *const *sd,
		   struct err **err)
{
	return plugin_mountpoint_open(p, path, sd, err);
}

static void mp_ok(const struct plugin *p, const char *path, const char *const *sd)
{
	struct err *err = NULL;
	struct stat a, b;
	int fd = mp_open(p, path, sd, &err);

	if (fd < 0)
		fail_msg("mountpoint %s refused: %s", path, err->msg);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(S_ISDIR(a.st_mode) && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	/* O_PATH: nothing can be read through it. */
	assert_true((fcntl(fd, F_GETFL) & O_PATH) == O_PATH);
	close(fd);
}

static void mp_bad(const struct plugin *p, const char *path, const char *const *sd, int code,
		   const char *msg)
{
	struct err *err = NULL;
	int fd = mp_open(p, path, sd, &err);

	if (fd >= 0)
		fail_msg("mountpoint %s accepted", path);
	if (fd != -code || !strstr(err->msg, msg))
		fail_msg("mountpoint %s: want errno %d \"%s\", got %d \"%s\"", path, code, msg, -fd,
			 err->msg);
	assert_true(!strncmp(err->msg, "volume plugin tp: ", 18));
	err_free(&err);
}

static void mountpoint_checks(struct fx *f)
{
	struct plugin p = {.name = (char *)"tp"};
	char ok[256], st[256], stsub[256], stx[256], stlink[256], file[256], link[256], tmp[512],
	    root[256], roota[256], rootx[256], rootlink[256], other[256];
	const char *sd[3] = {NULL, NULL, NULL};
	struct stat s;

	path_in(ok, sizeof(ok), f->dir, "ok");
	path_in(st, sizeof(st), f->dir, "st");
	path_in(stsub, sizeof(stsub), st, "sub");
	path_in(stx, sizeof(stx), f->dir, "stx");
	path_in(stlink, sizeof(stlink), f->dir, "stlink");
	path_in(file, sizeof(file), f->dir, "file");
	path_in(link, sizeof(link), f->dir, "link");
	path_in(root, sizeof(root), f->dir, "root");
	path_in(roota, sizeof(roota), root, "a");
	path_in(rootx, sizeof(rootx), f->dir, "rootx");
	path_in(rootlink, sizeof(rootlink), f->dir, "rootlink");
	path_in(other, sizeof(other), f->dir, "other");
	if (lstat(ok, &s) < 0) {
		assert_int_equal(mkdir(ok, 0700), 0);
		assert_int_equal(mkdir(st, 0700), 0);
		assert_int_equal(mkdir(stsub, 0700), 0);
		assert_int_equal(mkdir(stx, 0700), 0);
		assert_int_equal(symlink(st, stlink), 0);
		write_file(file, "x");
		assert_int_equal(symlink(ok, link), 0);
		assert_int_equal(mkdir(root, 0700), 0);
		assert_int_equal(mkdir(roota, 0700), 0);
		assert_int_equal(mkdir(rootx, 0700), 0);
		snprintf(tmp, sizeof(tmp), "%s/a", rootx);
		assert_int_equal(mkdir(tmp, 0700), 0);
		assert_int_equal(symlink(root, rootlink), 0);
		assert_int_equal(mkdir(other, 0700), 0);
	}

	/* Not a usable path at all. */
	mp_bad(&p, "", NULL, EINVAL, "no mountpoint");
	mp_bad(&p, NULL, NULL, EINVAL, "no mountpoint");
	mp_bad(&p, "relative/dir", NULL, EINVAL, "is not absolute");
	snprintf(tmp, sizeof(tmp), "%s/missing", f->dir);
	mp_bad(&p, tmp, NULL, ENOENT, "No such file");

	/* Files, symlinks anywhere in the path, magic links. */
	mp_ok(&p, ok, NULL);
	mp_bad(&p, file, NULL, ENOTDIR, "is not a directory");
	snprintf(tmp, sizeof(tmp), "%s/x", file);
	mp_bad(&p, tmp, NULL, ENOTDIR, "");
	mp_bad(&p, link, NULL, ELOOP, "symlink");
	snprintf(tmp, sizeof(tmp), "%s/.", link);
	mp_bad(&p, tmp, NULL, ELOOP, "symlink");
	snprintf(tmp, sizeof(tmp), "%s/sub", stlink);
	mp_bad(&p, tmp, NULL, ELOOP, "symlink");
	mp_bad(&p, "/proc/self/root", NULL, ELOOP, "symlink");
	snprintf(tmp, sizeof(tmp), "/proc/%d/root", (int)getpid());
	mp_bad(&p, tmp, NULL, ELOOP, "symlink");
	snprintf(tmp, sizeof(tmp), "/proc/%d/cwd", (int)getpid());
	mp_bad(&p, tmp, NULL, ELOOP, "symlink");

	/* The deny list, on the real path. */
	mp_bad(&p, "/", NULL, EPERM, "is the host's root directory");
	mp_bad(&p, "//", NULL, EPERM, "is the host's root directory");
	mp_bad(&p, "/etc", NULL, EPERM, "is in /etc");
	mp_bad(&p, "/etc/", NULL, EPERM, "is in /etc");
	mp_bad(&p, "/proc", NULL, EPERM, "is in /proc");
	mp_bad(&p, "/sys", NULL, EPERM, "is in /sys");
	mp_bad(&p, "/dev", NULL, EPERM, "is in /dev");
	mp_bad(&p, "/usr", NULL, EPERM, "is in /usr");
	mp_bad(&p, "/usr/lib", NULL, EPERM, "is in /usr");
	if (stat("/root", &s) == 0)
		mp_bad(&p, "/root", NULL, EPERM, "is in /root");
	if (stat("/boot", &s) == 0 && lstat("/boot", &s) == 0 && S_ISDIR(s.st_mode))
		mp_bad(&p, "/boot", NULL, EPERM, "is in /boot");
	if (lstat("/lib", &s) == 0)
		mp_bad(&p, "/lib", NULL, S_ISLNK(s.st_mode) ? ELOOP : EPERM,
		       S_ISLNK(s.st_mode) ? "symlink" : "is in /lib");
	if (lstat("/sbin", &s) == 0 && !S_ISLNK(s.st_mode))
		mp_bad(&p, "/sbin", NULL, EPERM, "is in /sbin");
	/* ".." cannot launder a path: the kernel's name is judged. */
	snprintf(tmp, sizeof(tmp), "%s/../../../../../../etc", ok);
	mp_bad(&p, tmp, NULL, EPERM, "(really \"/etc\") is in /etc");
	snprintf(tmp, sizeof(tmp), "%s/../ok/./", ok);
	mp_ok(&p, tmp, NULL);

	/* moat's state: in, under, above; component-wise. */
	sd[0] = "/var/lib/moat-test-none";
	sd[1] = st;
	mp_bad(&p, st, sd, EPERM, "overlaps moat's state directory");
	mp_bad(&p, stsub, sd, EPERM, "overlaps moat's state directory");
	mp_bad(&p, f->dir, sd, EPERM, "overlaps moat's state directory");
	mp_ok(&p, stx, sd); /* "stx" is not under "st" */
	mp_ok(&p, ok, sd);
	/* A state directory named through a symlink, or not canonically. */
	sd[1] = stlink;
	mp_bad(&p, stsub, sd, EPERM, "overlaps moat's state directory");
	mp_ok(&p, stx, sd);
	snprintf(tmp, sizeof(tmp), "%s//./", st);
	sd[1] = tmp;
	mp_bad(&p, stsub, sd, EPERM, "overlaps moat's state directory");
	/* Not created yet: compared as written, cleaned. */
	snprintf(tmp, sizeof(tmp), "%s//future/", ok);
	sd[1] = tmp;
	mp_bad(&p, ok, sd, EPERM, "overlaps moat's state directory");
	mp_ok(&p, stx, sd);
	/* ... and beneath a symlink that exists (like /var/run). */
	snprintf(tmp, sizeof(tmp), "%s/future/x/../y", stlink);
	sd[1] = tmp;
	mp_bad(&p, st, sd, EPERM, "overlaps moat's state directory");
	mp_ok(&p, stsub, sd); /* a sibling of st/future/y, not a parent */
	mp_ok(&p, stx, sd);

	/* MountRoot: strictly beneath it, and nothing else (the deny list
	 * gives way to it; the state directories do not). */
	p.mount_root = root;
	mp_ok(&p, roota, NULL);
	mp_bad(&p, root, NULL, EPERM, "is not beneath the plugin's MountRoot");
	snprintf(tmp, sizeof(tmp), "%s/a", rootx);
	mp_bad(&p, tmp, NULL, EPERM, "is not beneath the plugin's MountRoot");
	mp_bad(&p, other, NULL, EPERM, "is not beneath the plugin's MountRoot");
	mp_bad(&p, "/etc", NULL, EPERM, "is not beneath the plugin's MountRoot");
	sd[0] = roota;
	sd[1] = NULL;
	mp_bad(&p, roota, sd, EPERM, "overlaps moat's state directory");
	snprintf(tmp, sizeof(tmp), "%s/../../rootx/a", roota);
	mp_bad(&p, tmp, NULL, EPERM, "is not beneath the plugin's MountRoot");
	p.mount_root = rootlink; /* resolved */
	mp_ok(&p, roota, NULL);
	p.mount_root = (char *)"/";
	mp_bad(&p, roota, NULL, EINVAL, "is the whole host");
	snprintf(tmp, sizeof(tmp), "%s/none", f->dir);
	p.mount_root = tmp;
	mp_bad(&p, roota, NULL, ENOENT, "MountRoot");
}

static void test_mountpoint_openat2(void **state)
{
	mountpoint_checks(*state);
}

static void test_mountpoint_fallback(void **state)
{
	setenv("MOAT_NO_OPENAT2", "1", 1);
	mountpoint_checks(*state);
	unsetenv("MOAT_NO_OPENAT2");
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_lifecycle),		 T(test_mode_error),	       T(test_mode_malformed),
	    T(test_mode_crash_mount),	 T(test_mode_outside),	       T(test_mode_file_symlink),
	    T(test_mode_http500),	 T(test_mode_no_volumedriver), T(test_mode_slow),
	    T(test_retry_late_start),	 T(test_unreachable),	       T(test_retry_budget),
	    T(test_tcp_and_tls_refused), T(test_canned_request_shape), T(test_canned_errors),
	    T(test_canned_activate),	 T(test_canned_caps),	       T(test_discovery_order),
	    T(test_discovery_files),	 T(test_invalid_names),	       T(test_list_names),
	    T(test_search_path),	 T(test_mountpoint_openat2),   T(test_mountpoint_fallback),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

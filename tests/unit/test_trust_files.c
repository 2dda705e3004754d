/*
 * tests/unit/test_trust_files.c - engine/trust_files.c: which files make the
 * trust policy (override alone; system; user tightening system; none: the
 * default), that a user file can tighten but never loosen, that every
 * broken file is an error naming it (syntax with line:column, missing
 * override, directory, FIFO, oversized, a path through a file), and that a
 * write is atomic, 0644, and creates its parent 0755.
 *
 * Each test works in its own mkdtemp directory with XDG_CONFIG_HOME and
 * HOME pointed into it, and the system path given as a parameter
 * (engine_trust_policy_load_from), so the host's files are never read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "engine/trust.h"
#include "engine/trust_files.h"
#include "policy/trust.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define REJECT_ALL "{\"default\": [{\"type\": \"reject\"}]}"
#define ACCEPT_ALL "{\"default\": [{\"type\": \"insecureAcceptAnything\"}]}"

struct fx {
	char dir[128];
	char sys[384];	/* the system file, as the test passes it */
	char user[384]; /* XDG_CONFIG_HOME/moat/trust-policy.json */
	char other[384];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[384];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/moat-test-trust-files-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sys, sizeof(f->sys), "%s/etc/trust-policy.json", f->dir);
	snprintf(f->user, sizeof(f->user), "%s/xdg/moat/trust-policy.json", f->dir);
	snprintf(f->other, sizeof(f->other), "%s/other.json", f->dir);
	snprintf(p, sizeof(p), "%s/etc", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/xdg", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(setenv("XDG_CONFIG_HOME", p, 1), 0);
	snprintf(p, sizeof(p), "%s/xdg/moat", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/home", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(setenv("HOME", p, 1), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fs_rm_rf_at(AT_FDCWD, f->dir, NULL), 0);
	free(f);
	return 0;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, text, strlen(text)), 0);
	assert_int_equal(close(fd), 0);
}

static int verdict(const struct trust_policy *p, const char *ref)
{
	return trust_policy_evaluate(p, ref, D1, NULL, 0, NULL, 0);
}

/* Loads with F's system path; fails the test on error. */
static struct trust_policy *load_ok(struct fx *f, const char *override,
				    struct engine_trust_sources *src)
{
	struct trust_policy *p = NULL;
	struct err *err = NULL;

	if (engine_trust_policy_load_from(f->sys, override, &p, src, &err) < 0) {
		print_error("load: %s\n", err->msg);
		err_free(&err);
		fail();
	}
	assert_non_null(p);
	return p;
}

/* Loading fails with RET and a message containing MSG; nothing is returned
 * and SRC is left empty. */
static void load_fails(struct fx *f, const char *override, int ret, const char *msg)
{
	struct engine_trust_sources src = {.is_default = true};
	struct trust_policy *p = (struct trust_policy *)&src; /* must be reset */
	struct err *err = NULL;

	assert_int_equal(engine_trust_policy_load_from(f->sys, override, &p, &src, &err), ret);
	assert_null(p);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("want \"%s\"\ngot  \"%s\"\n", msg, err->msg);
		fail();
	}
	assert_null(src.override);
	assert_null(src.system_path);
	assert_false(src.is_default);
	err_free(&err);
}

static void test_user_path(void **state)
{
	struct fx *f = *state;
	struct err *err = NULL;
	char *path = NULL, want[1024];
	struct passwd *pw;

	assert_int_equal(engine_trust_user_path(&path, &err), 0);
	assert_string_equal(path, f->user);
	free(path);

	/* A relative XDG_CONFIG_HOME is ignored (XDG spec): HOME/.config. */
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	setenv("HOME", "/home/u//", 1);
	assert_int_equal(engine_trust_user_path(&path, &err), 0);
	assert_string_equal(path, "/home/u/.config/moat/trust-policy.json");
	free(path);

	/* Neither: the passwd entry's home, or -ENOENT without one. */
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	pw = getpwuid(getuid());
	if (pw && pw->pw_dir[0] == '/') {
		snprintf(want, sizeof(want), "%s/.config/moat/trust-policy.json",
			 strcmp(pw->pw_dir, "/") ? pw->pw_dir : "");
		assert_int_equal(engine_trust_user_path(&path, &err), 0);
		assert_string_equal(path, want);
		free(path);
	} else {
		assert_int_equal(engine_trust_user_path(&path, &err), -ENOENT);
		assert_null(path);
		assert_non_null(strstr(err->msg, "no home directory"));
		err_free(&err);
	}
	setenv("HOME", "not/absolute", 1);
	if (pw && pw->pw_dir[0] == '/') {
		assert_int_equal(engine_trust_user_path(&path, &err), 0);
		assert_string_equal(path, want);
		free(path);
	}
}

static void test_no_file_is_the_default(void **state)
{
	struct fx *f = *state;
	struct engine_trust_sources src;
	struct trust_policy *p = load_ok(f, NULL, &src);
	const struct trust_req *reqs;
	size_t n;

	assert_true(src.is_default);
	assert_false(src.system_present);
	assert_false(src.user_present);
	assert_null(src.override);
	assert_string_equal(src.system_path, f->sys);
	assert_string_equal(src.user_path, f->user);
	assert_int_equal(p->n_scopes, 0);
	assert_ptr_equal(trust_policy_scope_for(p, "busybox:1", &reqs, &n), trust_scope_default);
	assert_int_equal(n, 1);
	assert_int_equal(reqs[0].type, TRUST_REQ_REJECT);
	engine_trust_sources_clear(&src);
	assert_null(src.system_path);
	trust_policy_free(p);
	/* SRC is optional. */
	trust_policy_free(load_ok(f, NULL, NULL));
}

static void test_override_only(void **state)
{
	struct fx *f = *state;
	struct engine_trust_sources src;
	struct trust_policy *p;

	/* The system and user files would reject; the override accepts, and is
	 * the whole policy. */
	put(f->sys, REJECT_ALL);
	put(f->user, REJECT_ALL);
	put(f->other, "{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": "
		      "{\"docker\": {\"quay.io\": [{\"type\": \"reject\"}]}}}");
	p = load_ok(f, f->other, &src);
	assert_string_equal(src.override, f->other);
	assert_null(src.system_path);
	assert_null(src.user_path);
	assert_false(src.system_present);
	assert_false(src.user_present);
	assert_false(src.is_default);
	assert_int_equal(p->n_def, 1);
	assert_int_equal(p->n_scopes, 1);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_ACCEPT);
	assert_int_equal(verdict(p, "quay.io/a:1"), TRUST_REJECT);
	engine_trust_sources_clear(&src);
	trust_policy_free(p);

	/* The public wrapper passes the override through the same way. */
	{
		struct err *err = NULL;

		p = NULL;
		assert_int_equal(engine_trust_policy_load(f->other, &p, &src, &err), 0);
		assert_string_equal(src.override, f->other);
		assert_int_equal(verdict(p, "busybox:1"), TRUST_ACCEPT);
		engine_trust_sources_clear(&src);
		trust_policy_free(p);
	}
}

static void test_missing_override(void **state)
{
	struct fx *f = *state;
	char want[1024];

	/* Even with a system file present: no fallback for a typo. */
	put(f->sys, ACCEPT_ALL);
	snprintf(want, sizeof(want), "trust policy %s/nope.json: No such file or directory",
		 f->dir);
	snprintf(f->other, sizeof(f->other), "%s/nope.json", f->dir);
	load_fails(f, f->other, -ENOENT, want);
}

static void test_system_only(void **state)
{
	struct fx *f = *state;
	struct engine_trust_sources src;
	struct trust_policy *p;
	char link[384];

	put(f->sys, "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": "
		    "{\"quay.io\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
	p = load_ok(f, NULL, &src);
	assert_true(src.system_present);
	assert_false(src.user_present);
	assert_false(src.is_default);
	assert_string_equal(src.user_path, f->user);
	assert_int_equal(verdict(p, "quay.io/a:1"), TRUST_ACCEPT);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_REJECT);
	engine_trust_sources_clear(&src);
	trust_policy_free(p);

	/* A symlink to a regular file is fine (/etc alternatives). */
	snprintf(link, sizeof(link), "%s/etc/link.json", f->dir);
	assert_int_equal(symlink(f->sys, link), 0);
	snprintf(f->sys, sizeof(f->sys), "%s", link);
	p = load_ok(f, NULL, &src);
	assert_true(src.system_present);
	assert_int_equal(verdict(p, "quay.io/a:1"), TRUST_ACCEPT);
	engine_trust_sources_clear(&src);
	trust_policy_free(p);
}

static void test_user_tightens(void **state)
{
	struct fx *f = *state;
	struct engine_trust_sources src;
	struct trust_policy *p;

	/* A permissive system; the user's "reject" for quay.io wins there and
	 * nowhere else. */
	put(f->sys, ACCEPT_ALL);
	put(f->user, "{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": "
		     "{\"docker\": {\"quay.io\": [{\"type\": \"reject\"}]}}}");
	p = load_ok(f, NULL, &src);
	assert_true(src.system_present);
	assert_true(src.user_present);
	assert_false(src.is_default);
	assert_int_equal(verdict(p, "quay.io/a:1"), TRUST_REJECT);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_ACCEPT);
	engine_trust_sources_clear(&src);
	trust_policy_free(p);

	/* The user's default reject wins over the system's accept. */
	put(f->user, REJECT_ALL);
	p = load_ok(f, NULL, NULL);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_REJECT);
	trust_policy_free(p);
}

static void test_user_cannot_loosen(void **state)
{
	struct fx *f = *state;
	struct trust_policy *p;

	put(f->sys, "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": "
		    "{\"ghcr.io\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
	put(f->user, "{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": "
		     "{\"docker\": {\"quay.io\": [{\"type\": \"insecureAcceptAnything\"}],"
		     "\"docker.io\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
	p = load_ok(f, NULL, NULL);
	assert_int_equal(verdict(p, "quay.io/a:1"), TRUST_REJECT);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_REJECT);
	assert_int_equal(verdict(p, "other.io/a:1"), TRUST_REJECT);
	/* What the system allowed stays allowed. */
	assert_int_equal(verdict(p, "ghcr.io/a:1"), TRUST_ACCEPT);
	trust_policy_free(p);
}

/* With no system file the user's file is the policy, as --trust-policy
 * would be (see the top of engine/trust_files.c). */
static void test_user_only(void **state)
{
	struct fx *f = *state;
	struct engine_trust_sources src;
	struct trust_policy *p;

	put(f->user, "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": "
		     "{\"quay.io\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
	p = load_ok(f, NULL, &src);
	assert_false(src.system_present);
	assert_true(src.user_present);
	assert_false(src.is_default);
	assert_int_equal(verdict(p, "quay.io/a:1"), TRUST_ACCEPT);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_REJECT);
	engine_trust_sources_clear(&src);
	trust_policy_free(p);
}

static void test_syntax_errors_name_the_file(void **state)
{
	struct fx *f = *state;
	char want[1024];

	put(f->sys, "{\n  \"default\": [\n    {\"type\": \"reject\"},,\n  ]\n}\n");
	snprintf(want, sizeof(want), "%s:3:24: ", f->sys);
	load_fails(f, NULL, -EINVAL, want);
	/* A broken system file is an error even with a good user file. */
	put(f->user, REJECT_ALL);
	load_fails(f, NULL, -EINVAL, want);

	/* The user's file, likewise: no fallback to the system's alone. */
	put(f->sys, ACCEPT_ALL);
	put(f->user, "{\"default\": [{\"type\": \"rejet\"}]}");
	snprintf(want, sizeof(want), "%s: default[0]: unknown requirement type \"rejet\"", f->user);
	load_fails(f, NULL, -EINVAL, want);
	put(f->user, "{\"default\": [{\"type\": \"reject\"}]");
	snprintf(want, sizeof(want), "%s:1:", f->user);
	load_fails(f, NULL, -EINVAL, want);

	/* And the override. */
	put(f->other, "");
	snprintf(want, sizeof(want), "%s:", f->other);
	load_fails(f, f->other, -EINVAL, want);
}

static void test_not_regular_files(void **state)
{
	struct fx *f = *state;
	char want[1024], fifo[256];

	/* A directory at each of the three paths. */
	assert_int_equal(mkdir(f->sys, 0755), 0);
	snprintf(want, sizeof(want), "trust policy %s: is a directory, not a regular file", f->sys);
	load_fails(f, NULL, -EISDIR, want);
	assert_int_equal(rmdir(f->sys), 0);
	assert_int_equal(mkdir(f->user, 0755), 0);
	snprintf(want, sizeof(want), "trust policy %s: is a directory", f->user);
	load_fails(f, NULL, -EISDIR, want);
	assert_int_equal(rmdir(f->user), 0);
	snprintf(want, sizeof(want), "trust policy %s: is a directory", f->dir);
	load_fails(f, f->dir, -EISDIR, want);

	/* A FIFO: refused at once, not waited on for a writer. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	snprintf(want, sizeof(want), "trust policy %s: not a regular file", fifo);
	load_fails(f, fifo, -EINVAL, want);
	/* A device. */
	load_fails(f, "/dev/null", -EINVAL, "trust policy /dev/null: not a regular file");

	/* Only "does not exist" makes a file absent: a path through a regular
	 * file (ENOTDIR) is an error, not "no system policy". */
	put(f->other, ACCEPT_ALL);
	snprintf(f->sys, sizeof(f->sys), "%s/other.json/trust-policy.json", f->dir);
	snprintf(want, sizeof(want), "trust policy %s: Not a directory", f->sys);
	load_fails(f, NULL, -ENOTDIR, want);
}

static void test_size_cap(void **state)
{
	struct fx *f = *state;
	size_t cap = TRUST_POLICY_MAX_BYTES;
	char *big = malloc(cap + 2), want[1024];
	struct trust_policy *p;
	int fd;

	assert_non_null(big);
	/* Exactly at the cap: a valid policy padded with spaces. */
	memset(big, ' ', cap + 1);
	memcpy(big, REJECT_ALL, strlen(REJECT_ALL));
	big[cap] = '\0';
	put(f->sys, big);
	p = load_ok(f, NULL, NULL);
	trust_policy_free(p);
	/* One byte more. */
	big[cap] = ' ';
	big[cap + 1] = '\0';
	put(f->sys, big);
	snprintf(want, sizeof(want), "trust policy %s: larger than 1048576 bytes", f->sys);
	load_fails(f, NULL, -EFBIG, want);
	put(f->sys, ACCEPT_ALL);
	put(f->user, big);
	snprintf(want, sizeof(want), "trust policy %s: larger than 1048576 bytes", f->user);
	load_fails(f, NULL, -EFBIG, want);
	/* A sparse file whose size says so before any byte is read. */
	fd = open(f->other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)1 << 40), 0);
	close(fd);
	snprintf(want, sizeof(want), "trust policy %s: larger than", f->other);
	load_fails(f, f->other, -EFBIG, want);
	free(big);
}

/* Number of entries in DIR other than . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write(void **state)
{
	struct fx *f = *state;
	struct trust_policy *p = trust_policy_default_reject(), *back = NULL;
	struct trust_req accept = {.type = TRUST_REQ_INSECURE_ACCEPT_ANYTHING};
	char path[512], dir[256], parent[256];
	struct err *err = NULL;
	struct stat st, st2;
	char *t1 = NULL, *t2 = NULL;
	mode_t old;

	assert_non_null(p);
	assert_int_equal(trust_policy_set_scope(p, "quay.io/org", &accept, 1, &err), 0);
	/* Missing parents are created 0755 and the file is 0644, whatever
	 * the umask says. */
	snprintf(parent, sizeof(parent), "%s/new", f->dir);
	snprintf(dir, sizeof(dir), "%s/new/moat", f->dir);
	snprintf(path, sizeof(path), "%s/new/moat/trust-policy.json", f->dir);
	old = umask(077);
	assert_int_equal(engine_trust_policy_write(path, p, &err), 0);
	umask(old);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	/* Only the file: no temporary left beside it. */
	assert_int_equal(entries(dir), 1);
	/* It reads back as the same policy. */
	assert_int_equal(engine_trust_policy_read(path, false, &back, &err), 0);
	assert_int_equal(trust_policy_encode(p, &t1, &err), 0);
	assert_int_equal(trust_policy_encode(back, &t2, &err), 0);
	assert_string_equal(t1, t2);
	trust_policy_free(back);
	free(t2);

	/* Overwriting replaces the file (a new inode: rename, not rewrite). */
	assert_int_equal(trust_policy_set_scope(p, "ghcr.io", &accept, 1, &err), 0);
	assert_int_equal(engine_trust_policy_write(path, p, &err), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_not_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st2.st_mode & 07777, 0644);
	assert_int_equal(entries(dir), 1);
	assert_int_equal(engine_trust_policy_read(path, false, &back, &err), 0);
	assert_int_equal(back->n_scopes, 2);
	trust_policy_free(back);

	/* A policy that cannot be encoded leaves the old file alone. */
	{
		char bad[] = "/k\xff", *keys[] = {bad, NULL};
		struct trust_req *d = &p->def[0];

		d->type = TRUST_REQ_SIGSTORE_SIGNED;
		d->key_paths = keys;
		d->n_keys = 1;
		assert_int_equal(engine_trust_policy_write(path, p, &err), -EINVAL);
		assert_non_null(strstr(err->msg, path));
		assert_non_null(strstr(err->msg, "not UTF-8"));
		err_free(&err);
		d->key_paths = NULL;
		d->n_keys = 0;
		d->type = TRUST_REQ_REJECT;
		assert_int_equal(engine_trust_policy_read(path, false, &back, &err), 0);
		assert_int_equal(back->n_scopes, 2);
		trust_policy_free(back);
		assert_int_equal(entries(dir), 1);
	}

	/* A parent that is a file: an error naming it, nothing written. */
	put(f->other, ACCEPT_ALL);
	snprintf(path, sizeof(path), "%s/sub/p.json", f->other);
	assert_int_equal(engine_trust_policy_write(path, p, &err), -ENOTDIR);
	assert_non_null(strstr(err->msg, f->other));
	err_free(&err);
	/* A path that names a directory. */
	snprintf(path, sizeof(path), "%s/", f->dir);
	assert_int_equal(engine_trust_policy_write(path, p, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "not a file name"));
	err_free(&err);
	/* Replacing a directory fails and leaves no temporary behind. */
	assert_int_equal(engine_trust_policy_write(dir, p, &err), -EISDIR);
	err_free(&err);
	assert_int_equal(entries(parent), 1);
	free(t1);
	trust_policy_free(p);
}

/* `moat trust set`'s reader: missing is "absent" only when asked. */
static void test_read_one(void **state)
{
	struct fx *f = *state;
	struct trust_policy *p = (struct trust_policy *)f;
	struct err *err = NULL;
	char want[1024];

	assert_int_equal(engine_trust_policy_read(f->other, true, &p, &err), 0);
	assert_null(p);
	assert_null(err);
	assert_int_equal(engine_trust_policy_read(f->other, false, &p, &err), -ENOENT);
	snprintf(want, sizeof(want), "trust policy %s: No such file or directory", f->other);
	assert_string_equal(err->msg, want);
	err_free(&err);
	put(f->other, ACCEPT_ALL);
	assert_int_equal(engine_trust_policy_read(f->other, true, &p, &err), 0);
	assert_non_null(p);
	assert_int_equal(verdict(p, "busybox:1"), TRUST_ACCEPT);
	trust_policy_free(p);
}

/* engine_trust_policy_load reads ENGINE_TRUST_SYSTEM_PATH. */
static void test_real_system_path(void **state)
{
	struct engine_trust_sources src;
	struct trust_policy *p = NULL;
	struct err *err = NULL;
	struct stat st;
	int ret = engine_trust_policy_load(NULL, &p, &src, &err);

	if (stat(ENGINE_TRUST_SYSTEM_PATH, &st) < 0 && errno == ENOENT) {
		assert_int_equal(ret, 0);
		assert_string_equal(src.system_path, ENGINE_TRUST_SYSTEM_PATH);
		assert_false(src.system_present);
		assert_true(src.is_default);
		engine_trust_sources_clear(&src);
		trust_policy_free(p);
	} else if (ret == 0) {
		/* The host has a policy: it was read. */
		assert_string_equal(src.system_path, ENGINE_TRUST_SYSTEM_PATH);
		assert_true(src.system_present);
		engine_trust_sources_clear(&src);
		trust_policy_free(p);
	} else {
		assert_non_null(strstr(err->msg, ENGINE_TRUST_SYSTEM_PATH));
		err_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_user_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_file_is_the_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_override_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_system_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_tightens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_cannot_loosen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syntax_errors_name_the_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_regular_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_system_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

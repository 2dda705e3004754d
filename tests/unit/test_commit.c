/*
 * tests/unit/test_commit.c - image/commit.c: Docker's --change forms
 * (JSON and shell CMD/ENTRYPOINT, ENV/LABEL pairs and the legacy form,
 * quotes and $VAR expansion, EXPOSE ranges, VOLUME, USER, WORKDIR joins,
 * STOPSIGNAL) and Docker's errors for the rest; the config editor
 * (history, author, diff_ids, placeholders for a parent without history,
 * empty layers); and the tar of a temporary upper directory with overlay
 * whiteouts and an opaque directory converted to OCI entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "image/archive.h"
#include "image/commit.h"

#define DIFF "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define BASE                                                                                   \
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\","     \
	"\"HOME=/root\"],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/srv\"},\"rootfs\":{\"type\":" \
	"\"layers\",\"diff_ids\":[\"sha256:1111111111111111111111111111111111111111111111111"  \
	"111111111111111\"]}}"

static const struct image_commit_meta meta0 = {
    .created_by = "moat commit", .created = 86400, .container = "c0ffee", .diff_id = DIFF};

/* BASE with CHANGES (NULL-terminated) applied: the "config" object. */
static json_t *apply(const char *const *changes, json_t **whole)
{
	struct err *err = NULL;
	char *out = NULL;
	size_t len = 0;
	json_t *j;

	int r = image_commit_config(BASE, strlen(BASE), (char *const *)changes, &meta0, &out, &len,
				    &err);
	if (r < 0)
		fail_msg("apply: %s", err ? err->msg : "?");
	assert_int_equal(strlen(out), len);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	free(out);
	if (whole)
		*whole = j;
	return json_object_get(j, "config");
}

static void expect_error(const char *change, const char *msg)
{
	const char *v[] = {change, NULL};
	struct err *err = NULL;
	char *out = NULL;
	size_t len = 0;

	assert_true(image_commit_config(BASE, strlen(BASE), (char *const *)v, &meta0, &out, &len,
					&err) < 0);
	assert_null(out);
	assert_non_null(err);
	if (strcmp(err->msg, msg))
		fail_msg("%s: got \"%s\", want \"%s\"", change, err->msg, msg);
	err_free(&err);
	/* The early check agrees. */
	assert_true(image_commit_changes_check((char *const *)v, &err) < 0);
	err_free(&err);
}

static char *dumps(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void expect_json(json_t *j, const char *want)
{
	char *s = dumps(j);
	if (!s || strcmp(s, want))
		fail_msg("got %s, want %s", s ? s : "(null)", want);
	free(s);
}

static void test_cmd_entrypoint(void **state)
{
	(void)state;
	json_t *w = NULL, *c;

	c = apply((const char *[]){"CMD [\"echo\", \"a b\"]", NULL}, &w);
	expect_json(json_object_get(c, "Cmd"), "[\"echo\",\"a b\"]");
	json_decref(w);
	c = apply((const char *[]){"cmd echo $HOME \"x\"", NULL}, &w);
	expect_json(json_object_get(c, "Cmd"), "[\"/bin/sh\",\"-c\",\"echo $HOME \\\"x\\\"\"]");
	json_decref(w);
	/* Looks like JSON but is not: the shell form, as Docker does. */
	c = apply((const char *[]){"CMD [echo", NULL}, &w);
	expect_json(json_object_get(c, "Cmd"), "[\"/bin/sh\",\"-c\",\"[echo\"]");
	json_decref(w);
	/* ENTRYPOINT resets Cmd... */
	c = apply((const char *[]){"ENTRYPOINT [\"/ep\"]", NULL}, &w);
	expect_json(json_object_get(c, "Entrypoint"), "[\"/ep\"]");
	expect_json(json_object_get(c, "Cmd"), "null");
	json_decref(w);
	/* ...unless a CMD came before it. */
	c = apply((const char *[]){"CMD [\"x\"]", "ENTRYPOINT /ep arg", NULL}, &w);
	expect_json(json_object_get(c, "Entrypoint"), "[\"/bin/sh\",\"-c\",\"/ep arg\"]");
	expect_json(json_object_get(c, "Cmd"), "[\"x\"]");
	json_decref(w);
	/* Two instructions in one --change, one per line. */
	c = apply((const char *[]){"CMD [\"a\"]\nUSER 7", NULL}, &w);
	expect_json(json_object_get(c, "User"), "\"7\"");
	json_decref(w);
}

static void test_env_label(void **state)
{
	(void)state;
	json_t *w = NULL, *c;

	c = apply((const char *[]){"ENV A=1 B=\"two words\" C='$HOME' D=$HOME E=${HOME}x",
				   "ENV PATH=$PATH:/sbin", "ENV legacy value with spaces", NULL},
		  &w);
	expect_json(json_object_get(c, "Env"),
		    "[\"PATH=/bin:/sbin\",\"HOME=/root\",\"A=1\",\"B=two words\",\"C=$HOME\","
		    "\"D=/root\",\"E=/rootx\",\"legacy=value with spaces\"]");
	json_decref(w);
	c = apply((const char *[]){"ENV U=${UNSET:-dflt} V=${HOME:+set} W=${UNSET:+no}z", NULL},
		  &w);
	expect_json(json_object_get(c, "Env"),
		    "[\"PATH=/bin\",\"HOME=/root\",\"U=dflt\",\"V=set\",\"W=z\"]");
	json_decref(w);
	c = apply((const char *[]){"LABEL a=1 \"b c\"=\"d e\" x\\ y=z", "LABEL k v w", NULL}, &w);
	expect_json(json_object_get(c, "Labels"),
		    "{\"a\":\"1\",\"b c\":\"d e\",\"x y\":\"z\",\"k\":\"v w\"}");
	json_decref(w);
}

static void test_expose_volume_user_workdir_signal(void **state)
{
	(void)state;
	json_t *w = NULL, *c;

	c = apply((const char *[]){"EXPOSE 80 53/UDP 1000-1002/sctp", "VOLUME /a /b",
				   "VOLUME [\"/c d\"]", "USER app:grp", "WORKDIR rel/../sub",
				   "STOPSIGNAL sigusr1", NULL},
		  &w);
	expect_json(json_object_get(c, "ExposedPorts"),
		    "{\"80/tcp\":{},\"53/udp\":{},\"1000/sctp\":{},\"1001/sctp\":{},"
		    "\"1002/sctp\":{}}");
	expect_json(json_object_get(c, "Volumes"), "{\"/a\":{},\"/b\":{},\"/c d\":{}}");
	expect_json(json_object_get(c, "User"), "\"app:grp\"");
	expect_json(json_object_get(c, "WorkingDir"), "\"/srv/sub\"");
	expect_json(json_object_get(c, "StopSignal"), "\"sigusr1\"");
	json_decref(w);
	c = apply((const char *[]){"WORKDIR /x/./y/", "STOPSIGNAL 9", NULL}, &w);
	expect_json(json_object_get(c, "WorkingDir"), "\"/x/y\"");
	json_decref(w);
}

static void test_change_errors(void **state)
{
	(void)state;
	expect_error("ONBUILD RUN x", "onbuild is not a valid change command");
	expect_error("HEALTHCHECK NONE", "healthcheck is not a valid change command");
	expect_error("Frobnicate", "frobnicate is not a valid change command");
	expect_error("CMD [1]", "when using JSON array syntax, arrays must be comprised of "
				"strings only");
	expect_error("VOLUME [\"/a\", null]", "when using JSON array syntax, arrays must be "
					      "comprised of strings only");
	expect_error("CMD", "CMD requires at least one argument");
	expect_error("ENV", "ENV requires at least one argument");
	expect_error("LABEL x", "LABEL must have two arguments");
	expect_error("ENV a=1 b", "Syntax error - can't find = in \"b\". Must be of the form: "
				  "name=value");
	expect_error("ENV =x", "ENV names can not be blank");
	expect_error("ENV a=\"open", "unexpected end of statement while looking for matching "
				     "double-quote");
	expect_error("ENV a=${HOME", "syntax error: missing '}'");
	expect_error("EXPOSE 70000", "invalid containerPort: 70000");
	expect_error("EXPOSE 1/icmp", "invalid proto: icmp");
	expect_error("EXPOSE 9-3", "invalid range specified for containerPort: 9-3");
	expect_error("EXPOSE", "EXPOSE requires at least one argument");
	expect_error("USER", "USER requires exactly one argument");
	expect_error("WORKDIR   ", "WORKDIR requires exactly one argument");
	expect_error("STOPSIGNAL SIGFOO", "Invalid signal: SIGFOO");
	expect_error("STOPSIGNAL 65", "Invalid signal: 65");
	expect_error("VOLUME \"\"", "VOLUME specified can not be an empty string");
	/* Blank lines and comments are no instruction. */
	struct err *err = NULL;
	assert_int_equal(image_commit_changes_check((char *const[]){"", "  # x", NULL}, &err), 0);
	/* Caps. */
	char *big = malloc(IMAGE_COMMIT_CHANGE_MAX + 16);
	assert_non_null(big);
	memset(big, 'a', IMAGE_COMMIT_CHANGE_MAX + 8);
	memcpy(big, "ENV a=", 6);
	big[IMAGE_COMMIT_CHANGE_MAX + 8] = 0;
	assert_int_equal(image_commit_changes_check((char *const[]){big, NULL}, &err), -E2BIG);
	err_free(&err);
	free(big);
	char **many = calloc(IMAGE_COMMIT_CHANGES_MAX + 2, sizeof(char *));
	assert_non_null(many);
	for (size_t i = 0; i <= IMAGE_COMMIT_CHANGES_MAX; i++)
		many[i] = (char *)"USER 1";
	assert_int_equal(image_commit_changes_check(many, &err), -E2BIG);
	err_free(&err);
	free(many);
}

static void test_config_meta(void **state)
{
	(void)state;
	struct image_commit_meta m = meta0;
	struct err *err = NULL;
	char *out = NULL;
	size_t len;
	json_t *j, *h;

	m.author = "A <a@x>";
	m.comment = "msg";
	assert_int_equal(image_commit_config(BASE, strlen(BASE), NULL, &m, &out, &len, &err), 0);
	j = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(j);
	expect_json(json_object_get(j, "author"), "\"A <a@x>\"");
	expect_json(json_object_get(j, "created"), "\"1970-01-02T00:00:00Z\"");
	expect_json(json_object_get(j, "container"), "\"c0ffee\"");
	expect_json(json_object_get(json_object_get(j, "rootfs"), "diff_ids"),
		    "[\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
		    "\"" DIFF "\"]");
	/* The parent had no history: a placeholder for its layer first. */
	h = json_object_get(j, "history");
	assert_int_equal(json_array_size(h), 2);
	expect_json(json_array_get(h, 0), "{\"created_by\":\"\"}");
	expect_json(json_array_get(h, 1),
		    "{\"created\":\"1970-01-02T00:00:00Z\",\"created_by\":\"moat commit\","
		    "\"author\":\"A <a@x>\",\"comment\":\"msg\"}");
	json_decref(j);

	/* An empty layer: no DiffID, an empty_layer entry; a parent history
	 * that covers its layers is kept as it is; no author, none kept. */
	const char *withhist = "{\"author\":\"old\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
			       "[\"" DIFF "\"]},\"history\":[{\"created_by\":\"ADD x\"},"
			       "{\"created_by\":\"ENV\",\"empty_layer\":true}]}";
	m = meta0;
	m.diff_id = NULL;
	assert_int_equal(
	    image_commit_config(withhist, strlen(withhist), NULL, &m, &out, &len, &err), 0);
	j = json_loads(out, 0, NULL);
	free(out);
	assert_null(json_object_get(j, "author"));
	expect_json(json_object_get(json_object_get(j, "rootfs"), "diff_ids"), "[\"" DIFF "\"]");
	h = json_object_get(j, "history");
	assert_int_equal(json_array_size(h), 3);
	expect_json(json_object_get(json_array_get(h, 2), "empty_layer"), "true");
	json_decref(j);

	/* Bad parents and metadata. */
	assert_true(image_commit_config("[]", 2, NULL, &meta0, &out, &len, &err) < 0);
	err_free(&err);
	assert_true(image_commit_config("{", 1, NULL, &meta0, &out, &len, &err) < 0);
	err_free(&err);
	assert_true(image_commit_config("{\"config\":{\"Env\":\"x\"}}", 23,
					(char *const[]){"ENV a=b", NULL}, &meta0, &out, &len,
					&err) < 0);
	err_free(&err);
	assert_true(image_commit_config("{\"history\":[1]}", 15, NULL, &meta0, &out, &len, &err) <
		    0);
	err_free(&err);
	m = meta0;
	m.diff_id = "sha256:nothex";
	assert_true(image_commit_config(BASE, strlen(BASE), NULL, &m, &out, &len, &err) < 0);
	err_free(&err);
}

/* ---- the tar ---- */

static void write_file(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

struct listed {
	char line[256];
};

/* "path type size" per entry of the tar at FD. */
static size_t list_tar(int fd, struct listed *out, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t n = 0;

	assert_non_null(a);
	archive_read_support_format_tar(a);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK && n < max) {
		const char *hl = archive_entry_hardlink(e);
		snprintf(out[n++].line, sizeof(out[0].line), "%s %c%s%s", archive_entry_pathname(e),
			 hl					 ? 'h'
			 : archive_entry_filetype(e) == AE_IFDIR ? 'd'
			 : archive_entry_filetype(e) == AE_IFLNK ? 'l'
								 : 'f',
			 hl ? ">" : "", hl ? hl : "");
	}
	archive_read_free(a);
	return n;
}

static bool has(const struct listed *l, size_t n, const char *line)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].line, line))
			return true;
	return false;
}

static size_t index_of(const struct listed *l, size_t n, const char *line)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].line, line))
			return i;
	fail_msg("no entry \"%s\"", line);
	return 0;
}

static void test_tar_whiteouts(void **state)
{
	(void)state;
	char dir[] = "/tmp/moat-commit-test.XXXXXX";
	struct err *err = NULL;
	struct listed l[64];
	uint64_t entries = 0;
	int root, sub, out;
	size_t n;

	if (image_archive_load(&err) < 0)
		fail_msg("libarchive: %s", err->msg);
	assert_non_null(mkdtemp(dir));
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	assert_int_equal(mkdirat(root, "etc", 0755), 0);
	sub = openat(root, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	write_file(sub, "passwd", "root:x:0:0::/:/bin/sh\n");
	assert_int_equal(linkat(sub, "passwd", sub, "passwd-", 0), 0);
	write_file(sub, "hosts", "mount target\n");
	/* The overlay's whiteout: a 0/0 character device (no privilege
	 * needed since Linux 5.8). */
	assert_int_equal(mknodat(sub, "group", S_IFCHR | 0, makedev(0, 0)), 0);
	assert_int_equal(symlinkat("/nowhere", sub, "link"), 0);
	close(sub);
	assert_int_equal(mkdirat(root, "data", 0755), 0);
	sub = openat(root, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	write_file(sub, "new", "n");
	if (fsetxattr(sub, "user.overlay.opaque", "y", 1, 0) < 0)
		fail_msg("user xattrs on %s: %s", dir, strerror(errno));
	close(sub);
	assert_int_equal(mkdirat(root, "proc", 0755), 0);

	char tpath[64];
	snprintf(tpath, sizeof(tpath), "%s.tar", dir);
	out = open(tpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	const char *skip[] = {"etc/hosts", "proc", NULL};
	if (image_commit_tar(root, out, skip, &entries, &err) < 0)
		fail_msg("tar: %s", err->msg);
	n = list_tar(out, l, 64);
	assert_int_equal(n, entries);
	assert_int_equal(n, 8);
	assert_true(has(l, n, "etc/ d"));
	assert_true(has(l, n, "etc/.wh.group f"));
	assert_true(has(l, n, "etc/passwd f"));
	assert_true(has(l, n, "etc/passwd- h>etc/passwd"));
	assert_true(has(l, n, "etc/link l"));
	assert_true(has(l, n, "data/ d"));
	assert_true(has(l, n, "data/.wh..wh..opq f"));
	assert_true(has(l, n, "data/new f"));
	/* The opaque marker right after its directory, before its content. */
	assert_int_equal(index_of(l, n, "data/.wh..wh..opq f"), index_of(l, n, "data/ d") + 1);
	assert_true(index_of(l, n, "data/new f") > index_of(l, n, "data/.wh..wh..opq f"));
	close(out);
	unlink(tpath);

	/* An empty directory is an empty layer. */
	out = open(tpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char empty[] = "/tmp/moat-commit-empty.XXXXXX";
	assert_non_null(mkdtemp(empty));
	int efd = open(empty, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(image_commit_tar(efd, out, NULL, &entries, &err), 0);
	assert_int_equal(entries, 0);
	close(efd);
	rmdir(empty);
	close(out);
	unlink(tpath);

	/* An unwritable output fails with an error, not a short tar. */
	out = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (out >= 0) {
		assert_true(image_commit_tar(root, out, NULL, &entries, &err) < 0);
		assert_non_null(err);
		err_free(&err);
		close(out);
	}
	close(root);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmd_entrypoint),
	    cmocka_unit_test(test_env_label),
	    cmocka_unit_test(test_expose_volume_user_workdir_signal),
	    cmocka_unit_test(test_change_errors),
	    cmocka_unit_test(test_config_meta),
	    cmocka_unit_test(test_tar_whiteouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for engine/diff.c (pure): Docker's A/C/D classification of a
 * container's upper layer against its image. The image is a table here;
 * its lookups are counted, and can be made to fail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/diff.h"

/* ---- a fake image ---- */

struct img_entry {
	const char *path;
	bool dir;
	uint32_t mode, uid, gid;
};

struct img {
	const struct img_entry *v; /* NULL-path terminated */
	int lookups, lists;
	const char *fail_lookup; /* this lookup fails with -EIO */
	bool fail_list;
	const char *bad_name; /* list adds this name */
};

static int img_lookup(void *arg, const char *path, struct diff_lower *out, struct err **err)
{
	struct img *im = arg;

	im->lookups++;
	if (im->fail_lookup && !strcmp(path, im->fail_lookup))
		return err_set(err, EIO, "lookup of %s failed", path);
	for (const struct img_entry *e = im->v; e->path; e++) {
		if (!strcmp(e->path, path)) {
			*out = (struct diff_lower){e->dir, e->mode, e->uid, e->gid};
			return 1;
		}
	}
	return 0;
}

static int img_list(void *arg, const char *path, char ***names, struct err **err)
{
	struct img *im = arg;
	size_t n = 0, len = strlen(path);
	char **v = calloc(64, sizeof(*v));

	im->lists++;
	assert_non_null(v);
	if (im->fail_list) {
		free(v);
		return err_set(err, EACCES, "cannot list %s", path);
	}
	for (const struct img_entry *e = im->v; e->path; e++) {
		const char *rest = e->path + len;
		if (strncmp(e->path, path, len) || rest[0] != '/' || strchr(rest + 1, '/'))
			continue;
		assert_true(n < 62);
		v[n++] = strdup(rest + 1);
	}
	if (im->bad_name)
		v[n++] = strdup(im->bad_name);
	*names = v;
	return 0;
}

static const struct diff_lower_ops ops = {img_lookup, img_list};

#define D(p)                        \
	{                           \
		p, true, 0755, 0, 0 \
	}
#define F(p)                         \
	{                            \
		p, false, 0644, 0, 0 \
	}

/* The demo image, roughly. */
static const struct img_entry busybox[] = {
    D("/bin"),
    F("/bin/busybox"),
    F("/bin/ls"),
    F("/bin/sh"),
    D("/etc"),
    F("/etc/passwd"),
    F("/etc/group"),
    D("/etc/ssl"),
    F("/etc/ssl/cert.pem"),
    {"/tmp", true, 01777, 0, 0},
    D("/var"),
    D("/var/lib"),
    F("/var/lib/a"),
    F("/var/lib/b"),
    F("/var/lib/keep"),
    D("/home"),
    F("/x-file"),
    D("/y-dir"),
    F("/y-dir/inner"),
    {NULL, false, 0, 0, 0},
};

/* Upper-layer entries. */
#define UD(p)                                                   \
	{                                                       \
		.path = p, .type = DIFF_ENTRY_DIR, .mode = 0755 \
	}
#define UF(p)                                                     \
	{                                                         \
		.path = p, .type = DIFF_ENTRY_OTHER, .mode = 0644 \
	}
#define UW(p)                                          \
	{                                              \
		.path = p, .type = DIFF_ENTRY_WHITEOUT \
	}

/* Runs the classification and compares with EXPECT ("C /etc\nA /x\n"). */
static void diff_is(const struct diff_entry *e, size_t n, const char *const *hidden, struct img *im,
		    const char *expect)
{
	struct diff_change *c = NULL;
	struct err *err = NULL;
	size_t nc = 99;
	char buf[4096] = "";
	size_t off = 0;
	int r = diff_changes_classify(e, n, hidden, &ops, im, &c, &nc, &err);

	if (r < 0)
		fail_msg("classify: %s", err ? err->msg : "?");
	assert_null(err);
	assert_non_null(c);
	for (size_t i = 0; i < nc; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%c %s\n", (char)c[i].kind,
					c[i].path);
	assert_string_equal(buf, expect);
	diff_changes_free(c, nc);
}

static void classify_fails(const struct diff_entry *e, size_t n, struct img *im, int code,
			   const char *msg_part)
{
	struct diff_change *c = NULL;
	struct err *err = NULL;
	size_t nc = 77;
	int r = diff_changes_classify(e, n, NULL, &ops, im, &c, &nc, &err);

	assert_int_equal(r, -code);
	assert_non_null(err);
	assert_int_equal(err->code, code);
	if (!strstr(err->msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg_part);
	assert_null(c);
	assert_int_equal(nc, 77);
	err_free(&err);
}

/* ---- paths ---- */

static void test_path_valid(void **state)
{
	static const char *const good[] = {"/a", "/a/b", "/.a", "/a..", "/...", "/a b/c", "/é"};
	static const char *const bad[] = {NULL,	 "",   "/",   "a",    "a/b",	 "//a",	 "/a//b",
					  "/a/", "/.", "/..", "/a/.", "/a/../b", "/./a", "./a"};
	char longp[DIFF_PATH_MAX + 8];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(diff_path_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(diff_path_valid(bad[i]));
	longp[0] = '/';
	memset(longp + 1, 'x', DIFF_PATH_MAX - 2);
	longp[DIFF_PATH_MAX - 1] = 0; /* strlen DIFF_PATH_MAX - 1: the longest allowed */
	assert_true(diff_path_valid(longp));
	longp[DIFF_PATH_MAX - 1] = 'x';
	longp[DIFF_PATH_MAX] = 0;
	assert_false(diff_path_valid(longp));
}

static void test_path_cmp(void **state)
{
	assert_int_equal(diff_path_cmp("/a", "/a"), 0);
	assert_true(diff_path_cmp("/a", "/a/b") < 0);
	assert_true(diff_path_cmp("/a/b", "/a-b") < 0); /* '-' < '/' in ASCII, not here */
	assert_true(diff_path_cmp("/a-b", "/a/b") > 0);
	assert_true(diff_path_cmp("/a/z", "/a.b") < 0);
	assert_true(diff_path_cmp("/ab", "/a/b") > 0);
	assert_true(diff_path_cmp("/b", "/a/z") > 0);
	assert_true(diff_path_cmp("/\xc3\xa9", "/z") > 0); /* bytes, unsigned */
}

/* ---- classification ---- */

static void test_empty(void **state)
{
	struct img im = {.v = busybox};

	diff_is(NULL, 0, NULL, &im, "");
	assert_int_equal(im.lookups, 0);
}

static void test_modified_file_marks_parent(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {UF("/etc/passwd"), UD("/etc")};

	diff_is(e, 2, NULL, &im, "C /etc\nC /etc/passwd\n");
}

static void test_added_and_deleted(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {
	    UW("/etc/group"),	 UD("/etc"),
	    UF("/tmp/new"),	 {.path = "/tmp", .type = DIFF_ENTRY_DIR, .mode = 01777},
	    UD("/newdir"),	 UD("/newdir/sub"),
	    UF("/newdir/sub/f"), UD("/empty"),
	};

	diff_is(e, sizeof(e) / sizeof(e[0]), NULL, &im,
		"A /empty\nC /etc\nD /etc/group\nA /newdir\nA /newdir/sub\nA /newdir/sub/f\n"
		"C /tmp\nA /tmp/new\n");
	/* nothing below a new directory is looked up: 6 lookups, not 8 */
	assert_int_equal(im.lookups, 6);
}

static void test_whiteout_over_nothing(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {UD("/etc"), UW("/etc/never-there")};

	/* hides nothing, so /etc (same as in the image) is no change either */
	diff_is(e, 2, NULL, &im, "");
}

static void test_directory_metadata(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry same[] = {UD("/home")};
	struct diff_entry mode[] = {{.path = "/home", .type = DIFF_ENTRY_DIR, .mode = 0700}};
	struct diff_entry uid[] = {
	    {.path = "/home", .type = DIFF_ENTRY_DIR, .mode = 0755, .uid = 5}};
	struct diff_entry gid[] = {
	    {.path = "/home", .type = DIFF_ENTRY_DIR, .mode = 0755, .gid = 5}};
	/* file type bits are not permission bits */
	struct diff_entry tbits[] = {{.path = "/home", .type = DIFF_ENTRY_DIR, .mode = 040755}};

	diff_is(same, 1, NULL, &im, "");
	diff_is(mode, 1, NULL, &im, "C /home\n");
	diff_is(uid, 1, NULL, &im, "C /home\n");
	diff_is(gid, 1, NULL, &im, "C /home\n");
	diff_is(tbits, 1, NULL, &im, "");
}

static void test_type_changes(void **state)
{
	struct img im = {.v = busybox};
	/* a file became a directory (with a file in it); a directory a file */
	struct diff_entry e[] = {UD("/x-file"), UF("/x-file/in"), UF("/y-dir")};

	diff_is(e, 3, NULL, &im, "C /x-file\nA /x-file/in\nC /y-dir\n");
}

static void test_opaque_directory(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {
	    UD("/var"),
	    {.path = "/var/lib", .type = DIFF_ENTRY_DIR, .opaque = true, .mode = 0755},
	    UF("/var/lib/keep"),
	    UF("/var/lib/new"),
	};

	diff_is(
	    e, 4, NULL, &im,
	    "C /var\nC /var/lib\nD /var/lib/a\nD /var/lib/b\nC /var/lib/keep\nA /var/lib/new\n");
	assert_int_equal(im.lists, 1);
}

static void test_opaque_empty_and_new(void **state)
{
	struct img im = {.v = busybox};
	/* rm -rf /var/lib; mkdir /var/lib: an empty opaque dir */
	struct diff_entry e[] = {
	    UD("/var"),
	    {.path = "/var/lib", .type = DIFF_ENTRY_DIR, .opaque = true, .mode = 0755},
	    /* opaque but new: nothing to delete, nothing listed */
	    {.path = "/brand", .type = DIFF_ENTRY_DIR, .opaque = true, .mode = 0755},
	};

	diff_is(e, 3, NULL, &im,
		"A /brand\nC /var\nC /var/lib\nD /var/lib/a\nD /var/lib/b\nD /var/lib/keep\n");
	assert_int_equal(im.lists, 1);
}

static void test_unreadable_directory(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {
	    {.path = "/home", .type = DIFF_ENTRY_DIR, .unreadable = true, .mode = 0755},
	    {.path = "/secret", .type = DIFF_ENTRY_DIR, .unreadable = true, .mode = 0700},
	};

	diff_is(e, 2, NULL, &im, "C /home\nA /secret\n");
}

static void test_mount_targets_hidden(void **state)
{
	struct img im = {.v = busybox};
	/* what every started container has in its upper layer */
	struct diff_entry fresh[] = {
	    UD("/etc"),	 UF("/etc/hosts"), UF("/etc/hostname"), UF("/etc/resolv.conf"),
	    UD("/proc"), UD("/sys"),	   UD("/dev")};
	struct diff_entry edited[] = {UD("/etc"), UF("/etc/hosts"), UF("/etc/passwd")};
	struct img noetc = {.v = (const struct img_entry[]){D("/bin"), {NULL, false, 0, 0, 0}}};
	/* the image has no /etc: moat made it for its mount targets only */
	struct diff_entry made[] = {UD("/etc"), UF("/etc/hosts")};
	struct diff_entry made_and_used[] = {UD("/etc"), UF("/etc/hosts"), UF("/etc/motd")};

	diff_is(fresh, 7, diff_mount_targets, &im, "");
	diff_is(edited, 3, diff_mount_targets, &im, "C /etc\nC /etc/passwd\n");
	diff_is(made, 2, diff_mount_targets, &noetc, "");
	diff_is(made_and_used, 3, diff_mount_targets, &noetc, "A /etc\nA /etc/motd\n");
	/* without the list they are ordinary files */
	diff_is(edited, 3, NULL, &im, "C /etc\nA /etc/hosts\nC /etc/passwd\n");
	/* hidden names match whole components only */
	struct diff_entry near[] = {UF("/procfile"), UD("/sys2")};
	diff_is(near, 2, diff_mount_targets, &im, "A /procfile\nA /sys2\n");
}

static void test_hidden_not_deleted_by_opaque(void **state)
{
	struct img im = {.v = (const struct img_entry[]){
			     D("/etc"), F("/etc/hosts"), F("/etc/motd"), {NULL, false, 0, 0, 0}}};
	struct diff_entry e[] = {
	    {.path = "/etc", .type = DIFF_ENTRY_DIR, .opaque = true, .mode = 0755},
	};

	diff_is(e, 1, diff_mount_targets, &im, "C /etc\nD /etc/motd\n");
}

static void test_order_is_depth_first(void **state)
{
	struct img im = {.v = (const struct img_entry[]){{NULL, false, 0, 0, 0}}};
	struct diff_entry e[] = {UF("/a-b"), UF("/a/b"), UD("/a"),
				 UF("/a.c"), UF("/B"),	 UF("/a/a")};

	diff_is(e, 6, NULL, &im, "A /B\nA /a\nA /a/a\nA /a/b\nA /a-b\nA /a.c\n");
}

static void test_missing_parents_tolerated(void **state)
{
	struct img im = {.v = busybox};
	/* a caller may pass only leaves: they are classified on their own */
	struct diff_entry e[] = {UF("/etc/ssl/cert.pem"), UF("/etc/ssl/new")};

	diff_is(e, 2, NULL, &im, "C /etc/ssl/cert.pem\nA /etc/ssl/new\n");
}

/* ---- errors ---- */

static void test_bad_paths(void **state)
{
	struct img im = {.v = busybox};
	static const char *const bad[] = {"relative", "/a/", "//a", "/a/./b", "/a/../b", "/"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct diff_entry e[] = {UD("/etc"), {.path = bad[i], .type = DIFF_ENTRY_OTHER}};
		classify_fails(e, 2, &im, EINVAL, "bad path");
	}
	struct diff_entry null[] = {{.path = NULL}};
	classify_fails(null, 1, &im, EINVAL, "(null)");
	assert_int_equal(im.lookups, 0); /* checked before anything is asked */
}

static void test_duplicates(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {UF("/etc/passwd"), UD("/etc"), UW("/etc/passwd")};

	classify_fails(e, 3, &im, EINVAL, "listed twice");
}

static void test_too_many(void **state)
{
	struct img im = {.v = busybox};
	struct diff_entry e[] = {UF("/a")};

	/* refused on the count alone: E is not read past its one entry */
	classify_fails(e, (size_t)DIFF_MAX_ENTRIES + 1, &im, E2BIG, "more than");
}

static void test_lookup_error(void **state)
{
	struct img im = {.v = busybox, .fail_lookup = "/etc/passwd"};
	struct diff_entry e[] = {UD("/etc"), UF("/etc/group"), UF("/etc/passwd"), UF("/z")};

	classify_fails(e, 4, &im, EIO, "lookup of /etc/passwd failed");
}

static void test_list_errors(void **state)
{
	struct img im = {.v = busybox, .fail_list = true};
	struct diff_entry e[] = {
	    UD("/var"),
	    UF("/var/zz"),
	    {.path = "/var/lib", .type = DIFF_ENTRY_DIR, .opaque = true, .mode = 0755},
	    UF("/var/lib/new"),
	};

	classify_fails(e, 4, &im, EACCES, "cannot list /var/lib");
	im = (struct img){.v = busybox, .bad_name = "../../etc"};
	classify_fails(e, 4, &im, EINVAL, "bad name");
	im = (struct img){.v = busybox, .bad_name = ""};
	classify_fails(e, 4, &im, EINVAL, "bad name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_valid),
	    cmocka_unit_test(test_path_cmp),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_modified_file_marks_parent),
	    cmocka_unit_test(test_added_and_deleted),
	    cmocka_unit_test(test_whiteout_over_nothing),
	    cmocka_unit_test(test_directory_metadata),
	    cmocka_unit_test(test_type_changes),
	    cmocka_unit_test(test_opaque_directory),
	    cmocka_unit_test(test_opaque_empty_and_new),
	    cmocka_unit_test(test_unreadable_directory),
	    cmocka_unit_test(test_mount_targets_hidden),
	    cmocka_unit_test(test_hidden_not_deleted_by_opaque),
	    cmocka_unit_test(test_order_is_depth_first),
	    cmocka_unit_test(test_missing_parents_tolerated),
	    cmocka_unit_test(test_bad_paths),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_lookup_error),
	    cmocka_unit_test(test_list_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

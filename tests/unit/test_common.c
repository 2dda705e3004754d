/*
 * Unit tests for common/: the error contract and fd-relative paths, with
 * both the openat2 path and the fallback walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"

static char base[256];
static int rootfd = -1;

/* A tree: root/{a/b/file, link_abs -> /a, link_up -> ../../.., dir/} and an
 * outside file next to root that must never be reached. */
static int setup(void **state)
{
	char p[512];

	snprintf(base, sizeof(base), "/tmp/moat-test-common-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(p, sizeof(p), "%s/outside", base);
	assert_int_equal(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	snprintf(p, sizeof(p), "%s/root", base);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/root/a", base);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/a/b", base);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/a/b/file", base);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_int_equal(write(fd, "inside", 6), 6);
	close(fd);
	snprintf(p, sizeof(p), "%s/root/link_abs", base);
	assert_int_equal(symlink("/a", p), 0);
	snprintf(p, sizeof(p), "%s/root/link_up", base);
	assert_int_equal(symlink("../../../../outside", p), 0);
	snprintf(p, sizeof(p), "%s/root/dotdot", base);
	assert_int_equal(symlink("..", p), 0);
	snprintf(p, sizeof(p), "%s/root", base);
	rootfd = open(p, O_PATH | O_DIRECTORY);
	assert_true(rootfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	close(rootfd);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, base, NULL), 0);
	assert_int_equal(access(base, F_OK), -1);
	return 0;
}

static void read_is(int fd, const char *want)
{
	char buf[64] = {0};

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(want));
	assert_string_equal(buf, want);
	close(fd);
}

static void check_beneath(bool fallback)
{
	struct err *e = NULL;
	int fd;

	path_force_fallback(fallback);
	read_is(path_open_beneath(rootfd, "/a/b/file", O_RDONLY, 0, &e), "inside");
	read_is(path_open_beneath(rootfd, "link_abs/b/file", O_RDONLY, 0, &e), "inside");
	read_is(path_open_beneath(rootfd, "../../a/b/../b/file", O_RDONLY, 0, &e), "inside");
	read_is(path_open_beneath(rootfd, "dotdot/dotdot/a/b/file", O_RDONLY, 0, &e), "inside");
	/* link_up points above the root: it resolves to /outside beneath
	 * the root, which does not exist - never to the real outside file. */
	fd = path_open_beneath(rootfd, "link_up", O_RDONLY, 0, &e);
	assert_true(fd < 0);
	assert_int_equal(e->code, ENOENT);
	err_free(&e);
	/* O_NOFOLLOW on the last component returns the link itself or fails. */
	fd = path_open_beneath(rootfd, "link_abs", O_RDONLY | O_NOFOLLOW, 0, &e);
	assert_true(fd < 0);
	err_free(&e);
	fd = path_open_beneath(rootfd, "link_abs", O_PATH | O_NOFOLLOW, 0, &e);
	assert_true(fd >= 0);
	close(fd);
	/* O_CREAT through an absolute symlink lands inside. */
	fd = path_open_beneath(rootfd, "link_abs/new", O_CREAT | O_WRONLY, 0600, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(faccessat(rootfd, "a/new", F_OK, 0), 0);
	unlinkat(rootfd, "a/new", 0);
	fd = path_open_beneath(rootfd, "", O_RDONLY, 0, &e);
	assert_true(fd < 0);
	err_free(&e);
	path_force_fallback(false);
}

static void test_beneath_openat2(void **state)
{
	check_beneath(false);
}

static void test_beneath_fallback(void **state)
{
	check_beneath(true);
}

static void test_mkdir_beneath(void **state)
{
	struct err *e = NULL;
	int fd;

	fd = path_mkdir_beneath(rootfd, "link_abs/x/y", 0755, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(faccessat(rootfd, "a/x/y", F_OK, 0), 0);
	assert_true(path_mkdir_beneath(rootfd, "a/../b", 0755, &e) < 0);
	err_free(&e);
}

static void test_read_cap_and_atomic(void **state)
{
	struct err *e = NULL;
	int dfd = open(base, O_DIRECTORY | O_RDONLY);
	char *out = NULL;
	size_t len;

	assert_int_equal(fs_write_atomic(dfd, "f", "0123456789", 10, 0600, &e), 0);
	assert_int_equal(fs_read_at(dfd, "f", 10, &out, &len, &e), 0);
	assert_int_equal(len, 10);
	free(out);
	assert_true(fs_read_at(dfd, "f", 9, &out, &len, &e) < 0);
	assert_int_equal(e->code, EFBIG);
	err_free(&e);
	close(dfd);
}

static void test_err_prefix(void **state)
{
	struct err *e = NULL;

	assert_int_equal(err_errno(&e, ENOENT, "open \"%s\"", "x"), -ENOENT);
	assert_int_equal(err_prefix(&e, "layer %d", 3), -ENOENT);
	assert_string_equal(e->msg, "layer 3: open \"x\": No such file or directory");
	err_free(&e);
	assert_null(e);
}

static void test_digest(void **state)
{
	char hex[65], id1[65], id2[65];

	digest_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(digest_valid(
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(digest_valid(
	    "sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(digest_valid("sha256:abc"));
	/* FIPS 180-4 vectors: empty, two blocks, and a million 'a's fed in
	 * odd-sized pieces through the streaming interface. */
	digest_sha256_hex("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	{
		static char a[1000];
		struct digest_ctx *c = digest_ctx_new();
		size_t done = 0, step = 1;

		memset(a, 'a', sizeof(a));
		assert_non_null(c);
		while (done < 1000000) {
			size_t n = step % 997 + 1;
			if (n > 1000000 - done)
				n = 1000000 - done;
			digest_ctx_update(c, a, n);
			done += n;
			step = step * 31 + 7;
		}
		digest_ctx_final(c, hex);
		assert_string_equal(
		    hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	assert_int_equal(digest_random_id(id1, NULL), 0);
	assert_int_equal(digest_random_id(id2, NULL), 0);
	assert_true(digest_hex_valid(id1));
	assert_string_not_equal(id1, id2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_beneath_openat2), cmocka_unit_test(test_beneath_fallback),
	    cmocka_unit_test(test_mkdir_beneath),   cmocka_unit_test(test_read_cap_and_atomic),
	    cmocka_unit_test(test_err_prefix),	    cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

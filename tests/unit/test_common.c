/*
 * Unit tests for common/: the error contract, fd-relative paths (both the
 * openat2 path and the fallback walk), and SHA-256/HMAC through both
 * compression functions. `test_common --bench-sha256` prints their speed.
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
#include <time.h>
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
	char id1[65], id2[65];

	assert_true(digest_valid(
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(digest_valid(
	    "sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(digest_valid("sha256:abc"));
	assert_int_equal(digest_random_id(id1, NULL), 0);
	assert_int_equal(digest_random_id(id2, NULL), 0);
	assert_true(digest_hex_valid(id1));
	assert_string_not_equal(id1, id2);
}

/*
 * SHA-256 has two compression functions (common/digest.c): the portable
 * one and, on x86-64 CPUs with the SHA extensions, SHA-NI. Every vector
 * below runs through both; the randomised tests compare them with each
 * other. /proc/cpuinfo is the independent witness of what the CPU has, so
 * a broken detection fails here instead of silently running generic code.
 */

/* 1 when the kernel reports sha_ni, ssse3 and sse4_1; 0 when it does not
 * (or this is not x86-64); -1 when /proc/cpuinfo cannot be read. */
static int cpu_reports_shani(void)
{
#if defined(__x86_64__)
	char line[8192];
	int found = -1;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');
		if (strncmp(line, "flags", 5))
			continue;
		if (nl)
			*nl = ' ';
		found =
		    strstr(line, " sha_ni ") && strstr(line, " ssse3 ") && strstr(line, " sse4_1 ");
		break;
	}
	fclose(f);
	return found;
#else
	return 0;
#endif
}

/* Selects the compression function for the hashes that follow; "sha-ni"
 * skips the test on CPUs without it. */
static void use_impl(const char *impl)
{
	if (!strcmp(impl, "generic")) {
		digest_sha256_force_generic(true);
		assert_string_equal(digest_sha256_impl(), "generic");
		return;
	}
	unsetenv("MOAT_SHA256_GENERIC");
	digest_sha256_force_generic(false);
	if (strcmp(digest_sha256_impl(), "sha-ni")) {
		assert_int_not_equal(cpu_reports_shani(), 1);
		skip();
	}
}

static void sha256_is(const void *buf, size_t len, const char *want)
{
	char hex[65];

	digest_sha256_hex(buf, len, hex);
	assert_string_equal(hex, want);
}

static void check_vectors(const char *impl)
{
	static char a[1000000];
	unsigned char raw[SHA256_LEN];
	char hex[65];

	use_impl(impl);
	/* FIPS 180-4 / NIST CAVS: empty, one block, the 448-bit message (its
	 * padding spills into a second block), the 896-bit message (two
	 * blocks of SHA-512's size), and one million 'a'. */
	sha256_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	sha256_is(
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
	    "nopqrlmnopqrsmnopqrstnopqrstu",
	    112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	memset(a, 'a', sizeof(a));
	sha256_is(a, sizeof(a), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	digest_sha256_raw("abc", 3, raw);
	assert_int_equal(raw[0], 0xba);
	assert_int_equal(raw[31], 0xad);
	/* The million 'a' again, in odd-sized pieces through the stream. */
	{
		struct digest_ctx *c = digest_ctx_new();
		size_t done = 0, step = 1;

		assert_non_null(c);
		while (done < sizeof(a)) {
			size_t n = step % 997 + 1;
			if (n > sizeof(a) - done)
				n = sizeof(a) - done;
			digest_ctx_update(c, a + done, n);
			done += n;
			step = step * 31 + 7;
		}
		digest_ctx_final(c, hex);
		assert_string_equal(
		    hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	digest_sha256_force_generic(false);
}

static void test_sha256_vectors_generic(void **state)
{
	check_vectors("generic");
}

static void test_sha256_vectors_shani(void **state)
{
	check_vectors("sha-ni");
}

static void check_hmac(const char *impl)
{
	/* RFC 4231 test cases 1-7 (5 truncated to 128 bits by the RFC). */
	static const unsigned char k4[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
					   14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
	unsigned char k0b[20], k0c[20], kaa[131], dd[50], cd[50];
	char out[65];

	use_impl(impl);
	memset(k0b, 0x0b, sizeof(k0b));
	memset(k0c, 0x0c, sizeof(k0c));
	memset(kaa, 0xaa, sizeof(kaa));
	memset(dd, 0xdd, sizeof(dd));
	memset(cd, 0xcd, sizeof(cd));
	digest_hmac_sha256_hex(k0b, sizeof(k0b), "Hi There", 8, out);
	assert_string_equal(out,
			    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	digest_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
	assert_string_equal(out,
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	digest_hmac_sha256_hex(kaa, 20, dd, sizeof(dd), out);
	assert_string_equal(out,
			    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	digest_hmac_sha256_hex(k4, sizeof(k4), cd, sizeof(cd), out);
	assert_string_equal(out,
			    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	digest_hmac_sha256_hex(k0c, sizeof(k0c), "Test With Truncation", 20, out);
	assert_memory_equal(out, "a3b6167473100ee06e0c796c2955552b", 32);
	digest_hmac_sha256_hex(kaa, sizeof(kaa),
			       "Test Using Larger Than Block-Size Key - Hash Key First", 54, out);
	assert_string_equal(out,
			    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	{
		const char *m = "This is a test using a larger than block-size key and a larger "
				"than block-size data. The key needs to be hashed before being "
				"used by the HMAC algorithm.";

		digest_hmac_sha256_hex(kaa, sizeof(kaa), m, strlen(m), out);
		assert_string_equal(
		    out, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	}
	digest_sha256_force_generic(false);
}

static void test_hmac_vectors_generic(void **state)
{
	check_hmac("generic");
}

static void test_hmac_vectors_shani(void **state)
{
	check_hmac("sha-ni");
}

/* The choice follows the CPU and MOAT_SHA256_GENERIC, and is cached. */
static void test_sha256_choice(void **state)
{
	const char *saved = getenv("MOAT_SHA256_GENERIC");
	char *keep = saved ? strdup(saved) : NULL;
	int cpu = cpu_reports_shani();
	const char *native;

	unsetenv("MOAT_SHA256_GENERIC");
	digest_sha256_force_generic(false);
	native = digest_sha256_impl();
	if (cpu >= 0)
		assert_string_equal(native, cpu ? "sha-ni" : "generic");
	/* Cached: changing the environment afterwards changes nothing. */
	setenv("MOAT_SHA256_GENERIC", "1", 1);
	assert_string_equal(digest_sha256_impl(), native);
	digest_sha256_force_generic(false);
	assert_string_equal(digest_sha256_impl(), "generic");
	setenv("MOAT_SHA256_GENERIC", "0", 1);
	digest_sha256_force_generic(false);
	assert_string_equal(digest_sha256_impl(), native);
	digest_sha256_force_generic(true);
	assert_string_equal(digest_sha256_impl(), "generic");
	if (keep)
		setenv("MOAT_SHA256_GENERIC", keep, 1);
	else
		unsetenv("MOAT_SHA256_GENERIC");
	free(keep);
	digest_sha256_force_generic(false);
}

/* xorshift64*: reproducible data from a seed printed with any failure. */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

static void rnd_seed(void)
{
	const char *s = getenv("MOAT_TEST_SEED");
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	rnd_state = s ? strtoull(s, NULL, 0) : (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20;
	if (!rnd_state)
		rnd_state = 1;
	print_message("sha256 random tests: MOAT_TEST_SEED=%llu\n", (unsigned long long)rnd_state);
}

static void rnd_fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd() >> 56);
}

/* The digest of P by the compression function IMPL, one-shot or streamed
 * in random pieces. */
static void hash_with(const char *impl, const unsigned char *p, size_t len, bool stream,
		      char out[65])
{
	use_impl(impl);
	if (!stream) {
		digest_sha256_hex(p, len, out);
		return;
	}
	struct digest_ctx *c = digest_ctx_new();
	size_t done = 0;

	assert_non_null(c);
	while (done < len) {
		size_t n = rnd() % 3 ? rnd() % 200 : rnd() % 70000;
		if (n > len - done)
			n = len - done;
		digest_ctx_update(c, p + done, n);
		done += n;
	}
	digest_ctx_final(c, out);
}

static void test_sha256_paths_agree(void **state)
{
	const size_t big = (3u << 20) + 37;
	unsigned char *buf = malloc(big + 16);
	char g[65], s[65];

	assert_non_null(buf);
	use_impl("sha-ni");
	rnd_seed();
	rnd_fill(buf, big + 16);
	/* Every length up to 4096 bytes, at a random misalignment. */
	for (size_t len = 0; len <= 4096; len++) {
		const unsigned char *p = buf + rnd() % 16;

		rnd_fill(buf, len + 16);
		hash_with("generic", p, len, false, g);
		hash_with("sha-ni", p, len, false, s);
		if (strcmp(g, s))
			fail_msg("length %zu: generic %s, sha-ni %s", len, g, s);
	}
	/* A few MB, whole and streamed in random pieces. */
	rnd_fill(buf, big + 16);
	hash_with("generic", buf + 3, big, false, g);
	hash_with("sha-ni", buf + 3, big, false, s);
	assert_string_equal(g, s);
	hash_with("sha-ni", buf + 3, big, true, s);
	assert_string_equal(g, s);
	hash_with("generic", buf + 3, big, true, s);
	assert_string_equal(g, s);
	free(buf);
	digest_sha256_force_generic(false);
}

/* Short inputs fed as two updates split at every offset, and byte by
 * byte, must hash as they do in one piece: the buffering around block
 * and padding boundaries (55, 56, 63, 64, 119, 120 bytes) is where
 * streaming code breaks. */
static void check_incremental(const char *impl)
{
	unsigned char buf[300];
	char whole[65], part[65];

	use_impl(impl);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 151 + 17);
	for (size_t len = 0; len <= 260; len++) {
		struct digest_ctx *c;

		digest_sha256_hex(buf, len, whole);
		for (size_t k = 0; k <= len; k++) {
			c = digest_ctx_new();
			assert_non_null(c);
			digest_ctx_update(c, buf, k);
			digest_ctx_update(c, buf + k, len - k);
			digest_ctx_final(c, part);
			if (strcmp(whole, part))
				fail_msg("%s: length %zu split at %zu", impl, len, k);
		}
		c = digest_ctx_new();
		assert_non_null(c);
		for (size_t k = 0; k < len; k++)
			digest_ctx_update(c, buf + k, 1);
		digest_ctx_update(c, NULL, 0);
		digest_ctx_final(c, part);
		assert_string_equal(whole, part);
	}
	digest_sha256_force_generic(false);
}

static void test_sha256_incremental_generic(void **state)
{
	check_incremental("generic");
}

static void test_sha256_incremental_shani(void **state)
{
	check_incremental("sha-ni");
}

/*
 * `test_common --bench-sha256`: throughput of both compression functions.
 * Not a test: it prints numbers and fails on nothing.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of five, in MB/s (10^6 bytes): hashes of SIZE bytes in one call,
 * in CHUNK-byte updates, or as separate SIZE-byte messages if CHUNK is 0. */
static double bench_rate(const unsigned char *buf, size_t size, size_t chunk, size_t total)
{
	double best = 0;
	char hex[65];

	for (int r = 0; r < 5; r++) {
		double t = now();

		if (!chunk) {
			for (size_t done = 0; done < total; done += size)
				digest_sha256_hex(buf, size, hex);
		} else {
			struct digest_ctx *c = digest_ctx_new();

			if (!c)
				return 0;
			for (size_t done = 0; done < size; done += chunk)
				digest_ctx_update(c, buf + done,
						  size - done < chunk ? size - done : chunk);
			digest_ctx_final(c, hex);
		}
		t = now() - t;
		if ((double)total / 1e6 / t > best)
			best = (double)total / 1e6 / t;
	}
	return best;
}

static int bench_sha256(void)
{
	const size_t size = 64u << 20;
	const char *impls[] = {"generic", "sha-ni"};
	unsigned char *buf = malloc(size);

	if (!buf)
		return 1;
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 131 + i / 4099);
	printf("sha256 MB/s (10^6 B/s, best of 5)\n");
	printf("%-8s %14s %14s %14s\n", "impl", "64MiB one-shot", "64KiB updates", "64B messages");
	for (size_t i = 0; i < 2; i++) {
		if (i)
			unsetenv("MOAT_SHA256_GENERIC");
		digest_sha256_force_generic(!i);
		if (strcmp(digest_sha256_impl(), impls[i])) {
			printf("%-8s %14s\n", impls[i], "(not on this CPU)");
			continue;
		}
		printf("%-8s %14.0f %14.0f %14.0f\n", impls[i], bench_rate(buf, size, 0, size),
		       bench_rate(buf, size, 64 << 10, size), bench_rate(buf, 64, 0, 16u << 20));
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_beneath_openat2),
	    cmocka_unit_test(test_beneath_fallback),
	    cmocka_unit_test(test_mkdir_beneath),
	    cmocka_unit_test(test_read_cap_and_atomic),
	    cmocka_unit_test(test_err_prefix),
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_sha256_choice),
	    cmocka_unit_test(test_sha256_vectors_generic),
	    cmocka_unit_test(test_sha256_vectors_shani),
	    cmocka_unit_test(test_hmac_vectors_generic),
	    cmocka_unit_test(test_hmac_vectors_shani),
	    cmocka_unit_test(test_sha256_incremental_generic),
	    cmocka_unit_test(test_sha256_incremental_shani),
	    cmocka_unit_test(test_sha256_paths_agree),
	};

	if (argc > 1 && !strcmp(argv[1], "--bench-sha256"))
		return bench_sha256();
	return cmocka_run_group_tests(tests, setup, teardown);
}

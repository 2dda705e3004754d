/*
 * tests/unit/test_ipam.c - net/ipam.c: dynamic allocation order, the
 * rotating hint (and a forged one), exhaustion, requested addresses (every
 * refusal), release and release by owner, owner id checks, damaged lease
 * files (empty, torn, a symlink, a FIFO, a directory) and reclaim,
 * persistence across handles, IPv6, the lock (a second process waits),
 * crashes (a process killed holding the lock with an empty lease), and 8
 * processes allocating 100 addresses each from one /20 with no duplicate.
 *
 * Each test works in its own mkdtemp directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "net/ipam.h"

#define OWNER_A "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
#define OWNER_B "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"

struct fix {
	char base[64];
	char dir[96];
	int dirfd;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->base, "/tmp/moat-ipam-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->dir, sizeof(f->dir), "%s/leases", f->base);
	f->dirfd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	if (f->dirfd >= 0)
		close(f->dirfd);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, f->base, NULL), 0);
	free(f);
	return 0;
}

static struct net_addr addr(const char *s)
{
	struct net_addr a;

	assert_int_equal(net_addr_parse(s, &a, NULL), 0);
	return a;
}

static struct net_ipam *open_pool(struct fix *f, const char *subnet, const char *range,
				  const char *gw)
{
	struct net_cidr s, r;
	struct net_addr g;
	struct net_ipam *ipam = NULL;
	struct err *err = NULL;

	assert_int_equal(net_cidr_parse(subnet, "subnet", &s, NULL), 0);
	if (range)
		assert_int_equal(net_cidr_parse(range, "ip-range", &r, NULL), 0);
	if (gw)
		g = addr(gw);
	if (net_ipam_open(f->dir, &s, range ? &r : NULL, gw ? &g : NULL, &ipam, &err) < 0) {
		print_error("open: %s\n", err->msg);
		fail();
	}
	if (f->dirfd < 0)
		f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dirfd >= 0);
	return ipam;
}

static void expect_msg(struct err *err, const char *want)
{
	assert_non_null(err);
	if (!strstr(err->msg, want)) {
		print_error("want \"%s\"\n got \"%s\"\n", want, err->msg);
		fail();
	}
}

/* Allocates for OWNER and checks the address is WANT (NULL: any). */
static struct net_addr alloc(struct net_ipam *ipam, const char *owner, const char *want)
{
	struct net_addr a;
	char text[NET_ADDR_TEXT_MAX];
	struct err *err = NULL;

	if (net_ipam_allocate(ipam, owner, NULL, &a, &err) < 0) {
		print_error("allocate: %s\n", err->msg);
		fail();
	}
	net_addr_format(&a, text);
	if (want && strcmp(text, want)) {
		print_error("allocated %s, want %s\n", text, want);
		fail();
	}
	return a;
}

static void alloc_want_ok(struct net_ipam *ipam, const char *owner, const char *want)
{
	struct net_addr w = addr(want), a;
	struct err *err = NULL;

	memset(&a, 0, sizeof(a));
	if (net_ipam_allocate(ipam, owner, &w, &a, &err) < 0) {
		print_error("allocate %s: %s\n", want, err->msg);
		fail();
	}
	assert_true(net_addr_equal(&a, &w));
}

static void alloc_want_bad(struct net_ipam *ipam, const char *owner, const char *want, int code,
			   const char *msg)
{
	struct net_addr w = addr(want), a;
	struct err *err = NULL;

	assert_int_equal(net_ipam_allocate(ipam, owner, &w, &a, &err), -code);
	expect_msg(err, msg);
	err_free(&err);
}

static void write_file(struct fix *f, const char *name, const char *text, size_t len)
{
	int fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static char *read_file(struct fix *f, const char *name)
{
	char *text = NULL;

	if (fs_read_at(f->dirfd, name, 4096, &text, NULL, NULL) < 0)
		return NULL;
	return text;
}

static bool exists(struct fix *f, const char *name)
{
	struct stat st;

	return fstatat(f->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Every lease as "ADDR=OWNER" lines, by address. */
static char *dump(struct net_ipam *ipam)
{
	struct net_ipam_lease *v = NULL;
	struct err *err = NULL;
	size_t n = 0, used = 0;
	char *out = calloc(1, 65536);

	assert_non_null(out);
	assert_int_equal(net_ipam_list(ipam, &v, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		char text[NET_ADDR_TEXT_MAX];

		net_addr_format(&v[i].addr, text);
		used += (size_t)snprintf(out + used, 65536 - used, "%s=%.12s\n", text, v[i].owner);
		assert_true(used < 65536);
	}
	free(v);
	return out;
}

static void expect_dump(struct net_ipam *ipam, const char *want)
{
	char *got = dump(ipam);

	if (strcmp(got, want)) {
		print_error("leases:\n%s\nwant:\n%s\n", got, want);
		free(got);
		fail();
	}
	free(got);
}

static void test_dynamic_and_exhaustion(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/29", NULL, "10.88.0.1");
	struct net_addr a;
	struct err *err = NULL;
	char *text;

	alloc(ipam, OWNER_A, "10.88.0.2");
	alloc(ipam, OWNER_A, "10.88.0.3");
	alloc(ipam, OWNER_B, "10.88.0.4");
	alloc(ipam, OWNER_B, "10.88.0.5");
	alloc(ipam, OWNER_A, "10.88.0.6");
	assert_int_equal(net_ipam_allocate(ipam, OWNER_A, NULL, &a, &err), -ENOSPC);
	assert_string_equal(err->msg, "no free address in 10.88.0.0/29");
	err_free(&err);
	expect_dump(ipam, "10.88.0.2=aaaaaaaaaaaa\n10.88.0.3=aaaaaaaaaaaa\n10.88.0.4=bbbbbbbbbbbb\n"
			  "10.88.0.5=bbbbbbbbbbbb\n10.88.0.6=aaaaaaaaaaaa\n");
	/* the file holds the whole owner id and a newline */
	text = read_file(f, "10.88.0.4");
	assert_non_null(text);
	assert_string_equal(text, OWNER_B "\n");
	free(text);
	/* network, broadcast and gateway were never leased */
	assert_false(exists(f, "10.88.0.0"));
	assert_false(exists(f, "10.88.0.1"));
	assert_false(exists(f, "10.88.0.7"));
	net_ipam_close(ipam);
}

static void test_rotation_and_hint(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/29", NULL, "10.88.0.1");
	struct net_addr a2;
	struct err *err = NULL;
	char *hint;

	a2 = alloc(ipam, OWNER_A, "10.88.0.2");
	assert_int_equal(net_ipam_release(ipam, &a2, OWNER_A, &err), 0);
	/* a just-released address is not handed out again at once */
	alloc(ipam, OWNER_A, "10.88.0.3");
	hint = read_file(f, NET_IPAM_HINT_NAME);
	assert_non_null(hint);
	assert_string_equal(hint, "10.88.0.4");
	free(hint);
	alloc(ipam, OWNER_A, "10.88.0.4");
	alloc(ipam, OWNER_A, "10.88.0.5");
	alloc(ipam, OWNER_A, "10.88.0.6");
	/* the walk wraps to the start of the range */
	alloc(ipam, OWNER_A, "10.88.0.2");

	/* a new handle (another process) continues from the hint (.3), not
	 * from the first address */
	net_ipam_close(ipam);
	ipam = open_pool(f, "10.88.0.0/29", NULL, "10.88.0.1");
	{
		struct net_addr x = addr("10.88.0.2");

		assert_int_equal(net_ipam_release(ipam, &x, OWNER_A, &err), 0);
		x = addr("10.88.0.5");
		assert_int_equal(net_ipam_release(ipam, &x, OWNER_A, &err), 0);
	}
	alloc(ipam, OWNER_B, "10.88.0.5");
	{
		struct net_addr x = addr("10.88.0.5");

		assert_int_equal(net_ipam_release(ipam, &x, OWNER_B, &err), 0);
		x = addr("10.88.0.6");
		assert_int_equal(net_ipam_release(ipam, &x, OWNER_A, &err), 0);
	}

	/* free now: .2, .5 and .6. A forged or stale hint is ignored: the
	 * walk starts at the first address. */
	static const char *const forged[] = {"garbage", "10.88.0.0", "10.88.0.1", "10.88.0.7",
					     "1.2.3.4", "fd00::1",   "",	  "10.88.0.6\n"};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		struct net_addr x;

		write_file(f, NET_IPAM_HINT_NAME, forged[i], strlen(forged[i]));
		x = alloc(ipam, OWNER_B, "10.88.0.2");
		assert_int_equal(net_ipam_release(ipam, &x, OWNER_B, &err), 0);
	}
	/* a hint naming a usable address is where the walk starts */
	write_file(f, NET_IPAM_HINT_NAME, "10.88.0.6", 9);
	alloc(ipam, OWNER_B, "10.88.0.6");
	net_ipam_close(ipam);
}

static void test_range(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/16", "10.88.7.252/30", "10.88.0.1");
	struct net_addr a;
	struct err *err = NULL;

	alloc(ipam, OWNER_A, "10.88.7.252");
	alloc(ipam, OWNER_A, "10.88.7.253");
	alloc(ipam, OWNER_A, "10.88.7.254");
	alloc(ipam, OWNER_A, "10.88.7.255");
	assert_int_equal(net_ipam_allocate(ipam, OWNER_A, NULL, &a, &err), -ENOSPC);
	assert_string_equal(err->msg, "no free address in 10.88.0.0/16 (ip-range 10.88.7.252/30)");
	err_free(&err);
	alloc_want_bad(ipam, OWNER_A, "10.88.0.5", EINVAL,
		       "address 10.88.0.5 is outside the ip-range 10.88.7.252/30 of 10.88.0.0/16");
	/* the subnet's broadcast address inside a range is still refused */
	net_ipam_close(ipam);
	ipam = open_pool(f, "10.88.0.0/16", "10.88.255.252/30", NULL);
	alloc(ipam, OWNER_A, "10.88.255.252");
	alloc(ipam, OWNER_A, "10.88.255.253");
	alloc(ipam, OWNER_A, "10.88.255.254");
	assert_int_equal(net_ipam_allocate(ipam, OWNER_A, NULL, &a, &err), -ENOSPC);
	err_free(&err);
	net_ipam_close(ipam);
}

static void test_want(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");

	alloc_want_ok(ipam, OWNER_A, "10.88.0.77");
	alloc_want_bad(ipam, OWNER_B, "10.88.0.77", EADDRINUSE,
		       "address 10.88.0.77 is already in use by aaaaaaaaaaaa");
	/* the same owner asking twice is refused too: one lease per ask */
	alloc_want_bad(ipam, OWNER_A, "10.88.0.77", EADDRINUSE, "in use by aaaaaaaaaaaa");
	alloc_want_bad(ipam, OWNER_A, "10.88.0.0", EINVAL,
		       "address 10.88.0.0 is the network address of 10.88.0.0/24");
	alloc_want_bad(ipam, OWNER_A, "10.88.0.255", EINVAL,
		       "address 10.88.0.255 is the broadcast address of 10.88.0.0/24");
	alloc_want_bad(ipam, OWNER_A, "10.88.0.1", EADDRINUSE,
		       "address 10.88.0.1 is the gateway of 10.88.0.0/24");
	alloc_want_bad(ipam, OWNER_A, "10.88.1.5", EINVAL,
		       "address 10.88.1.5 is not in subnet 10.88.0.0/24");
	alloc_want_bad(ipam, OWNER_A, "fd00::5", EINVAL, "is not in subnet 10.88.0.0/24");
	/* none of the refusals left a file */
	expect_dump(ipam, "10.88.0.77=aaaaaaaaaaaa\n");
	/* dynamic allocation steps over the requested address */
	alloc(ipam, OWNER_B, "10.88.0.2");
	net_ipam_close(ipam);
}

static void test_release(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");
	struct net_addr a, out = addr("10.99.0.1"), free_a = addr("10.88.0.100");
	struct err *err = NULL;
	size_t n = 99;

	a = alloc(ipam, OWNER_A, "10.88.0.2");
	assert_int_equal(net_ipam_release(ipam, &a, OWNER_B, &err), -EPERM);
	assert_string_equal(err->msg,
			    "address 10.88.0.2 is held by aaaaaaaaaaaa, not bbbbbbbbbbbb");
	err_free(&err);
	assert_true(exists(f, "10.88.0.2"));
	assert_int_equal(net_ipam_release(ipam, &free_a, OWNER_A, &err), -ENOENT);
	assert_string_equal(err->msg, "address 10.88.0.100 is not leased");
	err_free(&err);
	assert_int_equal(net_ipam_release(ipam, &out, OWNER_A, &err), -ENOENT);
	expect_msg(err, "not in the subnet");
	err_free(&err);
	assert_int_equal(net_ipam_release(ipam, &a, OWNER_A, &err), 0);
	assert_false(exists(f, "10.88.0.2"));
	assert_int_equal(net_ipam_release(ipam, &a, OWNER_A, &err), -ENOENT);
	err_free(&err);

	/* by owner */
	alloc(ipam, OWNER_A, NULL);
	alloc(ipam, OWNER_B, NULL);
	alloc(ipam, OWNER_A, NULL);
	alloc_want_ok(ipam, OWNER_A, "10.88.0.200");
	alloc(ipam, OWNER_B, NULL);
	assert_int_equal(net_ipam_release_owner(ipam, OWNER_A, &n, &err), 0);
	assert_int_equal(n, 3);
	expect_dump(ipam, "10.88.0.4=bbbbbbbbbbbb\n10.88.0.6=bbbbbbbbbbbb\n");
	assert_int_equal(net_ipam_release_owner(ipam, OWNER_A, &n, &err), 0);
	assert_int_equal(n, 0);
	/* an owner that is a prefix of another's id releases nothing */
	assert_int_equal(net_ipam_release_owner(ipam, "bbbbbbbbbbbb", &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(net_ipam_release_owner(ipam, OWNER_B, NULL, &err), 0);
	expect_dump(ipam, "");
	net_ipam_close(ipam);
}

static void test_owner_ids(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");
	char longest[NET_IPAM_OWNER_MAX + 1], too_long[NET_IPAM_OWNER_MAX + 2];
	static const char *const bad[] = {"",	"../x", "a/b", "-x",   ".x",
					  "_x", "a\n",	"a b", "a\\b", "é"};
	struct net_addr a = addr("10.88.0.9");
	struct err *err = NULL;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(net_ipam_allocate(ipam, bad[i], NULL, &a, &err), -EINVAL);
		expect_msg(err, "invalid lease owner id");
		err_free(&err);
		assert_int_equal(net_ipam_release(ipam, &a, bad[i], &err), -EINVAL);
		err_free(&err);
		assert_int_equal(net_ipam_release_owner(ipam, bad[i], &n, &err), -EINVAL);
		err_free(&err);
	}
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(net_ipam_allocate(ipam, too_long, NULL, &a, &err), -EINVAL);
	err_free(&err);
	expect_dump(ipam, "");
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	alloc(ipam, longest, "10.88.0.2");
	alloc(ipam, "x.y_z-1", "10.88.0.3");
	expect_dump(ipam, "10.88.0.2=aaaaaaaaaaaa\n10.88.0.3=x.y_z-1\n");
	net_ipam_close(ipam);
}

static int alive_set(const char *owner, void *data)
{
	for (const char *const *p = data; *p; p++)
		if (!strcmp(*p, owner))
			return 1;
	return 0;
}

static int alive_fails(const char *owner, void *data)
{
	return -EIO;
}

static int alive_all(const char *owner, void *data)
{
	return 1;
}

static void test_damaged_leases(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");
	struct net_addr a = addr("10.88.0.3");
	struct err *err = NULL;
	size_t n = 0;

	/* a torn write, garbage, no newline, two lines, a NUL, a symlink, a
	 * FIFO, an empty directory */
	write_file(f, "10.88.0.3", "", 0);
	write_file(f, "10.88.0.4", "garbage!!\n", 10);
	write_file(f, "10.88.0.5", "c1", 2);
	write_file(f, "10.88.0.6", "c1\nc2\n", 6);
	write_file(f, "10.88.0.7", "c1\0x\n", 5);
	assert_int_equal(symlinkat("/etc/passwd", f->dirfd, "10.88.0.8"), 0);
	assert_int_equal(mkfifoat(f->dirfd, "10.88.0.9", 0600), 0);
	assert_int_equal(mkdirat(f->dirfd, "10.88.0.10", 0700), 0);
	/* names that are not leases: not canonical, outside the subnet, ours */
	write_file(f, "010.88.0.11", "c1\n", 3);
	write_file(f, "10.99.0.1", "c1\n", 3);
	write_file(f, "notes", "c1\n", 3);
	write_file(f, ".tmp-.next-1", "x", 1);
	write_file(f, "10.88.0.12", "c1\n", 3);

	expect_dump(ipam, "10.88.0.3=\n10.88.0.4=\n10.88.0.5=\n10.88.0.6=\n10.88.0.7=\n"
			  "10.88.0.8=\n10.88.0.9=\n10.88.0.10=\n10.88.0.12=c1\n");
	/* allocation steps over damaged leases */
	alloc(ipam, OWNER_A, "10.88.0.2");
	alloc(ipam, OWNER_A, "10.88.0.11");
	alloc_want_bad(ipam, OWNER_A, "10.88.0.3", EADDRINUSE,
		       "address 10.88.0.3 is in use by an unknown owner");
	/* nobody can release them */
	assert_int_equal(net_ipam_release(ipam, &a, OWNER_A, &err), -EPERM);
	expect_msg(err, "held by an unknown owner");
	err_free(&err);
	/* reclaim drops them, whoever is alive */
	assert_int_equal(net_ipam_reclaim(ipam, alive_all, NULL, &n, &err), 0);
	assert_int_equal(n, 8);
	expect_dump(ipam, "10.88.0.2=aaaaaaaaaaaa\n10.88.0.11=aaaaaaaaaaaa\n10.88.0.12=c1\n");
	/* other names stay; the hint writer's debris goes */
	assert_true(exists(f, "010.88.0.11"));
	assert_true(exists(f, "10.99.0.1"));
	assert_true(exists(f, "notes"));
	assert_false(exists(f, ".tmp-.next-1"));
	/* the symlink was removed, not followed */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	alloc_want_ok(ipam, OWNER_B, "10.88.0.3");
	net_ipam_close(ipam);
}

static void test_reclaim(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");
	const char *const alive[] = {OWNER_A, NULL};
	struct err *err = NULL;
	size_t n = 99;

	alloc(ipam, OWNER_B, "10.88.0.2");
	alloc(ipam, OWNER_A, "10.88.0.3");
	alloc(ipam, OWNER_B, "10.88.0.4");
	alloc(ipam, "c3", "10.88.0.5");
	/* a failing callback stops reclaim; nothing is dropped on doubt */
	assert_int_equal(net_ipam_reclaim(ipam, alive_fails, NULL, &n, &err), -EIO);
	expect_msg(err, "reclaim of 10.88.0.2: is bbbbbbbbbbbb alive?");
	err_free(&err);
	assert_int_equal(n, 0);
	expect_dump(ipam, "10.88.0.2=bbbbbbbbbbbb\n10.88.0.3=aaaaaaaaaaaa\n"
			  "10.88.0.4=bbbbbbbbbbbb\n10.88.0.5=c3\n");
	assert_int_equal(net_ipam_reclaim(ipam, alive_set, (void *)alive, &n, &err), 0);
	assert_int_equal(n, 3);
	expect_dump(ipam, "10.88.0.3=aaaaaaaaaaaa\n");
	assert_int_equal(net_ipam_reclaim(ipam, alive_set, (void *)alive, &n, &err), 0);
	assert_int_equal(n, 0);
	net_ipam_close(ipam);
}

static void test_ipv6(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "fd00:88::/125", NULL, "fd00:88::1");
	struct net_addr a;
	struct err *err = NULL;

	for (int i = 2; i <= 7; i++) {
		char want[32];

		snprintf(want, sizeof(want), "fd00:88::%d", i);
		alloc(ipam, OWNER_A, want);
	}
	assert_int_equal(net_ipam_allocate(ipam, OWNER_A, NULL, &a, &err), -ENOSPC);
	assert_string_equal(err->msg, "no free address in fd00:88::/125");
	err_free(&err);
	assert_true(exists(f, "fd00:88::7"));
	alloc_want_bad(ipam, OWNER_A, "fd00:88::", EINVAL, "network address");
	alloc_want_bad(ipam, OWNER_A, "10.0.0.1", EINVAL, "not in subnet");
	net_ipam_close(ipam);
}

static void test_open_errors(void **state)
{
	struct fix *f = *state;
	struct net_cidr s, r;
	struct net_addr g = addr("10.88.0.0");
	struct net_ipam *ipam = NULL;
	struct err *err = NULL;
	char path[160];

	assert_int_equal(net_cidr_parse("10.88.0.0/16", "subnet", &s, NULL), 0);
	assert_int_equal(net_cidr_parse("10.0.0.0/24", "ip-range", &r, NULL), 0);
	assert_int_equal(net_ipam_open(f->dir, &s, &r, NULL, &ipam, &err), -EINVAL);
	expect_msg(err, "doesn't contain ip-range");
	err_free(&err);
	assert_null(ipam);
	assert_int_equal(net_ipam_open(f->dir, &s, NULL, &g, &ipam, &err), -EINVAL);
	expect_msg(err, "invalid gateway 10.88.0.0");
	err_free(&err);
	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", f->base);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	assert_true(net_ipam_open(path, &s, NULL, NULL, &ipam, &err) < 0);
	expect_msg(err, path);
	err_free(&err);
	assert_null(ipam);
	/* DIR is created 0700 */
	ipam = open_pool(f, "10.88.0.0/16", NULL, NULL);
	{
		struct stat st;

		assert_int_equal(stat(f->dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	net_ipam_close(ipam);
	net_ipam_close(NULL);
}

static bool wait_exit(pid_t pid, int *status, int ms)
{
	for (int i = 0; i < ms; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);

		assert_true(r >= 0);
		if (r == pid)
			return true;
		usleep(1000);
	}
	return false;
}

static void test_lock_excludes(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");
	int lock, status;
	pid_t pid;

	lock = openat(f->dirfd, NET_IPAM_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct net_addr a;

		/* the inherited descriptor shares the parent's lock: drop it,
		 * or the lock would outlive the parent's close */
		close(lock);
		_exit(net_ipam_allocate(ipam, OWNER_A, NULL, &a, NULL) == 0 ? 0 : 1);
	}
	/* while the lock is held the child waits and writes nothing */
	assert_false(wait_exit(pid, &status, 200));
	assert_false(exists(f, "10.88.0.2"));
	close(lock);
	assert_true(wait_exit(pid, &status, 10000));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	expect_dump(ipam, "10.88.0.2=aaaaaaaaaaaa\n");
	net_ipam_close(ipam);
}

static void test_crash(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/24", NULL, "10.88.0.1");
	const char *const alive[] = {OWNER_A, NULL};
	struct err *err = NULL;
	int status;
	size_t n;
	pid_t pid;

	alloc(ipam, OWNER_A, "10.88.0.2");
	/* A writer killed between creating its lease file and writing the
	 * owner: it holds the lock and leaves an empty file. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int lock = openat(f->dirfd, NET_IPAM_LOCK_NAME, O_RDWR | O_CLOEXEC);

		if (lock < 0 || flock(lock, LOCK_EX) < 0)
			_exit(1);
		if (openat(f->dirfd, "10.88.0.3", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) <
		    0)
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* A process that leased an address and died without releasing it. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct net_addr a;

		_exit(net_ipam_allocate(ipam, OWNER_B, NULL, &a, NULL) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* the lock died with the killed process: allocation goes on */
	alloc(ipam, OWNER_A, "10.88.0.5");
	expect_dump(ipam, "10.88.0.2=aaaaaaaaaaaa\n10.88.0.3=\n10.88.0.4=bbbbbbbbbbbb\n"
			  "10.88.0.5=aaaaaaaaaaaa\n");
	assert_int_equal(net_ipam_reclaim(ipam, alive_set, (void *)alive, &n, &err), 0);
	assert_int_equal(n, 2);
	expect_dump(ipam, "10.88.0.2=aaaaaaaaaaaa\n10.88.0.5=aaaaaaaaaaaa\n");
	alloc_want_ok(ipam, OWNER_B, "10.88.0.3");
	alloc_want_ok(ipam, OWNER_B, "10.88.0.4");
	net_ipam_close(ipam);
}

#define WORKERS 8
#define PER_WORKER 100

struct rec {
	int worker;
	struct net_addr addr;
};

static int cmp_rec(const void *a, const void *b)
{
	return memcmp(((const struct rec *)a)->addr.b, ((const struct rec *)b)->addr.b, 16);
}

static void test_concurrent(void **state)
{
	struct fix *f = *state;
	struct net_ipam *ipam = open_pool(f, "10.88.0.0/20", NULL, "10.88.0.1");
	struct rec *recs = calloc(WORKERS * PER_WORKER, sizeof(*recs));
	struct net_ipam_lease *leases = NULL;
	struct err *err = NULL;
	size_t got = 0, n = 0;
	pid_t pids[WORKERS];
	int pfd[2];

	assert_non_null(recs);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			char owner[16];

			close(pfd[0]);
			snprintf(owner, sizeof(owner), "worker%d", w);
			for (int i = 0; i < PER_WORKER; i++) {
				struct rec r = {w, {0, {0}}};

				if (net_ipam_allocate(ipam, owner, NULL, &r.addr, NULL) < 0)
					_exit(1);
				/* one record per write: atomic on a pipe */
				if (write(pfd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
					_exit(2);
			}
			_exit(0);
		}
	}
	close(pfd[1]);
	for (;;) {
		ssize_t k =
		    read(pfd[0], (char *)recs + got, WORKERS * PER_WORKER * sizeof(*recs) - got);

		assert_true(k >= 0);
		if (k == 0)
			break;
		got += (size_t)k;
	}
	close(pfd[0]);
	for (int w = 0; w < WORKERS; w++) {
		int status;

		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(got, WORKERS * PER_WORKER * sizeof(*recs));

	/* no address was handed to two allocations */
	qsort(recs, WORKERS * PER_WORKER, sizeof(*recs), cmp_rec);
	for (size_t i = 1; i < WORKERS * PER_WORKER; i++)
		assert_false(net_addr_equal(&recs[i - 1].addr, &recs[i].addr));
	/* and each lease on disk names the process that was told it has it */
	assert_int_equal(net_ipam_list(ipam, &leases, &n, &err), 0);
	assert_int_equal(n, WORKERS * PER_WORKER);
	for (size_t i = 0; i < n; i++) {
		char want[16];

		assert_true(net_addr_equal(&leases[i].addr, &recs[i].addr));
		snprintf(want, sizeof(want), "worker%d", recs[i].worker);
		assert_string_equal(leases[i].owner, want);
	}
	/* the dynamic walk handed out the first 800 usable addresses */
	{
		char first[NET_ADDR_TEXT_MAX], last[NET_ADDR_TEXT_MAX];

		net_addr_format(&recs[0].addr, first);
		net_addr_format(&recs[n - 1].addr, last);
		assert_string_equal(first, "10.88.0.2");
		assert_string_equal(last, "10.88.3.33");
	}
	free(leases);
	free(recs);
	net_ipam_close(ipam);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dynamic_and_exhaustion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_and_hint, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_want, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_leases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_excludes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

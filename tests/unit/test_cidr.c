/*
 * tests/unit/test_cidr.c - net/cidr.c: strict address and CIDR parsing
 * (moby's messages, the network-address rule), canonical formatting,
 * contains/overlap, reserved addresses (/31, /32, IPv6), --gateway and
 * --ip-range checks, the default gateway, and pool walks (every usable
 * address once, wrap-around, tiny and huge blocks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "net/cidr.h"

static struct net_addr addr(const char *s)
{
	struct net_addr a;
	struct err *err = NULL;

	if (net_addr_parse(s, &a, &err) < 0) {
		print_error("address %s refused: %s\n", s, err->msg);
		err_free(&err);
		fail();
	}
	return a;
}

static struct net_cidr cidr(const char *s)
{
	struct net_cidr c;
	struct err *err = NULL;

	if (net_cidr_parse(s, "subnet", &c, &err) < 0) {
		print_error("block %s refused: %s\n", s, err->msg);
		err_free(&err);
		fail();
	}
	return c;
}

static void expect_msg(struct err *err, const char *want)
{
	assert_non_null(err);
	if (!strstr(err->msg, want)) {
		print_error("want \"%s\"\n got \"%s\"\n", want, err->msg);
		fail();
	}
}

static void test_addr_parse(void **state)
{
	static const struct {
		const char *in, *canon;
		int family;
	} good[] = {
	    {"10.0.0.1", "10.0.0.1", AF_INET},
	    {"0.0.0.0", "0.0.0.0", AF_INET},
	    {"255.255.255.255", "255.255.255.255", AF_INET},
	    {"100.64.0.10", "100.64.0.10", AF_INET},
	    {"::", "::", AF_INET6},
	    {"::1", "::1", AF_INET6},
	    {"FD00:0:0::1", "fd00::1", AF_INET6},
	    {"fd00:0000:0000:0000:0000:0000:0000:0001", "fd00::1", AF_INET6},
	    {"::ffff:10.0.0.1", "::ffff:10.0.0.1", AF_INET6},
	    {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6", AF_INET6},
	};
	static const char *const bad[] = {
	    "",
	    "1.2.3",
	    "1.2.3.4.5",
	    "256.0.0.1",
	    "1.2.3.256",
	    "01.2.3.4",
	    "1.2.3.04",
	    "1.2.3.00",
	    "1..3.4",
	    ".1.2.3",
	    "1.2.3.",
	    " 1.2.3.4",
	    "1.2.3.4 ",
	    "1.2.3.4/8",
	    "0x1.2.3.4",
	    "+1.2.3.4",
	    "1.2.3.-4",
	    "1.2.3.4\n",
	    "1000.2.3.4",
	    "fe80::1%eth0",
	    "[::1]",
	    ":::",
	    "1:2:3:4:5:6:7:8:9",
	    "12345::",
	    "::g",
	    "localhost",
	    "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct net_addr a = addr(good[i].in), b;
		char text[NET_ADDR_TEXT_MAX];

		assert_int_equal(a.family, good[i].family);
		net_addr_format(&a, text);
		assert_string_equal(text, good[i].canon);
		/* the canonical text reads back to the same address */
		b = addr(text);
		assert_true(net_addr_equal(&a, &b));
		assert_memory_equal(&a, &b, sizeof(a));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_addr a;
		struct err *err = NULL;

		memset(&a, 0x5a, sizeof(a));
		if (net_addr_parse(bad[i], &a, &err) == 0) {
			print_error("accepted address \"%s\"\n", bad[i]);
			fail();
		}
		assert_int_equal(err->code, EINVAL);
		/* OUT untouched on failure */
		assert_int_equal(a.b[0], 0x5a);
		err_free(&err);
		/* a NULL err is allowed */
		assert_int_equal(net_addr_parse(bad[i], &a, NULL), -EINVAL);
	}
	/* IPv4 bytes beyond the fourth are zero: equality is memcmp */
	{
		struct net_addr a = addr("1.2.3.4");

		for (int i = 4; i < 16; i++)
			assert_int_equal(a.b[i], 0);
		assert_false(net_addr_equal(&a, &(struct net_addr){AF_INET6, {1, 2, 3, 4}}));
	}
}

static void test_cidr_parse(void **state)
{
	static const struct {
		const char *in, *canon;
		unsigned bits;
	} good[] = {
	    {"10.88.0.0/16", "10.88.0.0/16", 16}, {"0.0.0.0/0", "0.0.0.0/0", 0},
	    {"10.1.2.3/32", "10.1.2.3/32", 32},	  {"10.1.2.2/31", "10.1.2.2/31", 31},
	    {"fd00::/64", "fd00::/64", 64},	  {"::/0", "::/0", 0},
	    {"FD00::1/128", "fd00::1/128", 128},  {"172.16.0.0/12", "172.16.0.0/12", 12},
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"10.1.2.3/16", "invalid subnet 10.1.2.3/16: it should be 10.1.0.0/16"},
	    {"10.1.2.3/31", "invalid subnet 10.1.2.3/31: it should be 10.1.2.2/31"},
	    {"fd00::1/64", "invalid subnet fd00::1/64: it should be fd00::/64"},
	    {"0.0.0.1/0", "it should be 0.0.0.0/0"},
	    {"10.0.0.0", "invalid subnet 10.0.0.0: invalid CIDR block notation"},
	    {"10.0.0.0/", "invalid CIDR block notation"},
	    {"10.0.0.0/33", "invalid CIDR block notation"},
	    {"10.0.0.0/08", "invalid CIDR block notation"},
	    {"10.0.0.0/00", "invalid CIDR block notation"},
	    {"10.0.0.0/-1", "invalid CIDR block notation"},
	    {"10.0.0.0/+8", "invalid CIDR block notation"},
	    {"10.0.0.0/8x", "invalid CIDR block notation"},
	    {"10.0.0.0/ 8", "invalid CIDR block notation"},
	    {"10.0.0.0/8/8", "invalid CIDR block notation"},
	    {"10.0.0.0/4294967304", "invalid CIDR block notation"},
	    {"/8", "invalid CIDR block notation"},
	    {"a/8", "invalid CIDR block notation"},
	    {"10.0.0/8", "invalid CIDR block notation"},
	    {"fd00::/129", "invalid CIDR block notation"},
	    {"fd00::/0128", "invalid CIDR block notation"},
	    {"fe80::%eth0/64", "invalid CIDR block notation"},
	    {"", "invalid CIDR block notation"},
	    {"10.0.0.0/8\n", "invalid CIDR block notation"},
	    {"1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:aaaa:bbbb:cccc:dddd/64",
	     "too long"},
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct net_cidr c = cidr(good[i].in);
		char text[NET_CIDR_TEXT_MAX];

		assert_int_equal(c.bits, good[i].bits);
		net_cidr_format(&c, text);
		assert_string_equal(text, good[i].canon);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_cidr c;
		struct err *err = NULL;

		memset(&c, 0x5a, sizeof(c));
		if (net_cidr_parse(bad[i].in, "subnet", &c, &err) == 0) {
			print_error("accepted block \"%s\"\n", bad[i].in);
			fail();
		}
		assert_int_equal(err->code, EINVAL);
		expect_msg(err, bad[i].msg);
		assert_int_equal(c.bits, 0x5a5a5a5a);
		err_free(&err);
	}
	/* WHAT names the flag */
	{
		struct net_cidr c;
		struct err *err = NULL;

		assert_int_equal(net_cidr_parse("10.88.5.7/24", "ip-range", &c, &err), -EINVAL);
		expect_msg(err, "invalid ip-range 10.88.5.7/24: it should be 10.88.5.0/24");
		err_free(&err);
	}
}

static void test_contains_overlap(void **state)
{
	struct net_cidr s16 = cidr("10.88.0.0/16"), s0 = cidr("0.0.0.0/0"), h = cidr("10.1.2.3/32");
	struct net_cidr v6 = cidr("fd00::/64"), v6all = cidr("::/0");
	struct net_addr in = addr("10.88.255.255"), out = addr("10.89.0.0");
	struct net_addr low = addr("10.87.255.255"), a6 = addr("fd00::ffff:ffff:ffff:ffff");

	assert_true(net_cidr_contains(&s16, &in));
	assert_true(net_cidr_contains(&s16, &(struct net_addr){AF_INET, {10, 88, 0, 0}}));
	assert_false(net_cidr_contains(&s16, &out));
	assert_false(net_cidr_contains(&s16, &low));
	assert_true(net_cidr_contains(&s0, &out));
	assert_true(net_cidr_contains(&h, &h.addr));
	assert_false(net_cidr_contains(&h, &(struct net_addr){AF_INET, {10, 1, 2, 4}}));
	assert_true(net_cidr_contains(&v6, &a6));
	assert_false(
	    net_cidr_contains(&v6, &(struct net_addr){AF_INET6, {0xfd, 0, 0, 0, 0, 0, 0, 1}}));
	/* families never mix, even ::/0 and 0.0.0.0/0 */
	assert_false(net_cidr_contains(&v6all, &in));
	assert_false(net_cidr_contains(&s0, &a6));

	static const struct {
		const char *a, *b;
		bool overlap;
	} pairs[] = {
	    {"10.0.0.0/8", "10.1.0.0/16", true},
	    {"10.0.0.0/16", "10.1.0.0/16", false},
	    {"10.0.0.0/16", "10.0.255.0/24", true},
	    {"10.0.0.0/24", "10.0.1.0/24", false},
	    {"0.0.0.0/0", "192.168.1.7/32", true},
	    {"10.88.0.0/16", "10.88.0.0/16", true},
	    {"192.168.0.0/31", "192.168.0.2/31", false},
	    {"fd00::/8", "fd12:3456::/32", true},
	    {"fd00::/64", "fd00:0:0:1::/64", false},
	    {"::/0", "0.0.0.0/0", false},
	    {"10.0.0.0/8", "a00::/8", false},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct net_cidr a = cidr(pairs[i].a), b = cidr(pairs[i].b);

		if (net_cidr_overlap(&a, &b) != pairs[i].overlap ||
		    net_cidr_overlap(&b, &a) != pairs[i].overlap) {
			print_error("overlap(%s, %s) should be %d\n", pairs[i].a, pairs[i].b,
				    pairs[i].overlap);
			fail();
		}
	}
}

static void test_reserved(void **state)
{
	struct net_cidr s24 = cidr("10.0.0.0/24"), s30 = cidr("10.0.0.0/30");
	struct net_cidr s31 = cidr("10.0.0.0/31"), s32 = cidr("10.0.0.5/32");
	struct net_cidr v6 = cidr("fd00::/126"), v127 = cidr("fd00::/127");

	assert_true(net_cidr_is_network(&s24, &(struct net_addr){AF_INET, {10, 0, 0, 0}}));
	assert_true(net_cidr_is_broadcast(&s24, &(struct net_addr){AF_INET, {10, 0, 0, 255}}));
	assert_false(net_cidr_is_network(&s24, &(struct net_addr){AF_INET, {10, 0, 0, 1}}));
	assert_false(net_cidr_is_broadcast(&s24, &(struct net_addr){AF_INET, {10, 0, 0, 254}}));
	/* outside the block: neither */
	assert_false(net_cidr_is_broadcast(&s24, &(struct net_addr){AF_INET, {10, 0, 1, 255}}));
	assert_true(net_cidr_is_network(&s30, &s30.addr));
	assert_true(net_cidr_is_broadcast(&s30, &(struct net_addr){AF_INET, {10, 0, 0, 3}}));
	/* RFC 3021 and /32: nothing reserved */
	assert_false(net_cidr_is_network(&s31, &s31.addr));
	assert_false(net_cidr_is_broadcast(&s31, &(struct net_addr){AF_INET, {10, 0, 0, 1}}));
	assert_false(net_cidr_is_network(&s32, &s32.addr));
	assert_false(net_cidr_is_broadcast(&s32, &s32.addr));
	/* IPv6: the subnet-router anycast address, no broadcast; /127 none */
	assert_true(net_cidr_is_network(&v6, &v6.addr));
	assert_false(net_cidr_is_broadcast(&v6, &(struct net_addr){AF_INET6, {0xfd, [15] = 3}}));
	assert_false(net_cidr_is_network(&v127, &v127.addr));
}

static void expect_gw_error(const char *subnet, const char *gw, const char *msg)
{
	struct net_cidr s = cidr(subnet);
	struct net_addr g = addr(gw);
	struct err *err = NULL;

	if (net_cidr_gateway_check(&s, &g, &err) == 0) {
		print_error("gateway %s accepted in %s\n", gw, subnet);
		fail();
	}
	assert_int_equal(err->code, EINVAL);
	expect_msg(err, msg);
	err_free(&err);
}

static void expect_gw_ok(const char *subnet, const char *gw)
{
	struct net_cidr s = cidr(subnet);
	struct net_addr g = addr(gw);
	struct err *err = NULL;

	if (net_cidr_gateway_check(&s, &g, &err) < 0) {
		print_error("gateway %s refused in %s: %s\n", gw, subnet, err->msg);
		fail();
	}
}

static void test_gateway_check(void **state)
{
	expect_gw_ok("10.88.0.0/16", "10.88.0.1");
	expect_gw_ok("10.88.0.0/16", "10.88.255.254");
	expect_gw_ok("10.0.0.0/31", "10.0.0.0");
	expect_gw_ok("10.0.0.0/31", "10.0.0.1");
	expect_gw_ok("10.0.0.7/32", "10.0.0.7");
	expect_gw_ok("fd00::/64", "fd00::1");
	expect_gw_ok("fd00::/64", "fd00::ffff:ffff:ffff:ffff");
	expect_gw_error("10.88.0.0/16", "10.88.0.0",
			"invalid gateway 10.88.0.0: it is the network address of 10.88.0.0/16");
	expect_gw_error(
	    "10.88.0.0/16", "10.88.255.255",
	    "invalid gateway 10.88.255.255: it is the broadcast address of 10.88.0.0/16");
	expect_gw_error(
	    "10.88.0.0/16", "10.89.0.1",
	    "invalid gateway 10.89.0.1: parent subnet 10.88.0.0/16 doesn't contain this "
	    "address");
	expect_gw_error("10.88.0.0/16", "fd00::1",
			"invalid gateway fd00::1: parent subnet is an IPv4 block");
	expect_gw_error("fd00::/64", "10.0.0.1",
			"invalid gateway 10.0.0.1: parent subnet is an IPv6 block");
	expect_gw_error("fd00::/64", "fd00::", "it is the network address of fd00::/64");
	expect_gw_error("10.0.0.0/30", "10.0.0.3", "broadcast address");
}

static void test_range_check(void **state)
{
	static const struct {
		const char *subnet, *range, *msg;
	} cases[] = {
	    {"10.88.0.0/16", "10.88.5.0/24", NULL},
	    {"10.88.0.0/16", "10.88.0.0/16", NULL},
	    {"10.88.0.0/16", "10.88.0.9/32", NULL},
	    {"fd00::/64", "fd00::100/120", NULL},
	    {"10.88.0.0/16", "10.0.0.0/8",
	     "invalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet "
	     "10.88.0.0/16"},
	    {"10.88.0.0/16", "10.89.0.0/24",
	     "invalid ip-range 10.89.0.0/24: parent subnet 10.88.0.0/16 doesn't contain ip-range"},
	    {"10.88.0.0/16", "fd00::/64",
	     "invalid ip-range fd00::/64: parent subnet is an IPv4 block"},
	    {"fd00::/64", "10.0.0.0/8", "parent subnet is an IPv6 block"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_cidr s = cidr(cases[i].subnet), r = cidr(cases[i].range);
		struct err *err = NULL;
		int ret = net_cidr_range_check(&s, &r, &err);

		if (!cases[i].msg) {
			if (ret < 0) {
				print_error("%s in %s: %s\n", cases[i].range, cases[i].subnet,
					    err->msg);
				fail();
			}
			continue;
		}
		assert_int_equal(ret, -EINVAL);
		expect_msg(err, cases[i].msg);
		err_free(&err);
	}
}

static void expect_default_gw(const char *subnet, const char *range, const char *want)
{
	struct net_cidr s = cidr(subnet), r;
	struct net_addr g;
	char text[NET_ADDR_TEXT_MAX];
	struct err *err = NULL;

	if (range)
		r = cidr(range);
	if (net_cidr_gateway_default(&s, range ? &r : NULL, &g, &err) < 0) {
		print_error("no default gateway in %s: %s\n", subnet, err->msg);
		fail();
	}
	net_addr_format(&g, text);
	assert_string_equal(text, want);
	/* the default always passes the --gateway check */
	assert_int_equal(net_cidr_gateway_check(&s, &g, NULL), 0);
}

static void test_gateway_default(void **state)
{
	struct net_cidr s, r;
	struct net_addr g;
	struct err *err = NULL;

	expect_default_gw("10.88.0.0/16", NULL, "10.88.0.1");
	expect_default_gw("172.17.0.0/16", NULL, "172.17.0.1");
	expect_default_gw("10.88.0.0/16", "10.88.5.0/24", "10.88.5.0");
	expect_default_gw("10.88.0.0/16", "10.88.0.0/24", "10.88.0.1");
	expect_default_gw("10.0.0.0/31", NULL, "10.0.0.0");
	expect_default_gw("10.0.0.9/32", NULL, "10.0.0.9");
	expect_default_gw("fd00::/64", NULL, "fd00::1");
	expect_default_gw("::/0", NULL, "::1");
	expect_default_gw("0.0.0.0/0", NULL, "0.0.0.1");

	/* a range holding only the network address has no host address */
	s = cidr("10.88.0.0/16");
	r = cidr("10.88.0.0/32");
	assert_int_equal(net_cidr_gateway_default(&s, &r, &g, &err), -ENOSPC);
	expect_msg(err, "no host address in 10.88.0.0/32");
	err_free(&err);
	/* a bad range is reported as such */
	r = cidr("10.9.0.0/24");
	assert_int_equal(net_cidr_gateway_default(&s, &r, &g, &err), -EINVAL);
	expect_msg(err, "doesn't contain ip-range");
	err_free(&err);
}

static struct net_pool pool(const char *subnet, const char *range, const char *gw)
{
	struct net_cidr s = cidr(subnet), r;
	struct net_addr g;
	struct net_pool p;
	struct err *err = NULL;

	if (range)
		r = cidr(range);
	if (gw)
		g = addr(gw);
	if (net_pool_init(&p, &s, range ? &r : NULL, gw ? &g : NULL, &err) < 0) {
		print_error("pool %s: %s\n", subnet, err->msg);
		fail();
	}
	return p;
}

/* Walks P from its first address; checks every step is usable and
 * returns the number of distinct addresses before the walk comes back. */
static size_t walk(const struct net_pool *p, size_t limit)
{
	struct net_addr start, a;
	size_t n = 0;

	if (!net_pool_first(p, &start))
		return 0;
	a = start;
	do {
		assert_true(net_pool_usable(p, &a));
		n++;
		assert_true(n <= limit);
		assert_true(net_pool_next(p, &a));
	} while (!net_addr_equal(&a, &start));
	return n;
}

static void test_pool_walk(void **state)
{
	struct net_pool p = pool("10.88.0.0/29", NULL, "10.88.0.1");
	struct net_addr a;
	char text[NET_ADDR_TEXT_MAX];
	static const char *const order[] = {"10.88.0.2", "10.88.0.3", "10.88.0.4",
					    "10.88.0.5", "10.88.0.6", "10.88.0.2"};

	assert_true(net_pool_first(&p, &a));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		net_addr_format(&a, text);
		assert_string_equal(text, order[i]);
		assert_true(net_pool_next(&p, &a));
	}
	assert_false(net_pool_usable(&p, &(struct net_addr){AF_INET, {10, 88, 0, 0}}));
	assert_false(net_pool_usable(&p, &(struct net_addr){AF_INET, {10, 88, 0, 1}}));
	assert_false(net_pool_usable(&p, &(struct net_addr){AF_INET, {10, 88, 0, 7}}));
	assert_false(net_pool_usable(&p, &(struct net_addr){AF_INET, {10, 88, 0, 8}}));
	/* from outside the range: the first address */
	a = addr("192.168.0.1");
	assert_true(net_pool_next(&p, &a));
	net_addr_format(&a, text);
	assert_string_equal(text, "10.88.0.2");
	/* from a reserved address: the next usable one */
	a = addr("10.88.0.7");
	assert_true(net_pool_next(&p, &a));
	net_addr_format(&a, text);
	assert_string_equal(text, "10.88.0.2");

	/* counts: 2^(32-bits) - network - broadcast - gateway */
	for (unsigned bits = 20; bits <= 30; bits++) {
		char s[32];
		struct net_pool q;

		snprintf(s, sizeof(s), "10.64.0.0/%u", bits);
		q = pool(s, NULL, "10.64.0.1");
		assert_int_equal(walk(&q, 1u << 13), (1u << (32 - bits)) - 3);
		q = pool(s, NULL, NULL);
		assert_int_equal(walk(&q, 1u << 13), (1u << (32 - bits)) - 2);
	}
	p = pool("10.0.0.0/31", NULL, NULL);
	assert_int_equal(walk(&p, 8), 2);
	p = pool("10.0.0.0/31", NULL, "10.0.0.1");
	assert_int_equal(walk(&p, 8), 1);
	p = pool("10.0.0.4/32", NULL, NULL);
	assert_int_equal(walk(&p, 8), 1);
	/* nothing usable: first and next say so and leave A */
	p = pool("10.0.0.4/32", NULL, "10.0.0.4");
	assert_int_equal(walk(&p, 8), 0);
	a = addr("10.0.0.4");
	assert_false(net_pool_next(&p, &a));
	net_addr_format(&a, text);
	assert_string_equal(text, "10.0.0.4");
	/* a range: the subnet's broadcast is excluded, the range's edges not */
	p = pool("10.88.0.0/16", "10.88.255.0/24", "10.88.0.1");
	assert_int_equal(walk(&p, 300), 255);
	p = pool("10.88.0.0/16", "10.88.7.0/24", "10.88.7.1");
	assert_int_equal(walk(&p, 300), 255);
	assert_true(net_pool_first(&p, &a));
	net_addr_format(&a, text);
	assert_string_equal(text, "10.88.7.0");
	/* IPv6: only the network address is reserved */
	p = pool("fd00::/125", NULL, "fd00::1");
	assert_int_equal(walk(&p, 16), 6);
	p = pool("fd00::/127", NULL, NULL);
	assert_int_equal(walk(&p, 16), 2);
	/* huge blocks: stepping stays cheap and wraps at the very end */
	p = pool("::/0", NULL, NULL);
	a = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_true(net_pool_usable(&p, &a));
	assert_true(net_pool_next(&p, &a));
	net_addr_format(&a, text);
	assert_string_equal(text, "::1");
	p = pool("0.0.0.0/0", NULL, NULL);
	a = addr("255.255.255.254");
	assert_true(net_pool_next(&p, &a));
	net_addr_format(&a, text);
	assert_string_equal(text, "0.0.0.1");
}

static void test_pool_init_errors(void **state)
{
	struct net_cidr s = cidr("10.88.0.0/16"), r = cidr("10.0.0.0/8");
	struct net_addr g = addr("10.88.0.0");
	struct net_pool p;
	struct err *err = NULL;

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(net_pool_init(&p, &s, &r, NULL, &err), -EINVAL);
	expect_msg(err, "bigger than its parent subnet");
	err_free(&err);
	assert_int_equal(net_pool_init(&p, &s, NULL, &g, &err), -EINVAL);
	expect_msg(err, "network address");
	err_free(&err);
	/* the pool is written only on success */
	assert_int_equal(p.subnet.bits, 0x5a5a5a5a);
	/* a gateway outside the ip-range is fine (Docker allows it) */
	r = cidr("10.88.5.0/24");
	g = addr("10.88.0.1");
	assert_int_equal(net_pool_init(&p, &s, &r, &g, &err), 0);
	assert_true(p.has_gateway);
	assert_false(net_pool_usable(&p, &g));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_parse),	     cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_contains_overlap), cmocka_unit_test(test_reserved),
	    cmocka_unit_test(test_gateway_check),    cmocka_unit_test(test_range_check),
	    cmocka_unit_test(test_gateway_default),  cmocka_unit_test(test_pool_walk),
	    cmocka_unit_test(test_pool_init_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

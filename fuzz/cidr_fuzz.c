/*
 * fuzz/cidr_fuzz.c - libFuzzer target for net/cidr.c.
 *
 * Input: up to four lines: SUBNET, RANGE ("" none), GATEWAY ("" none),
 * ADDRESS.
 *
 * Properties: a failed parse sets an error and leaves its output alone; a
 * parsed address or block formats to text that parses back to the same
 * bytes and formats identically; a parsed block has no host bits and
 * contains its own address; contains and overlap agree with a bit-by-bit
 * reference and overlap is symmetric; a pool that initialises only ever
 * yields usable addresses inside its range, walks them in ascending order
 * up to the one wrap back to its first address, and (for ranges of up to 4096
 * addresses) visits exactly as many as a brute-force count says are
 * usable; the default gateway passes the --gateway check.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_MAX 100

static unsigned width(int family)
{
	return family == AF_INET ? 32 : 128;
}

static int bit(const struct net_addr *a, unsigned i)
{
	return a->b[i / 8] >> (7 - i % 8) & 1;
}

static bool ref_contains(const struct net_cidr *c, const struct net_addr *a)
{
	if (a->family != c->addr.family)
		return false;
	for (unsigned i = 0; i < c->bits; i++)
		if (bit(a, i) != bit(&c->addr, i))
			return false;
	return true;
}

static int cmp_addr(const struct net_addr *a, const struct net_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

static void check_addr_text(const struct net_addr *a)
{
	char t1[NET_ADDR_TEXT_MAX], t2[NET_ADDR_TEXT_MAX];
	struct net_addr back;
	struct err *err = NULL;

	net_addr_format(a, t1);
	if (net_addr_parse(t1, &back, &err) < 0 || memcmp(&back, a, sizeof(back)))
		abort();
	net_addr_format(&back, t2);
	if (strcmp(t1, t2))
		abort();
	if (a->family == AF_INET)
		for (int i = 4; i < 16; i++)
			if (a->b[i])
				abort();
}

static bool parse_cidr(const char *s, const char *what, struct net_cidr *c)
{
	struct net_cidr sentinel;
	struct err *err = NULL;
	char t1[NET_CIDR_TEXT_MAX], t2[NET_CIDR_TEXT_MAX];
	struct net_cidr back;

	memset(&sentinel, 0xa5, sizeof(sentinel));
	*c = sentinel;
	if (net_cidr_parse(s, what, c, &err) < 0) {
		if (!err || !err->msg[0] || memcmp(c, &sentinel, sizeof(*c)))
			abort();
		err_free(&err);
		return false;
	}
	if (c->bits > width(c->addr.family))
		abort();
	check_addr_text(&c->addr);
	for (unsigned i = c->bits; i < width(c->addr.family); i++)
		if (bit(&c->addr, i))
			abort();
	if (!net_cidr_contains(c, &c->addr) || !net_cidr_overlap(c, c))
		abort();
	net_cidr_format(c, t1);
	if (net_cidr_parse(t1, what, &back, &err) < 0 || memcmp(&back, c, sizeof(back)))
		abort();
	net_cidr_format(&back, t2);
	if (strcmp(t1, t2))
		abort();
	return true;
}

static void check_pool(const struct net_cidr *subnet, const struct net_cidr *range,
		       const struct net_addr *gw)
{
	struct net_pool p;
	struct net_addr first, a, prev;
	struct err *err = NULL;
	unsigned hostbits;
	size_t steps = 0;

	if (net_pool_init(&p, subnet, range, gw, &err) < 0) {
		if (!err)
			abort();
		err_free(&err);
		return;
	}
	hostbits = width(p.range.addr.family) - p.range.bits;
	if (!net_pool_first(&p, &first)) {
		/* nothing usable: only possible with at most 3 addresses */
		if (hostbits > 1)
			abort();
		return;
	}
	if (!net_pool_usable(&p, &first) || !ref_contains(&p.range, &first))
		abort();
	a = first;
	for (;;) {
		prev = a;
		if (!net_pool_next(&p, &a))
			abort();
		if (!net_pool_usable(&p, &a) || !ref_contains(&p.range, &a) ||
		    !ref_contains(&p.subnet, &a))
			abort();
		if (p.has_gateway && net_addr_equal(&a, &p.gateway))
			abort();
		steps++;
		if (net_addr_equal(&a, &first))
			break;
		/* the walk started at the lowest usable address, so the one
		 * wrap lands on it (and ended the loop): it only goes up */
		if (cmp_addr(&a, &prev) <= 0)
			abort();
		if (hostbits > 12 && steps >= 64)
			return;
		if (steps > 4096)
			abort();
	}
	if (hostbits <= 12) {
		/* brute force: every address of the range, counted */
		size_t usable = 0, total = (size_t)1 << hostbits;

		a = p.range.addr;
		for (size_t i = 0; i < total; i++) {
			struct net_addr x = a;
			unsigned carry = (unsigned)i;

			/* x = range start + i, on the last two bytes */
			for (int k = a.family == AF_INET ? 3 : 15; k >= 0 && carry; k--) {
				unsigned v = x.b[k] + (carry & 0xff);

				x.b[k] = (uint8_t)v;
				carry = (carry >> 8) + (v >> 8);
			}
			usable += net_pool_usable(&p, &x);
		}
		if (usable != steps)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char f[4][FIELD_MAX + 1];
	struct net_cidr subnet, range, c2;
	struct net_addr gw, a, sentinel;
	bool have_subnet, have_range = false, have_gw = false, have_a = false;
	struct err *err = NULL;
	size_t pos = 0;

	for (int i = 0; i < 4; i++) {
		size_t n = 0;

		while (pos < size && data[pos] != '\n') {
			if (n < FIELD_MAX)
				f[i][n++] = (char)data[pos];
			pos++;
		}
		f[i][n] = '\0';
		if (pos < size)
			pos++;
	}

	/* addresses: failure leaves the output, success round-trips */
	for (int i = 0; i < 4; i++) {
		memset(&sentinel, 0x5a, sizeof(sentinel));
		a = sentinel;
		if (net_addr_parse(f[i], &a, &err) < 0) {
			if (!err || memcmp(&a, &sentinel, sizeof(a)))
				abort();
			err_free(&err);
		} else {
			check_addr_text(&a);
		}
	}

	have_subnet = parse_cidr(f[0], "subnet", &subnet);
	if (f[1][0])
		have_range = parse_cidr(f[1], "ip-range", &range);
	if (f[2][0])
		have_gw = net_addr_parse(f[2], &gw, NULL) == 0;
	have_a = net_addr_parse(f[3], &a, NULL) == 0;
	if (!have_subnet)
		return 0;

	if (have_a && net_cidr_contains(&subnet, &a) != ref_contains(&subnet, &a))
		abort();
	if (have_gw && net_cidr_contains(&subnet, &gw) != ref_contains(&subnet, &gw))
		abort();
	if (have_range) {
		bool o = net_cidr_overlap(&subnet, &range);

		if (o != net_cidr_overlap(&range, &subnet))
			abort();
		if (o != (ref_contains(&subnet, &range.addr) || ref_contains(&range, &subnet.addr)))
			abort();
	}
	/* the third line as a block too, for overlap between any two */
	if (parse_cidr(f[2], "subnet", &c2) &&
	    net_cidr_overlap(&subnet, &c2) != net_cidr_overlap(&c2, &subnet))
		abort();

	if (have_gw) {
		if (net_cidr_gateway_check(&subnet, &gw, &err) < 0) {
			if (!err)
				abort();
			err_free(&err);
		} else if (!ref_contains(&subnet, &gw) || net_cidr_is_network(&subnet, &gw) ||
			   net_cidr_is_broadcast(&subnet, &gw)) {
			abort();
		}
	}
	{
		struct net_addr dg;

		if (net_cidr_gateway_default(&subnet, have_range ? &range : NULL, &dg, &err) == 0) {
			if (net_cidr_gateway_check(&subnet, &dg, NULL) < 0)
				abort();
		} else {
			err_free(&err);
		}
	}
	check_pool(&subnet, have_range ? &range : NULL, have_gw ? &gw : NULL);
	if (have_a) {
		struct net_pool p;

		if (net_pool_init(&p, &subnet, have_range ? &range : NULL, NULL, NULL) == 0) {
			struct net_addr x = a;

			if (net_pool_next(&p, &x) && !net_pool_usable(&p, &x))
				abort();
		}
	}
	return 0;
}

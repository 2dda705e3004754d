/*
 * net/cidr.c - IP addresses, CIDR blocks and address pools (see
 * net/cidr.h).
 *
 * Runs in: the moat process; PURE (no file system, network or process
 * state); fuzzed by fuzz/cidr_fuzz.c.
 *
 * Invariants:
 *  - input text is bounded (CIDR_TEXT_MAX) before it is looked at, so
 *    messages that echo it stay short;
 *  - outputs are written only on success;
 *  - arithmetic is done on unsigned __int128 numbers of the address, so
 *    IPv4 and IPv6 share one code path; every shift is by less than 128
 *    (host_mask spells out the /0 case), and range ends are computed with
 *    OR, never with an addition that could wrap.
 */
#include "net/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Longer text is not an address or a block; refusing early keeps the
 * echoed value in messages short. */
#define CIDR_TEXT_MAX 64

typedef unsigned __int128 u128;

static unsigned width(int family)
{
	return family == AF_INET ? 32 : 128;
}

static u128 to_num(const struct net_addr *a)
{
	unsigned n = a->family == AF_INET ? 4 : 16;
	u128 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | a->b[i];
	return v;
}

static void from_num(int family, u128 v, struct net_addr *out)
{
	unsigned n = family == AF_INET ? 4 : 16;

	memset(out, 0, sizeof(*out));
	out->family = family;
	for (unsigned i = n; i-- > 0; v >>= 8)
		out->b[i] = (uint8_t)v;
}

/* The host part of a /BITS block of FAMILY: WIDTH-BITS low bits set. */
static u128 host_mask(int family, unsigned bits)
{
	unsigned n = width(family) - bits;

	if (n == 0)
		return 0;
	if (n >= 128)
		return ~(u128)0;
	return ((u128)1 << n) - 1;
}

static u128 net_num(const struct net_cidr *c)
{
	return to_num(&c->addr) & ~host_mask(c->addr.family, c->bits);
}

static u128 last_num(const struct net_cidr *c)
{
	return net_num(c) | host_mask(c->addr.family, c->bits);
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* Dotted decimal, exactly four octets 0..255, no leading zeros (Go's
 * netip and glibc's inet_pton agree on refusing "010.0.0.1"). */
static bool parse_v4(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, nd = 0;

		while (*s >= '0' && *s <= '9') {
			if (nd == 3 || (nd == 1 && v == 0))
				return false;
			v = v * 10 + (unsigned)(*s++ - '0');
			nd++;
		}
		if (nd == 0 || v > 255)
			return false;
		out[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

int net_addr_parse(const char *s, struct net_addr *out, struct err **err)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	if (strnlen(s, CIDR_TEXT_MAX + 1) > CIDR_TEXT_MAX)
		return err_set(err, EINVAL, "invalid IP address: too long");
	if (strchr(s, ':')) {
		/* inet_pton reads no zone and no brackets; it does read an
		 * embedded IPv4 tail ("::ffff:10.0.0.1"). */
		a.family = AF_INET6;
		if (inet_pton(AF_INET6, s, a.b) != 1)
			return err_set(err, EINVAL, "invalid IP address: %s", s);
	} else {
		a.family = AF_INET;
		if (!parse_v4(s, a.b))
			return err_set(err, EINVAL, "invalid IP address: %s", s);
	}
	*out = a;
	return 0;
}

void net_addr_format(const struct net_addr *a, char buf[NET_ADDR_TEXT_MAX])
{
	if (a->family == AF_INET) {
		snprintf(buf, NET_ADDR_TEXT_MAX, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	if (!inet_ntop(AF_INET6, a->b, buf, NET_ADDR_TEXT_MAX))
		snprintf(buf, NET_ADDR_TEXT_MAX, "?"); /* cannot happen: the buffer fits */
}

bool net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && !memcmp(a->b, b->b, sizeof(a->b));
}

int net_cidr_parse(const char *s, const char *what, struct net_cidr *out, struct err **err)
{
	char addr[CIDR_TEXT_MAX + 1], want[NET_CIDR_TEXT_MAX];
	struct net_cidr c;
	const char *slash, *p;
	size_t alen;
	unsigned bits = 0;

	if (strnlen(s, CIDR_TEXT_MAX + 1) > CIDR_TEXT_MAX)
		return err_set(err, EINVAL, "invalid %s: invalid CIDR block notation (too long)",
			       what);
	slash = strchr(s, '/');
	if (!slash)
		goto bad;
	alen = (size_t)(slash - s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (net_addr_parse(addr, &c.addr, NULL) < 0)
		goto bad;
	/* 1 to 3 digits, no leading zero, no sign, nothing after. */
	p = slash + 1;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		bits = bits * 10 + (unsigned)(*p - '0');
		if (bits > 128)
			goto bad;
	}
	if (*p != '\0' || bits > width(c.addr.family))
		goto bad;
	c.bits = bits;
	if (to_num(&c.addr) & host_mask(c.addr.family, bits)) {
		struct net_cidr m = c;

		from_num(c.addr.family, net_num(&c), &m.addr);
		net_cidr_format(&m, want);
		return err_set(err, EINVAL, "invalid %s %s: it should be %s", what, s, want);
	}
	*out = c;
	return 0;
bad:
	return err_set(err, EINVAL, "invalid %s %s: invalid CIDR block notation", what, s);
}

void net_cidr_format(const struct net_cidr *c, char buf[NET_CIDR_TEXT_MAX])
{
	char a[NET_ADDR_TEXT_MAX];

	net_addr_format(&c->addr, a);
	snprintf(buf, NET_CIDR_TEXT_MAX, "%s/%u", a, c->bits);
}

bool net_cidr_contains(const struct net_cidr *c, const struct net_addr *a)
{
	if (a->family != c->addr.family)
		return false;
	return (to_num(a) & ~host_mask(a->family, c->bits)) == net_num(c);
}

bool net_cidr_overlap(const struct net_cidr *a, const struct net_cidr *b)
{
	/* Two blocks overlap exactly when the shorter prefix contains the
	 * other's network address. */
	if (a->addr.family != b->addr.family)
		return false;
	return a->bits <= b->bits ? net_cidr_contains(a, &b->addr) : net_cidr_contains(b, &a->addr);
}

bool net_cidr_is_network(const struct net_cidr *c, const struct net_addr *a)
{
	unsigned limit = c->addr.family == AF_INET ? 30 : 126;

	return c->bits <= limit && net_cidr_contains(c, a) && to_num(a) == net_num(c);
}

bool net_cidr_is_broadcast(const struct net_cidr *c, const struct net_addr *a)
{
	return c->addr.family == AF_INET && c->bits <= 30 && net_cidr_contains(c, a) &&
	       to_num(a) == last_num(c);
}

int net_cidr_range_check(const struct net_cidr *subnet, const struct net_cidr *range,
			 struct err **err)
{
	char r[NET_CIDR_TEXT_MAX], s[NET_CIDR_TEXT_MAX];

	net_cidr_format(range, r);
	net_cidr_format(subnet, s);
	if (range->addr.family != subnet->addr.family)
		return err_set(err, EINVAL, "invalid ip-range %s: parent subnet is an %s block", r,
			       family_name(subnet->addr.family));
	if (range->bits < subnet->bits)
		return err_set(
		    err, EINVAL,
		    "invalid ip-range %s: CIDR block is bigger than its parent subnet %s", r, s);
	if (!net_cidr_contains(subnet, &range->addr))
		return err_set(err, EINVAL,
			       "invalid ip-range %s: parent subnet %s doesn't contain ip-range", r,
			       s);
	return 0;
}

int net_cidr_gateway_check(const struct net_cidr *subnet, const struct net_addr *gw,
			   struct err **err)
{
	char g[NET_ADDR_TEXT_MAX], s[NET_CIDR_TEXT_MAX];

	net_addr_format(gw, g);
	net_cidr_format(subnet, s);
	if (gw->family != subnet->addr.family)
		return err_set(err, EINVAL, "invalid gateway %s: parent subnet is an %s block", g,
			       family_name(subnet->addr.family));
	if (!net_cidr_contains(subnet, gw))
		return err_set(err, EINVAL,
			       "invalid gateway %s: parent subnet %s doesn't contain this address",
			       g, s);
	/* A gateway on the network or broadcast address would answer for
	 * every host or none; Linux refuses neither, so moat does. */
	if (net_cidr_is_network(subnet, gw))
		return err_set(err, EINVAL, "invalid gateway %s: it is the network address of %s",
			       g, s);
	if (net_cidr_is_broadcast(subnet, gw))
		return err_set(err, EINVAL, "invalid gateway %s: it is the broadcast address of %s",
			       g, s);
	return 0;
}

int net_cidr_gateway_default(const struct net_cidr *subnet, const struct net_cidr *range,
			     struct net_addr *out, struct err **err)
{
	struct net_pool pool;
	char s[NET_CIDR_TEXT_MAX];
	int r;

	r = net_pool_init(&pool, subnet, range, NULL, err);
	if (r < 0)
		return r;
	if (!net_pool_first(&pool, out)) {
		net_cidr_format(range ? range : subnet, s);
		return err_set(err, ENOSPC, "no host address in %s for a gateway", s);
	}
	return 0;
}

int net_pool_init(struct net_pool *pool, const struct net_cidr *subnet,
		  const struct net_cidr *range, const struct net_addr *gateway, struct err **err)
{
	struct net_pool p;
	int r;

	memset(&p, 0, sizeof(p));
	p.subnet = *subnet;
	p.range = range ? *range : *subnet;
	if (range) {
		r = net_cidr_range_check(subnet, range, err);
		if (r < 0)
			return r;
	}
	if (gateway) {
		r = net_cidr_gateway_check(subnet, gateway, err);
		if (r < 0)
			return r;
		p.gateway = *gateway;
		p.has_gateway = true;
	}
	*pool = p;
	return 0;
}

bool net_pool_usable(const struct net_pool *pool, const struct net_addr *a)
{
	return net_cidr_contains(&pool->range, a) && !net_cidr_is_network(&pool->subnet, a) &&
	       !net_cidr_is_broadcast(&pool->subnet, a) &&
	       !(pool->has_gateway && net_addr_equal(&pool->gateway, a));
}

/* At most three addresses of a range are not usable (network, broadcast,
 * gateway), so among any four consecutive ones (cyclically) one is usable,
 * and a range of fewer than four is covered by visiting each once. */
static unsigned probe_limit(const struct net_pool *pool)
{
	u128 span = host_mask(pool->range.addr.family, pool->range.bits);

	return span >= 3 ? 4 : (unsigned)span + 1;
}

bool net_pool_first(const struct net_pool *pool, struct net_addr *out)
{
	int family = pool->range.addr.family;
	u128 lo = net_num(&pool->range);
	unsigned limit = probe_limit(pool);
	struct net_addr cand;

	for (unsigned k = 0; k < limit; k++) {
		from_num(family, lo + k, &cand); /* k <= span: cannot pass the end */
		if (net_pool_usable(pool, &cand)) {
			*out = cand;
			return true;
		}
	}
	return false;
}

bool net_pool_next(const struct net_pool *pool, struct net_addr *a)
{
	int family = pool->range.addr.family;
	u128 lo = net_num(&pool->range), hi = last_num(&pool->range), v;
	unsigned limit = probe_limit(pool);
	struct net_addr cand;

	if (!net_cidr_contains(&pool->range, a))
		return net_pool_first(pool, a);
	v = to_num(a);
	for (unsigned k = 0; k < limit; k++) {
		v = v == hi ? lo : v + 1;
		from_num(family, v, &cand);
		if (net_pool_usable(pool, &cand)) {
			*a = cand;
			return true;
		}
	}
	return false;
}

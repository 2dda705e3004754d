/*
 * net/cidr.h - IP addresses, CIDR blocks and address pools: what
 * `network create --subnet/--ip-range/--gateway` accept, and the address
 * arithmetic IPAM (net/ipam.c) allocates with.
 *
 * Runs in: the moat process (flag and record parsing); PURE: no file
 * system, network or process state; fuzzed by fuzz/cidr_fuzz.c.
 *
 * Invariants:
 *  - a struct net_addr has every byte defined (unused bytes zero), so two
 *    addresses are equal exactly when memcmp says so;
 *  - a parsed struct net_cidr is a network address: host bits are zero
 *    (moby refuses "10.1.2.3/16" with "it should be 10.1.0.0/16");
 *  - a struct net_pool filled by net_pool_init is consistent: the range
 *    lies inside the subnet and the gateway (if any) is a host address of
 *    the subnet.
 *
 * Reserved addresses: IPv4 blocks up to /30 reserve their network and
 * broadcast addresses; /31 (RFC 3021) and /32 reserve none. IPv6 blocks up
 * to /126 reserve the network address (the subnet-router anycast address);
 * /127 (RFC 6164) and /128 reserve none. IPv6 has no broadcast.
 */
#ifndef MOAT_NET_CIDR_H
#define MOAT_NET_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Longest text of an address, with its NUL (INET6_ADDRSTRLEN). */
#define NET_ADDR_TEXT_MAX 46
/* Longest text of a CIDR block: address, "/", up to 3 digits, NUL. */
#define NET_CIDR_TEXT_MAX (NET_ADDR_TEXT_MAX + 4)

struct net_addr {
	int family;    /* AF_INET or AF_INET6 */
	uint8_t b[16]; /* network byte order; AF_INET uses b[0..3], the rest is zero */
};

struct net_cidr {
	struct net_addr addr; /* the network address: host bits zero */
	unsigned bits;	      /* 0..32 (AF_INET) or 0..128 (AF_INET6) */
};

/* Where addresses are handed out from: a subnet, the part of it dynamic
 * allocation uses (--ip-range; the whole subnet without one) and the
 * gateway, which is never handed out. */
struct net_pool {
	struct net_cidr subnet;
	struct net_cidr range;
	struct net_addr gateway;
	bool has_gateway;
};

/* ---- addresses ---- */

/* Strict text forms: IPv4 dotted decimal (four octets, no leading zeros);
 * IPv6 as inet_pton reads it, without a zone ("%eth0"). Fills OUT only on
 * success. ERR may be NULL. */
int net_addr_parse(const char *s, struct net_addr *out, struct err **err);
/* Canonical text ("10.0.0.1", "fd00::1"); BUF has NET_ADDR_TEXT_MAX bytes. */
void net_addr_format(const struct net_addr *a, char buf[NET_ADDR_TEXT_MAX]);
bool net_addr_equal(const struct net_addr *a, const struct net_addr *b);

/* ---- CIDR blocks ---- */

/*
 * "ADDR/BITS" (BITS decimal, no leading zeros). WHAT names the flag in
 * messages, moby's way: "invalid subnet 10.1.2.3/16: it should be
 * 10.1.0.0/16", "invalid ip-range x: invalid CIDR block notation".
 */
int net_cidr_parse(const char *s, const char *what, struct net_cidr *out, struct err **err);
/* "10.88.0.0/16"; BUF has NET_CIDR_TEXT_MAX bytes. */
void net_cidr_format(const struct net_cidr *c, char buf[NET_CIDR_TEXT_MAX]);
/* A is inside C (false across families). */
bool net_cidr_contains(const struct net_cidr *c, const struct net_addr *a);
/* A and B share at least one address (false across families). */
bool net_cidr_overlap(const struct net_cidr *a, const struct net_cidr *b);
/* The block's network address is a reserved one (see the top of this file). */
bool net_cidr_is_network(const struct net_cidr *c, const struct net_addr *a);
/* A is the block's (IPv4) broadcast address, reserved up to /30. */
bool net_cidr_is_broadcast(const struct net_cidr *c, const struct net_addr *a);

/* --ip-range RANGE must be a block of SUBNET's family inside SUBNET
 * (moby's messages). */
int net_cidr_range_check(const struct net_cidr *subnet, const struct net_cidr *range,
			 struct err **err);
/* --gateway GW must be an address of SUBNET that is not its network or
 * broadcast address. */
int net_cidr_gateway_check(const struct net_cidr *subnet, const struct net_addr *gw,
			   struct err **err);
/*
 * The gateway Docker picks without --gateway: the first host address of
 * RANGE (of SUBNET without one), "10.88.0.1" for 10.88.0.0/16. Fails with
 * ENOSPC when there is no host address (never for IPv4 up to /32).
 */
int net_cidr_gateway_default(const struct net_cidr *subnet, const struct net_cidr *range,
			     struct net_addr *out, struct err **err);

/* ---- pools ---- */

/* Checks and fills POOL. RANGE NULL: the whole subnet. GATEWAY NULL: no
 * gateway is reserved (the caller passes net_cidr_gateway_default's answer
 * when it wants Docker's default). */
int net_pool_init(struct net_pool *pool, const struct net_cidr *subnet,
		  const struct net_cidr *range, const struct net_addr *gateway, struct err **err);
/* A can be handed out: in the range, not reserved, not the gateway. */
bool net_pool_usable(const struct net_pool *pool, const struct net_addr *a);
/* The lowest usable address of the range; false when there is none. */
bool net_pool_first(const struct net_pool *pool, struct net_addr *out);
/*
 * The usable address after *A in the range, wrapping from its end to its
 * start; *A need not be usable, nor inside the range (then the answer is
 * net_pool_first's). Returns false (and leaves *A) when nothing is usable.
 * Walking with it from a usable address visits every usable address once
 * before returning to where it started.
 */
bool net_pool_next(const struct net_pool *pool, struct net_addr *a);

#endif

/*
 * net/portspec.c - Docker's -p/--publish specs and ExposedPorts keys,
 * expanded into bindings (see net/portspec.h).
 *
 * Runs in: the moat process; PURE (no file system, network or process
 * state); fuzzed by fuzz/portspec_fuzz.c.
 *
 * Invariants:
 *  - a spec is bounded (NET_PORTSPEC_MAX_LEN) before it is looked at and
 *    split in a stack copy; the only allocation is the result, whose size
 *    is the container range's length, at most 65535;
 *  - outputs are written only on success;
 *  - the checks run in go-connections' order (port present, protocol,
 *    address, container ports, host ports, range lengths), so a spec with
 *    several faults gets the message Docker gives.
 *
 * Where moat is stricter than Docker: port 0, "1-2-3" (Docker reads
 * "1-2" and drops the rest), "[]" as an address (Docker reads "every
 * address") and "80/tcp/x" (refused by current Docker, read as tcp by
 * older ones) are refused.
 */
#include "net/portspec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/cleanup.h"

const char *net_proto_name(enum net_proto proto)
{
	switch (proto) {
	case NET_PROTO_TCP:
		return "tcp";
	case NET_PROTO_UDP:
		return "udp";
	case NET_PROTO_SCTP:
		return "sctp";
	default:
		return "?";
	}
}

/* One port: decimal digits (leading zeros read, as Go's ParseUint does),
 * 1..65535. */
static bool parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 65535)
			return false;
	}
	if (v == 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "P" or "LO-HI" with LO <= HI. */
static bool parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');

	if (!dash) {
		if (!parse_port(s, strlen(s), lo))
			return false;
		*hi = *lo;
		return true;
	}
	if (strchr(dash + 1, '-'))
		return false;
	return parse_port(s, (size_t)(dash - s), lo) &&
	       parse_port(dash + 1, strlen(dash + 1), hi) && *lo <= *hi;
}

/* go-connections' SplitProtoPort: PORT[/PROTO], cut at the first '/';
 * an empty PROTO is tcp. Splits S in place; returns the port part (""
 * when there is none) and sets *PROTO_TEXT. */
static char *split_proto(char *s, const char **proto_text)
{
	char *slash = strchr(s, '/');

	*proto_text = "tcp";
	if (slash) {
		*slash = '\0';
		if (slash[1])
			*proto_text = slash + 1;
	}
	return s;
}

static bool parse_proto(const char *s, enum net_proto *out)
{
	static const enum net_proto all[] = {NET_PROTO_TCP, NET_PROTO_UDP, NET_PROTO_SCTP};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (!strcasecmp(s, net_proto_name(all[i]))) {
			*out = all[i];
			return true;
		}
	return false;
}

/* IP, bare or in brackets ("[::1]", "[10.0.0.1]"), into canonical text. */
static bool parse_host_ip(char *ip, struct net_port_binding *b)
{
	struct net_addr a;
	size_t len = strlen(ip);

	if (ip[0] == '[') {
		if (len < 3 || ip[len - 1] != ']')
			return false;
		/* what is inside must be a bare address; inet_pton and
		 * the IPv4 reader refuse any further bracket */
		ip[len - 1] = '\0';
		ip++;
	}
	if (net_addr_parse(ip, &a, NULL) < 0)
		return false;
	net_addr_format(&a, b->host_ip);
	b->host_family = a.family;
	return true;
}

static bool too_long(const char *s)
{
	return strnlen(s, NET_PORTSPEC_MAX_LEN + 1) > NET_PORTSPEC_MAX_LEN;
}

/* One binding per container port of LO..HI, from the template T. */
static int expand(const struct net_port_binding *t, uint16_t lo, uint16_t hi, uint16_t host_lo,
		  uint16_t host_hi, struct net_port_binding **out, size_t *n, struct err **err)
{
	size_t count = (size_t)(hi - lo) + 1;
	_cleanup_free_ struct net_port_binding *v = NULL;

	if (count > NET_PORTSPEC_MAX_BINDINGS) /* cannot happen with 16-bit ports */
		return err_set(err, E2BIG, "port spec expands to more than %d bindings",
			       NET_PORTSPEC_MAX_BINDINGS);
	v = calloc(count, sizeof(*v));
	if (!v)
		return err_errno(err, ENOMEM, "port spec");
	for (size_t i = 0; i < count; i++) {
		v[i] = *t;
		v[i].ctr_port = (uint16_t)(lo + i);
		if (host_lo == 0) {
			/* any free port */
		} else if (count == 1) {
			/* "8000-8010:80": one port of the host range */
			v[i].host_port_lo = host_lo;
			v[i].host_port_hi = host_hi;
		} else {
			/* equal lengths, checked by the caller */
			v[i].host_port_lo = v[i].host_port_hi = (uint16_t)(host_lo + i);
		}
	}
	*out = steal_ptr(v);
	*n = count;
	return 0;
}

int net_portspec_parse(const char *spec, struct net_port_binding **out, size_t *n, struct err **err)
{
	char buf[NET_PORTSPEC_MAX_LEN + 1];
	char *ip = NULL, *host = NULL, *ctr, *last, *prev;
	const char *proto_text;
	struct net_port_binding t;
	uint16_t lo, hi, host_lo = 0, host_hi = 0;

	*out = NULL;
	*n = 0;
	if (too_long(spec))
		return err_set(err, EINVAL, "Invalid port spec: longer than %d bytes",
			       NET_PORTSPEC_MAX_LEN);
	strcpy(buf, spec);

	/* go-connections' splitParts: the last two ':' end IP and HOSTPORT,
	 * so a bare IPv6 address keeps its own colons. */
	last = strrchr(buf, ':');
	if (!last) {
		ctr = buf;
	} else {
		*last = '\0';
		ctr = last + 1;
		prev = strrchr(buf, ':');
		if (!prev) {
			host = buf;
		} else {
			*prev = '\0';
			host = prev + 1;
			ip = buf;
		}
	}

	ctr = split_proto(ctr, &proto_text);
	if (!ctr[0])
		return err_set(err, EINVAL, "No port specified: %s<empty>", spec);
	memset(&t, 0, sizeof(t));
	if (!parse_proto(proto_text, &t.proto))
		return err_set(err, EINVAL, "Invalid proto: %s", proto_text);
	if (ip && ip[0]) {
		char shown[NET_PORTSPEC_MAX_LEN + 1];

		strcpy(shown, ip); /* parse_host_ip strips brackets in place */
		if (!parse_host_ip(ip, &t))
			return err_set(err, EINVAL, "Invalid ip address: %s", shown);
	}
	if (!parse_range(ctr, &lo, &hi))
		return err_set(err, EINVAL, "Invalid containerPort: %s", ctr);
	if (host && host[0]) {
		if (!parse_range(host, &host_lo, &host_hi))
			return err_set(err, EINVAL, "Invalid hostPort: %s", host);
		/* A host range with a single container port is the range to
		 * pick one free port from; with a container range the two
		 * must pair up port by port. */
		if (hi != lo && hi - lo != host_hi - host_lo)
			return err_set(
			    err, EINVAL,
			    "Invalid ranges specified for container and host Ports: %s and %s", ctr,
			    host);
	}
	return expand(&t, lo, hi, host_lo, host_hi, out, n, err);
}

int net_portspec_parse_exposed(const char *key, struct net_port_binding **out, size_t *n,
			       struct err **err)
{
	char buf[NET_PORTSPEC_MAX_LEN + 1];
	const char *proto_text;
	struct net_port_binding t;
	uint16_t lo, hi;
	char *port;

	*out = NULL;
	*n = 0;
	if (too_long(key))
		return err_set(err, EINVAL, "Invalid exposed port: longer than %d bytes",
			       NET_PORTSPEC_MAX_LEN);
	strcpy(buf, key);
	port = split_proto(buf, &proto_text);
	if (!port[0])
		return err_set(err, EINVAL, "No port specified: %s<empty>", key);
	memset(&t, 0, sizeof(t));
	if (!parse_proto(proto_text, &t.proto))
		return err_set(err, EINVAL, "Invalid proto: %s", proto_text);
	if (!parse_range(port, &lo, &hi))
		return err_set(err, EINVAL, "Invalid containerPort: %s", port);
	return expand(&t, lo, hi, 0, 0, out, n, err);
}

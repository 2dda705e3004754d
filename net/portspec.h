/*
 * net/portspec.h - Docker's port publishing syntax: `-p/--publish` specs
 * and the image's ExposedPorts keys that `-P/--publish-all` publishes,
 * expanded into one binding per container port.
 *
 * Runs in: the moat process (flag and image-config parsing); PURE: no file
 * system, network or process state; fuzzed by fuzz/portspec_fuzz.c.
 *
 * Grammar (go-connections' nat.ParsePortSpec):
 *   [IP:][HOSTPORT[-HOSTPORT]:]CTRPORT[-CTRPORT][/PROTO]
 *   IP      IPv4, or IPv6 bare ("::1:8080:80") or in brackets
 *           ("[::1]:8080:80"); empty: every address
 *   HOST    empty ("127.0.0.1::80"): any free port; a range with a single
 *           container port ("8000-8010:80"): one free port of that range;
 *           a range with a container range: the same length, port by port
 *   PROTO   tcp (the default), udp or sctp, any case
 * Ports are 1..65535 (Docker also reads 0; moat refuses it). Messages are
 * Docker's.
 */
#ifndef MOAT_NET_PORTSPEC_H
#define MOAT_NET_PORTSPEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/cidr.h"

/* Longer specs are refused before they are looked at. */
#define NET_PORTSPEC_MAX_LEN 512
/* A spec expands to at most this many bindings ("1-65535" is 65535). */
#define NET_PORTSPEC_MAX_BINDINGS 65536

enum net_proto {
	NET_PROTO_TCP,
	NET_PROTO_UDP,
	NET_PROTO_SCTP,
};

struct net_port_binding {
	char host_ip[NET_ADDR_TEXT_MAX]; /* canonical text; "" = every address */
	int host_family;		 /* AF_INET or AF_INET6; 0 with host_ip "" */
	/* Host ports to bind: lo == hi a fixed port; lo < hi one free port of
	 * lo..hi; both 0 any free (ephemeral) port. */
	uint16_t host_port_lo, host_port_hi;
	uint16_t ctr_port; /* 1..65535 */
	enum net_proto proto;
};

/*
 * Parses one -p SPEC into *OUT (an array of *N >= 1 bindings, the
 * caller's to free), container ports ascending. On failure *OUT is NULL,
 * *N is 0 and ERR says what is wrong in Docker's words ("Invalid
 * containerPort: 80x").
 */
int net_portspec_parse(const char *spec, struct net_port_binding **out, size_t *n,
		       struct err **err);
/*
 * Parses an image ExposedPorts key ("80/tcp", "53/udp", "8000-8002/tcp",
 * "80") into the bindings -P makes of it: every address, any free host
 * port, one binding per container port. Same contract as
 * net_portspec_parse.
 */
int net_portspec_parse_exposed(const char *key, struct net_port_binding **out, size_t *n,
			       struct err **err);
/* "tcp", "udp", "sctp". */
const char *net_proto_name(enum net_proto proto);

#endif

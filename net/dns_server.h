/*
 * net/dns_server.h - the embedded DNS resolver containers reach at
 * 127.0.0.11:53: names of the containers (and their --network-alias) on
 * the container's user-defined networks are answered at once from a
 * lookup callback, so a change is seen at the next query; other names are
 * forwarded to the host's resolvers, except on --internal networks, which
 * never forward (CVE-2024-29018).
 *
 * Runs in: the container's monitor, in its event loop: non-blocking, poll
 * driven, no threads. The listening UDP socket lives in the container's
 * network namespace (its init binds 127.0.0.11:53 and hands it over); the
 * sockets to the upstreams are created by the server in the monitor's
 * namespace, the host's, so host-only resolvers (127.0.0.53) work.
 *
 * Every datagram received is untrusted. A malformed query is answered
 * with FORMERR (or dropped when it has no usable header); an upstream
 * reply that is not for the query it claims to answer (wrong source, ID or
 * question) is dropped and the real one is still waited for.
 */
#ifndef MOAT_NET_DNS_SERVER_H
#define MOAT_NET_DNS_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/cidr.h"
#include "net/dns.h"

/* How long one upstream has to answer before the next is tried (after the
 * last: SERVFAIL). glibc waits 5 s per try, so a client is still there. */
#define DNS_SERVER_TIMEOUT_MS 2000
/* Forwarded queries waiting for an answer; each holds one socket. When
 * full, the oldest is given up (its client asks again). */
#define DNS_SERVER_MAX_PENDING 256
/* Addresses asked of the lookup callback per query. */
#define DNS_SERVER_MAX_ADDRS 32

struct dns_server;

struct dns_server_config {
	/* The listening UDP socket, bound. Not owned: the caller closes it
	 * after dns_server_free. The server never changes its flags (every
	 * call on it says MSG_DONTWAIT). */
	int fd;
	/*
	 * Addresses of NAME (lowercase dotted text, no trailing dot, printable
	 * ASCII without blanks; compare with dns_name_equal or strcasecmp) for
	 * QTYPE (DNS_TYPE_A: IPv4, DNS_TYPE_AAAA: IPv6): writes at most MAX
	 * to OUT and returns how many; 0 when the name is a container's (or
	 * an alias) but has no address of that family (NOERROR, no answer,
	 * never forwarded); -ENOENT when the name is not a local one; any
	 * other negative errno is a failure (SERVFAIL). Called again at every
	 * query: nothing is cached.
	 */
	int (*lookup)(const char *name, int qtype, struct net_addr *out, size_t max, void *data);
	/* Optional (NULL: PTR queries are treated as non-local): the name of
	 * the endpoint with address ADDR, into NAME (CAP bytes), 0; -ENOENT
	 * when no endpoint has it. */
	int (*reverse)(const struct net_addr *addr, char *name, size_t cap, void *data);
	void *data;
	/* Where non-local names go, tried in order; dns_resolv_conf_parse
	 * reads them. 127.0.0.11 and the listening socket's own address are
	 * dropped (a loop guard). */
	struct dns_upstream upstreams[DNS_MAX_UPSTREAMS];
	size_t n_upstreams;
	/* false on --internal networks: non-local names get SERVFAIL, as
	 * moby's resolver answers them without proxyDNS, and no packet
	 * leaves for an upstream */
	bool forward;
	unsigned timeout_ms;  /* per upstream try; 0: DNS_SERVER_TIMEOUT_MS */
	unsigned max_pending; /* 0: DNS_SERVER_MAX_PENDING */
};

/* What happened so far, for tests and `moat inspect`-style debugging. */
struct dns_server_stats {
	uint64_t queries;     /* datagrams received on the listening socket */
	uint64_t local;	      /* answered from the lookup callbacks */
	uint64_t refused;     /* malformed or unsupported, answered with an error */
	uint64_t dropped;     /* received and not answered (no header, a response) */
	uint64_t forwarded;   /* sent to an upstream (each try counts) */
	uint64_t relayed;     /* upstream replies passed to a client */
	uint64_t bad_replies; /* upstream datagrams that did not match their query */
	uint64_t timeouts;    /* upstream tries that timed out or failed */
	uint64_t servfail;    /* SERVFAIL given by moat itself */
	uint64_t evicted;     /* pending queries given up for a newer one */
	uint64_t duplicates;  /* retransmissions of a query already pending */
};

/* Checks CFG and creates the server; no socket is created until a query
 * is forwarded. */
int dns_server_new(const struct dns_server_config *cfg, struct dns_server **out, struct err **err);
void dns_server_free(struct dns_server *srv);

/* Fills PFDS (MAX entries) with what to poll: the listening socket first,
 * then one socket per pending query. Returns how many the server wants;
 * when that is more than MAX only MAX were written (poll those, the rest
 * are served by timeouts). At most 1 + max_pending. */
size_t dns_server_fds(const struct dns_server *srv, struct pollfd *pfds, size_t max);
/*
 * Does the work: PFDS (N entries, from dns_server_fds, revents filled by
 * poll) says which sockets are ready; NOW_MS is CLOCK_MONOTONIC in
 * milliseconds. Answers, forwards and relays what arrived, then tries the
 * next upstream (or answers SERVFAIL) for every try that timed out; call
 * it when poll times out too (N may be 0). Returns 0, or a negative errno
 * when the listening socket itself failed (POLLNVAL, a receive error that
 * is not transient): the server cannot go on.
 */
int dns_server_handle(struct dns_server *srv, const struct pollfd *pfds, size_t n, int64_t now_ms,
		      struct err **err);
/* Milliseconds until the earliest pending try times out (0 when one is
 * due), or -1 when nothing is pending: poll's timeout. */
int dns_server_next_timeout_ms(const struct dns_server *srv, int64_t now_ms);

const struct dns_server_stats *dns_server_stats(const struct dns_server *srv);

#endif

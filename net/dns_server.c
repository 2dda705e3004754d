/*
 * net/dns_server.c - the embedded DNS resolver (see net/dns_server.h).
 *
 * Runs in: the container's monitor, inside its event loop, with the
 * monitor's privileges; single-threaded, never blocks (every socket call
 * says MSG_DONTWAIT; upstream sockets are SOCK_NONBLOCK).
 *
 * Threats and what answers them:
 *  - a container process sends garbage, responses or floods to
 *    127.0.0.11: every datagram goes through dns_query_parse (pure,
 *    fuzzed); responses are never answered; at most DNS_SERVER_BURST
 *    datagrams are read per call, so the monitor's other work still runs;
 *    forwarded queries are bounded (max_pending, oldest given up first)
 *    and a retransmission of a pending query is not forwarded again;
 *  - someone off-path forges upstream replies (cache poisoning of the
 *    container's view): each forwarded try gets its own socket, connected
 *    to the upstream, so the kernel drops datagrams from any other address
 *    or port, the source port is an ephemeral one picked by the kernel,
 *    the ID is fresh from getrandom, and the reply must repeat the
 *    question; a mismatch is dropped and the real reply still awaited;
 *  - an --internal network must not leak names out (CVE-2024-29018):
 *    without FORWARD no upstream socket is ever created;
 *  - a forwarding loop: 127.0.0.11 and the listening socket's own address
 *    are never used as upstreams.
 *
 * Not done here: TCP. A reply too large for the client's UDP size goes
 * back with TC set, as any resolver would send it.
 */
#include "net/dns_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"

/* Datagrams read from one socket per dns_server_handle call. */
#define DNS_SERVER_BURST 64

struct pending {
	int fd;	   /* connected to upstreams[up]; owned */
	size_t up; /* the upstream tried now */
	uint16_t upstream_id;
	struct sockaddr_storage client;
	socklen_t client_len;
	struct dns_query q; /* the client's query, parsed (its ID, question, UDP size) */
	int64_t deadline;
	uint64_t seq; /* arrival order: the smallest is the oldest */
	size_t len;
	uint8_t query[]; /* the client's datagram as received */
};

struct dns_server {
	int fd;
	int (*lookup)(const char *name, int qtype, struct net_addr *out, size_t max, void *data);
	int (*reverse)(const struct net_addr *addr, char *name, size_t cap, void *data);
	void *data;
	struct dns_upstream up[DNS_MAX_UPSTREAMS];
	size_t n_up;
	bool forward;
	unsigned timeout_ms;
	struct pending **pend; /* max_pending slots, NULL when free */
	size_t max_pending, n_pending;
	uint64_t seq;
	uint8_t rnd[64]; /* getrandom output not yet used: the last RND_LEFT bytes */
	size_t rnd_left;
	struct dns_server_stats stats;
	/* one byte over the largest datagram, so an oversized one shows */
	uint8_t buf[DNS_UDP_EDNS_MAX + 1];
	uint8_t out[DNS_UDP_EDNS_MAX];
};

static int random_bytes(struct dns_server *srv, void *p, size_t n)
{
	uint8_t *o = p;

	while (n) {
		size_t k;

		if (!srv->rnd_left) {
			ssize_t r = getrandom(srv->rnd, sizeof(srv->rnd), GRND_NONBLOCK);

			if (r != (ssize_t)sizeof(srv->rnd))
				return -EAGAIN;
			srv->rnd_left = sizeof(srv->rnd);
		}
		k = n < srv->rnd_left ? n : srv->rnd_left;
		memcpy(o, srv->rnd + sizeof(srv->rnd) - srv->rnd_left, k);
		srv->rnd_left -= k;
		o += k;
		n -= k;
	}
	return 0;
}

static socklen_t to_sockaddr(const struct net_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, a->b, 4);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->b, 16);
	return sizeof(*s6);
}

/* The address and port of SS; false for other families. */
static bool from_sockaddr(const struct sockaddr_storage *ss, struct net_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		a->family = AF_INET;
		memcpy(a->b, &s->sin_addr, 4);
		*port = ntohs(s->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		a->family = AF_INET6;
		memcpy(a->b, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct net_addr x, y;
	uint16_t px, py;

	return from_sockaddr(a, &x, &px) && from_sockaddr(b, &y, &py) && px == py &&
	       net_addr_equal(&x, &y);
}

static bool same_question(const struct dns_question *a, const struct dns_question *b)
{
	if (a->qtype != b->qtype || a->qclass != b->qclass || a->wire_len != b->wire_len)
		return false;
	for (size_t i = 0; i < a->wire_len; i++) {
		uint8_t x = a->wire[i], y = b->wire[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static void send_client(struct dns_server *srv, const struct sockaddr_storage *to, socklen_t tl,
			const uint8_t *buf, size_t len)
{
	/* a client that went away is no error of the server's */
	(void)sendto(srv->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to,
		     tl);
}

static void reply(struct dns_server *srv, const struct dns_query *q, int rcode,
		  const struct net_addr *addrs, size_t n, const struct sockaddr_storage *to,
		  socklen_t tl)
{
	int len = dns_reply_build(q, rcode, addrs, n, srv->out, sizeof(srv->out));

	if (len > 0)
		send_client(srv, to, tl, srv->out, (size_t)len);
	if (rcode == DNS_RCODE_SERVFAIL)
		srv->stats.servfail++;
}

/* ---- pending forwards ---- */

static void pending_free(struct dns_server *srv, size_t slot)
{
	struct pending *p = srv->pend[slot];

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	srv->pend[slot] = NULL;
	srv->n_pending--;
}

/* Sends P to the upstreams from START on until one takes it; false when
 * none did. Each try gets a new socket and a new ID. */
static bool try_from(struct dns_server *srv, struct pending *p, size_t start, int64_t now)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	for (size_t i = start; i < srv->n_up; i++) {
		_cleanup_close_ int fd = -1;
		struct sockaddr_storage ss;
		socklen_t sl = to_sockaddr(&srv->up[i].addr, srv->up[i].port, &ss);
		uint16_t id;

		if (random_bytes(srv, &id, sizeof(id)) < 0)
			return false;
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		/* connected: the kernel drops datagrams from anyone else */
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
			srv->stats.timeouts++;
			continue;
		}
		memcpy(srv->out, p->query, p->len);
		dns_query_prepare_forward(srv->out, p->len, &p->q, id);
		if (send(fd, srv->out, p->len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)p->len) {
			srv->stats.timeouts++;
			continue;
		}
		srv->stats.forwarded++;
		p->fd = steal_fd(fd);
		p->up = i;
		p->upstream_id = id;
		p->deadline = now + srv->timeout_ms;
		return true;
	}
	return false;
}

/* The upstream of SLOT failed or timed out: the next one, or SERVFAIL. */
static void next_upstream(struct dns_server *srv, size_t slot, int64_t now)
{
	struct pending *p = srv->pend[slot];

	if (try_from(srv, p, p->up + 1, now))
		return;
	reply(srv, &p->q, DNS_RCODE_SERVFAIL, NULL, 0, &p->client, p->client_len);
	pending_free(srv, slot);
}

static void forward(struct dns_server *srv, const struct dns_query *q, const uint8_t *buf,
		    size_t len, const struct sockaddr_storage *from, socklen_t fl, int64_t now)
{
	_cleanup_free_ struct pending *p = NULL;
	size_t slot = srv->max_pending, oldest = 0;

	for (size_t i = 0; i < srv->max_pending; i++) {
		struct pending *o = srv->pend[i];

		if (!o) {
			if (slot == srv->max_pending)
				slot = i;
			continue;
		}
		/* a retransmission: the answer to the first copy will do */
		if (o->q.id == q->id && same_client(&o->client, from) &&
		    same_question(&o->q.q, &q->q)) {
			srv->stats.duplicates++;
			return;
		}
		if (!srv->pend[oldest] || o->seq < srv->pend[oldest]->seq)
			oldest = i;
	}
	if (slot == srv->max_pending) {
		pending_free(srv, oldest);
		srv->stats.evicted++;
		slot = oldest;
	}
	p = calloc(1, sizeof(*p) + len);
	if (!p) {
		reply(srv, q, DNS_RCODE_SERVFAIL, NULL, 0, from, fl);
		return;
	}
	p->fd = -1;
	p->q = *q;
	p->client = *from;
	p->client_len = fl;
	p->seq = srv->seq++;
	p->len = len;
	memcpy(p->query, buf, len);
	if (!try_from(srv, p, 0, now)) {
		reply(srv, q, DNS_RCODE_SERVFAIL, NULL, 0, from, fl);
		return;
	}
	srv->pend[slot] = steal_ptr(p);
	srv->n_pending++;
}

/* Reads what the upstream of SLOT sent. */
static void on_upstream(struct dns_server *srv, size_t slot, int64_t now)
{
	struct pending *p = srv->pend[slot];

	for (int k = 0; k < DNS_SERVER_BURST; k++) {
		ssize_t r = recv(p->fd, srv->buf, sizeof(srv->buf), MSG_DONTWAIT | MSG_TRUNC);
		size_t len, cap;
		int rcode;

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* ECONNREFUSED (nothing listens there) and the like:
			 * this upstream will not answer */
			srv->stats.timeouts++;
			next_upstream(srv, slot, now);
			return;
		}
		len = (size_t)r > DNS_UDP_EDNS_MAX ? DNS_UDP_EDNS_MAX : (size_t)r;
		if (dns_reply_check(srv->buf, len, p->upstream_id, &p->q.q, NULL) < 0) {
			srv->stats.bad_replies++;
			continue;
		}
		rcode = dns_reply_rcode(srv->buf);
		if ((rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED) &&
		    p->up + 1 < srv->n_up) {
			next_upstream(srv, slot, now);
			return;
		}
		/* a datagram cut by the receive buffer keeps only its question */
		cap = (size_t)r > DNS_UDP_EDNS_MAX ? 0 : p->q.udp_size;
		dns_msg_set_id(srv->buf, p->q.id);
		len = dns_reply_fit(srv->buf, len, cap, &p->q.q);
		send_client(srv, &p->client, p->client_len, srv->buf, len);
		srv->stats.relayed++;
		pending_free(srv, slot);
		return;
	}
}

/* ---- local answers ---- */

/* Keeps the addresses of FAMILY, in order; returns how many. */
static size_t keep_family(struct net_addr *a, size_t n, int family)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (a[i].family == family)
			a[k++] = a[i];
	return k;
}

/* Round robin as Docker's: a name shared by several containers (an alias)
 * spreads its clients over them. */
static void shuffle(struct dns_server *srv, struct net_addr *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		uint16_t r;
		struct net_addr t;
		size_t j;

		if (random_bytes(srv, &r, sizeof(r)) < 0)
			return;
		j = r % i;
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* Answers Q when its name is local; false when it is not. */
static bool answer_local(struct dns_server *srv, const struct dns_query *q,
			 const struct sockaddr_storage *from, socklen_t fl)
{
	struct net_addr addrs[DNS_SERVER_MAX_ADDRS];
	const char *name = q->q.name;
	int r4, r6;

	if (!q->q.name_ok || !name[0])
		return false;
	if (q->q.qtype == DNS_TYPE_A || q->q.qtype == DNS_TYPE_AAAA) {
		int n = srv->lookup(name, q->q.qtype, addrs, DNS_SERVER_MAX_ADDRS, srv->data);
		size_t k;

		if (n == -ENOENT)
			return false;
		if (n < 0) {
			reply(srv, q, DNS_RCODE_SERVFAIL, NULL, 0, from, fl);
			return true;
		}
		k = (size_t)n > DNS_SERVER_MAX_ADDRS ? DNS_SERVER_MAX_ADDRS : (size_t)n;
		k = keep_family(addrs, k, q->q.qtype == DNS_TYPE_A ? AF_INET : AF_INET6);
		shuffle(srv, addrs, k);
		reply(srv, q, DNS_RCODE_NOERROR, addrs, k, from, fl);
		srv->stats.local++;
		return true;
	}
	if (q->q.qtype == DNS_TYPE_PTR && srv->reverse) {
		char target[DNS_NAME_TEXT_MAX];
		struct net_addr a;
		int r, len;

		if (dns_ptr_parse(name, &a, NULL) == 0) {
			memset(target, 0, sizeof(target));
			r = srv->reverse(&a, target, sizeof(target), srv->data);
			if (r == -ENOENT)
				return false;
			target[sizeof(target) - 1] = '\0';
			len =
			    r < 0 ? r : dns_reply_build_ptr(q, target, srv->out, sizeof(srv->out));
			if (len < 0) {
				reply(srv, q, DNS_RCODE_SERVFAIL, NULL, 0, from, fl);
				return true;
			}
			send_client(srv, from, fl, srv->out, (size_t)len);
			srv->stats.local++;
			return true;
		}
	}
	/* another type: a local name has none, and the question stays here */
	r4 = srv->lookup(name, DNS_TYPE_A, addrs, DNS_SERVER_MAX_ADDRS, srv->data);
	r6 = srv->lookup(name, DNS_TYPE_AAAA, addrs, DNS_SERVER_MAX_ADDRS, srv->data);
	if (r4 >= 0 || r6 >= 0) {
		reply(srv, q, DNS_RCODE_NOERROR, NULL, 0, from, fl);
		srv->stats.local++;
		return true;
	}
	if (r4 != -ENOENT || r6 != -ENOENT) {
		reply(srv, q, DNS_RCODE_SERVFAIL, NULL, 0, from, fl);
		return true;
	}
	return false;
}

static void on_query(struct dns_server *srv, size_t len, const struct sockaddr_storage *from,
		     socklen_t fl, int64_t now)
{
	struct dns_query q;
	int r = dns_query_parse(srv->buf, len, &q, NULL);

	if (r < 0) {
		int rcode = dns_query_error_rcode(r);

		if (rcode < 0) {
			srv->stats.dropped++;
			return;
		}
		srv->stats.refused++;
		reply(srv, &q, rcode, NULL, 0, from, fl);
		return;
	}
	if (answer_local(srv, &q, from, fl))
		return;
	/* moby's resolver without proxyDNS answers SERVFAIL, not NXDOMAIN:
	 * the name may well exist, this resolver just will not ask */
	if (!srv->forward || !srv->n_up) {
		reply(srv, &q, DNS_RCODE_SERVFAIL, NULL, 0, from, fl);
		return;
	}
	forward(srv, &q, srv->buf, len, from, fl, now);
}

static int on_listen(struct dns_server *srv, int64_t now, struct err **err)
{
	for (int k = 0; k < DNS_SERVER_BURST; k++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t r;

		memset(&from, 0, sizeof(from));
		r = recvfrom(srv->fd, srv->buf, sizeof(srv->buf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (r < 0) {
			switch (errno) {
			case EAGAIN:
			case EINTR:
				return 0;
			case ECONNREFUSED:
			case EHOSTUNREACH:
			case ENETUNREACH:
			case ENOBUFS:
			case ENOMEM:
				/* an ICMP error for an earlier send, or memory
				 * pressure: the socket itself is fine */
				continue;
			default:
				return err_errno(err, errno,
						 "DNS: receive on the listening socket");
			}
		}
		srv->stats.queries++;
		if (from.ss_family != AF_INET && from.ss_family != AF_INET6) {
			srv->stats.dropped++;
			continue;
		}
		/* LEN past the buffer tells dns_query_parse it was too long */
		on_query(srv, (size_t)r > sizeof(srv->buf) ? sizeof(srv->buf) : (size_t)r, &from,
			 fl, now);
	}
	return 0;
}

/* ---- the interface ---- */

int dns_server_new(const struct dns_server_config *cfg, struct dns_server **out, struct err **err)
{
	_cleanup_free_ struct dns_server *srv = NULL;
	struct sockaddr_storage self;
	socklen_t sl = sizeof(self);
	struct net_addr self_addr;
	uint16_t self_port = 0;
	bool have_self;
	int type = 0;
	socklen_t tl = sizeof(type);

	if (!cfg->lookup)
		return err_set(err, EINVAL, "DNS server: no lookup callback");
	if (cfg->n_upstreams > DNS_MAX_UPSTREAMS)
		return err_set(err, EINVAL, "DNS server: %zu upstreams, at most %d",
			       cfg->n_upstreams, DNS_MAX_UPSTREAMS);
	if (getsockopt(cfg->fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
		return err_errno(err, errno, "DNS server: listening socket %d", cfg->fd);
	if (type != SOCK_DGRAM)
		return err_set(err, EINVAL, "DNS server: listening socket %d is not UDP", cfg->fd);
	memset(&self, 0, sizeof(self));
	if (getsockname(cfg->fd, (struct sockaddr *)&self, &sl) < 0)
		return err_errno(err, errno, "DNS server: address of socket %d", cfg->fd);
	have_self = from_sockaddr(&self, &self_addr, &self_port);

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return err_set(err, ENOMEM, "DNS server: out of memory");
	srv->fd = cfg->fd;
	srv->lookup = cfg->lookup;
	srv->reverse = cfg->reverse;
	srv->data = cfg->data;
	srv->forward = cfg->forward;
	srv->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DNS_SERVER_TIMEOUT_MS;
	srv->max_pending = cfg->max_pending ? cfg->max_pending : DNS_SERVER_MAX_PENDING;
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		const struct dns_upstream *u = &cfg->upstreams[i];

		if (u->addr.family != AF_INET && u->addr.family != AF_INET6)
			return err_set(err, EINVAL, "DNS server: upstream %zu has no address", i);
		/* the loop guard */
		if (dns_addr_is_embedded(&u->addr) ||
		    (have_self && u->port == self_port && net_addr_equal(&u->addr, &self_addr)))
			continue;
		srv->up[srv->n_up++] = *u;
	}
	srv->pend = calloc(srv->max_pending, sizeof(*srv->pend));
	if (!srv->pend)
		return err_set(err, ENOMEM, "DNS server: out of memory");
	*out = steal_ptr(srv);
	return 0;
}

void dns_server_free(struct dns_server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; i < srv->max_pending; i++)
		pending_free(srv, i);
	free(srv->pend);
	free(srv);
}

size_t dns_server_fds(const struct dns_server *srv, struct pollfd *pfds, size_t max)
{
	size_t n = 0;

	if (n < max)
		pfds[n] = (struct pollfd){.fd = srv->fd, .events = POLLIN};
	n++;
	for (size_t i = 0; i < srv->max_pending; i++) {
		if (!srv->pend[i])
			continue;
		if (n < max)
			pfds[n] = (struct pollfd){.fd = srv->pend[i]->fd, .events = POLLIN};
		n++;
	}
	return n;
}

int dns_server_handle(struct dns_server *srv, const struct pollfd *pfds, size_t n, int64_t now_ms,
		      struct err **err)
{
	int r;

	/*
	 * Upstream replies first. A slot freed here may see its fd number
	 * reused by a later try or forward in this call; such an fd's stale
	 * REVENTS at worst cause one receive that finds nothing (EAGAIN).
	 */
	for (size_t i = 0; i < n; i++) {
		if (pfds[i].fd == srv->fd || !pfds[i].revents)
			continue;
		for (size_t s = 0; s < srv->max_pending; s++)
			if (srv->pend[s] && srv->pend[s]->fd == pfds[i].fd) {
				on_upstream(srv, s, now_ms);
				break;
			}
	}
	for (size_t i = 0; i < n; i++) {
		if (pfds[i].fd != srv->fd || !pfds[i].revents)
			continue;
		if (pfds[i].revents & POLLNVAL)
			return err_set(err, EBADF, "DNS: the listening socket %d is closed",
				       srv->fd);
		r = on_listen(srv, now_ms, err);
		if (r < 0)
			return r;
	}
	for (size_t s = 0; s < srv->max_pending; s++)
		if (srv->pend[s] && srv->pend[s]->deadline <= now_ms) {
			srv->stats.timeouts++;
			next_upstream(srv, s, now_ms);
		}
	return 0;
}

int dns_server_next_timeout_ms(const struct dns_server *srv, int64_t now_ms)
{
	int64_t best = -1;

	for (size_t s = 0; s < srv->max_pending; s++) {
		int64_t d;

		if (!srv->pend[s])
			continue;
		d = srv->pend[s]->deadline - now_ms;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best > INT32_MAX ? INT32_MAX : (int)best;
}

const struct dns_server_stats *dns_server_stats(const struct dns_server *srv)
{
	return &srv->stats;
}

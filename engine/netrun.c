/*
 * engine/netrun.c - a container's network while it runs. See
 * engine/netrun.h.
 *
 * Runs in: the moat process (prepare, files, release on a failed start),
 * the container's init before it is confined (configure, through the
 * sandbox's hooks), its monitor (attach, DNS, release) and any later moat
 * process (reclaim).
 *
 * Order of a start, and what undoes each step:
 *   network's host side (create: idempotent, stays)
 *   net.json written                         -> removed last
 *   lease                                    -> net_ipam_release_owner
 *   host ports bound (held by the monitor)   -> closed (the kernel frees them)
 *   endpoint file (DNS names)                -> unlinked
 *   DNAT rules                               -> net_nft_ports_del(owner)
 *   (monitor) veth into the container's ns   -> dies with the namespace;
 *                                               detach removes a leftover
 * A published port is held by a bound socket of the monitor: a host
 * process or another container that has the port makes the bind fail
 * (EADDRINUSE, before any rule exists), and a port nobody asked for is
 * picked by the kernel (bind to port 0). The socket never sees a packet:
 * DNAT redirects them before local delivery.
 */
#include "engine/netrun.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/lifecycle.h"
#include "engine/networks.h"
#include "net/dns.h"
#include "net/dns_server.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/nft.h"

#define NET_JSON "net.json"
#define NET_JSON_MAX (256 * 1024)

/* ---- small helpers ---- */

static void net_dir(const char *root, const char *netid, const char *sub, char *out, size_t size)
{
	snprintf(out, size, "%s/networks/%s/%s", root, netid, sub);
}

/* A lease's owner is alive while its runtime lock is held (or while it is
 * being created: a .new- dir); the lock of a container being started is
 * held by its starter already. */
static int owner_alive(const char *owner, void *data)
{
	const char *runroot = data;
	char path[4400];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/containers/.new-%s", runroot, owner);
	if (access(path, F_OK) == 0)
		return 1;
	snprintf(path, sizeof(path), "%s/containers/%s/lock", runroot, owner);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : 1; /* never drop on doubt */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return 1;
	return 0;
}

static int open_ipam(const char *root, const struct net_network *n, struct net_ipam **out,
		     struct err **err)
{
	char dir[4400];

	net_dir(root, n->id, "leases", dir, sizeof(dir));
	return net_ipam_open(dir, &n->pool.subnet, &n->pool.range,
			     n->pool.has_gateway ? &n->pool.gateway : NULL, out, err);
}

static int write_mode(const char *dir, const char *name, const char *text, size_t len, mode_t mode,
		      struct err **err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	return fs_write_atomic_ex(dfd, name, text, len, mode, false, err);
}

static int write_in(const char *dir, const char *name, const char *text, size_t len,
		    struct err **err)
{
	return write_mode(dir, name, text, len, 0600, err);
}

static int read_file(const char *path, size_t cap, char **out, size_t *len, struct err **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return err_errno(err, errno, "open \"%s\"", path);
	return fs_read_fd(fd, cap, out, len, err);
}

/* ---- net.json: what was set up ---- */

static int record_write(const char *rdir, const struct engine_netrun *run, struct err **err)
{
	_cleanup_json_ json_t *o = json_object(), *ports = json_array();
	_cleanup_free_ char *text = NULL;
	char ip[NET_ADDR_TEXT_MAX];

	if (!o || !ports)
		return err_errno(err, ENOMEM, "net.json");
	net_addr_format(&run->ep.addr, ip);
	json_object_set_new(o, "network_id", json_string(run->net.id));
	json_object_set_new(o, "network", json_string(run->net.name));
	json_object_set_new(o, "driver", json_string(run->net.driver));
	json_object_set_new(o, "ip", json_string(ip));
	json_object_set_new(o, "prefix", json_integer(run->ep.prefix));
	if (run->ep.has_gateway) {
		char gw[NET_ADDR_TEXT_MAX];

		net_addr_format(&run->ep.gateway, gw);
		json_object_set_new(o, "gateway", json_string(gw));
	}
	{
		char mac[18];
		const uint8_t *m = run->ep.mac;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_object_set_new(o, "mac", json_string(mac));
	}
	json_object_set_new(o, "host_ifname", json_string(run->ep.host_ifname));
	for (size_t i = 0; i < run->n_ports; i++) {
		const struct engine_port *p = &run->ports[i];
		char hip[NET_ADDR_TEXT_MAX] = "";
		json_t *e = json_object();

		if (!e)
			return err_errno(err, ENOMEM, "net.json");
		if (p->host_ip.family)
			net_addr_format(&p->host_ip, hip);
		json_object_set_new(e, "proto", json_string(net_proto_name(p->proto)));
		json_object_set_new(e, "host_ip", json_string(hip));
		json_object_set_new(e, "host_port", json_integer(p->host_port));
		json_object_set_new(e, "ctr_port", json_integer(p->ctr_port));
		json_array_append_new(ports, e);
	}
	json_object_set(o, "ports", ports);
	if (!(text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)))
		return err_errno(err, ENOMEM, "net.json");
	return write_in(rdir, NET_JSON, text, strlen(text), err);
}

static int proto_parse(const char *s, enum net_proto *out)
{
	if (!strcmp(s, "tcp"))
		*out = NET_PROTO_TCP;
	else if (!strcmp(s, "udp"))
		*out = NET_PROTO_UDP;
	else if (!strcmp(s, "sctp"))
		*out = NET_PROTO_SCTP;
	else
		return -EINVAL;
	return 0;
}

static void copy_str(json_t *o, const char *key, char *out, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));

	out[0] = 0;
	if (s && strlen(s) < size)
		snprintf(out, size, "%s", s);
}

void engine_net_state_free(struct engine_net_state *st)
{
	free(st->ports);
	memset(st, 0, sizeof(*st));
}

int engine_netrun_state(const char *rdir, struct engine_net_state *st, struct err **err)
{
	char path[4400];
	_cleanup_free_ char *text = NULL;
	size_t len;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s", rdir, NET_JSON);
	if (read_file(path, NET_JSON_MAX, &text, &len, err) < 0)
		return err_ret(*err);
	return engine_net_state_decode(text, len, st, err);
}

int engine_net_state_decode(const char *text, size_t len, struct engine_net_state *st,
			    struct err **err)
{
	_cleanup_json_ json_t *o = NULL;
	json_t *ports, *v;
	size_t i;
	const char *s;

	memset(st, 0, sizeof(*st));
	if (len > NET_JSON_MAX)
		return err_set(err, EFBIG, "net.json: larger than %d bytes", NET_JSON_MAX);
	if (!(o = json_parse_strict(text, len, "net.json", err)))
		return err_ret(*err);
	if (!json_is_object(o))
		return err_set(err, EINVAL, "net.json: not an object");
	if (!(s = json_string_value(json_object_get(o, "network_id"))) || strlen(s) != NET_ID_HEX)
		return err_set(err, EINVAL, "net.json: bad network_id");
	memcpy(st->network_id, s, NET_ID_HEX);
	copy_str(o, "host_ifname", st->host_ifname, sizeof(st->host_ifname));
	copy_str(o, "ip", st->ip, sizeof(st->ip));
	copy_str(o, "gateway", st->gateway, sizeof(st->gateway));
	copy_str(o, "mac", st->mac, sizeof(st->mac));
	copy_str(o, "network", st->network, sizeof(st->network));
	{
		json_int_t pl = json_integer_value(json_object_get(o, "prefix"));
		st->prefix = pl >= 0 && pl <= 128 ? (unsigned)pl : 0;
	}
	ports = json_object_get(o, "ports");
	if (!json_is_array(ports) || json_array_size(ports) > NET_PORTSPEC_MAX_BINDINGS)
		return err_set(err, EINVAL, "net.json: bad ports");
	if (json_array_size(ports) &&
	    !(st->ports = calloc(json_array_size(ports), sizeof(*st->ports))))
		return err_errno(err, ENOMEM, "net.json");
	json_array_foreach (ports, i, v) {
		struct engine_port *p = &st->ports[st->n_ports];
		const char *proto = json_string_value(json_object_get(v, "proto"));
		const char *hip = json_string_value(json_object_get(v, "host_ip"));
		json_int_t hp = json_integer_value(json_object_get(v, "host_port"));
		json_int_t cp = json_integer_value(json_object_get(v, "ctr_port"));

		if (!proto || proto_parse(proto, &p->proto) < 0 || !hip || hp < 1 || hp > 65535 ||
		    cp < 1 || cp > 65535 ||
		    (hip[0] && net_addr_parse(hip, &p->host_ip, NULL) < 0)) {
			engine_net_state_free(st);
			return err_set(err, EINVAL, "net.json: bad port entry");
		}
		p->host_port = (uint16_t)hp;
		p->ctr_port = (uint16_t)cp;
		p->fd = -1;
		st->n_ports++;
	}
	return 0;
}

/* ---- DNS names: ROOT/networks/<netid>/endpoints/<id> ---- */

static int endpoint_write(const char *root, const struct net_network *n,
			  const struct net_endpoint *ep, struct err **err)
{
	char dir[4400], ip[NET_ADDR_TEXT_MAX];
	_cleanup_free_ char *line = NULL;
	size_t len = 0, cap = 0;
	FILE *f;

	net_dir(root, n->id, "endpoints", dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir \"%s\"", dir);
	net_addr_format(&ep->addr, ip);
	f = open_memstream(&line, &cap);
	if (!f)
		return err_errno(err, ENOMEM, "endpoint");
	fprintf(f, "%s %s %.12s", ip, ep->name ? ep->name : "", ep->container_id);
	for (size_t i = 0; i < NET_MAX_ALIASES && ep->aliases[i]; i++)
		fprintf(f, " %s", ep->aliases[i]);
	fputc('\n', f);
	fclose(f);
	len = strlen(line);
	return write_in(dir, ep->container_id, line, len, err);
}

static void endpoint_remove(const char *root, const char *netid, const char *id)
{
	char dir[4400], path[4500];

	net_dir(root, netid, "endpoints", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	unlink(path);
}

struct lookup {
	char dir[4400];
	bool names;
};

/*
 * Calls FN for every endpoint line of the network: "IP NAME SHORTID
 * ALIAS...". Lines are read fresh at every query, so a container that
 * joins or leaves is seen at once (Docker's "without restart").
 */
static int each_endpoint(const struct lookup *L,
			 int (*fn)(const struct net_addr *a, char **words, size_t n, void *data),
			 void *data)
{
	_cleanup_closedir_ DIR *d = opendir(L->dir);
	struct dirent *de;

	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		char path[4700], *words[NET_MAX_ALIASES + 4], *save = NULL, *w;
		struct net_addr a;
		size_t n = 0;
		int r;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", L->dir, de->d_name);
		if (read_file(path, 8192, &text, NULL, NULL) < 0)
			continue;
		for (w = strtok_r(text, " \n", &save); w && n < NET_MAX_ALIASES + 4;
		     w = strtok_r(NULL, " \n", &save))
			words[n++] = w;
		if (n < 1 || net_addr_parse(words[0], &a, NULL) < 0)
			continue;
		if ((r = fn(&a, words + 1, n - 1, data)) != 0)
			return r;
	}
	return -ENOENT;
}

struct fwd_q {
	const char *name;
	int qtype;
	struct net_addr *out;
	size_t max, n;
	bool found;
};

static int match_name(const struct net_addr *a, char **words, size_t n, void *data)
{
	struct fwd_q *q = data;

	for (size_t i = 0; i < n; i++) {
		if (!words[i][0] || !dns_name_equal(words[i], q->name))
			continue;
		q->found = true;
		if ((q->qtype == DNS_TYPE_A && a->family == AF_INET) ||
		    (q->qtype == DNS_TYPE_AAAA && a->family == AF_INET6)) {
			if (q->n < q->max)
				q->out[q->n++] = *a;
		}
		break;
	}
	return 0;
}

static int dns_lookup(const char *name, int qtype, struct net_addr *out, size_t max, void *data)
{
	const struct lookup *L = data;
	struct fwd_q q = {.name = name, .qtype = qtype, .out = out, .max = max};

	if (!L->names)
		return -ENOENT;
	each_endpoint(L, match_name, &q);
	return q.found ? (int)q.n : -ENOENT;
}

struct rev_q {
	const struct net_addr *addr;
	char *name;
	size_t cap;
};

static int match_addr(const struct net_addr *a, char **words, size_t n, void *data)
{
	struct rev_q *q = data;

	if (!net_addr_equal(a, q->addr) || n < 1 || !words[0][0])
		return 0;
	snprintf(q->name, q->cap, "%s", words[0]);
	return 1;
}

static int dns_reverse(const struct net_addr *addr, char *name, size_t cap, void *data)
{
	const struct lookup *L = data;
	struct rev_q q = {.addr = addr, .name = name, .cap = cap};

	if (!L->names)
		return -ENOENT;
	return each_endpoint(L, match_addr, &q) == 1 ? 0 : -ENOENT;
}

/* ---- the hooks: attach (monitor), configure (the container's init) ---- */

static int hook_attach(void *data, int netnsfd, struct err **err)
{
	struct engine_netrun *run = data;

	return run->drv->attach(&run->net, &run->ep, netnsfd, err);
}

static int hook_configure(void *data, struct err **err)
{
	struct engine_netrun *run = data;
	_cleanup_nl_ struct net_nl *nl = NULL;
	int idx, r;

	if ((r = net_nl_open(&nl, err)) < 0)
		return r;
	if ((idx = net_nl_ifindex(nl, run->ep.ifname, err)) < 0)
		return idx;
	if ((r = net_nl_addr_add(nl, idx, &run->ep.addr, run->ep.prefix, err)) < 0 ||
	    (r = net_nl_link_set_up(nl, idx, true, err)) < 0)
		return r;
	if (run->ep.has_gateway &&
	    (r = net_nl_route_add_default(nl, &run->ep.gateway, idx, err)) < 0)
		return r;
	return 0;
}

/* ---- ports ---- */

static int sock_type(enum net_proto p)
{
	return p == NET_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
}

/* Binds (and so holds) PORT of the host; 0 = any free one, returned. */
static int hold_port(const struct engine_port *p, uint16_t port, uint16_t *got)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int family = p->host_ip.family ? p->host_ip.family : AF_INET;
	int fd = socket(family, sock_type(p->proto) | SOCK_CLOEXEC,
			p->proto == NET_PROTO_SCTP ? IPPROTO_SCTP : 0);

	if (fd < 0)
		return -errno;
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		if (p->host_ip.family)
			memcpy(&s->sin_addr, p->host_ip.b, 4);
		sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		int one = 1;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, p->host_ip.b, 16);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		sl = sizeof(*s);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*got = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void ports_close(struct engine_netrun *run)
{
	for (size_t i = 0; i < run->n_ports; i++)
		closep(&run->ports[i].fd);
}

static int bind_ports(const struct container_record *rec, struct engine_netrun *run,
		      struct err **err)
{
	char *const *specs = rec->netreq.publish;

	for (size_t s = 0; specs && specs[s]; s++) {
		_cleanup_free_ struct net_port_binding *b = NULL;
		size_t nb;
		int r;

		if ((r = net_portspec_parse(specs[s], &b, &nb, err)) < 0)
			return r;
		for (size_t i = 0; i < nb; i++) {
			struct engine_port p = {
			    .proto = b[i].proto, .ctr_port = b[i].ctr_port, .fd = -1};
			struct engine_port *grown;
			int fd = -EADDRINUSE;
			char shown[NET_ADDR_TEXT_MAX + 8];

			if (b[i].proto == NET_PROTO_SCTP)
				return err_set(err, EOPNOTSUPP,
					       "publishing sctp ports is not supported");
			if (b[i].host_ip[0] && net_addr_parse(b[i].host_ip, &p.host_ip, err) < 0)
				return err_ret(*err);
			if (p.host_ip.family == AF_INET6)
				return err_set(
				    err, EOPNOTSUPP,
				    "publishing on an IPv6 address (%s) is not supported: "
				    "moat's bridge networks are IPv4",
				    b[i].host_ip);
			/* A range asks for one free port of it. */
			for (uint32_t port = b[i].host_port_lo; port <= b[i].host_port_hi; port++) {
				fd = hold_port(&p, (uint16_t)port, &p.host_port);
				if (fd >= 0 || fd != -EADDRINUSE)
					break;
				if (port == 0)
					break;
			}
			snprintf(shown, sizeof(shown), "%s:%u",
				 b[i].host_ip[0] ? b[i].host_ip : "0.0.0.0",
				 (unsigned)b[i].host_port_lo);
			if (fd < 0) {
				if (b[i].host_port_lo != b[i].host_port_hi)
					return err_errno(
					    err, -fd, "no free host port in %s-%u/%s for port %u",
					    shown, (unsigned)b[i].host_port_hi,
					    net_proto_name(p.proto), (unsigned)p.ctr_port);
				return err_errno(err, -fd,
						 "cannot publish port %u: bind %s/%s (is the port "
						 "already in use?)",
						 (unsigned)p.ctr_port, shown,
						 net_proto_name(p.proto));
			}
			p.fd = fd;
			grown = realloc(run->ports, (run->n_ports + 1) * sizeof(*grown));
			if (!grown) {
				close(fd);
				return err_errno(err, ENOMEM, "ports");
			}
			run->ports = grown;
			run->ports[run->n_ports++] = p;
		}
	}
	return 0;
}

static int nft_ports(const struct engine_netrun *run, struct err **err)
{
	_cleanup_free_ struct net_nft_port *v = NULL;

	if (!run->n_ports)
		return 0;
	if (!(v = calloc(run->n_ports, sizeof(*v))))
		return err_errno(err, ENOMEM, "ports");
	for (size_t i = 0; i < run->n_ports; i++) {
		v[i].family = AF_INET;
		v[i].host_ip = run->ports[i].host_ip;
		v[i].host_port = run->ports[i].host_port;
		v[i].proto = run->ports[i].proto;
		v[i].ctr_addr = run->ep.addr;
		v[i].ctr_port = run->ports[i].ctr_port;
		snprintf(v[i].bridge, sizeof(v[i].bridge), "%s", run->net.bridge);
	}
	return net_nft_ports_add(run->ep.container_id, v, run->n_ports, err);
}

/* Where the embedded DNS server forwards: --dns, else the host's own
 * resolvers (loopback ones too: the monitor asks them from the host). */
static int upstreams(const struct container_record *rec, struct engine_netrun *run,
		     struct err **err)
{
	if (rec->netreq.dns && rec->netreq.dns[0]) {
		size_t cap = 0;
		FILE *f = open_memstream(&run->upstream_text, &cap);

		if (!f)
			return err_errno(err, ENOMEM, "DNS");
		for (size_t i = 0; rec->netreq.dns[i]; i++)
			fprintf(f, "nameserver %s\n", rec->netreq.dns[i]);
		fclose(f);
		return 0;
	}
	if (read_file("/etc/resolv.conf", 64 * 1024, &run->upstream_text, NULL, NULL) < 0)
		run->upstream_text = NULL; /* no upstream: only local names */
	return 0;
}

/* ---- /etc/hosts and /etc/resolv.conf ---- */

static int write_path(const char *path, const char *text, struct err **err)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;

	if (!slash)
		return err_errno(err, ENOMEM, "%s", path);
	*slash = 0;
	/* Read by the container's users through a bind (the runtime dir
	 * above it is 0700). */
	return write_mode(dir, slash + 1, text, strlen(text), 0644, err);
}

/* The host's resolv.conf less its loopback resolvers (unreachable from
 * the container's own namespace), as before networks existed. */
static void host_resolv(FILE *f, bool keep_loopback, bool nameservers_only)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (read_file("/etc/resolv.conf", 64 * 1024, &text, NULL, NULL) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool ns = !strncmp(line, "nameserver", 10);

		if ((nameservers_only && !ns) ||
		    (!keep_loopback && ns &&
		     (strstr(line, " 127.") || strstr(line, "\t127.") || strstr(line, " ::1"))))
			continue;
		fprintf(f, "%s\n", line);
	}
}

int engine_netrun_files(const struct container_record *rec, const struct engine_netrun *run,
			const char *hosts, const char *resolv, struct err **err)
{
	const struct engine_netreq *q = &rec->netreq;
	bool host = !strcmp(rec->net, "host");
	_cleanup_free_ char *h = NULL, *rv = NULL;
	size_t cap = 0;
	FILE *f;
	int r;

	/* hosts */
	if (!(f = open_memstream(&h, &cap)))
		return err_errno(err, ENOMEM, "hosts");
	if (host) {
		_cleanup_free_ char *text = NULL;

		if (read_file("/etc/hosts", 1 << 20, &text, NULL, NULL) == 0)
			fputs(text, f);
		else
			fputs("127.0.0.1\tlocalhost\n", f);
	} else {
		fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", f);
		if (run && run->active) {
			char ip[NET_ADDR_TEXT_MAX];

			net_addr_format(&run->ep.addr, ip);
			fprintf(f, "%s\t%s", ip, rec->hostname);
			if (strcmp(rec->hostname, rec->name))
				fprintf(f, " %s", rec->name);
			fputc('\n', f);
		} else {
			fprintf(f, "127.0.1.1\t%s\n", rec->hostname);
		}
	}
	for (size_t i = 0; q->add_hosts && q->add_hosts[i]; i++) {
		const char *colon = strchr(q->add_hosts[i], ':');
		char gw[NET_ADDR_TEXT_MAX] = "";
		const char *ip = colon ? colon + 1 : "";

		if (!strcmp(ip, "host-gateway")) {
			/* The host as the container reaches it: the gateway of
			 * its network (none on --internal ones and without one). */
			if (!run || !run->active || !run->ep.has_gateway)
				continue;
			net_addr_format(&run->ep.gateway, gw);
			ip = gw;
		}
		fprintf(f, "%s\t%.*s\n", ip, colon ? (int)(colon - q->add_hosts[i]) : 0,
			q->add_hosts[i]);
	}
	fclose(f);
	if ((r = write_path(hosts, h, err)) < 0)
		return r;

	/* resolv.conf */
	cap = 0;
	if (!(f = open_memstream(&rv, &cap)))
		return err_errno(err, ENOMEM, "resolv.conf");
	if (run && run->active) {
		/* The embedded DNS server: names of the network, the rest
		 * forwarded (--dns or the host's) unless --internal. */
		fputs("nameserver 127.0.0.11\n", f);
	} else if (q->dns && q->dns[0]) {
		for (size_t i = 0; q->dns[i]; i++)
			fprintf(f, "nameserver %s\n", q->dns[i]);
	} else {
		/* With --dns-search/--dns-option, those replace the host's. */
		host_resolv(f, host, q->dns_search || q->dns_options);
	}
	if (q->dns_search && q->dns_search[0] && strcmp(q->dns_search[0], ".")) {
		fputs("search", f);
		for (size_t i = 0; q->dns_search[i]; i++)
			fprintf(f, " %s", q->dns_search[i]);
		fputc('\n', f);
	}
	if (q->dns_options && q->dns_options[0]) {
		fputs("options", f);
		for (size_t i = 0; q->dns_options[i]; i++)
			fprintf(f, " %s", q->dns_options[i]);
		fputc('\n', f);
	} else if (run && run->active) {
		fputs("options ndots:0\n", f);
	}
	fclose(f);
	return write_path(resolv, rv, err);
}

/* ---- prepare, release, reclaim ---- */

int engine_netrun_prepare(const struct engine_ctx *c, const struct container_record *rec,
			  const char *rdir, struct engine_netrun *run, struct sandbox_spec *spec,
			  struct err **err)
{
	_cleanup_ipam_ struct net_ipam *ipam = NULL;
	const char *want_s = rec->netreq.ip;
	struct net_addr want;
	int r;

	memset(run, 0, sizeof(*run));
	run->dnsfd = -1;
	snprintf(run->root, sizeof(run->root), "%s", c->root);
	snprintf(run->runroot, sizeof(run->runroot), "%s", c->runroot);
	if (!strcmp(rec->net, "none") || !strcmp(rec->net, "host"))
		return 0;
	r = engine_network_inspect(c, rec->netreq.network_id ? rec->netreq.network_id : rec->net,
				   &run->net, err);
	if (r < 0)
		return err_prefix(err, "container %s", rec->name);
	if (!(run->drv = net_driver_find(run->net.driver))) {
		r = err_set(err, ENOENT, "network %s: driver \"%s\" is not available",
			    run->net.name, run->net.driver);
		goto fail;
	}
	if (run->drv->root_only && c->rootless) {
		r = err_set(err, EPERM,
			    "network %s: the %s driver needs root for now; run with --network "
			    "none or as root",
			    run->net.name, run->drv->name);
		goto fail;
	}
	run->active = true;
	/* After a reboot the bridge and its rules are gone: bring them back. */
	if ((r = run->drv->create(&run->net, err)) < 0) {
		err_prefix(err, "network %s", run->net.name);
		goto fail;
	}
	memcpy(run->ep.container_id, rec->id, NET_ID_HEX);
	run->ep.name = rec->name;
	for (size_t i = 0; i < NET_MAX_ALIASES && rec->netreq.aliases && rec->netreq.aliases[i];
	     i++)
		run->ep.aliases[i] = rec->netreq.aliases[i];
	snprintf(run->ep.ifname, sizeof(run->ep.ifname), "eth0");
	run->ep.prefix = run->net.pool.subnet.bits;
	run->ep.has_gateway = !run->net.internal && run->net.pool.has_gateway;
	run->ep.gateway = run->net.pool.gateway;
	if (want_s && net_addr_parse(want_s, &want, err) < 0) {
		r = err_ret(*err);
		goto fail;
	}
	if ((r = open_ipam(c->root, &run->net, &ipam, err)) < 0)
		goto fail;
	r = net_ipam_allocate(ipam, rec->id, want_s ? &want : NULL, &run->ep.addr, err);
	if (r == -ENOSPC || r == -EADDRINUSE) {
		/* Leases of containers whose monitor died. */
		err_free(err);
		net_ipam_reclaim(ipam, owner_alive, run->runroot, NULL, NULL);
		r = net_ipam_allocate(ipam, rec->id, want_s ? &want : NULL, &run->ep.addr, err);
	}
	if (r < 0)
		goto fail;
	run->leased = true;
	net_endpoint_mac(&run->ep.addr, run->ep.mac);
	if ((r = bind_ports(rec, run, err)) < 0)
		goto fail;
	if ((r = record_write(rdir, run, err)) < 0 ||
	    (r = endpoint_write(c->root, &run->net, &run->ep, err)) < 0 ||
	    (r = nft_ports(run, err)) < 0)
		goto fail;
	if ((r = upstreams(rec, run, err)) < 0)
		goto fail;
	run->hooks = (struct sandbox_net_hooks){
	    .attach = hook_attach, .configure = hook_configure, .data = run};
	spec->net_hooks = &run->hooks;
	spec->dns_listener = true;
	return 0;
fail:
	engine_netrun_release(run, rdir);
	return r;
}

void engine_netrun_release(struct engine_netrun *run, const char *rdir)
{
	struct err *e = NULL;

	engine_netrun_dns_stop(run);
	if (run->active) {
		_cleanup_ipam_ struct net_ipam *ipam = NULL;

		/* Only what this run published (a crash's rules: reclaim). */
		if (run->n_ports && net_nft_ports_del(run->ep.container_id, &e) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
		}
		if (run->drv && run->drv->detach(&run->net, &run->ep, &e) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
		}
		endpoint_remove(run->root, run->net.id, run->ep.container_id);
		if (run->leased && open_ipam(run->root, &run->net, &ipam, &e) == 0)
			net_ipam_release_owner(ipam, run->ep.container_id, NULL, &e);
		err_free(&e);
		run->leased = false;
		if (rdir && rdir[0]) {
			char path[4400];

			snprintf(path, sizeof(path), "%s/%s", rdir, NET_JSON);
			unlink(path);
		}
	}
	/* What is left is this process's own: fds and memory. */
	engine_netrun_forget(run);
}

void engine_netrun_forget(struct engine_netrun *run)
{
	engine_netrun_dns_stop(run);
	ports_close(run);
	free(run->ports);
	run->ports = NULL;
	run->n_ports = 0;
	net_network_clear(&run->net);
	free(run->upstream_text);
	run->upstream_text = NULL;
	run->active = false;
}

void engine_netrun_reclaim(const struct engine_ctx *c, const char *id, const char *rdir)
{
	struct engine_netrun run;
	struct engine_net_state st;
	struct err *e = NULL;
	int r;

	if (engine_netrun_state(rdir, &st, &e) < 0) {
		if (e && e->code != ENOENT)
			fprintf(stderr, "moat: warning: network cleanup of %.12s: %s\n", id,
				e->msg);
		err_free(&e);
		return;
	}
	memset(&run, 0, sizeof(run));
	run.dnsfd = -1;
	snprintf(run.root, sizeof(run.root), "%s", c->root);
	snprintf(run.runroot, sizeof(run.runroot), "%s", c->runroot);
	memcpy(run.ep.container_id, id, NET_ID_HEX);
	snprintf(run.ep.host_ifname, sizeof(run.ep.host_ifname), "%s", st.host_ifname);
	r = engine_network_inspect(c, st.network_id, &run.net, &e);
	/* Its published ports' rules, whatever became of the network. */
	if (st.n_ports) {
		struct err *e2 = NULL;
		if (net_nft_ports_del(id, &e2) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e2->msg);
			err_free(&e2);
		}
	}
	engine_net_state_free(&st);
	if (r == 0) {
		run.drv = net_driver_find(run.net.driver);
		run.active = true;
		run.leased = true;
	}
	err_free(&e);
	engine_netrun_release(&run, rdir);
}

/* ---- DNS ---- */

int engine_netrun_dns_start(struct engine_netrun *run, int fd, struct err **err)
{
	struct dns_server_config cfg = {.fd = fd, .lookup = dns_lookup, .reverse = dns_reverse};
	struct lookup *L;
	int r;

	engine_netrun_dns_stop(run);
	run->dnsfd = fd;
	if (!(L = calloc(1, sizeof(*L))))
		return err_errno(err, ENOMEM, "DNS");
	net_dir(run->root, run->net.id, "endpoints", L->dir, sizeof(L->dir));
	L->names = run->net.dns;
	cfg.data = L;
	cfg.forward = !run->net.internal;
	if (run->upstream_text && cfg.forward) {
		r = dns_resolv_conf_parse(run->upstream_text, strlen(run->upstream_text),
					  cfg.upstreams, NULL);
		cfg.n_upstreams = r > 0 ? (size_t)r : 0;
	}
	if ((r = dns_server_new(&cfg, &run->dns, err)) < 0) {
		free(L);
		return r;
	}
	run->dns_data = L;
	return 0;
}

void engine_netrun_dns_stop(struct engine_netrun *run)
{
	if (run->dns)
		dns_server_free(run->dns);
	run->dns = NULL;
	free(run->dns_data);
	run->dns_data = NULL;
	closep(&run->dnsfd);
}

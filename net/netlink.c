/*
 * net/netlink.c - the rtnetlink socket, its request/ack exchange, and the
 * link operations that look up, list, change and delete links (creation
 * is in net/netlink_link.c, addresses, routes and neighbours in
 * net/netlink_addr.c).
 *
 * Runs in: the moat process and the monitor, as root for the kernel-side
 * drivers, or as root of a user namespace that owns the network namespace.
 *
 * Threats and what handles them:
 *  - a datagram from another process (a user socket can unicast to our
 *    port): only datagrams whose sender is the kernel (nl_pid 0) are read;
 *  - a stale answer (a dump abandoned after a receive error): every request
 *    has its own sequence number and only messages carrying it and our port
 *    are taken; the rest are dropped;
 *  - a reply larger than the buffer: the datagram's size is peeked first
 *    and the buffer grows (up to RX_MAX), so nothing is cut silently;
 *  - malformed replies: every payload length is checked before a header is
 *    read, attributes are walked with libmnl's bounds checks and validated
 *    by type before use.
 */
#include "net/netlink_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"

/* The first receive buffer; a dump of links sends datagrams up to 32 KiB
 * when the reader's buffer is that large. */
#define RX_START 32768
/* No rtnetlink message we ask for comes near this; a larger one is an error. */
#define RX_MAX (1024 * 1024)

int net_nl_open(struct net_nl **out, struct err **err)
{
	_cleanup_free_ struct net_nl *nl = calloc(1, sizeof(*nl));
	int one = 1;

	if (!nl)
		return err_errno(err, ENOMEM, "netlink socket");
	nl->rx = malloc(RX_START);
	if (!nl->rx)
		return err_errno(err, ENOMEM, "netlink socket");
	nl->rx_size = RX_START;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		int e = errno;

		free(nl->rx);
		return err_errno(err, e, "netlink socket");
	}
	/* Extended acks carry the kernel's reason ("Nexthop has invalid
	 * gateway"); capped acks do not echo our request back. Both are
	 * optional for the kernel (EXT_ACK since 4.12, CAP_ACK since 4.3):
	 * without them errors are only less precise. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl->sock);
		free(nl->rx);
		return err_errno(err, e, "netlink bind");
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = steal_ptr(nl);
	return 0;
}

void net_nl_close(struct net_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl->rx);
	free(nl);
}

bool net_nl_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, IFNAMSIZ);
	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	/* dev_valid_name(): the kernel's isspace() also counts 0xa0. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || isspace(c) || c == 0xa0)
			return false;
	}
	return true;
}

int nl_check_name(const char *name, const char *what, struct err **err)
{
	if (net_nl_name_valid(name))
		return 0;
	if (!name || !*name)
		return err_set(err, EINVAL, "%s: empty interface name", what);
	if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return err_set(err, EINVAL,
			       "%s: interface name \"%.64s%s\" is longer than %d bytes", what, name,
			       strlen(name) > 64 ? "..." : "", IFNAMSIZ - 1);
	return err_set(err, EINVAL,
		       "%s: invalid interface name \"%s\" (\".\", \"..\", '/', ':' or white space)",
		       what, name);
}

int nl_check_addr(const struct net_addr *a, const char *what, struct err **err)
{
	if (!a || (a->family != AF_INET && a->family != AF_INET6))
		return err_set(err, EINVAL, "%s: not an IPv4 or IPv6 address", what);
	return 0;
}

size_t nl_addr_len(const struct net_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

void nl_mac_format(const uint8_t mac[6], char buf[NL_MAC_TEXT])
{
	snprintf(buf, NL_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

struct nlmsghdr *nl_msg(struct net_nl *nl, uint16_t type, uint16_t flags, const void *hdr,
			size_t hdr_len)
{
	struct nlmsghdr *h;

	/* Requests hold at most a few names, addresses and small integers
	 * (under 300 bytes), far below NL_TX_SIZE, so attribute puts need no
	 * space checks. */
	memset(nl->tx.b, 0, sizeof(nl->tx.b));
	h = mnl_nlmsg_put_header(nl->tx.b);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	memcpy(mnl_nlmsg_put_extra_header(h, hdr_len), hdr, hdr_len);
	return h;
}

/* ---- the exchange ---- */

__attribute__((format(printf, 2, 3))) static void set_why(struct net_nl *nl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nl->why, sizeof(nl->why), fmt, ap);
	va_end(ap);
}

/* The NLMSGERR_ATTR_MSG text of an error or done message whose TLVs start
 * OFF bytes into the payload, or NULL. */
static const char *ext_ack(const struct nlmsghdr *h, size_t off)
{
	const struct nlattr *a;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || off > mnl_nlmsg_get_payload_len(h))
		return NULL;
	mnl_attr_for_each(a, h, off)
	{
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

static int kernel_error(struct net_nl *nl, int error, const char *ext)
{
	int code = -error;

	if (code <= 0 || code >= 4096)
		code = EPROTO;
	if (ext && *ext)
		set_why(nl, "%s (kernel: %s)", strerror(code), ext);
	else
		set_why(nl, "%s", strerror(code));
	return -code;
}

/* An NLMSG_ERROR: 0 for an ack, the kernel's negative errno otherwise. */
static int on_ack(struct net_nl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e;
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(h) < sizeof(*e)) {
		set_why(nl, "netlink: short error message");
		return -EBADMSG;
	}
	e = mnl_nlmsg_get_payload(h);
	if (e->error == 0)
		return 0;
	/* Uncapped, our request comes back before the TLVs. */
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return kernel_error(nl, e->error, NULL);
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	return kernel_error(nl, e->error, ext_ack(h, MNL_ALIGN(off)));
}

/* An NLMSG_DONE: the end of a dump, with an errno when it failed half-way. */
static int on_done(struct net_nl *nl, const struct nlmsghdr *h)
{
	int error;

	if (mnl_nlmsg_get_payload_len(h) < sizeof(int))
		return 0;
	memcpy(&error, mnl_nlmsg_get_payload(h), sizeof(error));
	if (error >= 0)
		return 0;
	return kernel_error(nl, error, ext_ack(h, MNL_ALIGN(sizeof(int))));
}

/* One datagram from the kernel into nl->rx: its length, 0 for a datagram
 * that was dropped, or a negative errno. */
static int receive(struct net_nl *nl)
{
	int fd = mnl_socket_get_fd(nl->sock);
	struct sockaddr_nl sa;
	struct iovec iov = {nl->rx, nl->rx_size};
	struct msghdr m = {.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do {
		m.msg_namelen = sizeof(sa);
		n = recvmsg(fd, &m, MSG_PEEK | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		set_why(nl, "netlink receive: %s", strerror(e));
		return -e;
	}
	if ((size_t)n > nl->rx_size) {
		char *bigger;

		if (n > RX_MAX) {
			set_why(nl, "netlink receive: a %zd-byte message", n);
			return -EMSGSIZE;
		}
		bigger = realloc(nl->rx, (size_t)n);
		if (!bigger) {
			set_why(nl, "netlink receive: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		nl->rx = bigger;
		nl->rx_size = (size_t)n;
		iov.iov_base = nl->rx;
		iov.iov_len = nl->rx_size;
	}
	do {
		m.msg_namelen = sizeof(sa);
		m.msg_flags = 0;
		n = recvmsg(fd, &m, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		set_why(nl, "netlink receive: %s", strerror(e));
		return -e;
	}
	if (m.msg_flags & MSG_TRUNC) {
		set_why(nl, "netlink receive: message truncated");
		return -EMSGSIZE;
	}
	if (m.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
		return 0;
	return (int)n;
}

int nl_talk(struct net_nl *nl, struct nlmsghdr *req, nl_reply_cb cb, void *data)
{
	uint32_t seq = ++nl->seq;
	bool interrupted = false;
	int cb_r = 0;
	ssize_t sent;

	req->nlmsg_seq = seq;
	req->nlmsg_pid = 0;
	nl->why[0] = 0;
	do
		sent = mnl_socket_sendto(nl->sock, req, req->nlmsg_len);
	while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		int e = errno;

		set_why(nl, "netlink send: %s", strerror(e));
		return -e;
	}
	for (;;) {
		int n = receive(nl);
		const struct nlmsghdr *h = (const struct nlmsghdr *)nl->rx;
		int r;

		if (n < 0)
			return n;
		for (; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != nl->portid)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = true;
			switch (h->nlmsg_type) {
			case NLMSG_NOOP:
				continue;
			case NLMSG_OVERRUN:
				set_why(nl, "netlink: overrun");
				return -ENOBUFS;
			case NLMSG_ERROR:
				/* The ack (or the failure) is the last message
				 * of a request. The kernel's failure wins over a
				 * callback's; after a callback failed the loop
				 * kept reading, so no reply is left behind. */
				r = on_ack(nl, h);
				return r < 0 ? r : cb_r;
			case NLMSG_DONE:
				r = on_done(nl, h);
				if (r == 0 && cb_r == 0 && interrupted) {
					set_why(nl, "netlink dump changed while it was read");
					return -EAGAIN;
				}
				return r < 0 ? r : cb_r;
			default:
				if (cb && cb_r == 0) {
					cb_r = cb(h, data);
					if (cb_r < 0)
						set_why(nl, "netlink reply: %s", strerror(-cb_r));
				}
				break;
			}
		}
	}
}

int nl_fail(struct net_nl *nl, int r, struct err **err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_set(err, -r, "%s: %s", what, nl->why[0] ? nl->why : strerror(-r));
	return r;
}

/* ---- links ---- */

static int link_attr(const struct nlattr *a, void *data)
{
	struct nl_link *li = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > IFNAMSIZ)
			return MNL_CB_ERROR;
		memcpy(li->name, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		li->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO: {
		const struct nlattr *i;

		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		mnl_attr_for_each_nested(i, a)
		{
			uint16_t len = mnl_attr_get_payload_len(i);

			if (mnl_attr_get_type(i) != IFLA_INFO_KIND)
				continue;
			/* A string, NUL included. Kinds are short words; an
			 * absurd one is cut, which no caller's comparison
			 * can mistake for a real kind. */
			if (mnl_attr_validate(i, MNL_TYPE_NUL_STRING) < 0)
				return MNL_CB_ERROR;
			if (len > sizeof(li->kind))
				len = sizeof(li->kind);
			memcpy(li->kind, mnl_attr_get_payload(i), len);
			li->kind[sizeof(li->kind) - 1] = 0;
		}
		break;
	}
	default:
		break;
	}
	return MNL_CB_OK;
}

static int link_parse(const struct nlmsghdr *h, struct nl_link *li)
{
	const struct ifinfomsg *ifi;

	memset(li, 0, sizeof(*li));
	if (h->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(h) < sizeof(*ifi))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(h);
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	if (mnl_attr_parse(h, sizeof(*ifi), link_attr, li) != MNL_CB_OK)
		return -EBADMSG;
	if (li->ifindex <= 0 || !li->name[0])
		return -EBADMSG;
	return 0;
}

static int one_link(const struct nlmsghdr *h, void *data)
{
	return link_parse(h, data);
}

/* Asks for one link, by NAME when not NULL, else by IFINDEX. A failure
 * leaves its reason in nl->why. */
int nl_link_get(struct net_nl *nl, const char *name, int ifindex, struct nl_link *out)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = name ? 0 : ifindex};
	struct nlmsghdr *h = nl_msg(nl, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	int r;

	if (name)
		mnl_attr_put_strz(h, IFLA_IFNAME, name);
	mnl_attr_put_u32(h, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	out->ifindex = 0;
	r = nl_talk(nl, h, one_link, out);
	if (r == 0 && out->ifindex <= 0) {
		set_why(nl, "netlink: no answer for the link");
		return -EBADMSG;
	}
	return r;
}

const char *nl_label(struct net_nl *nl, int ifindex, char buf[NL_LABEL_MAX])
{
	char why[sizeof(nl->why)];
	struct nl_link li;

	/* Called while an error is being reported: keep its reason. */
	memcpy(why, nl->why, sizeof(why));
	if (ifindex > 0 && nl_link_get(nl, NULL, ifindex, &li) == 0)
		snprintf(buf, NL_LABEL_MAX, "\"%s\"", li.name);
	else
		snprintf(buf, NL_LABEL_MAX, "interface %d", ifindex);
	memcpy(nl->why, why, sizeof(why));
	return buf;
}

int nl_check_index(struct net_nl *nl, int ifindex, const char *role, const char *what,
		   struct err **err)
{
	struct nl_link li;
	int r;

	if (ifindex <= 0)
		return err_set(err, EINVAL, "%s: invalid %s interface index %d", what, role,
			       ifindex);
	r = nl_link_get(nl, NULL, ifindex, &li);
	if (r < 0)
		return nl_fail(nl, r, err, "%s: %s interface %d", what, role, ifindex);
	return 0;
}

int net_nl_ifindex(struct net_nl *nl, const char *name, struct err **err)
{
	struct nl_link li;
	int r;

	r = nl_check_name(name, "look up interface", err);
	if (r < 0)
		return r;
	r = nl_link_get(nl, name, 0, &li);
	if (r < 0)
		return nl_fail(nl, r, err, "look up interface \"%s\"", name);
	return li.ifindex;
}

int net_nl_link_kind(struct net_nl *nl, const char *name, char *buf, size_t size, struct err **err)
{
	struct nl_link li;
	int r;

	r = nl_check_name(name, "kind of interface", err);
	if (r < 0)
		return r;
	r = nl_link_get(nl, name, 0, &li);
	if (r < 0)
		return nl_fail(nl, r, err, "kind of interface \"%s\"", name);
	if (strlen(li.kind) >= size)
		return err_set(err, ERANGE,
			       "kind of interface \"%s\": \"%s\" does not fit in %zu bytes", name,
			       li.kind, size);
	memcpy(buf, li.kind, strlen(li.kind) + 1);
	return 0;
}

struct link_vec {
	struct nl_link *v;
	size_t n, cap;
};

static int collect_link(const struct nlmsghdr *h, void *data)
{
	struct link_vec *lv = data;
	int r;

	if (lv->n == lv->cap) {
		size_t cap = lv->cap ? lv->cap * 2 : 16;
		struct nl_link *v = reallocarray(lv->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		lv->v = v;
		lv->cap = cap;
	}
	r = link_parse(h, &lv->v[lv->n]);
	if (r < 0)
		return r;
	lv->n++;
	return 0;
}

int net_nl_link_list(struct net_nl *nl,
		     int (*cb)(const char *name, int ifindex, const char *kind, int master,
			       void *data, struct err **err),
		     void *data, struct err **err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct link_vec lv = {0};
	_cleanup_free_ struct nl_link *owned = NULL;
	int r = -EAGAIN;

	/* Read everything first: CB may send requests on NL, which must not
	 * happen while the dump's answers are still coming in. */
	for (int i = 0; i < NL_DUMP_TRIES && r == -EAGAIN; i++) {
		struct nlmsghdr *h = nl_msg(nl, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));

		mnl_attr_put_u32(h, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		lv.n = 0;
		r = nl_talk(nl, h, collect_link, &lv);
		owned = lv.v;
	}
	if (r < 0)
		return nl_fail(nl, r, err, "list links");
	for (size_t i = 0; i < lv.n; i++) {
		r = cb(lv.v[i].name, lv.v[i].ifindex, lv.v[i].kind, lv.v[i].master, data, err);
		if (r < 0)
			return r;
		if (r > 0)
			break;
	}
	return 0;
}

int net_nl_link_del(struct net_nl *nl, const char *name, struct err **err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlmsghdr *h;
	int r;

	r = nl_check_name(name, "delete interface", err);
	if (r < 0)
		return r;
	h = nl_msg(nl, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	r = nl_talk(nl, h, NULL, NULL);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return nl_fail(nl, r, err, "delete interface \"%s\"", name);
	return 0;
}

/* An RTM_NEWLINK changing the existing link IFINDEX. */
static struct nlmsghdr *change(struct net_nl *nl, int ifindex, unsigned flags, unsigned change)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_index = ifindex,
				.ifi_flags = flags,
				.ifi_change = change};

	return nl_msg(nl, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
}

static int check_index(int ifindex, const char *what, struct err **err)
{
	if (ifindex <= 0)
		return err_set(err, EINVAL, "%s: invalid interface index %d", what, ifindex);
	return 0;
}

int net_nl_link_set_up(struct net_nl *nl, int ifindex, bool up, struct err **err)
{
	const char *what = up ? "set interface up" : "set interface down";
	char label[NL_LABEL_MAX];
	int r;

	r = check_index(ifindex, what, err);
	if (r < 0)
		return r;
	r = nl_talk(nl, change(nl, ifindex, up ? IFF_UP : 0, IFF_UP), NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "set %s %s", nl_label(nl, ifindex, label),
			       up ? "up" : "down");
	return 0;
}

/*
 * Hairpin mode on a bridge port: the bridge may send a frame back out of
 * the port it came in by (a container reaching its own published port
 * through a host address: the DNAT turns the packet around). RTM_SETLINK
 * in the bridge family with IFLA_PROTINFO { IFLA_BRPORT_MODE }.
 */
int net_nl_link_set_hairpin(struct net_nl *nl, int ifindex, bool on, struct err **err)
{
	char label[NL_LABEL_MAX];
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
	struct nlmsghdr *h;
	struct nlattr *nest;
	int r;

	if ((r = check_index(ifindex, "set hairpin", err)) < 0)
		return r;
	h = nl_msg(nl, RTM_SETLINK, 0, &ifi, sizeof(ifi));
	nest = mnl_attr_nest_start(h, IFLA_PROTINFO | NLA_F_NESTED);
	mnl_attr_put_u8(h, IFLA_BRPORT_MODE, on ? 1 : 0);
	mnl_attr_nest_end(h, nest);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "turn hairpin mode %s for %s", on ? "on" : "off",
			       nl_label(nl, ifindex, label));
	return 0;
}

int net_nl_link_set_master(struct net_nl *nl, int ifindex, int master, struct err **err)
{
	char label[NL_LABEL_MAX], mlabel[NL_LABEL_MAX];
	struct nlmsghdr *h;
	int r;

	r = check_index(ifindex, "set master", err);
	if (r < 0)
		return r;
	if (master < 0)
		return err_set(err, EINVAL, "set master: invalid master interface index %d",
			       master);
	/* The kernel answers a missing master with EINVAL; find it first to
	 * say what is wrong. */
	if (master > 0) {
		struct nl_link li;

		r = nl_link_get(nl, NULL, master, &li);
		if (r < 0)
			return nl_fail(nl, r, err, "enslave %s to interface %d",
				       nl_label(nl, ifindex, label), master);
	}
	h = change(nl, ifindex, 0, 0);
	mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0 && master > 0)
		return nl_fail(nl, r, err, "enslave %s to %s", nl_label(nl, ifindex, label),
			       nl_label(nl, master, mlabel));
	if (r < 0)
		return nl_fail(nl, r, err, "release %s from its master",
			       nl_label(nl, ifindex, label));
	return 0;
}

int net_nl_link_set_mtu(struct net_nl *nl, int ifindex, unsigned mtu, struct err **err)
{
	char label[NL_LABEL_MAX];
	struct nlmsghdr *h;
	int r;

	r = check_index(ifindex, "set MTU", err);
	if (r < 0)
		return r;
	h = change(nl, ifindex, 0, 0);
	mnl_attr_put_u32(h, IFLA_MTU, mtu);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "set MTU of %s to %u", nl_label(nl, ifindex, label),
			       mtu);
	return 0;
}

int net_nl_link_set_mac(struct net_nl *nl, int ifindex, const uint8_t mac[6], struct err **err)
{
	char label[NL_LABEL_MAX], text[NL_MAC_TEXT];
	struct nlmsghdr *h;
	int r;

	r = check_index(ifindex, "set MAC address", err);
	if (r < 0)
		return r;
	h = change(nl, ifindex, 0, 0);
	mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0) {
		nl_mac_format(mac, text);
		return nl_fail(nl, r, err, "set MAC address of %s to %s",
			       nl_label(nl, ifindex, label), text);
	}
	return 0;
}

int net_nl_link_rename(struct net_nl *nl, int ifindex, const char *name, struct err **err)
{
	char label[NL_LABEL_MAX];
	struct nlmsghdr *h;
	int r;

	r = check_index(ifindex, "rename interface", err);
	if (r < 0)
		return r;
	r = nl_check_name(name, "rename interface", err);
	if (r < 0)
		return r;
	h = change(nl, ifindex, 0, 0);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "rename %s to \"%s\"", nl_label(nl, ifindex, label),
			       name);
	return 0;
}

/*
 * net/netlink_internal.h - what net/netlink.c shares with
 * net/netlink_link.c and net/netlink_addr.c: the handle, building a
 * request, the request/ack exchange and error wording. Not for use
 * outside net/netlink*.c.
 *
 * Runs in: wherever net/netlink.h's callers run.
 */
#ifndef MOAT_NET_NETLINK_INTERNAL_H
#define MOAT_NET_NETLINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include "net/netlink.h"

/* Our requests are a few hundred bytes at most (see nl_msg). */
#define NL_TX_SIZE 4096
/* "interface 2147483647" or a quoted name. */
#define NL_LABEL_MAX (IFNAMSIZ + 24)
#define NL_MAC_TEXT 18
/* A dump the kernel flags as changed while it was read (NLM_F_DUMP_INTR)
 * is read again, this many times at most. */
#define NL_DUMP_TRIES 5

struct net_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *rx;
	size_t rx_size;
	/* Why the last nl_talk failed: strerror, and the kernel's extended
	 * ack text when it sent one. */
	char why[512];
	union {
		struct nlmsghdr align;
		char b[NL_TX_SIZE];
	} tx;
};

/* One link as RTM_NEWLINK describes it. */
struct nl_link {
	int ifindex;
	int master;
	unsigned flags;
	char name[IFNAMSIZ];
	char kind[64];
};

/* Called for each reply message of a request; returns 0 or a negative
 * errno (the exchange still reads up to the ack, then returns it). */
typedef int (*nl_reply_cb)(const struct nlmsghdr *h, void *data);

/* A request in NL's send buffer: TYPE with NLM_F_REQUEST | NLM_F_ACK |
 * FLAGS, followed by the family header HDR. */
struct nlmsghdr *nl_msg(struct net_nl *nl, uint16_t type, uint16_t flags, const void *hdr,
			size_t hdr_len);
/* Sends REQ and reads up to its ack or NLMSG_DONE, passing other replies
 * to CB (may be NULL). Returns 0 or a negative errno; on failure nl->why
 * says why. -EAGAIN: a dump that changed while it was read (ask again). */
int nl_talk(struct net_nl *nl, struct nlmsghdr *req, nl_reply_cb cb, void *data);
/* Sets *ERR to "<FMT...>: <nl->why>" and returns R (< 0). */
int nl_fail(struct net_nl *nl, int r, struct err **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Link NAME (when not NULL) or IFINDEX; on failure nl->why says why. */
int nl_link_get(struct net_nl *nl, const char *name, int ifindex, struct nl_link *out);
/* "\"eth0\"" for IFINDEX, or "interface 7" when it has no link; keeps
 * nl->why, so it can be used while reporting a failure. */
const char *nl_label(struct net_nl *nl, int ifindex, char buf[NL_LABEL_MAX]);
/* IFINDEX (> 0) exists; otherwise an error "<WHAT>: <ROLE> interface N: ...". */
int nl_check_index(struct net_nl *nl, int ifindex, const char *role, const char *what,
		   struct err **err);

/* EINVAL "<WHAT>: ..." unless NAME is a valid interface name. */
int nl_check_name(const char *name, const char *what, struct err **err);
/* EINVAL "<WHAT>: ..." unless A is an IPv4 or IPv6 address. */
int nl_check_addr(const struct net_addr *a, const char *what, struct err **err);
/* 4 or 16: the bytes of A that go into an attribute. */
size_t nl_addr_len(const struct net_addr *a);
void nl_mac_format(const uint8_t mac[6], char buf[NL_MAC_TEXT]);

#endif

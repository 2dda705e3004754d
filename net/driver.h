/*
 * net/driver.h - one ops interface for every network driver (none, host,
 * bridge, macvlan, overlay): adding a driver is adding a file that defines
 * a `const struct net_driver` and one line in net/driver.c's table.
 *
 * Runs in: the moat process (network create/rm, container start and
 * removal) and the container's monitor (attach before the init is
 * released, detach at exit); as root for the kernel-side drivers.
 *
 * Vocabulary:
 *  - a network (struct net_network) is what `moat network create` records
 *    (net/netrecord.h decodes it);
 *  - an endpoint (struct net_endpoint) is one container's place on one
 *    network: its address, its interface inside the container, the host
 *    side of the link.
 *
 * Invariants every driver keeps:
 *  - every operation either completes or undoes what it did before it
 *    returns an error (a failed attach leaves no link, a failed create no
 *    bridge and no firewall rule);
 *  - remove and detach are idempotent: what is already gone is success, so
 *    crash cleanup can run them from a record without knowing how far the
 *    attach got;
 *  - nothing here decides policy: the engine checked the request first.
 */
#ifndef MOAT_NET_DRIVER_H
#define MOAT_NET_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "common/err.h"
#include "net/cidr.h"

#define NET_NAME_MAX 128 /* a network's name, as Docker's: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
#define NET_ID_HEX 64
#define NET_MAX_ALIASES 16
#define NET_MAX_ENDPOINTS 8 /* networks one container joins */

enum net_macvlan_mode {
	NET_MACVLAN_BRIDGE, /* the default, as Docker's */
	NET_MACVLAN_PRIVATE,
	NET_MACVLAN_VEPA,
	NET_MACVLAN_PASSTHRU,
};

struct net_network {
	char id[NET_ID_HEX + 1];
	char name[NET_NAME_MAX + 1];
	char driver[16]; /* "bridge", "macvlan", "overlay" ("none" and "host"
			  * are Docker's predefined networks of those drivers) */
	int64_t created; /* unix ns */
	bool has_pool;	 /* false only for none and host */
	struct net_pool pool;
	bool internal;	/* no route out, no DNS forwarding (CVE-2024-29018) */
	bool dns;	/* containers resolve each other's names and aliases
			* (user-defined networks; Docker's default "bridge" does not) */
	char **labels;	/* "k=v", NULL-terminated (NULL: none) */
	char **options; /* "k=v" as given with -o, NULL-terminated (NULL: none) */
	/* bridge: the Linux bridge's name ("moat0" for the default network,
	 * "moat-" + 10 hex digits of the id otherwise) */
	char bridge[IFNAMSIZ];
	/* macvlan */
	char parent[IFNAMSIZ];
	enum net_macvlan_mode macvlan_mode;
	/* overlay */
	char *cluster; /* "etcd://HOST:PORT" */
	uint32_t vni;
};

struct net_endpoint {
	char container_id[NET_ID_HEX + 1];
	char *name;			    /* the container's name */
	char *aliases[NET_MAX_ALIASES + 1]; /* --network-alias, NULL-terminated */
	struct net_addr addr;		    /* leased from the network's IPAM */
	unsigned prefix;		    /* the subnet's */
	struct net_addr gateway;	    /* the default route's next hop */
	bool has_gateway;		    /* false on --internal networks */
	uint8_t mac[6];			    /* derived from ADDR, as Docker does */
	char ifname[IFNAMSIZ];		    /* inside the container: eth0, eth1, ... */
	char host_ifname[IFNAMSIZ];	    /* the host side (veth), "" when none */
};

struct net_driver {
	const char *name;
	bool root_only;	  /* refused rootless (the error says why) */
	bool needs_netns; /* the container gets its own network namespace */
	bool has_ipam;	  /* endpoints get addresses from the network's pool */
	/* The host routes the network's subnet (a bridge with the gateway
	 * address): a host route that overlaps it is a clash. */
	bool routes_subnet;
	/* `network create`: checks and normalises N's driver options (-o)
	 * before anything exists; unknown options are an error. */
	int (*check)(struct net_network *n, struct err **err);
	/* Creates what the network needs on the host (a bridge, firewall
	 * rules). Also called at container start to bring it back after a
	 * reboot: must succeed when everything already exists. */
	int (*create)(const struct net_network *n, struct err **err);
	/* `network rm`: removes what create made. */
	int (*remove)(const struct net_network *n, struct err **err);
	/* Puts EP's interface into the network namespace NETNSFD (named
	 * EP->ifname there, down and without addresses: the container's init
	 * configures it, it owns that namespace) and fills EP->host_ifname. */
	int (*attach)(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
		      struct err **err);
	/* Removes EP's host side (a no-op when the namespace died with the
	 * container and took the link with it). */
	int (*detach)(const struct net_network *n, const struct net_endpoint *ep, struct err **err);
};

/*
 * The operations of a driver that has nothing on the host side (none,
 * host), defined once in net/driver.c: create, remove and detach succeed
 * without doing anything; attach only says there is no host interface.
 */
int net_driver_noop(const struct net_network *n, struct err **err);
int net_driver_noop_attach(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
			   struct err **err);
int net_driver_noop_detach(const struct net_network *n, const struct net_endpoint *ep,
			   struct err **err);

/* The driver named NAME, or NULL. */
const struct net_driver *net_driver_find(const char *name);
/* Every driver, NULL-terminated (for `moat info` and messages). */
const struct net_driver *const *net_driver_all(void);

/* Docker's MAC for an IPv4 endpoint: 02:42 followed by the address. */
void net_endpoint_mac(const struct net_addr *addr, uint8_t mac[6]);

#endif

/*
 * net/ipam.h - persistent address leases of one network, shared by every
 * moat process on the host.
 *
 * Runs in: the moat process (create, start, rm, network rm) and the
 * monitor (release on exit); as the user that owns moat's state.
 *
 * On disk, in DIR (the caller's, e.g. ROOT/networks/<id>/leases/, created
 * 0700 when missing):
 *   <address>   one file per leased address, named by its canonical text
 *               ("10.88.0.5", "fd00::5"), created O_CREAT|O_EXCL, holding
 *               the owner's id and "\n";
 *   .lock       flock()ed around every change and every read that decides
 *               something;
 *   .next       the next address dynamic allocation tries (a hint: it
 *               rotates, so a just-released address is not handed out again
 *               at once, as Docker does).
 *
 * Invariants:
 *  - two leases of one address cannot exist: the file is created with
 *    O_EXCL, whatever any other process does;
 *  - a process writes a lease file only while it holds .lock, and the file
 *    is complete before the lock is released; so a lease file that is
 *    empty or unreadable while the lock is held was left by a process that
 *    died mid-write (or by a host crash: leases are not fsync()ed, a reboot
 *    ends every container anyway). Such a lease is "held by an unknown
 *    owner": allocation never hands it out, release refuses it, and only
 *    net_ipam_reclaim removes it, at once, since no writer can be behind
 *    it;
 *  - the network, broadcast and gateway addresses are never leased; dynamic
 *    allocation stays in the ip-range, and so must requested addresses.
 */
#ifndef MOAT_NET_IPAM_H
#define MOAT_NET_IPAM_H

#include <stddef.h>

#include "common/err.h"
#include "net/cidr.h"

/* An owner id: 1..NET_IPAM_OWNER_MAX of [A-Za-z0-9_.-], starting with a
 * letter or digit (a container id is 64 hex digits). */
#define NET_IPAM_OWNER_MAX 128
#define NET_IPAM_LOCK_NAME ".lock"
#define NET_IPAM_HINT_NAME ".next"

struct net_ipam;

struct net_ipam_lease {
	struct net_addr addr;
	char owner[NET_IPAM_OWNER_MAX + 1]; /* "" when the lease file is damaged */
};

/*
 * Opens (creating DIR when missing) the leases of the network SUBNET,
 * allocating from RANGE (NULL: the whole subnet) and never handing out
 * GATEWAY (NULL: no gateway). The blocks come from net_cidr_parse; the
 * range and gateway are checked as net_pool_init does.
 */
int net_ipam_open(const char *dir, const struct net_cidr *subnet, const struct net_cidr *range,
		  const struct net_addr *gateway, struct net_ipam **out, struct err **err);
void net_ipam_close(struct net_ipam *ipam);

static inline void net_ipam_closep(struct net_ipam **p)
{
	if (*p)
		net_ipam_close(*p);
}
#define _cleanup_ipam_ __attribute__((cleanup(net_ipam_closep)))

/*
 * Leases an address to OWNER and returns it in *OUT. WANT NULL: the next
 * free address of the range after the .next hint; ENOSPC "no free address
 * in 10.88.0.0/16" when there is none. WANT given: that address; EINVAL
 * when it is outside the subnet or the range or is the network or
 * broadcast address, EADDRINUSE naming the holder's short id when it is
 * leased or is the gateway.
 */
int net_ipam_allocate(struct net_ipam *ipam, const char *owner, const struct net_addr *want,
		      struct net_addr *out, struct err **err);
/* Drops the lease of ADDR if OWNER holds it: ENOENT when it is not leased,
 * EPERM when someone else (or an unknown owner) holds it. */
int net_ipam_release(struct net_ipam *ipam, const struct net_addr *addr, const char *owner,
		     struct err **err);
/* Drops every lease OWNER holds (a container being removed); *RELEASED
 * (may be NULL) counts them. */
int net_ipam_release_owner(struct net_ipam *ipam, const char *owner, size_t *released,
			   struct err **err);
/* Every lease, by address, into *OUT (the caller's to free; NULL when *N
 * is 0). */
int net_ipam_list(struct net_ipam *ipam, struct net_ipam_lease **out, size_t *n, struct err **err);
/*
 * Crash cleanup: drops every damaged lease and every lease whose owner
 * IS_ALIVE says is gone (returns 0); keeps those it says exist (returns
 * 1). A negative return stops reclaim with that error, keeping what was
 * not yet looked at: a lease is never dropped on doubt. IS_ALIVE runs with
 * the lock held: it must not call into the same lease directory, and must
 * count an owner still being created as alive. *REMOVED (may be NULL)
 * counts what was dropped.
 */
int net_ipam_reclaim(struct net_ipam *ipam, int (*is_alive)(const char *owner, void *data),
		     void *data, size_t *removed, struct err **err);

#endif

/*
 * net/driver.c - the table of network drivers (see net/driver.h) and the
 * helpers every driver shares, among them the no-op operations of the
 * drivers that make nothing on the host (none, host).
 *
 * Runs in: any moat process. PURE: a constant table and arithmetic.
 *
 * Adding a driver is adding its file (net/<name>.c, defining
 * `const struct net_driver net_driver_<name>`) and one line below; the
 * order is the order `moat info` and messages list them in.
 */
#include "net/driver.h"

#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"

extern const struct net_driver net_driver_none;
extern const struct net_driver net_driver_host;
extern const struct net_driver net_driver_bridge;
extern const struct net_driver net_driver_macvlan;

static const struct net_driver *const drivers[] = {
    &net_driver_none, &net_driver_host, &net_driver_bridge, &net_driver_macvlan, NULL,
};

const struct net_driver *net_driver_find(const char *name)
{
	for (size_t i = 0; name && drivers[i]; i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

const struct net_driver *const *net_driver_all(void)
{
	return drivers;
}

int net_driver_noop(const struct net_network *n, struct err **err)
{
	(void)n;
	(void)err;
	return 0;
}

int net_driver_noop_attach(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
			   struct err **err)
{
	(void)n;
	(void)netnsfd;
	(void)err;
	ep->host_ifname[0] = '\0';
	return 0;
}

int net_driver_noop_detach(const struct net_network *n, const struct net_endpoint *ep,
			   struct err **err)
{
	(void)n;
	(void)ep;
	(void)err;
	return 0;
}

/*
 * 02:42 and the four bytes of the IPv4 address, as Docker derives it: a
 * locally administered unicast address (bit 1 of the first byte set, bit 0
 * clear) that is unique on the network because the address is. An IPv6
 * endpoint gets the last four bytes of its address the same way.
 */
void net_endpoint_mac(const struct net_addr *addr, uint8_t mac[6])
{
	const uint8_t *b = addr->family == AF_INET ? addr->b : addr->b + 12;

	mac[0] = 0x02;
	mac[1] = 0x42;
	memcpy(mac + 2, b, 4);
}

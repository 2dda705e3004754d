/*
 * fuzz/netrecord_fuzz.c - the network record decoder (net_network_decode):
 * what `moat network ls`, `inspect`, `rm` and every container start read
 * back from ROOT/networks/<id>/network.json.
 *
 * Properties: a failed decode says why and hands back nothing (a zeroed
 * struct); a decoded record holds what the decoder promises (a valid
 * name and id, a consistent pool, interface names Linux takes), encodes,
 * the encoding decodes to an equal record, and encoding that again gives
 * the same bytes (the encoding is canonical).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/netrecord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool strv_equal(char **a, char **b)
{
	size_t i = 0;

	if (!a || !b)
		return a == b; /* NULL is "none", never an empty list */
	if (!a[0] || !b[0])
		return false;
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return !a[i] && !b[i];
}

static bool cidr_equal(const struct net_cidr *a, const struct net_cidr *b)
{
	return a->bits == b->bits && net_addr_equal(&a->addr, &b->addr);
}

static bool pool_equal(const struct net_pool *a, const struct net_pool *b)
{
	return cidr_equal(&a->subnet, &b->subnet) && cidr_equal(&a->range, &b->range) &&
	       a->has_gateway == b->has_gateway &&
	       (!a->has_gateway || net_addr_equal(&a->gateway, &b->gateway));
}

static bool equal(const struct net_network *a, const struct net_network *b)
{
	return !strcmp(a->id, b->id) && !strcmp(a->name, b->name) &&
	       !strcmp(a->driver, b->driver) && a->created == b->created &&
	       a->has_pool == b->has_pool && (!a->has_pool || pool_equal(&a->pool, &b->pool)) &&
	       a->internal == b->internal && a->dns == b->dns && strv_equal(a->labels, b->labels) &&
	       strv_equal(a->options, b->options) && !strcmp(a->bridge, b->bridge) &&
	       !strcmp(a->parent, b->parent) && a->macvlan_mode == b->macvlan_mode &&
	       a->vni == b->vni &&
	       ((!a->cluster && !b->cluster) ||
		(a->cluster && b->cluster && !strcmp(a->cluster, b->cluster)));
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_network n, again;
	struct err *e = NULL;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;

	if (net_network_decode((const char *)data, size, &n, &e) < 0) {
		if (!e || e->code == 0 || !all_zero(&n, sizeof(n)))
			abort(); /* an error always says why and leaves nothing */
		err_free(&e);
		return 0;
	}
	if (!net_network_name_valid(n.name) || strlen(n.id) != NET_ID_HEX || n.created < 0)
		abort();
	if (n.has_pool &&
	    (!net_cidr_contains(&n.pool.subnet, &n.pool.range.addr) ||
	     (n.pool.has_gateway && !net_cidr_contains(&n.pool.subnet, &n.pool.gateway))))
		abort();
	if (!strcmp(n.driver, "bridge") && !net_ifname_valid(n.bridge))
		abort();
	if (!strcmp(n.driver, "macvlan") && !net_ifname_valid(n.parent))
		abort();
	if (!strcmp(n.driver, "overlay") && (!n.cluster || n.vni == 0 || n.vni > NET_VNI_MAX))
		abort();
	if (net_network_encode(&n, &buf, &len, &e) < 0)
		abort();
	if (len != strlen(buf) || len > NET_RECORD_MAX)
		abort();
	if (net_network_decode(buf, len, &again, &e) < 0)
		abort();
	if (!equal(&n, &again))
		abort();
	if (net_network_encode(&again, &buf2, &len2, &e) < 0 || len2 != len ||
	    memcmp(buf, buf2, len))
		abort();
	net_network_clear(&again);
	net_network_clear(&n);
	free(buf);
	free(buf2);
	return 0;
}

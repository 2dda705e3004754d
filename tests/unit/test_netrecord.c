/*
 * tests/unit/test_netrecord.c - networks as objects:
 *  - net/netrecord.c: the strict record codec (exact output, round trips
 *    of every driver's keys, every refusal), the name rules;
 *  - net/driver.c, net/none.c, net/host.c: the table, Docker's MAC, the
 *    two trivial drivers;
 *  - engine/networks.c, in a mkdtemp root per test with FAKE drivers and
 *    a fake route table (nothing here touches a network interface): create
 *    with chosen and given pools, refusals before anything exists, the
 *    lock (concurrent creates of one name make one network), the
 *    predefined networks, the default network, lookup by id, name and
 *    prefix, removal refused while a container record refers to the
 *    network, prune with filters, debris, leases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "engine/networks.h"
#include "net/driver.h"
#include "net/ipam.h"
#include "net/netrecord.h"

#define ID1 "4f2a9c01d3e5b7a9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7"
#define CTR1 "c0ffee0000000000000000000000000000000000000000000000000000000001"
#define CTR2 "c0ffee0000000000000000000000000000000000000000000000000000000002"
#define CTR3 "c0ffee0000000000000000000000000000000000000000000000000000000003"

/* ---- helpers ---- */

/* RC is -CODE and *E contains MSG; frees *E. */
static void err_has(int rc, struct err **e, int code, const char *msg)
{
	if (rc != -code || !*e || (*e)->code != code || !strstr((*e)->msg, msg)) {
		print_error("want -%d \"%s\", got %d \"%s\"\n", code, msg, rc,
			    *e ? (*e)->msg : "(no error)");
		fail();
	}
	err_free(e);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void dec_ok(const char *json, struct net_network *n)
{
	struct err *e = NULL;

	if (net_network_decode(json, strlen(json), n, &e) < 0) {
		print_error("rejected (%s): %s\n", e->msg, json);
		fail();
	}
	assert_null(e);
}

static void dec_bad_len(const char *json, size_t len, int code, const char *msg)
{
	struct net_network n;
	struct err *e = NULL;
	int r = net_network_decode(json, len, &n, &e);

	if (r == 0) {
		print_error("accepted: %.300s\n", json);
		net_network_clear(&n);
		fail();
	}
	assert_true(all_zero(&n, sizeof(n))); /* nothing half-decoded */
	err_has(r, &e, code, msg);
}

static void dec_bad(const char *json, const char *msg)
{
	dec_bad_len(json, strlen(json), EINVAL, msg);
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* ---- the record ---- */

static void test_encode_exact(void **state)
{
	char *labels[] = {"zeta=1", "a=y=z", "empty=", NULL};
	char *options[] = {"com.docker.network.bridge.name=br0", NULL};
	struct net_network n = {
	    .id = ID1,
	    .name = "web",
	    .driver = "bridge",
	    .created = 1714557600123456789LL,
	    .has_pool = true,
	    .internal = true,
	    .dns = true,
	    .labels = labels,
	    .options = options,
	    .bridge = "moat-4f2a9c01d3",
	};
	struct net_network back;
	struct net_cidr subnet, range;
	struct net_addr gw;
	struct err *e = NULL;
	char *buf = NULL, *again = NULL;
	size_t len = 0, len2 = 0;

	(void)state;
	assert_int_equal(net_cidr_parse("10.89.0.0/24", "subnet", &subnet, NULL), 0);
	assert_int_equal(net_cidr_parse("10.89.0.128/25", "ip-range", &range, NULL), 0);
	assert_int_equal(net_addr_parse("10.89.0.1", &gw, NULL), 0);
	assert_int_equal(net_pool_init(&n.pool, &subnet, &range, &gw, NULL), 0);
	assert_int_equal(net_network_encode(&n, &buf, &len, &e), 0);
	assert_string_equal(
	    buf, "{\"Bridge\":\"moat-4f2a9c01d3\",\"Created\":\"2024-05-01T10:00:00.123456789Z\","
		 "\"Driver\":\"bridge\",\"EnableDNS\":true,\"IPAM\":{\"Config\":[{\"Gateway\":"
		 "\"10.89.0.1\",\"IPRange\":\"10.89.0.128/25\",\"Subnet\":\"10.89.0.0/24\"}],"
		 "\"Driver\":\"default\"},\"Id\":\"" ID1 "\",\"Internal\":true,\"Labels\":{\"a\":"
		 "\"y=z\",\"empty\":\"\",\"zeta\":\"1\"},\"Name\":\"web\",\"Options\":{"
		 "\"com.docker.network.bridge.name\":\"br0\"}}");
	assert_int_equal(len, strlen(buf));
	dec_ok(buf, &back);
	assert_string_equal(back.id, ID1);
	assert_string_equal(back.name, "web");
	assert_string_equal(back.driver, "bridge");
	assert_string_equal(back.bridge, "moat-4f2a9c01d3");
	assert_true(back.created == n.created);
	assert_true(back.internal && back.dns && back.has_pool);
	assert_true(back.pool.has_gateway && net_addr_equal(&back.pool.gateway, &gw));
	assert_int_equal(back.pool.range.bits, 25);
	assert_int_equal(back.pool.subnet.bits, 24);
	/* labels come back sorted by key */
	assert_int_equal(strv_len(back.labels), 3);
	assert_string_equal(back.labels[0], "a=y=z");
	assert_string_equal(back.labels[1], "empty=");
	assert_string_equal(back.labels[2], "zeta=1");
	assert_string_equal(back.options[0], "com.docker.network.bridge.name=br0");
	assert_null(back.cluster);
	/* canonical: the same bytes again */
	assert_int_equal(net_network_encode(&back, &again, &len2, &e), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, buf, len);
	net_network_clear(&back);
	assert_true(all_zero(&back, sizeof(back)));
	free(buf);
	free(again);
}

/* Every driver's own keys, IPv6 pools, no pool, the last nanosecond. */
static void test_driver_keys_round_trip(void **state)
{
	static const char *const recs[] = {
	    "{\"Created\":\"2024-05-01T10:00:00.000000001Z\",\"Driver\":\"macvlan\","
	    "\"EnableDNS\":true,\"IPAM\":{\"Config\":[{\"Subnet\":\"192.168.1.0/24\"}],"
	    "\"Driver\":\"default\"},\"Id\":\"" ID1 "\",\"Internal\":false,\"Labels\":{},"
	    "\"MacvlanMode\":\"vepa\",\"Name\":\"mv\",\"Options\":{\"parent\":\"eth0.5\"},"
	    "\"Parent\":\"eth0.5\"}",
	    "{\"Cluster\":\"etcd://127.0.0.1:2379\",\"Created\":\"2262-04-11T23:47:16.854775807Z\","
	    "\"Driver\":\"overlay\",\"EnableDNS\":true,\"IPAM\":{\"Config\":[{\"Gateway\":"
	    "\"fd00:1::1\",\"Subnet\":\"fd00:1::/64\"}],\"Driver\":\"default\"},\"Id\":\"" ID1
	    "\",\"Internal\":false,\"Labels\":{},\"Name\":\"ov\",\"Options\":{},\"VNI\":16777215}",
	    "{\"Created\":\"1970-01-01T00:00:00.000000000Z\",\"Driver\":\"none\",\"EnableDNS\":"
	    "false,"
	    "\"IPAM\":{\"Config\":[],\"Driver\":\"default\"},\"Id\":\"" ID1 "\",\"Internal\":false,"
	    "\"Labels\":{},\"Name\":\"n\",\"Options\":{}}",
	};
	struct net_network n;
	struct err *e = NULL;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		dec_ok(recs[i], &n);
		assert_int_equal(net_network_encode(&n, &buf, &len, &e), 0);
		/* these are written canonically: encode gives them back */
		assert_string_equal(buf, recs[i]);
		free(buf);
		if (i == 0) {
			assert_string_equal(n.parent, "eth0.5");
			assert_int_equal(n.macvlan_mode, NET_MACVLAN_VEPA);
			assert_string_equal(n.bridge, "");
		} else if (i == 1) {
			assert_string_equal(n.cluster, "etcd://127.0.0.1:2379");
			assert_int_equal(n.vni, 16777215);
			assert_true(n.created == INT64_MAX);
			assert_int_equal(n.pool.subnet.addr.family, AF_INET6);
		} else {
			assert_false(n.has_pool);
			assert_null(n.labels);
			assert_null(n.options);
			assert_true(n.created == 0);
		}
		net_network_clear(&n);
	}
}

/* What decodes from other spellings: unsorted keys, short fractions, an
 * IPRange equal to the subnet (the same pool as none). */
static void test_decode_normalises(void **state)
{
	struct net_network n;
	struct err *e = NULL;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	dec_ok("{\"Name\":\"bridge\",\"Id\":\"" ID1 "\",\"Created\":\"2024-05-01T10:00:00.5Z\","
	       "\"Driver\":\"bridge\",\"Internal\":false,\"EnableDNS\":false,\"Labels\":{\"b\":"
	       "\"2\",\"a\":\"1\"},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
	       "\"Subnet\":\"10.88.0.0/16\",\"IPRange\":\"10.88.0.0/16\"}]},\"Bridge\":\"moat0\"}",
	       &n);
	assert_true(n.created == 1714557600500000000LL);
	assert_false(n.pool.has_gateway);
	assert_string_equal(n.labels[0], "a=1");
	assert_string_equal(n.labels[1], "b=2");
	assert_int_equal(net_network_encode(&n, &buf, &len, &e), 0);
	assert_non_null(strstr(buf, "\"Created\":\"2024-05-01T10:00:00.500000000Z\""));
	assert_null(strstr(buf, "IPRange"));
	assert_null(strstr(buf, "Gateway"));
	free(buf);
	net_network_clear(&n);
}

#define HEAD "{\"Id\":\"" ID1 "\",\"Created\":\"2024-05-01T10:00:00Z\","
#define IPAM_OK "\"IPAM\":{\"Driver\":\"default\",\"Config\":[{\"Subnet\":\"10.89.0.0/24\"}]}"
#define TAIL "\"Internal\":false,\"EnableDNS\":true,\"Labels\":{},\"Options\":{}," IPAM_OK
/* a bridge record with FIELDS in front of the rest */
#define BR(fields) \
	HEAD "\"Name\":\"web\",\"Driver\":\"bridge\",\"Bridge\":\"moat-1\"," fields TAIL "}"
/* one with NAME, DRIVER and the driver's keys given */
#define NET(name, driver, keys) HEAD "\"Name\":" name ",\"Driver\":" driver "," keys TAIL "}"

static void test_decode_refusals(void **state)
{
	char big[NET_RECORD_MAX + 2];

	(void)state;
	/* the shape */
	dec_bad("[]", "not an object");
	dec_bad("{", "network record:");
	dec_bad(BR("") "x", "network record:");
	dec_bad(BR("\"Bridge\":\"b\","), "duplicate");
	dec_bad(BR("\"Extra\":1,"), "unknown key \"Extra\"");
	dec_bad(BR("\"name\":\"web\","), "unknown key \"name\"");
	/* names, ids, drivers, times */
	dec_bad(NET("\"../x\"", "\"bridge\"", "\"Bridge\":\"b\","), "invalid network name");
	dec_bad(NET("\"a b\"", "\"bridge\"", "\"Bridge\":\"b\","), "invalid network name");
	dec_bad(NET("\"-x\"", "\"bridge\"", "\"Bridge\":\"b\","), "invalid network name");
	dec_bad(NET("\"\"", "\"bridge\"", "\"Bridge\":\"b\","), "invalid network name");
	dec_bad(NET("\"w\\u0000x\"", "\"bridge\"", "\"Bridge\":\"b\","), "NUL");
	dec_bad(NET("1", "\"bridge\"", "\"Bridge\":\"b\","), "\"Name\" must be a string");
	dec_bad(NET("\"web\"", "\"Bridge\"", ""), "invalid driver name");
	dec_bad(NET("\"web\"", "\"a/b\"", ""), "invalid driver name");
	dec_bad(NET("\"web\"", "\"abcdefghijklmnop\"", ""), "invalid driver name");
	dec_bad("{\"Id\":\"" ID1 "0\",\"Name\":\"w\",\"Driver\":\"x\","
		"\"Created\":\"2024-05-01T10:00:00Z\"," TAIL "}",
		"64 lower-case hex");
	dec_bad("{\"Id\":\"4F2A9C01D3E5B7A9C1D3E5F7A9B1C3D5E7F9A1B3C5D7E9F1A3B5C7D9E1F3A5B7\","
		"\"Name\":\"w\",\"Driver\":\"x\",\"Created\":\"2024-05-01T10:00:00Z\"," TAIL "}",
		"64 lower-case hex");
	dec_bad("{\"Id\":\"" ID1 "\",\"Name\":\"w\",\"Driver\":\"x\","
		"\"Created\":\"2024-05-01T10:00:60Z\"," TAIL "}",
		"RFC 3339");
	dec_bad("{\"Id\":\"" ID1 "\",\"Name\":\"w\",\"Driver\":\"x\","
		"\"Created\":\"2024-05-01T10:00:00+01:00\"," TAIL "}",
		"RFC 3339");
	dec_bad("{\"Id\":\"" ID1 "\",\"Name\":\"w\",\"Driver\":\"x\","
		"\"Created\":\"1969-12-31T23:59:59Z\"," TAIL "}",
		"RFC 3339");
	dec_bad("{\"Id\":\"" ID1 "\",\"Name\":\"w\",\"Driver\":\"x\","
		"\"Created\":\"2023-02-29T00:00:00Z\"," TAIL "}",
		"RFC 3339");
	dec_bad("{\"Id\":\"" ID1 "\",\"Name\":\"w\",\"Driver\":\"x\","
		"\"Created\":\"2024-05-01T10:00:00.1234567890Z\"," TAIL "}",
		"RFC 3339");
	dec_bad("{\"Id\":\"" ID1 "\",\"Name\":\"w\",\"Driver\":\"x\"," TAIL "}",
		"\"Created\" is missing");
	/* booleans, labels, options */
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":0,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{}," IPAM_OK "}",
		"\"Internal\" must be true or false");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,"
		     "\"Labels\":{},\"Options\":{}," IPAM_OK "}",
		"\"EnableDNS\" is missing");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":[],\"Options\":{}," IPAM_OK "}",
		"\"Labels\" must be an object");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{\"a=b\":\"c\"},\"Options\":{}," IPAM_OK "}",
		"holds '='");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{\"\":\"c\"},\"Options\":{}," IPAM_OK "}",
		"is empty");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{\"a\":1}," IPAM_OK "}",
		"must be a string");
	/* the pool */
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{}}",
		"\"IPAM\" is missing");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"dhcp\",\"Config\":[]}}",
		"IPAM driver must be \"default\"");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[],"
		     "\"Options\":{}}}",
		"unknown key \"Options\" in \"IPAM\"");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Subnet\":\"10.1.0.0/16\"},{\"Subnet\":\"10.2.0.0/16\"}]}}",
		"at most one pool");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Subnet\":\"10.1.2.3/16\"}]}}",
		"it should be 10.1.0.0/16");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Subnet\":\"10.1.0.0/16\",\"Gateway\":\"10.2.0.1\"}]}}",
		"doesn't contain this address");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Subnet\":\"10.1.0.0/16\",\"IPRange\":\"10.2.0.0/24\"}]}}",
		"doesn't contain ip-range");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Subnet\":\"10.1.0.0/16\",\"Gateway\":\"fd00::1\"}]}}",
		"parent subnet is an IPv4 block");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Subnet\":\"10.1.0.0/16\",\"Gateway\":\"10.1.0.0\"}]}}",
		"network address");
	dec_bad(HEAD "\"Name\":\"w\",\"Driver\":\"x\",\"Internal\":false,\"EnableDNS\":true,"
		     "\"Labels\":{},\"Options\":{},\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
		     "\"Gateway\":\"10.1.0.1\"}]}}",
		"\"Subnet\" is missing");
	/* the drivers' own keys */
	dec_bad(NET("\"w\"", "\"bridge\"", ""), "\"Bridge\" is missing");
	dec_bad(NET("\"w\"", "\"bridge\"", "\"Bridge\":\"moat-0123456789a\","),
		"not an interface name");
	dec_bad(NET("\"w\"", "\"bridge\"", "\"Bridge\":\"a/b\","), "not an interface name");
	dec_bad(NET("\"w\"", "\"bridge\"", "\"Bridge\":\"..\","), "not an interface name");
	dec_bad(NET("\"w\"", "\"bridge\"", "\"Bridge\":\"a b\","), "not an interface name");
	dec_bad(NET("\"w\"", "\"bridge\"", "\"Bridge\":\"b\",\"Parent\":\"eth0\","),
		"\"Parent\" is not a key of a bridge network");
	dec_bad(NET("\"w\"", "\"macvlan\"",
		    "\"Bridge\":\"b\",\"Parent\":\"eth0\","
		    "\"MacvlanMode\":\"bridge\","),
		"\"Bridge\" is not a key of a macvlan network");
	dec_bad(NET("\"w\"", "\"macvlan\"", "\"Parent\":\"eth0\","), "\"MacvlanMode\" is missing");
	dec_bad(NET("\"w\"", "\"macvlan\"", "\"Parent\":\"eth0\",\"MacvlanMode\":\"loud\","),
		"unknown macvlan mode");
	dec_bad(NET("\"w\"", "\"macvlan\"", "\"Parent\":\"\",\"MacvlanMode\":\"vepa\","),
		"not an interface name");
	dec_bad(NET("\"w\"", "\"overlay\"", "\"Cluster\":\"etcd://x\",\"VNI\":0,"),
		"\"VNI\" must be an integer 1-16777215");
	dec_bad(NET("\"w\"", "\"overlay\"", "\"Cluster\":\"etcd://x\",\"VNI\":16777216,"),
		"\"VNI\" must be");
	dec_bad(NET("\"w\"", "\"overlay\"", "\"Cluster\":\"etcd://x\",\"VNI\":\"5\","),
		"\"VNI\" must be");
	dec_bad(NET("\"w\"", "\"overlay\"", "\"Cluster\":\"etcd://a b\",\"VNI\":5,"),
		"invalid overlay cluster");
	dec_bad(NET("\"w\"", "\"overlay\"", "\"VNI\":5,"), "\"Cluster\" is missing");
	dec_bad(NET("\"w\"", "\"x\"", "\"VNI\":5,"), "\"VNI\" is not a key of a x network");
	/* the cap comes before the parser */
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	dec_bad_len(big, sizeof(big), EFBIG, "larger than");
}

static void test_encode_refusals(void **state)
{
	char *no_eq[] = {"novalue", NULL}, *empty_key[] = {"=v", NULL},
	     *twice[] = {"a=1", "a=2", NULL};
	struct net_network n = {.id = ID1, .name = "web", .driver = "x", .created = 1};
	struct err *e = NULL;
	char *buf = (char *)"untouched";
	size_t len = 7;

	(void)state;
	assert_int_equal(net_network_encode(&n, &buf, &len, &e), 0);
	free(buf);
	n.labels = no_eq;
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "is not KEY=VALUE");
	assert_null(buf);
	n.labels = empty_key;
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "is not KEY=VALUE");
	n.labels = NULL;
	n.options = twice;
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "given twice");
	n.options = NULL;
	n.created = -1;
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "before 1970");
	n.created = 1;
	/* what the decoder would refuse is never written */
	snprintf(n.name, sizeof(n.name), "../etc");
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "invalid network name");
	snprintf(n.name, sizeof(n.name), "web");
	snprintf(n.driver, sizeof(n.driver), "bridge"); /* without a bridge name */
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "\"Bridge\"");
	snprintf(n.driver, sizeof(n.driver), "overlay"); /* without a cluster */
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "overlay cluster");
	snprintf(n.driver, sizeof(n.driver), "macvlan");
	snprintf(n.parent, sizeof(n.parent), "eth0");
	n.macvlan_mode = (enum net_macvlan_mode)7;
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "unknown macvlan mode");
	n.macvlan_mode = NET_MACVLAN_PASSTHRU;
	assert_int_equal(net_network_encode(&n, &buf, &len, &e), 0);
	assert_non_null(strstr(buf, "\"MacvlanMode\":\"passthru\""));
	free(buf);
	/* a pool nobody checked: the gateway outside the subnet */
	n.has_pool = true;
	assert_int_equal(net_cidr_parse("10.1.0.0/16", "subnet", &n.pool.subnet, NULL), 0);
	n.pool.range = n.pool.subnet;
	assert_int_equal(net_addr_parse("10.2.0.1", &n.pool.gateway, NULL), 0);
	n.pool.has_gateway = true;
	err_has(net_network_encode(&n, &buf, &len, &e), &e, EINVAL, "doesn't contain");
}

static void test_names(void **state)
{
	char longest[NET_NAME_MAX + 2];

	(void)state;
	assert_true(net_network_name_valid("a"));
	assert_true(net_network_name_valid("web_1.net-x"));
	assert_true(net_network_name_valid("0"));
	assert_false(net_network_name_valid(""));
	assert_false(net_network_name_valid(NULL));
	assert_false(net_network_name_valid(".hidden"));
	assert_false(net_network_name_valid("_x"));
	assert_false(net_network_name_valid("a/b"));
	assert_false(net_network_name_valid("a b"));
	assert_false(net_network_name_valid("a:b"));
	assert_false(net_network_name_valid("é"));
	memset(longest, 'n', sizeof(longest));
	longest[NET_NAME_MAX] = 0;
	assert_true(net_network_name_valid(longest));
	longest[NET_NAME_MAX] = 'n';
	longest[NET_NAME_MAX + 1] = 0;
	assert_false(net_network_name_valid(longest));

	assert_true(net_ifname_valid("moat0"));
	assert_true(net_ifname_valid("moat-0123456789"));
	assert_true(net_ifname_valid("eth0.100"));
	assert_false(net_ifname_valid("moat-0123456789a")); /* 16 bytes */
	assert_false(net_ifname_valid(""));
	assert_false(net_ifname_valid("."));
	assert_false(net_ifname_valid(".."));
	assert_false(net_ifname_valid("a/b"));
	assert_false(net_ifname_valid("a:b"));
	assert_false(net_ifname_valid("a b"));
	assert_false(net_ifname_valid("a\tb"));

	assert_int_equal(net_macvlan_mode_parse("bridge"), NET_MACVLAN_BRIDGE);
	assert_int_equal(net_macvlan_mode_parse("passthru"), NET_MACVLAN_PASSTHRU);
	assert_int_equal(net_macvlan_mode_parse("Bridge"), -1);
	assert_null(net_macvlan_mode_name((enum net_macvlan_mode)9));
}

/* ---- the drivers ---- */

static void test_driver_table(void **state)
{
	const struct net_driver *const *all = net_driver_all();
	const struct net_driver *none = net_driver_find("none"), *host = net_driver_find("host");
	struct net_network n = {.name = "x"};
	struct net_endpoint ep = {.host_ifname = "stale"};
	struct net_addr a;
	uint8_t mac[6];
	struct err *e = NULL;
	size_t count = 0;
	bool seen_none = false, seen_host = false;

	(void)state;
	assert_non_null(none);
	assert_non_null(host);
	assert_null(net_driver_find("nope"));
	assert_null(net_driver_find(NULL));
	assert_null(net_driver_find("None"));
	for (; all[count]; count++) {
		seen_none |= all[count] == none;
		seen_host |= all[count] == host;
		/* every entry is complete and findable by its name */
		assert_ptr_equal(net_driver_find(all[count]->name), all[count]);
		assert_non_null(all[count]->check);
		assert_non_null(all[count]->create);
		assert_non_null(all[count]->remove);
		assert_non_null(all[count]->attach);
		assert_non_null(all[count]->detach);
	}
	assert_true(seen_none && seen_host && count >= 2);

	/* none: its own namespace, nothing on the host; host: the host's */
	assert_true(none->needs_netns);
	assert_false(host->needs_netns);
	assert_false(none->root_only || host->root_only || none->has_ipam || host->has_ipam);
	err_has(none->check(&n, &e), &e, EPERM, "only one instance of \"none\" network");
	err_has(host->check(&n, &e), &e, EPERM, "only one instance of \"host\" network");
	assert_int_equal(none->create(&n, &e), 0);
	assert_int_equal(none->remove(&n, &e), 0);
	assert_int_equal(none->attach(&n, &ep, -1, &e), 0);
	assert_string_equal(ep.host_ifname, "");
	assert_int_equal(none->detach(&n, &ep, &e), 0);
	snprintf(ep.host_ifname, sizeof(ep.host_ifname), "stale");
	assert_int_equal(host->create(&n, &e), 0);
	assert_int_equal(host->remove(&n, &e), 0);
	assert_int_equal(host->attach(&n, &ep, -1, &e), 0);
	assert_string_equal(ep.host_ifname, "");
	assert_int_equal(host->detach(&n, &ep, &e), 0);
	assert_null(e);

	/* Docker's MAC: 02:42 and the address */
	assert_int_equal(net_addr_parse("10.88.0.5", &a, NULL), 0);
	net_endpoint_mac(&a, mac);
	assert_memory_equal(mac, ((uint8_t[]){0x02, 0x42, 10, 88, 0, 5}), 6);
	assert_int_equal(net_addr_parse("172.31.255.254", &a, NULL), 0);
	net_endpoint_mac(&a, mac);
	assert_memory_equal(mac, ((uint8_t[]){0x02, 0x42, 172, 31, 255, 254}), 6);
	assert_int_equal(net_addr_parse("fd00::a:b0c:d0e", &a, NULL), 0);
	net_endpoint_mac(&a, mac);
	assert_memory_equal(mac, ((uint8_t[]){0x02, 0x42, 0x0b, 0x0c, 0x0d, 0x0e}), 6);
}

/* ---- the engine, with fake drivers ---- */

struct fixture {
	char root[64], runroot[64];
	struct engine_ctx c;
};

/* What the fake drivers saw and will do (reset per test). */
static int fake_checks, fake_creates, fake_removes;
static bool fake_create_fails, fake_remove_fails;
static char fake_last_created[NET_ID_HEX + 1];

static int fake_check(struct net_network *n, struct err **err)
{
	fake_checks++;
	for (size_t i = 0; n->options && n->options[i]; i++) {
		/* "br=NAME" names the bridge, as the bridge driver's option */
		if (!strncmp(n->options[i], "br=", 3)) {
			snprintf(n->bridge, sizeof(n->bridge), "%s", n->options[i] + 3);
			continue;
		}
		if (strncmp(n->options[i], "ok=", 3))
			return err_set(err, EINVAL, "fake driver: unknown option \"%.*s\"",
				       (int)strcspn(n->options[i], "="), n->options[i]);
	}
	return 0;
}

static int fake_create(const struct net_network *n, struct err **err)
{
	fake_creates++;
	snprintf(fake_last_created, sizeof(fake_last_created), "%s", n->id);
	if (fake_create_fails)
		return err_set(err, EIO, "fake create failed");
	return 0;
}

static int fake_remove(const struct net_network *n, struct err **err)
{
	(void)n;
	fake_removes++;
	if (fake_remove_fails)
		return err_set(err, EIO, "fake remove failed");
	return 0;
}

static int fake_attach(const struct net_network *n, struct net_endpoint *ep, int fd,
		       struct err **err)
{
	(void)n;
	(void)ep;
	(void)fd;
	(void)err;
	return 0;
}

static int fake_detach(const struct net_network *n, const struct net_endpoint *ep, struct err **err)
{
	(void)n;
	(void)ep;
	(void)err;
	return 0;
}

#define FAKE(nm, root_only_)                                                                \
	{                                                                                   \
		.name = nm, .root_only = root_only_, .needs_netns = true, .has_ipam = true, \
		.routes_subnet = true, .check = fake_check, .create = fake_create,          \
		.remove = fake_remove, .attach = fake_attach, .detach = fake_detach,        \
	}
static const struct net_driver fake = FAKE("fake", false);
static const struct net_driver fakeroot = FAKE("fakeroot", true);
/* a "bridge" that touches nothing: what the engine does for that name */
static const struct net_driver fakebridge = FAKE("bridge", false);
/* like macvlan: its subnet is a LAN's, not routed by the host */
static const struct net_driver fakelan = {
    .name = "fakelan",
    .needs_netns = true,
    .has_ipam = true,
    .check = fake_check,
    .create = fake_create,
    .remove = fake_remove,
    .attach = fake_attach,
    .detach = fake_detach,
};

/* The host's routes, as the fake sees them: blocks and their devices. */
static const char *route_blocks[4];
static bool routes_broken;
static int route_calls;

static int fake_routes(const struct net_cidr *c, char *dev, size_t size, struct err **err)
{
	route_calls++;
	if (routes_broken)
		return err_set(err, EIO, "netlink went away");
	for (size_t i = 0; i < 4 && route_blocks[i]; i++) {
		struct net_cidr b;

		assert_int_equal(net_cidr_parse(route_blocks[i], "route", &b, NULL), 0);
		if (net_cidr_overlap(c, &b)) {
			snprintf(dev, size, "eth9");
			return 1;
		}
	}
	return 0;
}

static const struct net_driver *drivers[7];
static const struct engine_network_env env = {.drivers = drivers, .route_overlap = fake_routes};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/moat-net-XXXXXX");
	snprintf(f->runroot, sizeof(f->runroot), "/tmp/moat-netrun-XXXXXX");
	if (!mkdtemp(f->root) || !mkdtemp(f->runroot))
		return -1;
	f->c.root = f->root;
	f->c.runroot = f->runroot;
	f->c.uid = getuid();
	f->c.gid = getgid();
	drivers[0] = net_driver_find("none");
	drivers[1] = net_driver_find("host");
	drivers[2] = &fake;
	drivers[3] = &fakeroot;
	drivers[4] = &fakebridge;
	drivers[5] = &fakelan;
	drivers[6] = NULL;
	fake_checks = fake_creates = fake_removes = route_calls = 0;
	fake_create_fails = fake_remove_fails = routes_broken = false;
	memset(route_blocks, 0, sizeof(route_blocks));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fs_rm_rf_at(AT_FDCWD, f->root, NULL);
	fs_rm_rf_at(AT_FDCWD, f->runroot, NULL);
	free(f);
	return 0;
}

/* Entries of ROOT/networks other than ".lock" (-1: no such directory). */
static int net_dirs(const struct fixture *f)
{
	char p[128];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(p, sizeof(p), "%s/networks", f->root);
	if (!(d = opendir(p)))
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, ".lock"))
			n++;
	closedir(d);
	return n;
}

static int create(struct fixture *f, const char *name, const char *driver, const char *subnet,
		  struct net_network *out, struct err **e)
{
	struct engine_network_create_opts o = {.name = name, .driver = driver, .subnet = subnet};
	struct net_network tmp;
	int r = engine_network_create(&f->c, &env, &o, out ? out : &tmp, e);

	if (!out && r == 0)
		net_network_clear(&tmp);
	return r;
}

static void subnet_is(const struct net_network *n, const char *want)
{
	char s[NET_CIDR_TEXT_MAX];

	net_cidr_format(&n->pool.subnet, s);
	assert_string_equal(s, want);
}

static void create_ok(struct fixture *f, const char *name, const char *subnet,
		      struct net_network *out)
{
	struct err *e = NULL;

	if (create(f, name, "fake", subnet, out, &e) < 0) {
		print_error("create %s: %s\n", name, e->msg);
		fail();
	}
}

/* A container record under ROOT referring to a network by NET (and ID,
 * when not NULL), as create writes it. */
static void make_container(struct fixture *f, const char *cid, const char *net, const char *id)
{
	char dir[256];
	struct container_record r = {.name = (char *)"ctr",
				     .image = (char *)"demo",
				     .image_id = (char *)"sha256:00",
				     .cwd = (char *)"/",
				     .user = (char *)"",
				     .hostname = (char *)"h",
				     .userns = (char *)"single",
				     .net = (char *)net,
				     .seccomp = (char *)"default",
				     .restart = (char *)"no",
				     .state = CTR_CREATED,
				     .created = 1};
	struct err *e = NULL;

	r.netreq.network_id = (char *)id;
	snprintf(dir, sizeof(dir), "%s/containers/%s", f->root, cid);
	assert_int_equal(fs_mkdir_p(dir, 0700, &e), 0);
	memcpy(r.id, cid, 65);
	if (engine_container_save(f->root, &r, false, &e) < 0) {
		print_error("save container: %s\n", e->msg);
		fail();
	}
}

static void drop_container(struct fixture *f, const char *cid)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/containers/%s", f->root, cid);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

static void test_create_inspect_list_remove(void **state)
{
	struct fixture *f = *state;
	struct net_network n, got, *v = NULL, removed;
	struct err *e = NULL;
	char path[256], prefix[13];
	struct stat st;
	size_t nv = 0;
	int64_t before = (int64_t)time(NULL) * 1000000000LL;

	create_ok(f, "web", NULL, &n);
	assert_int_equal(strlen(n.id), 64);
	assert_string_equal(n.name, "web");
	assert_string_equal(n.driver, "fake");
	assert_true(n.has_pool && n.pool.has_gateway && n.dns && !n.internal);
	subnet_is(&n, "10.89.0.0/24");
	assert_true(n.created >= before);
	assert_string_equal(n.bridge, ""); /* only the bridge driver has one */
	assert_int_equal(fake_checks, 1);
	assert_int_equal(fake_creates, 1);
	assert_string_equal(fake_last_created, n.id);
	assert_true(route_calls >= 1);
	/* on disk: the directory 0700, the record 0600, the leases */
	snprintf(path, sizeof(path), "%s/networks/%s", f->root, n.id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/networks/%s/network.json", f->root, n.id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/networks/%s/leases", f->root, n.id);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	/* by name, full id, unique prefix */
	assert_int_equal(engine_network_inspect(&f->c, "web", &got, &e), 0);
	assert_string_equal(got.id, n.id);
	net_network_clear(&got);
	assert_int_equal(engine_network_inspect(&f->c, n.id, &got, &e), 0);
	assert_string_equal(got.name, "web");
	net_network_clear(&got);
	snprintf(prefix, sizeof(prefix), "%.12s", n.id);
	assert_int_equal(engine_network_inspect(&f->c, prefix, &got, &e), 0);
	assert_string_equal(got.name, "web");
	net_network_clear(&got);
	err_has(engine_network_inspect(&f->c, "nope", &got, &e), &e, ENOENT,
		"network nope not found");
	err_has(engine_network_inspect(&f->c, "", &got, &e), &e, ENOENT, "not found");
	err_has(engine_network_inspect(&f->c, "WEB", &got, &e), &e, ENOENT, "not found");

	/* none, host, web */
	assert_int_equal(engine_network_list(&f->c, &v, &nv, &e), 0);
	assert_int_equal(nv, 3);
	assert_string_equal(v[0].name, "none");
	assert_string_equal(v[1].name, "host");
	assert_string_equal(v[2].name, "web");
	net_network_list_free(v, nv);

	assert_int_equal(engine_network_remove(&f->c, &env, "web", false, &removed, &e), 0);
	assert_string_equal(removed.id, n.id);
	assert_int_equal(fake_removes, 1);
	net_network_clear(&removed);
	snprintf(path, sizeof(path), "%s/networks/%s", f->root, n.id);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(net_dirs(f), 0);
	err_has(engine_network_inspect(&f->c, n.id, &got, &e), &e, ENOENT, "not found");
	/* again: gone; -f: not an error, nothing removed */
	assert_int_equal(engine_network_remove(&f->c, &env, "web", false, NULL, &e), -ENOENT);
	assert_int_equal(e->exit, 0); /* the caller's: 1 for `network rm`, 125 for run */
	err_has(-ENOENT, &e, ENOENT, "network web not found");
	assert_int_equal(engine_network_remove(&f->c, &env, "web", true, &removed, &e), 0);
	assert_null(e);
	assert_string_equal(removed.id, "");
	assert_int_equal(fake_removes, 1);
	net_network_clear(&n);
}

static void test_pool_choice(void **state)
{
	struct fixture *f = *state;
	struct net_network a, b, c, d;
	struct err *e = NULL;

	create_ok(f, "a", NULL, &a);
	subnet_is(&a, "10.89.0.0/24");
	create_ok(f, "b", NULL, &b);
	subnet_is(&b, "10.89.1.0/24");
	/* the host routes 10.89.2.0/23: skipped */
	route_blocks[0] = "10.89.2.0/23";
	create_ok(f, "c", NULL, &c);
	subnet_is(&c, "10.89.4.0/24");
	assert_true(net_addr_equal(&c.pool.gateway,
				   &(struct net_addr){.family = AF_INET, .b = {10, 89, 4, 1}}));
	/* a network goes: its /24 is the first free one again */
	assert_int_equal(engine_network_remove(&f->c, &env, "a", false, NULL, &e), 0);
	create_ok(f, "d", NULL, &d);
	subnet_is(&d, "10.89.0.0/24");
	/* the routes cannot be read: an error, not a guess */
	routes_broken = true;
	err_has(create(f, "e", "fake", NULL, NULL, &e), &e, EIO, "netlink went away");
	err_has(create(f, "e", "fake", "10.200.0.0/16", NULL, &e), &e, EIO,
		"check the host's routes for 10.200.0.0/16");
	routes_broken = false;
	/* every /24 taken by a route: Docker's words */
	route_blocks[0] = "10.89.0.0/16";
	err_has(create(f, "e", "fake", NULL, NULL, &e), &e, ENOSPC,
		"could not find an available, non-overlapping IPv4 address pool");
	assert_int_equal(net_dirs(f), 3);
	net_network_clear(&a);
	net_network_clear(&b);
	net_network_clear(&c);
	net_network_clear(&d);
}

static void test_given_pool(void **state)
{
	struct fixture *f = *state;
	struct engine_network_create_opts o = {.name = "r", .driver = "fake"};
	struct net_network n;
	struct err *e = NULL;
	char a[NET_ADDR_TEXT_MAX];

	create_ok(f, "first", "172.20.0.0/16", &n);
	subnet_is(&n, "172.20.0.0/16");
	net_addr_format(&n.pool.gateway, a);
	assert_string_equal(a, "172.20.0.1");
	net_network_clear(&n);
	/* overlapping another moat network, either way round */
	err_has(create(f, "x", "fake", "172.20.5.0/24", NULL, &e), &e, EADDRINUSE,
		"Pool overlaps with other one on this address space (172.20.5.0/24 overlaps "
		"172.20.0.0/16 of network first)");
	err_has(create(f, "x", "fake", "172.16.0.0/12", NULL, &e), &e, EADDRINUSE,
		"of network first");
	/* the default network's pool is reserved before it exists */
	err_has(create(f, "x", "fake", "10.88.7.0/24", NULL, &e), &e, EADDRINUSE,
		"overlaps 10.88.0.0/16 of network bridge");
	/* a route of the host */
	route_blocks[0] = "192.168.1.0/24";
	err_has(create(f, "x", "fake", "192.168.0.0/16", NULL, &e), &e, EADDRINUSE,
		"192.168.0.0/16 overlaps a route of the host (dev eth9)");
	assert_int_equal(net_dirs(f), 1);
	/* a driver whose subnet the host does not route (macvlan) may use it */
	assert_int_equal(create(f, "lan", "fakelan", "192.168.0.0/16", &n, &e), 0);
	net_network_clear(&n);
	assert_int_equal(net_dirs(f), 2);

	/* --ip-range and --gateway */
	o.subnet = "10.30.0.0/16";
	o.ip_range = "10.30.8.0/24";
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	net_addr_format(&n.pool.gateway, a);
	/* the range's first address (net/cidr.h: Docker's IPAM hands the
	 * gateway out of the range; 10.30.8.0 is not the subnet's network
	 * address, so it is a host address) */
	assert_string_equal(a, "10.30.8.0");
	assert_int_equal(n.pool.range.bits, 24);
	net_network_clear(&n);
	o.name = "g";
	o.subnet = "10.31.0.0/16";
	o.ip_range = NULL;
	o.gateway = "10.31.255.254";
	o.internal = true;
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	net_addr_format(&n.pool.gateway, a);
	assert_string_equal(a, "10.31.255.254");
	assert_true(n.internal);
	net_network_clear(&n);
	assert_int_equal(net_dirs(f), 4); /* first, lan, and the two above */
}

/* What is wrong with the request is said before anything is looked up,
 * created or even locked: ROOT/networks does not appear. */
static void test_refused_before_anything(void **state)
{
	const struct {
		struct engine_network_create_opts o;
		int code;
		const char *msg;
	} cases[] = {
	    {{.name = "../x"}, EINVAL, "invalid network name \"../x\""},
	    {{.name = ""}, EINVAL, "invalid network name"},
	    {{.name = NULL}, EINVAL, "invalid network name"},
	    {{.name = "a b"}, EINVAL, "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
	    {{.name = "bridge"}, EPERM, "operation is not permitted on predefined bridge network"},
	    {{.name = "host"}, EPERM, "operation is not permitted on predefined host network"},
	    {{.name = "none"}, EPERM, "predefined none network"},
	    {{.name = "default"}, EPERM, "predefined default network"},
	    {{.name = "n", .gateway = "10.1.0.1"},
	     EINVAL,
	     "every ip-range or gateway must have a corresponding subnet"},
	    {{.name = "n", .ip_range = "10.1.0.0/24"}, EINVAL, "corresponding subnet"},
	    {{.name = "n", .subnet = "10.1.0.0"}, EINVAL, "invalid subnet 10.1.0.0: invalid CIDR"},
	    {{.name = "n", .subnet = "10.1.2.3/16"}, EINVAL, "it should be 10.1.0.0/16"},
	    {{.name = "n", .subnet = "300.1.0.0/16"}, EINVAL, "invalid CIDR block notation"},
	    {{.name = "n", .subnet = "fd00::/64"}, EINVAL, "IPv4 only for now"},
	    {{.name = "n", .subnet = "10.1.0.0/16", .gateway = "10.2.0.1"},
	     EINVAL,
	     "invalid gateway 10.2.0.1: parent subnet 10.1.0.0/16 doesn't contain this address"},
	    {{.name = "n", .subnet = "10.1.0.0/16", .gateway = "10.1.0.0"},
	     EINVAL,
	     "network address"},
	    {{.name = "n", .subnet = "10.1.0.0/16", .gateway = "nope"},
	     EINVAL,
	     "invalid gateway: invalid IP address: nope"},
	    {{.name = "n", .subnet = "10.1.0.0/16", .ip_range = "10.2.0.0/24"},
	     EINVAL,
	     "invalid ip-range 10.2.0.0/24: parent subnet 10.1.0.0/16 doesn't contain ip-range"},
	    {{.name = "n", .subnet = "10.1.0.0/16", .ip_range = "10.0.0.0/8"},
	     EINVAL,
	     "bigger than its parent subnet"},
	    {{.name = "n", .driver = "nope"}, ENOENT, "plugin \"nope\" not found"},
	    {{.name = "n", .labels = (char *[]){"novalue", NULL}}, EINVAL, "invalid label"},
	    {{.name = "n", .labels = (char *[]){"=v", NULL}}, EINVAL, "invalid label"},
	    {{.name = "n", .options = (char *[]){"a=1", "a=2", NULL}},
	     EINVAL,
	     "option \"a\" is given twice"},
	};
	struct fixture *f = *state;
	struct net_network n;
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct engine_network_create_opts o = cases[i].o;

		if (!o.driver)
			o.driver = "fake";
		err_has(engine_network_create(&f->c, &env, &o, &n, &e), &e, cases[i].code,
			cases[i].msg);
		assert_true(all_zero(&n, sizeof(n)));
	}
	assert_int_equal(net_dirs(f), -1);
	assert_int_equal(fake_checks + fake_creates + route_calls, 0);
}

/* Under the lock: a taken name, the driver's check, the driver's create. */
static void test_refused_under_lock(void **state)
{
	struct fixture *f = *state;
	struct engine_network_create_opts o = {
	    .name = "opts", .driver = "fake", .options = (char *[]){"ok=1", "mtu=9000", NULL}};
	struct net_network n;
	struct err *e = NULL;

	create_ok(f, "web", NULL, NULL);
	assert_int_equal(net_dirs(f), 1);
	err_has(create(f, "web", "fake", NULL, NULL, &e), &e, EEXIST,
		"network with name web already exists");
	err_has(create(f, "web", "fakebridge", NULL, NULL, &e), &e, ENOENT, "plugin");
	/* the driver refuses an option: nothing is made */
	err_has(engine_network_create(&f->c, &env, &o, &n, &e), &e, EINVAL,
		"fake driver: unknown option \"mtu\"");
	assert_int_equal(fake_creates, 1);
	o.options = (char *[]){"ok=1", NULL};
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	assert_string_equal(n.options[0], "ok=1");
	net_network_clear(&n);
	/* none and host have one network each */
	err_has(create(f, "n2", "none", NULL, NULL, &e), &e, EPERM,
		"only one instance of \"none\" network is allowed");
	err_has(create(f, "h2", "host", NULL, NULL, &e), &e, EPERM,
		"only one instance of \"host\" network is allowed");
	/* the driver fails to create: the record goes again */
	fake_create_fails = true;
	err_has(create(f, "broken", "fake", NULL, NULL, &e), &e, EIO,
		"create network broken: fake create failed");
	assert_int_equal(net_dirs(f), 2);
	fake_create_fails = false;
	err_has(engine_network_inspect(&f->c, "broken", &n, &e), &e, ENOENT, "not found");
	/* and its pool is free again */
	create_ok(f, "fixed", NULL, &n);
	subnet_is(&n, "10.89.2.0/24");
	net_network_clear(&n);
}

static void test_bridge_name_and_rootless(void **state)
{
	struct fixture *f = *state;
	struct engine_network_create_opts o = {.name = "br2", .driver = "bridge"};
	struct net_network n, other;
	struct err *e = NULL;
	char want[IFNAMSIZ];

	assert_int_equal(create(f, "br", "bridge", NULL, &n, &e), 0);
	snprintf(want, sizeof(want), "moat-%.10s", n.id);
	assert_string_equal(n.bridge, want);
	net_network_clear(&n);
	/* one bridge, one network: a name taken by another, or the default's */
	o.options = (char *[]){"br=mybr0", NULL};
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	assert_string_equal(n.bridge, "mybr0");
	net_network_clear(&n);
	o.name = "br3";
	err_has(engine_network_create(&f->c, &env, &o, &n, &e), &e, EEXIST,
		"bridge name mybr0 is already used by network br2");
	o.options = (char *[]){"br=moat0", NULL};
	err_has(engine_network_create(&f->c, &env, &o, &n, &e), &e, EEXIST,
		"bridge name moat0 is already used by network bridge");
	assert_int_equal(net_dirs(f), 2);
	assert_int_equal(fake_creates, 2);
	/* a driver that needs root, asked for rootless: the reason, and
	 * nothing looked at or made */
	f->c.rootless = true;
	assert_int_equal(create(f, "r", "fakeroot", NULL, NULL, &e), -EPERM);
	assert_int_equal(e->exit, 125); /* a limit of moat's, not a refusal */
	err_has(-EPERM, &e, EPERM, "fakeroot networks need root for now");
	assert_int_equal(net_dirs(f), 2);
	/* the same caller may still use drivers that do not */
	create_ok(f, "mine", NULL, &other);
	net_network_clear(&other);
	/* and cannot remove what a root-only driver made */
	f->c.rootless = false;
	assert_int_equal(create(f, "rootnet", "fakeroot", NULL, &n, &e), 0);
	f->c.rootless = true;
	err_has(engine_network_remove(&f->c, &env, "rootnet", false, NULL, &e), &e, EPERM,
		"fakeroot networks need root for now");
	assert_int_equal(fake_removes, 0);
	f->c.rootless = false;
	assert_int_equal(engine_network_remove(&f->c, &env, "rootnet", false, NULL, &e), 0);
	net_network_clear(&n);
}

static void test_predefined(void **state)
{
	struct fixture *f = *state;
	struct net_network none, again, host, def, def2, *v = NULL;
	struct err *e = NULL;
	char **gone = NULL;
	size_t nv = 0;

	/* none and host exist without a record, with stable ids */
	assert_int_equal(engine_network_inspect(&f->c, "none", &none, &e), 0);
	assert_string_equal(none.driver, "none");
	assert_false(none.has_pool);
	assert_int_equal(strlen(none.id), 64);
	assert_int_equal(engine_network_inspect(&f->c, none.id, &again, &e), 0);
	assert_string_equal(again.name, "none");
	net_network_clear(&again);
	assert_int_equal(engine_network_inspect(&f->c, "host", &host, &e), 0);
	assert_string_equal(host.driver, "host");
	assert_string_not_equal(host.id, none.id);
	assert_int_equal(net_dirs(f), -1); /* reading made nothing */
	err_has(engine_network_inspect(&f->c, "bridge", &again, &e), &e, ENOENT, "not found");

	/* none of the three goes, by name or id, -f or not */
	err_has(engine_network_remove(&f->c, &env, "none", false, NULL, &e), &e, EPERM,
		"none is a pre-defined network and cannot be removed");
	err_has(engine_network_remove(&f->c, &env, host.id, true, NULL, &e), &e, EPERM,
		"host is a pre-defined network and cannot be removed");
	err_has(engine_network_remove(&f->c, &env, "bridge", true, NULL, &e), &e, EPERM,
		"bridge is a pre-defined network and cannot be removed");

	/* the default network: made once, then the same */
	assert_int_equal(engine_network_default(&f->c, &def, &e), 0);
	assert_string_equal(def.name, "bridge");
	assert_string_equal(def.driver, "bridge");
	assert_string_equal(def.bridge, "moat0");
	assert_false(def.dns);
	subnet_is(&def, "10.88.0.0/16");
	assert_true(net_addr_equal(&def.pool.gateway,
				   &(struct net_addr){.family = AF_INET, .b = {10, 88, 0, 1}}));
	assert_int_equal(fake_creates, 0); /* the record only */
	assert_int_equal(engine_network_default(&f->c, &def2, &e), 0);
	assert_string_equal(def2.id, def.id);
	net_network_clear(&def2);
	assert_int_equal(net_dirs(f), 1);
	assert_int_equal(engine_network_list(&f->c, &v, &nv, &e), 0);
	assert_int_equal(nv, 3);
	assert_string_equal(v[2].name, "bridge");
	net_network_list_free(v, nv);
	err_has(engine_network_remove(&f->c, &env, def.id, false, NULL, &e), &e, EPERM,
		"bridge is a pre-defined network");
	/* prune leaves it */
	assert_int_equal(engine_network_prune(&f->c, &env, NULL, &gone, &e), 0);
	assert_null(gone[0]);
	strvfree(gone);
	assert_int_equal(engine_network_inspect(&f->c, "bridge", &def2, &e), 0);
	net_network_clear(&def2);
	/* its pool is taken like any other's */
	err_has(create(f, "x", "fake", "10.88.0.0/24", NULL, &e), &e, EADDRINUSE,
		"of network bridge");
	net_network_clear(&def);
	net_network_clear(&none);
	net_network_clear(&host);
}

static void test_in_use(void **state)
{
	struct fixture *f = *state;
	struct net_network web, db, old;
	struct err *e = NULL;
	char **ids = NULL, **gone = NULL, msg[256];

	create_ok(f, "web", NULL, &web);
	create_ok(f, "db", NULL, &db);
	create_ok(f, "old", NULL, &old);
	/* a container that joined web (by id), one that names old by name
	 * only (a record from before ids were kept), one on "none" */
	make_container(f, CTR1, "web", web.id);
	make_container(f, CTR2, "old", NULL);
	make_container(f, CTR3, "none", NULL);
	assert_int_equal(engine_network_users(&f->c, &web, &ids, &e), 0);
	assert_non_null(ids[0]);
	assert_string_equal(ids[0], CTR1);
	assert_null(ids[1]);
	strvfree(ids);
	assert_int_equal(engine_network_users(&f->c, &db, &ids, &e), 0);
	assert_null(ids[0]);
	strvfree(ids);

	snprintf(msg, sizeof(msg),
		 "error while removing network: network web id %s has active endpoints", web.id);
	assert_int_equal(engine_network_remove(&f->c, &env, "web", false, NULL, &e), -EBUSY);
	assert_int_equal(e->exit, 0);
	err_has(-EBUSY, &e, EBUSY, msg);
	err_has(engine_network_remove(&f->c, &env, "web", true, NULL, &e), &e, EBUSY, msg);
	err_has(engine_network_remove(&f->c, &env, "old", false, NULL, &e), &e, EBUSY,
		"network old id");
	assert_int_equal(fake_removes, 0);
	/* prune takes only db */
	assert_int_equal(engine_network_prune(&f->c, &env, NULL, &gone, &e), 0);
	assert_non_null(gone[0]);
	assert_string_equal(gone[0], "db");
	assert_null(gone[1]);
	strvfree(gone);
	assert_int_equal(net_dirs(f), 2);
	/* the containers go: so can the networks */
	drop_container(f, CTR1);
	drop_container(f, CTR2);
	assert_int_equal(engine_network_remove(&f->c, &env, "web", false, NULL, &e), 0);
	assert_int_equal(engine_network_remove(&f->c, &env, old.id, false, NULL, &e), 0);
	assert_int_equal(net_dirs(f), 0);
	net_network_clear(&web);
	net_network_clear(&db);
	net_network_clear(&old);
}

static void test_uses(void **state)
{
	struct container_record r = {0};
	struct net_network a = {.id = ID1, .name = "a"}, b = {.name = "b"};

	(void)state;
	memset(b.id, 'b', NET_ID_HEX);
	r.net = (char *)"a";
	assert_true(engine_network_uses(&r, &a));
	assert_false(engine_network_uses(&r, &b));
	/* once an id is recorded it decides, not the name */
	r.netreq.network_id = b.id;
	assert_false(engine_network_uses(&r, &a));
	assert_true(engine_network_uses(&r, &b));
	r.net = NULL;
	r.netreq.network_id = NULL;
	assert_false(engine_network_uses(&r, &a));
}

static void test_prune_filters(void **state)
{
	struct fixture *f = *state;
	struct engine_network_create_opts o = {.driver = "fake"};
	struct prune_filter flt;
	struct prune_clock clk = {.now_ns = (int64_t)time(NULL) * 1000000000LL};
	struct net_network n;
	struct err *e = NULL;
	char **gone = NULL;

	o.name = "keep1";
	o.labels = (char *[]){"keep=1", NULL};
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	net_network_clear(&n);
	o.name = "keep0";
	o.labels = (char *[]){"keep=0", NULL};
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	net_network_clear(&n);
	o.name = "plain";
	o.labels = NULL;
	assert_int_equal(engine_network_create(&f->c, &env, &o, &n, &e), 0);
	net_network_clear(&n);

	/* until=1h: all were made after it, none goes */
	assert_int_equal(
	    prune_filter_parse((char *[]){"until=1h"}, 1, PRUNE_CONTAINERS, false, &clk, &flt, &e),
	    0);
	assert_int_equal(engine_network_prune(&f->c, &env, &flt, &gone, &e), 0);
	assert_null(gone[0]);
	strvfree(gone);
	prune_filter_clear(&flt);
	/* label=keep=1 */
	assert_int_equal(prune_filter_parse((char *[]){"label=keep=1"}, 1, PRUNE_CONTAINERS, false,
					    &clk, &flt, &e),
			 0);
	assert_int_equal(engine_network_prune(&f->c, &env, &flt, &gone, &e), 0);
	assert_string_equal(gone[0], "keep1");
	assert_null(gone[1]);
	strvfree(gone);
	prune_filter_clear(&flt);
	/* label!=keep */
	assert_int_equal(prune_filter_parse((char *[]){"label!=keep"}, 1, PRUNE_CONTAINERS, false,
					    &clk, &flt, &e),
			 0);
	assert_int_equal(engine_network_prune(&f->c, &env, &flt, &gone, &e), 0);
	assert_string_equal(gone[0], "plain");
	assert_null(gone[1]);
	strvfree(gone);
	prune_filter_clear(&flt);
	/* a driver that fails to remove: a warning, the rest goes on */
	fake_remove_fails = true;
	assert_int_equal(engine_network_prune(&f->c, &env, NULL, &gone, &e), 0);
	assert_null(gone[0]);
	strvfree(gone);
	assert_int_equal(net_dirs(f), 1);
	fake_remove_fails = false;
	assert_int_equal(engine_network_prune(&f->c, &env, NULL, &gone, &e), 0);
	assert_string_equal(gone[0], "keep0");
	strvfree(gone);
	assert_int_equal(net_dirs(f), 0);
	/* nothing there at all */
	fs_rm_rf_at(AT_FDCWD, f->root, NULL);
	assert_int_equal(mkdir(f->root, 0700), 0);
	assert_int_equal(engine_network_prune(&f->c, &env, NULL, &gone, &e), 0);
	assert_null(gone[0]);
	strvfree(gone);
}

/* Writes a record for ID named NAME straight into ROOT/networks. */
static void plant(struct fixture *f, const char *id, const char *name)
{
	struct net_network n = {.created = 1, .dns = true};
	char dir[256], *buf = NULL;
	struct err *e = NULL;
	size_t len = 0;
	FILE *fp;

	snprintf(n.id, sizeof(n.id), "%s", id);
	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.driver, sizeof(n.driver), "fake");
	assert_int_equal(net_network_encode(&n, &buf, &len, &e), 0);
	snprintf(dir, sizeof(dir), "%s/networks/%s", f->root, id);
	assert_int_equal(fs_mkdir_p(dir, 0700, &e), 0);
	snprintf(dir, sizeof(dir), "%s/networks/%s/network.json", f->root, id);
	assert_non_null(fp = fopen(dir, "w"));
	fwrite(buf, 1, len, fp);
	fclose(fp);
	free(buf);
}

static void test_lookup_order_and_debris(void **state)
{
	struct fixture *f = *state;
	const char *a = "aaaa000000000000000000000000000000000000000000000000000000000001";
	const char *b = "aaaa000000000000000000000000000000000000000000000000000000000002";
	struct net_network n, *v = NULL;
	struct err *e = NULL;
	char dir[256], pre[64];
	size_t nv = 0;
	FILE *fp;

	plant(f, a, "one");
	/* a network named like the other's id prefix */
	plant(f, b, "aaaa0");
	/* a prefix two ids share: ambiguous; unless it is a name */
	err_has(engine_network_inspect(&f->c, "aaaa", &n, &e), &e, EINVAL,
		"network aaaa is ambiguous (2 matches found based on ID prefix)");
	assert_int_equal(engine_network_inspect(&f->c, "aaaa0", &n, &e), 0);
	assert_string_equal(n.id, b);
	net_network_clear(&n);
	assert_int_equal(engine_network_inspect(&f->c, a, &n, &e), 0);
	assert_string_equal(n.name, "one");
	net_network_clear(&n);
	/* 63 digits the two share: still a prefix, still ambiguous */
	snprintf(pre, sizeof(pre), "%.63s", a);
	err_has(engine_network_inspect(&f->c, pre, &n, &e), &e, EINVAL, "ambiguous");
	/* hex only: a prefix is never a pattern */
	err_has(engine_network_inspect(&f->c, "aaaa.", &n, &e), &e, ENOENT, "not found");
	err_has(engine_network_remove(&f->c, &env, "aaaa", false, NULL, &e), &e, EINVAL,
		"ambiguous");

	/* debris (no record) and a record that does not decode */
	snprintf(dir, sizeof(dir), "%s/networks/%s", f->root,
		 "dddd000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/networks/%s", f->root,
		 "eeee000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(mkdir(dir, 0700), 0);
	strcat(dir, "/network.json");
	assert_non_null(fp = fopen(dir, "w"));
	fputs("{\"from\":\"the future\"}", fp);
	fclose(fp);
	assert_int_equal(engine_network_list(&f->c, &v, &nv, &e), 0);
	assert_int_equal(nv, 4); /* none, host, aaaa0, one */
	net_network_list_free(v, nv);
	/* a create clears the debris, keeps the bad record */
	create_ok(f, "new", NULL, NULL);
	snprintf(dir, sizeof(dir), "%s/networks/%s", f->root,
		 "dddd000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(access(dir, F_OK), -1);
	snprintf(dir, sizeof(dir), "%s/networks/%s/network.json", f->root,
		 "eeee000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(access(dir, F_OK), 0);
	/* a record under another id's directory is not that network */
	snprintf(dir, sizeof(dir), "%s/networks/%s/network.json", f->root, a);
	unlink(dir);
	plant(f, b, "moved");
	{
		char from[256], to[256];

		snprintf(from, sizeof(from), "%s/networks/%s/network.json", f->root, b);
		snprintf(to, sizeof(to), "%s/networks/%s/network.json", f->root, a);
		assert_int_equal(rename(from, to), 0);
	}
	err_has(engine_network_inspect(&f->c, "moved", &n, &e), &e, ENOENT, "not found");
}

/* Two processes creating one name at once make one network: the second
 * sees the first's record under the lock. Different names get different
 * pools. */
static void test_concurrent_creates(void **state)
{
	struct fixture *f = *state;
	struct net_network *v = NULL;
	struct err *e = NULL;
	pid_t kids[8];
	int ok = 0, taken = 0;
	size_t nv = 0;

	for (int i = 0; i < 8; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct err *ce = NULL;
			int r = create(f, "same", "fake", NULL, NULL, &ce);

			_exit(r == 0 ? 0 : r == -EEXIST ? 3 : 4);
		}
	}
	for (int i = 0; i < 8; i++) {
		int st = 0;

		assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
		assert_true(WIFEXITED(st));
		ok += WEXITSTATUS(st) == 0;
		taken += WEXITSTATUS(st) == 3;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(taken, 7);
	assert_int_equal(net_dirs(f), 1);

	for (int i = 0; i < 8; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			char name[16];
			struct err *ce = NULL;

			snprintf(name, sizeof(name), "n%d", i);
			_exit(create(f, name, "fake", NULL, NULL, &ce) == 0 ? 0 : 4);
		}
	}
	for (int i = 0; i < 8; i++) {
		int st = 0;

		assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(engine_network_list(&f->c, &v, &nv, &e), 0);
	assert_int_equal(nv, 2 + 9);
	for (size_t i = 2; i < nv; i++)
		for (size_t j = i + 1; j < nv; j++)
			assert_false(net_cidr_overlap(&v[i].pool.subnet, &v[j].pool.subnet));
	net_network_list_free(v, nv);
}

static void test_leases(void **state)
{
	struct fixture *f = *state;
	struct net_network n, none;
	struct net_ipam *ipam = NULL;
	struct net_addr got;
	struct err *e = NULL;
	char a[NET_ADDR_TEXT_MAX], path[256];

	create_ok(f, "web", NULL, &n);
	assert_int_equal(engine_network_ipam_open(&f->c, &n, &ipam, &e), 0);
	assert_int_equal(net_ipam_allocate(ipam, CTR1, NULL, &got, &e), 0);
	net_addr_format(&got, a);
	assert_string_equal(a, "10.89.0.2"); /* .1 is the gateway */
	net_ipam_close(ipam);
	snprintf(path, sizeof(path), "%s/networks/%s/leases/10.89.0.2", f->root, n.id);
	assert_int_equal(access(path, F_OK), 0);
	/* the leases go with the network */
	assert_int_equal(engine_network_remove(&f->c, &env, "web", false, NULL, &e), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(engine_network_inspect(&f->c, "none", &none, &e), 0);
	err_has(engine_network_ipam_open(&f->c, &none, &ipam, &e), &e, EINVAL, "no address pool");
	net_network_clear(&none);
	net_network_clear(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_exact),
	    cmocka_unit_test(test_driver_keys_round_trip),
	    cmocka_unit_test(test_decode_normalises),
	    cmocka_unit_test(test_decode_refusals),
	    cmocka_unit_test(test_encode_refusals),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_driver_table),
	    cmocka_unit_test(test_uses),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_create_inspect_list_remove),
	    T(test_pool_choice),
	    T(test_given_pool),
	    T(test_refused_before_anything),
	    T(test_refused_under_lock),
	    T(test_bridge_name_and_rootless),
	    T(test_predefined),
	    T(test_in_use),
	    T(test_prune_filters),
	    T(test_lookup_order_and_debris),
	    T(test_concurrent_creates),
	    T(test_leases),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

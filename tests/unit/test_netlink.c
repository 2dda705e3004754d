/*
 * tests/unit/test_netlink.c - net/netlink*.c against the real kernel:
 * names and lookups, bridges (EEXIST, up/down, MTU, MAC, rename), veth
 * pairs with the peer created in another namespace by fd and the host side
 * enslaved (and what a failed create must leave: nothing), masters,
 * IPv4/IPv6 addresses with broadcast, routes (default, via, on-link, an
 * unreachable gateway with the kernel's extended ack), the route overlap
 * check, macvlans in every mode into another namespace, vxlan devices, FDB
 * and neighbour entries, idempotent deletes, link listing (a dump spanning
 * many datagrams; a callback using the handle), and a handle that stays in
 * its namespace after setns().
 *
 * Runs as: root or any user. Every test forks a child that enters a fresh
 * network namespace (as root) or a fresh user+network namespace (as
 * another user) and does its work there, so nothing touches the host's
 * own network; the child reports through its exit status. The child uses
 * its own CHECK macros (cmocka's asserts would jump into the parent's
 * state) and explains a failure on stderr. What the kernel did is checked
 * independently of the code under test where possible: ioctl() for flags,
 * MTU and MAC, if_nametoindex(), and iproute2's ip/bridge for masters,
 * addresses, routes, neighbours and FDB entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <net/if.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "net/cidr.h"
#include "net/netlink.h"

/* The child's exit status for "namespaces are not available here". */
#define SKIP_STATUS 77

/* ---- checks inside the child: print where and why, then fail ---- */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                                \
		}                                                                                \
	} while (0)

/* EXPR (which reports into the local `err`) must succeed. */
#define OK(expr)                                                                                  \
	do {                                                                                      \
		int r_ = (expr);                                                                  \
		if (r_ < 0) {                                                                     \
			fprintf(stderr, "%s:%d: %s failed (%d): %s\n", __FILE__, __LINE__, #expr, \
				r_, err ? err->msg : "(no message)");                             \
			return 1;                                                                 \
		}                                                                                 \
		err_free(&err);                                                                   \
	} while (0)

/* EXPR must fail with -CODE and a message containing TEXT. */
#define FAILS(expr, code, text)                                                            \
	do {                                                                               \
		int r_ = (expr);                                                           \
		if (r_ != -(code) || !err || !strstr(err->msg, (text))) {                  \
			fprintf(stderr, "%s:%d: %s: want %d with \"%s\", got %d \"%s\"\n", \
				__FILE__, __LINE__, #expr, -(code), (text), r_,            \
				err ? err->msg : "(no message)");                          \
			return 1;                                                          \
		}                                                                          \
		err_free(&err);                                                            \
	} while (0)

/* ---- the namespace a test runs in ---- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Enters a fresh network namespace (with a user namespace unless root).
 * Returns 0, SKIP_STATUS when the kernel refuses namespaces, or 1. */
static int enter_netns(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (uid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
			return SKIP_STATUS;
		}
		return 0;
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"skipped: unprivileged user namespaces unavailable: "
			"unshare(CLONE_NEWUSER|CLONE_NEWNET): %s\n",
			strerror(errno));
		return SKIP_STATUS;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	CHECK(write_file("/proc/self/setgroups", "deny") == 0);
	CHECK(write_file("/proc/self/uid_map", map) == 0);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	CHECK(write_file("/proc/self/gid_map", map) == 0);
	return 0;
}

/* Runs BODY in a child inside its own namespaces; the test passes when it
 * returns 0, is skipped when namespaces are unavailable. */
static void run(int (*body)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r = enter_netns();

		if (r == 0)
			r = body() ? 1 : 0;
		fflush(stderr);
		/* exit, not _exit: under ASan the leak check runs in the child */
		exit(r);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS)
		skip();
	if (!WIFEXITED(status))
		print_error("child killed by signal %d\n", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A second network namespace: HOME is the one the test runs in, OTHER a
 * fresh one (owned by the same user namespace). The child stays in HOME. */
struct two {
	int home;
	int other;
};

static int two_open(struct two *t)
{
	t->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home < 0 || unshare(CLONE_NEWNET) < 0)
		return -1;
	t->other = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->other < 0 || setns(t->home, CLONE_NEWNET) < 0)
		return -1;
	return 0;
}

static int go(int nsfd)
{
	return setns(nsfd, CLONE_NEWNET);
}

/* ---- independent views of the kernel's state ---- */

static int ifreq_get(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (s < 0)
		return -1;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	r = ioctl(s, req, ifr);
	close(s);
	return r;
}

/* NAME's flags, or -1 when there is no such interface. */
static int if_flags(const char *name)
{
	struct ifreq ifr;

	return ifreq_get(name, SIOCGIFFLAGS, &ifr) < 0 ? -1 : (int)(unsigned short)ifr.ifr_flags;
}

static int if_mtu(const char *name)
{
	struct ifreq ifr;

	return ifreq_get(name, SIOCGIFMTU, &ifr) < 0 ? -1 : ifr.ifr_mtu;
}

static bool if_mac_is(const char *name, const uint8_t mac[6])
{
	struct ifreq ifr;

	return ifreq_get(name, SIOCGIFHWADDR, &ifr) == 0 && !memcmp(ifr.ifr_hwaddr.sa_data, mac, 6);
}

/* iproute2's TOOL ("ip" or "bridge") with ARGS, run in the current
 * network namespace; its output into OUT. */
static int tool(const char *name, const char *args, char *out, size_t size)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	char path[64] = "", cmd[512];
	size_t n;
	FILE *f;

	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !path[0]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) < 0)
			path[0] = 0;
	}
	if (!path[0]) {
		fprintf(stderr, "iproute2's %s is not installed (tools/deps.sh installs it)\n",
			name);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", path, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, size - 1, f);
	out[n] = 0;
	return pclose(f) == 0 ? 0 : -1;
}

/* TOOL ARGS ran and its output contains TEXT; says what it saw if not. */
static bool shows(const char *name, const char *args, const char *text)
{
	char out[16384];

	if (tool(name, args, out, sizeof(out)) < 0) {
		fprintf(stderr, "%s %s failed: %s\n", name, args, out);
		return false;
	}
	if (strstr(out, text))
		return true;
	fprintf(stderr, "\"%s %s\" does not show \"%s\":\n%s", name, args, text, out);
	return false;
}

/* TOOL ARGS ran and its output does not contain TEXT. */
static bool lacks(const char *name, const char *args, const char *text)
{
	char out[16384];

	if (tool(name, args, out, sizeof(out)) < 0) {
		fprintf(stderr, "%s %s failed: %s\n", name, args, out);
		return false;
	}
	if (!strstr(out, text))
		return true;
	fprintf(stderr, "\"%s %s\" shows \"%s\":\n%s", name, args, text, out);
	return false;
}

/* The line of TOOL ARGS's output that contains TEXT into LINE ("" if none). */
static void line_of(const char *name, const char *args, const char *text, char *line, size_t size)
{
	char out[16384];
	const char *p, *end;

	line[0] = 0;
	if (tool(name, args, out, sizeof(out)) < 0 || !(p = strstr(out, text)))
		return;
	while (p > out && p[-1] != '\n')
		p--;
	end = strchr(p, '\n');
	snprintf(line, size, "%.*s", (int)(end ? end - p : (ptrdiff_t)strlen(p)), p);
}

static struct net_addr addr(const char *s)
{
	struct net_addr a = {0};

	if (net_addr_parse(s, &a, NULL) < 0)
		fprintf(stderr, "bad test address %s\n", s);
	return a;
}

static struct net_cidr cidr(const char *s)
{
	struct net_cidr c = {0};

	if (net_cidr_parse(s, "test", &c, NULL) < 0)
		fprintf(stderr, "bad test block %s\n", s);
	return c;
}

/* A veth pair A/B in this namespace, both up; A's ifindex. */
static int veth_up(struct net_nl *nl, const char *a, const char *b)
{
	struct err *err = NULL;
	int ia, ib;

	ia = net_nl_veth_create(nl, a, b, -1, 0, NULL, 0, &err);
	if (ia < 0) {
		fprintf(stderr, "veth %s/%s: %s\n", a, b, err->msg);
		err_free(&err);
		return -1;
	}
	ib = net_nl_ifindex(nl, b, &err);
	if (ib < 0 || net_nl_link_set_up(nl, ib, true, &err) < 0) {
		fprintf(stderr, "veth %s/%s: %s\n", a, b, err ? err->msg : "?");
		err_free(&err);
		return -1;
	}
	return ia;
}

/* What net_nl_link_list reported for one name. */
struct seen {
	const char *name;
	int ifindex;
	char kind[32];
	int master;
	int calls;
};

struct seen_set {
	struct seen *v;
	size_t n;
	int total;
};

static int record(const char *name, int ifindex, const char *kind, int master, void *data,
		  struct err **err)
{
	struct seen_set *s = data;

	s->total++;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, name))
			continue;
		s->v[i].ifindex = ifindex;
		snprintf(s->v[i].kind, sizeof(s->v[i].kind), "%s", kind);
		s->v[i].master = master;
		s->v[i].calls++;
	}
	return 0;
}

/* NAME's master by net_nl_link_list (-1: not listed). */
static int master_of(struct net_nl *nl, const char *name)
{
	struct seen one = {.name = name};
	struct seen_set s = {&one, 1, 0};
	struct err *err = NULL;

	if (net_nl_link_list(nl, record, &s, &err) < 0) {
		fprintf(stderr, "list: %s\n", err->msg);
		err_free(&err);
		return -1;
	}
	return one.calls == 1 ? one.master : -1;
}

/* ------------------------------------------------------------- tests */

static int names_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	static const char long16[] = "abcdefghijklmnop", max15[] = "abcdefghijklmno";
	/* "\240" is 0xa0, which the kernel's isspace() counts */
	static const char *const bad[] = {"",	 ".",	 "..",	 "a/b",	  "a:b",
					  "a b", "a\tb", "a\nb", "a\240b"};
	char kind[16];
	int lo, r;

	OK(net_nl_open(&nl, &err));
	OK(lo = net_nl_ifindex(nl, "lo", &err));
	CHECK(lo == (int)if_nametoindex("lo"));
	FAILS(net_nl_ifindex(nl, "nosuch0", &err), ENODEV, "\"nosuch0\"");
	OK(net_nl_link_kind(nl, "lo", kind, sizeof(kind), &err));
	CHECK(!strcmp(kind, ""));
	FAILS(net_nl_link_kind(nl, "nosuch0", kind, sizeof(kind), &err), ENODEV, "nosuch0");

	CHECK(net_nl_name_valid("eth0") && net_nl_name_valid(max15) && net_nl_name_valid("x"));
	CHECK(!net_nl_name_valid(long16) && !net_nl_name_valid(NULL));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK(!net_nl_name_valid(bad[i]));
		FAILS(net_nl_bridge_create(nl, bad[i], NULL, &err), EINVAL, "create bridge");
	}
	/* Over-long names are refused here, by our own message (the kernel's
	 * would be an extended ack), whatever the call. */
	FAILS(net_nl_ifindex(nl, long16, &err), EINVAL, "longer than 15 bytes");
	FAILS(net_nl_link_kind(nl, long16, kind, sizeof(kind), &err), EINVAL, "longer than 15");
	FAILS(net_nl_link_del(nl, long16, &err), EINVAL, "longer than 15 bytes");
	FAILS(net_nl_bridge_create(nl, long16, NULL, &err), EINVAL, "longer than 15 bytes");
	FAILS(net_nl_veth_create(nl, long16, "eth0", -1, 0, NULL, 0, &err), EINVAL,
	      "longer than 15 bytes");
	FAILS(net_nl_veth_create(nl, "vh0", long16, -1, 0, NULL, 0, &err), EINVAL,
	      "create veth \"vh0\": interface name \"abcdefghijklmnop\" is longer than 15 bytes");
	FAILS(net_nl_macvlan_create(nl, long16, lo, NET_MACVLAN_BRIDGE, -1, NULL, &err), EINVAL,
	      "longer than 15 bytes");
	FAILS(net_nl_vxlan_create(nl, long16, 1, NULL, 0, 0, &err), EINVAL, "longer than 15");
	FAILS(net_nl_link_rename(nl, lo, long16, &err), EINVAL, "longer than 15 bytes");
	FAILS(net_nl_ifindex(nl, NULL, &err), EINVAL, "empty interface name");
	/* Nothing was created under the name cut to 15 bytes. */
	FAILS(net_nl_ifindex(nl, max15, &err), ENODEV, max15);
	CHECK(if_nametoindex("vh0") == 0);

	/* The longest valid name works. */
	OK(r = net_nl_bridge_create(nl, max15, NULL, &err));
	CHECK(r == (int)if_nametoindex(max15));
	OK(net_nl_link_kind(nl, max15, kind, sizeof(kind), &err));
	CHECK(!strcmp(kind, "bridge"));
	FAILS(net_nl_link_kind(nl, max15, kind, 6, &err), ERANGE, "\"bridge\"");
	OK(net_nl_link_kind(nl, max15, kind, 7, &err));
	return 0;
}

static void test_names_and_lookup(void **state)
{
	run(names_body);
}

static int bridge_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	static const uint8_t mac[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x01};
	static const uint8_t mac2[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
	char kind[16];
	int br, br2;

	OK(net_nl_open(&nl, &err));
	OK(br = net_nl_bridge_create(nl, "br0", mac, &err));
	CHECK(br > 0 && br == (int)if_nametoindex("br0"));
	OK(net_nl_ifindex(nl, "br0", &err) == br ? 0 : -1);
	CHECK(if_mac_is("br0", mac));
	OK(net_nl_link_kind(nl, "br0", kind, sizeof(kind), &err));
	CHECK(!strcmp(kind, "bridge"));
	/* EEXIST whether or not the second request asks for a MAC; the first
	 * bridge is left as it was. */
	FAILS(net_nl_bridge_create(nl, "br0", NULL, &err), EEXIST,
	      "create bridge \"br0\": File exists");
	FAILS(net_nl_bridge_create(nl, "br0", mac2, &err), EEXIST, "\"br0\"");
	CHECK(if_mac_is("br0", mac) && (int)if_nametoindex("br0") == br);

	CHECK(if_flags("br0") >= 0 && !(if_flags("br0") & IFF_UP));
	OK(net_nl_link_set_up(nl, br, true, &err));
	CHECK(if_flags("br0") & IFF_UP);
	OK(net_nl_link_set_up(nl, br, true, &err));
	CHECK(if_flags("br0") & IFF_UP);
	OK(net_nl_link_set_up(nl, br, false, &err));
	CHECK(!(if_flags("br0") & IFF_UP));

	OK(net_nl_link_set_mtu(nl, br, 1400, &err));
	CHECK(if_mtu("br0") == 1400);
	FAILS(net_nl_link_set_mtu(nl, br, 10, &err), EINVAL, "set MTU of \"br0\" to 10");
	CHECK(if_mtu("br0") == 1400);
	OK(net_nl_link_set_mac(nl, br, mac2, &err));
	CHECK(if_mac_is("br0", mac2));

	OK(net_nl_link_rename(nl, br, "br1", &err));
	CHECK(if_nametoindex("br0") == 0 && (int)if_nametoindex("br1") == br);
	FAILS(net_nl_ifindex(nl, "br0", &err), ENODEV, "\"br0\"");

	/* Without a MAC the kernel picks one; another index. */
	OK(br2 = net_nl_bridge_create(nl, "br2", NULL, &err));
	CHECK(br2 > 0 && br2 != br && (int)if_nametoindex("br2") == br2);
	FAILS(net_nl_link_rename(nl, br2, "br1", &err), EEXIST, "rename \"br2\" to \"br1\"");

	/* Index errors: ours for a bad index, the kernel's for a missing one,
	 * named by number since there is no name. */
	FAILS(net_nl_link_set_up(nl, 0, true, &err), EINVAL, "invalid interface index 0");
	FAILS(net_nl_link_set_up(nl, 99999, true, &err), ENODEV, "set interface 99999 up");
	FAILS(net_nl_link_set_mtu(nl, 99999, 1400, &err), ENODEV, "interface 99999");
	FAILS(net_nl_link_set_mac(nl, -3, mac, &err), EINVAL, "invalid interface index -3");
	return 0;
}

static void test_bridge(void **state)
{
	run(bridge_body);
}

static int veth_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL, *nl2 = NULL;
	struct err *err = NULL;
	static const uint8_t peer_mac[6] = {0x02, 0x42, 0x0a, 0x00, 0x00, 0x02};
	struct two t;
	char kind[16];
	struct seen want[] = {{.name = "veth0a"}, {.name = "va"}, {.name = "vb"}};
	struct seen_set s = {want, ARRAY_SIZE(want), 0};
	int br, host, va;

	CHECK(two_open(&t) == 0);
	OK(net_nl_open(&nl, &err));
	OK(br = net_nl_bridge_create(nl, "br0", NULL, &err));
	OK(host = net_nl_veth_create(nl, "veth0a", "eth0", t.other, br, peer_mac, 1450, &err));
	CHECK(host == (int)if_nametoindex("veth0a"));
	/* The host side: up, enslaved, with the MTU. */
	CHECK(if_flags("veth0a") & IFF_UP);
	CHECK(if_mtu("veth0a") == 1450);
	CHECK(shows("ip", "-o link show dev veth0a", "master br0"));
	CHECK(master_of(nl, "veth0a") == br);
	OK(net_nl_link_kind(nl, "veth0a", kind, sizeof(kind), &err));
	CHECK(!strcmp(kind, "veth"));
	/* The peer never existed here. */
	CHECK(if_nametoindex("eth0") == 0);
	FAILS(net_nl_ifindex(nl, "eth0", &err), ENODEV, "\"eth0\"");

	/* ... it is in the other namespace, down, with its MAC and MTU. */
	CHECK(go(t.other) == 0);
	CHECK(if_nametoindex("eth0") > 0);
	CHECK(if_flags("eth0") >= 0 && !(if_flags("eth0") & IFF_UP));
	CHECK(if_mac_is("eth0", peer_mac));
	CHECK(if_mtu("eth0") == 1450);
	OK(net_nl_open(&nl2, &err));
	CHECK(go(t.home) == 0);
	OK(net_nl_link_kind(nl2, "eth0", kind, sizeof(kind), &err));
	CHECK(!strcmp(kind, "veth"));
	FAILS(net_nl_ifindex(nl2, "veth0a", &err), ENODEV, "veth0a");

	/* The peer's name is taken over there: nothing is left here. */
	FAILS(net_nl_veth_create(nl, "veth0b", "eth0", t.other, br, NULL, 0, &err), EEXIST,
	      "create veth \"veth0b\" (peer \"eth0\")");
	CHECK(if_nametoindex("veth0b") == 0);

	/* No namespace, no master: both ends here, the peer down. */
	OK(va = net_nl_veth_create(nl, "va", "vb", -1, 0, NULL, 0, &err));
	CHECK((if_flags("va") & IFF_UP) && !(if_flags("vb") & IFF_UP));
	CHECK(if_mtu("va") == 1500 && if_mtu("vb") == 1500);
	OK(net_nl_link_list(nl, record, &s, &err));
	CHECK(want[0].calls == 1 && want[0].master == br && !strcmp(want[0].kind, "veth"));
	CHECK(want[1].calls == 1 && want[1].master == 0 && want[1].ifindex == va);
	CHECK(want[2].calls == 1 && want[2].master == 0 && !strcmp(want[2].kind, "veth"));
	FAILS(net_nl_veth_create(nl, "va", "vc", -1, 0, NULL, 0, &err), EEXIST, "\"va\"");
	CHECK(if_nametoindex("vc") == 0);

	/* Deleting the host side takes the peer in the other namespace. */
	OK(net_nl_link_del(nl, "veth0a", &err));
	FAILS(net_nl_ifindex(nl2, "eth0", &err), ENODEV, "eth0");
	return 0;
}

static void test_veth_into_other_netns(void **state)
{
	run(veth_body);
}

/* Both ends of a failed veth create are gone: HOST here, PEER there. */
static int nothing_left(struct net_nl *nl, struct net_nl *nl2, const char *host, const char *peer)
{
	struct err *err = NULL;

	FAILS(net_nl_ifindex(nl, host, &err), ENODEV, host);
	FAILS(net_nl_ifindex(nl2, peer, &err), ENODEV, peer);
	FAILS(net_nl_ifindex(nl, peer, &err), ENODEV, peer);
	return 0;
}

static int veth_errors_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL, *nl2 = NULL;
	_cleanup_close_ int notns = -1;
	struct err *err = NULL;
	struct two t;
	int r;

	CHECK(two_open(&t) == 0);
	OK(net_nl_open(&nl, &err));
	CHECK(go(t.other) == 0);
	OK(net_nl_open(&nl2, &err));
	CHECK(go(t.home) == 0);

	/* A master that does not exist: ENODEV naming the link and the index. */
	FAILS(net_nl_veth_create(nl, "vh0", "eth0", t.other, 9999, NULL, 0, &err), ENODEV,
	      "create veth \"vh0\" (peer \"eth0\"): master interface 9999: No such device");
	CHECK(nothing_left(nl, nl2, "vh0", "eth0") == 0);
	FAILS(net_nl_veth_create(nl, "vh0", "eth0", t.other, -1, NULL, 0, &err), EINVAL,
	      "invalid master interface index -1");

	/* A master that refuses ports (lo is no bridge): the kernel fails the
	 * request after creating the pair, and must leave neither end. */
	r = net_nl_veth_create(nl, "vh0", "eth0", t.other, 1, NULL, 0, &err);
	CHECK(r < 0 && r != -ENODEV && err && strstr(err->msg, "create veth \"vh0\""));
	err_free(&err);
	CHECK(nothing_left(nl, nl2, "vh0", "eth0") == 0);

	/* A descriptor that is not a namespace. */
	notns = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(notns >= 0);
	r = net_nl_veth_create(nl, "vh0", "eth0", notns, 0, NULL, 0, &err);
	CHECK(r < 0 && err && strstr(err->msg, "\"vh0\""));
	err_free(&err);
	CHECK(nothing_left(nl, nl2, "vh0", "eth0") == 0);

	/* An MTU the kernel refuses. */
	r = net_nl_veth_create(nl, "vh0", "eth0", t.other, 0, NULL, 10, &err);
	CHECK(r == -EINVAL && err && strstr(err->msg, "\"vh0\""));
	err_free(&err);
	CHECK(nothing_left(nl, nl2, "vh0", "eth0") == 0);

	/* And the same request without the faults works. */
	OK(net_nl_veth_create(nl, "vh0", "eth0", t.other, 0, NULL, 0, &err));
	return 0;
}

static void test_veth_errors_leave_nothing(void **state)
{
	run(veth_errors_body);
}

static int master_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	int br, va;

	OK(net_nl_open(&nl, &err));
	OK(br = net_nl_bridge_create(nl, "br0", NULL, &err));
	OK(va = net_nl_veth_create(nl, "va", "vb", -1, 0, NULL, 0, &err));
	CHECK(master_of(nl, "va") == 0);
	OK(net_nl_link_set_master(nl, va, br, &err));
	CHECK(shows("ip", "-o link show dev va", "master br0"));
	CHECK(master_of(nl, "va") == br);
	OK(net_nl_link_set_master(nl, va, 0, &err));
	CHECK(lacks("ip", "-o link show dev va", "master"));
	CHECK(master_of(nl, "va") == 0);

	FAILS(net_nl_link_set_master(nl, va, 9999, &err), ENODEV,
	      "enslave \"va\" to interface 9999: No such device");
	CHECK(master_of(nl, "va") == 0);
	FAILS(net_nl_link_set_master(nl, va, 1, &err), EOPNOTSUPP, "enslave \"va\" to \"lo\"");
	FAILS(net_nl_link_set_master(nl, 0, br, &err), EINVAL, "invalid interface index 0");
	FAILS(net_nl_link_set_master(nl, va, -2, &err), EINVAL, "invalid master");

	/* hairpin: only on a bridge port */
	OK(net_nl_link_set_master(nl, va, br, &err));
	CHECK(shows("bridge", "-d link show dev va", "hairpin off"));
	OK(net_nl_link_set_hairpin(nl, va, true, &err));
	CHECK(shows("bridge", "-d link show dev va", "hairpin on"));
	OK(net_nl_link_set_hairpin(nl, va, false, &err));
	CHECK(shows("bridge", "-d link show dev va", "hairpin off"));
	OK(net_nl_link_set_master(nl, va, 0, &err));
	CHECK(net_nl_link_set_hairpin(nl, va, true, &err) < 0);
	/* not a bridge port any more */
	CHECK(err && strstr(err->msg, "turn hairpin mode on for \"va\""));
	err_free(&err);
	FAILS(net_nl_link_set_hairpin(nl, 0, true, &err), EINVAL, "invalid interface index 0");
	return 0;
}

static void test_set_master(void **state)
{
	run(master_body);
}

static int addresses_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	struct net_addr a1 = addr("10.0.0.1"), a31 = addr("10.0.1.1"), a32 = addr("10.0.2.1"),
			a30 = addr("10.0.3.1"), a12 = addr("172.16.5.1"), a6 = addr("fd00::1"),
			bad = {0};
	char line[512];
	int va;

	OK(net_nl_open(&nl, &err));
	OK(va = net_nl_veth_create(nl, "va", "vb", -1, 0, NULL, 0, &err));

	OK(net_nl_addr_add(nl, va, &a1, 24, &err));
	CHECK(shows("ip", "-o -4 addr show dev va", "inet 10.0.0.1/24 brd 10.0.0.255 "));
	OK(net_nl_addr_add(nl, va, &a30, 30, &err));
	CHECK(shows("ip", "-o -4 addr show dev va", "inet 10.0.3.1/30 brd 10.0.3.3 "));
	OK(net_nl_addr_add(nl, va, &a12, 12, &err));
	CHECK(shows("ip", "-o -4 addr show dev va", "inet 172.16.5.1/12 brd 172.31.255.255 "));
	/* /31 and /32 have no broadcast address. */
	OK(net_nl_addr_add(nl, va, &a31, 31, &err));
	line_of("ip", "-o -4 addr show dev va", "inet 10.0.1.1/31", line, sizeof(line));
	CHECK(line[0] && !strstr(line, "brd"));
	OK(net_nl_addr_add(nl, va, &a32, 32, &err));
	line_of("ip", "-o -4 addr show dev va", "inet 10.0.2.1/32", line, sizeof(line));
	CHECK(line[0] && !strstr(line, "brd"));
	FAILS(net_nl_addr_add(nl, va, &a1, 24, &err), EEXIST,
	      "add address 10.0.0.1/24 to \"va\": File exists");

	OK(net_nl_addr_add(nl, va, &a6, 64, &err));
	CHECK(shows("ip", "-o -6 addr show dev va", "inet6 fd00::1/64 "));
	FAILS(net_nl_addr_add(nl, va, &a6, 64, &err), EEXIST, "fd00::1/64");

	/* Deleting wants the prefix too: another one is "not there". */
	OK(net_nl_addr_del(nl, va, &a1, 25, &err));
	CHECK(shows("ip", "-o -4 addr show dev va", "inet 10.0.0.1/24 "));
	OK(net_nl_addr_del(nl, va, &a1, 24, &err));
	CHECK(lacks("ip", "-o -4 addr show dev va", "10.0.0.1/"));
	OK(net_nl_addr_del(nl, va, &a1, 24, &err));
	OK(net_nl_addr_del(nl, va, &a6, 64, &err));
	CHECK(lacks("ip", "-o -6 addr show dev va", "fd00::1/"));
	OK(net_nl_addr_del(nl, va, &a6, 64, &err));
	CHECK(shows("ip", "-o -4 addr show dev va", "inet 10.0.3.1/30 "));

	FAILS(net_nl_addr_add(nl, va, &a1, 33, &err), EINVAL, "prefix length 33");
	FAILS(net_nl_addr_add(nl, va, &a6, 129, &err), EINVAL, "prefix length 129");
	FAILS(net_nl_addr_add(nl, va, &bad, 24, &err), EINVAL, "not an IPv4 or IPv6 address");
	FAILS(net_nl_addr_add(nl, va, NULL, 24, &err), EINVAL, "add address");
	FAILS(net_nl_addr_add(nl, 0, &a1, 24, &err), EINVAL, "invalid interface index 0");
	FAILS(net_nl_addr_add(nl, 9999, &a1, 24, &err), ENODEV,
	      "add address 10.0.0.1/24 to interface 9999");
	FAILS(net_nl_addr_del(nl, va, &a6, 200, &err), EINVAL, "prefix length 200");
	return 0;
}

static void test_addresses(void **state)
{
	run(addresses_body);
}

static int routes_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	struct net_addr a = addr("10.0.0.1"), gw = addr("10.0.0.254"), a6 = addr("fd00::1"),
			gw6 = addr("fd00::fe"), far = addr("192.0.2.1"), via = addr("10.0.0.253");
	struct net_cidr c30 = cidr("172.30.0.0/16"), c31 = cidr("172.31.0.0/16"),
			c29 = cidr("172.29.0.0/16");
	int va;

	OK(net_nl_open(&nl, &err));
	CHECK((va = veth_up(nl, "va", "vb")) > 0);
	OK(net_nl_addr_add(nl, va, &a, 24, &err));
	OK(net_nl_addr_add(nl, va, &a6, 64, &err));

	OK(net_nl_route_add_default(nl, &gw, va, &err));
	CHECK(shows("ip", "-4 route show", "default via 10.0.0.254 dev va"));
	OK(net_nl_route_add_default(nl, &gw6, va, &err));
	CHECK(shows("ip", "-6 route show", "default via fd00::fe dev va"));
	FAILS(net_nl_route_add_default(nl, &gw, va, &err), EEXIST,
	      "add route default via 10.0.0.254 dev \"va\": File exists");

	OK(net_nl_route_add(nl, &c30, &via, va, &err));
	CHECK(shows("ip", "-4 route show", "172.30.0.0/16 via 10.0.0.253 dev va"));
	OK(net_nl_route_add(nl, &c31, NULL, va, &err));
	CHECK(shows("ip", "-4 route show", "172.31.0.0/16 dev va scope link"));
	FAILS(net_nl_route_add(nl, &c31, NULL, va, &err), EEXIST, "add route 172.31.0.0/16 dev");

	/* An unreachable gateway: the kernel's extended ack is in the message. */
	FAILS(net_nl_route_add(nl, &c29, &far, va, &err), ENETUNREACH,
	      "add route 172.29.0.0/16 via 192.0.2.1 dev \"va\": Network is unreachable "
	      "(kernel: ");
	CHECK(lacks("ip", "-4 route show", "172.29.0.0"));

	FAILS(net_nl_route_add(nl, &c29, &gw6, va, &err), EINVAL, "another address family");
	FAILS(net_nl_route_add(nl, &c29, &gw, 0, &err), EINVAL, "invalid interface index 0");
	FAILS(net_nl_route_add(nl, NULL, &gw, va, &err), EINVAL, "no destination");
	FAILS(net_nl_route_add_default(nl, NULL, va, &err), EINVAL, "gateway");
	/* A device that does not exist: the gateway is not reachable through it. */
	FAILS(net_nl_route_add_default(nl, &gw, 9999, &err), ENETUNREACH,
	      "add route default via 10.0.0.254 dev interface 9999: Network is unreachable");
	return 0;
}

static void test_routes(void **state)
{
	run(routes_body);
}

static int overlap_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	struct net_addr a = addr("10.0.0.1"), gw = addr("10.0.0.254"), a6 = addr("fd00::1");
	struct net_cidr c30 = cidr("172.30.0.0/16"), c;
	char ifname[IFNAMSIZ], tiny[2];
	int va;

	OK(net_nl_open(&nl, &err));
	OK(net_nl_link_set_up(nl, (int)if_nametoindex("lo"), true, &err));
	CHECK((va = veth_up(nl, "va", "vb")) > 0);

	/* Nothing yet (lo's 127.0.0.0/8 lives in the local table). */
	c = cidr("10.0.0.0/16");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 0);
	c = cidr("127.0.0.0/16");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 0);

	OK(net_nl_addr_add(nl, va, &a, 24, &err));
	OK(net_nl_addr_add(nl, va, &a6, 64, &err));
	OK(net_nl_route_add(nl, &c30, NULL, va, &err));
	OK(net_nl_route_add_default(nl, &gw, va, &err));

	/* Wider, narrower and equal blocks overlap; the device is named. */
	c = cidr("10.0.0.0/16");
	strcpy(ifname, "junk");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 1);
	CHECK(!strcmp(ifname, "va"));
	c = cidr("10.0.0.128/25");
	CHECK(net_nl_routes_overlap(nl, &c, NULL, 0, &err) == 1);
	c = cidr("172.30.5.0/24");
	ifname[0] = 0;
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 1);
	CHECK(!strcmp(ifname, "va"));
	c = cidr("172.30.0.0/16");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 1);
	/* A name that does not fit is left empty; the answer stands. */
	CHECK(net_nl_routes_overlap(nl, &c, tiny, sizeof(tiny), &err) == 1 && tiny[0] == 0);

	/* Disjoint blocks do not, though the default route covers them. */
	c = cidr("192.168.77.0/24");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 0);
	c = cidr("10.0.1.0/24");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 0);
	c = cidr("127.0.0.0/16");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 0);

	c = cidr("fd00::/48");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 1);
	CHECK(!strcmp(ifname, "va"));
	c = cidr("fd01::/64");
	CHECK(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err) == 0);

	c = cidr("10.0.0.0/16");
	c.bits = 33;
	FAILS(net_nl_routes_overlap(nl, &c, ifname, sizeof(ifname), &err), EINVAL,
	      "prefix length 33");
	FAILS(net_nl_routes_overlap(nl, NULL, ifname, sizeof(ifname), &err), EINVAL, "no block");
	CHECK(err == NULL);
	return 0;
}

static void test_routes_overlap(void **state)
{
	run(overlap_body);
}

static int macvlan_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL, *nl2 = NULL;
	struct err *err = NULL;
	static const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x01, 0x00, 0x07};
	static const struct {
		const char *name;
		enum net_macvlan_mode mode;
		const char *shown;
		bool own_parent; /* passthru takes its parent alone */
	} modes[] = {
	    {"mv0", NET_MACVLAN_BRIDGE, "macvlan mode bridge ", false},
	    {"mv1", NET_MACVLAN_PRIVATE, "macvlan mode private ", false},
	    {"mv2", NET_MACVLAN_VEPA, "macvlan mode vepa ", false},
	    {"mv3", NET_MACVLAN_PASSTHRU, "macvlan mode passthru ", true},
	};
	struct two t;
	char args[64], kind[16];
	int p0, q0;

	CHECK(two_open(&t) == 0);
	OK(net_nl_open(&nl, &err));
	CHECK(go(t.other) == 0);
	OK(net_nl_open(&nl2, &err));
	CHECK(go(t.home) == 0);
	OK(p0 = net_nl_veth_create(nl, "p0", "p1", -1, 0, NULL, 0, &err));
	OK(q0 = net_nl_veth_create(nl, "q0", "q1", -1, 0, NULL, 0, &err));

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		const uint8_t *m = i == 0 ? mac : NULL;

		OK(net_nl_macvlan_create(nl, modes[i].name, modes[i].own_parent ? q0 : p0,
					 modes[i].mode, t.other, m, &err));
		FAILS(net_nl_ifindex(nl, modes[i].name, &err), ENODEV, modes[i].name);
		OK(net_nl_link_kind(nl2, modes[i].name, kind, sizeof(kind), &err));
		CHECK(!strcmp(kind, "macvlan"));
		CHECK(go(t.other) == 0);
		snprintf(args, sizeof(args), "-d -o link show dev %s", modes[i].name);
		CHECK(shows("ip", args, modes[i].shown));
		CHECK(if_flags(modes[i].name) >= 0 && !(if_flags(modes[i].name) & IFF_UP));
		CHECK(!m || if_mac_is(modes[i].name, m));
		CHECK(go(t.home) == 0);
	}

	/* The name is taken in the target namespace. */
	FAILS(net_nl_macvlan_create(nl, "mv0", p0, NET_MACVLAN_BRIDGE, t.other, NULL, &err), EEXIST,
	      "create macvlan \"mv0\": File exists");
	/* Here (no namespace), the same name is free. */
	OK(net_nl_macvlan_create(nl, "mv0", p0, NET_MACVLAN_BRIDGE, -1, NULL, &err));
	CHECK(if_nametoindex("mv0") > 0);

	FAILS(net_nl_macvlan_create(nl, "mv9", 9999, NET_MACVLAN_BRIDGE, t.other, NULL, &err),
	      ENODEV, "create macvlan \"mv9\": parent interface 9999: No such device");
	FAILS(net_nl_macvlan_create(nl, "mv9", 0, NET_MACVLAN_BRIDGE, t.other, NULL, &err), EINVAL,
	      "create macvlan \"mv9\": invalid parent interface index 0");
	FAILS(net_nl_macvlan_create(nl, "mv9", p0, (enum net_macvlan_mode)99, t.other, NULL, &err),
	      EINVAL, "unknown macvlan mode 99");
	/* A second passthru on the same parent is refused by the kernel. */
	CHECK(net_nl_macvlan_create(nl, "mv9", q0, NET_MACVLAN_PASSTHRU, t.other, NULL, &err) < 0);
	CHECK(err && strstr(err->msg, "\"mv9\""));
	err_free(&err);
	FAILS(net_nl_ifindex(nl2, "mv9", &err), ENODEV, "mv9");
	return 0;
}

static void test_macvlan_modes(void **state)
{
	run(macvlan_body);
}

static int vxlan_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	struct net_addr a = addr("10.0.0.1"), a6 = addr("fd00::1");
	char kind[16];
	int va, vx;

	OK(net_nl_open(&nl, &err));
	CHECK((va = veth_up(nl, "va", "vb")) > 0);
	OK(net_nl_addr_add(nl, va, &a, 24, &err));

	OK(vx = net_nl_vxlan_create(nl, "vx42", 42, &a, va, 0, &err));
	CHECK(vx == (int)if_nametoindex("vx42"));
	CHECK(shows("ip", "-d -o link show dev vx42", "vxlan id 42 local 10.0.0.1 dev va "));
	CHECK(shows("ip", "-d -o link show dev vx42", "dstport 4789 "));
	CHECK(shows("ip", "-d -o link show dev vx42", "nolearning"));
	OK(net_nl_link_kind(nl, "vx42", kind, sizeof(kind), &err));
	CHECK(!strcmp(kind, "vxlan"));
	CHECK(!(if_flags("vx42") & IFF_UP));

	OK(net_nl_vxlan_create(nl, "vx43", NET_NL_VNI_MAX, NULL, 0, 8472, &err));
	CHECK(shows("ip", "-d -o link show dev vx43", "vxlan id 16777215 "));
	CHECK(shows("ip", "-d -o link show dev vx43", "dstport 8472 "));
	CHECK(shows("ip", "-d -o link show dev vx43", "nolearning"));
	OK(net_nl_vxlan_create(nl, "vx44", 44, &a6, 0, 0, &err));
	CHECK(shows("ip", "-d -o link show dev vx44", "vxlan id 44 local fd00::1 "));

	FAILS(net_nl_vxlan_create(nl, "vx42", 45, &a, va, 0, &err), EEXIST,
	      "create vxlan \"vx42\": File exists");
	FAILS(net_nl_vxlan_create(nl, "vx45", NET_NL_VNI_MAX + 1, &a, va, 0, &err), EINVAL,
	      "VNI 16777216");
	FAILS(net_nl_vxlan_create(nl, "vx45", 45, &a, 9999, 0, &err), ENODEV,
	      "create vxlan \"vx45\"");
	FAILS(net_nl_vxlan_create(nl, "vx45", 45, &a, -1, 0, &err), EINVAL, "invalid device");
	CHECK(if_nametoindex("vx45") == 0);
	return 0;
}

static void test_vxlan(void **state)
{
	run(vxlan_body);
}

static int fdb_neigh_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	static const uint8_t zero[6] = {0}, uni[6] = {0x02, 0x42, 0x0a, 0x00, 0x00, 0x05},
			     n1[6] = {0x02, 0x42, 0x0a, 0x00, 0x00, 0x09},
			     n2[6] = {0x02, 0x42, 0x0a, 0x00, 0x00, 0x0a};
	struct net_addr a = addr("10.0.0.1"), r2 = addr("10.0.0.2"), r3 = addr("10.0.0.3"),
			r4 = addr("10.0.0.4"), r5 = addr("10.0.0.5"), ip9 = addr("10.0.0.9"),
			ip6 = addr("fd00::9");
	char line[512];
	int va, vx;

	OK(net_nl_open(&nl, &err));
	CHECK((va = veth_up(nl, "va", "vb")) > 0);
	OK(net_nl_addr_add(nl, va, &a, 24, &err));
	OK(vx = net_nl_vxlan_create(nl, "vx42", 42, &a, va, 0, &err));

	/* Flooding entries collect remotes. */
	OK(net_nl_fdb_add(nl, vx, zero, &r2, &err));
	OK(net_nl_fdb_add(nl, vx, zero, &r3, &err));
	OK(net_nl_fdb_add(nl, vx, zero, &r3, &err));
	CHECK(
	    shows("bridge", "fdb show dev vx42", "00:00:00:00:00:00 dst 10.0.0.2 self permanent"));
	CHECK(
	    shows("bridge", "fdb show dev vx42", "00:00:00:00:00:00 dst 10.0.0.3 self permanent"));
	/* A unicast MAC has one remote, replaced. */
	OK(net_nl_fdb_add(nl, vx, uni, &r4, &err));
	CHECK(
	    shows("bridge", "fdb show dev vx42", "02:42:0a:00:00:05 dst 10.0.0.4 self permanent"));
	OK(net_nl_fdb_add(nl, vx, uni, &r5, &err));
	CHECK(
	    shows("bridge", "fdb show dev vx42", "02:42:0a:00:00:05 dst 10.0.0.5 self permanent"));
	CHECK(lacks("bridge", "fdb show dev vx42", "dst 10.0.0.4"));

	OK(net_nl_fdb_del(nl, vx, uni, &r5, &err));
	CHECK(lacks("bridge", "fdb show dev vx42", "02:42:0a:00:00:05"));
	OK(net_nl_fdb_del(nl, vx, uni, &r5, &err));
	OK(net_nl_fdb_del(nl, vx, zero, &r2, &err));
	CHECK(lacks("bridge", "fdb show dev vx42", "dst 10.0.0.2"));
	CHECK(shows("bridge", "fdb show dev vx42", "00:00:00:00:00:00 dst 10.0.0.3"));
	/* Without a remote: the whole entry. */
	OK(net_nl_fdb_del(nl, vx, zero, NULL, &err));
	CHECK(lacks("bridge", "fdb show dev vx42", "00:00:00:00:00:00"));
	OK(net_nl_fdb_del(nl, vx, zero, NULL, &err));

	FAILS(net_nl_fdb_add(nl, vx, uni, NULL, &err), EINVAL, "add FDB entry");
	FAILS(net_nl_fdb_add(nl, vx, NULL, &r2, &err), EINVAL, "no MAC address");
	FAILS(net_nl_fdb_add(nl, 9999, uni, &r2, &err), ENODEV,
	      "add FDB entry 02:42:0a:00:00:05 dst 10.0.0.2 on interface 9999");
	FAILS(net_nl_fdb_add(nl, 0, uni, &r2, &err), EINVAL, "invalid interface index 0");

	OK(net_nl_neigh_add(nl, va, &ip9, n1, true, &err));
	CHECK(shows("ip", "-4 neigh show dev va", "10.0.0.9 lladdr 02:42:0a:00:00:09 PERMANENT"));
	OK(net_nl_neigh_add(nl, va, &ip9, n2, true, &err));
	CHECK(shows("ip", "-4 neigh show dev va", "10.0.0.9 lladdr 02:42:0a:00:00:0a PERMANENT"));
	OK(net_nl_neigh_add(nl, va, &ip6, n1, false, &err));
	line_of("ip", "-6 neigh show dev va", "fd00::9 ", line, sizeof(line));
	CHECK(strstr(line, "lladdr 02:42:0a:00:00:09") && !strstr(line, "PERMANENT"));

	OK(net_nl_neigh_del(nl, va, &ip9, &err));
	CHECK(lacks("ip", "-4 neigh show dev va", "10.0.0.9"));
	OK(net_nl_neigh_del(nl, va, &ip9, &err));
	OK(net_nl_neigh_del(nl, va, &ip6, &err));
	CHECK(lacks("ip", "-6 neigh show dev va", "fd00::9 "));
	OK(net_nl_neigh_del(nl, va, &ip6, &err));

	FAILS(net_nl_neigh_add(nl, va, &ip9, NULL, true, &err), EINVAL, "no MAC address");
	FAILS(net_nl_neigh_add(nl, va, NULL, n1, true, &err), EINVAL, "add neighbour");
	FAILS(net_nl_neigh_add(nl, 9999, &ip9, n1, true, &err), ENODEV,
	      "add neighbour 10.0.0.9 lladdr 02:42:0a:00:00:09 on interface 9999");
	return 0;
}

static void test_fdb_and_neigh(void **state)
{
	run(fdb_neigh_body);
}

static int del_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;

	OK(net_nl_open(&nl, &err));
	OK(net_nl_bridge_create(nl, "br0", NULL, &err));
	OK(net_nl_link_del(nl, "br0", &err));
	CHECK(if_nametoindex("br0") == 0);
	FAILS(net_nl_ifindex(nl, "br0", &err), ENODEV, "br0");
	OK(net_nl_link_del(nl, "br0", &err));
	OK(net_nl_link_del(nl, "never0", &err));

	OK(net_nl_veth_create(nl, "va", "vb", -1, 0, NULL, 0, &err));
	OK(net_nl_link_del(nl, "va", &err));
	CHECK(if_nametoindex("va") == 0 && if_nametoindex("vb") == 0);
	OK(net_nl_link_del(nl, "vb", &err));

	/* Not every failure is "already gone". */
	FAILS(net_nl_link_del(nl, "lo", &err), EOPNOTSUPP, "delete interface \"lo\"");
	CHECK(if_nametoindex("lo") > 0);
	FAILS(net_nl_link_del(nl, "a/b", &err), EINVAL, "delete interface");
	return 0;
}

static void test_link_del_idempotent(void **state)
{
	run(del_body);
}

static int stop_after_one(const char *name, int ifindex, const char *kind, int master, void *data,
			  struct err **err)
{
	(*(int *)data)++;
	return 1;
}

static int refuse(const char *name, int ifindex, const char *kind, int master, void *data,
		  struct err **err)
{
	(*(int *)data)++;
	return err_set(err, EIO, "callback refused \"%s\"", name);
}

struct deleter {
	struct net_nl *nl;
	int count;
};

/* Deletes every bridge it is shown, on the handle that lists. */
static int delete_bridges(const char *name, int ifindex, const char *kind, int master, void *data,
			  struct err **err)
{
	struct deleter *d = data;

	if (strcmp(kind, "bridge"))
		return 0;
	d->count++;
	return net_nl_link_del(d->nl, name, err);
}

static int list_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	struct net_addr a = addr("10.0.0.1");
	struct seen want[] = {
	    {.name = "lo"}, {.name = "br0"}, {.name = "va"}, {.name = "vb"}, {.name = "vx1"}};
	struct seen_set s = {want, ARRAY_SIZE(want), 0};
	struct deleter d = {0};
	int base, br, va, n = 0;
	char name[IFNAMSIZ];

	OK(net_nl_open(&nl, &err));
	/* A fresh namespace has lo, and on some hosts fallback tunnel
	 * devices (sit0, ...): count from what is there. */
	OK(net_nl_link_list(nl, record, &s, &err));
	base = s.total;
	CHECK(base >= 1 && want[0].calls == 1);
	s.total = 0;
	want[0].calls = 0;
	OK(br = net_nl_bridge_create(nl, "br0", NULL, &err));
	OK(va = net_nl_veth_create(nl, "va", "vb", -1, br, NULL, 0, &err));
	OK(net_nl_addr_add(nl, va, &a, 24, &err));
	OK(net_nl_vxlan_create(nl, "vx1", 1, &a, va, 0, &err));

	OK(net_nl_link_list(nl, record, &s, &err));
	CHECK(s.total == base + 4);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		if (want[i].calls != 1 || want[i].ifindex != (int)if_nametoindex(want[i].name)) {
			fprintf(stderr, "%s: %d calls, index %d\n", want[i].name, want[i].calls,
				want[i].ifindex);
			return 1;
		}
	}
	CHECK(!strcmp(want[0].kind, "") && want[0].master == 0);
	CHECK(!strcmp(want[1].kind, "bridge") && want[1].master == 0);
	CHECK(!strcmp(want[2].kind, "veth") && want[2].master == br);
	CHECK(!strcmp(want[3].kind, "veth") && want[3].master == 0);
	CHECK(!strcmp(want[4].kind, "vxlan") && want[4].master == 0);

	OK(net_nl_link_list(nl, stop_after_one, &n, &err));
	CHECK(n == 1);
	n = 0;
	FAILS(net_nl_link_list(nl, refuse, &n, &err), EIO, "callback refused \"lo\"");
	CHECK(n == 1);

	/* A dump far larger than one datagram: 150 more bridges. */
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "b%d", i);
		OK(net_nl_bridge_create(nl, name, NULL, &err));
	}
	s.total = 0;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		want[i].calls = 0;
	OK(net_nl_link_list(nl, record, &s, &err));
	CHECK(s.total == base + 154);
	CHECK(want[0].calls == 1 && want[4].calls == 1);

	/* The callback may use the handle: the dump was read first. */
	d.nl = nl;
	OK(net_nl_link_list(nl, delete_bridges, &d, &err));
	CHECK(d.count == 151);
	s.total = 0;
	OK(net_nl_link_list(nl, record, &s, &err));
	CHECK(s.total == base + 3);
	CHECK(if_nametoindex("br0") == 0 && if_nametoindex("b149") == 0);
	return 0;
}

static void test_link_list(void **state)
{
	run(list_body);
}

static int stays_body(void)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct err *err = NULL;
	struct two t;

	CHECK(two_open(&t) == 0);
	OK(net_nl_open(&nl, &err));
	/* The handle belongs to the namespace it was opened in. */
	CHECK(go(t.other) == 0);
	OK(net_nl_bridge_create(nl, "brh", NULL, &err));
	CHECK(if_nametoindex("brh") == 0);
	CHECK(go(t.home) == 0);
	CHECK(if_nametoindex("brh") > 0);
	/* Many requests on one handle: each waits for its own answer. */
	for (int i = 0; i < 300; i++) {
		int idx = net_nl_ifindex(nl, i % 2 ? "brh" : "lo", &err);

		CHECK(idx == (int)if_nametoindex(i % 2 ? "brh" : "lo"));
		FAILS(net_nl_ifindex(nl, "none0", &err), ENODEV, "none0");
	}
	return 0;
}

static void test_handle_stays_in_its_netns(void **state)
{
	run(stays_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_lookup),
	    cmocka_unit_test(test_bridge),
	    cmocka_unit_test(test_veth_into_other_netns),
	    cmocka_unit_test(test_veth_errors_leave_nothing),
	    cmocka_unit_test(test_set_master),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_routes_overlap),
	    cmocka_unit_test(test_macvlan_modes),
	    cmocka_unit_test(test_vxlan),
	    cmocka_unit_test(test_fdb_and_neigh),
	    cmocka_unit_test(test_link_del_idempotent),
	    cmocka_unit_test(test_link_list),
	    cmocka_unit_test(test_handle_stays_in_its_netns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

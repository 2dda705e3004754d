/*
 * tests/unit/test_nft.c - net/nft.c against the kernel.
 *
 * Every test forks a child that enters a fresh network namespace (as root
 * unshare(CLONE_NEWNET); otherwise a user namespace too, mapping the
 * caller to root), so nothing here can touch the machine's firewall or
 * interfaces. Inside, the child is the "host": bridges br-a, br-b, br-i
 * with addresses, "containers" (network namespaces of their own, joined by
 * veth pairs, each with a TCP server on port 80 that answers with the
 * address it saw the client come from) and an "outside" host on
 * 192.0.2.0/24 that only routes the internal network's subnet back.
 *
 * Checked: the rules as listed (ensure, networks, ports, replacement,
 * idempotent removal, atomicity of a batch that fails half-way, other
 * tables untouched, refused input never reaching nft, list_owners), and
 * traffic: masquerade, isolation between networks, --internal, published
 * ports from the host (127.0.0.1, the bridge address), from outside, from
 * another network and from the same network (hairpin), IPv6, and nothing
 * after removal. The child reports through its exit status: 0 passed,
 * 77 skipped (with the reason on stderr), anything else failed.
 *
 * Needs iproute2's `ip` and nftables' `nft` (to break the table behind
 * moat's back, and to list tables that are not moat's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "net/cidr.h"
#include "net/nft.h"

#define SKIPPED 77
/* How long a connection that should not work is given. */
#define TIMEOUT_MS 500

/* ---- the child's checks: print where, exit non-zero ---- */

static struct err *e;		/* the child's last error, for OK() and REFUSED() */
static int host_ns = -1;	/* the child's own network namespace */
static char lib_path[PATH_MAX]; /* libnftables.so.1's file, for the load test */

__attribute__((format(printf, 2, 3), noreturn)) static void die(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_nft.c:%d: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

#define CHECK(c)                                               \
	do {                                                   \
		if (!(c))                                      \
			die(__LINE__, "check failed: %s", #c); \
	} while (0)

#define OK(expr)                                                                     \
	do {                                                                         \
		err_free(&e);                                                        \
		if ((expr) < 0)                                                      \
			die(__LINE__, "%s: %s", #expr, e ? e->msg : "(no message)"); \
	} while (0)

/* EXPR fails with -CODE and a message containing TEXT. */
#define REFUSED(expr, code, text)                                                                \
	do {                                                                                     \
		int r_;                                                                          \
		err_free(&e);                                                                    \
		r_ = (expr);                                                                     \
		if (r_ != -(code))                                                               \
			die(__LINE__, "%s returned %d, want %d (%s)", #expr, r_, -(code),        \
			    e ? e->msg : "no message");                                          \
		if (!e || !strstr(e->msg, text))                                                 \
			die(__LINE__, "%s: message \"%s\" lacks \"%s\"", #expr, e ? e->msg : "", \
			    text);                                                               \
	} while (0)

/* ---- namespaces ---- */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		die(__LINE__, "open %s: %s", path, strerror(errno));
	n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text))
		die(__LINE__, "write %s: %s", path, strerror(errno));
	close(fd);
}

/* Enters a new network namespace (and mount namespace with MOUNT); as
 * non-root inside a new user namespace where the caller is root. */
static void enter(bool mount_ns)
{
	int flags = CLONE_NEWNET | (mount_ns ? CLONE_NEWNS : 0);
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (uid != 0) {
		if (unshare(CLONE_NEWUSER | flags) < 0) {
			fprintf(stderr, "skipped: no user namespace: %s\n", strerror(errno));
			_exit(SKIPPED);
		}
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_file("/proc/self/gid_map", map);
	} else if (unshare(flags) < 0) {
		die(__LINE__, "unshare: %s", strerror(errno));
	}
	/* Nothing mounted here may reach the machine's mount table. */
	if (mount_ns && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(__LINE__, "make / private: %s", strerror(errno));
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(host_ns >= 0);
	if (system("command -v ip >/dev/null && command -v nft >/dev/null") != 0) {
		fprintf(stderr, "skipped: needs the ip (iproute2) and nft (nftables) commands\n");
		_exit(SKIPPED);
	}
}

/* Runs BODY in a child inside fresh namespaces; its exit status decides. */
static void in_child(void (*body)(void), bool mount_ns)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(180);
		enter(mount_ns);
		body();
		fflush(NULL);
		exit(0); /* exit, not _exit: the sanitizers' leak check runs */
	}
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIPPED)
		skip();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("child %s %d\n", WIFEXITED(st) ? "exited" : "killed by signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		fail();
	}
}

/* `sh -c CMD` in the current namespace; must succeed. */
__attribute__((format(printf, 2, 3))) static void sh_at(int line, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		die(line, "\"%s\" exited %d", cmd, rc);
}
#define sh(...) sh_at(__LINE__, __VA_ARGS__)

/* The same inside network namespace NS. */
#define sh_in(ns, ...)                                    \
	do {                                              \
		CHECK(setns((ns), CLONE_NEWNET) == 0);    \
		sh_at(__LINE__, __VA_ARGS__);             \
		CHECK(setns(host_ns, CLONE_NEWNET) == 0); \
	} while (0)

/* Output of `sh -c CMD` into BUF (must succeed). */
static void sh_out(char *buf, size_t size, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	CHECK(p != NULL);
	n = fread(buf, 1, size - 1, p);
	buf[n] = '\0';
	if (pclose(p) != 0)
		die(__LINE__, "\"%s\" failed", cmd);
}

/* A new network namespace, left open without O_CLOEXEC so that `ip` can
 * name it as /proc/self/fd/N. */
static int ns_new(void)
{
	int fd;

	CHECK(unshare(CLONE_NEWNET) == 0);
	fd = open("/proc/self/ns/net", O_RDONLY);
	CHECK(fd >= 0);
	CHECK(setns(host_ns, CLONE_NEWNET) == 0);
	return fd;
}

/* ---- traffic ---- */

static void peer_text(const struct sockaddr_in6 *sa, char *buf, size_t size)
{
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr))
		inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], buf, size);
	else
		inet_ntop(AF_INET6, &sa->sin6_addr, buf, size);
}

/* A TCP server on [::]:PORT (IPv4 too) in NS, answering each client with
 * the address it came from. Dies with the child (PDEATHSIG). */
static void server(int ns, uint16_t port)
{
	int ready[2];
	char c;
	pid_t pid;

	CHECK(pipe2(ready, O_CLOEXEC) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
		int s, one = 1, zero = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		if (setns(ns, CLONE_NEWNET) < 0)
			_exit(1);
		s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
		    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 64) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			struct sockaddr_in6 peer;
			socklen_t len = sizeof(peer);
			char text[INET6_ADDRSTRLEN + 1];
			int cfd = accept(s, (struct sockaddr *)&peer, &len);

			if (cfd < 0)
				continue;
			peer_text(&peer, text, sizeof(text) - 1);
			strcat(text, "\n");
			if (write(cfd, text, strlen(text)) < 0)
				_exit(1);
			close(cfd);
		}
	}
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1);
	close(ready[0]);
}

/*
 * Connects from namespace NS (-1: the host) to ADDR:PORT and reads the
 * server's answer into PEER: 0, or -errno (-ETIMEDOUT when nothing came
 * back within TIMEOUT_MS).
 */
static int probe(int ns, const char *addr, uint16_t port, char *peer, size_t size)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	struct pollfd p;
	int s, r = 0, soerr = 0;
	socklen_t el = sizeof(soerr);
	size_t got = 0;

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else {
		CHECK(inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	}
	if (ns >= 0)
		CHECK(setns(ns, CLONE_NEWNET) == 0);
	/* The socket belongs to the namespace it is made in. */
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ns >= 0)
		CHECK(setns(host_ns, CLONE_NEWNET) == 0);
	CHECK(s >= 0);
	if (connect(s, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	p = (struct pollfd){.fd = s, .events = POLLOUT};
	if (poll(&p, 1, TIMEOUT_MS) != 1) {
		r = -ETIMEDOUT;
		goto out;
	}
	CHECK(getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &el) == 0);
	if (soerr) {
		r = -soerr;
		goto out;
	}
	for (;;) {
		ssize_t n;

		p = (struct pollfd){.fd = s, .events = POLLIN};
		if (poll(&p, 1, TIMEOUT_MS) != 1) {
			r = -ETIMEDOUT;
			goto out;
		}
		n = read(s, peer + got, size - 1 - got);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == size - 1)
			break;
	}
	peer[got] = '\0';
	if (got && peer[got - 1] == '\n')
		peer[got - 1] = '\0';
	if (!got)
		r = -ECONNRESET;
out:
	close(s);
	return r;
}

static const char *ns_name(int ns);

/* ADDR:PORT answers from NS; WANT (may be NULL): the client address the
 * server saw. Tried for a few seconds: a veth that was just brought up
 * drops packets until the kernel's link watcher has run (up to a second). */
static void reach_at(int line, int ns, const char *addr, uint16_t port, const char *want)
{
	char peer[128];
	int r;

	for (int i = 0;; i++) {
		r = probe(ns, addr, port, peer, sizeof(peer));
		if (r == 0 || i == 6)
			break;
		usleep(100 * 1000);
	}

	if (r < 0)
		die(line, "%s -> %s:%u: %s, want a connection", ns_name(ns), addr, port,
		    strerror(-r));
	if (want && strcmp(peer, want))
		die(line, "%s -> %s:%u: the server saw %s, want %s", ns_name(ns), addr, port, peer,
		    want);
}
#define REACH(ns, addr, port, want) reach_at(__LINE__, ns, addr, port, want)

/* ADDR:PORT does not answer from NS (dropped, refused or unreachable). */
static void blocked_at(int line, int ns, const char *addr, uint16_t port)
{
	char peer[128];
	int r = probe(ns, addr, port, peer, sizeof(peer));

	if (r == 0)
		die(line, "%s -> %s:%u: connected (the server saw %s), want no connection",
		    ns_name(ns), addr, port, peer);
}
#define BLOCKED(ns, addr, port) blocked_at(__LINE__, ns, addr, port)

/* ---- the test network ---- */

struct topo {
	int a, a2; /* on br-a 10.88.0.0/24 (and fd00:88::/64): .2 and .3 */
	int b;	   /* on br-b 10.89.0.0/24: .2 */
	int i, i2; /* on br-i 10.90.0.0/24, the internal one: .2 and .3 */
	int ext;   /* outside, 192.0.2.2; the host is 192.0.2.1 */
};
static struct topo t = {-1, -1, -1, -1, -1, -1};

static const char *ns_name(int ns)
{
	if (ns < 0)
		return "host";
	if (ns == t.a)
		return "a";
	if (ns == t.a2)
		return "a2";
	if (ns == t.b)
		return "b";
	if (ns == t.i)
		return "i";
	if (ns == t.i2)
		return "i2";
	if (ns == t.ext)
		return "outside";
	return "?";
}

static void bridge_up(const char *name, const char *addr)
{
	char path[128];

	sh("ip link add %s type bridge && ip addr add %s/24 dev %s && ip link set %s up", name,
	   addr, name, name);
	/* The caller's part (see nft.h): 127.0.0.1 may leave through it. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", name);
	write_file(path, "1");
}

/* A container NAME on BRIDGE at ADDR/24, its host port in hairpin mode
 * (the bridge driver's part, see nft.h), running a server on port 80. */
static int ctr_up(const char *name, const char *bridge, const char *addr, const char *gw)
{
	int ns = ns_new();

	sh("ip link add v-%s type veth peer name eth0 netns /proc/self/fd/%d", name, ns);
	sh("ip link set v-%s master %s && ip link set v-%s type bridge_slave hairpin on && "
	   "ip link set v-%s up",
	   name, bridge, name, name);
	sh_in(ns,
	      "ip link set lo up && ip addr add %s/24 dev eth0 && ip link set eth0 up && "
	      "ip route add default via %s",
	      addr, gw);
	server(ns, 80);
	return ns;
}

static void topo_up(void)
{
	sh("ip link set lo up");
	write_file("/proc/sys/net/ipv4/ip_forward", "1");
	bridge_up("br-a", "10.88.0.1");
	bridge_up("br-b", "10.89.0.1");
	bridge_up("br-i", "10.90.0.1");
	sh("ip addr add fd00:88::1/64 dev br-a nodad");
	t.a = ctr_up("a", "br-a", "10.88.0.2", "10.88.0.1");
	sh_in(t.a, "ip addr add fd00:88::2/64 dev eth0 nodad");
	t.a2 = ctr_up("a2", "br-a", "10.88.0.3", "10.88.0.1");
	t.b = ctr_up("b", "br-b", "10.89.0.2", "10.89.0.1");
	t.i = ctr_up("i", "br-i", "10.90.0.2", "10.90.0.1");
	t.i2 = ctr_up("i2", "br-i", "10.90.0.3", "10.90.0.1");
	/* Outside (TEST-NET-1): routes only br-i's subnet back through us, so
	 * br-a's containers get answers from there only when masqueraded. */
	t.ext = ns_new();
	sh("ip link add v-ext type veth peer name eth0 netns /proc/self/fd/%d", t.ext);
	sh("ip addr add 192.0.2.1/24 dev v-ext && ip link set v-ext up");
	sh_in(t.ext,
	      "ip link set lo up && ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up && "
	      "ip route add 10.90.0.0/24 via 192.0.2.1");
	server(t.ext, 80);
	/* Every link carries traffic before a test relies on a connection
	 * that does NOT work. */
	REACH(-1, "10.88.0.2", 80, "10.88.0.1");
	REACH(-1, "fd00:88::2", 80, "fd00:88::1");
	REACH(-1, "10.88.0.3", 80, "10.88.0.1");
	REACH(-1, "10.89.0.2", 80, "10.89.0.1");
	REACH(-1, "10.90.0.2", 80, "10.90.0.1");
	REACH(-1, "10.90.0.3", 80, "10.90.0.1");
	REACH(-1, "192.0.2.2", 80, "192.0.2.1");
}

/* ---- helpers over the API ---- */

static void ensure(void)
{
	err_free(&e);
	if (net_nft_ensure(&e) < 0) {
		/* A user namespace cannot make the kernel load modules. */
		if (geteuid() != 0 && (e->code == ENOENT || e->code == EOPNOTSUPP)) {
			fprintf(stderr,
				"skipped: the kernel cannot load nftables NAT modules from a user "
				"namespace: %s\n",
				e->msg);
			_exit(SKIPPED);
		}
		die(__LINE__, "net_nft_ensure: %s", e->msg);
	}
}

static struct net_nft_net net(const char *bridge, const char *subnet, bool internal)
{
	struct net_nft_net n = {.internal = internal};

	snprintf(n.bridge, sizeof(n.bridge), "%s", bridge);
	if (net_cidr_parse(subnet, "subnet", &n.subnet, NULL) < 0)
		die(__LINE__, "bad subnet %s", subnet);
	return n;
}

static void net_add(const char *bridge, const char *subnet, bool internal)
{
	struct net_nft_net n = net(bridge, subnet, internal);

	OK(net_nft_network_add(&n, &e));
}

static struct net_addr addr(const char *s)
{
	struct net_addr a = {0};

	if (s && net_addr_parse(s, &a, NULL) < 0)
		die(__LINE__, "bad address %s", s);
	return a;
}

/* HOST NULL: every address. */
static struct net_nft_port port(const char *host, uint16_t hport, enum net_proto proto,
				const char *ctr, uint16_t cport, const char *bridge)
{
	struct net_nft_port p = {.host_ip = addr(host),
				 .host_port = hport,
				 .proto = proto,
				 .ctr_addr = addr(ctr),
				 .ctr_port = cport};

	p.family = p.ctr_addr.family;
	snprintf(p.bridge, sizeof(p.bridge), "%s", bridge);
	return p;
}

/* The table as nft prints it; the caller frees. */
static char *dump(void)
{
	char *text = NULL;

	OK(net_nft_dump(&text, &e));
	CHECK(text != NULL);
	return text;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The block of the dump that starts with HEAD ("set internal {"), up to
 * its closing brace; "" when absent. */
static const char *section(const char *text, const char *head)
{
	static char buf[8192];
	const char *s = strstr(text, head), *end;
	size_t n;

	buf[0] = '\0';
	if (!s)
		return buf;
	end = strstr(s, "\n\t}");
	n = end ? (size_t)(end - s) : strlen(s);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

#define HAS(text, needle)                                                          \
	do {                                                                       \
		if (!strstr((text), (needle)))                                     \
			die(__LINE__, "missing \"%s\" in:\n%s", (needle), (text)); \
	} while (0)
#define LACKS(text, needle)                                                           \
	do {                                                                          \
		if (strstr((text), (needle)))                                         \
			die(__LINE__, "unexpected \"%s\" in:\n%s", (needle), (text)); \
	} while (0)
#define SAME(a, b)                                                                            \
	do {                                                                                  \
		if (strcmp((a), (b)))                                                         \
			die(__LINE__, "listings differ:\n--- before\n%s\n--- after\n%s", (a), \
			    (b));                                                             \
	} while (0)

/* ---- the table's fixed part ---- */

static void body_ensure(void)
{
	char *d1, *d2, *d3;

	ensure();
	d1 = dump();
	HAS(d1, "table inet moat {");
	HAS(d1, "type nat hook prerouting priority dstnat; policy accept;");
	HAS(d1, "type nat hook output priority -100; policy accept;");
	HAS(d1, "type nat hook postrouting priority srcnat; policy accept;");
	HAS(d1, "type filter hook forward priority filter; policy accept;");
	HAS(section(d1, "set bridges {"), "type ifname");
	HAS(section(d1, "set self {"), "type ifname . ifname");
	HAS(d1, "ip saddr 127.0.0.0/8 oifname @bridges masquerade");
	HAS(d1, "iifname @bridges oifname @bridges drop");
	CHECK(count(d1, "jump ports-dnat") == 2);
	/* Again: the same table, no rule twice. */
	ensure();
	d2 = dump();
	SAME(d1, d2);
	/* A damaged base chain comes back whole. */
	sh("nft flush chain inet moat forward && nft delete rule inet moat prerouting handle "
	   "$(nft -a list chain inet moat prerouting | sed -n 's/.*jump ports-dnat # handle "
	   "//p')");
	ensure();
	d3 = dump();
	SAME(d1, d3);
	free(d1);
	free(d2);
	free(d3);
}

static void test_ensure(void **state)
{
	in_child(body_ensure, false);
}

/* ---- networks, as listed ---- */

static void body_network_rules(void)
{
	char *d1, *d2, *d3;

	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	net_add("br-i", "10.90.0.0/24", true);
	net_add("br-6", "fd00:6::/64", false);
	d1 = dump();
	HAS(section(d1, "set bridges {"), "\"br-a\"");
	HAS(section(d1, "set bridges {"), "\"br-i\"");
	HAS(section(d1, "set bridges {"), "\"br-6\"");
	HAS(section(d1, "set self {"), "\"br-a\" . \"br-a\"");
	HAS(section(d1, "set internal {"), "\"br-i\"");
	LACKS(section(d1, "set internal {"), "br-a");
	HAS(section(d1, "map nat4 {"), "10.88.0.0/24 : jump net-br-a");
	HAS(section(d1, "map nat6 {"), "fd00:6::/64 : jump net-br-6");
	LACKS(d1, "10.90.0.0");
	LACKS(d1, "chain net-br-i");
	HAS(section(d1, "chain net-br-a {"), "oifname != \"br-a\" masquerade comment \"net:br-a\"");
	HAS(section(d1, "chain net-br-a {"),
	    "oifname \"br-a\" ct status dnat masquerade comment \"net:br-a\"");
	CHECK(count(d1, "comment \"net:br-a\"") == 2);

	/* Adding again changes nothing. */
	net_add("br-a", "10.88.0.0/24", false);
	net_add("br-i", "10.90.0.0/24", true);
	d2 = dump();
	SAME(d1, d2);
	free(d2);

	/* br-a made internal, then back. */
	net_add("br-a", "10.88.0.0/24", true);
	d2 = dump();
	HAS(section(d2, "set internal {"), "\"br-a\"");
	LACKS(d2, "net-br-a");
	free(d2);
	net_add("br-a", "10.88.0.0/24", false);
	d2 = dump();
	LACKS(section(d2, "set internal {"), "br-a");
	HAS(section(d2, "map nat4 {"), "10.88.0.0/24 : jump net-br-a");
	CHECK(count(d2, "comment \"net:br-a\"") == 2);
	free(d2);

	/* A new subnet replaces the old one. */
	net_add("br-a", "10.88.0.0/16", false);
	d2 = dump();
	HAS(section(d2, "map nat4 {"), "10.88.0.0/16 : jump net-br-a");
	LACKS(d2, "10.88.0.0/24");
	free(d2);

	/* Removal: nothing of br-a is left, the others stay; twice is fine. */
	OK(net_nft_network_del("br-a", &e));
	d2 = dump();
	LACKS(d2, "br-a");
	HAS(d2, "net-br-6");
	HAS(section(d2, "set internal {"), "\"br-i\"");
	OK(net_nft_network_del("br-a", &e));
	OK(net_nft_network_del("br-never", &e));
	d3 = dump();
	SAME(d2, d3);
	OK(net_nft_network_del("br-i", &e));
	OK(net_nft_network_del("br-6", &e));
	free(d3);
	d3 = dump();
	LACKS(d3, "br-");
	free(d1);
	free(d2);
	free(d3);
}

static void test_network_rules(void **state)
{
	in_child(body_network_rules, false);
}

/* ---- published ports, as listed ---- */

static void body_ports_rules(void)
{
	struct net_nft_port p[] = {
	    port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a"),
	    port("127.0.0.1", 5353, NET_PROTO_UDP, "10.88.0.2", 53, "br-a"),
	    port("0.0.0.0", 8443, NET_PROTO_TCP, "10.88.0.2", 443, "br-a"),
	    port("fd00::1", 9, NET_PROTO_SCTP, "fd00:88::2", 9, "br-a"),
	    port(NULL, 5000, NET_PROTO_UDP, "fd00:88::2", 5001, "br-a"),
	};
	struct net_nft_port q = port(NULL, 9000, NET_PROTO_TCP, "10.89.0.2", 90, "br-b");
	char *d, *d2;

	ensure();
	OK(net_nft_ports_add("c0ffee", p, 5, &e));
	d = dump();
	HAS(section(d, "chain ports-dnat {"),
	    "meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10.88.0.2:80 "
	    "comment \"ctr:c0ffee\"");
	HAS(section(d, "chain ports-dnat {"),
	    "ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.88.0.2:53 comment \"ctr:c0ffee\"");
	HAS(section(d, "chain ports-dnat {"),
	    "meta nfproto ipv4 fib daddr type local tcp dport 8443 dnat ip to 10.88.0.2:443");
	HAS(section(d, "chain ports-dnat {"),
	    "ip6 daddr fd00::1 sctp dport 9 dnat ip6 to [fd00:88::2]:9 comment \"ctr:c0ffee\"");
	HAS(section(d, "chain ports-dnat {"),
	    "meta nfproto ipv6 fib daddr type local udp dport 5000 dnat ip6 to [fd00:88::2]:5001");
	HAS(section(d, "chain ports-fwd {"),
	    "oifname \"br-a\" ip daddr 10.88.0.2 tcp dport 80 ct status dnat accept comment "
	    "\"ctr:c0ffee\"");
	HAS(section(d, "chain ports-fwd {"),
	    "oifname \"br-a\" ip6 daddr fd00:88::2 sctp dport 9 ct status dnat accept");
	CHECK(count(d, "\"ctr:c0ffee\"") == 10);
	free(d);

	/* Adding replaces: one port left, and the same again changes nothing. */
	OK(net_nft_ports_add("c0ffee", p, 1, &e));
	d = dump();
	CHECK(count(d, "\"ctr:c0ffee\"") == 2);
	LACKS(d, "5353");
	OK(net_nft_ports_add("c0ffee", p, 1, &e));
	d2 = dump();
	SAME(d, d2);
	free(d);
	free(d2);

	/* Two owners are independent. */
	OK(net_nft_ports_add("beef", &q, 1, &e));
	d = dump();
	CHECK(count(d, "\"ctr:c0ffee\"") == 2);
	CHECK(count(d, "\"ctr:beef\"") == 2);
	free(d);
	OK(net_nft_ports_del("c0ffee", &e));
	d = dump();
	CHECK(count(d, "\"ctr:c0ffee\"") == 0);
	CHECK(count(d, "\"ctr:beef\"") == 2);
	OK(net_nft_ports_del("c0ffee", &e));
	OK(net_nft_ports_del("never", &e));
	d2 = dump();
	SAME(d, d2);
	free(d2);
	/* No ports: the owner has none left. */
	OK(net_nft_ports_add("beef", NULL, 0, &e));
	d2 = dump();
	CHECK(count(d2, "ctr:") == 0);
	free(d);
	free(d2);
}

static void test_ports_rules(void **state)
{
	in_child(body_ports_rules, false);
}

/* ---- no table ---- */

static int count_cb(enum net_nft_kind kind, const char *name, void *data)
{
	(*(int *)data)++;
	return 0;
}

static void body_no_table(void)
{
	struct net_nft_net n = net("br-a", "10.88.0.0/24", false);
	struct net_nft_port p = port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a");
	int calls = 0;
	char *d;

	OK(net_nft_network_del("br-a", &e));
	OK(net_nft_ports_del("c0ffee", &e));
	OK(net_nft_list_owners(count_cb, &calls, &e));
	CHECK(calls == 0);
	d = dump();
	CHECK(!strcmp(d, ""));
	free(d);
	REFUSED(net_nft_network_add(&n, &e), ENOENT, "net_nft_ensure");
	REFUSED(net_nft_ports_add("c0ffee", &p, 1, &e), ENOENT, "net_nft_ensure");
	/* Nothing above made a table. */
	d = dump();
	CHECK(!strcmp(d, ""));
	free(d);
}

static void test_no_table(void **state)
{
	in_child(body_no_table, false);
}

/* ---- refused input ---- */

static const char *const bad_names[] = {
    "",		"br a",	 "br\"a", "br;a",
    "br}a",	"br\na", "br/a",  "br:a",
    "\xc3\xa4", ".",	 "..",	  "0123456789abcdef", /* 16: longer than an interface name */
};

/* Every refused input: EINVAL (E2BIG for too many ports), with a message
 * naming what is wrong. Runs with and without libnftables loadable. */
static void refuse_all(void)
{
	struct net_nft_port good = port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a");
	struct net_nft_port ps[3] = {good, good, good};
	char owner65[66];
	struct net_nft_net n;

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		n = net("br-a", "10.88.0.0/24", false);
		snprintf(n.bridge, sizeof(n.bridge), "%s", bad_names[i]);
		/* the 16-character name does not fit: test it through del */
		if (strlen(bad_names[i]) < IFNAMSIZ)
			REFUSED(net_nft_network_add(&n, &e), EINVAL, "invalid bridge name");
		REFUSED(net_nft_network_del(bad_names[i], &e), EINVAL, "invalid bridge name");
		if (strlen(bad_names[i]) < IFNAMSIZ) /* 16 characters make an owner */
			REFUSED(net_nft_ports_del(bad_names[i], &e), EINVAL, "invalid owner");
		ps[1] = good;
		if (strlen(bad_names[i]) < IFNAMSIZ) {
			snprintf(ps[1].bridge, sizeof(ps[1].bridge), "%s", bad_names[i]);
			REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL,
				"port 1: invalid bridge name");
		}
	}
	REFUSED(net_nft_network_del(NULL, &e), EINVAL, "invalid bridge name");
	memset(owner65, 'a', 65);
	owner65[65] = '\0';
	REFUSED(net_nft_ports_add(owner65, &good, 1, &e), EINVAL, "invalid owner");
	owner65[64] = '\0';
	CHECK(net_nft_owner_valid(owner65));
	CHECK(net_nft_bridge_valid("0123456789abcde"));
	REFUSED(net_nft_ports_add("x\" ; flush ruleset ; \"", &good, 1, &e), EINVAL,
		"invalid owner");
	REFUSED(net_nft_ports_add("ctr:x", &good, 1, &e), EINVAL, "invalid owner");

	/* Subnets. */
	n = net("br-a", "10.88.0.0/24", false);
	n.subnet.addr.family = 0;
	REFUSED(net_nft_network_add(&n, &e), EINVAL, "unknown family");
	n = net("br-a", "10.88.0.0/24", false);
	n.subnet.bits = 33;
	REFUSED(net_nft_network_add(&n, &e), EINVAL, "prefix length 33");
	n.subnet.bits = 0;
	REFUSED(net_nft_network_add(&n, &e), EINVAL, "prefix length 0");
	n = net("br-a", "10.88.0.0/24", false);
	n.subnet.addr.b[3] = 1; /* 10.88.0.1/24: host bits */
	REFUSED(net_nft_network_add(&n, &e), EINVAL, "10.88.0.0/24");

	/* Ports: the third is bad each time, so nothing may be half done. */
	ps[0] = ps[1] = ps[2] = good;
	ps[2].family = 0;
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: unknown family");
	ps[2] = good;
	ps[2].host_ip = addr("::1");
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: host address");
	ps[2] = good;
	ps[2].ctr_addr = addr("fd00::2");
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: no container address");
	ps[2] = good;
	ps[2].ctr_addr = addr("0.0.0.0");
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: no container address");
	ps[2] = good;
	ps[2].host_port = 0;
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: port 0");
	ps[2] = good;
	ps[2].ctr_port = 0;
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: port 0");
	ps[2] = good;
	ps[2].proto = (enum net_proto)7;
	REFUSED(net_nft_ports_add("c0ffee", ps, 3, &e), EINVAL, "port 2: unknown protocol");
	REFUSED(net_nft_ports_add("c0ffee", NULL, 2, &e), EINVAL, "no ports");
	/* Checked before the array is read. */
	REFUSED(net_nft_ports_add("c0ffee", &good, NET_NFT_PORTS_MAX + 1, &e), E2BIG, "at most");
}

static void body_invalid_input(void)
{
	char *before, *after;

	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	before = dump();
	refuse_all();
	after = dump();
	SAME(before, after);
	free(before);
	free(after);
}

static void test_invalid_input(void **state)
{
	in_child(body_invalid_input, false);
}

/* ---- libnftables missing ---- */

/* Where the dynamic linker finds libnftables.so.1, asked of a throwaway
 * process (this one must not load it). "" when it is not installed. */
static void find_lib(void)
{
	int pfd[2];
	pid_t pid;
	ssize_t n;

	lib_path[0] = '\0';
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
		struct link_map *lm = NULL;
		char real[PATH_MAX];

		if (h && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && realpath(lm->l_name, real))
			n = write(pfd[1], real, strlen(real));
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], lib_path, sizeof(lib_path) - 1);
	lib_path[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, NULL, 0);
}

static void body_load_failure(void)
{
	char empty[] = "/tmp/moat-test-nft-XXXXXX";
	int fd;

	if (lib_path[0]) {
		/* Hide the library under an empty file, in this mount
		 * namespace only (made private by enter()). */
		fd = mkstemp(empty);
		CHECK(fd >= 0);
		close(fd);
		if (mount(empty, lib_path, NULL, MS_BIND, NULL) < 0)
			die(__LINE__, "bind over %s: %s", lib_path, strerror(errno));
		unlink(empty);
	}
	REFUSED(net_nft_ensure(&e), ENOENT, "libnftables.so.1 cannot be loaded");
	REFUSED(net_nft_ensure(&e), ENOENT, "install Debian's libnftables1");
	REFUSED(net_nft_load(&e), ENOENT, "libnftables1");
	REFUSED(net_nft_ports_del("c0ffee", &e), ENOENT, "libnftables1");
	REFUSED(net_nft_network_del("br-a", &e), ENOENT, "libnftables1");
	/* Refused input is refused before the library is needed. */
	refuse_all();
}

static void test_load_failure(void **state)
{
	find_lib();
	in_child(body_load_failure, true);
}

/* ---- atomicity ---- */

static void body_atomic(void)
{
	struct net_nft_port p[2] = {port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a"),
				    port(NULL, 8081, NET_PROTO_TCP, "10.88.0.2", 81, "br-a")};
	struct net_nft_net nb = net("br-b", "10.89.0.0/24", false);
	char *d0, *d1;

	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	OK(net_nft_ports_add("c0ffee", p, 1, &e));
	/* Break the table behind moat's back so that a batch fails after
	 * its first commands would have worked: ports-fwd is gone, so the
	 * DNAT rules (and the removal of c0ffee's old rule) must not stay. */
	sh("nft flush chain inet moat forward && nft delete chain inet moat ports-fwd");
	d0 = dump();
	REFUSED(net_nft_ports_add("c0ffee", p, 2, &e), ENOENT,
		"nftables: publishing ports of c0ffee: ");
	HAS(e->msg, "ports-fwd");
	d1 = dump();
	SAME(d0, d1);
	HAS(d1, "tcp dport 8080 dnat ip to 10.88.0.2:80 comment \"ctr:c0ffee\"");
	free(d1);

	/* Networks: without set self, a new network leaves nothing behind
	 * (its bridge would be the first element added), and removing one
	 * removes nothing. */
	sh("nft delete set inet moat self");
	free(d0);
	d0 = dump();
	REFUSED(net_nft_network_add(&nb, &e), ENOENT, "nftables: adding network br-b: ");
	d1 = dump();
	SAME(d0, d1);
	LACKS(d1, "br-b");
	free(d1);
	REFUSED(net_nft_network_del("br-a", &e), ENOENT, "nftables: removing network br-a: ");
	d1 = dump();
	SAME(d0, d1);
	free(d1);

	/* ensure repairs, then everything works again. */
	ensure();
	OK(net_nft_network_add(&nb, &e));
	OK(net_nft_ports_add("c0ffee", p, 2, &e));
	d1 = dump();
	CHECK(count(section(d1, "chain ports-fwd {"), "ctr:c0ffee") == 2);
	CHECK(count(d1, "ctr:c0ffee") == 4);
	OK(net_nft_network_del("br-a", &e));
	free(d0);
	free(d1);
}

static void test_atomic(void **state)
{
	in_child(body_atomic, false);
}

/* ---- nft's own errors in the message ---- */

static void body_nft_errors(void)
{
	struct net_nft_net n = net("br-c", "10.88.0.0/16", false);
	char *d0, *d1;

	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	d0 = dump();
	/* Overlapping subnets: the kernel refuses the map element. */
	REFUSED(net_nft_network_add(&n, &e), EEXIST, "nftables: adding network br-c: ");
	HAS(e->msg, "interval overlaps with an existing one");
	HAS(e->msg, "10.88.0.0/16 : jump net-br-c");
	CHECK(!strchr(e->msg, '\n'));
	d1 = dump();
	SAME(d0, d1);
	free(d0);
	free(d1);
}

static void test_nft_errors(void **state)
{
	in_child(body_nft_errors, false);
}

/* ---- other tables ---- */

static void body_foreign_tables(void)
{
	static char b1[8192], b2[8192];
	struct net_nft_port p = port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a");

	sh("nft add table ip moat && nft add chain ip moat c && nft add rule ip moat c counter && "
	   "nft add table inet other && "
	   "nft add chain inet other filt '{ type filter hook forward priority 0; }' && "
	   "nft add rule inet other filt iifname \"br-a\" counter accept && "
	   "nft add set inet other bridges '{ type ifname; elements = { \"br-a\" }; }'");
	sh_out(b1, sizeof(b1), "nft list table ip moat && nft list table inet other");
	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	OK(net_nft_ports_add("c0ffee", &p, 1, &e));
	OK(net_nft_ports_del("c0ffee", &e));
	OK(net_nft_network_del("br-a", &e));
	ensure();
	sh_out(b2, sizeof(b2), "nft list table ip moat && nft list table inet other");
	SAME(b1, b2);
}

static void test_foreign_tables(void **state)
{
	in_child(body_foreign_tables, false);
}

/* ---- list_owners ---- */

struct seen {
	char names[16][80];
	int n;
	int stop_after; /* 0: never */
};

static int collect(enum net_nft_kind kind, const char *name, void *data)
{
	struct seen *s = data;

	CHECK(s->n < 16);
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s:%s",
		 kind == NET_NFT_NETWORK ? "net" : "ctr", name);
	if (s->stop_after && s->n == s->stop_after)
		return -ECANCELED;
	return 0;
}

/* S holds exactly the names in WANT (a NULL-terminated list), once each. */
static void seen_exactly(int line, const struct seen *s, const char *const *want)
{
	int n = 0;

	for (; want[n]; n++) {
		int hits = 0;

		for (int i = 0; i < s->n; i++)
			hits += !strcmp(s->names[i], want[n]);
		if (hits != 1)
			die(line, "%s listed %d times", want[n], hits);
	}
	if (s->n != n)
		die(line, "%d names listed, want %d", s->n, n);
}

static void body_list_owners(void)
{
	struct net_nft_port p[2] = {port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a"),
				    port(NULL, 8081, NET_PROTO_UDP, "10.88.0.3", 81, "br-a")};
	struct seen s = {0};

	ensure();
	OK(net_nft_list_owners(collect, &s, &e));
	CHECK(s.n == 0);
	net_add("br-a", "10.88.0.0/24", false);
	net_add("br-i", "10.90.0.0/24", true);
	OK(net_nft_ports_add("c0ffee", p, 2, &e));
	OK(net_nft_ports_add("beef", p, 1, &e));
	OK(net_nft_list_owners(collect, &s, &e));
	seen_exactly(__LINE__, &s,
		     (const char *const[]){"net:br-a", "net:br-i", "ctr:c0ffee", "ctr:beef", NULL});

	/* The callback stops the walk. */
	s = (struct seen){.stop_after = 1};
	CHECK(net_nft_list_owners(collect, &s, &e) == -ECANCELED);
	CHECK(s.n == 1);

	OK(net_nft_network_del("br-i", &e));
	OK(net_nft_ports_del("c0ffee", &e));
	s = (struct seen){0};
	OK(net_nft_list_owners(collect, &s, &e));
	seen_exactly(__LINE__, &s, (const char *const[]){"net:br-a", "ctr:beef", NULL});
}

static void test_list_owners(void **state)
{
	in_child(body_list_owners, false);
}

/* ---- traffic: masquerade and isolation ---- */

static void body_isolation(void)
{
	topo_up();
	/* Without moat's table: the networks reach each other, and the
	 * outside cannot answer br-a (it has no route back). */
	REACH(t.b, "10.88.0.2", 80, "10.89.0.2");
	REACH(t.a, "10.89.0.2", 80, "10.88.0.2");
	BLOCKED(t.a, "192.0.2.2", 80);

	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	net_add("br-b", "10.89.0.0/24", false);
	BLOCKED(t.b, "10.88.0.2", 80);
	BLOCKED(t.a, "10.89.0.2", 80);
	BLOCKED(t.a2, "10.89.0.2", 80);
	/* Inside one network, and from the host: untouched. */
	REACH(t.a, "10.88.0.3", 80, "10.88.0.2");
	REACH(-1, "10.88.0.2", 80, "10.88.0.1");
	REACH(-1, "10.89.0.2", 80, "10.89.0.1");
	/* Out: masqueraded to the host's outside address. */
	REACH(t.a, "192.0.2.2", 80, "192.0.2.1");
	REACH(t.b, "192.0.2.2", 80, "192.0.2.1");

	OK(net_nft_network_del("br-a", &e));
	OK(net_nft_network_del("br-b", &e));
	REACH(t.b, "10.88.0.2", 80, "10.89.0.2");
	BLOCKED(t.a, "192.0.2.2", 80);
}

static void test_isolation(void **state)
{
	in_child(body_isolation, false);
}

/* ---- traffic: --internal ---- */

static void body_internal(void)
{
	struct net_nft_port p = port(NULL, 8090, NET_PROTO_TCP, "10.90.0.2", 80, "br-i");

	topo_up();
	/* Without the table, i reaches out and is reached. */
	REACH(t.i, "192.0.2.2", 80, "10.90.0.2");
	REACH(t.ext, "10.90.0.2", 80, "192.0.2.2");
	REACH(t.a, "10.90.0.2", 80, "10.88.0.2");
	REACH(t.i, "10.88.0.2", 80, "10.90.0.2");

	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	net_add("br-i", "10.90.0.0/24", true);
	BLOCKED(t.i, "192.0.2.2", 80);
	BLOCKED(t.ext, "10.90.0.2", 80);
	BLOCKED(t.a, "10.90.0.2", 80);
	BLOCKED(t.i, "10.88.0.2", 80);
	/* A published port does not open it either. */
	OK(net_nft_ports_add("c0ffee", &p, 1, &e));
	BLOCKED(t.ext, "192.0.2.1", 8090);
	BLOCKED(t.a, "10.88.0.1", 8090);
	/* Inside the network: allowed. */
	REACH(t.i, "10.90.0.3", 80, "10.90.0.2");
	REACH(t.i2, "10.90.0.2", 80, "10.90.0.3");
	/* br-a, not internal, still gets out. */
	REACH(t.a, "192.0.2.2", 80, "192.0.2.1");

	OK(net_nft_ports_del("c0ffee", &e));
	OK(net_nft_network_del("br-i", &e));
	REACH(t.i, "192.0.2.2", 80, "10.90.0.2");
	REACH(t.ext, "10.90.0.2", 80, "192.0.2.2");
}

static void test_internal(void **state)
{
	in_child(body_internal, false);
}

/* ---- traffic: published ports ---- */

static void body_ports(void)
{
	struct net_nft_port p[] = {
	    port(NULL, 8080, NET_PROTO_TCP, "10.88.0.2", 80, "br-a"),
	    port("127.0.0.1", 8081, NET_PROTO_TCP, "10.88.0.2", 80, "br-a"),
	    port("192.0.2.1", 8082, NET_PROTO_TCP, "10.88.0.2", 80, "br-a"),
	    port(NULL, 8086, NET_PROTO_TCP, "fd00:88::2", 80, "br-a"),
	};
	struct net_nft_port q = port(NULL, 9090, NET_PROTO_TCP, "10.89.0.2", 80, "br-b");

	topo_up();
	ensure();
	net_add("br-a", "10.88.0.0/24", false);
	net_add("br-b", "10.89.0.0/24", false);
	BLOCKED(-1, "127.0.0.1", 8080);
	BLOCKED(t.ext, "192.0.2.1", 8080);

	OK(net_nft_ports_add("c0ffee", p, sizeof(p) / sizeof(p[0]), &e));
	OK(net_nft_ports_add("beef", &q, 1, &e));
	/* From the host, through every address; 127.0.0.1 is masqueraded. */
	REACH(-1, "127.0.0.1", 8080, "10.88.0.1");
	REACH(-1, "10.88.0.1", 8080, "10.88.0.1");
	REACH(-1, "192.0.2.1", 8080, NULL);
	REACH(-1, "127.0.0.1", 9090, "10.89.0.1");
	/* Published on one address only. */
	REACH(-1, "127.0.0.1", 8081, "10.88.0.1");
	BLOCKED(-1, "10.88.0.1", 8081);
	BLOCKED(t.ext, "192.0.2.1", 8081);
	REACH(t.ext, "192.0.2.1", 8082, "192.0.2.2");
	BLOCKED(-1, "10.88.0.1", 8082);
	/* From outside: the client's address is kept. */
	REACH(t.ext, "192.0.2.1", 8080, "192.0.2.2");
	REACH(t.ext, "192.0.2.1", 9090, "192.0.2.2");
	/* From another network: through the published port only. */
	REACH(t.b, "10.89.0.1", 8080, "10.88.0.1");
	BLOCKED(t.b, "10.88.0.2", 80);
	REACH(t.a, "10.88.0.1", 9090, "10.89.0.1");
	BLOCKED(t.a, "10.89.0.2", 80);
	/* Hairpin: the same network, the container itself. */
	REACH(t.a2, "10.88.0.1", 8080, "10.88.0.1");
	REACH(t.a, "10.88.0.1", 8080, "10.88.0.1");
	/* IPv6. */
	REACH(-1, "fd00:88::1", 8086, "fd00:88::1");

	/* Removing one owner leaves the other's. */
	OK(net_nft_ports_del("c0ffee", &e));
	BLOCKED(-1, "127.0.0.1", 8080);
	BLOCKED(-1, "10.88.0.1", 8080);
	BLOCKED(-1, "127.0.0.1", 8081);
	BLOCKED(t.ext, "192.0.2.1", 8080);
	BLOCKED(t.ext, "192.0.2.1", 8082);
	BLOCKED(t.b, "10.89.0.1", 8080);
	BLOCKED(-1, "fd00:88::1", 8086);
	REACH(t.ext, "192.0.2.1", 9090, "192.0.2.2");
	OK(net_nft_ports_del("beef", &e));
	BLOCKED(t.ext, "192.0.2.1", 9090);
	BLOCKED(-1, "127.0.0.1", 9090);
}

static void test_ports(void **state)
{
	in_child(body_ports, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ensure),	   cmocka_unit_test(test_network_rules),
	    cmocka_unit_test(test_ports_rules),	   cmocka_unit_test(test_no_table),
	    cmocka_unit_test(test_invalid_input),  cmocka_unit_test(test_load_failure),
	    cmocka_unit_test(test_atomic),	   cmocka_unit_test(test_nft_errors),
	    cmocka_unit_test(test_foreign_tables), cmocka_unit_test(test_list_owners),
	    cmocka_unit_test(test_isolation),	   cmocka_unit_test(test_internal),
	    cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

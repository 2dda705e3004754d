/*
 * tests/unit/test_portspec.c - net/portspec.c: Docker's -p grammar (host
 * addresses bare, bracketed and IPv6, empty and ranged host ports,
 * container ranges, protocols), its messages and check order, the length
 * cap at the exact boundary, the largest expansion, and ExposedPorts keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "net/portspec.h"

struct want {
	const char *ip;
	int family;
	unsigned lo, hi, ctr;
	enum net_proto proto;
};

static void check_one(const char *spec, const struct net_port_binding *b, const struct want *w)
{
	if (strcmp(b->host_ip, w->ip) || b->host_family != w->family || b->host_port_lo != w->lo ||
	    b->host_port_hi != w->hi || b->ctr_port != w->ctr || b->proto != w->proto) {
		print_error("%s: got {%s %d %u-%u -> %u/%s}, want {%s %d %u-%u -> %u/%s}\n", spec,
			    b->host_ip, b->host_family, b->host_port_lo, b->host_port_hi,
			    b->ctr_port, net_proto_name(b->proto), w->ip, w->family, w->lo, w->hi,
			    w->ctr, net_proto_name(w->proto));
		fail();
	}
}

/* SPEC parses into N bindings; the first is W, the others follow it port
 * by port (host ports too when W has a fixed one). */
static void expect_ok(const char *spec, size_t n, struct want w)
{
	struct net_port_binding *b = NULL;
	struct err *err = NULL;
	size_t got = 0;

	if (net_portspec_parse(spec, &b, &got, &err) < 0) {
		print_error("%s refused: %s\n", spec, err->msg);
		fail();
	}
	assert_non_null(b);
	if (got != n) {
		print_error("%s: %zu bindings, want %zu\n", spec, got, n);
		fail();
	}
	for (size_t i = 0; i < n; i++) {
		struct want wi = w;

		wi.ctr = w.ctr + (unsigned)i;
		if (n > 1 && w.lo) {
			wi.lo = w.lo + (unsigned)i;
			wi.hi = w.hi + (unsigned)i;
		}
		check_one(spec, &b[i], &wi);
	}
	free(b);
}

static void expect_bad(const char *spec, const char *msg)
{
	struct net_port_binding *b = (struct net_port_binding *)1;
	struct err *err = NULL;
	size_t n = 7;

	if (net_portspec_parse(spec, &b, &n, &err) == 0) {
		print_error("accepted: \"%.80s\" (%zu bindings)\n", spec, n);
		free(b);
		fail();
	}
	assert_null(b);
	assert_int_equal(n, 0);
	assert_non_null(err);
	assert_int_equal(err->code, EINVAL);
	if (strcmp(err->msg, msg)) {
		print_error("\"%.80s\":\n want \"%s\"\n got  \"%s\"\n", spec, msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_parse_forms(void **state)
{
	const enum net_proto T = NET_PROTO_TCP, U = NET_PROTO_UDP, S = NET_PROTO_SCTP;

	expect_ok("80", 1, (struct want){"", 0, 0, 0, 80, T});
	expect_ok("8080:80", 1, (struct want){"", 0, 8080, 8080, 80, T});
	expect_ok("127.0.0.1:8080:80/udp", 1,
		  (struct want){"127.0.0.1", AF_INET, 8080, 8080, 80, U});
	expect_ok("127.0.0.1::80", 1, (struct want){"127.0.0.1", AF_INET, 0, 0, 80, T});
	expect_ok("0.0.0.0:443:443", 1, (struct want){"0.0.0.0", AF_INET, 443, 443, 443, T});
	/* empty address and host port: every address, any port */
	expect_ok("::80", 1, (struct want){"", 0, 0, 0, 80, T});
	expect_ok(":80", 1, (struct want){"", 0, 0, 0, 80, T});
	/* IPv6, bracketed or bare (the last two colons end the address) */
	expect_ok("[::1]:8080:80", 1, (struct want){"::1", AF_INET6, 8080, 8080, 80, T});
	expect_ok("[::1]::80/sctp", 1, (struct want){"::1", AF_INET6, 0, 0, 80, S});
	expect_ok("::1:8080:80", 1, (struct want){"::1", AF_INET6, 8080, 8080, 80, T});
	expect_ok("fd00::1::53/udp", 1, (struct want){"fd00::1", AF_INET6, 0, 0, 53, U});
	expect_ok("[FD00:0::1]:1:2", 1, (struct want){"fd00::1", AF_INET6, 1, 1, 2, T});
	expect_ok("[10.0.0.1]:80:80", 1, (struct want){"10.0.0.1", AF_INET, 80, 80, 80, T});
	expect_ok("[::ffff:10.0.0.1]:80:80", 1,
		  (struct want){"::ffff:10.0.0.1", AF_INET6, 80, 80, 80, T});
	/* a host range with one container port: one free port of the range */
	expect_ok("8000-8010:80", 1, (struct want){"", 0, 8000, 8010, 80, T});
	expect_ok("10.0.0.1:8000-8010:80/udp", 1,
		  (struct want){"10.0.0.1", AF_INET, 8000, 8010, 80, U});
	expect_ok("8000-8000:80", 1, (struct want){"", 0, 8000, 8000, 80, T});
	/* equal ranges pair up port by port */
	expect_ok("8000-8001:80-81", 2, (struct want){"", 0, 8000, 8000, 80, T});
	expect_ok("1.2.3.4:9000-9004:5000-5004/udp", 5,
		  (struct want){"1.2.3.4", AF_INET, 9000, 9000, 5000, U});
	/* a container range alone: any port each */
	expect_ok("80-82", 3, (struct want){"", 0, 0, 0, 80, T});
	expect_ok("127.0.0.1::80-82", 3, (struct want){"127.0.0.1", AF_INET, 0, 0, 80, T});
	/* protocol: any case, empty is tcp */
	expect_ok("80/TCP", 1, (struct want){"", 0, 0, 0, 80, T});
	expect_ok("80/Udp", 1, (struct want){"", 0, 0, 0, 80, U});
	expect_ok("80/SCTP", 1, (struct want){"", 0, 0, 0, 80, S});
	expect_ok("80/", 1, (struct want){"", 0, 0, 0, 80, T});
	/* leading zeros read as Go's ParseUint reads them */
	expect_ok("0080:0080", 1, (struct want){"", 0, 80, 80, 80, T});
	expect_ok("65535:65535", 1, (struct want){"", 0, 65535, 65535, 65535, T});
	expect_ok("1:1", 1, (struct want){"", 0, 1, 1, 1, T});
}

static void test_parse_largest(void **state)
{
	expect_ok("1-65535", 65535, (struct want){"", 0, 0, 0, 1, NET_PROTO_TCP});
	expect_ok("[::]:1-65535:1-65535/udp", 65535,
		  (struct want){"::", AF_INET6, 1, 1, 1, NET_PROTO_UDP});
}

static void test_parse_errors(void **state)
{
	expect_bad("", "No port specified: <empty>");
	expect_bad("8080:", "No port specified: 8080:<empty>");
	expect_bad("/tcp", "No port specified: /tcp<empty>");
	expect_bad("1.2.3.4:80:/udp", "No port specified: 1.2.3.4:80:/udp<empty>");
	expect_bad("80/tcpx", "Invalid proto: tcpx");
	expect_bad("80/tcp/x", "Invalid proto: tcp/x");
	expect_bad("80/icmp", "Invalid proto: icmp");
	expect_bad("80/ tcp", "Invalid proto:  tcp");
	expect_bad("1.2.3:80:80", "Invalid ip address: 1.2.3");
	expect_bad("[::1:80:80", "Invalid ip address: [::1");
	expect_bad("[]:80:80", "Invalid ip address: []");
	expect_bad("[::1]x:80:80", "Invalid ip address: [::1]x");
	expect_bad("[[::1]]:80:80", "Invalid ip address: [[::1]]");
	expect_bad("::1]:80:80", "Invalid ip address: ::1]");
	expect_bad("fe80::1%eth0:80:80", "Invalid ip address: fe80::1%eth0");
	expect_bad("localhost:80:80", "Invalid ip address: localhost");
	expect_bad("010.0.0.1:80:80", "Invalid ip address: 010.0.0.1");
	expect_bad("1.2.3.4/8:80:80", "Invalid ip address: 1.2.3.4/8");
	expect_bad("0", "Invalid containerPort: 0");
	expect_bad("65536", "Invalid containerPort: 65536");
	expect_bad("99999999999999999999999", "Invalid containerPort: 99999999999999999999999");
	expect_bad("80x", "Invalid containerPort: 80x");
	expect_bad("-80", "Invalid containerPort: -80");
	expect_bad("80-", "Invalid containerPort: 80-");
	expect_bad("82-80", "Invalid containerPort: 82-80");
	expect_bad("0-80", "Invalid containerPort: 0-80");
	expect_bad("1-2-3", "Invalid containerPort: 1-2-3");
	expect_bad(" 80", "Invalid containerPort:  80");
	expect_bad("+80", "Invalid containerPort: +80");
	expect_bad("0x50", "Invalid containerPort: 0x50");
	expect_bad("0:80", "Invalid hostPort: 0");
	expect_bad("x:80", "Invalid hostPort: x");
	expect_bad("8080-8079:80", "Invalid hostPort: 8080-8079");
	expect_bad("70000:80", "Invalid hostPort: 70000");
	expect_bad("1.2.3.4:-:80", "Invalid hostPort: -");
	expect_bad("8000-8001:80-82",
		   "Invalid ranges specified for container and host Ports: 80-82 and 8000-8001");
	expect_bad("8080:80-81",
		   "Invalid ranges specified for container and host Ports: 80-81 and 8080");
	/* go-connections' order: protocol, address, container, host */
	expect_bad("1.2.3:x:y/bad", "Invalid proto: bad");
	expect_bad("1.2.3:x:y", "Invalid ip address: 1.2.3");
	expect_bad("1.2.3.4:x:y", "Invalid containerPort: y");
	expect_bad("1.2.3.4:x:80", "Invalid hostPort: x");
}

static void test_length_cap(void **state)
{
	char spec[NET_PORTSPEC_MAX_LEN + 2];
	struct net_port_binding *b = NULL;
	struct err *err = NULL;
	size_t n = 0;

	/* exactly the cap: leading zeros and a valid port */
	memset(spec, '0', NET_PORTSPEC_MAX_LEN);
	memcpy(spec + NET_PORTSPEC_MAX_LEN - 2, "80", 2);
	spec[NET_PORTSPEC_MAX_LEN] = '\0';
	assert_int_equal(net_portspec_parse(spec, &b, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].ctr_port, 80);
	free(b);
	/* one byte more */
	memset(spec, '0', NET_PORTSPEC_MAX_LEN + 1);
	memcpy(spec + NET_PORTSPEC_MAX_LEN - 1, "80", 2);
	spec[NET_PORTSPEC_MAX_LEN + 1] = '\0';
	expect_bad(spec, "Invalid port spec: longer than 512 bytes");
	assert_int_equal(net_portspec_parse_exposed(spec, &b, &n, &err), -EINVAL);
	assert_null(b);
	assert_non_null(strstr(err->msg, "longer than 512 bytes"));
	err_free(&err);
}

static void test_exposed(void **state)
{
	static const struct {
		const char *key;
		unsigned lo;
		size_t n;
		enum net_proto proto;
	} good[] = {
	    {"80/tcp", 80, 1, NET_PROTO_TCP},	       {"53/udp", 53, 1, NET_PROTO_UDP},
	    {"8000-8002/tcp", 8000, 3, NET_PROTO_TCP}, {"80", 80, 1, NET_PROTO_TCP},
	    {"9/SCTP", 9, 1, NET_PROTO_SCTP},	       {"65535/udp", 65535, 1, NET_PROTO_UDP},
	};
	static const struct {
		const char *key, *msg;
	} bad[] = {
	    {"", "No port specified: <empty>"},
	    {"/tcp", "No port specified: /tcp<empty>"},
	    {"80/x", "Invalid proto: x"},
	    {"0/tcp", "Invalid containerPort: 0"},
	    {"80:80/tcp", "Invalid containerPort: 80:80"},
	    {"8002-8000/tcp", "Invalid containerPort: 8002-8000"},
	    {"1.2.3.4::80", "Invalid containerPort: 1.2.3.4::80"},
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct net_port_binding *b = NULL;
		struct err *err = NULL;
		size_t n = 0;

		if (net_portspec_parse_exposed(good[i].key, &b, &n, &err) < 0) {
			print_error("%s refused: %s\n", good[i].key, err->msg);
			fail();
		}
		assert_int_equal(n, good[i].n);
		for (size_t k = 0; k < n; k++) {
			struct want w = {"", 0, 0, 0, good[i].lo + (unsigned)k, good[i].proto};

			check_one(good[i].key, &b[k], &w);
		}
		free(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_port_binding *b = (struct net_port_binding *)1;
		struct err *err = NULL;
		size_t n = 3;

		assert_int_equal(net_portspec_parse_exposed(bad[i].key, &b, &n, &err), -EINVAL);
		assert_null(b);
		assert_int_equal(n, 0);
		if (strcmp(err->msg, bad[i].msg)) {
			print_error("%s:\n want \"%s\"\n got  \"%s\"\n", bad[i].key, bad[i].msg,
				    err->msg);
			fail();
		}
		err_free(&err);
	}
}

static void test_proto_name(void **state)
{
	assert_string_equal(net_proto_name(NET_PROTO_TCP), "tcp");
	assert_string_equal(net_proto_name(NET_PROTO_UDP), "udp");
	assert_string_equal(net_proto_name(NET_PROTO_SCTP), "sctp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_forms),	 cmocka_unit_test(test_parse_largest),
	    cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_length_cap),
	    cmocka_unit_test(test_exposed),	 cmocka_unit_test(test_proto_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

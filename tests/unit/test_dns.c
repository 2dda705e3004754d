/*
 * tests/unit/test_dns.c - net/dns.c and net/dns_server.c.
 *
 * The pure half: query parsing (good queries in every spelling, EDNS, and
 * every malformed shape: short headers, each prefix of a good query,
 * responses, opcodes, QDCOUNT, long labels and names, compression
 * pointers in the question and pointer loops elsewhere, other classes, two
 * OPT records, trailing bytes, size caps), reply building (A, AAAA,
 * several answers and the 512-byte cap, NOERROR without answers, NXDOMAIN,
 * SERVFAIL, REFUSED, FORMERR, BADVERS, PTR), the upstream reply check
 * (ID, QR, question, letter case), truncation, forwarding rewrites, names,
 * PTR names and resolv.conf.
 *
 * The server, over loopback only: its socket on 127.0.0.1:<ephemeral>,
 * fake upstreams on 127.0.0.1:<ephemeral> played by this test, a client
 * socket, and the server driven from this test's own poll loop. Time is
 * the monotonic clock plus a skew the tests move forward to make upstream
 * tries time out without sleeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "net/dns.h"
#include "net/dns_server.h"

/* ---- building packets by hand (independent of the code under test) ---- */

struct pkt {
	uint8_t b[8192];
	size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = (uint8_t)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8 & 0xff);
	put8(p, v & 0xff);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void putbytes(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

/* "a.b" or "a.b." as labels; no checks, so tests can build bad names */
static void putname(struct pkt *p, const char *name)
{
	const char *s = name;

	while (*s && strcmp(s, ".")) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		put8(p, (unsigned)l);
		putbytes(p, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(p, 0);
}

static void header(struct pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an,
		   unsigned ns, unsigned ar)
{
	p->n = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

static void opt(struct pkt *p, unsigned size, unsigned version)
{
	put8(p, 0);
	put16(p, DNS_TYPE_OPT);
	put16(p, size);
	put32(p, (uint32_t)version << 16);
	put16(p, 0);
}

/* A query as a stub resolver sends it; EDNS < 0: no OPT record. */
static void mkquery(struct pkt *p, unsigned id, const char *name, unsigned qtype, int edns)
{
	header(p, id, DNS_FLAG_RD, 1, 0, 0, edns >= 0);
	putname(p, name);
	put16(p, qtype);
	put16(p, DNS_CLASS_IN);
	if (edns >= 0)
		opt(p, (unsigned)edns, 0);
}

static unsigned g16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

static int parse(const struct pkt *p, struct dns_query *q)
{
	struct err *err = NULL;
	int r = dns_query_parse(p->b, p->n, q, &err);

	if (r < 0) {
		/* every failure explains itself */
		assert_non_null(err);
		assert_true(err->msg[0] != '\0');
		err_free(&err);
	} else {
		assert_null(err);
	}
	return r;
}

static void parse_ok(const struct pkt *p, struct dns_query *q)
{
	struct err *err = NULL;

	if (dns_query_parse(p->b, p->n, q, &err) < 0) {
		print_error("refused: %s\n", err->msg);
		err_free(&err);
		fail();
	}
}

static void expect_bad(const struct pkt *p, int want, int rcode)
{
	struct dns_query q;
	int r = parse(p, &q);

	if (r != want) {
		print_error("parse gave %d, want %d\n", r, want);
		fail();
	}
	assert_int_equal(dns_query_error_rcode(r), rcode);
}

/* ---- parsing ---- */

static void test_parse_basic(void **state)
{
	struct dns_query q;
	struct pkt p;

	mkquery(&p, 0xbeef, "Web.Example.", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	assert_int_equal(q.id, 0xbeef);
	assert_true(q.has_question);
	assert_false(q.edns);
	assert_int_equal(q.udp_size, 512);
	assert_string_equal(q.q.name, "web.example");
	assert_true(q.q.name_ok);
	assert_int_equal(q.q.qtype, DNS_TYPE_A);
	assert_int_equal(q.q.qclass, DNS_CLASS_IN);
	/* the wire form keeps the client's spelling */
	assert_int_equal(q.q.wire_len, 13);
	assert_memory_equal(q.q.wire, "\3Web\7Example\0", 13);

	/* a single label, no search domain */
	mkquery(&p, 1, "db", DNS_TYPE_AAAA, -1);
	parse_ok(&p, &q);
	assert_string_equal(q.q.name, "db");
	assert_int_equal(q.q.qtype, DNS_TYPE_AAAA);

	/* the root */
	mkquery(&p, 2, ".", DNS_TYPE_NS, -1);
	parse_ok(&p, &q);
	assert_string_equal(q.q.name, "");
	assert_int_equal(q.q.wire_len, 1);

	/* labels that cannot be a container's name are kept for forwarding
	 * but not looked up: a dot inside a label, a blank, a control byte */
	header(&p, 3, 0, 1, 0, 0, 0);
	putbytes(&p, "\3a.b\0", 5);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	parse_ok(&p, &q);
	assert_false(q.q.name_ok);
	mkquery(&p, 4, "we b", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	assert_false(q.q.name_ok);
	header(&p, 5, 0, 1, 0, 0, 0);
	putbytes(&p, "\3w\001b\0", 5);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	parse_ok(&p, &q);
	assert_false(q.q.name_ok);
}

static void test_parse_edns(void **state)
{
	struct dns_query q;
	struct pkt p;

	mkquery(&p, 7, "web", DNS_TYPE_A, 1232);
	parse_ok(&p, &q);
	assert_true(q.edns);
	assert_int_equal(q.udp_size, 1232);
	assert_int_equal(g16(p.b + q.opt_size_off), 1232);

	/* below 512 means 512 (RFC 6891 6.2.5), above the cap the cap */
	mkquery(&p, 7, "web", DNS_TYPE_A, 100);
	parse_ok(&p, &q);
	assert_int_equal(q.udp_size, 512);
	mkquery(&p, 7, "web", DNS_TYPE_A, 65000);
	parse_ok(&p, &q);
	assert_int_equal(q.udp_size, DNS_UDP_EDNS_MAX);

	/* an OPT record with options (a cookie) */
	header(&p, 8, 0, 1, 0, 0, 1);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put8(&p, 0);
	put16(&p, DNS_TYPE_OPT);
	put16(&p, 4096);
	put32(&p, 0x8000); /* DO */
	put16(&p, 12);
	put16(&p, 10); /* COOKIE */
	put16(&p, 8);
	putbytes(&p, "12345678", 8);
	parse_ok(&p, &q);
	assert_true(q.edns);

	/* EDNS version 1: BADVERS, with the question echoed */
	header(&p, 9, 0, 1, 0, 0, 1);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	opt(&p, 4096, 1);
	assert_int_equal(parse(&p, &q), -ENOPROTOOPT);
	assert_int_equal(dns_query_error_rcode(-ENOPROTOOPT), DNS_RCODE_BADVERS);
	assert_true(q.has_question);
	assert_true(q.edns);
}

static void test_parse_short(void **state)
{
	struct pkt p;

	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	/* no header: nothing to answer, not even an ID */
	for (size_t n = 0; n < DNS_HEADER_LEN; n++) {
		struct pkt s = p;

		s.n = n;
		expect_bad(&s, -EMSGSIZE, -1);
	}
}

static void test_parse_every_prefix(void **state)
{
	struct pkt p;

	/* every cut of a good query (with an OPT record) is malformed */
	mkquery(&p, 1, "web.example", DNS_TYPE_A, 4096);
	for (size_t n = DNS_HEADER_LEN; n < p.n; n++) {
		struct pkt s = p;
		struct dns_query q;

		s.n = n;
		expect_bad(&s, -EBADMSG, DNS_RCODE_FORMERR);
		parse(&s, &q);
		/* nothing of it is echoed */
		assert_false(q.has_question);
		assert_false(q.edns);
		assert_int_equal(q.id, 1);
	}
}

static void test_parse_header_rules(void **state)
{
	struct pkt p;

	/* a response is never answered */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[2] |= 0x80;
	expect_bad(&p, -EPROTO, -1);

	/* opcodes other than QUERY: NOTIMP */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[2] |= 2 << 3; /* STATUS */
	expect_bad(&p, -EOPNOTSUPP, DNS_RCODE_NOTIMP);
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[2] |= 5 << 3; /* UPDATE */
	expect_bad(&p, -EOPNOTSUPP, DNS_RCODE_NOTIMP);

	/* QDCOUNT 0 and 2 */
	header(&p, 1, 0, 0, 0, 0, 0);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	header(&p, 1, 0, 2, 0, 0, 0);
	putname(&p, "a");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	putname(&p, "b");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* a count that promises a record that is not there */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[11] = 1;
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[6] = 0xff; /* ANCOUNT 65280 */
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* trailing garbage */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	put8(&p, 0);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	mkquery(&p, 1, "web", DNS_TYPE_A, 4096);
	putbytes(&p, "junk", 4);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* a question of type OPT */
	mkquery(&p, 1, "web", DNS_TYPE_OPT, -1);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
}

static void test_parse_names(void **state)
{
	char label[64], name[300];
	struct dns_query q;
	struct pkt p;

	/* 63 bytes is a label, 64 is not (0x40 is a retired label type) */
	memset(label, 'a', 63);
	label[63] = '\0';
	mkquery(&p, 1, label, DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	assert_int_equal(strlen(q.q.name), 63);
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 64);
	for (int i = 0; i < 64; i++)
		put8(&p, 'a');
	put8(&p, 0);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	/* the other retired type, 0x80 */
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 0x81);
	put8(&p, 'a');
	put8(&p, 0);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* 255 bytes on the wire is a name (253 as text), 257 is not */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label, label, label, label);
	mkquery(&p, 1, name, DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	assert_int_equal(q.q.wire_len, 255);
	assert_int_equal(strlen(q.q.name), 253);
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	mkquery(&p, 1, name, DNS_TYPE_A, -1);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* a label that runs past the end */
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 10);
	putbytes(&p, "abc", 3);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	/* no root label */
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 3);
	putbytes(&p, "abc", 3);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
}

static void test_parse_pointers(void **state)
{
	struct dns_query q;
	struct pkt p;

	/* a compressed question name is refused: to itself, to the header */
	header(&p, 1, 0, 1, 0, 0, 0);
	put16(&p, 0xc00c);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	header(&p, 1, 0, 1, 0, 0, 0);
	put8(&p, 1);
	put8(&p, 'a');
	put16(&p, 0xc002);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* an additional record owned by the question's name, compressed the
	 * usual way, is skipped */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[11] = 1;
	put16(&p, 0xc00c);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 4);
	put32(&p, 0x0a000001);
	parse_ok(&p, &q);
	assert_string_equal(q.q.name, "web");

	/* pointer loops: a pointer to itself, two pointers to each other,
	 * a pointer forward, a pointer back into its own labels */
	{
		const char *shapes[] = {"self", "pair", "forward", "back"};

		for (size_t s = 0; s < 4; s++) {
			size_t at;

			mkquery(&p, 1, "web", DNS_TYPE_A, -1);
			p.b[11] = 1;
			at = p.n;
			switch (s) {
			case 0:
				put16(&p, 0xc000 | (unsigned)at);
				break;
			case 1:
				/* a label, then a pointer to the pointer after it */
				put8(&p, 1);
				put8(&p, 'x');
				put16(&p, 0xc000 | (unsigned)(at + 4));
				put16(&p, 0xc000 | (unsigned)(at + 2));
				break;
			case 2:
				put16(&p, 0xc000 | (unsigned)(at + 2));
				put8(&p, 0);
				break;
			default:
				/* "x" then a pointer back to "x": an endless name */
				put8(&p, 1);
				put8(&p, 'x');
				put16(&p, 0xc000 | (unsigned)at);
				break;
			}
			put16(&p, DNS_TYPE_A);
			put16(&p, DNS_CLASS_IN);
			put32(&p, 0);
			put16(&p, 0);
			print_message("pointer shape %s\n", shapes[s]);
			expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
		}
	}
	/* a pointer to the question's later labels ("example" of
	 * "web.example") is fine; one into the header is not (moat rewrites
	 * the ID when it forwards: a name there would change under it) */
	mkquery(&p, 1, "web.example", DNS_TYPE_A, -1);
	p.b[11] = 1;
	put16(&p, 0xc000 | (DNS_HEADER_LEN + 4));
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 0);
	parse_ok(&p, &q);
	for (unsigned target = 0; target < DNS_HEADER_LEN; target++) {
		mkquery(&p, 0, "web", DNS_TYPE_A, -1);
		p.b[11] = 1;
		put16(&p, 0xc000 | target);
		put16(&p, DNS_TYPE_A);
		put16(&p, DNS_CLASS_IN);
		put32(&p, 0);
		put16(&p, 0);
		expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	}
	/* nor into a record after the question (a TXT record's data) */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[11] = 2;
	put8(&p, 0);
	put16(&p, DNS_TYPE_TXT);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 3);
	putbytes(&p, "\1x\0", 3);
	put16(&p, 0xc000 | (unsigned)(p.n - 3));
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 0);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* a pointer past the end of the message */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[11] = 1;
	put16(&p, 0xc000 | 0x3fff);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 0);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
}

static void test_parse_opt_rules(void **state)
{
	struct pkt p;

	/* two OPT records */
	header(&p, 1, 0, 1, 0, 0, 2);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	opt(&p, 4096, 0);
	opt(&p, 4096, 0);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* an OPT record owned by a name */
	header(&p, 1, 0, 1, 0, 0, 1);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	putname(&p, "x");
	put16(&p, DNS_TYPE_OPT);
	put16(&p, 4096);
	put32(&p, 0);
	put16(&p, 0);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);

	/* OPT data past the end */
	header(&p, 1, 0, 1, 0, 0, 1);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put8(&p, 0);
	put16(&p, DNS_TYPE_OPT);
	put16(&p, 4096);
	put32(&p, 0);
	put16(&p, 20);
	putbytes(&p, "short", 5);
	expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
}

static void test_parse_class_and_size(void **state)
{
	struct dns_query q;
	struct pkt p;

	/* CHAOS (version.bind): REFUSED, question echoed */
	header(&p, 1, 0, 1, 0, 0, 0);
	putname(&p, "version.bind");
	put16(&p, DNS_TYPE_TXT);
	put16(&p, 3);
	assert_int_equal(parse(&p, &q), -EPROTONOSUPPORT);
	assert_int_equal(dns_query_error_rcode(-EPROTONOSUPPORT), DNS_RCODE_REFUSED);
	assert_true(q.has_question);
	/* ANY class too */
	p.b[p.n - 1] = 255;
	assert_int_equal(parse(&p, &q), -EPROTONOSUPPORT);

	/* 600 bytes: only with EDNS (an additional TXT record pads it) */
	for (int edns = 0; edns < 2; edns++) {
		header(&p, 1, 0, 1, 0, 0, 1 + (unsigned)edns);
		putname(&p, "web");
		put16(&p, DNS_TYPE_A);
		put16(&p, DNS_CLASS_IN);
		put8(&p, 0);
		put16(&p, DNS_TYPE_TXT);
		put16(&p, DNS_CLASS_IN);
		put32(&p, 0);
		put16(&p, 560);
		for (int i = 0; i < 560; i++)
			put8(&p, 'x');
		if (edns)
			opt(&p, 4096, 0);
		assert_true(p.n > 512);
		if (edns)
			parse_ok(&p, &q);
		else
			expect_bad(&p, -EBADMSG, DNS_RCODE_FORMERR);
	}

	/* over the cap: dropped, whatever it says */
	header(&p, 1, 0, 1, 0, 0, 2);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put8(&p, 0);
	put16(&p, DNS_TYPE_TXT);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 4070);
	for (int i = 0; i < 4070; i++)
		put8(&p, 'x');
	opt(&p, 4096, 0);
	assert_true(p.n > DNS_UDP_EDNS_MAX);
	expect_bad(&p, -EMSGSIZE, -1);
}

/* ---- replies ---- */

struct rr {
	unsigned type, class, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
};

/* Walks a reply moat built: header, question, then records whose names
 * are pointers to the question or the root. Returns the records found. */
static size_t walk(const uint8_t *b, size_t n, struct rr *rrs, size_t max)
{
	size_t off = DNS_HEADER_LEN, k = 0;
	unsigned total;

	assert_true(n >= DNS_HEADER_LEN);
	if (g16(b + 4)) {
		while (b[off])
			off += 1 + b[off];
		off += 5;
	}
	total = g16(b + 6) + g16(b + 8) + g16(b + 10);
	for (unsigned i = 0; i < total; i++) {
		assert_true(k < max);
		if (b[off] == 0) {
			off += 1;
		} else {
			assert_int_equal(g16(b + off), 0xc00c);
			off += 2;
		}
		assert_true(off + 10 <= n);
		rrs[k].type = g16(b + off);
		rrs[k].class = g16(b + off + 2);
		rrs[k].ttl = (uint32_t)g16(b + off + 4) << 16 | g16(b + off + 6);
		rrs[k].rdlen = g16(b + off + 8);
		rrs[k].rdata = b + off + 10;
		off += 10 + rrs[k].rdlen;
		assert_true(off <= n);
		k++;
	}
	assert_int_equal(off, n);
	return k;
}

static struct net_addr addr(const char *s)
{
	struct net_addr a;

	assert_int_equal(net_addr_parse(s, &a, NULL), 0);
	return a;
}

static void test_build_answers(void **state)
{
	struct net_addr v4[2] = {addr("10.88.0.2"), addr("10.88.0.3")}, v6 = addr("fd00::2");
	uint8_t out[DNS_UDP_EDNS_MAX];
	struct dns_query q;
	struct rr rrs[8];
	struct pkt p;
	int n;

	mkquery(&p, 0x1234, "Web", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	n = dns_reply_build(&q, DNS_RCODE_NOERROR, v4, 2, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(g16(out), 0x1234);
	/* QR, RD copied, RA, NOERROR; not authoritative, not truncated */
	assert_int_equal(g16(out + 2), DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
	assert_int_equal(g16(out + 4), 1);
	assert_int_equal(g16(out + 6), 2);
	/* the question as the client spelled it */
	assert_memory_equal(out + 12, "\3Web\0", 5);
	assert_int_equal(walk(out, (size_t)n, rrs, 8), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rrs[i].type, DNS_TYPE_A);
		assert_int_equal(rrs[i].class, DNS_CLASS_IN);
		assert_int_equal(rrs[i].ttl, DNS_LOCAL_TTL);
		assert_int_equal(rrs[i].rdlen, 4);
		assert_memory_equal(rrs[i].rdata, v4[i].b, 4);
	}
	/* moat's reply passes moat's own check of a reply */
	assert_int_equal(dns_reply_check(out, (size_t)n, 0x1234, &q.q, NULL), 0);

	mkquery(&p, 7, "web", DNS_TYPE_AAAA, -1);
	parse_ok(&p, &q);
	n = dns_reply_build(&q, DNS_RCODE_NOERROR, &v6, 1, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(walk(out, (size_t)n, rrs, 8), 1);
	assert_int_equal(rrs[0].type, DNS_TYPE_AAAA);
	assert_int_equal(rrs[0].rdlen, 16);
	assert_memory_equal(rrs[0].rdata, v6.b, 16);

	/* a bad family, addresses with an error */
	{
		struct net_addr z;

		memset(&z, 0, sizeof(z));
		assert_int_equal(dns_reply_build(&q, 0, &z, 1, out, sizeof(out)), -EINVAL);
		assert_int_equal(dns_reply_build(&q, DNS_RCODE_NXDOMAIN, &v6, 1, out, sizeof(out)),
				 -EINVAL);
	}
}

static void test_build_rcodes(void **state)
{
	static const int rcodes[] = {DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN, DNS_RCODE_SERVFAIL,
				     DNS_RCODE_REFUSED, DNS_RCODE_NOTIMP};
	uint8_t out[DNS_UDP_EDNS_MAX];
	struct dns_query q;
	struct rr rrs[4];
	struct pkt p;
	int n;

	mkquery(&p, 99, "db.example", DNS_TYPE_MX, -1);
	parse_ok(&p, &q);
	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		n = dns_reply_build(&q, rcodes[i], NULL, 0, out, sizeof(out));
		assert_int_equal(n, (int)(p.n));
		assert_int_equal(g16(out), 99);
		assert_int_equal(out[3] & 0xf, rcodes[i]);
		assert_true(out[2] & 0x80);
		assert_int_equal(g16(out + 4), 1);
		assert_int_equal(walk(out, (size_t)n, rrs, 4), 0);
		assert_int_equal(dns_reply_check(out, (size_t)n, 99, &q.q, NULL), 0);
		assert_int_equal(dns_reply_rcode(out), rcodes[i]);
	}

	/* FORMERR to a malformed query: header only, ID kept */
	header(&p, 0x5151, DNS_FLAG_RD, 2, 0, 0, 0);
	assert_int_equal(parse(&p, &q), -EBADMSG);
	n = dns_reply_build(&q, DNS_RCODE_FORMERR, NULL, 0, out, sizeof(out));
	assert_int_equal(n, DNS_HEADER_LEN);
	assert_int_equal(g16(out), 0x5151);
	assert_int_equal(g16(out + 2), DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | DNS_RCODE_FORMERR);
	assert_int_equal(g16(out + 4), 0);

	/* NOTIMP keeps the opcode */
	mkquery(&p, 3, "web", DNS_TYPE_A, -1);
	p.b[2] |= 2 << 3;
	assert_int_equal(parse(&p, &q), -EOPNOTSUPP);
	n = dns_reply_build(&q, DNS_RCODE_NOTIMP, NULL, 0, out, sizeof(out));
	assert_int_equal(n, DNS_HEADER_LEN);
	assert_int_equal(DNS_OPCODE(g16(out + 2)), 2);

	/* an extended rcode needs EDNS; an rcode out of range */
	mkquery(&p, 3, "web", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	assert_int_equal(dns_reply_build(&q, DNS_RCODE_BADVERS, NULL, 0, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(dns_reply_build(&q, -1, NULL, 0, out, sizeof(out)), -EINVAL);
	/* no room for the question */
	assert_int_equal(dns_reply_build(&q, 0, NULL, 0, out, 15), -ENOSPC);
}

static void test_build_edns(void **state)
{
	struct net_addr a = addr("10.0.0.1");
	uint8_t out[DNS_UDP_EDNS_MAX];
	struct dns_query q;
	struct rr rrs[4];
	struct pkt p;
	int n;

	mkquery(&p, 5, "web", DNS_TYPE_A, 1232);
	parse_ok(&p, &q);
	n = dns_reply_build(&q, 0, &a, 1, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(g16(out + 6), 1);
	assert_int_equal(g16(out + 10), 1);
	assert_int_equal(walk(out, (size_t)n, rrs, 4), 2);
	assert_int_equal(rrs[1].type, DNS_TYPE_OPT);
	assert_int_equal(rrs[1].class, DNS_UDP_EDNS_MAX);
	assert_int_equal(rrs[1].ttl, 0);

	/* BADVERS: rcode 16 = header 0, extended 1 in the OPT record */
	header(&p, 6, 0, 1, 0, 0, 1);
	putname(&p, "web");
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	opt(&p, 4096, 3);
	assert_int_equal(parse(&p, &q), -ENOPROTOOPT);
	n = dns_reply_build(&q, DNS_RCODE_BADVERS, NULL, 0, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(out[3] & 0xf, 0);
	assert_int_equal(walk(out, (size_t)n, rrs, 4), 1);
	assert_int_equal(rrs[0].type, DNS_TYPE_OPT);
	assert_int_equal(rrs[0].ttl >> 24, 1);
}

static void test_build_size_cap(void **state)
{
	struct net_addr many[40];
	uint8_t out[DNS_UDP_EDNS_MAX];
	struct dns_query q;
	struct rr rrs[64];
	struct pkt p;
	size_t k;
	int n;

	for (int i = 0; i < 40; i++) {
		char t[32];

		snprintf(t, sizeof(t), "10.1.0.%d", i + 1);
		many[i] = addr(t);
	}
	/* plain UDP: as many as fit in 512 bytes, in order, TC clear */
	mkquery(&p, 1, "svc", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	n = dns_reply_build(&q, 0, many, 40, out, sizeof(out));
	assert_true(n > 0 && n <= 512);
	k = walk(out, (size_t)n, rrs, 64);
	assert_int_equal(k, (512 - p.n) / 16);
	assert_true(n + 16 > 512);
	assert_int_equal(out[2] & 0x02, 0);
	for (size_t i = 0; i < k; i++)
		assert_memory_equal(rrs[i].rdata, many[i].b, 4);

	/* with EDNS 4096: all of them, and the OPT record */
	mkquery(&p, 1, "svc", DNS_TYPE_A, 4096);
	parse_ok(&p, &q);
	n = dns_reply_build(&q, 0, many, 40, out, sizeof(out));
	assert_int_equal(walk(out, (size_t)n, rrs, 64), 41);
	/* a caller's smaller buffer wins over the client's size */
	n = dns_reply_build(&q, 0, many, 40, out, 300);
	assert_true(n > 0 && n <= 300);
	assert_int_equal(g16(out + 10), 1);
}

static void test_build_ptr(void **state)
{
	uint8_t out[DNS_UDP_EDNS_MAX];
	struct dns_query q;
	struct rr rrs[4];
	struct pkt p;
	int n;

	mkquery(&p, 11, "4.0.88.10.in-addr.arpa", DNS_TYPE_PTR, -1);
	parse_ok(&p, &q);
	n = dns_reply_build_ptr(&q, "db.net1.", out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(walk(out, (size_t)n, rrs, 4), 1);
	assert_int_equal(rrs[0].type, DNS_TYPE_PTR);
	assert_int_equal(rrs[0].rdlen, 9);
	assert_memory_equal(rrs[0].rdata, "\2db\4net1\0", 9);
	assert_int_equal(dns_reply_check(out, (size_t)n, 11, &q.q, NULL), 0);
	assert_int_equal(dns_reply_build_ptr(&q, "a..b", out, sizeof(out)), -EINVAL);
}

/* ---- upstream replies ---- */

/* An upstream's answer to P (a query made by mkquery): QR and RA set, one
 * A record whose name is compressed. */
static void mkanswer(struct pkt *r, const struct pkt *p, unsigned id)
{
	*r = *p;
	r->b[0] = (uint8_t)(id >> 8);
	r->b[1] = (uint8_t)id;
	r->b[2] |= 0x80;
	r->b[3] |= 0x80;
	r->b[7] = 1;
	/* before an OPT record if there is one: append after it instead and
	 * count it, records may come in any section order we do not read */
	put16(r, 0xc00c);
	put16(r, DNS_TYPE_A);
	put16(r, DNS_CLASS_IN);
	put32(r, 300);
	put16(r, 4);
	put32(r, 0x5db8d822); /* 93.184.216.34 */
}

static void expect_reply_bad(const struct pkt *r, unsigned id, const struct dns_question *q,
			     const char *msg)
{
	struct err *err = NULL;

	assert_int_equal(dns_reply_check(r->b, r->n, (uint16_t)id, q, &err), -EBADMSG);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("want \"%s\", got \"%s\"\n", msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_reply_check(void **state)
{
	struct dns_query q;
	struct pkt p, r;

	mkquery(&p, 1, "example.org", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	mkanswer(&r, &p, 0x7777);
	assert_int_equal(dns_reply_check(r.b, r.n, 0x7777, &q.q, NULL), 0);

	expect_reply_bad(&r, 0x7778, &q.q, "ID");
	r.b[2] &= 0x7f;
	expect_reply_bad(&r, 0x7777, &q.q, "is a query");
	mkanswer(&r, &p, 0x7777);
	r.b[2] |= 1 << 3;
	expect_reply_bad(&r, 0x7777, &q.q, "opcode");
	mkanswer(&r, &p, 0x7777);
	r.b[5] = 0;
	expect_reply_bad(&r, 0x7777, &q.q, "0 questions");
	r.b[5] = 2;
	expect_reply_bad(&r, 0x7777, &q.q, "2 questions");
	for (size_t n = 0; n < DNS_HEADER_LEN; n++) {
		struct pkt s = r;

		s.n = n;
		expect_reply_bad(&s, 0x7777, &q.q, "shorter than a header");
	}
	/* the question cut short */
	mkanswer(&r, &p, 0x7777);
	r.n = DNS_HEADER_LEN + 13 + 3;
	expect_reply_bad(&r, 0x7777, &q.q, "bad question");

	/* another name, type or class */
	{
		struct pkt p2, r2;

		mkquery(&p2, 1, "example.com", DNS_TYPE_A, -1);
		mkanswer(&r2, &p2, 0x7777);
		expect_reply_bad(&r2, 0x7777, &q.q, "another name");
		mkquery(&p2, 1, "example.org.x", DNS_TYPE_A, -1);
		mkanswer(&r2, &p2, 0x7777);
		expect_reply_bad(&r2, 0x7777, &q.q, "another name");
		mkquery(&p2, 1, "example.org", DNS_TYPE_AAAA, -1);
		mkanswer(&r2, &p2, 0x7777);
		expect_reply_bad(&r2, 0x7777, &q.q, "another type");
		mkanswer(&r2, &p, 0x7777);
		r2.b[DNS_HEADER_LEN + 13 + 3] = 3;
		expect_reply_bad(&r2, 0x7777, &q.q, "class");
		/* letter case does not matter */
		mkquery(&p2, 1, "EXAMPLE.Org", DNS_TYPE_A, -1);
		mkanswer(&r2, &p2, 0x7777);
		assert_int_equal(dns_reply_check(r2.b, r2.n, 0x7777, &q.q, NULL), 0);
	}

	/* a compressed question name in a reply */
	header(&r, 0x7777, 0x8180, 1, 0, 0, 0);
	put16(&r, 0xc00c);
	put16(&r, DNS_TYPE_A);
	put16(&r, DNS_CLASS_IN);
	expect_reply_bad(&r, 0x7777, &q.q, "bad question");
}

static void test_reply_fit_and_forward(void **state)
{
	struct dns_query q;
	struct pkt p, r;
	size_t n;

	mkquery(&p, 1, "example.org", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	mkanswer(&r, &p, 9);
	/* fits: untouched */
	n = dns_reply_fit(r.b, r.n, 512, &q.q);
	assert_int_equal(n, r.n);
	assert_int_equal(r.b[2] & 0x02, 0);
	/* does not: header and question, TC, nothing else */
	n = dns_reply_fit(r.b, r.n, r.n - 1, &q.q);
	assert_int_equal(n, DNS_HEADER_LEN + 13 + 4);
	assert_true(r.b[2] & 0x02);
	assert_int_equal(g16(r.b + 4), 1);
	assert_int_equal(g16(r.b + 6), 0);
	assert_int_equal(g16(r.b + 8), 0);
	assert_int_equal(g16(r.b + 10), 0);
	assert_int_equal(dns_reply_check(r.b, n, 9, &q.q, NULL), 0);
	dns_msg_set_id(r.b, 0xabcd);
	assert_int_equal(g16(r.b), 0xabcd);

	/* forwarding: a new ID; the OPT size becomes what the client takes */
	mkquery(&p, 0x1111, "example.org", DNS_TYPE_A, 65000);
	parse_ok(&p, &q);
	dns_query_prepare_forward(p.b, p.n, &q, 0x2222);
	assert_int_equal(g16(p.b), 0x2222);
	assert_int_equal(g16(p.b + q.opt_size_off), DNS_UDP_EDNS_MAX);
	mkquery(&p, 0x1111, "example.org", DNS_TYPE_A, -1);
	parse_ok(&p, &q);
	r = p;
	dns_query_prepare_forward(p.b, p.n, &q, 0x2222);
	assert_int_equal(g16(p.b), 0x2222);
	assert_memory_equal(p.b + 2, r.b + 2, p.n - 2);
}

/* ---- names ---- */

static void test_names(void **state)
{
	uint8_t w[DNS_NAME_WIRE_MAX];
	char long_label[70], long_name[300];
	size_t n;

	assert_int_equal(dns_name_to_wire("web.net1", w, &n), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(w, "\3web\4net1\0", 10);
	assert_int_equal(dns_name_to_wire("web.net1.", w, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(dns_name_to_wire("", w, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dns_name_to_wire(".", w, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dns_name_to_wire("a..b", w, &n), -EINVAL);
	assert_int_equal(dns_name_to_wire(".a", w, &n), -EINVAL);
	assert_int_equal(dns_name_to_wire("a..", w, &n), -EINVAL);
	assert_int_equal(dns_name_to_wire("..", w, &n), -EINVAL);
	memset(long_label, 'x', 64);
	long_label[64] = '\0';
	assert_int_equal(dns_name_to_wire(long_label, w, &n), -EINVAL);
	long_label[63] = '\0';
	assert_int_equal(dns_name_to_wire(long_label, w, &n), 0);
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.61s", long_label, long_label, long_label,
		 long_label);
	assert_int_equal(dns_name_to_wire(long_name, w, &n), 0);
	assert_int_equal(n, 255);
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.62s", long_label, long_label, long_label,
		 long_label);
	assert_int_equal(dns_name_to_wire(long_name, w, &n), -EINVAL);

	assert_true(dns_name_equal("Web", "web"));
	assert_true(dns_name_equal("web.", "WEB"));
	assert_true(dns_name_equal("web.net1.", "web.net1."));
	assert_false(dns_name_equal("web", "web2"));
	assert_false(dns_name_equal("web", "web.."));
	assert_false(dns_name_equal("web", "we"));
	assert_false(dns_name_equal("a.b", "a-b"));
}

static void test_ptr_parse(void **state)
{
	static const char *bad[] = {
	    "4.0.88.in-addr.arpa",
	    "5.4.0.88.10.in-addr.arpa",
	    "256.0.88.10.in-addr.arpa",
	    "04.0.88.10.in-addr.arpa",
	    "4.0.88.1000.in-addr.arpa",
	    "4..88.10.in-addr.arpa",
	    "4.0.88.10in-addr.arpa",
	    "a.0.88.10.in-addr.arpa",
	    "4.0.88.10.in-addr.arpa.x",
	    "in-addr.arpa",
	    "web",
	    "",
	    /* 31 nibbles, 33 nibbles, a non-hex digit, two digits in a label */
	    "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.ip6.arpa",
	    "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.0.ip6.arpa",
	    "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
	    "20.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
	};
	struct net_addr a;
	struct err *err = NULL;

	assert_int_equal(dns_ptr_parse("4.0.88.10.in-addr.arpa", &a, NULL), 0);
	assert_true(net_addr_equal(&a, &(struct net_addr){AF_INET, {10, 88, 0, 4}}));
	assert_int_equal(dns_ptr_parse("0.0.0.0.in-addr.arpa.", &a, NULL), 0);
	assert_int_equal(dns_ptr_parse("255.255.255.255.in-addr.arpa", &a, NULL), 0);
	assert_int_equal(a.b[0], 255);
	assert_int_equal(
	    dns_ptr_parse(
		"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", &a,
		NULL),
	    0);
	{
		struct net_addr want = addr("fd00::2");

		assert_true(net_addr_equal(&a, &want));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dns_ptr_parse(bad[i], &a, &err) != -EINVAL) {
			print_error("accepted %s\n", bad[i]);
			fail();
		}
		assert_non_null(err);
		err_free(&err);
	}
}

/* ---- resolv.conf ---- */

static int rc(const char *text, struct dns_upstream out[DNS_MAX_UPSTREAMS])
{
	memset(out, 0, sizeof(struct dns_upstream) * DNS_MAX_UPSTREAMS);
	return dns_resolv_conf_parse(text, strlen(text), out, NULL);
}

static void expect_up(const struct dns_upstream *u, const char *a)
{
	struct net_addr want = addr(a);

	assert_true(net_addr_equal(&u->addr, &want));
	assert_int_equal(u->port, 53);
}

static void test_resolv_conf(void **state)
{
	struct dns_upstream u[DNS_MAX_UPSTREAMS];
	struct err *err = NULL;
	char *big;

	assert_int_equal(rc("", u), 0);
	assert_int_equal(rc("# nothing\n", u), 0);
	assert_int_equal(rc("nameserver 10.0.0.53\n", u), 1);
	expect_up(&u[0], "10.0.0.53");
	/* no newline at the end, tabs, CRLF, IPv6 */
	assert_int_equal(rc("search example.com\n"
			    "options ndots:2\n"
			    "nameserver\t192.0.2.1\r\n"
			    "nameserver 2001:db8::53",
			    u),
			 2);
	expect_up(&u[0], "192.0.2.1");
	expect_up(&u[1], "2001:db8::53");
	/* comments: whole lines and the rest of a line */
	assert_int_equal(rc("#nameserver 192.0.2.9\n"
			    "; nameserver 192.0.2.8\n"
			    "  nameserver 192.0.2.7\n" /* not at the start: glibc skips it */
			    "nameserver 192.0.2.1 # the office\n"
			    "nameserver 192.0.2.2;x\n",
			    u),
			 2);
	expect_up(&u[0], "192.0.2.1");
	expect_up(&u[1], "192.0.2.2");
	/* at most three; what does not parse is skipped, not counted */
	assert_int_equal(rc("nameserver 192.0.2.300\n"
			    "nameserver fe80::1%eth0\n"
			    "nameserver\n"
			    "nameserver \n"
			    "nameservers 192.0.2.9\n"
			    "nameserver192.0.2.9\n"
			    "nameserver 192.0.2.1\n"
			    "nameserver 192.0.2.2\n"
			    "nameserver 192.0.2.1\n" /* again: skipped */
			    "nameserver 192.0.2.3\n"
			    "nameserver 192.0.2.4\n",
			    u),
			 3);
	expect_up(&u[0], "192.0.2.1");
	expect_up(&u[1], "192.0.2.2");
	expect_up(&u[2], "192.0.2.3");
	/* the loop guard */
	assert_int_equal(rc("nameserver 127.0.0.11\nnameserver 127.0.0.53\n", u), 1);
	expect_up(&u[0], "127.0.0.53");
	/* a NUL inside an address */
	{
		static const char t[] = "nameserver 192.0.2.1\0junk\n";

		assert_int_equal(dns_resolv_conf_parse(t, sizeof(t) - 1, u, NULL), 0);
	}
	/* LEN is honoured: the text need not end in NUL */
	assert_int_equal(dns_resolv_conf_parse("nameserver 192.0.2.1", 15, u, NULL), 0);
	/* too long */
	big = calloc(1, DNS_RESOLV_CONF_MAX + 2);
	assert_non_null(big);
	memset(big, '\n', DNS_RESOLV_CONF_MAX + 1);
	assert_int_equal(dns_resolv_conf_parse(big, DNS_RESOLV_CONF_MAX + 1, u, &err), -EFBIG);
	assert_non_null(err);
	err_free(&err);
	assert_int_equal(dns_resolv_conf_parse(big, DNS_RESOLV_CONF_MAX, u, NULL), 0);
	free(big);
}

/* ---- the server, over loopback ---- */

struct env {
	int fd;	    /* the server's listening socket */
	int up[2];  /* fake upstreams */
	int client; /* a container process */
	struct sockaddr_in srv_addr, up_addr[2];
	struct dns_server *srv;
	int64_t skew; /* added to the clock: how tests make time pass */
	char last_name[DNS_NAME_TEXT_MAX];
	int lookups;
};

static int udp_socket(struct sockaddr_in *bound)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	if (bound)
		*bound = sin;
	return fd;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The endpoints: web (two IPv4 containers behind one alias, and one IPv6),
 * db (IPv4 only), broken (the table cannot be read). */
static int lookup(const char *name, int qtype, struct net_addr *out, size_t max, void *data)
{
	struct env *e = data;
	static const struct {
		const char *name, *addr;
	} table[] = {
	    {"web", "10.88.0.2"}, {"web", "10.88.0.3"},	    {"web", "fd00::2"},
	    {"db", "10.88.0.4"},  {"db.net1", "10.88.0.4"},
	};
	size_t n = 0;
	bool found = false;

	snprintf(e->last_name, sizeof(e->last_name), "%s", name);
	e->lookups++;
	if (!strcmp(name, "broken"))
		return -EIO;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct net_addr a = addr(table[i].addr);

		if (!dns_name_equal(table[i].name, name))
			continue;
		found = true;
		if ((qtype == DNS_TYPE_A) != (a.family == AF_INET))
			continue;
		if (n < max)
			out[n++] = a;
	}
	return found ? (int)n : -ENOENT;
}

static int reverse(const struct net_addr *a, char *name, size_t cap, void *data)
{
	struct net_addr db = addr("10.88.0.4");

	if (!net_addr_equal(a, &db))
		return -ENOENT;
	snprintf(name, cap, "db.net1");
	return 0;
}

static void env_start(struct env *e, int n_up, bool forward, unsigned max_pending)
{
	struct dns_server_config cfg = {
	    .lookup = lookup,
	    .reverse = reverse,
	    .data = e,
	    .forward = forward,
	    .timeout_ms = 500,
	    .max_pending = max_pending,
	};
	struct err *err = NULL;

	memset(e, 0, sizeof(*e));
	e->fd = udp_socket(&e->srv_addr);
	e->client = udp_socket(NULL);
	cfg.fd = e->fd;
	for (int i = 0; i < 2; i++) {
		e->up[i] = udp_socket(&e->up_addr[i]);
		if (i < n_up) {
			cfg.upstreams[i].addr = addr("127.0.0.1");
			cfg.upstreams[i].port = ntohs(e->up_addr[i].sin_port);
			cfg.n_upstreams++;
		}
	}
	if (dns_server_new(&cfg, &e->srv, &err) < 0) {
		print_error("dns_server_new: %s\n", err->msg);
		err_free(&err);
		fail();
	}
}

static void env_stop(struct env *e)
{
	dns_server_free(e->srv);
	close(e->fd);
	close(e->client);
	close(e->up[0]);
	close(e->up[1]);
}

/* Runs the server until WATCH is readable or MS pass; true when readable. */
static bool serve_until(struct env *e, int watch, int ms)
{
	int64_t end = mono_ms() + ms;

	for (;;) {
		struct pollfd pfds[1 + DNS_SERVER_MAX_PENDING + 1];
		size_t n = dns_server_fds(e->srv, pfds, DNS_SERVER_MAX_PENDING + 1);
		int64_t left = end - mono_ms();
		int t = dns_server_next_timeout_ms(e->srv, mono_ms() + e->skew);
		struct err *err = NULL;

		assert_true(n <= DNS_SERVER_MAX_PENDING + 1);
		pfds[n] = (struct pollfd){.fd = watch, .events = POLLIN};
		if (left < 0)
			left = 0;
		if (t < 0 || t > left)
			t = (int)left;
		assert_true(poll(pfds, n + 1, t) >= 0);
		if (dns_server_handle(e->srv, pfds, n, mono_ms() + e->skew, &err) < 0) {
			print_error("dns_server_handle: %s\n", err->msg);
			err_free(&err);
			fail();
		}
		if (pfds[n].revents & POLLIN)
			return true;
		{
			struct pollfd w = {.fd = watch, .events = POLLIN};

			if (poll(&w, 1, 0) == 1)
				return true;
		}
		if (mono_ms() >= end)
			return false;
	}
}

static void client_send(struct env *e, const struct pkt *p)
{
	assert_int_equal(
	    sendto(e->client, p->b, p->n, 0, (struct sockaddr *)&e->srv_addr, sizeof(e->srv_addr)),
	    (ssize_t)p->n);
}

/* The next reply to the client, within a second. */
static void client_recv(struct env *e, struct pkt *r)
{
	ssize_t n;

	if (!serve_until(e, e->client, 1000)) {
		print_error("no reply reached the client\n");
		fail();
	}
	n = recv(e->client, r->b, sizeof(r->b), MSG_DONTWAIT);
	assert_true(n >= DNS_HEADER_LEN);
	r->n = (size_t)n;
}

static void client_nothing(struct env *e, int ms)
{
	uint8_t b[64];

	assert_false(serve_until(e, e->client, ms));
	assert_int_equal(recv(e->client, b, sizeof(b), MSG_DONTWAIT), -1);
}

/* What upstream I received, and from where (the server's socket for it). */
static void up_recv(struct env *e, int i, struct pkt *q, struct sockaddr_in *from)
{
	socklen_t fl = sizeof(*from);
	ssize_t n;

	if (!serve_until(e, e->up[i], 1000)) {
		print_error("nothing reached upstream %d\n", i);
		fail();
	}
	n = recvfrom(e->up[i], q->b, sizeof(q->b), MSG_DONTWAIT, (struct sockaddr *)from, &fl);
	assert_true(n >= DNS_HEADER_LEN);
	q->n = (size_t)n;
}

static void up_nothing(struct env *e, int i, int ms)
{
	uint8_t b[64];

	assert_false(serve_until(e, e->up[i], ms));
	assert_int_equal(recv(e->up[i], b, sizeof(b), MSG_DONTWAIT), -1);
}

static void send_to(int fd, const struct pkt *p, const struct sockaddr_in *to)
{
	assert_int_equal(sendto(fd, p->b, p->n, 0, (const struct sockaddr *)to, sizeof(*to)),
			 (ssize_t)p->n);
}

static size_t answers(const struct pkt *r, struct rr *rrs, size_t max)
{
	return walk(r->b, r->n, rrs, max);
}

static void test_server_local(void **state)
{
	struct env e;
	struct pkt p, r;
	struct rr rrs[8];
	bool seen2 = false, seen3 = false;

	env_start(&e, 1, true, 0);

	/* A: both containers behind "web", any order; the name as spelled */
	mkquery(&p, 0x1234, "WEB.", DNS_TYPE_A, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_string_equal(e.last_name, "web");
	assert_int_equal(g16(r.b), 0x1234);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_NOERROR);
	assert_memory_equal(r.b + 12, "\3WEB\0", 5);
	assert_int_equal(answers(&r, rrs, 8), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rrs[i].type, DNS_TYPE_A);
		seen2 |= !memcmp(rrs[i].rdata, "\x0a\x58\x00\x02", 4);
		seen3 |= !memcmp(rrs[i].rdata, "\x0a\x58\x00\x03", 4);
	}
	assert_true(seen2 && seen3);

	/* AAAA */
	mkquery(&p, 2, "web", DNS_TYPE_AAAA, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(answers(&r, rrs, 8), 1);
	assert_int_equal(rrs[0].type, DNS_TYPE_AAAA);

	/* a name without an IPv6 address: NOERROR, no answer, not forwarded */
	mkquery(&p, 3, "db", DNS_TYPE_AAAA, 1232);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 3);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_NOERROR);
	assert_int_equal(g16(r.b + 6), 0);
	assert_int_equal(g16(r.b + 10), 1); /* EDNS in, EDNS out */

	/* another type of a local name: NOERROR, no answer */
	mkquery(&p, 4, "web", DNS_TYPE_MX, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_NOERROR);
	assert_int_equal(g16(r.b + 6), 0);

	/* the table cannot be read: SERVFAIL */
	mkquery(&p, 5, "broken", DNS_TYPE_A, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);

	/* PTR of an endpoint's address */
	mkquery(&p, 6, "4.0.88.10.in-addr.arpa", DNS_TYPE_PTR, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(answers(&r, rrs, 8), 1);
	assert_int_equal(rrs[0].type, DNS_TYPE_PTR);
	assert_memory_equal(rrs[0].rdata, "\2db\4net1\0", 9);

	/* none of that went upstream */
	up_nothing(&e, 0, 50);
	assert_int_equal(dns_server_stats(e.srv)->forwarded, 0);
	assert_int_equal(dns_server_stats(e.srv)->local, 5);
	assert_int_equal(dns_server_next_timeout_ms(e.srv, mono_ms()), -1);
	env_stop(&e);
}

static void test_server_forward(void **state)
{
	struct env e;
	struct pkt p, fq, a, r;
	struct sockaddr_in from;
	struct dns_query q;
	uint16_t ids[4];
	bool differ = false;

	env_start(&e, 1, true, 0);
	for (int i = 0; i < 4; i++) {
		int t;

		mkquery(&p, 0x4242, "Example.org", DNS_TYPE_A, i == 0 ? 65000 : -1);
		client_send(&e, &p);
		up_recv(&e, 0, &fq, &from);
		/* the same question, a fresh ID, the EDNS size capped */
		assert_int_equal(fq.n, p.n);
		assert_memory_equal(fq.b + 2, p.b + 2, 10);
		assert_memory_equal(fq.b + 12, p.b + 12, 17);
		ids[i] = (uint16_t)g16(fq.b);
		if (i == 0) {
			parse_ok(&fq, &q);
			assert_int_equal(q.udp_size, DNS_UDP_EDNS_MAX);
		}
		/* not from the listening socket: from a socket of its own */
		assert_int_not_equal(from.sin_port, e.srv_addr.sin_port);
		t = dns_server_next_timeout_ms(e.srv, mono_ms() + e.skew);
		assert_true(t >= 0 && t <= 500);

		mkanswer(&a, &fq, ids[i]);
		send_to(e.up[0], &a, &from);
		client_recv(&e, &r);
		/* the client's ID back, every other byte as the upstream said */
		assert_int_equal(g16(r.b), 0x4242);
		assert_int_equal(r.n, a.n);
		assert_memory_equal(r.b + 2, a.b + 2, a.n - 2);
		assert_int_equal(dns_server_next_timeout_ms(e.srv, mono_ms()), -1);
	}
	for (int i = 1; i < 4; i++)
		differ |= ids[i] != ids[0];
	assert_true(differ);
	assert_int_equal(dns_server_stats(e.srv)->relayed, 4);
	/* a name that is not printable text is forwarded, never looked up */
	{
		int before = e.lookups;

		header(&p, 9, 0, 1, 0, 0, 0);
		putbytes(&p, "\3a.b\0", 5);
		put16(&p, DNS_TYPE_A);
		put16(&p, DNS_CLASS_IN);
		client_send(&e, &p);
		up_recv(&e, 0, &fq, &from);
		assert_int_equal(e.lookups, before);
		assert_memory_equal(fq.b + 12, "\3a.b\0", 5);
	}
	env_stop(&e);
}

static void test_server_timeout(void **state)
{
	struct env e;
	struct pkt p, fq, r;
	struct sockaddr_in from;

	env_start(&e, 2, true, 0);
	mkquery(&p, 0x0101, "slow.example", DNS_TYPE_A, -1);
	client_send(&e, &p);
	up_recv(&e, 0, &fq, &from);
	/* the first upstream says nothing: after the timeout, the second */
	client_nothing(&e, 30);
	e.skew += 600;
	up_recv(&e, 1, &fq, &from);
	assert_memory_equal(fq.b + 12, p.b + 12, p.n - 12);
	/* nor does the second: SERVFAIL, with the client's ID */
	e.skew += 600;
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x0101);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);
	assert_int_equal(g16(r.b + 4), 1);
	assert_true(dns_server_stats(e.srv)->timeouts >= 2);
	assert_int_equal(dns_server_next_timeout_ms(e.srv, mono_ms() + e.skew), -1);
	up_nothing(&e, 0, 20);
	env_stop(&e);
}

static void test_server_no_forward(void **state)
{
	struct env e;
	struct pkt p, r;

	/* an --internal network: an upstream is configured and never used */
	env_start(&e, 1, false, 0);
	mkquery(&p, 0x0202, "example.org", DNS_TYPE_A, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x0202);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);
	/* local names still resolve */
	mkquery(&p, 0x0203, "db", DNS_TYPE_A, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b + 6), 1);
	/* other types of non-local names too, and PTR of unknown addresses */
	mkquery(&p, 0x0204, "example.org", DNS_TYPE_TXT, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);
	mkquery(&p, 0x0205, "1.1.1.1.in-addr.arpa", DNS_TYPE_PTR, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);
	up_nothing(&e, 0, 100);
	assert_int_equal(dns_server_stats(e.srv)->forwarded, 0);
	assert_int_equal(dns_server_next_timeout_ms(e.srv, mono_ms()), -1);
	env_stop(&e);
}

static void test_server_spoofed_replies(void **state)
{
	struct env e;
	struct pkt p, fq, a, r;
	struct sockaddr_in from;
	unsigned id;
	int other;

	env_start(&e, 1, true, 0);
	mkquery(&p, 0x3030, "example.org", DNS_TYPE_A, -1);
	client_send(&e, &p);
	up_recv(&e, 0, &fq, &from);
	id = g16(fq.b);

	/* the wrong ID */
	mkanswer(&a, &fq, (id + 1) & 0xffff);
	send_to(e.up[0], &a, &from);
	client_nothing(&e, 50);
	assert_int_equal(dns_server_stats(e.srv)->bad_replies, 1);
	/* the right ID, another question */
	{
		struct pkt other_q;

		mkquery(&other_q, id, "example.com", DNS_TYPE_A, -1);
		mkanswer(&a, &other_q, id);
		send_to(e.up[0], &a, &from);
		client_nothing(&e, 50);
		assert_int_equal(dns_server_stats(e.srv)->bad_replies, 2);
	}
	/* a query, not a reply */
	send_to(e.up[0], &fq, &from);
	client_nothing(&e, 50);
	assert_int_equal(dns_server_stats(e.srv)->bad_replies, 3);
	/* a perfect reply from another address: the kernel drops it */
	other = udp_socket(NULL);
	mkanswer(&a, &fq, id);
	send_to(other, &a, &from);
	client_nothing(&e, 50);
	close(other);
	/* the real one still gets through */
	send_to(e.up[0], &a, &from);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x3030);
	assert_memory_equal(r.b + 2, a.b + 2, a.n - 2);
	/* and only once */
	send_to(e.up[0], &a, &from);
	client_nothing(&e, 50);
	assert_int_equal(dns_server_stats(e.srv)->relayed, 1);
	env_stop(&e);
}

static void test_server_next_upstream(void **state)
{
	struct env e;
	struct pkt p, fq, a, r;
	struct sockaddr_in from;

	/* the first upstream answers SERVFAIL: the second is asked */
	env_start(&e, 2, true, 0);
	mkquery(&p, 0x5050, "example.org", DNS_TYPE_A, -1);
	client_send(&e, &p);
	up_recv(&e, 0, &fq, &from);
	a = fq;
	a.b[2] |= 0x80;
	a.b[3] = (a.b[3] & 0xf0) | DNS_RCODE_SERVFAIL;
	send_to(e.up[0], &a, &from);
	up_recv(&e, 1, &fq, &from);
	mkanswer(&a, &fq, g16(fq.b));
	send_to(e.up[1], &a, &from);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x5050);
	assert_int_equal(r.b[3] & 0xf, 0);
	assert_int_equal(g16(r.b + 6), 1);
	env_stop(&e);

	/* a good answer (NOERROR, or NXDOMAIN: the name does not exist
	 * anywhere) from the first upstream is relayed; the second is not
	 * asked */
	for (int rcode = DNS_RCODE_NOERROR; rcode <= DNS_RCODE_NXDOMAIN;
	     rcode += DNS_RCODE_NXDOMAIN) {
		env_start(&e, 2, true, 0);
		mkquery(&p, 0x5353, "example.org", DNS_TYPE_A, -1);
		client_send(&e, &p);
		up_recv(&e, 0, &fq, &from);
		mkanswer(&a, &fq, g16(fq.b));
		a.b[3] = (uint8_t)((a.b[3] & 0xf0) | rcode);
		send_to(e.up[0], &a, &from);
		client_recv(&e, &r);
		assert_int_equal(g16(r.b), 0x5353);
		assert_int_equal(r.b[3] & 0xf, rcode);
		up_nothing(&e, 1, 50);
		env_stop(&e);
	}

	/* nothing listens on the first: the refusal moves on at once */
	env_start(&e, 2, true, 0);
	close(e.up[0]);
	e.up[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* for env_stop */
	mkquery(&p, 0x5151, "example.org", DNS_TYPE_A, -1);
	client_send(&e, &p);
	up_recv(&e, 1, &fq, &from);
	assert_int_equal(e.skew, 0);
	mkanswer(&a, &fq, g16(fq.b));
	send_to(e.up[1], &a, &from);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x5151);
	env_stop(&e);

	/* the last upstream's SERVFAIL is relayed as it is */
	env_start(&e, 1, true, 0);
	mkquery(&p, 0x5252, "example.org", DNS_TYPE_A, -1);
	client_send(&e, &p);
	up_recv(&e, 0, &fq, &from);
	a = fq;
	a.b[2] |= 0x80;
	a.b[3] = (a.b[3] & 0xf0) | DNS_RCODE_SERVFAIL;
	send_to(e.up[0], &a, &from);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x5252);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);
	assert_int_equal(dns_server_stats(e.srv)->relayed, 1);
	env_stop(&e);
}

static void test_server_truncates(void **state)
{
	struct env e;
	struct pkt p, fq, a, r;
	struct sockaddr_in from;

	/* an upstream reply over the client's 512 bytes: header and question
	 * with TC, so the client knows it is not the whole answer */
	env_start(&e, 1, true, 0);
	mkquery(&p, 0x6060, "big.example", DNS_TYPE_TXT, -1);
	client_send(&e, &p);
	up_recv(&e, 0, &fq, &from);
	a = fq;
	a.b[2] |= 0x80;
	a.b[7] = 1;
	put16(&a, 0xc00c);
	put16(&a, DNS_TYPE_TXT);
	put16(&a, DNS_CLASS_IN);
	put32(&a, 60);
	put16(&a, 601);
	put8(&a, 255);
	for (int i = 0; i < 600; i++)
		put8(&a, 'x');
	send_to(e.up[0], &a, &from);
	client_recv(&e, &r);
	assert_int_equal(r.n, p.n);
	assert_int_equal(g16(r.b), 0x6060);
	assert_true(r.b[2] & 0x02);
	assert_int_equal(g16(r.b + 6), 0);
	env_stop(&e);
}

static void test_server_malformed(void **state)
{
	struct env e;
	struct pkt p, r;

	env_start(&e, 1, true, 0);
	/* too short for a header: dropped */
	p.n = 5;
	memset(p.b, 0xff, 5);
	client_send(&e, &p);
	/* a response: dropped (never answered, so no ping-pong) */
	mkquery(&p, 1, "web", DNS_TYPE_A, -1);
	p.b[2] |= 0x80;
	client_send(&e, &p);
	client_nothing(&e, 50);
	assert_int_equal(dns_server_stats(e.srv)->dropped, 2);

	/* a header with no question: FORMERR with its ID */
	header(&p, 0x7070, 0, 0, 0, 0, 0);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.n, DNS_HEADER_LEN);
	assert_int_equal(g16(r.b), 0x7070);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_FORMERR);
	/* a pointer loop: FORMERR */
	mkquery(&p, 0x7171, "web", DNS_TYPE_A, -1);
	p.b[11] = 1;
	put16(&p, 0xc000 | (unsigned)p.n);
	put16(&p, DNS_TYPE_A);
	put16(&p, DNS_CLASS_IN);
	put32(&p, 0);
	put16(&p, 0);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_FORMERR);
	/* CHAOS: REFUSED */
	header(&p, 0x7272, 0, 1, 0, 0, 0);
	putname(&p, "version.bind");
	put16(&p, DNS_TYPE_TXT);
	put16(&p, 3);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_REFUSED);
	/* a flood of random junk, then the server still answers */
	srand(1);
	for (int i = 0; i < 300; i++) {
		p.n = (size_t)(rand() % 600);
		for (size_t k = 0; k < p.n; k++)
			p.b[k] = (uint8_t)rand();
		p.b[2] &= 0x07; /* mostly queries, so they get parsed deeper */
		client_send(&e, &p);
		if (i % 50 == 0)
			serve_until(&e, -1, 5);
	}
	serve_until(&e, -1, 50);
	while (recv(e.client, r.b, sizeof(r.b), MSG_DONTWAIT) > 0)
		;
	mkquery(&p, 0x7373, "db", DNS_TYPE_A, -1);
	client_send(&e, &p);
	for (;;) {
		client_recv(&e, &r);
		if (g16(r.b) == 0x7373)
			break;
	}
	assert_int_equal(g16(r.b + 6), 1);
	env_stop(&e);
}

static void test_server_loop_guard(void **state)
{
	struct dns_server_config cfg = {.lookup = lookup, .forward = true};
	struct dns_server *srv = NULL;
	struct env e;
	struct pkt p, r;
	struct err *err = NULL;

	/* upstreams that are the server itself, or 127.0.0.11: not used */
	memset(&e, 0, sizeof(e));
	e.fd = udp_socket(&e.srv_addr);
	e.client = udp_socket(NULL);
	e.up[0] = udp_socket(NULL);
	e.up[1] = udp_socket(NULL);
	cfg.fd = e.fd;
	cfg.data = &e;
	cfg.upstreams[0].addr = addr("127.0.0.1");
	cfg.upstreams[0].port = ntohs(e.srv_addr.sin_port);
	cfg.upstreams[1].addr = addr("127.0.0.11");
	cfg.upstreams[1].port = 53;
	cfg.n_upstreams = 2;
	assert_int_equal(dns_server_new(&cfg, &srv, &err), 0);
	e.srv = srv;
	mkquery(&p, 0x0909, "example.org", DNS_TYPE_A, -1);
	client_send(&e, &p);
	client_recv(&e, &r);
	assert_int_equal(r.b[3] & 0xf, DNS_RCODE_SERVFAIL);
	serve_until(&e, -1, 50);
	/* one query came in, none went out, none came back round */
	assert_int_equal(dns_server_stats(srv)->queries, 1);
	assert_int_equal(dns_server_stats(srv)->forwarded, 0);
	env_stop(&e);
}

static void test_server_bounded(void **state)
{
	struct env e;
	struct pkt p, fq[3], a, r;
	struct sockaddr_in from[3];
	static const char *names[] = {"a.example", "b.example", "c.example"};

	/* room for two: the third evicts the oldest */
	env_start(&e, 1, true, 2);
	for (int i = 0; i < 3; i++) {
		mkquery(&p, 0x0a00 + (unsigned)i, names[i], DNS_TYPE_A, -1);
		client_send(&e, &p);
		up_recv(&e, 0, &fq[i], &from[i]);
	}
	assert_int_equal(dns_server_stats(e.srv)->evicted, 1);
	{
		struct pollfd pfds[8];

		assert_int_equal(dns_server_fds(e.srv, pfds, 8), 3);
		/* a short array: what fits, and how many were wanted */
		assert_int_equal(dns_server_fds(e.srv, pfds, 1), 3);
		assert_int_equal(pfds[0].fd, e.fd);
	}
	/* the evicted query's socket is closed: its port is free again */
	{
		int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		assert_true(probe >= 0);
		assert_int_equal(bind(probe, (struct sockaddr *)&from[0], sizeof(from[0])), 0);
		close(probe);
		probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_int_equal(bind(probe, (struct sockaddr *)&from[1], sizeof(from[1])), -1);
		assert_int_equal(errno, EADDRINUSE);
		close(probe);
	}
	/* the evicted query's answer goes nowhere */
	mkanswer(&a, &fq[0], g16(fq[0].b));
	send_to(e.up[0], &a, &from[0]);
	client_nothing(&e, 50);
	/* the others are answered */
	for (int i = 2; i >= 1; i--) {
		mkanswer(&a, &fq[i], g16(fq[i].b));
		send_to(e.up[0], &a, &from[i]);
		client_recv(&e, &r);
		assert_int_equal(g16(r.b), 0x0a00 + (unsigned)i);
	}
	env_stop(&e);

	/* a retransmission of a pending query is not forwarded again */
	env_start(&e, 1, true, 0);
	mkquery(&p, 0x0b00, "slow.example", DNS_TYPE_A, -1);
	client_send(&e, &p);
	up_recv(&e, 0, &fq[0], &from[0]);
	client_send(&e, &p);
	up_nothing(&e, 0, 50);
	assert_int_equal(dns_server_stats(e.srv)->duplicates, 1);
	mkanswer(&a, &fq[0], g16(fq[0].b));
	send_to(e.up[0], &a, &from[0]);
	client_recv(&e, &r);
	assert_int_equal(g16(r.b), 0x0b00);
	client_nothing(&e, 30);
	env_stop(&e);
}

static void test_server_new_errors(void **state)
{
	struct dns_server_config cfg = {.lookup = lookup};
	struct dns_server *srv = NULL;
	struct err *err = NULL;
	int pipefd[2], tcp;

	/* no lookup callback */
	cfg.fd = udp_socket(NULL);
	cfg.lookup = NULL;
	assert_int_equal(dns_server_new(&cfg, &srv, &err), -EINVAL);
	assert_null(srv);
	err_free(&err);
	cfg.lookup = lookup;
	/* too many upstreams, an upstream without an address */
	cfg.n_upstreams = DNS_MAX_UPSTREAMS + 1;
	assert_int_equal(dns_server_new(&cfg, &srv, &err), -EINVAL);
	err_free(&err);
	cfg.n_upstreams = 1;
	assert_int_equal(dns_server_new(&cfg, &srv, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "no address"));
	err_free(&err);
	cfg.n_upstreams = 0;
	close(cfg.fd);
	/* not a socket, not UDP */
	assert_int_equal(pipe(pipefd), 0);
	cfg.fd = pipefd[0];
	assert_int_equal(dns_server_new(&cfg, &srv, &err), -ENOTSOCK);
	err_free(&err);
	close(pipefd[0]);
	close(pipefd[1]);
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	cfg.fd = tcp;
	assert_int_equal(dns_server_new(&cfg, &srv, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "not UDP"));
	err_free(&err);
	close(tcp);
	assert_null(srv);
	dns_server_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_basic),
	    cmocka_unit_test(test_parse_edns),
	    cmocka_unit_test(test_parse_short),
	    cmocka_unit_test(test_parse_every_prefix),
	    cmocka_unit_test(test_parse_header_rules),
	    cmocka_unit_test(test_parse_names),
	    cmocka_unit_test(test_parse_pointers),
	    cmocka_unit_test(test_parse_opt_rules),
	    cmocka_unit_test(test_parse_class_and_size),
	    cmocka_unit_test(test_build_answers),
	    cmocka_unit_test(test_build_rcodes),
	    cmocka_unit_test(test_build_edns),
	    cmocka_unit_test(test_build_size_cap),
	    cmocka_unit_test(test_build_ptr),
	    cmocka_unit_test(test_reply_check),
	    cmocka_unit_test(test_reply_fit_and_forward),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_ptr_parse),
	    cmocka_unit_test(test_resolv_conf),
	    cmocka_unit_test(test_server_local),
	    cmocka_unit_test(test_server_forward),
	    cmocka_unit_test(test_server_timeout),
	    cmocka_unit_test(test_server_no_forward),
	    cmocka_unit_test(test_server_spoofed_replies),
	    cmocka_unit_test(test_server_next_upstream),
	    cmocka_unit_test(test_server_truncates),
	    cmocka_unit_test(test_server_malformed),
	    cmocka_unit_test(test_server_loop_guard),
	    cmocka_unit_test(test_server_bounded),
	    cmocka_unit_test(test_server_new_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

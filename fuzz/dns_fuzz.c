/*
 * fuzz/dns_fuzz.c - libFuzzer target for net/dns.c: the query parser, the
 * reply builders, the upstream reply check, truncation, names, PTR names
 * and resolv.conf, all fed the same bytes.
 *
 * Properties:
 *  - a failed parse sets an error and maps to an rcode or a drop; the
 *    error reply it gets fits its buffer and, when it echoes a question,
 *    passes the reply check for that query;
 *  - a parsed query has a bounded, consistent question: its text names
 *    the same thing as its wire form when name_ok, its UDP size is within
 *    512..4096, its OPT size field lies inside the datagram;
 *  - every reply built for a parsed query (addresses, rcodes, PTR) stays
 *    within min(capacity, the client's UDP size), answers at most what it
 *    was given, and passes the reply check with the query's ID and
 *    question, also after truncation;
 *  - the query rewritten for an upstream parses again to the same
 *    question; with QR set, the input is a reply to its own question;
 *  - any bytes given to the reply check and to truncation are handled;
 *    truncation never grows a reply, and a checked reply stays checked;
 *  - resolv.conf yields at most 3 distinct upstreams on port 53, none of
 *    them 127.0.0.11;
 *  - a name that converts to wire form is at most 255 bytes and equals
 *    itself; a PTR name that parses formats back to the same name.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t caps[] = {0, 12, 40, 300, 512, 1500, DNS_UDP_EDNS_MAX};

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static unsigned g16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

/* A reply moat built for Q into a buffer of CAP bytes, LEN long. */
static void check_built(const struct dns_query *q, const uint8_t *out, int len, size_t cap,
			size_t n_given, int rcode)
{
	size_t lim = q->udp_size < cap ? q->udp_size : cap;

	if (len < 0)
		return;
	if ((size_t)len > lim || len < DNS_HEADER_LEN)
		abort();
	if (g16(out) != q->id || !(out[2] & 0x80) || (out[3] & 0xf) != (rcode & 0xf))
		abort();
	if (g16(out + 6) > n_given)
		abort();
	if (q->has_question) {
		uint8_t copy[DNS_UDP_EDNS_MAX];
		size_t n;

		if (dns_reply_check(out, (size_t)len, q->id, &q->q, NULL) < 0)
			abort();
		memcpy(copy, out, (size_t)len);
		n = dns_reply_fit(copy, (size_t)len, (size_t)len / 2, &q->q);
		if (n > (size_t)len || dns_reply_check(copy, n, q->id, &q->q, NULL) < 0)
			abort();
	} else if (g16(out + 4) != 0) {
		abort();
	}
}

static void check_query(const uint8_t *data, size_t size, const struct dns_query *q)
{
	static uint8_t out[DNS_UDP_EDNS_MAX], copy[DNS_UDP_EDNS_MAX + 1];
	struct net_addr addrs[12];
	size_t na = 0;

	if (!q->has_question || q->q.wire_len < 1 || q->q.wire_len > DNS_NAME_WIRE_MAX)
		abort();
	if (q->udp_size < DNS_UDP_PLAIN_MAX || q->udp_size > DNS_UDP_EDNS_MAX)
		abort();
	if (q->edns && q->opt_size_off + 2 > size)
		abort();
	if (strlen(q->q.name) >= DNS_NAME_TEXT_MAX)
		abort();
	if (q->q.name_ok) {
		uint8_t w[DNS_NAME_WIRE_MAX];
		size_t wl;

		if (dns_name_to_wire(q->q.name, w, &wl) < 0 || wl != q->q.wire_len)
			abort();
		for (size_t i = 0; i < wl; i++)
			if (w[i] != lower(q->q.wire[i]))
				abort();
	}

	/* addresses made of the input's bytes */
	for (size_t i = 0; i < 12; i++) {
		memset(&addrs[na], 0, sizeof(addrs[na]));
		addrs[na].family = i % 3 == 2 ? AF_INET6 : AF_INET;
		for (size_t k = 0; k < 16 && size; k++)
			addrs[na].b[k] = data[(i * 16 + k) % size];
		if (addrs[na].family == AF_INET)
			memset(addrs[na].b + 4, 0, 12);
		na++;
	}
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		static const int rcodes[] = {DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN,
					     DNS_RCODE_SERVFAIL, DNS_RCODE_REFUSED};

		for (size_t r = 0; r < 4; r++)
			check_built(q, out, dns_reply_build(q, rcodes[r], NULL, 0, out, caps[c]),
				    caps[c], 0, rcodes[r]);
		check_built(q, out, dns_reply_build(q, 0, addrs, na, out, caps[c]), caps[c], na, 0);
		if (q->q.name_ok)
			check_built(q, out, dns_reply_build_ptr(q, q->q.name, out, caps[c]),
				    caps[c], 1, 0);
	}

	/* rewritten for an upstream: the same question, the new ID */
	{
		struct dns_query back;

		memcpy(copy, data, size);
		dns_query_prepare_forward(copy, size, q, 0xa5a5);
		if (dns_query_parse(copy, size, &back, NULL) < 0 || back.id != 0xa5a5 ||
		    back.q.wire_len != q->q.wire_len ||
		    memcmp(back.q.wire, q->q.wire, q->q.wire_len) || back.q.qtype != q->q.qtype ||
		    back.udp_size != q->udp_size)
			abort();
	}
	/* the input with QR set answers itself */
	memcpy(copy, data, size);
	copy[2] |= 0x80;
	if (dns_reply_check(copy, size, q->id, &q->q, NULL) < 0)
		abort();

	/* a PTR name that parses is the canonical spelling of its address */
	{
		struct net_addr a;

		if (q->q.name_ok && dns_ptr_parse(q->q.name, &a, NULL) == 0) {
			char want[DNS_NAME_TEXT_MAX];
			size_t n = 0;

			if (a.family == AF_INET) {
				snprintf(want, sizeof(want), "%u.%u.%u.%u.in-addr.arpa", a.b[3],
					 a.b[2], a.b[1], a.b[0]);
			} else {
				for (int i = 15; i >= 0; i--)
					n += (size_t)snprintf(want + n, sizeof(want) - n, "%x.%x.",
							      a.b[i] & 0xf, a.b[i] >> 4);
				snprintf(want + n, sizeof(want) - n, "ip6.arpa");
			}
			if (strcmp(want, q->q.name))
				abort();
		}
	}
}

static void check_failed(int r, const struct dns_query *q, struct err *err)
{
	static uint8_t out[DNS_UDP_EDNS_MAX];
	int rcode = dns_query_error_rcode(r);

	if (!err || !err->msg[0])
		abort();
	if (rcode < 0)
		return;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		int len = dns_reply_build(q, rcode, NULL, 0, out, caps[c]);

		/* 512 bytes always hold a header, a question and an OPT record */
		if (len < 0 && caps[c] >= DNS_UDP_PLAIN_MAX)
			abort();
		check_built(q, out, len, caps[c], 0, rcode);
	}
}

static void check_resolv(const uint8_t *data, size_t size)
{
	struct dns_upstream up[DNS_MAX_UPSTREAMS];
	int n = dns_resolv_conf_parse((const char *)data, size, up, NULL);

	if (n < 0 || n > DNS_MAX_UPSTREAMS)
		abort();
	for (int i = 0; i < n; i++) {
		if (up[i].port != 53 || dns_addr_is_embedded(&up[i].addr) ||
		    (up[i].addr.family != AF_INET && up[i].addr.family != AF_INET6))
			abort();
		for (int k = 0; k < i; k++)
			if (net_addr_equal(&up[i].addr, &up[k].addr))
				abort();
	}
}

static void check_names(const uint8_t *data, size_t size)
{
	char text[320];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	uint8_t w[DNS_NAME_WIRE_MAX];
	struct net_addr a;
	size_t wl;

	memcpy(text, data, n);
	text[n] = '\0';
	if (dns_name_to_wire(text, w, &wl) == 0) {
		size_t pos = 0;

		if (wl < 1 || wl > DNS_NAME_WIRE_MAX)
			abort();
		/* well formed: labels of 1..63 bytes ending in the root */
		while (w[pos]) {
			if (w[pos] > DNS_LABEL_MAX)
				abort();
			pos += 1 + w[pos];
			if (pos >= wl)
				abort();
		}
		if (pos != wl - 1)
			abort();
	}
	if (!dns_name_equal(text, text))
		abort();
	(void)dns_ptr_parse(text, &a, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_question fixed;
	struct dns_query q;
	struct err *err = NULL;
	int r;

	r = dns_query_parse(data, size, &q, &err);
	if (r < 0) {
		check_failed(r, &q, err);
		err_free(&err);
	} else {
		if (err)
			abort();
		check_query(data, size, &q);
	}

	/* as an upstream's reply to a fixed question, with the input's ID */
	memset(&fixed, 0, sizeof(fixed));
	memcpy(fixed.wire, "\7example\3org\0", 13);
	fixed.wire_len = 13;
	fixed.qtype = DNS_TYPE_A;
	fixed.qclass = DNS_CLASS_IN;
	if (size >= DNS_HEADER_LEN && size <= DNS_UDP_EDNS_MAX &&
	    dns_reply_check(data, size, (uint16_t)g16(data), &fixed, NULL) == 0) {
		static uint8_t copy[DNS_UDP_EDNS_MAX];
		size_t n;

		if (dns_reply_rcode(data) > 15)
			abort();
		memcpy(copy, data, size);
		n = dns_reply_fit(copy, size, 64, &fixed);
		if (n > size || dns_reply_check(copy, n, (uint16_t)g16(data), &fixed, NULL) < 0)
			abort();
	}

	check_resolv(data, size);
	check_names(data, size);
	return 0;
}

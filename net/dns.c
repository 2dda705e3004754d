/*
 * net/dns.c - DNS packets for the embedded resolver (see net/dns.h).
 *
 * Runs in: the container's monitor; PURE (no file system, network or
 * process state); fuzzed by fuzz/dns_fuzz.c.
 *
 * Invariants:
 *  - every read goes through a check of OFF + N against LEN first, and
 *    every write through a check against the output's capacity;
 *  - name walks end: a question name takes no pointers, and any other
 *    name's pointers must point into the question's name (which has none)
 *    and before the start of the labels that led to them, so the read
 *    position strictly decreases at every jump; the uncompressed length
 *    is capped at 255 bytes as well;
 *  - nothing is allocated; outputs of a failed parse are only the header
 *    fields the caller needs to answer it.
 */
#include "net/dns.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* The fixed part of a resource record after its name: TYPE, CLASS, TTL,
 * RDLENGTH. */
#define RR_FIXED 10
/* An OPT record in moat's replies: root name, then the fixed part. */
#define OPT_RR_LEN (1 + RR_FIXED)
/* The question's name at offset 12, as a compression pointer. */
#define PTR_TO_QNAME 0xc00c

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/*
 * Reads the name at *OFF, copying its uncompressed form to WIRE (when not
 * NULL) and moving *OFF past it (past the first pointer, when there is
 * one). A pointer must land in [PTR_LO, PTR_HI) (an empty range: no
 * pointers) and before LIMIT, the start of the run of labels it ends,
 * which then moves back to its target.
 */
static int read_name(const uint8_t *buf, size_t len, size_t *off, size_t ptr_lo, size_t ptr_hi,
		     uint8_t wire[DNS_NAME_WIRE_MAX], size_t *wire_len)
{
	size_t pos = *off, limit = *off, total = 0, end = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = buf[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 2 > len)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | buf[pos + 1];
			if (target >= limit || target < ptr_lo || target >= ptr_hi)
				return -EBADMSG;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = limit = target;
			continue;
		}
		/* 0x40 and 0x80 are the retired extended label types */
		if (l & 0xc0)
			return -EBADMSG;
		if (total + 1 + l > DNS_NAME_WIRE_MAX || pos + 1 + l > len)
			return -EBADMSG;
		if (wire)
			memcpy(wire + total, buf + pos, 1 + (size_t)l);
		total += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	*off = jumped ? end : pos;
	if (wire_len)
		*wire_len = total;
	return 0;
}

/* Fills Q->name and Q->name_ok from Q->wire. */
static void name_text(struct dns_question *q)
{
	size_t pos = 0, n = 0;

	q->name_ok = true;
	while (pos < q->wire_len && q->wire[pos]) {
		uint8_t l = q->wire[pos++];

		if (n)
			q->name[n++] = '.';
		for (uint8_t i = 0; i < l; i++, pos++) {
			uint8_t c = q->wire[pos];

			if (c <= 0x20 || c >= 0x7f || c == '.')
				q->name_ok = false;
			/* 255 wire bytes are at most 253 text bytes */
			q->name[n++] = (char)lower(c);
		}
	}
	q->name[n] = '\0';
}

static int bad(struct dns_query *q, struct err **err, const char *what)
{
	/* nothing of a malformed message is echoed back */
	q->has_question = false;
	q->edns = false;
	return err_set(err, EBADMSG, "malformed DNS query: %s", what);
}

/*
 * Skips one resource record at *OFF; reports its type, class, TTL and
 * where its CLASS field is, and whether its owner is the root. Its name
 * may only point into the question's name, [DNS_HEADER_LEN, QEND): the
 * one name before it a client can have compressed against. So no name
 * lies in the header or in a record's fixed part, and rewriting the ID or
 * the OPT size for an upstream cannot change how the query reads.
 */
static int skip_rr(const uint8_t *buf, size_t len, size_t *off, size_t qend, uint16_t *type,
		   uint16_t *class, uint32_t *ttl, size_t *class_off, bool *root)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wl, rdlen;

	if (read_name(buf, len, off, DNS_HEADER_LEN, qend, wire, &wl) < 0)
		return -EBADMSG;
	if (len - *off < RR_FIXED)
		return -EBADMSG;
	*type = rd16(buf + *off);
	*class = rd16(buf + *off + 2);
	*class_off = *off + 2;
	*ttl = (uint32_t)rd16(buf + *off + 4) << 16 | rd16(buf + *off + 6);
	rdlen = rd16(buf + *off + 8);
	*off += RR_FIXED;
	if (len - *off < rdlen)
		return -EBADMSG;
	*off += rdlen;
	*root = wl == 1;
	return 0;
}

int dns_query_parse(const uint8_t *buf, size_t len, struct dns_query *q, struct err **err)
{
	unsigned qd, an, ns, ar;
	size_t off = DNS_HEADER_LEN, qend;
	bool opt_seen = false;
	uint16_t opt_size = 0;

	memset(q, 0, sizeof(*q));
	q->udp_size = DNS_UDP_PLAIN_MAX;
	if (len < DNS_HEADER_LEN)
		return err_set(err, EMSGSIZE, "DNS query of %zu bytes: shorter than a header", len);
	q->id = rd16(buf);
	q->flags = rd16(buf + 2);
	if (len > DNS_UDP_EDNS_MAX)
		return err_set(err, EMSGSIZE, "DNS query of %zu bytes: longer than %d", len,
			       DNS_UDP_EDNS_MAX);
	if (q->flags & DNS_FLAG_QR)
		return err_set(err, EPROTO, "DNS message is a response, not a query");
	if (DNS_OPCODE(q->flags) != 0)
		return err_set(err, EOPNOTSUPP, "DNS opcode %u is not supported",
			       DNS_OPCODE(q->flags));
	qd = rd16(buf + 4);
	an = rd16(buf + 6);
	ns = rd16(buf + 8);
	ar = rd16(buf + 10);
	if (qd != 1)
		return bad(q, err, qd ? "more than one question" : "no question");

	if (read_name(buf, len, &off, 0, 0, q->q.wire, &q->q.wire_len) < 0)
		return bad(q, err, "bad question name");
	qend = off;
	if (len - off < 4)
		return bad(q, err, "question cut short");
	q->q.qtype = rd16(buf + off);
	q->q.qclass = rd16(buf + off + 2);
	off += 4;
	name_text(&q->q);
	q->has_question = true;
	if (q->q.qtype == DNS_TYPE_OPT)
		return bad(q, err, "a question of type OPT");

	/* Answer and authority records have no business in a query, but
	 * RFC 1035 does not forbid them: they are skipped. Every record
	 * takes at least 11 bytes, so LEN bounds these loops. */
	for (unsigned i = 0; i < an + ns + ar; i++) {
		uint16_t type, class;
		uint32_t ttl;
		size_t class_off;
		bool root;

		if (skip_rr(buf, len, &off, qend, &type, &class, &ttl, &class_off, &root) < 0)
			return bad(q, err, "a record runs past the end");
		if (i < an + ns || type != DNS_TYPE_OPT)
			continue;
		/* RFC 6891 6.1.1: one OPT record, owned by the root */
		if (opt_seen)
			return bad(q, err, "two OPT records");
		if (!root)
			return bad(q, err, "an OPT record not owned by the root");
		opt_seen = true;
		opt_size = class;
		q->opt_size_off = class_off;
		q->edns_version = (uint8_t)(ttl >> 16);
	}
	if (off != len)
		return bad(q, err, "bytes after the last record");
	if (!opt_seen && len > DNS_UDP_PLAIN_MAX)
		return bad(q, err, "longer than 512 bytes without EDNS");
	q->edns = opt_seen;
	if (opt_seen)
		q->udp_size = opt_size < DNS_UDP_PLAIN_MAX  ? DNS_UDP_PLAIN_MAX
			      : opt_size > DNS_UDP_EDNS_MAX ? DNS_UDP_EDNS_MAX
							    : opt_size;
	if (q->q.qclass != DNS_CLASS_IN)
		return err_set(err, EPROTONOSUPPORT, "DNS class %u is not supported", q->q.qclass);
	if (q->edns && q->edns_version != 0)
		return err_set(err, ENOPROTOOPT, "EDNS version %u is not supported",
			       q->edns_version);
	return 0;
}

int dns_query_error_rcode(int parse_ret)
{
	switch (parse_ret) {
	case -EOPNOTSUPP:
		return DNS_RCODE_NOTIMP;
	case -EBADMSG:
		return DNS_RCODE_FORMERR;
	case -EPROTONOSUPPORT:
		return DNS_RCODE_REFUSED;
	case -ENOPROTOOPT:
		return DNS_RCODE_BADVERS;
	default:
		/* too short to hold an ID, too long to have been read whole,
		 * or a response: nobody to answer */
		return -1;
	}
}

void dns_query_prepare_forward(uint8_t *buf, size_t len, const struct dns_query *q, uint16_t id)
{
	if (len < DNS_HEADER_LEN)
		return;
	dns_msg_set_id(buf, id);
	if (q->edns && q->opt_size_off + 2 <= len)
		wr16(buf + q->opt_size_off, q->udp_size);
}

/* ---- replies ---- */

/* Header and question of the reply to Q; returns the length written. */
static size_t put_head(const struct dns_query *q, int rcode, uint8_t *out)
{
	uint16_t flags = DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & (0xf << 11)) |
			 (q->flags & DNS_FLAG_RD) | (uint16_t)(rcode & 0xf);
	size_t n = DNS_HEADER_LEN;

	memset(out, 0, DNS_HEADER_LEN);
	wr16(out, q->id);
	wr16(out + 2, flags);
	if (q->has_question) {
		wr16(out + 4, 1);
		memcpy(out + n, q->q.wire, q->q.wire_len);
		n += q->q.wire_len;
		wr16(out + n, q->q.qtype);
		wr16(out + n + 2, q->q.qclass);
		n += 4;
	}
	return n;
}

/* The OPT record of a reply: moat's payload size, the extended rcode. */
static void put_opt(uint8_t *out, int rcode)
{
	out[0] = 0;
	wr16(out + 1, DNS_TYPE_OPT);
	wr16(out + 3, DNS_UDP_EDNS_MAX);
	wr32(out + 5, (uint32_t)(rcode >> 4) << 24);
	wr16(out + 9, 0);
}

/* The room a reply to Q may fill. */
static size_t reply_cap(const struct dns_query *q, size_t cap)
{
	size_t lim = q->udp_size < DNS_UDP_PLAIN_MAX ? DNS_UDP_PLAIN_MAX : q->udp_size;

	return cap < lim ? cap : lim;
}

static size_t head_len(const struct dns_query *q)
{
	return DNS_HEADER_LEN + (q->has_question ? q->q.wire_len + 4 : 0) +
	       (q->edns ? OPT_RR_LEN : 0);
}

int dns_reply_build(const struct dns_query *q, int rcode, const struct net_addr *addrs, size_t n,
		    uint8_t *out, size_t cap)
{
	size_t lim = reply_cap(q, cap), off, an = 0;

	if (rcode < 0 || rcode > 0xfff || (rcode > 0xf && !q->edns))
		return -EINVAL;
	if (n && (rcode != DNS_RCODE_NOERROR || !q->has_question))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family != AF_INET && addrs[i].family != AF_INET6)
			return -EINVAL;
	if (head_len(q) > lim)
		return -ENOSPC;
	off = put_head(q, rcode, out);
	for (size_t i = 0; i < n; i++) {
		bool v4 = addrs[i].family == AF_INET;
		size_t rdlen = v4 ? 4 : 16;

		if (off + 2 + RR_FIXED + rdlen + (q->edns ? OPT_RR_LEN : 0) > lim)
			break;
		wr16(out + off, PTR_TO_QNAME);
		wr16(out + off + 2, v4 ? DNS_TYPE_A : DNS_TYPE_AAAA);
		wr16(out + off + 4, DNS_CLASS_IN);
		wr32(out + off + 6, DNS_LOCAL_TTL);
		wr16(out + off + 10, (uint16_t)rdlen);
		memcpy(out + off + 12, addrs[i].b, rdlen);
		off += 2 + RR_FIXED + rdlen;
		an++;
	}
	wr16(out + 6, (uint16_t)an);
	if (q->edns) {
		put_opt(out + off, rcode);
		off += OPT_RR_LEN;
		wr16(out + 10, 1);
	}
	return (int)off;
}

int dns_reply_build_ptr(const struct dns_query *q, const char *target, uint8_t *out, size_t cap)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wl, lim = reply_cap(q, cap), off;

	if (!q->has_question || dns_name_to_wire(target, wire, &wl) < 0)
		return -EINVAL;
	if (head_len(q) + 2 + RR_FIXED + wl > lim)
		return -ENOSPC;
	off = put_head(q, DNS_RCODE_NOERROR, out);
	wr16(out + off, PTR_TO_QNAME);
	wr16(out + off + 2, DNS_TYPE_PTR);
	wr16(out + off + 4, DNS_CLASS_IN);
	wr32(out + off + 6, DNS_LOCAL_TTL);
	wr16(out + off + 10, (uint16_t)wl);
	memcpy(out + off + 12, wire, wl);
	off += 2 + RR_FIXED + wl;
	wr16(out + 6, 1);
	if (q->edns) {
		put_opt(out + off, DNS_RCODE_NOERROR);
		off += OPT_RR_LEN;
		wr16(out + 10, 1);
	}
	return (int)off;
}

/* ---- upstream replies ---- */

int dns_reply_check(const uint8_t *buf, size_t len, uint16_t id, const struct dns_question *q,
		    struct err **err)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t off = DNS_HEADER_LEN, wl;
	uint16_t flags;

	if (len < DNS_HEADER_LEN)
		return err_set(err, EBADMSG, "DNS reply of %zu bytes: shorter than a header", len);
	flags = rd16(buf + 2);
	if (!(flags & DNS_FLAG_QR))
		return err_set(err, EBADMSG, "DNS reply is a query");
	if (rd16(buf) != id)
		return err_set(err, EBADMSG, "DNS reply has ID %u, the query had %u", rd16(buf),
			       id);
	if (DNS_OPCODE(flags) != 0)
		return err_set(err, EBADMSG, "DNS reply has opcode %u", DNS_OPCODE(flags));
	if (rd16(buf + 4) != 1)
		return err_set(err, EBADMSG, "DNS reply has %u questions", rd16(buf + 4));
	if (read_name(buf, len, &off, 0, 0, wire, &wl) < 0 || len - off < 4)
		return err_set(err, EBADMSG, "DNS reply has a bad question");
	if (wl != q->wire_len)
		return err_set(err, EBADMSG, "DNS reply is for another name");
	/* label lengths are at most 63, below 'A', so folding every byte
	 * folds only letters */
	for (size_t i = 0; i < wl; i++)
		if (lower(wire[i]) != lower(q->wire[i]))
			return err_set(err, EBADMSG, "DNS reply is for another name");
	if (rd16(buf + off) != q->qtype || rd16(buf + off + 2) != q->qclass)
		return err_set(err, EBADMSG, "DNS reply is for another type or class");
	return 0;
}

int dns_reply_rcode(const uint8_t *buf)
{
	return DNS_RCODE(rd16(buf + 2));
}

void dns_msg_set_id(uint8_t *buf, uint16_t id)
{
	wr16(buf, id);
}

size_t dns_reply_fit(uint8_t *buf, size_t len, size_t cap, const struct dns_question *q)
{
	size_t head = DNS_HEADER_LEN + q->wire_len + 4;

	if (len <= cap || len < head)
		return len;
	buf[2] |= DNS_FLAG_TC >> 8;
	memset(buf + 6, 0, 6);
	return head;
}

/* ---- names ---- */

int dns_name_to_wire(const char *text, uint8_t wire[DNS_NAME_WIRE_MAX], size_t *len)
{
	size_t tl = strlen(text), n = 0, i = 0;

	/* one trailing dot is the root label, written or not */
	if (tl && text[tl - 1] == '.')
		tl--;
	while (i < tl) {
		size_t l = 0;

		while (i + l < tl && text[i + l] != '.')
			l++;
		if (l == 0 || l > DNS_LABEL_MAX || n + 1 + l + 1 > DNS_NAME_WIRE_MAX)
			return -EINVAL;
		wire[n++] = (uint8_t)l;
		memcpy(wire + n, text + i, l);
		n += l;
		i += l;
		/* a separator must be followed by a label */
		if (i < tl && ++i == tl)
			return -EINVAL;
	}
	wire[n++] = 0;
	*len = n;
	return 0;
}

bool dns_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	if (la != lb)
		return false;
	for (size_t i = 0; i < la; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]))
			return false;
	return true;
}

static bool has_suffix(const char *s, size_t len, const char *suffix, size_t *stem)
{
	size_t sl = strlen(suffix);

	if (len < sl || memcmp(s + len - sl, suffix, sl))
		return false;
	*stem = len - sl;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int dns_ptr_parse(const char *name, struct net_addr *out, struct err **err)
{
	size_t len = strnlen(name, DNS_NAME_TEXT_MAX + 1), stem;
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	if (len > DNS_NAME_TEXT_MAX)
		return err_set(err, EINVAL, "PTR name too long");
	if (len && name[len - 1] == '.')
		len--;
	if (has_suffix(name, len, ".in-addr.arpa", &stem)) {
		size_t pos = 0;

		a.family = AF_INET;
		/* labels come least significant first */
		for (int i = 3; i >= 0; i--) {
			unsigned v = 0, digits = 0;

			while (pos < stem && name[pos] >= '0' && name[pos] <= '9' && digits < 4) {
				v = v * 10 + (unsigned)(name[pos] - '0');
				pos++;
				digits++;
			}
			if (!digits || digits > 3 || v > 255 ||
			    (digits > 1 && name[pos - digits] == '0'))
				return err_set(err, EINVAL, "\"%.*s\" is not an IPv4 PTR name",
					       (int)len, name);
			a.b[i] = (uint8_t)v;
			if (i > 0 && (pos >= stem || name[pos++] != '.'))
				return err_set(err, EINVAL, "\"%.*s\" is not an IPv4 PTR name",
					       (int)len, name);
		}
		if (pos != stem)
			return err_set(err, EINVAL, "\"%.*s\" is not an IPv4 PTR name", (int)len,
				       name);
	} else if (has_suffix(name, len, ".ip6.arpa", &stem)) {
		a.family = AF_INET6;
		if (stem != 63)
			return err_set(err, EINVAL, "\"%.*s\" is not an IPv6 PTR name", (int)len,
				       name);
		for (int i = 0; i < 32; i++) {
			int v = hexval(name[2 * i]);

			if (v < 0 || (i < 31 && name[2 * i + 1] != '.'))
				return err_set(err, EINVAL, "\"%.*s\" is not an IPv6 PTR name",
					       (int)len, name);
			/* nibble i counts from the least significant end */
			a.b[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
		}
	} else {
		return err_set(err, EINVAL, "\"%.*s\" is not a PTR name", (int)len, name);
	}
	*out = a;
	return 0;
}

/* ---- resolv.conf ---- */

bool dns_addr_is_embedded(const struct net_addr *a)
{
	static const uint8_t embedded[4] = {127, 0, 0, 11};

	return a->family == AF_INET && !memcmp(a->b, embedded, 4);
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool comment(char c)
{
	return c == '#' || c == ';';
}

int dns_resolv_conf_parse(const char *text, size_t len, struct dns_upstream out[DNS_MAX_UPSTREAMS],
			  struct err **err)
{
	static const char kw[] = "nameserver";
	size_t pos = 0;
	int n = 0;

	if (len > DNS_RESOLV_CONF_MAX)
		return err_set(err, EFBIG, "resolv.conf of %zu bytes: longer than %d", len,
			       DNS_RESOLV_CONF_MAX);
	while (pos < len && n < DNS_MAX_UPSTREAMS) {
		size_t eol = pos, p, start;
		char tok[NET_ADDR_TEXT_MAX];
		struct dns_upstream u;

		while (eol < len && text[eol] != '\n')
			eol++;
		p = pos;
		pos = eol + 1;
		/* glibc: the keyword starts the line, a space or tab follows */
		if (eol - p <= sizeof(kw) - 1 || memcmp(text + p, kw, sizeof(kw) - 1) ||
		    (text[p + sizeof(kw) - 1] != ' ' && text[p + sizeof(kw) - 1] != '\t'))
			continue;
		p += sizeof(kw) - 1;
		while (p < eol && blank(text[p]))
			p++;
		start = p;
		while (p < eol && !blank(text[p]) && !comment(text[p]))
			p++;
		if (p == start || p - start >= sizeof(tok) || memchr(text + start, '\0', p - start))
			continue;
		memcpy(tok, text + start, p - start);
		tok[p - start] = '\0';
		memset(&u, 0, sizeof(u));
		if (net_addr_parse(tok, &u.addr, NULL) < 0 || dns_addr_is_embedded(&u.addr))
			continue;
		u.port = 53;
		for (int i = 0; i < n; i++)
			if (net_addr_equal(&out[i].addr, &u.addr))
				goto next;
		out[n++] = u;
	next:;
	}
	return n;
}

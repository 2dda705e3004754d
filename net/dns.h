/*
 * net/dns.h - DNS packets for the embedded resolver: parse a query, build
 * the answers moat gives itself, check an upstream reply before it is
 * relayed, and read the host's resolv.conf.
 *
 * Runs in: the container's monitor (net/dns_server.c drives it); PURE: no
 * file system, network or process state; fuzzed by fuzz/dns_fuzz.c.
 *
 * Every byte handed to these functions is untrusted (a container process
 * wrote the query, anything on the path to the upstream may have written
 * the reply). So:
 *  - every read is bounds-checked against the datagram's length;
 *  - a question's name must be uncompressed (a stub resolver never
 *    compresses the first name of a message: there is nothing before it to
 *    point to); names in a query's other sections, which are only
 *    skipped, may use compression pointers into the question's name and
 *    nowhere else (not into the header, which moat rewrites when it
 *    forwards), so following one ends after one hop; the uncompressed name
 *    is at most 255 bytes;
 *  - a datagram is a query only when it says so (QR clear): a response is
 *    never answered, so two resolvers cannot be made to bounce packets off
 *    each other.
 */
#ifndef MOAT_NET_DNS_H
#define MOAT_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/cidr.h"

#define DNS_HEADER_LEN 12
/* A UDP message without EDNS (RFC 1035 4.2.1). */
#define DNS_UDP_PLAIN_MAX 512
/* The largest UDP message moat takes or sends, whatever a client's EDNS
 * record offers: the resolver answers on loopback inside the container,
 * where 4096 bytes never fragment, and it bounds every buffer. */
#define DNS_UDP_EDNS_MAX 4096
/* A name on the wire, uncompressed, root label included (RFC 1035 3.1). */
#define DNS_NAME_WIRE_MAX 255
/* The same name as dotted text without the trailing dot, with its NUL. */
#define DNS_NAME_TEXT_MAX 254
#define DNS_LABEL_MAX 63
/*
 * The TTL of moat's own answers. Docker says 600; moat says 60 because
 * names follow containers "without restart": an answer is computed from
 * the live endpoint table at every query, so the only stale copies are in
 * caches inside containers (nginx, Java, systemd-resolved, dnsmasq), and a
 * container recreated with a new address should be reachable by them
 * within a minute, not ten. Local answers cost nothing, so the extra
 * queries do not matter.
 */
#define DNS_LOCAL_TTL 60
/* At most this many nameservers are read from resolv.conf (glibc's MAXNS). */
#define DNS_MAX_UPSTREAMS 3
/* resolv.conf text longer than this is refused, not read. */
#define DNS_RESOLV_CONF_MAX (64 * 1024)

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN 1

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended (RFC 6891): only in a reply with an OPT record */
};

/* Header flag bits (the header's second 16-bit word). */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags)&0xf)

struct dns_question {
	/* QNAME exactly as sent (letter case kept, so a client that
	 * randomises case finds its own spelling in the answer), root label
	 * included: 1..DNS_NAME_WIRE_MAX bytes */
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wire_len;
	/* the same name as lowercase dotted text, no trailing dot; "" for the
	 * root. Meaningful only when NAME_OK. */
	char name[DNS_NAME_TEXT_MAX];
	/* every label is printable ASCII without '.', so NAME says the same
	 * as WIRE and may be looked up; otherwise the name can never be a
	 * container's and is only forwarded, byte for byte */
	bool name_ok;
	uint16_t qtype, qclass;
};

struct dns_query {
	uint16_t id;
	uint16_t flags; /* as received */
	/* Q is valid: always after success, and after the failures answered
	 * with the question echoed (REFUSED for a class other than IN,
	 * BADVERS) */
	bool has_question;
	struct dns_question q;
	bool edns; /* the query carried an OPT record (answers carry one too) */
	uint8_t edns_version;
	/* the largest reply the client takes: 512 without EDNS, else its
	 * OPT payload size clamped to 512..DNS_UDP_EDNS_MAX */
	uint16_t udp_size;
	/* where the OPT record's payload size (its CLASS) is, when EDNS */
	size_t opt_size_off;
};

/* An upstream resolver. */
struct dns_upstream {
	struct net_addr addr;
	uint16_t port; /* host byte order; 53 from resolv.conf */
};

/* ---- queries ---- */

/*
 * Parses the datagram BUF of LEN bytes as one query. On failure returns a
 * negative errno that says how to treat it (dns_query_error_rcode) and sets
 * *ERR (ERR may be NULL: the server does not want a message per dropped
 * packet):
 *   -EMSGSIZE        shorter than a header, or longer than DNS_UDP_EDNS_MAX
 *   -EPROTO          a response, not a query
 *   -EOPNOTSUPP      an opcode other than QUERY
 *   -EBADMSG         malformed: QDCOUNT != 1, a bad or compressed question
 *                    name, a pointer elsewhere than into the question's
 *                    name, a record running past the end, two OPT records,
 *                    an OPT record not owned by the root, bytes after the
 *                    last record, more than 512 bytes without EDNS, a
 *                    question of type OPT
 *   -EPROTONOSUPPORT a class other than IN
 *   -ENOPROTOOPT     an EDNS version other than 0
 * Q->id and Q->flags are filled whenever the header could be read.
 */
int dns_query_parse(const uint8_t *buf, size_t len, struct dns_query *q, struct err **err);
/* The rcode to answer a failed parse with, or -1: drop it silently. */
int dns_query_error_rcode(int parse_ret);

/* Rewrites the query BUF (LEN bytes, parsed into Q) for an upstream: ID
 * becomes ID and the OPT payload size becomes Q->udp_size, so the upstream
 * never sends more than the client (and moat) take. */
void dns_query_prepare_forward(uint8_t *buf, size_t len, const struct dns_query *q, uint16_t id);

/* ---- moat's own replies ---- */

/*
 * Builds the reply to Q with RCODE into OUT (CAP bytes) and returns its
 * length, or -ENOSPC (CAP cannot hold the header, question and OPT
 * record), -EINVAL (an rcode above 15 without EDNS; addresses with an
 * rcode other than NOERROR; an address that is neither IPv4 nor IPv6).
 *
 * The reply echoes Q's ID, opcode, RD bit and question (when
 * Q->has_question), sets QR and RA, and carries an OPT record when the
 * query did. With NOERROR, each of ADDRS becomes an answer (A for IPv4,
 * AAAA for IPv6) owned by the question's name, TTL DNS_LOCAL_TTL, in the
 * order given; answers that would take the reply past Q->udp_size (or
 * CAP) are left out without setting TC: every address of a name is as
 * good as another, the caller shuffles them, and a truncated reply would
 * send the client to TCP for nothing better.
 */
int dns_reply_build(const struct dns_query *q, int rcode, const struct net_addr *addrs, size_t n,
		    uint8_t *out, size_t cap);
/* Like dns_reply_build with NOERROR and one PTR answer naming TARGET
 * (dotted text, trailing dot optional); -EINVAL when TARGET is not a name. */
int dns_reply_build_ptr(const struct dns_query *q, const char *target, uint8_t *out, size_t cap);

/* ---- upstream replies ---- */

/*
 * Whether BUF (LEN bytes) is the reply to a query with ID and question Q:
 * a header with QR set, opcode QUERY, that ID, QDCOUNT 1 and the same
 * QNAME (compared without letter case, uncompressed), QTYPE and QCLASS.
 * Returns 0 or -EBADMSG (with *ERR set; ERR may be NULL). The records
 * after the question are not looked at: they are relayed to the client,
 * which reads them as it would read its own resolver's.
 */
int dns_reply_check(const uint8_t *buf, size_t len, uint16_t id, const struct dns_question *q,
		    struct err **err);
/* The (4-bit) rcode of a checked reply. */
int dns_reply_rcode(const uint8_t *buf);
/* Sets a message's ID (LEN must be at least DNS_HEADER_LEN). */
void dns_msg_set_id(uint8_t *buf, uint16_t id);
/*
 * Makes the checked reply BUF (LEN bytes, question Q) fit in CAP bytes:
 * when it is longer it is cut to its header and question with TC set and
 * every other section empty, which tells the client to ask again over TCP
 * (the reply is never cut below that, whatever CAP says). Returns the new
 * length.
 */
size_t dns_reply_fit(uint8_t *buf, size_t len, size_t cap, const struct dns_question *q);

/* ---- names ---- */

/* Dotted TEXT ("a.b", "a.b.", "." or "" for the root) as an uncompressed
 * wire name. -EINVAL for an empty label, a label over 63 bytes or a name
 * over 255 bytes. */
int dns_name_to_wire(const char *text, uint8_t wire[DNS_NAME_WIRE_MAX], size_t *len);
/* A and B name the same thing: ASCII letter case and one trailing dot on
 * either side do not matter ("Web." equals "web"). For lookup callbacks. */
bool dns_name_equal(const char *a, const char *b);
/*
 * A PTR query's name as an address: "4.3.2.1.in-addr.arpa" (four decimal
 * labels, no leading zeros) or 32 single hex digits followed by
 * ".ip6.arpa", lowercase as dns_query_parse gives it, trailing dot
 * optional. -EINVAL otherwise (ERR may be NULL).
 */
int dns_ptr_parse(const char *name, struct net_addr *out, struct err **err);

/* ---- resolv.conf ---- */

/*
 * The upstream resolvers of a resolv.conf TEXT (LEN bytes, need not be
 * NUL-terminated): the address of each "nameserver ADDR" line, IPv4 or
 * IPv6 (a zone such as "%eth0" is not supported: that line is skipped),
 * port 53, in order, at most DNS_MAX_UPSTREAMS. Lines starting with '#'
 * or ';' and everything after a '#' or ';' are comments; other keywords,
 * lines that do not parse and repeated addresses are skipped, as glibc
 * skips them. 127.0.0.11, the address containers ask moat at, is skipped
 * too: forwarding there could send a query round in a loop. Returns how
 * many were written to OUT (0 is not an error: without upstreams only
 * local names resolve), or -EFBIG for text over DNS_RESOLV_CONF_MAX.
 */
int dns_resolv_conf_parse(const char *text, size_t len, struct dns_upstream out[DNS_MAX_UPSTREAMS],
			  struct err **err);
/* The address the embedded resolver listens on inside containers. */
bool dns_addr_is_embedded(const struct net_addr *a);

#endif

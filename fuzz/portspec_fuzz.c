/*
 * fuzz/portspec_fuzz.c - libFuzzer target for net/portspec.c.
 *
 * Input: one -p spec (and the same bytes as an ExposedPorts key).
 *
 * Properties: a failed parse sets an error and returns no bindings; a
 * successful one returns 1..NET_PORTSPEC_MAX_BINDINGS bindings with
 * container ports 1..65535, consecutive, one protocol and one host
 * address; host ports are either both 0 (any) or 1..65535 with lo <= hi, a
 * host range only on a single binding, fixed host ports consecutive; the
 * host address is "" exactly when its family is 0 and is canonical text of
 * that family. Round trip: the spec rebuilt from the bindings (IPv6 in
 * brackets) parses to the same bindings. An exposed key yields bindings
 * with no host address and any host port.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/portspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct net_port_binding *b, size_t n)
{
	if (n == 0 || n > NET_PORTSPEC_MAX_BINDINGS)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct net_port_binding *x = &b[i];

		if (x->ctr_port == 0 || x->proto != b[0].proto ||
		    x->host_family != b[0].host_family || strcmp(x->host_ip, b[0].host_ip))
			abort();
		if (i && x->ctr_port != b[i - 1].ctr_port + 1)
			abort();
		if ((x->host_port_lo == 0) != (x->host_port_hi == 0) ||
		    x->host_port_lo > x->host_port_hi)
			abort();
		if (n > 1 && x->host_port_lo != x->host_port_hi)
			abort();
		if (i && x->host_port_lo && x->host_port_lo != b[i - 1].host_port_lo + 1)
			abort();
		if (i && (x->host_port_lo == 0) != (b[0].host_port_lo == 0))
			abort();
		if (!memchr(x->host_ip, '\0', sizeof(x->host_ip)))
			abort();
	}
	if (b[0].host_ip[0]) {
		struct net_addr a;
		char canon[NET_ADDR_TEXT_MAX];

		if (net_addr_parse(b[0].host_ip, &a, NULL) < 0 || a.family != b[0].host_family)
			abort();
		net_addr_format(&a, canon);
		if (strcmp(canon, b[0].host_ip))
			abort();
	} else if (b[0].host_family != 0) {
		abort();
	}
}

static bool same(const struct net_port_binding *x, const struct net_port_binding *y)
{
	return !strcmp(x->host_ip, y->host_ip) && x->host_family == y->host_family &&
	       x->host_port_lo == y->host_port_lo && x->host_port_hi == y->host_port_hi &&
	       x->ctr_port == y->ctr_port && x->proto == y->proto;
}

static void roundtrip(const struct net_port_binding *b, size_t n)
{
	char spec[NET_PORTSPEC_MAX_LEN + 1], ip[NET_ADDR_TEXT_MAX + 2], host[16] = "", ctr[16];
	struct net_port_binding *back = NULL;
	struct err *err = NULL;
	size_t m = 0;

	if (b[0].host_family == AF_INET6)
		snprintf(ip, sizeof(ip), "[%s]", b[0].host_ip);
	else
		snprintf(ip, sizeof(ip), "%s", b[0].host_ip);
	if (b[0].host_port_lo)
		snprintf(host, sizeof(host), "%u-%u", b[0].host_port_lo,
			 n > 1 ? b[n - 1].host_port_hi : b[0].host_port_hi);
	snprintf(ctr, sizeof(ctr), "%u-%u", b[0].ctr_port, b[n - 1].ctr_port);
	snprintf(spec, sizeof(spec), "%s:%s:%s/%s", ip, host, ctr, net_proto_name(b[0].proto));
	if (net_portspec_parse(spec, &back, &m, &err) < 0)
		abort();
	if (m != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!same(&back[i], &b[i]))
			abort();
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_port_binding *b = NULL;
	struct err *err = NULL;
	char *spec;
	size_t n = 99;

	/* bytes past the cap too: the length check must hold them off */
	if (size > 4 * NET_PORTSPEC_MAX_LEN)
		return 0;
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';

	if (net_portspec_parse(spec, &b, &n, &err) < 0) {
		if (!err || !err->msg[0] || b || n != 0)
			abort();
		err_free(&err);
	} else {
		if (strlen(spec) > NET_PORTSPEC_MAX_LEN)
			abort();
		check(b, n);
		roundtrip(b, n);
		free(b);
	}

	b = NULL;
	n = 99;
	if (net_portspec_parse_exposed(spec, &b, &n, &err) < 0) {
		if (!err || b || n != 0)
			abort();
		err_free(&err);
	} else {
		check(b, n);
		if (b[0].host_ip[0] || b[0].host_port_lo)
			abort();
		free(b);
	}
	free(spec);
	return 0;
}

/*
 * cli/port.c - `moat port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published
 * port mappings of a container, as Docker lists them.
 *
 * Runs as: the invoking user or root; reads the container's record and,
 * while it runs, what its start published (RUNROOT/containers/<id>/
 * net.json, engine/netrun.h): "80/tcp -> 0.0.0.0:8080", one line per
 * binding, in the order they were published. A stopped container has
 * none. Asking for a port that is not published is Docker's "No public
 * port" error (exit 1); the port argument is checked like Docker's (a
 * number up to 65535, tcp/udp/sctp), so a typo is told apart from an
 * unpublished port.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/netrun.h"

/* "80", "80/tcp", "53/udp", "9/sctp" into "PORT/PROTO" (OUT). */
static int parse_port(const char *spec, char *out, size_t len, struct err **err)
{
	const char *slash = strchr(spec, '/');
	const char *proto = slash ? slash + 1 : "tcp";
	size_t n = slash ? (size_t)(slash - spec) : strlen(spec);
	unsigned long port = 0;

	if (n == 0 || n > 5 || strspn(spec, "0123456789") != n)
		goto bad_port;
	for (size_t i = 0; i < n; i++)
		port = port * 10 + (unsigned long)(spec[i] - '0');
	if (port > 65535)
		goto bad_port;
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp")) {
		err_set(err, EINVAL, "invalid protocol \"%.32s\" in \"%.64s\": tcp, udp or sctp",
			proto, spec);
		(*err)->exit = 1;
		return -EINVAL;
	}
	snprintf(out, len, "%lu/%s", port, proto);
	return 0;
bad_port:
	err_set(err, EINVAL, "invalid port \"%.*s\": a number from 0 to 65535",
		(int)(n > 64 ? 64 : n), spec);
	(*err)->exit = 1;
	return -EINVAL;
}

int cmd_port(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct container_record rec;
	struct err *err = NULL;
	char id[65], want[32];
	int c, nargs;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: moat port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port "
			       "mappings or a specific mapping for the container\n");
			return 0;
		}
		return cli_bad_flag(argv, c);
	}
	nargs = argc - optind;
	if (nargs < 1 || nargs > 2) {
		err_set(&err, EINVAL, "\"moat port\" requires at least 1 and at most 2 arguments");
		return cli_fail(&err);
	}
	/* Docker's order: the container first, then the port. */
	if (cli_resolve(ctx, argv[optind], id, &err) < 0 ||
	    engine_container_load(ctx->root, id, &rec, &err) < 0)
		return cli_fail(&err);
	engine_container_record_free(&rec);
	if (nargs == 2 && parse_port(argv[optind + 1], want, sizeof(want), &err) < 0)
		return cli_fail(&err);
	{
		struct engine_net_state st = {0};
		struct engine_port *ports;
		char rdir[4200];
		size_t n = 0, shown = 0;

		snprintf(rdir, sizeof(rdir), "%s/containers/%s", ctx->runroot, id);
		if (engine_netrun_state(rdir, &st, &err) < 0) {
			/* Not running, or no network: nothing published. */
			err_free(&err);
		}
		ports = st.ports;
		n = st.n_ports;
		for (size_t i = 0; i < n; i++) {
			char key[32], hip[NET_ADDR_TEXT_MAX] = "0.0.0.0";

			snprintf(key, sizeof(key), "%u/%s", (unsigned)ports[i].ctr_port,
				 net_proto_name(ports[i].proto));
			if (nargs == 2 && strcmp(key, want))
				continue;
			if (ports[i].host_ip.family)
				net_addr_format(&ports[i].host_ip, hip);
			if (nargs == 2)
				printf("%s:%u\n", hip, (unsigned)ports[i].host_port);
			else
				printf("%s -> %s:%u\n", key, hip, (unsigned)ports[i].host_port);
			shown++;
		}
		engine_net_state_free(&st);
		if (nargs == 2 && !shown) {
			err_set(&err, ENOENT, "No public port '%s' published for %s", want,
				argv[optind]);
			err->exit = 1;
			return cli_fail(&err);
		}
	}
	return 0;
}

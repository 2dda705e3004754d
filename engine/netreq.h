/*
 * engine/netreq.h - what a container asked of the network at create
 * (--network, --ip, --network-alias, --dns*, --add-host, -p, -P), kept in
 * its record and checked once, before anything exists.
 *
 * Runs in: the moat process (create, start, inspect). PURE except where
 * said: no file, process or network state.
 */
#ifndef MOAT_ENGINE_NETREQ_H
#define MOAT_ENGINE_NETREQ_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

#define ENGINE_NETREQ_MAX_ITEMS 64 /* per list: aliases, dns, hosts, ... */

struct engine_netreq {
	char *network_id; /* the network's id when the mode names one */
	char *ip;	  /* --ip (canonical text) */
	char **aliases;	  /* --network-alias */
	char **dns;	  /* --dns (canonical addresses) */
	char **dns_search;
	char **dns_options;
	char **add_hosts; /* --add-host "NAME:IP" (IP may be "host-gateway") */
	char **publish;	  /* -p specs, and -P's expansion of ExposedPorts */
	bool publish_all; /* -P (for inspect) */
};

void engine_netreq_free(struct engine_netreq *q);
/* A deep copy of Q into *OUT. */
int engine_netreq_dup(const struct engine_netreq *q, struct engine_netreq *out, struct err **err);

/*
 * Checks Q for the network mode MODE ("none", "host", or a network's
 * name) and normalises it (addresses to canonical text). USER_DEFINED:
 * MODE names a network the user created (--ip and aliases need one, as in
 * Docker). With "host", published ports are dropped with a warning on
 * stderr (Docker's); with "none" they are an error.
 */
int engine_netreq_check(const char *mode, bool user_defined, struct engine_netreq *q,
			struct err **err);

/* -P: adds "PORT/PROTO" for every ExposedPorts key of the image (KEYS). */
int engine_netreq_publish_exposed(struct engine_netreq *q, char *const *keys, struct err **err);

/* The record's "network" object, and back (strict: unknown keys, wrong
 * types and over-long lists are refused). */
json_t *engine_netreq_json(const struct engine_netreq *q);
int engine_netreq_from_json(json_t *o, struct engine_netreq *q, struct err **err);

#endif

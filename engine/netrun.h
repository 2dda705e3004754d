/*
 * engine/netrun.h - a container's network while it runs: the address
 * lease, the published ports, the driver's links, the runtime record
 * that crash cleanup reads, and the embedded DNS server's names.
 *
 * Runs in: the moat process (start: prepare; a failed start: release),
 * the container's monitor (attach while the init is set up, DNS, release
 * at teardown) and any later moat process (reclaim after a monitor died).
 *
 * On disk:
 *   RUNROOT/containers/<id>/net.json   what was set up (network, address,
 *       host link, ports), written before the first kernel change, so a
 *       reclaim after a crash at any point finds what to undo;
 *   ROOT/networks/<netid>/endpoints/<id>   "NAME ADDR ALIAS..." for the
 *       network's DNS (every container's monitor reads them per query).
 *
 * Invariants: prepare either succeeds or leaves nothing (lease, ports,
 * rules, files); release and reclaim are idempotent and never fail (what
 * cannot be undone is a warning on stderr).
 */
#ifndef MOAT_ENGINE_NETRUN_H
#define MOAT_ENGINE_NETRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "net/driver.h"
#include "net/portspec.h"
#include "sandbox/spec.h"

struct dns_server;
struct engine_ctx;

struct engine_port {
	enum net_proto proto;
	struct net_addr host_ip; /* family 0: every address */
	uint16_t host_port, ctr_port;
	int fd; /* the host port, held (bound) while the container runs */
};

struct engine_netrun {
	bool active; /* a network with a driver that attaches (not none/host) */
	char runroot[4096], root[4096];
	struct net_network net;
	const struct net_driver *drv;
	struct net_endpoint ep;
	bool leased;
	struct engine_port *ports;
	size_t n_ports;
	struct sandbox_net_hooks hooks;
	/* the embedded DNS server (monitor): where it forwards (resolv.conf
	 * text: --dns, or the host's), its names */
	char *upstream_text;
	struct dns_server *dns;
	void *dns_data;
	int dnsfd;
};

/* Everything up to the container's namespace: the network's host side
 * (after a reboot), the lease, the ports and their rules. Fills SPEC's
 * network hooks. RDIR is the container's runtime dir. */
int engine_netrun_prepare(const struct engine_ctx *c, const struct container_record *rec,
			  const char *rdir, struct engine_netrun *run, struct sandbox_spec *spec,
			  struct err **err);
/* /etc/hosts and /etc/resolv.conf of the container (both identities,
 * every mode), into HOSTS and RESOLV. */
int engine_netrun_files(const struct container_record *rec, const struct engine_netrun *run,
			const char *hosts, const char *resolv, struct err **err);
/* Undoes prepare (and the attach): rules, ports, lease, links, files. */
void engine_netrun_release(struct engine_netrun *run, const char *rdir);
/* After a detached monitor took its copy over: closes this process's fds
 * and frees memory, undoing nothing. */
void engine_netrun_forget(struct engine_netrun *run);
/* After a monitor died: the same, from RDIR's net.json. */
void engine_netrun_reclaim(const struct engine_ctx *c, const char *id, const char *rdir);

/* The monitor's DNS server on the container's 127.0.0.11:53 (FD, taken). */
int engine_netrun_dns_start(struct engine_netrun *run, int fd, struct err **err);
void engine_netrun_dns_stop(struct engine_netrun *run);

/* What a running container's start set up, from RDIR's net.json
 * (`moat port`, inspect, crash cleanup). */
struct engine_net_state {
	char network_id[NET_ID_HEX + 1];
	char network[NET_NAME_MAX + 1];
	char ip[NET_ADDR_TEXT_MAX], gateway[NET_ADDR_TEXT_MAX]; /* "" when none */
	char mac[18];
	unsigned prefix;
	char host_ifname[IFNAMSIZ];
	struct engine_port *ports; /* fd -1 */
	size_t n_ports;
};
int engine_netrun_state(const char *rdir, struct engine_net_state *st, struct err **err);
/* PURE: net.json's text into *ST (fuzzed by fuzz/netstate_fuzz.c). */
int engine_net_state_decode(const char *text, size_t len, struct engine_net_state *st,
			    struct err **err);
void engine_net_state_free(struct engine_net_state *st);

#endif

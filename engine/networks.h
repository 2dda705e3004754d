/*
 * engine/networks.h - networks as objects: the `moat network` verbs over
 * the records of net/netrecord.h and the drivers of net/driver.h, with
 * Docker's rules: a name is one network; "none" and "host" always exist
 * and "bridge" (the default network) once it was first used, and none of
 * the three can be created or removed; a network that a container
 * (running or not) refers to is in use and is not removed.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * On disk, under ROOT/networks/ (0700, the invoker's):
 *   <id>/network.json   the record (0600; written atomically, fsync'd)
 *   <id>/leases/        its address leases (net/ipam.h), when it has a pool
 *   .lock               flock serialising create, remove and prune, so
 *                       two `network create X` at once make one network
 *                       and names stay unique
 * The predefined "none" and "host" have no record: they are made up on
 * every read, with ids derived from their names (stable across calls and
 * hosts). A directory without a network.json is debris of a crashed
 * create or remove (nothing on the host belongs to it: the record is
 * written before the driver creates anything and removed after the driver
 * removed it); create removes it under the lock.
 */
#ifndef MOAT_ENGINE_NETWORKS_H
#define MOAT_ENGINE_NETWORKS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "engine/prune.h"
#include "net/driver.h"
#include "net/ipam.h"
#include "net/netrecord.h"

struct engine_ctx;
struct container_record;

/* The default network, as Docker's "bridge": made on first use. */
#define ENGINE_NETWORK_DEFAULT "bridge"
#define ENGINE_NETWORK_DEFAULT_SUBNET "10.88.0.0/16"
#define ENGINE_NETWORK_DEFAULT_GATEWAY "10.88.0.1"
#define ENGINE_NETWORK_DEFAULT_BRIDGE "moat0"
/* Where a network created without --subnet gets its /24 (podman's
 * scheme): the first of 10.89.0.0/24 .. 10.89.255.0/24 that no moat
 * network and no route of the host overlaps. */
#define ENGINE_NETWORK_AUTO_POOL "10.89.0.0/16"
#define ENGINE_NETWORK_AUTO_BITS 24
/* Prefix of a user-defined bridge's name: "moat-" + 10 hex digits of the
 * id fits IFNAMSIZ. */
#define ENGINE_NETWORK_BRIDGE_PREFIX "moat-"
#define ENGINE_NETWORK_BRIDGE_HEX 10

/* What the verbs reach beyond moat's own state. A NULL env, or a NULL
 * field, takes the default; tests pass fakes. */
struct engine_network_env {
	/* the drivers, NULL-terminated (default: net_driver_all()) */
	const struct net_driver *const *drivers;
	/* 1 when C overlaps a route of the host (DEV, SIZE bytes, names its
	 * device), 0 when not, a negative errno (and *ERR) when the routes
	 * cannot be read (default: net_nl_routes_overlap in the caller's
	 * network namespace) */
	int (*route_overlap)(const struct net_cidr *c, char *dev, size_t size, struct err **err);
};

struct engine_network_create_opts {
	const char *name;
	const char *driver; /* NULL or "": bridge */
	const char *subnet; /* NULL: chosen (ENGINE_NETWORK_AUTO_POOL) */
	const char *ip_range;
	const char *gateway; /* NULL: the first host address of the range */
	bool internal;
	char *const *labels;  /* "k=v", NULL-terminated (may be NULL) */
	char *const *options; /* -o "k=v", given to the driver's check */
};

/* "bridge", "host", "none" and "default" (Docker's list): names
 * `network create` refuses. */
bool engine_network_predefined(const char *name);

/*
 * `network create`. Checked in this order, so that what is wrong with the
 * request is said before anything is looked up or taken: the name (valid,
 * not predefined), labels and options (KEY=VALUE), the addresses
 * (--ip-range and --gateway need --subnet, and must lie inside it); then
 * the driver (`plugin "X" not found`), a root-only driver asked for by a
 * rootless caller (its message names the reason); then, under the lock,
 * the name (`network with name X already exists`), the pool (overlapping
 * another moat network, or a route of the host), the driver's check of
 * the options. The record is written before the driver creates anything
 * on the host; if the driver fails, the record goes again. OUT is the
 * network as recorded.
 */
int engine_network_create(const struct engine_ctx *c, const struct engine_network_env *env,
			  const struct engine_network_create_opts *o, struct net_network *out,
			  struct err **err);
/*
 * The default network ("bridge": 10.88.0.0/16, gateway 10.88.0.1, Linux
 * bridge "moat0", no name resolution, as Docker's default bridge), its
 * record made on first use. Only the record: the caller brings the bridge
 * up (driver->create, which is idempotent) when a container joins it.
 */
int engine_network_default(const struct engine_ctx *c, struct net_network *out, struct err **err);
/* The network REF names: a full id, a name, or a unique id prefix (in
 * that order, as Docker looks). ENOENT "network REF not found", EINVAL
 * when a prefix is ambiguous; the exit status is left to the caller (1
 * for the network verbs, 125 for run and create, as Docker's CLI). A
 * root-only driver refused to a rootless caller is 125 everywhere: a
 * limit of moat's, not a refusal of the request. */
int engine_network_inspect(const struct engine_ctx *c, const char *ref, struct net_network *out,
			   struct err **err);
/* "none", "host", then every recorded network by name. A record that
 * does not decode is a warning on stderr, not a failure. */
int engine_network_list(const struct engine_ctx *c, struct net_network **out, size_t *n,
			struct err **err);
/* Does container R refer to network N? The one place that says how a
 * container record names its network. */
bool engine_network_uses(const struct container_record *r, const struct net_network *n);
/* The ids of the containers that refer to N (NULL-terminated, never NULL
 * on success). */
int engine_network_users(const struct engine_ctx *c, const struct net_network *n, char ***ids,
			 struct err **err);
/*
 * `network rm`: refused for the predefined networks (Docker's "X is a
 * pre-defined network and cannot be removed") and while a container
 * refers to it ("error while removing network: network X id Y has active
 * endpoints", EBUSY); then the driver removes what it made, then the
 * record and the leases go. FORCE: a missing network is not an error
 * (returns 0 with REMOVED's id empty). REMOVED (may be NULL) gets what
 * was removed.
 */
int engine_network_remove(const struct engine_ctx *c, const struct engine_network_env *env,
			  const char *ref, bool force, struct net_network *removed,
			  struct err **err);
/* `network prune`: every user-defined network no container refers to
 * that passes F (until=, label=, label!=; NULL: all). REMOVED gets their
 * names (NULL-terminated). One that fails to go is a warning. */
int engine_network_prune(const struct engine_ctx *c, const struct engine_network_env *env,
			 const struct prune_filter *f, char ***removed, struct err **err);

/* Takes ROOT/networks/.lock exclusively; returns the fd (close releases).
 * flock is per open file: a caller holding it must not call create,
 * remove, prune or default, which take it themselves. */
int engine_network_lock(const struct engine_ctx *c, struct err **err);
/* N's leases (ROOT/networks/<id>/leases/), for the pool N records. */
int engine_network_ipam_open(const struct engine_ctx *c, const struct net_network *n,
			     struct net_ipam **out, struct err **err);

#endif

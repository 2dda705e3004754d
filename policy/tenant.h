/*
 * policy/tenant.h - the tenant policy: what one invocation of moat may ask
 * for (images, host namespaces, confinement switched off, capabilities,
 * read-only root, seccomp profile, env size, argument count, bind mount
 * sources, volume drivers, tmpfs, networks and published ports) and the
 * bounds and defaults of its resource limits, selected by who is asking.
 *
 * Runs in: any process. PURE: the caller reads the files
 * (engine/tenant_files.c) and builds the request; this decodes bytes into
 * typed structs, merges a user's file over the system's so that it may
 * only tighten, and decides. fuzz/tenant_policy_fuzz.c exercises it.
 *
 * The format (JSON, strict: an unknown key is an error naming the file
 * and the JSON path, a syntax error names file:line:column):
 *
 *   {
 *     "default": RULES,              rules for a caller no tenant selects
 *     "tenants": {                   optional
 *       "NAME": RULES + {
 *         "uids": [1000, "2000-2999"],   who is this tenant (uids, ranges)
 *         "gids": [100]                  ... or a primary gid
 *       }
 *     }
 *   }
 *
 *   RULES (every key optional; absent means "no restriction"):
 *     "images": {"allow": [PATTERN...], "deny": [PATTERN...]}
 *         PATTERN: "*" (anything), "HOST" (a whole registry),
 *         "HOST/REPO" (one repository), "HOST/NS/" + "*" (anything below).
 *         Matched on the normalised repository (docker.io/library/x).
 *         deny wins; with "allow" an image must match one of it.
 *     "forbidHostNetwork", "forbidHostUserns", "forbidUnconfinedSeccomp",
 *     "forbidLandlockOff", "forbidLSMOff", "requireReadOnly": booleans
 *     "requireSeccompProfile": "default" or an absolute profile path
 *     "capabilities": ["CHOWN", "CAP_KILL", ...]  the bounding set may
 *         hold these and no others
 *     "maxEnvBytes", "maxArgs": integers
 *     "limits": {"memory", "memorySwap", "cpus", "cpuShares",
 *                "pidsLimit", "shmSize": {"max": V, "default": V},
 *                "ulimits": {"nofile": {"max": N, "default": N}, ...}}
 *         sizes as bytes or "512m"/"2g"; cpus as 1.5 or "1.5".
 *         A limit the request leaves unset becomes the default (or the
 *         max when there is no default: "unlimited" is above any bound).
 *     "bindMounts": {
 *       "allow": [ABS_PATH...],   a bind source must be one of these or
 *                                 beneath one, component-wise ("/srv/data"
 *                                 holds "/srv/data/x", not "/srv/database");
 *                                 [] forbids bind mounts altogether
 *       "deny": [ABS_PATH...],    never these nor beneath (deny wins)
 *       "readOnly": bool,         every bind must be read-only
 *       "forbidCreate": bool      `-v` may not create a missing source
 *     }
 *         ABS_PATH: absolute and normalised (no "//", no "." or ".."
 *         component, no trailing "/"; "/" itself is allowed). Matched on
 *         the real path of the source the engine opened, so a symlink
 *         cannot lead a bind out of an allowed tree.
 *     "volumeDrivers": ["local", NAME...]  the drivers a volume may use;
 *         [] forbids volumes, anonymous ones (driver "local") included.
 *         NAME: [a-zA-Z0-9][a-zA-Z0-9_.:/-]*
 *     "forbidTmpfs": boolean  no --tmpfs, no --mount type=tmpfs
 *     "networks": {
 *       "drivers": [DRIVER...],   the network's driver must be one of these
 *                                 ("none" and "host" are the drivers of the
 *                                 predefined networks of those names);
 *                                 [] forbids every network, "none" included
 *       "allow": [GLOB...],       the network's name must match one
 *       "deny": [GLOB...]         ... and none of these (deny wins)
 *     }
 *         GLOB: a network name ([a-zA-Z0-9_.-], at most 128) in which "*"
 *         matches any run of characters and "?" one. Names are the
 *         network's own ("none", "host", "bridge", "frontend"), not an
 *         id the user typed.
 *     "publish": {                -p and -P (after -P is expanded)
 *       "allow": bool,            false: no port may be published (nor -P
 *                                 asked for, even of an image exposing none)
 *       "hostPorts": [PORTS...],  a fixed host port must lie in one of
 *                                 these: 8080, "8080" or "8000-8999"; a
 *                                 range binding ("8000-8010:80") must lie
 *                                 wholly in them; [] admits no fixed port
 *       "hostIPs": [ADDR...],     the host address must be one of these
 *                                 (canonical IPv4/IPv6 text); a binding
 *                                 without one ("-p 80:80") binds 0.0.0.0
 *                                 and needs "0.0.0.0" listed
 *       "allowEphemeral": bool    an ephemeral binding ("-p 80", "-P": any
 *                                 free port) is allowed; absent, it is
 *                                 allowed exactly when there is no
 *                                 "hostPorts" rule
 *     }
 *
 * Selection: with --tenant NAME, NAME must be a tenant whose uids hold the
 * caller's uid (or gids its gid), else the request is denied; without,
 * the one tenant that holds the caller is chosen (more than one: denied,
 * the caller must choose), else "default". A tenant's rules replace
 * "default"; they do not add to it.
 *
 * Mounts are checked after every other rule, each in the request's order;
 * the first that fails denies. Within a bind: deny, allow, readOnly,
 * forbidCreate. Failing closed: a bind source that is not an absolute,
 * normalised path is outside every allowed path (and denied by a deny
 * list), a volume without a driver named is refused by volumeDrivers, and
 * a mount type other than bind, volume and tmpfs is refused by whichever
 * storage rule the set has.
 *
 * The network rules are checked after forbidHostNetwork (which also
 * denies a network of driver "host"): drivers, deny, allow, then each
 * published binding in the request's order (publish.allow, hostIPs, then
 * the port). Failing closed: a network whose driver or name is not known
 * is refused by whichever network rule the set has, and a publish spec
 * that does not parse by any publish rule.
 *
 * Left out on purpose: devices (a key for them is an unknown key, so a
 * policy written for them fails loudly instead of seeming to enforce
 * something); container ports and protocols; memory-reservation,
 * cpuset-cpus and oom-score-adj bounds; mount targets and bind
 * propagation (what the container sees where is the container's own
 * business; what a tenant may reach on the host is the policy's).
 *
 * Invariants:
 *  - the text is capped before jansson sees it, counts before allocation;
 *  - a decoded policy is internally consistent (default <= max, nothing
 *    both allowed and denied, a required profile not forbidden);
 *  - evaluation fails closed: what it cannot decide denies, and every
 *    denial names the rule's JSON path.
 */
#ifndef MOAT_POLICY_TENANT_H
#define MOAT_POLICY_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/limits.h"

#define TENANT_POLICY_MAX_BYTES (1024 * 1024)
#define TENANT_POLICY_MAX_TENANTS 1000
#define TENANT_POLICY_MAX_PATTERNS 1000
#define TENANT_POLICY_MAX_IDS 1000

enum tenant_limit {
	TENANT_LIMIT_MEMORY,
	TENANT_LIMIT_MEMORY_SWAP,
	TENANT_LIMIT_CPUS,
	TENANT_LIMIT_CPU_SHARES,
	TENANT_LIMIT_PIDS,
	TENANT_LIMIT_SHM_SIZE,
	TENANT_LIMIT_COUNT,
};

struct tenant_port_range {
	uint16_t lo, hi; /* inclusive, 1..65535 */
};

struct tenant_bound {
	bool has_max, has_default;
	int64_t max, def;
};

struct tenant_ulimit_bound {
	int resource; /* RLIMIT_* */
	struct tenant_bound b;
};

struct tenant_rules {
	char **allow; /* normalised patterns, NULL-terminated; NULL: any */
	char **deny;  /* NULL-terminated or NULL */
	bool forbid_host_network, forbid_host_userns, forbid_unconfined_seccomp;
	bool forbid_landlock_off, forbid_lsm_off, require_read_only;
	char *require_seccomp; /* "default", an absolute path, or NULL */
	bool has_caps;
	uint64_t caps; /* bit n: capability n may be in the bounding set */
	bool has_max_env, has_max_args;
	uint64_t max_env_bytes, max_args;
	struct tenant_bound limits[TENANT_LIMIT_COUNT];
	struct tenant_ulimit_bound ulimits[ENGINE_MAX_ULIMITS];
	size_t n_ulimits;
	/* Storage. Lists are NULL-terminated; NULL: no restriction; an
	 * empty list (allow, drivers): nothing is allowed. */
	char **bind_allow, **bind_deny; /* normalised absolute paths */
	bool bind_read_only, bind_forbid_create;
	char **volume_drivers;
	bool forbid_tmpfs;
	/* Networks (tenant_net.c). Lists as above. */
	char **net_drivers;
	char **net_allow, **net_deny;	      /* name globs */
	bool publish_forbid;		      /* "publish": {"allow": false} */
	bool has_host_ports;		      /* a "hostPorts" rule: only HOST_PORTS */
	struct tenant_port_range *host_ports; /* sorted, disjoint, not adjacent */
	size_t n_host_ports;
	char **host_ips; /* canonical addresses */
	bool has_ephemeral, allow_ephemeral;
};

struct tenant_id_range {
	uint32_t lo, hi; /* inclusive */
};

struct tenant {
	char *name;
	struct tenant_id_range *uids, *gids;
	size_t n_uids, n_gids;
	struct tenant_rules rules;
};

struct tenant_policy {
	struct tenant_rules def;
	struct tenant *tenants; /* sorted by name, unique */
	size_t n_tenants;
};

/* FILE names it in errors: "FILE:LINE:COL: what" for syntax,
 * "FILE: json.path: what" otherwise. */
int tenant_policy_decode(const char *buf, size_t len, const char *file, struct tenant_policy **out,
			 struct err **err);
void tenant_policy_free(struct tenant_policy *p);
/* The policy when no file exists: no restrictions. NULL on ENOMEM. */
struct tenant_policy *tenant_policy_empty(void);

/* USER tightens SYS: every rule set of the result is at least as strict
 * as SYS's and as USER's "default" (and USER's rules for the same
 * tenant): booleans OR, allow lists intersect (an image or a bind source
 * must match both; of two nested bind paths the deeper is kept, and an
 * allowed bind path that a deny path covers is dropped as dead), deny
 * lists add, capabilities and volume drivers intersect, maxima the lower,
 * defaults the lower (and never above the merged max), a required
 * seccomp profile must agree; network drivers, host ports and host IPs
 * intersect, publish.allow is false when either says so, an ephemeral
 * binding stays allowed only when both allow it, network name globs
 * intersect as images do (of two globs neither of which holds the other
 * neither is kept: stricter than the exact intersection, never looser).
 * USER may not map uids or gids, nor name a tenant SYS does
 * not have (errors naming USER_FILE and the path). */
int tenant_policy_tighten(const struct tenant_policy *sys, const struct tenant_policy *user,
			  const char *user_file, struct tenant_policy **out, struct err **err);

/* Two system files (policy.d/ *.json, in order): like tighten, except
 * that B may add tenants of its own, uids and all (a tenant both name
 * keeps A's uids; B giving it uids too is an error). */
int tenant_policy_combine(const struct tenant_policy *a, const struct tenant_policy *b,
			  const char *b_file, struct tenant_policy **out, struct err **err);

/* One mount of the request (volume/mountspec.h's, resolved by the
 * engine). */
struct tenant_mount {
	const char *type;      /* "bind", "volume", "tmpfs" */
	const char *host_path; /* bind: the REAL path of the opened source */
	const char *driver;    /* volume: its driver ("local" or a plugin); the
				* engine resolves it (an anonymous volume's is
				* "local"): NULL is not guessed, it denies when
				* volumeDrivers applies */
	bool readonly;
	bool create; /* bind: the missing source would be created */
};

/* The final, normalised request. */
struct tenant_request {
	uint32_t uid, gid;
	const char *tenant; /* --tenant, or NULL */
	const char *image;  /* the reference as given; NULL when it was an image id */
	char *const
	    *image_names;    /* the image's names in the store (NULL-terminated; may be NULL) */
	const char *network; /* the network's name: "none", "host", "bridge", ... */
	const char *network_driver; /* its driver: "none", "host", "bridge", ...; NULL unknown */
	char *const *publish;	    /* -p specs and -P's expansion (net/portspec.h),
				      * NULL-terminated; may be NULL */
	bool publish_all;	    /* -P */
	const char *userns;	    /* "single", "subuid", "root-range", "host" */
	const char *seccomp;	    /* "default", "unconfined", or an absolute path */
	bool landlock_off;
	const char *apparmor; /* a profile, "unconfined", or NULL (none named) */
	uint64_t caps;	      /* the final bounding set */
	bool read_only;
	uint64_t env_bytes;		   /* sum of strlen("K=V") + 1 over the final env */
	uint64_t argc;			   /* the final argv's length */
	struct engine_limits *limits;	   /* the policy's defaults are written here; may be NULL */
	const struct tenant_mount *mounts; /* in the order given; NULL when N_MOUNTS is 0 */
	size_t n_mounts;
};

enum tenant_verdict {
	TENANT_ALLOW,
	TENANT_DENY,
};

struct tenant_decision {
	enum tenant_verdict verdict;
	char tenant[128]; /* the tenant selected, "" for "default" */
	char rule[256];	  /* the JSON path of the rule that denied ("" when allowed) */
	char reason[512]; /* one line */
};

/* Selects the rule set for REQ, writes its limit defaults into
 * REQ->limits (only where the request left a limit unset), and decides.
 * Returns the verdict (also in D). */
enum tenant_verdict tenant_policy_evaluate(const struct tenant_policy *p,
					   struct tenant_request *req, struct tenant_decision *d);

/* Selects the rule set as tenant_policy_evaluate does (from REQ's uid,
 * gid and tenant) and checks only the storage rules against REQ's
 * mounts; the other fields of REQ are not read. For the engine's check
 * at every start, when it has opened each bind source again and its real
 * path may have changed since create. */
enum tenant_verdict tenant_policy_evaluate_mounts(const struct tenant_policy *p,
						  struct tenant_request *req,
						  struct tenant_decision *d);

/* Names for `moat policy show`. */
const char *tenant_limit_key(enum tenant_limit l);
const char *tenant_ulimit_name(int resource);
/* P as policy text in the format above (sizes in bytes, cpus as
 * "N.NNNNNNNNN", keys sorted) that tenant_policy_decode reads back to an
 * equal policy. *OUT is malloc'd. */
int tenant_policy_encode(const struct tenant_policy *p, char **out, struct err **err);

/* A size for a policy: an integer of bytes or Docker's "512m" form. */
int tenant_size_parse(const char *s, int64_t *out);

#endif

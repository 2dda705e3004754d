/*
 * engine/lifecycle.h - containers from creation to removal: create, start
 * (in the foreground, where the caller becomes the monitor, or detached),
 * run = create + start, and the requests other commands send a running
 * container's monitor.
 */
#ifndef MOAT_ENGINE_LIFECYCLE_H
#define MOAT_ENGINE_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/digest.h"
#include "common/err.h"
#include "engine/config.h"
#include "engine/events.h"
#include "engine/limits.h"
#include "engine/mounts.h"
#include "engine/names.h"
#include "engine/netreq.h"
#include "sandbox/spec.h"

/* Who is asking, and where state lives. */
struct engine_ctx {
	const char *root, *runroot;
	bool rootless;
	uid_t uid;
	gid_t gid;
	struct engine_audit_conf audit;
	const char *trust_policy;  /* --trust-policy: the whole policy, or NULL */
	const char *tenant_policy; /* --policy: the whole tenant policy, or NULL */
	const char *tenant;	   /* --tenant NAME, or NULL */
};

/* The network of a container created without --network. */
#define ENGINE_DEFAULT_NETWORK_MODE "none"

struct engine_create_opts {
	bool dry_run; /* decide everything (trust, policy), create nothing */
	const char *image;
	struct run_request req;
	const char *name; /* NULL: generated */
	char **labels;	  /* "k=v" */
	bool rm, interactive, read_only, init;
	char **cap_add, **cap_drop;
	const char *seccomp; /* NULL = default profile, "unconfined", or a file */
	bool landlock_off;
	const char *apparmor; /* NULL = host default */
	/* --network: NULL (the default network), "none", "host", or a
	 * network's name or id; the rest of the network flags in NETREQ
	 * (create checks a copy). */
	const char *network;
	struct engine_netreq netreq;
	const char *userns;
	int stop_signal;       /* 0: SIGTERM (or the image's StopSignal) */
	int stop_timeout;      /* -1: 10 s */
	const char *restart;   /* NULL: "no" */
	uint64_t log_max_size; /* 0: unlimited */
	unsigned log_max_file; /* 0: 1 */
	struct engine_limits
	    limits; /* --memory, --cpus, --ulimit, ... (pids_limit 0: the default) */
	struct engine_mount_opts mounts; /* -v, --mount, --tmpfs, --volumes-from */
};

/* Creates a container (state "created"); fills ID. Nothing runs yet. */
int engine_create(const struct engine_ctx *c, const struct engine_create_opts *o,
		  char id[SHA256_HEX_LEN + 1], struct err **err);

enum engine_start_mode {
	ENGINE_START_FOREGROUND, /* this process is the monitor; stdio relayed */
	ENGINE_START_DETACHED,	 /* a detached monitor; returns once started */
};

/* Starts container ID. Foreground: returns its exit status (Docker
 * semantics) once it ends for good; detached: 0 once its command was
 * exec'd. A start that fails returns a negative errno with err->exit set
 * (125, 126, 127). */
int engine_start(const struct engine_ctx *c, const char *id, enum engine_start_mode mode,
		 struct err **err);

/* `moat run`: create, then start; a container whose first start fails is
 * removed again (nothing half-made stays behind). Prints the id for -d. */
int engine_run(const struct engine_ctx *c, const struct engine_create_opts *o, bool detach,
	       struct err **err);

/* Stops ID (Docker's stop: SIG (0 = its stop signal), TIMEOUT seconds
 * (-1 = its own), then SIGKILL). A stopped container is left as is. */
int engine_stop(const struct engine_ctx *c, const char *id, int sig, int timeout, struct err **err);
/* May VERB be applied to ID now? ctr_transition_check on its true state:
 * CTR_OK, CTR_NOOP or a negative errno with Docker's message. */
int engine_verb_check(const struct engine_ctx *c, const char *id, enum ctr_verb verb,
		      struct err **err);
/* Sends SIG to ID's init; refused unless it runs. */
int engine_kill(const struct engine_ctx *c, const char *id, int sig, struct err **err);

/* `moat rm` (PRUNE: on behalf of `container prune`; VOLUMES: -v, its
 * anonymous volumes go too), with its audit record "container.remove"
 * (fail-closed). */
int engine_remove(const struct engine_ctx *c, const char *id, bool force, bool prune, bool volumes,
		  struct err **err);

/* Cleans what dead monitors left (runtime dirs, --rm containers, cgroups). */
void engine_reconcile(const struct engine_ctx *c);

/* The container's process rlimits (--ulimit, and its pids limit as
 * RLIMIT_NPROC without HAVE_CGROUP) into SPEC; what they are is appended
 * to ENFORCED (LEN bytes). Start and exec apply the same ones. */
struct container_record;
void engine_process_rlimits(const struct container_record *rec, bool have_cgroup,
			    struct sandbox_spec *spec, char *enforced, size_t len);

/* The compiled seccomp filter a container was created with. */
int engine_container_bpf_load(const char *root, const char *id, struct sandbox_bpf *out,
			      struct err **err);

#endif

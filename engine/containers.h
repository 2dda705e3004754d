/*
 * engine/containers.h - containers as long-lived objects: the record that
 * says what a container is and what it last did, names, lookup by id,
 * prefix or name, listing with the state that is true now, and removal.
 *
 * On disk (ROOT/containers/<id>/): container.json (this record), upper/
 * and work/ (its writable layer), seccomp.bpf (the filter it was created
 * with: start and exec load exactly that), json.log (its output).
 * ROOT/names/<name> is a symlink to the id: creating it is how a name is
 * reserved, atomically. RUNROOT/containers/<id>/ exists while a monitor
 * runs it: "lock" (flock held by the monitor), "ctl" (its socket).
 */
#ifndef MOAT_ENGINE_CONTAINERS_H
#define MOAT_ENGINE_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/digest.h"
#include "common/err.h"
#include "engine/engine.h"
#include "engine/limits.h"
#include "engine/names.h"
#include "engine/netreq.h"
#include "volume/mountspec.h"

#define CONTAINER_RECORD_MAX (1u << 20)
#define CONTAINER_GROUPS_MAX 64

struct container_record {
	char id[SHA256_HEX_LEN + 1];
	char *name;
	char *image;	   /* as the user named it */
	char *image_id;	   /* sha256:... */
	char *image_trust; /* why the trust policy let it run (NULL in older records) */

	/* the process */
	char **argv;
	char **env;
	char *cwd;
	char *user; /* as asked ("" = the image's) */
	uint32_t uid, gid;
	uint32_t groups[CONTAINER_GROUPS_MAX];
	size_t n_groups;
	char *hostname;
	char **labels; /* "k=v" */
	bool tty, stdin_open, init;

	/* confinement and host configuration, fixed at create */
	char *userns; /* "single", "subuid", "root-range", "host" */
	char *net;    /* "none", "host", or the name of the network it joins */
	bool read_only;
	bool landlock;
	uint64_t caps;
	char *seccomp;	/* "default", "unconfined", or the profile file */
	char *apparmor; /* NULL: the host's default */
	bool rm;	/* --rm: removed when it exits */
	int stop_signal;
	int stop_timeout;
	char *restart;	       /* "no", "on-failure[:N]", "always", "unless-stopped" */
	uint64_t log_max_size; /* 0: unlimited */
	uint32_t log_max_file;
	/* Docker's resource flags as create settled them (pids_limit: the
	 * default filled in; -1 unlimited). Older records: all zero. */
	struct engine_limits limits;
	/* What the last start could enforce, e.g. "cgroup v1 (memory cpu
	 * pids), rlimits, oom_score_adj"; NULL before the first start. */
	char *limits_enforced;
	/* Storage as create settled it (engine/mounts.h): volumes by name,
	 * binds by host path, tmpfs; parents before children. */
	struct mount_req *mounts;
	size_t n_mounts;
	/* The network as create settled it (engine/netreq.h). */
	struct engine_netreq netreq;

	/* what it last did */
	enum ctr_state state; /* as its monitor last wrote it */
	int64_t created;      /* unix ns */
	int64_t started;      /* unix ns; 0: never */
	int64_t finished;     /* unix ns; 0: not since it last started */
	int pid;	      /* its init while running */
	int exit_code;	      /* -1: unknown (the monitor died) */
	bool oom_killed;
	int restart_count;
};

/* PURE: the record as JSON, and back (strict, capped). */
int engine_container_record_encode(const struct container_record *r, char **out, size_t *len,
				   struct err **err);
int engine_container_record_decode(const char *buf, size_t len, struct container_record *out,
				   struct err **err);
void engine_container_record_free(struct container_record *r);

/* Writes the record atomically into ROOT/containers/<id>/; DURABLE adds the
 * fsyncs (skipped for --rm containers and transient states). */
int engine_container_save(const char *root, const struct container_record *r, bool durable,
			  struct err **err);
int engine_container_load(const char *root, const char *id, struct container_record *r,
			  struct err **err);

/* True while a monitor holds RUNROOT/containers/<id>/lock. */
bool engine_container_monitored(const char *runroot, const char *id);
/* The state that is true now: a record that says running, paused or
 * restarting without a live monitor is exited (its monitor died; exit
 * code unknown unless recorded). */
enum ctr_state engine_container_state(const char *runroot, const struct container_record *r);

/* Finds the container REF names (full id, name, or unique id prefix). */
int engine_container_resolve(const char *root, const char *ref, char id[SHA256_HEX_LEN + 1],
			     struct err **err);

/* Reserves NAME for ID (Docker's conflict message when taken); a NAME of
 * a container that no longer has it is reclaimed. */
int engine_name_reserve(const char *root, const char *name, const char *id, struct err **err);
/* Releases NAME if it still points at ID. */
void engine_name_release(const char *root, const char *name, const char *id);
/* A generated, unused name. */
int engine_name_generate(const char *root, const char *id, char out[64], struct err **err);

struct container_entry {
	struct container_record rec;
	enum ctr_state state; /* engine_container_state() */
};

/* Every container with a record, newest first. */
int engine_container_list(const char *root, const char *runroot, struct container_entry **out,
			  size_t *n, struct err **err);
void engine_container_list_free(struct container_entry *e, size_t n);

/* The identity a recorded container runs as. */
int engine_container_identity(const struct container_record *r, bool rootless, uid_t uid, gid_t gid,
			      struct engine_identity *ident, struct err **err);

/* Removes container ID: refused while it runs unless FORCE, which kills it
 * (SIGKILL through its monitor) and waits for the monitor to end. */
int engine_container_remove(const char *root, const char *runroot, bool rootless, uid_t uid,
			    gid_t gid, const char *id, bool force, struct err **err);

/* Removes a container's directories: RDIR (runtime) and DIR (persistent;
 * its upper layer from inside the user namespace in subuid mode). Either
 * may be "". Failures are warnings: the caller's outcome stands. */
void engine_container_dirs_remove(const char *rdir, const char *dir,
				  const struct engine_identity *ident);

/* Waits (up to TIMEOUT_MS, -1 = forever) until no monitor holds ID's lock. */
int engine_container_wait_unlocked(const char *runroot, const char *id, int timeout_ms);

#endif

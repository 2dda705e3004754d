/*
 * engine/monitor.h - the per-container monitor: one small process outside
 * the container's namespaces (or `moat run` itself, in the foreground)
 * that holds its stdio or pty, writes its json-file log, answers the
 * control socket, reaps it, records its exit, applies the restart policy
 * and tears down.
 */
#ifndef MOAT_ENGINE_MONITOR_H
#define MOAT_ENGINE_MONITOR_H

#include <signal.h>
#include <stdbool.h>

#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "sandbox/spec.h"

struct engine_netrun;

struct monitor_conf {
	const struct engine_ctx *ctx;
	struct container_record *rec;
	struct sandbox_spec *spec;
	struct audit_log *alog;
	const struct engine_identity *ident;
	struct sandbox_cgroup *cgroup; /* NULL: none (rootless on cgroup v1) */
	const char *dir, *rdir;	       /* persistent and runtime state */
	int rdirfd, lockfd;
	bool foreground;	   /* relay to this process's stdio */
	bool logging;		   /* pipes and json.log (else the command inherits stdio) */
	int ready_fd;		   /* detached: told "started" or why not, then closed */
	struct engine_netrun *net; /* the network (engine/netrun.h); released at teardown */
};

/* Runs the container until it ends for good; returns its last exit
 * status (>= 0) or a negative errno when its first start failed. Takes
 * care of teardown either way. */
int engine_monitor_run(struct monitor_conf *m, struct err **err);

/* What a detached monitor tells the process waiting for it. */
struct monitor_ready {
	int code; /* 0 started; else negative errno */
	int exit; /* Docker exit status for failures */
	char msg[1024];
};

#endif

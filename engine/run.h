/*
 * engine/run.h - `moat run` in the foreground.
 */
#ifndef MOAT_ENGINE_RUN_H
#define MOAT_ENGINE_RUN_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "engine/events.h"
#include "engine/config.h"
#include "sandbox/spec.h"

struct engine_run_opts {
	const char *root, *runroot;
	bool rootless;
	uid_t uid;
	gid_t gid;

	const char *image;
	struct run_request req;
	bool rm, interactive, read_only, init;
	char **cap_add, **cap_drop;
	const char *seccomp; /* NULL = default profile, "unconfined", or a file */
	bool landlock_off;
	const char *apparmor; /* NULL = host default */
	enum sandbox_net net;
	const char *userns;
	struct engine_audit_conf audit;
};

/* Runs the container; returns its exit status (Docker semantics) or a
 * negative errno with ERR set (err->exit 125/126/127). */
int engine_run(const struct engine_run_opts *o, struct err **err);

#endif

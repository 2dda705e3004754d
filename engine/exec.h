/*
 * engine/exec.h - `moat exec`: a new process in a running container,
 * confined exactly like the container.
 */
#ifndef MOAT_ENGINE_EXEC_H
#define MOAT_ENGINE_EXEC_H

#include <stdbool.h>

#include "engine/lifecycle.h"

struct engine_exec_opts {
	char **argv;
	char **env; /* "K=V" added to (or replacing in) the container's; "K" from ours */
	const char *workdir;
	const char *user;
	bool interactive, tty, detach;
};

/* Returns the process's exit status (Docker semantics; 0 with detach) or
 * a negative errno with err->exit set (1 for a container that is not
 * running, 125/126/127 as Docker). */
int engine_exec(const struct engine_ctx *c, const char *id, const struct engine_exec_opts *o,
		struct err **err);

#endif

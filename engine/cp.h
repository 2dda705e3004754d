/*
 * engine/cp.h - `moat cp`: files and directories between a container
 * (running or stopped) and the host, with Docker's path rules, never
 * resolving a container path on the host.
 *
 * The copy runs as two processes joined by a pipe of entry records (see
 * engine/cp.c; the files that make it up are listed in
 * engine/cp_internal.h): one inside the container's user and mount
 * namespaces, where "/" is the container's root, one on the host as the
 * invoker.
 */
#ifndef MOAT_ENGINE_CP_H
#define MOAT_ENGINE_CP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "engine/lifecycle.h"

struct engine_cp_opts {
	bool to_container;     /* host -> container, else container -> host */
	const char *ctr_path;  /* inside the container, as the user wrote it */
	const char *host_path; /* on the host; "-" is a tar stream on stdin/stdout */
	bool archive;	       /* -a: keep uid/gid */
	bool follow_link;      /* -L: follow a symlink that SRC_PATH itself names */
};

/* Copies between container ID (resolved) and the host. Errors carry
 * Docker's exit status (1). */
int engine_cp(const struct engine_ctx *c, const char *id, const struct engine_cp_opts *o,
	      struct err **err);

/* PURE: Docker's splitCpArg. "CONTAINER:PATH" gives *CTR (allocated) and
 * *PATH (into ARG); an absolute path, a path without ':' or one whose
 * part before ':' starts with '.' ("./a:b") is local: *CTR = NULL. */
int engine_cp_split_arg(const char *arg, char **ctr, const char **path, struct err **err);

/* What a copy destination is, as far as the plan is concerned. */
struct engine_cp_dest {
	bool exists, is_dir, is_reg;
	bool asserts_dir; /* written with a trailing '/' */
	const char *base; /* last component of its resolved path */
	const char *show; /* for messages: "web:/x" or "/tmp/x" */
};

/*
 * PURE: Docker's PrepareArchiveCopy. A source that is a directory or not
 * (SRC_IS_DIR), whose entries are named SRC_NAME ("." for "dir/."), lands
 * either in D itself (*INTO_PARENT false, names kept) or in D's parent
 * with the top entry renamed to D's base (*NAME). Errors (exit 1): a
 * directory onto a file, a file into a missing "dir/", a destination
 * that is neither a directory nor a regular file.
 */
int engine_cp_plan(bool src_is_dir, const char *src_name, const struct engine_cp_dest *d,
		   bool *into_parent, const char **name, struct err **err);

/* PURE: an entry name from a record or a tar stream made relative and
 * clean into OUT (CAP bytes): leading "/" and "./" dropped, "//" and
 * "/./" folded, "" for the destination itself. ".." anywhere is refused. */
int engine_cp_name_clean(const char *in, char *out, size_t cap, struct err **err);

#endif

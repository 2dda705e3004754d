/*
 * engine/commit.h - `moat commit`, the engine's half: the container is
 * found (Docker's "No such container", exit 1), its identity rebuilt from
 * its record, a running one frozen for the copy when it has a freezer
 * cgroup (and thawed after, also on failure), and image_store_commit
 * (image/commit.h) adds the new image, signed with the local key through
 * the store's admission hook.
 *
 * Runs in: the moat CLI process, as the invoking user or root.
 */
#ifndef MOAT_ENGINE_COMMIT_H
#define MOAT_ENGINE_COMMIT_H

#include <stdbool.h>

#include "common/digest.h"
#include "common/err.h"
#include "engine/lifecycle.h"
#include "engine/trust.h"
#include "image/image.h"

struct engine_commit_opts {
	const char *container;	      /* id, unique prefix or name */
	const char *repo;	      /* REPOSITORY[:TAG], or NULL: dangling */
	char *const *changes;	      /* --change, NULL-terminated (may be NULL) */
	const char *author, *message; /* -a, -m (may be NULL) */
	bool pause;		      /* -p (Docker's default: true) */
	/* The admission (engine/trust.h): named images go through
	 * engine_trust_admit, a dangling one is signed here (see
	 * engine/commit.c). Its decisions are for the caller's audit. */
	struct engine_trust_admit *trust;
};

struct engine_commit_result {
	char image_id[72];		       /* "sha256:<hex>" */
	char container_id[SHA256_HEX_LEN + 1]; /* "" until the container is found */
	char *container_name;		       /* its name (malloc'd) */
	char *name;			       /* the image's normalised name, or NULL */
	/* Warnings for the caller to print (malloc'd, or NULL): why the
	 * container was not frozen though it runs, and a failed thaw. */
	char *not_paused;
	char *unpause_error;
};
void engine_commit_result_clear(struct engine_commit_result *r);

int engine_commit(const struct engine_ctx *c, const struct engine_commit_opts *o,
		  struct engine_commit_result *res, struct err **err);

#endif

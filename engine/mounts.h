/*
 * engine/mounts.h - a container's storage from the flags to the sandbox:
 * settled once at create (named and anonymous volumes made, --volumes-from
 * copied, binds checked), recorded, and at every start turned into the
 * sandbox's mounts (bind sources opened and re-checked against the tenant
 * policy, volumes found, plugin volumes mounted), released at teardown.
 *
 * Runs in: the moat process (create, start, rm, volume verbs) and a
 * container's monitor (teardown).
 */
#ifndef MOAT_ENGINE_MOUNTS_H
#define MOAT_ENGINE_MOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "engine/engine.h"
#include "image/image.h"
#include "sandbox/spec.h"
#include "volume/mountspec.h"

struct engine_ctx;
struct container_record;
struct tenant_mount;

#define ENGINE_MAX_MOUNTS SANDBOX_MAX_MOUNTS

/* PURE: the record's "mounts" (strict; every target normalised, names
 * valid, at most ENGINE_MAX_MOUNTS). */
json_t *engine_mounts_json(const struct mount_req *m, size_t n);
int engine_mounts_from_json(json_t *j, struct mount_req **out, size_t *n, struct err **err);
void engine_mounts_free(struct mount_req *m, size_t n);

/* What create asked for. */
struct engine_mount_opts {
	struct mount_req *reqs; /* -v, --mount, --tmpfs in flag order */
	size_t n_reqs;
	char **volumes_from; /* "CONTAINER[:ro|:rw]", NULL-terminated or NULL */
};

/* The container's mounts as create settles them, before anything exists:
 * the flags, then --volumes-from (same targets; a flag's target wins),
 * then the image's VOLUMEs not already covered (anonymous volumes), sorted
 * so that a parent comes before what is mounted below it. Duplicate
 * targets among the flags are an error ("Duplicate mount point"). For the
 * tenant policy: TM[i] describes MOUNTS[i] (a bind's real host path, or
 * for a missing -v source the path it would have, with create set); the
 * strings live in STRS (free both with engine_mounts_plan_free). */
struct engine_mounts_plan {
	struct mount_req *mounts;
	size_t n;
	struct tenant_mount *tm;
	char **strs;
};
int engine_mounts_plan(const struct engine_ctx *c, const struct engine_mount_opts *o,
		       const struct image *img, struct engine_mounts_plan *plan, struct err **err);
void engine_mounts_plan_free(struct engine_mounts_plan *plan);

/* After the policy allowed PLAN: creates missing host directories (-v),
 * named volumes that do not exist yet (local, or through their plugin),
 * and anonymous volumes (their generated names written into PLAN). On
 * failure everything this call made is removed again. CREATED receives
 * the names of the volumes made (for engine_mounts_undo). */
int engine_mounts_make(const struct engine_ctx *c, const struct engine_identity *ident,
		       struct engine_mounts_plan *plan, char ***created, struct err **err);
/* Removes the volumes CREATED names (a create that failed later). */
void engine_mounts_undo(const struct engine_ctx *c, const struct engine_identity *ident,
			char **created);

/* Start: REC's mounts as sandbox mounts (same order and count as
 * REC->mounts). Binds are opened again and re-checked against the tenant
 * policy; plugin volumes are mounted (Mount, id = the container's id) and
 * noted in RDIR/plugin-mounts so a crashed monitor's are released by
 * reconcile. On failure nothing stays mounted or open. */
int engine_mounts_open(const struct engine_ctx *c, const struct container_record *rec,
		       const char *rdir, struct sandbox_mount **out, size_t *n, struct err **err);
/* Closes the fds and frees (not the plugin mounts: see release). */
void engine_mounts_close(struct sandbox_mount *m, size_t n);
/* After the first successful start: volumes seeded now are never seeded
 * again for this container (REC's mounts become nocopy). */
void engine_mounts_started(struct container_record *rec, struct sandbox_mount *m, size_t n);
/* Teardown: plugin volumes Unmount'ed (as RDIR/plugin-mounts lists), then
 * with REMOVE_ANON (--rm) the container's anonymous volumes removed. An
 * Unmount that fails (the plugin is down, refuses, does not answer) is a
 * warning and is kept as pending (below), not lost with RDIR. */
void engine_mounts_release(const struct engine_ctx *c, const struct container_record *rec,
			   const char *rdir, bool remove_anon);

/*
 * Pending Unmounts: RUNROOT/plugin-unmounts/DRIVER/VOLUME, one mount id
 * (a container id) a line, a line per Mount still owed its Unmount (the
 * same id twice when the container mounted the volume twice). They
 * outlive the container (its rm does not touch them) and are retried, one
 * attempt each, until the plugin takes them: by engine_reconcile's
 * callers through engine_mounts_retry_unmounts, by `volume ls` and
 * `volume rm`, and before the same container mounts that volume again
 * (which is refused while its old Unmount is still owed: the late Unmount
 * would drop the new mount in a plugin that keys mounts by id).
 */
/* Every pending Unmount (files another process is retrying are left to
 * it). Failures are warnings. */
void engine_mounts_retry_unmounts(const struct engine_ctx *c);
/* Those of DRIVER's VOLUME. */
void engine_mounts_retry_unmounts_of(const struct engine_ctx *c, const char *driver,
				     const char *volume);
/* Drops those of DRIVER's VOLUME: the plugin removed the volume. */
void engine_mounts_forget_unmounts(const struct engine_ctx *c, const char *driver,
				   const char *volume);
/* Removes REC's anonymous volumes that no other container uses
 * (`rm -v`, --rm). */
void engine_mounts_remove_anonymous(const struct engine_ctx *c, const struct container_record *rec);

#endif

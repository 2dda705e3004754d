/*
 * engine/volumes.h - the `moat volume` verbs over volume/ (records, local
 * data) and volume/plugin (plugin volumes): create, inspect, list, remove
 * and prune, with Docker's rules: a name is one volume whatever its
 * driver, and a volume that a container (running or not) refers to is in
 * use and is not removed.
 *
 * Runs in: the moat process, as the invoking user or root.
 */
#ifndef MOAT_ENGINE_VOLUMES_H
#define MOAT_ENGINE_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "engine/engine.h"
#include "engine/prune.h"
#include "volume/volume.h"

struct engine_ctx;

/* The container root's host ids for IDENT: the owner of a new local
 * volume's data. */
void engine_volume_owner(const struct engine_identity *ident, uid_t *uid, gid_t *gid);

/* `volume create` (and run's implicit create): DRIVER NULL = local. A
 * plugin volume is created by the plugin first, then recorded; if the
 * record cannot be written the plugin's volume is removed again. */
int engine_volume_create(const struct engine_ctx *c, const struct engine_identity *ident,
			 const char *name, const char *driver, char *const *labels,
			 char *const *opts, bool anonymous, struct volume *out, bool *existed,
			 struct err **err);
/* A volume with live details: for a plugin volume, the plugin's Get
 * (mountpoint, status). */
int engine_volume_inspect(const struct engine_ctx *c, const char *name, struct volume *out,
			  struct err **err);
/* Every recorded volume, and the volumes plugins report that moat has no
 * record of (driver set, not recorded). A plugin that cannot be listed is
 * a warning on stderr, not a failure. */
int engine_volume_list(const struct engine_ctx *c, struct volume **out, size_t *n,
		       struct err **err);
/* The ids of the containers that refer to NAME (NULL-terminated; NULL on
 * ENOMEM). */
int engine_volume_users(const struct engine_ctx *c, const char *name, char ***ids,
			struct err **err);
/* `volume rm`: refused while a container refers to it (Docker's "volume
 * is in use - [ids]"), FORCE or not (force only makes a missing volume
 * not an error). Plugin volumes: the plugin's Remove first. */
int engine_volume_remove(const struct engine_ctx *c, const char *name, bool force,
			 struct err **err);
/* Removes NAME without asking who uses it (the caller knows: an
 * anonymous volume of a container being removed, or one a failed create
 * made). */
int engine_volume_remove_unused(const struct engine_ctx *c, const char *name, struct err **err);
/* `volume prune`: unused volumes, anonymous ones only unless ALL, that
 * pass F (engine/prune.h, PRUNE_VOLUMES; NULL: all). REMOVED gets the
 * names (NULL-terminated). A volume that fails to go is a warning. */
int engine_volume_prune(const struct engine_ctx *c, bool all, const struct prune_filter *f,
			char ***removed, struct err **err);

#endif

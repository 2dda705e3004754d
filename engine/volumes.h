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
 * plugin is asked first whether it has the volume (Get, as Docker's
 * volume store does): one it has is only recorded (*EXISTED set: it is
 * not this call's to remove again); one it does not have (Volume null or
 * an Err) is created by the plugin, then recorded, and if the record
 * cannot be written removed again. A Get that fails otherwise (no reply,
 * a timeout) is the error: nothing is created blind. */
int engine_volume_create(const struct engine_ctx *c, const struct engine_identity *ident,
			 const char *name, const char *driver, char *const *labels,
			 char *const *opts, bool anonymous, struct volume *out, bool *existed,
			 struct err **err);
/* A volume with live details: for a plugin volume, the plugin's Get
 * (mountpoint; *STATUS its Status object as JSON text, or NULL). A name
 * moat has no record of is looked up in the plugins (engine_volume_probe):
 * the volume is then the plugin's, *RECORDED false, no labels, no
 * options, created when the plugin says. ENOENT "No such volume: NAME"
 * when nobody has it. */
int engine_volume_inspect(const struct engine_ctx *c, const char *name, struct volume *out,
			  char **status, bool *recorded, struct err **err);
/* Docker's probe of a name it has no record of (volume/service/store.go
 * getVolume): every discovered plugin, in name order, is asked (Get); the
 * first that has NAME wins: 1 and *DRIVER (malloc'd). 0 when none has it.
 * A plugin that answers with an error (most say "no such volume" that
 * way) does not have it; one that cannot be found or does not answer is
 * skipped with a warning on stderr. <0 only for ENOMEM. */
int engine_volume_probe(const struct engine_ctx *c, const char *name, char **driver);
/* Every recorded volume, and the volumes plugins report that moat has no
 * record of (driver set, not recorded). A plugin that cannot be listed is
 * a warning on stderr, not a failure. Pending plugin Unmounts are retried
 * first (engine_mounts_retry_unmounts). */
int engine_volume_list(const struct engine_ctx *c, struct volume **out, size_t *n,
		       struct err **err);
/* The ids of the containers that refer to NAME (NULL-terminated; NULL on
 * ENOMEM). */
int engine_volume_users(const struct engine_ctx *c, const char *name, char ***ids,
			struct err **err);
/* `volume rm`: refused while a container refers to it (Docker's "volume
 * is in use - [ids]"), FORCE or not (force only makes a missing volume
 * not an error). Plugin volumes: their pending Unmounts are retried, then
 * the plugin's Remove; a name moat has no record of is removed through
 * the plugin engine_volume_probe finds. *DRIVER (may be NULL) gets the
 * driver of what was removed (NULL when nothing was). */
int engine_volume_remove(const struct engine_ctx *c, const char *name, bool force, char **driver,
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

/*
 * engine/engine.h - identity and store selection, and `run`.
 */
#ifndef MOAT_ENGINE_H
#define MOAT_ENGINE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "image/image.h"
#include "sandbox/spec.h"

struct engine_identity {
	enum sandbox_userns userns;
	struct image_idmode ids; /* how layers are owned for this identity */
};

/*
 * Chooses the identity mode: USERNS is NULL/"auto" (subuid when the caller
 * has an /etc/subuid entry and newuidmap, else single; root: the
 * unprivileged range), "single", "subuid" or "host".
 */
int engine_identity_select(bool rootless, uid_t uid, gid_t gid, const char *userns,
			   struct engine_identity *out, struct err **err);
/* FILE ("etc/passwd") as the container sees it, without mounting: DIR's
 * writable layer (DIR/upper, when DIR is not NULL) first, then the image's
 * layers top down; a whiteout or a non-regular file ends the search.
 * malloc'd text (capped at 1 MiB), or NULL. */
char *engine_image_file_read(const char *dir, const struct image *img, const char *file);
/* Is container id ID inside one of the N ranges of M? */
bool engine_id_mapped(const struct idmap *m, size_t n, unsigned id);
/* Opens the image store under ROOT for that identity. */
int engine_store_open(const char *root, bool rootless, uid_t uid, gid_t gid, const char *userns,
		      struct image_store **out, struct err **err);

#endif

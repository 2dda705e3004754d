/*
 * engine/trust_files.h - the trust policy's files, below engine/trust.h:
 * the loader with the system path as a parameter (the unit tests point it
 * at a temporary file; engine_trust_policy_load passes
 * ENGINE_TRUST_SYSTEM_PATH), and the reader of one file that
 * `moat trust set` edits.
 *
 * Runs in: the moat process, as the invoking user.
 */
#ifndef MOAT_ENGINE_TRUST_FILES_H
#define MOAT_ENGINE_TRUST_FILES_H

#include <stdbool.h>

#include "common/err.h"
#include "engine/trust.h"
#include "policy/trust.h"

/* engine_trust_policy_load with SYSTEM_PATH in place of
 * ENGINE_TRUST_SYSTEM_PATH. With OVERRIDE, SRC names only the override
 * (system_path and user_path stay NULL: neither was read). */
int engine_trust_policy_load_from(const char *system_path, const char *override,
				  struct trust_policy **out, struct engine_trust_sources *src,
				  struct err **err);

/* Reads and decodes the one policy file PATH (a regular file after
 * symlinks are followed, at most TRUST_POLICY_MAX_BYTES). When it does not
 * exist: with MISSING_OK, 0 and *OUT NULL; else -ENOENT,
 * "trust policy PATH: No such file or directory". */
int engine_trust_policy_read(const char *path, bool missing_ok, struct trust_policy **out,
			     struct err **err);

#endif

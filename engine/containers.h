/*
 * engine/containers.h - containers that outlive `moat run` (without --rm):
 * their record, listing, and removal. The lifecycle issue grows this into
 * create/start/stop/exec; today a container runs once, in the foreground.
 */
#ifndef MOAT_ENGINE_CONTAINERS_H
#define MOAT_ENGINE_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/digest.h"
#include "common/err.h"
#include "engine/engine.h"

#define CONTAINER_RECORD_MAX (1u << 20)

/* ROOT/containers/<id>/container.json */
struct container_record {
	char id[SHA256_HEX_LEN + 1];
	char *image;	/* as the user named it */
	char *image_id; /* sha256:... */
	char **argv;
	char *userns; /* "single", "subuid", "root-range", "host" */
	int64_t created;
	int64_t finished; /* 0: not finished (running, or its monitor died) */
	int exit_code;
};

/* PURE: the record as JSON, and back (strict, capped). */
int engine_container_record_encode(const struct container_record *r, char **out, size_t *len,
				   struct err **err);
int engine_container_record_decode(const char *buf, size_t len, struct container_record *out,
				   struct err **err);
void engine_container_record_free(struct container_record *r);

/* Writes the record atomically into ROOT/containers/<id>/. */
int engine_container_save(const char *root, const struct container_record *r, struct err **err);

struct container_entry {
	struct container_record rec;
	bool running; /* its monitor holds the runtime lock */
};

/* Every container with a record, newest first. */
int engine_container_list(const char *root, const char *runroot, struct container_entry **out,
			  size_t *n, struct err **err);
void engine_container_list_free(struct container_entry *e, size_t n);

/* Removes a stopped container named by full id or unique prefix; fills
 * ID with the full id. A running one is refused. */
int engine_container_remove(const char *root, const char *runroot, bool rootless, uid_t uid,
			    gid_t gid, const char *ref, char id[SHA256_HEX_LEN + 1],
			    struct err **err);

/* Removes a container's directories: RDIR (runtime) and DIR (persistent;
 * its upper layer from inside the user namespace in subuid mode). Either
 * may be "". Failures are warnings: the caller's outcome stands. */
void engine_container_dirs_remove(const char *rdir, const char *dir,
				  const struct engine_identity *ident);

#endif

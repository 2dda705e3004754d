/*
 * volume/volume.h - moat's volume records: every named and anonymous
 * volume, local or provided by a plugin, and the data directories of the
 * local ones.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * On disk, under ROOT/volumes/ (0700, the invoker's):
 *   <name>/volume.json   the record (written atomically, fsync'd)
 *   <name>/_data/        a local volume's content (the mountpoint)
 *   .lock                flock serialising creates and removals:
 *                        volume_create and volume_clean_debris take it
 *                        themselves; volume_remove expects the caller
 *                        to hold it (volume_lock), so that "is it in
 *                        use?" and the removal are one step
 * Seeding (copy-up) is per container, as Docker does it: the first start
 * of a container copies the image's content into an empty volume, under
 * an flock on _data (sandbox/seed.c); nothing is recorded here.
 * A directory without a volume.json is debris of a crashed create or
 * remove: ignored by list, cleaned by volume_clean_debris. One whose
 * volume.json does not decode may hold data: list warns about it, create
 * refuses the name, and only an explicit remove deletes it.
 *
 * Names are unique across drivers: one record per name, which says the
 * driver. The record of a plugin volume holds no data; the plugin does.
 *
 * Invariants:
 *  - a name is checked with volume_name_valid before it reaches a path;
 *  - a local volume's _data belongs to the container root of the
 *    invoker's identity (OWNER_UID/GID at create): the invoker rootless,
 *    the unprivileged range's base as root;
 *  - create is atomic: the record appears last (rename), so a crash
 *    leaves debris, never a volume without its _data.
 */
#ifndef MOAT_VOLUME_VOLUME_H
#define MOAT_VOLUME_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define VOLUME_RECORD_MAX (256 * 1024)
#define VOLUME_DRIVER_LOCAL "local"

struct volume {
	char *name;
	char *driver;	 /* "local" or a plugin's name */
	char **labels;	 /* "k=v", NULL-terminated (may be empty, never NULL) */
	char **options;	 /* "k=v" given with -o, NULL-terminated (never NULL) */
	int64_t created; /* unix ns */
	bool anonymous;	 /* made for an image VOLUME or `-v /ctr`; removed
			  * with its container by rm -v and --rm */
	/* filled by load/list, not part of the record: */
	char *mountpoint; /* local: ROOT/volumes/<name>/_data; plugin: NULL */
};

/* PURE: the record as JSON and back (strict: unknown keys, wrong types,
 * an invalid name or a driver name that is not [a-zA-Z0-9][a-zA-Z0-9_.:/-]*
 * of at most 255 bytes without "." or ".." components are errors). */
int volume_record_encode(const struct volume *v, char **out, size_t *len, struct err **err);
int volume_record_decode(const char *buf, size_t len, struct volume *out, struct err **err);
void volume_free(struct volume *v);
/* S for a message (BUF of SIZE): at most 64 bytes, non-printable bytes as
 * '?' - names and records are untrusted text. Returns BUF. */
const char *volume_shown(const char *s, char *buf, size_t size);
void volume_list_free(struct volume *v, size_t n);

struct volume_create_opts {
	const char *name;   /* NULL: an anonymous volume with a random 64-hex name */
	const char *driver; /* NULL: local */
	char *const *labels;
	char *const *options;
	bool anonymous;
	uid_t owner_uid; /* of _data (local only) */
	gid_t owner_gid;
};

/*
 * Creates a volume record (and for the local driver its _data). When a
 * volume of that name exists: with the same driver (or DRIVER NULL) it is
 * returned and *EXISTED is set (Docker's create is idempotent); with
 * another driver it is an error naming both (EEXIST). The local driver
 * takes no options (EINVAL naming the option). Plugin volumes: the caller
 * asked the plugin to create it first; this only records it. EXISTED may
 * be NULL.
 */
int volume_create(const char *root, const struct volume_create_opts *o, struct volume *out,
		  bool *existed, struct err **err);
/* ENOENT with "No such volume: NAME" when absent. */
int volume_load(const char *root, const char *name, struct volume *out, struct err **err);
/* Every volume with a valid record, sorted by name. */
int volume_list(const char *root, struct volume **out, size_t *n, struct err **err);
/* Removes the record and (local) the data, record first so that a crash
 * in between leaves debris, not a half-volume. The caller has checked
 * that no container uses it. */
int volume_remove(const char *root, const char *name, struct err **err);
/* Takes ROOT/volumes/.lock exclusively; returns the fd (close releases). */
int volume_lock(const char *root, struct err **err);
/* Removes debris left by crashed creates/removes (dirs without a record). */
void volume_clean_debris(const char *root);

#endif

/*
 * volume/mountspec.h - the storage flags of `run`/`create` as typed
 * requests: `-v`/`--volume`, `--mount` and `--tmpfs`, in Docker's grammar.
 *
 * Runs in: any process. PURE: no system calls; the engine resolves the
 * request (opens the host path, finds or creates the volume) later.
 * fuzz/mountspec_fuzz.c exercises every parser.
 *
 * Grammar (what Docker accepts, and the errors it gives, unless noted):
 *
 *   -v NAME:/ctr[:OPTS]      named volume (NAME: [a-zA-Z0-9][a-zA-Z0-9_.-]+)
 *   -v /host:/ctr[:OPTS]     bind of a host path (created when missing)
 *   -v /ctr                  anonymous volume
 *      OPTS, comma-separated: ro | rw, nocopy (volumes only), z | Z
 *      (SELinux relabel: accepted, see below), shared | rshared | slave |
 *      rslave | private | rprivate (binds only), follow-symlink (moat: a
 *      bind whose source is itself a symlink is refused unless this is
 *      given). A source that is neither absolute nor a valid name (for
 *      example "./data") is refused with Docker's hint to use an absolute
 *      path.
 *
 *   --mount K=V,...          fields in CSV form (a field may be in double
 *                            quotes to hold a comma):
 *      type=volume|bind|tmpfs (default volume)
 *      source|src=...        volume name (may be absent: anonymous) or
 *                            host path (required for bind; refused for
 *                            tmpfs)
 *      target|destination|dst=/ctr   required
 *      readonly|ro[=true|false|1|0]
 *      volume-nocopy[=bool], volume-driver=NAME, volume-opt=K=V (repeats),
 *      volume-label=K=V (repeats)                     (type=volume only)
 *      bind-propagation=P, bind-nonrecursive[=bool],
 *      bind-create-src[=bool] (moat: create a missing source, as -v does;
 *      Docker's --mount never creates), follow-symlink[=bool]
 *                                                     (type=bind only)
 *      tmpfs-size=SIZE (bytes or 64k/512m/1g), tmpfs-mode=OCTAL
 *                                                     (type=tmpfs only)
 *      consistency=...       accepted and ignored (Docker for Mac's)
 *   --tmpfs /ctr[:OPTS]      OPTS: size=SIZE, mode=OCTAL, ro|rw,
 *                            exec|noexec, suid|nosuid (default noexec,
 *                            nosuid; nodev always)
 *
 * Every target is absolute and is normalised ("//" and "/./" collapsed,
 * a trailing "/" dropped); a ".." component, the root "/" itself and
 * anything at or under /proc, /sys or /dev is refused (CVE-2019-16884
 * class). A host source is absolute and normalised the same way; ".."
 * components are refused there too (the engine opens it without following
 * symlinks; there is no reason for ".." in a path meant literally).
 * z and Z are recorded (relabel) and have no effect on a host without an
 * active SELinux, as with Docker.
 */
#ifndef MOAT_VOLUME_MOUNTSPEC_H
#define MOAT_VOLUME_MOUNTSPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define MOUNTSPEC_MAX_LEN 8192 /* one flag's text */
#define VOLUME_NAME_MAX 128

enum mount_type {
	MOUNT_VOLUME,
	MOUNT_BIND,
	MOUNT_TMPFS,
};

enum mount_propagation {
	MOUNT_PROP_RPRIVATE, /* the default */
	MOUNT_PROP_PRIVATE,
	MOUNT_PROP_RSLAVE,
	MOUNT_PROP_SLAVE,
	MOUNT_PROP_RSHARED,
	MOUNT_PROP_SHARED,
};

struct mount_req {
	enum mount_type type;
	char *source; /* volume: its name, NULL = anonymous; bind: the host
		       * path (absolute, normalised); tmpfs: NULL */
	char *target; /* absolute, normalised */
	bool readonly;
	/* volume */
	bool nocopy;
	char *driver;	    /* NULL: local (or the existing volume's) */
	char **driver_opts; /* "k=v", NULL-terminated, or NULL */
	char **labels;	    /* "k=v", NULL-terminated, or NULL */
	/* bind */
	bool create_src;     /* -v: create a missing source directory */
	bool follow_symlink; /* the source may be a symlink (followed) */
	bool nonrecursive;   /* bind only the source mount, not those below */
	enum mount_propagation propagation;
	char relabel; /* 0, 'z' or 'Z' */
	/* tmpfs */
	uint64_t tmpfs_size; /* bytes; 0: the kernel's default (half of RAM) */
	uint32_t tmpfs_mode; /* 0: 01777 */
	bool tmpfs_exec, tmpfs_suid;
};

/* `-v SPEC`. */
int mountspec_parse_volume(const char *spec, struct mount_req *out, struct err **err);
/* `--mount SPEC`. */
int mountspec_parse_mount(const char *spec, struct mount_req *out, struct err **err);
/* `--tmpfs SPEC`. */
int mountspec_parse_tmpfs(const char *spec, struct mount_req *out, struct err **err);
void mount_req_free(struct mount_req *m);
/* A deep copy (for --volumes-from); 0 or -ENOMEM. */
int mount_req_copy(const struct mount_req *in, struct mount_req *out, struct err **err);

/* Docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (so at least two
 * characters), at most VOLUME_NAME_MAX bytes. */
bool volume_name_valid(const char *name);
/* Normalises an absolute container path into OUT (malloc'd) and refuses
 * "/", "..", and targets at or under /proc, /sys, /dev. */
int mountspec_target_normalise(const char *target, char **out, struct err **err);
/* Names for messages and records: "volume", "bind", "tmpfs"; "rprivate"... */
const char *mount_type_name(enum mount_type t);
const char *mount_propagation_name(enum mount_propagation p);
/* The inverse of the two above; -EINVAL for an unknown name. */
int mount_type_from_name(const char *s, enum mount_type *out);
int mount_propagation_from_name(const char *s, enum mount_propagation *out);

#endif

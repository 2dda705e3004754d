/*
 * engine/names.h - PURE helpers of the container lifecycle: generated and
 * user-given names, resolving what the user typed to one container, the
 * state machine (which verb is allowed in which state, with Docker's
 * messages), and the STATUS text of `moat ps`.
 *
 * Nothing here touches the filesystem, a process or the clock: callers pass
 * random numbers, "now" and the list of containers in.
 */
#ifndef MOAT_ENGINE_NAMES_H
#define MOAT_ENGINE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CTR_NAME_MAX 128 /* bytes of a name, without the optional leading '/' */

/* A Docker-style "adjective_surname" from RND (low 32 bits pick the
 * adjective, high 32 bits the surname). The result is always names_valid. */
void names_generate(uint64_t rnd, char out[64]);
/* Docker's rule ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$, at most CTR_NAME_MAX bytes; one
 * leading '/' (as `inspect` prints names) is accepted and not counted. */
bool names_valid(const char *name);
/* NAME without one leading '/'; NULL for NULL. */
const char *names_normalize(const char *name);

struct names_entry {
	const char *id;	  /* 64 lowercase hex */
	const char *name; /* with or without a leading '/'; NULL: none */
};

/*
 * Finds REF among the N entries in Docker's order: exact full id, then
 * exact name (a leading '/' on either side is ignored), then a unique
 * lowercase-hex id prefix of any length. Sets *IDX. Errors, with
 * err->exit = 1 (Docker's CLI status for these):
 *   -ENOENT   "No such container: REF" (also for empty or absurd refs)
 *   -ENOTUNIQ "multiple containers found with provided prefix: REF"
 */
int names_resolve(const struct names_entry *e, size_t n, const char *ref, size_t *idx,
		  struct err **err);

enum ctr_state {
	CTR_CREATED,
	CTR_RUNNING,
	CTR_PAUSED,
	CTR_RESTARTING,
	CTR_EXITED,
	CTR_REMOVING,
	CTR_DEAD,
};
#define CTR_STATE_COUNT 7

enum ctr_verb {
	CTR_VERB_START,
	CTR_VERB_STOP,
	CTR_VERB_KILL,
	CTR_VERB_RESTART,
	CTR_VERB_PAUSE,
	CTR_VERB_UNPAUSE,
	CTR_VERB_RM,
	CTR_VERB_RM_FORCE,
	CTR_VERB_EXEC,
	CTR_VERB_ATTACH,
	CTR_VERB_RENAME,
	CTR_VERB_WAIT,
	CTR_VERB_TOP,
	CTR_VERB_STATS,
	CTR_VERB_CP,
	CTR_VERB_COMMIT,
	CTR_VERB_PORT,
	CTR_VERB_DIFF,
	CTR_VERB_LOGS,
};
#define CTR_VERB_COUNT 19

/* "created", "running", "paused", "restarting", "exited", "removing",
 * "dead"; "unknown" for a value outside the enum. */
const char *ctr_state_name(enum ctr_state s);
/* The inverse of ctr_state_name (exact, lowercase); -EINVAL otherwise. */
int ctr_state_parse(const char *s, enum ctr_state *out);

enum ctr_check {
	CTR_OK,	  /* do it */
	CTR_NOOP, /* allowed, nothing to do: start of a running container, stop
		   * of a stopped one, wait on one that is not running */
};

/*
 * May VERB be applied to a container in state FROM? Returns CTR_OK or
 * CTR_NOOP, or a negative errno with Docker's message naming ID (the name
 * or short id to print) and err->exit = 1:
 *   -ESRCH       "container ID is not running"
 *   -EBUSY       "cannot start a paused container, try unpause instead",
 *                "container ID is paused, unpause the container first",
 *                "cannot remove container \"ID\": container is STATE: stop
 *                 the container before removing or force remove"
 *   -EALREADY    "container ID is already paused",
 *                "removal of container ID is already in progress"
 *   -EINVAL      "container ID is not paused"
 *   -EAGAIN      "container ID is restarting, wait until the container is
 *                 running"
 *   -EIDRM       "container ID is marked for removal and cannot be started"
 *                (..."stopped", "killed", ... per verb)
 * A FROM or VERB outside its enum is -EINVAL with exit 0 (a caller bug).
 * The full table is in names.c and, independently, in
 * tests/unit/test_names.c.
 */
int ctr_transition_check(enum ctr_state from, enum ctr_verb verb, const char *id, struct err **err);

/* Docker's units.HumanDuration of SECONDS into BUF: "Less than a second",
 * "1 second", "N seconds", "About a minute", "N minutes", "About an hour",
 * "N hours", "N days", "N weeks", "N months", "N years" (hours are rounded
 * to the nearest as Docker does, so 89 min is "About an hour"). Negative
 * durations (clock skew) read "Less than a second". */
void names_human_duration(int64_t seconds, char *buf, size_t len);

/* The STATUS column of ps: "Created", "Up 5 minutes", "Up 5 minutes
 * (Paused)", "Restarting (1) 2 seconds ago", "Exited (0) 2 hours ago",
 * "Exited (unknown) 3 minutes ago" for EXIT_CODE < 0 (its monitor died),
 * "Removal In Progress", "Dead". Times are unix seconds; a STARTED or
 * FINISHED <= 0 is unknown and its duration is left out ("Exited (0)"). */
void ctr_status_text(enum ctr_state s, int exit_code, int64_t started, int64_t finished,
		     int64_t now, char *buf, size_t len);

#endif

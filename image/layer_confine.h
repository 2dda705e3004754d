/*
 * image/layer_confine.h - the confined child that layer extraction runs in
 * (design.md principle 4: untrusted input is parsed in confinement).
 *
 * Runs in: the process that calls image_layer_extract (the CLI, possibly
 * with pull's download threads running), which forks the child described
 * in layer_confine.c and collects its one result message.
 */
#ifndef MOAT_IMAGE_LAYER_CONFINE_H
#define MOAT_IMAGE_LAYER_CONFINE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "image/image.h"

/* The comm of the child, for ps and the escape test. */
#define IMAGE_CONFINE_COMM "moat-extract"

/*
 * The one message, child -> parent, written once (it fits PIPE_BUF, so
 * the write is atomic) before the child exits 0. Nothing else may follow.
 */
#define IMAGE_CONFINE_MAGIC 0x6d786c31u /* "mxl1" */
struct image_confine_msg {
	uint32_t magic;
	int32_t code; /* 0, or the positive errno of the error in msg */
	struct image_layer_stats st;
	char msg[sizeof(((struct err *)0)->msg)]; /* NUL-terminated when code != 0 */
};
_Static_assert(sizeof(struct image_confine_msg) <= PIPE_BUF,
	       "the result must fit one atomic pipe write");

/*
 * What runs inside the child once it is confined: 0, or a negative errno
 * with *ERR set. ST is what the parent receives on success.
 */
typedef int (*image_confine_fn)(void *arg, struct image_layer_stats *st, struct err **err);

/*
 * Forks a child that, before calling FN(ARG):
 *  - enters a new network namespace (inside a new user namespace first,
 *    with MODE's maps for IMAGE_IDS_USERNS, or the caller's own ids when
 *    the caller is not root);
 *  - keeps only BLOBFD, DIRFD, stderr and its result pipe open;
 *  - sets no_new_privs; when the kernel has Landlock (ABI >= 2), may write
 *    and list only beneath DIRFD and read, execute or connect nowhere;
 *  - keeps only the capabilities extraction uses;
 *  - loads a seccomp allow-list fitted to extraction (no exec, no socket,
 *    no process creation, no executable mappings).
 * Then returns what the child reported (see image_confine_collect). ST is
 * filled on success only.
 */
int image_confine_run(const struct image_idmode *mode, int blobfd, int dirfd, image_confine_fn fn,
		      void *arg, struct image_layer_stats *st, struct err **err);

/*
 * The parent's half: reads the child's result from RFD (consumed) until
 * end of file, reaps PID, and turns the two into one outcome. A child
 * killed by a signal, one that exits non-zero, and a message that is
 * short, long or malformed are all errors ("layer extraction failed:
 * killed by SIGSYS"); otherwise the child's own 0 or error is returned.
 */
int image_confine_collect(pid_t pid, int rfd, struct image_layer_stats *st, struct err **err);

/*
 * The extraction itself, in the calling process with no confinement of
 * its own (image/layer.c): what image_layer_extract's child runs. Also
 * exported for the fuzz harness, which needs the parser in-process to see
 * its coverage and memory errors. Arguments as image_layer_extract.
 */
int image_layer_extract_here(int blobfd, int dirfd, const struct image_idmode *mode,
			     const char *diff_id, const struct image_layer_limits *lim,
			     struct image_layer_stats *st, struct err **err);

#endif

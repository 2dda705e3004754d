/*
 * engine/logfile_internal.h - what the json-file writer (engine/logfile.c)
 * and the `moat logs` reader (engine/logread.c) share: the log set's limits
 * and file names. Private: only those two files include it; everyone else
 * uses engine/logfile.h.
 *
 * Runs in: the per-container monitor and `moat logs`, as the user the
 * container's state belongs to.
 *
 * Invariants: a log set is at most LOGFILE_MAX_FILES files, PATH and
 * PATH.1 ... PATH.<max_file-1>, all in PATH's directory; the base name
 * leaves room for the longest suffix, so no name is ever cut.
 */
#ifndef MOAT_ENGINE_LOGFILE_INTERNAL_H
#define MOAT_ENGINE_LOGFILE_INTERNAL_H

#include <stddef.h>

#include "engine/logfile.h"

/* Most files a log set may have; keeps the reader's opening loop bounded. */
#define LOGFILE_MAX_FILES 1000u

/* Splits PATH into its directory (malloc'd; "." when none) and last
 * component (pointing into PATH), which must leave room for ".<max_file-1>". */
int logfile_split_path(const char *path, char **dir, const char **base, struct err **err);
/* The name of file K of the set: BASE, or BASE.K. */
void logfile_file_name(const char *base, unsigned k, char *buf, size_t len);
/* Writes all of BUF, retrying on EINTR; adds what was written to *DONE
 * (when not NULL). 0 or negative errno. */
int logfile_write_full(int fd, const char *buf, size_t len, size_t *done);

#endif

/*
 * common/trim.h - giving back the resident pages a long-lived process
 * touched once while starting and will likely not touch again.
 *
 * Runs in: a container's monitor, once, a while after the container
 * started (it lives as long as the container; most of the code it ran to
 * get there - image store, seccomp compilation, option parsing - it never
 * runs again).
 */
#ifndef MOAT_COMMON_TRIM_H
#define MOAT_COMMON_TRIM_H

/*
 * Returns free heap to the kernel (malloc_trim) and drops from the
 * resident set every file-backed mapping that is not writable and has no
 * private (copied-on-write) page: program and library text and read-only
 * data. Nothing is lost: those pages are the file's, still in the page
 * cache, and fault back in when used. Mappings with private pages (the
 * relocated, then read-only, data of the program and its libraries) are
 * left alone: dropping them would bring back the file's unrelocated
 * bytes. Best effort: any failure leaves things as they are.
 */
void resident_trim(void);

#endif

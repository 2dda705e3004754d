/*
 * common/trim.c - see trim.h.
 *
 * Runs in: a container's monitor (single-threaded), once.
 *
 * /proc/self/smaps is read in one pass: a mapping's header line gives
 * its range, permissions and path; its "Anonymous:" line says how many of
 * its pages are private copies. A mapping qualifies only when it is
 * backed by a path, not writable, and has no anonymous page.
 */
#include "common/trim.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct span {
	unsigned long lo, hi;
	bool file, ro;
	long anon_kb;
};

static void drop(const struct span *s)
{
	if (s->hi > s->lo && s->file && s->ro && s->anon_kb == 0)
		madvise((void *)s->lo, s->hi - s->lo, MADV_DONTNEED);
}

void resident_trim(void)
{
	FILE *f;
	char line[512];
	struct span cur = {0};
	/* Collected first, dropped after the file is closed: the stdio
	 * buffer and this loop's own pages are then no longer in use. */
	struct span spans[256];
	size_t n = 0;

	malloc_trim(0);
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8] = "", path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) >= 3 &&
		    strchr(line, '-') && perms[0] && (perms[3] == 'p' || perms[3] == 's')) {
			if (cur.hi && n < sizeof(spans) / sizeof(spans[0]))
				spans[n++] = cur;
			cur = (struct span){
			    .lo = lo,
			    .hi = hi,
			    .file = path[0] == '/',
			    .ro = perms[1] == '-',
			    .anon_kb = 0,
			};
		} else if (!strncmp(line, "Anonymous:", 10)) {
			cur.anon_kb = strtol(line + 10, NULL, 10);
		}
	}
	if (cur.hi && n < sizeof(spans) / sizeof(spans[0]))
		spans[n++] = cur;
	fclose(f);
	for (size_t i = 0; i < n; i++)
		drop(&spans[i]);
}

/*
 * image/archive.c - loads libarchive on first use (see archive.h).
 *
 * Runs in: the moat process, before any container exists. The library is
 * looked up by its soname only, so the dynamic linker's trusted paths
 * decide where it comes from.
 */
#define MOAT_ARCHIVE_IMPL
#include "image/archive.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

struct moat_archive_api moat_archive;
static int loaded; /* 0 not tried, 1 loaded, -1 failed */
static char failure[512];

int image_archive_load(struct err **err)
{
	void *h;

	if (loaded > 0)
		return 0;
	if (loaded < 0)
		return err_set(err, ENOENT, "%s", failure);
	h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(failure, sizeof(failure),
			 "libarchive cannot be loaded (install Debian's libarchive13): %s",
			 dlerror());
		loaded = -1;
		return err_set(err, ENOENT, "%s", failure);
	}
#define MOAT_ARCHIVE_SYM(name)                                                    \
	if (!(moat_archive.name = (__typeof__(name) *)dlsym(h, #name))) {         \
		snprintf(failure, sizeof(failure), "libarchive lacks %s", #name); \
		loaded = -1;                                                      \
		return err_set(err, ENOENT, "%s", failure);                       \
	}
	MOAT_ARCHIVE_FUNCS(MOAT_ARCHIVE_SYM)
#undef MOAT_ARCHIVE_SYM
	loaded = 1;
	return 0;
}

const struct moat_archive_api *image_archive_api(void)
{
	struct err *e = NULL;

	if (loaded > 0)
		return &moat_archive;
	if (image_archive_load(&e) < 0) {
		/* Like a failed dynamic link at start-up: nothing can go on. */
		fprintf(stderr, "moat: %s\n", e ? e->msg : "libarchive cannot be loaded");
		_exit(125);
	}
	return &moat_archive;
}

/*
 * fuzz/layer_fuzz.c - libFuzzer target for layer extraction
 * (image/layer.c): the input bytes are a layer blob (tar, gzip or zstd),
 * extracted in SQUASH mode into a fresh temporary directory that is then
 * removed. Small caps keep each run short.
 *
 * Besides memory errors, the target checks the one property that matters:
 * nothing appears outside the temporary root. A sentinel directory beside
 * the root must stay empty.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "image/image.h"
#include "image/layer_confine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct image_idmode squash = {.kind = IMAGE_IDS_SQUASH};
	static const struct image_layer_limits lim = {.max_entries = 2000, .max_bytes = 8u << 20};
	char top[] = "/tmp/moat-layer-fuzz-XXXXXX";
	struct image_layer_stats st;
	struct err *err = NULL;
	int blob, topfd, rootfd;

	if (!mkdtemp(top))
		abort();
	topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || mkdirat(topfd, "root", 0755) < 0 || mkdirat(topfd, "outside", 0755) < 0)
		abort();
	rootfd = openat(topfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	blob = memfd_create("blob", MFD_CLOEXEC);
	if (rootfd < 0 || blob < 0 || fs_write_all(blob, data, size) < 0)
		abort();
	image_layer_extract_here(blob, rootfd, &squash, NULL, &lim, &st, &err);
	err_free(&err);
	{
		char p[64];
		snprintf(p, sizeof(p), "%s/outside", top);
		if (count_entries(p) != 0 || count_entries(top) != 2)
			abort();
	}
	close(blob);
	close(rootfd);
	if (fs_rm_rf_at(AT_FDCWD, top, &err) < 0)
		abort();
	close(topfd);
	return 0;
}

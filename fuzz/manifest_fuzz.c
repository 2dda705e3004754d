/*
 * fuzz/manifest_fuzz.c - libFuzzer target for the manifest, index and
 * `docker save` manifest.json decoders (image/manifest.c).
 *
 * Each input goes through all three decoders (and the reference
 * normaliser); a document accepted both as a manifest and as an index
 * would be the CVE-2021-41190 ambiguity, so that aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_manifest *m = NULL;
	struct image_index *ix = NULL;
	struct image_save_manifest *sm = NULL;
	struct err *err = NULL;
	char *ref, *norm = NULL;
	int rm, ri;

	rm = image_manifest_decode((const char *)data, size, NULL, &m, &err);
	err_free(&err);
	ri = image_index_decode((const char *)data, size, NULL, &ix, &err);
	err_free(&err);
	if (rm == 0 && ri == 0)
		abort();
	if (m) {
		if (!digest_valid(m->config.digest))
			abort();
		for (size_t i = 0; i < m->n_layers; i++)
			if (!digest_valid(m->layers[i].digest) || m->layers[i].size < 0)
				abort();
		image_manifest_free(m);
	}
	if (ix) {
		for (size_t i = 0; i < ix->n_manifests; i++)
			image_descriptor_annotation(&ix->manifests[i], "io.containerd.image.name");
		image_index_free(ix);
	}
	if (image_save_manifest_decode((const char *)data, size, &sm, &err) == 0)
		image_save_manifest_free(sm);
	err_free(&err);
	ref = strndup((const char *)data, size < 300 ? size : 300);
	if (ref && image_ref_normalize(ref, &norm, &err) == 0)
		free(norm);
	err_free(&err);
	free(ref);
	return 0;
}

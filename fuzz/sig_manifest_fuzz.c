/*
 * fuzz/sig_manifest_fuzz.c - libFuzzer target for sig_manifest_decode,
 * sig_manifest_append and sig_referrers_decode (image/signature.c), all
 * fed the same bytes.
 *
 * Properties: a failed decode sets an error and returns nothing; the
 * served media type (NULL or the OCI manifest type) does not change the
 * verdict; a decoded manifest has at most SIG_MAX_LAYERS entries, each
 * with a valid digest and a size >= 0, and an entry without a problem has
 * a simple-signing size, base64 that common/base64.c decodes to 1..1024
 * bytes. Appending a fixed signature returns 1 exactly when an entry
 * already holds it, -E2BIG only at the caps, and otherwise a manifest
 * that decodes to the old entries (unchanged) plus the new one, whose
 * config descriptor names the sha256 of the config bytes returned. A
 * decoded referrers index lists at most SIG_MAX_REFERRERS distinct valid
 * digests.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/digest.h"
#include "image/signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NEW_DIGEST "sha256:abababababababababababababababababababababababababababababababab"
#define NEW_SIG "MEUCIQDxAAAA"
#define OCI_MT "application/vnd.oci.image.manifest.v1+json"

static bool same_entry(const struct sig_entry *a, const struct sig_entry *b)
{
	return !strcmp(a->digest, b->digest) && a->size == b->size &&
	       !a->signature == !b->signature &&
	       (!a->signature || !strcmp(a->signature, b->signature)) &&
	       a->has_certificate == b->has_certificate && !a->problem == !b->problem &&
	       (!a->problem || !strcmp(a->problem, b->problem));
}

static void check_manifest(const struct sig_manifest *m)
{
	if (m->n > SIG_MAX_LAYERS)
		abort();
	for (size_t i = 0; i < m->n; i++) {
		const struct sig_entry *e = &m->entries[i];
		unsigned char *raw = NULL;
		size_t raw_len = 0;

		if (!digest_valid(e->digest) || e->size < 0)
			abort();
		if (e->problem) {
			if (!e->problem[0])
				abort();
			continue;
		}
		if (e->size > SIG_PAYLOAD_MAX || !e->signature || !base64_valid(e->signature))
			abort();
		if (base64_decode(e->signature, strlen(e->signature), &raw, &raw_len) < 0)
			abort();
		if (raw_len == 0 || raw_len > 1024)
			abort();
		free(raw);
	}
}

static void check_append(const char *buf, size_t len, const struct sig_manifest *m)
{
	char *config = NULL, *manifest = NULL, hex[65], want[80];
	size_t config_len = 0, manifest_len = 0;
	struct sig_manifest *m2 = NULL;
	struct err *err = NULL;
	bool dup = false;
	int r;

	for (size_t i = 0; i < m->n; i++)
		dup = dup || (!strcmp(m->entries[i].digest, NEW_DIGEST) &&
			      m->entries[i].signature && !strcmp(m->entries[i].signature, NEW_SIG));
	r = sig_manifest_append(buf, len, NEW_DIGEST, 100, NEW_SIG, &config, &config_len, &manifest,
				&manifest_len, &err);
	if (r == 1) {
		if (!dup || config || manifest || err)
			abort();
		return;
	}
	if (dup)
		abort();
	if (r == -E2BIG) {
		/* Only the layer cap, or a manifest grown past its size cap (a
		 * real such as 1e-5 is written back longer than it was read). */
		if (!err || config || manifest ||
		    (m->n < SIG_MAX_LAYERS && !strstr(err->msg, "would be")))
			abort();
		err_free(&err);
		return;
	}
	if (r != 0 || err || !config || !manifest || strlen(config) != config_len ||
	    strlen(manifest) != manifest_len)
		abort();
	digest_sha256_hex(config, config_len, hex);
	snprintf(want, sizeof(want), "\"size\":%zu,\"digest\":\"sha256:%s\"", config_len, hex);
	if (!strstr(manifest, want))
		abort();
	if (sig_manifest_decode(manifest, manifest_len, OCI_MT, &m2, &err) < 0)
		abort();
	if (m2->n != m->n + 1)
		abort();
	for (size_t i = 0; i < m->n; i++)
		if (!same_entry(&m->entries[i], &m2->entries[i]))
			abort();
	if (strcmp(m2->entries[m->n].digest, NEW_DIGEST) || m2->entries[m->n].size != 100 ||
	    strcmp(m2->entries[m->n].signature, NEW_SIG) || m2->entries[m->n].problem ||
	    m2->entries[m->n].has_certificate)
		abort();
	sig_manifest_free(m2);
	free(config);
	free(manifest);
}

static void check_referrers(const char *buf, size_t len)
{
	char **d = NULL;
	struct err *err = NULL;
	size_t n = 0;

	if (sig_referrers_decode(buf, len, &d, &err) < 0) {
		if (!err || d)
			abort();
		err_free(&err);
		return;
	}
	if (!d || err)
		abort();
	for (; d[n]; n++) {
		if (!digest_valid(d[n]))
			abort();
		for (size_t k = 0; k < n; k++)
			if (!strcmp(d[k], d[n]))
				abort();
	}
	if (n > SIG_MAX_REFERRERS)
		abort();
	for (size_t i = 0; i < n; i++)
		free(d[i]);
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sig_manifest *m = NULL, *m2 = NULL;
	struct err *err = NULL, *err2 = NULL;
	int r, r2;

	r = sig_manifest_decode(buf, size, NULL, &m, &err);
	r2 = sig_manifest_decode(buf, size, OCI_MT, &m2, &err2);
	if ((r < 0) != (r2 < 0))
		abort();
	if (r < 0) {
		if (!err || m || !err2 || m2)
			abort();
		err_free(&err);
		err_free(&err2);
	} else {
		if (err || !m || m->n != m2->n)
			abort();
		check_manifest(m);
		for (size_t i = 0; i < m->n; i++)
			if (!same_entry(&m->entries[i], &m2->entries[i]))
				abort();
		check_append(buf, size, m);
	}
	sig_manifest_free(m);
	sig_manifest_free(m2);
	check_referrers(buf, size);
	return 0;
}

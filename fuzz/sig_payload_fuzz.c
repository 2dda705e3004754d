/*
 * fuzz/sig_payload_fuzz.c - libFuzzer target for sig_payload_decode and
 * sig_payload_encode (image/signature.c).
 *
 * Properties: a failed decode sets an error and leaves the struct zeroed;
 * a decoded payload has a valid sha256 digest and a docker-reference of
 * 1..1024 bytes without control characters (so is the creator, when
 * present, apart from being allowed empty); encoding the decoded fields
 * always succeeds, stays under the payload cap, and decodes back to the
 * same fields (a negative timestamp is left out by the encoder, so it
 * comes back absent).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "image/signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, bool allow_empty)
{
	size_t n;

	if (!s)
		abort();
	n = strlen(s);
	if ((!n && !allow_empty) || n > 1024)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static bool zeroed(const struct sig_payload *p)
{
	return !p->docker_reference && !p->creator && !p->has_timestamp && !p->timestamp &&
	       !p->manifest_digest[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_payload p, q;
	struct err *err = NULL;
	char *enc = NULL;
	size_t len = 0;
	int64_t ts;

	if (sig_payload_decode(data, size, &p, &err) < 0) {
		if (!err || !err->msg[0] || !zeroed(&p))
			abort();
		err_free(&err);
		return 0;
	}
	if (err || !digest_valid(p.manifest_digest))
		abort();
	check_text(p.docker_reference, false);
	if (p.creator)
		check_text(p.creator, true);
	if (!p.has_timestamp && p.timestamp)
		abort();

	ts = p.has_timestamp ? p.timestamp : -1;
	if (sig_payload_encode(p.docker_reference, p.manifest_digest, p.creator, ts, &enc, &len,
			       &err) < 0)
		abort(); /* everything decode accepts must encode (no ENOMEM here) */
	if (!enc || strlen(enc) != len || len > SIG_PAYLOAD_MAX)
		abort();
	if (sig_payload_decode(enc, len, &q, &err) < 0)
		abort();
	if (strcmp(p.docker_reference, q.docker_reference) ||
	    strcmp(p.manifest_digest, q.manifest_digest) || !p.creator != !q.creator ||
	    (p.creator && strcmp(p.creator, q.creator)) || q.has_timestamp != (ts >= 0) ||
	    (ts >= 0 && q.timestamp != ts))
		abort();
	sig_payload_clear(&q);
	sig_payload_clear(&p);
	free(enc);
	return 0;
}

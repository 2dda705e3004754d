/*
 * fuzz/audit_record_fuzz.c - libFuzzer target for the audit record decoder
 * (audit/record.c), the checkpoint decoder and the RFC 3339 parser.
 *
 * Properties checked on every record the decoder accepts (abort on
 * failure):
 *  - the typed fields honour the decoder's promises (seq >= 1, hex digests,
 *    a cmdline, a canonical form);
 *  - audit_record_hash_ok agrees with sha256 of the canonical bytes;
 *  - the canonical form is a fixed point: the canonical bytes with the
 *    recomputed hash spliced in decode again, to the same canonical bytes,
 *    and pass the hash check. A layout that changed the verdict would let
 *    an attacker re-space a record into a different judgement.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/internal.h"
#include "common/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fixed_point(const struct audit_record *r)
{
	char hash[SHA256_HEX_LEN + 1], *line;
	struct audit_record again;
	struct err *err = NULL;
	size_t n;

	digest_sha256_hex(r->canonical, r->canonical_len, hash);
	if (audit_record_hash_ok(r) != !strcmp(hash, r->hash))
		abort();
	if (r->canonical_len < 2 || r->canonical[r->canonical_len - 1] != '}')
		abort();
	line = malloc(r->canonical_len + 16 + SHA256_HEX_LEN);
	if (!line)
		return;
	memcpy(line, r->canonical, r->canonical_len - 1);
	n = r->canonical_len - 1;
	n += (size_t)sprintf(line + n, ",\"hash\":\"%s\"}", hash);
	if (audit_record_decode(line, n, &again, &err) < 0)
		abort();
	if (again.canonical_len != r->canonical_len ||
	    memcmp(again.canonical, r->canonical, r->canonical_len) ||
	    !audit_record_hash_ok(&again) || again.seq != r->seq || again.n_fields != r->n_fields ||
	    again.gap != r->gap || again.uid != r->uid || strcmp(again.event, r->event) ||
	    strcmp(again.time, r->time))
		abort();
	audit_record_free(&again);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_record r;
	struct audit_checkpoint c;
	struct timespec ts;
	struct err *err = NULL;
	char t[64];

	if (audit_record_decode((const char *)data, size, &r, &err) == 0) {
		if (r.seq < 1 || !digest_hex_valid(r.prev) || !digest_hex_valid(r.hash) ||
		    (r.hmac[0] && !digest_hex_valid(r.hmac)) || !r.cmdline || !r.canonical ||
		    !r.host || !r.event || (r.n_fields && !r.fields))
			abort();
		for (size_t i = 0; i < r.n_fields; i++)
			if (!r.fields[i].key || !r.fields[i].text ||
			    (i && strcmp(r.fields[i - 1].key, r.fields[i].key) >= 0))
				abort();
		check_fixed_point(&r);
		audit_record_free(&r);
	}
	err_free(&err);
	if (audit_checkpoint_decode((const char *)data, size, &c, &err) == 0 &&
	    (!digest_hex_valid(c.hash) || !digest_hex_valid(c.mac) || !c.file[0]))
		abort();
	err_free(&err);
	if (size < sizeof(t)) {
		memcpy(t, data, size);
		t[size] = 0;
		if (audit_time_parse(t, &ts, &err) == 0 &&
		    (ts.tv_nsec < 0 || ts.tv_nsec > 999999999))
			abort();
		err_free(&err);
	}
	return 0;
}

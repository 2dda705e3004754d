/*
 * audit/internal.h - what the audit module's files share and nothing
 * outside audit/ may use: the record encoder, the checkpoint codec, key
 * loading and the line reader.
 *
 * record.c is PURE (bytes in, structs and bytes out); log.c and verify.c
 * make the system calls.
 */
#ifndef MOAT_AUDIT_INTERNAL_H
#define MOAT_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit/audit.h"

#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
/* The checkpoint key is exactly this many random bytes. */
#define AUDIT_CHECKPOINT_KEY_LEN 32
#define AUDIT_HMAC_KEY_MIN 16
#define AUDIT_KEY_MAX 4096
#define AUDIT_CHECKPOINT_MAX 4096

/* What audit_append fills in around the caller's event. */
struct audit_header {
	uint64_t seq;
	const char *time; /* audit_time_format */
	const char *host;
	int64_t uid, gid, pid;
	char *const *cmdline;
	const char *prev;
	bool gap;
};

/* The event's sticky builder error, if any (and an unclosed object). */
int audit_event_check(struct audit_event *e, struct err **err);
/* Builds the line (canonical object + hash [+ hmac], sorted, compact, with
 * its newline) for E under H; KEY NULL: no hmac. E stays the caller's and
 * is spent. HASH receives the record's hash. */
int audit_record_encode(struct audit_event *e, const struct audit_header *h, const void *key,
			size_t keylen, char **line, size_t *len, char hash[SHA256_HEX_LEN + 1],
			struct err **err);
/* HMAC-SHA256 hex of R's canonical bytes. */
void audit_record_hmac(const struct audit_record *r, const void *key, size_t keylen,
		       char out[SHA256_HEX_LEN + 1]);
/* The writer's time format: 2026-11-28T04:30:30.123456789Z. */
void audit_time_format(const struct timespec *ts, char out[40]);
/* Equality of two NUL-terminated hex strings without an early exit. */
bool audit_hex_eq(const char *a, const char *b);

/* "<path>.checkpoint": {"file","hash","mac","seq"}; mac = HMAC-SHA256(
 * checkpoint key, "<seq>:<hash>"). */
struct audit_checkpoint {
	uint64_t seq;
	char hash[SHA256_HEX_LEN + 1];
	char mac[SHA256_HEX_LEN + 1];
	char file[256];
};
int audit_checkpoint_encode(const struct audit_checkpoint *c, char **out, size_t *len,
			    struct err **err);
int audit_checkpoint_decode(const char *buf, size_t len, struct audit_checkpoint *out,
			    struct err **err);
void audit_checkpoint_mac(const void *key, size_t keylen, uint64_t seq, const char *hash,
			  char out[SHA256_HEX_LEN + 1]);

/*
 * Reads the key at PATH: it must be a regular file (not a symlink), at most
 * AUDIT_KEY_MAX bytes, at least MIN. With CREATE, a missing key is made:
 * AUDIT_CHECKPOINT_KEY_LEN random bytes, 0600, directory 0700, published
 * with link(2) so that a concurrent reader never sees it half written.
 * With CHECK_OWNER, a key not owned by the caller or readable by others is
 * refused (the writer's rule; a verifier only needs to read it).
 */
int audit_key_load(const char *path, size_t min, bool create, bool check_owner, unsigned char **key,
		   size_t *len, struct err **err);
void audit_key_free(unsigned char *key, size_t len);

/* Numbers N of the existing "<base>.N" (N >= 1, no leading zero) in
 * DIRFD, ascending. */
int audit_rotated_list(int dirfd, const char *base, unsigned **out, size_t *n, struct err **err);

/* Reads a checkpoint at DIRFD/NAME; -ENOENT (no message) when absent. */
int audit_checkpoint_read(int dirfd, const char *name, struct audit_checkpoint *c,
			  struct err **err);

/*
 * Lines of one file, each at most AUDIT_RECORD_MAX bytes, without reading
 * more than that plus one chunk into memory. A final line without its
 * newline is returned with *torn set.
 */
struct audit_reader;
int audit_reader_open(int fd, struct audit_reader **out, struct err **err);
/* 1 and a line, 0 at the end, or a negative errno (-EMSGSIZE: a line
 * longer than AUDIT_RECORD_MAX). */
int audit_reader_next(struct audit_reader *rd, const char **line, size_t *len, bool *torn,
		      struct err **err);
void audit_reader_free(struct audit_reader *rd);

#endif

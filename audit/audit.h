/*
 * audit/audit.h - the hash-chained audit log: one JSON record per line,
 * each carrying the sha256 of the one before, an optional HMAC, and a
 * MAC'd checkpoint of the last record beside the log.
 *
 * Runs in: any moat process that makes or refuses a security decision (the
 * CLI, the container monitor), as the invoking user or root; `moat audit`
 * reads it. No json_t crosses this header.
 *
 * Record (one line, keys sorted, compact, ASCII-only; wrapped here):
 *   {"cmdline":["moat","run","--rm","alpine"],"container":"4f2a...",
 *    "event":"container.start","gid":1000,"hash":"<64 hex>",
 *    "hmac":"<64 hex, keyed logs only>","host":"build7",
 *    "image":"docker.io/library/alpine:latest","pid":4242,
 *    "prev":"<64 hex: the previous record's hash, 64 zeros for seq 1>",
 *    "seq":17,"time":"2026-11-28T04:30:30.123456789Z","uid":1000}
 * Canonical form: the record without "hash" and "hmac", dumped by jansson
 * with JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII. hash = sha256 hex
 * of those bytes; hmac = HMAC-SHA256(key, the same bytes). A reader
 * recomputes the canonical form from the parsed record, so the hash
 * protects the record's content (keys, types, values), not its layout: a
 * line re-spaced or with its keys reordered is the same record.
 *
 * What the chain detects (audit_verify): an edited record (hash, or the
 * next record's prev when the hash was recomputed; the hmac in a keyed
 * log), a removed, inserted or reordered record (seq and prev), a removed
 * middle file of a rotated log, truncation and replacement by a shorter or
 * different chain (the checkpoint), records appended at the end by
 * anything but audit_append (the checkpoint). Not detected: deletion of the
 * log, its rotated files AND its checkpoint together (forward to syslog for
 * that), and anything done by a holder of the checkpoint key (and, for a
 * keyed log, the HMAC key).
 */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/digest.h"
#include "common/err.h"

/* A record line, without its newline, may not exceed this. */
#define AUDIT_RECORD_MAX (1024 * 1024)
/* Nested objects in an event, counting the record itself as level 1. */
#define AUDIT_DEPTH_MAX 8

/* ---- Events: what a caller records --------------------------------- */

/*
 * An event under construction. The builder calls never need checking: the
 * first error (a reserved or repeated key, a bad event name, an unclosed
 * object, no memory) sticks to the event, later calls do nothing, and
 * audit_append() refuses the event with that message. They still return 0
 * or a negative errno for callers that want to know at once.
 *
 * Reserved keys, set only by audit_append: seq, time, host, event, uid, gid,
 * pid, cmdline, prev, hash, hmac, audit_gap (top level only; a nested
 * object may use any key). Keys are non-empty UTF-8 of at most 128 bytes.
 * String values that are not valid UTF-8 (an argv can hold anything) are
 * stored with each invalid byte replaced by U+FFFD.
 */
struct audit_event;

/* EVENT: 1..64 chars of [A-Za-z0-9._-], e.g. "container.start". Returns
 * NULL only when out of memory; audit_append(NULL) reports that. */
struct audit_event *audit_event_new(const char *event);
int audit_event_str(struct audit_event *e, const char *key, const char *val);
int audit_event_int(struct audit_event *e, const char *key, int64_t val);
int audit_event_bool(struct audit_event *e, const char *key, bool val);
/* V is NULL-terminated; NULL records an empty array. */
int audit_event_strv(struct audit_event *e, const char *key, char *const *v);
/* Opens a nested object under KEY; the setters fill it until _obj_end. */
int audit_event_obj_begin(struct audit_event *e, const char *key);
int audit_event_obj_end(struct audit_event *e);
void audit_event_free(struct audit_event *e);

/* ---- Records: what a reader gets back (PURE) ------------------------- */

enum audit_field_type {
	AUDIT_FIELD_STR,
	AUDIT_FIELD_INT,
	AUDIT_FIELD_BOOL,
	AUDIT_FIELD_STRV, /* text: the canonical (compact, ASCII) JSON array */
	AUDIT_FIELD_OBJ,  /* text: the canonical JSON object */
};

struct audit_field {
	char *key;
	enum audit_field_type type;
	char *text;  /* STR: the string; INT: decimal; BOOL: "true"/"false" */
	int64_t num; /* INT: the value; BOOL: 0 or 1 */
};

struct audit_record {
	uint64_t seq;
	char time[40];	      /* as stored: YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ */
	struct timespec when; /* the same instant */
	char *host;
	char *event;
	int64_t uid, gid, pid;
	char **cmdline; /* NULL-terminated */
	char prev[SHA256_HEX_LEN + 1];
	char hash[SHA256_HEX_LEN + 1]; /* as stored */
	char hmac[SHA256_HEX_LEN + 1]; /* as stored; "" when absent */
	bool gap;		       /* "audit_gap": true (see audit_append) */
	struct audit_field *fields;    /* the event fields, sorted by key */
	size_t n_fields;
	char *canonical; /* the canonical bytes hash and hmac cover */
	size_t canonical_len;
};

/*
 * Decodes one line (without its newline) strictly: at most
 * AUDIT_RECORD_MAX bytes; one JSON object; duplicate keys, NUL characters,
 * reals and nulls rejected; every reserved field present with its type
 * (seq >= 1, time in the writer's exact format, prev and hash 64 lowercase
 * hex, hmac when present likewise, audit_gap only as true); event fields
 * strings, integers, booleans, arrays of strings or objects of those, at
 * most AUDIT_DEPTH_MAX deep. Fills OUT (free with audit_record_free) with
 * the typed fields and the canonical bytes; it does not check the hash.
 */
int audit_record_decode(const char *line, size_t len, struct audit_record *out, struct err **err);
/* True when R's stored hash is the sha256 of its canonical bytes. */
bool audit_record_hash_ok(const struct audit_record *r);
/* The string value of top-level event field KEY, or NULL. */
const char *audit_record_str(const struct audit_record *r, const char *key);
void audit_record_free(struct audit_record *r);

/* Parses RFC 3339 ("2026-11-28T04:30:30Z", with optional fraction and a
 * Z or +hh:mm offset) or a bare date ("2026-11-28", midnight UTC). */
int audit_time_parse(const char *s, struct timespec *out, struct err **err);

/* ---- The log ----------------------------------------------------------- */

struct audit_opts {
	const char *path;		 /* the log, e.g. /var/log/moat/audit.log */
	const char *hmac_key_path;	 /* NULL: records carry no hmac */
	const char *checkpoint_key_path; /* required; created on first need */
	bool fail_open;			 /* see audit_append */
	bool syslog;			 /* also send each line to LOG_AUTHPRIV */
	uint64_t rotate_bytes;		 /* 0: never rotate */
	unsigned keep;			 /* rotated files kept (>= 1 to rotate) */
	char *const *cmdline;		 /* NULL: /proc/self/cmdline */
};

struct audit_log;

/*
 * Opens (creating them when missing) the log's directory (0700), the log
 * (0600), its lock file and the checkpoint key (32 random bytes, 0600, its
 * directory 0700), and loads the HMAC key when one is named. Refuses a log,
 * lock or key that is a symlink, not a regular file, not owned by the
 * caller, or writable by others; a log directory writable by others; a key
 * readable by others; an HMAC key shorter than 16 bytes. A new, empty log
 * gets a checkpoint at seq 0 so that a missing checkpoint later is
 * evidence. Copies everything it keeps from O.
 */
int audit_open(const struct audit_opts *o, struct audit_log **out, struct err **err);

/*
 * Appends E as the next record and consumes it (also on failure). Under an
 * exclusive flock on "<path>.lock": rotates first when the log has reached
 * rotate_bytes (path -> path.1 -> ... -> path.keep, the oldest dropped);
 * finds the last record (the log's tail, or path.1's when the log is
 * empty) and checks it against the checkpoint; fills seq, prev, time, host,
 * uid, gid, pid and cmdline; writes the line with one write(2) on an
 * O_APPEND fd; fsyncs it; rewrites the checkpoint atomically (and fsyncs
 * its directory); forwards the line to syslog when asked.
 *
 * Failure leaves the log as it was (a short write or failed fsync or
 * checkpoint is cut back with ftruncate) and returns a negative errno with
 * a message naming what could not be written, e.g.
 *   audit log "/x/audit.log": No space left on device
 * It also refuses to chain onto a log that contradicts its checkpoint
 * (truncated, replaced, a forged checkpoint, a tail that fails its own hash
 * or hmac, or more than one record past the checkpoint): writing on would
 * launder the evidence. Recovery is an administrator's decision: move the
 * log, its rotated files and its checkpoint aside; the next append starts
 * a new chain at seq 1.
 *
 * audit_gap: the record carries "audit_gap": true when the append machinery
 * saw, since the previous record, something that may hide a record:
 *  - an append failed while fail_open was set: the failure creates the
 *    marker "<path>.gap" (its first line says when and why) and the next
 *    successful append consumes it;
 *  - a partial final line (a crash mid-write) was cut away;
 *  - the tail was one record past the checkpoint (a crash between the
 *    write and the checkpoint, or one record appended behind moat's back).
 * fail_open itself changes nothing else here: the caller reads it with
 * audit_fail_open() and decides whether to go on without a record.
 */
int audit_append(struct audit_log *l, struct audit_event *e, struct err **err);
bool audit_fail_open(const struct audit_log *l);
/* NULL is allowed. Wipes the keys from memory. */
void audit_close(struct audit_log *l);

/* ---- Reading and checking ---------------------------------------------- */

/*
 * The log's files oldest first: "<path>.K" ... "<path>.1", "<path>" (those
 * that exist). *out is a NULL-terminated strv.
 */
int audit_files(const char *path, char ***out, size_t *n, struct err **err);

/*
 * Calls FN for every record of FILES (oldest first; n == 0: audit_files of
 * o->path), holding a shared lock on "<path>.lock" when it can. FN returns
 * 0 to go on, > 0 to stop, < 0 for an error. A line that does not decode
 * is an error ("FILE:LINE: what"). LINE is the record as stored.
 */
int audit_scan(char *const *files, size_t n, const struct audit_opts *o,
	       int (*fn)(const struct audit_record *r, const char *line, size_t len, void *arg),
	       void *arg, struct err **err);

/*
 * Checks FILES (oldest first; n == 0: audit_files of o->path) line by
 * line: the line decodes; its hash is the sha256 of its canonical form; in
 * a keyed log (o->hmac_key_path) it has an hmac and the hmac verifies;
 * seq is the previous seq + 1 and prev the previous hash (the first record
 * may start past seq 1 when older files were rotated away: its prev is not
 * checkable and the report says so). Then the checkpoint "<o->path>.checkpoint":
 * its mac verifies with the checkpoint key, and the log ends exactly at its
 * seq with its hash. The checkpoint is skipped (and the report says so) when
 * o->path or o->checkpoint_key_path is NULL, or explicit FILES do not end
 * with the live log. Records carrying an hmac checked without a key are
 * reported as such.
 *
 * Intact: prints "audit: N records verified (seq A..B), chain intact[,
 * keyed]..." to REPORT and returns 0. Broken: prints the FIRST broken link,
 * e.g. "/x/audit.log:17: seq 17: hash mismatch (record edited)" (the file
 * as given, or as audit_files names it), and returns
 * -EBADMSG with the same message in *err. Any other negative errno is a
 * failure to check (unreadable file or key), not a verdict.
 */
int audit_verify(char *const *files, size_t n, const struct audit_opts *o, FILE *report,
		 struct err **err);

#endif

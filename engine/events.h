/*
 * engine/events.h - how the engine writes its security decisions to the
 * audit log (audit/audit.h): one place that opens the log for an
 * invocation and applies the fail-closed rule.
 */
#ifndef MOAT_ENGINE_EVENTS_H
#define MOAT_ENGINE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "common/err.h"

struct engine_audit_conf {
	const char *root;      /* ROOT */
	const char *log;       /* the log's path; NULL = no audit (tests of pure code) */
	const char *hmac_key;  /* keyed mode, or NULL */
	bool fail_open;	       /* --audit-fail-open / MOAT_AUDIT_FAIL_OPEN=1 */
	bool syslog;	       /* each record also to syslog (LOG_AUTHPRIV) */
	uint64_t rotate_bytes; /* rotate the live file past this size; 0: never */
	unsigned keep;	       /* rotated files kept (default 5 when rotating) */
};

/* The checkpoint key of LOG: "<log's dir>/.audit-checkpoint.key". */
int engine_audit_checkpoint_key(const char *log, char **out);

/* Opens the log. Fail-closed: an error here stops the invocation unless
 * the conf says fail-open, in which case *out is NULL and a warning says
 * why (the next record written marks the gap). */
int engine_audit_open(const struct engine_audit_conf *c, struct audit_log **out, struct err **err);
/* Appends E (consumed). Fail-closed unless the log was opened fail-open:
 * then a failure is a warning on stderr and 0. L NULL (fail-open without a
 * log) only frees E. */
int engine_audit(struct audit_log *l, struct audit_event *e, struct err **err);

/* Records that EVENT ("container.refused", "container.failed") happened
 * to container ID (may be NULL) of IMAGE, and WHY; best effort. */
void engine_audit_refusal(const struct engine_audit_conf *c, const char *event, const char *id,
			  const char *image, const struct err *why);

/* A "trust.decision" record: ACTION ("pull", "run", "load", "build",
 * "verify"), REF, DIGEST (may be NULL), the verdict, its REASON and the
 * fingerprints KEYS whose signatures counted (may be NULL). NULL on
 * ENOMEM (engine_audit reports that). */
struct audit_event *engine_trust_event(const char *action, const char *ref, const char *digest,
				       bool accepted, const char *reason, char *const *keys);
/* Opens the log of C, appends E and closes it: for a decision made where
 * no log is open yet (a run refused by the trust policy). Best effort, like
 * engine_audit_refusal: the refusal stands either way. */
void engine_audit_one(const struct engine_audit_conf *c, struct audit_event *e);

#endif

/*
 * engine/events.c - opening the audit log for an invocation and the
 * fail-closed rule (see audit.h).
 *
 * Runs in: the moat process, before anything it records happens (a
 * container starts only after its start record is on disk).
 */
#include "engine/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

int engine_audit_checkpoint_key(const char *log, char **out)
{
	const char *slash = strrchr(log, '/');
	int dir = slash ? (int)(slash - log) : 0;

	/* Beside the log (its directory is 0700), so every root and identity
	 * that writes one log uses the same key. */
	return asprintf(out, "%.*s/.audit-checkpoint.key", dir, log) < 0 ? -ENOMEM : 0;
}

int engine_audit_open(const struct engine_audit_conf *c, struct audit_log **out, struct err **err)
{
	_cleanup_free_ char *ckey = NULL;
	struct audit_opts o = {0};
	struct err *e = NULL;

	*out = NULL;
	if (!c->log)
		return 0;
	if (engine_audit_checkpoint_key(c->log, &ckey) < 0)
		return err_errno(err, ENOMEM, "audit");
	o.path = c->log;
	o.hmac_key_path = c->hmac_key;
	o.checkpoint_key_path = ckey;
	o.fail_open = c->fail_open;
	o.syslog = c->syslog;
	o.rotate_bytes = c->rotate_bytes;
	o.keep = c->rotate_bytes ? (c->keep ? c->keep : 5) : c->keep;
	if (audit_open(&o, out, &e) == 0)
		return 0;
	if (!c->fail_open) {
		*err = e;
		return err_prefix(err, "audit (fail-closed; --audit-fail-open to run anyway)");
	}
	fprintf(stderr, "moat: warning: audit log unavailable, continuing (fail-open): %s\n",
		e->msg);
	err_free(&e);
	return 0;
}

int engine_audit(struct audit_log *l, struct audit_event *e, struct err **err)
{
	struct err *ae = NULL;

	if (!e)
		return err_errno(err, ENOMEM, "audit record");
	if (!l) {
		audit_event_free(e);
		return 0;
	}
	if (audit_append(l, e, &ae) == 0)
		return 0;
	if (!audit_fail_open(l)) {
		*err = ae;
		return err_prefix(err, "audit (fail-closed; --audit-fail-open to run anyway)");
	}
	fprintf(stderr, "moat: warning: audit record not written, continuing (fail-open): %s\n",
		ae->msg);
	err_free(&ae);
	return 0;
}

void engine_audit_refusal(const struct engine_audit_conf *c, const char *event, const char *id,
			  const char *image, const struct err *why)
{
	struct audit_log *l = NULL;
	struct audit_event *e;
	struct err *ignored = NULL;

	/* Best effort: the refusal stands whether or not it is recorded. */
	if (engine_audit_open(c, &l, &ignored) < 0 || !l) {
		err_free(&ignored);
		return;
	}
	e = audit_event_new(event);
	if (e) {
		if (id && id[0])
			audit_event_str(e, "container", id);
		if (image)
			audit_event_str(e, "image", image);
		audit_event_str(e, "error", why ? why->msg : "unknown");
		engine_audit(l, e, &ignored);
	}
	err_free(&ignored);
	audit_close(l);
}

struct audit_event *engine_trust_event(const char *action, const char *ref, const char *digest,
				       bool accepted, const char *reason, char *const *keys)
{
	struct audit_event *e = audit_event_new("trust.decision");

	if (!e)
		return NULL;
	audit_event_str(e, "action", action);
	audit_event_str(e, "ref", ref ? ref : "");
	if (digest && *digest)
		audit_event_str(e, "digest", digest);
	audit_event_str(e, "verdict", accepted ? "accept" : "reject");
	audit_event_str(e, "reason", reason ? reason : "");
	if (keys && keys[0])
		audit_event_strv(e, "keys", keys);
	return e;
}

void engine_audit_one(const struct engine_audit_conf *c, struct audit_event *e)
{
	struct audit_log *l = NULL;
	struct err *err = NULL;

	if (engine_audit_open(c, &l, &err) < 0)
		audit_event_free(e);
	else
		engine_audit(l, e, &err); /* consumes E */
	err_free(&err);
	audit_close(l);
}

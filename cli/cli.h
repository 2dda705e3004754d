/*
 * cli/cli.h - shared state of one moat invocation and the verb table.
 * Each cmd_* parses its own flags (getopt_long, Docker's spellings) and
 * returns the process exit status; errors are printed by the caller of
 * cli_fail() as one line "moat: <message>".
 */
#ifndef MOAT_CLI_H
#define MOAT_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

struct cli_ctx {
	char *root;	      /* --root / MOAT_ROOT, or the default for the identity */
	char *runroot;	      /* --runroot / MOAT_RUNROOT, likewise */
	char *audit_log;      /* --audit-log / MOAT_AUDIT_LOG, or the default for the identity */
	char *audit_key;      /* --audit-key / MOAT_AUDIT_KEY: keyed (HMAC) records */
	bool audit_fail_open; /* --audit-fail-open / MOAT_AUDIT_FAIL_OPEN=1 */
	bool rootless;	      /* geteuid() != 0 */
	uid_t uid;
	gid_t gid;
};

/* The audit configuration of this invocation, for engine_audit_open. */
struct engine_audit_conf;
void cli_audit_conf(const struct cli_ctx *ctx, struct engine_audit_conf *out);

/* Prints "moat: <msg>" and returns the exit status (err->exit or 125). */
int cli_fail(struct err **err);
/* getopt_long's '?' or ':' for ARGV as one line; returns 125. */
int cli_bad_flag(char **argv, int c);

int cmd_info(struct cli_ctx *ctx, int argc, char **argv);
int cmd_run(struct cli_ctx *ctx, int argc, char **argv);
int cmd_load(struct cli_ctx *ctx, int argc, char **argv);
int cmd_images(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rmi(struct cli_ctx *ctx, int argc, char **argv);
int cmd_demo_image(struct cli_ctx *ctx, int argc, char **argv);
int cmd_audit(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ps(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rm(struct cli_ctx *ctx, int argc, char **argv);

#endif

/*
 * cli/cli.h - shared state of one moat invocation and the verb table.
 * Each cmd_* parses its own flags (getopt_long, Docker's spellings) and
 * returns the process exit status; errors are printed by the caller of
 * cli_fail() as one line "moat: <message>".
 */
#ifndef MOAT_CLI_H
#define MOAT_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct cli_ctx {
	char *root;	      /* --root / MOAT_ROOT, or the default for the identity */
	char *runroot;	      /* --runroot / MOAT_RUNROOT, likewise */
	char *audit_log;      /* --audit-log / MOAT_AUDIT_LOG, or the default for the identity */
	char *audit_key;      /* --audit-key / MOAT_AUDIT_KEY: keyed (HMAC) records */
	bool audit_fail_open; /* --audit-fail-open / MOAT_AUDIT_FAIL_OPEN=1 */
	char *trust_policy;   /* --trust-policy / MOAT_TRUST_POLICY: the whole policy */
	char *tenant_policy;  /* --policy FILE / MOAT_POLICY: the whole tenant policy */
	char *tenant;	      /* --tenant NAME / MOAT_TENANT: the tenant asked for */
	bool audit_syslog;    /* --audit-syslog / MOAT_AUDIT_SYSLOG=1: also to syslog */
	char *audit_rotate;   /* --audit-rotate SIZE / MOAT_AUDIT_ROTATE (e.g. 10m) */
	char *audit_keep;     /* --audit-keep N / MOAT_AUDIT_KEEP: rotated files kept */
	bool rootless;	      /* geteuid() != 0 */
	uid_t uid;
	gid_t gid;
};

/* The audit configuration of this invocation, for engine_audit_open. */
struct engine_audit_conf;
void cli_audit_conf(const struct cli_ctx *ctx, struct engine_audit_conf *out);

/*
 * The audit record of a verb that changes the image store (load, rmi,
 * tag, pull, push, ...): the log is opened before the store is touched
 * (fail-closed: no log, no change) and the outcome - what changed, or why
 * nothing did - is appended after. FINISH and OUTCOME close L and return
 * 125 when the log refused the event (it is printed), else 0; FAILURE adds
 * its message as "error". OUTCOME builds EVENT with KEY (and KEY2, when
 * not NULL) set to the lists VALS (VALS2).
 */
struct audit_log;
struct audit_event;
int cli_audit_begin(const struct cli_ctx *ctx, struct audit_log **l, struct err **err);
int cli_audit_finish(struct audit_log *l, struct audit_event *e, const struct err *failure);
int cli_audit_outcome(struct audit_log *l, const char *event, const char *key, char **vals,
		      const char *key2, char **vals2, const struct err *failure);

/* Who is asking and where state lives, for the engine. */
struct engine_ctx;
void cli_engine_ctx(const struct cli_ctx *ctx, struct engine_ctx *out);
/* The image store for this caller's default identity. */
struct image_store;
int cli_store_open(const struct cli_ctx *ctx, struct image_store **s, struct err **err);

/* What one pull, push, sign or verify needs to talk to the registry of a
 * reference: moat's registries configuration, the stored credentials, and
 * the options made of them. */
#include "image/credentials.h"
#include "image/regconf.h"
#include "image/registry.h"
struct cli_regsetup {
	struct regconf *conf;
	struct registry_creds creds;
	struct registry_opts ro;
};
/* For REF's registry; TLS_VERIFY 1/0 from --tls-verify, -1: the
 * configuration decides (insecure registries: no verification, http
 * fallback). MOAT_REGISTRY_TIMEOUT sets the per-request timeout. */
int cli_reg_setup(const char *ref, int tls_verify, struct cli_regsetup *rs, struct err **err);
void cli_regsetup_clear(struct cli_regsetup *rs);
/* Appends a "trust.decision" record to L (left open): ACTION ("pull",
 * "run", "load", "verify"), REF, DIGEST (may be NULL), the verdict, its
 * REASON, and the fingerprints KEYS whose signatures counted (may be
 * NULL). 125 when the log refused it (printed), else 0. */
int cli_audit_trust(struct audit_log *l, const char *action, const char *ref, const char *digest,
		    bool accepted, const char *reason, char **keys);
/* The store's admission decisions (engine_trust_admit's strv of
 * "verdict\tsource\treason") as "trust.decision" records of ACTION. 125
 * when the log refused one (printed), else 0. */
int cli_audit_admissions(struct audit_log *l, const char *action, char **decisions);
/* A "trust.key" record (a signing key WHAT: "created", "generated"), left
 * open; 125 when the log refused it (printed). */
int cli_audit_key(struct audit_log *l, const char *what, const char *path, const char *fp);
/* Go's strconv.ParseBool for the value of FLAG ("--tls-verify"). */
int cli_parse_bool(const char *flag, const char *arg, bool *out, struct err **err);
/* --tls-verify[=BOOL]: 1 or 0 (Go's strconv.ParseBool spellings). */
int cli_parse_tls_verify(const char *arg, int *out, struct err **err);
/* Resolves REF (id, prefix or name) to a full id; prints the error. */
int cli_resolve(struct cli_ctx *ctx, const char *ref, char id[65], struct err **err);

/* Host pids of REC's processes: its cgroup as root, else its pid
 * namespace (cli/top.c; `moat top` and `moat stats`). */
struct container_record;
int cli_container_pids(struct cli_ctx *ctx, const struct container_record *rec, pid_t **pids,
		       size_t *n, struct err **err);

/* `inspect` (cli/inspect.c); CONTAINER_ONLY for `container inspect`. */
int cli_inspect_run(struct cli_ctx *ctx, int argc, char **argv, bool container_only);

/* Prune (cli/images.c, cli/system.c): "now" and the local zone for
 * prune filters; the image part of `image prune` and `system prune`
 * (removes what F selects that no container uses, prints Docker's
 * "Deleted Images:" block, collects the store's garbage, audits
 * "image.prune"; *RECLAIMED: bytes freed). Returns the exit status. */
struct prune_clock;
struct prune_filter;
void cli_prune_clock(struct prune_clock *clk);
int cli_image_prune_run(struct cli_ctx *ctx, const struct prune_filter *f, uint64_t *reclaimed);

/* jansson's text of V (FLAGS as json_dumps) with Go's encoding/json
 * escapes, as Docker's daemon writes JSON; malloc'd, NULL on ENOMEM. */
char *cli_json_dump(json_t *v, size_t flags);
/* Appends a copy of S to the NULL-terminated *V holding *N strings. */
int cli_strv_push_dup(char ***v, size_t *n, const char *s);
/* Prints "moat: <msg>" and returns the exit status (err->exit or 125). */
int cli_fail(struct err **err);
/* cli_fail for what Docker's daemon refuses: exit 1, unless the error
 * already carries a status (moat's own: no memory, no state). */
int cli_fail_daemon(struct err **err);
/* getopt_long's '?' or ':' for ARGV as one line; returns 125. */
int cli_bad_flag(char **argv, int c);

int cmd_info(struct cli_ctx *ctx, int argc, char **argv);
int cmd_run(struct cli_ctx *ctx, int argc, char **argv);
int cmd_load(struct cli_ctx *ctx, int argc, char **argv);
int cmd_images(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rmi(struct cli_ctx *ctx, int argc, char **argv);
int cmd_demo_image(struct cli_ctx *ctx, int argc, char **argv);
int cmd_key(struct cli_ctx *ctx, int argc, char **argv);
int cmd_trust(struct cli_ctx *ctx, int argc, char **argv);
int cmd_sign(struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(struct cli_ctx *ctx, int argc, char **argv);
/* push --sign-key: signs DIGEST, just pushed as DEST, with KEYFILE. */
int cli_sign_pushed(struct cli_ctx *ctx, const char *dest, int tls, const char *keyfile,
		    const char *digest, struct err **err);
int cmd_audit(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ps(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_create(struct cli_ctx *ctx, int argc, char **argv);
int cmd_start(struct cli_ctx *ctx, int argc, char **argv);
int cmd_stop(struct cli_ctx *ctx, int argc, char **argv);
int cmd_restart(struct cli_ctx *ctx, int argc, char **argv);
int cmd_kill(struct cli_ctx *ctx, int argc, char **argv);
int cmd_wait(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rename(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pause(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unpause(struct cli_ctx *ctx, int argc, char **argv);
int cmd_logs(struct cli_ctx *ctx, int argc, char **argv);
int cmd_attach(struct cli_ctx *ctx, int argc, char **argv);
int cmd_exec(struct cli_ctx *ctx, int argc, char **argv);
int cmd_inspect(struct cli_ctx *ctx, int argc, char **argv);
int cmd_top(struct cli_ctx *ctx, int argc, char **argv);
int cmd_port(struct cli_ctx *ctx, int argc, char **argv);
int cmd_diff(struct cli_ctx *ctx, int argc, char **argv);
int cmd_commit(struct cli_ctx *ctx, int argc, char **argv);
int cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
int cmd_container(struct cli_ctx *ctx, int argc, char **argv);
int cmd_login(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pull(struct cli_ctx *ctx, int argc, char **argv);
int cmd_push(struct cli_ctx *ctx, int argc, char **argv);
int cmd_tag(struct cli_ctx *ctx, int argc, char **argv);
int cmd_save(struct cli_ctx *ctx, int argc, char **argv);
int cmd_history(struct cli_ctx *ctx, int argc, char **argv);
int cmd_image(struct cli_ctx *ctx, int argc, char **argv);
int cmd_logout(struct cli_ctx *ctx, int argc, char **argv);
int cmd_cp(struct cli_ctx *ctx, int argc, char **argv);
int cmd_system(struct cli_ctx *ctx, int argc, char **argv);
int cmd_volume(struct cli_ctx *ctx, int argc, char **argv);
int cmd_network(struct cli_ctx *ctx, int argc, char **argv);
/* `volume prune` after its prompt (also `system prune --volumes`): removes
 * the unused volumes (anonymous only unless ALL) that pass F, prints
 * "Deleted Volumes:" and their names, audits "volume.prune"; *RECLAIMED
 * gets the bytes. 0, or the exit status after printing the error. */
int cli_volume_prune_run(struct cli_ctx *ctx, bool all, const struct prune_filter *f,
			 uint64_t *reclaimed);
/* The container part of `container prune` and `system prune`: removes
 * every stopped container MATCH keeps (audited like rm), prints Docker's
 * "Deleted Containers:" block, adds the writable layers' sizes to
 * *RECLAIMED. 0, 1 when one could not be removed (said), 125 when the
 * containers could not be listed (said). */
struct container_record;
int cli_prune_stopped(struct cli_ctx *ctx,
		      bool (*match)(const struct container_record *r, void *arg), void *arg,
		      uint64_t *reclaimed);
int cmd_policy(struct cli_ctx *ctx, int argc, char **argv);

/* ---- what the network, volume, image, container and system verbs
 * share (cli/common.c) ---- */

/*
 * Adds the --label / --opt value ARG to the "k=v" strv *V (*N entries) as
 * Docker's map options take it: "k" alone is k with an empty value, and a
 * key given again replaces the earlier value (a record holds each key
 * once). An empty key is refused like docker/cli's ValidateLabel; FLAG
 * ("--label", "-o, --opt") names the flag in the message.
 */
int cli_kv_put(char ***v, size_t *n, const char *flag, const char *arg, struct err **err);

/*
 * The N `ls --filter` SPECS ("KEY=VALUE", '=' checked by the flag
 * parser) as docker/cli splits them: key lower-cased, key and value
 * trimmed of blanks, into *KEYS and *VALS (N strings each, malloc'd).
 * Then as the daemon checks them: every key must be one of KNOWN
 * (NULL-terminated), else "invalid filter 'KEY'" (the first unknown).
 */
int cli_filter_split(char *const *specs, size_t n, const char *const *known, char ***keys,
		     char ***vals, struct err **err);

/*
 * Docker's prompt.Confirm for the prune verbs: asks "Are you sure you
 * want to continue? [y/N] " (the caller printed its WARNING lines) and
 * reads one line from stdin, even when it is not a terminal, as Docker
 * does. True only for "y" or "Y" once blanks around it are trimmed; EOF
 * is a no.
 */
bool cli_confirm(void);

/* Docker's "Deleted WHAT:" block of a prune: the heading, NAMES one a
 * line, a blank line; nothing at all when NAMES is NULL or empty. */
void cli_print_deleted(const char *what, char *const *names);

/* The flags of `network|volume|image|system prune`. */
enum {
	CLI_PRUNE_ALL = 1,     /* the verb takes -a, --all */
	CLI_PRUNE_VOLUMES = 2, /* the verb takes --volumes */
};
struct cli_prune_flags {
	bool all, force, volumes;
	char **specs; /* the --filter values as given (malloc'd array, not its strings) */
	size_t nspecs;
};
/*
 * Parses ARGV of the prune verb VERB ("network prune") with getopt_long:
 * -f/--force, --filter (repeatable; checked later by prune_filter_parse),
 * --help (prints USAGE), and those of TAKES (CLI_PRUNE_*); no arguments.
 * True when the verb goes on with *F (free F->specs); false when it is
 * done, with *STATUS its exit status (0 after --help, else the refusal
 * was printed).
 */
bool cli_prune_flags(int argc, char **argv, const char *verb, unsigned takes, const char *usage,
		     struct cli_prune_flags *f, int *status);

/* ---- list and inspect output (cli/table.c) ---- */

/* The "k=v" strv KV as a JSON object ({} when empty; "k" alone has the
 * value ""). NULL on ENOMEM. */
json_t *cli_kv_json(char *const *kv);

/*
 * docker/cli's NewFormat for `network ls` and `volume ls`: "" and "table"
 * are DEF (QUIET_DEF with -q), "json" is `{{json .}}`, anything else is
 * the user's template (its "\t" unescaped), -q or not. A template that
 * does not parse is "failed to parse template: ...", exit 1.
 */
struct fmt_template;
int cli_ls_template(const char *format, bool quiet, const char *def, const char *quiet_def,
		    struct fmt_template **t, struct err **err);
/* Renders ROW (consumed: its reference is dropped) with T into *LINE; a
 * template that fails on it is "template parsing error: ...", exit 1. */
int cli_ls_row(const struct fmt_template *t, json_t *row, char **line, struct err **err);
/* Prints the N rendered LINES: aligned in columns when T is a table,
 * else one a line; then flushes stdout ("write" error when it fails). */
int cli_ls_write(const struct fmt_template *t, char *const *lines, size_t n, struct err **err);

/* `inspect -f FORMAT`: NULL *T for none or "json" (the default output),
 * else the parsed template; "template parsing error: ...", exit 1. */
int cli_inspect_template(const char *format, struct fmt_template **t, struct err **err);
/*
 * Prints the objects of the array ALL as `inspect` does: with T, each
 * rendered and followed by a newline, every one before anything is
 * printed, so a template that fails on one prints nothing ("template
 * parsing error: ...", exit 1); without, the array as indented JSON
 * ("[]" when empty). Then flushes stdout. WHAT ("network inspect") names
 * the verb in an allocation error.
 */
int cli_inspect_print(const struct fmt_template *t, json_t *all, const char *what,
		      struct err **err);
/* `moat policy check -- run ARGS...`: run's parser and create's decisions,
 * nothing created; prints "allowed" (0) or "denied: ..." (1). ARGV[0] is
 * "run" or "create". */
int cli_run_check(struct cli_ctx *ctx, int argc, char **argv);

#endif

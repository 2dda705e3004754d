/*
 * cli/trust.c - `moat trust show [--raw]` and `moat trust set ... SCOPE`:
 * the image trust policy in force and where it came from, and edits to one
 * policy file (the --trust-policy file, the system file with --system, or
 * the user's own).
 *
 * Runs as: the invoking user; `set --system` as root only (the system file
 * is what every user's policy is tightened from).
 *
 * Invariants:
 *  - `set` validates everything (type, keys, identity, scope) before it
 *    reads or writes any file, and writes atomically
 *    (engine_trust_policy_write), so a refused edit changes nothing;
 *  - keys are stored as absolute, resolved paths: the policy must not mean
 *    something else when moat runs from another directory;
 *  - `show` prints strings from policy files through clean(), so a policy
 *    cannot put terminal escapes on the screen.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/trust.h"
#include "engine/trust_files.h"
#include "policy/trust.h"

static void policy_freep(struct trust_policy **p)
{
	trust_policy_free(*p);
}
#define _cleanup_policy_ __attribute__((cleanup(policy_freep)))

static void sources_clearp(struct engine_trust_sources *s)
{
	engine_trust_sources_clear(s);
}
#define _cleanup_sources_ __attribute__((cleanup(sources_clearp)))

static const char default_text[] =
    "moat default (no policy file): reject everything except images moat built locally and "
    "signed with the local key";

/* ---- show ---------------------------------------------------------------- */

/* A copy of S for the terminal: control characters become '?'. */
static char *clean(const char *s)
{
	char *c = strdup(s ? s : "");

	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

struct row {
	char *col[4]; /* SCOPE TYPE KEYS IDENTITY */
};

static void rows_free(struct row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		for (size_t k = 0; k < 4; k++)
			free(rows[i].col[k]);
	free(rows);
}

static char *keys_text(const struct trust_req *r)
{
	const char **paths, **datas;
	size_t n = trust_req_keys(r, &paths, &datas), len = 0;
	char *s, *c;

	if (n == 0)
		return strdup("-");
	if (datas) {
		if (asprintf(&s, "keyData (%zu)", n) < 0)
			return NULL;
		return s;
	}
	for (size_t i = 0; paths && paths[i]; i++)
		len += strlen(paths[i]) + 1;
	s = calloc(1, len + 1);
	for (size_t i = 0; s && paths && paths[i]; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, paths[i]);
	}
	c = s ? clean(s) : NULL;
	free(s);
	return c;
}

static char *identity_text(const struct trust_req *r)
{
	const struct trust_ident *id = &r->ident;
	char *s = NULL, *c;
	int n;

	if (r->type != TRUST_REQ_SIGSTORE_SIGNED && r->type != TRUST_REQ_SIGNED_BY)
		return strdup("-");
	if (id->reference)
		n = asprintf(&s, "%s %s", trust_ident_type_name(id->type), id->reference);
	else if (id->prefix && id->signed_prefix)
		n = asprintf(&s, "%s %s -> %s", trust_ident_type_name(id->type), id->prefix,
			     id->signed_prefix);
	else
		n = asprintf(&s, "%s", trust_ident_type_name(id->type));
	if (n < 0)
		return NULL;
	c = clean(s);
	free(s);
	return c;
}

static char *scope_text(const struct trust_scope *s)
{
	char *t = NULL, *c;
	const char *shown = s->scope[0] ? s->scope : "\"\"";

	if (s->transport == TRUST_TRANSPORT_DOCKER_DAEMON) {
		if (asprintf(&t, "docker-daemon:%s", shown) < 0)
			return NULL;
	} else if (!(t = strdup(shown))) {
		return NULL;
	}
	c = clean(t);
	free(t);
	return c;
}

static int add_rows(struct row *rows, size_t *n, const char *scope, const struct trust_req *reqs,
		    size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		struct row *r = &rows[(*n)++];

		r->col[0] = strdup(scope);
		r->col[1] = strdup(trust_req_type_name(reqs[i].type));
		r->col[2] = keys_text(&reqs[i]);
		r->col[3] = identity_text(&reqs[i]);
		for (size_t k = 0; k < 4; k++)
			if (!r->col[k])
				return -ENOMEM;
	}
	return 0;
}

static int print_table(const struct trust_policy *p, struct err **err)
{
	static const char *const head[4] = {"SCOPE", "TYPE", "KEYS", "IDENTITY"};
	size_t total = p->n_def, n = 0, w[3] = {0};
	struct row *rows;
	int ret = 0;

	for (size_t i = 0; i < p->n_scopes; i++)
		total += p->scopes[i].n_reqs;
	rows = calloc(total, sizeof(*rows));
	if (!rows)
		return err_errno(err, ENOMEM, "trust show");
	ret = add_rows(rows, &n, "default", p->def, p->n_def);
	for (size_t i = 0; ret == 0 && i < p->n_scopes; i++) {
		_cleanup_free_ char *s = scope_text(&p->scopes[i]);

		ret = s ? add_rows(rows, &n, s, p->scopes[i].reqs, p->scopes[i].n_reqs) : -ENOMEM;
	}
	if (ret < 0) {
		rows_free(rows, n);
		return err_errno(err, ENOMEM, "trust show");
	}
	for (size_t k = 0; k < 3; k++) {
		w[k] = strlen(head[k]);
		for (size_t i = 0; i < n; i++)
			if (strlen(rows[i].col[k]) > w[k])
				w[k] = strlen(rows[i].col[k]);
	}
	printf("%-*s   %-*s   %-*s   %s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2],
	       head[2], head[3]);
	for (size_t i = 0; i < n; i++)
		printf("%-*s   %-*s   %-*s   %s\n", (int)w[0], rows[i].col[0], (int)w[1],
		       rows[i].col[1], (int)w[2], rows[i].col[2], rows[i].col[3]);
	rows_free(rows, n);
	return 0;
}

static void print_sources(const struct engine_trust_sources *src)
{
	_cleanup_free_ char *o = clean(src->override), *s = clean(src->system_path),
			    *u = src->user_path ? clean(src->user_path) : NULL;

	if (src->override) {
		printf("Policy: %s (--trust-policy)\n", o);
		return;
	}
	if (src->is_default) {
		printf("Policy: %s\n", default_text);
		if (u)
			printf("Files: %s (absent), %s (absent)\n", s, u);
		else
			printf("Files: %s (absent), no user file (no home directory)\n", s);
		return;
	}
	printf("Policy: %s (%s)\n", s, src->system_present ? "present" : "absent");
	if (!u)
		printf("User policy: none (no home directory)\n");
	else if (!src->user_present)
		printf("User policy: %s (absent)\n", u);
	else if (src->system_present)
		printf("User policy: %s (present, may only tighten)\n", u);
	else
		printf("User policy: %s (present; with no system file it is the policy)\n", u);
}

static int trust_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"raw", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_sources_ struct engine_trust_sources src = {0};
	_cleanup_policy_ struct trust_policy *p = NULL;
	_cleanup_free_ char *text = NULL;
	struct err *err = NULL;
	bool raw = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			raw = true;
			break;
		case 'h':
			printf("Usage: moat trust show [--raw]\n\n"
			       "Show the image trust policy in force and where it came from.\n\n"
			       "Options:\n"
			       "      --raw   print the effective (merged) policy as JSON\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"moat trust show\" accepts no arguments");
		return cli_fail(&err);
	}
	if (engine_trust_policy_load(ctx->trust_policy, &p, &src, &err) < 0)
		return cli_fail(&err);
	if (raw) {
		if (trust_policy_encode(p, &text, &err) < 0)
			return cli_fail(&err);
		fputs(text, stdout);
		return 0;
	}
	print_sources(&src);
	printf("\n");
	if (print_table(p, &err) < 0)
		return cli_fail(&err);
	return 0;
}

/* ---- set ----------------------------------------------------------------- */

static const struct {
	const char *name;
	enum trust_ident_type type;
} ident_names[] = {
    {"matchRepoDigestOrExact", TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT},
    {"matchExact", TRUST_IDENT_MATCH_EXACT},
    {"matchRepository", TRUST_IDENT_MATCH_REPOSITORY},
    {"exactReference", TRUST_IDENT_EXACT_REFERENCE},
    {"exactRepository", TRUST_IDENT_EXACT_REPOSITORY},
    {"remapIdentity", TRUST_IDENT_REMAP_IDENTITY},
};

struct set_opts {
	bool system;
	const char *type, *identity, *ref, *prefix, *signed_prefix;
	char **keys; /* as given, NULL-terminated */
	size_t n_keys;
};

static int parse_type(const char *t, enum trust_req_type *out, struct err **err)
{
	if (!t)
		return err_set(err, EINVAL,
			       "\"moat trust set\" needs --type accept, reject or sigstoreSigned");
	if (!strcmp(t, "accept") || !strcmp(t, "insecureAcceptAnything"))
		*out = TRUST_REQ_INSECURE_ACCEPT_ANYTHING;
	else if (!strcmp(t, "reject"))
		*out = TRUST_REQ_REJECT;
	else if (!strcmp(t, "sigstoreSigned"))
		*out = TRUST_REQ_SIGSTORE_SIGNED;
	else
		return err_set(err, EINVAL,
			       "unknown --type \"%s\": use accept, reject or sigstoreSigned", t);
	return 0;
}

/* KEY as an absolute path to a readable regular file. */
static int resolve_key(const char *key, char **out, struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	*out = NULL;
	fd = open(key, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_errno(err, errno, "--key \"%s\"", key);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "--key \"%s\"", key);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "--key \"%s\": not a regular file", key);
	*out = realpath(key, NULL);
	if (!*out)
		return err_errno(err, errno, "--key \"%s\"", key);
	return 0;
}

static int parse_identity(const struct set_opts *o, struct trust_ident *id, struct err **err)
{
	size_t i;

	if (!o->identity) {
		if (o->ref || o->prefix || o->signed_prefix)
			return err_set(err, EINVAL,
				       "--identity-ref, --identity-prefix and "
				       "--identity-signed-prefix need --identity");
		id->type = TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(ident_names); i++)
		if (!strcmp(o->identity, ident_names[i].name))
			break;
	if (i == ARRAY_SIZE(ident_names))
		return err_set(err, EINVAL,
			       "unknown --identity \"%s\": use matchRepoDigestOrExact, "
			       "matchExact, matchRepository, exactReference, exactRepository or "
			       "remapIdentity",
			       o->identity);
	id->type = ident_names[i].type;
	switch (id->type) {
	case TRUST_IDENT_EXACT_REFERENCE:
	case TRUST_IDENT_EXACT_REPOSITORY:
		if (!o->ref)
			return err_set(err, EINVAL, "--identity %s needs --identity-ref",
				       o->identity);
		if (o->prefix || o->signed_prefix)
			return err_set(err, EINVAL,
				       "--identity %s takes --identity-ref, not --identity-prefix",
				       o->identity);
		id->reference = (char *)o->ref;
		return 0;
	case TRUST_IDENT_REMAP_IDENTITY:
		if (!o->prefix || !o->signed_prefix)
			return err_set(err, EINVAL,
				       "--identity remapIdentity needs --identity-prefix and "
				       "--identity-signed-prefix");
		if (o->ref)
			return err_set(err, EINVAL,
				       "--identity remapIdentity takes no --identity-ref");
		id->prefix = (char *)o->prefix;
		id->signed_prefix = (char *)o->signed_prefix;
		return 0;
	case TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT:
	case TRUST_IDENT_MATCH_EXACT:
	case TRUST_IDENT_MATCH_REPOSITORY:
	default:
		if (o->ref || o->prefix || o->signed_prefix)
			return err_set(err, EINVAL,
				       "--identity %s takes no --identity-ref or --identity-prefix",
				       o->identity);
		return 0;
	}
}

/* The requirement O describes, checked. *KEYS owns the resolved key paths
 * that R points to. */
static int build_req(const struct set_opts *o, struct trust_req *r, char ***keys, struct err **err)
{
	int ret;

	memset(r, 0, sizeof(*r));
	*keys = NULL;
	if ((ret = parse_type(o->type, &r->type, err)) < 0)
		return ret;
	if (r->type != TRUST_REQ_SIGSTORE_SIGNED) {
		if (o->n_keys)
			return err_set(err, EINVAL,
				       "--key applies to --type sigstoreSigned, not %s", o->type);
		if (o->identity || o->ref || o->prefix || o->signed_prefix)
			return err_set(err, EINVAL,
				       "--identity applies to --type sigstoreSigned, not %s",
				       o->type);
		return 0;
	}
	if (!o->n_keys)
		return err_set(err, EINVAL,
			       "--type sigstoreSigned needs at least one --key PUBKEY");
	if ((ret = parse_identity(o, &r->ident, err)) < 0)
		return ret;
	*keys = calloc(o->n_keys + 1, sizeof(**keys));
	if (!*keys)
		return err_errno(err, ENOMEM, "trust set");
	for (size_t i = 0; i < o->n_keys; i++) {
		char *k;

		if ((ret = resolve_key(o->keys[i], &k, err)) < 0)
			return ret;
		/* The same key twice (or by two names) once. */
		for (size_t j = 0; j < r->n_keys; j++)
			if (!strcmp((*keys)[j], k)) {
				free(k);
				k = NULL;
				break;
			}
		if (k)
			(*keys)[r->n_keys++] = k;
	}
	r->key_paths = *keys;
	return 0;
}

/* "busybox" is a valid scope, but it names a registry host called
 * busybox, which is rarely what was meant. */
static void warn_bare_host(const char *scope)
{
	if (!strcmp(scope, "default") || !scope[0] || strpbrk(scope, "./:[") ||
	    !strcmp(scope, "localhost"))
		return;
	fprintf(stderr,
		"moat: warning: scope \"%s\" is a registry host named %s; for the Docker Hub "
		"image write docker.io/library/%s\n",
		scope, scope, scope);
}

static void set_usage(FILE *f)
{
	fprintf(f, "Usage: moat trust set [--system] --type accept|reject|sigstoreSigned\n"
		   "         [--key PUBKEY]... [--identity TYPE [--identity-ref REF]\n"
		   "         [--identity-prefix P --identity-signed-prefix SP]] SCOPE\n\n"
		   "Set the requirements for SCOPE (\"default\", a registry host, a namespace,\n"
		   "a repository, repo:tag, repo@digest or *.domain) in one policy file: the\n"
		   "--trust-policy file, the system file with --system (root only), else\n"
		   "your own file, which can only tighten the system policy.\n");
}

static int trust_set(struct cli_ctx *ctx, int argc, char **argv)
{
	struct audit_log *alog = NULL;
	struct audit_event *ev = NULL;
	static const struct option opts[] = {
	    {"system", no_argument, NULL, 'S'},
	    {"type", required_argument, NULL, 't'},
	    {"key", required_argument, NULL, 'k'},
	    {"identity", required_argument, NULL, 'i'},
	    {"identity-ref", required_argument, NULL, 'r'},
	    {"identity-prefix", required_argument, NULL, 'p'},
	    {"identity-signed-prefix", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_policy_ struct trust_policy *p = NULL, *scratch = NULL;
	_cleanup_free_ char **given = calloc((size_t)argc + 1, sizeof(char *));
	_cleanup_strv_ char **keys = NULL;
	_cleanup_free_ char *path = NULL;
	struct set_opts o = {0};
	struct err *err = NULL;
	struct trust_req req;
	const char *scope;
	bool user_file;
	int c;

	if (!given) {
		err_errno(&err, ENOMEM, "trust set");
		return cli_fail(&err);
	}
	o.keys = given;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			o.system = true;
			break;
		case 't':
			o.type = optarg;
			break;
		case 'k':
			given[o.n_keys++] = optarg;
			break;
		case 'i':
			o.identity = optarg;
			break;
		case 'r':
			o.ref = optarg;
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 's':
			o.signed_prefix = optarg;
			break;
		case 'h':
			set_usage(stdout);
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(
		    &err, EINVAL,
		    "\"moat trust set\" requires exactly 1 argument, SCOPE (see 'moat trust set "
		    "--help')");
		return cli_fail(&err);
	}
	scope = argv[optind];
	if (build_req(&o, &req, &keys, &err) < 0)
		return cli_fail(&err);
	/* Check the scope and the requirement on a scratch policy first: a
	 * bad edit is refused before any file is read or written. */
	scratch = trust_policy_default_reject();
	if (!scratch) {
		err_errno(&err, ENOMEM, "trust set");
		return cli_fail(&err);
	}
	if (trust_policy_set_scope(scratch, scope, &req, 1, &err) < 0)
		return cli_fail(&err);

	if (ctx->trust_policy && o.system) {
		err_set(&err, EINVAL,
			"--system and --trust-policy name two different files: give one of them");
		return cli_fail(&err);
	}
	user_file = !ctx->trust_policy && !o.system;
	if (ctx->trust_policy) {
		path = strdup(ctx->trust_policy);
	} else if (o.system) {
		if (ctx->rootless) {
			err_set(&err, EPERM,
				"only root can change the system trust policy %s (without "
				"--system, `moat trust set` changes your own policy, which can "
				"only tighten the system's)",
				ENGINE_TRUST_SYSTEM_PATH);
			return cli_fail(&err);
		}
		path = strdup(ENGINE_TRUST_SYSTEM_PATH);
	} else if (engine_trust_user_path(&path, &err) < 0) {
		return cli_fail(&err);
	}
	if (!path) {
		err_errno(&err, ENOMEM, "trust set");
		return cli_fail(&err);
	}
	if (engine_trust_policy_read(path, true, &p, &err) < 0)
		return cli_fail(&err);
	if (!p && !(p = trust_policy_default_reject())) {
		err_errno(&err, ENOMEM, "trust set");
		return cli_fail(&err);
	}
	/* A policy change is audited like the decisions it will govern. */
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	ev = audit_event_new("trust.set");
	if (ev) {
		audit_event_str(ev, "file", path);
		audit_event_str(ev, "scope", scope);
		audit_event_str(ev, "type", trust_req_type_name(req.type));
	}
	if (trust_policy_set_scope(p, scope, &req, 1, &err) < 0 ||
	    engine_trust_policy_write(path, p, &err) < 0) {
		cli_audit_finish(alog, ev, err);
		return cli_fail(&err);
	}
	if (cli_audit_finish(alog, ev, NULL) != 0)
		return 125;
	warn_bare_host(scope);
	if (user_file && req.type == TRUST_REQ_INSECURE_ACCEPT_ANYTHING)
		fprintf(stderr,
			"moat: warning: %s can only tighten the system policy (%s): \"accept\" "
			"there lets in nothing that policy rejects, once it exists\n",
			path, ENGINE_TRUST_SYSTEM_PATH);
	printf("%s: %s set to %s\n", path, strcmp(scope, "default") ? scope : "the default",
	       trust_req_type_name(req.type));
	return 0;
}

/* ---- the group ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "Usage: moat trust COMMAND\n\n"
		   "Manage the image trust policy\n\n"
		   "Commands:\n"
		   "  show        Show the policy in force and where it came from\n"
		   "  set         Set the requirements for one scope in a policy file\n");
}

int cmd_trust(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		err_set(&err, EINVAL, "\"moat trust\" needs a command: show or set");
		return cli_fail(&err);
	}
	if (!strcmp(argv[1], "show"))
		return trust_show(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return trust_set(ctx, argc - 1, argv + 1);
	err_set(&err, EINVAL, "'trust %s' is not a moat command (see 'moat trust --help')",
		argv[1]);
	return cli_fail(&err);
}

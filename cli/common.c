/*
 * cli/common.c - what every verb shares: one-line errors with Docker's
 * exit status, getopt failures, the invocation's audit configuration and
 * the audit record of a verb that changes the image store; and what the
 * network, volume, image and system verbs share: --label/--opt maps,
 * `ls --filter` splitting, and prune's flags, prompt and listing.
 *
 * Runs as: the invoking user or root.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/events.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "engine/options.h"
#include "image/reference.h"

void cli_audit_conf(const struct cli_ctx *ctx, struct engine_audit_conf *out)
{
	out->root = ctx->root;
	out->log = ctx->audit_log;
	out->hmac_key = ctx->audit_key;
	out->fail_open = ctx->audit_fail_open;
	out->syslog = ctx->audit_syslog;
	out->rotate_bytes = 0;
	out->keep = 0;
	/* main() checked both values: they parse. */
	if (ctx->audit_rotate)
		options_size_parse(ctx->audit_rotate, &out->rotate_bytes, NULL);
	if (ctx->audit_keep)
		out->keep = (unsigned)strtoul(ctx->audit_keep, NULL, 10);
}

void cli_engine_ctx(const struct cli_ctx *ctx, struct engine_ctx *out)
{
	out->root = ctx->root;
	out->runroot = ctx->runroot;
	out->rootless = ctx->rootless;
	out->uid = ctx->uid;
	out->gid = ctx->gid;
	cli_audit_conf(ctx, &out->audit);
	out->trust_policy = ctx->trust_policy;
	out->tenant_policy = ctx->tenant_policy;
	out->tenant = ctx->tenant;
}

int cli_audit_begin(const struct cli_ctx *ctx, struct audit_log **l, struct err **err)
{
	struct engine_audit_conf c;

	cli_audit_conf(ctx, &c);
	return engine_audit_open(&c, l, err);
}

int cli_audit_finish(struct audit_log *l, struct audit_event *e, const struct err *failure)
{
	struct err *ae = NULL;
	int r;

	if (e && failure)
		audit_event_str(e, "error", failure->msg);
	r = engine_audit(l, e, &ae);
	audit_close(l);
	if (r < 0) {
		fprintf(stderr, "moat: %s\n", ae ? ae->msg : "audit log");
		err_free(&ae);
		return 125;
	}
	return 0;
}

int cli_audit_outcome(struct audit_log *l, const char *event, const char *key, char **vals,
		      const char *key2, char **vals2, const struct err *failure)
{
	struct audit_event *e = audit_event_new(event);

	if (e && key)
		audit_event_strv(e, key, vals ? vals : (char *[]){NULL});
	if (e && key2)
		audit_event_strv(e, key2, vals2 ? vals2 : (char *[]){NULL});
	return cli_audit_finish(l, e, failure);
}

int cli_store_open(const struct cli_ctx *ctx, struct image_store **s, struct err **err)
{
	return engine_store_open(ctx->root, ctx->rootless, ctx->uid, ctx->gid, NULL, s, err);
}

int cli_bad_flag(char **argv, int c)
{
	struct err *err = NULL;
	const char *arg = argv[optind - 1];

	if (c == ':')
		err_set(&err, EINVAL, "flag needs an argument: %s", arg);
	else if (optopt)
		err_set(&err, EINVAL, "unknown shorthand flag: '%c' in %s", optopt, arg);
	else
		err_set(&err, EINVAL, "unknown flag: %s", arg);
	return cli_fail(&err);
}

int cli_fail(struct err **err)
{
	int code = 125;

	if (err && *err) {
		fprintf(stderr, "moat: %s\n", (*err)->msg);
		if ((*err)->exit)
			code = (*err)->exit;
		err_free(err);
	} else {
		fprintf(stderr, "moat: unknown error\n");
	}
	return code;
}

/* ---- registries ---- */

void cli_regsetup_clear(struct cli_regsetup *rs)
{
	registry_creds_clear(&rs->creds);
	regconf_free(rs->conf);
	memset(rs, 0, sizeof(*rs));
}

/* --tls-verify[=BOOL]: 1 or 0; -1 when absent. */
int cli_parse_bool(const char *flag, const char *arg, bool *out, struct err **err)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(arg, t[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(arg, f[i])) {
			*out = false;
			return 0;
		}
	}
	return err_set(err, EINVAL,
		       "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
		       "\"%s\": invalid syntax",
		       arg, flag, arg);
}

int cli_parse_tls_verify(const char *arg, int *out, struct err **err)
{
	bool v = true;

	if (arg && cli_parse_bool("--tls-verify", arg, &v, err) < 0)
		return err_ret(*err);
	*out = v;
	return 0;
}

int cli_reg_setup(const char *ref, int tls_verify, struct cli_regsetup *rs, struct err **err)
{
	struct image_reference r = {0};
	const char *host, *env;
	bool insecure;
	int ret = 0;

	memset(rs, 0, sizeof(*rs));
	if (image_reference_parse(ref, &r, err) < 0)
		return err_ret(*err);
	host = image_reference_registry_host(&r);
	if (regconf_load(&rs->conf, err) < 0) {
		ret = err_ret(*err);
		goto out;
	}
	insecure = regconf_insecure(rs->conf, r.domain) || regconf_insecure(rs->conf, host);
	if (tls_verify < 0)
		tls_verify = !insecure;
	rs->ro.tls_verify = tls_verify;
	rs->ro.plain_http = !tls_verify;
	regconf_certs_dirs(rs->conf, rs->ro.certs_dirs);
	/* Credentials are stored under the name `moat login` was given. */
	if (credentials_get(r.domain, &rs->creds, err) < 0) {
		ret = err_prefix(err, "credentials for %s", r.domain);
		goto out;
	}
	if (rs->creds.username || rs->creds.identity_token)
		rs->ro.creds = &rs->creds;
	/* For tests of hanging registries: a shorter per-request timeout. */
	env = getenv("MOAT_REGISTRY_TIMEOUT");
	if (env && *env) {
		char *end;
		long t = strtol(env, &end, 10);
		if (*end || t < 1 || t > 3600) {
			ret =
			    err_set(err, EINVAL,
				    "MOAT_REGISTRY_TIMEOUT=\"%s\": expected seconds (1-3600)", env);
			goto out;
		}
		rs->ro.timeout_s = t;
	}
out:
	image_reference_clear(&r);
	if (ret < 0) {
		registry_creds_clear(&rs->creds);
		regconf_free(rs->conf);
		memset(rs, 0, sizeof(*rs));
	}
	return ret;
}

/* ---- trust ---- */

int cli_audit_trust(struct audit_log *l, const char *action, const char *ref, const char *digest,
		    bool accepted, const char *reason, char **keys)
{
	struct err *ae = NULL;

	if (engine_audit(l, engine_trust_event(action, ref, digest, accepted, reason, keys), &ae) <
	    0) {
		fprintf(stderr, "moat: %s\n", ae ? ae->msg : "audit log");
		err_free(&ae);
		return 125;
	}
	return 0;
}

int cli_audit_key(struct audit_log *l, const char *what, const char *path, const char *fp)
{
	struct audit_event *e = audit_event_new("trust.key");
	struct err *ae = NULL;

	if (e) {
		audit_event_str(e, "action", what);
		audit_event_str(e, "path", path);
		audit_event_str(e, "key", fp);
	}
	if (engine_audit(l, e, &ae) < 0) {
		fprintf(stderr, "moat: %s\n", ae ? ae->msg : "audit log");
		err_free(&ae);
		return 125;
	}
	return 0;
}

int cli_audit_admissions(struct audit_log *l, const char *action, char **decisions)
{
	for (char **d = decisions; d && *d; d++) {
		char *src = strchr(*d, '\t'), *why = src ? strchr(src + 1, '\t') : NULL;

		if (!why)
			continue;
		*src++ = 0;
		*why++ = 0;
		if (!strcmp(*d, "key")) {
			if (cli_audit_key(l, "created", src, why) != 0)
				return 125;
			continue;
		}
		if (cli_audit_trust(l, action, src, NULL, !strcmp(*d, "accept"), why, NULL) != 0)
			return 125;
	}
	return 0;
}

/*
 * jansson's text of V with Go's encoding/json habits on top: "<", ">",
 * "&" and U+2028/U+2029 escaped (they can only occur inside strings, so a
 * plain replacement is exact). Docker's daemon writes its JSON that way.
 */
char *cli_json_dump(json_t *v, size_t flags)
{
	_cleanup_free_ char *raw = json_dumps(v, flags | JSON_ENCODE_ANY);
	char *out, *o;

	if (!raw)
		return NULL;
	out = malloc(strlen(raw) * 6 + 1);
	if (!out)
		return NULL;
	o = out;
	for (const char *s = raw; *s; s++) {
		if (*s == '<' || *s == '>' || *s == '&') {
			o += sprintf(o, "\\u%04x", (unsigned)*s);
		} else if (!strncmp(s, "\xe2\x80\xa8", 3) || !strncmp(s, "\xe2\x80\xa9", 3)) {
			o += sprintf(o, "\\u%04x", s[2] == '\xa8' ? 0x2028u : 0x2029u);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
	return out;
}

int cli_strv_push_dup(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	nv[*n + 1] = NULL;
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int cli_fail_daemon(struct err **err)
{
	if (*err && !(*err)->exit)
		(*err)->exit = 1;
	return cli_fail(err);
}

/* ---- flags the network, volume and prune verbs share ---- */

int cli_kv_put(char ***v, size_t *n, const char *flag, const char *arg, struct err **err)
{
	size_t kl = strcspn(arg, "=");
	const char *val = arg[kl] ? arg + kl + 1 : "";
	char *kv = NULL, **nv;
	size_t i;

	for (i = 0; i < kl && isspace((unsigned char)arg[i]); i++)
		;
	if (i == kl)
		return err_set(
		    err, EINVAL,
		    "invalid argument \"%s\" for \"%s\" flag: invalid %s '%s': empty name", arg,
		    flag, !strcmp(flag, "--label") ? "label" : "option", arg);
	if (asprintf(&kv, "%.*s=%s", (int)kl, arg, val) < 0)
		return err_errno(err, ENOMEM, "%s", flag);
	for (i = 0; i < *n; i++) {
		if (!strncmp((*v)[i], kv, kl + 1)) {
			free((*v)[i]);
			(*v)[i] = kv;
			return 0;
		}
	}
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(kv);
		return err_errno(err, ENOMEM, "%s", flag);
	}
	*v = nv;
	nv[(*n)++] = kv;
	nv[*n] = NULL;
	return 0;
}

/* [B, E) with blanks trimmed, malloc'd. */
static char *trimmed(const char *b, const char *e)
{
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	return strndup(b, (size_t)(e - b));
}

int cli_filter_split(char *const *specs, size_t n, const char *const *known, char ***keys,
		     char ***vals, struct err **err)
{
	_cleanup_strv_ char **k = calloc(n + 1, sizeof(char *)),
			    **v = calloc(n + 1, sizeof(char *));

	if (!k || !v)
		return err_errno(err, ENOMEM, "filter");
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(specs[i], '=');

		k[i] = trimmed(specs[i], eq);
		v[i] = trimmed(eq + 1, eq + 1 + strlen(eq + 1));
		if (!k[i] || !v[i])
			return err_errno(err, ENOMEM, "filter");
		for (char *c = k[i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (known[j] && strcmp(k[i], known[j]))
			j++;
		if (!known[j])
			return err_set(err, EINVAL, "invalid filter '%s'", k[i]);
	}
	*keys = steal_ptr(k);
	*vals = steal_ptr(v);
	return 0;
}

/* ---- prune ---- */

bool cli_confirm(void)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char *s, *e;

	printf("Are you sure you want to continue? [y/N] ");
	fflush(stdout);
	if (getline(&line, &cap, stdin) <= 0)
		return false;
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	for (e = s + strlen(s);
	     e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t');)
		*--e = 0;
	return !strcmp(s, "y") || !strcmp(s, "Y");
}

void cli_print_deleted(const char *what, char *const *names)
{
	if (!names || !names[0])
		return;
	printf("Deleted %s:\n", what);
	for (size_t i = 0; names[i]; i++)
		printf("%s\n", names[i]);
	printf("\n");
}

bool cli_prune_flags(int argc, char **argv, const char *verb, unsigned takes, const char *usage,
		     struct cli_prune_flags *f, int *status)
{
	/* Only the flags the verb takes are known to getopt_long, so any
	 * other is refused as unknown, and abbreviations resolve as they
	 * would in a table of the verb's own. */
	static const struct option force = {"force", no_argument, NULL, 'f'},
				   filter = {"filter", required_argument, NULL, 'F'},
				   help = {"help", no_argument, NULL, 'h'},
				   all = {"all", no_argument, NULL, 'a'},
				   volumes = {"volumes", no_argument, NULL, 'V'};
	struct option opts[6] = {{0}};
	size_t no = 0;
	struct err *err = NULL;
	int c;

	memset(f, 0, sizeof(*f));
	*status = 125;
	if (takes & CLI_PRUNE_ALL)
		opts[no++] = all;
	opts[no++] = force;
	opts[no++] = filter;
	if (takes & CLI_PRUNE_VOLUMES)
		opts[no++] = volumes;
	opts[no++] = help;
	if (!(f->specs = calloc((size_t)argc + 1, sizeof(char *)))) {
		err_errno(&err, ENOMEM, "%s", verb);
		*status = cli_fail(&err);
		return false;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, takes & CLI_PRUNE_ALL ? ":af" : ":f", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'a':
			f->all = true;
			break;
		case 'f':
			f->force = true;
			break;
		case 'F':
			f->specs[f->nspecs++] = optarg;
			break;
		case 'V':
			f->volumes = true;
			break;
		case 'h':
			printf("%s", usage);
			*status = 0;
			goto done;
		default:
			*status = cli_bad_flag(argv, c);
			goto done;
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"%s\" accepts no arguments", verb);
		*status = cli_fail(&err);
		goto done;
	}
	return true;
done:
	free(f->specs);
	f->specs = NULL;
	return false;
}

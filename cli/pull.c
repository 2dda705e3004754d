/*
 * cli/pull.c - `moat pull` and `moat push`: Docker's flags and output over
 * image_store_pull / image_store_push, with this invocation's registry
 * options (credentials, insecure registries, CA directories).
 *
 * Runs as: the invoking user or root. The store is opened for the
 * identity engine_store_open() picks, so the layers a pull extracts are
 * the ones a later `run` by the same identity uses.
 *
 * Audit: the log is opened before the store or the registry is touched
 * (fail-closed: no log, no pull and no push), and the outcome - what was
 * pulled or pushed, with its digest, or why nothing was - is recorded
 * after ("image.pull", "image.push").
 *
 * TLS: verified by default; plain HTTP or an unverified certificate only
 * for a registry listed insecure in moat's registries configuration, or
 * with --tls-verify=false (podman's spelling); --tls-verify=true forces
 * verification even for a listed one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/engine.h"
#include "image/credentials.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/regconf.h"
#include "image/registry.h"

static void store_closep(struct image_store **s)
{
	image_store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

/* What one pull or push needs to talk to the registry of REF. */
struct regsetup {
	struct regconf *conf;
	struct registry_creds creds;
	struct registry_opts ro;
};

static void regsetup_clear(struct regsetup *rs)
{
	registry_creds_clear(&rs->creds);
	regconf_free(rs->conf);
	memset(rs, 0, sizeof(*rs));
}

/* --tls-verify[=BOOL]: 1 or 0; -1 when absent. */
static int parse_tls_verify(const char *arg, int *out, struct err **err)
{
	if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1") || !strcmp(arg, "t") ||
	    !strcmp(arg, "TRUE") || !strcmp(arg, "True"))
		*out = 1;
	else if (!strcmp(arg, "false") || !strcmp(arg, "0") || !strcmp(arg, "f") ||
		 !strcmp(arg, "FALSE") || !strcmp(arg, "False"))
		*out = 0;
	else
		return err_set(err, EINVAL,
			       "invalid argument \"%s\" for \"--tls-verify\" flag: "
			       "strconv.ParseBool: parsing \"%s\": invalid syntax",
			       arg, arg);
	return 0;
}

static int reg_setup(const char *ref, int tls_verify, struct regsetup *rs, struct err **err)
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

/* "docker.io/library/busybox:latest": what Docker prints last. */
static char *full_name(const char *ref)
{
	struct image_reference r = {0};
	struct err *e = NULL;
	char *s;

	if (image_reference_parse(ref, &r, &e) < 0) {
		err_free(&e);
		return strdup(ref);
	}
	s = image_reference_string(&r);
	image_reference_clear(&r);
	return s;
}

int cmd_pull(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"platform", required_argument, NULL, 'P'},
	    {"tls-verify", optional_argument, NULL, 'T'},
	    {"all-tags", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	_cleanup_free_ char *id = NULL, *full = NULL;
	struct audit_log *alog = NULL;
	struct audit_event *ev = NULL;
	struct regsetup rs = {0};
	struct err *err = NULL;
	struct image_pull_opts po = {0};
	char digest[72] = "";
	bool quiet = false;
	int c, tls = -1, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qa", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'P':
			po.platform = optarg;
			break;
		case 'T':
			if (parse_tls_verify(optarg, &tls, &err) < 0)
				return cli_fail(&err);
			break;
		case 'a':
			err_set(&err, ENOTSUP, "pull --all-tags is not supported");
			return cli_fail(&err);
		case 'h':
			printf("Usage: moat pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
			       "Download an image from a registry\n\nOptions:\n"
			       "      --platform string   Set platform if server is multi-platform "
			       "capable\n"
			       "  -q, --quiet             Suppress verbose output\n"
			       "      --tls-verify        Require HTTPS and verify certificates "
			       "(default: true unless the registry is listed insecure)\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"pull\" requires exactly 1 argument");
		return cli_fail(&err);
	}
	if (po.platform) {
		struct image_platform p;
		if (image_platform_parse(po.platform, &p, &err) < 0)
			return cli_fail(&err);
		image_platform_clear(&p);
	}
	if (reg_setup(argv[optind], tls, &rs, &err) < 0)
		return cli_fail(&err);
	po.reg = &rs.ro;
	po.progress = quiet ? NULL : stdout;
	po.digest = digest;
	full = full_name(argv[optind]);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		regsetup_clear(&rs);
		return cli_fail(&err);
	}
	ev = audit_event_new("image.pull");
	if (ev)
		audit_event_str(ev, "reference", full ? full : argv[optind]);
	if (ev && po.platform)
		audit_event_str(ev, "platform", po.platform);
	r = cli_store_open(ctx, &s, &err);
	if (r == 0)
		r = image_store_pull(s, argv[optind], &po, &id, &err);
	regsetup_clear(&rs);
	if (r < 0) {
		cli_audit_finish(alog, ev, err);
		return cli_fail(&err);
	}
	if (ev) {
		audit_event_str(ev, "id", id);
		audit_event_str(ev, "digest", digest);
	}
	/* Docker's last line: the full reference, which resolves to the
	 * image, a pull by digest included (through its repo digest). */
	printf("%s\n", full ? full : argv[optind]);
	fflush(stdout);
	return cli_audit_finish(alog, ev, NULL);
}

int cmd_push(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"tls-verify", optional_argument, NULL, 'T'},
	    {"all-tags", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	_cleanup_free_ char *full = NULL;
	struct audit_log *alog = NULL;
	struct audit_event *ev = NULL;
	struct regsetup rs = {0};
	struct err *err = NULL;
	struct image_push_opts po = {0};
	const char *src, *dest;
	char digest[72] = "";
	bool quiet = false;
	int c, tls = -1, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qa", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'T':
			if (parse_tls_verify(optarg, &tls, &err) < 0)
				return cli_fail(&err);
			break;
		case 'a':
			err_set(&err, ENOTSUP, "push --all-tags is not supported");
			return cli_fail(&err);
		case 'h':
			printf("Usage: moat push [OPTIONS] NAME[:TAG] [DESTINATION]\n\n"
			       "Upload an image to a registry\n\nOptions:\n"
			       "  -q, --quiet             Suppress verbose output\n"
			       "      --tls-verify        Require HTTPS and verify certificates "
			       "(default: true unless the registry is listed insecure)\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		err_set(&err, EINVAL, "\"push\" requires 1 or 2 arguments");
		return cli_fail(&err);
	}
	src = argv[optind];
	dest = argc - optind == 2 ? argv[optind + 1] : src;
	if (!strncmp(dest, "docker://", 9))
		dest += 9;
	if (reg_setup(dest, tls, &rs, &err) < 0)
		return cli_fail(&err);
	po.reg = &rs.ro;
	po.progress = quiet ? NULL : stdout;
	full = full_name(dest);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		regsetup_clear(&rs);
		return cli_fail(&err);
	}
	ev = audit_event_new("image.push");
	if (ev) {
		audit_event_str(ev, "image", src);
		audit_event_str(ev, "destination", full ? full : dest);
	}
	r = cli_store_open(ctx, &s, &err);
	if (r == 0)
		r = image_store_push(s, src, dest, &po, digest, &err);
	regsetup_clear(&rs);
	if (r < 0) {
		cli_audit_finish(alog, ev, err);
		return cli_fail(&err);
	}
	if (ev)
		audit_event_str(ev, "digest", digest);
	if (quiet)
		printf("%s\n", full ? full : dest);
	fflush(stdout);
	return cli_audit_finish(alog, ev, NULL);
}

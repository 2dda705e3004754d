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
#include "engine/events.h"
#include "engine/trust.h"
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

/* The trust decision of one pull (image_pull_opts.verify). It is written
 * to the audit log there, before anything is fetched or staged: a log that
 * cannot take it stops the pull (fail-closed) with nothing stored. */
struct pull_trust {
	struct trust_policy *p;
	const char *source;
	struct audit_log *alog;
	struct engine_trust_report rep;
	bool audit_failed; /* the log refused: its message is the error */
};

static int pull_verify(void *arg, struct registry *reg, const char *top, const char *manifest,
		       struct image_trust **t, size_t *n, struct err **err)
{
	struct pull_trust *pt = arg;
	struct err *ae = NULL;
	int r;

	r = engine_trust_verify_registry(pt->p, reg, pt->source, top, manifest, &pt->rep, t, n,
					 err);
	if (r < 0 && !pt->rep.reason[0])
		snprintf(pt->rep.reason, sizeof(pt->rep.reason), "%.700s", (*err)->msg);
	if (engine_audit(
		pt->alog,
		engine_trust_event("pull", pt->source, top, r == 0, pt->rep.reason, pt->rep.keys),
		&ae) < 0) {
		pt->audit_failed = true;
		image_trust_free(*t, *n);
		*t = NULL;
		*n = 0;
		err_free(err);
		*err = ae;
		return err_ret(ae);
	}
	return r < 0 ? err_prefix(err, "%s", pt->source) : 0;
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
	struct cli_regsetup rs = {0};
	struct err *err = NULL;
	struct image_pull_opts po = {0};
	struct pull_trust pt = {0};
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
			if (cli_parse_tls_verify(optarg, &tls, &err) < 0)
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
	/* The policy first: one that cannot be read stops everything. */
	if (engine_trust_policy_load(ctx->trust_policy, &pt.p, NULL, &err) < 0)
		return cli_fail(&err);
	if (cli_reg_setup(argv[optind], tls, &rs, &err) < 0) {
		trust_policy_free(pt.p);
		return cli_fail(&err);
	}
	po.reg = &rs.ro;
	po.progress = quiet ? NULL : stdout;
	po.digest = digest;
	full = full_name(argv[optind]);
	pt.source = full ? full : argv[optind];
	po.verify = pull_verify;
	po.verify_arg = &pt;
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		cli_regsetup_clear(&rs);
		trust_policy_free(pt.p);
		return cli_fail(&err);
	}
	pt.alog = alog;
	ev = audit_event_new("image.pull");
	if (ev)
		audit_event_str(ev, "reference", full ? full : argv[optind]);
	if (ev && po.platform)
		audit_event_str(ev, "platform", po.platform);
	r = cli_store_open(ctx, &s, &err);
	if (r == 0)
		r = image_store_pull(s, argv[optind], &po, &id, &err);
	cli_regsetup_clear(&rs);
	trust_policy_free(pt.p);
	engine_trust_report_clear(&pt.rep);
	if (r < 0) {
		if (pt.audit_failed) {
			/* The log is what failed: one message, no second try. */
			audit_event_free(ev);
			audit_close(alog);
		} else {
			cli_audit_finish(alog, ev, err);
		}
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
	    {"quiet", no_argument, NULL, 'q'},	  {"tls-verify", optional_argument, NULL, 'T'},
	    {"all-tags", no_argument, NULL, 'a'}, {"sign-key", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	_cleanup_free_ char *full = NULL;
	struct audit_log *alog = NULL;
	struct audit_event *ev = NULL;
	struct cli_regsetup rs = {0};
	struct err *err = NULL;
	struct image_push_opts po = {0};
	const char *src, *dest, *sign_key = NULL;
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
			if (cli_parse_tls_verify(optarg, &tls, &err) < 0)
				return cli_fail(&err);
			break;
		case 'S':
			sign_key = optarg;
			break;
		case 'a':
			err_set(&err, ENOTSUP, "push --all-tags is not supported");
			return cli_fail(&err);
		case 'h':
			printf("Usage: moat push [OPTIONS] NAME[:TAG] [DESTINATION]\n\n"
			       "Upload an image to a registry\n\nOptions:\n"
			       "  -q, --quiet             Suppress verbose output\n"
			       "      --sign-key KEY      Sign the pushed image with KEY\n"
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
	if (cli_reg_setup(dest, tls, &rs, &err) < 0)
		return cli_fail(&err);
	po.reg = &rs.ro;
	po.progress = quiet ? NULL : stdout;
	full = full_name(dest);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		cli_regsetup_clear(&rs);
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
	cli_regsetup_clear(&rs);
	if (r < 0) {
		cli_audit_finish(alog, ev, err);
		return cli_fail(&err);
	}
	if (ev)
		audit_event_str(ev, "digest", digest);
	if (sign_key && cli_sign_pushed(ctx, dest, tls, sign_key, digest, &err) < 0) {
		err_prefix(&err, "pushed %s, but signing failed", full ? full : dest);
		cli_audit_finish(alog, ev, err);
		return cli_fail(&err);
	}
	if (ev && sign_key)
		audit_event_str(ev, "signed_with", sign_key);
	if (quiet)
		printf("%s\n", full ? full : dest);
	fflush(stdout);
	return cli_audit_finish(alog, ev, NULL);
}

/*
 * cli/audit.c - `moat audit verify` and `moat audit show`: checking and
 * reading the hash-chained audit log (audit/audit.h).
 *
 * Runs as: the invoking user or root, reading ctx->audit_log and the
 * checkpoint key beside it (engine_audit_checkpoint_key); it writes nothing.
 *
 * Exit status, like diff(1) for verify: 0 intact, 1 a broken link (printed
 * on stdout), 125 moat could not check (printed as "moat: ..." on stderr).
 * Text output escapes every control character: record fields come from
 * container names, images and argv, which an attacker may choose.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/events.h"
#include "image/image.h"

static const char usage_text[] =
    "Usage: moat audit verify [--key FILE] [FILE...]\n"
    "       moat audit show [--since TIME] [--until TIME] [--event PATTERN]\n"
    "                       [--container ID] [--image REF] [--uid N] [--format text|json]\n"
    "\n"
    "verify  checks the chain of the audit log (or of FILE..., oldest first) and its\n"
    "        checkpoint; exits 0 when intact, 1 with the first broken link\n"
    "  --key FILE        the log's HMAC key (a keyed log)\n"
    "show    prints records oldest first\n"
    "  --since, --until  RFC 3339 time or date, both inclusive\n"
    "  --event PATTERN   event name or shell pattern (\"container.*\")\n"
    "  --container ID    container id or id prefix\n"
    "  --image REF       image reference\n"
    "  --uid N           the invoking uid\n"
    "  --format          text (one line per record) or json (the records as stored)\n";

/* The log and checkpoint key this invocation's identity uses. */
static int log_opts(struct cli_ctx *ctx, struct audit_opts *o, char **ckey, struct err **err)
{
	if (!ctx->audit_log || !*ctx->audit_log)
		return err_set(err, EINVAL,
			       "no audit log configured (--audit-log or MOAT_AUDIT_LOG)");
	if (engine_audit_checkpoint_key(ctx->audit_log, ckey) < 0)
		return err_set(err, ENOMEM, "out of memory");
	o->path = ctx->audit_log;
	o->checkpoint_key_path = *ckey;
	return 0;
}

static int audit_cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char *ckey = NULL;
	struct audit_opts o = {0};
	struct err *err = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	o.hmac_key_path = ctx->audit_key; /* --audit-key / MOAT_AUDIT_KEY */
	while ((c = getopt_long(argc, argv, ":k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.hmac_key_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (log_opts(ctx, &o, &ckey, &err) < 0)
		return cli_fail(&err);
	r = audit_verify(argv + optind, (size_t)(argc - optind), &o, stdout, &err);
	if (r == -EBADMSG) {
		err_free(&err);
		return 1;
	}
	return r < 0 ? cli_fail(&err) : 0;
}

struct show {
	bool json;
	bool since_set, until_set;
	struct timespec since, until;
	const char *event, *container, *image;
	char *image_key;
	bool uid_set;
	int64_t uid;
};

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return (a->tv_nsec > b->tv_nsec) - (a->tv_nsec < b->tv_nsec);
}

/* The comparable form of an image reference: normalised when it can be
 * ("alpine" -> "alpine:latest"), without Docker Hub's implied prefixes. */
static char *image_key(const char *ref)
{
	static const char *const hub[] = {"docker.io/library/", "docker.io/"};
	struct err *err = NULL;
	char *norm = NULL;

	if (image_ref_normalize(ref, &norm, &err) < 0) {
		err_free(&err);
		norm = strdup(ref);
	}
	for (size_t i = 0; norm && i < ARRAY_SIZE(hub); i++)
		if (!strncmp(norm, hub[i], strlen(hub[i]))) {
			memmove(norm, norm + strlen(hub[i]), strlen(norm + strlen(hub[i])) + 1);
			break;
		}
	return norm;
}

static bool image_matches(const struct show *s, const char *image)
{
	_cleanup_free_ char *key = NULL;

	if (!image)
		return false;
	if (!strcmp(image, s->image))
		return true;
	key = image_key(image);
	return key && s->image_key && !strcmp(key, s->image_key);
}

static bool wanted(const struct show *s, const struct audit_record *r)
{
	const char *v;

	if (s->since_set && ts_cmp(&r->when, &s->since) < 0)
		return false;
	if (s->until_set && ts_cmp(&r->when, &s->until) > 0)
		return false;
	if (s->event && fnmatch(s->event, r->event, 0) != 0)
		return false;
	if (s->uid_set && r->uid != s->uid)
		return false;
	if (s->container && (!(v = audit_record_str(r, "container")) ||
			     strncmp(v, s->container, strlen(s->container))))
		return false;
	if (s->image && !image_matches(s, audit_record_str(r, "image")))
		return false;
	return true;
}

/* Prints V bare when it is plain printable ASCII, else quoted with every
 * control character (C0, DEL, C1) escaped, so that a field cannot move the
 * cursor, fake a line or recolour the terminal. */
static void put_value(const char *v, bool json)
{
	const unsigned char *p = (const unsigned char *)v;
	bool plain = *p != 0;

	/* JSON text (arrays, objects) is ASCII with its controls escaped by
	 * the decoder already, DEL aside. */
	for (; *p; p++)
		if (json ? *p < ' ' || *p >= 0x7f
			 : *p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			plain = false;
	if (plain) {
		fputs(v, stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < ' ' || *p == 0x7f)
			printf("\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			printf("\\u%04x", p[1]);
			p++;
		} else
			putchar(*p);
	}
	putchar('"');
}

static int show_one(const struct audit_record *r, const char *line, size_t len, void *arg)
{
	const struct show *s = arg;

	if (!wanted(s, r))
		return 0;
	if (s->json) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
		return 0;
	}
	printf("%s  seq=%" PRIu64 "  %s  uid=%" PRId64, r->time, r->seq, r->event, r->uid);
	for (size_t i = 0; i < r->n_fields; i++) {
		printf(" ");
		put_value(r->fields[i].key, false);
		printf("=");
		put_value(r->fields[i].text, r->fields[i].type == AUDIT_FIELD_STRV ||
						 r->fields[i].type == AUDIT_FIELD_OBJ);
	}
	if (r->gap)
		printf(" audit_gap=true");
	putchar('\n');
	return 0;
}

static int parse_time(const char *flag, const char *v, struct timespec *ts, bool *set,
		      struct err **err)
{
	if (audit_time_parse(v, ts, err) < 0)
		return err_prefix(err, "%s", flag);
	*set = true;
	return 0;
}

static int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"event", required_argument, NULL, 'e'},
	    {"container", required_argument, NULL, 'c'},
	    {"image", required_argument, NULL, 'i'},
	    {"uid", required_argument, NULL, 'U'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char *ckey = NULL, *key = NULL;
	struct audit_opts o = {0};
	struct show s = {0};
	struct err *err = NULL;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_time("--since", optarg, &s.since, &s.since_set, &err) < 0)
				return cli_fail(&err);
			break;
		case 'u':
			if (parse_time("--until", optarg, &s.until, &s.until_set, &err) < 0)
				return cli_fail(&err);
			break;
		case 'e':
			s.event = optarg;
			break;
		case 'c':
			s.container = optarg;
			break;
		case 'i':
			s.image = optarg;
			break;
		case 'U':
			errno = 0;
			s.uid = strtoll(optarg, &end, 10);
			if (errno || !*optarg || *end || s.uid < 0) {
				err_set(&err, EINVAL, "--uid: \"%s\" is not a uid", optarg);
				return cli_fail(&err);
			}
			s.uid_set = true;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				err_set(&err, EINVAL, "--format: \"%s\" is not text or json",
					optarg);
				return cli_fail(&err);
			}
			s.json = !strcmp(optarg, "json");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"audit show\" accepts no arguments");
		return cli_fail(&err);
	}
	if (s.image && !(key = image_key(s.image))) {
		err_set(&err, ENOMEM, "out of memory");
		return cli_fail(&err);
	}
	s.image_key = key;
	if (log_opts(ctx, &o, &ckey, &err) < 0 || audit_scan(NULL, 0, &o, show_one, &s, &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return 125;
	}
	if (!strcmp(argv[1], "verify"))
		return audit_cmd_verify(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return cmd_show(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	err_set(&err, EINVAL, "unknown audit command \"%s\" (verify or show)", argv[1]);
	return cli_fail(&err);
}

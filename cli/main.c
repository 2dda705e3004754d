/*
 * cli/main.c - moat's entry point: global options, state locations, and
 * the verb table.
 *
 * Runs as: the invoking user (rootless) or root. Never setuid.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/options.h"
#include "common/fs.h"
#include "engine/events.h"

#define MOAT_VERSION "0.1.0"

static const struct verb {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
	const char *help;
} verbs[] = {
    {"run", cmd_run, "Create and run a new container from an image"},
    {"create", cmd_create, "Create a new container"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"ps", cmd_ps, "List containers"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"attach", cmd_attach, "Attach to a running container's input and output"},
    {"inspect", cmd_inspect, "Return low-level information on containers and images"},
    {"wait", cmd_wait, "Block until containers stop, then print their exit codes"},
    {"rename", cmd_rename, "Rename a container"},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"port", cmd_port, "List port mappings of a container"},
    {"diff", cmd_diff, "Inspect changes to files on a container's filesystem"},
    {"commit", cmd_commit, "Create a new image from a container's changes"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"stats", cmd_stats, "Display resource usage statistics of containers"},
    {"container", cmd_container, "Manage containers (container prune, container ls, ...)"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"push", cmd_push, "Upload an image to a registry"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"save", cmd_save, "Save one or more images to a tar archive"},
    {"history", cmd_history, "Show the history of an image"},
    {"image", cmd_image, "Manage images"},
    {"login", cmd_login, "Log in to a registry"},
    {"logout", cmd_logout, "Log out from a registry"},
    {"images", cmd_images, "List images"},
    {"system", cmd_system, "Manage moat (system prune)"},
    {"volume", cmd_volume, "Manage volumes"},
    {"network", cmd_network, "Manage networks"},
    {"policy", cmd_policy, "Show the tenant policy, or check an invocation against it"},
    {"load", cmd_load, "Load an image from an OCI layout or docker-save tar"},
    {"rmi", cmd_rmi, "Remove images"},
    {"sign", cmd_sign, "Sign an image in a registry (cosign format)"},
    {"verify", cmd_verify, "Check an image's signatures against the trust policy"},
    {"key", cmd_key, "Generate a signing key pair"},
    {"trust", cmd_trust, "Show or edit the image trust policy"},
    {"demo-image", cmd_demo_image, "Build the demo image from the host's busybox-static"},
    {"info", cmd_info, "Show state locations, identity and kernel features"},
    {"audit", cmd_audit, "Verify or show the tamper-evident audit log"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: moat [--root DIR] [--runroot DIR] COMMAND [ARG...]\n\n"
		   "A hardened, rootless container engine.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-11s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR     persistent state (env MOAT_ROOT)\n"
		   "  --runroot DIR  runtime state (env MOAT_RUNROOT)\n"
		   "  --audit-log FILE  the audit log (env MOAT_AUDIT_LOG)\n"
		   "  --audit-key FILE  HMAC key: keyed audit records (env MOAT_AUDIT_KEY)\n"
		   "  --audit-fail-open run even when the audit log cannot be written\n"
		   "                    (env MOAT_AUDIT_FAIL_OPEN=1; recorded as a gap)\n"
		   "  --audit-syslog    also send each audit record to syslog (LOG_AUTHPRIV;\n"
		   "                    env MOAT_AUDIT_SYSLOG=1)\n"
		   "  --audit-rotate SIZE  rotate the audit log past SIZE (e.g. 10m), the chain\n"
		   "                    continuing across files (env MOAT_AUDIT_ROTATE)\n"
		   "  --audit-keep N    rotated audit files kept (default 5; env MOAT_AUDIT_KEEP)\n"
		   "  --policy FILE     use FILE as the whole tenant policy (env MOAT_POLICY)\n"
		   "  --tenant NAME     the tenant this invocation runs as (env MOAT_TENANT)\n"
		   "  --trust-policy FILE  use FILE as the whole trust policy, instead of\n"
		   "                    /etc/moat/trust-policy.json and the user's file\n"
		   "                    (env MOAT_TRUST_POLICY)\n"
		   "  --version      print the version\n");
}

/* Defaults from design.md "State": root uses /var/lib/moat and /run/moat;
 * a user uses $XDG_DATA_HOME/moat and $XDG_RUNTIME_DIR/moat. */
static int default_paths(struct cli_ctx *ctx, struct err **err)
{
	const char *home = getenv("HOME"), *x;

	if (!ctx->root) {
		if (!ctx->rootless) {
			ctx->root = strdup("/var/lib/moat");
		} else if ((x = getenv("XDG_DATA_HOME")) && *x == '/') {
			if (asprintf(&ctx->root, "%s/moat", x) < 0)
				ctx->root = NULL;
		} else if (home && *home == '/') {
			if (asprintf(&ctx->root, "%s/.local/share/moat", home) < 0)
				ctx->root = NULL;
		} else {
			return err_set(
			    err, EINVAL,
			    "cannot choose a state directory: set HOME, XDG_DATA_HOME or --root");
		}
	}
	if (!ctx->runroot) {
		if (!ctx->rootless) {
			ctx->runroot = strdup("/run/moat");
		} else if ((x = getenv("XDG_RUNTIME_DIR")) && *x == '/') {
			if (asprintf(&ctx->runroot, "%s/moat", x) < 0)
				ctx->runroot = NULL;
		} else {
			/* No login session (su, cron): a private dir in /tmp,
			 * checked to be ours so nobody can plant it first. */
			struct stat st;
			if (asprintf(&ctx->runroot, "/tmp/moat-run-%u", (unsigned)ctx->uid) < 0)
				ctx->runroot = NULL;
			else if (mkdir(ctx->runroot, 0700) < 0 && errno != EEXIST)
				return err_errno(err, errno, "create \"%s\"", ctx->runroot);
			else if (lstat(ctx->runroot, &st) < 0 || !S_ISDIR(st.st_mode) ||
				 st.st_uid != ctx->uid || (st.st_mode & 077))
				return err_set(err, EPERM,
					       "\"%s\" is not a private directory of uid %u: set "
					       "XDG_RUNTIME_DIR or --runroot",
					       ctx->runroot, (unsigned)ctx->uid);
		}
	}
	if (!ctx->audit_log) {
		/* root: /var/log/moat/audit.log; a user: $XDG_STATE_HOME/moat or
		 * ~/.local/state/moat. */
		if (!ctx->rootless) {
			ctx->audit_log = strdup("/var/log/moat/audit.log");
		} else if ((x = getenv("XDG_STATE_HOME")) && *x == '/') {
			if (asprintf(&ctx->audit_log, "%s/moat/audit.log", x) < 0)
				ctx->audit_log = NULL;
		} else if (home && *home == '/') {
			if (asprintf(&ctx->audit_log, "%s/.local/state/moat/audit.log", home) < 0)
				ctx->audit_log = NULL;
		} else {
			return err_set(
			    err, EINVAL,
			    "cannot choose an audit log: set HOME, XDG_STATE_HOME or --audit-log");
		}
	}
	if (!ctx->root || !ctx->runroot || !ctx->audit_log)
		return err_errno(err, ENOMEM, "state paths");
	if (ctx->root[0] != '/' || ctx->runroot[0] != '/' || ctx->audit_log[0] != '/')
		return err_set(err, EINVAL,
			       "--root, --runroot and --audit-log must be absolute paths");
	if (fs_mkdir_p(ctx->root, 0700, err) < 0 || fs_mkdir_p(ctx->runroot, 0700, err) < 0)
		return err_ret(*err);
	return 0;
}

/* --audit-rotate SIZE and --audit-keep N, checked once here. */
static int audit_switches_check(const struct cli_ctx *ctx, struct err **err)
{
	uint64_t size = 0;
	char *end = NULL;
	unsigned long keep;

	if (ctx->audit_rotate &&
	    (options_size_parse(ctx->audit_rotate, &size, err) < 0 || size < 4096))
		return *err ? err_prefix(err, "--audit-rotate")
			    : err_set(err, EINVAL, "--audit-rotate: at least 4k");
	if (ctx->audit_keep) {
		errno = 0;
		keep = strtoul(ctx->audit_keep, &end, 10);
		if (errno || *end || !*ctx->audit_keep || keep < 1 || keep > 1000)
			return err_set(err, EINVAL, "--audit-keep \"%s\": expected 1-1000",
				       ctx->audit_keep);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	struct err *err = NULL;
	const char *e;
	int i, r;

	ctx.uid = getuid();
	ctx.gid = getgid();
	ctx.rootless = geteuid() != 0;
	if ((e = getenv("MOAT_ROOT")) && *e)
		ctx.root = strdup(e);
	if ((e = getenv("MOAT_RUNROOT")) && *e)
		ctx.runroot = strdup(e);
	if ((e = getenv("MOAT_AUDIT_LOG")) && *e)
		ctx.audit_log = strdup(e);
	if ((e = getenv("MOAT_AUDIT_KEY")) && *e)
		ctx.audit_key = strdup(e);
	if ((e = getenv("MOAT_TRUST_POLICY")) && *e)
		ctx.trust_policy = strdup(e);
	if ((e = getenv("MOAT_POLICY")) && *e)
		ctx.tenant_policy = strdup(e);
	if ((e = getenv("MOAT_TENANT")) && *e)
		ctx.tenant = strdup(e);
	ctx.audit_syslog = (e = getenv("MOAT_AUDIT_SYSLOG")) && !strcmp(e, "1");
	if ((e = getenv("MOAT_AUDIT_ROTATE")) && *e)
		ctx.audit_rotate = strdup(e);
	if ((e = getenv("MOAT_AUDIT_KEEP")) && *e)
		ctx.audit_keep = strdup(e);
	ctx.audit_fail_open = (e = getenv("MOAT_AUDIT_FAIL_OPEN")) && !strcmp(e, "1");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		char **slot = NULL;
		const char *val = NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("moat version %s\n", MOAT_VERSION);
			return 0;
		}
		if (!strcmp(a, "--audit-fail-open")) {
			ctx.audit_fail_open = true;
			continue;
		}
		if (!strcmp(a, "--audit-syslog")) {
			ctx.audit_syslog = true;
			continue;
		}
		if (!strncmp(a, "--root", 6) && (a[6] == '=' || !a[6]))
			slot = &ctx.root;
		else if (!strncmp(a, "--runroot", 9) && (a[9] == '=' || !a[9]))
			slot = &ctx.runroot;
		else if (!strncmp(a, "--audit-log", 11) && (a[11] == '=' || !a[11]))
			slot = &ctx.audit_log;
		else if (!strncmp(a, "--audit-key", 11) && (a[11] == '=' || !a[11]))
			slot = &ctx.audit_key;
		else if (!strncmp(a, "--trust-policy", 14) && (a[14] == '=' || !a[14]))
			slot = &ctx.trust_policy;
		else if (!strncmp(a, "--policy", 8) && (a[8] == '=' || !a[8]))
			slot = &ctx.tenant_policy;
		else if (!strncmp(a, "--tenant", 8) && (a[8] == '=' || !a[8]))
			slot = &ctx.tenant;
		else if (!strncmp(a, "--audit-rotate", 14) && (a[14] == '=' || !a[14]))
			slot = &ctx.audit_rotate;
		else if (!strncmp(a, "--audit-keep", 12) && (a[12] == '=' || !a[12]))
			slot = &ctx.audit_keep;
		if (!slot) {
			err_set(&err, EINVAL, "unknown flag: %s", a);
			return cli_fail(&err);
		}
		val = strchr(a, '=');
		if (val)
			val++;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val || !*val) {
			err_set(&err, EINVAL, "flag needs an argument: %s", a);
			return cli_fail(&err);
		}
		free(*slot);
		*slot = strdup(val);
	}
	if (i >= argc) {
		usage(stderr);
		return 125;
	}
	if (audit_switches_check(&ctx, &err) < 0)
		return cli_fail(&err);
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[i], verbs[v].name) != 0)
			continue;
		if (default_paths(&ctx, &err) < 0)
			return cli_fail(&err);
		r = verbs[v].fn(&ctx, argc - i, argv + i);
		free(ctx.root);
		free(ctx.runroot);
		free(ctx.audit_log);
		free(ctx.audit_key);
		free(ctx.trust_policy);
		free(ctx.tenant_policy);
		free(ctx.tenant);
		free(ctx.audit_rotate);
		free(ctx.audit_keep);
		return r;
	}
	err_set(&err, EINVAL, "unknown command \"%s\" (see moat --help)", argv[i]);
	return cli_fail(&err);
}

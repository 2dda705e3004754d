/*
 * cli/login.c - `moat login` and `moat logout`: Docker's flags, prompts,
 * messages and exit statuses, over image/credentials.c (config.json and
 * credential helpers) and registry_ping.
 *
 * Runs as: the invoking user or root, in the foreground; it reads and
 * writes only that user's Docker config (or their credential helper).
 *
 * Invariants:
 *  - credentials are stored only after the registry accepted them;
 *  - a password is read from a terminal with echo off, from stdin with
 *    --password-stdin, or taken from -p (with Docker's warning); never
 *    prompted for when stdin is not a terminal;
 *  - secrets read here are wiped before they are freed;
 *  - usage errors exit 125; a login or logout that fails exits 1, as
 *    Docker's do; "Not logged in" is not a failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "image/credentials.h"
#include "image/reference.h"
#include "image/regconf.h"
#include "image/registry.h"

#define HUB_DOMAIN "docker.io"
#define HUB_HOST "registry-1.docker.io"
#define PASSWORD_STDIN_MAX (64u << 10)

static void wipe_freep(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
	}
}
#define _cleanup_wipe_ __attribute__((cleanup(wipe_freep)))

static void regconf_freep(struct regconf **c)
{
	regconf_free(*c);
}

static void registry_closep(struct registry **r)
{
	if (*r)
		registry_close(*r);
}

/* A failure of the login itself: Docker exits 1. */
static int fail1(struct err **err)
{
	if (*err)
		(*err)->exit = 1;
	return cli_fail(err);
}

/* The SERVER argument as Docker takes it: nothing, "docker.io" or one of
 * Hub's URLs mean Hub; "https://host:5000/v2/" means "host:5000". *DOMAIN
 * is what references call it ("docker.io", "localhost:5000"). */
static int server_domain(const char *arg, char **domain, struct err **err)
{
	const char *p = arg ? arg : HUB_DOMAIN, *s;
	size_t n;

	*domain = NULL;
	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	n = strcspn(p, "/");
	/* Only a path after the host, never userinfo or a query. */
	for (s = p + n; *s; s++)
		if (*s == '?' || *s == '#' || *s == '@')
			break;
	if (n == 0 || *s)
		return err_set(err, EINVAL, "invalid registry address \"%s\"", arg);
	*domain = strndup(p, n);
	if (!*domain)
		return err_errno(err, ENOMEM, "login");
	if (!strcasecmp(*domain, "index.docker.io") || !strcasecmp(*domain, HUB_HOST) ||
	    !strcasecmp(*domain, HUB_DOMAIN)) {
		strcpy(*domain, HUB_DOMAIN);
		return 0;
	}
	if (!image_reference_domain_valid(*domain)) {
		free(*domain);
		*domain = NULL;
		return err_set(err, EINVAL, "invalid registry address \"%s\"", arg);
	}
	return 0;
}

/* --tls-verify[=BOOL], Go's strconv.ParseBool spellings. */
static int parse_bool_flag(const char *arg, bool *out, struct err **err)
{
	static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};

	if (!arg) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
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
		       "invalid argument \"%s\" for \"--tls-verify\" flag: strconv.ParseBool: "
		       "parsing \"%s\": invalid syntax",
		       arg, arg);
}

/* One line from the terminal on stdin; ECHO off for a password. */
static int prompt(const char *label, bool secret, char **out, struct err **err)
{
	struct termios old, quiet;
	bool restore = false;
	size_t cap = 0;
	ssize_t n;

	*out = NULL;
	fputs(label, stdout);
	fflush(stdout);
	if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	n = getline(out, &cap, stdin);
	if (restore) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stdout);
	}
	if (n < 0) {
		wipe_freep(out);
		*out = NULL;
		return err_set(err, EIO, "%sno input", label);
	}
	(*out)[strcspn(*out, "\r\n")] = 0;
	return 0;
}

/* --password-stdin: all of stdin, less one trailing "\n" and then "\r". */
static int password_from_stdin(char **out, struct err **err)
{
	size_t len = 0;

	if (fs_read_fd(STDIN_FILENO, PASSWORD_STDIN_MAX, out, &len, err) < 0)
		return err_prefix(err, "--password-stdin");
	if (len && (*out)[len - 1] == '\n')
		(*out)[--len] = 0;
	if (len && (*out)[len - 1] == '\r')
		(*out)[--len] = 0;
	if (strlen(*out) != len)
		return err_set(err, EINVAL, "--password-stdin: the password contains a NUL byte");
	return 0;
}

static int ping(const char *host, const struct registry_opts *o, struct err **err)
{
	struct registry *r __attribute__((cleanup(registry_closep))) = NULL;

	if (registry_open(host, NULL, "pull", o, &r, err) < 0)
		return err_ret(*err);
	return registry_ping(r, err);
}

static int usage_login(FILE *f)
{
	fprintf(f, "Usage:  moat login [OPTIONS] [SERVER]\n\n"
		   "Log in to a registry (Docker Hub when SERVER is omitted).\n\n"
		   "Options:\n"
		   "  -p, --password string     Password\n"
		   "      --password-stdin      Take the password from stdin\n"
		   "      --tls-verify[=BOOL]   Verify TLS (default true, or false for a registry\n"
		   "                            listed as insecure in registries.json)\n"
		   "  -u, --username string     Username\n");
	return f == stdout ? 0 : 125;
}

int cmd_login(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"username", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"password-stdin", no_argument, NULL, 'S'},
	    {"tls-verify", optional_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct regconf *conf __attribute__((cleanup(regconf_freep))) = NULL;
	_cleanup_free_ char *domain = NULL, *user = NULL, *helper = NULL, *cfg = NULL;
	_cleanup_wipe_ char *pass = NULL;
	struct registry_creds stored = {0}, creds = {0};
	struct registry_opts o = {0};
	bool pass_stdin = false, tls_verify = true, tls_given = false, interactive;
	struct err *err = NULL;
	const char *host;
	int c, rc = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			free(user);
			user = strdup(optarg);
			break;
		case 'p':
			wipe_freep(&pass);
			pass = strdup(optarg);
			/* The argument stays visible in /proc/PID/cmdline. */
			explicit_bzero(optarg, strlen(optarg));
			break;
		case 'S':
			pass_stdin = true;
			break;
		case 'T':
			if (parse_bool_flag(optarg, &tls_verify, &err) < 0)
				return cli_fail(&err);
			tls_given = true;
			break;
		case 'h':
			return usage_login(stdout);
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind > 1) {
		err_set(&err, EINVAL, "\"moat login\" requires at most 1 argument");
		return cli_fail(&err);
	}
	if (pass) {
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
				"--password-stdin.\n");
		if (pass_stdin) {
			err_set(&err, EINVAL,
				"--password and --password-stdin are mutually exclusive");
			return cli_fail(&err);
		}
	}
	if (pass_stdin) {
		if (!user) {
			err_set(&err, EINVAL, "Must provide --username with --password-stdin");
			return cli_fail(&err);
		}
		if (password_from_stdin(&pass, &err) < 0)
			return cli_fail(&err);
	}
	if (server_domain(optind < argc ? argv[optind] : NULL, &domain, &err) < 0)
		return cli_fail(&err);
	host = strcmp(domain, HUB_DOMAIN) ? domain : HUB_HOST;

	if (regconf_load(&conf, &err) < 0)
		return cli_fail(&err);
	if (!tls_given)
		tls_verify = !(regconf_insecure(conf, domain) || regconf_insecure(conf, host));
	o.tls_verify = tls_verify;
	o.plain_http = !tls_verify;
	regconf_certs_dirs(conf, o.certs_dirs);

	/* No credentials given: what is stored may still be good (docker
	 * tries it before prompting). */
	if (!user && !pass) {
		if (credentials_get(domain, &stored, &err) < 0)
			return fail1(&err);
		if (stored.username || stored.identity_token) {
			o.creds = &stored;
			fprintf(stderr, "Authenticating with existing credentials...%s%s%s\n",
				stored.username ? " [Username: " : "",
				stored.username ? stored.username : "", stored.username ? "]" : "");
			if (ping(host, &o, &err) == 0) {
				registry_creds_clear(&stored);
				puts("Login Succeeded");
				return 0;
			}
			fprintf(stderr, "Login did not succeed, error: %s\n", err->msg);
			err_free(&err);
			o.creds = NULL;
		}
	}

	interactive = isatty(STDIN_FILENO) && !pass_stdin;
	if (!user || !*user) {
		_cleanup_free_ char *label = NULL;

		if (!interactive) {
			registry_creds_clear(&stored);
			err_set(&err, EINVAL,
				"Cannot perform an interactive login from a non TTY device");
			return fail1(&err);
		}
		if (stored.username && asprintf(&label, "Username (%s): ", stored.username) < 0)
			label = NULL;
		free(user);
		user = NULL;
		if (prompt(label ? label : "Username: ", false, &user, &err) < 0) {
			registry_creds_clear(&stored);
			return fail1(&err);
		}
		if (!*user && stored.username) {
			free(user);
			user = strdup(stored.username);
		}
	}
	registry_creds_clear(&stored);
	if (!user || !*user) {
		err_set(&err, EINVAL, "Error: Non-null Username Required");
		return fail1(&err);
	}
	if (!pass) {
		if (!interactive) {
			err_set(&err, EINVAL,
				"Cannot perform an interactive login from a non TTY device");
			return fail1(&err);
		}
		if (prompt("Password: ", true, &pass, &err) < 0)
			return fail1(&err);
	}
	if (!*pass) {
		err_set(&err, EINVAL, "Error: Password Required");
		return fail1(&err);
	}

	creds.username = user;
	creds.password = pass;
	o.creds = &creds;
	if (ping(host, &o, &err) < 0)
		return fail1(&err);
	if (credentials_helper_for(domain, &helper, &err) < 0)
		return fail1(&err);
	if (credentials_store(domain, &creds, &err) < 0) {
		err_prefix(&err, "Error saving credentials");
		return fail1(&err);
	}
	if (!helper && credentials_config_path(&cfg, &err) == 0)
		fprintf(stderr,
			"WARNING! Your password will be stored unencrypted in %s.\n"
			"Configure a credential helper to remove this warning.\n",
			cfg);
	err_free(&err);
	puts("Login Succeeded");
	(void)ctx;
	return rc;
}

int cmd_logout(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char *domain = NULL;
	struct err *err = NULL;
	const char *key;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			puts("Usage:  moat logout [SERVER]\n\n"
			     "Log out from a registry (Docker Hub when SERVER is omitted).");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind > 1) {
		err_set(&err, EINVAL, "\"moat logout\" requires at most 1 argument");
		return cli_fail(&err);
	}
	if (server_domain(optind < argc ? argv[optind] : NULL, &domain, &err) < 0)
		return cli_fail(&err);
	key = credentials_key(domain);
	r = credentials_erase(domain, &err);
	if (r == -ENOKEY) {
		err_free(&err);
		printf("Not logged in to %s\n", key);
		return 0;
	}
	if (r < 0) {
		err_prefix(&err, "could not erase credentials for %s", key);
		return fail1(&err);
	}
	printf("Removing login credentials for %s\n", key);
	(void)ctx;
	return 0;
}

/*
 * tests/unit/test_credentials.c - image/credentials.c: the config.json
 * decoder (inline auth, helpers and their precedence, Hub's key forms),
 * the helper reply decoder, store/erase on a temporary DOCKER_CONFIG, and
 * the helper protocol against a fake docker-credential-moattest in a
 * temporary PATH directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "common/fs.h"
#include "image/credentials.h"

#define HUB "https://index.docker.io/v1/"

/* ---- pure decoding ---- */

struct dcase {
	const char *json, *key;
	int rc;
	const char *user, *pass, *token, *helper, *errmsg;
};

static const struct dcase dcases[] = {
    /* base64 "user:pass" */
    {"{\"auths\":{\"localhost:5000\":{\"auth\":\"dXNlcjpwYXNz\"}}}", "localhost:5000", 0, "user",
     "pass", NULL, NULL, NULL},
    /* the password keeps its own colons */
    {"{\"auths\":{\"r.io\":{\"auth\":\"dTpwOmE6c3M=\"}}}", "r.io", 0, "u", "p:a:ss", NULL, NULL,
     NULL},
    /* unpadded base64 is accepted too; CR/LF inside are ignored */
    {"{\"auths\":{\"r.io\":{\"auth\":\"dTpwOmE6c3M\"}}}", "r.io", 0, "u", "p:a:ss", NULL, NULL,
     NULL},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dXNl\\r\\ncjpwYXNz\"}}}", "r.io", 0, "user", "pass", NULL,
     NULL, NULL},
    /* empty password; NULs around the password are trimmed ("u:\0p\0") */
    {"{\"auths\":{\"r.io\":{\"auth\":\"dTo=\"}}}", "r.io", 0, "u", "", NULL, NULL, NULL},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dToAcAA=\"}}}", "r.io", 0, "u", "p", NULL, NULL, NULL},
    /* bad base64, no colon, empty user, NUL inside */
    {"{\"auths\":{\"r.io\":{\"auth\":\"!!!!\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "config.json: auths[\"r.io\"]: \"auth\" is not valid base64"},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dXNlcg==x\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "not valid base64"},
    {"{\"auths\":{\"r.io\":{\"auth\":\"d\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "not valid base64"},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dXNlcg==\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "config.json: auths[\"r.io\"]: \"auth\" is not \"user:password\""},
    {"{\"auths\":{\"r.io\":{\"auth\":\"OnBhc3M=\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "is not \"user:password\""},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dQB4OnA=\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "contains a NUL byte"},
    /* a broken entry for another registry does not matter */
    {"{\"auths\":{\"x.io\":{\"auth\":\"!!\"},\"r.io\":{\"auth\":\"dTpw\"}}}", "r.io", 0, "u", "p",
     NULL, NULL, NULL},
    /* username/password fields; "auth" wins over them */
    {"{\"auths\":{\"r.io\":{\"username\":\"a\",\"password\":\"b\"}}}", "r.io", 0, "a", "b", NULL,
     NULL, NULL},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dTpw\",\"username\":\"a\",\"password\":\"b\"}}}", "r.io", 0,
     "u", "p", NULL, NULL, NULL},
    {"{\"auths\":{\"r.io\":{\"auth\":\"\",\"username\":\"a\",\"password\":\"b\"}}}", "r.io", 0, "a",
     "b", NULL, NULL, NULL},
    /* identity tokens, alone or with auth */
    {"{\"auths\":{\"r.io\":{\"identitytoken\":\"tok\"}}}", "r.io", 0, NULL, NULL, "tok", NULL,
     NULL},
    {"{\"auths\":{\"r.io\":{\"auth\":\"dTpw\",\"identitytoken\":\"tok\"}}}", "r.io", 0, "u", "p",
     "tok", NULL, NULL},
    /* nothing for the key, no file content, empty entry */
    {"{\"auths\":{\"x.io\":{\"auth\":\"dTpw\"}}}", "r.io", 0, NULL, NULL, NULL, NULL, NULL},
    {"{}", "r.io", 0, NULL, NULL, NULL, NULL, NULL},
    {"{\"auths\":{\"r.io\":{}}}", "r.io", 0, NULL, NULL, NULL, NULL, NULL},
    {"{\"auths\":null,\"credsStore\":null,\"credHelpers\":null}", "r.io", 0, NULL, NULL, NULL, NULL,
     NULL},
    /* other keys of the file are none of our business */
    {"{\"psFormat\":\"x\",\"proxies\":{\"default\":{}},\"auths\":{\"r.io\":{\"auth\":\"dTpw\","
     "\"email\":\"e@x\"}}}",
     "r.io", 0, "u", "p", NULL, NULL, NULL},
    /* helpers: credHelpers[key] > credsStore > inline */
    {"{\"credsStore\":\"pass\",\"auths\":{\"r.io\":{\"auth\":\"dTpw\"}}}", "r.io", 0, NULL, NULL,
     NULL, "pass", NULL},
    {"{\"credsStore\":\"pass\",\"credHelpers\":{\"r.io\":\"ecr-login\"}}", "r.io", 0, NULL, NULL,
     NULL, "ecr-login", NULL},
    {"{\"credsStore\":\"pass\",\"credHelpers\":{\"r.io\":\"ecr-login\"}}", "x.io", 0, NULL, NULL,
     NULL, "pass", NULL},
    {"{\"credsStore\":\"pass\",\"credHelpers\":{\"r.io\":\"\"}}", "r.io", 0, NULL, NULL, NULL,
     "pass", NULL},
    {"{\"credsStore\":\"\",\"auths\":{\"r.io\":{\"auth\":\"dTpw\"}}}", "r.io", 0, "u", "p", NULL,
     NULL, NULL},
    {"{\"credHelpers\":{\"r.io\":\"secretservice\"}}", "r.io", 0, NULL, NULL, NULL, "secretservice",
     NULL},
    {"{\"credHelpers\":{\"https://r.io\":\"gcloud\"}}", "r.io", 0, NULL, NULL, NULL, "gcloud",
     NULL},
    /* helper names that could name a path are refused */
    {"{\"credsStore\":\"../../tmp/x\"}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "credential helper name \"../../tmp/x\" is not valid"},
    {"{\"credsStore\":\"a/b\"}", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "is not valid"},
    {"{\"credsStore\":\".x\"}", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "is not valid"},
    {"{\"credsStore\":\"a b\"}", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "is not valid"},
    {"{\"credHelpers\":{\"r.io\":\"x;rm\"}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "is not valid"},
    {"{\"credsStore\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
     "r.io", -EINVAL, NULL, NULL, NULL, NULL, "is not valid"},
    /* Hub: the canonical key, and the other spellings found in the wild */
    {"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}", HUB, 0, "u", "p", NULL,
     NULL, NULL},
    {"{\"auths\":{\"index.docker.io\":{\"auth\":\"dTpw\"}}}", HUB, 0, "u", "p", NULL, NULL, NULL},
    {"{\"auths\":{\"docker.io\":{\"auth\":\"dTpw\"}}}", HUB, 0, "u", "p", NULL, NULL, NULL},
    {"{\"auths\":{\"https://index.docker.io/v1\":{\"auth\":\"dTpw\"}}}", HUB, 0, "u", "p", NULL,
     NULL, NULL},
    {"{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"dTpw\"}}}", HUB, 0, "u", "p", NULL, NULL,
     NULL},
    {"{\"auths\":{\"https://index.docker.io/v2/\":{\"auth\":\"dTpw\"}}}", HUB, 0, "u", "p", NULL,
     NULL, NULL},
    /* the exact key wins over another spelling, whatever the order */
    {"{\"auths\":{\"docker.io\":{\"auth\":\"YTpi\"},\"https://index.docker.io/v1/\":{\"auth\":"
     "\"dTpw\"}}}",
     HUB, 0, "u", "p", NULL, NULL, NULL},
    /* Hub's entries are not another registry's */
    {"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}", "quay.io", 0, NULL, NULL,
     NULL, NULL, NULL},
    {"{\"auths\":{\"docker.example.io\":{\"auth\":\"dTpw\"}}}", HUB, 0, NULL, NULL, NULL, NULL,
     NULL},
    /* a registry's legacy URL forms (docker/cli ConvertToHostname) */
    {"{\"auths\":{\"https://localhost:5000\":{\"auth\":\"dTpw\"}}}", "localhost:5000", 0, "u", "p",
     NULL, NULL, NULL},
    {"{\"auths\":{\"http://localhost:5000/v2/\":{\"auth\":\"dTpw\"}}}", "localhost:5000", 0, "u",
     "p", NULL, NULL, NULL},
    {"{\"auths\":{\"localhost:5000/v1/\":{\"auth\":\"dTpw\"}}}", "localhost:5000", 0, "u", "p",
     NULL, NULL, NULL},
    {"{\"auths\":{\"https://localhost:5001\":{\"auth\":\"dTpw\"}}}", "localhost:5000", 0, NULL,
     NULL, NULL, NULL, NULL},
    {"{\"auths\":{\"localhost\":{\"auth\":\"dTpw\"}}}", "localhost:5000", 0, NULL, NULL, NULL, NULL,
     NULL},
    /* types */
    {"{\"auths\":[]}", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "\"auths\" must be an object"},
    {"{\"auths\":{\"r.io\":\"dTpw\"}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "auths[\"r.io\"]: must be an object"},
    {"{\"auths\":{\"r.io\":{\"auth\":5}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "\"auth\" must be a string"},
    {"{\"auths\":{\"r.io\":{\"password\":\"a\\u0000b\"}}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "contains a NUL byte"},
    {"{\"credsStore\":1}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "\"credsStore\" must be a string"},
    {"{\"credHelpers\":[\"x\"]}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "\"credHelpers\" must be an object"},
    {"{\"credHelpers\":{\"r.io\":1}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL,
     "credHelpers[\"r.io\"] must be a string"},
    /* not JSON, not an object, duplicate keys */
    {"{\"auths\":", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "config.json:1:"},
    {"[]", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "config.json: not a JSON object"},
    {"{\"auths\":{},\"auths\":{}}", "r.io", -EINVAL, NULL, NULL, NULL, NULL, "duplicate"},
};

static void check_opt(const char *what, int i, const char *want, const char *got)
{
	if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
		print_error("case %d: %s: want \"%s\", got \"%s\"\n", i, what,
			    want ? want : "(null)", got ? got : "(null)");
		fail();
	}
}

static void test_decode_table(void **state)
{
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *d = &dcases[i];
		struct registry_creds c;
		struct err *err = NULL;
		char *helper = NULL;
		int rc = credentials_decode(d->json, strlen(d->json), d->key, &c, &helper, &err);

		if (rc != d->rc) {
			print_error("case %zu (%s): rc %d, want %d (%s)\n", i, d->json, rc, d->rc,
				    err ? err->msg : "");
			fail();
		}
		if (rc < 0) {
			if (!strstr(err->msg, d->errmsg)) {
				print_error("case %zu: error \"%s\", want \"%s\"\n", i, err->msg,
					    d->errmsg);
				fail();
			}
			assert_null(c.username);
			assert_null(c.password);
			assert_null(c.identity_token);
			assert_null(helper);
			err_free(&err);
			continue;
		}
		check_opt("username", (int)i, d->user, c.username);
		check_opt("password", (int)i, d->pass, c.password);
		check_opt("identity token", (int)i, d->token, c.identity_token);
		check_opt("helper", (int)i, d->helper, helper);
		registry_creds_clear(&c);
		free(helper);
	}
}

static void test_decode_cap(void **state)
{
	size_t n = (1u << 20) + 1;
	char *buf = malloc(n);
	struct registry_creds c;
	struct err *err = NULL;
	char *helper = NULL;

	assert_non_null(buf);
	memset(buf, ' ', n);
	buf[0] = '{';
	buf[n - 1] = '}';
	assert_int_equal(credentials_decode(buf, n, "r.io", &c, &helper, &err), -EFBIG);
	err_free(&err);
	/* Just under the cap parses. */
	assert_int_equal(credentials_decode(buf + 1, n - 1, "r.io", &c, &helper, &err), -EINVAL);
	err_free(&err);
	buf[1] = '{';
	assert_int_equal(credentials_decode(buf + 1, n - 1, "r.io", &c, &helper, &err), 0);
	free(buf);
}

static void test_key(void **state)
{
	assert_string_equal(credentials_key("docker.io"), HUB);
	assert_string_equal(credentials_key("registry-1.docker.io"), HUB);
	assert_string_equal(credentials_key("index.docker.io"), HUB);
	assert_string_equal(credentials_key(HUB), HUB);
	assert_string_equal(credentials_key("localhost:5000"), "localhost:5000");
	assert_string_equal(credentials_key("quay.io"), "quay.io");
	assert_string_equal(credentials_key("docker.io:443"), "docker.io:443");
}

static void test_helper_decode(void **state)
{
	struct registry_creds c;
	struct err *err = NULL;
	const char *j;

	j = "{\"ServerURL\":\"r.io\",\"Username\":\"u\",\"Secret\":\"s\"}";
	assert_int_equal(credentials_helper_decode(j, strlen(j), &c, &err), 0);
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "s");
	assert_null(c.identity_token);
	registry_creds_clear(&c);
	assert_null(c.username);

	j = "{\"ServerURL\":\"r.io\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}\n";
	assert_int_equal(credentials_helper_decode(j, strlen(j), &c, &err), 0);
	assert_null(c.username);
	assert_null(c.password);
	assert_string_equal(c.identity_token, "refresh");
	registry_creds_clear(&c);

	j = "{}";
	assert_int_equal(credentials_helper_decode(j, strlen(j), &c, &err), 0);
	assert_null(c.username);
	registry_creds_clear(&c);

	j = "{\"Username\":1}";
	assert_int_equal(credentials_helper_decode(j, strlen(j), &c, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "\"Username\" must be a string"));
	err_free(&err);
	j = "credentials not found in native keychain";
	assert_int_equal(credentials_helper_decode(j, strlen(j), &c, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "credential helper reply:1:"));
	err_free(&err);
	j = "[1]";
	assert_int_equal(credentials_helper_decode(j, strlen(j), &c, &err), -EINVAL);
	err_free(&err);
}

/* ---- on disk: a temporary DOCKER_CONFIG, HOME and PATH ---- */

struct fx {
	char base[64];
	char cfgdir[128], cfg[160], bindir[128], store[128];
	char *old_path;
};

static void rm_rf(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *read_file(const char *path)
{
	char *buf = NULL;
	size_t len;
	struct err *err = NULL;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	assert_int_equal(fs_read_fd(fd, 1 << 20, &buf, &len, &err), 0);
	close(fd);
	return buf;
}

static json_t *load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	if (!j)
		print_error("%s: %s\n", path, je.text);
	assert_non_null(j);
	return j;
}

/* The fake helper keeps one credential in $MOATTEST_STORE/creds.json and
 * records what it was given in $MOATTEST_STORE/<action>.in. */
static const char helper_script[] =
    "#!/bin/sh\n"
    "d=\"$MOATTEST_STORE\"\n"
    "if [ \"$1\" = noread ]; then exec 0<&-; sleep 0.3; exit 0; fi\n"
    "cat > \"$d/$1.in\"\n"
    "case \"$1\" in\n"
    "get)\n"
    "  if [ -f \"$d/creds.json\" ]; then cat \"$d/creds.json\"; exit 0; fi\n"
    "  echo 'credentials not found in native keychain'; exit 1;;\n"
    "store)\n"
    "  if [ -f \"$d/fail\" ]; then echo 'the keyring is locked'; exit 1; fi\n"
    "  cp \"$d/store.in\" \"$d/creds.json\";;\n"
    "erase)\n"
    "  if [ -f \"$d/creds.json\" ]; then rm \"$d/creds.json\"; exit 0; fi\n"
    "  echo 'credentials not found in native keychain'; exit 1;;\n"
    "sleep) sleep 5;;\n"
    "flood) head -c 2000000 /dev/zero;;\n"

    "stderr) echo 'only on stderr' >&2; exit 3;;\n"
    "*) echo \"unknown action $1\"; exit 2;;\n"
    "esac\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[256];
	const char *p = getenv("PATH");

	assert_non_null(f);
	strcpy(f->base, "/tmp/moat-creds-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->cfgdir, sizeof(f->cfgdir), "%s/dockercfg", f->base);
	snprintf(f->cfg, sizeof(f->cfg), "%s/config.json", f->cfgdir);
	snprintf(f->bindir, sizeof(f->bindir), "%s/bin", f->base);
	snprintf(f->store, sizeof(f->store), "%s/store", f->base);
	assert_int_equal(mkdir(f->bindir, 0755), 0);
	assert_int_equal(mkdir(f->store, 0700), 0);
	snprintf(path, sizeof(path), "%s/docker-credential-moattest", f->bindir);
	write_file(path, helper_script, 0755);
	f->old_path = strdup(p ? p : "/usr/bin:/bin");
	snprintf(path, sizeof(path), "%s:%s", f->bindir, f->old_path);
	setenv("PATH", path, 1);
	setenv("DOCKER_CONFIG", f->cfgdir, 1);
	setenv("MOATTEST_STORE", f->store, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	setenv("PATH", f->old_path, 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("MOATTEST_STORE");
	rm_rf(f->base);
	free(f->old_path);
	free(f);
	return 0;
}

static void test_store_get_erase_file(void **state)
{
	struct fx *f = *state;
	struct registry_creds in = {.username = "alice", .password = "s3cr:et"}, out;
	struct err *err = NULL;
	struct stat st;
	json_t *j;

	/* Nothing yet: no directory, no file. */
	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_null(out.username);
	assert_int_equal(credentials_erase("localhost:5000", &err), -ENOKEY);
	assert_string_equal(err->msg, "not logged in to localhost:5000");
	err_free(&err);

	/* The first login creates the directory 0700 and the file 0600. */
	assert_int_equal(credentials_store("localhost:5000", &in, &err), 0);
	assert_int_equal(stat(f->cfgdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->cfg, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	j = load_json(f->cfg);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(j, "auths"), "localhost:5000"), "auth")),
	    "YWxpY2U6czNjcjpldA=="); /* base64("alice:s3cr:et") */
	json_decref(j);
	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_string_equal(out.username, "alice");
	assert_string_equal(out.password, "s3cr:et");
	registry_creds_clear(&out);

	/* Hub: stored under Docker's key, found under every name. */
	assert_int_equal(credentials_store("docker.io", &in, &err), 0);
	j = load_json(f->cfg);
	assert_non_null(json_object_get(json_object_get(j, "auths"), HUB));
	json_decref(j);
	assert_int_equal(credentials_get("registry-1.docker.io", &out, &err), 0);
	assert_string_equal(out.username, "alice");
	registry_creds_clear(&out);

	/* Erase: that registry only; then "not logged in". */
	assert_int_equal(credentials_erase("localhost:5000", &err), 0);
	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_null(out.username);
	assert_int_equal(credentials_get("docker.io", &out, &err), 0);
	assert_string_equal(out.username, "alice");
	registry_creds_clear(&out);
	assert_int_equal(credentials_erase("localhost:5000", &err), -ENOKEY);
	err_free(&err);
	assert_int_equal(stat(f->cfg, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_store_keeps_other_keys(void **state)
{
	struct fx *f = *state;
	struct registry_creds in = {.username = "bob", .password = "pw"}, tok = {0};
	struct err *err = NULL;
	json_t *j, *auths;

	assert_int_equal(mkdir(f->cfgdir, 0755), 0);
	/* A world-readable file from some other tool, with keys moat knows
	 * nothing about and an old URL-form entry for the same registry. */
	write_file(f->cfg,
		   "{\"psFormat\": \"table {{.ID}}\", \"proxies\": {\"default\": {\"httpProxy\": "
		   "\"http://p:3128\"}}, \"auths\": {\"quay.io\": {\"auth\": \"cTpx\"}, "
		   "\"https://localhost:5000\": {\"auth\": \"b2xkOm9sZA==\"}}, \"plugins\": "
		   "{\"x\": {\"k\": [1, 2.5, true, null]}}}",
		   0644);
	assert_int_equal(credentials_store("localhost:5000", &in, &err), 0);
	j = load_json(f->cfg);
	assert_string_equal(json_string_value(json_object_get(j, "psFormat")), "table {{.ID}}");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(j, "proxies"), "default"), "httpProxy")),
	    "http://p:3128");
	assert_int_equal(json_array_size(json_object_get(
			     json_object_get(json_object_get(j, "plugins"), "x"), "k")),
			 4);
	auths = json_object_get(j, "auths");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(auths, "quay.io"), "auth")), "cTpx");
	assert_non_null(json_object_get(auths, "localhost:5000"));
	json_decref(j);
	{
		struct stat st;

		/* Rewritten 0600 whatever it was. */
		assert_int_equal(stat(f->cfg, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
	/* The exact key wins over the old spelling. */
	assert_int_equal(credentials_get("localhost:5000", &tok, &err), 0);
	assert_string_equal(tok.username, "bob");
	registry_creds_clear(&tok);

	/* Logout removes every spelling, keeps the rest. */
	assert_int_equal(credentials_erase("localhost:5000", &err), 0);
	j = load_json(f->cfg);
	auths = json_object_get(j, "auths");
	assert_null(json_object_get(auths, "localhost:5000"));
	assert_null(json_object_get(auths, "https://localhost:5000"));
	assert_non_null(json_object_get(auths, "quay.io"));
	assert_non_null(json_object_get(j, "psFormat"));
	json_decref(j);

	/* An identity token is stored as such. */
	tok.identity_token = "refresh-me";
	assert_int_equal(credentials_store("quay.io", &tok, &err), 0);
	assert_int_equal(credentials_get("quay.io", &in, &err), 0);
	assert_null(in.username);
	assert_string_equal(in.identity_token, "refresh-me");
	registry_creds_clear(&in);
}

static void test_store_refusals(void **state)
{
	struct fx *f = *state;
	struct registry_creds in = {.username = "a:b", .password = "pw"}, out;
	struct err *err = NULL;
	char *before, *after;

	assert_int_equal(credentials_store("r.io", &in, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "must not contain"));
	err_free(&err);

	/* A file that does not parse is reported, never overwritten. */
	assert_int_equal(mkdir(f->cfgdir, 0700), 0);
	write_file(f->cfg, "{\"auths\": {\"r.io\": {\"auth\": \"dTpw\"}},\n oops}", 0600);
	before = read_file(f->cfg);
	in.username = "a";
	assert_int_equal(credentials_store("r.io", &in, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "config.json:2:"));
	err_free(&err);
	assert_int_equal(credentials_erase("r.io", &err), -EINVAL);
	err_free(&err);
	assert_int_equal(credentials_get("r.io", &out, &err), -EINVAL);
	err_free(&err);
	after = read_file(f->cfg);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* "auths" of the wrong type: refused, untouched. */
	write_file(f->cfg, "{\"auths\": []}", 0600);
	assert_int_equal(credentials_store("r.io", &in, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "\"auths\" must be an object"));
	err_free(&err);
	after = read_file(f->cfg);
	assert_string_equal(after, "{\"auths\": []}");
	free(after);
}

static void test_symlinked_config(void **state)
{
	struct fx *f = *state;
	struct registry_creds in = {.username = "u", .password = "p"};
	struct err *err = NULL;
	char real[256];
	struct stat st;

	snprintf(real, sizeof(real), "%s/dotfiles-config.json", f->base);
	write_file(real, "{\"psFormat\": \"x\"}", 0600);
	assert_int_equal(mkdir(f->cfgdir, 0700), 0);
	assert_int_equal(symlink(real, f->cfg), 0);
	assert_int_equal(credentials_store("r.io", &in, &err), 0);
	/* The link is still a link; its target got the entry. */
	assert_int_equal(lstat(f->cfg, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	{
		json_t *j = load_json(real);

		assert_non_null(json_object_get(json_object_get(j, "auths"), "r.io"));
		assert_non_null(json_object_get(j, "psFormat"));
		json_decref(j);
	}
}

static void test_config_location(void **state)
{
	struct fx *f = *state;
	char home[256], hcfg[300], *p = NULL;
	struct registry_creds in = {.username = "h", .password = "p"}, out;
	struct err *err = NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	snprintf(home, sizeof(home), "%s/home", f->base);
	assert_int_equal(mkdir(home, 0700), 0);
	setenv("HOME", home, 1);

	/* DOCKER_CONFIG wins over HOME. */
	assert_int_equal(credentials_config_path(&p, &err), 0);
	assert_string_equal(p, f->cfg);
	free(p);
	assert_int_equal(credentials_store("r.io", &in, &err), 0);
	snprintf(hcfg, sizeof(hcfg), "%s/.docker/config.json", home);
	assert_int_equal(access(hcfg, F_OK), -1);

	/* Without it: ~/.docker/config.json, which does not see the other. */
	unsetenv("DOCKER_CONFIG");
	assert_int_equal(credentials_config_path(&p, &err), 0);
	assert_string_equal(p, hcfg);
	free(p);
	assert_int_equal(credentials_get("r.io", &out, &err), 0);
	assert_null(out.username);
	in.username = "home";
	assert_int_equal(credentials_store("r.io", &in, &err), 0);
	assert_int_equal(access(hcfg, F_OK), 0);
	assert_int_equal(credentials_get("r.io", &out, &err), 0);
	assert_string_equal(out.username, "home");
	registry_creds_clear(&out);
	/* An empty DOCKER_CONFIG is unset, as for docker. */
	setenv("DOCKER_CONFIG", "", 1);
	assert_int_equal(credentials_config_path(&p, &err), 0);
	assert_string_equal(p, hcfg);
	free(p);

	setenv("DOCKER_CONFIG", f->cfgdir, 1);
	assert_int_equal(credentials_get("r.io", &out, &err), 0);
	assert_string_equal(out.username, "h");
	registry_creds_clear(&out);
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
}

/* ---- the helper protocol ---- */

static void test_helper_store_get_erase(void **state)
{
	struct fx *f = *state;
	struct registry_creds in = {.username = "carol", .password = "pa\"ss\nword"}, out;
	struct err *err = NULL;
	char path[256], *s;
	json_t *j, *sent;

	assert_int_equal(mkdir(f->cfgdir, 0700), 0);
	write_file(f->cfg,
		   "{\"credsStore\": \"moattest\", \"auths\": {\"localhost:5000\": {\"auth\": "
		   "\"cGxhaW46dGV4dA==\"}}}",
		   0600);

	/* The helper is asked, and says "not found": no credentials, even
	 * though the file has plain-text ones (the helper wins). */
	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_null(out.username);
	assert_null(err);
	snprintf(path, sizeof(path), "%s/get.in", f->store);
	s = read_file(path);
	assert_string_equal(s, "localhost:5000"); /* the server URL, no newline */
	free(s);

	/* Store: JSON on the helper's stdin; config.json keeps an empty
	 * entry, the plain-text one is gone. */
	assert_int_equal(credentials_store("localhost:5000", &in, &err), 0);
	snprintf(path, sizeof(path), "%s/store.in", f->store);
	sent = load_json(path);
	assert_string_equal(json_string_value(json_object_get(sent, "ServerURL")),
			    "localhost:5000");
	assert_string_equal(json_string_value(json_object_get(sent, "Username")), "carol");
	assert_string_equal(json_string_value(json_object_get(sent, "Secret")), "pa\"ss\nword");
	json_decref(sent);
	j = load_json(f->cfg);
	assert_int_equal(
	    json_object_size(json_object_get(json_object_get(j, "auths"), "localhost:5000")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "credsStore")), "moattest");
	json_decref(j);

	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_string_equal(out.username, "carol");
	assert_string_equal(out.password, "pa\"ss\nword");
	registry_creds_clear(&out);

	/* Identity tokens travel as Username "<token>". */
	in.identity_token = "idtok";
	assert_int_equal(credentials_store("localhost:5000", &in, &err), 0);
	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_null(out.username);
	assert_string_equal(out.identity_token, "idtok");
	registry_creds_clear(&out);

	/* Erase: the helper's and the file's; then not logged in. */
	assert_int_equal(credentials_erase("localhost:5000", &err), 0);
	snprintf(path, sizeof(path), "%s/erase.in", f->store);
	s = read_file(path);
	assert_string_equal(s, "localhost:5000");
	free(s);
	j = load_json(f->cfg);
	assert_null(json_object_get(json_object_get(j, "auths"), "localhost:5000"));
	json_decref(j);
	assert_int_equal(credentials_erase("localhost:5000", &err), -ENOKEY);
	err_free(&err);

	/* A helper failure is an error carrying its message, and leaves
	 * config.json as it was. */
	snprintf(path, sizeof(path), "%s/fail", f->store);
	write_file(path, "", 0600);
	s = read_file(f->cfg);
	assert_int_equal(credentials_store("localhost:5000", &in, &err), -EIO);
	assert_non_null(strstr(err->msg, "docker-credential-moattest store: exit status 1: the "
					 "keyring is locked"));
	err_free(&err);
	{
		char *now = read_file(f->cfg);

		assert_string_equal(s, now);
		free(now);
	}
	free(s);
}

static void test_cred_helpers_precedence(void **state)
{
	struct fx *f = *state;
	struct registry_creds out;
	struct err *err = NULL;
	char path[256];

	assert_int_equal(mkdir(f->cfgdir, 0700), 0);
	snprintf(path, sizeof(path), "%s/creds.json", f->store);
	write_file(path, "{\"ServerURL\":\"x\",\"Username\":\"from-helper\",\"Secret\":\"s\"}",
		   0600);
	/* credHelpers names moattest for this registry; the store helper for
	 * the rest does not exist. */
	write_file(f->cfg,
		   "{\"credsStore\": \"nosuchhelper\", \"credHelpers\": {\"localhost:5000\": "
		   "\"moattest\"}}",
		   0600);
	assert_int_equal(credentials_get("localhost:5000", &out, &err), 0);
	assert_string_equal(out.username, "from-helper");
	registry_creds_clear(&out);
	assert_int_equal(credentials_get("quay.io", &out, &err), -ENOENT);
	assert_non_null(strstr(err->msg, "docker-credential-nosuchhelper: executable file not "
					 "found in $PATH"));
	err_free(&err);
}

static void test_helper_call_edges(void **state)
{
	struct fx *f = *state;
	struct err *err = NULL;
	char *out = NULL, *cwd, path[300];
	long t0;
	struct timespec ts;

	/* Bounded: a helper that hangs is killed. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_int_equal(credentials_helper_call("moattest", "sleep", "", 300, &out, &err),
			 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true(ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 < 3000);
	assert_non_null(strstr(err->msg, "docker-credential-moattest sleep: no answer"));
	assert_null(out);
	err_free(&err);

	/* Output is capped. */
	assert_int_equal(credentials_helper_call("moattest", "flood", "", 0, &out, &err), -EFBIG);
	err_free(&err);

	/* A helper that does not read its stdin does not kill us (SIGPIPE). */
	{
		size_t n = 8u << 20;
		char *big = malloc(n);

		assert_non_null(big);
		memset(big, 'x', n - 1);
		big[n - 1] = 0;
		assert_int_equal(credentials_helper_call("moattest", "noread", big, 0, &out, &err),
				 0);
		assert_string_equal(out, "");
		free(out);
		free(big);
	}

	/* Errors written only to stderr are reported. */
	assert_int_equal(credentials_helper_call("moattest", "stderr", "", 0, &out, &err), -EIO);
	assert_non_null(strstr(err->msg, "exit status 3: only on stderr"));
	err_free(&err);

	/* Names that are paths never run. */
	assert_int_equal(credentials_helper_call("../bin/moattest", "get", "", 0, &out, &err),
			 -EINVAL);
	err_free(&err);

	/* PATH's relative entries are skipped (Go's LookPath refuses them). */
	cwd = getcwd(NULL, 0);
	assert_int_equal(chdir(f->base), 0);
	setenv("PATH", "bin", 1);
	assert_int_equal(credentials_helper_call("moattest", "get", "x", 0, &out, &err), -ENOENT);
	err_free(&err);
	snprintf(path, sizeof(path), "/nonexistent:%s", f->bindir);
	setenv("PATH", path, 1);
	assert_int_equal(credentials_helper_call("moattest", "get", "x", 0, &out, &err), -ENOKEY);
	assert_non_null(strstr(err->msg, "credentials not found in native keychain"));
	err_free(&err);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_table),
	    cmocka_unit_test(test_decode_cap),
	    cmocka_unit_test(test_key),
	    cmocka_unit_test(test_helper_decode),
	    cmocka_unit_test_setup_teardown(test_store_get_erase_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_keeps_other_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinked_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_location, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helper_store_get_erase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cred_helpers_precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helper_call_edges, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

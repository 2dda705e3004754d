/*
 * cli/sign.c - `moat key generate`, `moat sign`, `moat verify`, and the
 * signing step of `moat push --sign-key`.
 *
 * Runs as: the invoking user. Talks to the registry of the image named
 * (cli_reg_setup: moat's registries configuration and stored
 * credentials); never touches the image store.
 *
 * Signatures are cosign's "simple signing" layout (image/signature.h):
 * `sign` appends a layer to the manifest tagged "sha256-<hex>.sig" in the
 * image's repository, so signatures made by others are kept. Private keys
 * are PKCS#8 PEM; an encrypted one takes its passphrase from
 * MOAT_KEY_PASSWORD or a prompt on /dev/tty (never from a flag: argv is
 * visible to every user in /proc).
 *
 * Audit: `sign` records "image.sign" (what, with which key, or why not);
 * `verify` records its "trust.decision".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/base64.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "engine/trust.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/sigkey.h"
#include "image/signature.h"

#define PASS_MAX 1024

/* ---- passphrases ---- */

/* One line from /dev/tty with echo off, after PROMPT. */
static int tty_read(const char *prompt, char *buf, size_t len, struct err **err)
{
	_cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old, quiet;
	size_t n = 0;
	bool restore = false;

	if (fd < 0)
		return err_set(err, ENXIO,
			       "a passphrase is needed and there is no terminal to ask on: set "
			       "MOAT_KEY_PASSWORD");
	if (write(fd, prompt, strlen(prompt)) < 0)
		return err_errno(err, errno, "/dev/tty");
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	while (n + 1 < len) {
		char c;
		ssize_t got = read(fd, &c, 1);
		if (got <= 0 || c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the newline is cosmetic */
	}
	return 0;
}

/* The passphrase: MOAT_KEY_PASSWORD, else asked (twice when CONFIRM). */
static int passphrase(bool confirm, char *buf, size_t len, struct err **err)
{
	const char *env = getenv("MOAT_KEY_PASSWORD");
	char again[PASS_MAX];
	int r;

	if (env) {
		if (strlen(env) >= len)
			return err_set(err, E2BIG, "MOAT_KEY_PASSWORD is too long");
		snprintf(buf, len, "%s", env);
		return 0;
	}
	r = tty_read("Enter passphrase for the private key: ", buf, len, err);
	if (r < 0 || !confirm)
		return r;
	r = tty_read("Enter it again: ", again, sizeof(again), err);
	if (r == 0 && strcmp(buf, again))
		r = err_set(err, EINVAL, "the passphrases do not match");
	explicit_bzero(again, sizeof(again));
	return r;
}

/* The private key in PATH, asking for its passphrase only when it is
 * encrypted. */
static int private_key(const char *path, struct sigkey **out, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ uint8_t *der = NULL;
	char label[40], pass[PASS_MAX] = "";
	size_t len = 0, dlen = 0;
	int r;

	if (fs_read_at(AT_FDCWD, path, SIGKEY_PEM_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "key %s", path);
	r = sigkey_pem_decode(buf, len, path, label, &der, &dlen, err);
	if (r == 0 && !strcmp(label, "ENCRYPTED PRIVATE KEY"))
		r = passphrase(false, pass, sizeof(pass), err);
	if (r == 0)
		r = sigkey_load_private(buf, len, path, pass[0] ? pass : NULL, out, err);
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(buf, len);
	if (der)
		explicit_bzero(der, dlen);
	return r;
}

/* ---- moat key generate ---- */

static int write_new(const char *path, const char *text, mode_t mode, struct err **err)
{
	_cleanup_close_ int fd =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return err_errno(err, errno, "%s%s", path,
				 errno == EEXIST ? " (refusing to overwrite it)" : "");
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;
		unlink(path);
		return err_errno(err, e, "write %s", path);
	}
	return 0;
}

static int key_generate(struct cli_ctx *ctx, int argc, char **argv)
{
	struct audit_log *alog = NULL;
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"type", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char *keyp = NULL, *pubp = NULL, *priv = NULL, *pub = NULL;
	enum sigkey_type type = SIGKEY_ECDSA_P256;
	const char *prefix = "moat";
	char pass[PASS_MAX] = "";
	struct sigkey *k = NULL;
	struct err *err = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			prefix = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "ecdsa-p256") || !strcmp(optarg, "ecdsa"))
				type = SIGKEY_ECDSA_P256;
			else if (!strcmp(optarg, "ed25519"))
				type = SIGKEY_ED25519;
			else if (!strcmp(optarg, "rsa"))
				type = SIGKEY_RSA;
			else {
				err_set(&err, EINVAL,
					"unknown key type \"%s\" (ecdsa-p256, ed25519 or rsa)",
					optarg);
				return cli_fail(&err);
			}
			break;
		case 'h':
			printf("Usage: moat key generate [--out PREFIX] [--type "
			       "ecdsa-p256|ed25519|rsa]\n\n"
			       "Create a signing key pair: PREFIX.key (PKCS#8, encrypted with a "
			       "passphrase from\nMOAT_KEY_PASSWORD or the terminal, mode 0600) and "
			       "PREFIX.pub. Default PREFIX: moat.\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc || !*prefix) {
		err_set(&err, EINVAL, "\"key generate\" accepts no arguments");
		return cli_fail(&err);
	}
	if (asprintf(&keyp, "%s.key", prefix) < 0 || asprintf(&pubp, "%s.pub", prefix) < 0) {
		err_errno(&err, ENOMEM, "key");
		return cli_fail(&err);
	}
	if (access(keyp, F_OK) == 0 || access(pubp, F_OK) == 0) {
		err_set(&err, EEXIST, "%s or %s exists: refusing to overwrite it", keyp, pubp);
		return cli_fail(&err);
	}
	/* A new signing key is a change to trust material: audited, and
	 * fail-closed like every other such change. */
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	r = passphrase(true, pass, sizeof(pass), &err);
	if (r == 0 && !pass[0])
		r = err_set(&err, EINVAL,
			    "an empty passphrase is not allowed (set MOAT_KEY_PASSWORD)");
	if (r == 0)
		r = sigkey_generate(type, &k, &err);
	if (r == 0)
		r = sigkey_private_pem(k, pass, &priv, &err);
	explicit_bzero(pass, sizeof(pass));
	if (r == 0)
		r = sigkey_public_pem(k, &pub, &err);
	if (r == 0)
		r = write_new(keyp, priv, 0600, &err);
	if (r == 0 && (r = write_new(pubp, pub, 0644, &err)) < 0)
		unlink(keyp);
	if (priv)
		explicit_bzero(priv, strlen(priv));
	if (r == 0 && cli_audit_key(alog, "generated", keyp, sigkey_fingerprint(k)) != 0) {
		/* Not on record: the key does not stay. */
		unlink(keyp);
		unlink(pubp);
		r = -EIO;
		err_set(&err, EIO, "the audit log refused the key's record; %s removed", keyp);
	}
	audit_close(alog);
	if (r == 0)
		printf("Private key written to %s\nPublic key written to %s\n"
		       "Key: %s (%s)\n",
		       keyp, pubp, sigkey_fingerprint(k), sigkey_describe(k));
	sigkey_free(k);
	return r < 0 ? cli_fail(&err) : 0;
}

int cmd_key(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc >= 2 && !strcmp(argv[1], "generate"))
		return key_generate(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: moat key generate [--out PREFIX] [--type ecdsa-p256|ed25519|rsa]\n");
		return 0;
	}
	err_set(&err, EINVAL, "usage: moat key generate [--out PREFIX] [--type TYPE]");
	return cli_fail(&err);
}

/* ---- the registry side ---- */

/* REF's "docker-reference" as moat signs it: the full repository, with
 * the tag when REF has one (containers/image's form; cosign's has no tag). */
static char *signed_identity(const struct image_reference *r)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "") <
	    0)
		return NULL;
	return s;
}

static int mem_fd(const void *buf, size_t len, struct err **err)
{
	int fd = memfd_create("moat-sign", MFD_CLOEXEC);

	if (fd < 0)
		return err_errno(err, errno, "memfd");
	if (write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return err_errno(err, errno ? errno : EIO, "memfd");
	}
	return fd;
}

static int put_blob(struct registry *reg, const char *buf, size_t len, char digest[72],
		    struct err **err)
{
	_cleanup_close_ int fd = -1;
	char hex[SHA256_HEX_LEN + 1];

	digest_sha256_hex(buf, len, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	fd = mem_fd(buf, len, err);
	if (fd < 0)
		return fd;
	return registry_put_blob(reg, digest, fd, (int64_t)len, NULL, err);
}

/* Signs DIGEST (what REF resolved to in REG) with K: the payload and a new
 * layer in the ".sig" manifest, which keeps the signatures already there. */
static int sign_digest(struct registry *reg, const struct image_reference *ref, const char *digest,
		       const struct sigkey *k, struct err **err)
{
	_cleanup_free_ char *ident = NULL, *payload = NULL, *sigb64 = NULL, *old = NULL,
			    *oldmt = NULL, *config = NULL, *manifest = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	char tag[SIG_TAG_LEN], pdig[72], cdig[72], got[72], mdig[72];
	size_t plen = 0, slen = 0, olen = 0, clen = 0, mlen = 0;
	struct err *e = NULL;
	int r;

	if (!(ident = signed_identity(ref)))
		return err_errno(err, ENOMEM, "sign");
	r = sig_payload_encode(ident, digest, "moat", (int64_t)time(NULL), &payload, &plen, err);
	if (r == 0)
		r = sigkey_sign(k, payload, plen, &sig, &slen, err);
	if (r == 0 && !(sigb64 = base64_encode(sig, slen)))
		r = err_errno(err, ENOMEM, "sign");
	if (r == 0)
		r = sig_tag_for(digest, tag, err);
	if (r < 0)
		return r;
	r = registry_get_manifest(reg, tag, &old, &olen, &oldmt, got, &e);
	if (r == -ENOENT) {
		err_free(&e);
		free(old);
		old = NULL;
		olen = 0;
	} else if (r < 0) {
		*err = e;
		return err_prefix(err, "existing signatures");
	}
	digest_sha256_hex(payload, plen, pdig + 7);
	memcpy(pdig, "sha256:", 7);
	r = sig_manifest_append(old, olen, pdig, (int64_t)plen, sigb64, &config, &clen, &manifest,
				&mlen, err);
	if (r < 0)
		return err_prefix(err, "signature manifest %s", tag);
	if (r == 1)
		return 0; /* this very signature is there already */
	r = put_blob(reg, payload, plen, pdig, err);
	if (r == 0)
		r = put_blob(reg, config, clen, cdig, err);
	if (r == 0)
		r = registry_put_manifest(reg, tag, "application/vnd.oci.image.manifest.v1+json",
					  manifest, mlen, mdig, err);
	return r;
}

/* Opens REF's repository (ACTIONS) and resolves REF to its top-level
 * digest (an index's for a multi-platform image) and, for an index, the
 * host platform's manifest digest (else a copy of the top). */
static int resolve_remote(const char *name, int tls, const char *actions, struct cli_regsetup *rs,
			  struct image_reference *ref, struct registry **reg, char top[72],
			  char man[72], struct err **err)
{
	_cleanup_free_ char *body = NULL, *mt = NULL;
	size_t len = 0;
	int r;

	r = image_reference_parse(name, ref, err);
	if (r == 0)
		r = cli_reg_setup(name, tls, rs, err);
	if (r == 0)
		r = registry_open(image_reference_registry_host(ref), ref->path, actions, &rs->ro,
				  reg, err);
	if (r == 0)
		r = registry_get_manifest(*reg, ref->digest ? ref->digest : ref->tag, &body, &len,
					  &mt, top, err);
	if (r < 0)
		return r;
	snprintf(man, 72, "%s", top);
	if (image_media_type_is_index(mt)) {
		struct image_index *ix = NULL;
		struct image_platform want = {0};
		struct err *e = NULL;
		size_t pick = 0;

		if (image_index_decode(body, len, mt, &ix, &e) == 0 &&
		    image_platform_host(&want, &e) == 0 &&
		    image_platform_select(ix, &want, &pick, &e) == 0)
			snprintf(man, 72, "%s", ix->manifests[pick].digest);
		err_free(&e);
		image_platform_clear(&want);
		image_index_free(ix);
	}
	return 0;
}

int cli_sign_pushed(struct cli_ctx *ctx, const char *dest, int tls, const char *keyfile,
		    const char *digest, struct err **err)
{
	struct image_reference ref = {0};
	struct cli_regsetup rs = {0};
	struct registry *reg = NULL;
	struct sigkey *k = NULL;
	int r;

	(void)ctx;
	r = sigkey_crypto_load(err);
	if (r == 0)
		r = private_key(keyfile, &k, err);
	if (r == 0)
		r = image_reference_parse(dest, &ref, err);
	if (r == 0)
		r = cli_reg_setup(dest, tls, &rs, err);
	if (r == 0)
		r = registry_open(image_reference_registry_host(&ref), ref.path, "pull,push",
				  &rs.ro, &reg, err);
	if (r == 0)
		r = sign_digest(reg, &ref, digest, k, err);
	if (r == 0)
		printf("Signed %s/%s@%s with key %s\n", ref.domain, ref.path, digest,
		       sigkey_fingerprint(k));
	registry_close(reg);
	cli_regsetup_clear(&rs);
	image_reference_clear(&ref);
	sigkey_free(k);
	return r;
}

/* ---- moat sign ---- */

static const char sign_usage[] =
    "Usage: moat sign --key KEY [--tls-verify=BOOL] IMAGE\n\n"
    "Sign an image in a registry (cosign layout: the tag sha256-<digest>.sig), keeping the\n"
    "signatures already there. KEY: a PKCS#8 PEM private key (passphrase from\n"
    "MOAT_KEY_PASSWORD or the terminal).\n";

/* The flags sign and verify share (--key, --tls-verify, --help) and their
 * one IMAGE argument: -1 to go on (optind at IMAGE), else the exit code. */
static int key_image_args(int argc, char **argv, const char *verb, const char *usage,
			  const char **key, int *tls)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"tls-verify", optional_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct err *err = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			*key = optarg;
			break;
		case 'T':
			if (cli_parse_tls_verify(optarg, tls, &err) < 0)
				return cli_fail(&err);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"%s\" requires exactly 1 argument", verb);
		return cli_fail(&err);
	}
	return -1;
}

int cmd_sign(struct cli_ctx *ctx, int argc, char **argv)
{
	struct image_reference ref = {0};
	struct cli_regsetup rs = {0};
	struct registry *reg = NULL;
	struct sigkey *k = NULL;
	struct audit_log *alog = NULL;
	struct audit_event *ev = NULL;
	struct err *err = NULL;
	const char *keyfile = NULL;
	char top[72] = "", man[72] = "";
	int tls = -1, r;

	if ((r = key_image_args(argc, argv, "sign", sign_usage, &keyfile, &tls)) >= 0)
		return r;
	if (!keyfile) {
		err_set(&err, EINVAL, "\"sign\" requires --key");
		return cli_fail(&err);
	}
	r = sigkey_crypto_load(&err);
	if (r == 0)
		r = private_key(keyfile, &k, &err);
	if (r < 0)
		return cli_fail(&err);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		sigkey_free(k);
		return cli_fail(&err);
	}
	ev = audit_event_new("image.sign");
	if (ev) {
		audit_event_str(ev, "reference", argv[optind]);
		audit_event_str(ev, "key", sigkey_fingerprint(k));
	}
	r = resolve_remote(argv[optind], tls, "pull,push", &rs, &ref, &reg, top, man, &err);
	if (r == 0)
		r = sign_digest(reg, &ref, top, k, &err);
	if (r == 0) {
		printf("Signed %s/%s@%s with key %s\n", ref.domain, ref.path, top,
		       sigkey_fingerprint(k));
		if (ev)
			audit_event_str(ev, "digest", top);
	}
	registry_close(reg);
	cli_regsetup_clear(&rs);
	image_reference_clear(&ref);
	sigkey_free(k);
	if (r < 0) {
		cli_audit_finish(alog, ev, err);
		return cli_fail(&err);
	}
	return cli_audit_finish(alog, ev, NULL);
}

/* ---- moat verify ---- */

/* The policy `verify --key PUB` means: that key, for every scope. */
static int key_policy(const char *pub, struct trust_policy **out, struct err **err)
{
	_cleanup_free_ char *json = NULL, *quoted = NULL;
	char abs[PATH_MAX];
	size_t qn = 0;

	if (!realpath(pub, abs))
		return err_errno(err, errno, "key %s", pub);
	/* A JSON string of the path (no control characters in a file name we
	 * accept; quote and backslash escaped). */
	quoted = malloc(strlen(abs) * 2 + 1);
	if (!quoted)
		return err_errno(err, ENOMEM, "verify");
	for (const char *p = abs; *p; p++) {
		if ((unsigned char)*p < 0x20)
			return err_set(err, EINVAL, "key %s: control character in the path", pub);
		if (*p == '"' || *p == '\\')
			quoted[qn++] = '\\';
		quoted[qn++] = *p;
	}
	quoted[qn] = 0;
	if (asprintf(&json, "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}",
		     quoted) < 0)
		return err_errno(err, ENOMEM, "verify");
	return trust_policy_decode(json, strlen(json), "--key", out, err);
}

static void when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}

static const char verify_usage[] =
    "Usage: moat verify [--key PUBKEY] [--tls-verify=BOOL] IMAGE\n\n"
    "Check the signatures of an image in a registry against the trust policy (or,\n"
    "with --key, against that key alone): one line per signature, then the verdict.\n"
    "Exit status 1 when the policy is not satisfied.\n";

int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *source = NULL;
	struct image_reference ref = {0};
	struct engine_trust_report rep = {0};
	struct cli_regsetup rs = {0};
	struct registry *reg = NULL;
	struct trust_policy *p = NULL;
	struct image_trust *t = NULL;
	struct audit_log *alog = NULL;
	struct err *err = NULL;
	const char *pub = NULL;
	char top[72] = "", man[72] = "";
	size_t nt = 0;
	int tls = -1, r, rc;

	if ((r = key_image_args(argc, argv, "verify", verify_usage, &pub, &tls)) >= 0)
		return r;
	r = pub ? key_policy(pub, &p, &err)
		: engine_trust_policy_load(ctx->trust_policy, &p, NULL, &err);
	if (r == 0)
		r = engine_trust_source(argv[optind], &source, &err);
	if (r < 0) {
		trust_policy_free(p);
		return cli_fail(&err);
	}
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		trust_policy_free(p);
		return cli_fail(&err);
	}
	r = resolve_remote(argv[optind], tls, "pull", &rs, &ref, &reg, top, man, &err);
	if (r == 0) {
		r = engine_trust_verify_registry(p, reg, source, top, man, &rep, &t, &nt, &err);
		for (size_t i = 0; i < rep.n; i++) {
			const struct engine_trust_sig *s = &rep.sigs[i];
			char ts[32];

			when(s->signed_at, ts, sizeof(ts));
			printf(
			    "signature %zu: %s: key %s identity %s digest %s signed %s (%s)%s%s\n",
			    i + 1, s->counted ? "accepted" : "rejected", s->key ? s->key : "-",
			    s->identity ? s->identity : "-", s->digest ? s->digest : "-", ts,
			    s->where, s->reason ? ": " : "", s->reason ? s->reason : "");
		}
		if (rep.n == 0)
			printf("no signatures\n");
	}
	rc = cli_audit_trust(alog, "verify", source, top, r == 0 && rep.accepted,
			     rep.reason[0] ? rep.reason : (err ? err->msg : ""), rep.keys);
	audit_close(alog);
	if (r == 0)
		printf("Verified %s@%s: %s\n", source, top, rep.reason);
	image_trust_free(t, nt);
	engine_trust_report_clear(&rep);
	registry_close(reg);
	cli_regsetup_clear(&rs);
	image_reference_clear(&ref);
	trust_policy_free(p);
	if (rc)
		return rc;
	if (r == -EPERM) {
		err_prefix(&err, "%s@%s", source, top);
		cli_fail(&err);
		return 1;
	}
	return r < 0 ? cli_fail(&err) : 0;
}

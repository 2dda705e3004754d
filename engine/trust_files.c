/*
 * engine/trust_files.c - finding, reading, merging and writing the trust
 * policy files (engine/trust.h, engine/trust_files.h).
 *
 * Runs in: the moat process, as the invoking user (root for the system
 * file). The bytes go to the pure decoder in policy/trust.c; this file
 * only decides which files count and moves bytes.
 *
 * Invariants:
 *  - a file that exists but cannot be opened, is not a regular file, is
 *    larger than TRUST_POLICY_MAX_BYTES or does not decode is an error that
 *    names it; only "does not exist" (ENOENT) makes an optional file
 *    absent, so a broken policy never falls back to a looser one;
 *  - files are opened following symlinks (/etc files may be managed as
 *    symlinks, e.g. Debian alternatives), but what the fd reaches must be
 *    a regular file: O_NONBLOCK keeps a FIFO planted at the path from
 *    hanging the open, and fstat refuses it and devices and directories;
 *  - the size is capped on the fd (fs_read_fd reads one byte past the cap
 *    to see it), not trusted from st_size alone, since a file may grow;
 *  - the user's file only tightens the system's (trust_policy_tighten);
 *    with no system file it is the policy on its own, as --trust-policy
 *    would be: the same user could pass that flag anyway;
 *  - a write is atomic: a reader sees the old policy or the new one, never
 *    a prefix (temporary file in the same directory, fsync, rename, then
 *    fsync of the directory so the rename survives a crash).
 */
#include "engine/trust_files.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

static void policy_freep(struct trust_policy **p)
{
	trust_policy_free(*p);
}
#define _cleanup_policy_ __attribute__((cleanup(policy_freep)))

static void sources_clearp(struct engine_trust_sources *s)
{
	engine_trust_sources_clear(s);
}

/* HOME without trailing slashes ("/" stays "/" and gives "//.config", which
 * the kernel reads as "/.config"). */
static int user_path_under(const char *base, const char *sub, char **out, struct err **err)
{
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (asprintf(out, "%.*s%s/moat/trust-policy.json", (int)n, base, sub) < 0) {
		*out = NULL;
		return err_errno(err, ENOMEM, "trust policy path");
	}
	return 0;
}

int engine_trust_user_path(char **out, struct err **err)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	_cleanup_free_ char *pwbuf = NULL;
	struct passwd pw, *found = NULL;
	long size;

	*out = NULL;
	/* The XDG base directory spec: a relative value is to be ignored. */
	if (x && x[0] == '/')
		return user_path_under(x, "", out, err);
	if (home && home[0] == '/')
		return user_path_under(home, "/.config", out, err);
	/* getpwuid_r, not getpwuid: no static buffer shared with the caller. */
	size = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (size < 1024)
		size = 16384;
	pwbuf = malloc((size_t)size);
	if (!pwbuf)
		return err_errno(err, ENOMEM, "trust policy path");
	if (getpwuid_r(getuid(), &pw, pwbuf, (size_t)size, &found) == 0 && found && pw.pw_dir &&
	    pw.pw_dir[0] == '/')
		return user_path_under(pw.pw_dir, "/.config", out, err);
	return err_set(err, ENOENT,
		       "no home directory for the user's trust policy (set HOME or "
		       "XDG_CONFIG_HOME)");
}

void engine_trust_sources_clear(struct engine_trust_sources *src)
{
	if (!src)
		return;
	free(src->override);
	free(src->system_path);
	free(src->user_path);
	memset(src, 0, sizeof(*src));
}

int engine_trust_policy_read(const char *path, bool missing_ok, struct trust_policy **out,
			     struct err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return err_errno(err, errno, "trust policy %s", path);
	}
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "trust policy %s", path);
	if (S_ISDIR(st.st_mode))
		return err_set(err, EISDIR, "trust policy %s: is a directory, not a regular file",
			       path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "trust policy %s: not a regular file", path);
	/* Refuse early what is too big already; fs_read_fd enforces the cap
	 * on what is actually read. */
	if (st.st_size > TRUST_POLICY_MAX_BYTES)
		return err_set(err, EFBIG, "trust policy %s: larger than %d bytes", path,
			       TRUST_POLICY_MAX_BYTES);
	if (fs_read_fd(fd, TRUST_POLICY_MAX_BYTES, &buf, &len, err) < 0)
		return err_prefix(err, "trust policy %s", path);
	/* Decode errors name PATH themselves ("PATH:LINE:COL: ..."). */
	return trust_policy_decode(buf, len, path, out, err);
}

int engine_trust_policy_load_from(const char *system_path, const char *override,
				  struct trust_policy **out, struct engine_trust_sources *src,
				  struct err **err)
{
	__attribute__((cleanup(sources_clearp))) struct engine_trust_sources s = {0};
	_cleanup_policy_ struct trust_policy *sys = NULL, *user = NULL, *p = NULL;
	int ret;

	*out = NULL;
	if (src)
		memset(src, 0, sizeof(*src));
	if (override) {
		/* The override is the whole policy: neither other file is
		 * read, and it must exist (a typo must not mean "default"). */
		if (!(s.override = strdup(override)))
			return err_errno(err, ENOMEM, "trust policy");
		if ((ret = engine_trust_policy_read(override, false, &p, err)) < 0)
			return ret;
		goto done;
	}
	if (!(s.system_path = strdup(system_path)))
		return err_errno(err, ENOMEM, "trust policy");
	if ((ret = engine_trust_policy_read(system_path, true, &sys, err)) < 0)
		return ret;
	s.system_present = sys != NULL;
	ret = engine_trust_user_path(&s.user_path, err);
	if (ret == -ENOENT) {
		/* No home at all (a system account): there is no user file. */
		err_free(err);
	} else if (ret < 0) {
		return ret;
	}
	if (s.user_path && (ret = engine_trust_policy_read(s.user_path, true, &user, err)) < 0)
		return ret;
	s.user_present = user != NULL;
	if (sys && user) {
		if ((ret = trust_policy_tighten(sys, user, &p, err)) < 0)
			return ret;
	} else if (sys) {
		p = steal_ptr(sys);
	} else if (user) {
		p = steal_ptr(user);
	} else {
		p = trust_policy_default_reject();
		if (!p)
			return err_errno(err, ENOMEM, "trust policy");
		s.is_default = true;
	}
done:
	*out = steal_ptr(p);
	if (src) {
		*src = s;
		memset(&s, 0, sizeof(s));
	}
	return 0;
}

int engine_trust_policy_load(const char *override, struct trust_policy **out,
			     struct engine_trust_sources *src, struct err **err)
{
	return engine_trust_policy_load_from(ENGINE_TRUST_SYSTEM_PATH, override, out, src, err);
}

/* mkdir -p DIR, each directory it creates 0755 whatever the umask (the
 * policy must stay readable by every user moat runs as). */
static int mkdir_0755(const char *dir, struct err **err)
{
	_cleanup_free_ char *copy = strdup(dir);
	char *p;

	if (!copy)
		return err_errno(err, ENOMEM, "create directory \"%s\"", dir);
	for (p = copy + 1;; p++) {
		bool last = !*p;

		if (*p && *p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) == 0) {
			if (chmod(copy, 0755) < 0)
				return err_errno(err, errno, "chmod directory \"%s\"", copy);
		} else if (errno != EEXIST) {
			return err_errno(err, errno, "create directory \"%s\"", copy);
		}
		if (last)
			break;
		*p = '/';
	}
	return 0;
}

int engine_trust_policy_write(const char *path, const struct trust_policy *p, struct err **err)
{
	_cleanup_free_ char *text = NULL, *dir = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int ret;

	if (!*base)
		return err_set(err, EINVAL, "trust policy %s: not a file name", path);
	if ((ret = trust_policy_encode(p, &text, err)) < 0)
		return err_prefix(err, "trust policy %s", path);
	if (slash == path)
		dir = strdup("/");
	else
		dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		return err_errno(err, ENOMEM, "trust policy %s", path);
	}
	if (strcmp(dir, "/") && strcmp(dir, ".") && (ret = mkdir_0755(dir, err)) < 0)
		return ret;
	/* mkostemp: a fresh name with O_EXCL, so nothing planted at a
	 * predictable temporary name is written through. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "write trust policy %s", path);
	/* mkostemp makes 0600; the policy is for every user to read. */
	ret = fchmod(fd, 0644) < 0 ? -errno : fs_write_all(fd, text, strlen(text));
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	/* rename replaces PATH itself: when it was a symlink, the link (not
	 * its target) becomes the new file. */
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(tmp);
		return err_errno(err, -ret, "write trust policy %s", path);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return err_errno(err, errno, "write trust policy %s: sync of \"%s\"", path, dir);
	return 0;
}

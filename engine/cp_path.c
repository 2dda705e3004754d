/*
 * engine/cp_path.c - the pure half of `moat cp`: its arguments, the paths
 * the user wrote, Docker's plan for where a copy lands, and entry names.
 *
 * Runs in: both processes of a copy (the moat process on the host and
 * the helper inside the container); PURE: no system calls, no
 * filesystem, only strings in and out, so tests/unit/test_cp.c reaches
 * all of it.
 *
 * Invariants:
 *  - A path here is only text. Cleaning "a/../b" into "b" is lexical, as
 *    Docker's filepath.Clean: it says nothing about what the kernel will
 *    find, and nothing here resolves anything. The clean path is resolved
 *    later beneath the right root (engine/cp_tree.c); a symlink in it can
 *    therefore not turn a lexical ".." into an escape.
 *  - engine_cp_name_clean is what makes an entry name safe to resolve
 *    beneath a destination: relative, no "..", no "." or empty
 *    components. Every name from the other process or a tar stream goes
 *    through it before it names anything (CVE-2018-15664: the names are
 *    as untrusted as the container that made them).
 *  - Every output is bounded by CP_PATH_MAX or the caller's CAP: longer
 *    input is an error, never a truncation that would name something else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cp.h"
#include "engine/cp_internal.h"

int engine_cp_split_arg(const char *arg, char **ctr, const char **path, struct err **err)
{
	const char *colon = strchr(arg, ':');

	*ctr = NULL;
	*path = arg;
	/* Docker: an absolute path, no ':', an empty container part or an
	 * explicit relative path ("./a:b") is local. */
	if (arg[0] == '/' || !colon || colon == arg || arg[0] == '.')
		return 0;
	*ctr = strndup(arg, (size_t)(colon - arg));
	if (!*ctr)
		return err_errno(err, ENOMEM, "arguments");
	*path = colon + 1;
	return 0;
}

/* Go's path.Clean: ".." above the root stays at the root, ".." above a
 * relative start is kept (the caller decides what that means). */
void engine_cp_path_clean(const char *in, char *out)
{
	bool rooted = in[0] == '/';
	size_t w = 0, dotdot = 0;
	const char *p = in;

	if (rooted)
		out[w++] = '/', dotdot = 1;
	while (*p) {
		size_t n;

		if (*p == '/') {
			p++;
			continue;
		}
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			p++;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			p += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
			continue;
		}
		if ((rooted && w != 1) || (!rooted && w != 0))
			out[w++] = '/';
		memcpy(out + w, p, n);
		w += n;
		p += n;
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = 0;
}

void engine_cp_path_split(const char *path, char *dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		strcpy(dir, ".");
		*base = path;
	} else if (slash == path) {
		strcpy(dir, "/");
		*base = path + 1;
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = 0;
		*base = slash + 1;
	}
}

int engine_cp_path_parse(const char *in, bool in_container, struct cp_path *p, struct err **err)
{
	char tmp[CP_PATH_MAX + 2], dir[CP_PATH_MAX + 2];
	size_t n = strlen(in);
	const char *base;

	memset(p, 0, sizeof(*p));
	if (n == 0 && !in_container)
		return err_set(err, EINVAL, "empty path");
	if (n > CP_PATH_MAX - 1)
		return err_set(err, ENAMETOOLONG, "path too long: \"%.64s...\"", in);
	/* Container paths are relative to its root (Docker). */
	snprintf(tmp, sizeof(tmp), "%s%s", in_container && in[0] != '/' ? "/" : "", in);
	n = strlen(tmp);
	p->contents = !strcmp(tmp, ".") || (n >= 2 && !strcmp(tmp + n - 2, "/."));
	p->asserts_dir = tmp[n - 1] == '/' || p->contents;
	engine_cp_path_clean(tmp, p->clean);
	engine_cp_path_split(p->clean, dir, &base);
	if (!strcmp(p->clean, "/") || !strcmp(base, ".") || !strcmp(base, ".."))
		p->contents = true;
	p->name = p->contents ? "." : base;
	return 0;
}

/* The order of the checks is Docker's: its messages for a directory onto
 * a file and a file into "missing/" are what users and scripts see. */
int engine_cp_plan(bool src_is_dir, const char *src_name, const struct engine_cp_dest *d,
		   bool *into_parent, const char **name, struct err **err)
{
	if (d->exists && d->is_dir) {
		*into_parent = false;
		*name = src_name;
		return 0;
	}
	if (d->exists && !d->is_reg)
		return err_set(err, EINVAL,
			       "destination \"%s\" must be a directory or a regular file", d->show);
	if (d->exists && src_is_dir)
		return err_set(err, EISDIR, "cannot copy a directory to a file: \"%s\"", d->show);
	if (d->exists && d->asserts_dir)
		return err_set(err, ENOTDIR, "\"%s\" is not a directory", d->show);
	if (!d->exists && !src_is_dir && d->asserts_dir)
		return err_set(err, ENOENT, "no such directory \"%s\"", d->show);
	/* Created (or overwritten) in its parent under its own name. */
	*into_parent = true;
	*name = d->base;
	return 0;
}

/*
 * The one gate for entry names (records and tar streams alike): only
 * "/", "." and ".." are special to the kernel in a path, so dropping the
 * first two and refusing the third leaves a name that stays beneath the
 * directory it is resolved in, as long as that resolution follows no
 * symlink (engine/cp_tree.c sees to that).
 */
int engine_cp_name_clean(const char *in, char *out, size_t cap, struct err **err)
{
	size_t w = 0;
	const char *p = in;

	if (cap == 0)
		return err_set(err, ENAMETOOLONG, "entry name too long: \"%.64s...\"", in);
	while (*p) {
		size_t n;

		if (*p == '/') {
			p++;
			continue;
		}
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			p++;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set(err, EINVAL, "unsafe entry name \"%.200s\" (\"..\")", in);
		if (w + (w ? 1 : 0) + n + 1 > cap)
			return err_set(err, ENAMETOOLONG, "entry name too long: \"%.64s...\"", in);
		if (w)
			out[w++] = '/';
		memcpy(out + w, p, n);
		w += n;
		p += n;
	}
	out[w] = 0;
	return 0;
}

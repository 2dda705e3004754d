/*
 * engine/config.c - PURE: image config + run flags -> the process to run;
 * user resolution against the image's passwd/group text.
 *
 * Docker's rules: argv = Entrypoint ++ Cmd; a user command replaces Cmd; a
 * user entrypoint replaces Entrypoint and drops the image Cmd; -e overrides
 * image Env per key; WorkingDir must be absolute; a user missing from the
 * image's passwd is an error, a numeric one is not.
 */
#include "engine/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

/* Appends a copy of S to *V (NULL-terminated, length *N). */
static int push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* Sets KEY=VALUE in env vector V, replacing an existing KEY. */
static int env_set(char ***v, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < *n; i++) {
		if (!strncmp((*v)[i], kv, klen) && (*v)[i][klen] == '=') {
			char *c = strdup(kv);
			if (!c)
				return -ENOMEM;
			free((*v)[i]);
			(*v)[i] = c;
			return 0;
		}
	}
	return push(v, n, kv);
}

static bool env_has(char *const *v, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; v && v[i]; i++)
		if (!strncmp(v[i], key, klen) && v[i][klen] == '=')
			return true;
	return false;
}

void engine_process_free(struct run_process *p)
{
	strvfree(p->argv);
	strvfree(p->env);
	free(p->cwd);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

int engine_process_build(const struct image_config *cfg, const struct run_request *req,
			 const char *hostname, char *const *host_env, struct run_process *out,
			 struct err **err)
{
	char *const *entry = cfg ? cfg->entrypoint : NULL, *const *cmd = cfg ? cfg->cmd : NULL;
	char *user_entry[2] = {req->entrypoint, NULL};
	size_t na = 0, ne = 0;
	char buf[512];

	memset(out, 0, sizeof(*out));
	if (req->entrypoint) {
		entry = req->entrypoint[0] ? user_entry : NULL;
		cmd = NULL; /* a new entrypoint drops the image Cmd */
	}
	if (req->cmd && req->cmd[0])
		cmd = req->cmd;
	for (size_t i = 0; entry && entry[i]; i++)
		if (push(&out->argv, &na, entry[i]) < 0)
			goto oom;
	for (size_t i = 0; cmd && cmd[i]; i++)
		if (push(&out->argv, &na, cmd[i]) < 0)
			goto oom;
	if (na == 0) {
		engine_process_free(out);
		return err_set(err, EINVAL,
			       "no command specified (the image has no Cmd or Entrypoint)");
	}

	for (size_t i = 0; cfg && cfg->env && cfg->env[i]; i++)
		if (strchr(cfg->env[i], '=') && env_set(&out->env, &ne, cfg->env[i]) < 0)
			goto oom;
	if (!env_has(out->env, "PATH") &&
	    push(&out->env, &ne,
		 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
		goto oom;
	if (hostname) {
		snprintf(buf, sizeof(buf), "HOSTNAME=%s", hostname);
		if (env_set(&out->env, &ne, buf) < 0)
			goto oom;
	}
	if (req->tty && !env_has(out->env, "TERM") && push(&out->env, &ne, "TERM=xterm") < 0)
		goto oom;
	for (size_t i = 0; req->env && req->env[i]; i++) {
		const char *e = req->env[i];

		if (!e[0] || e[0] == '=') {
			engine_process_free(out);
			return err_set(err, EINVAL, "invalid environment variable \"%s\"", e);
		}
		if (!strchr(e, '=')) {
			/* Bare "-e K": the host's value, or nothing when unset. */
			const char *hv = NULL;
			size_t kl = strlen(e);
			for (size_t j = 0; host_env && host_env[j]; j++)
				if (!strncmp(host_env[j], e, kl) && host_env[j][kl] == '=')
					hv = host_env[j];
			if (hv && env_set(&out->env, &ne, hv) < 0)
				goto oom;
			continue;
		}
		if (env_set(&out->env, &ne, e) < 0)
			goto oom;
	}

	const char *wd = req->workdir && req->workdir[0]	  ? req->workdir
			 : cfg && cfg->workdir && cfg->workdir[0] ? cfg->workdir
								  : "/";
	if (wd[0] != '/') {
		engine_process_free(out);
		return err_set(
		    err, EINVAL,
		    "the working directory \"%s\" is invalid: it needs to be an absolute path", wd);
	}
	out->cwd = strdup(wd);
	out->user = strdup(req->user ? req->user : cfg && cfg->user ? cfg->user : "");
	if (!out->cwd || !out->user)
		goto oom;
	return 0;
oom:
	engine_process_free(out);
	return err_errno(err, ENOMEM, "build the container process");
}

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out < 0xffffffffUL;
}

/* Finds a line of a colon file whose field 0 (by name) or field 2 (by id)
 * matches. Copies fields into F (up to NF) from a private copy in LINE. */
static bool find_entry(const char *text, const char *name, unsigned long id, bool by_id, char *line,
		       size_t linesz, char **f, size_t nf)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t k = 0;
		char *s, *save = NULL;

		if (len < linesz && p[0] != '#') {
			memcpy(line, p, len);
			line[len] = 0;
			/* strsep keeps empty fields */
			s = line;
			for (k = 0; k < nf; k++)
				f[k] = NULL;
			for (k = 0; k < nf && s; k++)
				f[k] = strsep(&s, ":");
			(void)save;
			if (f[0] && f[2]) {
				unsigned long v;
				if (by_id ? (parse_id(f[2], &v) && v == id) : !strcmp(f[0], name))
					return true;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

int engine_user_resolve(const char *spec, const char *passwd, const char *group,
			struct user_ids *out, struct err **err)
{
	char user[256], grp[256], line[1024];
	char *f[7];
	const char *colon;
	unsigned long v;
	bool have_pw = false;

	memset(out, 0, sizeof(*out));
	snprintf(out->home, sizeof(out->home), "/");
	if (!spec || !*spec)
		spec = "0"; /* root, even in an image without /etc/passwd */
	colon = strchr(spec, ':');
	if (strlen(spec) >= sizeof(user))
		return err_set(err, EINVAL, "user \"%s\" is too long", spec);
	snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	snprintf(grp, sizeof(grp), "%s", colon ? colon + 1 : "");
	if (colon && !grp[0])
		return err_set(err, EINVAL, "invalid user \"%s\": empty group", spec);
	if (!user[0])
		return err_set(err, EINVAL, "invalid user \"%s\": empty user", spec);

	if (parse_id(user, &v)) {
		out->uid = (uid_t)v;
		out->gid = 0;
		if (passwd && find_entry(passwd, NULL, v, true, line, sizeof(line), f, 7))
			have_pw = true;
	} else {
		if (!passwd || !find_entry(passwd, user, 0, false, line, sizeof(line), f, 7))
			return err_set(err, ENOENT,
				       "unable to find user %s: no matching entries in passwd file",
				       user);
		if (!f[2] || !parse_id(f[2], &v))
			return err_set(err, EINVAL, "passwd entry of %s has a bad uid", user);
		out->uid = (uid_t)v;
		have_pw = true;
	}
	if (have_pw) {
		if (f[3] && parse_id(f[3], &v))
			out->gid = (gid_t)v;
		if (f[5] && f[5][0] == '/')
			snprintf(out->home, sizeof(out->home), "%s", f[5]);
	}
	char pwname[256];
	snprintf(pwname, sizeof(pwname), "%s", have_pw && f[0] ? f[0] : user);

	if (grp[0]) {
		if (parse_id(grp, &v)) {
			out->gid = (gid_t)v;
		} else {
			if (!group || !find_entry(group, grp, 0, false, line, sizeof(line), f, 4))
				return err_set(
				    err, ENOENT,
				    "unable to find group %s: no matching entries in group file",
				    grp);
			if (!f[2] || !parse_id(f[2], &v))
				return err_set(err, EINVAL, "group entry of %s has a bad gid", grp);
			out->gid = (gid_t)v;
		}
		out->groups[out->n_groups++] = out->gid;
		return 0;
	}
	/* No group given: primary plus every group listing the user. */
	out->groups[out->n_groups++] = out->gid;
	for (const char *p = group; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len < sizeof(line)) {
			char *s = line, *gf[4] = {0}, *m;
			memcpy(line, p, len);
			line[len] = 0;
			for (size_t k = 0; k < 4 && s; k++)
				gf[k] = strsep(&s, ":");
			while (gf[3] && (m = strsep(&gf[3], ",")))
				if (!strcmp(m, pwname) && gf[2] && parse_id(gf[2], &v) &&
				    (gid_t)v != out->gid && out->n_groups < 64)
					out->groups[out->n_groups++] = (gid_t)v;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

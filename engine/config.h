/*
 * engine/config.h - PURE: how image config and `run` flags combine
 * (Docker's rules), and user/group resolution against the image's
 * /etc/passwd and /etc/group text.
 */
#ifndef MOAT_ENGINE_CONFIG_H
#define MOAT_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "image/image.h"

struct run_request {
	char **cmd;	  /* after IMAGE; NULL or empty = image default */
	char *entrypoint; /* NULL = image's; "" = none */
	char **env;	  /* -e values: "K=V", or "K" (taken from HOST_ENV) */
	char *workdir;	  /* -w */
	char *user;	  /* -u */
	char *hostname;	  /* --hostname */
	bool tty;
};

struct run_process {
	char **argv;
	char **env;
	char *cwd;
	char *user; /* the user spec to resolve ("" = root) */
};

/* Merges CFG (may be NULL) and REQ into OUT. HOST_ENV resolves bare "-e K". */
int engine_process_build(const struct image_config *cfg, const struct run_request *req,
			 const char *hostname, char *const *host_env, struct run_process *out,
			 struct err **err);
void engine_process_free(struct run_process *p);

struct user_ids {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	size_t n_groups;
	char home[256];
};

/* Resolves SPEC ("name", "uid", "name:group", "uid:gid", ...) against the
 * text of passwd and group files (either may be NULL when absent). */
int engine_user_resolve(const char *spec, const char *passwd, const char *group,
			struct user_ids *out, struct err **err);

#endif

/*
 * engine/tenant_files.h - the tenant policy's files and its enforcement
 * at create: which files count, reading them (refusing, as root, one
 * that another user could have written), merging them, building the
 * request from what create decided, and the "policy.decision" record.
 *
 * Runs in: the moat process, as the invoking user or root.
 */
#ifndef MOAT_ENGINE_TENANT_FILES_H
#define MOAT_ENGINE_TENANT_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "common/err.h"
#include "engine/config.h"
#include "engine/lifecycle.h"
#include "engine/netreq.h"
#include "image/image.h"
#include "policy/tenant.h"

#define ENGINE_TENANT_SYSTEM_DIR "/etc/moat/policy.d"
#define ENGINE_TENANT_MAX_FILES 100

/* Where the effective policy came from (for `moat policy show`). */
struct engine_tenant_sources {
	char *override;	 /* --policy FILE, or NULL */
	char **system;	 /* the system files read, in order (NULL-terminated) */
	char *user_path; /* the user's file's path (read or not), or NULL */
	bool user_present;
	bool is_empty; /* no file at all: no restrictions */
};
void engine_tenant_sources_clear(struct engine_tenant_sources *s);

/* OVERRIDE replaces both; else every SYSTEM_DIR/ *.json (sorted) applies,
 * then the user's $XDG_CONFIG_HOME/moat/policy.json tightens. STRICT_OWNER
 * (running as root): a file or directory not owned by root or writable by
 * group or others is refused. SRC may be NULL. */
int engine_tenant_policy_load_from(const char *system_dir, const char *override, bool strict_owner,
				   struct tenant_policy **out, struct engine_tenant_sources *src,
				   struct err **err);
int engine_tenant_policy_load(const struct engine_ctx *c, struct tenant_policy **out,
			      struct engine_tenant_sources *src, struct err **err);

/* The request as create decided it: IMG resolved from O->image, PROC
 * built, CAPS the final bounding set, USERNS the identity's mode name.
 * Pointers in *Q borrow from the arguments (and from SECCOMP_BUF, which
 * holds the canonical path of a seccomp profile file). */
void engine_tenant_request(const struct engine_ctx *c, const struct engine_create_opts *o,
			   const struct image *img, const struct run_process *proc, uint64_t caps,
			   const char *userns, struct engine_limits *limits, char *seccomp_buf,
			   size_t seccomp_len, struct tenant_request *q);

/* Loads the policy and decides Q; on deny -EPERM with "policy: RULE:
 * REASON". D and APPLIED (whether any policy file counted) may be NULL. */
int engine_tenant_decide(const struct engine_ctx *c, struct tenant_request *q,
			 struct tenant_decision *d, bool *applied, struct err **err);

/* The network create settled, for the policy: NAME the network's own
 * name ("none", "host", or the name of the network a name, id or prefix
 * resolved to), NQ the checked request (network_id, the -p specs with
 * -P's expansion). */
struct engine_tenant_net {
	const char *name;
	const struct engine_netreq *nq;
	const char *driver; /* the network's driver as create read it (NULL:
			     * read from the record by id) */
};

/* create's one call: builds the request, decides, writes the
 * "policy.decision" record, and copies into SETTLED the limits the
 * policy's defaults filled where O->limits left them unset. NET's driver
 * is read from the network's record (by id) when a rule needs it. */
int engine_tenant_enforce(const struct engine_ctx *c, const struct engine_create_opts *o,
			  const struct image *img, const struct run_process *proc, uint64_t caps,
			  const char *userns, const struct engine_tenant_net *net,
			  const struct tenant_mount *mounts, size_t n_mounts,
			  struct engine_limits *settled, struct err **err);
/* start's re-check of the binds as they are now (real paths of the
 * opened sources): the mount rules only; a denial is audited like
 * create's ("policy.decision", action "start"). */
int engine_tenant_check_mounts(const struct engine_ctx *c, const struct tenant_mount *mounts,
			       size_t n, struct err **err);

/* A "policy.decision" record: ACTION ("create", "check"), IMAGE, the
 * verdict, RULE, REASON and TENANT ("" for default). NULL on ENOMEM. */
struct audit_event *engine_policy_event(const char *action, const char *image,
					const struct tenant_decision *d);

#endif

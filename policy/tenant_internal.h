/*
 * policy/tenant_internal.h - what the tenant policy's source files share:
 * policy/tenant.c (decoding, tightening, evaluation), policy/tenant_storage.c
 * (the storage rules: "bindMounts", "volumeDrivers", "forbidTmpfs"),
 * policy/tenant_net.c (the network rules: "networks", "publish") and
 * policy/tenant_encode.c (the encoder).
 *
 * NOT a public API: only those four files include it. Everyone else uses
 * policy/tenant.h, which stays the contract; what is declared here may
 * change with them.
 *
 * Runs in: any process. PURE, like the files that share it: nothing here
 * makes a system call or touches a file.
 *
 * Invariants:
 *  - one definition of each helper, in the file named beside it;
 *  - decoders fail through policy_dec_fail() (policy/decode.h), so every
 *    error names the file and the JSON path; quoted policy text goes
 *    through policy_quote();
 *  - string vectors are NULL-terminated and own their strings; NULL means
 *    "no list" (no restriction), an empty vector "nothing"; they are freed
 *    with strvfree() (common/cleanup.h).
 */
#ifndef MOAT_POLICY_TENANT_INTERNAL_H
#define MOAT_POLICY_TENANT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/decode.h"
#include "policy/tenant.h"

#define TENANT_CAP_COUNT 41 /* 0..CAP_CHECKPOINT_RESTORE */
#define TENANT_PATH_MAX_LEN 4096

/* The rule keys tenant_storage_decode() reads, for the unknown-key check
 * of a rule set. */
#define TENANT_STORAGE_KEYS "bindMounts", "volumeDrivers", "forbidTmpfs"
/* The rule keys tenant_net_decode() reads. */
#define TENANT_NET_KEYS "networks", "publish"

/* ---- tenant.c: decoding helpers ---- */

/* BUF := A "." B (B alone when A is empty); a path cut to SIZE still
 * names the place. */
void tenant_path_join(char *buf, size_t size, const char *a, const char *b);
/* OBJ's KEY into *OUT when present; not a boolean is an error at
 * PATH.KEY. */
int tenant_get_bool(struct policy_dec *d, const char *path, json_t *obj, const char *key,
		    bool *out);
/* V as a string of at most MAX bytes and no NUL byte, else an error at
 * PATH. *OUT points into V. */
int tenant_get_string(struct policy_dec *d, const char *path, json_t *v, size_t max,
		      const char **out);

/* ---- tenant.c: string vectors (-ENOMEM on failure) ---- */

/* *OUT := a copy of V (NULL for NULL). On failure *OUT holds what was
 * copied, for the caller to free. */
int tenant_strv_dup(char **v, char ***out);
bool tenant_strv_has(char **v, const char *s);
/* Appends S to *V (of *N strings) unless it is there already. */
int tenant_strv_add(char ***v, size_t *n, const char *s);
/* *A := *A with every string of U it lacks added (a NULL *A becomes a
 * list when U has anything). */
int tenant_strv_union(char ***a, char **u);

/* ---- tenant.c: evaluation ---- */

/* D := a denial by rule PREFIX.RULE (PREFIX alone for an empty RULE) with
 * the reason FMT. Returns TENANT_DENY. */
__attribute__((format(printf, 4, 5))) enum tenant_verdict
tenant_deny(struct tenant_decision *d, const char *prefix, const char *rule, const char *fmt, ...);

/* ---- tenant_storage.c: the storage rules ---- */

/* The storage keys (TENANT_STORAGE_KEYS) of the rule object J at PATH
 * into R; the keys were checked by the caller. */
int tenant_storage_decode(struct policy_dec *d, const char *path, json_t *j,
			  struct tenant_rules *r);
/* A's storage rules := tightened by U's (see tenant_policy_tighten). */
int tenant_storage_tighten(struct tenant_rules *a, const struct tenant_rules *u);
/* Q's mounts against R's storage rules, each in order; the first that
 * fails denies (in D, rule paths under PRE). */
enum tenant_verdict tenant_storage_check(const struct tenant_rules *r, const char *pre,
					 const struct tenant_request *q, struct tenant_decision *d);
/* R's storage rules into the rule object O. */
int tenant_storage_encode(const struct tenant_rules *r, json_t *o);

/* ---- tenant_net.c: the network rules ---- */

/* The network keys (TENANT_NET_KEYS) of the rule object J at PATH into
 * R; the keys were checked by the caller. */
int tenant_net_decode(struct policy_dec *d, const char *path, json_t *j, struct tenant_rules *r);
/* D's network rules := copies of S's (the rest of D is the caller's);
 * -ENOMEM, with what was copied left in D for tenant_net_clear. */
int tenant_net_copy(const struct tenant_rules *s, struct tenant_rules *d);
/* Frees R's network rules (the fields stay dangling: the caller clears
 * R). */
void tenant_net_clear(struct tenant_rules *r);
/* A's network rules := tightened by U's (see tenant_policy_tighten). */
int tenant_net_tighten(struct tenant_rules *a, const struct tenant_rules *u);
/* Q's network and published ports against R's network rules (in D, rule
 * paths under PRE). */
enum tenant_verdict tenant_net_check(const struct tenant_rules *r, const char *pre,
				     const struct tenant_request *q, struct tenant_decision *d);
/* R's network rules into the rule object O. */
int tenant_net_encode(const struct tenant_rules *r, json_t *o);

/* ---- tenant_encode.c: encoding helpers ---- */

/* O[K] := V, taking V; a NULL V (a failed allocation) is -ENOMEM. */
int tenant_json_set(json_t *o, const char *k, json_t *v);
/* V as a JSON array of strings (empty for NULL); NULL on ENOMEM. */
json_t *tenant_json_strv(char **v);

#endif

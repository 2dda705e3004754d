/*
 * policy/seccomp_profile.c - decoding of Docker-format seccomp profiles
 * (see seccomp_profile.h).
 *
 * Runs in: any process, before the container exists. Pure: no system
 * calls, no file I/O; the input is untrusted bytes (a user's profile) and
 * this file is what fuzz/seccomp_profile_fuzz.c exercises.
 *
 * Invariants:
 *  - the size cap is checked before jansson sees the bytes;
 *  - every string copied out was checked for embedded NULs (json_get_*),
 *    syscall names are limited to [A-Za-z0-9_] so a warning that prints
 *    one cannot carry terminal escapes;
 *  - an action, op or flag this file does not know is an error naming the
 *    entry, never a silent default: a typo must not weaken a filter;
 *  - decode either returns a complete profile or frees everything it built.
 */
#include "policy/seccomp_profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "policy/caps.h"

int policy_seccomp_cap_from_name(const char *name)
{
	return policy_cap_from_name(name);
}

/* Canonical libseccomp name first, then the spellings Docker profiles use
 * (Go's GOARCH values in includes/excludes "arches"). */
static const char *const arch_aliases[][4] = {
    {"SCMP_ARCH_X86", "x86", "386", "i386"},
    {"SCMP_ARCH_X86_64", "amd64", "x86_64", NULL},
    {"SCMP_ARCH_X32", "x32", NULL, NULL},
    {"SCMP_ARCH_ARM", "arm", NULL, NULL},
    {"SCMP_ARCH_AARCH64", "arm64", "aarch64", NULL},
    {"SCMP_ARCH_MIPS", "mips", NULL, NULL},
    {"SCMP_ARCH_MIPSEL", "mipsle", "mipsel", NULL},
    {"SCMP_ARCH_MIPS64", "mips64", NULL, NULL},
    {"SCMP_ARCH_MIPSEL64", "mips64le", "mipsel64", NULL},
    {"SCMP_ARCH_MIPS64N32", "mips64n32", NULL, NULL},
    {"SCMP_ARCH_MIPSEL64N32", "mips64len32", "mipsel64n32", NULL},
    {"SCMP_ARCH_PPC", "ppc", NULL, NULL},
    {"SCMP_ARCH_PPC64", "ppc64", NULL, NULL},
    {"SCMP_ARCH_PPC64LE", "ppc64le", NULL, NULL},
    {"SCMP_ARCH_S390", "s390", NULL, NULL},
    {"SCMP_ARCH_S390X", "s390x", NULL, NULL},
    {"SCMP_ARCH_PARISC", "parisc", NULL, NULL},
    {"SCMP_ARCH_PARISC64", "parisc64", NULL, NULL},
    {"SCMP_ARCH_RISCV64", "riscv64", NULL, NULL},
    {"SCMP_ARCH_LOONGARCH64", "loong64", "loongarch64", NULL},
    {"SCMP_ARCH_M68K", "m68k", NULL, NULL},
    {"SCMP_ARCH_SH", "sh", NULL, NULL},
    {"SCMP_ARCH_SHEB", "sheb", NULL, NULL},
};

const char *policy_seccomp_arch_canonical(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(arch_aliases); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(arch_aliases[i]) && arch_aliases[i][j]; j++) {
			if (!strcmp(name, arch_aliases[i][j]))
				return arch_aliases[i][0];
		}
	}
	return NULL;
}

static const struct {
	const char *name;
	enum policy_seccomp_action action;
} actions[] = {
    {"SCMP_ACT_ALLOW", POLICY_SECCOMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", POLICY_SECCOMP_ACT_ERRNO},
    {"SCMP_ACT_KILL", POLICY_SECCOMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", POLICY_SECCOMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", POLICY_SECCOMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", POLICY_SECCOMP_ACT_TRAP},
    {"SCMP_ACT_TRACE", POLICY_SECCOMP_ACT_TRACE},
    {"SCMP_ACT_LOG", POLICY_SECCOMP_ACT_LOG},
};

const char *policy_seccomp_action_name(enum policy_seccomp_action a)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		/* SCMP_ACT_KILL comes first for KILL_THREAD; prefer the
		 * explicit name. */
		if (actions[i].action == a && strcmp(actions[i].name, "SCMP_ACT_KILL"))
			return actions[i].name;
	}
	return "?";
}

static const struct {
	const char *name;
	enum policy_seccomp_op op;
} ops[] = {
    {"SCMP_CMP_NE", POLICY_SECCOMP_OP_NE},
    {"SCMP_CMP_LT", POLICY_SECCOMP_OP_LT},
    {"SCMP_CMP_LE", POLICY_SECCOMP_OP_LE},
    {"SCMP_CMP_EQ", POLICY_SECCOMP_OP_EQ},
    {"SCMP_CMP_GE", POLICY_SECCOMP_OP_GE},
    {"SCMP_CMP_GT", POLICY_SECCOMP_OP_GT},
    {"SCMP_CMP_MASKED_EQ", POLICY_SECCOMP_OP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned int flag;
} flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", POLICY_SECCOMP_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", POLICY_SECCOMP_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", POLICY_SECCOMP_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", POLICY_SECCOMP_FLAG_WAIT_KILLABLE_RECV},
};

/* Bounded so that a number never overflows; kernels are far below. */
static int parse_uint(const char **p, unsigned int *out)
{
	unsigned int v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > 1000000)
			return -EINVAL;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

int policy_seccomp_kernel_parse(const char *s, bool strict, struct seccomp_kernel_version *out)
{
	struct seccomp_kernel_version v = {0, 0};
	const char *p = s;

	if (!s || parse_uint(&p, &v.major) < 0)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (parse_uint(&p, &v.minor) < 0)
			return -EINVAL;
	}
	if (strict && *p)
		return -EINVAL;
	*out = v;
	return 0;
}

static int kernel_cmp(const struct seccomp_kernel_version *a,
		      const struct seccomp_kernel_version *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	return 0;
}

static bool arch_listed(char **arches, const char *native)
{
	for (char **a = arches; a && *a; a++) {
		if (!strcmp(*a, native))
			return true;
	}
	return false;
}

bool policy_seccomp_syscall_applies(const struct seccomp_syscall *s, uint64_t caps,
				    const char *native_arch,
				    const struct seccomp_kernel_version *kernel)
{
	static const struct seccomp_kernel_version none = {0, 0};
	const char *native = policy_seccomp_arch_canonical(native_arch);

	if (!kernel)
		kernel = &none;
	if (!native)
		native = native_arch ? native_arch : "";

	/* includes: all of these must hold. */
	if (s->includes.has_caps &&
	    (s->includes.unknown_cap || (caps & s->includes.caps) != s->includes.caps))
		return false;
	if (s->includes.arches && s->includes.arches[0] && !arch_listed(s->includes.arches, native))
		return false;
	if (s->includes.has_min_kernel && kernel_cmp(kernel, &s->includes.min_kernel) < 0)
		return false;

	/* excludes: any of these rules the entry out. An unknown capability
	 * is never held, so it excludes nothing. */
	if (s->excludes.has_caps && (caps & s->excludes.caps))
		return false;
	if (arch_listed(s->excludes.arches, native))
		return false;
	if (s->excludes.has_min_kernel && kernel_cmp(kernel, &s->excludes.min_kernel) >= 0)
		return false;
	return true;
}

static void match_free(struct seccomp_match *m)
{
	strvfree(m->arches);
	m->arches = NULL;
}

static void syscall_free(struct seccomp_syscall *s)
{
	strvfree(s->names);
	free(s->args);
	match_free(&s->includes);
	match_free(&s->excludes);
	free(s->comment);
}

void policy_seccomp_free(struct seccomp_profile *p)
{
	if (!p)
		return;
	strvfree(p->architectures);
	for (size_t i = 0; i < p->n_arch_map; i++) {
		free(p->arch_map[i].arch);
		strvfree(p->arch_map[i].sub_arches);
	}
	free(p->arch_map);
	for (size_t i = 0; i < p->n_syscalls; i++)
		syscall_free(&p->syscalls[i]);
	free(p->syscalls);
	free(p);
}

/* A non-negative JSON integer; *present says whether KEY was there. */
static int get_u64(json_t *obj, const char *key, uint64_t max, uint64_t *out, bool *present,
		   const char *ctx, struct err **err)
{
	json_t *v = json_object_get(obj, key);

	*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_set(err, EINVAL, "%s: \"%s\" must be a non-negative integer", ctx, key);
	if ((uint64_t)json_integer_value(v) > max)
		return err_set(err, EINVAL, "%s: \"%s\" is larger than %llu", ctx, key,
			       (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	*present = true;
	return 0;
}

/* A string member that must be present. */
static int get_req_str(json_t *obj, const char *key, char **out, const char *ctx, struct err **err)
{
	if (json_get_str(obj, key, out, ctx, err) < 0)
		return err_ret(*err);
	if (!*out)
		return err_set(err, EINVAL, "%s: \"%s\" is missing", ctx, key);
	return 0;
}

static int parse_action(const char *name, enum policy_seccomp_action *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (!strcmp(name, actions[i].name)) {
			*out = actions[i].action;
			return 0;
		}
	}
	return -EINVAL;
}

/* The action plus its errnoRet, as "defaultAction"/"defaultErrnoRet" or
 * "action"/"errnoRet". */
static int decode_action(json_t *obj, const char *akey, const char *ekey,
			 enum policy_seccomp_action *action, uint32_t *errno_ret, const char *ctx,
			 struct err **err)
{
	_cleanup_free_ char *name = NULL;
	uint64_t e = POLICY_SECCOMP_DEFAULT_ERRNO;
	bool has_errno = false;

	if (get_req_str(obj, akey, &name, ctx, err) < 0)
		return err_ret(*err);
	if (parse_action(name, action) < 0)
		return err_set(err, EINVAL, "%s: unknown action \"%.64s\"", ctx, name);
	if (get_u64(obj, ekey, 0xffff, &e, &has_errno, ctx, err) < 0)
		return err_ret(*err);
	if (has_errno && *action != POLICY_SECCOMP_ACT_ERRNO && *action != POLICY_SECCOMP_ACT_TRACE)
		return err_set(err, EINVAL,
			       "%s: \"%s\" applies only to SCMP_ACT_ERRNO and "
			       "SCMP_ACT_TRACE, not %s",
			       ctx, ekey, name);
	*errno_ret = (uint32_t)e;
	return 0;
}

static bool valid_syscall_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}

/* Replaces every known arch name in V by its canonical spelling. */
static int canonicalise_arches(char **v, const char *ctx, struct err **err)
{
	for (char **a = v; a && *a; a++) {
		const char *c = policy_seccomp_arch_canonical(*a);
		char *dup;

		if (!c || !strcmp(c, *a))
			continue;
		dup = strdup(c);
		if (!dup)
			return err_errno(err, ENOMEM, "%s", ctx);
		free(*a);
		*a = dup;
	}
	return 0;
}

static int decode_match(json_t *obj, const char *key, struct seccomp_match *m, const char *pctx,
			struct err **err)
{
	json_t *v = json_object_get(obj, key);
	_cleanup_strv_ char **caps = NULL;
	_cleanup_free_ char *min_kernel = NULL;
	char ctx[600];

	if (!v || json_is_null(v))
		return 0;
	snprintf(ctx, sizeof(ctx), "%s: %s", pctx, key);
	if (!json_is_object(v))
		return err_set(err, EINVAL, "%s: must be an object", ctx);
	if (json_get_strv(v, "caps", &caps, ctx, err) < 0 ||
	    json_get_strv(v, "arches", &m->arches, ctx, err) < 0 ||
	    json_get_str(v, "minKernel", &min_kernel, ctx, err) < 0)
		return err_ret(*err);
	if (canonicalise_arches(m->arches, ctx, err) < 0)
		return err_ret(*err);
	for (char **c = caps; c && *c; c++) {
		int n = policy_seccomp_cap_from_name(*c);

		m->has_caps = true;
		if (n < 0)
			m->unknown_cap = true;
		else
			m->caps |= UINT64_C(1) << n;
	}
	if (min_kernel) {
		if (policy_seccomp_kernel_parse(min_kernel, true, &m->min_kernel) < 0)
			return err_set(err, EINVAL,
				       "%s: minKernel \"%.32s\" is not a version like \"4.8\"", ctx,
				       min_kernel);
		m->has_min_kernel = true;
	}
	return 0;
}

static int decode_arg(json_t *a, struct seccomp_arg *out, const char *ctx, struct err **err)
{
	_cleanup_free_ char *op = NULL;
	uint64_t index = 0;
	bool present;
	size_t i;

	if (!json_is_object(a))
		return err_set(err, EINVAL, "%s: must be an object", ctx);
	if (get_u64(a, "index", POLICY_SECCOMP_MAX_ARG, &index, &present, ctx, err) < 0 ||
	    get_u64(a, "value", UINT64_MAX, &out->value, &present, ctx, err) < 0 ||
	    get_u64(a, "valueTwo", UINT64_MAX, &out->value_two, &present, ctx, err) < 0 ||
	    get_req_str(a, "op", &op, ctx, err) < 0)
		return err_ret(*err);
	out->index = (unsigned int)index;
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!strcmp(op, ops[i].name)) {
			out->op = ops[i].op;
			return 0;
		}
	}
	return err_set(err, EINVAL, "%s: unknown op \"%.64s\"", ctx, op);
}

static int decode_args(json_t *e, struct seccomp_syscall *s, const char *pctx, struct err **err)
{
	json_t *args = json_object_get(e, "args"), *a;
	unsigned int seen = 0;
	char ctx[600];
	size_t i;

	if (!args || json_is_null(args))
		return 0;
	if (!json_is_array(args))
		return err_set(err, EINVAL, "%s: \"args\" must be an array", pctx);
	if (json_array_size(args) == 0)
		return 0;
	if (json_array_size(args) > POLICY_SECCOMP_MAX_ARG + 1)
		return err_set(err, EINVAL, "%s: more than %d \"args\"", pctx,
			       POLICY_SECCOMP_MAX_ARG + 1);
	s->args = calloc(json_array_size(args), sizeof(*s->args));
	if (!s->args)
		return err_errno(err, ENOMEM, "%s", pctx);
	json_array_foreach (args, i, a) {
		snprintf(ctx, sizeof(ctx), "%s: args[%zu]", pctx, i);
		if (decode_arg(a, &s->args[i], ctx, err) < 0)
			return err_ret(*err);
		s->n_args++;
		/* libseccomp compares an argument at most once per rule; runc
		 * would turn a repeat into an OR of rules, which silently widens
		 * an ALLOW. Refuse instead. */
		if (seen & (1u << s->args[i].index))
			return err_set(err, EINVAL,
				       "%s: argument %u is compared twice in one entry (write one "
				       "entry per comparison)",
				       ctx, s->args[i].index);
		seen |= 1u << s->args[i].index;
	}
	return 0;
}

static int decode_names(json_t *e, struct seccomp_syscall *s, const char *ctx, struct err **err)
{
	_cleanup_free_ char *legacy = NULL;

	if (json_get_strv(e, "names", &s->names, ctx, err) < 0 ||
	    json_get_str(e, "name", &legacy, ctx, err) < 0)
		return err_ret(*err);
	if (legacy) {
		if (s->names && s->names[0])
			return err_set(err, EINVAL,
				       "%s: use either \"name\" or \"names\", not both", ctx);
		strvfree(s->names);
		s->names = calloc(2, sizeof(char *));
		if (!s->names)
			return err_errno(err, ENOMEM, "%s", ctx);
		s->names[0] = steal_ptr(legacy);
	}
	for (char **n = s->names; n && *n; n++) {
		if (!valid_syscall_name(*n))
			return err_set(err, EINVAL, "%s: \"%.64s\" is not a syscall name", ctx, *n);
	}
	return 0;
}

static int decode_syscall(json_t *e, size_t index, struct seccomp_syscall *s, const char *what,
			  struct err **err)
{
	char ctx[512];

	snprintf(ctx, sizeof(ctx), "%s: syscalls[%zu]", what, index);
	s->index = index;
	if (!json_is_object(e))
		return err_set(err, EINVAL, "%s: must be an object", ctx);
	if (decode_names(e, s, ctx, err) < 0 ||
	    decode_action(e, "action", "errnoRet", &s->action, &s->errno_ret, ctx, err) < 0 ||
	    decode_args(e, s, ctx, err) < 0 ||
	    decode_match(e, "includes", &s->includes, ctx, err) < 0 ||
	    decode_match(e, "excludes", &s->excludes, ctx, err) < 0 ||
	    json_get_str(e, "comment", &s->comment, ctx, err) < 0)
		return err_ret(*err);
	return 0;
}

static int decode_arch_map(json_t *root, struct seccomp_profile *p, const char *what,
			   struct err **err)
{
	json_t *m = json_object_get(root, "archMap"), *e;
	char ctx[512];
	size_t i;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_array(m))
		return err_set(err, EINVAL, "%s: \"archMap\" must be an array", what);
	if (json_array_size(m) == 0)
		return 0;
	p->arch_map = calloc(json_array_size(m), sizeof(*p->arch_map));
	if (!p->arch_map)
		return err_errno(err, ENOMEM, "%s", what);
	json_array_foreach (m, i, e) {
		struct seccomp_arch_map *am = &p->arch_map[i];
		const char *c;

		snprintf(ctx, sizeof(ctx), "%s: archMap[%zu]", what, i);
		p->n_arch_map++;
		if (!json_is_object(e))
			return err_set(err, EINVAL, "%s: must be an object", ctx);
		if (get_req_str(e, "architecture", &am->arch, ctx, err) < 0 ||
		    json_get_strv(e, "subArchitectures", &am->sub_arches, ctx, err) < 0 ||
		    canonicalise_arches(am->sub_arches, ctx, err) < 0)
			return err_ret(*err);
		c = policy_seccomp_arch_canonical(am->arch);
		if (c && strcmp(c, am->arch)) {
			free(am->arch);
			am->arch = strdup(c);
			if (!am->arch)
				return err_errno(err, ENOMEM, "%s", ctx);
		}
	}
	return 0;
}

static int decode_flags(json_t *root, struct seccomp_profile *p, const char *what, struct err **err)
{
	_cleanup_strv_ char **v = NULL;

	if (json_get_strv(root, "flags", &v, what, err) < 0)
		return err_ret(*err);
	for (char **f = v; f && *f; f++) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(flags); i++) {
			if (!strcmp(*f, flags[i].name))
				break;
		}
		if (i == ARRAY_SIZE(flags))
			return err_set(err, EINVAL, "%s: flags: unknown flag \"%.64s\"", what, *f);
		p->flags |= flags[i].flag;
	}
	return 0;
}

int policy_seccomp_decode(const char *buf, size_t len, const char *what,
			  struct seccomp_profile **out, struct err **err)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
	_cleanup_json_ json_t *root = NULL;
	json_t *sc, *e;
	size_t i;

	*out = NULL;
	if (!what)
		what = "seccomp profile";
	if (len > POLICY_SECCOMP_MAX_PROFILE)
		return err_set(err, EFBIG, "%s: larger than %d bytes", what,
			       POLICY_SECCOMP_MAX_PROFILE);
	root = json_parse_strict(buf, len, what, err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "%s: must be a JSON object", what);
	p = calloc(1, sizeof(*p));
	if (!p)
		return err_errno(err, ENOMEM, "%s", what);
	if (decode_action(root, "defaultAction", "defaultErrnoRet", &p->default_action,
			  &p->default_errno_ret, what, err) < 0 ||
	    json_get_strv(root, "architectures", &p->architectures, what, err) < 0 ||
	    canonicalise_arches(p->architectures, what, err) < 0 ||
	    decode_arch_map(root, p, what, err) < 0 || decode_flags(root, p, what, err) < 0)
		return err_ret(*err);
	if (p->architectures && p->architectures[0] && p->n_arch_map)
		return err_set(err, EINVAL,
			       "%s: use either \"architectures\" or \"archMap\", not both", what);

	sc = json_object_get(root, "syscalls");
	if (sc && !json_is_null(sc)) {
		if (!json_is_array(sc))
			return err_set(err, EINVAL, "%s: \"syscalls\" must be an array", what);
		if (json_array_size(sc)) {
			p->syscalls = calloc(json_array_size(sc), sizeof(*p->syscalls));
			if (!p->syscalls)
				return err_errno(err, ENOMEM, "%s", what);
		}
		json_array_foreach (sc, i, e) {
			/* Counted first so that free() sees a partial entry. */
			p->n_syscalls++;
			if (decode_syscall(e, i, &p->syscalls[i], what, err) < 0)
				return err_ret(*err);
		}
	}
	*out = steal_ptr(p);
	return 0;
}

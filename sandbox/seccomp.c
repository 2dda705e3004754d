/*
 * sandbox/seccomp.c - seccomp profile -> BPF (libseccomp), a per-user
 * cache of compiled programs, and the loader used in the container child.
 *
 * Runs in: sandbox_seccomp_prepare/compile in moat's parent process,
 * unprivileged, before clone. sandbox_seccomp_load in the container child
 * after no_new_privs and capabilities, immediately before execve: it makes
 * one system call and allocates nothing.
 *
 * Threats and what holds against them:
 *  - a syscall from a foreign ABI (int 0x80 on x86-64, x32) reaching rules
 *    written for the native one: only the native arch (and sub-arches the
 *    profile maps to it) is in the filter, and any other arch gets EPERM;
 *  - libseccomp 2.5 silently drops a conditional rule when the same syscall
 *    also has an unconditional rule with another action (ioctl ALLOW plus
 *    "TIOCSTI -> EPERM" compiles to plain ALLOW), and keeps the first of
 *    two unconditional rules with different actions. Such conditional rules
 *    are compiled into a separate first stage whose "no match" result is a
 *    jump into the main program, so they are checked before the
 *    unconditional rule; two unconditional rules that disagree are an
 *    error. tests/unit/test_seccomp.c loads the result and checks errnos;
 *  - a tampered or truncated cache file: it is read only when it is a
 *    regular file of ours, not group/world-writable, a whole number of
 *    instructions within BPF_MAXINSNS and ending in a RET; anything else is
 *    recompiled. The kernel verifies the program again at load.
 */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"

#define MAX_INSNS BPF_MAXINSNS
#define MAX_BPF_BYTES (MAX_INSNS * sizeof(struct sock_filter))
/* Part of the cache key: bump when the compiler's output changes. */
#define CACHE_FORMAT "moat-seccomp-bpf-1"
#define BUILTIN_WHAT "built-in default"
#define MAX_ARCHES 16

static void scmp_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}
#define _cleanup_scmp_ __attribute__((cleanup(scmp_releasep)))

static const struct {
	const char *name;
	uint32_t token;
} arch_tokens[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

static const char *arch_name(uint32_t token)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_tokens); i++) {
		if (arch_tokens[i].token == token)
			return arch_tokens[i].name;
	}
	return "unknown";
}

static const char *native_arch_name(void)
{
	return arch_name(seccomp_arch_native());
}

static int arch_token(const char *name, uint32_t *out)
{
	const char *c = policy_seccomp_arch_canonical(name);

	for (size_t i = 0; c && i < ARRAY_SIZE(arch_tokens); i++) {
		if (!strcmp(arch_tokens[i].name, c)) {
			*out = arch_tokens[i].token;
			return 0;
		}
	}
	return -EINVAL;
}

static int scmp_action(enum policy_seccomp_action a, uint32_t data, uint32_t *out)
{
	switch (a) {
	case POLICY_SECCOMP_ACT_ALLOW:
		*out = SCMP_ACT_ALLOW;
		return 0;
	case POLICY_SECCOMP_ACT_ERRNO:
		*out = SCMP_ACT_ERRNO(data);
		return 0;
	case POLICY_SECCOMP_ACT_KILL_THREAD:
		*out = SCMP_ACT_KILL_THREAD;
		return 0;
	case POLICY_SECCOMP_ACT_KILL_PROCESS:
		*out = SCMP_ACT_KILL_PROCESS;
		return 0;
	case POLICY_SECCOMP_ACT_TRAP:
		*out = SCMP_ACT_TRAP;
		return 0;
	case POLICY_SECCOMP_ACT_TRACE:
		*out = SCMP_ACT_TRACE(data);
		return 0;
	case POLICY_SECCOMP_ACT_LOG:
		*out = SCMP_ACT_LOG;
		return 0;
	default:
		return -EINVAL;
	}
}

/* One (syscall number, entry) pair after includes/excludes. */
struct rule {
	int nr;
	size_t order; /* position in the profile, for stable sorting */
	uint32_t action;
	const char *name;
	const struct seccomp_syscall *s;
	int stage; /* 0: dropped (redundant), 1: first stage, 2: main */
};

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->nr != y->nr)
		return x->nr < y->nr ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Decides for the rules of one syscall number (R[0..N), profile order)
 * which stage each goes to, as described at the top of the file.
 */
static int classify(struct rule *r, size_t n, uint32_t def, struct err **err)
{
	const struct rule *uncond = NULL;

	for (size_t i = 0; i < n; i++) {
		if (r[i].s->n_args)
			continue;
		if (!uncond) {
			uncond = &r[i];
		} else if (uncond->action != r[i].action) {
			return err_set(err, EINVAL,
				       "syscalls[%zu] and syscalls[%zu] give \"%s\" different "
				       "unconditional actions",
				       uncond->s->index, r[i].s->index, r[i].name);
		}
	}
	/* An unconditional rule equal to the default is the same as none. */
	if (uncond && uncond->action == def)
		uncond = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!r[i].s->n_args)
			r[i].stage = (&r[i] == uncond) ? 2 : 0;
		else if (uncond)
			r[i].stage = r[i].action == uncond->action ? 0 : 1;
		else
			r[i].stage = r[i].action == def ? 0 : 2;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct rule *r, struct err **err)
{
	struct scmp_arg_cmp cmp[POLICY_SECCOMP_MAX_ARG + 1];
	int ret;

	for (size_t i = 0; i < r->s->n_args; i++) {
		const struct seccomp_arg *a = &r->s->args[i];

		cmp[i] = (struct scmp_arg_cmp){
		    .arg = a->index,
		    .op = (enum scmp_compare)a->op,
		    .datum_a = a->value,
		    .datum_b = a->value_two,
		};
	}
	ret = seccomp_rule_add_array(ctx, r->action, r->nr, (unsigned int)r->s->n_args, cmp);
	if (ret == -EEXIST)
		return err_set(
		    err, EEXIST,
		    "syscalls[%zu]: rule for \"%s\" contradicts an earlier rule with the "
		    "same arguments",
		    r->s->index, r->name);
	if (ret < 0)
		return err_errno(err, -ret, "syscalls[%zu]: rule for \"%s\"", r->s->index, r->name);
	return 0;
}

static int new_ctx(scmp_filter_ctx *out, uint32_t def, uint32_t badarch, const uint32_t *arches,
		   size_t n_arches, struct err **err)
{
	_cleanup_scmp_ scmp_filter_ctx ctx = seccomp_init(def);
	int r;

	if (!ctx)
		return err_set(err, EINVAL, "seccomp_init failed (invalid default action?)");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, badarch);
	if (r < 0)
		return err_errno(err, -r, "set bad-arch action");
	/* The sandbox sets no_new_privs itself, in its order. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return err_errno(err, -r, "clear no_new_privs attribute");
	for (size_t i = 0; i < n_arches; i++) {
		r = seccomp_arch_add(ctx, arches[i]);
		if (r < 0 && r != -EEXIST)
			return err_errno(err, -r, "add architecture %s to the %s filter",
					 arch_name(arches[i]), native_arch_name());
	}
	*out = steal_ptr(ctx);
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *n, struct err **err)
{
	_cleanup_close_ int fd = memfd_create("moat-seccomp", MFD_CLOEXEC);
	_cleanup_err_ struct err *e = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (fd < 0)
		return err_errno(err, errno, "memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return err_errno(err, -r, "export seccomp filter");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_errno(err, errno, "rewind exported filter");
	if (fs_read_fd(fd, MAX_BPF_BYTES, &buf, &len, &e) < 0) {
		if (e->code == EFBIG)
			return err_set(err, E2BIG, "seccomp filter has more than %d instructions",
				       MAX_INSNS);
		return err_set(err, e->code, "read exported filter: %s", e->msg);
	}
	if (len == 0 || len % sizeof(struct sock_filter)) {
		free(buf);
		return err_set(err, EINVAL, "libseccomp exported %zu bytes of BPF", len);
	}
	*insns = (struct sock_filter *)(void *)buf;
	*n = len / sizeof(struct sock_filter);
	return 0;
}

/* A TRACE value no first-stage rule uses: the first stage's "no match". */
static uint32_t pick_sentinel(const struct rule *r, size_t n)
{
	for (uint32_t k = 0xffff;; k--) {
		uint32_t s = SCMP_ACT_TRACE(k);
		size_t i;

		for (i = 0; i < n; i++) {
			if (r[i].stage == 1 && r[i].action == s)
				break;
		}
		if (i == n || k == 0)
			return s;
	}
}

/*
 * Turns every "return SENTINEL" of the first stage into a jump past its
 * last instruction, i.e. into the main program that follows it. BPF jumps
 * are relative and forward-only, so both programs stay valid as they are.
 */
static int link_stage(struct sock_filter *f, size_t n, uint32_t sentinel, struct err **err)
{
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(f[i].code) != BPF_RET)
			continue;
		if (BPF_RVAL(f[i].code) != BPF_K)
			return err_set(err, EINVAL, "unexpected BPF return at %zu", i);
		if (f[i].k != sentinel)
			continue;
		f[i].code = BPF_JMP | BPF_JA;
		f[i].jt = f[i].jf = 0;
		f[i].k = (uint32_t)(n - i - 1);
	}
	return 0;
}

/* The arches to add besides the native one. */
static int profile_arches(const struct seccomp_profile *p, const char *native, uint32_t *out,
			  size_t *n, struct err **err)
{
	char **list = p->architectures;

	*n = 0;
	for (size_t i = 0; i < p->n_arch_map; i++) {
		if (!strcmp(p->arch_map[i].arch, native))
			list = p->arch_map[i].sub_arches;
	}
	for (char **a = list; a && *a; a++) {
		uint32_t t;

		if (arch_token(*a, &t) < 0)
			return err_set(err, EINVAL, "unknown architecture \"%s\"", *a);
		if (t == seccomp_arch_native())
			continue;
		if (*n == MAX_ARCHES)
			return err_set(err, EINVAL, "too many architectures");
		out[(*n)++] = t;
	}
	return 0;
}

static void kernel_version(struct seccomp_kernel_version *kv)
{
	struct utsname u;

	kv->major = kv->minor = 0;
	/* Unparseable: 0.0, so minKernel entries do not apply. */
	if (uname(&u) == 0)
		policy_seccomp_kernel_parse(u.release, false, kv);
}

static int compile(const struct seccomp_profile *p, uint64_t caps, bool quiet,
		   struct sandbox_bpf *out, struct err **err)
{
	const char *native = native_arch_name();
	struct seccomp_kernel_version kv;
	uint32_t def, arches[MAX_ARCHES], sentinel = 0;
	size_t n_arches = 0, n_rules = 0, cap_rules = 0, n1 = 0, n2 = 0, stage1 = 0;
	_cleanup_free_ struct rule *rules = NULL;
	_cleanup_scmp_ scmp_filter_ctx main_ctx = NULL, first_ctx = NULL;
	_cleanup_free_ struct sock_filter *f1 = NULL;
	_cleanup_free_ struct sock_filter *f2 = NULL;
	struct sock_filter *all;

	out->insns = NULL;
	out->len = 0;
	kernel_version(&kv);
	if (scmp_action(p->default_action, p->default_errno_ret, &def) < 0)
		return err_set(err, EINVAL, "unknown default action %d", (int)p->default_action);
	if (profile_arches(p, native, arches, &n_arches, err) < 0)
		return err_ret(*err);

	for (size_t i = 0; i < p->n_syscalls; i++) {
		for (char **n = p->syscalls[i].names; n && *n; n++)
			cap_rules++;
	}
	rules = calloc(cap_rules ? cap_rules : 1, sizeof(*rules));
	if (!rules)
		return err_errno(err, ENOMEM, "compile seccomp profile");
	for (size_t i = 0; i < p->n_syscalls; i++) {
		const struct seccomp_syscall *s = &p->syscalls[i];
		uint32_t action;

		if (scmp_action(s->action, s->errno_ret, &action) < 0)
			return err_set(err, EINVAL, "syscalls[%zu]: unknown action %d", i,
				       (int)s->action);
		if (!policy_seccomp_syscall_applies(s, caps, native, &kv))
			continue;
		for (char **n = s->names; n && *n; n++) {
			int nr = seccomp_syscall_resolve_name(*n);

			if (nr == __NR_SCMP_ERROR) {
				/* As Docker: a name this libseccomp does not
				 * know is skipped, so the call gets the
				 * default action. */
				if (!quiet)
					fprintf(stderr,
						"moat: warning: seccomp profile: unknown syscall "
						"\"%s\", skipped\n",
						*n);
				continue;
			}
			/* Negative: a syscall of another arch; it only matters
			 * when such an arch is in the filter. */
			if (nr < 0 && n_arches == 0)
				continue;
			rules[n_rules] = (struct rule){
			    .nr = nr, .order = n_rules, .action = action, .name = *n, .s = s};
			n_rules++;
		}
	}
	if (n_rules)
		qsort(rules, n_rules, sizeof(*rules), rule_cmp);
	for (size_t i = 0, j; i < n_rules; i = j) {
		for (j = i + 1; j < n_rules && rules[j].nr == rules[i].nr; j++)
			;
		if (classify(&rules[i], j - i, def, err) < 0)
			return err_ret(*err);
	}
	for (size_t i = 0; i < n_rules; i++)
		stage1 += rules[i].stage == 1;

	if (new_ctx(&main_ctx, def, SCMP_ACT_ERRNO(EPERM), arches, n_arches, err) < 0)
		return err_ret(*err);
	for (size_t i = 0; i < n_rules; i++) {
		if (rules[i].stage == 2 && add_rule(main_ctx, &rules[i], err) < 0)
			return err_ret(*err);
	}
	if (export_bpf(main_ctx, &f2, &n2, err) < 0)
		return err_ret(*err);

	if (stage1) {
		sentinel = pick_sentinel(rules, n_rules);
		if (new_ctx(&first_ctx, sentinel, sentinel, arches, n_arches, err) < 0)
			return err_ret(*err);
		for (size_t i = 0; i < n_rules; i++) {
			if (rules[i].stage == 1 && add_rule(first_ctx, &rules[i], err) < 0)
				return err_ret(*err);
		}
		if (export_bpf(first_ctx, &f1, &n1, err) < 0 ||
		    link_stage(f1, n1, sentinel, err) < 0)
			return err_ret(*err);
	}
	if (n1 + n2 > MAX_INSNS)
		return err_set(err, E2BIG, "seccomp filter has %zu instructions, more than %d",
			       n1 + n2, MAX_INSNS);
	all = malloc((n1 + n2) * sizeof(*all));
	if (!all)
		return err_errno(err, ENOMEM, "compile seccomp profile");
	if (n1)
		memcpy(all, f1, n1 * sizeof(*all));
	memcpy(all + n1, f2, n2 * sizeof(*all));
	out->insns = all;
	out->len = (unsigned short)(n1 + n2);
	return 0;
}

int sandbox_seccomp_compile(const struct seccomp_profile *p, uint64_t caps, struct sandbox_bpf *out,
			    struct err **err)
{
	return compile(p, caps, false, out, err);
}

static void key_field(struct digest_ctx *c, const void *buf, size_t len)
{
	uint64_t n = len;

	/* Length-prefixed, so that no two inputs hash alike. */
	digest_ctx_update(c, &n, sizeof(n));
	digest_ctx_update(c, buf, len);
}

static int cache_key(const char *buf, size_t len, uint64_t caps, char out[SHA256_HEX_LEN + 1],
		     struct err **err)
{
	const struct scmp_version *v = seccomp_version();
	struct digest_ctx *c = digest_ctx_new();
	const char *native = native_arch_name();
	char caps_hex[17], version[64];
	struct utsname u;

	if (!c)
		return err_errno(err, ENOMEM, "seccomp cache key");
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	snprintf(caps_hex, sizeof(caps_hex), "%016llx", (unsigned long long)caps);
	snprintf(version, sizeof(version), "%u.%u.%u", v->major, v->minor, v->micro);
	key_field(c, CACHE_FORMAT, strlen(CACHE_FORMAT));
	key_field(c, buf, len);
	key_field(c, caps_hex, 16);
	key_field(c, native, strlen(native));
	key_field(c, u.release, strlen(u.release));
	key_field(c, version, strlen(version));
	digest_ctx_final(c, out);
	return 0;
}

/* 0 with OUT filled, or negative when there is no usable cached program. */
static int cache_load(int dirfd, const char *name, struct sandbox_bpf *out)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	_cleanup_err_ struct err *e = NULL;
	_cleanup_free_ char *buf = NULL;
	const struct sock_filter *f;
	size_t len = 0;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size <= 0 || (size_t)st.st_size > MAX_BPF_BYTES ||
	    st.st_size % (off_t)sizeof(struct sock_filter))
		return -EINVAL;
	if (fs_read_fd(fd, MAX_BPF_BYTES, &buf, &len, &e) < 0)
		return err_ret(e);
	if (len != (size_t)st.st_size)
		return -EINVAL;
	f = (const struct sock_filter *)(const void *)buf;
	if (BPF_CLASS(f[len / sizeof(*f) - 1].code) != BPF_RET)
		return -EINVAL;
	out->insns = steal_ptr(buf);
	out->len = (unsigned short)(len / sizeof(*f));
	return 0;
}

static int cache_store(const char *dir, const char *name, const struct sandbox_bpf *b,
		       struct err **err)
{
	_cleanup_close_ int dirfd = -1;

	if (fs_mkdir_p(dir, 0700, err) < 0)
		return err_ret(*err);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	return fs_write_atomic(dirfd, name, b->insns, b->len * sizeof(struct sock_filter), 0600,
			       err);
}

int sandbox_seccomp_prepare(const char *profile_path, const char *cache_dir, uint64_t caps,
			    struct sandbox_bpf *out, struct err **err)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
	_cleanup_free_ char *file = NULL;
	char key[SHA256_HEX_LEN + 1], name[SHA256_HEX_LEN + 8];
	const char *buf = moat_default_seccomp_profile;
	size_t len = moat_default_seccomp_profile_len;
	const char *what = profile_path ? profile_path : BUILTIN_WHAT;

	out->insns = NULL;
	out->len = 0;
	if (profile_path) {
		_cleanup_close_ int fd = open(profile_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		if (fd < 0)
			return err_errno(err, errno, "seccomp profile \"%s\"", what);
		if (fs_read_fd(fd, POLICY_SECCOMP_MAX_PROFILE, &file, &len, err) < 0)
			return err_prefix(err, "seccomp profile \"%s\"", what);
		buf = file;
	}
	if (cache_key(buf, len, caps, key, err) < 0)
		return err_prefix(err, "seccomp profile \"%s\"", what);
	snprintf(name, sizeof(name), "%s.bpf", key);
	if (cache_dir) {
		_cleanup_close_ int dirfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dirfd >= 0 && cache_load(dirfd, name, out) == 0)
			return 0;
	}
	if (policy_seccomp_decode(buf, len, what, &p, err) < 0 ||
	    compile(p, caps, !profile_path, out, err) < 0)
		return err_prefix(err, "seccomp profile \"%s\"", what);
	if (cache_dir) {
		_cleanup_err_ struct err *e = NULL;

		/* Not fatal: the next start compiles again. */
		if (cache_store(cache_dir, name, out, &e) < 0)
			fprintf(stderr, "moat: warning: seccomp cache \"%s\": %s\n", cache_dir,
				e->msg);
	}
	return 0;
}

int sandbox_seccomp_load(const struct sandbox_bpf *b)
{
	struct sock_fprog prog;

	if (!b || b->len == 0)
		return 0;
	prog.len = b->len;
	prog.filter = b->insns;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

void sandbox_bpf_free(struct sandbox_bpf *b)
{
	if (!b)
		return;
	free(b->insns);
	b->insns = NULL;
	b->len = 0;
}

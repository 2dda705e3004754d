/*
 * policy/seccomp_profile.h - seccomp profiles in Docker's JSON format
 * (moby/profiles seccomp/default.json), decoded into typed structs.
 *
 * Runs in: any process; this half is pure (no system calls, no file I/O),
 * so the unit tests and the fuzzer reach all of it. sandbox/seccomp.c turns
 * a decoded profile into BPF.
 *
 * Invariants:
 *  - input above POLICY_SECCOMP_MAX_PROFILE bytes is refused before parsing;
 *  - every action, op, flag and argument index in a decoded profile is one
 *    the compiler knows; a profile that names something else fails to decode
 *    with the index of the offending entry, rather than loading a filter
 *    that means something other than what was written;
 *  - unknown keys are ignored, as Docker does; unknown syscall names are
 *    kept (they are resolved, and skipped with a warning, at compile time);
 *  - no json_t leaves seccomp_profile.c.
 */
#ifndef MOAT_POLICY_SECCOMP_PROFILE_H
#define MOAT_POLICY_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define POLICY_SECCOMP_MAX_PROFILE (1024 * 1024)
/* Syscall arguments are numbered 0..5 (struct seccomp_data.args). */
#define POLICY_SECCOMP_MAX_ARG 5

enum policy_seccomp_action {
	POLICY_SECCOMP_ACT_ALLOW,
	POLICY_SECCOMP_ACT_ERRNO,	/* data: errno_ret */
	POLICY_SECCOMP_ACT_KILL_THREAD, /* "SCMP_ACT_KILL" and "SCMP_ACT_KILL_THREAD" */
	POLICY_SECCOMP_ACT_KILL_PROCESS,
	POLICY_SECCOMP_ACT_TRAP,
	POLICY_SECCOMP_ACT_TRACE, /* data: errno_ret (the tracer's msg) */
	POLICY_SECCOMP_ACT_LOG,
};

/* Values match libseccomp's enum scmp_compare. */
enum policy_seccomp_op {
	POLICY_SECCOMP_OP_NE = 1,
	POLICY_SECCOMP_OP_LT = 2,
	POLICY_SECCOMP_OP_LE = 3,
	POLICY_SECCOMP_OP_EQ = 4,
	POLICY_SECCOMP_OP_GE = 5,
	POLICY_SECCOMP_OP_GT = 6,
	POLICY_SECCOMP_OP_MASKED_EQ = 7, /* (arg & value) == value_two */
};

/* "flags": accepted and recorded; the loader applies none of them yet. */
enum policy_seccomp_flag {
	POLICY_SECCOMP_FLAG_TSYNC = 1u << 0,
	POLICY_SECCOMP_FLAG_LOG = 1u << 1,
	POLICY_SECCOMP_FLAG_SPEC_ALLOW = 1u << 2,
	POLICY_SECCOMP_FLAG_WAIT_KILLABLE_RECV = 1u << 3,
};

/* Errno data for ERRNO when the profile gives none (Docker: EPERM). */
#define POLICY_SECCOMP_DEFAULT_ERRNO 1

struct seccomp_kernel_version {
	unsigned int major;
	unsigned int minor;
};

struct seccomp_arg {
	unsigned int index; /* 0..POLICY_SECCOMP_MAX_ARG */
	enum policy_seccomp_op op;
	uint64_t value;	    /* MASKED_EQ: the mask */
	uint64_t value_two; /* MASKED_EQ: the datum; unused otherwise */
};

/* "includes" / "excludes" of one entry. */
struct seccomp_match {
	uint64_t caps;	  /* bit N = capability N named in "caps" */
	bool unknown_cap; /* "caps" named a capability outside the table */
	bool has_caps;
	char **arches; /* NULL-terminated; canonical SCMP_ARCH_* where known */
	bool has_min_kernel;
	struct seccomp_kernel_version min_kernel;
};

struct seccomp_syscall {
	size_t index; /* position in "syscalls", for messages */
	char **names; /* NULL-terminated; from "names" or legacy "name" */
	enum policy_seccomp_action action;
	uint32_t errno_ret; /* ERRNO/TRACE data, <= 0xffff */
	struct seccomp_arg *args;
	size_t n_args;
	struct seccomp_match includes;
	struct seccomp_match excludes;
	char *comment; /* NULL when absent */
};

struct seccomp_arch_map {
	char *arch;	   /* canonical SCMP_ARCH_* where known */
	char **sub_arches; /* NULL-terminated, possibly empty */
};

struct seccomp_profile {
	enum policy_seccomp_action default_action;
	uint32_t default_errno_ret;
	char **architectures; /* NULL-terminated; NULL when absent */
	struct seccomp_arch_map *arch_map;
	size_t n_arch_map;
	unsigned int flags; /* enum policy_seccomp_flag */
	struct seccomp_syscall *syscalls;
	size_t n_syscalls;
};

/*
 * Decodes LEN bytes of BUF (need not be NUL-terminated). WHAT names the
 * input in messages: a syntax error reads "WHAT:line:column: text", a bad
 * entry "WHAT: syscalls[N]: ...". On success *OUT is owned by the caller.
 */
int policy_seccomp_decode(const char *buf, size_t len, const char *what,
			  struct seccomp_profile **out, struct err **err);
void policy_seccomp_free(struct seccomp_profile *p);

static inline void policy_seccomp_freep(struct seccomp_profile **p)
{
	policy_seccomp_free(*p);
}
#define _cleanup_seccomp_profile_ __attribute__((cleanup(policy_seccomp_freep)))

/*
 * Whether entry S applies to a container that keeps capability set CAPS
 * (bit N = CAP number N), on NATIVE_ARCH ("SCMP_ARCH_X86_64"; Go names such
 * as "amd64" work too), under KERNEL. Docker's rules: every capability in
 * includes.caps must be kept, none of excludes.caps; the native arch must be
 * in includes.arches (when listed) and not in excludes.arches; the kernel
 * must be at least includes.minKernel and below excludes.minKernel.
 */
bool policy_seccomp_syscall_applies(const struct seccomp_syscall *s, uint64_t caps,
				    const char *native_arch,
				    const struct seccomp_kernel_version *kernel);

/*
 * Parses "4.8" (STRICT: the whole string is MAJOR[.MINOR]) or a uname
 * release such as "6.1.0-18-amd64" (not strict: the leading MAJOR.MINOR).
 * Returns 0 or -EINVAL.
 */
int policy_seccomp_kernel_parse(const char *s, bool strict, struct seccomp_kernel_version *out);

/* "CAP_SYS_ADMIN" (or "sys_admin") -> 21; -1 when unknown. */
int policy_seccomp_cap_from_name(const char *name);

/* "amd64", "x86_64" or "SCMP_ARCH_X86_64" -> "SCMP_ARCH_X86_64"; NULL when
 * unknown. The result is a static string. */
const char *policy_seccomp_arch_canonical(const char *name);

const char *policy_seccomp_action_name(enum policy_seccomp_action a);

#endif

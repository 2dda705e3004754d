/*
 * sandbox/seccomp.h - compiling a seccomp profile to BPF, caching the
 * result, and loading it in the container child.
 *
 * Runs in: prepare/compile in moat's parent process before clone (they
 * allocate, read files and call libseccomp); load in the container child
 * between clone and execve, as the last confinement step.
 */
#ifndef MOAT_SANDBOX_SECCOMP_H
#define MOAT_SANDBOX_SECCOMP_H

#include <stdint.h>

#include "common/err.h"
#include "policy/seccomp_profile.h"
#include "sandbox/spec.h"

/* policy/profiles/default.json, embedded by the build (build/gen). */
extern const char moat_default_seccomp_profile[];
extern const size_t moat_default_seccomp_profile_len;

/*
 * Compiles P for the native architecture (plus the sub-architectures the
 * profile maps to it), applying includes/excludes against CAPS (bit N =
 * capability N kept by the container) and the running kernel. Unknown
 * syscall names are skipped with a warning on stderr; a foreign-arch
 * syscall fails with EPERM. On success OUT->insns is malloc'd.
 */
int sandbox_seccomp_compile(const struct seccomp_profile *p, uint64_t caps, struct sandbox_bpf *out,
			    struct err **err);

/*
 * PROFILE_PATH's program (NULL: the built-in default) for CAPS, from
 * CACHE_DIR/<key>.bpf when a sane one is there, else decoded, compiled and
 * written back to the cache (CACHE_DIR NULL: no cache). The key covers the
 * profile bytes, CAPS, the native arch, the kernel release and the
 * libseccomp version. Errors read `seccomp profile "PATH": ...`.
 */
int sandbox_seccomp_prepare(const char *profile_path, const char *cache_dir, uint64_t caps,
			    struct sandbox_bpf *out, struct err **err);

/*
 * Installs B on the calling thread: no allocation, one system call, safe
 * between clone and execve. The caller has set no_new_privs (or holds
 * CAP_SYS_ADMIN). B->len == 0 loads nothing. Returns 0 or -errno.
 */
int sandbox_seccomp_load(const struct sandbox_bpf *b);

void sandbox_bpf_free(struct sandbox_bpf *b);

#endif

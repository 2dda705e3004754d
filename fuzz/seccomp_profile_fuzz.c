/*
 * fuzz/seccomp_profile_fuzz.c - libFuzzer target for the seccomp profile
 * decoder (policy/seccomp_profile.c) and the include/exclude evaluation.
 *
 * Runs in: a fuzzing process only (clang -fsanitize=fuzzer,address,undefined).
 * Pure code under test: no files, no syscalls beyond allocation.
 *
 * Invariants checked: decode never crashes, leaks or reads past LEN (the
 * input is not NUL-terminated), and either returns a profile or an error,
 * never both; a decoded profile can be evaluated and freed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "policy/seccomp_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "s390x"};
	static const uint64_t caps[] = {0, UINT64_C(1) << 21, UINT64_MAX};
	static const struct seccomp_kernel_version kernels[] = {{4, 7}, {6, 1}};
	struct seccomp_profile *p = NULL;
	struct err *err = NULL;
	int r;

	r = policy_seccomp_decode((const char *)data, size, "fuzz", &p, &err);
	if (r < 0) {
		if (p || !err)
			abort();
		err_free(&err);
		return 0;
	}
	if (!p || err)
		abort();
	for (size_t i = 0; i < p->n_syscalls; i++) {
		for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
			for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
				for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++)
					(void)policy_seccomp_syscall_applies(
					    &p->syscalls[i], caps[c], arches[a], &kernels[k]);
			}
		}
	}
	(void)policy_seccomp_action_name(p->default_action);
	policy_seccomp_free(p);
	return 0;
}

/*
 * sandbox/spec.h - what the sandbox executes: one container, described the
 * way an OCI runtime config.json describes it. sandbox/ knows nothing of
 * images or registries; engine/ fills this in.
 */
#ifndef MOAT_SANDBOX_SPEC_H
#define MOAT_SANDBOX_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define SANDBOX_MAX_IDMAPS 8

struct idmap {
	uint32_t container; /* first id inside */
	uint32_t host;	    /* first id outside */
	uint32_t size;
};

enum sandbox_userns {
	SANDBOX_USERNS_SINGLE, /* rootless, no helper: only the caller's id */
	SANDBOX_USERNS_SUBUID, /* rootless, newuidmap/newgidmap and /etc/subuid */
	SANDBOX_USERNS_ROOT,   /* moat runs as root: an unprivileged host range */
	SANDBOX_USERNS_HOST,   /* no user namespace (--userns=host) */
};

enum sandbox_net {
	SANDBOX_NET_NONE, /* own namespace, loopback only */
	SANDBOX_NET_HOST, /* the host's namespace */
};

/* A compiled seccomp program (struct sock_filter[]), loaded last. */
struct sandbox_bpf {
	void *insns; /* struct sock_filter[] */
	unsigned short len;
};

enum sandbox_overlay {
	SANDBOX_OVERLAY_AUTO,	/* the kernel's; fuse-overlayfs if it refuses */
	SANDBOX_OVERLAY_KERNEL, /* the kernel's only */
	SANDBOX_OVERLAY_FUSE,	/* fuse-overlayfs (MOAT_OVERLAY=fuse; tests) */
};

struct sandbox_mount {
	char *target; /* absolute, inside the container */
	int srcfd;    /* O_PATH fd of the host source, opened before clone */
	bool readonly;
	bool is_file;
};

struct sandbox_spec {
	/* identity */
	enum sandbox_userns userns;
	struct idmap uidmap[SANDBOX_MAX_IDMAPS];
	size_t n_uidmap;
	struct idmap gidmap[SANDBOX_MAX_IDMAPS];
	size_t n_gidmap;

	/* rootfs: overlay of LOWERS (top first, as overlayfs wants) with
	 * UPPER/WORK; each an absolute path of moat's own state. */
	char **lowers;
	char *upper;
	char *work;
	char *mountpoint; /* empty dir of moat's runtime state the rootfs is
			   * attached on, inside the container's mount ns */
	bool readonly_root;
	enum sandbox_overlay overlay;
	char *fuse_overlayfs; /* the helper's absolute path, or NULL */
	char *fuse_root;      /* empty dir of moat's runtime state for its root */
	char *fuse_log;	      /* where its stdout and stderr go */

	/* generated files bind-mounted into /etc (host paths, moat's state) */
	char *hosts_file;
	char *hostname_file;
	char *resolv_file;
	struct sandbox_mount *mounts;
	size_t n_mounts;

	char *hostname;
	enum sandbox_net net;

	/* process */
	char **argv;
	char **env;
	char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	bool tty;
	bool stdin_open;
	bool init; /* moat's own reaper as PID 1 */

	/* confinement */
	uint64_t caps;		/* bit N = capability N kept (bounding, and
				  * effective/permitted for uid 0) */
	struct sandbox_bpf bpf; /* empty (len 0) = seccomp unconfined */
	bool landlock;		/* false only with --security-opt landlock=off */
	char *apparmor_profile; /* NULL = default when AppArmor is active */
	char **masked_paths;
	char **readonly_paths;
};

/* What the run ended with. */
struct sandbox_result {
	int exit_code; /* Docker semantics: status, or 128+signal */
	int signal;    /* 0 unless killed by a signal */
};

/*
 * Runs SPEC in the foreground: the calling process is the monitor.
 * Returns 0 with RESULT filled when the container ran (whatever its exit
 * status), or a negative errno when it could not be started; err->exit
 * then carries 125, 126 or 127 in Docker's sense.
 */
int sandbox_run(const struct sandbox_spec *spec, struct sandbox_result *result, struct err **err);

#endif

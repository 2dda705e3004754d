/*
 * sandbox/spec.h - what the sandbox executes: one container, described the
 * way an OCI runtime config.json describes it. sandbox/ knows nothing of
 * images or registries; engine/ fills this in.
 */
#ifndef MOAT_SANDBOX_SPEC_H
#define MOAT_SANDBOX_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
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
struct sandbox_cgroup;

struct sandbox_bpf {
	void *insns; /* struct sock_filter[] */
	unsigned short len;
};

enum sandbox_overlay {
	SANDBOX_OVERLAY_AUTO,	/* the kernel's; fuse-overlayfs if it refuses */
	SANDBOX_OVERLAY_KERNEL, /* the kernel's only */
	SANDBOX_OVERLAY_FUSE,	/* fuse-overlayfs (MOAT_OVERLAY=fuse; tests) */
};

/* A resource limit of the container's init (and so of everything it
 * starts), set by the monitor with prlimit(2) before it is released. */
struct sandbox_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};
#define SANDBOX_MAX_RLIMITS 17

enum sandbox_mount_kind {
	SANDBOX_MOUNT_BIND,  /* a host directory or file (binds, volumes) */
	SANDBOX_MOUNT_TMPFS, /* a new tmpfs */
};

/*
 * A mount the user asked for (-v, --mount, --tmpfs, volumes). The engine
 * has opened a bind's source (O_PATH, without following symlinks unless
 * asked), checked what it is against the tenant policy, and keeps that fd
 * (SRCFD) open until the container started, so its inode cannot be reused.
 * The child, in its copy of the host's mount tree, opens SOURCE (the
 * fd's real path) again with RESOLVE_NO_SYMLINKS and refuses it unless it
 * is the same inode as SRCFD: a path swapped in between is an error, never
 * another file. TARGET is resolved beneath the container root.
 */
struct sandbox_mount {
	enum sandbox_mount_kind kind;
	char *target; /* absolute, normalised, inside the container */
	/* bind */
	char *source; /* the real path of SRCFD */
	int srcfd;    /* O_PATH; -1 for tmpfs */
	bool is_dir;
	bool readonly;	 /* binds and tmpfs */
	bool recursive;	 /* false: --mount bind-nonrecursive */
	int propagation; /* MS_PRIVATE or MS_SLAVE (applied recursively
			  * when RECURSIVE) */
	bool seed;	 /* copy the image's content at TARGET into the source
			  * first (a new volume: Docker's copy-up); only when
			  * the source is an empty directory */
	/* tmpfs */
	uint64_t tmpfs_size; /* 0: the kernel's default */
	uint32_t tmpfs_mode; /* 0: 01777 */
	bool tmpfs_exec, tmpfs_suid;
};
#define SANDBOX_MAX_MOUNTS 128

/*
 * The network driver's part of a start (engine/netrun.c fills it; sandbox/
 * knows no driver). ATTACH runs in the monitor once the child's network
 * namespace exists (NETNSFD, which the child hands over): it creates the
 * container's links there. CONFIGURE runs in the child, inside that
 * namespace with loopback up, right after: addresses, routes, links up.
 * DATA is the engine's (the child has its own copy of it).
 */
struct sandbox_net_hooks {
	int (*attach)(void *data, int netnsfd, struct err **err);
	int (*configure)(void *data, struct err **err);
	void *data;
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
	const struct sandbox_net_hooks *net_hooks; /* NULL: loopback only */
	/* The embedded DNS server's socket: the child binds a UDP socket to
	 * 127.0.0.11:53 in its network namespace and hands it to the monitor
	 * (struct sandbox_proc's dnsfd), which answers on it. */
	bool dns_listener;

	/* process */
	char **argv;
	char **env;
	char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	bool tty;
	unsigned short tty_rows, tty_cols; /* the pty's first size (0: unset) */
	bool stdin_open;
	bool init;    /* moat's own reaper as PID 1 */
	int stdio[3]; /* without a tty: the command's 0, 1, 2 (the monitor's
		       * pipes), or -1 to inherit the monitor's own (stdin is
		       * /dev/null then unless stdin_open) */

	/* root: the container's cgroup, joined before it is released */
	const struct sandbox_cgroup *cgroup;
	/* --ulimit (and RLIMIT_NPROC standing in for a pids limit without a
	 * cgroup) and --oom-score-adj: written by the monitor into the init
	 * before it is released; see apply_process_limits in sandbox.c. */
	struct sandbox_rlimit rlimits[SANDBOX_MAX_RLIMITS];
	size_t n_rlimits;
	bool set_oom_score_adj;
	int oom_score_adj;
	uint64_t shm_size; /* bytes of /dev/shm; 0: 64 MiB */

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

/* A started container, as its monitor holds it. */
struct sandbox_proc {
	pid_t pid;   /* the container's init, in the host's pid namespace */
	int pidfd;   /* for it: signals without pid reuse, and `moat exec` */
	int master;  /* the pty master with a tty, else -1 */
	pid_t fuse;  /* the fuse-overlayfs helper, or 0 */
	int dnsfd;   /* with dns_listener: the container's 127.0.0.11:53, else -1 */
	bool exited; /* already reaped (it ended during or right after setup) */
	int status;  /* its wait status when exited */
};

/*
 * Starts SPEC with the calling process as its monitor: clones the init
 * child into its namespaces, writes its id maps, joins its cgroup, serves
 * its setup requests (pty, fuse-overlayfs) and returns once the command
 * was exec'd, with P filled. The caller blocks SIGCHLD (and whatever it
 * forwards) and passes its signalfd SIGFD; CHILD_MASK is the mask the
 * command starts with. On failure nothing is left running; err->exit
 * carries 125, 126 or 127 in Docker's sense.
 */
int sandbox_start(const struct sandbox_spec *spec, int sigfd, const sigset_t *child_mask,
		  struct sandbox_proc *p, struct err **err);
/* After SIGCHLD: reaps the container's init (true when it ended, STATUS
 * filled) and a dead fuse-overlayfs helper. */
bool sandbox_proc_reap(struct sandbox_proc *p, int *status);
/* After the init ended: stops the fuse helper, closes the fds. */
void sandbox_proc_release(struct sandbox_proc *p);
/*
 * Starts SPEC's process (argv, env, cwd, ids, tty, stdio) inside the
 * running container whose init PIDFD names, confined exactly as SPEC says
 * (which the caller fills from the container's record: the same caps,
 * filter, Landlock and LSM as the container). Returns once the process
 * was exec'd, with *HELPER the pid to wait for (its exit status is the
 * process's, in Docker's terms) and *MASTER the pty master with a tty.
 * With DETACH the helper exits at once and the process lives on in the
 * container.
 */
int sandbox_exec(const struct sandbox_spec *spec, int pidfd, bool detach, int *master,
		 pid_t *helper, struct err **err);
/* A wait status in Docker's terms. */
void sandbox_result_from_status(int status, struct sandbox_result *res);

#endif

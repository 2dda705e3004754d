/*
 * cli/info.c - `moat info`: where state lives, which identity mode applies,
 * and which kernel features confine containers on this host.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sandbox/cgroup.h"
#include "common/cleanup.h"
#include "engine/engine.h"
#include "sandbox/landlock.h"
#include "sandbox/lsm.h"

static void read_line(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static const char *cgroup_layout(void)
{
	struct statfs s, u;

	if (statfs("/sys/fs/cgroup", &s) < 0)
		return "none";
	if (s.f_type == CGROUP2_SUPER_MAGIC)
		return "v2 (unified)";
	if (statfs("/sys/fs/cgroup/unified", &u) == 0 && u.f_type == CGROUP2_SUPER_MAGIC)
		return "v1 with a hybrid v2 mount";
	return "v1";
}

static bool fs_available(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, name))
			return true;
	return false;
}

int cmd_info(struct cli_ctx *ctx, int argc, char **argv)
{
	struct engine_identity id;
	struct err *err = NULL;
	struct lsm_status lsm;
	struct utsname u;
	char actions[256], maxns[32];
	int abi = sandbox_landlock_abi();
	static const char *const mode[] = {"rootless, single id (caller maps to container root)",
					   "rootless, subordinate ids (newuidmap, 65536 ids)",
					   "root, containers map to an unprivileged host range",
					   "host (no user namespace)"};

	if (argc > 1) {
		err_set(&err, EINVAL, "\"moat info\" takes no arguments");
		return cli_fail(&err);
	}
	if (engine_identity_select(ctx->rootless, ctx->uid, ctx->gid, NULL, &id, &err) < 0)
		return cli_fail(&err);
	sandbox_lsm_detect(&lsm);
	uname(&u);
	read_line("/proc/sys/kernel/seccomp/actions_avail", actions, sizeof(actions));
	read_line("/proc/sys/user/max_user_namespaces", maxns, sizeof(maxns));

	printf("Root: %s\n", ctx->root);
	printf("Runroot: %s\n", ctx->runroot);
	printf("Identity: %s\n", mode[id.userns]);
	if (id.userns != SANDBOX_USERNS_HOST)
		printf("ID map: container 0 -> host %u (%u ids)\n", id.ids.uid[0].host,
		       id.userns == SANDBOX_USERNS_SINGLE ? 1u : 65536u);
	printf("Kernel: %s %s\n", u.sysname, u.release);
	printf("User namespaces: %s (max_user_namespaces=%s)\n",
	       maxns[0] && strcmp(maxns, "0") ? "available" : "unavailable", maxns);
	printf("Seccomp: %s\n", actions[0] ? "available" : "unavailable");
	if (abi > 0)
		printf("Landlock: ABI %d (filesystem%s%s%s)\n", abi, abi >= 4 ? ", network" : "",
		       abi >= 5 ? ", device ioctl" : "", abi >= 6 ? ", scopes" : "");
	else
		printf("Landlock: not active\n");
	printf("Overlay: %s\n", fs_available("overlay") ? "kernel overlayfs" : "not available");
	printf("AppArmor: %s\n", lsm.apparmor ? "active" : "not active");
	printf("SELinux: %s\n", lsm.selinux ? "active" : "not active");
	printf("LSMs: %s\n", lsm.list[0] ? lsm.list : "unknown");
	printf("Cgroups: %s\n", cgroup_layout());
	{
		char why[512];
		/* What moat can do with them for this caller (pause, stats, OOM). */
		sandbox_cgroup_describe(ctx->rootless, why, sizeof(why));
		printf("Container cgroups: %s\n", why);
	}
	return 0;
}

/*
 * common/userns.c - id maps for user namespaces (see userns.h).
 *
 * Runs in: the monitor (moat run) and the image store, as the invoking user
 * or root. newuidmap/newgidmap are the only setuid programs moat ever runs,
 * and only in rootless subuid mode; they check /etc/subuid themselves.
 */
#include "common/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

static int write_proc(pid_t pid, const char *file, const char *buf, struct err **err)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "open %s", path);
	r = fs_write_all(fd, buf, strlen(buf));
	if (r < 0)
		return err_errno(err, -r, "write %s", path);
	return 0;
}

static void format_map(const struct idmap *m, size_t n, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%u %u %u\n", m[i].container,
					m[i].host, m[i].size);
}

/* Starts newuidmap/newgidmap PID c h s ... (posix_spawn: no copy of the
 * caller's address space); *CHILD gets its pid. */
static int spawn_helper(const char *helper, pid_t pid, const struct idmap *m, size_t n,
			pid_t *child, struct err **err)
{
	char *argv[3 + 3 * SANDBOX_MAX_IDMAPS + 1];
	char nums[1 + 3 * SANDBOX_MAX_IDMAPS][16];
	char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	posix_spawn_file_actions_t fa;
	size_t a = 0, k = 0;
	int r;

	argv[a++] = (char *)helper;
	snprintf(nums[k], sizeof(nums[k]), "%d", (int)pid);
	argv[a++] = nums[k++];
	for (size_t i = 0; i < n; i++) {
		snprintf(nums[k], 16, "%u", m[i].container);
		argv[a++] = nums[k++];
		snprintf(nums[k], 16, "%u", m[i].host);
		argv[a++] = nums[k++];
		snprintf(nums[k], 16, "%u", m[i].size);
		argv[a++] = nums[k++];
	}
	argv[a] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return err_errno(err, ENOMEM, "spawn %s", helper);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	r = posix_spawnp(child, helper, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r == ENOENT)
		return err_set(
		    err, ENOENT,
		    "%s is missing: install Debian's uidmap package, or use --userns=single",
		    helper);
	if (r != 0)
		return err_errno(err, r, "run %s", helper);
	return 0;
}

static int wait_helper(const char *helper, pid_t child, struct err **err)
{
	int status;

	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "wait %s", helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, EPERM,
			       "%s refused the mapping (check /etc/subuid and /etc/subgid)",
			       helper);
	return 0;
}

/* Both helpers run at once: each costs milliseconds (setuid start-up). */
static int run_helpers(pid_t pid, const struct idmap *uid, size_t nu, const struct idmap *gid,
		       size_t ng, struct err **err)
{
	pid_t u = -1, g = -1;
	int r;

	if (spawn_helper("newuidmap", pid, uid, nu, &u, err) < 0)
		return err_ret(*err);
	r = spawn_helper("newgidmap", pid, gid, ng, &g, err);
	if (wait_helper("newuidmap", u, r < 0 ? NULL : err) < 0 && r == 0)
		r = err_ret(*err);
	if (g > 0 && wait_helper("newgidmap", g, r < 0 ? NULL : err) < 0 && r == 0)
		r = err_ret(*err);
	return r;
}

int userns_write_maps(pid_t pid, enum sandbox_userns mode, const struct idmap *uid, size_t nu,
		      const struct idmap *gid, size_t ng, struct err **err)
{
	char buf[64 * SANDBOX_MAX_IDMAPS];

	switch (mode) {
	case SANDBOX_USERNS_HOST:
		return 0;
	case SANDBOX_USERNS_SUBUID:
		return run_helpers(pid, uid, nu, gid, ng, err);
	case SANDBOX_USERNS_SINGLE:
		/* An unprivileged writer must deny setgroups before gid_map. */
		if (write_proc(pid, "setgroups", "deny", err) < 0)
			return err_ret(*err);
		break;
	case SANDBOX_USERNS_ROOT:
		break;
	default:
		return err_set(err, EINVAL, "unknown user namespace mode");
	}
	format_map(uid, nu, buf, sizeof(buf));
	if (write_proc(pid, "uid_map", buf, err) < 0)
		return err_ret(*err);
	format_map(gid, ng, buf, sizeof(buf));
	return write_proc(pid, "gid_map", buf, err);
}

int userns_run(enum sandbox_userns mode, const struct idmap *uid, size_t nu,
	       const struct idmap *gid, size_t ng, int (*fn)(void *), void *arg, struct err **err)
{
	int sv[2];
	pid_t child;
	int status, r;
	char c = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(err, errno, "socketpair");
	child = fork();
	if (child < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_errno(err, errno, "fork");
	}
	if (child == 0) {
		close(sv[0]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(254);
		if (write(sv[1], &c, 1) != 1 || read(sv[1], &c, 1) != 1 || c != 1)
			_exit(254);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			_exit(254);
		r = fn(arg);
		_exit(r < 0 ? 255 : (r > 253 ? 253 : r));
	}
	close(sv[1]);
	r = 0;
	if (read(sv[0], &c, 1) != 1) {
		r = err_set(err, EPERM, "could not create a user namespace");
	} else if (userns_write_maps(child, mode, uid, nu, gid, ng, err) < 0) {
		r = err_ret(*err);
	} else {
		c = 1;
		if (write(sv[0], &c, 1) != 1)
			r = err_errno(err, errno, "sync with user namespace child");
	}
	close(sv[0]);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "wait");
	if (r < 0)
		return r;
	if (!WIFEXITED(status))
		return err_set(err, EIO, "user namespace child killed by signal %d",
			       WTERMSIG(status));
	if (WEXITSTATUS(status) == 254)
		return err_set(err, EPERM, "could not enter the user namespace");
	if (WEXITSTATUS(status) == 255)
		return err_set(err, EIO, "operation in the user namespace failed");
	return WEXITSTATUS(status);
}

static int find_range(const char *file, const char *name, unsigned long id, uint32_t *start,
		      uint32_t *count)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[512];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *who = strtok_r(line, ":\n", &save);
		char *s = strtok_r(NULL, ":\n", &save), *c = strtok_r(NULL, ":\n", &save);
		char *end;
		unsigned long vs, vc;

		if (!who || !s || !c)
			continue;
		if (strcmp(who, name) != 0) {
			unsigned long n = strtoul(who, &end, 10);
			if (*end || n != id)
				continue;
		}
		vs = strtoul(s, &end, 10);
		if (*end)
			continue;
		vc = strtoul(c, &end, 10);
		if (*end || vc < MOAT_ID_RANGE - 1 || vs > UINT32_MAX - vc)
			continue;
		*start = (uint32_t)vs;
		*count = (uint32_t)vc;
		return 0;
	}
	return -ENOENT;
}

int userns_subid_maps(uid_t uid, gid_t gid, struct idmap *u, size_t *nu, struct idmap *g,
		      size_t *ng, struct err **err)
{
	struct passwd *pw = getpwuid(uid);
	const char *name = pw ? pw->pw_name : "";
	uint32_t us, uc, gs, gc;

	if (find_range("/etc/subuid", name, uid, &us, &uc) < 0)
		return err_set(err, ENOENT,
			       "no /etc/subuid entry of at least %u ids for user \"%s\" (uid %u): "
			       "add one (usermod --add-subuids) or use --userns=single",
			       MOAT_ID_RANGE - 1, name, (unsigned)uid);
	if (find_range("/etc/subgid", name, uid, &gs, &gc) < 0)
		return err_set(err, ENOENT,
			       "no /etc/subgid entry of at least %u ids for user \"%s\" (uid %u): "
			       "add one (usermod --add-subgids) or use --userns=single",
			       MOAT_ID_RANGE - 1, name, (unsigned)uid);
	u[0] = (struct idmap){0, uid, 1};
	u[1] = (struct idmap){1, us, MOAT_ID_RANGE - 1};
	g[0] = (struct idmap){0, gid, 1};
	g[1] = (struct idmap){1, gs, MOAT_ID_RANGE - 1};
	*nu = *ng = 2;
	return 0;
}

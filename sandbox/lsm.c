/*
 * sandbox/lsm.c - AppArmor and SELinux.
 *
 * Runs in: any process for detection; in the container's setup child
 * (after pivot_root, with the container's own /proc) for the exec label.
 *
 * On hosts where neither is active (the development machines: the active
 * LSMs are lockdown,capability,landlock,bpf) detection reports "not active"
 * and nothing is applied; Landlock and seccomp still confine.
 */
#include "sandbox/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

static bool read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return false;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return true;
}

void sandbox_lsm_detect(struct lsm_status *st)
{
	char buf[16];

	memset(st, 0, sizeof(*st));
	if (!read_small("/sys/kernel/security/lsm", st->list, sizeof(st->list)))
		read_small("/proc/sys/kernel/lsm", st->list, sizeof(st->list));
	if (read_small("/sys/module/apparmor/parameters/enabled", buf, sizeof(buf)) &&
	    buf[0] == 'Y')
		st->apparmor = access("/sys/kernel/security/apparmor", F_OK) == 0 &&
			       (!st->list[0] || strstr(st->list, "apparmor"));
	st->selinux = access("/sys/fs/selinux/enforce", F_OK) == 0;
}

int sandbox_lsm_apply(const char *apparmor_profile, struct err **err)
{
	struct lsm_status st;
	struct statfs sfs;
	char cmd[300];
	_cleanup_close_ int fd = -1;

	if (!apparmor_profile)
		return 0;
	sandbox_lsm_detect(&st);
	if (!st.apparmor)
		return err_set(
		    err, ENOTSUP,
		    "AppArmor profile \"%s\" requested but AppArmor is not active on this host",
		    apparmor_profile);
	fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_errno(err, errno, "open AppArmor exec attribute");
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return err_set(err, EPERM, "AppArmor exec attribute is not on procfs: refused");
	snprintf(cmd, sizeof(cmd), "exec %s", apparmor_profile);
	if (fs_write_all(fd, cmd, strlen(cmd)) < 0)
		return err_errno(err, errno, "set AppArmor profile \"%s\"", apparmor_profile);
	return 0;
}

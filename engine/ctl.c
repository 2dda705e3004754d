/*
 * engine/ctl.c - the monitor's control socket: message codec and the
 * client and server ends.
 *
 * Runs in: moat commands (clients) and the container's monitor (server),
 * as the same user. The socket lives in the container's runtime directory
 * (0700), created with mode 0600: only its owner (and root) can connect.
 * Paths go through /proc/self/fd/<dirfd>/ctl so a long --runroot never
 * meets the 108-byte sun_path limit.
 */
#include "engine/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t ctl_encode(void *buf, uint32_t type, int32_t a, int32_t b, const void *data, size_t len)
{
	unsigned char *p = buf;

	put32(p, CTL_MAGIC);
	put32(p + 4, type);
	put32(p + 8, (uint32_t)a);
	put32(p + 12, (uint32_t)b);
	if (len)
		memcpy(p + CTL_HDR_LEN, data, len);
	return CTL_HDR_LEN + len;
}

int ctl_decode(const void *buf, size_t n, struct ctl_msg *m, struct err **err)
{
	const unsigned char *p = buf;

	if (n < CTL_HDR_LEN || n > CTL_MSG_MAX)
		return err_set(err, EPROTO, "control message of %zu bytes", n);
	if (get32(p) != CTL_MAGIC)
		return err_set(err, EPROTO, "control message without the magic");
	m->type = get32(p + 4);
	if (m->type < CTL_OK || m->type >= CTL_TYPE_MAX)
		return err_set(err, EPROTO, "unknown control message %u", m->type);
	m->a = (int32_t)get32(p + 8);
	m->b = (int32_t)get32(p + 12);
	m->data = (const char *)p + CTL_HDR_LEN;
	m->len = n - CTL_HDR_LEN;
	return 0;
}

int ctl_send(int fd, uint32_t type, int32_t a, int32_t b, const void *data, size_t len, int passfd)
{
	unsigned char buf[CTL_MSG_MAX];
	struct iovec iov = {buf, 0};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (len > CTL_PAYLOAD_MAX)
		len = CTL_PAYLOAD_MAX;
	iov.iov_len = ctl_encode(buf, type, a, b, data, len);
	if (passfd >= 0) {
		struct cmsghdr *c;
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int ctl_recv(int fd, void *buf, struct ctl_msg *m, int *passfd, struct err **err)
{
	struct iovec iov = {buf, CTL_MSG_MAX};
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	int got = -1;

	if (passfd)
		*passfd = -1;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_errno(err, errno, "control socket");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		/* Keep the first fd; close any others a peer slipped in. */
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fdv;
			memcpy(&fdv, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < 0 && passfd)
				got = fdv;
			else
				close(fdv);
		}
	}
	if (passfd)
		*passfd = got;
	if (n == 0)
		return 0;
	if (ctl_decode(buf, (size_t)n, m, err) < 0) {
		if (passfd)
			closep(passfd);
		return err_ret(*err);
	}
	return 1;
}

static int sock_addr(int dirfd, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/ctl", dirfd);
	return 0;
}

int ctl_listen(int rdirfd, struct err **err)
{
	struct sockaddr_un sa;
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old;
	int r;

	if (s < 0)
		return err_errno(err, errno, "control socket");
	sock_addr(rdirfd, &sa);
	unlinkat(rdirfd, "ctl", 0);
	old = umask(0177);
	r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return err_errno(err, errno, "bind the control socket");
	if (listen(s, 64) < 0)
		return err_errno(err, errno, "listen on the control socket");
	return steal_fd(s);
}

int ctl_connect(const char *rdir, struct err **err)
{
	struct sockaddr_un sa;
	_cleanup_close_ int dfd = open(rdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int s = -1;

	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", rdir);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_errno(err, errno, "control socket");
	sock_addr(dfd, &sa);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_errno(err, errno, "connect to the container's monitor");
	return steal_fd(s);
}

int ctl_call(const char *rdir, uint32_t type, int32_t a, int32_t b, int32_t *a_out, int *passfd,
	     struct err **err)
{
	_cleanup_close_ int s = ctl_connect(rdir, err);
	unsigned char buf[CTL_MSG_MAX];
	struct ctl_msg m;
	int r, fd = -1;

	if (s < 0)
		return s;
	if ((r = ctl_send(s, type, a, b, NULL, 0, -1)) < 0)
		return err_errno(err, -r, "talk to the container's monitor");
	for (;;) {
		r = ctl_recv(s, buf, &m, &fd, err);
		if (r < 0)
			return r;
		if (r == 0)
			return err_set(err, EPIPE,
				       "the container's monitor ended without answering");
		if (m.type == CTL_OK || m.type == CTL_EXIT)
			break;
		closep(&fd);
		if (m.type == CTL_ERROR) {
			r = err_set(err, m.a > 0 ? m.a : EIO, "%.*s", (int)m.len, m.data);
			(*err)->exit = m.b;
			return r;
		}
	}
	if (a_out)
		*a_out = m.a;
	if (passfd)
		*passfd = fd;
	else
		closep(&fd);
	return 0;
}

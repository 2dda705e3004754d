/*
 * engine/ctl.h - the control protocol between moat commands and a
 * container's monitor, over RUNROOT/containers/<id>/ctl (a SOCK_SEQPACKET
 * unix socket, mode 0600 in a 0700 directory; never an abstract socket).
 *
 * One datagram is one message: a 16-byte header (magic, type, two integer
 * arguments) and up to CTL_PAYLOAD_MAX bytes of payload. The decoder is
 * pure and fuzzed (fuzz/ctl_fuzz.c): the monitor reads what any process of
 * the same user can send.
 */
#ifndef MOAT_ENGINE_CTL_H
#define MOAT_ENGINE_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CTL_MAGIC 0x54414f4du /* "MOAT" little-endian */
#define CTL_HDR_LEN 16
#define CTL_PAYLOAD_MAX 32768
#define CTL_MSG_MAX (CTL_HDR_LEN + CTL_PAYLOAD_MAX)

enum ctl_type {
	/* monitor → client */
	CTL_OK = 1, /* a: verb-specific (pause: 0) */
	CTL_ERROR,  /* a: errno, b: Docker exit status; payload: message */
	CTL_EXIT,   /* a: exit code (Docker semantics), b: 1 when the monitor ends */
	CTL_STDOUT, /* payload: output */
	CTL_STDERR, /* payload: output */
	/* client → monitor */
	CTL_STOP,      /* a: signal (0 = the container's), b: timeout s (-1 = its own) */
	CTL_KILL,      /* a: signal */
	CTL_ATTACH,    /* a: CTL_ATTACH_* flags */
	CTL_STDIN,     /* payload: input */
	CTL_STDIN_EOF, /* */
	CTL_RESIZE,    /* a: rows, b: columns */
	CTL_WAIT,      /* answered by CTL_EXIT at the next exit */
	CTL_PIDFD,     /* answered by CTL_OK with the init's pidfd attached */
	CTL_PAUSE,     /* answered by CTL_OK or CTL_ERROR */
	CTL_UNPAUSE,
	CTL_TYPE_MAX,
};

enum {
	CTL_ATTACH_STDIN = 1,
	CTL_ATTACH_STDOUT = 2,
	CTL_ATTACH_STDERR = 4,
};

struct ctl_msg {
	uint32_t type;
	int32_t a, b;
	const char *data; /* into the caller's buffer */
	size_t len;
};

/* PURE: checks and decodes one datagram. */
int ctl_decode(const void *buf, size_t n, struct ctl_msg *m, struct err **err);
/* PURE: encodes into BUF (>= CTL_HDR_LEN + len); returns the length. */
size_t ctl_encode(void *buf, uint32_t type, int32_t a, int32_t b, const void *data, size_t len);

/* Sends one message, with PASSFD attached when >= 0. */
int ctl_send(int fd, uint32_t type, int32_t a, int32_t b, const void *data, size_t len, int passfd);
/* Receives one message into BUF (CTL_MSG_MAX bytes); 0 at EOF, 1 with M
 * filled, negative on error. *PASSFD gets an attached fd or -1. */
int ctl_recv(int fd, void *buf, struct ctl_msg *m, int *passfd, struct err **err);

/* Creates and listens on RDIR's "ctl" (RDIRFD: the runtime dir). */
int ctl_listen(int rdirfd, struct err **err);
/* Connects to the monitor of the container whose runtime dir is RDIR;
 * -ECONNREFUSED/-ENOENT when none is listening. */
int ctl_connect(const char *rdir, struct err **err);
/* One request, one answer: sends TYPE and waits for CTL_OK, CTL_EXIT or
 * CTL_ERROR (turned into an error with the monitor's message). *A_OUT
 * gets the answer's first argument, *PASSFD an attached fd (or NULL). */
int ctl_call(const char *rdir, uint32_t type, int32_t a, int32_t b, int32_t *a_out, int *passfd,
	     struct err **err);

#endif

/*
 * engine/cp_internal.h - what the files of `moat cp` share; no other
 * module includes it (they use engine/cp.h).
 *
 *   engine/cp.c         the verb: the host side, reaching the container,
 *                       the plan, the helper's lifetime
 *   engine/cp_helper.c  the helper: entering the container, its end of
 *                       the copy
 *   engine/cp_path.c    PURE: arguments, paths, Docker's plan, entry names
 *   engine/cp_stream.c  what flows between the two processes: the entry
 *                       records (the decoder is PURE) and control messages
 *   engine/cp_tree.c    a tree beneath a directory fd: finding a copy's
 *                       ends, reading a tree out, extracting one
 *   engine/cp_tar.c     tar streams for "-" (the host side only)
 *
 * The threat model is in engine/cp.c; each file says which part of it
 * its own code answers.
 */
#ifndef MOAT_ENGINE_CP_INTERNAL_H
#define MOAT_ENGINE_CP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "common/err.h"
#include "engine/cp.h"
#include "sandbox/spec.h"

#define CP_PATH_MAX 4096 /* a name, a link target, a path the user wrote */
#define CP_BUF (128 * 1024)
#define CP_DEPTH_MAX 512 /* directories below the top, while reading a tree */
#define CP_HOPS_MAX 40	 /* symlinks followed for the top, as the kernel's 40 */

/* ---- paths (cp_path.c, PURE) ---- */

/* A path the user wrote for one end of the copy. */
struct cp_path {
	char clean[CP_PATH_MAX + 2];
	bool contents;	  /* "dir/." (or ".", "/"): the entries, not the dir */
	bool asserts_dir; /* a trailing "/" or "/." */
	const char *name; /* the top entry's name when it is the source */
};

/* Go's path.Clean of IN into OUT (strlen(IN) + 2 bytes). */
void engine_cp_path_clean(const char *in, char *out);
/* Splits clean PATH into its directory (DIR, as large as PATH) and *BASE. */
void engine_cp_path_split(const char *path, char *dir, const char **base);
/* IN as written for one end; IN_CONTAINER: relative to the container's
 * root. Errors: empty (host side), longer than CP_PATH_MAX - 1. */
int engine_cp_path_parse(const char *in, bool in_container, struct cp_path *p, struct err **err);

/* ---- entries and the record stream (cp_stream.c) ---- */

/*
 * A record's head is CP_REC_HDR_LEN bytes, host byte order (both ends
 * are the same binary on the same machine):
 *    0 magic "MCPE"   4 type    8 mode   12 uid   16 gid
 *   20 name length   24 link length   28 atime ns   32 mtime ns
 *   36 zero          40 size (u64)    48 atime s (i64)  56 mtime s (i64)
 * then the name and the link target (no NUL), then, for CP_ENT_REG,
 * exactly size bytes of data. CP_ENT_END (all lengths 0) ends the stream.
 */
#define CP_REC_HDR_LEN 64
#define CP_REC_MAGIC 0x4550434du /* "MCPE" */
#define CP_REC_HEAD_MAX (CP_REC_HDR_LEN + 2 * CP_PATH_MAX)

/* The wire values: never renumber. */
enum cp_ent_type {
	CP_ENT_END,
	CP_ENT_REG,
	CP_ENT_DIR,
	CP_ENT_LNK,
	CP_ENT_FIFO,
	CP_ENT_HARDLINK,
	CP_ENT_TYPE_MAX,
};

struct cp_ent {
	enum cp_ent_type type;
	uint32_t mode; /* permission bits */
	uint32_t uid, gid;
	struct timespec atime, mtime;
	uint64_t size; /* CP_ENT_REG: the data that follows */
	char name[CP_PATH_MAX + 1];
	char link[CP_PATH_MAX + 1]; /* CP_ENT_LNK: target; CP_ENT_HARDLINK: an earlier entry */
};

/* Where entries go. A source calls begin, then (CP_ENT_REG) data for
 * exactly size bytes, then end; the entry stays valid until end. */
struct cp_sink {
	int (*begin)(struct cp_sink *s, const struct cp_ent *e, struct err **err);
	int (*data)(struct cp_sink *s, const void *buf, size_t n, struct err **err);
	int (*end)(struct cp_sink *s, struct err **err);
};

/*
 * PURE: E's head (header, name, link) into OUT (CAP bytes); its length,
 * or -ENAMETOOLONG / -ENOBUFS. Writes what E says: E is not checked
 * here, the reader checks it (engine_cp_record_decode).
 */
int engine_cp_record_encode(const struct cp_ent *e, unsigned char *out, size_t cap,
			    struct err **err);

/*
 * PURE: checks the header H (CP_REC_HDR_LEN bytes) from the other process
 * and fills E but its name and link; *NLEN and *LLEN get their lengths,
 * both at most CP_PATH_MAX. -EPROTO for anything the encoder would not
 * have written.
 */
int engine_cp_record_header_decode(const unsigned char *h, struct cp_ent *e, uint32_t *nlen,
				   uint32_t *llen, struct err **err);

/*
 * PURE: the record head at BUF (LEN bytes) into E, the name and link NUL
 * terminated; *USED gets its length (E->size data bytes follow it for
 * CP_ENT_REG). -EPIPE when LEN is too short for it, -EPROTO when it is
 * malformed. Names are NOT checked for safety here: whoever uses one
 * cleans it (engine_cp_name_clean).
 */
int engine_cp_record_decode(const unsigned char *buf, size_t len, struct cp_ent *e, size_t *used,
			    struct err **err);

/* The sink that writes records to FD; _finish sends the end record. */
struct cp_rec_writer {
	struct cp_sink s;
	int fd;
};

void engine_cp_writer_init(struct cp_rec_writer *w, int fd);
int engine_cp_writer_finish(struct cp_rec_writer *w, struct err **err);

/* Reads records from FD into S until the end record; E is the storage
 * for the current one. */
int engine_cp_record_pump(int fd, struct cp_sink *s, struct cp_ent *e, struct err **err);

/* ---- control messages between the two processes (cp_stream.c) ---- */

/* One per phase and direction, over a SOCK_SEQPACKET pair. */
struct cp_msg {
	int32_t code; /* 0, or a positive errno */
	uint32_t flags;
	char text[1536]; /* an error, or a name */
};

enum {
	CPM_EXISTS = 1,
	CPM_DIR = 2,
	CPM_REG = 4,
	CPM_INTO_PARENT = 8, /* the plan: extract into the destination's parent */
};

int engine_cp_msg_send(int fd, int code, uint32_t flags, const char *text);
/* 1 with M filled (TEXT terminated), 0 when the other side closed, -errno. */
int engine_cp_msg_recv(int fd, struct cp_msg *m);

/* ---- trees beneath a directory fd (cp_tree.c) ---- */

enum cp_own {
	CP_OWN_KEEP,  /* as created (the host side: the invoker) */
	CP_OWN_FIXED, /* UID:GID (the container side: its root) */
	CP_OWN_ENTRY, /* the entry's own (-a) */
};

struct cp_fix {
	char *name;
	uint32_t mode;
	struct timespec ts[2];
	bool created;
};

/* The sink that writes entries beneath DESTFD. The caller sets own, uid,
 * gid, own_best_effort and strip_suid after engine_cp_extract_init. */
struct cp_extract {
	struct cp_sink s;
	int destfd; /* O_PATH directory everything lands beneath */
	enum cp_own own;
	uid_t uid;
	gid_t gid;
	bool own_best_effort; /* -a where chown is not ours to do (rootless) */
	bool strip_suid;
	const struct cp_ent *cur;
	char rel[CP_PATH_MAX + 1]; /* the current entry's clean name */
	int fd;			   /* the regular file being written */
	uint64_t left;
	char pdir[CP_PATH_MAX + 1]; /* the parent directory last opened */
	int pfd;
	struct cp_fix *fixes; /* directories: mode and times once filled */
	size_t n_fixes, cap_fixes;
};

void engine_cp_extract_init(struct cp_extract *x, int destfd);
/* Directories' modes and times, once every entry is in. */
int engine_cp_extract_finish(struct cp_extract *x, struct err **err);
void engine_cp_extract_free(struct cp_extract *x);

/* Sends the tree at FD (ST its stat) as entries whose top is named NAME;
 * device nodes and sockets are counted in *SKIPPED, not sent. */
int engine_cp_tree_send(struct cp_sink *s, int fd, const struct stat *st, const char *name,
			unsigned long *skipped, struct err **err);

/* The source, open: FD is readable (a directory or regular file) or
 * O_PATH (a symlink, FIFO, ...). */
struct cp_src {
	int fd;
	struct stat st;
};

/* Opens the source P beneath ROOTFD (-1: on the host). SHOW names it in
 * messages; CTR is the container's name, NULL on the host. */
int engine_cp_src_open(int rootfd, const struct cp_path *p, bool follow, const char *show,
		       const char *ctr, struct cp_src *s, struct err **err);

/* The destination, found. */
struct cp_dest {
	struct engine_cp_dest d;
	char base[CP_PATH_MAX + 2];
	int pfd; /* the directory it is (or would be) in */
	int fd;	 /* itself, when it is an existing directory */
};

int engine_cp_dest_find(int rootfd, const struct cp_path *p, const char *show, const char *ctr,
			struct cp_dest *out, struct err **err);
void engine_cp_dest_close(struct cp_dest *d);

/* ---- tar streams for "-" (cp_tar.c, the host side only) ---- */

struct archive;
struct archive_entry;

struct cp_tar_writer {
	struct cp_sink s;
	struct archive *a;
	struct archive_entry *ae;
	int fd;
};

/* A sink writing a tar to FD; _close(OK) finishes it when OK. */
int engine_cp_tar_open(struct cp_tar_writer *t, int fd, struct err **err);
int engine_cp_tar_close(struct cp_tar_writer *t, bool ok, struct err **err);
/* Entries of the tar on FD into S; what the records cannot carry (device
 * nodes, sockets) is counted in *SKIPPED. */
int engine_cp_tar_pump(int fd, struct cp_sink *s, struct cp_ent *e, unsigned long *skipped,
		       struct err **err);

/* ---- the helper (cp_helper.c) ---- */

struct cp_job {
	const struct engine_cp_opts *o;
	const char *ctr;      /* the container's name, for messages */
	const char *show;     /* "name:path" */
	struct cp_path cpath; /* the container's end */
	enum sandbox_userns userns;
	bool stopped;
	int pidfd;		  /* running: its init */
	char **lowers;		  /* stopped: its image's layers, top first */
	const char *upper, *work; /* stopped: its writable layer */
	int sync;		  /* stopped: id maps written */
	int ctl, data;
};

/* The forked helper's body, until _exit: enters the container and does
 * its end of J. PARENT: the moat process it must not outlive. */
__attribute__((noreturn)) void engine_cp_helper_main(struct cp_job *j, pid_t parent);

#endif

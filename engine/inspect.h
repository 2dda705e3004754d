/*
 * engine/inspect.h - Docker-shaped views of containers and images: the
 * objects `moat inspect` prints (Docker's ContainerJSON and ImageInspect,
 * the fields moat has), the row `moat ps` renders with --format, and the
 * text helpers both share (Docker's COMMAND column, RFC 3339 times, sizes).
 *
 * Runs in: the moat CLI process, as the invoking user or root.
 *
 * The builders are PURE: they take a decoded record (or image), the state
 * that is true now and "now", and return a new json_t; they read no file,
 * process or clock. This is the one place where the typed structs become
 * JSON, for engine/format.c to render: no json_t goes back into the engine.
 * The only impure function, engine_inspect_dir_size, is marked so.
 *
 * Invariants:
 *  - every string a container's owner chose (command, labels, env) goes
 *    into JSON as a string; jansson escapes it, and the COMMAND column is
 *    quoted like Go's strconv.Quote, so control characters never reach a
 *    terminal raw;
 *  - a field moat does not know is Docker's empty value for it ("", null,
 *    [], {} or the zero time), never invented.
 */
#ifndef MOAT_ENGINE_INSPECT_H
#define MOAT_ENGINE_INSPECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/containers.h"
#include "image/image.h"

/* Go's zero time.Time as Docker prints it: StartedAt of a container that
 * never started. */
#define INSPECT_ZERO_TIME "0001-01-01T00:00:00Z"
#define INSPECT_TIME_MAX 40

/* Unix nanoseconds as Go's RFC3339Nano in UTC ("2024-05-01T10:20:30.5Z":
 * trailing zeros of the fraction dropped, no fraction when it is 0);
 * NS <= 0 is INSPECT_ZERO_TIME. */
void engine_inspect_time(int64_t ns, char buf[INSPECT_TIME_MAX]);

/* Unix seconds as Go's time.Time.String() in the local zone (ps's
 * CreatedAt): "2026-11-28 06:01:52 +0000 UTC". */
void engine_inspect_time_local(int64_t secs, char *buf, size_t len);

/* Docker's units.HumanSizeWithPrecision(SIZE, PRECISION): decimal units,
 * "%.<P>g" ("0B", "4.1kB", "12.29MB" for P 3 and 4). */
void engine_inspect_human_size(uint64_t size, int precision, char *buf, size_t len);

/*
 * Docker's COMMAND column: ARGV joined by spaces, an argument with a space
 * wrapped in single quotes (as the daemon builds it), cut to 19 code points
 * plus "…" when TRUNC and longer than 20, then quoted like Go's
 * strconv.Quote ("\"sh -c 'exit 4'\"", control characters as \n, \x01,
 * invalid UTF-8 as \xff). Returns a malloc'd string or NULL (ENOMEM).
 */
char *engine_inspect_command(char *const *argv, bool trunc);

/* The exit code that is true now: -1 (unknown) when the record still says
 * running but STATE, the state that is true now, is exited (its monitor
 * died before it could write one). */
int engine_inspect_exit_code(const struct container_record *r, enum ctr_state state);

/* What `inspect` and `ps` add to a record; sizes < 0 are "not asked". */
struct engine_net_state;

struct inspect_env {
	const char *root, *runroot; /* the state directories, for paths */
	int64_t now;		    /* unix seconds (ps's durations) */
	int64_t size_rw;	    /* bytes in the container's upper layer */
	int64_t size_rootfs;	    /* size_rw + its image's size */
	/* while it runs on a network: its address and ports (NULL: none) */
	const struct engine_net_state *net;
};

/*
 * Docker's `inspect` object of a container: Id, Created, Path, Args, State
 * {Status, Running, Paused, Restarting, OOMKilled, Dead, Pid, ExitCode,
 * Error, StartedAt, FinishedAt}, Image, ResolvConfPath, HostnamePath,
 * HostsPath (RUNROOT files while it runs, "" otherwise), LogPath, Name
 * ("/name"), RestartCount, Driver, Platform, MountLabel, ProcessLabel,
 * AppArmorProfile, ExecIDs, HostConfig, GraphDriver, [SizeRw, SizeRootFs],
 * Mounts, Config, NetworkSettings. STATE is engine_container_state()'s.
 */
int engine_inspect_container(const struct container_record *r, enum ctr_state state,
			     const struct inspect_env *env, json_t **out, struct err **err);

/* Docker's `image inspect` object: Id, RepoTags, RepoDigests, Parent,
 * Comment, Created, Author, Config {User, ExposedPorts, Env, Cmd, Volumes,
 * WorkingDir, Entrypoint, Labels, StopSignal}, Architecture, Os, Size,
 * RootFS {Type, Layers}. IMG must carry its config (image_store_resolve). */
int engine_inspect_image(const struct image *img, json_t **out, struct err **err);

/*
 * The row `ps --format` renders (Docker's container context, keys in the
 * order its `{{json .}}` prints them): Command, CreatedAt, ID, Image, Labels
 * ("k=v,k2=v2"), LocalVolumes, Mounts, Names, Networks, Ports, RunningFor,
 * Size ("0B", or "1kB (virtual 5MB)" when sizes were asked), State, Status.
 * TRUNC: the 12-character id and the 20-character command.
 */
int engine_inspect_ps_row(const struct container_record *r, enum ctr_state state,
			  const struct inspect_env *env, bool trunc, json_t **out,
			  struct err **err);

/*
 * IMPURE: the bytes of the regular files and symlinks under DIR (Docker's
 * SizeRw: directories not counted, a hard-linked inode once). DIR's content
 * belongs to a container, so nothing is followed (O_NOFOLLOW at every
 * step), what cannot be read is skipped, and the walk stops at 256 levels
 * and 1,000,000 entries (past 4,096 hard-linked inodes a link counts again:
 * the walk stays linear). Returns the size, or a negative errno when DIR
 * itself cannot be opened.
 */
int64_t engine_inspect_dir_size(const char *dir);

/* IMPURE: R's SizeRw (its upper layer under ROOT) and SizeRootFs (SizeRw
 * plus the size of its image, found by id among the N IMAGES of
 * image_store_list; SizeRw alone when the image is gone). */
void engine_inspect_sizes(const char *root, const struct container_record *r,
			  struct image *const *images, size_t n, int64_t *rw, int64_t *rootfs);

#endif

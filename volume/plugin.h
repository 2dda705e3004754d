/*
 * volume/plugin.h - the client side of Docker's volume plugin protocol
 * (legacy v1 remote plugins; shared/interfaces.md section 5).
 *
 * Runs in: the moat process (and a container's monitor, for Unmount).
 *
 * Discovery: for plugin NAME, in each directory of the search path in
 * order: NAME.sock or NAME/NAME.sock (a unix socket), then NAME.spec (one
 * URL: unix:///path or tcp://host:port), then NAME.json ({"Name", "Addr",
 * "TLSConfig"}; moat also reads "MountRoot", see below). The search path
 * is MOAT_PLUGIN_PATH (colon-separated) when set, else moat's own
 * directory (root: /etc/moat/plugins; rootless:
 * $XDG_CONFIG_HOME/moat/plugins) then /run/docker/plugins,
 * /etc/docker/plugins, /usr/lib/docker/plugins.
 *
 * Calls: HTTP/1.1 POST /<Iface>.<Method> with a JSON body and
 * "Accept: application/vnd.docker.plugins.v1.2+json" over the socket
 * (libcurl). Each call is bounded by the timeout (MOAT_PLUGIN_TIMEOUT
 * seconds, default 30). A plugin that was discovered but does not accept
 * connections yet (its socket is not there or nobody listens: one that
 * starts after moat) is retried with backoff (100 ms, doubling up to 1 s)
 * for MOAT_PLUGIN_RETRY_SECONDS (default 15, as moby's plugins.Get; 0 is
 * one attempt), within the timeout; the error then says how long moat
 * waited. A plugin that was not discovered at all fails at once
 * (plugin_find). A call that reached the plugin is never retried.
 * tcp:// addresses must be loopback unless they
 * carry TLSConfig (moat does not speak TLS to plugins yet: a TLSConfig is
 * refused with a clear error). The first call to a plugin in a process
 * is Plugin.Activate, which must list "VolumeDriver".
 *
 * Replies are decoded strictly for the fields moat uses (unknown keys are
 * ignored, as Docker does; wrong types are errors). A non-empty "Err" is a
 * failure reported verbatim as `volume plugin NAME: ERR`; a non-200 reply
 * without JSON is reported with its body text (first line, capped). Both
 * are -EREMOTEIO: the plugin answered and refused. Failures where it is
 * not known what the plugin did (no reply, a timeout after connecting, a
 * malformed reply) are -EIO, -ETIMEDOUT, -EPROTO; -ECONNREFUSED and
 * -ENOENT mean it was never reached.
 *
 * Mountpoints: a plugin's Mount/Path reply is a host path. It must be
 * absolute, exist, be a directory (checked on an O_PATH|O_NOFOLLOW fd, so
 * a symlink is refused), and lie beneath the plugin's MountRoot when its
 * .json names one; without one it must not be, or be under, "/" itself,
 * /proc, /sys, /dev, /etc, /boot, /usr, /bin, /sbin, /lib*, /root, nor
 * moat's own state. plugin_mountpoint_open returns that checked fd.
 */
#ifndef MOAT_VOLUME_PLUGIN_H
#define MOAT_VOLUME_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PLUGIN_REPLY_MAX (4 * 1024 * 1024)
#define PLUGIN_SPEC_MAX (64 * 1024)

struct plugin {
	char *name;
	char *addr;	  /* "unix:///path" or "tcp://127.0.0.1:port" */
	char *mount_root; /* NULL: the default deny list applies */
	char *found_in;	  /* the file or socket it was discovered by */
	bool activated;
	int timeout_s;
	int retry_s; /* connecting is retried this long (never past the
		      * timeout); 0: one attempt. A caller that has a later
		      * chance (a pending Unmount) sets 0. */
};

struct plugin_volume {
	char *name;
	char *mountpoint; /* may be NULL/empty */
	char *created_at; /* may be NULL */
	char *status;	  /* Get: "Status" as compact JSON object text
			   * (keys sorted); NULL when none */
};

/* ---- PURE decoders (fuzz/plugin_decode_fuzz.c) ---- */
/* A .spec file: one URL line (whitespace trimmed). */
int plugin_decode_spec(const char *buf, size_t len, char **addr, struct err **err);
/* A .json file: Addr required; Name, TLSConfig, MountRoot optional. */
int plugin_decode_json(const char *buf, size_t len, char **addr, char **mount_root, bool *has_tls,
		       struct err **err);
/* A reply body of METHOD ("Plugin.Activate", "VolumeDriver.Mount", ...).
 * On a reply with a non-empty Err: -EIO with *plugin_err set (malloc'd).
 * Outputs that METHOD does not have are left untouched (pass NULL). */
struct plugin_reply {
	char *plugin_err;	    /* the Err text, verbatim */
	char **implements;	    /* Activate */
	char *mountpoint;	    /* Mount, Path */
	struct plugin_volume *vol;  /* Get: NULL when the plugin says none */
	struct plugin_volume *vols; /* List */
	size_t n_vols;
	char *scope; /* Capabilities: "local" (default) or "global" */
};
int plugin_decode_reply(const char *method, const char *buf, size_t len, struct plugin_reply *out,
			struct err **err);
void plugin_reply_free(struct plugin_reply *r);
void plugin_volume_free(struct plugin_volume *v);

/* ---- discovery and calls ---- */
/* NAME is a plugin name moat accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most
 * 128 bytes (so it is one path component, never "." or ".."). PURE. */
bool plugin_name_valid(const char *name);
/* The search path (see above), NULL-terminated, malloc'd. */
char **plugin_search_path(void);
/* Finds plugin NAME; ENOENT: "volume plugin NAME not found (looked in
 * ...)". NAME is checked ([a-zA-Z0-9][a-zA-Z0-9_.-]*) before any path.
 * MOAT_PLUGIN_TIMEOUT and MOAT_PLUGIN_RETRY_SECONDS are read here (an
 * invalid value is EINVAL naming it). */
int plugin_find(const char *name, struct plugin **out, struct err **err);
/* Every plugin name the search path offers (for `volume ls`), sorted,
 * unique, NULL-terminated. */
char **plugin_list_names(void);
void plugin_free(struct plugin *p);

int plugin_volume_create(struct plugin *p, const char *name, char *const *opts, struct err **err);
int plugin_volume_remove(struct plugin *p, const char *name, struct err **err);
/* ID: the caller's mount id (moat uses the container id). */
int plugin_volume_mount(struct plugin *p, const char *name, const char *id, char **mountpoint,
			struct err **err);
int plugin_volume_unmount(struct plugin *p, const char *name, const char *id, struct err **err);
int plugin_volume_path(struct plugin *p, const char *name, char **mountpoint, struct err **err);
/* *FOUND false (and 0) when the plugin says Volume null. Most plugins
 * answer an unknown name with an Err instead: -EREMOTEIO, which callers
 * that only ask "do you have it?" take as no (as Docker does). */
int plugin_volume_get(struct plugin *p, const char *name, struct plugin_volume *out, bool *found,
		      struct err **err);
int plugin_volume_list(struct plugin *p, struct plugin_volume **out, size_t *n, struct err **err);
int plugin_capabilities(struct plugin *p, char **scope, struct err **err);

/* Opens MOUNTPOINT (from Mount) as O_PATH|O_DIRECTORY|O_NOFOLLOW after the
 * checks above; STATE_DIRS (NULL-terminated, may be NULL) are moat's own
 * root and runroot, also refused. Returns the fd. */
int plugin_mountpoint_open(const struct plugin *p, const char *mountpoint,
			   const char *const *state_dirs, struct err **err);

#endif

/*
 * image/credentials.h - registry credentials in Docker's config.json
 * format ($DOCKER_CONFIG/config.json, else ~/.docker/config.json, mode
 * 0600), with credsStore/credHelpers through the docker-credential-helpers
 * protocol, so existing helpers work.
 */
#ifndef MOAT_IMAGE_CREDENTIALS_H
#define MOAT_IMAGE_CREDENTIALS_H

#include "common/err.h"
#include "image/registry.h"

/* The config.json key for a registry host: "docker.io" and
 * "registry-1.docker.io" -> "https://index.docker.io/v1/"; others verbatim. */
const char *credentials_key(const char *host);

/* PURE (fuzzed): from config.json text, what applies to KEY: inline auth
 * (base64 "user:pass", or username/password fields, identitytoken), or the
 * helper to ask (credHelpers[KEY], else credsStore): *HELPER malloc'd
 * ("pass", "secretservice"...) or NULL. Nothing found: 0 with empty CREDS
 * and no helper. Capped at 1 MiB. */
int credentials_decode(const char *buf, size_t len, const char *key, struct registry_creds *out,
		       char **helper, struct err **err);
void registry_creds_clear(struct registry_creds *c);

/* The credentials for HOST (config.json, then its helper). None: 0 with an
 * empty CREDS. */
int credentials_get(const char *host, struct registry_creds *out, struct err **err);
/* Stores (login) / erases (logout) them: the helper when one is
 * configured, else config.json (base64 "auth"), written atomically 0600
 * keeping every other key of the file as it was. */
int credentials_store(const char *host, const struct registry_creds *c, struct err **err);
/* -ENOKEY (with "not logged in to KEY") when neither config.json nor the
 * helper had anything for HOST. */
int credentials_erase(const char *host, struct err **err);

/* The helper credentials_store would use for HOST (*HELPER malloc'd), or
 * NULL: the secret would go to config.json in plain text. */
int credentials_helper_for(const char *host, char **helper, struct err **err);
/* $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json. malloc'd. */
int credentials_config_path(char **out, struct err **err);
/* Runs docker-credential-HELPER ACTION ("get", "store", "erase") with INPUT
 * on stdin (found in $PATH's absolute entries, no shell), killed after
 * TIMEOUT_MS (0: 30 s). *OUT: its stdout. -ENOENT: no such helper;
 * -ENOKEY: "credentials not found in native keychain"; -ETIMEDOUT; -EIO:
 * it failed (its message in ERR). */
int credentials_helper_call(const char *helper, const char *action, const char *input,
			    int timeout_ms, char **out, struct err **err);
/* PURE (fuzzed): a helper's `get` reply {"ServerURL","Username","Secret"};
 * Username "<token>" makes Secret an identity token. */
int credentials_helper_decode(const char *buf, size_t len, struct registry_creds *out,
			      struct err **err);

#endif

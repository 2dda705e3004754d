/*
 * common/curl.h - libcurl, loaded on first use (registry client, volume plugins).
 *
 * libcurl brings OpenSSL, nghttp2, libssh2, LDAP, Kerberos... whose
 * loading and relocation would cost every `moat` process (most of them
 * `moat run` of an image already present) several milliseconds, while only
 * pull, push, login and volume plugin calls need it. So the binary does not link it:
 * this header maps each libcurl function moat uses to a pointer filled by
 * dlopen("libcurl.so.4") (Debian's libcurl4, the OpenSSL build) the first
 * time any of them is needed. Include it instead of <curl/curl.h>.
 *
 * Like image/archive.h: loaded in the moat process before any container
 * exists and never inside one (no dlopen after entering a root:
 * CVE-2019-14271).
 */
#ifndef MOAT_COMMON_CURL_H
#define MOAT_COMMON_CURL_H

/* curl.h's gcc type-checking wrappers are macros named like the functions,
 * which the table below must own. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
/* ... and without it, "make sure there are three arguments" macros. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "common/err.h"

#define MOAT_CURL_FUNCS(X)     \
	X(curl_global_init)    \
	X(curl_easy_init)      \
	X(curl_easy_cleanup)   \
	X(curl_easy_reset)     \
	X(curl_easy_setopt)    \
	X(curl_easy_perform)   \
	X(curl_easy_getinfo)   \
	X(curl_easy_strerror)  \
	X(curl_slist_append)   \
	X(curl_slist_free_all) \
	X(curl_url)            \
	X(curl_url_cleanup)    \
	X(curl_url_set)        \
	X(curl_url_get)        \
	X(curl_free)

struct moat_curl_api {
#define MOAT_CURL_PTR(name) __typeof__(name) *name;
	MOAT_CURL_FUNCS(MOAT_CURL_PTR)
#undef MOAT_CURL_PTR
};

extern struct moat_curl_api moat_curl;

/* Loads libcurl once (and runs curl_global_init); 0 or a negative errno
 * with ERR naming what is missing. registry_open() calls it, so a missing
 * library is a clear error before anything else happens. */
int moat_curl_load(struct err **err);
/* For the call sites below: loads, or reports and exits 125 if it cannot
 * (the equivalent of the dynamic linker failing at start-up). Only reached
 * after moat_curl_load() succeeded, in practice. */
const struct moat_curl_api *moat_curl_api(void);

#ifndef MOAT_CURL_IMPL
/* From here on, every use of a libcurl function goes through the table. */
#define curl_global_init (moat_curl_api()->curl_global_init)
#define curl_easy_init (moat_curl_api()->curl_easy_init)
#define curl_easy_cleanup (moat_curl_api()->curl_easy_cleanup)
#define curl_easy_reset (moat_curl_api()->curl_easy_reset)
#define curl_easy_setopt (moat_curl_api()->curl_easy_setopt)
#define curl_easy_perform (moat_curl_api()->curl_easy_perform)
#define curl_easy_getinfo (moat_curl_api()->curl_easy_getinfo)
#define curl_easy_strerror (moat_curl_api()->curl_easy_strerror)
#define curl_slist_append (moat_curl_api()->curl_slist_append)
#define curl_slist_free_all (moat_curl_api()->curl_slist_free_all)
#define curl_url (moat_curl_api()->curl_url)
#define curl_url_cleanup (moat_curl_api()->curl_url_cleanup)
#define curl_url_set (moat_curl_api()->curl_url_set)
#define curl_url_get (moat_curl_api()->curl_url_get)
#define curl_free (moat_curl_api()->curl_free)
#endif /* MOAT_CURL_IMPL */

#endif

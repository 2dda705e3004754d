/*
 * common/curl.c - loads libcurl on first use (see curl.h).
 *
 * Runs in: the moat process (pull, push, login, volume plugin calls) and
 * a container's monitor (plugin Unmount), as the invoking user, always in
 * the host's mount namespace, never inside a container root. The library
 * is looked up by its soname only, so the dynamic linker's trusted paths decide where it comes from.
 * curl_global_init() runs here, once, under a lock: pull opens one
 * registry per download thread, and neither dlopen bookkeeping nor
 * curl_global_init() may run twice.
 */
#define MOAT_CURL_IMPL
#include "common/curl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

struct moat_curl_api moat_curl;
static int loaded; /* 0 not tried, 1 loaded, -1 failed */
static char failure[512];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int load(struct err **err)
{
	void *h;
	CURLcode rc;

	if (loaded > 0)
		return 0;
	if (loaded < 0)
		return err_set(err, ENOENT, "%s", failure);
	h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(failure, sizeof(failure),
			 "libcurl cannot be loaded (install Debian's libcurl4): %s", dlerror());
		loaded = -1;
		return err_set(err, ENOENT, "%s", failure);
	}
#define MOAT_CURL_SYM(name)                                                    \
	if (!(moat_curl.name = (__typeof__(name) *)dlsym(h, #name))) {         \
		snprintf(failure, sizeof(failure), "libcurl lacks %s", #name); \
		loaded = -1;                                                   \
		return err_set(err, ENOENT, "%s", failure);                    \
	}
	MOAT_CURL_FUNCS(MOAT_CURL_SYM)
#undef MOAT_CURL_SYM
	rc = moat_curl.curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(failure, sizeof(failure), "libcurl initialisation failed: %s",
			 moat_curl.curl_easy_strerror(rc));
		loaded = -1;
		return err_set(err, EIO, "%s", failure);
	}
	__atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
	return 0;
}

int moat_curl_load(struct err **err)
{
	int r;

	pthread_mutex_lock(&lock);
	r = load(err);
	pthread_mutex_unlock(&lock);
	return r;
}

const struct moat_curl_api *moat_curl_api(void)
{
	struct err *e = NULL;

	if (__atomic_load_n(&loaded, __ATOMIC_ACQUIRE) > 0)
		return &moat_curl;
	if (moat_curl_load(&e) < 0) {
		/* Like a failed dynamic link at start-up: nothing can go on. */
		fprintf(stderr, "moat: %s\n", e ? e->msg : "libcurl cannot be loaded");
		_exit(125);
	}
	return &moat_curl;
}

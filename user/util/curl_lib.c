// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/curl_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/dl.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct curl_lib lib;
static bool loaded;

const struct curl_lib *curl_lib(char *err, size_t errlen)
{
	const struct curl_lib *r = &lib;
	void *h;

	pthread_mutex_lock(&lock);
	if (loaded)
		goto out;
	h = dl_open(CURL_LIB_SONAME);
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s", CURL_LIB_SONAME, dlerror());
		r = NULL;
		goto out;
	}
	if (!dl_sym(h, "curl_global_init", &lib.global_init) ||
	    !dl_sym(h, "curl_easy_init", &lib.easy_init) ||
	    !dl_sym(h, "curl_easy_setopt", &lib.easy_setopt) ||
	    !dl_sym(h, "curl_easy_perform", &lib.easy_perform) ||
	    !dl_sym(h, "curl_easy_getinfo", &lib.easy_getinfo) ||
	    !dl_sym(h, "curl_easy_reset", &lib.easy_reset) ||
	    !dl_sym(h, "curl_easy_cleanup", &lib.easy_cleanup) ||
	    !dl_sym(h, "curl_easy_strerror", &lib.easy_strerror) ||
	    !dl_sym(h, "curl_slist_append", &lib.slist_append) ||
	    !dl_sym(h, "curl_slist_free_all", &lib.slist_free_all)) {
		snprintf(err, errlen, "cannot load %s: it lacks a function", CURL_LIB_SONAME);
		dlclose(h);
		r = NULL;
		goto out;
	}
	if (lib.global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		dlclose(h);
		r = NULL;
		goto out;
	}
	loaded = true;
out:
	pthread_mutex_unlock(&lock);
	return r;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/curl_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct curl_lib lib;
static bool loaded;

/* name's address in h into *fn (a function pointer's storage); false when missing */
static bool sym(void *h, const char *name, void *fn)
{
	void *p = dlsym(h, name);

	memcpy(fn, &p, sizeof(p));
	return p != NULL;
}

const struct curl_lib *curl_lib(char *err, size_t errlen)
{
	const struct curl_lib *r = &lib;
	void *h;

	pthread_mutex_lock(&lock);
	if (loaded)
		goto out;
	h = dlopen(CURL_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s", CURL_LIB_SONAME, dlerror());
		r = NULL;
		goto out;
	}
	if (!sym(h, "curl_global_init", &lib.global_init) ||
	    !sym(h, "curl_easy_init", &lib.easy_init) ||
	    !sym(h, "curl_easy_setopt", &lib.easy_setopt) ||
	    !sym(h, "curl_easy_perform", &lib.easy_perform) ||
	    !sym(h, "curl_easy_getinfo", &lib.easy_getinfo) ||
	    !sym(h, "curl_easy_reset", &lib.easy_reset) ||
	    !sym(h, "curl_easy_cleanup", &lib.easy_cleanup) ||
	    !sym(h, "curl_easy_strerror", &lib.easy_strerror) ||
	    !sym(h, "curl_slist_append", &lib.slist_append) ||
	    !sym(h, "curl_slist_free_all", &lib.slist_free_all)) {
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

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBSPROBE_UTIL_CURL_LIB_H
#define OBSPROBE_UTIL_CURL_LIB_H

#include <stddef.h>

#include <curl/curl.h>

/*
 * libcurl, opened when an exporter or the Kubernetes watch first needs it rather than linked:
 * linked, it and what it links (OpenSSL, Kerberos, LDAP, SSH, ~3 MiB of RSS) are loaded at
 * start by every obsprobe, most of which export nothing over HTTP.
 */
#define CURL_LIB_SONAME "libcurl.so.4"

struct curl_lib {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_reset)(CURL *h);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/* libcurl's functions, loaded and curl_global_init()ed on the first call, from any thread
 * (kept loaded after); NULL, with why in err, when it cannot be loaded or initialised. */
const struct curl_lib *curl_lib(char *err, size_t errlen);

#endif

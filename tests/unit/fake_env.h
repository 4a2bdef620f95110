/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A getenv() over a list the test sets: env_now, NULL-terminated "NAME=value" strings. */
#ifndef OBSPROBE_TEST_FAKE_ENV_H
#define OBSPROBE_TEST_FAKE_ENV_H

#include <string.h>

static const char *const *env_now;

static const char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	const char *const *e;

	for (e = env_now; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

#endif /* OBSPROBE_TEST_FAKE_ENV_H */

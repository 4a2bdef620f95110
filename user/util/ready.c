// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/ready.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ready {
	pthread_mutex_t mu;
	bool ready;
	char text[READY_TEXT_MAX];
};

struct ready *ready_new(void)
{
	struct ready *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	snprintf(r->text, sizeof(r->text), "not ready: starting\n");
	return r;
}

void ready_free(struct ready *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void ready_wait(struct ready *r, const char *what)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->ready = false;
	snprintf(r->text, sizeof(r->text), "not ready: %s\n", what);
	pthread_mutex_unlock(&r->mu);
}

bool ready_done(struct ready *r, const char *failed)
{
	bool ok = !failed || !failed[0];

	if (!r)
		return ok;
	pthread_mutex_lock(&r->mu);
	r->ready = ok;
	if (ok)
		snprintf(r->text, sizeof(r->text), "ready\n");
	else
		snprintf(r->text, sizeof(r->text), "not ready: could not attach\n%s%s", failed,
			 failed[strlen(failed) - 1] == '\n' ? "" : "\n");
	pthread_mutex_unlock(&r->mu);
	return ok;
}

bool ready_get(struct ready *r, char *text, size_t len)
{
	bool ok;

	if (!r) {
		snprintf(text, len, "not ready: starting\n");
		return false;
	}
	pthread_mutex_lock(&r->mu);
	ok = r->ready;
	snprintf(text, len, "%s", r->text);
	pthread_mutex_unlock(&r->mu);
	return ok;
}

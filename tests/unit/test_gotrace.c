// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which `go` statements goroutine tracking leaves unprobed, by the function they are in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "process/gotrace.h"

UNIT_TEST(test_stmt_skip)
{
	static const char *const skipped[] = {
		"runtime.gcenable",
		"runtime.newproc.abi0",
		"net/http.(*connReader).startBackgroundRead",
		"net/http.(*Server).Serve",
		"net/http.(*Transport).dialConn",
		"net/http.(*Transport).queueForDial",
		"net/http.(*persistConn).addTLS",
		"net/http.setRequestCancel",
		"context.propagateCancel",
		"context.propagateCancel.func1",
		"github.com/jackc/pgconn/internal/ctxwatch.(*ContextWatcher).Watch",
		"net.(*sysDialer).dialParallel",
		"net.cgoLookupIP",
		"internal/singleflight.(*Group).DoChan",
	};
	static const char *const probed[] = {
		"main.(*app).handle",
		"main.main.func1",
		"time.goFunc",
		"net/http.(*http2serverConn).serve", /* h2 runs each handler on a goroutine */
		"net/http.(*timeoutHandler).ServeHTTP",
		"golang.org/x/sync/errgroup.(*Group).Go",
		"github.com/jackc/pgx/v4/pgxpool.(*Pool).createIdleResources",
		/* other packages whose paths merely begin alike */
		"net.example.com/app.(*server).handle",
		"contextual.Run",
		"runtimes.Start",
		"network/svc.f",
		"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		const char *why = go_stmt_skip(skipped[i]);

		if (!why)
			fail_msg("%s: probed, should be skipped", skipped[i]);
		assert_true(why[0] != '\0');
	}
	for (i = 0; i < sizeof(probed) / sizeof(probed[0]); i++)
		if (go_stmt_skip(probed[i]))
			fail_msg("%s: skipped (%s), should be probed", probed[i],
				 go_stmt_skip(probed[i]));
}

UNIT_MAIN(NULL, NULL)

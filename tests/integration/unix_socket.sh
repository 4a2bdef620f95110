#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Unix stream sockets carry HTTP too (nginx `listen unix:`, curl --unix-socket): every request
# over one is a SERVER span, counted exactly, with no TCP peer invented for it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
N=12
p1=$(free_port) && p2=$(free_port) || { fail "no free port"; finish; }
start_nginx "$TMP/nginx" "$p1" "$p2" || finish
SOCK=$TMP/nginx/nginx.sock
wait_until 10 test -S "$SOCK" || { fail "nginx did not listen on $SOCK"; finish; }
start_obsprobe --pid "$NGINX_PID" --console json || finish
before=$(wc -l <"$TMP/nginx/access.log") # start_nginx's own readiness probe

for ((i = 1; i <= N; i++)); do
	curl -s -o /dev/null --unix-socket "$SOCK" "http://localhost/unix/$i"
done
curl -s -o /dev/null --unix-socket "$SOCK" "http://localhost/index.html"

O=$OBS_OUT
wait_until 10 eval "[[ \$(spans_count '$O' kind=SERVER) -ge $((N + 1)) ]]" ||
	fail "only $(spans_count "$O" kind=SERVER) SERVER spans of $((N + 1)) after 10 s"
assert_eq "access log lines" "$((N + 1))" "$(($(wc -l <"$TMP/nginx/access.log") - before))"
assert_eq "404 spans over the unix socket" "$N" \
	"$(spans_count "$O" kind=SERVER name="GET /unix/{id}" attr:http.response.status_code==404)"
assert_eq "200 span over the unix socket" 1 \
	"$(spans_count "$O" kind=SERVER attr:url.path=/index.html attr:http.response.status_code==200)"
assert_eq "no client.address for a unix peer" 0 \
	"$(spans_count "$O" kind=SERVER 'attr:client.address~.')"
assert_eq "server.address from Host" "$((N + 1))" \
	"$(spans_count "$O" kind=SERVER attr:server.address=localhost)"
assert_eq "histogram count over the unix socket" "$N" \
	"$(metric_sum http_server_request_duration_seconds 'http_response_status_code="404"')"
stop_obsprobe
finish

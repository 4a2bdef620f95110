#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Secrets never leave obsprobe: Authorization, Cookie and Set-Cookie values and query-string
# values appear nowhere in stdout (text and json), stderr (even with -vv) or /metrics.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SECRETS=(SECRET_TOKEN_123 SECRET_COOKIE_456 SECRET_QUERY_789 SECRET_SETCOOKIE_000)

require_root || finish
PORT=$(free_port) || { fail "no free port"; finish; }
start_goserver go "$PORT" -cookie "sid=SECRET_SETCOOKIE_000; Path=/; HttpOnly" || finish
GOPID=$GO_PID
URL=http://127.0.0.1:$PORT

CURL_ARGS=(-s -D "$TMP/resp.h" -o /dev/null -H 'Authorization: Bearer SECRET_TOKEN_123'
	-H 'Cookie: session=SECRET_COOKIE_456' "$URL/login?password=SECRET_QUERY_789")

secret_response() {
	assert_true "the response carried the Set-Cookie secret" grep -q SECRET_SETCOOKIE_000 "$TMP/resp.h"
	rm -f "$TMP/resp.h"
}

# check_outputs MODE: no secret in obsprobe's stdout, stderr, or $TMP/metrics.MODE
check_outputs() {
	local mode=$1 s f
	for f in "$OBS_OUT" "$OBS_ERR" "$TMP/metrics.$mode"; do
		for s in "${SECRETS[@]}"; do
			assert_lacks "$mode: $s not in $(basename "$f")" "$f" "$s"
		done
	done
}

for mode in text json; do
	extra=()
	[[ $mode == text ]] && extra=(-vv)
	start_obsprobe --pid "$GOPID" --console "$mode" --capture-bytes 4096 "${extra[@]}" || continue
	curl "${CURL_ARGS[@]}"
	secret_response
	if [[ $mode == text ]]; then
		wait_until 10 grep -q 'GET /login' "$OBS_OUT" || fail "text: no span for /login after 10 s"
	else
		wait_until 10 spans_at_least 1 "$OBS_OUT" attr:url.path=/login ||
			fail "json: no span for /login after 10 s"
		assert_eq "json: url.query is redacted" "password=REDACTED" \
			"$(spans_field "$OBS_OUT" attr:url.query attr:url.path=/login)"
		assert_eq "json: status 200" 200 \
			"$(spans_field "$OBS_OUT" attr:http.response.status_code attr:url.path=/login)"
	fi
	# let a health tick pass so -vv and the counters have had their chance to print
	sleep 1.2
	scrape >"$TMP/metrics.$mode" || fail "$mode: scrape failed"
	stop_obsprobe
	check_outputs "$mode"
done

# odd spellings and shapes: lower/upper-case header names, several query parameters, one
# without a value, one empty
SECRETS+=(SECRET_BASIC_321 SECRET_COOKIE2_654 SECRET_QUERY2_987 SECRET_QUERY3_111)
start_obsprobe --pid "$GOPID" --console json || finish
curl -s -o /dev/null -H 'authorization: Basic SECRET_BASIC_321' -H 'COOKIE: a=SECRET_COOKIE2_654' \
	"$URL/login?user=SECRET_QUERY2_987&flag&empty=&z=SECRET_QUERY3_111"
wait_until 10 spans_at_least 1 "$OBS_OUT" kind=SERVER || fail "odd: no span after 10 s"
assert_eq "odd: url.query of several parameters" 1 \
	"$(spans_count "$OBS_OUT" attr:url.path=/login 'attr:url.query~^user=REDACTED&(flag|flag=REDACTED|REDACTED)&empty=(REDACTED)?&z=REDACTED$')"
sleep 1.2
scrape >"$TMP/metrics.odd" || fail "odd: scrape failed"
stop_obsprobe
check_outputs odd

# a query value cut by the capture: with --capture-bytes 64, "GET " + 54 bytes of path and
# "?password=" leave 6 bytes of the value, "SECRET"; the request still makes a span, and no part
# of the value shows
SECRETS+=(SECRET)
LONG=/login/$(head -c 37 /dev/zero | tr '\0' a)
start_obsprobe --pid "$GOPID" --console json --capture-bytes 64 || finish
curl -s -o /dev/null "$URL$LONG?password=SECRET_QUERY_789"
wait_until 10 spans_at_least 1 "$OBS_OUT" kind=SERVER ||
	fail "truncated: no span after 10 s for a request line longer than --capture-bytes 64"
assert_eq "truncated: the span has the path" 1 "$(spans_count "$OBS_OUT" "attr:url.path=$LONG")"
sleep 1.2
scrape >"$TMP/metrics.truncated" || fail "truncated: scrape failed"
assert_eq "truncated: the request is in the histogram" 1 \
	"$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics.truncated")"
stop_obsprobe
check_outputs truncated

# the client side: a curl forked by a watched shell sends the same secrets
start_runner client curl "${CURL_ARGS[@]}"
start_obsprobe --console json --pid "$RUNNER_PID" || finish
touch "$TMP/client.go"
wait_until 10 spans_at_least 1 "$OBS_OUT" kind=CLIENT attr:url.path=/login ||
	fail "client: no CLIENT span for /login after 10 s"
sleep 1.2
scrape >"$TMP/metrics.client" || fail "client: scrape failed"
touch "$TMP/client.done"
wait_exit "$RUNNER_PID" 10
assert_eq "client: curl succeeded" 0 "$WAIT_RC"
secret_response
assert_eq "client: url.query is redacted" "password=REDACTED" \
	"$(spans_field "$OBS_OUT" attr:url.query kind=CLIENT attr:url.path=/login)"
assert_eq "client: url.full has no query value" 1 \
	"$(spans_count "$OBS_OUT" kind=CLIENT 'attr:url.full~^http://127\.0\.0\.1:[0-9]+/login\?password=REDACTED$')"
# the runner has exited: obsprobe leaves by itself
wait_exit "$OBS_PID" 5
assert_eq "client: obsprobe exits 0 once the runner is gone" 0 "$WAIT_RC"
check_outputs client
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Message framing on one keep-alive connection: chunked responses, request bodies larger than
# the capture, HEAD (a Content-Length and no body), 204, large sendfile bodies. A framing
# mistake shifts or merges the requests that follow; here every request must come out as its
# own span, in order, with its own method, path and status. A request line longer than the
# capture (a 1,500-byte query with the default 1,024) is a request all the same.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# one_connection PORT SPEC...: one curl process, one connection, one transfer per SPEC
# ("METHOD PATH"; POST sends a 20,000-byte body). Sets STATUSES (curl's status codes) and
# CONNECTS (connections curl opened).
one_connection() {
	local port=$1 spec m p args=() first=1 out
	shift
	for spec in "$@"; do
		m=${spec%% *}
		p=${spec#* }
		((first)) || args+=(--next)
		first=0
		args+=(-s -o /dev/null -w '%{http_code} %{num_connects}\n')
		case $m in
		HEAD) args+=(-I) ;;
		POST) args+=(--data-binary "@$TMP/body") ;;
		esac
		args+=("http://127.0.0.1:$port$p")
	done
	out=$(curl "${args[@]}")
	CONNECTS=$(awk '{ s += $2 } END { print s }' <<<"$out")
	STATUSES=$(awk '{ print $1 }' <<<"$out" | paste -sd' ')
}

# check LABEL PORT SPEC...: the SERVER spans on PORT are SPEC, in order, with curl's statuses
check() {
	local label=$1 port=$2 want got n
	shift 2
	n=$#
	one_connection "$port" "$@"
	want=$STATUSES
	assert_eq "$label: curl used one connection" 1 "$CONNECTS"
	local f=(kind=SERVER "attr:server.port==$port")
	wait_until 10 spans_at_least "$n" "$OBS_OUT" "${f[@]}" ||
		fail "$label: $(spans_count "$OBS_OUT" "${f[@]}") spans of $n after 10 s"
	sleep 0.2
	assert_eq "$label: one span per request" "$n" "$(spans_count "$OBS_OUT" "${f[@]}")"
	got=$(spans_field "$OBS_OUT" attr:http.request.method "${f[@]}" | paste -sd' ')
	assert_eq "$label: methods in order" "$(printf '%s\n' "$@" | cut -d' ' -f1 | paste -sd' ')" "$got"
	got=$(spans_field "$OBS_OUT" attr:url.path "${f[@]}" | paste -sd' ')
	assert_eq "$label: paths in order" "$(printf '%s\n' "$@" | cut -d' ' -f2 | sed 's/?.*//' | paste -sd' ')" "$got"
	got=$(spans_field "$OBS_OUT" attr:http.response.status_code "${f[@]}" | paste -sd' ')
	assert_eq "$label: statuses in order (as curl saw them)" "$want" "$got"
	assert_eq "$label: one client port" 1 "$(spans_field "$OBS_OUT" attr:client.port "${f[@]}" | sort -u | wc -l)"
}

require_root || finish
if ! GPORT=$(free_port) || ! P1=$(free_port) || ! P2=$(free_port); then
	fail "no free port"
	finish
fi
head -c 20000 /dev/zero | tr '\0' b >"$TMP/body"
start_goserver go "$GPORT" || finish
GOPID=$GO_PID
start_nginx "$TMP/nginx" "$P1" "$P2" || finish
head -c 300000 /dev/urandom >"$TMP/nginx/www/big.bin"
chmod 644 "$TMP/nginx/www/big.bin"
SKIP=$(wc -l <"$TMP/nginx/access.log")

start_obsprobe --pid "$GOPID" --pid "$NGINX_PID" --console json || finish

LONGQ=q=$(head -c 1500 /dev/zero | tr '\0' v)
check go "$GPORT" "GET /chunked" "GET /users/11" "POST /users/12" "GET /fail" "GET /chunked" \
	"GET /status/204" "HEAD /users/13" "GET /users/14" "POST /slow" "GET /users/15?$LONGQ" \
	"GET /users/16"
check nginx "$P1" "GET /big.bin" "GET /index.html" "HEAD /big.bin" "GET /missing.html" \
	"POST /index.html" "GET /big.bin" "GET /index.html"
assert_eq "nginx logged the same statuses" "$STATUSES" \
	"$(tail -n +"$((SKIP + 1))" "$TMP/nginx/access.log" | awk '{ print $3 }' | paste -sd' ')"

# health counters refresh every second
sleep 1.2
scrape >"$TMP/metrics.txt"
assert_eq "HTTP parse errors" 0 "$(counter_sum obsprobe_parse_errors_total "" "$TMP/metrics.txt")"
# bodies beyond --capture-bytes are truncated on purpose here: that reason is not a loss
assert_eq "events lost (reasons other than capture_truncated)" 0 \
	"$(counter_sum obsprobe_events_lost_total '!reason="capture_truncated"' "$TMP/metrics.txt")"
log "captures truncated: $(counter_sum obsprobe_events_lost_total 'reason="capture_truncated"' "$TMP/metrics.txt")"
stop_obsprobe
finish

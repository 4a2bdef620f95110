#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A PID reused, forced: node-wide (--comm alpha --comm beta) obsprobe watches alpha, a Python
# HTTP server (service svc-alpha), which is killed (SIGKILL) with a request half sent on a
# connection it accepted. Its PID is then given to another program by writing the PID before it
# to /proc/sys/kernel/ns_last_pid just before the fork:
#   - beta (service svc-beta), selected: watched at its exec under alpha's PID; every request it
#     serves is one SERVER span of svc-beta, with beta's paths; nothing of alpha (its name, its
#     half request, its connections) reaches beta's spans;
#   - then gamma, not selected, under the same PID once beta is killed: never watched, no span.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

K=4
M=6
require_root || finish
[[ -w /proc/sys/kernel/ns_last_pid ]] || { fail "/proc/sys/kernel/ns_last_pid is not writable"; finish; }
for n in alpha beta gamma; do ln -s "$PY" "$TMP/$n"; done
mkdir -p "$TMP/www"
for p in alpha-1 alpha-2 alpha-3 alpha-4 beta-1 beta-2 beta-3 beta-4 beta-5 beta-6 gamma-1; do
	echo "$p" >"$TMP/www/$p"
done
if ! PORT=$(free_port); then
	fail "no free port"
	finish
fi

# server NAME: NAME's HTTP server on PORT, its pid in SRV (started by this shell: not watched
# before its exec)
server() {
	(cd "$TMP/www" && OTEL_SERVICE_NAME=svc-$1 exec "$TMP/$1" -m http.server "$PORT" \
		--bind 127.0.0.1 >"$TMP/$1.out" 2>"$TMP/$1.err") &
	SRV=$!
	track_pid "$SRV"
}
answers() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/$1"; }

# server_at NAME PID: NAME's server started under PID: ns_last_pid set to PID - 1 right before
# the fork, tried again while another fork takes the PID first
server_at() {
	local i
	for ((i = 0; i < 50; i++)); do
		echo $(($2 - 1)) >/proc/sys/kernel/ns_last_pid
		server "$1"
		((SRV == $2)) && return 0
		kill -KILL "$SRV" 2>/dev/null
		wait "$SRV" 2>/dev/null
	done
	fail "could not start $1 under pid $2 in 50 tries"
	return 1
}

start_obsprobe --comm alpha --comm beta --console json -v || finish

server alpha
ALPHA=$SRV
wait_until 10 answers alpha-1 || { fail "alpha did not start"; finish; }
for ((i = 2; i <= K; i++)); do answers "alpha-$i" || fail "alpha did not answer alpha-$i"; done
wait_until 10 spans_at_least "$K" "$OBS_OUT" kind=SERVER "res:process.pid==$ALPHA" ||
	fail "$(spans_count "$OBS_OUT" kind=SERVER "res:process.pid==$ALPHA") SERVER spans of alpha, $K requests"
# a request half sent: the request line and one header, no blank line
exec {half}<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /alpha-half HTTP/1.1\r\nHost: 127.0.0.1\r\n' >&"$half"
sleep 0.5
kill -KILL "$ALPHA"
wait "$ALPHA" 2>/dev/null
wait_until 10 grep -q "^obsprobe: process $ALPHA exited" "$OBS_ERR" || fail "obsprobe did not see alpha exit"

server_at beta "$ALPHA" || finish
log "beta runs under alpha's pid $ALPHA"
wait_until 10 answers beta-1 || { fail "beta did not start"; finish; }
for ((i = 2; i <= M; i++)); do answers "beta-$i" || fail "beta did not answer beta-$i"; done
assert_eq "alpha, then beta under its pid, watched at their exec" 2 \
	"$(grep -c "^obsprobe: watching pid $ALPHA (python3.11) at its exec" "$OBS_ERR")"
wait_until 10 spans_at_least $((K + M)) "$OBS_OUT" kind=SERVER "res:process.pid==$ALPHA" ||
	fail "$(spans_count "$OBS_OUT" kind=SERVER "res:process.pid==$ALPHA") SERVER spans of pid $ALPHA, $((K + M)) requests"
sleep 0.5
assert_eq "alpha: $K SERVER spans of svc-alpha, its paths" "$K $K" \
	"$(spans_count "$OBS_OUT" "res:service.name=svc-alpha") $(spans_count "$OBS_OUT" kind=SERVER \
		"res:process.pid==$ALPHA" res:service.name=svc-alpha 'attr:url.path~^/alpha-[0-9]$' \
		attr:http.response.status_code==200)"
assert_eq "beta: $M SERVER spans of svc-beta under the reused pid, its paths" "$M $M" \
	"$(spans_count "$OBS_OUT" "res:service.name=svc-beta") $(spans_count "$OBS_OUT" kind=SERVER \
		"res:process.pid==$ALPHA" res:service.name=svc-beta 'attr:url.path~^/beta-[0-9]$' \
		attr:http.response.status_code==200)"
assert_eq "alpha's half request is in no span" 0 "$(spans_count "$OBS_OUT" 'attr:url.path~alpha-half')"
assert_eq "every span of the pid is alpha's or beta's" $((K + M)) "$(spans_count "$OBS_OUT" "res:process.pid==$ALPHA")"
exec {half}>&-

BETA=$SRV
kill -KILL "$BETA"
wait "$BETA" 2>/dev/null
wait_until 10 eval "(( \$(grep -c '^obsprobe: process $ALPHA exited' \"\$OBS_ERR\") >= 2 ))" ||
	fail "obsprobe did not see beta exit"
server_at gamma "$ALPHA" || finish
log "gamma runs under the same pid $ALPHA"
wait_until 10 answers gamma-1 || { fail "gamma did not start"; finish; }
sleep 1.5
assert_eq "gamma, not selected, was not watched under the reused pid (alpha and beta were)" 2 \
	"$(grep -c "^obsprobe: watching pid $ALPHA " "$OBS_ERR")"
assert_eq "no span of gamma" 0 "$(spans_count "$OBS_OUT" 'attr:url.path~gamma')"
assert_eq "no span of the pid beyond alpha's and beta's" $((K + M)) \
	"$(spans_count "$OBS_OUT" "res:process.pid==$ALPHA")"
assert_eq "obsprobe_watched_processes: none" 0 \
	"$(scrape | awk '$1 == "obsprobe_watched_processes" { print $2 + 0 }')"
stop_obsprobe
finish

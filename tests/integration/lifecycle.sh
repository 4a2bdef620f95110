#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Process lifecycle: one obsprobe watching two servers outlives the first one's death, still
# reports the second, and leaves by itself (exit 0) when the last watched process is gone.
# A process forked after the attach (curl started by a watched shell) is traced too.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
if ! PA=$(free_port) || ! PB=$(free_port) || ! PC=$(free_port); then
	fail "no free port"
	finish
fi
start_goserver goA "$PA" || finish
A=$GO_PID
start_goserver goB "$PB" || finish
B=$GO_PID

start_obsprobe --pid "$A" --pid "$B" --console json || finish
O=$OBS_OUT
assert_eq "one 'watching pid' line per --pid" 2 "$(grep -c '^obsprobe: watching pid ' "$OBS_ERR")"
assert_contains "stderr names A" "$OBS_ERR" "obsprobe: watching pid $A ("
assert_contains "stderr names B" "$OBS_ERR" "obsprobe: watching pid $B ("

for i in 1 2 3; do
	curl -s -o /dev/null "http://127.0.0.1:$PA/users/$i"
	curl -s -o /dev/null "http://127.0.0.1:$PB/users/$i"
done
wait_until 10 spans_at_least 6 "$O" kind=SERVER || fail "only $(spans_count "$O" kind=SERVER) spans of 6"
assert_eq "spans of A" 3 "$(spans_count "$O" kind=SERVER "res:process.pid==$A" "attr:server.port==$PA")"
assert_eq "spans of B" 3 "$(spans_count "$O" kind=SERVER "res:process.pid==$B" "attr:server.port==$PB")"

# A dies mid-run (with a connection still open to it)
exec {held}<>/dev/tcp/127.0.0.1/"$PA" || fail "cannot connect to A"
stop_pid "$A" KILL
exec {held}>&-
# the reaper runs every second: give it two ticks to (wrongly) leave
sleep 2.2
assert_true "obsprobe still runs after A died" alive "$OBS_PID"
assert_lacks "obsprobe did not say it has nothing left" "$OBS_ERR" "no watched process left"
for i in 4 5 6 7; do
	curl -s -o /dev/null "http://127.0.0.1:$PB/users/$i"
done
wait_until 10 spans_at_least 7 "$O" kind=SERVER "res:process.pid==$B" ||
	fail "B's requests after A's death: $(spans_count "$O" "res:process.pid==$B") spans of 7"
assert_eq "B's spans after A's death" 7 "$(spans_count "$O" kind=SERVER "res:process.pid==$B")"
assert_eq "no more spans of A" 3 "$(spans_count "$O" "res:process.pid==$A")"

# B dies: nothing is left to watch
stop_pid "$B" TERM
if wait_exit "$OBS_PID" 5; then
	assert_eq "obsprobe exit status once every watched process is gone" 0 "$WAIT_RC"
else
	fail "obsprobe still running 5 s after the last watched process exited"
fi
assert_contains "obsprobe says why it left" "$OBS_ERR" "obsprobe: no watched process left, exiting"

# a child born after the attach: a watched shell forks curl once told to
start_goserver goC "$PC" || finish
C=$GO_PID
start_runner runner curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PC/users/42"
start_obsprobe --pid "$RUNNER_PID" --console json || finish
O=$OBS_OUT
# the shell may have a `sleep` child at that moment
assert_true "watching the shell" grep -Eq "^obsprobe: watching pid $RUNNER_PID \(bash\) and [01] descendants?$" "$OBS_ERR"
touch "$TMP/runner.go"
F=(kind=CLIENT "attr:server.port==$PC")
wait_until 10 spans_at_least 1 "$O" "${F[@]}" || fail "no CLIENT span of the forked curl after 10 s"
sleep 0.3
touch "$TMP/runner.done"
wait_exit "$RUNNER_PID" 10
assert_eq "curl got 200" 200 "$(cat "$TMP/runner.out")"
assert_eq "one CLIENT span to port $PC" 1 "$(spans_count "$O" "${F[@]}")"
assert_eq "its status code" 200 "$(spans_field "$O" attr:http.response.status_code "${F[@]}")"
assert_eq "its server.address" 127.0.0.1 "$(spans_field "$O" attr:server.address "${F[@]}")"
assert_eq "its url.path" /users/42 "$(spans_field "$O" attr:url.path "${F[@]}")"
assert_eq "its url.full" "http://127.0.0.1:$PC/users/42" "$(spans_field "$O" attr:url.full "${F[@]}")"
assert_eq "its name" "GET" "$(spans_field "$O" name "${F[@]}" | cut -d' ' -f1)"
assert_eq "made by curl" curl "$(spans_field "$O" res:process.executable.name "${F[@]}")"
assert_ne "by the child, not the shell" "$RUNNER_PID" "$(spans_field "$O" res:process.pid "${F[@]}")"
assert_eq "the unwatched server made no spans" 0 "$(spans_count "$O" "res:process.pid==$C")"
if wait_exit "$OBS_PID" 5; then
	assert_eq "obsprobe exit status once the shell is gone" 0 "$WAIT_RC"
else
	fail "obsprobe still running 5 s after the watched shell exited"
fi
finish

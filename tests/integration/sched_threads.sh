#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Thread gauges: a process (tests/fixtures/sat/threads.c) goes from 1 thread to 9, 29, back to
# 1, to 301 and back to 1 on command; process_thread_count follows it exactly within a few 1 s
# collections, and obsprobe_process_thread_count splits the same threads by state: mostly
# blocked here, since the extra threads wait on a condition variable and the main thread reads
# its stdin.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
start_fixture threads threads || finish
P=$FIX_PID
start_obsprobe --pid "$P" || finish

SEL="process_pid=\"$P\""
threads() { counter_sum process_thread_count "$SEL" "${1:-}"; }
threads_are() { [[ "$(threads)" == "$1" ]]; }

# expect N: the fixture said "ok N"; obsprobe shows N threads within 5 s
expect() {
	local n=$1
	assert_eq "the fixture counts its threads" "ok $n" "$FIX_REPLY"
	wait_until 5 threads_are "$n" || true
	assert_eq "process_thread_count with $n threads" "$n" "$(threads)"
}

# states_settled N MIN_BLOCKED: one scrape (into $TMP/states.txt) where the thread count is N,
# the states add up to it and at least MIN_BLOCKED threads are blocked
states_settled() {
	scrape >"$TMP/states.txt" || return 1
	local n blocked sum
	n=$(threads "$TMP/states.txt")
	blocked=$(counter_sum obsprobe_process_thread_count "$SEL&&state=\"blocked\"" "$TMP/states.txt")
	sum=$(counter_sum obsprobe_process_thread_count "$SEL" "$TMP/states.txt")
	[[ "$n" == "$1" && "$sum" == "$n" ]] && ((blocked >= $2))
}

# check_states N MIN_BLOCKED
check_states() {
	local n=$1 min=$2 f=$TMP/states.txt st
	wait_until 5 states_settled "$n" "$min" || true
	assert_eq "threads by state add up to process_thread_count ($n)" "$(threads "$f")" \
		"$(counter_sum obsprobe_process_thread_count "$SEL" "$f")"
	assert_ge "blocked threads of $n" \
		"$(counter_sum obsprobe_process_thread_count "$SEL&&state=\"blocked\"" "$f")" "$min"
	grep '^obsprobe_process_thread_count{' "$f" | grep -F "$SEL" >"$TMP/states.series"
	for st in running runnable blocked; do
		assert_le "no duplicate $st series" "$(grep -cF "state=\"$st\"" "$TMP/states.series")" 1
	done
	assert_eq "no other states" 0 \
		"$(grep -cvE 'state="(running|runnable|blocked)"' "$TMP/states.series")"
}

fixture_cmd threads "start 0" || finish
expect 1
check_states 1 0
assert_eq "series labelled with the executable's name as service_name" 1 \
	"$(counter_sum process_thread_count "$SEL&&service_name=\"threads\"")"

fixture_cmd threads "start 8" || finish
expect 9

fixture_cmd threads "start 20" || finish
expect 29
# 28 threads wait on a condition variable and the main thread in read(): all 29 sleep, but
# one may be caught on a CPU
check_states 29 28

fixture_cmd threads join || finish
expect 1
check_states 1 0

# more threads than one batch of the threads map's read (user/probes/sched.c, 256): each
# counted once
fixture_cmd threads "start 300" || finish
expect 301
check_states 301 300
fixture_cmd threads join || finish
expect 1

stop_obsprobe
fixture_send threads exit
wait_exit "$P" 5
assert_eq "fixture exit status" 0 "$WAIT_RC"

# An exited process's series stay --exited-ttl seconds, then go; the others' stay.
start_fixture keeper threads || finish
K=$FIX_PID
start_fixture leaver threads || finish
L=$FIX_PID
start_obsprobe --pid "$K" --pid "$L" --console off --exited-ttl 3 || finish
has_series() { (($(scrape | grep -c "^process_thread_count{.*process_pid=\"$1\"") == 1)); }
wait_until 5 has_series "$L" || fail "no series for $L after 5 s"
fixture_send leaver exit
wait_exit "$L" 5
exited=$(date +%s.%N)
sleep 1.5 # a collection has seen the exit
assert_true "the exited process's series are still there within the TTL" has_series "$L"
wait_until 10 eval '! has_series $L' || fail "series of $L still there 10 s after its exit"
gone=$(date +%s.%N)
assert_true "they went 3 s after the exit, give or take a collection (took $(awk -v a="$exited" -v b="$gone" 'BEGIN { printf "%.1f", b - a }') s)" \
	awk -v a="$exited" -v b="$gone" 'BEGIN { exit !(b - a >= 2.9 && b - a <= 5.5) }'
assert_eq "no saturation series of $L left" 0 "$(scrape | grep -c "process_pid=\"$L\"")"
assert_true "the other process's series stay" has_series "$K"
stop_obsprobe
fixture_send keeper exit
wait_exit "$K" 5
finish

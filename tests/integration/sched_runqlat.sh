#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Run-queue latency against libbpf-tools' runqlat, which counts the same transitions (wakeup
# -> on CPU, preempted -> on CPU) in the same log2 microsecond slots: 2 busy threads per CPU (4
# on 2 cores) for 8 s (tests/fixtures/sat/spin.c), watched by obsprobe and `runqlat -p PID`.
#
# Aligning the windows: the burst is gated. spin -g sits blocked in read() (no scheduler events)
# until told to go, and after its threads are joined prints "done" and blocks in read() again.
# Both tools are attached before "go" (runqlat prints "Tracing" once attached) and read after
# "done", so each sees the whole burst and nothing else, whatever obsprobe's 1 s collection
# phase: obsprobe's histogram count from just before "go" to once it stops moving after "done"
# must match runqlat's total, and the mass above 1 ms within 5% (the two read different
# clocks, a wait near the bound may fall on either side).
# Also: off-CPU time covers the main thread's wait in pthread_join; user CPU time and the
# context switches of each kind match the process's own getrusage; with --disable sched no
# sched series exist.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
RUNQLAT=/usr/sbin/runqlat
if [[ ! -x "$RUNQLAT" ]]; then
	fail "$RUNQLAT missing: apt-get install libbpf-tools"
	finish
fi
NCPU=$(nproc)
NTHREADS=$((2 * NCPU)) # 4 on the 2-CPU test machine: each thread waits for another
SECS=8

H=obsprobe_sched_runqueue_latency_seconds
start_fixture spin spin -g "$NTHREADS" "$SECS" || finish
P=$FIX_PID
SEL="process_pid=\"$P\""
wait_until 5 grep -qx ready "$TMP/spin.out" || { fail "spin never said ready"; finish; }
start_obsprobe --pid "$P" || finish

# stdbuf: the "Tracing" line must reach the file at once, not when runqlat exits
start_bg runqlat stdbuf -oL "$RUNQLAT" -p "$P" 600 1
RQ=$BG_PID
if ! wait_until 20 grep -q '^Tracing' "$TMP/runqlat.out"; then
	fail "runqlat not tracing after 20 s"
	sed 's/^/    | /' "$TMP/runqlat.err" | head -n 10
	finish
fi

count() { metric_sum "$H" "$SEL" "${1:-}"; }
user_cpu() { counter_float process_cpu_time_seconds_total "$SEL&&cpu_mode=\"user\"" "$1"; }
offcpu() { counter_float obsprobe_sched_offcpu_seconds_total "$SEL" "$1"; }

# hist_above FILE BOUND: the histogram's count above BOUND seconds (+Inf bucket minus the
# cumulative bucket at the highest le <= BOUND), over the fixture's series
hist_above() {
	awk -v name="${H}_bucket" -v pid="$P" -v bound="$2" '
		index($0, name "{") == 1 && index($0, "process_pid=\"" pid "\"") {
			match($0, /le="[^"]*"/)
			le = substr($0, RSTART + 4, RLENGTH - 5)
			split(substr($0, index($0, "} ") + 2), v, " ")
			n = v[1] + 0
			if (le == "+Inf")
				inf += n
			else if (le + 0 <= bound * 1.000001) {
				if (!(le in below))
					below[le] = 0
				below[le] += n
				if (le + 0 > best + 0)
					best = le
			}
		}
		END { printf "%.0f\n", inf - (best == "" ? 0 : below[best]) }' "$1"
}

# just before "go": nothing of the process has run since both tools attached
scrape >"$TMP/before.txt"
C0=$(count "$TMP/before.txt")
fixture_send spin go
if ! wait_until $((SECS + 20)) grep -q '^done ' "$TMP/spin.out"; then
	fail "spin did not finish its $SECS s burst"
	finish
fi
DONE=$(grep '^done ' "$TMP/spin.out")
log "spin: $DONE"
# settled: the count did not move across 1.5 s (at least one collection) after "done"
c=$(count)
for ((i = 0; i < 8; i++)); do
	sleep 1.5
	c2=$(count)
	[[ "$c2" == "$c" ]] && break
	c=$c2
done
scrape >"$TMP/after.txt"
kill -INT "$RQ"
if ! wait_exit "$RQ" 10; then
	fail "runqlat did not exit on SIGINT"
	finish
fi
assert_eq "runqlat exit status" 0 "$WAIT_RC"

# runqlat's histogram: "  LOW -> HIGH  : COUNT  |***|", LOW in microseconds
read -r RQ_TOTAL RQ_ABOVE < <(awk '$2 == "->" && $4 == ":" {
	t += $5
	if ($1 >= 1024)
		a += $5
} END { printf "%d %d\n", t, a }' "$TMP/runqlat.out")
C1=$(count "$TMP/after.txt")
OBS_TOTAL=$((C1 - C0))
OBS_ABOVE=$(($(hist_above "$TMP/after.txt" 0.001024) - $(hist_above "$TMP/before.txt" 0.001024)))
log "runqlat: $RQ_TOTAL transitions, $RQ_ABOVE above 1.024 ms; obsprobe: $OBS_TOTAL, $OBS_ABOVE"
assert_ge "runqlat saw the burst (>= 100 transitions)" "$RQ_TOTAL" 100
# the same transitions: equal (one apart at most, for a transition at the edge of a window);
# a wait whose two clock readings came out of order must still count
assert_near "obsprobe's run-queue transitions vs runqlat's over the burst" "$OBS_TOTAL" "$RQ_TOTAL" 1
# latency rose: 4 threads on 2 CPUs wait about a tick (4 ms at HZ=250) for each other
assert_ge "run-queue waits above 1 ms" "$OBS_ABOVE" 1
# (an integer difference is at most 5 % of all exactly when at most its floor)
assert_near "waits above 1.024 ms: obsprobe vs runqlat, within 5% of all" "$OBS_ABOVE" "$RQ_ABOVE" $((RQ_TOTAL * 5 / 100))
assert_eq "_count equals the +Inf bucket" "$C1" \
	"$(counter_sum "${H}_bucket" "$SEL&&le=\"[+]Inf\"" "$TMP/after.txt")"
SUM=$(counter_float "${H}_sum" "$SEL" "$TMP/after.txt")
assert_true "_sum is positive ($SUM s)" awk -v s="$SUM" 'BEGIN { exit !(s > 0) }'

# off-CPU: the main thread blocks in pthread_join for the whole burst
assert_ne "obsprobe_sched_offcpu_seconds_total is there" 0 "$(series_count obsprobe_sched_offcpu_seconds_total "$TMP/after.txt")"
OFF=$(awk -v a="$(offcpu "$TMP/after.txt")" -v b="$(offcpu "$TMP/before.txt")" 'BEGIN { printf "%.3f", a - b }')
assert_true "off-CPU time over the burst ($OFF s) covers the main thread's $SECS s join (>= 80%)" \
	awk -v o="$OFF" -v s="$SECS" 'BEGIN { exit !(o >= 0.8 * s) }'

# CPU time: the process's own getrusage is the truth; against the wall clock only loose bounds,
# as other work on the machine (a build, a fuzzer) takes its share of the CPUs
UTIME=$(fix_field utime "$DONE")
USER=$(awk -v a="$(user_cpu "$TMP/after.txt")" -v b="$(user_cpu "$TMP/before.txt")" 'BEGIN { printf "%.3f", a - b }')
assert_within "user CPU time over the burst vs the process's getrusage utime" "$USER" "$UTIME" 10
assert_true "user CPU time $USER s: at most $NCPU CPUs x $SECS s, at least a quarter of it" \
	awk -v u="$USER" -v e="$((NCPU * SECS))" 'BEGIN { exit !(u >= 0.25 * e && u <= 1.05 * e + 0.1) }'
SYS=$(counter_float process_cpu_time_seconds_total "$SEL&&cpu_mode=\"system\"" "$TMP/after.txt")
assert_true "system CPU time is small ($SYS s)" awk -v s="$SYS" -v e="$((NCPU * SECS))" 'BEGIN { exit !(s >= 0 && s < 0.2 * e) }'

# Context switches: getrusage's counts at "go" and at "done" against obsprobe's before "go" and
# after "done". obsprobe also sees the main thread block in read() after "done" (one voluntary
# more); it misses what an exiting thread does after its exit tracepoint, which the kernel still
# counts (at most a switch or two per thread). Off by more than that: switches lost or counted
# twice (a switch out waits in its thread's entry until the switch in, user space adds it).
switches() { counter_sum process_context_switches_total "$SEL&&context_switch_type=\"$1\"" "$2"; }
GO=$(grep '^go ' "$TMP/spin.out")
for kind in voluntary:nvcsw involuntary:nivcsw; do
	name=${kind%:*} field=${kind#*:}
	RU=$(($(fix_field "$field" "$DONE") - $(fix_field "$field" "$GO")))
	[[ $name == voluntary ]] && RU=$((RU + 1))
	OBS=$(($(switches "$name" "$TMP/after.txt") - $(switches "$name" "$TMP/before.txt")))
	log "$name switches over the burst: obsprobe $OBS, getrusage $RU"
	assert_ge "$name switches over the burst, getrusage" "$RU" 1
	assert_near "$name switches over the burst: obsprobe vs getrusage, within 2 per thread" "$OBS" "$RU" $((2 * NTHREADS))
done

stop_obsprobe
fixture_send spin exit
wait_exit "$P" 5
assert_eq "spin exit status" 0 "$WAIT_RC"

# --disable sched: a second burst, no sched series
start_fixture spin2 spin -g 2 1 || finish
P2=$FIX_PID
wait_until 5 grep -qx ready "$TMP/spin2.out" || { fail "spin2 never said ready"; finish; }
start_obsprobe --pid "$P2" --disable sched || finish
fixture_send spin2 go
wait_until 10 grep -q '^done ' "$TMP/spin2.out" || fail "spin2 did not finish"
has_rss() { (($(counter_sum process_memory_usage_bytes "process_pid=\"$P2\"") > 0)); }
wait_until 5 has_rss || fail "--disable sched: no process_memory_usage_bytes either"
sleep 1.5 # one more collection
scrape >"$TMP/disabled.txt"
for m in process_thread_count obsprobe_process_thread_count "${H}_count" "${H}_bucket" \
	obsprobe_sched_offcpu_seconds_total; do
	assert_eq "--disable sched: no $m series" 0 "$(series_count "$m" "$TMP/disabled.txt")"
done
stop_obsprobe
fixture_send spin2 exit
wait_exit "$P2" 5
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OOM kills: a watched shell forks tests/fixtures/sat/hog into a cgroup v1 memory cgroup
# limited to 32 MiB (memory+swap too), after obsprobe attached; hog touches memory until the
# kernel's memcg OOM killer sends it SIGKILL. obsprobe counts exactly that one kill for hog's
# pid, says so on stderr, and neither the shell nor anything outside the cgroup is touched:
# the kernel's own counts (the cgroup's oom_kill, /proc/vmstat oom_kill) say one kill, hog's.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
MEMCG=/sys/fs/cgroup/memory
if [[ ! -e $MEMCG/memory.limit_in_bytes ]]; then
	fail "no cgroup v1 memory controller at $MEMCG"
	finish
fi
build_fixture hog || finish

CG=$MEMCG/obsprobe-test-$$
# remove_cgroup: rmdir once its last task is gone (a killed task leaves it a moment later)
remove_cgroup() {
	[[ -d $CG ]] || return 0
	wait_until 5 rmdir "$CG" || log "could not remove $CG: tasks $(paste -sd' ' "$CG/tasks" 2>/dev/null)"
}
mkdir "$CG" || { fail "mkdir $CG"; finish; }
on_exit remove_cgroup
echo 32M >"$CG/memory.limit_in_bytes" || fail "cannot set memory.limit_in_bytes"
assert_eq "cgroup memory limit" 33554432 "$(cat "$CG/memory.limit_in_bytes")"
if [[ -e $CG/memory.memsw.limit_in_bytes ]]; then
	# memory + swap: hog cannot escape into swap
	echo 32M >"$CG/memory.memsw.limit_in_bytes" || fail "cannot set memory.memsw.limit_in_bytes"
	assert_eq "cgroup memory+swap limit" 33554432 "$(cat "$CG/memory.memsw.limit_in_bytes")"
elif (($(wc -l </proc/swaps) > 1)); then
	# swap on, no memsw accounting: keep the cgroup's anonymous memory out of swap
	echo 0 >"$CG/memory.swappiness" || fail "swap is on and memory.swappiness cannot be set"
fi

# The watched shell: reads a line ("go") from a fifo, forks a subshell that moves itself into
# the cgroup and execs hog (so hog is a descendant born after the attach), reports hog's pid and
# exit status, then waits for another line. It forks nothing else. hog gives up on its own after
# 256 MiB (exit 3) should the limit not hold.
mkfifo "$TMP/shell.in" && exec {SHIN}<>"$TMP/shell.in" || { fail "cannot make a fifo"; finish; }
bash -c '
	cg=$1 hog=$2
	read -r _ || exit 99
	( echo "$BASHPID" >"$cg/cgroup.procs" && exec "$hog" 256 ) &
	pid=$!
	echo "child $pid"
	wait "$pid"
	echo "status $?"
	read -r _' shell "$CG" "$TMP/hog" <"$TMP/shell.in" >"$TMP/shell.out" 2>"$TMP/shell.err" &
SH=$!
track_pid "$SH"
start_obsprobe --pid "$SH" || finish

kills() { counter_sum obsprobe_process_oom_kills_total "" "${1:-}"; }
OOM0=$(awk '$1 == "oom_kill" { print $2 }' /proc/vmstat)
assert_eq "no OOM kills counted before" 0 "$(kills)"

echo go >&"$SHIN"
if ! wait_until 30 grep -q '^status ' "$TMP/shell.out"; then
	fail "hog still alive 30 s after it started"
	sed 's/^/    | /' "$TMP/shell.out" "$TMP/shell.err" | tail -n 10
	finish
fi
HOG=$(awk '$1 == "child" { print $2 }' "$TMP/shell.out")
SEL="process_pid=\"$HOG\""
log "hog (pid $HOG): $(grep -c '^touched ' "$TMP/shell.out") lines of progress, $(grep '^status ' "$TMP/shell.out")"
assert_contains "hog ran in the cgroup" "$TMP/shell.out" "hog $HOG"
assert_eq "hog died of SIGKILL (exit status 128 + 9)" "status 137" "$(grep '^status ' "$TMP/shell.out")"
assert_true "the watched shell survived" alive "$SH"
assert_true "obsprobe survived" alive "$OBS_PID"
OOM1=$(awk '$1 == "oom_kill" { print $2 }' /proc/vmstat)
assert_eq "the kernel's OOM kills on the whole machine during the test (/proc/vmstat)" 1 "$((OOM1 - OOM0))"
if grep -q '^oom_kill ' "$CG/memory.oom_control"; then
	assert_eq "the kernel's OOM kills in the cgroup" 1 "$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control")"
fi

one_kill() { [[ "$(kills)" == 1 ]]; }
wait_until 5 one_kill || true
scrape >"$TMP/metrics.txt"
assert_eq "obsprobe_process_oom_kills_total, all series" 1 "$(kills "$TMP/metrics.txt")"
assert_eq "obsprobe_process_oom_kills_total of hog's pid" 1 \
	"$(counter_sum obsprobe_process_oom_kills_total "$SEL" "$TMP/metrics.txt")"
assert_eq "hog's series has a service_name" 1 \
	"$(counter_sum obsprobe_process_oom_kills_total "$SEL&&service_name=\"[^\"]+\"" "$TMP/metrics.txt")"
# shellcheck disable=SC2317 # called by wait_until
sigkills() { counter_sum obsprobe_errors_total 'error_type="SIGKILL"'; }
one_sigkill() { [[ "$(sigkills)" == 1 ]]; }
wait_until 5 one_sigkill || true
assert_eq "obsprobe_errors_total: hog's death is one SIGKILL error report" 1 "$(sigkills)"
assert_contains "the console's FATAL line says why" "$OBS_OUT" "SIGKILL: killed by the OOM killer"
oom_line() { grep OOM "$OBS_ERR" | grep -qw "$HOG"; }
wait_until 5 oom_line || true
assert_true "obsprobe's stderr has an OOM line with hog's pid" oom_line
grep OOM "$OBS_ERR" | head -n 3 | sed 's/^/    | /'

# the dead process's series stays (60 s), and the count does not grow by itself
sleep 2.2
assert_eq "still one OOM kill 2 s later" 1 "$(counter_sum obsprobe_process_oom_kills_total "$SEL")"

stop_obsprobe
echo bye >&"$SHIN"
wait_exit "$SH" 10
assert_eq "watched shell exit status" 0 "$WAIT_RC"
remove_cgroup
assert_false "cgroup removed" test -d "$CG"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Where the watched server's own time goes, sampled: `perf record -a` (cpu-clock) while wrk
# loads nginx, once without obsprobe and once with it; then, for nginx's threads only, per
# kernel or user function the time per request of each, and what watching adds, most first.
# bench/cost.sh gives each BPF program's run time (bpf_stats); this shows what that time is
# made of (the helpers, the map code, the copies from user memory, the ring buffer) and what
# bpf_stats cannot see: the tracepoint machinery around the programs, and the slow path every
# system call takes once a syscall tracepoint is on. Not part of `make bench` (it prints, it
# asserts nothing):
#
#   bench/profile_server.sh [OBSPROBE ARGS...]     (after --pid and --console off)
#
# Environment: TOP (30, functions listed), PROFILE_DIR (the profiles, kept; default: the
# temporary directory, removed), and those of bench/lib.sh.
TEST_NAME=bench-profile-server
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk perf
TOP=${TOP:-30}
PROFILE_DIR=${PROFILE_DIR:-$TMP}
FREQ=4000
mkdir -p "$PROFILE_DIR" || die "cannot make $PROFILE_DIR"

bench_start_nginx
echo "bench: perf record -a -F $FREQ while wrk -t$THREADS -c$CONNS -d${DURATION}s loads nginx, without then with obsprobe; nginx's threads only"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up

# profile NAME: one wrk run under perf record -a; nginx's samples per symbol in $TMP/NAME.syms
# ("SAMPLES SYMBOL"); prints the requests wrk made
profile() {
	local name=$1 r pp
	perf record -a -F "$FREQ" -o "$PROFILE_DIR/$name.perf" -- sleep $((DURATION + 1)) \
		>"$TMP/perf-$name.log" 2>&1 &
	pp=$!
	r=$(bench_wrk) || die "wrk failed"
	wait "$pp" || die "perf record failed: $(tail -n 3 "$TMP/perf-$name.log")"
	perf_syms "$PROFILE_DIR/$name.perf" "$TMP/$name.syms" --comm nginx ||
		die "perf report of $name gave no samples of nginx"
	echo "${r%% *}"
}

PLAIN=$(profile plain) || exit 1
start_obsprobe --pid "$NGINX_PID" --console off "$@" >/dev/null 2>&1 ||
	die "obsprobe did not start: $(cat "$OBS_ERR")"
WATCHED=$(profile watched) || exit 1
stop_pid "$OBS_PID" INT
echo "requests: without $PLAIN, watched $WATCHED"
perf_compare "nginx ns per request" "$TMP/plain.syms" "$PLAIN" without "$TMP/watched.syms" \
	"$WATCHED" watched $((1000000000 / FREQ)) "$TOP"
[[ $PROFILE_DIR == "$TMP" ]] || echo "profiles: $PROFILE_DIR/plain.perf, $PROFILE_DIR/watched.perf"
exit 0

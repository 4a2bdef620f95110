#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What node-wide mode costs (`make bench`; prints, asserts nothing):
#   1. an idle host: obsprobe --all for IDLE seconds with no load: its CPU and RSS;
#   2. nginx under wrk, interleaved rounds without obsprobe, with --pid on nginx, and with --all
#      (which also watches wrk, the client: both ends of every request are spans): throughput,
#      obsprobe's CPU per 1,000 requests and peak RSS for each;
#   3. discovery: EXECS execs of /bin/true from an unwatched shell, timed without obsprobe and
#      with obsprobe --comm on a name nothing has (every exec is reported and judged, none
#      watched), and with --all (each is followed from its fork): the extra time per exec and
#      obsprobe's CPU per exec.
#
# Environment: see bench/lib.sh; IDLE (10 s), EXECS (2000).
TEST_NAME=bench
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk curl
HZ=$(getconf CLK_TCK)
IDLE=${IDLE:-10}
EXECS=${EXECS:-2000}

ms() { awk -v t="$1" -v hz="$HZ" 'BEGIN { printf "%.0f", t * 1000 / hz }'; }

echo "bench: node-wide mode, $(nproc) CPUs, $(find /proc -maxdepth 1 -name '[0-9]*' | wc -l) processes"

# 1. idle
start_obsprobe --all --console off >/dev/null 2>&1 || die "obsprobe did not start: $(cat "$OBS_ERR")"
t0=$(cpu_ticks "$OBS_PID")
sleep "$IDLE"
t1=$(cpu_ticks "$OBS_PID")
scrape >"$TMP/idle.txt" || die "scrape failed"
printf '  idle, --all: %d processes watched, %s ms CPU in %d s (%.2f%% of a CPU), VmHWM %d KiB\n' \
	"$(counter_sum obsprobe_watched_processes "" "$TMP/idle.txt")" "$(ms $((t1 - t0)))" "$IDLE" \
	"$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v s="$IDLE" 'BEGIN { print t / hz / s * 100 }')" \
	"$(hwm_kib "$OBS_PID")"
stop_pid "$OBS_PID" INT

# 2. nginx under load
bench_start_nginx
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up
declare -A RPS TICKS REQS HWM
round() {
	local mode=$1 r n t0=0 t1=0
	case $mode in
	pid) start_obsprobe --pid "$NGINX_PID" --console off >/dev/null 2>&1 || die "obsprobe did not start" ;;
	all) start_obsprobe --all --console off >/dev/null 2>&1 || die "obsprobe did not start" ;;
	esac
	[[ $mode != none ]] && t0=$(cpu_ticks "$OBS_PID")
	r=$(bench_wrk) || die "wrk failed"
	n=${r%% *}
	if [[ $mode != none ]]; then
		wait_until 15 eval "(( \$(metric_sum http_server_request_duration_seconds) >= $n ))" || true
		t1=$(cpu_ticks "$OBS_PID")
		HWM[$mode]=$(hwm_kib "$OBS_PID")
		stop_pid "$OBS_PID" INT
	fi
	RPS[$mode]="${RPS[$mode]:-} ${r#* }"
	TICKS[$mode]=$((${TICKS[$mode]:-0} + t1 - t0))
	REQS[$mode]=$((${REQS[$mode]:-0} + n))
	printf '  round %d %-5s %10.0f req/s  (%d requests, %s ms obsprobe CPU)\n' "$2" "$mode" "${r#* }" "$n" "$(ms $((t1 - t0)))"
}
for ((i = 1; i <= ROUNDS; i++)); do
	if ((i % 2)); then order="none pid all"; else order="all pid none"; fi
	for m in $order; do round "$m" "$i"; done
done
# shellcheck disable=SC2086 # the rounds' figures, one word each
B=$(mean ${RPS[none]})
for m in pid all; do
	# shellcheck disable=SC2086
	W=$(mean ${RPS[$m]})
	awk -v m="$m" -v b="$B" -v w="$W" -v reqs="${REQS[$m]}" -v ticks="${TICKS[$m]}" -v hz="$HZ" \
		-v kib="${HWM[$m]}" 'BEGIN {
		printf "nginx, %-5s throughput ratio %.3f (%.0f / %.0f req/s), CPU per 1,000 requests %.3f ms, VmHWM %.1f MiB\n",
			m == "pid" ? "--pid" : "--all", w / b, w, b, ticks * 1000 / hz / reqs * 1000, kib / 1024 }'
done
stop_pid "$NGINX_PID"

# 3. discovery per exec
execs() { "$PY" -c 'import os, sys, time
n = int(sys.argv[1]); t = time.monotonic()
for _ in range(n):
    os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)
print("%.1f" % ((time.monotonic() - t) / n * 1e6))' "$EXECS"; }
base=$(execs)
start_obsprobe --comm no-such-comm --console off >/dev/null 2>&1 || die "obsprobe did not start"
t0=$(cpu_ticks "$OBS_PID")
judged=$(execs)
t1=$(cpu_ticks "$OBS_PID")
stop_pid "$OBS_PID" INT
start_obsprobe --all --console off >/dev/null 2>&1 || die "obsprobe did not start"
a0=$(cpu_ticks "$OBS_PID")
followed=$(execs)
a1=$(cpu_ticks "$OBS_PID")
stop_pid "$OBS_PID" INT
awk -v n="$EXECS" -v b="$base" -v j="$judged" -v f="$followed" -v tj=$((t1 - t0)) \
	-v tf=$((a1 - a0)) -v hz="$HZ" 'BEGIN {
	printf "exec of /bin/true: %.1f us alone; %.1f us judged (--comm, not watched): +%.1f us, obsprobe %.1f us CPU each;\n", b, j, j - b, tj / hz / n * 1e6
	printf "                   %.1f us under --all (followed, judged at exec, released at exit): +%.1f us, obsprobe %.1f us CPU each\n", f, f - b, tf / hz / n * 1e6
}'
exit 0

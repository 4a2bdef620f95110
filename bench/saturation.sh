#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What the saturation programs (issue 6) cost (`make bench`; prints, asserts nothing):
#  1. nginx under wrk, obsprobe with everything on against `--disable sched,memory,go` (the
#     HTTP hooks alone), interleaved rounds of four runs in both orders: ratio of the medians,
#     target >= 0.98.
#  2. The scheduler programs per context switch: bench/pingpong (two processes bouncing a byte
#     through pipes, every bounce two blocking reads and two wakeups) without obsprobe, with
#     obsprobe watching another process (the programs run and return at once), and watched;
#     the difference per context switch (voluntary + involuntary of both processes, from
#     getrusage) from a run without obsprobe beside it, median of the rounds. The floor
#     beside them: empty programs on the same BTF tracepoints (bench/floor.bpf.c), what any
#     program there costs on this kernel before it does anything. Then the kernel's own run
#     time of the programs (kernel.bpf_stats_enabled): per call, and per context switch for
#     the floor, obsprobe not watching pingpong and watching it.
# The ratio and the two costs per context switch go to bench_figure (bench/lib.sh), for
# `make bench`'s closing table.
#
# Environment: BOUNCES (200000), PP_ROUNDS (7, rounds of the context switches), and those of
# bench/lib.sh.
TEST_NAME=bench-saturation
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk bpftool
BOUNCES=${BOUNCES:-200000}
PP_ROUNDS=${PP_ROUNDS:-7}

bench_start_nginx

echo "bench: saturation programs on nginx, wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS interleaved rounds (ABBA)"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1
http_only=()
all_on=()
round() { # NAME ARGS...: one wrk run under a fresh obsprobe
	local name=$1 r
	shift
	start_obsprobe --pid "$NGINX_PID" --console off "$@" >/dev/null 2>&1 ||
		die "obsprobe did not start: $(cat "$OBS_ERR")"
	r=$(bench_wrk) || die "wrk failed"
	r=${r#* }
	stop_pid "$OBS_PID" INT
	printf '  %-28s %10.0f req/s\n' "$name" "$r" >&2
	echo "$r"
}
# each round runs both orders (ABBA): the run that comes second in a pair was ~17% slower or
# faster by its place alone on these VMs, which an odd count of alternating rounds gave to one
# configuration more often than to the other
for ((i = 1; i <= ROUNDS; i++)); do
	http_only+=("$(round "HTTP hooks only" --disable sched,memory,go)")
	all_on+=("$(round "HTTP + saturation")")
	all_on+=("$(round "HTTP + saturation")")
	http_only+=("$(round "HTTP hooks only" --disable sched,memory,go)")
done
H=$(median "${http_only[@]}")
S=$(median "${all_on[@]}")
# rounded as printed, here and in the closing table alike
R=$(awk -v h="$H" -v s="$S" 'BEGIN { printf "%.3f", s / h }')
bench_figure "nginx with saturation programs on / off" "$R" "" ">=" 0.98
awk -v h="$H" -v s="$S" -v r="$R" -v hm="$(mean "${http_only[@]}")" -v sm="$(mean "${all_on[@]}")" 'BEGIN {
	v = "MISSED"
	if (r >= 0.98)
		v = "met"
	printf "HTTP hooks only          %10.0f req/s median (mean %.0f)\n", h, hm
	printf "HTTP + saturation        %10.0f req/s median (mean %.0f)\n", s, sm
	printf "saturation ratio         %10.3f         target >= 0.98   %s (medians)\n", r, v
}'
stop_pid "$NGINX_PID"

# Context switches
PP=$BENCH_BIN/pingpong
FLOOR=$BENCH_BIN/floor
bench_tools pingpong floor
# pingpong_run MODE [STATS]: prints "NS_PER_BOUNCE SWITCHES"; MODE none|floor|other|watched
# (floor: empty programs on the BTF tracepoints sched_switch and sched_wakeup,
# bench/floor.bpf.c); with STATS, kernel.bpf_stats_enabled is on for the bounces and `bpftool
# prog show -j` goes to STATS. Both processes on one CPU: every bounce is then two context
# switches on that CPU, with no cross-CPU wakeup (whose cost in this VM swings 5x from run to
# run).
pingpong_run() {
	local mode=$1 stats=${2:-} fifo=$TMP/pp.in pid out w
	rm -f "$fifo"
	mkfifo "$fifo"
	taskset -c 0 "$PP" -w "$BOUNCES" <"$fifo" >"$TMP/pp.out" &
	pid=$!
	exec {w}>"$fifo"
	wait_until 5 eval "[[ -n \$(pgrep -P $pid) ]]" || die "pingpong did not fork"
	case $mode in
	floor)
		start_bg floor "$FLOOR" "$FLOOR.bpf.o"
		FLOOR_PID=$BG_PID
		wait_until 10 grep -q '^ready' "$TMP/floor.out" || die "the floor did not start: $(cat "$TMP/floor.err")"
		;;
	other) start_obsprobe --pid "$SLEEPER" --console off --disable http,pgsql >/dev/null 2>&1 || die "obsprobe did not start" ;;
	watched) start_obsprobe --pid "$pid" --console off --disable http,pgsql >/dev/null 2>&1 || die "obsprobe did not start" ;;
	esac
	[[ -n $stats ]] && sysctl -qw kernel.bpf_stats_enabled=1
	echo go >&"$w"
	exec {w}>&-
	wait "$pid" || die "pingpong failed"
	if [[ -n $stats ]]; then
		bpftool prog show -j >"$stats" 2>/dev/null
		sysctl -qw kernel.bpf_stats_enabled=0
	fi
	case $mode in
	floor) stop_pid "$FLOOR_PID" INT ;;
	other | watched) stop_pid "$OBS_PID" INT ;;
	esac
	out=$(cat "$TMP/pp.out")
	echo "${out#* }"
}
sleep 3600 &
SLEEPER=$!
track_pid "$SLEEPER"
echo
echo "bench: context switches, bench/pingpong $BOUNCES bounces, $PP_ROUNDS rounds of each"
# Each mode's cost is its difference from a run without obsprobe right beside it (before it in
# odd rounds, after it in even ones), the modes' order turned each round, and the figure is the
# median of those differences over the rounds: this VM's speed drifts by more than these costs
# within a minute, and a teardown (the programs a mode leaves the kernel to free) slows the run
# after it. With one run without obsprobe a round and the modes always in one order, the
# unwatched figure read +2 ns in one `make bench` and +438 ns in the next.
declare -A dsw
MODES=(floor other watched)
for mode in "${MODES[@]}"; do dsw[$mode]=""; done
SW_WATCHED_ALL=0 # the watched runs' context switches, over the rounds
for ((i = 1; i <= PP_ROUNDS; i++)); do
	for ((k = 0; k < ${#MODES[@]}; k++)); do
		mode=${MODES[(i + k) % ${#MODES[@]}]}
		declare -A t=() s=()
		if ((i % 2)); then order=(none "$mode"); else order=("$mode" none); fi
		for m in "${order[@]}"; do
			read -r t[$m] s[$m] <<<"$(pingpong_run "$m")"
			printf '  round %d %-8s %8.0f ns per bounce, %d context switches\n' "$i" "$m" "${t[$m]}" "${s[$m]}"
		done
		# what the mode adds per context switch over the run beside it (switches per
		# bounce of the mode's own run)
		dsw[$mode]+=" $(awk -v n0="${t[none]}" -v n="${t[$mode]}" -v s="${s[$mode]}" -v b="$BOUNCES" \
			'BEGIN { printf "%.0f", (n - n0) / (s / b) }')"
		[[ $mode == watched ]] && SW_WATCHED_ALL=$((SW_WATCHED_ALL + s[watched]))
	done
done
# shellcheck disable=SC2086 # word splitting wanted: one value per round
{
	DF=$(median ${dsw[floor]})
	SW_OTHER=$(median ${dsw[other]})
	SW_WATCHED=$(median ${dsw[watched]})
}
PER=$(awk -v s="$SW_WATCHED_ALL" -v r="$PP_ROUNDS" -v b="$BOUNCES" 'BEGIN { printf "%.2f", s / r / b }')
bench_figure "sched programs per context switch, watched thread" "$SW_WATCHED" ns "<=" 300
bench_figure "sched programs per context switch, unwatched thread" "$SW_OTHER" ns "<=" 50
awk -v df="$DF" -v d1="$SW_OTHER" -v d2="$SW_WATCHED" -v per="$PER" -v f="${dsw[floor]}" \
	-v o="${dsw[other]}" -v w="${dsw[watched]}" '
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
	printf "per context switch over the run without obsprobe beside it, median of the rounds (each round:%s | %s | %s):\n", f, o, w
	printf "  floor (empty programs)   %+5d ns  (the hooks alone: what any program there costs)\n", df
	printf "  obsprobe, not watched    %+5d ns  (target <= 50 ns %s)\n", d1, verdict(d1 <= 50)
	printf "  obsprobe, watched        %+5d ns  (target <= 300 ns %s; %.2f switches per bounce)\n", d2, verdict(d2 <= 300), per
	printf "  over the floor: not watched %+d ns, watched %+d ns per context switch\n", d1 - df, d2 - df
}'

# The kernel's own account of the programs (kernel.bpf_stats_enabled): their run time, which
# repeats to a few ns where the timings above swing by hundreds, in one more run of each mode.
# Per context switch: the run time of the programs on sched_switch and sched_wakeup(_new)
# during the bounces (everything else on the machine included, a few percent of the calls)
# over pingpong's context switches. The empty programs' run time is the accounting's own cost.
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
declare -A krt
for mode in floor other watched; do
	read -r _ sws <<<"$(pingpong_run "$mode" "$TMP/stats.$mode.json")"
	krt[$mode]=$("$PY" -c '
import json, sys
names = {"floor_switch", "floor_wakeup", "sched_switch", "sched_wakeup", "sched_wakeup_new"}
ns = sum(p.get("run_time_ns", 0) for p in json.load(open(sys.argv[1])) if p.get("name") in names)
print("%.0f" % (ns / int(sys.argv[2])))' "$TMP/stats.$mode.json" "$sws")
	if [[ $mode == watched ]]; then
		echo
		echo "BPF run time per call (kernel.bpf_stats_enabled), watched pingpong and everything else on the machine:"
		"$PY" -c '
import json, sys
names = ["sched_switch", "sched_wakeup", "sched_wakeup_new", "task_newtask", "sched_thread_exit", "rss_stat", "page_fault_user", "mem_thread_exit"]
for p in sorted(json.load(open(sys.argv[1])), key=lambda p: names.index(p["name"]) if p.get("name") in names else 99):
    if p.get("name") in names and p.get("run_cnt"):
        print("  %-18s %10d calls %8.0f ns per call" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))
' "$TMP/stats.$mode.json"
	fi
done
sysctl -qw kernel.bpf_stats_enabled="$old_stats"
echo
echo "BPF run time per context switch (kernel.bpf_stats_enabled): empty programs ${krt[floor]} ns,"
echo "  obsprobe not watched ${krt[other]} ns ($((krt[other] - krt[floor])) ns over the empty programs), watched ${krt[watched]} ns ($((krt[watched] - krt[floor])) ns over them)"
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What starting obsprobe costs (`make bench`; prints, asserts nothing): ROUNDS starts of
# `obsprobe --pid` on an idle process, each timed from its exec to its "ready" line (every
# probe attached), with obsprobe's CPU at that moment (its threads' schedstat) and its peak RSS
# (VmHWM). Most of that CPU is the kernel's verifier checking the BPF programs, so the programs
# the last start loaded are listed with the instructions the verifier processed for each
# (build/bench/proginfo: bpf_prog_info.verified_insns), the costliest first, and their total.
# Run it alone: another BPF loader running meanwhile would be counted in.
#
# The last start then idles IDLE seconds: obsprobe's CPU a second with nothing to watch (the
# fixed cost every per-request or per-statement figure carries at low rates).
#
# Environment: see bench/lib.sh (ROUNDS); TOP (8), programs listed; IDLE (10), seconds.
TEST_NAME=bench-startup
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require
TOP=${TOP:-8}
IDLE=${IDLE:-10}
bench_tools proginfo
PROGINFO=$BENCH_BIN/proginfo

sleep 1000 &
IDLE_PID=$!
track_pid "$IDLE_PID"

echo "bench: starting obsprobe --pid on an idle process, $ROUNDS times"
times=() cpus=() hwms=()
for ((r = 1; r <= ROUNDS; r++)); do
	last=$("$PROGINFO" | awk 'END { print $1 + 0 }')
	port=$(free_port) || die "no free port"
	err=$TMP/start$r.err
	t0=$(date +%s%N)
	"$OBSPROBE" --pid "$IDLE_PID" --console off --prometheus "127.0.0.1:$port" 2>"$err" &
	OBS_PID=$!
	track_pid "$OBS_PID"
	until grep -q '^obsprobe: ready: ' "$err"; do
		alive "$OBS_PID" || die "obsprobe exited before it was ready: $(head -n 5 "$err")"
		sleep 0.005
	done
	t1=$(date +%s%N)
	cpu=$(cpu_ns "$OBS_PID")
	hwm=$(hwm_kib "$OBS_PID")
	"$PROGINFO" "$last" >"$TMP/progs.txt" || die "proginfo failed"
	if ((r == ROUNDS)); then
		# what watching costs while nothing happens: the poll timer, the health tick
		sleep 1
		i0=$(cpu_ns "$OBS_PID")
		sleep "$IDLE"
		IDLE_NS=$(($(cpu_ns "$OBS_PID") - i0))
	fi
	stop_pid "$OBS_PID" INT
	times+=($(((t1 - t0) / 1000000)))
	cpus+=($((cpu / 1000000)))
	hwms+=("$hwm")
	printf '  start %d: ready after %5d ms, %5d ms CPU, VmHWM %d KiB, %d programs loaded\n' \
		"$r" "${times[-1]}" "${cpus[-1]}" "$hwm" "$(wc -l <"$TMP/progs.txt")"
done
printf 'median: ready after %d ms, %d ms of CPU, VmHWM %d KiB\n' "$(median "${times[@]}")" \
	"$(median "${cpus[@]}")" "$(median "${hwms[@]}")"
printf 'idle, start %d: %.3f ms of CPU a second over %d s (the poll timer, the health tick)\n' \
	"$ROUNDS" "$(awk -v ns="$IDLE_NS" -v s="$IDLE" 'BEGIN { print ns / 1e6 / s }')" "$IDLE"
echo "the verifier's work, start $ROUNDS (instructions processed; the costliest $TOP programs):"
sort -k2,2nr "$TMP/progs.txt" | head -n "$TOP" | awk '{ printf "  %9d  %s\n", $2, $3 }'
awk '{ t += $2 } END { printf "  %9d  in all, %d programs\n", t, NR }' "$TMP/progs.txt"

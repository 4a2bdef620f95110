#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Two builds of obsprobe compared on one load, in paired rounds: each round runs build A, then
# build B, on nginx under wrk, and prints each one's CPU per 1,000 requests (cpu_ns: the threads'
# schedstat, in ns). On these noisy machines a change's effect shows in the pairs (B below A in
# most rounds, the summed ratio), where two bench runs taken apart differ by more than the
# change. Not part of `make bench`:
#
#   bench/ab.sh OLD_OBSPROBE NEW_OBSPROBE [OBSPROBE ARGS...]
#
# The arguments follow `--pid NGINX_PID --console off`; "--otlp" stands for an OTLP export to a
# local sink that answers 200 at once (as bench/nginx.sh's export rounds), e.g.
#   git worktree add /tmp/old HEAD~1 && make -C /tmp/old BUILD=/tmp/old/build all
#   bench/ab.sh /tmp/old/build/obsprobe build/obsprobe --otlp
# Environment: ROUNDS (6), and those of bench/lib.sh.
TEST_NAME=bench-ab
# the new build stands for $OBSPROBE: bench_require checks it, bench_tools build beside it
OBSPROBE=${2:-${OBSPROBE:-}}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
(($# >= 2)) || die "usage: bench/ab.sh OLD_OBSPROBE NEW_OBSPROBE [OBSPROBE ARGS...]"
declare -A BIN=([A]=$1 [B]=$2) ms=()
shift 2
for v in A B; do
	[[ -x ${BIN[$v]} ]] || die "${BIN[$v]} is not an executable"
done
bench_require nginx wrk
ROUNDS=${ROUNDS:-6}
ARGS=()
for a in "$@"; do
	if [[ $a == --otlp ]]; then
		[[ -n ${SINK_ENDPOINT:-} ]] || bench_start_sink
		ARGS+=(--otlp-endpoint "$SINK_ENDPOINT")
	else
		ARGS+=("$a")
	fi
done
bench_start_nginx
echo "bench: A ${BIN[A]}, B ${BIN[B]}, args: --console off ${ARGS[*]}," \
	"wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS paired rounds"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up

declare -A cpu=([A]=0 [B]=0) reqs=([A]=0 [B]=0)
lower=0
for ((i = 1; i <= ROUNDS; i++)); do
	line="  round $i"
	for v in A B; do
		OBSPROBE=${BIN[$v]} OTEL_METRIC_EXPORT_INTERVAL=1000 \
			start_obsprobe --pid "$NGINX_PID" --console off "${ARGS[@]}" >/dev/null 2>&1 ||
			die "obsprobe $v did not start: $(cat "$OBS_ERR")"
		t0=$(cpu_ns "$OBS_PID")
		r=$(bench_wrk) || die "wrk failed"
		sleep 1.2 # the last spans leave, the last batch is sent
		t1=$(cpu_ns "$OBS_PID")
		stop_pid "$OBS_PID" INT
		n=${r%% *}
		cpu[$v]=$((cpu[$v] + t1 - t0))
		reqs[$v]=$((reqs[$v] + n))
		ms[$v]=$(awk -v t=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.3f", n ? t / 1e6 / n * 1000 : 0 }')
		line+=$(printf '   %s %6.3f ms (%d requests)' "$v" "${ms[$v]}" "$n")
	done
	awk -v a="${ms[A]}" -v b="${ms[B]}" 'BEGIN { exit !(b < a) }' && lower=$((lower + 1))
	echo "$line"
done
awk -v ta="${cpu[A]}" -v na="${reqs[A]}" -v tb="${cpu[B]}" -v nb="${reqs[B]}" \
	-v lower="$lower" -v rounds="$ROUNDS" 'BEGIN {
	a = na ? ta / 1e6 / na * 1000 : 0
	b = nb ? tb / 1e6 / nb * 1000 : 0
	printf "obsprobe CPU per 1,000 requests: A %.3f ms, B %.3f ms, B/A %.3f; B lower in %d of %d rounds\n", \
		a, b, a ? b / a : 0, lower, rounds
}'

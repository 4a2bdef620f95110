#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Two builds of obsprobe compared on one load, in paired rounds: each round runs build A, then
# build B, and prints each one's CPU per 1,000 units of work (cpu_ns: the threads' schedstat, in
# ns), and the units of work each round did in its fixed time: a change that costs the watched
# process (a BPF program, an interrupt) rather than obsprobe shows there, and the IRQ-work
# interrupts all CPUs took meanwhile (/proc/interrupts IWI: a BPF ring buffer's forced wakeups
# raise them, a self-IPI each, a VM exit on a VM). On these noisy
# machines a change's effect shows in the pairs (B better than A in most rounds, the summed
# ratio), where two bench runs taken apart differ by more than the change. The load:
#  - nginx (default): wrk on a static page, obsprobe on the nginx master; units: requests;
#  - LOAD=go: wrk with keep-alive on the Go net/http server of the tests
#    (tests/fixtures/goserver, GET /), obsprobe on it; units: requests;
#  - LOAD=pgbench: `pgbench -n -c 1 -T DURATION -M PGBENCH_MODE` (simple) against a PostgreSQL
#    of its own, obsprobe on a runner that forks pgbench once it is attached; units: statements
#    (PGBENCH_STATEMENTS a transaction, bench/lib.sh).
# Not part of `make bench`:
#
#   bench/ab.sh OLD_OBSPROBE NEW_OBSPROBE [OBSPROBE ARGS...]
#
# The arguments follow `--pid PID --console off`; "--otlp" stands for an OTLP export to a local
# sink that answers 200 at once (as bench/nginx.sh's export rounds), e.g.
#   git worktree add /tmp/old HEAD~1 && make -C /tmp/old BUILD=/tmp/old/build all
#   bench/ab.sh /tmp/old/build/obsprobe build/obsprobe --otlp
# Environment: ROUNDS (6), LOAD (nginx), PGBENCH_MODE (simple), and those of bench/lib.sh.
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
bench_require wrk
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
LOAD=${LOAD:-nginx}
PGBENCH_MODE=${PGBENCH_MODE:-simple}
SEQ=0

# iwi: the IRQ-work interrupts every CPU took so far
iwi() {
	awk '$1 == "IWI:" { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' \
		/proc/interrupts
}

# obsprobe_on PID: a fresh obsprobe of build $V with ARGS on PID, its CPU so far in T0, the
# IRQ-work interrupts so far in I0
obsprobe_on() {
	OBSPROBE=${BIN[$V]} OTEL_METRIC_EXPORT_INTERVAL=1000 \
		start_obsprobe --pid "$1" --console off "${ARGS[@]}" >/dev/null 2>&1 ||
		die "obsprobe $V did not start: $(cat "$OBS_ERR")"
	T0=$(cpu_ns "$OBS_PID")
	I0=$(iwi)
}

# round_spent: once the load is over, obsprobe's CPU in ns and the IRQ-work interrupts since
# obsprobe_on, in T and I
round_spent() {
	sleep 1.2 # the last spans leave, the last batch is sent
	T=$(($(cpu_ns "$OBS_PID") - T0))
	I=$(($(iwi) - I0))
}

# wrk_round / pgbench_round: one run of the load under build $V; its CPU in ns, the units of
# work and the IRQ-work interrupts in T, N and I. wrk_round: wrk on $URL, obsprobe on
# $WRK_PID (nginx's master, the Go server)
wrk_round() {
	local r
	obsprobe_on "$WRK_PID"
	r=$(bench_wrk) || die "wrk failed"
	round_spent
	N=${r%% *}
}

pgbench_round() {
	local run
	SEQ=$((SEQ + 1))
	run=pgbench$SEQ
	start_runner "$run" "${PGBENCH[@]}" -T "$DURATION" -M "$PGBENCH_MODE" obsprobe
	obsprobe_on "$RUNNER_PID"
	touch "$TMP/$run.go"
	bench_pgbench_wait "$run" $((DURATION + 30))
	round_spent
	N=$(($(pgbench_transactions "$TMP/$run.out") * PGBENCH_STATEMENTS))
}

case $LOAD in
nginx | go)
	if [[ $LOAD == nginx ]]; then
		bench_require nginx
		bench_start_nginx
		WRK_PID=$NGINX_PID
	else
		bench_require go
		port=$(free_port) || die "no free port"
		start_goserver goserver "$port" >/dev/null || die "the Go server did not start"
		URL=http://127.0.0.1:$port/
		WRK_PID=$GO_PID
	fi
	ROUND=wrk_round
	UNITS=requests
	echo "bench: A ${BIN[A]}, B ${BIN[B]}, args: --console off ${ARGS[*]}, $LOAD," \
		"wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS paired rounds"
	wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up
	;;
pgbench)
	bench_start_pgbench
	ROUND=pgbench_round
	UNITS=statements
	echo "bench: A ${BIN[A]}, B ${BIN[B]}, args: --console off ${ARGS[*]}," \
		"pgbench -c 1 -T $DURATION -M $PGBENCH_MODE, $ROUNDS paired rounds"
	;;
*) die "LOAD: nginx, go or pgbench, not '$LOAD'" ;;
esac

declare -A cpu=([A]=0 [B]=0) units=([A]=0 [B]=0) irqs=([A]=0 [B]=0)
lower=0 more=0
for ((i = 1; i <= ROUNDS; i++)); do
	line="  round $i"
	for V in A B; do
		"$ROUND"
		stop_pid "$OBS_PID" INT
		cpu[$V]=$((cpu[$V] + T))
		units[$V]=$((units[$V] + N))
		irqs[$V]=$((irqs[$V] + I))
		[[ $V == A ]] && done_a=$N
		ms[$V]=$(awk -v t="$T" -v n="$N" 'BEGIN { printf "%.3f", n ? t / 1e6 / n * 1000 : 0 }')
		line+=$(printf '   %s %6.3f ms (%d %s, %d IWI)' "$V" "${ms[$V]}" "$N" "$UNITS" "$I")
	done
	awk -v a="${ms[A]}" -v b="${ms[B]}" 'BEGIN { exit !(b < a) }' && lower=$((lower + 1))
	((N > done_a)) && more=$((more + 1))
	echo "$line"
done
awk -v ta="${cpu[A]}" -v na="${units[A]}" -v tb="${cpu[B]}" -v nb="${units[B]}" \
	-v lower="$lower" -v rounds="$ROUNDS" -v units="$UNITS" 'BEGIN {
	a = na ? ta / 1e6 / na * 1000 : 0
	b = nb ? tb / 1e6 / nb * 1000 : 0
	printf "obsprobe CPU per 1,000 %s: A %.3f ms, B %.3f ms, B/A %.3f; B lower in %d of %d rounds\n", \
		units, a, b, a ? b / a : 0, lower, rounds
}'
printf '%s done in the same time: A %d, B %d, B/A %.3f; B more in %d of %d rounds\n' "$UNITS" \
	"${units[A]}" "${units[B]}" "$(awk -v a="${units[A]}" -v b="${units[B]}" 'BEGIN { print a ? b / a : 0 }')" \
	"$more" "$ROUNDS"
awk -v ia="${irqs[A]}" -v na="${units[A]}" -v ib="${irqs[B]}" -v nb="${units[B]}" -v units="$UNITS" 'BEGIN {
	printf "IRQ-work interrupts per 1,000 %s: A %.1f, B %.1f\n", units, na ? ia / na * 1000 : 0, \
		nb ? ib / nb * 1000 : 0
}'

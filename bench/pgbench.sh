#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What PostgreSQL capture costs a libpq client (`bench/pgbench.sh`; prints, asserts nothing):
# `pgbench -n -c 1 -T 10` (TPC-B-like, scale 1) against a PostgreSQL 15 of its own in a temp dir,
# over 127.0.0.1, in each query mode (simple, extended, prepared). pgbench is forked by a runner
# shell (tests/lib.sh start_runner) once the configuration is in place, so obsprobe watches it
# from its start. Interleaved rounds, the order of the configurations rotated each round:
#  a) no obsprobe;
#  b) the floor: probes that do nothing on the hooks obsprobe uses for PostgreSQL: uprobes on
#     PQsendQuery, PQsendQueryParams, PQsendPrepare, PQsendQueryPrepared, PQconnectStart,
#     PQconnectStartParams and PQfinish in the libpq.so.5 pgbench maps, at the offsets obsprobe
#     uses (tracefs uprobe events with a filter that never matches), and empty bpftrace
#     programs on the sys_exit tracepoints of the socket syscalls and mmap (as bench/tls.sh).
#     What any hook layout like this pays, whatever its programs do;
#  c) obsprobe --disable libpq: parsing the wire protocol alone (left out, said so, while
#     obsprobe does not know the group libpq);
#  d) obsprobe with everything on.
# c and d run with --console off, /metrics on, and OBS_FLAGS added. Prints each round and, per
# mode, the median TPS of each configuration, c/a (target >= 0.90) and d/b (target >= 0.95),
# obsprobe's events lost, its CPU time per 1,000 transactions (cpu_ns: its threads' schedstat,
# in ns, over the runs, attach excluded) and the database operations it counted beside what
# pgbench ran (7 statements a transaction, plus 2 setup queries a run); then, for `make bench`'s closing
# table (bench_figure, bench/lib.sh), d/a per mode (target >= 0.95) and obsprobe's CPU per
# statement over every (d) run (target <= 1 us).
#
# Environment: ROUNDS (3), PGBENCH_DURATION (10, seconds per pgbench run), PGBENCH_MODES
# ("simple extended prepared"), OBS_FLAGS (extra obsprobe flags for c and d, e.g.
# "--disable sched,memory,go"; none by default).
TEST_NAME=bench-pgbench
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require bpftrace bpftool curl
PGBENCH_DURATION=${PGBENCH_DURATION:-10}
read -ra MODES <<<"${PGBENCH_MODES:-simple extended prepared}"
read -ra EXTRA <<<"${OBS_FLAGS:-}"
LIBPQ_FUNCS=(PQsendQuery PQsendQueryParams PQsendPrepare PQsendQueryPrepared PQconnectStart
	PQconnectStartParams PQfinish)
STATEMENTS=$PGBENCH_STATEMENTS
bench_start_pgbench

# The libpq pgbench maps, read from a warm-up run's /proc/PID/maps.
"${PGBENCH[@]}" -T 2 obsprobe >/dev/null 2>&1 &
WARM=$!
LIBPQ=""
for ((i = 0; i < 50; i++)); do
	LIBPQ=$(awk '{ n = split($6, p, "/") } n && p[n] ~ /^libpq\.so/ { print $6; exit }' \
		"/proc/$WARM/maps" 2>/dev/null)
	[[ -n $LIBPQ ]] && break
	sleep 0.1
done
wait "$WARM"
[[ -n "$LIBPQ" ]] || die "pgbench (pid $WARM) maps no libpq.so*"

# hook_offset FUNC: the file offset at which obsprobe hooks FUNC in LIBPQ, in hex, as
# `obsprobe --probe-sites` gives it (its decoding of the code on this kernel)
"$OBSPROBE" --probe-sites "$LIBPQ" >"$TMP/libpq-sites" 2>&1 || die "obsprobe --probe-sites $LIBPQ failed: $(cat "$TMP/libpq-sites")"
hook_offset() {
	sed -n "s/^uprobe for $1 in [^:]*: \(shared, \)\{0,1\}at \(0x[0-9a-f]*\) .*/\2/p" \
		"$TMP/libpq-sites" | grep .
}

# The floor's uprobes are tracefs uprobe events at those offsets (this bpftrace cannot place a
# probe past a function's start), with a filter that never matches: the trap, nothing recorded.
# Its syscall tracepoints are bpftrace's, as in bench/tls.sh.
TRACEFS=/sys/kernel/tracing
mountpoint -q "$TRACEFS" || mount -t tracefs nodev "$TRACEFS" || die "cannot mount tracefs"
FLOOR_GROUP=obsprobe_floor$$
on_exit "echo 0 >$TRACEFS/events/$FLOOR_GROUP/enable 2>/dev/null; \
	for e in ${LIBPQ_FUNCS[*]}; do echo \"-:$FLOOR_GROUP/\$e\" >>$TRACEFS/uprobe_events; done 2>/dev/null"
for f in "${LIBPQ_FUNCS[@]}"; do
	o=$(hook_offset "$f") || die "no $f in $LIBPQ"
	echo "p:$FLOOR_GROUP/$f $LIBPQ:$o" >>"$TRACEFS/uprobe_events" ||
		die "cannot add the uprobe event $f at $LIBPQ:$o"
	echo 'common_pid == 0' >"$TRACEFS/events/$FLOOR_GROUP/$f/filter"
	FLOOR_UPROBES+=("$f@$o")
done
bench_floor_add_syscalls

NAMES=(a b c d)
declare -A LABEL=(
	[a]="a) no obsprobe"
	[b]="b) floor (empty probes)"
	[c]="c) obsprobe --disable libpq"
	[d]="d) obsprobe"
)
# c needs obsprobe to know the group libpq (it parses its flags before --version)
if ! "$OBSPROBE" --disable libpq --version >/dev/null 2>&1; then
	NAMES=(a b d)
	echo "bench: obsprobe rejects --disable libpq: configuration c left out" >&2
fi

declare -A TPS  # "MODE NAME": space-separated TPS of the rounds
declare -A TX   # "MODE NAME": transactions, summed over the rounds
declare -A OPS  # "MODE NAME": database operations obsprobe counted, summed
declare -A LOST # "MODE NAME": events obsprobe lost, summed
declare -A CPU # "MODE NAME": obsprobe's CPU time, ns, summed
SEQ=0

# db_ops [FILE]: database operations obsprobe counted (the duration histogram), from FILE or a
# scrape
db_ops() { metric_sum db_client_operation_duration_seconds 'db_system_name="postgresql"' "${1:-}"; }

# round I MODE NAME: one pgbench run in MODE under configuration NAME
round() {
	local i=$1 mode=$2 name=$3 run t0=0 t1 w0=0 w1 port tps n ops l extra="" flags=()
	SEQ=$((SEQ + 1))
	run=pgbench$SEQ
	start_runner "$run" "${PGBENCH[@]}" -T "$PGBENCH_DURATION" -M "$mode" obsprobe
	case $name in
	b)
		bench_floor_start
		echo 1 >"$TRACEFS/events/$FLOOR_GROUP/enable"
		;;
	c | d)
		[[ $name == c ]] && flags=(--disable libpq)
		port=$(free_port) || die "no free port"
		start_obsprobe --pid "$RUNNER_PID" --console off --prometheus "127.0.0.1:$port" \
			"${flags[@]}" "${EXTRA[@]}" >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		t0=$(cpu_ns "$OBS_PID")
		w0=$(wakeups "$OBS_PID")
		;;
	esac
	touch "$TMP/$run.go"
	bench_pgbench_wait "$run" $((PGBENCH_DURATION + 30))
	tps=$(awk '/^tps = / { print $3; exit }' "$TMP/$run.out")
	n=$(pgbench_transactions "$TMP/$run.out")
	[[ -n "$tps" && -n "$n" ]] || die "no tps in pgbench's output: $(cat "$TMP/$run.out")"
	case $name in
	b)
		echo 0 >"$TRACEFS/events/$FLOOR_GROUP/enable"
		stop_pid "$BT_PID" INT
		;;
	c | d)
		count_settles 0.5 30 2 $((STATEMENTS * n + 2)) db_ops || true
		t1=$(cpu_ns "$OBS_PID")
		w1=$(wakeups "$OBS_PID")
		sleep 1.2 # one health tick: the lost counters are current
		scrape >"$TMP/metrics.txt" || die "scrape of $OBS_METRICS failed"
		ops=$(db_ops "$TMP/metrics.txt")
		l=$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")
		stop_pid "$OBS_PID" INT
		OPS["$mode $name"]=$((${OPS["$mode $name"]:-0} + ops))
		LOST["$mode $name"]=$((${LOST["$mode $name"]:-0} + l))
		CPU["$mode $name"]=$((${CPU["$mode $name"]:-0} + t1 - t0))
		extra=$(printf '  (%d DB operations of %d, %d lost, %.0f ms CPU, %d wakeups)' "$ops" \
			$((STATEMENTS * n + 2)) "$l" "$(awk -v t=$((t1 - t0)) 'BEGIN { print t / 1e6 }')" \
			$((w1 - w0)))
		;;
	esac
	touch "$TMP/$run.done"
	wait_exit "$RUNNER_PID" 40
	TPS["$mode $name"]+=" $tps"
	TX["$mode $name"]=$((${TX["$mode $name"]:-0} + n))
	printf '  round %d %-9s %-29s %8.1f TPS  %6d transactions%s\n' "$i" "$mode" "${LABEL[$name]}" \
		"$tps" "$n" "$extra"
}

echo "bench: pgbench -n -c 1 -T $PGBENCH_DURATION, scale 1, over 127.0.0.1, modes ${MODES[*]}," \
	"$ROUNDS interleaved rounds, $(nproc) CPUs; obsprobe flags: --console off ${EXTRA[*]}"
echo "bench: floor: uprobes on $LIBPQ at ${FLOOR_UPROBES[*]}, and $FLOOR_N empty programs on the syscall exits${FLOOR_MISSING[*]:+ (absent here, left out: ${FLOOR_MISSING[*]})}"

for ((i = 1; i <= ROUNDS; i++)); do
	for mode in "${MODES[@]}"; do
		for ((k = 0; k < ${#NAMES[@]}; k++)); do
			round "$i" "$mode" "${NAMES[(i - 1 + k) % ${#NAMES[@]}]}"
		done
	done
done

declare -A MED # "MODE NAME": median TPS
for mode in "${MODES[@]}"; do
	for name in "${NAMES[@]}"; do
		# shellcheck disable=SC2086 # splitting the space-separated list is the point
		MED["$mode $name"]=$(median ${TPS["$mode $name"]})
	done
done

echo
printf '%-9s %10s %10s %10s %10s %8s %8s %8s\n' "median" "a TPS" "b TPS" "c TPS" "d TPS" b/a c/a d/b
for mode in "${MODES[@]}"; do
	awk -v mode="$mode" -v a="${MED["$mode a"]}" -v b="${MED["$mode b"]}" \
		-v c="${MED["$mode c"]:-}" -v d="${MED["$mode d"]}" '
	function num(x) { return x == "" ? "n/a" : sprintf("%.0f", x) }
	function ratio(x, y) { return (x == "" || y == "" || y == 0) ? "n/a" : sprintf("%.3f", x / y) }
	BEGIN {
		printf "%-9s %10s %10s %10s %10s %8s %8s %8s\n", mode, num(a), num(b), num(c), num(d), \
			ratio(b, a), ratio(c, a), ratio(d, b)
	}'
done
echo
for mode in "${MODES[@]}"; do
	for name in c d; do
		[[ -n "${TPS["$mode $name"]:-}" ]] || continue
		awk -v mode="$mode" -v label="${LABEL[$name]}" -v name="$name" -v a="${MED["$mode a"]}" \
			-v b="${MED["$mode b"]}" -v x="${MED["$mode $name"]}" -v tx="${TX["$mode $name"]}" \
			-v ops="${OPS["$mode $name"]:-0}" -v lost="${LOST["$mode $name"]:-0}" \
			-v ns="${CPU["$mode $name"]:-0}" -v rounds="$ROUNDS" -v per="$STATEMENTS" '
		function verdict(ok) { return ok ? "met" : "MISSED" }
		BEGIN {
			if (name == "c")
				t = sprintf("c/a %.3f  target >= 0.90 %-6s", x / a, verdict(x / a >= 0.90))
			else
				t = sprintf("d/b %.3f  target >= 0.95 %-6s", x / b, verdict(x / b >= 0.95))
			cpu = tx ? ns / 1e6 / tx * 1000 : 0
			printf "%-9s %-28s %s  %d events lost, %.3f ms CPU per 1,000 transactions, %d DB operations counted of %d\n", \
				mode, label, t, lost, cpu, ops, per * tx + 2 * rounds
		}'
	done
done
printf '(DB operations: %d statements per transaction plus pgbench'\''s 2 setup queries per run)\n' \
	"$STATEMENTS"

# The closing table's figures: d/a, obsprobe against no obsprobe at all (d/b above is against
# the floor), and obsprobe's CPU per statement pgbench ran (transactions x STATEMENTS) over
# every (d) run of every mode. Rounded as printed, here and in the table alike.
echo
ns=0
tx=0
for mode in "${MODES[@]}"; do
	da=$(awk -v a="${MED["$mode a"]}" -v d="${MED["$mode d"]}" 'BEGIN { printf "%.3f", a ? d / a : 0 }')
	bench_figure "pgbench TPS with obsprobe / none, $mode" "$da" "" ">=" 0.95
	awk -v mode="$mode" -v r="$da" 'BEGIN {
		printf "%-9s d/a %.3f  target >= 0.95 %s (obsprobe against no obsprobe, medians)\n", mode, r,
			(r >= 0.95 ? "met" : "MISSED")
	}'
	ns=$((ns + ${CPU["$mode d"]:-0}))
	tx=$((tx + ${TX["$mode d"]:-0}))
done
if ((tx > 0)); then
	us=$(awk -v t="$ns" -v tx="$tx" -v per="$STATEMENTS" \
		'BEGIN { printf "%.3f", t / 1000 / (tx * per) }')
	bench_figure "obsprobe CPU per pgbench statement" "$us" us "<=" 1
	awk -v us="$us" -v n=$((tx * STATEMENTS)) 'BEGIN {
		printf "obsprobe CPU per statement, (d) runs: %.3f us  target <= 1 us %s (%d statements)\n", us,
			(us <= 1 ? "met" : "MISSED"), n
	}'
fi
exit 0

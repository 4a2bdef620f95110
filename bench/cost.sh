#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Where obsprobe's cost goes (`make bench`; prints, asserts nothing), for nginx serving a static
# page under wrk, for pgbench's built-in script against PostgreSQL and for the Go net/http
# fixture under wrk with keep-alive:
#  1. BPF: each program's run time and calls per request (kernel.bpf_stats_enabled, read from
#     bpftool before and after the load), and the events per request by type, from the
#     recording the same obsprobe writes (--record).
#  2. User space: obsprobe --replay of that recording under valgrind's callgrind, without and
#     with OTLP export (gzip) to a local sink. Instructions repeat exactly from run to run on
#     these noisy machines, where seconds do not: instructions per request in total, and the
#     functions that execute most of them.
#
# Environment: TOP (12, functions listed), PGBENCH_DURATION (5, seconds per pgbench run), PARTS
# (the workloads, "nginx pgbench go"), REC_DIR (keeps each recording there as NAME.rec, with
# its count of requests or statements in NAME.units, for bench/replay_ab.sh), and those of
# bench/lib.sh.
TEST_NAME=bench-cost
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk bpftool valgrind callgrind_annotate
PARTS=" ${PARTS:-nginx pgbench go} "
TOP=${TOP:-12}
PGBENCH_DURATION=${PGBENCH_DURATION:-5}
EVSTAT=$ROOT/bench/evstat.py

# bpf_stats PID: "ID NAME RUN_TIME_NS RUN_CNT" for each BPF program PID holds
bpf_stats() {
	# shellcheck disable=SC2046 # one argument per ID
	bpftool -j prog show | "$PY" -c '
import json, sys
ids = set(int(i) for i in sys.argv[1:])
for p in json.load(sys.stdin):
    if p["id"] in ids:
        print(p["id"], p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))' \
		$(obsprobe_prog_ids "$1" | paste -sd" ")
}

# bpf_report BEFORE AFTER UNITS UNIT: per program that ran, calls and ns per UNIT and ns a call,
# most expensive first
bpf_report() {
	printf '  %-28s %10s %12s %12s\n' "BPF program" "calls/$4" "ns/$4" "ns/call"
	awk -v units="$3" 'FILENAME == ARGV[1] { t[$1] = $3; c[$1] = $4; next } ($1 in t) {
	  dt = $3 - t[$1]; dc = $4 - c[$1]
	  if (dc > 0) printf "%.0f  %-28s %10.2f %12.0f %12.0f\n", dt, $2, dc / units, dt / units, dt / dc }' \
		"$1" "$2" | sort -rn | sed 's/^[0-9]*//'
	awk -v units="$3" 'FILENAME == ARGV[1] { t[$1] = $3; next } ($1 in t) { tot += $3 - t[$1] }
		END { printf "  %-28s %10s %12.0f\n", "all programs", "", tot / units }' "$1" "$2"
}

# keep_recording FILE NAME UNITS: FILE as REC_DIR/NAME.rec, UNITS in REC_DIR/NAME.units
keep_recording() {
	[[ -n ${REC_DIR:-} ]] || return 0
	mkdir -p "$REC_DIR" && cp "$1" "$REC_DIR/$2.rec" && echo "$3" >"$REC_DIR/$2.units" ||
		die "cannot keep the recording in $REC_DIR"
}

# replay_profile NAME RECORDING UNITS UNIT OBSPROBE_ARGS...: instructions per UNIT of replaying
# RECORDING, less those of replaying no event with the same arguments (start and stop), and
# the TOP functions by their own instructions
replay_profile() {
	local name=$1 rec=$2 units=$3 unit=$4 out=$TMP/callgrind.$RANDOM per
	shift 4
	per=$(bench_replay_per_unit "$OBSPROBE" "$rec" "$units" "$out" "$@") || exit 1
	printf '  %-44s %10.0f instructions per %s\n' "$name" "$per" "$unit"
	callgrind_annotate --inclusive=no --threshold=100 "$out" 2>/dev/null |
		awk -v top="$TOP" -v units="$units" '/PROGRAM TOTALS/ { next }
		/^ *[0-9,]+ \(/ && n < top { ir = $1; gsub(",", "", ir); sub(/^[^)]*\) +/, "")
			printf "      %10.0f  %s\n", ir / units, $0; n++ }'
}

sysctl_was=$(sysctl -n kernel.bpf_stats_enabled)
on_exit "sysctl -qw kernel.bpf_stats_enabled=$sysctl_was"
sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"

# wrk_cost NAME PID: wrk against $URL with a fresh obsprobe --pid PID recording its events; the
# BPF programs' cost per request, the events per request, and the replay's instructions per
# request without and with OTLP export (gzip).
wrk_cost() {
	local name=$1 pid=$2 r n lost
	wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1
	start_obsprobe --pid "$pid" --console off --record "$TMP/$name.rec" >/dev/null 2>&1 ||
		die "obsprobe did not start: $(cat "$OBS_ERR")"
	bpf_stats "$OBS_PID" >"$TMP/bpf.before"
	r=$(bench_wrk) || die "wrk failed"
	n=${r%% *}
	wait_until 15 eval "(( \$(metric_sum http_server_request_duration_seconds) >= $n ))" ||
		echo "  (obsprobe had not counted all $n requests after 15 s)"
	bpf_stats "$OBS_PID" >"$TMP/bpf.after"
	lost=$(counter_sum obsprobe_events_lost_total)
	stop_pid "$OBS_PID" INT
	echo "bench: cost of $name HTTP requests: wrk -t$THREADS -c$CONNS -d${DURATION}s, $n requests, $lost events lost"
	bpf_report "$TMP/bpf.before" "$TMP/bpf.after" "$n" req
	"$PY" "$EVSTAT" "$TMP/$name.rec" "$n" req
	keep_recording "$TMP/$name.rec" "$name" "$n"
	echo "  user space, obsprobe --replay of those events under callgrind (instructions repeat exactly):"
	replay_profile "$name, RED metrics" "$TMP/$name.rec" "$n" req
	[[ -n ${SINK_ENDPOINT:-} ]] || bench_start_sink
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip OTEL_BSP_MAX_QUEUE_SIZE=65536 replay_profile \
		"$name, RED metrics + OTLP export (gzip)" "$TMP/$name.rec" "$n" req \
		--otlp-endpoint "$SINK_ENDPOINT"
}

# 1. nginx over HTTP
if [[ $PARTS == *" nginx "* ]]; then
	bench_start_nginx
	wrk_cost nginx "$NGINX_PID"
	stop_pid "$NGINX_PID"
fi

# 2. pgbench, each query mode: obsprobe watches pgbench from its start (a runner shell)
if [[ $PARTS == *" pgbench "* ]]; then
	bench_start_pgbench
	# PGBENCH_STATEMENTS a transaction (bench/lib.sh), and 2 setup queries a run
	for mode in simple extended prepared; do
		start_runner "pgbench-$mode" "${PGBENCH[@]}" -T "$PGBENCH_DURATION" -M "$mode" obsprobe
		start_obsprobe --pid "$RUNNER_PID" --console off --record "$TMP/pg-$mode.rec" >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		bpf_stats "$OBS_PID" >"$TMP/bpf.before"
		touch "$TMP/pgbench-$mode.go"
		wait_until $((PGBENCH_DURATION + 30)) test -s "$TMP/pgbench-$mode.rc" || die "pgbench did not finish"
		tx=$(pgbench_transactions "$TMP/pgbench-$mode.out")
		[[ -n $tx ]] || die "no transaction count in pgbench's output: $(cat "$TMP/pgbench-$mode.out")"
		st=$((tx * PGBENCH_STATEMENTS + 2))
		count_settles 0.5 30 2 "$st" metric_sum db_client_operation_duration_seconds || true
		bpf_stats "$OBS_PID" >"$TMP/bpf.after"
		lost=$(counter_sum obsprobe_events_lost_total)
		stop_pid "$OBS_PID" INT
		touch "$TMP/pgbench-$mode.done"
		wait_exit "$RUNNER_PID" 40
		echo
		echo "bench: cost of pgbench statements, -M $mode -T $PGBENCH_DURATION: $st statements, $lost events lost"
		bpf_report "$TMP/bpf.before" "$TMP/bpf.after" "$st" stmt
		"$PY" "$EVSTAT" "$TMP/pg-$mode.rec" "$st" stmt
		keep_recording "$TMP/pg-$mode.rec" "pg-$mode" "$st"
		replay_profile "pgbench -M $mode, RED metrics" "$TMP/pg-$mode.rec" "$st" stmt
	done
fi

# 3. the Go net/http fixture (GET /: a one-line body), keep-alive
if [[ $PARTS == *" go "* ]]; then
	bench_require go
	PORT=$(free_port) || die "no free port"
	start_goserver goserver "$PORT" >/dev/null || die "the Go server did not start (see above)"
	URL=http://127.0.0.1:$PORT/
	echo
	wrk_cost go "$GO_PID"
	stop_pid "$GO_PID"
fi

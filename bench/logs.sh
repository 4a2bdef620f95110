#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What reading logs costs (`make bench`; prints, asserts nothing). Two services under
# `wrk -t2 -c$CONNS`, each against itself:
#  golog: tests/fixtures/golog, GET /req/x: two JSON lines (logrus) a request on stderr, one
#         from the handler, one from a goroutine it spawns (stderr to a file, as a service's
#         supervisor would keep it);
#  nginx: tests/fixtures/nginx's static page: writes nothing to stdout or stderr, so what it
#         pays for logs on is the check on every write.
# Interleaved rounds, in each workload: a) no obsprobe; b) obsprobe --logs off; c) obsprobe
# --logs on with both budgets lifted, so that every line is read and made a record (parsed and
# tied to its request; not exported: OTLP's cost is bench/otlp_send_bench's). b and c run a fresh obsprobe per run (--console off, /metrics on).
# Prints the medians and c/a, c/b; obsprobe's CPU time per 1,000 requests, its peak RSS
# (VmHWM), the log records it made per request, and events lost.
#
# Environment: see bench/lib.sh.
TEST_NAME=bench-logs
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require go wrk curl nginx

build_go golog "$TMP/golog" >/dev/null || die "go build of tests/fixtures/golog failed: $(head -n 5 "$TMP/gobuild.log")"
"$TMP/golog" -listen 127.0.0.1:0 -ready-file "$TMP/golog.ready" >/dev/null 2>"$TMP/golog.log" &
GOLOG_PID=$!
track_pid "$GOLOG_PID"
wait_until 10 test -s "$TMP/golog.ready" || die "golog did not start: $(head -n 5 "$TMP/golog.log")"
GOLOG_URL=http://$(cat "$TMP/golog.ready")/req/bench
bench_start_nginx http
NGINX_URL=$URL
curl -sf -o /dev/null "$GOLOG_URL" || die "$GOLOG_URL does not answer"
curl -sf -o /dev/null "$NGINX_URL" || die "$NGINX_URL does not answer"

NAMES=(golog-a golog-b golog-c nginx-a nginx-b nginx-c)
declare -A RPS REQS TICKS LOST RECS PEAK

# round NAME: one wrk run of NAME (WORKLOAD-CONFIG)
round() {
	local name=$1 w=${1%-*} c=${1#*-} r n rps t0 t1 pid=$GOLOG_PID
	local logs=(--logs on --log-lines-per-second 0 --log-bytes-per-second 4G)
	URL=$GOLOG_URL
	[[ $w == nginx ]] && URL=$NGINX_URL pid=$NGINX_PID
	[[ $c == b ]] && logs=(--logs off)
	if [[ $c != a ]]; then
		start_obsprobe --pid "$pid" --console off "${logs[@]}" >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		t0=$(cpu_ticks "$OBS_PID")
	fi
	r=$(bench_wrk --latency) || die "wrk failed on $w"
	read -r n rps <<<"$r"
	RPS[$name]+=" $rps"
	REQS[$name]=$((${REQS[$name]:-0} + n))
	if [[ $c != a ]]; then
		sleep 1.2 # one health tick: the counters are current
		t1=$(cpu_ticks "$OBS_PID")
		TICKS[$name]=$((${TICKS[$name]:-0} + t1 - t0))
		scrape "$OBS_METRICS" >"$TMP/m.txt" || die "scrape failed"
		LOST[$name]=$((${LOST[$name]:-0} + $(counter_sum obsprobe_events_lost_total "" "$TMP/m.txt")))
		RECS[$name]=$((${RECS[$name]:-0} + $(counter_sum obsprobe_log_records_total "" "$TMP/m.txt")))
		hwm=$(hwm_kib "$OBS_PID")
		((hwm > ${PEAK[$name]:-0})) && PEAK[$name]=$hwm
		stop_obsprobe "$OBS_PID" "$OBS_ERR" >/dev/null 2>&1
	fi
	printf '  %-8s %8.0f req/s\n' "$name" "$rps"
}

for ((i = 1; i <= ROUNDS; i++)); do
	echo "round $i"
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		round "${NAMES[(k + i) % ${#NAMES[@]}]}"
	done
done

HZ=$(getconf CLK_TCK)
echo
echo "logs: medians of $ROUNDS rounds, wrk -t$THREADS -c$CONNS -d${DURATION}s"
printf '%-7s %10s %10s %10s %7s %7s %14s %9s %9s %6s\n' workload "a) none" "b) off" "c) on" \
	c/a c/b "cpu ms/1k (c)" "rss (c)" "recs/req" lost
for w in golog nginx; do
	read -ra v <<<"${RPS[$w-a]}"
	a=$(median "${v[@]}")
	read -ra v <<<"${RPS[$w-b]}"
	b=$(median "${v[@]}")
	read -ra v <<<"${RPS[$w-c]}"
	c=$(median "${v[@]}")
	printf '%-7s %10s %10s %10s %7s %7s %14s %8sM %9s %6s\n' "$w" "$a" "$b" "$c" \
		"$(awk -v x="$c" -v y="$a" 'BEGIN { printf "%.3f", y ? x / y : 0 }')" \
		"$(awk -v x="$c" -v y="$b" 'BEGIN { printf "%.3f", y ? x / y : 0 }')" \
		"$(awk -v t="${TICKS[$w-c]}" -v n="${REQS[$w-c]}" -v hz="$HZ" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')" \
		"$(awk -v k="${PEAK[$w-c]}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$(awk -v r="${RECS[$w-c]}" -v n="${REQS[$w-c]}" 'BEGIN { printf "%.2f", n ? r / n : 0 }')" \
		"${LOST[$w-c]}"
done

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# obsprobe's overhead on nginx serving a static page (`make bench`; not a test: it prints, it
# asserts nothing). Interleaved rounds of `wrk -t2 -c32 -d5s`: without obsprobe, with it
# attached to the nginx master (a fresh obsprobe per round, --console off, /metrics on), and
# with it exporting every span over OTLP, the order turned each round. Prints throughput with
# and without, their ratio, events lost, obsprobe's CPU time per 1,000 requests (its threads'
# schedstat over the load and 1.2 s after it, attach excluded), its RSS at the end of the load
# (VmRSS, the working set) and its peak RSS (VmHWM: loading the BPF objects, which parses the
# kernel's BTF, peaks above what it holds after), each beside its target; then the export's
# extra CPU, and the exporter alone (build/bench/otlp_send_bench). The figures of `make
# bench`'s closing table go to bench_figure (bench/lib.sh).
#
# Environment: see bench/lib.sh.
TEST_NAME=bench
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk curl

bench_start_nginx

echo "bench: nginx 2 workers, static page $(wc -c <"$TMP/nginx/www/index.html") B," \
	"wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS interleaved rounds, $(nproc) CPUs"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up

base_rps=()
with_rps=()
with_reqs=0
with_cpu=0
lost=0
parse_errors=0
seen=0
peak_kib=0
rss_kib=0

baseline_round() {
	local r
	r=$(bench_wrk) || die "wrk failed"
	base_rps+=("${r#* }")
	printf '  round %d baseline      %10.0f req/s\n' "$1" "${r#* }"
}

# loaded_round ARGS...: a fresh `obsprobe --pid NGINX --console off ARGS` under one wrk run:
# once it has counted every request (the histogram counts at least what wrk counted) and one
# health tick later (the lost counters are current, the last OTLP batch has left), its CPU over
# the load and that tick in ROUND_CPU (ns), a scrape in $TMP/metrics.txt, wrk's requests and
# rate in ROUND_N and ROUND_RPS. obsprobe is left running for what the caller reads of it.
loaded_round() {
	local r t0
	start_obsprobe --pid "$NGINX_PID" --console off "$@" >/dev/null 2>&1 ||
		die "obsprobe did not start: $(cat "$OBS_ERR")"
	t0=$(cpu_ns "$OBS_PID")
	r=$(bench_wrk) || die "wrk failed"
	ROUND_N=${r%% *}
	ROUND_RPS=${r#* }
	wait_until 15 eval "(( \$(metric_sum http_server_request_duration_seconds) >= $ROUND_N ))" ||
		echo "  (obsprobe had not counted all $ROUND_N requests after 15 s)"
	sleep 1.2
	ROUND_CPU=$(($(cpu_ns "$OBS_PID") - t0))
	scrape >"$TMP/metrics.txt" || die "scrape failed"
}

with_round() {
	local hwm rss count l p
	loaded_round
	count=$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics.txt")
	l=$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")
	p=$(counter_sum obsprobe_parse_errors_total "" "$TMP/metrics.txt")
	hwm=$(hwm_kib "$OBS_PID")
	rss=$(vm_rss_kib "$OBS_PID")
	stop_pid "$OBS_PID" INT
	with_rps+=("$ROUND_RPS")
	with_reqs=$((with_reqs + ROUND_N))
	with_cpu=$((with_cpu + ROUND_CPU))
	lost=$((lost + l))
	parse_errors=$((parse_errors + p))
	seen=$((seen + count))
	((hwm > peak_kib)) && peak_kib=$hwm
	((rss > rss_kib)) && rss_kib=$rss
	printf '  round %d with obsprobe %10.0f req/s  (%d requests, %d spans, %d lost, %.0f ms CPU, VmHWM %d KiB)\n' \
		"$1" "$ROUND_RPS" "$ROUND_N" "$count" "$l" "$((ROUND_CPU / 1000000))" "$hwm"
}

# OTLP export (issue 5): the same load with every span exported to a local sink that answers
# 200 at once; obsprobe's CPU per 1,000 requests against the rounds without it, over the same
# window (loaded_round).
export_round() {
	local d
	OTEL_METRIC_EXPORT_INTERVAL=1000 loaded_round --otlp-endpoint "$SINK_ENDPOINT"
	d=$(counter_sum obsprobe_export_dropped_total 'signal="traces"' "$TMP/metrics.txt")
	stop_pid "$OBS_PID" INT
	export_cpu=$((export_cpu + ROUND_CPU))
	export_reqs=$((export_reqs + ROUND_N))
	printf '  round %d with OTLP export %8.0f req/s  (%d requests, %s spans dropped)\n' "$1" "$ROUND_RPS" "$ROUND_N" "${d:-0}"
}

# interleaved, the order turned each round: the machine's speed drifts over minutes
bench_start_sink
export_cpu=0
export_reqs=0
for ((i = 1; i <= ROUNDS; i++)); do
	if ((i % 2)); then
		baseline_round "$i"
		with_round "$i"
		export_round "$i"
	else
		export_round "$i"
		with_round "$i"
		baseline_round "$i"
	fi
done

B=$(mean "${base_rps[@]}")
W=$(mean "${with_rps[@]}")
# CPU per 1,000 requests and peak RSS, rounded as printed: here and in the closing table alike
CPU=$(awk -v reqs="$with_reqs" -v ns="$with_cpu" 'BEGIN { printf "%.3f", reqs ? ns / 1e6 / reqs * 1000 : 0 }')
MIB=$(awk -v kib="$peak_kib" 'BEGIN { printf "%.1f", kib / 1024 }')
RSS_MIB=$(awk -v kib="$rss_kib" 'BEGIN { printf "%.1f", kib / 1024 }')
bench_figure "obsprobe CPU per 1,000 HTTP requests (nginx)" "$CPU" ms "<=" 1.0
bench_figure "obsprobe RSS, --pid on nginx" "$RSS_MIB" MiB "<=" 16
bench_figure "obsprobe peak RSS (VmHWM, loading included), --pid on nginx" "$MIB" MiB "<=" 16
awk -v b="$B" -v w="$W" -v lost="$lost" -v pe="$parse_errors" -v seen="$seen" \
	-v reqs="$with_reqs" -v cpu="$CPU" -v mib="$MIB" -v rss="$RSS_MIB" '
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
	ratio = w / b
	print ""
	printf "baseline                %10.0f req/s\n", b
	printf "with obsprobe           %10.0f req/s\n", w
	printf "throughput ratio        %10.3f         target >= 0.85   %s\n", ratio, verdict(ratio >= 0.85)
	printf "events lost             %10d         target 0         %s\n", lost, verdict(lost == 0)
	printf "CPU per 1,000 requests  %10.3f ms      target <= 1 ms   %s\n", cpu, verdict(cpu <= 1)
	printf "RSS after the load      %10.1f MiB     target <= 16 MiB %s\n", rss, verdict(rss <= 16)
	printf "peak RSS (VmHWM)        %10.1f MiB     target <= 16 MiB %s\n", mib, verdict(mib <= 16)
	printf "(requests counted by obsprobe: %d of wrk'\''s %d; parse errors: %d)\n", seen, reqs, pe
}'

# every request is one span: the export's extra CPU per 1,000 requests is per 1,000 spans
ECPU=$(awk -v ereqs="$export_reqs" -v ns="$export_cpu" 'BEGIN { printf "%.3f", ereqs ? ns / 1e6 / ereqs * 1000 : 0 }')
EXTRA=$(awk -v e="$ECPU" -v c="$CPU" 'BEGIN { printf "%.3f", e - c }')
bench_figure "extra CPU of the OTLP export per 1,000 spans" "$EXTRA" ms "<=" 0.5
awk -v ecpu="$ECPU" -v extra="$EXTRA" 'BEGIN {
	printf "CPU per 1,000 requests with OTLP export %6.3f ms (+%.3f ms for the export, target <= 0.5 ms %s)\n", \
		ecpu, extra, (extra <= 0.5 ? "met" : "MISSED")
}'
echo
"$SINK_BIN" 200000
# the exporter alone with gzip: spans per second of the CPU that encoding and sending took
out=$(OTEL_EXPORTER_OTLP_COMPRESSION=gzip "$SINK_BIN" 200000) || die "$SINK_BIN failed"
echo "$out"
SPANS=$(sed -n 's/.* \([0-9]*\) spans per CPU-second .*/\1/p' <<<"$out")
[[ -n $SPANS ]] && bench_figure "OTLP spans encoded and sent per exporter core-second (gzip)" \
	"$SPANS" spans/s ">=" 1000000
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Where obsprobe's time goes, sampled: `perf record` of the obsprobe process (cpu-clock: the VMs
# this runs on have no hardware counters) while wrk loads nginx, once plain and once exporting
# every span over OTLP to a local sink that answers 200 at once; then per function the time per
# request of each, and what the export adds, most first. bench/cost.sh counts instructions,
# exactly, but cannot see memory stalls, and on these machines those were most of the export's
# cost (cache misses on spans one thread writes and another reads, stores into cold lines
# stalling the code after them). A stall's samples land on the instruction after the load that
# waited: `perf annotate -i DIR/export.perf SYMBOL` on the profiles kept in PROFILE_DIR shows
# which. Then the same per thread. Not part of `make bench` (it prints, it asserts nothing):
#
#   bench/profile.sh [OBSPROBE ARGS...]     (added to both runs, after --pid and --console off)
#
# Environment: TOP (25, functions listed), PROFILE_DIR (the profiles, kept; default: the
# temporary directory, removed), and those of bench/lib.sh.
TEST_NAME=bench-profile
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk perf
TOP=${TOP:-25}
PROFILE_DIR=${PROFILE_DIR:-$TMP}
FREQ=2000 # samples a second of obsprobe's CPU time: one is 500 us
mkdir -p "$PROFILE_DIR" || die "cannot make $PROFILE_DIR"

bench_start_nginx
bench_start_sink
echo "bench: perf record -F $FREQ of obsprobe on nginx, wrk -t$THREADS -c$CONNS -d${DURATION}s, plain then with OTLP export"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up

# profile NAME ARGS...: a fresh obsprobe with ARGS, profiled over one wrk run and a second after
# it (the last batch leaves); its profile in PROFILE_DIR/NAME.perf, its per-function samples in
# $TMP/NAME.syms ("SAMPLES SYMBOL"); prints the requests wrk made
profile() {
	local name=$1 r pp
	shift
	OTEL_METRIC_EXPORT_INTERVAL=1000 start_obsprobe --pid "$NGINX_PID" --console off "$@" \
		>/dev/null 2>&1 || die "obsprobe did not start: $(cat "$OBS_ERR")"
	perf record -F "$FREQ" -g -p "$OBS_PID" -o "$PROFILE_DIR/$name.perf" -- \
		sleep $((DURATION + 1)) >"$TMP/perf-$name.log" 2>&1 &
	pp=$!
	r=$(bench_wrk) || die "wrk failed"
	wait "$pp" || die "perf record failed: $(tail -n 3 "$TMP/perf-$name.log")"
	stop_pid "$OBS_PID" INT
	perf_syms "$PROFILE_DIR/$name.perf" "$TMP/$name.syms" || die "perf report of $name gave no samples"
	echo "${r%% *}"
}

PLAIN=$(profile plain "$@") || exit 1
EXPORT=$(profile export --otlp-endpoint "$SINK_ENDPOINT" "$@") || exit 1
echo "requests: plain $PLAIN, export $EXPORT (every request is one span)"
perf_compare "ns per request of obsprobe" "$TMP/plain.syms" "$PLAIN" plain "$TMP/export.syms" \
	"$EXPORT" export $((1000000000 / FREQ)) "$TOP"
# the same by thread (each names itself: the event loop is "obsprobe", the exporter "otlp-export")
for name in plain export; do
	perf report -i "$PROFILE_DIR/$name.perf" --no-children --sort comm --stdio -g none -n 2>/dev/null |
		awk '$1 ~ /%$/ { print $2, $3 }' >"$TMP/$name.threads"
done
perf_compare "ns per request of obsprobe, by thread" "$TMP/plain.threads" "$PLAIN" plain \
	"$TMP/export.threads" "$EXPORT" export $((1000000000 / FREQ)) "$TOP"
[[ $PROFILE_DIR == "$TMP" ]] || echo "profiles: $PROFILE_DIR/plain.perf, $PROFILE_DIR/export.perf"
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What TLS capture costs (`bench/tls.sh`; prints, asserts nothing): nginx serving a static page
# over HTTPS with keep-alive (tests/fixtures/nginx/nginx-tls.conf.in: 2 workers, OpenSSL, a
# self-signed EC P-256 certificate) under `wrk -t2 -c32 -d5s https://...`. Interleaved rounds, the order of the
# configurations rotated each round:
#  a) no obsprobe;
#  b) the old floor: empty bpftrace programs where obsprobe's HTTPS hooks sat before it decoded
#     the code, uprobe and uretprobe at the start of SSL_read, SSL_write, SSL_read_ex,
#     SSL_write_ex and SSL_do_handshake in nginx's libssl (single-stepped `sub $N,%rsp`), and
#     the sys_exit tracepoints of the socket syscalls and mmap. The uprobes are on the library
#     file, so they also fire in every other process using that libssl, wrk included;
#  c) obsprobe --disable sched,memory,go (HTTP and TLS only), -v, waited for until it says
#     "TLS: probing": its probes where the decoded code puts them (bench/uprobe_sites.sh
#     measures the placements alone), the copying, the maps, the ring buffer, the parsing.
# Prints each round, the median and mean per configuration, b/a, c/b, and c/a against its
# target (>= 0.90), obsprobe's CPU time per 1,000 requests (utime+stime from
# /proc/PID/stat over the (c) runs, attach excluded), its events lost, and the HTTPS spans it
# counted (url_scheme="https") beside wrk's request count: printed, not compared (they differ
# by the requests in flight when wrk stops).
#
# Environment: see bench/lib.sh.
TEST_NAME=bench-tls
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk curl openssl bpftrace bpftool
HZ=$(getconf CLK_TCK)

bench_start_nginx https

# nginx's libssl, as its worker mapped it
WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
LIBSSL=$(awk '{ n = split($6, p, "/") } n && p[n] ~ /^libssl\.so/ { print $6; exit }' "/proc/$WORKER/maps")
[[ -n "$LIBSSL" ]] || die "nginx (worker $WORKER) maps no libssl.so*: is it built with OpenSSL?"
bpftrace -l "uprobe:$LIBSSL:SSL_read" 2>/dev/null | grep -q . ||
	die "no symbol SSL_read in $LIBSSL (bpftrace -l): cannot place the floor's uprobes"

for f in SSL_read SSL_write SSL_read_ex SSL_write_ex SSL_do_handshake; do
	bench_floor_add "$f" "uprobe:$LIBSSL:$f" "uretprobe:$LIBSSL:$f"
done
bench_floor_add_syscalls

# https_spans [FILE]: HTTPS requests obsprobe counted (server side), from FILE or a scrape
https_spans() { metric_sum http_server_request_duration_seconds 'url_scheme="https"' "${1:-}"; }

NAMES=(a b c)
declare -A LABEL=(
	[a]="a) no obsprobe"
	[b]="b) old floor (empty probes)"
	[c]="c) obsprobe"
)
declare -A RPS # space-separated req/s per configuration
obs_reqs=0
obs_ticks=0
obs_spans=0
obs_all=0
lost=0
tls_warned=0

# round I NAME: one wrk run under configuration NAME
round() {
	local i=$1 name=$2 r n t0 t1 port s all l extra=""
	case $name in
	b) bench_floor_start ;;
	c)
		port=$(free_port) || die "no free port"
		start_obsprobe -v --pid "$NGINX_PID" --console off --disable sched,memory,go \
			--prometheus "127.0.0.1:$port" >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		if ! wait_until 10 grep -q 'TLS: probing' "$OBS_ERR"; then
			# not fatal while obsprobe's TLS support is being written
			echo "bench: warning: obsprobe -v has not said 'TLS: probing' after 10 s; measuring anyway" >&2
			tls_warned=1
		fi
		t0=$(cpu_ticks "$OBS_PID")
		;;
	esac
	r=$(bench_wrk) || die "wrk failed"
	n=${r%% *}
	case $name in
	b) stop_pid "$BT_PID" INT ;;
	c)
		count_settles 0.5 30 2 "$n" https_spans || true
		t1=$(cpu_ticks "$OBS_PID")
		sleep 1.2 # one health tick: the lost counters are current
		scrape >"$TMP/metrics.txt" || die "scrape of $OBS_METRICS failed"
		s=$(https_spans "$TMP/metrics.txt")
		all=$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics.txt")
		l=$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")
		stop_pid "$OBS_PID" INT
		obs_reqs=$((obs_reqs + n))
		obs_ticks=$((obs_ticks + t1 - t0))
		obs_spans=$((obs_spans + s))
		obs_all=$((obs_all + all))
		lost=$((lost + l))
		extra=$(printf '  (%d requests, %d HTTPS spans, %d spans in all, %d lost, %.0f ms CPU)' \
			"$n" "$s" "$all" "$l" "$(awk -v t=$((t1 - t0)) -v hz="$HZ" 'BEGIN { print t * 1000 / hz }')")
		;;
	esac
	RPS[$name]+=" ${r#* }"
	printf '  round %d %-24s %10.0f req/s%s\n' "$i" "${LABEL[$name]}" "${r#* }" "$extra"
}

echo "bench: nginx 2 workers over HTTPS ($(basename "$LIBSSL"), keep-alive), static page" \
	"$(wc -c <"$TMP/nginx/www/index.html") B, wrk -t$THREADS -c$CONNS -d${DURATION}s," \
	"$ROUNDS interleaved rounds, $(nproc) CPUs"
echo "bench: floor: $FLOOR_N empty probes on $LIBSSL and the syscall exits${FLOOR_MISSING[*]:+ (absent here, left out: ${FLOOR_MISSING[*]})}"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up

for ((i = 1; i <= ROUNDS; i++)); do
	for ((k = 0; k < 3; k++)); do
		round "$i" "${NAMES[(i - 1 + k) % 3]}"
	done
done

declare -A MED AVG
# shellcheck disable=SC2086 # word splitting of the space-separated lists is the point
for name in "${NAMES[@]}"; do
	MED[$name]=$(median ${RPS[$name]})
	AVG[$name]=$(mean ${RPS[$name]})
done
awk -v ma="${MED[a]}" -v mb="${MED[b]}" -v mc="${MED[c]}" \
	-v aa="${AVG[a]}" -v ab="${AVG[b]}" -v ac="${AVG[c]}" \
	-v reqs="$obs_reqs" -v ticks="$obs_ticks" -v hz="$HZ" -v spans="$obs_spans" -v all="$obs_all" \
	-v lost="$lost" -v warned="$tls_warned" '
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
	cpu = reqs ? ticks * 1000 / hz / reqs * 1000 : 0
	print ""
	printf "%-40s %10s %10s\n", "req/s", "median", "mean"
	printf "%-40s %10.0f %10.0f\n", "a) no obsprobe", ma, aa
	printf "%-40s %10.0f %10.0f\n", "b) old floor: probes at the starts", mb, ab
	printf "%-40s %10.0f %10.0f\n", "c) obsprobe --disable sched,memory,go", mc, ac
	printf "%-40s %10.3f\n", "b/a (old floor / baseline)", mb / ma
	printf "%-40s %10.3f\n", "c/b (obsprobe / old floor)", mc / mb
	printf "%-40s %10.3f            target >= 0.90   %s (medians)\n", "c/a (obsprobe / baseline)", \
		mc / ma, verdict(mc / ma >= 0.90)
	printf "%-40s %10.3f ms\n", "obsprobe CPU per 1,000 requests", cpu
	printf "%-40s %10d\n", "obsprobe events lost", lost
	printf "(HTTPS spans counted by obsprobe: %d, %d spans in all, wrk counted %d requests; they differ by those in flight when wrk stops; CPU tick %.0f ms)\n", \
		spans, all, reqs, 1000 / hz
	if (warned)
		print "(obsprobe never said \"TLS: probing\" in at least one round: its TLS probes may not have been attached)"
}'
exit 0

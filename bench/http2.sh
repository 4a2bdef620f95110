#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What HTTP/2 capture costs (`bench/http2.sh`; prints, asserts nothing): nginx
# (tests/fixtures/nginx/nginx-h2.conf.in: 2 workers) serving its static page over h2c (prior
# knowledge) and h2 over TLS, under `h2load -D DURATION -c CONNS/4 -m 10 -t THREADS` (nghttp2's
# load generator: 10 streams in flight on each connection). Interleaved rounds, the order
# rotated each round:
#  a) no obsprobe;
#  c) obsprobe --pid nginx --disable sched,memory,go (HTTP, HTTP/2 and TLS only).
# Prints each round, the medians, c/a per transport, obsprobe's CPU time per 1,000 requests
# (utime+stime from /proc/PID/stat over the (c) runs), its RSS at the end of each run, its
# events lost, its HTTP/2 directions lost (obsprobe_parse_errors_total{protocol="http2"}), and
# the HTTP/2 spans it counted beside h2load's succeeded requests (printed, not compared: they
# differ by the streams in flight when h2load stops).
#
# Environment: see bench/lib.sh (CONNS is divided by 4: each connection carries 10 streams).
TEST_NAME=bench-http2
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx h2load curl openssl
HZ=$(getconf CLK_TCK)

if ! P1=$(free_port) || ! P2=$(free_port); then
	die "no free port"
fi
start_nginx "$TMP/nginx" "$P1" "$P2" https nginx-h2.conf.in >/dev/null || die "nginx did not start"
declare -A URLS=([h2c]="http://127.0.0.1:$P2/index.html" [h2]="https://127.0.0.1:$P1/index.html")
H2CONNS=$((CONNS / 4 > 0 ? CONNS / 4 : 1))

# h2 URL: one h2load run; prints "SUCCEEDED REQ_PER_SEC"
h2() {
	local out
	out=$(h2load -D "$DURATION" -c "$H2CONNS" -m 10 -t "$THREADS" "$1" 2>&1) || return 1
	awk '/^finished in/{ r = $4 } /^requests:/{ n = $8 } END { if (n == "" || r == "") exit 1; print n, r }' <<<"$out"
}

declare -A RPS # "TRANSPORT CONFIG" -> space-separated req/s
obs_reqs=0
obs_ticks=0
obs_spans=0
lost=0
h2lost=0
rss_max=0

# round I TRANSPORT CONFIG
round() {
	local i=$1 tr=$2 name=$3 r n t0 t1 port s l e rss extra=""
	if [[ $name == c ]]; then
		port=$(free_port) || die "no free port"
		start_obsprobe --pid "$NGINX_PID" --console off --disable sched,memory,go \
			--prometheus "127.0.0.1:$port" >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		t0=$(cpu_ticks "$OBS_PID")
	fi
	r=$(h2 "${URLS[$tr]}") || die "h2load failed on ${URLS[$tr]}"
	n=${r%% *}
	if [[ $name == c ]]; then
		t1=$(cpu_ticks "$OBS_PID")
		sleep 1.2 # one health tick: the counters are current
		scrape >"$TMP/metrics.txt" || die "scrape of $OBS_METRICS failed"
		s=$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics.txt")
		l=$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")
		e=$(counter_sum obsprobe_parse_errors_total 'protocol="http2"' "$TMP/metrics.txt")
		rss=$(awk '/^VmRSS:/{ print $2 }' "/proc/$OBS_PID/status")
		stop_pid "$OBS_PID" INT
		obs_reqs=$((obs_reqs + n))
		obs_ticks=$((obs_ticks + t1 - t0))
		obs_spans=$((obs_spans + s))
		lost=$((lost + l))
		h2lost=$((h2lost + e))
		((rss > rss_max)) && rss_max=$rss
		extra=$(printf '  (%d requests, %d spans, %d lost, %d h2 directions lost, %.0f ms CPU, RSS %d KiB)' \
			"$n" "$s" "$l" "$e" "$(awk -v t=$((t1 - t0)) -v hz="$HZ" 'BEGIN { print t * 1000 / hz }')" "$rss")
	fi
	RPS["$tr $name"]+=" ${r#* }"
	printf '  round %d %-4s %-14s %10.0f req/s%s\n' "$i" "$tr" "$name) $([[ $name == a ]] && echo none || echo obsprobe)" "${r#* }" "$extra"
}

echo "bench: nginx 2 workers over HTTP/2 (h2c and h2 over TLS), static page" \
	"$(wc -c <"$TMP/nginx/www/index.html") B, h2load -D$DURATION -c$H2CONNS -m10 -t$THREADS," \
	"$ROUNDS interleaved rounds, $(nproc) CPUs"
h2load -D 1 -c 2 -m 10 "${URLS[h2c]}" >/dev/null 2>&1 # warm-up

for ((i = 1; i <= ROUNDS; i++)); do
	for tr in h2c h2; do
		if ((i % 2)); then
			round "$i" "$tr" a
			round "$i" "$tr" c
		else
			round "$i" "$tr" c
			round "$i" "$tr" a
		fi
	done
done

echo
printf '%-36s %10s %10s %8s\n' "req/s (medians)" "a) none" "c) obsprobe" "c/a"
for tr in h2c h2; do
	# shellcheck disable=SC2086 # word splitting of the space-separated lists is the point
	ma=$(median ${RPS["$tr a"]})
	# shellcheck disable=SC2086
	mc=$(median ${RPS["$tr c"]})
	printf '%-36s %10.0f %10.0f %8.3f\n' "$tr" "$ma" "$mc" "$(awk -v a="$ma" -v c="$mc" 'BEGIN { print a ? c / a : 0 }')"
done
awk -v reqs="$obs_reqs" -v ticks="$obs_ticks" -v hz="$HZ" -v spans="$obs_spans" -v lost="$lost" \
	-v h2lost="$h2lost" -v rss="$rss_max" 'BEGIN {
	printf "%-36s %10.3f ms\n", "obsprobe CPU per 1,000 requests", reqs ? ticks * 1000 / hz / reqs * 1000 : 0
	printf "%-36s %10d KiB\n", "obsprobe RSS (highest, end of a run)", rss
	printf "%-36s %10d\n", "obsprobe events lost", lost
	printf "%-36s %10d\n", "HTTP/2 directions lost", h2lost
	printf "(HTTP/2 spans counted by obsprobe: %d; h2load counted %d succeeded requests)\n", spans, reqs
}'
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What reading Go's own TLS costs (`bench/go_tls.sh`; prints, asserts nothing). The Go HTTPS
# server of tests/fixtures/gotls (h2 offered by ALPN) under h2load over h2
# (`-c CONNS/4 -m 10`) and over HTTP/1.1 (`--h1 -c CONNS`), GET /items/1; and the same
# program's client making NCLIENT sequential calls over one h2 connection (timed: the added
# time per call is the probes' cost on the calling path). Interleaved rounds, the order rotated:
#  a) no probes;
#  b) the floor: tracefs uprobes, no program, on the three sites obsprobe would use (its
#     --probe-sites: crypto/tls.(*Conn).Write's and Read's jbe, Read's call of runtime.memmove)
#     in the measured side's executable (the client runs a copy of the server's, so that each
#     side's traps are its own);
#  c) obsprobe --pid SERVER (or CLIENT) --disable sched,memory.
# Prints each run, the medians, b/a and c/a, obsprobe's CPU per 1,000 requests, its RSS, events
# lost and the spans it counted beside h2load's requests.
#
# Environment: see bench/lib.sh; NCLIENT (2000).
TEST_NAME=bench-go-tls
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require h2load openssl go
HZ=$(getconf CLK_TCK)
NCLIENT=${NCLIENT:-2000}
TRACING=/sys/kernel/tracing
[[ -w $TRACING/uprobe_events ]] || mount -t tracefs nodev "$TRACING" 2>/dev/null
[[ -w $TRACING/uprobe_events ]] || die "no tracefs at $TRACING"
GROUP=obsgotls$$
# tests/lib.sh's EXIT trap stops the server; the probes go first
trap 'clear_probes; _cleanup' EXIT

BIN=$TMP/gotls
build_go gotls "$BIN" >/dev/null || die "go build of tests/fixtures/gotls failed: $(head -n 5 "$TMP/gobuild.log")"
# the client runs a copy: a uprobe is on a file, and the server's traps are not the client's
CBIN=$TMP/gotls-client
cp "$BIN" "$CBIN"
make_cert "$TMP" || die "openssl req failed"

# the sites, as obsprobe places them
mapfile -t SITES < <("$OBSPROBE" --probe-sites "$BIN" 2>/dev/null |
	sed -n 's/^uprobe for crypto\/tls\.(\*Conn)\.\(Write\|Read\|Read'"'"'s copy\) in [^:]*: at \(0x[0-9a-f]*\) .*/\2/p')
((${#SITES[@]} == 3)) || die "obsprobe --probe-sites gave ${#SITES[@]} Go TLS sites of 3"

start_bg server "$BIN" -mode server -listen 127.0.0.1:0 -cert "$TMP/cert.pem" -key "$TMP/key.pem" \
	-ready-file "$TMP/server.ready" -h2=true
SERVER=$BG_PID
wait_until 10 test -s "$TMP/server.ready" || die "the Go server did not start"
URL=https://$(cat "$TMP/server.ready")
H2CONNS=$((CONNS / 4 > 0 ? CONNS / 4 : 1))

# floor_on FILE: the three sites of FILE, trapped with no program
floor_on() {
	local i=0 s
	for s in "${SITES[@]}"; do
		echo "p:$GROUP/p$i $1:$s" >>"$TRACING/uprobe_events" || die "tracefs refused $1:$s"
		i=$((i + 1))
	done
	echo 1 >"$TRACING/events/$GROUP/enable"
}

# load WORKLOAD: one run; sets R to "REQUESTS REQ_PER_SEC" (no subshell: obsprobe, started for
# the client once it waits, must stay this shell's)
load() {
	local out t0 t1 cpid
	local -a opts=(-c "$H2CONNS" -m 10)
	case $1 in
	h2 | h1)
		[[ $1 == h1 ]] && opts=(--h1 -c "$CONNS")
		out=$(h2load -D "$DURATION" -t "$THREADS" "${opts[@]}" "$URL/items/1" 2>&1) || return 1
		R=$(awk '/^finished in/{ r = $4 } /^requests:/{ n = $8 } END { if (n == "" || r == "") exit 1; print n, r }' <<<"$out") || return 1
		;;
	client)
		rm -f "$TMP/go"
		"$CBIN" -mode client -url "$URL" -n "$NCLIENT" -h2=true -ca "$TMP/cert.pem" \
			-wait-file "$TMP/go" >/dev/null 2>"$TMP/client.err" &
		cpid=$!
		[[ -n ${CLIENT_HOOK:-} ]] && $CLIENT_HOOK "$cpid"
		t0=$(date +%s%N)
		touch "$TMP/go"
		wait "$cpid" || return 1
		t1=$(date +%s%N)
		R=$(awk -v n=$((NCLIENT + 4)) -v ns=$((t1 - t0)) 'BEGIN { print n, n / (ns / 1e9) }')
		;;
	esac
}

declare -A RPS
obs_reqs=0
obs_ticks=0
obs_spans=0
lost=0
rss_max=0

obs_on() {
	local port
	port=$(free_port) || die "no free port"
	start_obsprobe --pid "$1" --console off --disable sched,memory --prometheus "127.0.0.1:$port" \
		>/dev/null 2>&1 || die "obsprobe did not start: $(cat "$OBS_ERR")"
	OBS_T0=$(cpu_ticks "$OBS_PID")
}

# round I WORKLOAD CONFIG
round() {
	local i=$1 w=$2 name=$3 r n t1 s l rss extra="" kind=server
	[[ $w == client ]] && kind=client
	CLIENT_HOOK=
	case $name in
	b) floor_on "$([[ $w == client ]] && echo "$CBIN" || echo "$BIN")" ;;
	c) if [[ $w == client ]]; then CLIENT_HOOK=obs_on; else obs_on "$SERVER"; fi ;;
	esac
	load "$w" || die "the $w load failed: $(head -c 300 "$TMP/client.err" 2>/dev/null)"
	r=$R
	n=${r%% *}
	[[ $name == b ]] && clear_probes
	if [[ $name == c ]]; then
		t1=$(cpu_ticks "$OBS_PID")
		sleep 1.2 # one health tick: the counters are current
		scrape >"$TMP/metrics.txt" || die "scrape of $OBS_METRICS failed"
		s=$(metric_sum "http_${kind}_request_duration_seconds" "" "$TMP/metrics.txt")
		l=$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")
		rss=$(awk '/^VmRSS:/{ print $2 }' "/proc/$OBS_PID/status")
		stop_pid "$OBS_PID" INT
		obs_reqs=$((obs_reqs + n))
		obs_ticks=$((obs_ticks + t1 - OBS_T0))
		obs_spans=$((obs_spans + s))
		lost=$((lost + l))
		((rss > rss_max)) && rss_max=$rss
		extra=$(printf '  (%d requests, %d spans, %d lost, %.0f ms CPU, RSS %d KiB)' "$n" "$s" "$l" \
			"$(awk -v t=$((t1 - OBS_T0)) -v hz="$HZ" 'BEGIN { print t * 1000 / hz }')" "$rss")
	fi
	RPS["$w $name"]+=" ${r#* }"
	printf '  round %d %-6s %-12s %10.0f req/s%s\n' "$i" "$w" "$name) $(case $name in a) echo none ;; b) echo floor ;; c) echo obsprobe ;; esac)" "${r#* }" "$extra"
}

echo "bench: Go HTTPS server (crypto/tls, $(go version | awk '{ print $3 }')) under h2load" \
	"-D$DURATION (h2: -c$H2CONNS -m10; h1: --h1 -c$CONNS) -t$THREADS, and its client: $NCLIENT" \
	"sequential h2 calls; $ROUNDS interleaved rounds, $(nproc) CPUs; sites ${SITES[*]}"
h2load -D 1 -c 2 -m 10 "$URL/items/1" >/dev/null 2>&1 # warm-up
for ((i = 1; i <= ROUNDS; i++)); do
	for w in h2 h1 client; do
		case $((i % 3)) in
		1) order="a b c" ;;
		2) order="c a b" ;;
		0) order="b c a" ;;
		esac
		for name in $order; do
			round "$i" "$w" "$name"
		done
	done
done

echo
printf '%-40s %10s %10s %10s %8s %8s\n' "req/s (medians)" "a) none" "b) floor" "c) obsprobe" "b/a" "c/a"
for w in h2 h1 client; do
	# shellcheck disable=SC2086 # word splitting of the space-separated lists is the point
	ma=$(median ${RPS["$w a"]})
	# shellcheck disable=SC2086
	mb=$(median ${RPS["$w b"]})
	# shellcheck disable=SC2086
	mc=$(median ${RPS["$w c"]})
	printf '%-40s %10.0f %10.0f %10.0f %8.3f %8.3f\n' "$w" "$ma" "$mb" "$mc" \
		"$(awk -v a="$ma" -v b="$mb" 'BEGIN { print a ? b / a : 0 }')" \
		"$(awk -v a="$ma" -v c="$mc" 'BEGIN { print a ? c / a : 0 }')"
	if [[ $w == client ]]; then
		awk -v a="$ma" -v b="$mb" -v c="$mc" 'BEGIN {
			printf "%-40s %10.1f us (floor: %.1f us)\n", "client: time added per call",
				(a && c) ? (1 / c - 1 / a) * 1e6 : 0, (a && b) ? (1 / b - 1 / a) * 1e6 : 0 }'
	fi
done
awk -v reqs="$obs_reqs" -v ticks="$obs_ticks" -v hz="$HZ" -v spans="$obs_spans" -v lost="$lost" \
	-v rss="$rss_max" 'BEGIN {
	printf "%-40s %10.3f ms\n", "obsprobe CPU per 1,000 requests", reqs ? ticks * 1000 / hz / reqs * 1000 : 0
	printf "%-40s %10d KiB\n", "obsprobe RSS (highest, end of a run)", rss
	printf "%-40s %10d\n", "obsprobe events lost", lost
	printf "(spans counted by obsprobe: %d; the loads counted %d requests)\n", spans, reqs
}'
exit 0

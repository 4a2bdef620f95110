#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# How to count goroutines (issue 6), chosen by measurement (`make bench`; prints, asserts
# nothing). The Go net/http fixture (tests/fixtures/goserver, GET /: a one-line body) under
# `wrk -t2 -c32` twice per configuration: with keep-alive, and with `Connection: close`, where
# net/http starts a goroutine per connection on top of the one per request (the worst case for
# a per-goroutine hook). Interleaved rounds, the order of the configurations rotated each round:
#  a) no obsprobe;
#  b) obsprobe --disable go (HTTP, sched and memory on): the gauge off;
#  c) obsprobe with everything on: the gauge read from the runtime's counters in process memory
#     once per collection (checked: go_goroutine_count is exported for the server, scraped
#     mid-run);
#  d) (b) plus empty bpftrace uprobes on the binary's runtime.newproc1 and runtime.goexit1: the
#     floor cost of the rejected mechanism (a real one would also update a map per hit).
# Prints each round, the means, c/a (keep-alive: target >= 0.97, a figure of `make bench`'s
# closing table, through bench_figure in bench/lib.sh), c/b against its target (>= 0.95) and d/b,
# then the goroutines started and ended per request (a separate short run with counting uprobes,
# untimed).
#
# Environment: see bench/lib.sh.
TEST_NAME=bench-go
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require go wrk curl bpftrace bpftool

PORT=$(free_port) || die "no free port"
start_goserver goserver "$PORT" >/dev/null || die "the Go server did not start (see above)"
BIN=$GOSERVER
URL=http://127.0.0.1:$PORT/
curl -sf -o /dev/null "$URL" || die "$URL does not answer"
for f in runtime.newproc1 runtime.goexit1; do
	bpftrace -l "uprobe:$BIN:$f" 2>/dev/null | grep -q . || die "no symbol $f in $BIN"
done

# run_wrk ka|close: one wrk run; prints "REQUESTS REQ_PER_SEC SOCKET_ERRORS"
run_wrk() {
	local out hdr=()
	[[ $1 == close ]] && hdr=(-H 'Connection: close')
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "${hdr[@]}" "$URL" 2>&1) || return 1
	awk '/ requests in /{ n = $1 } /^Requests\/sec:/{ r = $2 }
		/Socket errors:/{ gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
		END { if (n == "" || r == "") exit 1; print n, r, e + 0 }' <<<"$out"
}

# start_uprobes BODY: bpftrace on runtime.newproc1 and runtime.goexit1 of the server's binary
# with BODY as both probes' action; waits until both uprobes are attached. BT_PID, BT_OUT.
start_uprobes() {
	local body=$1
	BT_OUT=$TMP/bpftrace$RANDOM.out
	bpftrace -e "BEGIN { printf(\"ready\\n\"); }
		uprobe:$BIN:runtime.newproc1 { ${body//@X/@newproc1} }
		uprobe:$BIN:runtime.goexit1 { ${body//@X/@goexit1} }" >"$BT_OUT" 2>"$BT_OUT.err" &
	BT_PID=$!
	track_pid "$BT_PID"
	wait_until 20 grep -q '^ready' "$BT_OUT" || die "bpftrace did not start: $(cat "$BT_OUT.err")"
	(($(bpftool perf list 2>/dev/null | grep -c "^pid $BT_PID .* uprobe .*filename $BIN ") == 2)) ||
		die "bpftrace has not attached 2 uprobes on $BIN: $(bpftool perf list 2>&1 | grep "pid $BT_PID ")"
}

# check_gauge FILE: go_goroutine_count is in FILE for the server; prints its value
check_gauge() {
	(($(grep -c "^go_goroutine_count{.*process_pid=\"$GO_PID\"" "$1") == 1)) ||
		die "obsprobe exports no go_goroutine_count for the Go server (pid $GO_PID): $(grep -i goroutine "$1" | head -n 3) $(cat "$OBS_ERR")"
	counter_sum go_goroutine_count "process_pid=\"$GO_PID\"" "$1"
}

NAMES=(a b c d)
declare -A LABEL=(
	[a]="a) no obsprobe"
	[b]="b) obsprobe --disable go"
	[c]="c) obsprobe, gauge on"
	[d]="d) (b) + empty uprobes"
)
declare -A KA CLOSE # space-separated req/s per configuration
socket_errors=0
gauge_seen=""

# round I NAME: one configuration, both wrk runs under one attach
round() {
	local i=$1 name=$2 r1 r2 extra="" mid scraper
	case $name in
	b) start_obsprobe --pid "$GO_PID" --console off --disable go >/dev/null 2>&1 ||
		die "obsprobe did not start: $(cat "$OBS_ERR")" ;;
	c) start_obsprobe --pid "$GO_PID" --console off >/dev/null 2>&1 ||
		die "obsprobe did not start: $(cat "$OBS_ERR")" ;;
	d)
		start_obsprobe --pid "$GO_PID" --console off --disable go >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		start_uprobes ""
		;;
	esac
	if [[ $name == c ]]; then
		# one scrape half-way through the keep-alive run: the gauge must be there, under load
		mid=$TMP/mid$i.txt
		(sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')" && scrape "$OBS_METRICS" >"$mid") &
		scraper=$!
	fi
	r1=$(run_wrk ka) || die "wrk failed"
	r2=$(run_wrk close) || die "wrk failed (Connection: close)"
	if [[ $name == c ]]; then
		wait "$scraper" || die "scrape of $OBS_METRICS failed"
		mid=$(check_gauge "$mid") || exit 1
		extra="  (go_goroutine_count $mid mid-run)"
		gauge_seen+=" $mid"
	fi
	[[ $name == d ]] && stop_pid "$BT_PID" INT
	[[ $name != a ]] && stop_pid "$OBS_PID" INT
	read -r _ rk ek <<<"$r1"
	read -r _ rc ec <<<"$r2"
	KA[$name]+=" $rk"
	CLOSE[$name]+=" $rc"
	socket_errors=$((socket_errors + ek + ec))
	printf '  round %d %-26s keep-alive %8.0f req/s   close %8.0f req/s%s\n' \
		"$i" "${LABEL[$name]}" "$rk" "$rc" "$extra"
}

echo "bench: Go net/http server (tests/fixtures/goserver, GET /), wrk -t$THREADS -c$CONNS" \
	"-d${DURATION}s with keep-alive and with 'Connection: close', $ROUNDS interleaved rounds," \
	"$(nproc) CPUs, $(go version | awk '{ print $3 }')"
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1 # warm-up
wrk -t"$THREADS" -c"$CONNS" -d1s -H 'Connection: close' "$URL" >/dev/null 2>&1

for ((i = 1; i <= ROUNDS; i++)); do
	for ((k = 0; k < 4; k++)); do
		round "$i" "${NAMES[(i - 1 + k) % 4]}"
	done
done

# Goroutines per request: counting uprobes (a map update per hit, so not the timed runs above)
# during one short run of each kind, no obsprobe.
per_request() { # ka|close: prints "NEWPROC1_PER_REQ GOEXIT1_PER_REQ"
	local r n
	start_uprobes "@X = count();"
	r=$(DURATION=2 run_wrk "$1") || die "wrk failed"
	stop_pid "$BT_PID" INT
	n=${r%% *}
	awk -v n="$n" '/^@newproc1:/{ s = $2 } /^@goexit1:/{ e = $2 }
		END { printf "%.2f %.2f", s / n, e / n }' "$BT_OUT"
}
read -r gk_new gk_exit <<<"$(per_request ka)"
read -r gc_new gc_exit <<<"$(per_request close)"

declare -A MK MC
# shellcheck disable=SC2086 # word splitting of the space-separated lists is the point
for name in "${NAMES[@]}"; do
	MK[$name]=$(mean ${KA[$name]})
	MC[$name]=$(mean ${CLOSE[$name]})
done
# obsprobe with everything on against none, keep-alive: rounded as printed, here and in the
# closing table alike
CA=$(awk -v a="${MK[a]}" -v c="${MK[c]}" 'BEGIN { printf "%.3f", c / a }')
bench_figure "Go net/http server with obsprobe / none (keep-alive)" "$CA" "" ">=" 0.97
awk -v ka="${MK[a]}" -v kb="${MK[b]}" -v kc="${MK[c]}" -v kd="${MK[d]}" \
	-v ca="${MC[a]}" -v cb="${MC[b]}" -v cc="${MC[c]}" -v cd="${MC[d]}" -v cak="$CA" \
	-v gkn="$gk_new" -v gke="$gk_exit" -v gcn="$gc_new" -v gce="$gc_exit" \
	-v errs="$socket_errors" -v gauge="$gauge_seen" '
function verdict(ok) { return ok ? "met" : "MISSED" }
function conclude(what, rc, rd) {
	if (rc - rd >= 0.02)
		printf "%-11s reading the runtime'\''s counters is cheaper: c/b %.3f against d/b %.3f (the uprobes cost %.1f %% of throughput, the memory reads %.1f %%)\n", \
			what ":", rc, rd, (1 - rd) * 100, (1 - rc) * 100
	else if (rd - rc >= 0.02)
		printf "%-11s the uprobes are cheaper: d/b %.3f against c/b %.3f\n", what ":", rd, rc
	else
		printf "%-11s no measurable difference: c/b %.3f, d/b %.3f (within 2 %%)\n", what ":", rc, rd
}
BEGIN {
	print ""
	printf "%-40s %12s %12s\n", "mean req/s", "keep-alive", "close"
	printf "%-40s %12.0f %12.0f\n", "a) no obsprobe", ka, ca
	printf "%-40s %12.0f %12.0f\n", "b) obsprobe --disable go (gauge off)", kb, cb
	printf "%-40s %12.0f %12.0f\n", "c) obsprobe, gauge on (memory reads)", kc, cc
	printf "%-40s %12.0f %12.0f\n", "d) (b) + empty newproc1/goexit1 uprobes", kd, cd
	printf "%-40s %12.3f %12.3f\n", "b/a (obsprobe without the gauge)", kb / ka, cb / ca
	printf "%-40s %12.3f %12.3f   target >= 0.97: keep-alive %s\n", "c/a (obsprobe, everything on)", \
		cak, cc / ca, verdict(cak >= 0.97)
	printf "%-40s %12.3f %12.3f   target >= 0.95: keep-alive %s, close %s\n", "c/b (gauge on, memory reads)", \
		kc / kb, cc / cb, verdict(kc / kb >= 0.95), verdict(cc / cb >= 0.95)
	printf "%-40s %12.3f %12.3f\n", "d/b (uprobes, floor)", kd / kb, cd / cb
	printf "%-40s %12s %12s\n", "goroutines started per request", gkn, gcn
	printf "%-40s %12s %12s\n", "goroutines ended per request", gke, gce
	printf "(go_goroutine_count mid-run in (c):%s; wrk socket errors: %d)\n", gauge, errs
	conclude("keep-alive", kc / kb, kd / kb)
	conclude("close", cc / cb, cd / cb)
}'
exit 0

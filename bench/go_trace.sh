#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What following goroutines costs a Go service (`make bench`; prints, asserts nothing). Two
# workloads, each against the Go program directly:
#  gin:      tests/fixtures/ginapp as trace_go.sh runs it (GET /req/1: two pgx queries to a
#            PostgreSQL of its own, one on a goroutine the handler starts, then an HTTP call to
#            the leaf, ginapp -mode leaf, run from a copy of the binary so that its uprobes are
#            its own) under `wrk -t2 -c8` (GIN_CONNS);
#  net/http: tests/fixtures/goserver (GET /, no database) under `wrk -t2 -c32` (CONNS), where a
#            per-request goroutine costs most beside the work.
# Interleaved rounds, the order of the 8 runs rotated each round, in each workload:
#  a) no obsprobe;
#  b) obsprobe --disable goroutines: linking off (no Go uprobes, the goroutine not read);
#  c) obsprobe with everything on: linking on;
#  d) (b) plus uprobes that run no program at the sites obsprobe uses for Go (tracefs uprobe
#     events with a filter that never matches): what the traps alone cost.
# b, c and d run a fresh obsprobe per run, --console off, /metrics on, watching the services
# (the app and the leaf; the server). Prints each round, the means, b/a, c/a, c/b (what linking
# costs; target >= 0.97) and d/b; the services' own CPU time per request (utime+stime from
# /proc/PID/stat over the wrk run; steadier than throughput on a shared machine) and what
# linking and the traps add to it per uprobe hit; events lost, obsprobe's CPU time per 1,000
# requests (attach excluded) and its peak RSS (VmHWM).
# Then, from a separate short untimed run of obsprobe -v (console json) with the uprobes of (d)
# counting (their hits from tracefs's uprobe_profile): the Go uprobe sites obsprobe chose (each
# must be emulated), the hits per request at each, per program, how many of the app's client
# spans got a parent, and (bpftrace, when installed) who starts the goroutines.
#
# Environment: see bench/lib.sh; GIN_CONNS (8).
TEST_NAME=bench-go-trace
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require go wrk curl
[[ -x $PG_BIN/postgres ]] || die "PostgreSQL 15 is not installed in $PG_BIN (scripts/install-deps.sh)"
GIN_CONNS=${GIN_CONNS:-8}
HZ=$(getconf CLK_TCK)
TRACING=/sys/kernel/tracing
[[ -w $TRACING/uprobe_events ]] || mount -t tracefs nodev "$TRACING" 2>/dev/null
[[ -w $TRACING/uprobe_events ]] || die "no tracefs at $TRACING"
GROUP=obsgotrace$$

# The services. The leaf runs a copy of the app's binary: a uprobe sits on a file, so its hits
# are told apart from the app's.
build_go ginapp "$TMP/ginapp" >/dev/null || die "go build of tests/fixtures/ginapp failed: $(head -n 5 "$TMP/gobuild.log")"
cp "$TMP/ginapp" "$TMP/ginleaf"
start_postgres "$TMP/pg" >/dev/null || die "PostgreSQL did not start: $(tail -n 5 "$TMP/pg/postgres.log")"
start_bg leaf "$TMP/ginleaf" -mode leaf -listen 127.0.0.1:0 -ready-file "$TMP/leaf.ready"
LEAF_PID=$BG_PID
await_ready "$TMP/leaf.ready" "the leaf service" leaf >/dev/null || die "the leaf did not start: $(head -n 5 "$TMP/leaf.err")"
DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=obsprobe sslmode=disable"
start_bg app "$TMP/ginapp" -mode app -listen 127.0.0.1:0 -ready-file "$TMP/app.ready" \
	-dsn "$DSN" -max-conns 8 -leaf "http://$(cat "$TMP/leaf.ready")"
APP_PID=$BG_PID
await_ready "$TMP/app.ready" "the gin app" app >/dev/null || die "the gin app did not start: $(head -n 5 "$TMP/app.err")"
GIN_URL=http://$(cat "$TMP/app.ready")/req/1
SRV_PORT=$(free_port) || die "no free port"
start_goserver goserver "$SRV_PORT" >/dev/null || die "the Go server did not start: $(head -n 5 "$TMP/gobuild.log" "$TMP/goserver.err" 2>/dev/null)"
SRV_URL=http://127.0.0.1:$SRV_PORT/
[[ $(curl -sf "$GIN_URL") == "ok 1" ]] || die "$GIN_URL does not answer 'ok 1': $(curl -s "$GIN_URL")"
curl -sf -o /dev/null "$SRV_URL" || die "$SRV_URL does not answer"

# run_wrk gin|srv [SECONDS]: one wrk run on that workload; prints "REQUESTS REQ_PER_SEC ERRORS"
# (socket errors and answers other than 2xx/3xx)
run_wrk() {
	local out url=$GIN_URL conns=$GIN_CONNS
	[[ $1 == srv ]] && url=$SRV_URL conns=$CONNS
	out=$(wrk -t"$THREADS" -c"$conns" -d"${2:-$DURATION}s" "$url" 2>&1) || return 1
	awk '/ requests in /{ n = $1 } /^Requests\/sec:/{ r = $2 }
		/Socket errors:/{ gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/{ e += $NF }
		END { if (n == "" || r == "") exit 1; print n, r, e + 0 }' <<<"$out"
}

# svc_ticks PID...: their CPU ticks (utime + stime) together
svc_ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(cpu_ticks "$p")))
	done
	echo "$t"
}

# per_req_us TICKS N: TICKS of CPU time over N requests, in microseconds a request
per_req_us() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }'; }

# server_spans SERVICE [FILE]: the server requests obsprobe counted for SERVICE
server_spans() { metric_sum http_server_request_duration_seconds "service_name=\"$1\"" "${2:-}"; }

# Uprobes that run no program at the sites obsprobe uses, in each program's file (tracefs
# uprobe events with a filter that never matches: the trap, nothing recorded, the hits counted
# in uprobe_profile), for (d) and for the count of hits per request.
HOOKS=('the go statement' 'net/http.(*persistConn).roundTrip')
HOOK_TAGS=(spawn call)
declare -A FILE=([app]=$TMP/ginapp [leaf]=$TMP/ginleaf [srv]=$GOSERVER)

on_exit clear_probes

# site_of FILE HOOK: the offsets (hex) at which obsprobe --probe-sites puts HOOK in FILE, one a
# line (the `go` statements: one for each)
site_of() {
	awk -v h="uprobe for $2 in " 'index($0, h) == 1 && / at 0x/ {
		sub(/.* at /, ""); print $1 }' "$1.sites"
}

for p in app leaf srv; do
	"$OBSPROBE" --probe-sites "${FILE[$p]}" >"${FILE[$p]}.sites" 2>&1 ||
		die "obsprobe --probe-sites ${FILE[$p]} failed: $(cat "${FILE[$p]}.sites")"
	for ((h = 0; h < ${#HOOKS[@]}; h++)); do
		mapfile -t offs < <(site_of "${FILE[$p]}" "${HOOKS[h]}")
		if ((${#offs[@]} == 0)); then
			# goserver makes no HTTP calls: net/http's client is not linked in; nor
			# has it a `go` statement outside the ones not followed
			grep -qE "^(uprobe for ${HOOKS[h]//[()*]/.} in ${FILE[$p]}: none \(not in the binary\)|uprobes for .go. statements in ${FILE[$p]}: 0,)" \
				"${FILE[$p]}.sites" ||
				die "obsprobe places no uprobe for ${HOOKS[h]} in ${FILE[$p]}: $(cat "${FILE[$p]}.sites")"
			continue
		fi
		for ((k = 0; k < ${#offs[@]}; k++)); do
			ev=${p}_${HOOK_TAGS[h]}$k
			echo "p:$GROUP/$ev ${FILE[$p]}:${offs[k]}" >>"$TRACING/uprobe_events" ||
				die "tracefs refused a uprobe at ${FILE[$p]}:${offs[k]}"
			echo 'common_pid == 0' >"$TRACING/events/$GROUP/$ev/filter"
		done
	done
done
# traps 1|0: the uprobes above placed or not
traps() { echo "$1" >"$TRACING/events/$GROUP/enable"; }

# hits P TAG: the hits so far of the counting uprobes TAG (TAG0, TAG1, ...) in program P's file
hits() {
	awk -v f="${FILE[$1]}" -v e="$1_$2" '$1 == f && index($2, e) == 1 &&
		substr($2, length(e) + 1) ~ /^[0-9]+$/ { n += $3; found = 1 }
		END { if (!found) print "-"; else print n }' "$TRACING/uprobe_profile"
}
# progs_of gin|srv: the programs of that workload, by the tag of their file
progs_of() { if [[ $1 == gin ]]; then echo app leaf; else echo srv; fi; }

NAMES=(gin-a gin-b gin-c gin-d srv-a srv-b srv-c srv-d)
declare -A LABEL=(
	[a]="a) no obsprobe"
	[b]="b) linking off"
	[c]="c) linking on"
	[d]="d) b + traps alone"
)
declare -A RPS    # NAME: space-separated req/s of the rounds
declare -A REQS   # NAME: requests, summed
declare -A TICKS  # NAME: obsprobe's CPU ticks over the wrk runs, summed
declare -A LOST   # NAME: events lost, summed
declare -A SPANS  # NAME: server requests obsprobe counted, summed
declare -A ERRS   # NAME: wrk errors, summed
declare -A PEAK   # NAME: the largest VmHWM, KiB
declare -A SVC    # NAME: the service's CPU ticks over the wrk runs, summed

# round I NAME: one wrk run of NAME (WORKLOAD-CONFIG)
round() {
	local i=$1 name=$2 w=${2%-*} c=${2#*-} r n rps e t0 t1 s0 s1 l count hwm svc extra="" flags=()
	local pids=(--pid "$APP_PID" --pid "$LEAF_PID") svc_pids=("$APP_PID" "$LEAF_PID")
	svc=ginapp
	[[ $w == srv ]] && pids=(--pid "$GO_PID") svc_pids=("$GO_PID") svc=goserver
	[[ $c == b || $c == d ]] && flags=(--disable goroutines)
	if [[ $c != a ]]; then
		start_obsprobe "${pids[@]}" --console off "${flags[@]}" >/dev/null 2>&1 ||
			die "obsprobe did not start: $(cat "$OBS_ERR")"
		t0=$(cpu_ticks "$OBS_PID")
	fi
	[[ $c == d ]] && traps 1
	s0=$(svc_ticks "${svc_pids[@]}")
	r=$(run_wrk "$w") || die "wrk failed on $w"
	s1=$(svc_ticks "${svc_pids[@]}")
	[[ $c == d ]] && traps 0
	read -r n rps e <<<"$r"
	if [[ $c != a ]]; then
		# every request processed, then one health tick so the lost counters are current
		wait_until 15 eval "(( \$(server_spans $svc) >= $n ))" ||
			echo "  (obsprobe had not counted all $n requests of $svc after 15 s)"
		t1=$(cpu_ticks "$OBS_PID")
		sleep 1.2
		scrape "$OBS_METRICS" >"$TMP/metrics.txt" || die "scrape of $OBS_METRICS failed"
		count=$(server_spans "$svc" "$TMP/metrics.txt")
		l=$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")
		hwm=$(hwm_kib "$OBS_PID")
		stop_pid "$OBS_PID" INT
		TICKS[$name]=$((${TICKS[$name]:-0} + t1 - t0))
		LOST[$name]=$((${LOST[$name]:-0} + l))
		SPANS[$name]=$((${SPANS[$name]:-0} + count))
		((hwm > ${PEAK[$name]:-0})) && PEAK[$name]=$hwm
		extra=$(printf '  (%d counted, %d lost, %.0f ms CPU, VmHWM %d KiB)' "$count" "$l" \
			"$(awk -v t=$((t1 - t0)) -v hz="$HZ" 'BEGIN { print t * 1000 / hz }')" "$hwm")
	fi
	RPS[$name]+=" $rps"
	REQS[$name]=$((${REQS[$name]:-0} + n))
	ERRS[$name]=$((${ERRS[$name]:-0} + e))
	SVC[$name]=$((${SVC[$name]:-0} + s1 - s0))
	((e > 0)) && extra=", $e wrk errors$extra"
	printf '  round %d %-8s %-19s %8.0f req/s  %7d requests  %5.1f us CPU/request%s\n' "$i" \
		"$w" "${LABEL[$c]}" "$rps" "$n" "$(per_req_us $((s1 - s0)) "$n")" "$extra"
}

echo "bench: goroutine linking on Go services, $ROUNDS interleaved rounds of ${DURATION} s," \
	"$(nproc) CPUs, $(go version | awk '{ print $3 }'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: gin: $GIN_URL (app $APP_PID -> PostgreSQL, leaf $LEAF_PID), wrk -t$THREADS -c$GIN_CONNS;" \
	"net/http: $SRV_URL (goserver $GO_PID), wrk -t$THREADS -c$CONNS"
run_wrk gin 1 >/dev/null || die "wrk failed on gin" # warm-up
run_wrk srv 1 >/dev/null || die "wrk failed on net/http"

for ((i = 1; i <= ROUNDS; i++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		round "$i" "${NAMES[(i - 1 + k) % ${#NAMES[@]}]}"
	done
done
echo "bench: load average after the rounds $(cut -d' ' -f1-3 /proc/loadavg)"

# The untimed run: obsprobe -v, everything on, watching all three, the counting uprobes placed.
start_obsprobe --pid "$APP_PID" --pid "$LEAF_PID" --pid "$GO_PID" --console json -v \
	>/dev/null 2>&1 || die "obsprobe -v did not start: $(cat "$OBS_ERR")"
traps 1
# who starts the goroutines: bpftrace on runtime.newproc (the go statement's own frame, its
# caller the function that holds the statement; newproc1 runs on the system stack), when there
BT_PID=""
if command -v bpftrace >/dev/null && command -v bpftool >/dev/null; then
	BT_OUT=$TMP/spawners.out
	bpftrace -e "BEGIN { printf(\"ready\\n\"); }
		uprobe:${FILE[app]}:runtime.newproc { @app[usym(*(uint64 *)reg(\"sp\"))] = count(); }
		uprobe:${FILE[leaf]}:runtime.newproc { @leaf[usym(*(uint64 *)reg(\"sp\"))] = count(); }
		uprobe:${FILE[srv]}:runtime.newproc { @srv[usym(*(uint64 *)reg(\"sp\"))] = count(); }" \
		>"$BT_OUT" 2>"$BT_OUT.err" &
	BT_PID=$!
	track_pid "$BT_PID"
	wait_until 20 grep -q '^ready' "$BT_OUT" || die "bpftrace did not start: $(cat "$BT_OUT.err")"
	(($(bpftool perf list 2>/dev/null | grep -c "^pid $BT_PID .* uprobe .*filename $TMP/") == 3)) ||
		die "bpftrace has not attached its 3 uprobes: $(bpftool perf list 2>&1 | grep "pid $BT_PID ")"
fi
declare -A PER_REQ NREQ H0 TRAPS
for w in gin srv; do
	for p in $(progs_of "$w"); do
		for t in "${HOOK_TAGS[@]}"; do
			H0[$p $t]=$(hits "$p" "$t")
		done
	done
	r=$(run_wrk "$w" 2) || die "wrk failed on $w"
	n=${r%% *}
	NREQ[$w]=$n
	TRAPS[$w]=0
	for p in $(progs_of "$w"); do
		for t in "${HOOK_TAGS[@]}"; do
			PER_REQ[$p $t]=$(awk -v a="$(hits "$p" "$t")" -v b="${H0[$p $t]}" -v n="$n" 'BEGIN {
				if (a == "-" && b == "-") print "-"
				else if (a !~ /^[0-9]+$/ || b !~ /^[0-9]+$/ || !n) print "?"
				else printf "%.2f", (a - b) / n }')
			TRAPS[$w]=$(awk -v s="${TRAPS[$w]}" -v x="${PER_REQ[$p $t]}" \
				'BEGIN { printf "%.2f", s + (x ~ /^[0-9.]+$/ ? x : 0) }')
		done
	done
done
wait_until 15 eval "(( \$(server_spans ginapp) >= ${NREQ[gin]} ))" || true
sleep 1.2
stop_pid "$OBS_PID" INT
[[ -n $BT_PID ]] && stop_pid "$BT_PID" INT
clear_probes

# --- Results
declare -A MEAN CPU
echo
printf '%-38s %12s %12s\n' "mean req/s" "gin" "net/http"
for c in a b c d; do
	for w in gin srv; do
		# shellcheck disable=SC2086 # splitting the space-separated list is the point
		MEAN[$c $w]=$(mean ${RPS[$w-$c]})
		CPU[$c $w]=$(per_req_us "${SVC[$w-$c]}" "${REQS[$w-$c]}")
	done
	printf '%-38s %12.0f %12.0f\n' "${LABEL[$c]}" "${MEAN[$c gin]}" "${MEAN[$c srv]}"
done
awk -v ga="${MEAN[a gin]}" -v gb="${MEAN[b gin]}" -v gc="${MEAN[c gin]}" -v gd="${MEAN[d gin]}" \
	-v sa="${MEAN[a srv]}" -v sb="${MEAN[b srv]}" -v sc="${MEAN[c srv]}" -v sd="${MEAN[d srv]}" '
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
	printf "%-38s %12.3f %12.3f\n", "b/a (obsprobe, linking off)", gb / ga, sb / sa
	printf "%-38s %12.3f %12.3f\n", "c/a (obsprobe, linking on)", gc / ga, sc / sa
	printf "%-38s %12.3f %12.3f   target >= 0.97: gin %s, net/http %s\n", \
		"c/b (what linking costs)", gc / gb, sc / sb, verdict(gc / gb >= 0.97), verdict(sc / sb >= 0.97)
	printf "%-38s %12.3f %12.3f\n", "d/b (what the traps alone cost)", gd / gb, sd / sb
}'
echo
printf '%-38s %12s %12s\n' "the service's CPU per request (us)" "gin" "net/http"
for c in a b c d; do
	printf '%-38s %12s %12s\n' "${LABEL[$c]}" "${CPU[$c gin]}" "${CPU[$c srv]}"
done
awk -v gb="${CPU[b gin]}" -v gc="${CPU[c gin]}" -v gd="${CPU[d gin]}" -v gt="${TRAPS[gin]}" \
	-v sb="${CPU[b srv]}" -v sc="${CPU[c srv]}" -v sd="${CPU[d srv]}" -v st="${TRAPS[srv]}" '
function per(x, t) { return t > 0 ? sprintf("%.1f", x / t) : "n/a" }
BEGIN {
	printf "%-38s %12.1f %12.1f\n", "c - b (linking)", gc - gb, sc - sb
	printf "%-38s %12.1f %12.1f\n", "d - b (the traps alone)", gd - gb, sd - sb
	printf "%-38s %12.2f %12.2f\n", "uprobe hits per request (below)", gt, st
	printf "%-38s %12s %12s\n", "(c - b) per hit (us)", per(gc - gb, gt), per(sc - sb, st)
	printf "%-38s %12s %12s\n", "(d - b) per hit (us)", per(gd - gb, gt), per(sd - sb, st)
}'
echo "(the app's and the leaf's utime + stime for gin, PostgreSQL's not counted; goserver's for net/http)"
echo
for c in b c; do
	for w in gin srv; do
		awk -v l="${LABEL[$c]}" -v w="$w" -v reqs="${REQS[$w-$c]}" -v ticks="${TICKS[$w-$c]}" \
			-v hz="$HZ" -v lost="${LOST[$w-$c]}" -v seen="${SPANS[$w-$c]}" -v kib="${PEAK[$w-$c]}" '
		function verdict(ok) { return ok ? "met" : "MISSED" }
		BEGIN {
			printf "%-8s %-16s events lost %d (target 0 %s), obsprobe CPU per 1,000 requests %.3f ms, VmHWM %.1f MiB (target <= 32 MiB %s), server requests counted %d of %d\n", \
				w == "gin" ? "gin" : "net/http", l, lost, verdict(lost == 0), \
				reqs ? ticks * 1000 / hz / reqs * 1000 : 0, kib / 1024, verdict(kib / 1024 <= 32), seen, reqs
		}'
	done
done
errs=0
for name in "${NAMES[@]}"; do
	errs=$((errs + ERRS[$name]))
done
printf '(CPU tick %.0f ms; a gin request is 5 spans: the app'\''s server span, 2 queries, its call, the leaf'\''s server span; wrk errors in all: %d)\n' \
	"$(awk -v hz="$HZ" 'BEGIN { print 1000 / hz }')" "$errs"

echo
echo "Go uprobe sites obsprobe chose (obsprobe -v):"
grep '^obsprobe: goroutines: ' "$OBS_ERR" | sed "s|$TMP/||g; s|^obsprobe: goroutines: |  |"
# each site, from obsprobe --probe-sites: the `go` statements followed and net/http's client
nsites=$(cat "${FILE[app]}.sites" "${FILE[leaf]}.sites" "${FILE[srv]}.sites" | grep -c '^uprobe for .* at 0x')
nemul=$(cat "${FILE[app]}.sites" "${FILE[leaf]}.sites" "${FILE[srv]}.sites" | grep -Ec '^uprobe for .* at 0x.*\(emulated\)(,|$)')
printf '  %d sites in the 3 files (obsprobe --probe-sites), %d emulated: %s\n' "$nsites" "$nemul" \
	"$( ((nsites > 0 && nemul == nsites)) && echo "none single-stepped (met)" || echo "MISSED")"
echo
printf 'uprobe hits per request (%d gin requests, %d net/http requests; tracefs counters at the same offsets):\n' \
	"${NREQ[gin]}" "${NREQ[srv]}"
printf '  %-28s %10s %10s\n' "" "go stmts" roundTrip
printf '  %-28s %10s %10s\n' "gin app, per GET /req/1" "${PER_REQ[app spawn]}" "${PER_REQ[app call]}"
printf '  %-28s %10s %10s\n' "its leaf, per GET /req/1" "${PER_REQ[leaf spawn]}" "${PER_REQ[leaf call]}"
printf '  %-28s %10s %10s\n' "net/http server, per GET /" "${PER_REQ[srv spawn]}" "${PER_REQ[srv call]}"
read -r cl_all cl_par db_all db_par <<<"$(spans_counts "$OBS_OUT" \
	-- kind=CLIENT "res:process.pid=$APP_PID" attr:url.path? \
	-- kind=CLIENT "res:process.pid=$APP_PID" attr:url.path? parent_span_id? \
	-- kind=CLIENT "res:process.pid=$APP_PID" attr:db.system.name? \
	-- kind=CLIENT "res:process.pid=$APP_PID" attr:db.system.name? parent_span_id? | paste -sd' ')"
printf 'linked in that run: the app'\''s HTTP calls %d of %d, its queries %d of %d have a parent\n' \
	"$cl_par" "$cl_all" "$db_par" "$db_all"
if [[ -n $BT_PID ]]; then
	echo "goroutines started per request, by the function whose go statement starts them (bpftrace):"
	awk -v ng="${NREQ[gin]}" -v ns="${NREQ[srv]}" '
	/^@(app|leaf|srv)\[/ {
		p = substr($0, 2, index($0, "[") - 2)
		f = substr($0, index($0, "[") + 1)
		f = substr(f, 1, length(f) - length($NF) - 3)
		n[p " " f] += $NF
	}
	END {
		for (k in n) {
			split(k, a, " ")
			r = n[k] / (a[1] == "srv" ? ns : ng)
			if (r >= 0.01)
				printf "  %-5s %6.2f  %s\n", a[1], r, substr(k, length(a[1]) + 2)
		}
	}' "$BT_OUT" | sort -k1,1 -k2,2nr
fi
exit 0

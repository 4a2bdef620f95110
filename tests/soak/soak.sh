#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make soak` (issue 19; not part of `make test`): ONE obsprobe watching three workloads at once
# for SOAK_MINUTES, under a sustained load below saturation, exporting over OTLP to the test
# receiver (tests/otlp/receiver.py, decoded with the official protos) and scraped by a real
# Prometheus every few seconds:
#  - nginx over HTTPS (OpenSSL; tests/fixtures/nginx/nginx-tls.conf.in), under wrk paced by
#    tests/soak/paced.lua (4 keep-alive connections, a set delay before each request);
#  - pgbench -R (rate-limited, 2 connections) against its own PostgreSQL, started by a runner
#    obsprobe watches (so its 7 statements x N transactions + 2 setup queries are all seen);
#  - the Go net/http server fixture, under paced wrk (2 connections).
# obsprobe's VmRSS, its lost events and the spans received so far are sampled every
# SOAK_SAMPLE_SECONDS into a TSV. At the end, each a PASS/FAIL line:
#  - RSS after the warm-up: max within 5% of min;
#  - obsprobe_events_lost_total (every reason) and every *_dropped_total / *_lost_total
#    obsprobe exports are 0; no parse errors;
#  - nginx: SERVER spans received == wrk's completed requests == nginx's access-log lines ==
#    obsprobe's histogram count == Prometheus's last value of it;
#  - PostgreSQL: pgbench's transactions N == rows it inserted into pgbench_history; its CLIENT
#    spans received == 7N + 2 == the DB histogram count, in obsprobe and in Prometheus;
#  - Go: SERVER spans received == wrk's count == the histogram count, in obsprobe and Prometheus;
#  - no other span, no span twice, every OTLP body decodes; wrk saw no error and no non-2xx;
#    Prometheus's up was 1 at every scrape;
#  - obsprobe alive at the end, no sanitizer or crash report on its stderr, a clean SIGINT exit.
# It prints a markdown summary of the figures, also written to SOAK_OUT, and exits non-zero
# when a check failed. Everything listens on 127.0.0.1 (free ports) or in a temp folder.
#
# Environment: SOAK_MINUTES (30), SOAK_WARMUP_MINUTES (5, or a sixth of a shorter run),
# SOAK_NGINX_RPS (100), SOAK_GO_RPS (100), SOAK_PG_TPS (20), SOAK_SAMPLE_SECONDS (10),
# SOAK_SCRAPE_INTERVAL (Prometheus's, 5s), SOAK_OUT (build/soak/summary.md; the samples go
# beside it, samples.tsv), OBSPROBE (the binary; build/asan/obsprobe works too).
TEST_NAME=soak
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

MINUTES=${SOAK_MINUTES:-30}
NGINX_RPS=${SOAK_NGINX_RPS:-100}
GO_RPS=${SOAK_GO_RPS:-100}
PG_TPS=${SOAK_PG_TPS:-20}
SAMPLE=${SOAK_SAMPLE_SECONDS:-10}
SCRAPE=${SOAK_SCRAPE_INTERVAL:-5s}
OUT=${SOAK_OUT:-$ROOT/build/soak/summary.md}
TSV=$(dirname "$OUT")/samples.tsv
NGINX_CONNS=4
GO_CONNS=2
PG_CLIENTS=2
# pgbench's script (tpcb-like): BEGIN, 3 UPDATEs, SELECT, INSERT, END
PG_STATEMENTS=7
# pgbench's setup connection: the scale from pgbench_branches, the partitioning of the accounts
PG_SETUP_QUERIES=2
RSS_PCT=5
PACED=$ROOT/tests/soak/paced.lua

# seconds M: M minutes (fractions too) in whole seconds
seconds() { awk -v m="$1" 'BEGIN { if (m !~ /^[0-9]*\.?[0-9]+$/) exit 1; printf "%d", m * 60 }'; }
DUR=$(seconds "$MINUTES") || { fail "SOAK_MINUTES '$MINUTES' is not a number of minutes"; finish; }
if [[ -n "${SOAK_WARMUP_MINUTES:-}" ]]; then
	WARM=$(seconds "$SOAK_WARMUP_MINUTES") ||
		{ fail "SOAK_WARMUP_MINUTES '$SOAK_WARMUP_MINUTES' is not a number of minutes"; finish; }
else
	WARM=$((DUR / 6 < 300 ? DUR / 6 : 300))
fi
for v in NGINX_RPS GO_RPS PG_TPS SAMPLE; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { fail "$v '${!v}' is not a positive whole number"; finish; }
done
((DUR >= 30 && WARM < DUR)) || { fail "a run of ${DUR}s with a warm-up of ${WARM}s: too short"; finish; }
# the pause of each connection before each request: CONNS * 1000 / RATE ms
NGINX_DELAY=$((NGINX_CONNS * 1000 / NGINX_RPS))
GO_DELAY=$((GO_CONNS * 1000 / GO_RPS))
# wrk's connections send nothing in their last 3 s: nothing is in flight when wrk stops
WRK_STOP=$((DUR - 3))

require_root || finish
for tool in nginx wrk prometheus node; do
	command -v "$tool" >/dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; finish; }
done
mkdir -p "$(dirname "$OUT")" || { fail "cannot make $(dirname "$OUT")"; finish; }
otlp_setup || finish
if ! P1=$(free_port) || ! P2=$(free_port) || ! GP=$(free_port) || ! RP=$(free_port); then
	fail "no free port"
	finish
fi
log "${DUR}s of load (warm-up ${WARM}s): nginx HTTPS ${NGINX_RPS}/s, Go ${GO_RPS}/s, pgbench ${PG_TPS} tps"

# --- the workloads, the receiver, obsprobe, Prometheus

NG=$TMP/nginx
start_nginx "$NG" "$P1" "$P2" https || finish
ACCESS=$NG/access.log
start_postgres "$TMP/pg" || finish
pgbench_init 1 || finish
start_goserver go "$GP" || finish
start_receiver otlp "$RP" ok $((DUR + 900)) || finish
start_runner pgbench "$PG_BIN/pgbench" -n -c "$PG_CLIENTS" -R "$PG_TPS" -T "$DUR" \
	-h 127.0.0.1 -p "$PG_PORT" -U postgres obsprobe
start_obsprobe --pid "$NGINX_PID" --pid "$GO_PID" --pid "$RUNNER_PID" --console off \
	--otlp-endpoint "http://127.0.0.1:$RP" || finish
# the readiness probes of start_nginx are in the log already: count only what follows
SKIP=$(wc -l <"$ACCESS")

T0=$(date +%s)
touch "$TMP/pgbench.go"
start_bg wrk-nginx wrk -t1 -c"$NGINX_CONNS" -d"${DUR}s" --timeout 10s -s "$PACED" \
	"https://127.0.0.1:$P1/index.html" -- "$WRK_STOP" "$NGINX_DELAY"
WRK_NGINX=$BG_PID
start_bg wrk-go wrk -t1 -c"$GO_CONNS" -d"${DUR}s" --timeout 10s -s "$PACED" \
	"http://127.0.0.1:$GP/users/42" -- "$WRK_STOP" "$GO_DELAY"
WRK_GO=$BG_PID

TARGET=${OBS_METRICS#http://}
prometheus_conf "$TMP/prometheus.yml" "${TARGET%/metrics}" "$SCRAPE"
start_prometheus "$TMP/prometheus.yml" || finish
T_UP=$(date +%s)

# --- what was received: each trace request the receiver recorded decoded once

# _TALLY_PY IDS NGINX-PORT GO-PORT PG-PORT: reads decode.js's lines; appends each span's id to
# IDS; prints "SPANS NGINX GO PG OTHER UNDECODABLE": nginx's and the Go server's SERVER spans on
# their ports, pgbench's PostgreSQL CLIENT spans to its server, anything else
_TALLY_PY='
import json, sys

ids = open(sys.argv[1], "a")
ports = {"nginx": int(sys.argv[2]), "goserver": int(sys.argv[3]), "pgbench": int(sys.argv[4])}
n = dict.fromkeys(("all", "nginx", "go", "pg", "other", "bad"), 0)

def flat(attrs):
    return {a["key"]: next((a[t] for t in ("string", "int", "bool", "double") if t in a), None)
            for a in attrs}

for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "error":
        n["bad"] += 1
    if o["type"] != "span":
        continue
    n["all"] += 1
    ids.write(o["span_id"] + "\n")
    exe = flat(o["resource"]).get("process.executable.name")
    a = flat(o["attributes"])
    port = a.get("server.port")
    if o["kind"] == 2 and exe == "nginx" and port == ports["nginx"]:
        n["nginx"] += 1
    elif o["kind"] == 2 and exe == "goserver" and port == ports["goserver"]:
        n["go"] += 1
    elif o["kind"] == 3 and exe == "pgbench" and a.get("db.system.name") == "postgresql" \
            and port == ports["pgbench"]:
        n["pg"] += 1
    else:
        n["other"] += 1
print(" ".join(str(v) for v in n.values()))
'
: >"$TMP/tallied"
: >"$TMP/tally"
: >"$TMP/span_ids"

# otlp_tally: decodes the requests the receiver recorded since the last call (hard links to
# them in a folder of their own) and appends their counts to $TMP/tally (see _TALLY_PY)
otlp_tally() {
	local d=$TMP/tally.d f
	rm -rf "$d" && mkdir "$d" || return 1
	comm -13 "$TMP/tallied" <(cd "$RECV_DIR" && find . -maxdepth 1 -name '[0-9]*.json' |
		cut -c3- | grep -E '^[0-9]{6}\.json$' | sort) >"$TMP/tally.new"
	[[ -s "$TMP/tally.new" ]] || return 0
	while read -r f; do
		ln "$RECV_DIR/$f" "$RECV_DIR/${f%.json}.bin" "$d/" 2>>"$TMP/tally.err"
	done <"$TMP/tally.new"
	otlp_decode "$d" traces --status 200 |
		"$PY" -c "$_TALLY_PY" "$TMP/span_ids" "$P1" "$GP" "$PG_PORT" >>"$TMP/tally"
	sort -o "$TMP/tallied" "$TMP/tallied" "$TMP/tally.new"
}

# tally COLUMN: the sum of a column of $TMP/tally (1 spans, 2 nginx, 3 go, 4 pg, 5 other,
# 6 undecodable bodies)
tally() { awk -v c="$1" '{ s += $c } END { print s + 0 }' "$TMP/tally"; }

# tally_now: decodes what came since, prints every span received so far (for count_settles)
tally_now() {
	otlp_tally
	tally 1
}

# sample: one line of the TSV
sample() {
	local now rss lost=NA
	now=$(date +%s)
	rss=$(vm_rss_kib "$OBS_PID")
	if scrape >"$TMP/sample.metrics"; then
		lost=$(counter_sum obsprobe_events_lost_total "" "$TMP/sample.metrics")
	fi
	otlp_tally
	printf '%s\t%s\t%s\t%s\t%s\n' "$now" "$((now - T0))" "${rss:-NA}" "$lost" "$(tally 1)" >>"$TSV"
}

# --- the run

printf 'unix_time\telapsed_s\trss_kib\tevents_lost\tspans_received\n' >"$TSV"
log "load started; samples every ${SAMPLE}s in $TSV"
for ((i = 0; ; i++)); do
	sample
	(($(date +%s) - T0 >= DUR)) && break
	((i % 6 == 0)) && log "$(tail -n 1 "$TSV" | awk -F'\t' '{ printf "%ss: RSS %s KiB, lost %s, spans %s", $2, $3, $4, $5 }')"
	# the next multiple of SAMPLE seconds into the run
	next=$((T0 + ($(date +%s) - T0) / SAMPLE * SAMPLE + SAMPLE))
	while (($(date +%s) < next)); do
		sleep 0.5
	done
done
wait_exit "$WRK_NGINX" 30 || fail "wrk (nginx) did not end within 30 s of the run's end"
WRK_NGINX_RC=$WAIT_RC
wait_exit "$WRK_GO" 30 || fail "wrk (Go) did not end within 30 s of the run's end"
WRK_GO_RC=$WAIT_RC
wait_until 60 test -s "$TMP/pgbench.rc" || fail "pgbench did not end within 60 s of the run's end"
touch "$TMP/pgbench.done" # the runner may go
T_END=$(date +%s)
log "load over after $((T_END - T0))s"

# --- the figures

N_NGINX=$(wrk_requests "$TMP/wrk-nginx.out")
N_GO=$(wrk_requests "$TMP/wrk-go.out")
N_LOG=$(($(wc -l <"$ACCESS") - SKIP))
N_LOG200=$(tail -n +"$((SKIP + 1))" "$ACCESS" | awk '$3 == 200' | wc -l)
N_PG=$(pgbench_transactions "$TMP/pgbench.out")
PG_FAILED=$(awk '/^number of failed transactions: / { print $5 }' "$TMP/pgbench.out")
PG_ROWS=$(pg_psql -At -c 'SELECT count(*) FROM pgbench_history')
N_STMT=$((PG_STATEMENTS * ${N_PG:-0} + PG_SETUP_QUERIES))
EXPECT=$((${N_NGINX:-0} + ${N_GO:-0} + N_STMT))
# every span in, or 20 s with no new one (3 minutes at most)
count_settles 1 180 20 "$EXPECT" tally_now >/dev/null || log "spans settled at $(tally 1) of $EXPECT"
sleep 3 # a batch more: a span twice or a stray one would come now
otlp_tally
S_ALL=$(tally 1)
S_NGINX=$(tally 2)
S_GO=$(tally 3)
S_PG=$(tally 4)
S_OTHER=$(tally 5)
S_BAD=$(tally 6)
S_IDS=$(sort -u "$TMP/span_ids" | wc -l)
N_REQ=$(otlp_request_count "$RECV_DIR" /v1/traces)
sleep 1.2 # a health tick: the counters obsprobe refreshes every second
scrape >"$TMP/final.metrics" || fail "scrape of $OBS_METRICS failed"
H=http_server_request_duration_seconds
DBH=db_client_operation_duration_seconds
M_NGINX=$(metric_sum "$H" 'service_name="nginx"' "$TMP/final.metrics")
M_GO=$(metric_sum "$H" 'service_name="goserver"' "$TMP/final.metrics")
M_PG=$(metric_sum "$DBH" 'service_name="pgbench"' "$TMP/final.metrics")
Q_NGINX="sum(${H}_count{service_name=\"nginx\"})"
Q_GO="sum(${H}_count{service_name=\"goserver\"})"
Q_PG="sum(${DBH}_count{service_name=\"pgbench\"})"
# Prometheus's view, once it has scraped the final counts (a few scrape intervals at most)
prom_caught_up() {
	[[ "$(promql "$Q_NGINX")" == "$N_LOG" && "$(promql "$Q_GO")" == "$N_GO" &&
		"$(promql "$Q_PG")" == "$N_STMT" ]]
}
wait_until 60 prom_caught_up || log "Prometheus did not reach the exact counts in 60 s"
P_NGINX=$(promql "$Q_NGINX")
P_GO=$(promql "$Q_GO")
P_PG=$(promql "$Q_PG")
R=$(($(date +%s) - T_UP))
P_UP_MIN=$(promql "min_over_time(up{job=\"obsprobe\"}[${R}s])")
P_SCRAPES=$(promql "count_over_time(up{job=\"obsprobe\"}[${R}s])")
# obsprobe's own figures before it stops
read -r RSS_N RSS_FIRST RSS_LAST RSS_MIN RSS_MAX < <(awk -F'\t' -v w="$WARM" '
	NR > 1 && $2 >= w && $3 != "NA" {
		n++; if (n == 1) first = $3; last = $3
		if (min == "" || $3 < min) min = $3
		if ($3 > max) max = $3
	}
	END { print n + 0, first, last, min, max }' "$TSV")
RSS_SPREAD=$(awk -v a="${RSS_MIN:-0}" -v b="${RSS_MAX:-0}" 'BEGIN { printf "%.2f", (a > 0 ? (b - a) * 100 / a : 0) }')
HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$OBS_PID/status" 2>/dev/null)
CPU_S=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$OBS_PID/stat" 2>/dev/null)
LOST=$(counter_sum obsprobe_events_lost_total "" "$TMP/final.metrics")
PARSE_ERR=$(counter_sum obsprobe_parse_errors_total "" "$TMP/final.metrics")
# every counter of drops or losses obsprobe exports, by name
DROP_NAMES=$(awk '$1 == "#" && $2 == "TYPE" && $3 ~ /(dropped|lost)/ { print $3 }' "$TMP/final.metrics" | sort -u)

# --- the checks

# wrk_clean NAME FILE RC: wrk exited 0 with no socket error and no non-2xx/3xx answer
wrk_clean() {
	assert_eq "wrk ($1): exit status" 0 "$3"
	assert_eq "wrk ($1): socket errors and non-2xx/3xx answers" "" \
		"$(grep -E '^ *(Socket errors|Non-2xx)' "$2")"
}

checks() {
	assert_ge "RSS samples after the warm-up" "$RSS_N" 2
	if ((RSS_N >= 2)) && within_pct "$RSS_MAX" "$RSS_MIN" "$RSS_PCT"; then
		pass "RSS after the warm-up flat: max $RSS_MAX KiB within ${RSS_PCT}% of min $RSS_MIN KiB (+${RSS_SPREAD}%)"
	else
		fail "RSS after the warm-up: max ${RSS_MAX:-?} KiB is not within ${RSS_PCT}% of min ${RSS_MIN:-?} KiB (+${RSS_SPREAD}%)"
	fi
	assert_eq "obsprobe_events_lost_total, every reason" 0 "$LOST"
	assert_eq "events lost at every sample" 0 \
		"$(awk -F'\t' 'NR > 1 && $4 != 0' "$TSV" | wc -l)"
	local name
	assert_ge "counters of drops and losses obsprobe exports" "$(echo "$DROP_NAMES" | grep -c .)" 1
	for name in $DROP_NAMES; do
		assert_eq "$name, every label" 0 "$(counter_sum "$name" "" "$TMP/final.metrics")"
	done
	assert_eq "obsprobe_parse_errors_total" 0 "$PARSE_ERR"

	wrk_clean nginx "$TMP/wrk-nginx.out" "$WRK_NGINX_RC"
	assert_ge "nginx: wrk completed requests" "${N_NGINX:-0}" 1
	assert_eq "nginx: access-log lines == wrk's completed requests" "${N_NGINX:-?}" "$N_LOG"
	assert_eq "nginx: access-log lines with status 200" "$N_LOG" "$N_LOG200"
	assert_eq "nginx: SERVER spans received over OTLP == access-log lines" "$N_LOG" "$S_NGINX"
	assert_eq "nginx: obsprobe's server histogram count == access-log lines" "$N_LOG" "$M_NGINX"
	assert_eq "nginx: Prometheus's $Q_NGINX == access-log lines" "$N_LOG" "$P_NGINX"

	assert_ge "PostgreSQL: pgbench's transactions" "${N_PG:-0}" 1
	assert_eq "PostgreSQL: pgbench's exit status" 0 "$(cat "$TMP/pgbench.rc" 2>/dev/null)"
	assert_eq "PostgreSQL: pgbench's failed transactions" 0 "$PG_FAILED"
	assert_eq "PostgreSQL: pgbench's count == rows it inserted into pgbench_history" "${N_PG:-?}" "$PG_ROWS"
	assert_eq "PostgreSQL: CLIENT spans received over OTLP == $PG_STATEMENTS x transactions + $PG_SETUP_QUERIES" \
		"$N_STMT" "$S_PG"
	assert_eq "PostgreSQL: obsprobe's DB histogram count == $PG_STATEMENTS x transactions + $PG_SETUP_QUERIES" \
		"$N_STMT" "$M_PG"
	assert_eq "PostgreSQL: Prometheus's $Q_PG == $PG_STATEMENTS x transactions + $PG_SETUP_QUERIES" \
		"$N_STMT" "$P_PG"

	wrk_clean Go "$TMP/wrk-go.out" "$WRK_GO_RC"
	assert_ge "Go: wrk completed requests" "${N_GO:-0}" 1
	assert_eq "Go: SERVER spans received over OTLP == wrk's completed requests" "${N_GO:-?}" "$S_GO"
	assert_eq "Go: obsprobe's server histogram count == wrk's completed requests" "${N_GO:-?}" "$M_GO"
	assert_eq "Go: Prometheus's $Q_GO == wrk's completed requests" "${N_GO:-?}" "$P_GO"

	assert_eq "OTLP: spans received that are none of the above" 0 "$S_OTHER"
	assert_eq "OTLP: distinct span ids == spans received (none twice)" "$S_ALL" "$S_IDS"
	assert_eq "OTLP: bodies that do not decode" 0 "$S_BAD"
	assert_eq "Prometheus: up's lowest value over the run (${R}s)" 1 "$P_UP_MIN"

	assert_true "obsprobe still runs at the end" alive "$OBS_PID"
	assert_eq "sanitizer or crash reports on obsprobe's stderr" "" \
		"$(grep -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|double free|stack smashing|SUMMARY: ' "$OBS_ERR" | head -n 3)"
	stop_obsprobe
}
checks >"$TMP/checks.out"
cat "$TMP/checks.out"

# --- the summary

run_s=$((T_END - T0))
rate() { awk -v n="${1:-0}" -v s="$run_s" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }'; }
{
	echo "# obsprobe soak, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "$("$OBSPROBE" --version 2>&1 | head -n 1), commit $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), kernel $(uname -r), $(nproc) CPUs."
	echo "Load for ${run_s} s (asked ${DUR} s), warm-up ${WARM} s; samples every ${SAMPLE} s: \`$TSV\`."
	echo
	echo "| workload | asked | client's count | server's own count | OTLP spans | obsprobe /metrics | Prometheus |"
	echo "|---|---|---|---|---|---|---|"
	echo "| nginx HTTPS, wrk ${NGINX_CONNS} conns | ${NGINX_RPS}/s | ${N_NGINX:-?} requests ($(rate "$N_NGINX")/s) | ${N_LOG} access-log lines | ${S_NGINX} SERVER | ${M_NGINX} | ${P_NGINX:-?} |"
	echo "| PostgreSQL, pgbench -c ${PG_CLIENTS} | ${PG_TPS} tps | ${N_PG:-?} transactions ($(rate "$N_PG")/s) = ${N_STMT} statements | ${PG_ROWS:-?} history rows | ${S_PG} CLIENT | ${M_PG} | ${P_PG:-?} |"
	echo "| Go net/http, wrk ${GO_CONNS} conns | ${GO_RPS}/s | ${N_GO:-?} requests ($(rate "$N_GO")/s) | - | ${S_GO} SERVER | ${M_GO} | ${P_GO:-?} |"
	echo
	echo "| obsprobe | |"
	echo "|---|---|"
	echo "| RSS after warm-up (${RSS_N} samples): first / last | ${RSS_FIRST:-?} / ${RSS_LAST:-?} KiB |"
	echo "| RSS after warm-up: min / max (spread) | ${RSS_MIN:-?} / ${RSS_MAX:-?} KiB (+${RSS_SPREAD}%; bound ${RSS_PCT}%) |"
	echo "| RSS over the whole run: min / max; peak (VmHWM) | $(awk -F'\t' 'NR > 1 && $3 != "NA" { if (m == "" || $3 < m) m = $3; if ($3 > x) x = $3 } END { print m " / " x }' "$TSV") KiB; ${HWM:-?} KiB |"
	echo "| CPU time (user + system) | ${CPU_S:-?} s, $(awk -v c="${CPU_S:-0}" -v s="$run_s" 'BEGIN { printf "%.1f", (s > 0 ? c * 100 / s : 0) }')% of a core |"
	echo "| events lost (every reason) | ${LOST} |"
	for name in $DROP_NAMES; do
		echo "| ${name} | $(counter_sum "$name" "" "$TMP/final.metrics") |"
	done
	echo "| parse errors | ${PARSE_ERR} |"
	echo "| OTLP: trace requests / spans / distinct ids / other spans | ${N_REQ} / ${S_ALL} / ${S_IDS} / ${S_OTHER} |"
	echo "| Prometheus: scrapes every ${SCRAPE}, count / lowest up | ${P_SCRAPES:-?} / ${P_UP_MIN:-?} |"
	echo
	echo "Checks: $(grep -c '^PASS ' "$TMP/checks.out") passed, $(grep -c '^FAIL ' "$TMP/checks.out") failed"
	echo
	echo '```'
	cat "$TMP/checks.out"
	echo '```'
} >"$OUT"
echo
cat "$OUT"
log "summary in $OUT"
finish

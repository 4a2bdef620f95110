#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# deploy/prometheus and deploy/grafana against a real Prometheus scraping a real obsprobe.
#
# The files alone: promtool check rules, promtool test rules (rules_test.yml), the alerts'
# shape ("<expr> <comparison> <number>", for:, severity, summary, description), every recording
# rule given exact values in rules_test.yml and every alert tested there firing and silent, the
# dashboard's variables, rows and data sources (tests/integration/promql_check.py lint).
# promtool check config on prometheus.yml; Debian builds Prometheus without Kubernetes discovery,
# so where this promtool refuses kubernetes_sd_configs the Kubernetes job is checked with its
# discovery replaced by static targets shaped as the pod discovery gives them: promtool check
# config, and promtool check service-discovery for what the relabelling keeps (two obsprobe pods
# of four, on port 9464, instance and node the node's name, job obsprobe).
#
# Then the real thing: nginx (404s, proxied 503s: client spans), the Go server fixture (500s,
# /slow), pgbench -R 20 and the Go PostgreSQL client fixture (one statement that fails with
# 42601) under obsprobe --max-routes 8 with OTLP export to the test receiver, a load loop, and
# Prometheus (Debian's) scraping obsprobe every second with rules.yml, evaluated every second, on
# a configuration made from prometheus.yml's single-host job. The goserver gets more routes than
# --max-routes and more method x status series than obsprobe keeps (2,000), so both caps are
# hit for real. Then every expression of rules.yml (each recording rule, its recorded series,
# each alert's left side) and of the dashboard (template variables substituted) must return at
# least one sample that is a number from /api/v1/query; a FAIL names each that does not. Also:
# every rule healthy in /api/v1/rules; up was 1 at every scrape; the left sides of the alerts
# on the caps are above 0, ObsprobeDown's is 1; error ratios where the workload made errors, 0
# where it made only 404s; promtool check metrics on obsprobe's /metrics.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

DEPLOY=$ROOT/deploy
RULES=$DEPLOY/prometheus/rules.yml
RULES_TEST=$DEPLOY/prometheus/rules_test.yml
PROM_YML=$DEPLOY/prometheus/prometheus.yml
DASH=$DEPLOY/grafana/obsprobe.json
CHECK=$ROOT/tests/integration/promql_check.py
# what rules.yml holds: a rule added or removed must be added or removed here too
N_RECORD=28
N_ALERT=14
MAX_ROUTES=8
# method x status series of the goserver's /status/{id}: 6 x 350, past the 2,000 series kept
METHODS=(GET POST PUT DELETE PATCH OPTIONS)
STATUS_FIRST=200
STATUS_LAST=549

# the caller's OpenTelemetry settings must not leak into obsprobe
for v in "${!OTEL_@}"; do
	unset "$v"
done

require_root || finish
for tool in prometheus promtool; do
	command -v "$tool" >/dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; finish; }
done
"$PY" -c 'import yaml' 2>/dev/null || { fail "python3-yaml is not installed (scripts/install-deps.sh)"; finish; }

# py_checks NAME ARGS...: runs promql_check.py ARGS; its FAIL lines are failures, its PASS lines
# one pass (each logged); its other lines in $TMP/NAME.out
py_checks() {
	local name=$1 n
	shift
	"$PY" "$CHECK" "$@" >"$TMP/$name.all" 2>&1
	n=$(grep -c '^PASS ' "$TMP/$name.all")
	grep '^PASS ' "$TMP/$name.all" | sed "s/^/$TEST_NAME: /" >&2
	while IFS= read -r line; do
		fail "${line#FAIL }"
	done < <(grep '^FAIL ' "$TMP/$name.all")
	grep -v '^PASS \|^FAIL ' "$TMP/$name.all" >"$TMP/$name.out"
	if grep -q '^Traceback' "$TMP/$name.out"; then
		fail "promql_check.py $1 failed"
		sed 's/^/    | /' "$TMP/$name.out" | tail -n 10
	fi
	((n > 0)) && pass "$name: $n checks ($TMP/$name.all)"
}

# --- the files alone

promtool check rules "$RULES" >"$TMP/check-rules.out" 2>&1
assert_eq "promtool check rules $(basename "$RULES") exit status" 0 "$?"
assert_contains "promtool finds $((N_RECORD + N_ALERT)) rules" "$TMP/check-rules.out" \
	"SUCCESS: $((N_RECORD + N_ALERT)) rules found"
(cd "$(dirname "$RULES_TEST")" && promtool test rules "$(basename "$RULES_TEST")") \
	>"$TMP/test-rules.out" 2>&1
rc=$?
assert_eq "promtool test rules $(basename "$RULES_TEST") exit status" 0 "$rc"
((rc == 0)) || grep -v '^$' "$TMP/test-rules.out" | head -n 30 | sed 's/^/    | /'

py_checks lint lint "$RULES" "$RULES_TEST" "$DASH"
read -r _ got_record got_alert n_panel_exprs < <(grep '^counts ' "$TMP/lint.out")
assert_eq "recording rules in rules.yml" "$N_RECORD" "${got_record:-}"
assert_eq "alerts in rules.yml" "$N_ALERT" "${got_alert:-}"
assert_ge "dashboard targets" "${n_panel_exprs:-0}" 30

promtool check config "$PROM_YML" >"$TMP/check-config.out" 2>&1
rc=$?
if ((rc == 0)); then
	pass "promtool check config $(basename "$PROM_YML")"
elif grep -q 'field kubernetes_sd_configs not found' "$TMP/check-config.out"; then
	pass "promtool check config $(basename "$PROM_YML"): refuses only kubernetes_sd_configs (this promtool is built without Kubernetes discovery; the job is checked below with static pods)"
else
	fail "promtool check config $(basename "$PROM_YML") exit status $rc"
	sed 's/^/    | /' "$TMP/check-config.out" | head -n 10
fi
KCONF=$TMP/prometheus-kubernetes.yml
assert_eq "Kubernetes jobs in $(basename "$PROM_YML")" 1 \
	"$("$PY" "$CHECK" kubeconfig "$PROM_YML" "$KCONF" "$RULES" 2>"$TMP/kubeconfig.err")"
promtool check config "$KCONF" >"$TMP/check-kconfig.out" 2>&1
assert_eq "promtool check config, Kubernetes discovery replaced by static pods: exit status" 0 "$?"
promtool check service-discovery --timeout=10s "$KCONF" obsprobe-kubernetes \
	>"$TMP/kube-sd.json" 2>"$TMP/kube-sd.err"
assert_eq "promtool check service-discovery obsprobe-kubernetes: exit status" 0 "$?"
py_checks kubernetes kubetargets "$TMP/kube-sd.json"

# --- the workload

if ! P1=$(free_port) || ! P2=$(free_port) || ! GP=$(free_port) || ! OP=$(free_port) ||
	! RP=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/nginx" "$P1" "$P2" || finish
start_goserver goserver "$GP" || finish
start_postgres "$TMP/pg" || finish
pgbench_init 1 || finish
# 20 transactions a second (7 statements each) on 2 connections, past the end of the test
start_bg pgbench "$PG_BIN/pgbench" -n -c 2 -R 20 -T 300 -h 127.0.0.1 -p "$PG_PORT" -U postgres obsprobe
PGBENCH_PID=$BG_PID
build_go pgclient "$TMP/pgclient" || finish
run_fixture pg "$TMP/pgclient" || finish
PGCLIENT_PID=$FIX_PID
start_receiver otlp "$RP" ok 300 || finish

log "workload up at ${SECONDS}s"
start_obsprobe --pid "$NGINX_PID" --pid "$GO_PID" --pid "$PGBENCH_PID" --pid "$PGCLIENT_PID" \
	--console off --prometheus "127.0.0.1:$OP" --max-routes "$MAX_ROUTES" \
	--otlp-endpoint "http://127.0.0.1:$RP" || finish

fixture_cmd pg "open host=127.0.0.1 port=$PG_PORT user=postgres dbname=obsprobe sslmode=disable" || finish
fixture_cmd pg "exec SELECT 1" || finish

NGX=http://127.0.0.1:$P1
GOS=http://127.0.0.1:$GP
# http_once I: nginx 200, 404, proxied 503 (and the upstream's own 503); goserver 200, 500, 404,
# 200 after 50 ms: 7 routes, 4 of them the goserver's
http_once() {
	curl -s -o /dev/null -o /dev/null -o /dev/null \
		"$NGX/index.html" "$NGX/missing/$1" "$NGX/proxy/x"
	curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$GOS/users/$1" "$GOS/fail" "$GOS/status/404" "$GOS/slow"
}
# load: http_once and a query of pgclient (its answers are not read) every 0.2 s; once
# $TMP/overflowed exists, one request whose series the goserver's full histogram has no room for
load() {
	local i=0
	while :; do
		i=$((i + 1))
		http_once "$i"
		fixture_send pg "exec SELECT count(*) FROM pgbench_branches"
		[[ -e $TMP/overflowed ]] && curl -s -o /dev/null -X PATCH "$GOS/status/599"
		sleep 0.2
	done
}
# the routes exist before the goserver gets more than --max-routes
http_once 0
# --- Prometheus, from prometheus.yml's single-host job

PCONF=$TMP/prometheus.yml
if ! "$PY" "$CHECK" testconfig "$PROM_YML" "$PCONF" "$RULES" "127.0.0.1:$OP" 2>"$TMP/testconfig.err"; then
	fail "no test configuration from $(basename "$PROM_YML")"
	sed 's/^/    | /' "$TMP/testconfig.err"
	finish
fi
promtool check config "$PCONF" >"$TMP/check-pconf.out" 2>&1
assert_eq "promtool check config of the test's configuration: exit status" 0 "$?"
positive() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }'; }
# check_positive DESC EXPR: EXPR's first sample is above 0
check_positive() {
	local v
	v=$(promql "$2")
	if positive "$v"; then pass "$1 ($2 = $v)"; else fail "$1: $2 = '${v}'"; fi
}
start_prometheus "$PCONF" --storage.tsdb.retention.time=1h || finish
PROM=$PROM_URL
T_UP=$(date +%s)
pass "Prometheus scrapes obsprobe (up 1)"
log "Prometheus up at ${SECONDS}s"

# the statement that fails (a syntax error, SQLSTATE 42601), twice: a counter series is born at
# its first error, which rate() cannot see; the second, once Prometheus has the series, it can
fixture_ask pg "exec SELEC 1" || finish
assert_eq "pgclient: 'SELEC 1' fails with SQLSTATE 42601" "err 42601" "$(cut -d' ' -f1-2 <<<"$FIX_REPLY")"
# shellcheck disable=SC2317 # called through wait_until
pg_error_scraped() { [[ "$(promql 'sum(db_client_operation_errors_total{service_name="pgclient"})')" == 1 ]]; }
wait_until 10 pg_error_scraped || fail "Prometheus never got pgclient's db_client_operation_errors_total"
fixture_ask pg "exec SELEC 1" || finish
assert_eq "pgclient: 'SELEC 1' fails again with SQLSTATE 42601" "err 42601" "$(cut -d' ' -f1-2 <<<"$FIX_REPLY")"
# the recorded rates see it while it is in their [1m] window
ERR_RATE='service_db_error_type:db_client_operation_errors:rate1m{service_name="pgclient",error_type="42601"}'
ERR_RATIO='service_db:db_client_operation_error_ratio:rate1m{service_name="pgclient"}'
# shellcheck disable=SC2317 # called through wait_until
pg_error_recorded() { positive "$(promql "$ERR_RATE")" && positive "$(promql "$ERR_RATIO")"; }
wait_until 15 pg_error_recorded || true
check_positive "pgclient's errors per second, SQLSTATE 42601" "$ERR_RATE"
check_positive "pgclient's PostgreSQL error ratio" "$ERR_RATIO"
# then the load (which talks to pgclient too)
load &
LOAD_PID=$!
track_pid "$LOAD_PID"

# --- the caps, hit for real, once Prometheus has seen their counters at 0

args=()
for ((i = 1; i <= MAX_ROUTES + 4; i++)); do
	args+=(-o /dev/null "$GOS/cap/r$i")
done
curl -s "${args[@]}"
for m in "${METHODS[@]}"; do
	args=()
	for ((s = STATUS_FIRST; s <= STATUS_LAST; s++)); do
		args+=(-o /dev/null "$GOS/status/$s")
	done
	curl -s -X "$m" "${args[@]}"
done
touch "$TMP/overflowed"
# shellcheck disable=SC2317 # called through wait_until
overflowed() {
	(($(counter_sum obsprobe_metric_series_overflow_total 'metric="http_server_request_duration_seconds"') > 0))
}
wait_until 10 overflowed || fail "obsprobe_metric_series_overflow_total never counted the goserver's histogram"
# the goserver had 4 routes: 4 of the 12 new ones fit, 8 are folded into "other"
# shellcheck disable=SC2317 # called through wait_until
routes_folded() { (($(counter_sum obsprobe_route_overflow_total) >= 8)); }
wait_until 5 routes_folded || true
assert_eq "obsprobe_route_overflow_total: requests past --max-routes $MAX_ROUTES" 8 \
	"$(counter_sum obsprobe_route_overflow_total)"
log "caps hit at ${SECONDS}s"

# --- every expression against Prometheus

"$PY" "$CHECK" exprs "$RULES" "$DASH" "$TMP/exprs.jsonl"
assert_eq "recording rules to evaluate" "$N_RECORD" "$(grep -c '"kind": "recording"' "$TMP/exprs.jsonl")"
assert_eq "recorded series to read" "$N_RECORD" "$(grep -c '"kind": "recorded"' "$TMP/exprs.jsonl")"
assert_eq "alert left sides to evaluate" "$N_ALERT" "$(grep -c '"kind": "alert"' "$TMP/exprs.jsonl")"
assert_eq "dashboard targets to evaluate" "$n_panel_exprs" "$(grep -c '"kind": "panel"' "$TMP/exprs.jsonl")"
assert_eq "dashboard targets with a variable left after substitution" 0 \
	"$(grep '"kind": "panel"' "$TMP/exprs.jsonl" | grep -c '"expr": "[^"]*\$')"
# until every one returns a number (the [5m] rates of the caps and deriv need a few scrapes)
"$PY" "$CHECK" query "$PROM" "$TMP/exprs.jsonl" 60 >"$TMP/query.out" 2>"$TMP/query.err"
log "expressions evaluated at ${SECONDS}s"
for kind in recording recorded alert panel; do
	total=$(awk -v k="$kind" '$2 == k' "$TMP/query.out" | wc -l)
	ok=$(awk -v k="$kind" '$1 == "ok" && $2 == k' "$TMP/query.out" | wc -l)
	assert_eq "$kind expressions that return a number from Prometheus" "$total" "$ok"
done
assert_eq "expressions evaluated" "$(wc -l <"$TMP/exprs.jsonl")" "$(wc -l <"$TMP/query.out")"
while read -r st kind rest; do
	[[ $st == ok ]] && continue
	fail "$kind $rest (result: $st)"
done <"$TMP/query.out"
[[ -s "$TMP/query.err" ]] && sed 's/^/    | /' "$TMP/query.err" | tail -n 10

assert_eq "ObsprobeDown's left side: up is 1" 1 "$(promql 'up{job="obsprobe"}')"
check_positive "ObsprobeRouteOverflow's left side is above 0" 'instance:obsprobe_route_overflow:rate5m'
check_positive "ObsprobeSeriesOverflow's left side is above 0 for the server histogram" \
	'instance_metric:obsprobe_metric_series_overflow:rate5m{metric="http_server_request_duration_seconds"}'
check_positive "goserver's 5xx ratio (/fail)" 'service:http_server_request_error_ratio:rate1m{service_name="goserver"}'
check_positive "nginx's 5xx ratio (proxied 503s)" 'service:http_server_request_error_ratio:rate1m{service_name="nginx"}'
assert_eq "nginx's 5xx ratio on /missing/{id} (404s are no server errors)" 0 \
	"$(promql 'service_http_route:http_server_request_error_ratio:rate1m{service_name="nginx",http_route="/missing/{id}"}')"
check_positive "nginx's client error ratio (the 503s of its upstream)" \
	'service_server:http_client_request_error_ratio:rate1m{service_name="nginx"}'
assert_eq "pgclient's failed statements in Prometheus, SQLSTATE 42601" 2 \
	"$(promql 'sum(db_client_operation_errors_total{service_name="pgclient",error_type="42601"})')"
check_positive "pgbench's PostgreSQL operations per second" 'service_db:db_client_operations:rate1m{service_name="pgbench"}'
for svc in goserver pgclient; do
	check_positive "$svc's goroutines" "service_instance:go_goroutine_count:sum{service_name=\"$svc\"}"
done
assert_eq "ObsprobeEventsLost's left side: one series per reason obsprobe exports" \
	"$(series_count obsprobe_events_lost_total)" "$(promql 'count(instance_reason:obsprobe_events_lost:rate5m)')"

# the dashboard's variables, as Grafana asks Prometheus for them
"$PY" "$CHECK" variables "$PROM" "$DASH" >"$TMP/variables.out" 2>&1
for svc in nginx goserver pgbench pgclient; do
	assert_true "\$service offers $svc" grep -qx "service $svc" "$TMP/variables.out"
done
for route in /index.html '/users/{id}' other; do
	assert_true "\$route offers $route" grep -qxF "route $route" "$TMP/variables.out"
done

# every rule evaluates without error
"$PY" "$CHECK" rules "$PROM" >"$TMP/rules.out"
assert_eq "rules loaded by Prometheus" "$((N_RECORD + N_ALERT))" "$(wc -l <"$TMP/rules.out")"
assert_eq "rules whose health is not ok" "" "$(awk '$4 != "ok"' "$TMP/rules.out")"

# up was 1 at every scrape since the first. One scrape a second, but for those skipped while a
# slow one ran (adding the ~34,000 series of the overflowed histogram takes Prometheus seconds)
R=$(($(date +%s) - T_UP + 5))
min_up=$(promql "min_over_time(up{job=\"obsprobe\"}[${R}s])")
n_up=$(promql "count_over_time(up{job=\"obsprobe\"}[${R}s])")
assert_eq "up's lowest value over the run (${R}s)" 1 "$min_up"
assert_ge "scrapes over the run (${R}s)" "${n_up:-0}" $((R / 2))
log "slowest scrape: $(promql "max_over_time(scrape_duration_seconds{job=\"obsprobe\"}[${R}s])") s, $(promql 'scrape_samples_scraped{job="obsprobe"}') samples"

# obsprobe's /metrics, overflow family included, lint-clean but for the semconv *_count gauges
scrape "$OBS_METRICS" >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
check_promtool_metrics "$TMP/metrics.txt"

stop_pid "$LOAD_PID"
stop_pid "$PROM_PID"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
assert_lacks "Prometheus logged no error" "$TMP/prometheus.err" 'level=error'
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# service.name per process, as the process's own OpenTelemetry SDK would name it, from the
# environment it started with: three Go servers, one with OTEL_SERVICE_NAME, one with
# service.name in OTEL_RESOURCE_ATTRIBUTES (percent-encoded), one with neither (its executable's
# name). Each gets exactly its 3 requests under its own name in /metrics; with obsprobe's own
# --service-name, all three are that name.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
build_goserver || finish
declare -A PORT PID
for s in pay bill plain; do
	PORT[$s]=$(free_port) || {
		fail "no free port"
		finish
	}
done
start_bg pay env OTEL_SERVICE_NAME=payments "$GOSERVER" -listen "127.0.0.1:${PORT[pay]}" \
	-ready-file "$TMP/pay.ready"
PID[pay]=$BG_PID
start_bg bill env 'OTEL_RESOURCE_ATTRIBUTES=deployment.environment=test,service.name=billing%2Dapi' \
	"$GOSERVER" -listen "127.0.0.1:${PORT[bill]}" -ready-file "$TMP/bill.ready"
PID[bill]=$BG_PID
start_bg plain "$GOSERVER" -listen "127.0.0.1:${PORT[plain]}" -ready-file "$TMP/plain.ready"
PID[plain]=$BG_PID
for s in pay bill plain; do
	await_ready "$TMP/$s.ready" "Go server $s" "$s" || finish
done

# run NAME_OF_CHECK EXPECTED... : obsprobe on the three, 3 requests each, the count per name
run() {
	local what=$1 s
	shift
	start_obsprobe --pid "${PID[pay]}" --pid "${PID[bill]}" --pid "${PID[plain]}" \
		--console json "$@" || finish
	for s in pay bill plain; do
		for i in 1 2 3; do
			curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/r$i" ||
				fail "curl to $s failed"
		done
	done
	wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= 9 ))" || true
	scrape "$OBS_METRICS" >"$TMP/metrics.txt" || fail "scrape failed"
	stop_obsprobe "$OBS_PID" "$OBS_ERR"
	for s in "${!WANT[@]}"; do
		assert_eq "$what: requests of service_name=\"$s\"" "${WANT[$s]}" \
			"$(metric_sum http_server_request_duration_seconds "service_name=\"$s\"" "$TMP/metrics.txt")"
	done
	assert_eq "$what: requests in all" 9 \
		"$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics.txt")"
}

declare -A WANT=([payments]=3 [billing-api]=3 [goserver]=3)
run "own names"
unset WANT
declare -A WANT=([checkout]=9)
run "--service-name checkout" --service-name checkout
finish

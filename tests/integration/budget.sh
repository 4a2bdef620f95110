#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# obsprobe's budget at node scale: --max-spans-per-second caps the spans exported (the console
# here), --memory-limit stops span export while obsprobe's own RSS is over it. Either way the
# metrics count every request, and what was not exported is counted by reason, exactly.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
PORT=$(free_port) || finish
start_goserver srv "$PORT" || finish
SRV=$GO_PID

# requests N PATH: N requests to the Go server, one after another
requests() {
	local i
	for ((i = 0; i < $1; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/$2/$i" || fail "curl $2/$i failed"
	done
}

# bad sizes are refused with a message, not a crash
run_obsprobe badsize 10 --pid "$SRV" --memory-limit 1M
assert_eq "--memory-limit 1M: exit status" 2 "$RUN_RC"
assert_contains "--memory-limit 1M: says why" "$TMP/badsize.err" "is not a size from 16M"
run_obsprobe badunit 10 --pid "$SRV" --memory-limit 256MB
assert_eq "--memory-limit 256MB: exit status" 2 "$RUN_RC"

# the rate: 5 spans a second, 40 requests in a burst
start_obsprobe --pid "$SRV" --console json --max-spans-per-second 5 || finish
t0=$(date +%s.%N)
requests 40 rate
t1=$(date +%s.%N)
wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= 40 ))" || true
sleep 1.2
scrape >"$TMP/rate.txt" || fail "scrape failed"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
exported=$(grep -c '"kind":"SERVER"' "$OBS_OUT")
dropped=$(counter_sum obsprobe_spans_dropped_total 'reason="rate_limit"' "$TMP/rate.txt")
assert_eq "rate: requests in the metrics" 40 \
	"$(metric_sum http_server_request_duration_seconds "" "$TMP/rate.txt")"
assert_eq "rate: exported + dropped (rate_limit) = requests" 40 $((exported + dropped))
# a burst of 5, then 5 a second for as long as the 40 requests took
most=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", 5 + 5 * (b - a) + 1 }')
assert_ge "rate: at least the burst exported" "$exported" 5
assert_le "rate: at most 5 + 5/s exported (${most})" "$exported" "$most"

# memory: a limit under what obsprobe needs to run, whose ring buffer alone is that size here
# (resident from the start): shedding from the first second on
start_obsprobe --pid "$SRV" --console json --memory-limit 16M --ring-buffer-size 16M || finish
wait_until 5 grep -q 'is over --memory-limit (16 MiB): spans are not exported' "$OBS_ERR" ||
	fail "no memory-limit warning"
requests 10 mem
wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= 10 ))" || true
sleep 1.2
scrape >"$TMP/mem.txt" || fail "scrape failed"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
assert_eq "memory: requests in the metrics" 10 \
	"$(metric_sum http_server_request_duration_seconds "" "$TMP/mem.txt")"
assert_eq "memory: no span exported" 0 "$(grep -c '"kind":"SERVER"' "$OBS_OUT")"
assert_eq "memory: dropped (memory_limit)" 10 \
	"$(counter_sum obsprobe_spans_dropped_total 'reason="memory_limit"' "$TMP/mem.txt")"
assert_eq "memory: the limit, in bytes" 16777216 \
	"$(counter_sum obsprobe_memory_limit_bytes "" "$TMP/mem.txt")"
assert_ge "memory: RSS over the limit" "$(counter_sum obsprobe_memory_rss_bytes "" "$TMP/mem.txt")" 16777216

# the default: 256 MiB, nothing dropped
start_obsprobe --pid "$SRV" --console json || finish
requests 10 default
wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= 10 ))" || true
sleep 1.2
scrape >"$TMP/default.txt" || fail "scrape failed"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
assert_eq "default: every span exported" 10 "$(grep -c '"kind":"SERVER"' "$OBS_OUT")"
assert_eq "default: the limit is 256 MiB" 268435456 \
	"$(counter_sum obsprobe_memory_limit_bytes "" "$TMP/default.txt")"
assert_eq "default: nothing dropped" 0 \
	"$(counter_sum obsprobe_spans_dropped_total "" "$TMP/default.txt")"
finish

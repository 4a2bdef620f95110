#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Go uprobes on a stack check's jbe (obsprobe's sites in runtime.gopanic, runtime.recovery,
# crypto/tls's Write and Read, net/http's roundTrip): when the check fails, the goroutine's
# stack grows (or it is preempted) and the function starts over, so the probe hits twice for one
# call; only the hit that goes on may count. tests/fixtures/gopanic's /deep/N panics and
# recovers 8N times, each in a fresh goroutine, from stack depths 8 bytes apart across its first
# stack sizes, so that some of the panics meet gopanic's check failing. Each must be one
# recovered panic (a second raise of a goroutine's pending panic would report the first as
# unresolved), and none lost.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=64
require_root || finish
if ! GPORT=$(free_port); then
	fail "no free port"
	finish
fi
start_go_service gopanic "$GPORT" "the Go panic service" || finish
start_obsprobe -v --pid "$GOPID" --console off --logs off || finish
assert_true "stderr: gopanic's uprobe on its stack check's jbe" \
	grep -Eq 'uprobe for runtime\.gopanic in .*`jbe [^`]*` \(emulated\), the stack check' "$OBS_ERR"

assert_eq "/deep/$N: panics recovered, as the service counts them" "$((8 * N))" \
	"$(curl -s --max-time $((30 * TIME_SCALE)) "http://127.0.0.1:$GPORT/deep/$N")"
# shellcheck disable=SC2317 # called by wait_until
recovered() { counter_sum obsprobe_crashes_total 'kind="panic_recovered"' "${1:-}"; }
wait_until 15 eval '(( $(recovered) >= 8 * N ))' || true
sleep 1.2 # health counters refresh every second
scrape "$OBS_METRICS" >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
assert_eq "panics counted recovered" "$((8 * N))" "$(recovered "$TMP/metrics.txt")"
assert_eq "panics counted unresolved (a raise seen twice)" 0 \
	"$(counter_sum obsprobe_crashes_total 'kind="panic_unresolved"' "$TMP/metrics.txt")"
assert_no_loss "events lost" "$TMP/metrics.txt"
finish

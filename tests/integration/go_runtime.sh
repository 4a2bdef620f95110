#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Go runtime saturation against the program's own account (tests/fixtures/goapp, built with
# Debian's client_golang): with 1,000 then 10 parked goroutines, obsprobe's go_goroutine_count
# equals the program's go_goroutines within 2% (exactly, when idle), and process_thread_count /
# process_memory_usage_bytes agree with go_threads / process_resident_memory_bytes within 5%
# (the app holds 40 extra threads: go_threads counts the runtime's Ms, one more than the
# kernel's threads here, and the kernel's count in /proc must match process_thread_count
# exactly).
# A stripped build of the same program gets a clear message naming it and keeps its other
# signals; --disable go drops the gauge.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish

build_go goapp "$TMP/goapp" || finish
build_go goapp "$TMP/goapp-stripped" "-s -w" || finish

start_app() { # NAME BIN: APP_PID, APP_URL
	start_bg "$1" "$2" -listen 127.0.0.1:0 -ready-file "$TMP/$1.ready" \
		-stats-file "$TMP/$1.stats" -alloc-mib 24 -lock-threads 40
	APP_PID=$BG_PID
	await_ready "$TMP/$1.ready" "$1" "$1" || finish
	APP_URL=http://$(cat "$TMP/$1.ready")
}
start_app goapp "$TMP/goapp"
APP=$APP_PID
URL=$APP_URL
start_app stripped "$TMP/goapp-stripped"
STRIPPED=$APP_PID

start_obsprobe --pid "$APP" --pid "$STRIPPED" --console off || finish
sel="process_pid=\"$APP\""

stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/goapp.stats"; }
ours() { _series_sum "$1" "$sel"; }

# both sides idle: the app's last stats line and obsprobe's last collection agree
agree() { # WANT_PARKED
	local theirs mine
	theirs=$(stat_of go_goroutines)
	mine=$(ours go_goroutine_count)
	[[ -n "$theirs" && -n "$mine" ]] || return 1
	# the stats line may predate the /park call: wait for it to show the change
	((theirs >= $1 && theirs <= $1 + 60)) || return 1
	((mine == theirs))
}
for n in 1000 10; do
	reply=$(curl -sf "$URL/park?n=$n")
	[[ "$reply" == *"parked $n"* ]] && pass "park $n" || fail "park $n: '$reply'"
	# a collection each second, a stats line each 0.2 s: both settle within a few seconds
	wait_until 10 agree "$n" || true
	theirs=$(stat_of go_goroutines)
	mine=$(ours go_goroutine_count)
	log "$n parked: go_goroutines $theirs, go_goroutine_count $mine"
	assert_ge "go_goroutines with $n parked" "${theirs:-0}" "$n"
	assert_le "go_goroutines with $n parked: the change showed" "${theirs:-0}" $((n + 60))
	assert_true "go_goroutine_count $mine within 2% of go_goroutines $theirs" \
		awk -v a="${mine:-0}" -v b="${theirs:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 0.02 * b) }'
done

within5() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 0.05 * b) }'; }
theirs=$(awk '$1 == "Threads:" { print $2 }' "/proc/$APP/status")
mine=$(ours process_thread_count)
assert_eq "process_thread_count vs the kernel's Threads: in /proc" "$theirs" "$mine"
theirs=$(stat_of go_threads)
log "threads: go_threads $theirs, process_thread_count $mine"
assert_true "process_thread_count $mine within 5% of go_threads $theirs" within5 "${mine:-0}" "${theirs:-0}"
theirs=$(stat_of process_resident_memory_bytes)
mine=$(ours process_memory_usage_bytes)
log "RSS: process_resident_memory_bytes $theirs, process_memory_usage_bytes $mine"
assert_true "process_memory_usage_bytes $mine within 5% of process_resident_memory_bytes $theirs" \
	within5 "${mine:-0}" "${theirs:-0}"

# the stripped build: a message naming it, no gauge, the other signals
assert_contains "a message names the stripped program" "$OBS_ERR" \
	"go_goroutine_count unavailable for pid $STRIPPED"
assert_contains "and says why" "$OBS_ERR" "stripped"
assert_eq "no go_goroutine_count for the stripped build" 0 \
	"$(scrape | grep -c "^go_goroutine_count{.*process_pid=\"$STRIPPED\"")"
assert_ge "process_thread_count of the stripped build" \
	"$(_series_sum process_thread_count "process_pid=\"$STRIPPED\"")" 2
assert_ge "process_memory_usage_bytes of the stripped build (24 MiB held)" \
	"$(_series_sum process_memory_usage_bytes "process_pid=\"$STRIPPED\"")" $((24 << 20))
stop_obsprobe

start_obsprobe --pid "$APP" --console off --disable go || finish
wait_until 5 eval "scrape | grep -q '^process_thread_count{'" || fail "no collection after 5 s"
assert_eq "--disable go: no go_goroutine_count" 0 "$(scrape | grep -c '^go_goroutine_count{')"
assert_lacks "--disable go: no message about Go" "$OBS_ERR" "go_goroutine_count unavailable"
stop_obsprobe
finish

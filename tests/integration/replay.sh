#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# --record and --replay (bench/cost.sh profiles the pipeline on a replay): nginx under obsprobe
# --record, then that recording replayed with no BPF and no process. The replay makes exactly
# the spans the live run made, by nginx's access log: same names, paths, status codes and
# durations to the nanosecond. A recording cut mid-record replays up to the cut and says so; a
# file that is no recording is refused.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N404=13
require_root || finish
nginx_up || finish

REC=$TMP/events.rec
start_obsprobe --pid "$NGINX_PID" --console json --record "$REC" || finish
wrk -t2 -c4 -d2s "$URL/index.html" >"$TMP/wrk.out" 2>&1
args=()
for ((i = 1; i <= N404; i++)); do
	args+=(-o /dev/null "$URL/missing/$i.html")
done
curl -s "${args[@]}"
EXPECTED=$(($(wc -l <"$NG/access.log") - SKIP))
log "nginx logged $EXPECTED requests"
wait_until 20 spans_at_least "$EXPECTED" "$OBS_OUT" kind=SERVER ||
	fail "obsprobe made $(spans_count "$OBS_OUT" kind=SERVER) spans of $EXPECTED"
stop_pid "$OBS_PID" INT
LIVE=$TMP/live.json
cp "$OBS_OUT" "$LIVE"
assert_eq "live: one server span per request nginx logged" "$EXPECTED" "$(spans_count "$LIVE" kind=SERVER)"
assert_eq "live: $N404 404s" "$N404" "$(spans_count "$LIVE" attr:http.response.status_code==404)"

# span_keys FILE: one line per span, sorted: kind, name, path, status, duration in ns
span_keys() {
	"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    s = json.loads(line)
    a = s.get("attributes", {})
    print(s["kind"], s["name"], a.get("url.path"), a.get("http.response.status_code"),
          s["end_time_unix_nano"] - s["start_time_unix_nano"])' "$1" | sort
}

"$OBSPROBE" --replay "$REC" --console json --prometheus off >"$TMP/replay.json" 2>"$TMP/replay.err"
assert_eq "--replay exits 0" 0 $?
assert_contains "--replay says how many events it read" "$TMP/replay.err" "obsprobe: replayed "
assert_eq "replay: as many server spans" "$EXPECTED" "$(spans_count "$TMP/replay.json" kind=SERVER)"
span_keys "$LIVE" >"$TMP/live.keys"
span_keys "$TMP/replay.json" >"$TMP/replay.keys"
if cmp -s "$TMP/live.keys" "$TMP/replay.keys"; then
	pass "replay: the same spans (kind, name, path, status, duration to the ns)"
else
	fail "replay: the spans differ from the live run's"
	diff "$TMP/live.keys" "$TMP/replay.keys" | head -n 10 | sed 's/^/    | /'
fi

# cut 10 bytes short: the last record is damaged, the rest replays
size=$(stat -c %s "$REC")
head -c $((size - 10)) "$REC" >"$TMP/cut.rec"
"$OBSPROBE" --replay "$TMP/cut.rec" --console json --prometheus off >"$TMP/cut.json" 2>"$TMP/cut.err"
assert_eq "a cut recording: exit 1" 1 $?
assert_contains "a cut recording: said" "$TMP/cut.err" "a truncated record after"
assert_ge "a cut recording: the spans before the cut" "$(spans_count "$TMP/cut.json" kind=SERVER)" $((EXPECTED - 2))

"$OBSPROBE" --replay "$NG/access.log" --prometheus off >/dev/null 2>"$TMP/bad.err"
assert_eq "not a recording: exit 1" 1 $?
assert_contains "not a recording: said" "$TMP/bad.err" "is not an obsprobe recording"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Process churn under node-wide mode: `obsprobe --all` (but the Prometheus below) while 2,000 short-lived processes a minute
# come and go for 150 s (half of them curl, which opens a socket and makes a request, half
# /bin/true). Everything obsprobe holds must stay flat once the first minute has filled what is
# meant to be kept a minute (--exited-ttl's saturation series of exited processes): its RSS, the
# entries of every one of its BPF maps, its links; every curl's request is seen by the server's
# span count; a real Prometheus scraping obsprobe every second all along sees `up` 1 at every
# scrape, and /metrics passes promtool; at the end obsprobe leaves no program behind.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
RATE=2000
SECONDS_RUN=150
WARM=60

PORT=$(free_port) || finish
start_bg srv "$PY" -m http.server "$PORT" --bind 127.0.0.1
SRV=$BG_PID
wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || {
	fail "http.server did not start"
	finish
}

start_obsprobe --all --exclude comm=prometheus --console off || finish
OBS=$OBS_PID

# a real Prometheus scraping the node endpoint every second
TARGET=${OBS_METRICS#http://}
prometheus_conf "$TMP/prometheus.yml" "${TARGET%/metrics}" 1s
start_prometheus "$TMP/prometheus.yml" || finish
PROGS=$(obsprobe_prog_ids "$OBS")

# map_entries: "NAME#ID ENTRIES" for every hash map obsprobe's programs use (LRU ones included;
# the objects that walk HTTP/2 frames have an h2_walks map each)
map_entries() {
	local ids
	ids=$(for p in $PROGS; do bpftool -j prog show id "$p" 2>/dev/null; done |
		"$PY" -c 'import json, sys
dec, text, ids = json.JSONDecoder(), sys.stdin.read(), set()
i = 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    o, i = dec.raw_decode(text, i)
    ids.update(o.get("map_ids", []))
print(" ".join(map(str, sorted(ids))))')
	for id in $ids; do
		bpftool -j map show id "$id" 2>/dev/null | "$PY" -c 'import json, subprocess, sys
m = json.load(sys.stdin)
if "hash" in m["type"] and "percpu" not in m["type"]:
    out = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(m["id"])], capture_output=True, text=True).stdout
    print("%s#%d" % (m["name"], m["id"]), len(json.loads(out or "[]")))'
	done
}
links() { bpftool link list 2>/dev/null | grep -c '^[0-9]'; }

map_entries | sort >"$TMP/maps.start"
LINKS0=$(links)
start_bg churn "$PY" "$ROOT/tests/fixtures/churn.py" "$RATE" "$SECONDS_RUN" "$PORT"
CHURN=$BG_PID
sleep "$WARM"
RSS_WARM=$(vm_rss_kib "$OBS")
map_entries | sort >"$TMP/maps.warm"
log "after ${WARM}s: RSS ${RSS_WARM} KiB; maps: $(paste -sd, "$TMP/maps.warm")"
wait_exit "$CHURN" $((SECONDS_RUN + 30)) || fail "the churn did not end"
RSS_END=$(vm_rss_kib "$OBS")
sleep 2 # the last exits
map_entries | sort >"$TMP/maps.end"
log "at the end: RSS ${RSS_END} KiB; maps: $(paste -sd, "$TMP/maps.end")"
read -r _ started _ failed <"$TMP/churn.out"
assert_ge "processes started (${RATE}/min for ${SECONDS_RUN}s)" "$started" $((RATE * SECONDS_RUN * 95 / 6000))
assert_eq "churn processes that failed" 0 "$failed"

# flat: what the first minute filled does not grow over the next 90 s
assert_le "obsprobe RSS growth after the first minute (KiB; ${RSS_WARM} then ${RSS_END})" \
	$((RSS_END - RSS_WARM)) 2048
while read -r name n; do
	start=$(awk -v m="$name" '$1 == m { print $2 }' "$TMP/maps.start")
	assert_le "map $name: entries at the end ($n) against at start (${start:-0}) + 32" \
		"$n" $((${start:-0} + 32))
done <"$TMP/maps.end"
assert_eq "BPF links: as many at the end as at start" "$LINKS0" "$(links)"

# Prometheus: up at every scrape during the churn, and a clean /metrics
R=$((SECONDS_RUN + 2))
assert_eq "Prometheus: up's lowest value over the churn" 1 "$(promql "min_over_time(up{job=\"obsprobe\"}[${R}s])")"
assert_ge "Prometheus: scrapes over the churn (every 1 s)" \
	"$(promql "count_over_time(up{job=\"obsprobe\"}[${R}s])")" $((SECONDS_RUN * 9 / 10))
scrape >"$TMP/metrics-lint.txt" || fail "scrape failed"
check_promtool_metrics "$TMP/metrics-lint.txt"

# every curl's request reached the server, and obsprobe saw each (curl's CLIENT and the server's
# SERVER spans are counted in the histograms; the server is watched too)
scrape >"$TMP/metrics.txt" || fail "scrape failed"
curls=$(((started + 1) / 2))
assert_eq "server spans: one per curl" "$curls" \
	"$(metric_sum http_server_request_duration_seconds "service_name=\"python3.11\"" "$TMP/metrics.txt")"
assert_eq "client spans: one per curl" "$curls" \
	"$(metric_sum http_client_request_duration_seconds "server_port=\"$PORT\"" "$TMP/metrics.txt")"
assert_eq "events lost" 0 "$(counter_sum obsprobe_events_lost_total 'reason="ringbuf_full"' "$TMP/metrics.txt")"

stop_obsprobe "$OBS" "$OBS_ERR"
stop_pid "$SRV"
# shellcheck disable=SC2086 # the IDs, one word each
assert_eq "BPF programs left behind" "" "$(leftover_progs $PROGS)"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The scraper slow and many at once (issue 19). obsprobe's /metrics is its own HTTP/1.1 server,
# one thread polling every connection, PROM_MAX_CONNECTIONS (64) connections and an idle
# time-out of PROM_TIMEOUT_NS (10 s) (exporters/prometheus.c). obsprobe watches nginx under a light paced
# load (wrk, tests/soak/paced.lua: its count is exact), while tests/integration/slowclient.py
# holds, for SLOW seconds, 30 slow-loris connections (a request head a byte a second), 20 slow
# readers (GET /metrics read 100 bytes a second through a 4 KiB receive buffer) and 10 clients
# scraping in a loop (/metrics is made ~310 KiB first, 100 routes of nginx's: more than a slow
# reader's buffers hold):
# - every normal scrape is a 200 with a whole body (Content-Length, last line), every line a
#   comment or a sample with a number, promtool-valid (one body of each shape), within
#   SCRAPE_MAX_S;
# - nginx's request count is exact: wrk's == the access log == the server histogram;
# - obsprobe's VmRSS grows by less than RSS_KIB, and a scrape works once the slow clients left.
# Then beyond the limit: 80 slow-loris at once. A byte a second is activity to the server's
# time-out, so they hold every slot for as long as they go on, and new scrapes wait in the
# kernel's accept queue (logged, not asserted: no answer within 1 s here); obsprobe lives and its memory stays bounded, and once they
# close, scrapes work at once. And 80 that send one line and then nothing: the server closes
# them after PROM_TIMEOUT_S, and scrapes work again while the clients still hold their sockets;
# once all are gone, obsprobe holds no connection of theirs (PROM_TIMEOUT_S later at most) and as
# many sockets as before. Last, 20 fresh requests: the server histogram counts exactly them.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SLOW=15
PROM_TIMEOUT_S=10
MAX_CONNECTIONS=64
SCRAPE_MAX_S=3
HIST=http_server_request_duration_seconds
# obsprobe's VmRSS over its value before the slow clients came: each connection holds an 8 KiB
# buffer for its request head (64: 512 KiB), and each slow reader's answer is a body of its own
# (~310 KiB with 100 routes: 20 readers, ~6 MiB) until it is sent or dropped. Measured here:
# +0.6 MiB at the highest and at the end (+1.2..1.8 MiB with libmicrohttpd before it).
RSS_KIB=$((8 * 1024))
SLOWCLIENT=("$PY" "$ROOT/tests/integration/slowclient.py")

require_root || finish
nginx_up || finish
logged() { echo $(($(wc -l <"$ACCESS") - SKIP)); }
# prom_conns: obsprobe's end of the connections to /metrics, by TCP state ("ESTAB:3 CLOSE-WAIT:1");
# not TIME-WAIT, which the kernel keeps after obsprobe closed them
prom_conns() {
	ss -Htan "sport = :$MPORT" | awk '$1 != "LISTEN" && $1 != "TIME-WAIT" { n[$1]++ } END { for (s in n) printf "%s:%d ", s, n[s] }'
}
# obs_sockets: the sockets obsprobe holds
obs_sockets() { find "/proc/$OBS_PID/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
no_prom_conns() { [[ -z "$(prom_conns)" ]]; }

start_obsprobe --pid "$NGINX_PID" --console off || finish
HOSTPORT=${OBS_METRICS#http://}
HOSTPORT=${HOSTPORT%/metrics}
MPORT=${HOSTPORT#*:}
# 100 routes (obsprobe's cap) make /metrics ~310 KiB: more than loopback's socket buffers hold
# for a reader with a 4 KiB receive buffer, so that the server's writes to slow readers block
args=()
for ((i = 1; i <= 100; i++)); do
	args+=(-o /dev/null "http://127.0.0.1:$P1/page$i.html")
done
assert_eq "100 requests of 100 routes, each a 404" 100 \
	"$(curl -s -w '%{http_code}\n' "${args[@]}" | grep -c '^404$')"
hist_is() { [[ "$(metric_sum "$HIST")" == "$1" ]]; }
wait_until 10 hist_is 100 || fail "the server histogram counted $(metric_sum "$HIST") of 100 requests"
BASE=$(logged)
# a few scrapes first: the body's size, and malloc's arenas warmed
for ((i = 0; i < 5; i++)); do
	scrape >"$TMP/first.metrics" || fail "scrape $i before the slow clients failed"
done
check_promtool_metrics "$TMP/first.metrics"
wait_until 5 no_prom_conns
SOCKETS0=$(obs_sockets)
RSS0=$(vm_rss_kib "$OBS_PID")
log "/metrics is $(wc -c <"$TMP/first.metrics") bytes; obsprobe VmRSS ${RSS0} KiB"

# ---- 30 slow-loris, 20 slow readers, 10 scrapers, under a light load ----
# wrk: 2 connections, 10 ms between requests (~200 a second), none sent after SLOW + 1 s
start_bg wrk wrk -t1 -c2 -d"$((SLOW + 3))s" --timeout 10s -s "$ROOT/tests/soak/paced.lua" \
	"http://127.0.0.1:$P1/index.html" -- "$((SLOW + 1))" 10
WRK=$BG_PID
mkdir -p "$TMP/bodies"
t0=$SECONDS
"${SLOWCLIENT[@]}" --port "$MPORT" --loris 30 --readers 20 --scrapers 10 --duration "$SLOW" \
	--out "$TMP/bodies" >"$TMP/slow1.json" 2>"$TMP/slow1.err" &
SC=$!
track_pid "$SC"
RSS_MAX=$RSS0
while alive "$SC"; do
	r=$(vm_rss_kib "$OBS_PID")
	[[ -n "$r" ]] && ((r > RSS_MAX)) && RSS_MAX=$r
	sleep 0.5
done
wait_exit "$SC" 5
assert_eq "slowclient.py's exit status" 0 "$WAIT_RC"
log "the slow clients ran $((SECONDS - t0)) s"
alive "$OBS_PID" || fail "obsprobe died under the slow clients"
RSS1=$(vm_rss_kib "$OBS_PID")
log "obsprobe VmRSS: ${RSS0} KiB before, at most ${RSS_MAX} KiB during, ${RSS1} KiB after"
assert_le "obsprobe VmRSS growth under the slow clients, at its highest (KiB)" \
	"$((RSS_MAX - RSS0))" "$RSS_KIB"

# what each kind of client got
"$PY" - "$TMP/slow1.json" >"$TMP/slow1.txt" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
sc = d["scrapes"]
ok = [r for r in sc if r["status"] == 200 and not r["bad"]]
bad = [r for r in sc if r["status"] != 200 or r["bad"]]
lor = d["loris"]
print(len(sc), len(ok), "%.3f" % max((r["latency"] for r in sc), default=0),
      sum(1 for c in lor if c["connected_at"] is not None),
      sum(1 for c in lor if c["closed"]),
      min((c["sent"] for c in lor), default=0),
      sum(1 for r in d["readers"] if r["head"].startswith("HTTP/1.1 200")),
      min((r["got"] for r in d["readers"]), default=0),
      sum(1 for r in d["readers"] if r["closed"]))
for r in bad[:5]:
    print("bad scrape:", json.dumps(r), file=sys.stderr)
EOF
read -r NSCRAPES NOK MAXLAT LCONN LCLOSED LSENT RGOT200 RMIN RCLOSED <"$TMP/slow1.txt"
log "scrapes: $NSCRAPES, $NOK whole 200s, the slowest ${MAXLAT} s; loris: $LCONN connected, $LCLOSED closed by obsprobe, each sent >= $LSENT bytes; readers: $RGOT200 got a 200 head, each read >= $RMIN bytes, $RCLOSED closed by obsprobe"
assert_ge "scrapes made (10 clients, every 0.2 s, $SLOW s)" "$NSCRAPES" 100
assert_eq "every scrape a 200 with a whole body" "$NSCRAPES" "$NOK"
assert_true "the slowest scrape took at most $SCRAPE_MAX_S s ($MAXLAT s)" \
	awk -v l="$MAXLAT" -v m="$SCRAPE_MAX_S" 'BEGIN { exit !(l <= m) }'
assert_eq "the 30 slow-loris connected, none closed (a byte a second is not idle)" "30 0" \
	"$LCONN $LCLOSED"
assert_ge "each slow-loris sent a byte a second" "$LSENT" "$((SLOW - 2))"
assert_eq "the 20 slow readers got the head of a 200" 20 "$RGOT200"
assert_eq "no slow reader saw its connection end within $SLOW s" 0 "$RCLOSED"
# promtool on every body would take a tenth of a second each: every body is checked line by line
# here (each a comment or a sample whose value is a number) and reduced to its shape (the text
# with each sample's value taken out); promtool checks one body of each shape, which differ
# from the others of their shape in sample values only.
mkdir -p "$TMP/shapes"
"$PY" - "$TMP/bodies" "$TMP/shapes" >"$TMP/shapes.txt" <<'EOF'
import glob, hashlib, os, re, sys
sample = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (\S+)$")
shapes, bad, n = {}, 0, 0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.txt"))):
    n += 1
    lines, ok = [], True
    for line in open(f, encoding="utf-8").read().split("\n")[:-1]:
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            lines.append(line)
            continue
        m = sample.match(line)
        try:
            float(m.group(2))
        except (AttributeError, ValueError):
            ok = False
            print("not a sample line in", f, repr(line[:200]), file=sys.stderr)
            break
        lines.append(line[:m.start(2)])
    if not ok:
        bad += 1
        continue
    h = hashlib.sha1("\n".join(lines).encode()).hexdigest()
    if h not in shapes:
        shapes[h] = f
        os.link(f, os.path.join(sys.argv[2], "%d.txt" % len(shapes)))
print(n, bad, len(shapes))
EOF
read -r NBODIES BADLINES NSHAPES <"$TMP/shapes.txt"
log "$NBODIES bodies of $NSHAPES shapes"
assert_eq "a body saved for each scrape" "$NSCRAPES" "$NBODIES"
assert_eq "bodies with a line that is no comment and no sample with a number" 0 "$BADLINES"
promtool_bad=0
for f in "$TMP"/shapes/*.txt; do
	promtool check metrics <"$f" >"$TMP/promtool.one" 2>&1
	rc=$?
	other=$(grep -cvE '^(process_thread_count|obsprobe_process_thread_count|go_goroutine_count|db_client_connection_count) non-histogram and non-summary metrics should not have "_count" suffix$' "$TMP/promtool.one")
	if ((rc != 0 && (rc != 3 || other != 0))); then
		promtool_bad=$((promtool_bad + 1))
		((promtool_bad == 1)) && sed 's/^/    | /' "$TMP/promtool.one" | head -n 5
	fi
done
assert_eq "promtool check metrics: shapes with findings (of $NSHAPES)" 0 "$promtool_bad"
rm -rf "$TMP/bodies" "$TMP/shapes"

wait_exit "$WRK" 15
assert_eq "wrk's exit status" 0 "$WAIT_RC"
WRK_REQS=$(wrk_requests "$TMP/wrk.out")
log "wrk: $WRK_REQS requests"
assert_ge "wrk made requests" "${WRK_REQS:-0}" 100
assert_eq "nginx logged every request wrk made" "$WRK_REQS" "$(($(logged) - BASE))"
wait_until 10 hist_is "$(logged)" ||
	fail "server histogram $(metric_sum "$HIST") of the $(logged) requests nginx logged"
assert_eq "server histogram count == nginx's log" "$(logged)" "$(metric_sum "$HIST")"
assert_true "a scrape once the slow clients left" scrape
log "obsprobe's /metrics connections after the slow clients: $(prom_conns)"

# ---- beyond the limit: 80 slow-loris ----
"${SLOWCLIENT[@]}" --port "$MPORT" --loris 80 --duration 8 >"$TMP/slow2.json" 2>"$TMP/slow2.err" &
SC=$!
track_pid "$SC"
sleep 3
codes=""
for ((i = 0; i < 3; i++)); do
	codes+="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$OBS_METRICS")/"
done
log "scrapes while 80 slow-loris hold the connections: $codes (000: no answer within 1 s)"
wait_exit "$SC" 15
assert_eq "slowclient.py (80 slow-loris)'s exit status" 0 "$WAIT_RC"
"$PY" -c '
import json, sys
lor = json.load(open(sys.argv[1]))["loris"]
print(sum(1 for c in lor if c["connected_at"] is not None), sum(1 for c in lor if c["closed"]),
      sum(1 for c in lor if c["answer"]), "|".join(sorted(set(c["answer"] for c in lor if c["answer"]))))
' "$TMP/slow2.json" >"$TMP/slow2.txt"
read -r LCONN LCLOSED LANSWERED LANSWERS <"$TMP/slow2.txt"
log "80 slow-loris: $LCONN connected, $LCLOSED closed by obsprobe, $LANSWERED answered (${LANSWERS:-})"
alive "$OBS_PID" || fail "obsprobe died under 80 slow-loris"
assert_true "a scrape answers within 2 s of the 80 slow-loris closing" wait_until 2 scrape
log "obsprobe's /metrics connections after the 80 slow-loris: $(prom_conns)"
RSS2=$(vm_rss_kib "$OBS_PID")
log "obsprobe VmRSS after 80 slow-loris: ${RSS2} KiB"
assert_le "obsprobe VmRSS growth after 80 slow-loris (KiB)" "$((RSS2 - RSS0))" "$RSS_KIB"

# ---- beyond the limit and idle: the server's time-out frees the slots ----
t0=$(date +%s.%N)
"${SLOWCLIENT[@]}" --port "$MPORT" --loris 80 --idle --duration $((PROM_TIMEOUT_S + 5)) \
	>"$TMP/slow3.json" 2>"$TMP/slow3.err" &
SC=$!
track_pid "$SC"
sleep 2
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$OBS_METRICS")
log "a scrape while 80 idle connections hold the slots: $code; connections: $(prom_conns)"
if wait_until $((PROM_TIMEOUT_S + 5)) scrape; then
	took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	pass "a scrape works again $took s after the 80 idle connections came, before they closed"
else
	fail "no scrape within $((PROM_TIMEOUT_S + 7)) s of 80 idle connections"
fi
alive "$SC" || fail "slowclient.py (80 idle) ended before the scrape worked: not the time-out's doing"
wait_exit "$SC" 15
"$PY" -c '
import json, sys
lor = json.load(open(sys.argv[1]))["loris"]
at = sorted(c["closed_at"] for c in lor if c["closed"])
print(sum(1 for c in lor if c["connected_at"] is not None), len(at),
      sum(1 for c in lor if c["closed"] == "eof"), at[0] if at else "-", at[-1] if at else "-")
' "$TMP/slow3.json" >"$TMP/slow3.txt"
read -r LCONN LCLOSED LEOF FIRST LAST <"$TMP/slow3.txt"
log "80 idle: $LCONN connected (the kernel's accept queue takes those past the limit), $LCLOSED closed by obsprobe (the first at ${FIRST} s, the last at ${LAST} s)"
assert_eq "the 80 idle connections connected" 80 "$LCONN"
assert_ge "idle connections closed by obsprobe (its time-out)" "$LCLOSED" 1
assert_eq "each closed cleanly (EOF)" "$LCLOSED" "$LEOF"
assert_true "none closed before PROM_TIMEOUT_S ($PROM_TIMEOUT_S s; the first at $FIRST s)" \
	awk -v f="$FIRST" -v t="$PROM_TIMEOUT_S" 'BEGIN { exit !(f >= t - 0.5) }'
assert_le "no more closed at once than the server's connection limit" "$LCLOSED" \
	"$MAX_CONNECTIONS"
alive "$OBS_PID" || fail "obsprobe died under 80 idle connections"
RSS3=$(vm_rss_kib "$OBS_PID")
log "obsprobe VmRSS at the end: ${RSS3} KiB"
assert_le "obsprobe VmRSS growth at the end (KiB)" "$((RSS3 - RSS0))" "$RSS_KIB"
# Connections a client closed while they waited in the kernel's accept queue are accepted
# later with their EOF already there and closed at once (libmicrohttpd, before the server's
# own, held each in CLOSE-WAIT until its time-out). None is left: no connection leaks.
log "obsprobe's /metrics connections once the idle clients closed: $(prom_conns)"
wait_until $((PROM_TIMEOUT_S + 3)) no_prom_conns
assert_eq "obsprobe's /metrics connections, $((PROM_TIMEOUT_S + 3)) s after the last client left" "" \
	"$(prom_conns)"
assert_eq "sockets obsprobe holds: as many as before the slow clients" "$SOCKETS0" "$(obs_sockets)"

# ---- and it still counts exactly ----
BEFORE=$(metric_sum "$HIST")
for ((i = 1; i <= 20; i++)); do
	curl -s -o /dev/null "http://127.0.0.1:$P1/index.html"
done
wait_until 10 hist_is "$((BEFORE + 20))"
assert_eq "20 fresh requests: the server histogram counts exactly them" 20 \
	"$(($(metric_sum "$HIST") - BEFORE))"
assert_eq "server histogram count == nginx's log, in all" "$(logged)" "$(metric_sum "$HIST")"
scrape >"$TMP/last.metrics" || fail "the last scrape failed"
check_promtool_metrics "$TMP/last.metrics"
stop_obsprobe
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Cardinality (issue 19): 100,000 requests with distinct paths, header values and SQL texts;
# obsprobe's series, span names and memory stay capped.
#
# HTTP: nginx under wrk (a Lua script makes every request's path, User-Agent and X-Card header
# distinct: /item/<letters>/<n>, whose route, /item/<letters>/{id}, is distinct too), 1,000
# requests to warm up, then 100,000. obsprobe keeps 100 routes per service (--max-routes) and
# folds the rest into "other": the server histogram has exactly 101 series, its count is every
# request nginx logged, the "other" series counts exactly obsprobe_route_overflow_total (every
# request past the first 100), the span names are those 101 (never a raw path), no header value
# reaches /metrics, obsprobe's VmRSS after the 100,000 stays within HTTP_RSS_KIB of what it was
# after the warm-up and within FLAT_RSS_KIB of what it was after the first MID of them, and all
# its series of every family stay under ALL_SERIES_MAX.
#
# PostgreSQL: one psql -f of 1,000 statements to warm up, then 100,000, each distinct after
# redaction and each with a string literal: half `SELECT '<secret>' AS c<i>` (no collection),
# half `SELECT * FROM t<i>` on tables that do not exist (42P01, a collection of its own each).
# The DB histogram holds at most 2,000 series (obsprobe's MAX_SERIES) plus the overflow series
# (otel_metric_overflow="true"), which counts exactly what obsprobe_metric_series_overflow_total
# says it diverted; so does db_client_operation_errors_total; its total count is every statement
# psql sent (psql's rows and errors); obsprobe_errors_total keeps 200 groups and overflow and
# counts every 42P01; every db.query.text is redacted to its shape and no literal reaches the
# spans, stderr or /metrics. The summary memo (8 texts, user/protocols/pg.c) and the prepared
# statement table (256 a connection; psql uses none) cannot be seen: the memory bounds stand for
# them, VmRSS within PG_RSS_KIB of the warm-up's and within FLAT_RSS_KIB of the MID one's.
# The span names are "SELECT" and "SELECT t<i>" for the first PG_MAX_COLLECTIONS (1,000)
# collections only: past them a statement is named by its operation alone, counted in
# obsprobe_db_collection_overflow_total, and its span still carries db.collection.name.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=100000
WARM=1000
ROUTES=100 # obsprobe's default --max-routes
PG_COLLECTIONS=1000 # PG_MAX_COLLECTIONS: collections named in DB span names
MAX_SERIES=2000 # user/app.c MAX_SERIES: series per metric family
HIST=http_server_request_duration_seconds
DBHIST=db_client_operation_duration_seconds
ERROR_GROUPS=200 # user/app.c: error groups (obsprobe_errors_total) before "overflow"
# obsprobe's VmRSS is read after the warm-up, once MID of the N are in (every cap reached long
# before), and at the end, /metrics unscraped in between (a scrape's body is MiBs with 2,000 DB
# series). Measured here: HTTP +12..48 KiB warm-up to end; PostgreSQL +1.5 MiB, the DB families
# filling from ~500 series to their 2 x 2,000 (~500 B each) before MID, then +8 KiB to the end.
MID=20000
HTTP_RSS_KIB=$((4 * 1024)) # warm-up to end
PG_RSS_KIB=$((6 * 1024))   # warm-up to end: 3,000 more DB series
# MID to end, 80,000 more distinct values: 1 MiB is 13 bytes a value
FLAT_RSS_KIB=1024
# obsprobe's own series (a histogram counts once), every family: 2 x 2,001 DB series
# (histogram and errors counter), 201 error groups, 101 HTTP series, its health and
# saturation series (~200)
ALL_SERIES_MAX=5000

require_root || finish

# ---- HTTP ----
nginx_up || finish

# wrk -s distinct.lua URL -- COUNT TAG: exactly COUNT requests over all threads (each thread
# reserves a request in delay() before request() builds it, so no thread sends more than its
# share), each with a distinct path, User-Agent and X-Card; then every connection idles.
cat >"$TMP/distinct.lua" <<'EOF'
-- tid: a global each thread gets from setup()
local nthreads = 0
local limit, reserved, made, tag = 0, 0, 0, ""

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end

function init(args)
	local total, threads = tonumber(args[1]), tonumber(args[3])
	limit = math.floor(total / threads)
	if tid <= total % threads then
		limit = limit + 1
	end
	tag = args[2]
	math.randomseed(os.time() * 100 + tid)
end

-- n in letters only: a word, never an identifier to route folding
local function word(n)
	local s = ""
	repeat
		s = string.char(97 + n % 26) .. s
		n = math.floor(n / 26)
	until n == 0
	return s
end

function delay()
	if reserved >= limit then
		return 24 * 3600 * 1000
	end
	reserved = reserved + 1
	return 0
end

function request()
	made = made + 1
	local id = tid * 10000000 + made
	local r = math.random(100000000, 999999999)
	return wrk.format("GET", "/item/" .. tag .. word(id) .. "/" .. made, {
		["User-Agent"] = "cardinality-" .. tag .. "-" .. id .. "-" .. r,
		["X-Card"] = "v" .. r .. "-" .. id,
	})
end
EOF

logged() { echo $(($(wc -l <"$ACCESS") - SKIP)); }

# series_all FILE: the series of every family in a /metrics text, a histogram's counted once
series_all() {
	awk '$1 == "#" && $2 == "TYPE" && $4 == "histogram" { h[$3] = 1 }
		/^#/ { next }
		{
			name = $1
			sub(/\{.*/, "", name)
			base = name
			if (sub(/_(bucket|sum)$/, "", base) && (base in h))
				next
			n++
		}
		END { print n + 0 }' "$1"
}

# distinct_load NAME COUNT TAG: COUNT distinct requests (2 threads, 8 connections); waits until
# nginx logged them all, then stops wrk (SIGINT: it reports what it completed). Sets WRK_REQS,
# and RSS_MID when nginx has logged MID of them.
distinct_load() {
	local name=$1 count=$2 tag=$3 want
	want=$(($(logged) + count))
	start_bg "$name" wrk -t2 -c8 -d300s --timeout 300s -s "$TMP/distinct.lua" "$URL" -- \
		"$count" "$tag" 2
	local pid=$BG_PID
	RSS_MID=""
	if ((count > MID)); then
		wait_until 120 eval "(( \$(logged) >= $((want - count + MID)) ))"
		RSS_MID=$(vm_rss_kib "$OBS_PID")
	fi
	wait_until 120 eval "(( \$(logged) >= $want ))" ||
		fail "$name: nginx logged $(logged) requests of $want after 120 s"
	sleep 0.2
	kill -INT "$pid"
	wait_exit "$pid" 10
	WRK_REQS=$(wrk_requests "$TMP/$name.out")
	assert_eq "$name: wrk completed exactly $count requests" "$count" "$WRK_REQS"
}

start_obsprobe --pid "$NGINX_PID" --console json || finish

t0=$SECONDS
distinct_load warm "$WARM" w
# the spans are out once obsprobe has counted the requests: no scrape before the RSS is read
spans_out() { (($(wc -l <"$OBS_OUT") >= $1)); }
wait_until 20 spans_out "$WARM" || fail "warm-up: $(wc -l <"$OBS_OUT") spans of $WARM"
RSS_WARM=$(vm_rss_kib "$OBS_PID")
log "HTTP warm-up: $WARM requests in $((SECONDS - t0)) s, obsprobe VmRSS ${RSS_WARM} KiB"

t0=$SECONDS
distinct_load main "$N" m
TOTAL=$((WARM + N))
wait_until 30 spans_out "$TOTAL" || fail "$(wc -l <"$OBS_OUT") spans of $TOTAL after 30 s"
log "HTTP: $N requests in $((SECONDS - t0)) s"
RSS_AFTER=$(vm_rss_kib "$OBS_PID")
sleep 1.2 # a span too many would have come by now; a health tick for the counters
scrape >"$TMP/http.metrics" || fail "scrape failed"
log "HTTP: obsprobe VmRSS ${RSS_WARM} KiB after the warm-up, ${RSS_MID:-?} after $MID more, ${RSS_AFTER} KiB after $N (+$((RSS_AFTER - RSS_WARM)) KiB)"

assert_eq "nginx logged every request" "$TOTAL" "$(logged)"
assert_eq "nginx saw $TOTAL distinct paths" "$TOTAL" \
	"$(tail -n +"$((SKIP + 1))" "$ACCESS" | awk '{ print $5 }' | sort -u | wc -l)"
assert_eq "every request a 404 (no such file)" "$TOTAL" \
	"$(tail -n +"$((SKIP + 1))" "$ACCESS" | awk '$3 == 404' | wc -l)"
assert_eq "server histogram count == requests nginx logged" "$TOTAL" \
	"$(metric_sum "$HIST" "" "$TMP/http.metrics")"
assert_eq "server histogram series: $ROUTES routes + other" "$((ROUTES + 1))" \
	"$(series_count "${HIST}_count" "$TMP/http.metrics")"
OVER=$(counter_sum obsprobe_route_overflow_total "" "$TMP/http.metrics")
assert_eq "obsprobe_route_overflow_total: every request past the first $ROUTES routes" \
	"$((TOTAL - ROUTES))" "$OVER"
assert_eq "http_route=\"other\" counts what obsprobe_route_overflow_total says" "$OVER" \
	"$(metric_sum "$HIST" 'http_route="other"' "$TMP/http.metrics")"
assert_eq "no http_route with a raw path (/item/<word>/<digits>)" 0 \
	"$(grep -c 'http_route="/item/[a-z]*/[0-9]' "$TMP/http.metrics")"
assert_eq "no header value in /metrics (User-Agent, X-Card)" 0 \
	"$(grep -cE 'cardinality-|"v[0-9]{9}-' "$TMP/http.metrics")"
assert_eq "the server histogram needs no overflow series (routes are capped first)" 0 \
	"$(counter_sum obsprobe_metric_series_overflow_total "metric=\"$HIST\"" "$TMP/http.metrics")"
assert_le "obsprobe VmRSS growth, warm-up to the end of the $N requests (KiB)" \
	"$((RSS_AFTER - RSS_WARM))" "$HTTP_RSS_KIB"
assert_le "obsprobe VmRSS growth over the last $((N - MID)) requests (KiB)" \
	"$((RSS_AFTER - ${RSS_MID:-0}))" "$FLAT_RSS_KIB"
ALL=$(series_all "$TMP/http.metrics")
log "HTTP: obsprobe serves $ALL series in all"
assert_le "series on /metrics, every family" "$ALL" "$ALL_SERIES_MAX"

# the spans: one per request, named by the capped route
"$PY" - "$OBS_OUT" >"$TMP/names.txt" <<'EOF'
import collections, json, sys
names = collections.Counter()
raw = spans = 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s.get("kind") != "SERVER":
        continue
    spans += 1
    names[s["name"]] += 1
    if s["attributes"].get("url.path", "") in s["name"]:
        raw += 1
print(spans, len(names), raw, names.get("GET other", 0))
EOF
read -r SPANS NAMES RAW OTHER_SPANS <"$TMP/names.txt"
log "spans: $SPANS SERVER spans, $NAMES distinct names"
assert_eq "one SERVER span per request" "$TOTAL" "$SPANS"
assert_eq "distinct span names: $ROUTES routes + 'GET other'" "$((ROUTES + 1))" "$NAMES"
assert_eq "no span named with its raw path" 0 "$RAW"
assert_eq "spans named 'GET other' == route overflows" "$OVER" "$OTHER_SPANS"
stop_obsprobe
rm -f "$OBS_OUT"

# ---- PostgreSQL ----
start_postgres "$TMP/pg" || finish
SECRET=sekrit

# sql_file FILE COUNT TAG: COUNT statements, one a line, each distinct after redaction and
# each with a string literal: odd ones SELECT '<secret>' AS cTAG<i>, even ones a SELECT from
# tTAG<i>, which does not exist (42P01)
sql_file() {
	awk -v n="$2" -v tag="$3" -v secret="$SECRET" 'BEGIN {
		srand()
		for (i = 1; i <= n; i++) {
			if (i % 2)
				printf "SELECT %c%s-%d-%d%c AS c%s%d;\n", 39, secret, i, int(rand() * 1e9), 39, tag, i
			else
				printf "SELECT * FROM t%s%d WHERE v = %c%s-%d%c;\n", tag, i, 39, secret, i, 39
		}
	}' >"$1"
}
sql_file "$TMP/warm.sql" "$WARM" w
sql_file "$TMP/main.sql" "$N" m

# one psql per file, forked by the runner obsprobe watches; the second waits for $TMP/main.go
cat >"$TMP/psql.sh" <<'EOF'
tmp=$1
shift
"$@" -f "$tmp/warm.sql" >"$tmp/warm.out" 2>"$tmp/warm.err"
echo $? >"$tmp/warm.rc"
for ((i = 0; i < 1200; i++)); do
	[[ -e $tmp/main.go ]] && break
	sleep 0.05
done
"$@" -f "$tmp/main.sql" >"$tmp/main.out" 2>"$tmp/main.err"
echo $? >"$tmp/main.rc"
EOF
start_runner psql bash "$TMP/psql.sh" "$TMP" "$PG_BIN/psql" -X -q -A -t -v VERBOSITY=terse \
	-h 127.0.0.1 -p "$PG_PORT" -U postgres -d obsprobe
start_obsprobe --pid "$RUNNER_PID" --console json || finish

# psql_counts NAME COUNT: psql's own count: a row for each odd statement, an error (42P01) for
# each even one
psql_counts() {
	assert_eq "$1: psql's exit status" 0 "$(cat "$TMP/$1.rc")"
	assert_eq "$1: psql printed a row for each of the $(($2 - $2 / 2)) SELECT ... AS" \
		"$(($2 - $2 / 2))" "$(grep -c "^$SECRET-" "$TMP/$1.out")"
	assert_eq "$1: psql reported 42P01 for each of the $(($2 / 2)) SELECT ... FROM" \
		"$(($2 / 2))" "$(grep -c 'ERROR:  relation "t[wm][0-9]*" does not exist' "$TMP/$1.err")"
}

t0=$SECONDS
touch "$TMP/psql.go"
wait_until 60 test -s "$TMP/warm.rc" || fail "warm-up psql still runs after 60 s"
wait_until 20 spans_out "$WARM" || fail "warm-up: $(wc -l <"$OBS_OUT") spans of $WARM"
RSS_WARM=$(vm_rss_kib "$OBS_PID")
log "PostgreSQL warm-up: $WARM statements in $((SECONDS - t0)) s, obsprobe VmRSS ${RSS_WARM} KiB"
psql_counts warm "$WARM"

t0=$SECONDS
touch "$TMP/main.go"
TOTAL=$((WARM + N))
wait_until 60 spans_out "$((WARM + MID))" || fail "$(wc -l <"$OBS_OUT") spans of $((WARM + MID)) after 60 s"
RSS_MID=$(vm_rss_kib "$OBS_PID")
wait_until 120 test -s "$TMP/main.rc" || fail "psql still runs after 120 s"
wait_until 30 spans_out "$TOTAL" || fail "$(wc -l <"$OBS_OUT") spans of $TOTAL after 30 s"
log "PostgreSQL: $N statements in $((SECONDS - t0)) s"
RSS_AFTER=$(vm_rss_kib "$OBS_PID")
sleep 1.2 # a span too many would have come by now; a health tick for the counters
scrape >"$TMP/pg.metrics" || fail "scrape failed"
log "PostgreSQL: obsprobe VmRSS ${RSS_WARM} KiB after the warm-up, ${RSS_MID} after $MID more, ${RSS_AFTER} KiB after $N (+$((RSS_AFTER - RSS_WARM)) KiB)"
psql_counts main "$N"
touch "$TMP/psql.done"
M=$TMP/pg.metrics
NERR=$((WARM / 2 + N / 2))
assert_eq "DB histogram count == statements sent" "$TOTAL" "$(metric_sum "$DBHIST" "" "$M")"
assert_eq "DB histogram: its series, capped at $MAX_SERIES, and the overflow series" \
	"$((MAX_SERIES + 1))" "$(series_count "${DBHIST}_count" "$M")"
# 'SELECT' (no collection) took one series, the first 1,999 collections the others
DBOVER=$(counter_sum obsprobe_metric_series_overflow_total "metric=\"$DBHIST\"" "$M")
assert_eq "obsprobe_metric_series_overflow_total{metric=\"$DBHIST\"}: the statements on collections past the first $((MAX_SERIES - 1))" \
	"$((NERR - (MAX_SERIES - 1)))" "$DBOVER"
assert_eq "obsprobe_db_collection_overflow_total: the statements on collections past the first $PG_COLLECTIONS" \
	"$((NERR - PG_COLLECTIONS))" "$(counter_sum obsprobe_db_collection_overflow_total "" "$M")"
assert_eq "the overflow series counts what was diverted" "$DBOVER" \
	"$(metric_sum "$DBHIST" 'otel_metric_overflow="true"' "$M")"
assert_eq "DB errors counter: every 42P01" "$NERR" \
	"$(counter_sum db_client_operation_errors_total "" "$M")"
assert_eq "DB errors counter: its series, capped, and the overflow series" \
	"$((MAX_SERIES + 1))" "$(series_count db_client_operation_errors_total "$M")"
assert_le "obsprobe_errors_total: $ERROR_GROUPS groups and overflow" \
	"$(series_count obsprobe_errors_total "$M")" "$((ERROR_GROUPS + 1))"
assert_eq "obsprobe_errors_total: every 42P01" "$NERR" \
	"$(counter_sum obsprobe_errors_total 'error_type="42P01"' "$M")"
ALL=$(series_all "$M")
log "PostgreSQL: obsprobe serves $ALL series in all"
assert_le "series on /metrics, every family" "$ALL" "$ALL_SERIES_MAX"
assert_le "obsprobe VmRSS growth, warm-up to the end of the $N statements (KiB)" \
	"$((RSS_AFTER - RSS_WARM))" "$PG_RSS_KIB"
assert_le "obsprobe VmRSS growth over the last $((N - MID)) statements (KiB)" \
	"$((RSS_AFTER - RSS_MID))" "$FLAT_RSS_KIB"
"$PY" - "$OBS_OUT" >"$TMP/db.txt" <<'EOF'
import collections, json, re, sys
names = collections.Counter()
distinct = set()
spans = unredacted = 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s.get("kind") != "CLIENT":
        continue
    spans += 1
    names[re.sub(r"[0-9]+", "N", s["name"])] += 1
    distinct.add(s["name"])
    text = s["attributes"].get("db.query.text", "")
    if not re.fullmatch(r"(SELECT \? AS c[wm][0-9]+|SELECT \* FROM t[wm][0-9]+ WHERE v = \?);?", text):
        unredacted += 1
print(spans, unredacted, len(distinct), " ".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in sorted(names.items())))
EOF
read -r SPANS UNREDACTED NAMES SHAPES <"$TMP/db.txt"
log "DB spans: $SPANS, $NAMES distinct names, by shape: $SHAPES"
assert_eq "distinct DB span names: 'SELECT' and the first $PG_COLLECTIONS collections'" \
	"$((PG_COLLECTIONS + 1))" "$NAMES"
assert_eq "one CLIENT span per statement" "$TOTAL" "$SPANS"
assert_eq "every db.query.text redacted to its shape" 0 "$UNREDACTED"
for f in "$OBS_OUT" "$OBS_ERR" "$M"; do
	assert_lacks "no literal in $(basename "$f")" "$f" "$SECRET"
done
stop_obsprobe
wait_exit "$RUNNER_PID" 10

finish

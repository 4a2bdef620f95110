#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A thread-per-request HTTP server that queries PostgreSQL through libpq (Python's psycopg2) on
# the thread serving the request: every query's CLIENT span is the child of that request's
# SERVER span (same trace, parent = the server span), counted exactly, its literal redacted.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=6
require_root || finish
"$PY" -c 'import psycopg2' 2>/dev/null || {
	fail "python3-psycopg2 is missing (scripts/install-deps.sh installs it)"
	finish
}
start_postgres "$TMP/pg" || finish
pg_psql -c "CREATE TABLE items (id int PRIMARY KEY, name text);
	INSERT INTO items SELECT g, 'item' || g FROM generate_series(1, 5) g" || {
	fail "cannot create the items table"
	finish
}
PORT=$(free_port) || { fail "no free port"; finish; }
start_bg httpdb "$PY" "$ROOT/tests/fixtures/pg/http_db.py" "$PORT" \
	"host=127.0.0.1 port=$PG_PORT user=postgres dbname=obsprobe"
HTTPDB=$BG_PID
wait_until 10 grep -q '^ready' "$TMP/httpdb.out" || {
	fail "the HTTP server did not start: $(cat "$TMP/httpdb.err")"
	finish
}
start_obsprobe --pid "$HTTPDB" --console json || finish

codes=""
for ((i = 1; i <= N; i++)); do
	id=$((i < N ? i : 99)) # the last one is an item that does not exist: 404, one query still
	codes+="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/item/$id") "
done
assert_eq "the server's answers" "200 200 200 200 200 404 " "$codes"

O=$OBS_OUT
wait_until 10 eval "[[ \$(spans_count '$O' kind=SERVER) -ge $N && \
	\$(spans_count '$O' kind=CLIENT attr:db.system.name=postgresql) -ge $N ]]" ||
	fail "after 10 s: $(spans_count "$O" kind=SERVER) SERVER, $(spans_count "$O" kind=CLIENT) CLIENT spans of $N each"
assert_eq "SERVER spans" "$N" "$(spans_count "$O" kind=SERVER name="GET /item/{id}")"
# (no db.namespace: the connection was made before obsprobe came, its startup went unseen)
assert_eq "DB spans" "$N" "$(spans_count "$O" kind=CLIENT name="SELECT items" \
	attr:db.operation.name=SELECT attr:db.collection.name=items \
	"attr:db.query.text~^SELECT name FROM items WHERE id = \\?$" attr:server.port=="$PG_PORT")"
# each DB span under its own request: same trace, the server span as parent, inside its time
pairs=$("$PY" - "$O" <<'PYEOF'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
servers = {s["span_id"]: s for s in spans if s["kind"] == "SERVER"}
ok = 0
for s in spans:
    if s["kind"] != "CLIENT":
        continue
    p = servers.get(s.get("parent_span_id", ""))
    if p and p["trace_id"] == s["trace_id"] and \
            p["start_time_unix_nano"] <= s["start_time_unix_nano"] <= s["end_time_unix_nano"] <= p["end_time_unix_nano"]:
        ok += 1
print(ok, len({s.get("parent_span_id") for s in spans if s["kind"] == "CLIENT"}))
PYEOF
)
assert_eq "DB spans whose parent is their request's span, and distinct parents" "$N $N" "$pairs"
assert_eq "histogram count" "$N" "$(metric_sum db_client_operation_duration_seconds \
	'db_operation_name="SELECT",db_system_name="postgresql"')"
stop_obsprobe
finish

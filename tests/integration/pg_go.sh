#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A Go client on database/sql and github.com/lib/pq (tests/fixtures/pgclient: pure Go, no libpq,
# so only the wire protocol is seen), watched from before it connects. It runs a simple Query
# (exec, with literals), an extended query on the unnamed statement (query with an argument), a
# named prepared statement executed 5 times, and an INSERT that fails at Execute with a unique
# violation (23505). One span per statement run, each with the database, the operation, the
# table, the server's address and port, and the SQL of its Parse for the extended ones (never
# lib/pq's statement name, never an argument). The Ping of `open` is lib/pq's empty query ";":
# no statement, no span. Then the pool holds 3 idle connections (database/sql keeps what
# SetMaxIdleConns allows; the server's pg_stat_activity counts them too), which the
# db_client_connection_count gauge shows, and none once the pool is closed.
# shellcheck disable=SC2016 # $1, $2 in single quotes: PostgreSQL's parameters, or eval's
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
start_postgres "$TMP/pg" || finish
# made before obsprobe starts, by a psql it does not watch
pg_psql -c 'CREATE TABLE items (id int PRIMARY KEY, name text)' \
	-c "INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 5) AS i" ||
	{ fail "making the table items failed"; finish; }
build_go pgclient "$TMP/pgclient" || finish
run_fixture pg "$TMP/pgclient"
GOPID=$FIX_PID
start_obsprobe --pid "$GOPID" --console json || finish

DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=obsprobe sslmode=disable application_name=pgclient"
fixture_cmd pg "open $DSN" || finish
{
	fixture_cmd pg "exec UPDATE items SET name = 'renamed' WHERE id = 1" &&
		assert_eq "exec: rows updated" 1 "$(fix_field rows)"
	fixture_cmd pg 'query SELECT id, name FROM items WHERE id >= $1 | 2' &&
		assert_eq "query with an argument: rows" 4 "$(fix_field rows)"
	fixture_cmd pg 'prepare byid SELECT name FROM items WHERE id = $1'
	for i in 1 2 3 4 5; do
		fixture_cmd pg "stmt byid $i" && assert_eq "stmt byid $i: rows" 1 "$(fix_field rows)"
	done
	fixture_ask pg 'query INSERT INTO items (id, name) VALUES ($1, $2) | 3 duplicate' &&
		assert_eq "the duplicate INSERT failed with 23505" "err 23505" "$(cut -d' ' -f1-2 <<<"$FIX_REPLY")"
}

# (a regex: a filter that ends in ? tests presence)
EXEC_RE='^UPDATE items SET name = \? WHERE id = \?$'
QUERY_SQL='SELECT id, name FROM items WHERE id >= $1'
STMT_SQL='SELECT name FROM items WHERE id = $1'
INSERT_SQL='INSERT INTO items (id, name) VALUES ($1, $2)'
wait_until 10 spans_at_least 8 "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of 8 after 10 s"
sleep 1.2 # a span too many would have come by now
db=(kind=CLIENT attr:db.system.name=postgresql attr:db.namespace=obsprobe
	attr:server.address=127.0.0.1 "attr:server.port==$PG_PORT" "res:process.pid==$GOPID")
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=CLIENT \
	-- "${db[@]}" \
	-- "${db[@]}" "name=UPDATE items" attr:db.operation.name=UPDATE attr:db.collection.name=items \
	"attr:db.query.text~$EXEC_RE" status!=ERROR \
	-- "${db[@]}" "name=SELECT items" attr:db.operation.name=SELECT attr:db.collection.name=items \
	"attr:db.query.text=$QUERY_SQL" status!=ERROR \
	-- "${db[@]}" "name=SELECT items" attr:db.operation.name=SELECT attr:db.collection.name=items \
	"attr:db.query.text=$STMT_SQL" status!=ERROR \
	-- "${db[@]}" "name=INSERT items" attr:db.operation.name=INSERT attr:db.collection.name=items \
	"attr:db.query.text=$INSERT_SQL" status=ERROR attr:db.response.status_code=23505 \
	attr:error.type=23505 \
	-- kind=CLIENT status=ERROR \
	-- kind=CLIENT 'attr:db.query.text~duplicate|renamed')
assert_eq "CLIENT spans: 1 exec + 1 query + 5 stmt + 1 failed INSERT (the Ping's ';' is none)" 8 \
	"${C[0]:-}"
assert_eq "spans with db.system.name, db.namespace, server.address, server.port, the Go pid" 8 \
	"${C[1]:-}"
assert_eq "exec (simple Query): UPDATE items, literals replaced by ?" 1 "${C[2]:-}"
assert_eq "query (unnamed statement): SELECT items with the SQL of its Parse" 1 "${C[3]:-}"
assert_eq "stmt (named prepared statement): 5 SELECT items with the SQL of its Parse" 5 "${C[4]:-}"
assert_eq "the failed INSERT: ERROR, 23505 in db.response.status_code and error.type" 1 "${C[5]:-}"
assert_eq "ERROR spans" 1 "${C[6]:-}"
assert_eq "spans with a literal or an argument in db.query.text" 0 "${C[7]:-}"
log "SQL of the spans: $(spans_field "$OBS_OUT" attr:db.query.text kind=CLIENT | sort | uniq -c |
	paste -sd'|')"

scrape >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
M=$TMP/metrics.txt
HIST=db_client_operation_duration_seconds
ITEMS='db_system_name="postgresql"&&db_collection_name="items"'
assert_eq "histogram: SELECT items" 6 \
	"$(metric_sum $HIST "$ITEMS&&db_operation_name=\"SELECT\"&&!error_type=" "$M")"
assert_eq "histogram: INSERT items failed with 23505" 1 \
	"$(metric_sum $HIST "$ITEMS&&db_operation_name=\"INSERT\"&&error_type=\"23505\"" "$M")"
assert_eq "db_client_operation_errors_total" 1 \
	"$(counter_sum db_client_operation_errors_total 'db_system_name="postgresql"' "$M")"

# the pool: 3 idle connections, as database/sql and the server count them
POOL="db_client_connection_pool_name=\"127.0.0.1:$PG_PORT\"&&db_system_name=\"postgresql\""
# conn_gauge STATE: the gauge's sum for the pool in STATE
conn_gauge() { counter_sum db_client_connection_count "$POOL&&db_client_connection_state=\"$1\""; }
fixture_cmd pg "conns 3" &&
	assert_eq "database/sql: open, idle, in use" "3 3 0" \
		"$(fix_field open) $(fix_field idle) $(fix_field inuse)"
assert_eq "the server's backends for application_name pgclient" 3 \
	"$(pg_psql -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgclient'")"
wait_until 5 eval '[[ $(conn_gauge idle) == 3 ]]'
assert_eq "db_client_connection_count idle, pool 127.0.0.1:$PG_PORT" 3 "$(conn_gauge idle)"
assert_eq "db_client_connection_count used" 0 "$(conn_gauge used)"
fixture_cmd pg close
wait_until 5 eval '[[ $(conn_gauge idle) == 0 ]]'
assert_eq "db_client_connection_count once the pool is closed" "0 0" \
	"$(conn_gauge idle) $(conn_gauge used)"
stop_obsprobe
fixture_cmd pg exit
finish

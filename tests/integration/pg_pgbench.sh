#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# PostgreSQL client spans against pgbench's own count: `pgbench -n -c 1 -T 3` in each query mode
# (simple: one Query message per statement; extended: Parse/Bind/Execute of the unnamed
# statement; prepared: PQprepare once per statement, then Bind/Execute by name), started by a
# watched shell after obsprobe attached, and once more over the unix socket. pgbench lets the
# transaction in flight at the -T deadline finish, and counts it: its "number of transactions
# actually processed", N, is exact (in 21 runs against a server logging every statement, each of
# the 7 statements of its script, BEGIN, 3 UPDATEs, SELECT, INSERT, END, ran exactly N times);
# here N is checked against the rows pgbench inserted into pgbench_history. Before its
# transactions, pgbench's setup connection runs 2 queries of its own (the scale from
# pgbench_branches, the partitioning of pgbench_accounts): 7N + 2 spans in all.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

DURATION=3

require_root || finish
start_postgres "$TMP/pg" || finish
pgbench_init 1 || finish

# history_rows: rows in pgbench_history (one per committed pgbench transaction)
history_rows() { pg_psql -At -c 'SELECT count(*) FROM pgbench_history'; }

# lines FILE: its lines (one span a line: cheaper than parsing)
lines() { wc -l <"$1"; }

# pgbench_watched NAME MODE HOST: pgbench in MODE against HOST, forked by a runner that obsprobe
# watches; waits for pgbench's result and for its 7N + 2 spans, then scrapes /metrics into
# $TMP/NAME.metrics and stops obsprobe. Sets N (0 when pgbench gave no count).
pgbench_watched() {
	local name=$1 mode=$2 host=$3 before rows total
	N=0
	before=$(history_rows)
	start_runner "$name" "$PG_BIN/pgbench" -n -c 1 -T "$DURATION" -M "$mode" -h "$host" \
		-p "$PG_PORT" -U postgres obsprobe
	start_obsprobe --pid "$RUNNER_PID" --console json || return 1
	touch "$TMP/$name.go"
	if ! wait_until $((DURATION + 20)) test -s "$TMP/$name.rc" ||
		! grep -q '^number of transactions actually processed: ' "$TMP/$name.out"; then
		fail "$name: pgbench gave no result after $((DURATION + 20)) s"
		sed 's/^/    | /' "$TMP/$name.err" | head -n 10
		return 1
	fi
	N=$(pgbench_transactions "$TMP/$name.out")
	assert_ge "$name: pgbench ran transactions" "$N" 1
	assert_eq "$name: pgbench's failed transactions" 0 \
		"$(awk '/^number of failed transactions: / { print $5 }' "$TMP/$name.out")"
	rows=$(($(history_rows) - before))
	assert_eq "$name: pgbench's count is what it inserted into pgbench_history" "$N" "$rows"
	total=$((7 * N + 2))
	# 30 s at most, or 3 s without a new span
	count_settles 0.1 300 30 "$total" lines "$OBS_OUT" || fail "$name: only $(wc -l <"$OBS_OUT") spans of $total came"
	sleep 1.2 # a span too many would have come by now; one health tick for the counters
	scrape >"$TMP/$name.metrics" || fail "$name: scrape of $OBS_METRICS failed"
	stop_obsprobe
	touch "$TMP/$name.done"
	wait_exit "$RUNNER_PID" 10
	assert_eq "$name: pgbench exit status" 0 "$WAIT_RC"
}

# check_counts NAME [-- FILTER...]...: the spans and metrics of one run, per statement of
# pgbench's script; then C holds the counts of the caller's own filter groups
check_counts() {
	local name=$1 db=(kind=CLIENT attr:db.system.name=postgresql)
	shift
	mapfile -t C < <(spans_counts "$OBS_OUT" \
		-- kind=CLIENT \
		-- "${db[@]}" attr:db.namespace=obsprobe \
		-- "${db[@]}" name=BEGIN attr:db.operation.name=BEGIN '!attr:db.collection.name' \
		-- "${db[@]}" name=END attr:db.operation.name=END '!attr:db.collection.name' \
		-- "${db[@]}" "name=UPDATE pgbench_accounts" attr:db.operation.name=UPDATE \
		attr:db.collection.name=pgbench_accounts \
		-- "${db[@]}" "name=SELECT pgbench_accounts" attr:db.operation.name=SELECT \
		attr:db.collection.name=pgbench_accounts \
		-- "${db[@]}" "name=UPDATE pgbench_tellers" attr:db.operation.name=UPDATE \
		attr:db.collection.name=pgbench_tellers \
		-- "${db[@]}" "name=UPDATE pgbench_branches" attr:db.operation.name=UPDATE \
		attr:db.collection.name=pgbench_branches \
		-- "${db[@]}" "name=INSERT pgbench_history" attr:db.operation.name=INSERT \
		attr:db.collection.name=pgbench_history \
		-- kind=CLIENT status=ERROR \
		-- "${db[@]}" 'attr:db.response.status_code?' \
		"$@")
	assert_eq "$name: CLIENT spans (7 statements x $N transactions + pgbench's 2 setup queries)" \
		"$((7 * N + 2))" "${C[0]:-}"
	assert_eq "$name: spans with db.system.name postgresql, db.namespace obsprobe" \
		"$((7 * N + 2))" "${C[1]:-}"
	assert_eq "$name: BEGIN spans" "$N" "${C[2]:-}"
	assert_eq "$name: END spans" "$N" "${C[3]:-}"
	assert_eq "$name: UPDATE pgbench_accounts spans" "$N" "${C[4]:-}"
	assert_eq "$name: SELECT pgbench_accounts spans" "$N" "${C[5]:-}"
	assert_eq "$name: UPDATE pgbench_tellers spans" "$N" "${C[6]:-}"
	assert_eq "$name: UPDATE pgbench_branches spans" "$N" "${C[7]:-}"
	assert_eq "$name: INSERT pgbench_history spans" "$N" "${C[8]:-}"
	assert_eq "$name: ERROR spans" 0 "${C[9]:-}"
	assert_eq "$name: spans with db.response.status_code" 0 "${C[10]:-}"
	C=("${C[@]:11}")
	assert_eq "$name: histogram count of UPDATE pgbench_accounts" "$N" \
		"$(metric_sum db_client_operation_duration_seconds \
			'db_system_name="postgresql"&&db_operation_name="UPDATE"&&db_collection_name="pgbench_accounts"' \
			"$TMP/$name.metrics")"
	assert_eq "$name: operations counted as failed" 0 \
		"$(counter_sum db_client_operation_errors_total "" "$TMP/$name.metrics")"
	assert_eq "$name: events lost" 0 \
		"$(counter_sum obsprobe_events_lost_total "" "$TMP/$name.metrics")"
}

TCP=(kind=CLIENT attr:server.address=127.0.0.1 "attr:server.port==$PG_PORT")
ACC=(kind=CLIENT "name=UPDATE pgbench_accounts")
SIMPLE_RE='^UPDATE pgbench_accounts SET abalance = abalance \+ -?\? WHERE aid = \?;$'
# shellcheck disable=SC2016 # PostgreSQL's $1 and $2
PARAM_SQL='UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;'

# simple: the literals of each Query are replaced by ? (a negative delta may keep its sign)
pgbench_watched simple simple 127.0.0.1 &&
	check_counts simple -- "${TCP[@]}" -- "${ACC[@]}" "attr:db.query.text~$SIMPLE_RE" &&
	assert_eq "simple: spans to 127.0.0.1:$PG_PORT" "$((7 * N + 2))" "${C[0]:-}" &&
	assert_eq "simple: UPDATE pgbench_accounts with its literals replaced by ?" "$N" "${C[1]:-}"
first=$(spans_field "$OBS_OUT" attr:db.query.text "${ACC[@]}" | sed -n 1p)
assert_true "simple: the first UPDATE pgbench_accounts span's SQL ('$first') matches $SIMPLE_RE" \
	grep -qE "$SIMPLE_RE" <<<"$first"

# extended and prepared: the SQL of the Parse, $1 and $2 kept (prepared: not the name P_1)
for mode in extended prepared; do
	pgbench_watched "$mode" "$mode" 127.0.0.1 &&
		check_counts "$mode" -- "${TCP[@]}" -- "${ACC[@]}" "attr:db.query.text=$PARAM_SQL" &&
		assert_eq "$mode: spans to 127.0.0.1:$PG_PORT" "$((7 * N + 2))" "${C[0]:-}" &&
		assert_eq "$mode: UPDATE pgbench_accounts carries '$PARAM_SQL'" "$N" "${C[1]:-}"
done

# the unix socket: no TCP peer; server.address is the socket's directory when obsprobe knows it
pgbench_watched unix simple "$PG_SOCKDIR" &&
	check_counts unix -- kind=CLIENT attr:network.transport=unix \
		-- kind=CLIENT "attr:server.address=$PG_SOCKDIR" \
		-- kind=CLIENT '!attr:server.address' \
		-- kind=CLIENT 'attr:server.port?' &&
	assert_eq "unix: spans with network.transport unix" "$((7 * N + 2))" "${C[0]:-}" &&
	assert_eq "unix: spans whose server.address is $PG_SOCKDIR or absent" "$((7 * N + 2))" \
		"$((${C[1]:-0} + ${C[2]:-0}))" &&
	log "unix: server.address $PG_SOCKDIR on ${C[1]:-0} spans, absent on ${C[2]:-0}, server.port on ${C[3]:-0}"
finish

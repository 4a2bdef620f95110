#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# PostgreSQL errors: a psql forked by a watched shell runs 4 statements, one Query each (psql
# goes on after an error when ON_ERROR_STOP is unset): SELECT 1, a syntax error (SQLSTATE
# 42601), an INSERT, and the same INSERT again, a unique violation (23505). The two failures
# are ERROR spans carrying their SQLSTATE in db.response.status_code and error.type, and are
# counted in db_client_operation_errors_total and, by error_type, in the duration histogram; the
# two others are not errors. psql's own report (VERBOSITY verbose prints the SQLSTATE) is the
# reference.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
start_postgres "$TMP/pg" || finish
# made before obsprobe starts, by a psql it does not watch
pg_psql -c 'CREATE TABLE t (id int PRIMARY KEY)' || { fail "CREATE TABLE t failed"; finish; }

start_runner psql "$PG_BIN/psql" -X -q -v VERBOSITY=verbose -h 127.0.0.1 -p "$PG_PORT" \
	-U postgres -d obsprobe -c 'SELECT 1' -c 'SELEC 1' -c 'INSERT INTO t VALUES (1)' \
	-c 'INSERT INTO t VALUES (1)'
start_obsprobe --pid "$RUNNER_PID" --console json || finish
touch "$TMP/psql.go"
wait_until 20 test -s "$TMP/psql.rc" || fail "psql still runs after 20 s"
assert_eq "psql reported the syntax error and the unique violation, in that order" \
	"42601 23505" "$(grep -oE '^ERROR:  [0-9A-Z]{5}:' "$TMP/psql.err" | cut -c9-13 | paste -sd' ')"
wait_until 10 spans_at_least 4 "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of 4 after 10 s"
sleep 1.2 # a span too many would have come by now; one health tick for the counters
scrape >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"

db=(kind=CLIENT attr:db.system.name=postgresql attr:db.namespace=obsprobe
	attr:server.address=127.0.0.1 "attr:server.port==$PG_PORT")
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=CLIENT \
	-- kind=CLIENT status=ERROR \
	-- "${db[@]}" status=ERROR attr:db.response.status_code=42601 attr:error.type=42601 \
	-- "${db[@]}" status=ERROR attr:db.response.status_code=23505 attr:error.type=23505 \
	"name=INSERT t" attr:db.operation.name=INSERT attr:db.collection.name=t \
	-- "${db[@]}" status!=ERROR name=SELECT attr:db.operation.name=SELECT \
	'!attr:db.collection.name' '!attr:db.response.status_code' '!attr:error.type' \
	-- "${db[@]}" status!=ERROR "name=INSERT t" attr:db.operation.name=INSERT \
	attr:db.collection.name=t '!attr:db.response.status_code' '!attr:error.type' \
	-- kind=CLIENT status!=ERROR 'attr:db.response.status_code?' \
	-- kind=CLIENT status!=ERROR 'attr:error.type?')
assert_eq "CLIENT spans, one per statement" 4 "${C[0]:-}"
assert_eq "ERROR spans" 2 "${C[1]:-}"
assert_eq "the syntax error: one ERROR span, 42601 in db.response.status_code and error.type" 1 \
	"${C[2]:-}"
assert_eq "the unique violation: one ERROR span 'INSERT t', 23505 in both" 1 "${C[3]:-}"
assert_eq "SELECT 1: not an error" 1 "${C[4]:-}"
assert_eq "the first INSERT: not an error" 1 "${C[5]:-}"
assert_eq "spans not in error with a db.response.status_code" 0 "${C[6]:-}"
assert_eq "spans not in error with an error.type" 0 "${C[7]:-}"
log "names of the spans: $(spans_field "$OBS_OUT" name kind=CLIENT | paste -sd'|')"

M=$TMP/metrics.txt
ERRS=db_client_operation_errors_total
HIST=db_client_operation_duration_seconds
assert_eq "$ERRS" 2 "$(counter_sum $ERRS 'db_system_name="postgresql"' "$M")"
assert_eq "$ERRS by error_type: 42601, 23505" "1 1" \
	"$(counter_sum $ERRS 'error_type="42601"' "$M") $(counter_sum $ERRS 'error_type="23505"' "$M")"
assert_eq "obsprobe_errors_total, the error reports, by SQLSTATE: 42601, 23505" "1 1" \
	"$(counter_sum obsprobe_errors_total 'error_type="42601"' "$M") $(counter_sum obsprobe_errors_total 'error_type="23505"' "$M")"
assert_eq "histogram: every operation" 4 "$(metric_sum $HIST 'db_system_name="postgresql"' "$M")"
INSERT_T='db_operation_name="INSERT"&&db_collection_name="t"'
assert_eq "histogram: INSERT t failed with 23505, and succeeded" "1 1" \
	"$(metric_sum $HIST "$INSERT_T&&error_type=\"23505\"" "$M") $(metric_sum $HIST "$INSERT_T&&!error_type=" "$M")"
assert_eq "histogram: SELECT did not fail" 1 \
	"$(metric_sum $HIST 'db_operation_name="SELECT"&&!error_type=' "$M")"
stop_obsprobe
touch "$TMP/psql.done"
wait_exit "$RUNNER_PID" 10
assert_eq "psql's exit status (1: its last statement failed)" 1 "$WAIT_RC"
finish

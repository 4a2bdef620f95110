#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# SQL literals never leave obsprobe: a psql forked by a watched shell sends a string and a
# number in a SELECT (which the server sends back in a row) and a string in an INSERT. The
# spans' db.query.text has each literal replaced by ?, and neither value appears in stdout
# (json, and text with -vv), stderr or /metrics.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SECRETS=(SuperSecret42 9876543210)
SELECT_SQL="SELECT 'SuperSecret42' AS a, 9876543210 AS b"
INSERT_SQL="INSERT INTO secrets (v) VALUES ('SuperSecret42')"

require_root || finish
start_postgres "$TMP/pg" || finish
# made before obsprobe starts, by a psql it does not watch
pg_psql -c 'CREATE TABLE secrets (id serial PRIMARY KEY, v text)' ||
	{ fail "CREATE TABLE secrets failed"; finish; }

for mode in json text; do
	extra=()
	[[ $mode == text ]] && extra=(-vv)
	start_runner "psql-$mode" "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres \
		-d obsprobe -c "$SELECT_SQL" -c "$INSERT_SQL"
	start_obsprobe --pid "$RUNNER_PID" --console "$mode" "${extra[@]}" || continue
	touch "$TMP/psql-$mode.go"
	wait_until 20 test -s "$TMP/psql-$mode.rc" || fail "$mode: psql still runs after 20 s"
	assert_eq "$mode: psql's exit status" 0 "$(cat "$TMP/psql-$mode.rc" 2>/dev/null)"
	assert_eq "$mode: the secrets went to the server and came back in the row" \
		"SuperSecret42|9876543210" "$(cat "$TMP/psql-$mode.out")"
	if [[ $mode == json ]]; then
		wait_until 10 spans_at_least 2 "$OBS_OUT" kind=CLIENT ||
			fail "json: only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of 2 after 10 s"
		assert_eq "json: the SELECT's db.query.text" "SELECT ? AS a, ? AS b" \
			"$(spans_field "$OBS_OUT" attr:db.query.text kind=CLIENT name=SELECT)"
		assert_eq "json: the INSERT's db.query.text" "INSERT INTO secrets (v) VALUES (?)" \
			"$(spans_field "$OBS_OUT" attr:db.query.text kind=CLIENT "name=INSERT secrets")"
		assert_eq "json: CLIENT spans" 2 "$(spans_count "$OBS_OUT" kind=CLIENT)"
	else
		# text: one line per span
		wait_until 10 eval "(( \$(grep -c ' CLIENT ' '$OBS_OUT') >= 2 ))" ||
			fail "text: only $(grep -c ' CLIENT ' "$OBS_OUT") CLIENT lines of 2 after 10 s"
	fi
	# a health tick: -vv and the counters have had their chance to print
	sleep 1.2
	scrape >"$TMP/metrics.$mode" || fail "$mode: scrape failed"
	assert_eq "$mode: histogram count of both statements" 2 \
		"$(metric_sum db_client_operation_duration_seconds 'db_system_name="postgresql"' "$TMP/metrics.$mode")"
	stop_obsprobe
	touch "$TMP/psql-$mode.done"
	wait_exit "$RUNNER_PID" 10
	for f in "$OBS_OUT" "$OBS_ERR" "$TMP/metrics.$mode"; do
		for s in "${SECRETS[@]}"; do
			assert_lacks "$mode: $s not in $(basename "$f")" "$f" "$s"
		done
	done
done
finish

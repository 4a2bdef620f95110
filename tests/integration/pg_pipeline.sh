#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# libpq's pipeline mode, driven by pgbench's \startpipeline/\endpipeline: three queries of one
# transaction leave in one batch (Parse/Bind/Describe/Execute three times, one Sync) and their
# answers come back together. Each Execute is its own span, paired with its own answer in
# order: per statement exactly pgbench's transaction count, each with its own SQL text and
# returned rows.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

T=40
require_root || finish
start_postgres "$TMP/pg" || finish
pg_psql -c 'CREATE TABLE p (id int); INSERT INTO p SELECT generate_series(1, 5)' ||
	{ fail "cannot create the table p"; finish; }
cat >"$TMP/pipeline.sql" <<'SQL'
\startpipeline
SELECT 1 AS one;
SELECT id FROM p WHERE id <= 3;
SELECT count(*) AS n FROM p;
\endpipeline
SQL
start_runner pgb "$PG_BIN/pgbench" -n -c 1 -t "$T" -M extended -f "$TMP/pipeline.sql" \
	-h 127.0.0.1 -p "$PG_PORT" -U postgres obsprobe
start_obsprobe --pid "$RUNNER_PID" --console json || finish
touch "$TMP/pgb.go"
wait_until 30 test -s "$TMP/pgb.rc" || fail "pgbench still runs after 30 s"
assert_eq "pgbench's exit status" 0 "$(cat "$TMP/pgb.rc")"
assert_eq "pgbench's transaction count" "$T/$T" \
	"$(awk '/^number of transactions actually processed: / { print $NF }' "$TMP/pgb.out")"
wait_until 10 spans_at_least $((3 * T)) "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of $((3 * T)) after 10 s"
sleep 1
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=CLIENT \
	-- kind=CLIENT name=SELECT "attr:db.query.text~^SELECT \\? AS one;$" \
	-- kind=CLIENT "name=SELECT p" "attr:db.query.text~^SELECT id FROM p WHERE id <= \\?;$" \
	attr:db.response.returned_rows==3 \
	-- kind=CLIENT "name=SELECT p" "attr:db.query.text=SELECT count(*) AS n FROM p;" \
	attr:db.response.returned_rows==1 \
	-- kind=CLIENT status=ERROR)
# (pgbench's own setup queries are not in -f runs with -n: none but the script's)
assert_eq "spans: 3 per transaction" $((3 * T)) "${C[0]:-}"
assert_eq "the first query of each batch" "$T" "${C[1]:-}"
assert_eq "the second, with its 3 rows" "$T" "${C[2]:-}"
assert_eq "the third, with its 1 row" "$T" "${C[3]:-}"
assert_eq "no error" 0 "${C[4]:-}"
stop_obsprobe
touch "$TMP/pgb.done"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# PostgreSQL over TLS: a server with ssl=on, psql with sslmode=require (SSLRequest, 'S', then a
# TLS session whose plaintext libpq hands to OpenSSL). The plaintext comes from the TLS
# uprobes: the startup inside the session gives db.namespace, each query its span, with its
# literal redacted. With --disable tls the same session is ciphertext to obsprobe: no span, no
# garbage parsed, the connection counted in obsprobe_events_lost_total{reason=
# "pg_tls_not_decrypted"}.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
make_cert "$TMP/pgtls" || finish
chown -R postgres:postgres "$TMP/pgtls" && chmod 600 "$TMP/pgtls/key.pem"
start_postgres "$TMP/pg" -c ssl=on -c "ssl_cert_file=$TMP/pgtls/cert.pem" \
	-c "ssl_key_file=$TMP/pgtls/key.pem" || finish
pg_psql -c 'CREATE TABLE t (id int, note text)' || { fail "CREATE TABLE t failed"; finish; }

# psql_tls NAME OBSPROBE-FLAGS...: psql over TLS, forked by a runner obsprobe watches from the
# start; its 3 statements, then obsprobe's output and metrics
psql_tls() {
	local name=$1
	shift
	start_runner "$name" "$PG_BIN/psql" -X -q -A -t \
		"host=127.0.0.1 port=$PG_PORT user=postgres dbname=obsprobe sslmode=require" \
		-c "SELECT 'TlsSecret7' AS a" -c "INSERT INTO t VALUES (42, 'TlsSecret7')" \
		-c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'
	start_obsprobe --pid "$RUNNER_PID" --console json "$@" || return 1
	touch "$TMP/$name.go"
	wait_until 20 test -s "$TMP/$name.rc" || fail "$name: psql still runs after 20 s"
	assert_eq "$name: psql's exit status" 0 "$(cat "$TMP/$name.rc")"
	assert_eq "$name: the session was TLS (pg_stat_ssl)" t "$(tail -n 1 "$TMP/$name.out" | tr -d ' ')"
}

psql_tls tls
wait_until 10 spans_at_least 3 "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of 3 after 10 s"
sleep 1.2
scrape >"$TMP/tls.metrics"
db=(kind=CLIENT attr:db.system.name=postgresql attr:db.namespace=obsprobe
	attr:server.address=127.0.0.1 "attr:server.port==$PG_PORT")
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=CLIENT \
	-- "${db[@]}" name=SELECT "attr:db.query.text~^SELECT \\? AS a$" \
	-- "${db[@]}" "name=INSERT t" "attr:db.query.text~^INSERT INTO t VALUES \\(\\?, \\?\\)$" \
	-- "${db[@]}" "name=SELECT pg_stat_ssl")
assert_eq "CLIENT spans" 3 "${C[0]:-}"
assert_eq "the literal SELECT, from the TLS plaintext" 1 "${C[1]:-}"
assert_eq "the INSERT, its literals redacted" 1 "${C[2]:-}"
assert_eq "the pg_stat_ssl query" 1 "${C[3]:-}"
assert_eq "the literal in no output" 0 "$(cat "$OBS_OUT" "$OBS_ERR" "$TMP/tls.metrics" | grep -c TlsSecret7)"
assert_eq "nothing parsed out of sync" 0 \
	"$(counter_sum obsprobe_parse_errors_total 'protocol="postgresql"' "$TMP/tls.metrics")"
stop_obsprobe
touch "$TMP/tls.done"

# the same without the TLS uprobes: ciphertext, counted, nothing made of it
psql_tls notls --disable tls
sleep 1.5
scrape >"$TMP/notls.metrics"
assert_eq "--disable tls: no span" 0 "$(spans_count "$OBS_OUT" kind=CLIENT)"
assert_eq "--disable tls: the TLS connection counted" 1 \
	"$(counter_sum obsprobe_events_lost_total 'reason="pg_tls_not_decrypted"' "$TMP/notls.metrics")"
assert_eq "--disable tls: nothing parsed out of sync" 0 \
	"$(counter_sum obsprobe_parse_errors_total 'protocol="postgresql"' "$TMP/notls.metrics")"
stop_obsprobe
touch "$TMP/notls.done"
finish

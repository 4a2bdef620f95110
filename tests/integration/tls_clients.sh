#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# HTTPS clients: curl (OpenSSL) and wget (GnuTLS), started by a watched shell after obsprobe
# attached, each one short-lived, against nginx over TLS. Their CLIENT spans carry the
# decrypted method, path and status, url.scheme https, and the server's address and port.
# The GnuTLS library is probed once, before wget maps it (wget would be done first otherwise).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
if ! P1=$(free_port) || ! P2=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/nginx" "$P1" "$P2" https || finish
URL=https://127.0.0.1:$P1
ACCESS=$TMP/nginx/access.log
SKIP=$(wc -l <"$ACCESS")

start_runner clients bash -c "
	curl -sk -o /dev/null $URL/index.html
	curl -sk -o /dev/null $URL/missing.html
	curl -sk -o /dev/null $URL/big.bin
	wget -q --no-check-certificate -O /dev/null $URL/index.html
	wget -q --no-check-certificate -O /dev/null $URL/nope.html
	wget -q --no-check-certificate -O /dev/null $URL/big.bin
	exit 0"
start_obsprobe --pid "$RUNNER_PID" --console json -v || finish
touch "$TMP/clients.go"
wait_until 30 spans_at_least 6 "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of 6 after 30 s"
assert_eq "nginx logged the 6 requests" 6 "$(tail -n +"$((SKIP + 1))" "$ACCESS" | wc -l)"
common=(kind=CLIENT attr:url.scheme=https attr:server.address=127.0.0.1 "attr:server.port==$P1"
	attr:http.request.method=GET)
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=CLIENT \
	-- "${common[@]}" res:process.executable.name=curl "attr:url.full=$URL/index.html" \
	attr:http.response.status_code==200 \
	-- "${common[@]}" res:process.executable.name=curl "attr:url.full=$URL/missing.html" \
	attr:http.response.status_code==404 status=ERROR \
	-- "${common[@]}" res:process.executable.name=curl "attr:url.full=$URL/big.bin" \
	attr:http.response.status_code==200 \
	-- "${common[@]}" res:process.executable.name=wget "attr:url.full=$URL/index.html" \
	attr:http.response.status_code==200 \
	-- "${common[@]}" res:process.executable.name=wget "attr:url.full=$URL/nope.html" \
	attr:http.response.status_code==404 status=ERROR \
	-- "${common[@]}" res:process.executable.name=wget "attr:url.full=$URL/big.bin" \
	attr:http.response.status_code==200)
assert_eq "CLIENT spans in all" 6 "${C[0]:-}"
assert_eq "curl (OpenSSL): GET /index.html 200" 1 "${C[1]:-}"
assert_eq "curl (OpenSSL): GET /missing.html 404, an error on the client side" 1 "${C[2]:-}"
assert_eq "curl (OpenSSL): GET /big.bin (2 MiB, many SSL_read calls) 200" 1 "${C[3]:-}"
assert_eq "wget (GnuTLS): GET /index.html 200" 1 "${C[4]:-}"
assert_eq "wget (GnuTLS): GET /nope.html 404, an error on the client side" 1 "${C[5]:-}"
assert_eq "wget (GnuTLS): GET /big.bin (2 MiB, many gnutls_record_recv calls) 200" 1 "${C[6]:-}"
# gnutls_record_recv starts with `sub $8,%rsp` (single-stepped): its probe sits on the internal
# receive it jumps to, which the kernel emulates
# shellcheck disable=SC2016 # backquotes of the -v line, not a command
assert_eq "-v: gnutls_record_recv probed on the internal receive, emulated" 1 \
	"$(grep -c '^obsprobe: uprobe for gnutls_record_recv in .*/libgnutls\.so[^:]*: at 0x[0-9a-f]* `[^`]*` (emulated), the start of the internal receive gnutls_record_recv+0x[0-9a-f]* jumps to' "$OBS_ERR")"
assert_eq "one 'TLS: probing GnuTLS' line" 1 \
	"$(grep -c '^obsprobe: TLS: probing GnuTLS in .*/libgnutls\.so.*gnutls_record_recv gnutls_record_send' "$OBS_ERR")"
assert_eq "one 'TLS: probing OpenSSL' line" 1 \
	"$(grep -c '^obsprobe: TLS: probing OpenSSL in .*/libssl\.so.*SSL_read SSL_write' "$OBS_ERR")"

sleep 1.2 # health counters refresh every second
scrape >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
assert_eq "client histogram: 4 requests answered 200, 2 answered 404, all to port $P1" "4 2" \
	"$(metric_sum http_client_request_duration_seconds "server_port=\"$P1\"&&http_response_status_code=\"200\"" "$TMP/metrics.txt") $(metric_sum http_client_request_duration_seconds "server_port=\"$P1\"&&http_response_status_code=\"404\"" "$TMP/metrics.txt")"
assert_eq "HTTP parse errors (no ciphertext parsed)" 0 \
	"$(counter_sum obsprobe_parse_errors_total 'protocol="http"' "$TMP/metrics.txt")"
assert_no_loss "events lost" "$TMP/metrics.txt"
stop_obsprobe
touch "$TMP/clients.done"
wait_exit "$RUNNER_PID" 30
assert_eq "the clients' shell exit status" 0 "$WAIT_RC"
finish

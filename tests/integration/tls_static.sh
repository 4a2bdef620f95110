#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OpenSSL linked into the executable (tests/fixtures/tls/tlsserver.c against Debian's libssl.a):
# SSL_read and SSL_write are found in the binary's own symbol table and its HTTPS requests
# appear. The same server stripped of its symbols cannot be probed: one clear line names it,
# its ciphertext is not parsed as garbage, and its other signals (threads, memory) go on.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
make_cert "$TMP/cert" || finish
build_tls_server "$TMP/tls-static" static || finish
build_tls_server "$TMP/tls-stripped" stripped || finish

# the OpenSSL linked in gets the placement the shared libssl gets: its reads and writes on the
# worker both forms call, whose first instruction the kernel emulates
"$OBSPROBE" --probe-sites "$TMP/tls-static" >"$TMP/sites.txt" 2>&1
for f in SSL_read SSL_write; do
	assert_eq "--probe-sites: the static $f shares the probe ${f}_ex places on their worker" 1 \
		"$(grep -cE "^uprobe for $f in $TMP/tls-static: shared, at 0x[0-9a-f]+ \`push[^\`]*\` \(emulated\), the start of the function ${f}\+0x[0-9a-f]+ and ${f}_ex\+0x[0-9a-f]+ call" "$TMP/sites.txt")"
	assert_eq "--probe-sites: the static ${f}_ex is probed on its worker, at an emulated instruction" 1 \
		"$(grep -cE "^uprobe for ${f}_ex in $TMP/tls-static: at 0x[0-9a-f]+ \`push[^\`]*\` \(emulated\), the start of the function ${f}\+0x[0-9a-f]+ and ${f}_ex\+0x[0-9a-f]+ call" "$TMP/sites.txt")"
done
"$OBSPROBE" --probe-sites "$TMP/tls-stripped" >"$TMP/sites-stripped.txt" 2>&1
assert_contains "--probe-sites: the stripped server has nothing to probe" "$TMP/sites-stripped.txt" \
	"no function obsprobe probes"

# start_server ID BIN: the server on a free port; its port in SRV_PORT, its PID in FIX_PID.
start_server() {
	run_fixture "$1" "$2" 0 "$TMP/cert/cert.pem" "$TMP/cert/key.pem" || return 1
	if ! wait_until 10 grep -q '^ready port=' "$TMP/$1.out"; then
		fail "$1 did not start"
		sed 's/^/    | /' "$TMP/$1.err" | head -n 10
		return 1
	fi
	SRV_PORT=$(sed -n 's/^ready port=//p' "$TMP/$1.out")
}

start_server static "$TMP/tls-static" || finish
S1=$FIX_PID P1=$SRV_PORT
start_server stripped "$TMP/tls-stripped" || finish
S2=$FIX_PID P2=$SRV_PORT

start_obsprobe --pid "$S1" --pid "$S2" --console json -v || finish
assert_contains "the static server's own SSL_read/SSL_write are probed" "$OBS_ERR" \
	"obsprobe: TLS: probing OpenSSL in $TMP/tls-static (build-id "
assert_contains "the stripped server is named, with why" "$OBS_ERR" \
	"obsprobe: TLS: cannot probe $TMP/tls-stripped (pid $S2): OpenSSL is linked into it but it is stripped (no symbol table)"

# static: 2 on one keep-alive connection, a 1 MB body, a 404
U1=https://127.0.0.1:$P1
assert_eq "curl: static server answers" "200 200 200 404" \
	"$(curl -sk -o /dev/null -w '%{http_code} ' "$U1/hello" -o /dev/null "$U1/hello" -o /dev/null "$U1/big/1000000" -o /dev/null "$U1/nope" | sed 's/ $//')"
# stripped: answers, unseen
U2=https://127.0.0.1:$P2
assert_eq "curl: stripped server answers" "200 200" \
	"$(curl -sk -o /dev/null -w '%{http_code} ' "$U2/hello" -o /dev/null "$U2/hello" | sed 's/ $//')"

wait_until 10 spans_at_least 4 "$OBS_OUT" kind=SERVER ||
	fail "only $(spans_count "$OBS_OUT" kind=SERVER) SERVER spans of 4 after 10 s"
sleep 0.5
mapfile -t C < <(spans_counts "$OBS_OUT" \
	-- kind=SERVER \
	-- kind=SERVER "res:process.pid==$S1" attr:url.scheme=https "attr:server.port==$P1" \
	attr:client.address=127.0.0.1 attr:url.path=/hello attr:http.response.status_code==200 \
	-- kind=SERVER "res:process.pid==$S1" attr:url.scheme=https attr:url.path=/big/1000000 \
	attr:http.response.status_code==200 \
	-- kind=SERVER "res:process.pid==$S1" attr:url.scheme=https attr:url.path=/nope \
	attr:http.response.status_code==404 \
	-- "res:process.pid==$S2")
assert_eq "SERVER spans in all (none from the stripped server)" 4 "${C[0]:-}"
assert_eq "static: GET /hello 200 over https, twice" 2 "${C[1]:-}"
assert_eq "static: GET /big/1000000 200" 1 "${C[2]:-}"
assert_eq "static: GET /nope 404" 1 "${C[3]:-}"
assert_eq "stripped: no span" 0 "${C[4]:-}"

sleep 1.2 # health counters and saturation refresh every second
scrape >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
assert_eq "HTTP parse errors (the stripped server's ciphertext is not parsed)" 0 \
	"$(counter_sum obsprobe_parse_errors_total 'protocol="http"' "$TMP/metrics.txt")"
assert_ge "stripped: its threads are still counted" \
	"$(counter_sum process_thread_count "process_pid=\"$S2\"" "$TMP/metrics.txt")" 1
assert_ge "stripped: its memory is still measured (bytes)" \
	"$(counter_sum process_memory_usage_bytes "process_pid=\"$S2\"" "$TMP/metrics.txt")" 1
stop_obsprobe
finish

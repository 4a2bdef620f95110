#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# TLS capture stays exact where OpenSSL's reads and writes are probed on the worker SSL_read and
# SSL_read_ex share (and SSL_write, SSL_write_ex), an entry probe and a return probe on its
# first instruction, which the kernel emulates. tests/fixtures/tls/tlsclient.c makes the hard
# calls, one keep-alive connection per run against tlsserver (libssl.so.3): (a) every read into
# one reused buffer, 300 kB bodies in 1000-byte reads; (b) a non-blocking socket, reads that
# return -1 (want-read), then 0 at the end; (c) a thread per request that exits right after
# its last read; (d) SSL_read_ex/SSL_write_ex; (e) all of these at once but the non-blocking
# socket. Each run's SERVER spans (by its connection's port) and CLIENT spans (by its pid) are
# exactly its requests, path by path, status by status, in order; what the clients printed
# proves the workload. (f) `openssl s_server -WWW` reads requests through the SSL BIO
# (BIO_gets on BIO_f_ssl), never through SSL_read: only a probe on the worker sees them.
# No event is lost, nothing fails to parse.
# Run again as tls_exact@fallback with uprobe_push hidden (a kernel that single-steps a push):
# the probes stay at the functions' starts, -v says they are single-stepped, (a)-(e) stay as
# exact, and (f) is not seen, as before the placement was decoded.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
make_cert "$TMP/cert" || finish
build_tls_server "$TMP/tlsserver" dynamic || finish
build_tls_fixture tlsclient "$TMP/tlsclient" dynamic || finish

run_fixture server "$TMP/tlsserver" 0 "$TMP/cert/cert.pem" "$TMP/cert/key.pem" || finish
SRV_PID=$FIX_PID
if ! wait_until 10 grep -q '^ready port=' "$TMP/server.out"; then
	fail "tlsserver did not start"
	sed 's/^/    | /' "$TMP/server.err" | head -n 10
	finish
fi
PORT=$(sed -n 's/^ready port=//p' "$TMP/server.out")

# (f) s_server -WWW serves the files of its working directory, one request per connection
mkdir -p "$TMP/www"
echo "hello from s_server -WWW" >"$TMP/www/hello.txt"
WPORT=$(free_port) || { fail "no free port"; finish; }
# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
start_bg s_server bash -c 'cd "$1" && shift && exec "$@"' s_server "$TMP/www" \
	openssl s_server -WWW -accept "127.0.0.1:$WPORT" -cert "$TMP/cert/cert.pem" \
	-key "$TMP/cert/key.pem" -quiet
WWW_PID=$BG_PID
if ! wait_until 10 eval "ss -ltnH 'sport = :$WPORT' | grep -q LISTEN"; then
	fail "openssl s_server did not start on 127.0.0.1:$WPORT"
	sed 's/^/    | /' "$TMP/s_server.err" | head -n 10
	finish
fi

# The runs: tlsclient's flags, the paths it asks for on its one connection, what it proves.
CASES=(a b c d e)
declare -A FLAGS PATHS WHAT
FLAGS[a]="--reuse --chunk 1000"
PATHS[a]="/big/300000 /hello /big/300000 /nope /big/300000 /hello /nope /big/300000"
WHAT[a]="one reused buffer, 1000-byte reads"
FLAGS[b]="--nonblock"
PATHS[b]="/hello /nope /big/300000 /hello /big/300000 /hello"
WHAT[b]="non-blocking, want-read"
FLAGS[c]="--thread-exit"
PATHS[c]="/big/300000 /hello /nope /hello /big/300000 /nope /hello"
WHAT[c]="a thread per request, exiting"
FLAGS[d]="--ex"
PATHS[d]="/hello /big/300000 /nope /hello /hello /big/300000"
WHAT[d]="SSL_read_ex/SSL_write_ex"
FLAGS[e]="--reuse --ex --chunk 4096 --thread-exit"
PATHS[e]="/big/300000 /nope /hello /big/300000 /hello /nope /big/300000 /hello /hello"
WHAT[e]="reused buffer, 4096-byte _ex reads, exiting threads"

# status PATH: what tlsserver answers PATH with; body PATH: how many body bytes
status() { case $1 in /hello | /big/*) echo 200 ;; *) echo 404 ;; esac }
body() { case $1 in /hello) echo 6 ;; /big/*) echo "${1#/big/}" ;; *) echo 10 ;; esac }

{
	for c in "${CASES[@]}"; do
		# shellcheck disable=SC2086 # FLAGS and PATHS are word lists
		printf '%q ' "$TMP/tlsclient" ${FLAGS[$c]} "$PORT" ${PATHS[$c]}
		printf '>%q 2>%q\necho $? >%q\n' "$TMP/client-$c.out" "$TMP/client-$c.err" \
			"$TMP/client-$c.rc"
	done
	echo "exit 0"
} >"$TMP/clients.sh"
start_runner clients bash "$TMP/clients.sh"

# PUSH: 1 when the kernel's push emulation is in use (not hidden by tests/run.sh's fallback run)
PUSH=1 WWW_SPANS=3
if [[ ",${OBSPROBE_HIDE_KERNEL_FEATURES:-}," == *,uprobe_push,* ]]; then
	PUSH=0 WWW_SPANS=0
fi
start_obsprobe --pid "$SRV_PID" --pid "$RUNNER_PID" --pid "$WWW_PID" --console json -v || finish
for f in SSL_read SSL_write; do
	if ((PUSH == 0)); then
		assert_eq "-v (push single-stepped): $f stays where it starts, said single-stepped" 1 \
			"$(grep -cE "^obsprobe: uprobe for $f in /.*/libssl\.so[.0-9]*: at 0x[0-9a-f]+ \`sub[^\`]*\` \(single-stepped\), the entry: no emulated instruction serves" "$OBS_ERR")"
		continue
	fi
	assert_eq "-v: $f shares the probe ${f}_ex places on their worker" 1 \
		"$(grep -cE "^obsprobe: uprobe for $f in /.*/libssl\.so[.0-9]*: shared, at 0x[0-9a-f]+ \`[^\`]+\` \(emulated\), the start of the function ${f}\+0x[0-9a-f]+ and ${f}_ex\+0x[0-9a-f]+ call" "$OBS_ERR")"
	assert_eq "-v: ${f}_ex is probed on the worker it shares with $f, at an emulated instruction" 1 \
		"$(grep -cE "^obsprobe: uprobe for ${f}_ex in /.*/libssl\.so[.0-9]*: at 0x[0-9a-f]+ \`[^\`]+\` \(emulated\), the start of the function ${f}\+0x[0-9a-f]+ and ${f}_ex\+0x[0-9a-f]+ call" "$OBS_ERR")"
done

touch "$TMP/clients.go"
wait_until 60 test -s "$TMP/clients.rc" || fail "the clients did not finish in 60 s"
assert_eq "the clients' shell ran to its end" 0 "$(cat "$TMP/clients.rc" 2>/dev/null)"

# (f): three requests, each on a connection of its own
codes=""
for i in 1 2 3; do
	codes+=$(curl -sk -o "$TMP/www-$i.body" -w '%{http_code} ' "https://127.0.0.1:$WPORT/hello.txt")
	cmp -s "$TMP/www-$i.body" "$TMP/www/hello.txt" || codes+="(body differs) "
done
assert_eq "(f) s_server -WWW: curl got hello.txt 3 times" "200 200 200" "${codes% }"

# What each run printed (lines joined with commas): one "STATUS BODYLEN" per path, the end, the
# answers read; and how many reads wanted more. PIDS and LPORTS: the clients' pids and local
# ports, by case.
declare -A PIDS LPORTS
total=0
for c in "${CASES[@]}"; do
	out=$TMP/client-$c.out
	read -r -a paths <<<"${PATHS[$c]}"
	total=$((total + ${#paths[@]}))
	want=""
	for p in "${paths[@]}"; do
		want+="$(status "$p") $(body "$p"),"
	done
	want+="eof,done ${#paths[@]}"
	assert_eq "($c) ${WHAT[$c]}: tlsclient ${FLAGS[$c]} exit status" 0 \
		"$(cat "$TMP/client-$c.rc" 2>/dev/null)"
	assert_eq "($c) ${WHAT[$c]}: the answers it read" "$want" \
		"$(sed -e 1d -e '/^wantread /d' "$out" 2>/dev/null | paste -sd,)"
	[[ -s "$TMP/client-$c.err" ]] && sed 's/^/    | /' "$TMP/client-$c.err" | head -n 5
	wantread=$(sed -n 's/^wantread //p' "$out")
	if [[ " ${FLAGS[$c]} " == *" --nonblock "* ]]; then
		assert_ge "($c) ${WHAT[$c]}: reads that returned -1 want-read (one before each request at least)" \
			"${wantread:-0}" "${#paths[@]}"
	else
		assert_eq "($c) ${WHAT[$c]}: no read wanted more (blocking)" 0 "$wantread"
	fi
	read -r _ pid _ lport < <(head -n 1 "$out")
	PIDS[$c]=${pid:-0} LPORTS[$c]=${lport:-0}
done

wait_until 15 spans_at_least $((total + WWW_SPANS)) "$OBS_OUT" kind=SERVER ||
	fail "only $(spans_count "$OBS_OUT" kind=SERVER) SERVER spans of $((total + WWW_SPANS)) after 15 s"
wait_until 15 spans_at_least "$total" "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of $total after 15 s"
sleep 1 # what would come late (a duplicate) comes now
SPANS=$TMP/spans.json
cp "$OBS_OUT" "$SPANS"

# tally: "PATH=STATUS:COUNT ..." from lines PATH, STATUS, PATH, STATUS..., sorted by path
tally() { paste -d= - - | sort | uniq -c | awk '{ printf "%s%s:%d", (NR > 1 ? " " : ""), $2, $1 }'; }
# expect PATH...: the tally of what tlsserver answers these paths with
expect() {
	local p
	for p in "$@"; do
		printf '%s\n%s\n' "$p" "$(status "$p")"
	done | tally
}
# fields FILTER...: the path and status of each matching span (<missing> when it has none)
fields() {
	paste -d'\n' <(spans_field "$SPANS" attr:url.path "$@") \
		<(spans_field "$SPANS" attr:http.response.status_code "$@")
}

for c in "${CASES[@]}"; do
	read -r -a paths <<<"${PATHS[$c]}"
	what="($c) ${WHAT[$c]}"
	srv=(kind=SERVER "res:process.pid==$SRV_PID" "attr:client.port==${LPORTS[$c]}")
	cli=(kind=CLIENT "res:process.pid==${PIDS[$c]}")
	attrs=(attr:url.scheme=https "attr:server.port==$PORT" attr:http.request.method=GET)
	assert_eq "$what: SERVER spans of its connection, path=status:count" \
		"$(expect "${paths[@]}")" "$(fields "${srv[@]}" "${attrs[@]}" | tally)"
	assert_eq "$what: CLIENT spans of its process, path=status:count" \
		"$(expect "${paths[@]}")" \
		"$(fields "${cli[@]}" res:process.executable.name=tlsclient "${attrs[@]}" | tally)"
	assert_eq "$what: SERVER spans of its connection, in request order" "${PATHS[$c]}" \
		"$(spans_field "$SPANS" attr:url.path "${srv[@]}" | paste -sd' ')"
	assert_eq "$what: CLIENT spans of its process, in request order" "${PATHS[$c]}" \
		"$(spans_field "$SPANS" attr:url.path "${cli[@]}" | paste -sd' ')"
	assert_eq "$what: no other span from its process" "${#paths[@]}" \
		"$(spans_count "$SPANS" "res:process.pid==${PIDS[$c]}")"
done

mapfile -t C < <(spans_counts "$SPANS" \
	-- kind=SERVER "res:process.pid==$WWW_PID" attr:url.scheme=https \
	"attr:server.port==$WPORT" attr:url.path=/hello.txt attr:http.response.status_code==200 \
	-- "res:process.pid==$WWW_PID" \
	-- kind=SERVER "res:process.pid==$SRV_PID" \
	-- kind=CLIENT)
assert_eq "(f) s_server -WWW (SSL BIO, no SSL_read): GET /hello.txt 200 SERVER spans" \
	"$WWW_SPANS" "${C[0]:-}"
assert_eq "(f) s_server -WWW: no other span" "$WWW_SPANS" "${C[1]:-}"
assert_eq "tlsserver: SERVER spans in all, one per request" "$total" "${C[2]:-}"
assert_eq "CLIENT spans in all, one per request" "$total" "${C[3]:-}"
assert_eq "every output line is a JSON span" 0 "$(spans_invalid "$SPANS")"

sleep 1.2 # health counters refresh every second
scrape >"$TMP/metrics.txt" || fail "scrape of $OBS_METRICS failed"
assert_eq "TLS events lost (tls_no_socket, tls_call_table_full)" "0 0" \
	"$(counter_sum obsprobe_events_lost_total 'reason="tls_no_socket"' "$TMP/metrics.txt") $(counter_sum obsprobe_events_lost_total 'reason="tls_call_table_full"' "$TMP/metrics.txt")"
assert_eq "events lost, all reasons" 0 \
	"$(counter_sum obsprobe_events_lost_total "" "$TMP/metrics.txt")"
assert_eq "HTTP parse errors" 0 \
	"$(counter_sum obsprobe_parse_errors_total 'protocol="http"' "$TMP/metrics.txt")"

stop_pid "$WWW_PID"
stop_obsprobe
touch "$TMP/clients.done"
wait_exit "$RUNNER_PID" 30
assert_eq "the runner's exit status" 0 "$WAIT_RC"
finish

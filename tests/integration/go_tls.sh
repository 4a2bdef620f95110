#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# HTTPS through Go's own crypto/tls, no OpenSSL anywhere: a Go server and a Go client
# (tests/fixtures/gotls, one binary with symbols and DWARF), both watched, over HTTP/1.1 (ALPN
# off on both ends) and then over HTTP/2. The plaintext comes from the uprobes on
# crypto/tls.(*Conn).Write and Read (on instructions the kernel emulates: the jbe after each
# stack check and Read's call of runtime.memmove; no probe on a return): every request
# is exactly one SERVER span of the server and one CLIENT span of the client, with its path,
# status (500 an error), url.scheme https, the server's port and the protocol version, and
# each SERVER span is the child of the CLIENT span of its request (both ends of a local
# connection stitched). Last in each round, P requests for 3 KiB at once: over HTTP/2, streams of
# one connection whose answers the server writes together, so that in the client's reads a
# header block lies kilobytes behind the start, beyond --capture-bytes: the frame walk
# (sock.bpf.h) must capture every one of them whole for these spans to be exact. Nothing lost, nothing unparsed. The server alone under curl --http2 and
# --http1.1: one SERVER span per request, of its version. Then the same program stripped
# (-ldflags='-s -w': no symbols, no DWARF), both ends over HTTP/2: the same spans, the functions
# found in .gopclntab.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=20
P=16
TOTAL=$((N + 4 + P))
require_root || finish
BIN=$TMP/gotls
build_go gotls "$BIN" || finish
make_cert "$TMP" || finish

# probed ERRFILE FUNC: how many lines of ERRFILE say FUNC got a uprobe on an emulated instruction.
probed() {
	grep -F "uprobe for $2 in " "$1" | grep -cF '(emulated)'
}

# check_round NAME H2 VERSION PROTO [BIN]: one round, both ends (BIN, else $BIN) with -h2=H2;
# spans with network.protocol.version VERSION, the client printing PROTO (resp.Proto).
check_round() {
	local r=$1 h2=$2 ver=$3 proto=$4 bin=${5:-$BIN} spid cpid port o m
	local -a c s
	start_gotls_server "$r-server" "$bin" -h2="$h2" || return 1
	spid=$SRV_PID
	port=$SRV_PORT
	start_bg "$r-client" "$bin" -mode client -url "https://127.0.0.1:$port" -n "$N" -par "$P" -h2="$h2" \
		-ca "$TMP/cert.pem" -wait-file "$TMP/$r.go"
	cpid=$BG_PID
	start_obsprobe -v --pid "$spid" --pid "$cpid" --console json || return 1
	o=$OBS_OUT
	touch "$TMP/$r.go"
	wait_exit "$cpid" 60
	assert_eq "$r: client exit status" 0 "$WAIT_RC"
	((WAIT_RC == 0)) || sed 's/^/    | /' "$TMP/$r-client.err" | head -n 10

	# what the client saw
	{
		seq -f "200 /items/%g $proto" 1 "$N"
		printf '%s\n' "200 /big/64 $proto" "200 /big/64 $proto" "500 /fail $proto" "500 /fail $proto"
		seq -f "200 /big/3?p=%g $proto" 1 "$P"
	} >"$TMP/$r.expected"
	assert_eq "$r: client printed $TOTAL lines" "$TOTAL" "$(wc -l <"$TMP/$r-client.out")"
	assert_true "$r: client got $N x 200 /items/i, 2 x 200 /big/64, 2 x 500 /fail in order, then $P x 200 /big/3?p=i, all $proto" \
		cmp -s <(head -n "$((TOTAL - P))" "$TMP/$r.expected"; tail -n "$P" "$TMP/$r.expected" | sort) \
		<(head -n "$((TOTAL - P))" "$TMP/$r-client.out"; tail -n "$P" "$TMP/$r-client.out" | sort)

	wait_until 15 spans_at_least "$TOTAL" "$o" kind=SERVER "res:process.pid==$spid" ||
		fail "$r: only $(spans_count "$o" kind=SERVER "res:process.pid==$spid") SERVER spans of $TOTAL after 15 s"
	wait_until 15 spans_at_least "$TOTAL" "$o" kind=CLIENT "res:process.pid==$cpid" ||
		fail "$r: only $(spans_count "$o" kind=CLIENT "res:process.pid==$cpid") CLIENT spans of $TOTAL after 15 s"
	sleep 0.5 # a few more ticks: a duplicate span would show up now
	assert_eq "$r: stdout lines are all JSON" 0 "$(spans_invalid "$o")"

	# the server's end
	s=(kind=SERVER "res:process.pid==$spid")
	mapfile -t c < <(spans_counts "$o" \
		-- "${s[@]}" \
		-- "${s[@]}" 'attr:url.path~^/items/[0-9]+$' attr:http.response.status_code==200 status=UNSET \
		-- "${s[@]}" attr:url.path=/big/64 attr:http.response.status_code==200 status=UNSET \
		-- "${s[@]}" attr:url.path=/fail attr:http.response.status_code==500 status=ERROR \
		-- "${s[@]}" "attr:network.protocol.version=$ver" \
		-- "${s[@]}" attr:url.scheme=https \
		-- "${s[@]}" "attr:server.port==$port" \
		-- "${s[@]}" attr:http.request.method=GET \
		-- kind=SERVER "res:process.pid==$cpid" \
		-- kind=CLIENT "res:process.pid==$spid" \
		-- '!res:process.pid' \
		-- "${s[@]}" attr:url.path=/big/3 attr:http.response.status_code==200 status=UNSET)
	assert_eq "$r: SERVER spans of the server, one per request" "$TOTAL" "${c[0]:-}"
	assert_eq "$r: SERVER GET /items/i 200" "$N" "${c[1]:-}"
	assert_eq "$r: SERVER /items/i spans' url.path, in order" \
		"$(seq -f '/items/%g' 1 "$N" | paste -sd' ')" \
		"$(spans_field "$o" attr:url.path "${s[@]}" 'attr:url.path~^/items/' | paste -sd' ')"
	assert_eq "$r: SERVER /big/64 200" 2 "${c[2]:-}"
	assert_eq "$r: SERVER /big/3 200" "$P" "${c[11]:-}"
	assert_eq "$r: SERVER /fail 500, status ERROR" 2 "${c[3]:-}"
	assert_eq "$r: SERVER network.protocol.version $ver" "$TOTAL" "${c[4]:-}"
	assert_eq "$r: SERVER url.scheme https" "$TOTAL" "${c[5]:-}"
	assert_eq "$r: SERVER server.port == $port" "$TOTAL" "${c[6]:-}"
	assert_eq "$r: SERVER http.request.method GET" "$TOTAL" "${c[7]:-}"
	assert_eq "$r: no SERVER spans of the client" 0 "${c[8]:-}"
	assert_eq "$r: no CLIENT spans of the server" 0 "${c[9]:-}"
	assert_eq "$r: no span without a process.pid" 0 "${c[10]:-}"

	# the client's end
	s=(kind=CLIENT "res:process.pid==$cpid")
	mapfile -t c < <(spans_counts "$o" \
		-- "${s[@]}" \
		-- "${s[@]}" 'attr:url.path~^/items/[0-9]+$' attr:http.response.status_code==200 status=UNSET \
		-- "${s[@]}" attr:url.path=/big/64 attr:http.response.status_code==200 status=UNSET \
		-- "${s[@]}" attr:url.path=/fail attr:http.response.status_code==500 status=ERROR \
		-- "${s[@]}" "attr:network.protocol.version=$ver" \
		-- "${s[@]}" attr:server.address=127.0.0.1 \
		-- "${s[@]}" "attr:server.port==$port" \
		-- "${s[@]}" attr:url.scheme=https \
		-- "${s[@]}" attr:http.request.method=GET \
		-- "${s[@]}" attr:url.path=/big/3 attr:http.response.status_code==200 status=UNSET)
	assert_eq "$r: CLIENT spans of the client, one per request" "$TOTAL" "${c[0]:-}"
	assert_eq "$r: CLIENT GET /items/i 200" "$N" "${c[1]:-}"
	assert_eq "$r: CLIENT /items/i spans' url.path, each once" \
		"$(seq -f '/items/%g' 1 "$N" | paste -sd' ')" \
		"$(spans_field "$o" attr:url.path "${s[@]}" 'attr:url.path~^/items/' | sort -t/ -k3n | paste -sd' ')"
	assert_eq "$r: CLIENT /big/64 200" 2 "${c[2]:-}"
	assert_eq "$r: CLIENT /big/3 200" "$P" "${c[9]:-}"
	assert_eq "$r: CLIENT /fail 500, status ERROR" 2 "${c[3]:-}"
	assert_eq "$r: CLIENT network.protocol.version $ver" "$TOTAL" "${c[4]:-}"
	assert_eq "$r: CLIENT server.address 127.0.0.1" "$TOTAL" "${c[5]:-}"
	assert_eq "$r: CLIENT server.port == $port" "$TOTAL" "${c[6]:-}"
	assert_eq "$r: CLIENT url.scheme https" "$TOTAL" "${c[7]:-}"
	assert_eq "$r: CLIENT http.request.method GET" "$TOTAL" "${c[8]:-}"
	assert_eq "$r: spans in all: the server's and the client's" "$((2 * TOTAL))" \
		"$(spans_count "$o")"

	# both ends watched: each SERVER span the child of the client's CLIENT span of its request
	assert_eq "$r: SERVER spans whose parent is not a CLIENT span of the client for the same path (of $TOTAL), distinct parents" \
		"0 of $TOTAL, $TOTAL" "$("$PY" - "$o" "$spid" "$cpid" <<'EOF'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
spid, cpid = int(sys.argv[2]), int(sys.argv[3])
pid = lambda s: s.get("resource", {}).get("process.pid")
path = lambda s: s.get("attributes", {}).get("url.path")
clients = {s["span_id"]: s for s in spans if s.get("kind") == "CLIENT" and pid(s) == cpid}
servers = [s for s in spans if s.get("kind") == "SERVER" and pid(s) == spid]
bad = 0
for s in servers:
    p = clients.get(s.get("parent_span_id"))
    if p is None or path(p) != path(s) or p.get("trace_id") != s.get("trace_id"):
        bad += 1
parents = {s.get("parent_span_id") for s in servers if s.get("parent_span_id")}
print("%d of %d, %d" % (bad, len(servers), len(parents)))
EOF
)"

	sleep 1.2 # health counters refresh every second
	m=$TMP/$r.metrics.txt
	scrape "$OBS_METRICS" >"$m" || fail "$r: scrape of $OBS_METRICS failed"
	assert_no_loss "$r: events lost" "$m"
	assert_eq "$r: parse errors" 0 "$(counter_sum obsprobe_parse_errors_total "" "$m")"

	assert_ge "$r: stderr: a uprobe for crypto/tls.(*Conn).Write, emulated" \
		"$(probed "$OBS_ERR" 'crypto/tls.(*Conn).Write')" 1
	assert_ge "$r: stderr: a uprobe for crypto/tls.(*Conn).Read, emulated" \
		"$(probed "$OBS_ERR" 'crypto/tls.(*Conn).Read')" 1
	assert_ge "$r: stderr: a uprobe for crypto/tls.(*Conn).Read's copy, emulated" \
		"$(probed "$OBS_ERR" "crypto/tls.(*Conn).Read's copy")" 1
	assert_lacks "$r: stderr: no 'Go TLS: not probed'" "$OBS_ERR" "Go TLS: not probed in"
	stop_obsprobe "$OBS_PID" "$OBS_ERR"
	assert_true "$r: the server still runs" alive "$spid"
	stop_pid "$spid"
}

check_round h1 false 1.1 HTTP/1.1
check_round h2 true 2 HTTP/2.0

# the server alone watched, under curl (OpenSSL, not watched) over HTTP/2 and HTTP/1.1: each
# request one SERVER span of its version
start_gotls_server curl "$BIN" -h2=true || finish
start_obsprobe --pid "$SRV_PID" --console json || finish
for v in http2 http1.1; do
	for ((i = 1; i <= 10; i++)); do
		curl -sk "--$v" -o /dev/null -w '%{http_code} %{http_version}\n' \
			"https://127.0.0.1:$SRV_PORT/items/$i" >>"$TMP/curl.$v"
	done
done
assert_eq "curl --http2, --http1.1: 10 x 200 over 2, 10 x 200 over 1.1" "10 10" \
	"$(grep -cx '200 2' "$TMP/curl.http2") $(grep -cx '200 1.1' "$TMP/curl.http1.1")"
wait_until 15 spans_at_least 20 "$OBS_OUT" kind=SERVER ||
	fail "curl: only $(spans_count "$OBS_OUT" kind=SERVER) SERVER spans of 20 after 15 s"
sleep 0.5
for ver in 2 1.1; do
	assert_eq "curl: SERVER spans over $ver, /items/1..10 in order, 200" \
		"$(seq -f '/items/%g' 1 10 | paste -sd' ') 10" \
		"$(spans_field "$OBS_OUT" attr:url.path kind=SERVER "attr:network.protocol.version=$ver" | paste -sd' ') $(spans_count "$OBS_OUT" kind=SERVER "attr:network.protocol.version=$ver" attr:http.response.status_code==200 attr:url.scheme=https)"
done
assert_eq "curl: spans in all" 20 "$(spans_count "$OBS_OUT")"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
stop_pid "$SRV_PID"

# stripped: no symbols, no DWARF; the functions from .gopclntab, the same spans
SBIN=$TMP/gotls-stripped
build_go gotls "$SBIN" "-s -w" || finish
assert_false "the stripped build has no .symtab" eval "readelf -S '$SBIN' | grep -q ' \.symtab '"
assert_false "the stripped build has no DWARF" eval "readelf -S '$SBIN' | grep -q ' \.debug_info '"
check_round stripped true 2 HTTP/2.0 "$SBIN"
assert_contains "stripped: obsprobe says where it found Go's TLS" "$OBS_ERR" \
	"Go TLS: $SBIN (pid"
finish

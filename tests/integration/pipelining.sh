#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# HTTP/1.1 pipelining: three requests in ONE write on one connection, to the Go server and to
# nginx. Each request must become its own SERVER span, with its own path and status, in order.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# pipeline PORT PATH...: sends GET PATH... in one write on one connection, reads until the
# server closes (the last request says Connection: close); prints the status codes.
pipeline() {
	"$PY" - "$@" <<'EOF'
import re, socket, sys
port, paths = int(sys.argv[1]), sys.argv[2:]
req = "".join("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: pipeline-test\r\n%s\r\n"
              % (p, "Connection: close\r\n" if i == len(paths) - 1 else "")
              for i, p in enumerate(paths))
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(req.encode())  # one write(2) for all of them
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(" ".join(m.decode() for m in re.findall(rb"^HTTP/1\.1 (\d{3}) ", data, re.M)))
EOF
}

require_root || finish
if ! GPORT=$(free_port) || ! P1=$(free_port) || ! P2=$(free_port); then
	fail "no free port"
	finish
fi
start_goserver go "$GPORT" || finish
GOPID=$GO_PID
start_nginx "$TMP/nginx" "$P1" "$P2" || finish
printf 'a\n' >"$TMP/nginx/www/a.txt"
chmod 644 "$TMP/nginx/www/a.txt"

start_obsprobe --pid "$GOPID" --pid "$NGINX_PID" --console json || finish

OUT=$OBS_OUT
# batch LABEL PORT EXPECTED_STATUSES PATH...: one pipelined batch, judged on the spans that
# follow it on stdout. (nginx's spans are its worker's: filter on the port, not the pid.)
batch() {
	local label=$1 port=$2 want=$3 before
	shift 3
	before=$(wc -l <"$OUT")
	# judge only the lines this batch produced
	OBS_OUT=$TMP/$label.spans
	local f=(kind=SERVER "attr:server.port==$port" "attr:user_agent.original=pipeline-test")
	_slice() { tail -n +"$((before + 1))" "$OUT" >"$OBS_OUT"; }
	got=$(pipeline "$port" "$@")
	assert_eq "$label: the server answered the pipelined requests" "$want" "$got"
	local n=$#
	_enough() { _slice; spans_at_least "$n" "$OBS_OUT" "${f[@]}"; }
	wait_until 10 _enough || fail "$label: $(spans_count "$OBS_OUT" "${f[@]}") spans of $n after 10 s"
	sleep 0.2
	_slice
	assert_eq "$label: one SERVER span per request" "$n" "$(spans_count "$OBS_OUT" "${f[@]}")"
	assert_eq "$label: paths, in order" "$*" \
		"$(spans_field "$OBS_OUT" attr:url.path "${f[@]}" | paste -sd' ')"
	assert_eq "$label: status codes, in order" "$want" \
		"$(spans_field "$OBS_OUT" attr:http.response.status_code "${f[@]}" | paste -sd' ')"
	assert_eq "$label: all on one client connection" 1 \
		"$(spans_field "$OBS_OUT" attr:client.port "${f[@]}" | sort -u | wc -l)"
	# shellcheck disable=SC2046 # one argument per start time
	assert_true "$label: start times in request order" "$PY" -c '
import sys
t = [int(x) for x in sys.argv[1:]]
sys.exit(not (len(t) > 1 and t == sorted(t)))' $(spans_field "$OBS_OUT" start_time_unix_nano "${f[@]}")
	OBS_OUT=$OUT
}

batch go-abc "$GPORT" "200 200 200" /a /b /c
batch go-mixed "$GPORT" "200 500 404" /x /fail /status/404
batch nginx-mixed "$P1" "200 404 200" /index.html /nope.html /a.txt
assert_eq "Go spans are the Go server's" 6 "$(spans_count "$OUT" "res:process.pid==$GOPID")"
assert_eq "nginx spans are a worker's" 3 \
	"$(spans_count "$OUT" res:process.executable.name=nginx "res:process.pid!=$NGINX_PID")"

stop_obsprobe
finish

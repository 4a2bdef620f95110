#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# GenAI client calls: the Go client of tests/fixtures/gotls (-mode llm) calls the same
# program's fake OpenAI (POST /v1/chat/completions) and Anthropic (POST /v1/messages) APIs over
# Go's own crypto/tls, over HTTP/1.1 (ALPN off on both ends) and then over HTTP/2: 8 calls a
# round, each API plain and streaming (text/event-stream, the usage in the last chunk for
# OpenAI, in message_start and message_delta for Anthropic), each model twice, the second time
# with an answer of 6000 bytes: a plain answer's usage then lies beyond the first
# --capture-bytes of every read, and only the capture of a read's last bytes sees it. Both ends
# watched. Each call is exactly one CLIENT span of the client carrying gen_ai.system,
# gen_ai.operation.name chat, gen_ai.request.model, gen_ai.response.model and
# gen_ai.usage.input_tokens / output_tokens (JSON ints), all equal to what the client itself
# parsed from the answer; no SERVER span, and no other span, has a gen_ai.* attribute. The
# metrics: gen_ai_client_token_usage (one observation per call and token type: the counts and
# the sums of the input and of the output tokens, per system and model too) and
# gen_ai_client_operation_duration_seconds (one per call), labelled with the round's server
# port. The prompts (PROMPT_MARKER_abc), the answers (RESPONSE_MARKER_xyz) and the API key
# (SECRET_MARKER) show nowhere: not in the spans, obsprobe's stderr or /metrics. Nothing lost,
# nothing unparsed.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=8
require_root || finish
BIN=$TMP/gotls
build_go gotls "$BIN" || finish
make_cert "$TMP" || finish

# What the client must print, "PATH SYSTEM REQMODEL RESPMODEL IN OUT": IN the length of the
# prompts (the fixture's count), OUT the want_out of each call.
EXPECTED='/v1/chat/completions openai gpt-4o gpt-4o-2024-08-06 34 11
/v1/chat/completions openai gpt-4o-mini gpt-4o-mini-2024-08-06 35 12
/v1/messages anthropic claude-3-5-sonnet claude-3-5-sonnet-20240620 36 13
/v1/messages anthropic claude-3-haiku claude-3-haiku-20240620 37 14
/v1/chat/completions openai gpt-4o gpt-4o-2024-08-06 70 21
/v1/chat/completions openai gpt-4o-mini gpt-4o-mini-2024-08-06 80 22
/v1/messages anthropic claude-3-5-sonnet claude-3-5-sonnet-20240620 90 23
/v1/messages anthropic claude-3-haiku claude-3-haiku-20240620 100 24'

# check_round NAME H2 VERSION: one round, both ends with -h2=H2, spans with
# network.protocol.version VERSION.
check_round() {
	local r=$1 h2=$2 ver=$3 spid cpid port o m f sys model resp in out sin sout
	local -a c s
	start_gotls_server "$r-server" "$BIN" -h2="$h2" || return 1
	spid=$SRV_PID
	port=$SRV_PORT
	start_bg "$r-client" "$BIN" -mode llm -url "https://127.0.0.1:$port" -h2="$h2" \
		-ca "$TMP/cert.pem" -wait-file "$TMP/$r.go"
	cpid=$BG_PID
	start_obsprobe --pid "$spid" --pid "$cpid" --console json || return 1
	o=$OBS_OUT
	touch "$TMP/$r.go"
	wait_exit "$cpid" 60
	assert_eq "$r: client exit status" 0 "$WAIT_RC"
	((WAIT_RC == 0)) || sed 's/^/    | /' "$TMP/$r-client.err" | head -n 10

	# what the client saw
	printf '%s\n' "$EXPECTED" >"$TMP/$r.expected"
	assert_eq "$r: client printed $N lines" "$N" "$(wc -l <"$TMP/$r-client.out")"
	assert_true "$r: client got the models and token counts the server means to send" \
		cmp -s "$TMP/$r.expected" "$TMP/$r-client.out"

	wait_until 15 spans_at_least "$N" "$o" kind=SERVER "res:process.pid==$spid" ||
		fail "$r: only $(spans_count "$o" kind=SERVER "res:process.pid==$spid") SERVER spans of $N after 15 s"
	wait_until 15 spans_at_least "$N" "$o" kind=CLIENT "res:process.pid==$cpid" ||
		fail "$r: only $(spans_count "$o" kind=CLIENT "res:process.pid==$cpid") CLIENT spans of $N after 15 s"
	wait_until 5 spans_at_least "$N" "$o" kind=CLIENT "res:process.pid==$cpid" \
		attr:gen_ai.system? ||
		fail "$r: only $(spans_count "$o" kind=CLIENT "res:process.pid==$cpid" attr:gen_ai.system?) CLIENT spans with gen_ai.system of $N after 5 s more"
	sleep 0.5 # a few more ticks: a duplicate span would show up now
	assert_eq "$r: stdout lines are all JSON" 0 "$(spans_invalid "$o")"

	# the HTTP side of it, GenAI or not
	s=(kind=CLIENT "res:process.pid==$cpid")
	mapfile -t c < <(spans_counts "$o" \
		-- "${s[@]}" \
		-- "${s[@]}" attr:url.path=/v1/chat/completions attr:http.request.method=POST \
		attr:http.response.status_code==200 status=UNSET \
		-- "${s[@]}" attr:url.path=/v1/messages attr:http.request.method=POST \
		attr:http.response.status_code==200 status=UNSET \
		-- "${s[@]}" "attr:network.protocol.version=$ver" \
		-- "${s[@]}" "attr:server.port==$port" \
		-- kind=SERVER "res:process.pid==$spid" \
		-- kind=SERVER "res:process.pid==$spid" attr:http.request.method=POST \
		attr:http.response.status_code==200)
	assert_eq "$r: CLIENT spans of the client, one per call" "$N" "${c[0]:-}"
	assert_eq "$r: CLIENT POST /v1/chat/completions 200" 4 "${c[1]:-}"
	assert_eq "$r: CLIENT POST /v1/messages 200" 4 "${c[2]:-}"
	assert_eq "$r: CLIENT network.protocol.version $ver" "$N" "${c[3]:-}"
	assert_eq "$r: CLIENT server.port == $port" "$N" "${c[4]:-}"
	assert_eq "$r: SERVER spans of the server, one per call" "$N" "${c[5]:-}"
	assert_eq "$r: SERVER POST 200" "$N" "${c[6]:-}"

	# the GenAI attributes: per (url.path, gen_ai.request.model), the CLIENT spans of the
	# client must carry exactly what the client printed for its calls with that path and model
	"$PY" - "$o" "$spid" "$cpid" "$TMP/$r-client.out" >"$TMP/$r.genai" 2>"$TMP/$r.genai.err" <<'EOF'
import collections, json, sys
spans = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
spid, cpid = int(sys.argv[2]), int(sys.argv[3])
pid = lambda s: s.get("resource", {}).get("process.pid")
attrs = lambda s: s.get("attributes", {})
genai = lambda s: sorted(k for k in attrs(s) if k.startswith("gen_ai."))
isint = lambda v: isinstance(v, int) and not isinstance(v, bool)

want = collections.defaultdict(list)
for line in open(sys.argv[4]):
    f = line.split()
    if len(f) == 6:
        want[(f[0], f[2])].append((f[1], "chat", f[3], int(f[4]), int(f[5])))
got = collections.defaultdict(list)
for s in spans:
    a = attrs(s)
    if s.get("kind") != "CLIENT" or pid(s) != cpid or "gen_ai.system" not in a:
        continue
    i, o = a.get("gen_ai.usage.input_tokens"), a.get("gen_ai.usage.output_tokens")
    if not isint(i) or not isint(o):
        print("not ints: %r" % {k: a[k] for k in genai(s)}, file=sys.stderr)
        i, o = repr(i), repr(o)
    got[(a.get("url.path"), a.get("gen_ai.request.model"))].append(
        (a.get("gen_ai.system"), a.get("gen_ai.operation.name"), a.get("gen_ai.response.model"), i, o))
bad = 0
for k in sorted(set(want) | set(got), key=str):
    w, g = collections.Counter(want[k]), collections.Counter(got[k])
    miss, extra = w - g, g - w
    for v in miss.elements():
        print("%s %s: no span with %s" % (k[0], k[1], v), file=sys.stderr)
    for v in extra.elements():
        print("%s %s: a span with %s" % (k[0], k[1], v), file=sys.stderr)
    bad += sum(miss.values()) + sum(extra.values())
server = sum(1 for s in spans if s.get("kind") == "SERVER" and pid(s) == spid and genai(s))
other = sum(1 for s in spans if genai(s) and not (s.get("kind") == "CLIENT" and pid(s) == cpid))
print(bad)
print(sum(len(v) for v in want.values()))
print(server)
print(other)
EOF
	mapfile -t c <"$TMP/$r.genai"
	assert_eq "$r: client lines compared to the spans" "$N" "${c[1]:-}"
	assert_eq "$r: calls without a CLIENT span carrying exactly the client's gen_ai.* values, plus such spans without a call" \
		0 "${c[0]:-}"
	[[ ${c[0]:-} == 0 ]] || sed 's/^/    | /' "$TMP/$r.genai.err" | head -n 20
	assert_eq "$r: SERVER spans of the server with a gen_ai.* attribute" 0 "${c[2]:-}"
	assert_eq "$r: other spans (not CLIENT of the client) with a gen_ai.* attribute" 0 "${c[3]:-}"

	sleep 1.2 # health counters refresh every second
	m=$TMP/$r.metrics.txt
	scrape "$OBS_METRICS" >"$m" || fail "$r: scrape of $OBS_METRICS failed"
	assert_no_loss "$r: events lost" "$m"
	assert_eq "$r: parse errors" 0 "$(counter_sum obsprobe_parse_errors_total "" "$m")"

	# the metrics, from the client's own lines
	sin=$(awk '{ n += $5 } END { print n + 0 }' "$TMP/$r-client.out")
	sout=$(awk '{ n += $6 } END { print n + 0 }' "$TMP/$r-client.out")
	f="server_port=\"$port\""
	assert_eq "$r: gen_ai_client_token_usage_count, input" "$N" \
		"$(counter_sum gen_ai_client_token_usage_count "$f&&gen_ai_token_type=\"input\"" "$m")"
	assert_eq "$r: gen_ai_client_token_usage_count, output" "$N" \
		"$(counter_sum gen_ai_client_token_usage_count "$f&&gen_ai_token_type=\"output\"" "$m")"
	assert_eq "$r: gen_ai_client_token_usage_sum, input: the input tokens the client got" "$sin" \
		"$(counter_sum gen_ai_client_token_usage_sum "$f&&gen_ai_token_type=\"input\"" "$m")"
	assert_eq "$r: gen_ai_client_token_usage_sum, output: the output tokens the client got" "$sout" \
		"$(counter_sum gen_ai_client_token_usage_sum "$f&&gen_ai_token_type=\"output\"" "$m")"
	assert_eq "$r: gen_ai_client_token_usage_count, all (not chat, not 127.0.0.1, no service_name: none)" \
		"$((2 * N))" "$(counter_sum gen_ai_client_token_usage_count \
			"$f&&gen_ai_operation_name=\"chat\"&&server_address=\"127.0.0.1\"&&service_name=\"[^\"]+\"" "$m")"
	assert_eq "$r: gen_ai_client_operation_duration_seconds_count" "$N" \
		"$(counter_sum gen_ai_client_operation_duration_seconds_count "$f" "$m")"
	assert_eq "$r: gen_ai_client_operation_duration_seconds_count, chat, 127.0.0.1, no gen_ai_token_type" \
		"$N" "$(counter_sum gen_ai_client_operation_duration_seconds_count \
			"$f&&gen_ai_operation_name=\"chat\"&&server_address=\"127.0.0.1\"&&!gen_ai_token_type" "$m")"
	assert_eq "$r: gen_ai_client_token_usage_count series: 4 models x 2 token types" 8 \
		"$(grep -c "^gen_ai_client_token_usage_count{.*$f" "$m")"
	assert_eq "$r: gen_ai_client_operation_duration_seconds_count series: 4 models" 4 \
		"$(grep -c "^gen_ai_client_operation_duration_seconds_count{.*$f" "$m")"
	# per system and model: each called twice, its tokens summed
	while read -r sys model resp; do
		f="server_port=\"$port\"&&gen_ai_system=\"$sys\"&&gen_ai_request_model=\"$model\"&&gen_ai_response_model=\"$resp\""
		in=$(awk -v m="$model" '$3 == m { n += $5 } END { print n + 0 }' "$TMP/$r-client.out")
		out=$(awk -v m="$model" '$3 == m { n += $6 } END { print n + 0 }' "$TMP/$r-client.out")
		assert_eq "$r: $sys $model: operation duration count" 2 \
			"$(counter_sum gen_ai_client_operation_duration_seconds_count "$f" "$m")"
		assert_eq "$r: $sys $model: token usage count, input / output" "2 2" \
			"$(counter_sum gen_ai_client_token_usage_count "$f&&gen_ai_token_type=\"input\"" "$m") $(
				counter_sum gen_ai_client_token_usage_count "$f&&gen_ai_token_type=\"output\"" "$m")"
		assert_eq "$r: $sys $model: token usage sum, input / output" "$in $out" \
			"$(counter_sum gen_ai_client_token_usage_sum "$f&&gen_ai_token_type=\"input\"" "$m") $(
				counter_sum gen_ai_client_token_usage_sum "$f&&gen_ai_token_type=\"output\"" "$m")"
	done <<'EOF'
openai gpt-4o gpt-4o-2024-08-06
openai gpt-4o-mini gpt-4o-mini-2024-08-06
anthropic claude-3-5-sonnet claude-3-5-sonnet-20240620
anthropic claude-3-haiku claude-3-haiku-20240620
EOF

	stop_obsprobe "$OBS_PID" "$OBS_ERR"
	# neither the prompts, nor the answers, nor the key
	for f in PROMPT_MARKER_abc RESPONSE_MARKER_xyz SECRET_MARKER; do
		assert_lacks "$r: stdout: no $f" "$o" "$f"
		assert_lacks "$r: stderr: no $f" "$OBS_ERR" "$f"
		assert_lacks "$r: /metrics: no $f" "$m" "$f"
	done
	assert_true "$r: the server still runs" alive "$spid"
	stop_pid "$spid"
}

check_round h1 false 1.1
check_round h2 true 2
finish

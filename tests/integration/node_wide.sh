#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Node-wide mode: `obsprobe --all` on a host with services in real containers (podman + runc,
# an image imported from a busybox root, the host's /usr and /lib bound read-only, on the host
# network) and plain processes, all the same Go server under different OTEL_SERVICE_NAMEs.
#   cart, catalog  in containers A and B: spans and series carry their container.id
#   plain          a plain process: no container.id; killed at the end, released
#   hidden-port    running at start, excluded by --exclude port=N (judged from /proc)
#   late           started after obsprobe is ready: picked up at its exec, before it serves
#   late-comm      started later, as a program named hiddensrv: --exclude comm=hiddensrv
#   late-port      started later, listens on an excluded port 3 s after its start: watched
#                  until then (its process series appear), let go at its listen(), series and all
# Every watched service gets exactly its requests; no excluded one, and never obsprobe itself.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
build_goserver || finish
for tool in podman runc busybox; do
	command -v "$tool" >/dev/null || {
		fail "$tool is not installed (scripts/install-deps.sh installs it)"
		finish
	}
done

podman_setup || finish

declare -A PORT PID CID
for s in cart catalog plain hidden-port late late-comm late-port prom; do
	PORT[$s]=$(free_port) || {
		fail "no free port"
		finish
	}
done

# container NAME: the Go server as service NAME in its own container, on PORT[NAME]
container() {
	local s=$1 id
	id=$("${PODMAN[@]}" run -d --network host --name "obs-$s" -e "OTEL_SERVICE_NAME=$s" \
		-v /usr:/usr:ro -v /lib:/lib:ro -v /lib64:/lib64:ro -v /etc:/etc:ro \
		-v "$TMP:/srv:ro" localhost/obsprobe-test:1 \
		/srv/goserver -listen "127.0.0.1:${PORT[$s]}" 2>"$TMP/podman-$s.err") || {
		fail "podman run of $s failed: $(tail -n 3 "$TMP/podman-$s.err")"
		return 1
	}
	CID[$s]=$id
	wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/ready" || {
		fail "container $s does not answer"
		return 1
	}
	PID[$s]=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "obs-$s")
}

# plain_start NAME [BINARY [ARG...]]: the Go server as service NAME, a plain process, started
# (PID[NAME]) but not yet awaited
plain_start() {
	local s=$1 bin=${2:-$GOSERVER}
	shift $(($# > 1 ? 2 : 1))
	start_bg "$s" env "OTEL_SERVICE_NAME=$s" "$bin" -listen "127.0.0.1:${PORT[$s]}" \
		-ready-file "$TMP/$s.ready" "$@"
	PID[$s]=$BG_PID
}

# plain NAME [BINARY [ARG...]]: plain_start, then until it listens
plain() {
	plain_start "$@"
	await_ready "$TMP/$1.ready" "Go server $1" "$1"
}

container cart || finish
container catalog || finish
plain plain || finish
plain hidden-port || finish
assert_eq "container cart's process has its id in its cgroup" 1 \
	"$(grep -c "libpod-${CID[cart]}" "/proc/${PID[cart]}/cgroup" | awk '{ print ($1 > 0) }')"

start_obsprobe --all --exclude "port=${PORT[hidden-port]}" --exclude comm=hiddensrv \
	--exclude "port=${PORT[late-port]}" --console json -v \
	--prometheus "127.0.0.1:${PORT[prom]}" || finish
OBS=$OBS_PID

# the late ones, after obsprobe is ready; each is asked the moment it answers
cp "$GOSERVER" "$TMP/hiddensrv"
plain late || finish
plain late-comm "$TMP/hiddensrv" || finish
plain_start late-port "$GOSERVER" -listen-delay 3s
wait_until 3 eval 'scrape | grep -q "^process_thread_count{.*service_name=\"late-port\""' ||
	fail "late-port: no process series while it was watched, before its listen()"
await_ready "$TMP/late-port.ready" "Go server late-port" late-port || finish
mkdir "$TMP/burst" && cp "$(command -v sleep)" "$TMP/burst/hiddensrv"
BURST=()
for ((i = 0; i < 20; i++)); do
	env BURST=1 "$TMP/burst/hiddensrv" 3 &
	BURST+=($!)
	track_pid "$!"
done

declare -A WANT=([cart]=3 [catalog]=4 [plain]=5 [late]=6)
declare -A NONE=([hidden-port]=2 [late-comm]=2 [late-port]=2)
for s in "${!WANT[@]}"; do
	for ((i = 0; i < WANT[$s]; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/item/$i" || fail "curl to $s failed"
	done
done
for s in "${!NONE[@]}"; do
	for ((i = 0; i < NONE[$s]; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/item/$i" || fail "curl to $s failed"
	done
done
total=0
for s in "${!WANT[@]}"; do total=$((total + WANT[$s])); done
wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= $total ))" || true
sleep 1.2
scrape >"$TMP/metrics.txt" || fail "scrape failed"

# exact requests per service, with the container's id on the containers' series only
for s in cart catalog; do
	assert_eq "$s: requests in its container's series" "${WANT[$s]}" \
		"$(metric_sum http_server_request_duration_seconds "container_id=\"${CID[$s]}\",.*service_name=\"$s\"" "$TMP/metrics.txt")"
done
for s in plain late; do
	assert_eq "$s: requests" "${WANT[$s]}" \
		"$(metric_sum http_server_request_duration_seconds "service_name=\"$s\"" "$TMP/metrics.txt")"
	assert_eq "$s: no container_id on its series" 0 \
		"$(grep -c "^http_server_request_duration_seconds_count{container_id=[^}]*service_name=\"$s\"" "$TMP/metrics.txt")"
done
assert_eq "requests in all (watched services only)" "$total" \
	"$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics.txt")"
for s in "${!NONE[@]}"; do
	assert_eq "excluded $s: no series" 0 "$(grep -c "service_name=\"$s\"" "$TMP/metrics.txt")"
done
# saturation series are per process, with the container's id too
assert_ge "cart: thread gauge with its container id" \
	"$(grep -c "^process_thread_count{container_id=\"${CID[cart]}\",process_pid=\"${PID[cart]}\"" "$TMP/metrics.txt")" 1

# spans: each service's resource, and none of obsprobe's own
"$PY" - "$OBS_OUT" "$TMP/spans.txt" <<'EOF'
import json, sys
out = open(sys.argv[2], "w")
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    s = json.loads(line)
    r = s["resource"]
    a = s["attributes"]
    out.write("%s %s %s %s %s\n" % (s["kind"], r["service.name"], r.get("container.id", "-"),
                                   r["process.pid"], a.get("server.port", "-")))
EOF
for s in cart catalog; do
	assert_eq "$s: SERVER spans with its container.id" "${WANT[$s]}" \
		"$(awk -v s="$s" -v c="${CID[$s]}" '$1 == "SERVER" && $2 == s && $3 == c' "$TMP/spans.txt" | wc -l)"
done
for s in plain late; do
	assert_eq "$s: SERVER spans, no container.id" "${WANT[$s]}" \
		"$(awk -v s="$s" '$1 == "SERVER" && $2 == s && $3 == "-"' "$TMP/spans.txt" | wc -l)"
done
for s in "${!NONE[@]}"; do
	assert_eq "excluded $s: no spans" 0 "$(awk -v s="$s" '$2 == s' "$TMP/spans.txt" | wc -l)"
done
assert_eq "no span from obsprobe itself" 0 "$(awk -v p="$OBS" '$4 == p' "$TMP/spans.txt" | wc -l)"
assert_eq "no SERVER span on obsprobe's own port" 0 \
	"$(awk -v p="${PORT[prom]}" '$1 == "SERVER" && $5 == p' "$TMP/spans.txt" | wc -l)"
assert_ge "curl's scrapes of obsprobe were seen (as CLIENT spans)" \
	"$(awk -v p="${PORT[prom]}" '$1 == "CLIENT" && $5 == p' "$TMP/spans.txt" | wc -l)" 1
assert_lacks "obsprobe never watches itself" "$OBS_ERR" "watching pid $OBS "
# this shell is watched too (--all): its children are followed from their fork, and judged again
# at their exec (the exec-time discovery of a process nobody watched is below, with --comm)
assert_contains "late was followed from its fork" "$OBS_ERR" "following pid ${PID[late]} "
assert_lacks "late was kept at its exec" "$OBS_ERR" "no longer watching pid ${PID[late]} "
# it runs env, then hiddensrv: whichever exec's event judges it, it is let go once, by its name
# (a burst of twenty more makes the race of the two execs' events against /proc near certain)
assert_eq "late-comm was let go at its exec, once, as hiddensrv" 1 \
	"$(grep -c "no longer watching pid ${PID[late-comm]} (hiddensrv)" "$OBS_ERR")"
assert_eq "late-comm: no other let-go line" 1 \
	"$(grep -c "no longer watching pid ${PID[late-comm]} " "$OBS_ERR")"
burst_lines=0
for p in "${BURST[@]}"; do
	burst_lines=$((burst_lines + $(grep -c "no longer watching pid $p (hiddensrv)" "$OBS_ERR")))
done
assert_eq "a burst of env + hiddensrv: each let go once, as hiddensrv" "${#BURST[@]}" "$burst_lines"
assert_eq "a burst of env + hiddensrv: none let go by env's name" 0 \
	"$(grep -c "no longer watching pid [0-9]* (env)" "$OBS_ERR")"
assert_contains "late-port was let go at its listen()" "$OBS_ERR" \
	"no longer watching pid ${PID[late-port]} "
assert_lacks "hidden-port was never watched" "$OBS_ERR" "watching pid ${PID[hidden-port]} "
for s in cart catalog; do
	assert_contains "$s was found at start, in its container" "$OBS_ERR" \
		"watching pid ${PID[$s]} (goserver, container ${CID[$s]}) (running at start)"
done
assert_ge "node-wide discovery counted" \
	"$(counter_sum obsprobe_discovered_processes_total 'outcome="watched"' "$TMP/metrics.txt")" 4

# an exited process is released: no longer counted as watched
before=$(counter_sum obsprobe_watched_processes "" "$TMP/metrics.txt")
stop_pid "${PID[plain]}"
wait_until 5 grep -q "process ${PID[plain]} exited" "$OBS_ERR" ||
	fail "obsprobe did not notice plain's exit"
wait_until 3 eval "(( \$(counter_sum obsprobe_watched_processes) < $before ))" ||
	fail "watched processes did not go down after plain exited ($before before)"

stop_obsprobe "$OBS" "$OBS_ERR"

# Selectors: every goserver but cart's container. This shell is not selected now, so a Go server
# it starts is found at its exec (env, then goserver), not followed from the fork.
PORT[late2]=$(free_port)
start_obsprobe --comm goserver --exclude "container=${CID[cart]:0:12}" --console json \
	--prometheus "127.0.0.1:${PORT[prom]}" -v || finish
OBS=$OBS_PID
plain late2 || finish
for s in cart catalog late2; do
	for ((i = 0; i < 3; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/item/$i" || fail "curl to $s failed"
	done
done
wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= 6 ))" || true
sleep 1.2
scrape >"$TMP/metrics2.txt" || fail "scrape failed"
assert_contains "late2 was found at its exec" "$OBS_ERR" \
	"watching pid ${PID[late2]} (goserver) at its exec"
assert_lacks "the shell was not selected" "$OBS_ERR" "watching pid $$ "
assert_eq "--comm goserver: catalog's requests, in its container" 3 \
	"$(metric_sum http_server_request_duration_seconds "container_id=\"${CID[catalog]}\"" "$TMP/metrics2.txt")"
assert_eq "--comm goserver: late2's requests" 3 \
	"$(metric_sum http_server_request_duration_seconds 'service_name="late2"' "$TMP/metrics2.txt")"
assert_eq "--exclude container=<cart's short id>: none of cart's" 0 \
	"$(grep -c 'service_name="cart"' "$TMP/metrics2.txt")"
assert_eq "--comm goserver: nothing else (curl is not selected)" 6 \
	"$(metric_sum http_server_request_duration_seconds "" "$TMP/metrics2.txt")"
assert_eq "--comm goserver: no client spans (curl is not watched)" 0 \
	"$(grep -c '"kind":"CLIENT"' "$OBS_OUT")"
stop_obsprobe "$OBS" "$OBS_ERR"
finish

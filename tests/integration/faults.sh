#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Faults done to obsprobe itself, with nginx over HTTPS under wrk (socket tracepoints and the
# OpenSSL uprobes both busy):
# - kill -9 mid-load: every BPF program, map and link it held is gone from the kernel
#   (bpftool), no uprobe is left in tracefs, and a new obsprobe started at once is ready and
#   counts exactly;
# - SIGSTOP for 10 s mid-load: the ring buffer fills, the loss is counted per reason
#   (ringbuf_full), obsprobe survives, catches up after SIGCONT (fresh requests give exactly
#   their spans) and exports no half-assembled span (every SERVER span is a whole GET of the
#   one path wrk asks for, answered 200, and there are no more of them than nginx logged);
# - a client that sends /metrics an endless request line, and one an endless body: each is cut
#   off or left to its own connection, obsprobe's memory stays flat and scrapes go on.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
nginx_up https || finish
UPROBE_EVENTS=/sys/kernel/tracing/uprobe_events

# the IDs of the BPF objects of KIND (prog, map, link) that process pid holds an fd of
held_ids() {
	cat /proc/"$2"/fdinfo/* 2>/dev/null | awk -v k="$1_id:" '$1 == k { print $2 }' | sort -un
}
# which of the IDs of KIND given are still in the kernel
still_loaded() {
	local kind=$1
	shift
	bpftool -j "$kind" list 2>/dev/null | "$PY" -c '
import json, sys
ids = set(int(i) for i in sys.argv[1:])
print(" ".join(str(o["id"]) for o in json.load(sys.stdin) or [] if o["id"] in ids))' "$@"
}
uprobe_lines() { if [[ -r $UPROBE_EVENTS ]]; then wc -l <"$UPROBE_EVENTS"; else echo 0; fi; }
logged() { wc -l <"$ACCESS"; }

# ---- kill -9 under load ----
UPROBES_BEFORE=$(uprobe_lines)
start_obsprobe --pid "$NGINX_PID" --console json || finish
mapfile -t PROGS < <(held_ids prog "$OBS_PID")
mapfile -t MAPS < <(held_ids map "$OBS_PID")
mapfile -t LINKS < <(held_ids link "$OBS_PID")
log "obsprobe holds ${#PROGS[@]} programs, ${#MAPS[@]} maps, ${#LINKS[@]} links"
assert_ge "programs held" "${#PROGS[@]}" 5
assert_ge "maps held" "${#MAPS[@]}" 5
assert_ge "links held (tracepoints and the OpenSSL uprobes)" "${#LINKS[@]}" 5
start_bg wrk1 wrk -t2 -c8 -d5s "$URL/index.html"
WRK1=$BG_PID
sleep 2
alive "$OBS_PID" || fail "obsprobe died under load before it was killed"
kill -KILL "$OBS_PID"
wait_exit "$OBS_PID" 10
assert_eq "obsprobe killed by SIGKILL" 137 "$WAIT_RC"
gone() {
	[[ -z "$(still_loaded prog "${PROGS[@]}")" && -z "$(still_loaded map "${MAPS[@]}")" &&
		-z "$(still_loaded link "${LINKS[@]}")" ]]
}
if wait_until 10 gone; then
	pass "after kill -9, none of its ${#PROGS[@]} programs, ${#MAPS[@]} maps and ${#LINKS[@]} links is left"
else
	fail "after kill -9, still loaded: programs [$(still_loaded prog "${PROGS[@]}")] maps [$(still_loaded map "${MAPS[@]}")] links [$(still_loaded link "${LINKS[@]}")]"
fi
assert_eq "no leftover program of obsprobe's" "" "$(leftover_progs)"
assert_eq "no uprobe left in tracefs" "$UPROBES_BEFORE" "$(uprobe_lines)"
assert_eq "no perf-event uprobe left (bpftool perf)" 0 \
	"$(bpftool perf list 2>/dev/null | grep -c "pid $OBS_PID ")"
wait_exit "$WRK1" 20
assert_eq "wrk's exit status" 0 "$WAIT_RC"

# restarted at once: ready, and exact
start_obsprobe --pid "$NGINX_PID" --console json || finish
SKIP=$(logged)
N=20
for ((i = 1; i <= N; i++)); do
	curl -sk -o /dev/null "$URL/restart/$i"
done
restart_spans() { spans_count "$OBS_OUT" kind=SERVER attr:http.response.status_code==404; }
wait_until 10 eval "(( \$(restart_spans) >= $N ))"
assert_eq "nginx logged the $N requests after the restart" "$N" "$(($(logged) - SKIP))"
assert_eq "the restarted obsprobe: one SERVER span per request" "$N" "$(restart_spans)"

# ---- SIGSTOP for 10 s under load ----
SKIP=$(logged)
RSS_BEFORE=$(vm_rss_kib "$OBS_PID")
start_bg wrk2 wrk -t2 -c8 -d16s "$URL/index.html"
WRK2=$BG_PID
sleep 3
kill -STOP "$OBS_PID"
sleep 10
kill -CONT "$OBS_PID"
wait_exit "$WRK2" 30
assert_eq "wrk's exit status" 0 "$WAIT_RC"
alive "$OBS_PID" || fail "obsprobe died after SIGSTOP/SIGCONT"
WRK_REQS=$(wrk_requests "$TMP/wrk2.out")
log "wrk: ${WRK_REQS:-?} requests while obsprobe was stopped for 10 s of 16"
LOST=$(counter_sum obsprobe_events_lost_total 'reason="ringbuf_full"')
assert_ge "events lost while stopped, counted as ringbuf_full" "${LOST:-0}" 1
log "lost: $(scrape | grep '^obsprobe_events_lost_total' | paste -sd' ')"
# the loss is over: the count stays put
sleep 2
assert_eq "no more events lost once caught up" "$LOST" \
	"$(counter_sum obsprobe_events_lost_total 'reason="ringbuf_full"')"
WHOLE=(kind=SERVER attr:http.request.method=GET attr:url.path=/index.html
	attr:http.response.status_code==200 "attr:server.port==$P1" attr:url.scheme=https)
ALL=$(spans_count "$OBS_OUT" kind=SERVER)
mapfile -t C < <(spans_counts "$OBS_OUT" -- kind=SERVER -- "${WHOLE[@]}")
LOGGED=$(($(logged) - SKIP))
log "SERVER spans of the load: $((C[0] - N)) of $LOGGED requests nginx logged"
assert_eq "no half-assembled span: every SERVER span is a whole GET /index.html 200 (or the $N 404s)" \
	"$((ALL - N))" "${C[1]:-}"
assert_le "no more spans of the load than nginx logged" "${C[1]:-}" "$LOGGED"
assert_eq "console lines that are no JSON span" 0 "$(spans_invalid "$OBS_OUT")"
# catches up: fresh requests give exactly their spans
for ((i = 1; i <= N; i++)); do
	curl -sk -o /dev/null "$URL/after-stop/$i"
done
after_spans() { spans_count "$OBS_OUT" kind=SERVER attr:http.response.status_code==404 "attr:url.path~^/after-stop/"; }
wait_until 10 eval "(( \$(after_spans) >= $N ))"
assert_eq "after SIGCONT: one SERVER span per fresh request" "$N" "$(after_spans)"
RSS_AFTER=$(vm_rss_kib "$OBS_PID")
log "RSS: ${RSS_BEFORE} KiB before the stop, ${RSS_AFTER} KiB after"
assert_le "RSS after the stop (KiB): within 64 MiB of before" "$RSS_AFTER" "$((RSS_BEFORE + 65536))"

# ---- /metrics: an endless request line, an endless body ----
HOSTPORT=${OBS_METRICS#http://}
HOSTPORT=${HOSTPORT%/metrics}
RSS_BEFORE=$(vm_rss_kib "$OBS_PID")
# shellcheck disable=SC2016 # Python's text
"$PY" - "${HOSTPORT%:*}" "${HOSTPORT#*:}" >"$TMP/endless.out" 2>&1 <<'EOF' &
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
def endless(head, name):
    s = socket.create_connection((host, port))
    s.settimeout(1)
    s.sendall(head)
    sent, end, why = len(head), time.time() + 6, "still open after 6 s"
    chunk = b"a" * 65536
    while time.time() < end:
        try:
            sent += s.send(chunk)
        except socket.timeout:
            continue
        except OSError as e:
            why = "cut off (%s)" % type(e).__name__
            break
    print(name, why, "after", sent, "bytes", flush=True)
    s.close()
endless(b"GET /metrics?" , "request-line")
endless(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n", "body")
EOF
ENDLESS=$!
track_pid "$ENDLESS"
ok=0
for ((i = 0; i < 10; i++)); do
	sleep 1
	scrape >/dev/null && ok=$((ok + 1))
done
wait_exit "$ENDLESS" 30
sed 's/^/    | /' "$TMP/endless.out"
assert_eq "scrapes answered while the endless requests went on" 10 "$ok"
assert_contains "the endless request line is cut off" "$TMP/endless.out" "request-line cut off"
RSS_AFTER=$(vm_rss_kib "$OBS_PID")
log "RSS: ${RSS_BEFORE} KiB before the endless requests, ${RSS_AFTER} KiB after"
assert_le "RSS after the endless requests (KiB): within 8 MiB of before" "$RSS_AFTER" \
	"$((RSS_BEFORE + 8192))"

stop_obsprobe
assert_eq "no leftover program after the clean stop" "" "$(leftover_progs)"
finish

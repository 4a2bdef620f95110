#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Readiness that tells the truth: obsprobe watching nginx over HTTPS (uprobes on libssl) is
# polled on /healthz and /readyz from the moment it starts. /healthz answers 200 while /readyz
# still answers 503 with what is under way; /readyz turns 200 once, and never back; at that
# moment every uprobe obsprobe places is already in the kernel (bpftool perf list),
# the console already says "ready", and the first request sent then is seen (a span, counted in
# /metrics) with nothing lost.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
if ! P1=$(free_port) || ! P2=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/ng" "$P1" "$P2" https || finish
LIBSSL=$(awk '$6 ~ /\/libssl\.so/ { print $6; exit }' "/proc/$(pgrep -P "$NGINX_PID" | head -n 1)/maps")
[[ -n $LIBSSL ]] || {
	fail "nginx's worker maps no libssl"
	finish
}
PROM=127.0.0.1:$(free_port) || {
	fail "no free port"
	finish
}

# obsprobe started by hand (start_obsprobe waits for readiness itself); polled at once
OBS_ERR=$TMP/obsprobe.err
"$OBSPROBE" --pid "$NGINX_PID" --console json --prometheus "$PROM" >"$TMP/obsprobe.out" \
	2>"$OBS_ERR" &
OBS_PID=$!
track_pid "$OBS_PID"
POLL=$TMP/poll.log
first_ok=""
for ((i = 0; i < 2000; i++)); do
	h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$PROM/healthz" 2>/dev/null)
	r=$(curl -s -o "$TMP/readyz.body" -w '%{http_code}' --max-time 2 "http://$PROM/readyz" 2>/dev/null)
	if [[ $r == 200 && -z $first_ok ]]; then
		# what the kernel and the console say at the moment /readyz first says ready
		bpftool perf list 2>/dev/null | grep "^pid $OBS_PID " >"$TMP/perf_at_ready.txt"
		cp "$OBS_ERR" "$TMP/err_at_ready.txt"
		first_ok=$i
	fi
	echo "$h $r $(head -n 1 "$TMP/readyz.body" 2>/dev/null)" >>"$POLL"
	[[ -n $first_ok ]] && ((i >= first_ok + 20)) && break
	alive "$OBS_PID" || break
	sleep 0.01
done
log "polls: $(wc -l <"$POLL"), $(sort "$POLL" | uniq -c | sed 's/^ *//' | paste -sd';')"
if [[ -z $first_ok ]]; then
	fail "/readyz never answered 200"
	sed 's/^/    | /' "$OBS_ERR" | head -n 20
	finish
fi
# the endpoint answered before the probes were in: alive, not ready, and why
assert_ge "/readyz answered 503 before it was ready" \
	"$(grep -c '^200 503 not ready: ' "$POLL")" 1
assert_eq "every 503 says what is under way" "" \
	"$(awk '$2 == 503 && $3 " " $4 != "not ready:" { print; exit }' "$POLL")"
assert_eq "/healthz answered 200 to every poll that reached the endpoint" "" \
	"$(awk '$1 != 200 && $1 != "000" { print; exit }' "$POLL")"
assert_eq "/readyz never went back to 503 once ready" "" \
	"$(awk -v f=$((first_ok + 1)) 'NR > f && $2 != 200 { print; exit }' "$POLL")"
assert_eq "/readyz says ready" "ready" "$(awk -v f=$((first_ok + 1)) 'NR == f { print $3 }' "$POLL")"
assert_contains "the console said ready before /readyz did" "$TMP/err_at_ready.txt" \
	"obsprobe: ready: every probe asked for is attached"
# every uprobe obsprobe places (on libssl and libgnutls, which nginx maps) was in the kernel
# then: as many as a while later, after traffic
sleep 1
bpftool perf list 2>/dev/null | grep "^pid $OBS_PID " >"$TMP/perf_later.txt"
at_ready=$(grep -c ' uprobe ' "$TMP/perf_at_ready.txt")
later=$(grep -c ' uprobe ' "$TMP/perf_later.txt")
log "obsprobe's uprobes at the first 200: $at_ready; a second later: $later"
assert_ge "uprobes in the kernel when ready (libssl's at least)" "$at_ready" \
	"$("$OBSPROBE" --probe-sites "$LIBSSL" 2>/dev/null | grep -c '^uprobe for .* at 0x')"
assert_eq "none placed after ready" "$at_ready" "$later"

# the first request after ready is seen
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$P1/index.html")
assert_eq "curl over https" 200 "$code"
wait_until 5 grep -q '"url.path":"/index.html"' "$TMP/obsprobe.out" ||
	fail "no span for the first request after ready"
scrape "http://$PROM/metrics" >"$TMP/metrics.txt" || fail "scrape failed"
assert_no_loss "events lost" "$TMP/metrics.txt"
stop_obsprobe "$OBS_PID" "$OBS_ERR"
finish

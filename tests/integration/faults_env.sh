#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What obsprobe does when the kernel or the node lacks something it uses, with nginx under
# requests checked against its access log. Each missing piece is made so in a mount namespace
# of obsprobe's own (unshare -m) or with OBSPROBE_HIDE_KERNEL_FEATURES:
# - tracefs not mounted: obsprobe mounts it, and counts exactly;
# - tracefs not mounted and impossible to mount (/sys/kernel is a bare tmpfs but for its BTF):
#   a warning; where the kernel has fentry the syscall hooks need no tracefs and obsprobe runs
#   (without metrics: the OOM tracepoint would be missing, as below) and counts exactly; where
#   not, it says which hook has no kind left and exits 1 without leaving a program behind;
# - no BTF (/sys/kernel/btf hidden): a clear message and exit 1 at once;
# - a tracepoint missing (hook:mark_victim hidden): the memory probes are left out, readiness
#   says so (not ready, /readyz 503 naming the hook), and the rest runs exactly: spans, and the
#   scheduler's metrics without the memory ones;
# - a hook the core needs missing (hook:sys_exit_read): a message naming it, exit 1, nothing left;
# - no BPF ring buffer (ringbuf hidden): a message saying what is needed, exit 1, nothing left;
# - no libcurl (/dev/null bound over it): obsprobe, which opens it only for an exporter, runs
#   without it and counts exactly; with an OTLP endpoint it says what it cannot load, exit 1.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
nginx_up || finish
REAL_OBSPROBE=$OBSPROBE

# in_namespace NAME SETUP: OBSPROBE becomes a wrapper that runs the shell commands SETUP in a
# mount namespace of its own, then obsprobe there, under the same PID (unshare and bash exec).
in_namespace() {
	cat >"$TMP/ns-$1.sh" <<EOF
#!/bin/bash
$2
exec "$REAL_OBSPROBE" "\$@"
EOF
	cat >"$TMP/ns-$1" <<EOF
#!/bin/bash
exec unshare -m --propagation private bash "$TMP/ns-$1.sh" "\$@"
EOF
	chmod +x "$TMP/ns-$1"
	OBSPROBE=$TMP/ns-$1
}
# every tracefs mount gone from this namespace; "absent" or "present" after, in FILE
NO_TRACEFS='while umount /sys/kernel/tracing 2>/dev/null; do :; done
umount /sys/kernel/debug/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null'
tracefs_state() { echo "if [ -e /sys/kernel/tracing/events ]; then echo present; else echo absent; fi >$1"; }

# exact NAME N: N fresh requests to /NAME/i (404s) give N access log lines and N SERVER spans
exact() {
	local before i
	before=$(wc -l <"$ACCESS")
	for ((i = 1; i <= $2; i++)); do
		curl -s -o /dev/null "$URL/$1/$i" || fail "$1: curl $i failed"
	done
	wait_until 10 eval "(( \$(spans_count '$OBS_OUT' kind=SERVER 'attr:url.path~^/$1/') >= $2 ))" || true
	sleep 0.3
	assert_eq "$1: lines nginx logged" "$2" "$(($(wc -l <"$ACCESS") - before))"
	assert_eq "$1: SERVER spans" "$2" "$(spans_count "$OBS_OUT" kind=SERVER "attr:url.path~^/$1/")"
}

# start_plain NAME ARGS...: obsprobe ARGS in the background until it says ready, not ready, or
# exits (20 s); OBS_PID, OBS_OUT, OBS_ERR as start_obsprobe; STARTED: ready, not_ready, exited.
start_plain() {
	local name=$1 i
	shift
	OBS_OUT=$TMP/$name.out
	OBS_ERR=$TMP/$name.err
	"$OBSPROBE" "$@" >"$OBS_OUT" 2>"$OBS_ERR" &
	OBS_PID=$!
	track_pid "$OBS_PID"
	STARTED=""
	for ((i = 0; i < 400 * TIME_SCALE; i++)); do
		if grep -q '^obsprobe: ready: ' "$OBS_ERR"; then
			STARTED=ready
		elif grep -q '^obsprobe: not ready: ' "$OBS_ERR"; then
			STARTED=not_ready
		elif ! alive "$OBS_PID"; then
			wait "$OBS_PID"
			STARTED_RC=$?
			STARTED=exited
		fi
		[[ -n $STARTED ]] && return 0
		sleep 0.05
	done
	fail "$name: obsprobe neither ready, nor not ready, nor gone after 20 s"
	return 1
}
# no_program_left NAME: obsprobe (exited) left no BPF program of its names loaded
no_program_left() {
	local left
	left=$(leftover_progs)
	assert_eq "$1: BPF programs left behind" "" "$left"
}

# ---- tracefs not mounted: obsprobe mounts it ----
in_namespace tracefs "$NO_TRACEFS
$(tracefs_state "$TMP/tracefs-before")"
start_obsprobe --pid "$NGINX_PID" --console json -v || finish
OBSPROBE=$REAL_OBSPROBE
assert_eq "tracefs unmounted in obsprobe's namespace before it started" absent \
	"$(cat "$TMP/tracefs-before" 2>/dev/null)"
assert_contains "obsprobe mounted it" "$OBS_ERR" "obsprobe: mounted tracefs at /sys/kernel/tracing"
exact tracefs 20
stop_obsprobe

# ---- tracefs cannot be mounted: /sys/kernel a bare tmpfs, its BTF kept ----
in_namespace notracefs "$NO_TRACEFS
mkdir -p '$TMP/btf' && mount --bind /sys/kernel/btf '$TMP/btf' &&
mount -t tmpfs none /sys/kernel && mkdir /sys/kernel/btf && mount --move '$TMP/btf' /sys/kernel/btf
$(tracefs_state "$TMP/notracefs-before")"
start_plain notracefs --pid "$NGINX_PID" --console json -v --prometheus off
OBSPROBE=$REAL_OBSPROBE
assert_eq "tracefs unmountable: absent before obsprobe" absent \
	"$(cat "$TMP/notracefs-before" 2>/dev/null)"
assert_contains "tracefs unmountable: warned" "$OBS_ERR" \
	"mounting it at /sys/kernel/tracing failed: No such file or directory; no hook can sit on a tracepoint"
if grep -q '^obsprobe: kernel hooks: .*fentry yes' "$OBS_ERR"; then
	# the syscall hooks on fexit, the process hooks on tp_btf: no metrics, so no OOM tracepoint
	assert_eq "tracefs unmountable, fentry: obsprobe runs, ready" ready "$STARTED"
	assert_contains "tracefs unmountable, fentry: the socket hooks on fexit" "$OBS_ERR" \
		"obsprobe: sock hooks: sys_exit_read fentry,"
	exact notracefs 20
	stop_obsprobe
else
	assert_eq "tracefs unmountable, no fentry: obsprobe exits" exited "$STARTED"
	assert_eq "tracefs unmountable, no fentry: exit status" 1 "${STARTED_RC:-}"
	assert_contains "tracefs unmountable, no fentry: says which hook has no kind left" "$OBS_ERR" \
		"sock: this kernel offers no hook for sys_exit_read (fentry: "
	assert_contains "tracefs unmountable, no fentry: and why not a tracepoint" "$OBS_ERR" \
		"tp: no tracefs)"
	no_program_left "tracefs unmountable"
fi

# ---- no BTF ----
in_namespace nobtf "mount -t tmpfs none /sys/kernel/btf"
t0=$SECONDS
start_plain nobtf --pid "$NGINX_PID" --console json --prometheus off
OBSPROBE=$REAL_OBSPROBE
assert_eq "no BTF: obsprobe exits" exited "$STARTED"
assert_eq "no BTF: exit status" 1 "${STARTED_RC:-}"
assert_le "no BTF: seconds to exit" "$((SECONDS - t0))" "$((5 * TIME_SCALE))"
assert_contains "no BTF: says so" "$OBS_ERR" \
	"this kernel has no BTF (/sys/kernel/btf/vmlinux: No such file or directory); obsprobe needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
no_program_left "no BTF"

# ---- a tracepoint missing: the memory probes left out, the rest runs ----
PORT=$(free_port) || finish
OBSPROBE_HIDE_KERNEL_FEATURES=hook:mark_victim start_plain nooom --pid "$NGINX_PID" \
	--console json --prometheus "127.0.0.1:$PORT"
assert_eq "no OOM tracepoint: obsprobe runs, not ready" not_ready "$STARTED"
assert_contains "no OOM tracepoint: the readiness line names what is left out and why" "$OBS_ERR" \
	"obsprobe: not ready: could not attach the memory probes (RSS, page fault and OOM metrics): mem: this kernel offers no hook for mark_victim (tp: hidden)"
code=$(curl -s -o "$TMP/readyz" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")
assert_eq "no OOM tracepoint: /readyz" 503 "$code"
assert_contains "no OOM tracepoint: /readyz names the hook" "$TMP/readyz" "mark_victim"
exact nooom 20
sleep 1.2
scrape "http://127.0.0.1:$PORT/metrics" >"$TMP/nooom.txt" || fail "no OOM tracepoint: scrape failed"
assert_ge "no OOM tracepoint: scheduler metrics still there" \
	"$(grep -c "^process_context_switches_total{.*process_pid=\"$NGINX_PID\"" "$TMP/nooom.txt")" 1
assert_eq "no OOM tracepoint: memory metrics left out" 0 \
	"$(grep -c '^obsprobe_page_faults_total{\|^process_memory_usage_bytes{' "$TMP/nooom.txt")"
stop_obsprobe

# ---- a hook the core needs missing ----
OBSPROBE_HIDE_KERNEL_FEATURES=hook:sys_exit_read start_plain noread --pid "$NGINX_PID" \
	--console json --prometheus off
assert_eq "no read hook: obsprobe exits" exited "$STARTED"
assert_eq "no read hook: exit status" 1 "${STARTED_RC:-}"
assert_contains "no read hook: names it" "$OBS_ERR" \
	"sock: this kernel offers no hook for sys_exit_read ("
no_program_left "no read hook"

# ---- no BPF ring buffer ----
OBSPROBE_HIDE_KERNEL_FEATURES=ringbuf start_plain noringbuf --pid "$NGINX_PID" \
	--console json --prometheus off
assert_eq "no ring buffer: obsprobe exits" exited "$STARTED"
assert_eq "no ring buffer: exit status" 1 "${STARTED_RC:-}"
assert_contains "no ring buffer: says what is needed" "$OBS_ERR" \
	"this kernel offers no BPF ring buffer (hidden): obsprobe receives every event through one, which needs Linux 5.8 or later"
no_program_left "no ring buffer"

# ---- no libcurl: loaded only for an exporter ----
CURL_SO=$(ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64/ { print $NF; exit }')
if [[ -z $CURL_SO ]]; then
	fail "ld.so finds no libcurl.so.4"
else
	CURL_SO=$(readlink -f "$CURL_SO")
	in_namespace nocurl "mount --bind /dev/null '$CURL_SO'"
	start_plain nocurl --pid "$NGINX_PID" --console json --prometheus off
	assert_eq "no libcurl: obsprobe runs" ready "$STARTED"
	exact nocurl 20
	assert_eq "no libcurl: not mapped" 0 "$(grep -c libcurl "/proc/$OBS_PID/maps")"
	stop_obsprobe
	start_plain nocurlotlp --pid "$NGINX_PID" --console json --prometheus off \
		--otlp-endpoint "http://127.0.0.1:9"
	OBSPROBE=$REAL_OBSPROBE
	assert_eq "no libcurl, OTLP asked: obsprobe exits" exited "$STARTED"
	assert_eq "no libcurl, OTLP asked: exit status" 1 "${STARTED_RC:-}"
	assert_contains "no libcurl, OTLP asked: says what it cannot load" "$OBS_ERR" \
		"obsprobe: OTLP: cannot load libcurl.so.4: "
	no_program_left "no libcurl"
fi

finish

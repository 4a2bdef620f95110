#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Misuse: every error is one "obsprobe: ..." line on stderr and a non-zero exit (2 for bad
# command lines, 1 for what the system refuses), and leaves nothing loaded behind.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# expect_error LABEL STATUS TEXT ARGS...: obsprobe ARGS exits with STATUS ("nonzero": any but
# 0), prints nothing on stdout and exactly one line on stderr, "obsprobe: ...", containing TEXT.
expect_error() {
	local label=$1 want=$2 text=$3
	shift 3
	run_obsprobe "$label" 20 "$@"
	if [[ $want == nonzero ]]; then
		assert_true "$label: exit status non-zero (got $RUN_RC)" test "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 124
	else
		assert_eq "$label: exit status" "$want" "$RUN_RC"
	fi
	assert_eq "$label: one line on stderr" 1 "$(wc -l <"$RUN_ERR")"
	assert_true "$label: it starts with 'obsprobe: '" grep -q '^obsprobe: ' "$RUN_ERR"
	[[ -n "$text" ]] && assert_contains "$label: it says '$text'" "$RUN_ERR" "$text"
	assert_eq "$label: nothing on stdout" 0 "$(wc -c <"$RUN_OUT")"
	if (($(wc -l <"$RUN_ERR") != 1)); then
		sed 's/^/    | /' "$RUN_ERR" | head -n 5
	fi
}

require_root || finish
[[ -x "$OBSPROBE" ]] || { fail "$OBSPROBE does not exist: run make first"; finish; }

# a live process to name in --pid where the pid is not the point
start_bg sleeper sleep 300
LIVE=$BG_PID

expect_error bad-flag 2 "" --pid "$LIVE" --bogus
expect_error no-pid 2 "" --console json
expect_error pid-not-a-number 2 "" --pid abc
expect_error capture-bytes-5 2 "" --pid "$LIVE" --capture-bytes 5
expect_error console-bad-mode 2 "" --pid "$LIVE" --console xml
expect_error stray-argument 2 "" --pid "$LIVE" extra

# a pid that surely existed and is now gone
true &
DEAD=$!
wait "$DEAD"
expect_error dead-pid 1 "no process" --pid "$DEAD" --prometheus off --console off

# a port somebody else listens on
HELD=$(free_port) || fail "no free port"
start_bg holder "$PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
time.sleep(300)' "$HELD"
wait_until 10 grep -q listening "$TMP/holder.out" || fail "the port holder did not start"
expect_error port-in-use nonzero "in use" --pid "$LIVE" --prometheus "127.0.0.1:$HELD"
expect_error bad-listen-address nonzero "" --pid "$LIVE" --prometheus "127.0.0.1:notaport"

# not root: a copy nobody can run, so the check is on privileges and not on file modes
cp "$OBSPROBE" "$TMP/obsprobe-copy" && chmod 755 "$TMP" "$TMP/obsprobe-copy"
start_bg not-root runuser -u nobody -- "$TMP/obsprobe-copy" --pid "$LIVE" --prometheus off
wait_exit "$BG_PID" 20
assert_eq "not-root: exit status" 1 "$WAIT_RC"
assert_eq "not-root: one line on stderr" 1 "$(wc -l <"$TMP/not-root.err")"
assert_contains "not-root: it says root is needed" "$TMP/not-root.err" "needs root"

# tracefs not mounted: obsprobe mounts it rather than failing (as it must on a fresh node)
if [[ -d /sys/kernel/debug/tracing/events ]]; then
	log "tracefs reachable through debugfs here: the unmounted case cannot be set up"
	assert_true "tracefs reachable through debugfs" test -d /sys/kernel/debug/tracing/events
else
	mountpoint -q /sys/kernel/tracing && umount /sys/kernel/tracing
	assert_false "tracefs unmounted for the test" test -d /sys/kernel/tracing/events
	start_obsprobe --pid "$LIVE" --prometheus off --console off -v &&
		assert_contains "tracefs: obsprobe says it mounted it" "$OBS_ERR" "mounted tracefs"
	assert_true "tracefs: mounted again" test -d /sys/kernel/tracing/events
	stop_obsprobe
fi

# --pid with a thread id: obsprobe watches the thread's process (the BPF side keys by tgid)
start_bg threaded "$PY" -c 'import threading, time
threading.Thread(target=time.sleep, args=(300,), daemon=True).start()
print("started", flush=True)
time.sleep(300)'
THREADED=$BG_PID
wait_until 10 grep -q started "$TMP/threaded.out" || fail "the threaded process did not start"
TID=$(ls "/proc/$THREADED/task" | grep -vx "$THREADED" | head -n 1)
assert_ne "the threaded process has a second thread" "" "$TID"
if start_obsprobe --pid "$TID" --prometheus off --console off; then
	assert_contains "thread id: says which process it watches" "$OBS_ERR" \
		"$TID is a thread of process $THREADED"
	assert_contains "thread id: watches the process" "$OBS_ERR" "watching pid $THREADED "
	stop_obsprobe
fi

run_obsprobe help 10 --help
assert_eq "--help: exit status" 0 "$RUN_RC"
assert_contains "--help: shows examples" "$RUN_OUT" "Examples"
assert_contains "--help: shows usage" "$RUN_OUT" "--pid"

# none of that left a BPF program loaded
assert_eq "BPF programs held by no process" "" "$(leftover_progs)"
finish

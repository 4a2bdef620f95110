# shellcheck shell=bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Helpers for tests/integration/*.sh. A test sources this file first:
#
#	. "$(dirname "$0")/../lib.sh"
#
# and ends with `finish`. Sourcing makes a temp dir, $TMP (removed on exit; kept with KEEP_TMP=1,
# or with KEEP_TMP=failed when a check failed), and an EXIT trap that stops every process the
# test started (by PID, never by name) and reports the test's counts: printed as
# "TEST: N passed, M failed" and, when run.sh sets OBSPROBE_RESULTS, written there as "N M".
# A test that dies before `finish` counts one more failure, so a crash never looks like a pass.
# Scripts that are not tests (bench/) set LIB_NO_REPORT=1 before sourcing: cleanup only, and
# their own exit status.

set -u
# Set here, read by the tests that source this file:
# shellcheck disable=SC2034
: "${RUN_RC:=} ${RUN_OUT:=} ${RUN_ERR:=} ${GO_PID:=} ${RUNNER_PID:=} ${NGINX_PID:=}"
: "${PG_PID:=} ${PG_PORT:=} ${PG_SOCKDIR:=} ${PROM_PID:=} ${PROM_URL:=}"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OBSPROBE=${OBSPROBE:-$ROOT/build/obsprobe}
PY=/usr/bin/python3.11
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
PASS_COUNT=0
FAIL_COUNT=0
FINISHED=0
TRACKED_PIDS=()
OBS_SEQ=0
# How much slower than this machine the tests run (tests/kernels/run.sh: under emulation):
# every wait_until, obsprobe's start and stop, and a scrape wait that many times longer.
TIME_SCALE=${TIME_SCALE:-1}

# The bpftool names of obsprobe's programs (bpftool cuts names to 15 characters).
OBSPROBE_PROGS=(sys_exit_read sys_exit_write sys_exit_recvfrom sys_exit_sendto sys_exit_readv
	sys_exit_writev sys_exit_recvmsg sys_exit_sendmsg sys_exit_sendfile64 sys_exit_accept
	sys_exit_accept4 sys_exit_connect sys_enter_close sched_process_fork sched_process_exec
	sched_process_exit sched_wakeup sched_wakeup_new sched_switch task_newtask sched_thread_exit
	rss_stat page_fault_user mem_thread_exit mark_victim ssl_read_enter ssl_write_enter
	ssl_read_ex_enter ssl_write_ex_enter gnutls_recv_enter gnutls_recv_int_enter gnutls_send_enter
	tls_handshake_enter
	tls_return sys_exit_mmap pq_send_query pq_send_query_params pq_send_prepare
	pq_send_query_prepared pq_connect_start pq_connect_start_params pq_finish
	sched_process_fork__raw sched_process_exec__raw sched_process_exit__raw sched_wakeup__raw
	sched_wakeup_new__raw sched_switch__raw task_newtask__raw sched_thread_exit__raw rss_stat__raw
	page_fault_user__raw mem_thread_exit__raw sys_exit_listen sock_process_exit sock_process_exec
	sock_process_exit__raw sock_process_exec__raw)

TMP=$(mktemp -d "/tmp/obsprobe-$TEST_NAME.XXXXXX") || { echo "$TEST_NAME: mktemp failed" >&2; exit 1; }
# nginx workers run as www-data: everything under $TMP they serve must be reachable.
chmod 755 "$TMP"

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

pass() {
	PASS_COUNT=$((PASS_COUNT + 1))
	printf 'PASS %s: %s\n' "$TEST_NAME" "$*"
}

fail() {
	FAIL_COUNT=$((FAIL_COUNT + 1))
	printf 'FAIL %s: %s\n' "$TEST_NAME" "$*"
}

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
	if [[ "$2" == "$3" ]]; then
		pass "$1 (= $3)"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# assert_no_loss DESC FILE: no event lost, for any reason, in the scrape FILE
# (obsprobe_events_lost_total); a failure names the reasons that lost some.
assert_no_loss() {
	local n
	n=$(counter_sum obsprobe_events_lost_total "" "$2")
	if [[ "$n" == 0 ]]; then
		pass "$1 (= 0)"
	else
		fail "$1: expected '0', got '$n' ($(awk '/^obsprobe_events_lost_total\{/ && $NF != 0 {
			printf "%s%s", sep, $0; sep = ", " }' "$2"))"
	fi
}

# assert_ne DESC UNEXPECTED ACTUAL
assert_ne() {
	if [[ "$2" != "$3" ]]; then
		pass "$1 ('$3')"
	else
		fail "$1: got '$3', which it must not be"
	fi
}

_is_int() { [[ "$1" =~ ^-?[0-9]+$ ]]; }

# assert_le DESC A B: integers, A <= B
assert_le() {
	if _is_int "$2" && _is_int "$3" && (($2 <= $3)); then
		pass "$1 ($2 <= $3)"
	else
		fail "$1: expected $2 <= $3"
	fi
}

# assert_ge DESC A B: integers, A >= B
assert_ge() {
	if _is_int "$2" && _is_int "$3" && (($2 >= $3)); then
		pass "$1 ($2 >= $3)"
	else
		fail "$1: expected $2 >= $3"
	fi
}

# within_pct A B PCT: numbers (floats too), |A - B| <= PCT % of |B|.
within_pct() {
	awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN {
		if (a !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ || b !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/)
			exit 1
		d = a - b
		if (d < 0)
			d = -d
		m = b < 0 ? -b : b
		exit !(d <= m * p / 100)
	}'
}

# assert_within DESC ACTUAL EXPECTED PCT: ACTUAL is within PCT % of EXPECTED.
assert_within() {
	if within_pct "$2" "$3" "$4"; then
		pass "$1 ($2 within $4% of $3)"
	else
		fail "$1: $2 is not within $4% of $3"
	fi
}

# assert_near DESC ACTUAL EXPECTED MAXDIFF: integers, |ACTUAL - EXPECTED| <= MAXDIFF
assert_near() {
	if _is_int "$2" && _is_int "$3" && _is_int "$4" && (($2 - $3 <= $4 && $3 - $2 <= $4)); then
		pass "$1 ($2, $3 expected, at most $4 apart)"
	else
		fail "$1: $2 is more than $4 from $3"
	fi
}

# assert_true DESC CMD...: CMD exits 0
assert_true() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		pass "$desc"
	else
		fail "$desc (command failed: $*)"
	fi
}

# assert_false DESC CMD...: CMD exits non-zero
assert_false() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		fail "$desc (command succeeded: $*)"
	else
		pass "$desc"
	fi
}

# assert_contains DESC FILE FIXED-STRING
assert_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then
		pass "$1"
	else
		fail "$1: '$3' not found in $(basename "$2")"
		tail -n 5 "$2" 2>/dev/null | sed 's/^/    | /'
	fi
}

# assert_lacks DESC FILE FIXED-STRING
assert_lacks() {
	if [[ ! -e "$2" ]]; then
		fail "$1: $2 does not exist"
	elif grep -qF -- "$3" "$2"; then
		fail "$1: '$3' found in $(basename "$2"):"
		grep -nF -- "$3" "$2" | head -n 3 | cut -c1-300 | sed 's/^/    | /'
	else
		pass "$1"
	fi
}

require_root() {
	if [[ $(id -u) -ne 0 ]]; then
		fail "must run as root (obsprobe loads BPF programs)"
		return 1
	fi
}

# wait_until TIMEOUT_SECONDS CMD...: polls CMD every 0.1 s; 0 once it succeeds, 1 on timeout.
# (Its locals are prefixed: CMD may be a function reading its caller's locals.)
wait_until() {
	local _wu_timeout=$1 _wu_i _wu_n
	shift
	_wu_n=$(awk -v t="$_wu_timeout" -v s="$TIME_SCALE" 'BEGIN { printf "%d", t * s * 10 }')
	for ((_wu_i = 0; _wu_i <= _wu_n; _wu_i++)); do
		"$@" >/dev/null 2>&1 && return 0
		((_wu_i < _wu_n)) && sleep 0.1
	done
	return 1
}

# free_port: a TCP port on 127.0.0.1 nobody listens on, and not handed out before by this test
# (remembered in a file: callers use it in $(...), a subshell).
free_port() {
	local port i
	for ((i = 0; i < 50; i++)); do
		port=$("$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || return 1
		if ! grep -qx "$port" "$TMP/ports.used" 2>/dev/null; then
			echo "$port" >>"$TMP/ports.used"
			echo "$port"
			return 0
		fi
	done
	return 1
}

alive() { kill -0 "$1" 2>/dev/null; }

track_pid() { TRACKED_PIDS+=("$1"); }

# descendants PID: every descendant PID of PID, one per line (children before grandchildren).
descendants() {
	local queue=("$1") p c n=0
	while ((${#queue[@]} > 0 && n < 10000)); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		for c in $(pgrep -P "$p" 2>/dev/null); do
			echo "$c"
			queue+=("$c")
			n=$((n + 1))
		done
	done
}

# stop_pid PID [SIGNAL]: signals PID (TERM by default), waits up to 5 s, then SIGKILLs it and
# whatever descendants it had when asked to stop. Reaps it when it is our child.
stop_pid() {
	local pid=$1 sig=${2:-TERM} kids d
	alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kids=$(descendants "$pid")
	kill -"$sig" "$pid" 2>/dev/null
	wait_until 5 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
	for d in $kids; do
		alive "$d" && kill -KILL "$d" 2>/dev/null
	done
	wait "$pid" 2>/dev/null
	return 0
}

# start_bg NAME CMD...: runs CMD in the background, stdout and stderr in $TMP/NAME.out and
# $TMP/NAME.err; its PID in BG_PID, tracked for cleanup.
start_bg() {
	local name=$1
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	BG_PID=$!
	track_pid "$BG_PID"
}

# wait_exit PID TIMEOUT: waits for a child of this shell to exit; its status in WAIT_RC
# (124 and a SIGKILL when it outlives TIMEOUT seconds).
wait_exit() {
	local pid=$1 timeout=$2
	WAIT_RC=124
	if ! wait_until "$timeout" eval "! kill -0 $pid 2>/dev/null"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
	WAIT_RC=$?
	return 0
}

# run_obsprobe NAME TIMEOUT ARGS...: runs obsprobe in the foreground (for flag errors); exit
# status in RUN_RC, output in $TMP/NAME.out and $TMP/NAME.err.
run_obsprobe() {
	local name=$1 timeout=$2
	shift 2
	start_bg "$name" "$OBSPROBE" "$@"
	wait_exit "$BG_PID" "$timeout"
	RUN_RC=$WAIT_RC
	RUN_OUT=$TMP/$name.out
	RUN_ERR=$TMP/$name.err
}

# check_fallback_hooks: when run.sh hides tp_btf (OBSPROBE_HIDE_KERNEL_FEATURES), obsprobe's
# programs must be the raw_tp twins: none BTF-typed ("tracing"), some "raw_tracepoint". The
# syscall hooks' fentry and fexit variants (NAME__fentry, NAME__fexit: "tracing" too) are not
# tp_btf, and a kernel that has fentry (6.1, 6.12) keeps them.
check_fallback_hooks() {
	[[ ",${OBSPROBE_HIDE_KERNEL_FEATURES:-}," == *,tp_btf,* ]] || return 0
	local kinds
	# shellcheck disable=SC2046
	kinds=$(bpftool -j prog list 2>/dev/null | "$PY" -c '
import json, sys
ids = set(int(i) for i in sys.argv[1:])
kinds = sorted(set(p["type"] for p in json.load(sys.stdin) if p["id"] in ids
                   and not p.get("name", "").endswith(("__fentry", "__fexit"))))
print(" ".join(kinds))' $(obsprobe_prog_ids "$OBS_PID"))
	log "program types with tp_btf hidden: $kinds"
	if [[ " $kinds " == *" tracing "* || " $kinds " != *" raw_tracepoint "* ]]; then
		fail "tp_btf hidden: obsprobe's programs are raw_tracepoint, none tracing (got: $kinds)"
	else
		pass "tp_btf hidden: obsprobe's programs are raw_tracepoint, none tracing ($kinds)"
	fi
}

# check_syscall_hooks: with -v, obsprobe names the kernel's hooks ("kernel hooks: ... fentry
# yes") and the variant each syscall hook got ("sock hooks: sys_exit_read fentry, ..."). Each
# sys_enter_*/sys_exit_* hook must be its fentry/fexit twin where the kernel offers fentry, its
# syscall tracepoint where not (or OBSPROBE_HIDE_KERNEL_FEATURES hides fentry); and the kernel
# must agree: one fentry/fexit link held by obsprobe per such hook, or none.
check_syscall_hooks() {
	local want hooks n wrong links
	grep -q '^obsprobe: kernel hooks: ' "$OBS_ERR" || return 0
	want=tp
	grep -q '^obsprobe: kernel hooks: .*fentry yes' "$OBS_ERR" && want=fentry
	hooks=$(grep '^obsprobe: [a-z]* hooks: ' "$OBS_ERR" | grep -v '^obsprobe: kernel hooks' |
		sed 's/^obsprobe: [a-z]* hooks: //' | tr ',' '\n' | awk '$1 ~ /^sys_(enter|exit)_/')
	n=$(grep -c . <<<"$hooks")
	wrong=$(awk -v w="$want" '$2 != w' <<<"$hooks" | tr '\n' ' ')
	# shellcheck disable=SC2046
	links=$(cat /proc/"$OBS_PID"/fdinfo/* 2>/dev/null | awk '$1 == "link_id:" { print $2 }' |
		sort -un | xargs -r -n1 bpftool -j link show id 2>/dev/null | "$PY" -c '
import json, sys
n = 0
for line in sys.stdin:
    line = line.strip()
    if line and json.loads(line).get("attach_type", "") in ("trace_fentry", "trace_fexit"):
        n += 1
print(n)')
	if ((n == 0)) || [[ -n "$wrong" ]]; then
		fail "syscall hooks: all $want (kernel hooks: fentry $([[ $want == fentry ]] && echo yes || echo no)), got ${n} hooks, not $want: ${wrong:-none}"
	else
		pass "syscall hooks: all $n are $want, the cheapest the kernel offers"
	fi
	if [[ $want == fentry ]]; then
		assert_eq "fentry/fexit links held by obsprobe, one per syscall hook" "$n" "$links"
	else
		assert_eq "fentry/fexit links held by obsprobe" 0 "$links"
	fi
}

# start_obsprobe ARGS...: starts build/obsprobe ARGS in the background, adding
# `--prometheus 127.0.0.1:FREE` unless ARGS say --prometheus. Waits (20 s at most) until it is
# ready: /readyz answers 200 (or, with --prometheus off, the console's "ready" line). Sets
# OBS_PID, OBS_OUT, OBS_ERR, OBS_METRICS (the /metrics URL, empty when off), OBS_READYZ. Returns
# 1, with a FAIL, when obsprobe exits, says it could not attach a probe, or never gets ready.
start_obsprobe() {
	local args=("$@") a prom="" port ok=0 i code
	for ((i = 0; i < ${#args[@]}; i++)); do
		a=${args[i]}
		case $a in
		--prometheus) prom=${args[i + 1]:-} ;;
		--prometheus=*) prom=${a#--prometheus=} ;;
		esac
	done
	if [[ -z "$prom" ]]; then
		port=$(free_port) || { fail "no free port for --prometheus"; return 1; }
		prom=127.0.0.1:$port
		args+=(--prometheus "$prom")
	fi
	OBS_SEQ=$((OBS_SEQ + 1))
	OBS_OUT=$TMP/obsprobe$OBS_SEQ.out
	OBS_ERR=$TMP/obsprobe$OBS_SEQ.err
	OBS_METRICS=""
	OBS_READYZ=""
	if [[ "$prom" != off ]]; then
		OBS_METRICS=http://$prom/metrics
		OBS_READYZ=http://$prom/readyz
	fi
	if [[ ! -x "$OBSPROBE" ]]; then
		fail "$OBSPROBE does not exist: run make first"
		return 1
	fi
	log "starting obsprobe ${args[*]}"
	"$OBSPROBE" "${args[@]}" >"$OBS_OUT" 2>"$OBS_ERR" &
	OBS_PID=$!
	track_pid "$OBS_PID"
	for ((i = 0; i < 400 * TIME_SCALE; i++)); do
		if [[ -n "$OBS_READYZ" ]]; then
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$OBS_READYZ" 2>/dev/null)
			[[ $code == 200 ]] && ok=1
		else
			grep -q '^obsprobe: ready: ' "$OBS_ERR" 2>/dev/null && ok=1
		fi
		((ok)) && break
		grep -q '^obsprobe: not ready: ' "$OBS_ERR" 2>/dev/null && break
		alive "$OBS_PID" || break
		sleep 0.05
	done
	if ((!ok)); then
		if grep -q '^obsprobe: not ready: ' "$OBS_ERR" 2>/dev/null; then
			fail "obsprobe is not ready: $(grep -m1 '^obsprobe: not ready: ' "$OBS_ERR")"
			stop_pid "$OBS_PID" INT
		elif alive "$OBS_PID"; then
			fail "obsprobe not ready after 20 s${OBS_READYZ:+ ($OBS_READYZ: $(curl -s --max-time 2 "$OBS_READYZ" | head -n 3))}"
			stop_pid "$OBS_PID" INT
		else
			wait "$OBS_PID" 2>/dev/null
			fail "obsprobe exited with status $? before it was ready"
		fi
		sed 's/^/    | /' "$OBS_ERR" | head -n 20
		return 1
	fi
	if ! grep -q '^obsprobe: ready: ' "$OBS_ERR"; then
		fail "obsprobe is ready${OBS_READYZ:+ at $OBS_READYZ} but did not say so on its console"
		return 1
	fi
	check_fallback_hooks
	check_syscall_hooks
	return 0
}

# stop_obsprobe [PID] [ERRFILE]: SIGINT, waits 10 s at most, asserts exit status 0 and the
# "detached" line.
stop_obsprobe() {
	local pid=${1:-$OBS_PID} err=${2:-$OBS_ERR}
	if ! alive "$pid"; then
		wait "$pid" 2>/dev/null
		fail "obsprobe (pid $pid) was already gone when asked to stop (status $?)"
		return 1
	fi
	kill -INT "$pid"
	# 20 s: each uprobe's removal waits for RCU grace periods, ~130 ms apiece here when the
	# machine is quiet (the 23 TLS and libpq uprobes: ~3 s), and a loaded machine stretches
	# grace periods several times over; what this catches is an exit that hangs
	if ! wait_exit "$pid" 20; then
		fail "obsprobe did not exit within 20 s of SIGINT"
		return 1
	fi
	assert_eq "obsprobe exit status after SIGINT" 0 "$WAIT_RC"
	assert_contains "obsprobe says it detached" "$err" "obsprobe: detached"
}

# podman_setup: podman in this test's own storage (PODMAN, the command to run it with), with
# runc and cgroupfs (crun refuses hybrid cgroups here), no ulimits (root lacks CAP_SYS_RESOURCE
# here), events to a file (no journald needed); the image localhost/obsprobe-test:1 imported
# from a busybox root (bind the host's /usr, /lib, /lib64, /etc in to run its programs); every
# container removed at exit. 1, with a FAIL, when podman cannot import the image.
podman_setup() {
	cat >"$TMP/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
	export CONTAINERS_CONF=$TMP/containers.conf
	PODMAN=(podman --root "$TMP/storage" --runroot "$TMP/run" --tmpdir "$TMP/ptmp")
	on_exit _podman_cleanup
	mkdir -p "$TMP/root/"{bin,tmp,proc,sys,dev,usr,lib,lib64,etc,srv}
	cp "$(command -v busybox)" "$TMP/root/bin/busybox"
	ln -s busybox "$TMP/root/bin/sh"
	tar -C "$TMP/root" -cf "$TMP/root.tar" . || { fail "tar of the image root failed"; return 1; }
	"${PODMAN[@]}" import "$TMP/root.tar" localhost/obsprobe-test:1 >"$TMP/import.log" 2>&1 || {
		fail "podman import failed: $(tail -n 3 "$TMP/import.log")"
		return 1
	}
}

# shellcheck disable=SC2317 # called by the EXIT trap (on_exit)
_podman_cleanup() {
	"${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
	"${PODMAN[@]}" system reset -f >/dev/null 2>&1
}

# check_promtool_metrics FILE: `promtool check metrics` on a /metrics text: clean (0), or lint
# (3) whose only finding is the "_count" suffix of the semconv gauges (process.thread.count,
# go.goroutine.count, db.client.connection.count), which the OpenTelemetry Prometheus exporter
# renders just so.
check_promtool_metrics() {
	local rc other
	promtool check metrics <"$1" >"$TMP/promtool.out" 2>&1
	rc=$?
	other=$(grep -cvE '^(process_thread_count|obsprobe_process_thread_count|go_goroutine_count|db_client_connection_count) non-histogram and non-summary metrics should not have "_count" suffix$' "$TMP/promtool.out")
	if ((rc == 3)); then
		assert_eq "promtool check metrics: findings other than the semconv *_count gauges" 0 "$other"
	else
		assert_eq "promtool check metrics exit status" 0 "$rc"
	fi
	((rc == 0 || other == 0)) || sed 's/^/    | /' "$TMP/promtool.out" | head -n 20
}

# scrape [URL]: prints /metrics (obsprobe's by default).
scrape() { curl -sf --max-time $((5 * TIME_SCALE)) "${1:-$OBS_METRICS}"; }

# prometheus_conf FILE TARGET [INTERVAL]: a Prometheus configuration in FILE scraping TARGET
# (HOST:PORT, its /metrics) as job obsprobe every INTERVAL (default 1s), each scrape given as
# long.
prometheus_conf() {
	cat >"$1" <<EOF
global:
  scrape_interval: ${3:-1s}
  scrape_timeout: ${3:-1s}
scrape_configs:
  - job_name: obsprobe
    static_configs:
      - targets: ["$2"]
EOF
}

# start_prometheus CONF [ARGS...]: Debian's prometheus with CONF (and ARGS) on a free port of
# 127.0.0.1, its data in $TMP/prometheus-data; waits (30 s at most: its first scrape comes some
# 5.5 s after it starts) until it has scraped job obsprobe with up 1. Sets PROM_PID and PROM_URL.
# Returns 1, with a FAIL, when it never does.
start_prometheus() {
	local conf=$1 port
	shift
	port=$(free_port) || { fail "no free port for Prometheus"; return 1; }
	PROM_URL=http://127.0.0.1:$port
	start_bg prometheus prometheus --config.file="$conf" --storage.tsdb.path="$TMP/prometheus-data" \
		--web.listen-address="127.0.0.1:$port" "$@"
	PROM_PID=$BG_PID
	if ! wait_until 30 _prom_up_is_1; then
		fail "Prometheus never scraped obsprobe with up 1 in 30 s"
		sed 's/^/    | /' "$TMP/prometheus.err" | tail -n 10
		return 1
	fi
}

_prom_up_is_1() { [[ "$(promql 'up{job="obsprobe"}')" == 1 ]]; }

# promql EXPR: the value of EXPR's first sample at PROM_URL's /api/v1/query (a scalar's value),
# "" when there is none.
promql() {
	curl -sf --max-time 10 "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
		"$PY" -c 'import json, sys
d = json.load(sys.stdin)["data"]
r = d["result"]
if d["resultType"] == "scalar":
    print(r[1])
else:
    print(r[0]["value"][1] if r else "")' 2>/dev/null
}

# _series_sum NAME REGEX [FILE] [FORMAT]: the sum of the samples of series NAME (exact name)
# whose labels match REGEX (awk ERE against the text between the braces; "A&&B" means both A and
# B match, in any order; "!A" means A does not match); from FILE or a fresh scrape; printed with
# the printf FORMAT (default %.0f, a whole number).
_series_sum() {
	local name=$1 re=${2:-} file=${3:-} fmt=${4:-%.0f}
	{ if [[ -n "$file" ]]; then cat "$file"; else scrape; fi; } |
		awk -v name="$name" -v re="$re" -v fmt="$fmt\n" '
		/^#/ { next }
		{
			i = index($0, "{")
			if (i) {
				n = substr($0, 1, i - 1)
				j = index($0, "} ")
				labels = substr($0, i + 1, j - i - 1)
				rest = substr($0, j + 2)
			} else {
				n = $1
				labels = ""
				rest = substr($0, length($1) + 2)
			}
			if (n != name)
				next
			nre = split(re, res, "&&")
			for (k = 1; k <= nre; k++) {
				if (substr(res[k], 1, 1) == "!") {
					if (labels ~ substr(res[k], 2))
						next
				} else if (labels !~ res[k]) {
					next
				}
			}
			split(rest, v, " ")
			sum += v[1]
		}
		END { printf fmt, sum }'
}

# metric_sum HISTOGRAM [LABEL_REGEX] [FILE]: sum of HISTOGRAM_count over the series whose
# labels match LABEL_REGEX, e.g.
#	metric_sum http_server_request_duration_seconds 'http_response_status_code="404"'
#	metric_sum http_client_request_duration_seconds 'server_port="8080"&&_code="503"'
metric_sum() { _series_sum "$1_count" "${2:-}" "${3:-}"; }

# counter_sum NAME [LABEL_REGEX] [FILE]: sum of a counter's or gauge's series.
counter_sum() { _series_sum "$1" "${2:-}" "${3:-}"; }

# counter_float NAME [LABEL_REGEX] [FILE]: the same with 6 decimals (for seconds).
counter_float() { _series_sum "$1" "${2:-}" "${3:-}" %.6f; }

# series_count NAME [FILE]: how many samples of NAME (exact name) there are, from FILE or a
# fresh scrape (0 when the family is absent or has no series).
series_count() {
	{ if [[ -n "${2:-}" ]]; then cat "$2"; else scrape; fi; } |
		awk -v name="$1" '!/^#/ && ($1 == name || index($1, name "{") == 1) { n++ } END { print n + 0 }'
}

# _spans_py: reads the JSON span lines of a file (obsprobe --console json). Selectors: kind,
# name, status, trace_id, ... (top level), attr:KEY (attributes), res:KEY (resource).
# Filters: SEL=TEXT (value as text; ints match their decimal form), SEL==JSON (exact JSON value
# and type, e.g. attr:http.response.status_code==200), SEL!=TEXT, SEL~REGEX, SEL? (present),
# !SEL (absent).
_SPANS_PY='
import json, re, sys

mode, path, field, filters = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
MISSING = object()

def get(span, sel):
    if sel.startswith("attr:"):
        return span.get("attributes", {}).get(sel[5:], MISSING)
    if sel.startswith("res:"):
        return span.get("resource", {}).get(sel[4:], MISSING)
    return span.get(sel, MISSING)

def text(v):
    if v is MISSING:
        return None
    if isinstance(v, str):
        return v
    return json.dumps(v)

def match(span, f):
    if f.startswith("!"):
        return get(span, f[1:]) is MISSING
    if f.endswith("?"):
        return get(span, f[:-1]) is not MISSING
    m = re.match(r"^([^=!~]+)(==|!=|=|~)(.*)$", f, re.S)
    if not m:
        sys.exit("bad filter " + f)
    sel, op, want = m.groups()
    v = get(span, sel)
    if op == "==":
        return v is not MISSING and json.dumps(v) == json.dumps(json.loads(want))
    if op == "=":
        return text(v) == want
    if op == "!=":
        return text(v) != want
    return v is not MISSING and re.search(want, text(v)) is not None

spans, bad = [], 0
try:
    with open(path, errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError
                spans.append(obj)
            except ValueError:
                bad += 1
except FileNotFoundError:
    pass
if mode == "invalid":
    print(bad)
    sys.exit(0)
if mode == "multi":
    queries, cur = [], None
    for a in filters:
        if a == "--":
            cur = []
            queries.append(cur)
        else:
            cur.append(a)
    for q in queries:
        print(sum(1 for s in spans if all(match(s, f) for f in q)))
    sys.exit(0)
sel = [s for s in spans if all(match(s, f) for f in filters)]
if mode == "count":
    print(len(sel))
else:
    for s in sel:
        v = text(get(s, field))
        print("<missing>" if v is None else v)
'

# count_settles EVERY POLLS STILL N CMD...: runs CMD every EVERY seconds, at most POLLS times,
# until it prints a count of N or more (0), or until the count has not moved for STILL polls
# in a row, what will come having come (1).
count_settles() {
	local every=$1 polls=$2 still_max=$3 n=$4 cur prev=-1 still=0 i
	shift 4
	for ((i = 0; i < polls; i++)); do
		cur=$("$@")
		((cur >= n)) && return 0
		if ((cur == prev)); then
			((++still >= still_max)) && return 1
		else
			still=0
		fi
		prev=$cur
		sleep "$every"
	done
	return 1
}

# spans_count FILE FILTER...: how many JSON spans in FILE match every FILTER.
spans_count() {
	local f=$1
	shift
	"$PY" -c "$_SPANS_PY" count "$f" - "$@"
}

# spans_field FILE SELECTOR FILTER...: SELECTOR's value for each matching span, in file order.
spans_field() {
	local f=$1 sel=$2
	shift 2
	"$PY" -c "$_SPANS_PY" field "$f" "$sel" "$@"
}

# spans_counts FILE -- FILTER... [-- FILTER...]...: one count per "--" group, one pass over FILE
# (for big files: each spans_count reads the whole file).
spans_counts() {
	local f=$1
	shift
	"$PY" -c "$_SPANS_PY" multi "$f" - "$@"
}

# spans_invalid FILE: how many non-empty lines of FILE are not JSON objects.
spans_invalid() { "$PY" -c "$_SPANS_PY" invalid "$1" -; }

# spans_at_least N FILE FILTER...: for wait_until.
spans_at_least() {
	local n=$1
	shift
	(($(spans_count "$@") >= n))
}

# start_runner NAME CMD...: a bash process that waits (30 s at most) for the file $TMP/NAME.go,
# forks CMD and waits for it, writes CMD's exit status to $TMP/NAME.rc, then waits (30 s at
# most) for $TMP/NAME.done and exits with CMD's status. Attach obsprobe to RUNNER_PID, then
# `touch "$TMP/NAME.go"`: CMD is a descendant born after the attach. `test -s "$TMP/NAME.rc"`
# tells CMD is over.
start_runner() {
	local name=$1
	shift
	start_bg "$name" bash -c '
		go=$1 done=$2 rcfile=$3
		shift 3
		for ((i = 0; i < 600; i++)); do
			[[ -e $go ]] && break
			sleep 0.05
		done
		[[ -e $go ]] || exit 99
		"$@"
		rc=$?
		echo "$rc" >"$rcfile"
		for ((i = 0; i < 600; i++)); do
			[[ -e $done ]] && break
			sleep 0.05
		done
		exit $rc' runner "$TMP/$name.go" "$TMP/$name.done" "$TMP/$name.rc" "$@"
	RUNNER_PID=$BG_PID
}

# build_go FIXTURE OUT [LDFLAGS]: builds tests/fixtures/FIXTURE with Debian's Go (GOPATH mode,
# against Debian's Go library packages) into OUT, once per test.
build_go() {
	local fixture=$1 out=$2 ldflags=${3:-}
	[[ -x "$out" ]] && return 0
	if ! (cd "$ROOT/tests/fixtures/$fixture" &&
		GO111MODULE=off GOCACHE=$TMP/gocache GOPATH=/usr/share/gocode GOFLAGS="" \
			go build -ldflags="$ldflags" -o "$out" .) >"$TMP/gobuild.log" 2>&1; then
		fail "go build of tests/fixtures/$fixture failed"
		sed 's/^/    | /' "$TMP/gobuild.log" | head -n 20
		return 1
	fi
}

# build_goserver: builds tests/fixtures/goserver into $TMP/goserver.
build_goserver() {
	GOSERVER=$TMP/goserver
	build_go goserver "$GOSERVER"
}

# start_go_service FIXTURE PORT WHAT: builds tests/fixtures/FIXTURE into $TMP and starts it on
# 127.0.0.1:PORT (its -listen and -ready-file flags) as the background process "go"; GOPID is
# its PID. WHAT names it in the failure when it does not start. 1 when it did not build or start.
start_go_service() {
	build_go "$1" "$TMP/$1" || return 1
	start_bg go "$TMP/$1" -listen "127.0.0.1:$2" -ready-file "$TMP/go.ready"
	GOPID=$BG_PID
	await_ready "$TMP/go.ready" "$3" go
}

# await_ready FILE WHAT NAME: waits 10 s at most for FILE to be written by the background
# process NAME (started with start_bg); else a FAIL saying WHAT did not start, with the start
# of its stderr.
await_ready() {
	wait_until 10 test -s "$1" && return 0
	fail "$2 did not start"
	sed 's/^/    | /' "$TMP/$3.err" | head -n 10
	return 1
}

# start_goserver NAME PORT [ARGS...]: starts the Go fixture on 127.0.0.1:PORT and waits until
# it answers; its PID in GO_PID.
start_goserver() {
	local name=$1 port=$2
	shift 2
	build_goserver || return 1
	start_bg "$name" "$GOSERVER" -listen "127.0.0.1:$port" -ready-file "$TMP/$name.ready" "$@"
	GO_PID=$BG_PID
	await_ready "$TMP/$name.ready" "Go server $name on 127.0.0.1:$port" "$name"
}

# build_fixture NAME: compiles tests/fixtures/sat/NAME.c into $TMP/NAME, once per test.
build_fixture() {
	local name=$1
	[[ -x "$TMP/$name" ]] && return 0
	if ! cc -O2 -Wall -pthread -o "$TMP/$name" "$ROOT/tests/fixtures/sat/$name.c" \
		>"$TMP/$name.build.log" 2>&1; then
		fail "cc of tests/fixtures/sat/$name.c failed"
		sed 's/^/    | /' "$TMP/$name.build.log" | head -n 20
		return 1
	fi
}

# build_tls_fixture NAME OUT static|dynamic|stripped: compiles tests/fixtures/tls/NAME.c into
# OUT, once per test. static: OpenSSL linked into the executable (libc stays dynamic), checked to
# define SSL_read in its symbol table and to need no libssl; dynamic: against libssl.so.3;
# stripped: the static build with no symbol table at all (strip --strip-all).
build_tls_fixture() {
	local name=$1 out=$2 mode=$3 log=$2.build.log libs bad=""
	[[ -x "$out" ]] && return 0
	case $mode in
	dynamic) libs=(-lssl -lcrypto -pthread) ;;
	static | stripped) libs=('-Wl,-Bstatic' -lssl -lcrypto '-Wl,-Bdynamic' -ldl -pthread) ;;
	*)
		fail "build_tls_fixture: unknown mode '$mode'"
		return 1
		;;
	esac
	# Built as OUT.tmp and renamed once checked: an OUT that exists is a good build.
	if ! cc -O2 -Wall -Wextra -Werror -o "$out.tmp" "$ROOT/tests/fixtures/tls/$name.c" \
		"${libs[@]}" >"$log" 2>&1; then
		fail "cc ($mode) of tests/fixtures/tls/$name.c failed"
		sed 's/^/    | /' "$log" | head -n 20
		rm -f "$out.tmp"
		return 1
	fi
	{
		nm "$out.tmp" 2>&1 | grep -w SSL_read | sed 's/^/nm: /'
		ldd "$out.tmp"
	} >>"$log" 2>&1
	if [[ $mode == dynamic ]]; then
		grep -q 'libssl\.so' "$log" || bad="it does not link libssl.so"
	else
		grep -q '^nm: [0-9a-f]* T SSL_read$' "$log" || bad="SSL_read is not defined in it"
		grep -q 'libssl\.so' "$log" && bad="it still links libssl.so"
	fi
	if [[ -z "$bad" && $mode == stripped ]]; then
		strip --strip-all "$out.tmp" >>"$log" 2>&1 || bad="strip failed"
		readelf -S "$out.tmp" 2>&1 | grep -q '\.symtab' && bad="strip left a .symtab"
	fi
	if [[ -n "$bad" ]]; then
		fail "$name ($mode): $bad"
		sed 's/^/    | /' "$log" | head -n 20
		rm -f "$out.tmp"
		return 1
	fi
	mv "$out.tmp" "$out"
}

# build_tls_server OUT static|dynamic|stripped: tests/fixtures/tls/tlsserver.c into OUT.
build_tls_server() { build_tls_fixture tlsserver "$@"; }

# make_cert DIR: a self-signed EC P-256 certificate for CN=localhost, subjectAltName
# IP:127.0.0.1 and DNS:localhost, valid 2 days, in DIR/cert.pem; its key in DIR/key.pem.
make_cert() {
	local dir=$1 log=$TMP/make_cert.log
	mkdir -p "$dir"
	if ! openssl req -x509 -nodes -days 2 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >"$log" 2>&1; then
		fail "openssl req could not make a certificate in $dir"
		sed 's/^/    | /' "$log" | head -n 20
		return 1
	fi
}

# start_gotls_server NAME BIN [ARGS...]: tests/fixtures/gotls built as BIN, in server mode on
# 127.0.0.1:0 with $TMP's make_cert certificate, as NAME; its PID in SRV_PID, port in SRV_PORT.
start_gotls_server() {
	local name=$1 bin=$2
	shift 2
	start_bg "$name" "$bin" -mode server -listen 127.0.0.1:0 -cert "$TMP/cert.pem" \
		-key "$TMP/key.pem" -ready-file "$TMP/$name.ready" "$@"
	SRV_PID=$BG_PID
	await_ready "$TMP/$name.ready" "Go TLS server $name" "$name" || return 1
	SRV_PORT=$(sed -n '1s/.*://p' "$TMP/$name.ready")
	_is_int "$SRV_PORT" || { fail "$name: no port in its ready file"; return 1; }
}

declare -A FIX_FDS=() FIX_PIDS=()
FIX_PID=""
FIX_REPLY=""

# start_fixture ID NAME [ARGS...]: builds fixture NAME (tests/fixtures/sat/NAME.c) and runs it
# with run_fixture.
start_fixture() {
	local id=$1 name=$2
	shift 2
	build_fixture "$name" || return 1
	run_fixture "$id" "$TMP/$name" "$@"
}

# run_fixture ID CMD [ARGS...]: runs CMD in the background as ID: stdin the fifo $TMP/ID.in
# (this shell holds its writing end, so the fixture never sees EOF), stdout and stderr in
# $TMP/ID.out and $TMP/ID.err. Its PID in FIX_PID, tracked for cleanup. Talk to it with
# fixture_send and fixture_cmd.
run_fixture() {
	local id=$1 fd
	shift
	rm -f "$TMP/$id.in"
	if ! mkfifo "$TMP/$id.in" || ! exec {fd}<>"$TMP/$id.in"; then
		fail "cannot make the fifo $TMP/$id.in"
		return 1
	fi
	FIX_FDS[$id]=$fd
	# (an explicit stdin: a background command otherwise gets /dev/null)
	"$@" <"$TMP/$id.in" >"$TMP/$id.out" 2>"$TMP/$id.err" &
	FIX_PID=$!
	FIX_PIDS[$id]=$FIX_PID
	track_pid "$FIX_PID"
}

# fixture_send ID LINE: writes LINE to fixture ID's stdin.
fixture_send() { printf '%s\n' "$2" >&"${FIX_FDS[$1]}"; }

# _answered FILE N PID: FILE has more than N lines, or PID is gone (it will not answer)
_answered() { (($(wc -l <"$1") > $2)) || ! alive "$3"; }

# fixture_cmd ID LINE [TIMEOUT]: sends LINE and waits (TIMEOUT s, default 30) for the line the
# fixture answers; that line in FIX_REPLY. Returns 1, with a FAIL, on no answer or an answer
# that does not start with "ok".
fixture_cmd() {
	fixture_ask "$@" || return 1
	if [[ "$FIX_REPLY" != ok* ]]; then
		fail "$1: '$2' answered '$FIX_REPLY'"
		return 1
	fi
}

# fixture_ask ID LINE [TIMEOUT]: fixture_cmd for a command that may fail: whatever the answer,
# it is in FIX_REPLY; returns 1, with a FAIL, only when none comes.
fixture_ask() {
	local id=$1 out=$TMP/$1.out n
	n=$(wc -l <"$out")
	FIX_REPLY=""
	if ! fixture_send "$id" "$2"; then
		fail "$id: cannot send '$2'"
		return 1
	fi
	wait_until "${3:-30}" _answered "$out" "$n" "${FIX_PIDS[$id]}"
	FIX_REPLY=$(sed -n "$((n + 1))p" "$out")
	if [[ -z "$FIX_REPLY" ]]; then
		if alive "${FIX_PIDS[$id]}"; then
			fail "$id: no answer to '$2' after ${3:-30} s"
		else
			fail "$id: exited instead of answering '$2'"
		fi
		sed 's/^/    | /' "$TMP/$id.err" | head -n 10
		return 1
	fi
}

# fix_field KEY [LINE]: the value of KEY=VALUE in LINE (default FIX_REPLY).
fix_field() {
	awk -v k="$1" '{
		for (i = 1; i <= NF; i++)
			if (index($i, k "=") == 1)
				print substr($i, length(k) + 2)
	}' <<<"${2:-$FIX_REPLY}"
}

# render_nginx_conf DIR PORT1 PORT2 [SCHEME] [TEMPLATE]: DIR/nginx.conf from
# tests/fixtures/nginx/nginx.conf.in (https: nginx-tls.conf.in, with a fresh certificate; or
# TEMPLATE, another file there), with a world-readable docroot DIR/www holding index.html,
# big.bin (2 MiB) and huge.bin (32 MiB, more than loopback's socket buffers hold: a client that
# stops reading stops nginx mid-body).
render_nginx_conf() {
	local dir=$1 p1=$2 p2=$3 scheme=${4:-http} conf=${5:-nginx.conf.in}
	mkdir -p "$dir/www" "$dir/tmp"
	chmod 755 "$dir" "$dir/www"
	printf '<!doctype html>\n<title>obsprobe test</title>\n<p>%s</p>\n' \
		"$(head -c 600 /dev/zero | tr '\0' x)" >"$dir/www/index.html"
	head -c $((2 << 20)) /dev/urandom >"$dir/www/big.bin"
	head -c $((32 << 20)) /dev/zero >"$dir/www/huge.bin"
	chmod 644 "$dir/www/index.html" "$dir/www/big.bin" "$dir/www/huge.bin"
	if [[ "$scheme" == https ]]; then
		conf=${5:-nginx-tls.conf.in}
		make_cert "$dir" || return 1
	fi
	sed -e "s|@DIR@|$dir|g" -e "s|@PORT1@|$p1|g" -e "s|@PORT2@|$p2|g" \
		"$ROOT/tests/fixtures/nginx/$conf" >"$dir/nginx.conf"
}

# nginx_up [SCHEME]: start_nginx in $TMP/nginx on two free ports, serving SCHEME (http); sets
# P1, P2, NG, URL (SCHEME://127.0.0.1:P1), ACCESS (its access log) and SKIP (the lines in it
# already: start_nginx's readiness probes). 1, with a FAIL, when it cannot.
nginx_up() {
	local scheme=${1:-http}
	if ! P1=$(free_port) || ! P2=$(free_port); then
		fail "no free port"
		return 1
	fi
	NG=$TMP/nginx
	start_nginx "$NG" "$P1" "$P2" "$scheme" || return 1
	URL=$scheme://127.0.0.1:$P1
	ACCESS=$NG/access.log
	SKIP=$(wc -l <"$ACCESS")
}

# start_nginx DIR PORT1 PORT2 [SCHEME] [TEMPLATE]: nginx in the foreground of its own PID
# (daemon off) with 2 workers, serving http (default) or https, configured from TEMPLATE (see
# render_nginx_conf); waits until both workers run and PORT1 answers. NGINX_PID is the master.
start_nginx() {
	local dir=$1 p1=$2 p2=$3 scheme=${4:-http}
	render_nginx_conf "$dir" "$p1" "$p2" "$scheme" "${5:-}" || return 1
	start_bg nginx nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
	NGINX_PID=$BG_PID
	if ! wait_until 10 eval "[[ \$(pgrep -c -P $NGINX_PID) -ge 2 ]]" ||
		! wait_until 10 curl -sfk -o /dev/null "$scheme://127.0.0.1:$p1/index.html"; then
		fail "nginx did not start on $scheme://127.0.0.1:$p1"
		cat "$TMP/nginx.err" "$dir/error.log" 2>/dev/null | head -n 20 | sed 's/^/    | /'
		return 1
	fi
}

# PostgreSQL 15's own binaries (the /usr/bin names are pg_wrapper scripts).
PG_BIN=/usr/lib/postgresql/15/bin

# start_postgres DIR [SERVER ARGS...]: a PostgreSQL 15 cluster of its own in DIR (owned by
# postgres): initdb (trust, superuser postgres, no fsync), then the postmaster in the foreground
# of its own PID (setpriv execs it as postgres; runuser would fork and keep a PID of its own),
# listening on 127.0.0.1 on a free port and on a unix socket in DIR, with fsync off. SERVER ARGS
# go on its command line (e.g. -c log_statement=all). Its log is DIR/postgres.log. Waits until
# it accepts connections and creates the database obsprobe. Sets PG_PID (the postmaster,
# tracked: SIGTERM at exit, once every client started after it is gone), PG_PORT, PG_SOCKDIR
# (= DIR) and PG_BIN.
start_postgres() {
	local dir=$1
	shift
	PG_SOCKDIR=$dir
	PG_PORT=$(free_port) || { fail "no free port for PostgreSQL"; return 1; }
	# postgres must reach DIR through $TMP (755): DIR itself is its own, 755 so that clients
	# of any user reach the socket
	if ! mkdir -p "$dir" || ! chown postgres:postgres "$dir" || ! chmod 755 "$dir"; then
		fail "cannot make $dir for PostgreSQL"
		return 1
	fi
	# (in DIR: initdb warns when it cannot read the current directory)
	if ! (cd "$dir" && runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -A trust \
		-U postgres --no-sync -E UTF8 --locale=C) >"$dir/initdb.log" 2>&1; then
		fail "initdb in $dir/data failed"
		tail -n 20 "$dir/initdb.log" | sed 's/^/    | /'
		return 1
	fi
	(cd "$dir" && exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/postgres" -D "$dir/data" -k "$dir" -p "$PG_PORT" \
		-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
		-c full_page_writes=off -c logging_collector=off "$@") \
		</dev/null >"$dir/postgres.log" 2>&1 &
	PG_PID=$!
	track_pid "$PG_PID"
	wait_until 20 _pg_up_or_gone
	if ! alive "$PG_PID" || ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres ||
		! "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
			-c 'CREATE DATABASE obsprobe' >>"$dir/postgres.log" 2>&1; then
		fail "PostgreSQL did not start on 127.0.0.1:$PG_PORT"
		tail -n 20 "$dir/postgres.log" | sed 's/^/    | /'
		return 1
	fi
}

# _pg_up_or_gone: the postmaster accepts connections, or has exited (it will not)
_pg_up_or_gone() {
	! alive "$PG_PID" || "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres
}

# pg_psql ARGS...: psql as postgres on the database obsprobe, over TCP to 127.0.0.1:PG_PORT, or
# over the unix socket in PG_SOCKDIR with PG_HOST=$PG_SOCKDIR.
pg_psql() {
	"$PG_BIN/psql" -X -q -h "${PG_HOST:-127.0.0.1}" -p "$PG_PORT" -U postgres -d obsprobe "$@"
}

# wrk_requests FILE: the requests wrk's report in FILE says it completed ("N requests in ...");
# nothing when there is none.
wrk_requests() { awk '/ requests in / { print $1 }' "$1"; }

# pgbench_transactions FILE: the transactions pgbench's report in FILE says it processed
# ("number of transactions actually processed: N" or ".../M"); nothing when there is none.
pgbench_transactions() {
	awk '/^number of transactions actually processed: / { split($NF, a, "/"); print a[1] }' "$1"
}

# pgbench_init SCALE: pgbench's tables at SCALE (100,000 accounts per unit) in the database
# obsprobe.
pgbench_init() {
	if ! "$PG_BIN/pgbench" -i -q -s "$1" -h 127.0.0.1 -p "$PG_PORT" -U postgres obsprobe \
		>"$TMP/pgbench-init.log" 2>&1; then
		fail "pgbench -i -s $1 failed"
		tail -n 20 "$TMP/pgbench-init.log" | sed 's/^/    | /'
		return 1
	fi
}

# obsprobe_prog_ids PID: IDs of the BPF programs PID holds (program and link fds), from
# /proc/PID/fdinfo (this bpftool reports no owning pids).
obsprobe_prog_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un
}

# leftover_progs [ID...]: one line per BPF program that outlived its owner: the IDs given that
# are still loaded, and every program with one of obsprobe's names that no process holds.
# (Programs held by some other live process, say a second obsprobe, are not leftovers.)
# The kernel frees a program after its last reference goes and an RCU grace period (a
# tracepoint's perf event and link are freed the same way, later still on a loaded machine):
# one present right after its owner exited is not yet a leftover, so this asks for up to 10 s
# until none is left, and prints what is left then.
_no_leftover() { [[ -z "$(_leftover_progs_now "$@")" ]]; }
leftover_progs() {
	wait_until 10 _no_leftover "$@" || true
	_leftover_progs_now "$@"
}
_leftover_progs_now() {
	local names
	names=$(printf '%s\n' "${OBSPROBE_PROGS[@]}" | cut -c1-15 | paste -sd' ')
	bpftool -j prog list 2>/dev/null | "$PY" -c '
import glob, json, sys
names, ids = set(sys.argv[1].split()), set(int(i) for i in sys.argv[2:])
held = set()
for f in glob.glob("/proc/[0-9]*/fdinfo/*"):
    try:
        for line in open(f):
            if line.startswith("prog_id:"):
                held.add(int(line.split()[1]))
    except OSError:
        pass
for p in json.load(sys.stdin):
    if p["id"] in ids:
        print(p["id"], p.get("name"), "still loaded")
    elif p.get("name") in names and p["id"] not in held:
        print(p["id"], p.get("name"), "held by no process")' "$names" "$@"
}

# --- OTLP export (tests/integration/otlp_*.sh): a receiver that records what obsprobe sends,
# decoded by tests/otlp/decode.js with the official protos (never with obsprobe's code).

OTLP_TOOLS=$ROOT/tests/otlp

# otlp_setup: unsets every OTEL_* variable, installs (or reuses) the decoder's npm package
# under build/; its folder in OTLP_NPM. Returns 1, with a FAIL, when that is impossible.
otlp_setup() {
	# the caller's OpenTelemetry settings must not leak into the tests
	local v
	for v in "${!OTEL_@}"; do
		unset "$v"
	done
	if ! OTLP_NPM=$("$OTLP_TOOLS/setup.sh" 2>"$TMP/otlp-setup.err"); then
		fail "tests/otlp/setup.sh failed (npm install of the OTLP protos)"
		sed 's/^/    | /' "$TMP/otlp-setup.err" | head -n 20
		return 1
	fi
}

# start_receiver NAME PORT [MODE] [LIFETIME]: tests/otlp/receiver.py on 127.0.0.1:PORT,
# recording into $TMP/NAME.d (kept across restarts: numbering goes on), answering as MODE says
# (default ok; see receiver_mode), gone by itself after LIFETIME seconds (default 300). Waits
# until it listens. Sets RECV_PID and RECV_DIR.
start_receiver() {
	local name=$1 port=$2 mode=${3:-ok} life=${4:-300}
	RECV_DIR=$TMP/$name.d
	mkdir -p "$RECV_DIR"
	rm -f "$RECV_DIR/ready"
	start_bg "$name" "$PY" "$OTLP_TOOLS/receiver.py" --port "$port" --dir "$RECV_DIR" \
		--lifetime "$life" --mode "$mode"
	# shellcheck disable=SC2034 # read by the tests
	RECV_PID=$BG_PID
	await_ready "$RECV_DIR/ready" "OTLP receiver $name on 127.0.0.1:$port" "$name"
}

# receiver_mode DIR MODE: how the receiver recording into DIR answers from its next request on:
# ok, hang, reset, close, or a status with an optional Retry-After ("503 2", "400", "429").
receiver_mode() {
	printf '%s\n' "$2" >"$1/mode.tmp" && mv -f "$1/mode.tmp" "$1/mode"
}

# otlp_decode DIR traces|metrics|logs [--status CODE]: the decoded JSON lines of every request of
# that signal the receiver recorded into DIR (see tests/otlp/decode.js).
otlp_decode() {
	local dir=$1 signal=$2
	shift 2
	node "$OTLP_TOOLS/decode.js" --npm "$OTLP_NPM" "$@" "$signal" "$dir"
}

# otlp_spans DIR OUTFILE [--status CODE]: the spans the receiver in DIR got, decoded, written to
# OUTFILE in the shape of obsprobe's console JSON (trace_id, span_id, parent_span_id only when
# set, kind SERVER/CLIENT/..., status UNSET/OK/ERROR, resource and attributes as objects with
# their OTLP value types kept: an int is a JSON number, a string a JSON string), so that
# spans_count and spans_field work on it. Extra keys: seq (the request), kind_code,
# status_code, status_message, scope, dup_keys (attribute keys sent twice), events (name,
# time_unix_nano, attributes). Decode errors and
# request summaries go to OUTFILE.requests; returns 1 when a body did not decode.
# (_OTLP_ATTRS_PY: decode.js's typed values as plain JSON, shared with otlp_logs)
_OTLP_ATTRS_PY='
import json, sys

def plain(v):
    for t in ("string", "bool", "int", "double", "bytes"):
        if t in v:
            return v[t]
    if "array" in v:
        return [plain(x) for x in v["array"]]
    if "kvlist" in v:
        return flat(v["kvlist"])[0]
    return None

def flat(attrs):
    out, dups = {}, []
    for a in attrs:
        if a["key"] in out:
            dups.append(a["key"])
        out[a["key"]] = plain(a)
    return out, dups
'
_OTLP_SPANS_PY=$_OTLP_ATTRS_PY'
KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}

out, req = open(sys.argv[1], "w"), open(sys.argv[1] + ".requests", "w")
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] != "span":
        req.write(line)
        continue
    attrs, dups = flat(o["attributes"])
    res, rdups = flat(o["resource"])
    s = {"trace_id": o["trace_id"], "span_id": o["span_id"]}
    if o["parent_span_id"]:
        s["parent_span_id"] = o["parent_span_id"]
    s.update({
        "kind": KINDS.get(o["kind"], str(o["kind"])), "name": o["name"],
        "start_time_unix_nano": int(o["start_time_unix_nano"]),
        "end_time_unix_nano": int(o["end_time_unix_nano"]),
        "status": STATUS.get(o["status"]["code"], str(o["status"]["code"])),
        "resource": res, "attributes": attrs, "seq": o["seq"], "kind_code": o["kind"],
        "status_code": o["status"]["code"], "status_message": o["status"]["message"],
        "scope": o["scope"]["name"], "scope_version": o["scope"]["version"],
        "dup_keys": dups + ["res:" + k for k in rdups], "flags": o["flags"],
        "trace_state": o["trace_state"],
        "events": [{"name": e["name"], "time_unix_nano": int(e["time_unix_nano"]),
                    "attributes": flat(e["attributes"])[0]} for e in o.get("span_events", [])],
    })
    out.write(json.dumps(s) + "\n")
'
otlp_spans() {
	local dir=$1 out=$2 rc
	shift 2
	otlp_decode "$dir" traces "$@" | "$PY" -c "$_OTLP_SPANS_PY" "$out"
	rc=${PIPESTATUS[0]}
	((rc == 0)) || return 1
}

# otlp_logs DIR OUTFILE [--status CODE]: the log records the receiver in DIR got, decoded, one
# JSON line each in OUTFILE: time_unix_nano, observed_time_unix_nano (numbers), severity_number,
# severity_text, body (its plain value), attributes and resource (objects, OTLP value types kept
# as in otlp_spans), trace_id, span_id (hex, "" when absent). Extra keys: seq, flags, scope,
# scope_version, event_name, dropped_attributes_count, dup_keys. Decode errors and request
# summaries go to OUTFILE.requests; returns 1 when a body did not decode.
_OTLP_LOGS_PY=$_OTLP_ATTRS_PY'
out, req = open(sys.argv[1], "w"), open(sys.argv[1] + ".requests", "w")
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] != "log":
        req.write(line)
        continue
    attrs, dups = flat(o["attributes"])
    res, rdups = flat(o["resource"])
    out.write(json.dumps({
        "time_unix_nano": int(o["time_unix_nano"]),
        "observed_time_unix_nano": int(o["observed_time_unix_nano"]),
        "severity_number": o["severity_number"], "severity_text": o["severity_text"],
        "body": plain(o["body"]), "attributes": attrs,
        "trace_id": o["trace_id"], "span_id": o["span_id"], "resource": res,
        "seq": o["seq"], "flags": o["flags"], "scope": o["scope"]["name"],
        "scope_version": o["scope"]["version"], "event_name": o["event_name"],
        "dropped_attributes_count": o["dropped_attributes_count"],
        "dup_keys": dups + ["res:" + k for k in rdups],
    }) + "\n")
'
otlp_logs() {
	local dir=$1 out=$2 rc
	shift 2
	otlp_decode "$dir" logs "$@" | "$PY" -c "$_OTLP_LOGS_PY" "$out"
	rc=${PIPESTATUS[0]}
	((rc == 0)) || return 1
}

# otlp_requests DIR [PATH-SUFFIX]: one line per request the receiver in DIR recorded (whose path
# ends with PATH-SUFFIX): "SEQ STATUS PATH ARRIVAL-TIME BODY-BYTES" (status "null" while it
# hangs; reset, close or client_closed when it got no answer).
otlp_requests() {
	"$PY" -c '
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "[0-9]" * 6 + ".json"))):
    try:
        m = json.load(open(f))
    except ValueError:
        continue
    if m["path"].endswith(sys.argv[2]):
        print(m["seq"], json.dumps(m["status"]).strip("\""), m["path"], "%.3f" % m["time"],
              m.get("body_len", 0))' "$1" "${2:-}"
}

# otlp_request_count DIR [PATH-SUFFIX] [STATUS]: how many requests (answered STATUS) were recorded.
otlp_request_count() {
	otlp_requests "$1" "${2:-}" | awk -v s="${3:-}" 's == "" || $2 == s' | wc -l
}

# otlp_header DIR SEQ NAME: the value(s) of header NAME (any case) of request SEQ, one a line.
otlp_header() {
	"$PY" -c '
import json, sys
m = json.load(open("%s/%06d.json" % (sys.argv[1], int(sys.argv[2]))))
for k, v in m["headers"]:
    if k == sys.argv[3].lower():
        print(v)' "$1" "$2" "$3"
}

# otlp_span_total DIR [STATUS]: spans in the requests recorded in DIR (answered STATUS).
otlp_span_total() {
	otlp_decode "$1" traces ${2:+--status "$2"} | "$PY" -c '
import json, sys
print(sum(json.loads(l)["items"] for l in sys.stdin if "\"type\":\"request\"" in l))'
}

# otlp_span_ids DIR [--status CODE]: the span id of every span DIR's receiver recorded (answered
# CODE), one a line, in request order (a span sent twice shows twice).
otlp_span_ids() {
	local dir=$1
	shift
	otlp_decode "$dir" traces "$@" | grep -o '"span_id":"[0-9a-f]*"' | cut -d'"' -f4
}

# vm_rss_kib PID: resident memory of PID in KiB (empty when PID is gone).
vm_rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

EXIT_HOOKS=()

# on_exit CMD: CMD (a string, eval'd) runs when the test exits, however it exits, after every
# tracked process is stopped; hooks run last added first. For what is not a process: a cgroup.
on_exit() { EXIT_HOOKS+=("$1"); }

_cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#TRACKED_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${TRACKED_PIDS[i]}"
	done
	for ((i = ${#EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${EXIT_HOOKS[i]}"
	done
	if [[ "${LIB_NO_REPORT:-0}" == 1 ]]; then
		# not a test (bench/): no counts, the script's own status
		if [[ "${KEEP_TMP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
		exit "$rc"
	fi
	if ((!FINISHED)); then
		fail "test ended early (status $rc) before finish"
	fi
	printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$PASS_COUNT" "$FAIL_COUNT"
	if [[ -n "${OBSPROBE_RESULTS:-}" ]]; then
		echo "$PASS_COUNT $FAIL_COUNT" >"$OBSPROBE_RESULTS"
	fi
	if [[ "${KEEP_TMP:-0}" == 1 ]] || { ((FAIL_COUNT > 0)) && [[ "${KEEP_TMP:-0}" == failed ]]; }; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	if ((FAIL_COUNT > 0 || PASS_COUNT == 0)); then
		exit 1
	fi
	exit 0
}

trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# finish: the last line of every test.
finish() {
	FINISHED=1
	exit 0
}

# shellcheck shell=bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What every bench/*.sh starts with: tests/lib.sh's helpers without a test report (cleanup
# only, the script's own exit status), the load settings, and the checks before measuring.
# A script sets TEST_NAME, sources this file, then calls bench_require with what it runs.
#
# Environment: ROUNDS (3), DURATION (5, seconds per wrk run), CONNS (32), THREADS (2).
LIB_NO_REPORT=1
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib.sh"
set -o pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}

die() {
	echo "bench: $*" >&2
	exit 1
}

# bench_require CMD...: root, a built obsprobe, and every CMD on PATH.
bench_require() {
	local c
	[[ $(id -u) -eq 0 ]] || die "run as root (obsprobe loads BPF programs)"
	[[ -x "$OBSPROBE" ]] || die "$OBSPROBE does not exist: run make"
	for c in "$@"; do
		command -v "$c" >/dev/null || die "$c is not installed (scripts/install-deps.sh)"
	done
}

# bench_figure NAME VALUE UNIT OP TARGET: one of the figures `make bench` ends with, a
# tab-separated line appended to $BENCH_FIGURES when that is set (bench/summary.sh prints them
# against their targets, and names those no script reported); prints nothing. NAME as listed in
# bench/summary.sh, UNIT may be "" (a ratio), OP is <= or >=.
bench_figure() {
	if (($# != 5)) || [[ $4 != "<=" && $4 != ">=" ]]; then
		die "bench_figure $*: NAME VALUE UNIT <=|>= TARGET"
	fi
	[[ -n ${BENCH_FIGURES:-} ]] || return 0
	printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_FIGURES"
}

# mean V...: the arithmetic mean, rounded.
mean() { printf '%s\n' "$@" | awk 'NF { s += $1; n++ } END { printf "%.0f", n ? s / n : 0 }'; }

# bench_start_nginx [SCHEME]: nginx (tests/fixtures/nginx) on two free loopback ports, over http
# (default) or https; sets NGINX_PID and URL, the static page.
bench_start_nginx() {
	local p1 p2 scheme=${1:-http}
	if ! p1=$(free_port) || ! p2=$(free_port); then
		die "no free port"
	fi
	start_nginx "$TMP/nginx" "$p1" "$p2" "$scheme" >/dev/null ||
		die "nginx did not start (see above)"
	URL=$scheme://127.0.0.1:$p1/index.html
}

# statements in a transaction of pgbench's built-in TPC-B-like script: BEGIN, three UPDATEs, a
# SELECT, an INSERT, END
# shellcheck disable=SC2034 # for the scripts that source this file
PGBENCH_STATEMENTS=7

# bench_start_pgbench: PostgreSQL 15 of its own in $TMP/pg with pgbench's tables at scale 1;
# sets PGBENCH, pgbench's command line (one client, over 127.0.0.1) without the run's options.
bench_start_pgbench() {
	[[ -x $PG_BIN/pgbench && -x $PG_BIN/postgres ]] ||
		die "PostgreSQL 15 is not installed in $PG_BIN (scripts/install-deps.sh)"
	start_postgres "$TMP/pg" >/dev/null ||
		die "PostgreSQL did not start: $(tail -n 5 "$TMP/pg/postgres.log")"
	pgbench_init 1 >/dev/null || die "pgbench -i failed: $(tail -n 5 "$TMP/pgbench-init.log")"
	# shellcheck disable=SC2034 # for the scripts that source this file
	PGBENCH=("$PG_BIN/pgbench" -n -c 1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
}

# bench_pgbench_wait RUN SECONDS: the pgbench of runner RUN (start_runner) has ended, within
# SECONDS, with status 0; dies otherwise.
bench_pgbench_wait() {
	wait_until "$2" test -s "$TMP/$1.rc" || die "pgbench did not finish within $2 s"
	[[ $(cat "$TMP/$1.rc") == 0 ]] || die "pgbench failed: $(cat "$TMP/$1.err")"
}

# bench_tools NAME...: make's bench/NAME tools, built beside the obsprobe measured (make's
# BUILD, the directory of $OBSPROBE); their paths are $BENCH_BIN/NAME.
BENCH_BIN=$(dirname "$OBSPROBE")/bench
bench_tools() {
	local t paths=()
	for t in "$@"; do
		paths+=("$BENCH_BIN/$t")
	done
	make -s -C "$ROOT" BUILD="$(dirname "$BENCH_BIN")" "${paths[@]}" >/dev/null ||
		die "cannot build ${paths[*]}"
}

# bench_start_sink: bench/otlp_send_bench as an OTLP/HTTP collector on a free loopback port that
# answers 200 at once; sets SINK_BIN (also the exporter's own benchmark) and SINK_ENDPOINT.
bench_start_sink() {
	local port
	SINK_BIN=$BENCH_BIN/otlp_send_bench
	bench_tools otlp_send_bench
	port=$(free_port) || die "no free port"
	start_bg sink "$SINK_BIN" --sink "$port"
	wait_until 10 grep -q ready "$TMP/sink.out" || die "the OTLP sink did not start"
	# shellcheck disable=SC2034 # for the scripts that source this file
	SINK_ENDPOINT=http://127.0.0.1:$port
}

# bench_replay_ir BIN RECORDING OUT OBSPROBE_ARGS...: BIN --replay RECORDING under callgrind,
# its profile in OUT; prints the instructions it executed
bench_replay_ir() {
	local bin=$1 rec=$2 out=$3 port
	shift 3
	port=$(free_port) || die "no free port"
	valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --console off \
		--prometheus "127.0.0.1:$port" --replay "$rec" "$@" >"$out.log" 2>&1 ||
		die "replay under callgrind failed: $(grep -v '^==' "$out.log"; tail -n 3 "$out.log")"
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

# bench_replay_per_unit BIN RECORDING UNITS OUT OBSPROBE_ARGS...: the instructions per unit (of
# UNITS) BIN executes replaying RECORDING, less those of replaying no event with the same
# arguments (start and stop); the recording's profile in OUT
bench_replay_per_unit() {
	local bin=$1 rec=$2 units=$3 out=$4 ir ir0
	shift 4
	[[ -s $TMP/empty.rec ]] || printf 'obsprobe events 1\n' >"$TMP/empty.rec"
	ir0=$(bench_replay_ir "$bin" "$TMP/empty.rec" "$out.empty" "$@") || return 1
	ir=$(bench_replay_ir "$bin" "$rec" "$out" "$@") || return 1
	awk -v i="$ir" -v i0="$ir0" -v u="$units" 'BEGIN { printf "%.3f", (i - i0) / u }'
}

# bench_wrk [WRK ARGS...]: one wrk run against $URL; prints "REQUESTS REQ_PER_SEC".
bench_wrk() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$@" "$URL" 2>&1) || return 1
	awk '/ requests in /{ n = $1 } /^Requests\/sec:/{ r = $2 } END { if (n == "" || r == "") exit 1; print n, r }' <<<"$out"
}

# median V...: the middle value (the mean of the two middle ones for an even count), rounded;
# one round disturbed by the host (this VM's steal time) does not move it.
median() {
	printf '%s\n' "$@" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f", m }'
}

# cpu_ticks PID: utime + stime, in clock ticks (fields 14 and 15 of /proc/PID/stat; the
# fields after the ")" that closes comm start at field 3)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# hwm_kib PID: its peak RSS so far (VmHWM), in KiB
hwm_kib() { awk '/^VmHWM:/{ print $2 }' "/proc/$1/status"; }

# cpu_ns PID: the CPU time of PID's threads alive now, in ns (the first field of each one's
# schedstat): finer than cpu_ticks' 10 ms, for comparing builds on a few seconds of load
cpu_ns() { cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'; }

# perf_syms PERF_DATA OUT [PERF REPORT ARGS...]: the samples per symbol of a perf recording
# ("SAMPLES SYMBOL", one a line) into OUT; false when there are none
perf_syms() {
	local data=$1 out=$2
	shift 2
	perf report -i "$data" --no-children --sort sym --stdio -g none -n "$@" 2>/dev/null |
		awk '$1 ~ /%$/ && $3 ~ /^\[/ { s = $4; for (i = 5; i <= NF; i++) s = s " " $i; print $2, s }' \
			>"$out"
	[[ -s $out ]]
}

# perf_compare TITLE A_SYMS A_UNITS A_NAME B_SYMS B_UNITS B_NAME NS_PER_SAMPLE TOP: two
# perf_syms outputs as ns per unit of work (a request), in all and per symbol, with what B adds
# to A; the TOP symbols B adds most to first
perf_compare() {
	awk -v title="$1" -v na="$3" -v an="$4" -v nb="$6" -v bn="$7" -v ns="$8" '
	FILENAME == ARGV[1] { a[$2] += $1; ta += $1; next }
	{ b[$2] += $1; tb += $1 }
	END {
		printf "  %-44s %12s %12s %12s\n", title, an, bn, "added"
		printf "  %-44s %12.0f %12.0f %12.0f\n", "in all", ta * ns / na, tb * ns / nb, tb * ns / nb - ta * ns / na
		for (s in a) d[s] = 1
		for (s in b) d[s] = 1
		for (s in d) printf "%.3f\t%s\t%.1f\t%.1f\n", b[s] * ns / nb - a[s] * ns / na, s, a[s] * ns / na, b[s] * ns / nb
	}' "$2" "$5" |
		{
			IFS= read -r l1
			IFS= read -r l2
			printf '%s\n%s\n' "$l1" "$l2"
			sort -t$'\t' -k1,1gr | head -n "$9" |
				awk -F'\t' '{ printf "  %-44s %12.0f %12.0f %12.0f\n", substr($2, 1, 44), $3, $4, $1 }'
		}
}

# wakeups PID: the times PID's threads alive now went to sleep and were woken (voluntary
# context switches); each costs tens of microseconds of CPU on these VMs
wakeups() { cat "/proc/$1/task/"*/status 2>/dev/null | awk '/^voluntary_ctxt_switches:/ { t += $2 } END { print t + 0 }'; }

# The floor of a capture: empty bpftrace programs on the hooks it uses, so that what it costs
# on top of merely hooking can be told apart. Build the program with bench_floor_add, run it
# with bench_floor_start, stop it with `stop_pid "$BT_PID" INT`.
FLOOR_PROG='BEGIN { printf("ready\n"); }'
FLOOR_N=0
FLOOR_MISSING=()

# bench_floor_add NAME PROBE...: an empty program on every PROBE (bpftrace's names:
# uprobe:LIB:FUNC, tracepoint:syscalls:sys_exit_read, ...), or NAME in FLOOR_MISSING when
# bpftrace does not list the first
bench_floor_add() {
	local name=$1 p
	shift
	if ! bpftrace -l "$1" 2>/dev/null | grep -q .; then
		FLOOR_MISSING+=("$name")
		return
	fi
	for p in "$@"; do
		FLOOR_PROG+=" $p {}"
		FLOOR_N=$((FLOOR_N + 1))
	done
}

# bench_floor_add_syscalls: the syscall exit tracepoints obsprobe's socket path and its mmap
# watch use
bench_floor_add_syscalls() {
	local x
	for x in read readv recvfrom recvmsg write writev sendto sendmsg sendfile64 accept accept4 \
		connect close mmap; do
		bench_floor_add "sys_exit_$x" "tracepoint:syscalls:sys_exit_$x"
	done
}

# bench_floor_start: bpftrace running FLOOR_PROG; waits until bpftool lists every one of its
# FLOOR_N probes attached (bpftrace's own BEGIN trigger aside). Sets BT_PID.
bench_floor_start() {
	local out=$TMP/floor$RANDOM.out n
	bpftrace -e "$FLOOR_PROG" >"$out" 2>"$out.err" &
	BT_PID=$!
	track_pid "$BT_PID"
	wait_until 30 grep -q '^ready' "$out" || die "bpftrace did not start: $(cat "$out.err")"
	n=$(bpftool perf list 2>/dev/null | grep "^pid $BT_PID " | grep -v 'filename [^ ]*bpftrace ' |
		grep -Ec ' (uprobe|uretprobe|tracepoint|raw_tracepoint) ')
	((n == FLOOR_N)) ||
		die "bpftrace has attached $n of the floor's $FLOOR_N probes: $(bpftool perf list 2>&1 | grep "^pid $BT_PID ")"
}

# clear_probes: removes the tracefs uprobes of group $GROUP under $TRACING (the caller sets both).
clear_probes() {
	[[ -e $TRACING/events/$GROUP/enable ]] && echo 0 >"$TRACING/events/$GROUP/enable"
	grep -q "^[pr]:$GROUP/" "$TRACING/uprobe_events" 2>/dev/null &&
		sed -n "s|^\([pr]\):$GROUP/\([^ ]*\) .*|-:$GROUP/\2|p" "$TRACING/uprobe_events" |
		while read -r l; do echo "$l" >>"$TRACING/uprobe_events"; done
	return 0
}

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The whole test suite, as CI runs it (`make test` builds, then calls this from the repo root):
#   0. lint: every tests/lint/*.sh (the layout's include rules)
#   1. unit tests: every build/tests/test_* and build/asan/test_* (cmocka), and the
#      build/tsan/test_* built with ThreadSanitizer
#   2. fuzzers: every build/fuzz/fuzz_* for FUZZ_SECONDS (20) with a corpus under build/,
#      FUZZ_JOBS at once
#   3. integration: every tests/integration/*.sh, as root, against the real kernel; some again
#      with the hooks' fallbacks (NAME@fallback), and against build/asan/obsprobe, built with
#      ASan and UBSan (NAME@asan; ASAN_SUITE=all: every one)
#   4. other kernels: one integration test inside each of Debian's 6.1 and 6.12 kernels
#      (tests/kernels/run.sh; CI_KERNEL_TESTS: which)
# Each step is one PASS or FAIL line; a failing step shows the end of its log (all logs are in
# build/test-logs/). The last line is "N passed, M failed"; the exit status is non-zero when
# M > 0. Nothing is skipped: a test that cannot run (no root, BPF refused, binary missing)
# fails.
#
# Environment: FUZZ_SECONDS (20), FUZZ_JOBS (fuzzers at once: the cores), ONLY (a regex: run only the steps whose name matches it),
# KEEP_TMP=failed (keep the temp dirs of failing integration tests), ASAN_SUITE.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
LOGS=$BUILD/test-logs
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
ONLY=${ONLY:-}
UNIT_TIMEOUT=120
INTEGRATION_TIMEOUT=$((240 * ${TIME_SCALE:-1}))
passed=0
failed=0
failed_names=()

# the integration tests run the obsprobe of this BUILD
export OBSPROBE=${OBSPROBE:-$(realpath -m "$BUILD/obsprobe")}

rm -rf "$LOGS"
mkdir -p "$LOGS"

selected() { [[ -z "$ONLY" || "$1" =~ $ONLY ]]; }

# excerpt LOG: the part of a failed step's log worth reading in the CI output: failed checks
# of integration tests, the first sanitizer report, cmocka's failures; else the last lines.
excerpt() {
	local log=$1 shown=0
	[[ -s "$log" ]] || return 0
	echo "----- from $log -----"
	if grep -q '^FAIL ' "$log"; then
		grep '^FAIL ' "$log" | head -n 30
		shown=1
	fi
	if grep -qE '(ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|deadly signal)' "$log"; then
		grep -m1 -A 24 -E '(ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|deadly signal)' "$log"
		shown=1
	fi
	if grep -qE '^\[  (FAILED|ERROR)|^\[ *RUN' "$log" && ((shown == 0)); then
		grep -E '^\[  (FAILED|ERROR) |^\[ *RUN|[Ff]ailure|assert' "$log" | tail -n 20
		shown=1
	fi
	if ((shown)); then
		tail -n 5 "$log"
	else
		tail -n 40 "$log"
	fi
	echo "-----"
}

# result NAME OK DETAIL LOG
result() {
	local name=$1 ok=$2 detail=$3 log=$4
	if ((ok)); then
		passed=$((passed + 1))
		printf 'PASS  %-36s %s\n' "$name" "$detail"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAIL  %-36s %s\n' "$name" "$detail"
		excerpt "$log"
	fi
}

# elapsed START: seconds since START (from $SECONDS)
elapsed() { echo "$((SECONDS - $1))s"; }

run_unit() {
	local bin=$1 name log t rc
	name=unit/${bin#"$BUILD"/}
	selected "$name" || return 0
	log=$LOGS/${name//\//_}.log
	t=$SECONDS
	if [[ $bin == "$BUILD"/tsan/* ]]; then
		# ThreadSanitizer's shadow memory wants the fixed layout of a process without ASLR
		timeout -k 5 "$UNIT_TIMEOUT" setarch "$(uname -m)" -R "$bin" >"$log" 2>&1
	else
		timeout -k 5 "$UNIT_TIMEOUT" "$bin" >"$log" 2>&1
	fi
	rc=$?
	local summary
	summary=$(grep -E '^\[  (PASSED|FAILED)  \]' "$log" | paste -sd' ')
	result "$name" "$((rc == 0))" "exit $rc, $(elapsed "$t") ${summary}" "$log"
}

# fuzz_start BIN: runs one fuzzer in the background for FUZZ_SECONDS; fuzz_report BIN tells
# how it went once it is done (its exit status and time are in its .status file).
fuzz_start() {
	local bin=$1 base log corpus seeds
	base=$(basename "$bin")
	log=$LOGS/fuzz_$base.log
	corpus=$BUILD/fuzz-corpus/$base
	mkdir -p "$corpus" "$BUILD/fuzz-artifacts"
	seeds=()
	[[ -d tests/fuzz/corpus/$base ]] && seeds+=("tests/fuzz/corpus/$base")
	[[ -d tests/fuzz/corpus/${base#fuzz_} ]] && seeds+=("tests/fuzz/corpus/${base#fuzz_}")
	(
		t=$SECONDS
		timeout -k 5 "$((FUZZ_SECONDS + 60))" "$bin" -max_total_time="$FUZZ_SECONDS" \
			-print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/$base-" \
			"$corpus" "${seeds[@]}" >"$log" 2>&1
		echo "$? $((SECONDS - t))" >"$log.status"
	) &
}

fuzz_report() {
	local base rc=1 secs='?' log execs
	base=$(basename "$1")
	log=$LOGS/fuzz_$base.log
	read -r rc secs <"$log.status" 2>/dev/null
	execs=$(awk '/stat::number_of_executed_units:/{ print $2 " runs" }' "$log")
	result "fuzz/$base" "$((rc == 0))" "exit $rc, ${secs}s ${execs}" "$log"
}

# run_integration SCRIPT [SUFFIX [VAR=VALUE...]]: with SUFFIX, as integration/NAME@SUFFIX, with
# each VAR set in its environment (OBSPROBE_HIDE_KERNEL_FEATURES: the hooks' fallback variants on
# this kernel; OBSPROBE: another build of obsprobe).
run_integration() {
	local script=$1 suffix=${2:-} base name log res t rc counts ok
	shift $(($# < 2 ? $# : 2))
	base=$(basename "$script" .sh)${suffix:+@$suffix}
	name=integration/$base
	selected "$name" || return 0
	log=$LOGS/integration_$base.log
	res=$(realpath -m "$LOGS/integration_$base.result")
	rm -f "$res"
	t=$SECONDS
	env "$@" OBSPROBE_RESULTS="$res" \
		timeout -k 10 "$INTEGRATION_TIMEOUT" bash "$script" >"$log" 2>&1
	rc=$?
	counts=$(cat "$res" 2>/dev/null)
	ok=0
	# passes only with exit 0, a report, no failed check, and at least one check run
	if ((rc == 0)) && [[ "$counts" =~ ^([0-9]+)\ ([0-9]+)$ ]] &&
		((BASH_REMATCH[2] == 0 && BASH_REMATCH[1] > 0)); then
		ok=1
	fi
	if [[ "$counts" =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
		counts="${BASH_REMATCH[1]} checks passed, ${BASH_REMATCH[2]} failed"
	else
		counts="no report"
	fi
	((rc == 124)) && counts="$counts, timed out after ${INTEGRATION_TIMEOUT}s"
	result "$name" "$ok" "exit $rc, $(elapsed "$t"), $counts" "$log"
}

t0=$SECONDS

echo "== lint"
for script in tests/lint/*.sh; do
	name=lint/$(basename "$script" .sh)
	selected "$name" || continue
	log=$LOGS/lint_$(basename "$script" .sh).log
	bash "$script" >"$log" 2>&1
	rc=$?
	result "$name" "$((rc == 0))" "exit $rc, $(tail -n 1 "$log")" "$log"
done

echo "== unit tests"
shopt -s nullglob
for src in tests/unit/test_*.c; do
	b=$(basename "$src" .c)
	bins=("$BUILD/tests/$b" "$BUILD/asan/$b")
	# the Makefile's TSAN_UNITS, by the same words
	grep -q 'ThreadSanitizer (build/tsan/)' "$src" && bins+=("$BUILD/tsan/$b")
	for bin in "${bins[@]}"; do
		if [[ ! -x "$bin" ]] && selected "unit/${bin#"$BUILD"/}"; then
			result "unit/${bin#"$BUILD"/}" 0 "not built (run make unit)" ""
		fi
	done
done
for bin in "$BUILD"/tests/test_* "$BUILD"/asan/test_* "$BUILD"/tsan/test_*; do
	[[ -x "$bin" && -f "$bin" ]] && run_unit "$bin"
done

echo "== fuzzers (${FUZZ_SECONDS}s each, $FUZZ_JOBS at once)"
for src in tests/fuzz/fuzz_*.c; do
	b=$(basename "$src" .c)
	if [[ ! -x "$BUILD/fuzz/$b" ]] && selected "fuzz/$b"; then
		result "fuzz/$b" 0 "not built (run make fuzzers)" ""
	fi
done
# FUZZ_JOBS at a time (one per core): each is single-threaded
fuzzers=()
for bin in "$BUILD"/fuzz/fuzz_*; do
	[[ -x "$bin" && -f "$bin" ]] && selected "fuzz/$(basename "$bin")" && fuzzers+=("$bin")
done
for ((i = 0; i < ${#fuzzers[@]}; i += FUZZ_JOBS)); do
	batch=("${fuzzers[@]:i:FUZZ_JOBS}")
	for bin in "${batch[@]}"; do
		fuzz_start "$bin"
	done
	wait
	for bin in "${batch[@]}"; do
		fuzz_report "$bin"
	done
done

echo "== integration tests"
if [[ $(id -u) -ne 0 ]]; then
	echo "note: not root; the integration tests need root and will fail"
fi
if [[ ! -x "$BUILD/obsprobe" ]]; then
	echo "note: $BUILD/obsprobe does not exist; the integration tests will fail (run make)"
fi
for script in tests/integration/*.sh; do
	run_integration "$script"
done
# Again where every hook has a fallback (proc, sched, mem), with tp_btf hidden: their raw_tp
# twins must give the same signals.
for base in lifecycle sched_threads memory; do
	run_integration "tests/integration/$base.sh" fallback OBSPROBE_HIDE_KERNEL_FEATURES=tp_btf
done
# And the TLS capture where the kernel single-steps a push: probes at the functions' starts.
run_integration tests/integration/tls_exact.sh fallback OBSPROBE_HIDE_KERNEL_FEATURES=uprobe_push
# And nginx's writev'd answers without bpf_loop (the first iovecs, unrolled), on the syscall
# tracepoints where the kernel would give fexit (the other kernels of tests/kernels/ do).
run_integration tests/integration/nginx.sh fallback OBSPROBE_HIDE_KERNEL_FEATURES=bpf_loop,fentry
# And obsprobe built with ASan and UBSan (any report fails the run: it exits non-zero), under
# the tests that drive each parser, decoder and exporter with real traffic: HTTP/1 plain and
# over TLS, HTTP/2 and gRPC, PostgreSQL's wire protocol (plain, pipelined, over TLS, errors),
# a Go service, logs, crashes and their unwinding, OTLP metrics, W3C trace context. The whole
# suite runs so with ASAN_SUITE=all (every test passed so but node_churn, 2,499 CLIENT spans of
# 2,500 once). A small quarantine keeps its memory under obsprobe's own --memory-limit.
ASAN_OBSPROBE=$(realpath -m "$BUILD/asan/obsprobe")
asan_env=(OBSPROBE="$ASAN_OBSPROBE" ASAN_OPTIONS=quarantine_size_mb=16:detect_leaks=1:abort_on_error=0
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
if [[ ${ASAN_SUITE:-} == all ]]; then
	asan_tests=(tests/integration/*.sh)
else
	asan_tests=()
	for base in nginx https_nginx http2 grpc_go pg_pipeline pg_tls pg_errors go_server logs \
		crashes otlp_metrics traceparent; do
		asan_tests+=("tests/integration/$base.sh")
	done
fi
if [[ ! -x "$ASAN_OBSPROBE" ]]; then
	echo "note: $ASAN_OBSPROBE does not exist; the @asan runs will fail (make unit builds it)"
fi
for script in "${asan_tests[@]}"; do
	run_integration "$script" asan "${asan_env[@]}"
done

# And inside other kernels (tests/kernels/run.sh: Debian's 6.1 and 6.12 under qemu, emulated):
# one test each here, the sockets' tracepoints and the OpenSSL uprobes against nginx over
# HTTPS with exact counts (`make test-kernels` runs more).
echo "== other kernels"
for pkg in linux-image-amd64 linux-image-6.12-amd64; do
	name=kernel/$pkg
	selected "$name" || continue
	log=$LOGS/kernel_$pkg.log
	t=$SECONDS
	KERNELS=$pkg KERNEL_TESTS=${CI_KERNEL_TESTS:-^integration/https_nginx$} BUILD=$BUILD \
		bash tests/kernels/run.sh >"$log" 2>&1
	rc=$?
	result "$name" "$((rc == 0))" "exit $rc, $(elapsed "$t"), $(grep -o '[0-9]* passed, [0-9]* failed' "$log" | tail -n 1)" "$log"
done

echo "== $(elapsed "$t0") in all; logs in $LOGS/"
if ((failed > 0)); then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))

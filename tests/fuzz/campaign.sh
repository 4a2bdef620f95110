#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A long fuzzing campaign: every $BUILD/fuzz/fuzz_* (or those named as arguments) for
# CAMPAIGN_SECONDS each, FUZZ_JOBS at a time, then a markdown table of how each went. Exits 1
# when a fuzzer left a new crash, leak, timeout or out-of-memory artifact, or did not run.
#
#   make fuzz                                        # 300 s each, one at a time
#   CAMPAIGN_SECONDS=3600 FUZZ_JOBS=2 make fuzz
#   BUILD=/tmp/b CAMPAIGN_SECONDS=5 tests/fuzz/campaign.sh fuzz_http fuzz_sql
#
# What a fuzzer finds stays for the next campaign: its corpus is $BUILD/fuzz-campaign/NAME/
# (libFuzzer writes new inputs into the first directory it is given); the committed seeds,
# tests/fuzz/corpus/NAME/ or tests/fuzz/corpus/NAME-without-fuzz_/, come second and are only
# read. Artifacts go to $BUILD/fuzz-campaign/artifacts/NAME-*, logs to .../logs/NAME.log.
set -u

cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CAMPAIGN_SECONDS=${CAMPAIGN_SECONDS:-300}
FUZZ_JOBS=${FUZZ_JOBS:-1}
OUT=$BUILD/fuzz-campaign
ART=$OUT/artifacts
LOGS=$OUT/logs

if ! [[ $CAMPAIGN_SECONDS =~ ^[1-9][0-9]*$ && $FUZZ_JOBS =~ ^[1-9][0-9]*$ ]]; then
	echo "campaign: CAMPAIGN_SECONDS and FUZZ_JOBS must be positive integers" >&2
	exit 2
fi

bins=()
if (($# > 0)); then
	for name in "$@"; do
		bins+=("$BUILD/fuzz/${name#"$BUILD"/fuzz/}")
	done
else
	for bin in "$BUILD"/fuzz/fuzz_*; do
		[[ -x $bin ]] && bins+=("$bin")
	done
fi
if ((${#bins[@]} == 0)); then
	echo "campaign: no fuzzer in $BUILD/fuzz/ (make BUILD=$BUILD fuzzers)" >&2
	exit 2
fi
for bin in "${bins[@]}"; do
	if [[ ! -x $bin ]]; then
		echo "campaign: $bin is not built (make BUILD=$BUILD fuzzers)" >&2
		exit 2
	fi
done
mkdir -p "$ART" "$LOGS" || exit 1

# The artifacts that count as findings (slow-unit-* only says an input was slow)
findings() {
	find "$ART" -maxdepth 1 -type f \( -name "$1-crash-*" -o -name "$1-leak-*" \
		-o -name "$1-timeout-*" -o -name "$1-oom-*" \) | sort
}

# campaign_one BIN: one fuzzer for CAMPAIGN_SECONDS; its exit status and time into .status
campaign_one() {
	local bin=$1 name log seeds=() t rc
	name=$(basename "$bin")
	log=$LOGS/$name.log
	mkdir -p "$OUT/$name"
	[[ -d tests/fuzz/corpus/$name ]] && seeds+=("tests/fuzz/corpus/$name")
	[[ -d tests/fuzz/corpus/${name#fuzz_} ]] && seeds+=("tests/fuzz/corpus/${name#fuzz_}")
	findings "$name" >"$log.before"
	t=$SECONDS
	timeout -k 10 "$((CAMPAIGN_SECONDS + 120))" "$bin" -max_total_time="$CAMPAIGN_SECONDS" \
		-print_final_stats=1 -artifact_prefix="$ART/$name-" \
		"$OUT/$name" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	echo "$rc $((SECONDS - t))" >"$log.status"
}

echo "campaign: ${#bins[@]} fuzzers, ${CAMPAIGN_SECONDS}s each, $FUZZ_JOBS at a time," \
	"corpora in $OUT" >&2
running=0
for bin in "${bins[@]}"; do
	if ((running >= FUZZ_JOBS)); then
		wait -n
		running=$((running - 1))
	fi
	echo "campaign: $(basename "$bin")" >&2
	campaign_one "$bin" &
	running=$((running + 1))
done
wait

fail=0
echo
echo "| fuzzer | seconds | executions | exec/s | cov | ft | corpus | crashes/artifacts |"
echo "|---|--:|--:|--:|--:|--:|--:|---|"
for bin in "${bins[@]}"; do
	name=$(basename "$bin")
	log=$LOGS/$name.log
	rc='?' secs='?'
	read -r rc secs <"$log.status" 2>/dev/null
	execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
	rate=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$log")
	# the last status line: "#N<TAB>PULSE|NEW|REDUCE|DONE cov: X ft: Y corp: ..."
	read -r cov ft < <(awk '/^#[0-9]+[ \t].* cov: [0-9]+ ft: [0-9]+/ {
		for (i = 1; i < NF; i++) { if ($i == "cov:") c = $(i + 1); if ($i == "ft:") f = $(i + 1) }
	} END { print (c == "" ? "?" : c), (f == "" ? "?" : f) }' "$log")
	corpus=$(find "$OUT/$name" -maxdepth 1 -type f | wc -l)
	mapfile -t new < <(comm -13 "$log.before" <(findings "$name"))
	found="none"
	if ((${#new[@]} > 0)); then
		found="${#new[@]}: $(printf '%s ' "${new[@]##*/}")"
		fail=1
	elif [[ $rc != 0 ]]; then
		found="exit $rc, no artifact (see $log)"
		fail=1
	fi
	rm -f "$log.before"
	echo "| $name | $secs | ${execs:-?} | ${rate:-?} | $cov | $ft | $corpus | ${found% } |"
done
exit "$fail"

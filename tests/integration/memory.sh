#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Memory signals against the process's own ground truth (tests/fixtures/sat/memtouch.c prints
# getrusage's fault counts and /proc/self/status VmRSS after each command):
#  - `touch 64` (64 MiB, one write per 4 KiB page, no THP): process_memory_usage_bytes follows
#    VmRSS, obsprobe_page_faults_total{type="minor"} grows by the process's own ru_minflt
#    delta (~16384), major faults by its ru_majflt delta (0), the peak gauge reaches 64 MiB;
#  - `free`: RSS back down to VmRSS;
#  - `spike 64` (touched and freed within ~50 ms): the 1 s RSS reading cannot see it, the peak
#    gauge must: each spike shows as peak >= 64 MiB in a scrape whose RSS is < 32 MiB;
#  - with --disable memory none of these series exist, while the sched group still reports.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
MIB=$((1024 * 1024))
start_fixture mem memtouch || finish
P=$FIX_PID
start_obsprobe --pid "$P" || finish

SEL="process_pid=\"$P\""
rss() { counter_sum process_memory_usage_bytes "$SEL" "${1:-}"; }
peak() { counter_sum obsprobe_process_memory_peak_bytes "$SEL" "${1:-}"; }
minor() { counter_sum obsprobe_page_faults_total "$SEL&&type=\"minor\"" "${1:-}"; }
major() { counter_sum obsprobe_page_faults_total "$SEL&&type=\"major\"" "${1:-}"; }
# rss_stat reports the mm counters as get_mm_counter() reads them: without the per-CPU deltas
# not yet folded in, at most 32 pages per CPU for each of file, anon and shmem; /proc/PID/status
# sums them. On a small RSS that slack is more than 5%.
SLACK=$((3 * 32 * $(nproc) * $(getconf PAGESIZE)))
# rss_near KIB: the RSS gauge within 5% of KIB KiB, or within the per-CPU slack
rss_near() {
	local r d
	r=$(rss)
	[[ -n "$r" ]] || return 1
	within_pct "$r" "$(($1 * 1024))" 5 && return 0
	d=$((r - $1 * 1024))
	((${d#-} <= SLACK))
}
minor_near() { within_pct "$(($(minor) - $1))" "$2" 5; }
peak_at_least() { (($(peak) >= $1)); }
has_series() { (($(series_count "$1") > 0)); }

# warm up: a first fault, so that every series exists before the baseline
fixture_cmd mem "touch 1" || finish
fixture_cmd mem free || finish
wait_until 5 has_series obsprobe_page_faults_total || fail "no obsprobe_page_faults_total after 5 s"

# baseline: the process is idle from here on; 1.5 s is more than one collection
fixture_cmd mem stat || finish
FLT0=$(fix_field minflt)
MAJ0=$(fix_field majflt)
sleep 1.5
scrape >"$TMP/m0.txt"
OMIN0=$(minor "$TMP/m0.txt")
OMAJ0=$(major "$TMP/m0.txt")

fixture_cmd mem "touch 64" || finish
FLT1=$(fix_field minflt)
MAJ1=$(fix_field majflt)
RSS1=$(fix_field rss_kib)
log "touch 64: ru_minflt $FLT0 -> $FLT1, VmRSS $RSS1 KiB"
assert_ge "the fixture took one minor fault per page (ru_minflt delta)" "$((FLT1 - FLT0))" 16384
wait_until 5 rss_near "$RSS1" || true
wait_until 5 minor_near "$OMIN0" "$((FLT1 - FLT0))" || true
wait_until 5 peak_at_least "$((64 * MIB))" || true
scrape >"$TMP/m1.txt"
assert_within "process_memory_usage_bytes after touch 64 vs VmRSS" "$(rss "$TMP/m1.txt")" \
	"$((RSS1 * 1024))" 5
assert_within "minor page faults over touch 64 vs ru_minflt delta" \
	"$(($(minor "$TMP/m1.txt") - OMIN0))" "$((FLT1 - FLT0))" 5
assert_eq "major page faults over touch 64 = ru_majflt delta" "$((MAJ1 - MAJ0))" \
	"$(($(major "$TMP/m1.txt") - OMAJ0))"
assert_ge "peak after touch 64 >= 64 MiB" "$(peak "$TMP/m1.txt")" "$((64 * MIB))"
assert_le "peak after touch 64 not above VmRSS + 5%" "$(peak "$TMP/m1.txt")" "$((RSS1 * 1024 * 105 / 100))"

fixture_cmd mem free || finish
RSS2=$(fix_field rss_kib)
log "free: VmRSS $RSS2 KiB"
wait_until 5 rss_near "$RSS2" || true
assert_true "process_memory_usage_bytes after free ($(rss)) within 5% of VmRSS ($((RSS2 * 1024))) or within the per-CPU slack ($SLACK)" rss_near "$RSS2"
assert_le "RSS after free is below 32 MiB" "$(rss)" "$((32 * MIB))"

# Spikes: touch 64 MiB and free it at once. The RSS reading is taken once a second and can
# only catch a spike in its ~50 ms, rarely; the peak since the previous reading always does.
# A spike shows in the reading after it (<= 1 s later) and is gone one reading later (<= 2 s):
# 2.5 s between spikes keep each one in its own window of scrapes.
NSPIKES=3
caught=0
maxpeak=0
highrss=0
for ((i = 1; i <= NSPIKES; i++)); do
	fixture_cmd mem "spike 64" || finish
	top=$(fix_field peak_rss_kib)
	log "spike $i: VmRSS $top KiB at the top, $(fix_field spike_us) us from mmap to munmap"
	seen=0
	for ((j = 0; j < 12; j++)); do
		sleep 0.2
		scrape >"$TMP/spike.txt" || continue
		pk=$(peak "$TMP/spike.txt")
		rs=$(rss "$TMP/spike.txt")
		((pk > maxpeak)) && maxpeak=$pk
		# the reading that saw the spike while it lasted holds RSS >= 32 MiB: not the point
		((rs >= 32 * MIB)) && highrss=$((highrss + 1))
		if ((pk >= 64 * MIB && rs < 32 * MIB)); then
			seen=1
			# never more than the top of the spike
			assert_le "spike $i: peak not above the fixture's own top + 5%" "$pk" "$((top * 1024 * 105 / 100))"
			break
		fi
	done
	((seen)) && caught=$((caught + 1))
	# the rest of the 2.5 s
	sleep "$(awk -v j="$j" 'BEGIN { s = 2.5 - 0.2 * (j + 1); print (s > 0 ? s : 0) }')"
done
assert_eq "spikes seen as peak >= 64 MiB at a scrape with RSS < 32 MiB" "$NSPIKES" "$caught"
assert_ge "highest peak seen" "$maxpeak" "$((64 * MIB))"
log "scrapes whose RSS reading fell inside a spike: $highrss"

# --disable memory: no memory series at all; the sched group still collects
stop_obsprobe
start_obsprobe --pid "$P" --disable memory || finish
fixture_cmd mem "spike 8" || finish
wait_until 5 has_series process_thread_count || fail "no process_thread_count with --disable memory"
sleep 1.5 # another collection, with the spike in it
scrape >"$TMP/m3.txt"
for m in process_memory_usage_bytes obsprobe_process_memory_peak_bytes obsprobe_page_faults_total \
	obsprobe_process_oom_kills_total; do
	assert_eq "--disable memory: no $m series" 0 "$(series_count "$m" "$TMP/m3.txt")"
done
assert_eq "--disable memory: process_thread_count still there" 1 "$(counter_sum process_thread_count "$SEL" "$TMP/m3.txt")"
stop_obsprobe

fixture_send mem exit
wait_exit "$P" 5
assert_eq "fixture exit status" 0 "$WAIT_RC"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The table `make bench` ends with: each figure the bench scripts reported into FILE through
# bench_figure (bench/lib.sh), its value against its target, met or MISSED; "not measured" for
# each figure below that no script reported (its script failed, or left it out). A figure
# reported twice shows its last value; one not listed below comes after the list, so that a new
# or misspelled name is seen. Prints, asserts nothing: exits 0 whatever the verdicts.
#
# Usage: bench/summary.sh FILE
[[ $# -eq 1 ]] || {
	echo "usage: $0 FILE (the BENCH_FIGURES the bench scripts wrote)" >&2
	exit 2
}

# The figures every `make bench` should report, in the table's order, named as the scripts name
# them (bench_figure's NAME)
FIGURES=(
	"obsprobe CPU per 1,000 HTTP requests (nginx)"
	"extra CPU of the OTLP export per 1,000 spans"
	"obsprobe RSS, --pid on nginx"
	"obsprobe peak RSS (VmHWM, loading included), --pid on nginx"
	"sched programs per context switch, watched thread"
	"sched programs per context switch, unwatched thread"
	"nginx with saturation programs on / off"
	"pgbench TPS with obsprobe / none, simple"
	"pgbench TPS with obsprobe / none, extended"
	"pgbench TPS with obsprobe / none, prepared"
	"obsprobe CPU per pgbench statement"
	"Go net/http server with obsprobe / none (keep-alive)"
	"OTLP spans encoded and sent per exporter core-second (gzip)"
)

# no file at all: nothing was reported, every figure is "not measured"
file=$1
[[ -e $file ]] || file=/dev/null

# the list first (stdin), then the figures: NAME VALUE UNIT OP TARGET, tab-separated
printf '%s\n' "${FIGURES[@]}" | awk -F '\t' '
FNR == NR { order[++n] = $1; listed[$1] = 1; next }
NF == 5 {
	if (!($1 in value) && !($1 in listed))
		order[++n] = $1
	value[$1] = $2
	unit[$1] = $3 == "" ? "" : " " $3
	op[$1] = $4
	target[$1] = $5
}
function row(name, v, ok) {
	if (!(name in value)) {
		printf "%-60s %16s  %-20s %s\n", name, "-", "-", "not measured"
		absent++
		return
	}
	v = value[name] + 0
	ok = op[name] == "<=" ? v <= target[name] + 0 : v >= target[name] + 0
	printf "%-60s %16s  %-20s %s\n", name, value[name] unit[name], op[name] " " target[name] unit[name],
		ok ? "met" : "MISSED"
	if (ok)
		met++
	else
		missed++
}
END {
	print ""
	print "bench: summary"
	printf "%-60s %16s  %-20s %s\n", "figure", "value", "target", "verdict"
	for (i = 1; i <= n; i++)
		row(order[i])
	printf "%d met, %d MISSED, %d not measured\n", met, missed, absent
}' - "$file"

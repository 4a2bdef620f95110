#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Two builds of obsprobe on the same events: each recording bench/cost.sh kept (REC_DIR) replayed
# under callgrind by OLD and by NEW, the instructions per request or statement of each (less
# those of replaying no event) and NEW/OLD. Instructions repeat exactly from run to run, so a
# change's user-space cost shows to the percent without a live load. Prints, asserts nothing:
#
#   REC_DIR=DIR bench/cost.sh                         (once: records; needs root and BPF)
#   bench/replay_ab.sh OLD_OBSPROBE NEW_OBSPROBE DIR [OBSPROBE ARGS...]
#
# e.g. OBSPROBE ARGS `--otlp-endpoint URL` for the export's cost (a sink must answer there).
TEST_NAME=bench-replay-ab
OBSPROBE=${2:-${OBSPROBE:-}} # bench_require checks it
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require valgrind
(($# >= 3)) || die "usage: $0 OLD_OBSPROBE NEW_OBSPROBE REC_DIR [OBSPROBE ARGS...]"
OLD=$1 NEW=$2 DIR=$3
shift 3
[[ -x $OLD && -x $NEW ]] || die "$OLD or $NEW is not an executable"
printf '%-24s %14s %14s %8s\n' recording "OLD instr/unit" "NEW instr/unit" NEW/OLD
for rec in "$DIR"/*.rec; do
	name=$(basename "$rec" .rec)
	units=$(cat "$DIR/$name.units") || die "no $DIR/$name.units"
	a=$(bench_replay_per_unit "$OLD" "$rec" "$units" "$TMP/cg.old" "$@") &&
		b=$(bench_replay_per_unit "$NEW" "$rec" "$units" "$TMP/cg.new" "$@") || exit 1
	awk -v name="$name" -v a="$a" -v b="$b" 'BEGIN {
		printf "%-24s %14.0f %14.0f %8.3f\n", name, a, b, b / a }'
done

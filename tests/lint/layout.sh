#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The layout's rules (docs/ARCHITECTURE.md), checked on every #include "..." of the tree:
#   1. in user/, only app.c names exporters/
#   2. a protocol includes no other protocol's header (http: http*, pg: pg*, sql)
#   3. exporters/ include public headers only: their own, pipeline/{span,logrec,metrics,semconv}.h,
#      config.h, otel_config.h, util/, and the generated protobuf headers
#   4. the wire ABI (include/obsprobe/) includes only itself
#   5. bpf/ includes only vmlinux.h, the wire ABI and its own *.bpf.h
#   6. util/ includes only util/; pipeline/, process/ and util/ never include protocols/ or
#      exporters/
#   7. main.c stays under 150 lines
# Prints one line per violation and "layout: N violations"; exits 1 when N > 0.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

n=0
bad() {
	printf 'layout: %s\n' "$*"
	n=$((n + 1))
}

# includes FILE: every "quoted" include of FILE, one per line
includes() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }

# family NAME: the protocol a file of user/protocols/ belongs to
family() {
	case $1 in
	sql) echo pg ;;
	h2_* | http2) echo http ;; # HTTP/2's framing, HPACK and spans are HTTP's
	*) echo "${1%%_*}" ;;
	esac
}

for f in user/*.[ch] user/*/*.[ch]; do
	[[ "$f" == user/app.c ]] && continue
	while read -r inc; do
		[[ "$inc" == exporters/* ]] && bad "$f includes $inc (only user/app.c names exporters/)"
	done < <(includes "$f")
done

for f in user/protocols/*.[ch]; do
	mine=$(basename "$f")
	mine=$(family "${mine%.*}")
	while read -r inc; do
		[[ "$inc" == protocols/* ]] || continue
		theirs=$(basename "$inc" .h)
		[[ "$(family "$theirs")" == "$mine" ]] ||
			bad "$f includes $inc: one protocol ($mine) includes another's ($(family "$theirs"))"
	done < <(includes "$f")
done

for f in exporters/*.[ch]; do
	while read -r inc; do
		case $inc in
		pipeline/span.h | pipeline/logrec.h | pipeline/metrics.h | pipeline/semconv.h | config.h | \
		otel_config.h) ;;
		util/* | opentelemetry/*) ;;
		*/*) bad "$f includes $inc (exporters/ include public headers only)" ;;
		*) [[ -f exporters/$inc ]] || bad "$f includes $inc (not an exporters/ header)" ;;
		esac
	done < <(includes "$f")
done

for f in include/obsprobe/*.h; do
	while read -r inc; do
		[[ "$inc" == obsprobe/* ]] || bad "$f includes $inc (the wire ABI includes only itself)"
	done < <(includes "$f")
done

for f in bpf/*.c bpf/*.h; do
	while read -r inc; do
		case $inc in
		vmlinux.h | obsprobe/* | *.bpf.h) ;;
		*) bad "$f includes $inc (bpf/: vmlinux.h, obsprobe/ and *.bpf.h only)" ;;
		esac
	done < <(includes "$f")
done

for f in user/util/*.[ch]; do
	while read -r inc; do
		[[ "$inc" == util/* ]] || bad "$f includes $inc (util/ includes only util/)"
	done < <(includes "$f")
done
for f in user/pipeline/*.[ch] user/process/*.[ch]; do
	while read -r inc; do
		[[ "$inc" == protocols/* || "$inc" == exporters/* ]] &&
			bad "$f includes $inc (the pipeline and process readers know no protocol or exporter)"
	done < <(includes "$f")
done

lines=$(wc -l <user/main.c)
((lines < 150)) || bad "user/main.c has $lines lines (under 150)"

echo "layout: $n violations"
((n == 0))

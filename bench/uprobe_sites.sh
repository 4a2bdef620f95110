#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What a TLS uprobe costs by where it sits (`bench/uprobe_sites.sh`; prints, asserts nothing):
# nginx over HTTPS under wrk (as bench/tls.sh), with uprobes that run no program placed through
# tracefs (uprobe_events) on nginx's libssl, so that only the traps are measured. Interleaved
# rounds, the order rotated each round:
#  a) no probes;
#  b) entry + return probe on SSL_read and SSL_write, where they start (`sub $0x18,%rsp`,
#     single-stepped): the placement obsprobe had before it decoded the code;
#  c) entry + return probe on the worker SSL_read and SSL_read_ex share (and the write one),
#     where `obsprobe --probe-sites` says it places them (`push`, emulated);
#  d) the worker's entry probe alone: what a design that read the result later, with no second
#     trap, would pay at best;
#  e) a probe on SSL_read's `call` of its worker and one on the conditional jump after it
#     (both emulated; found with objdump): the two-probe design without a return probe.
# Prints the medians and each against (a). Every process using the library takes the traps,
# wrk's included, as they would with obsprobe.
#
# Environment: see bench/lib.sh.
TEST_NAME=bench-uprobe-sites
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_require nginx wrk objdump
TRACING=/sys/kernel/tracing
[[ -w $TRACING/uprobe_events ]] || mount -t tracefs nodev "$TRACING" 2>/dev/null
[[ -w $TRACING/uprobe_events ]] || die "no tracefs at $TRACING"
GROUP=obsbench$$

bench_start_nginx https
WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
LIBSSL=$(awk '{ n = split($6, p, "/") } n && p[n] ~ /^libssl\.so/ { print $6; exit }' "/proc/$WORKER/maps")
[[ -n "$LIBSSL" ]] || die "nginx (worker $WORKER) maps no libssl.so*"

# Where obsprobe puts its probes on this kernel: `obsprobe --probe-sites LIBSSL`.
"$OBSPROBE" --probe-sites "$LIBSSL" >"$TMP/sites" 2>&1 || die "obsprobe --probe-sites failed: $(cat "$TMP/sites")"
site() { sed -n "s/^uprobe for $1 in [^:]*: \(shared, \)\{0,1\}at \(0x[0-9a-f]*\) .*/\2/p" "$TMP/sites" | head -n 1; }
W_READ=$(site SSL_read)
W_WRITE=$(site SSL_write)
[[ -n $W_READ && -n $W_WRITE ]] || die "no SSL_read/SSL_write site in obsprobe -v"

# sym_off F: F's file offset (its address; the library's text is loaded at its file offset,
# checked below); call_and_jcc F: the first call in F and the conditional jump after it
sym_off() { nm -D "$LIBSSL" | awk -v f="$1" '$3 == f || $3 ~ "^" f "@@" { print "0x" $1; exit }'; }
call_and_jcc() {
	local a
	a=$(sym_off "$1")
	objdump -d --no-show-raw-insn --start-address="$a" --stop-address=$((a + 96)) "$LIBSSL" |
		awk '!c && /^ *[0-9a-f]+:\tcall/ { c = $1 } c && !j && /^ *[0-9a-f]+:\tj[a-z]+ / && $2 != "jmp" { j = $1 }
			END { sub(":", "", c); sub(":", "", j); if (c && j) print "0x" c, "0x" j }'
}
readelf -lW "$LIBSSL" | awk '$1 == "LOAD" && $7 ~ /E/ && $2 != $3 { bad = 1 } END { exit bad }' ||
	die "$LIBSSL's code is not loaded at its file offset: the offsets below would be wrong"
read -r R_CALL R_JCC <<<"$(call_and_jcc SSL_read)"
read -r W_CALL W_JCC <<<"$(call_and_jcc SSL_write)"
[[ -n $R_JCC && -n $W_JCC ]] || die "no call + jcc found in SSL_read/SSL_write"

declare -A PROBES=(
	[a]=""
	[b]="p:$(sym_off SSL_read) r:$(sym_off SSL_read) p:$(sym_off SSL_write) r:$(sym_off SSL_write)"
	[c]="p:$W_READ r:$W_READ p:$W_WRITE r:$W_WRITE"
	[d]="p:$W_READ p:$W_WRITE"
	[e]="p:$R_CALL p:$R_JCC p:$W_CALL p:$W_JCC"
)
declare -A LABEL=(
	[a]="a) no probes"
	[b]="b) entry+return at the start"
	[c]="c) entry+return on the worker"
	[d]="d) worker entry only"
	[e]="e) call + jcc after it"
)
NAMES=(a b c d e)

# tests/lib.sh's EXIT trap stops nginx; the probes go first
trap 'clear_probes; _cleanup' EXIT

set_probes() { # SPEC...: TYPE:OFFSET, all enabled
	local s i=0
	clear_probes
	for s in "$@"; do
		i=$((i + 1))
		echo "${s%%:*}:$GROUP/p$i $LIBSSL:${s#*:}" >>"$TRACING/uprobe_events" ||
			die "tracefs refused ${s%%:*} at ${s#*:} in $LIBSSL"
	done
	((i == 0)) || echo 1 >"$TRACING/events/$GROUP/enable"
}

echo "bench: uprobe placement on nginx HTTPS ($LIBSSL), wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS rounds"
for k in "${NAMES[@]}"; do
	printf '  %-32s %s\n' "${LABEL[$k]}" "${PROBES[$k]:-none}"
done
wrk -t"$THREADS" -c"$CONNS" -d1s "$URL" >/dev/null 2>&1
declare -A RPS
for ((i = 1; i <= ROUNDS; i++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		name=${NAMES[(i - 1 + k) % ${#NAMES[@]}]}
		# shellcheck disable=SC2086 # one word per probe
		set_probes ${PROBES[$name]}
		r=$(bench_wrk) || die "wrk failed"
		RPS[$name]+=" ${r#* }"
		printf '  round %d %-32s %10.0f req/s\n' "$i" "${LABEL[$name]}" "${r#* }"
	done
done
clear_probes
# shellcheck disable=SC2086
A=$(median ${RPS[a]})
echo
printf '%-36s %10s %8s\n' "req/s" "median" "vs a"
for name in "${NAMES[@]}"; do
	# shellcheck disable=SC2086
	m=$(median ${RPS[$name]})
	awk -v l="${LABEL[$name]}" -v m="$m" -v a="$A" 'BEGIN { printf "%-36s %10.0f %8.3f\n", l, m, m / a }'
done
exit 0

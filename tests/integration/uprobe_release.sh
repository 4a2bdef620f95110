#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Uprobes kept per file only while a watched process maps it. Node-wide (--comm) obsprobe
# watches a stream of different programs, each mapping its own file: Python clients (a symlink
# named relpy, so the selector sees them) that load their own copy of libssl (copies are
# distinct files: each gets its probes), and two copies of a Go executable. While one runs, its
# files have their uprobes and obsprobe_uprobe_links is exactly what bpftool shows beyond
# obsprobe's own links; when it is gone, every uprobe of its files is removed (the count goes
# back to 0, bpftool shows obsprobe's own links only) unless a process maps it again within 5 s
# (then it keeps them: a program run now and then is not probed anew each time). A copy released
# and mapped again is probed again and its HTTPS requests all appear; a client that forks and
# whose parent exits keeps the file probed for the child, whose requests all appear too.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=5
require_root || finish
if ! P1=$(free_port) || ! P2=$(free_port) || ! GP=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/nginx" "$P1" "$P2" https || finish
URL=https://127.0.0.1:$P1/index.html

SYSLIB=$(ldconfig -p | awk '$1 == "libssl.so.3" && /x86-64/ { print $NF; exit }')
[[ -n "$SYSLIB" ]] || { fail "no libssl.so.3 in ldconfig -p"; finish; }
for i in 1 2 3; do
	mkdir -p "$TMP/lib$i"
	cp "$SYSLIB" "$TMP/lib$i/libssl.so.3"
	chmod 755 "$TMP/lib$i"
done
ln -s "$PY" "$TMP/relpy"
build_goserver || finish
cp "$GOSERVER" "$TMP/relgo1"
cp "$GOSERVER" "$TMP/relgo2"

links() { bpftool link list 2>/dev/null | grep -c '^[0-9]'; }
gauge() { scrape | awk -v n="$1" '$1 == n { print $2 + 0; f = 1 } END { if (!f) print "none" }'; }
settled() { [[ "$(gauge obsprobe_uprobe_files) $(gauge obsprobe_uprobe_links)" == "0 0" ]] && (($(links) == LINKS1)); }

LINKS0=$(links)
start_obsprobe --comm relpy --comm relgo1 --comm relgo2 --console json -v || finish
LINKS1=$(links)
wait_until 5 eval '[[ $(gauge obsprobe_uprobe_files) != none ]]'
log "links: $LINKS0 before obsprobe, $LINKS1 with it"
assert_eq "no watched process yet: no file with uprobes, no uprobe link" "0 0" \
	"$(gauge obsprobe_uprobe_files) $(gauge obsprobe_uprobe_links)"

# alive_checks WHAT: while WHAT runs, its files have uprobes, and obsprobe's count of links is
# bpftool's beyond obsprobe's own
alive_checks() {
	local files ulinks
	sleep 1.2 # a health update
	files=$(gauge obsprobe_uprobe_files)
	ulinks=$(gauge obsprobe_uprobe_links)
	assert_ge "$1: files with uprobes while it runs" "$files" 1
	assert_eq "$1: obsprobe_uprobe_links is what bpftool shows beyond obsprobe's own links" \
		"$ulinks" "$(($(links) - LINKS1))"
}

# gone_checks WHAT RELEASED_BEFORE: WHAT exited: every uprobe of its files is removed
gone_checks() {
	wait_until 20 settled ||
		fail "$1 is gone but uprobes stay: files $(gauge obsprobe_uprobe_files), links $(gauge obsprobe_uprobe_links), bpftool $(links) (obsprobe's own: $LINKS1)"
	assert_ge "$1: obsprobe_uprobe_files_released_total grew" \
		"$(gauge obsprobe_uprobe_files_released_total)" "$(($2 + 1))"
}

probed() { grep -c "^obsprobe: TLS: probing OpenSSL in $TMP/$1/libssl.so.3 " "$OBS_ERR"; }
more_probed() { (($(probed "$1") > $2)); }
more_lines() { (($(wc -l <"$1") > $2)); }

# client ID LIB [KEPT]: a Python client loading the libssl copy $TMP/LIB; it is watched at its
# exec and the copy probed once loaded (KEPT=1: the copy still has its probes, none placed
# again). Its pid in CLIENT.
client() {
	local id=$1 lib=$2 kept=${3:-0} probed
	probed=$(probed "$lib")
	run_fixture "$id" env LD_LIBRARY_PATH="$TMP/$lib" "$TMP/relpy" \
		"$ROOT/tests/fixtures/tls/late_client.py" || return 1
	CLIENT=$FIX_PID
	wait_until 10 grep -q "^obsprobe: watching pid $CLIENT " "$OBS_ERR" ||
		{ fail "$id (pid $CLIENT) was not watched at its exec"; return 1; }
	fixture_cmd "$id" load || return 1
	if ((kept)); then
		sleep 1
		assert_eq "$id: $lib's copy, let go less than 5 s ago, keeps its probes: none placed again" \
			"$probed" "$(probed "$lib")"
		return 0
	fi
	wait_until 10 more_probed "$lib" "$probed" ||
		{ fail "$id: $TMP/$lib/libssl.so.3 not probed within 10 s of its loading"; return 1; }
}

# gets ID PID: N requests by client ID, all seen as CLIENT spans of PID
gets() {
	local id=$1 pid=$2
	fixture_cmd "$id" "get $URL $N" || return 1
	assert_eq "$id: the client's own count" "$N 200" "$(fix_field n) $(fix_field status)"
	wait_until 10 spans_at_least "$N" "$OBS_OUT" kind=CLIENT "res:process.pid==$pid" ||
		fail "$id: $(spans_count "$OBS_OUT" kind=CLIENT "res:process.pid==$pid") CLIENT spans of pid $pid, $N requests"
	sleep 0.3
	assert_eq "$id: CLIENT spans of pid $pid, https GET 200, one per request" "$N" \
		"$(spans_count "$OBS_OUT" kind=CLIENT "res:process.pid==$pid" attr:url.scheme=https \
			"attr:url.full=$URL" attr:http.response.status_code==200)"
}

# quit ID PID: the client exits
quit() {
	fixture_send "$1" quit
	wait_until 10 eval "! kill -0 $2 2>/dev/null" || fail "$1 did not quit"
}

# a client run again within the grace period: the copy's probes were kept
client client-a0 lib1 || finish
gets client-a0 "$CLIENT"
quit client-a0 "$CLIENT"
client client-a lib1 1 || finish
gets client-a "$CLIENT"
alive_checks "client-a (lib1)"
quit client-a "$CLIENT"
gone_checks "client-a (lib1)" 0
released=$(gauge obsprobe_uprobe_files_released_total)
for round in b:lib2 c:lib1; do
	id=client-${round%%:*} lib=${round#*:}
	client "$id" "$lib" || finish
	gets "$id" "$CLIENT"
	alive_checks "$id ($lib)"
	quit "$id" "$CLIENT"
	gone_checks "$id ($lib)" "$released"
	released=$(gauge obsprobe_uprobe_files_released_total)
done
assert_eq "lib1's copy was probed twice: released after client-a, probed again for client-c" 2 \
	"$(probed lib1)"

# a fork: the child holds what its parent held
client client-d lib3 || finish
PARENT=$CLIENT
n=$(wc -l <"$TMP/client-d.out")
fixture_send client-d fork
wait_until 10 more_lines "$TMP/client-d.out" "$n" || { fail "client-d did not fork"; finish; }
CHILD=$(sed -n "$((n + 1))s/^ok forked pid=\([0-9]*\)$/\1/p" "$TMP/client-d.out")
[[ -n "$CHILD" ]] || { fail "client-d's fork answered '$(sed -n "$((n + 1))p" "$TMP/client-d.out")'"; finish; }
FIX_PIDS[client-d]=$CHILD
track_pid "$CHILD"
wait_until 10 grep -q "^obsprobe: process $PARENT exited" "$OBS_ERR" ||
	fail "client-d's parent (pid $PARENT) did not exit"
sleep 1.2
assert_ge "the parent gone, its child still maps lib3's copy: it keeps its uprobes" \
	"$(gauge obsprobe_uprobe_files)" 1
gets client-d "$CHILD"
alive_checks "client-d's child"
quit client-d "$CHILD"
gone_checks "client-d's child" "$released"
released=$(gauge obsprobe_uprobe_files_released_total)

# Go executables: each gets its own uprobes, removed when it exits
for g in relgo1 relgo2; do
	start_bg "$g" "$TMP/$g" -listen "127.0.0.1:$GP" -ready-file "$TMP/$g.ready"
	pid=$BG_PID
	await_ready "$TMP/$g.ready" "$g" "$g" || finish
	wait_until 10 grep -q "^obsprobe: goroutines: .*$TMP/$g" "$OBS_ERR" ||
		fail "$g: its go statements were not probed"
	curl -sf -o /dev/null "http://127.0.0.1:$GP/" || fail "$g did not answer"
	alive_checks "$g"
	stop_pid "$pid"
	gone_checks "$g" "$released"
	released=$(gauge obsprobe_uprobe_files_released_total)
done

stop_obsprobe
assert_eq "obsprobe gone: the links there were before it" "$LINKS0" "$(links)"
finish

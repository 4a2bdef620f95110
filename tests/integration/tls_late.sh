#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A TLS library loaded after obsprobe attached: a watched Python process imports ssl (dlopen of
# _ssl, which needs libssl.so.3) only when told, from a copy of libssl in its own library path,
# one no other process maps and no library directory holds. obsprobe sees the executable mapping
# (sys_exit_mmap), finds the copy by its path and build-id (the system library's), probes it,
# and the process's HTTPS requests that follow all appear.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=7
require_root || finish
if ! P1=$(free_port) || ! P2=$(free_port); then
	fail "no free port"
	finish
fi
start_nginx "$TMP/nginx" "$P1" "$P2" https || finish
ACCESS=$TMP/nginx/access.log
SKIP=$(wc -l <"$ACCESS")

SYSLIB=$(ldconfig -p | awk '$1 == "libssl.so.3" && /x86-64/ { print $NF; exit }')
[[ -n "$SYSLIB" ]] || { fail "no libssl.so.3 in ldconfig -p"; finish; }
mkdir -p "$TMP/lib"
cp "$SYSLIB" "$TMP/lib/libssl.so.3"
chmod 755 "$TMP/lib"
COPY=$TMP/lib/libssl.so.3

run_fixture late env LD_LIBRARY_PATH="$TMP/lib" "$PY" "$ROOT/tests/fixtures/tls/late_client.py" ||
	finish
LATE=$FIX_PID
start_obsprobe --pid "$LATE" --console json -v || finish
assert_eq "no libssl mapped by the process yet" 0 "$(grep -c 'libssl' "/proc/$LATE/maps")"
assert_lacks "the copy is not probed before it is loaded" "$OBS_ERR" "probing OpenSSL in $COPY"

fixture_cmd late load || finish
assert_eq "the process now maps the copy of libssl" 1 \
	"$(awk -v f="$COPY" '$6 == f && $2 ~ /x/' "/proc/$LATE/maps" | wc -l)"
wait_until 10 grep -q "^obsprobe: TLS: probing OpenSSL in $COPY " "$OBS_ERR" ||
	fail "obsprobe did not probe $COPY within 10 s of its loading"
sysid=$(sed -n "s|^obsprobe: TLS: probing OpenSSL in .*/libssl\.so\.3 (build-id \([0-9a-f]*\),.*|\1|p" "$OBS_ERR" | sort -u)
assert_eq "the copy and the system library: one build-id, two files probed" 1 \
	"$(echo "$sysid" | grep -c .)"
assert_eq "two 'probing OpenSSL' lines: the system libssl (found at attach) and the copy" 2 \
	"$(grep -c '^obsprobe: TLS: probing OpenSSL in ' "$OBS_ERR")"

fixture_cmd late "get https://127.0.0.1:$P1/index.html $N" || finish
assert_eq "the client's own count" "$N 200" "$(fix_field n) $(fix_field status)"
assert_eq "nginx logged $N requests" "$N" "$(tail -n +"$((SKIP + 1))" "$ACCESS" | wc -l)"
wait_until 10 spans_at_least "$N" "$OBS_OUT" kind=CLIENT ||
	fail "only $(spans_count "$OBS_OUT" kind=CLIENT) CLIENT spans of $N after 10 s"
sleep 0.3
assert_eq "CLIENT spans: https GET /index.html 200 to 127.0.0.1:$P1, $N of them" "$N $N" \
	"$(spans_count "$OBS_OUT" kind=CLIENT) $(spans_count "$OBS_OUT" kind=CLIENT "res:process.pid==$LATE" \
		attr:url.scheme=https "attr:url.full=https://127.0.0.1:$P1/index.html" \
		"attr:server.port==$P1" attr:http.response.status_code==200)"
stop_obsprobe
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# W3C trace context: a valid incoming traceparent makes the SERVER span a child of the caller's
# span in the caller's trace; an invalid one (all-zero trace id) is ignored.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

TRACE=4bf92f3577b34da6a3ce929d0e0e4736
PARENT=00f067aa0ba902b7

require_root || finish
PORT=$(free_port) || { fail "no free port"; finish; }
start_goserver go "$PORT" || finish
GOPID=$GO_PID
start_obsprobe --pid "$GOPID" --console json || finish
O=$OBS_OUT
URL=http://127.0.0.1:$PORT

curl -s -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" "$URL/users/1"
curl -s -o /dev/null -H "traceparent: 00-00000000000000000000000000000000-$PARENT-01" "$URL/users/2"
curl -s -o /dev/null -H "traceparent: 00-$TRACE-0000000000000000-01" "$URL/users/3"
curl -s -o /dev/null -H "traceparent: garbage" "$URL/users/4"
curl -s -o /dev/null "$URL/users/5"

wait_until 10 spans_at_least 5 "$O" kind=SERVER ||
	fail "only $(spans_count "$O" kind=SERVER) SERVER spans of 5 after 10 s"

assert_eq "valid traceparent: span in the caller's trace" "$TRACE" \
	"$(spans_field "$O" trace_id attr:url.path=/users/1)"
assert_eq "valid traceparent: parent_span_id is the caller's span" "$PARENT" \
	"$(spans_field "$O" parent_span_id attr:url.path=/users/1)"
assert_ne "valid traceparent: the span has its own span id" "$PARENT" \
	"$(spans_field "$O" span_id attr:url.path=/users/1)"
assert_eq "valid traceparent: span id is 16 hex digits, not zero" 1 \
	"$(spans_count "$O" attr:url.path=/users/1 'span_id~^[0-9a-f]{16}$' span_id!=0000000000000000)"

for p in 2 3 4 5; do
	case $p in
	2) what="all-zero trace id" ;;
	3) what="all-zero parent id" ;;
	4) what="malformed traceparent" ;;
	5) what="no traceparent" ;;
	esac
	t=$(spans_field "$O" trace_id attr:url.path=/users/$p)
	assert_true "$what: a fresh trace id ($t)" \
		eval "[[ '$t' =~ ^[0-9a-f]{32}$ && '$t' != 00000000000000000000000000000000 && '$t' != $TRACE ]]"
	assert_eq "$what: no parent_span_id" 0 "$(spans_count "$O" attr:url.path=/users/$p parent_span_id?)"
done
assert_eq "distinct trace ids for the 4 requests without a valid parent" 4 \
	"$(spans_field "$O" trace_id 'attr:url.path~^/users/[2-5]$' | sort -u | wc -l)"

stop_obsprobe
finish

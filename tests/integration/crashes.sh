#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Errors without SDKs, as Sentry reports them: crashes and panics with their stacks, grouped,
# on the request they happened in, exported as OTLP log records (decoded with the official
# protos, tests/otlp/decode.js) and counted in obsprobe_errors_total.
# - C crashes (tests/fixtures/crash/crashme.c, -g, no frame pointers: only CFI unwinds it):
#   SIGSEGV in store_record() in 100 workers a process forks one after the other (each dead
#   before obsprobe reads of it: its parent's mappings serve), SIGABRT from check_invariant(),
#   SIGFPE in average().
#   Each stack resolves to the function and line the source marks, then its caller, then main;
#   libc's frames by symbol. The 100 crashes are one fingerprint counted 100; the first is
#   exported with its stack, the repeats sampled (10 a minute).
# - Go panics (tests/fixtures/gopanic: gin with its Recovery): index out of range in
#   lookupItem() and a string panic in chargeOrder(), recovered (500); a panic in a goroutine a
#   handler spawned that kills the process. Each record carries the panic's text, the
#   panicking function's frame, and the trace and span of its own request (the trace id each
#   request came with in its traceparent); the recovered ones are also an `exception` event on
#   that request's SERVER span, whose status is ERROR. A plain 500 is an error of type "500".
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

NSEGV=100
NIDX=6
NFAIL=6
NERR=3
require_root || finish
otlp_setup || finish
if ! GPORT=$(free_port) || ! RPORT=$(free_port); then
	fail "no free port"
	finish
fi
SRC=$ROOT/tests/fixtures/crash/crashme.c
if ! cc -O1 -g -fomit-frame-pointer -Wall -o "$TMP/crashme" "$SRC" >"$TMP/cc.log" 2>&1; then
	fail "cc of $SRC failed"
	finish
fi
line_of() { grep -n "$2" "$1" | head -n 1 | cut -d: -f1; }
start_receiver recv "$RPORT" || finish

# --- C crashes, in children of a watched shell
# shellcheck disable=SC2016 # expanded by the runner's bash
start_runner crash bash -c '
	"$1" segv 300 "$2"
	"$1" abort 300
	"$1" fpe 300
	"$1" 2>/dev/null # its usage: exit status 2
	exit 0' crashloop "$TMP/crashme" "$NSEGV"
start_obsprobe --pid "$RUNNER_PID" --console text --logs off \
	--otlp-endpoint "http://127.0.0.1:$RPORT" || finish
touch "$TMP/crash.go"
wait_until 60 test -s "$TMP/crash.rc" || fail "the crash loop did not end in 60 s"
# shellcheck disable=SC2317 # called by wait_until
has_logs() { otlp_logs "$RECV_DIR" "$2" && (($(wc -l <"$2") >= $1)); }
WANT=$((1 + 10 + 2 + 1))
wait_until 20 has_logs "$WANT" "$TMP/logs1.json" ||
	fail "only $(wc -l <"$TMP/logs1.json" 2>/dev/null || echo 0) error records of $WANT after 20 s"
sleep 1.5
otlp_logs "$RECV_DIR" "$TMP/logs1.json"
M=$TMP/metrics.txt
scrape "$OBS_METRICS" >"$M" || fail "scrape of $OBS_METRICS failed"
assert_eq "obsprobe_errors_total: SIGSEGV, SIGABRT, SIGFPE" "$NSEGV 1 1" \
	"$(counter_sum obsprobe_errors_total 'error_type="SIGSEGV"' "$M") $(counter_sum obsprobe_errors_total 'error_type="SIGABRT"' "$M") $(counter_sum obsprobe_errors_total 'error_type="SIGFPE"' "$M")"
assert_eq "the $NSEGV SIGSEGVs: one fingerprint" 1 \
	"$(grep -c '^obsprobe_errors_total{.*error_type="SIGSEGV"' "$M")"
assert_eq "obsprobe_errors_total: exit (status 2)" 1 \
	"$(counter_sum obsprobe_errors_total 'error_type="exit"' "$M")"
assert_eq "no other errors (the shell's own exit is 0)" $((NSEGV + 3)) \
	"$(counter_sum obsprobe_errors_total "" "$M")"
assert_eq "obsprobe_crashes_total{kind=\"signal\"}" $((NSEGV + 2)) \
	"$(counter_sum obsprobe_crashes_total 'kind="signal"' "$M")"
mapfile -t C < <("$PY" - "$TMP/logs1.json" "$(line_of "$SRC" CRASH:segv)" \
	"$(line_of "$SRC" CALL:segv)" "$(line_of "$SRC" CRASH:abort)" "$(line_of "$SRC" CALL:abort)" \
	"$(line_of "$SRC" CRASH:fpe)" "$(line_of "$SRC" CALL:fpe)" 2>"$TMP/check1.err" <<'PYEOF'
import collections, json, re, sys
logs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
segv, segv_call, abrt, abrt_call, fpe, fpe_call = sys.argv[2:8]
want = {
    "SIGSEGV": ["store_record (crashme.c:%s)" % segv, "handle (crashme.c:%s)" % segv_call],
    "SIGABRT": ["check_invariant (crashme.c:%s)" % abrt, "handle (crashme.c:%s)" % abrt_call],
    "SIGFPE": ["average (crashme.c:%s)" % fpe, "handle (crashme.c:%s)" % fpe_call],
}
msg = {"SIGSEGV": r"Segmentation fault, SEGV_MAPERR at address 0x0",
       "SIGABRT": r"Aborted, SI_TKILL",
       # si_addr of a SIGFPE: the dividing instruction
       "SIGFPE": r"Floating point exception, FPE_INTDIV at address 0x[0-9a-f]+"}
bad, n, fps = collections.Counter(), collections.Counter(), collections.defaultdict(set)
def check(what, ok, rec):
    if not ok:
        bad[what] += 1
        print("%s: %s" % (what, json.dumps(rec)[:600]), file=sys.stderr)
for r in logs:
    a = r.get("attributes", {})
    t = a.get("exception.type")
    if t == "exit":
        n[t] += 1
        check("exit: ERROR, status 2, no stack", r.get("severity_number") == 17 and
              a.get("exception.message") == "exited with status 2" and
              "exception.stacktrace" not in a, r)
        continue
    if t not in want:
        check("a record of no known error", False, r)
        continue
    n[t] += 1
    fps[t].add(a.get("error.fingerprint"))
    check(t + ": severity FATAL", (r.get("severity_number"), r.get("severity_text")) == (21, "FATAL"), r)
    check(t + ": message", re.fullmatch(msg[t], a.get("exception.message") or ""), r)
    check(t + ": body", re.fullmatch("%s: %s" % (t, msg[t]), r.get("body") or ""), r)
    check(t + ": escaped", a.get("exception.escaped") is True, r)
    frames = [f.strip() for f in (a.get("exception.stacktrace") or "").splitlines()]
    # the app's frames in order, from where it died up to main; libc's by symbol
    app = [f for f in frames if "crashme.c" in f]
    check(t + ": its own frames, innermost first", app[:2] == want[t] and
          len(app) == 3 and re.match(r"main \(crashme\.c:\d+\)$", app[2]), r)
    # libc's by symbol and offset, or by line where libc6-dbg is installed
    check(t + ": libc's frame below main", any(re.match(r"__libc_start_call_main(\+0x[0-9a-f]+ \(libc\.so\.6\)| \(\S+:\d+\))$", f) for f in frames), r)
    if t == "SIGABRT":
        check(t + ": abort's own frames above the app's", frames and "crashme.c" not in frames[0], r)
    else:
        check(t + ": the faulting function first", frames and frames[0] == want[t][0], r)
    check(t + ": no request: no trace", not r.get("trace_id"), r)
print(n["SIGSEGV"]); print(n["SIGABRT"]); print(n["SIGFPE"])
print(" ".join(str(len(fps[t])) for t in ("SIGSEGV", "SIGABRT", "SIGFPE")))
print(len(set().union(*fps.values())) if fps else 0)
print(sum(bad.values()))
print(n["exit"])
for k, v in sorted(bad.items()):
    print("%s: %d" % (k, v), file=sys.stderr)
PYEOF
)
assert_eq "SIGSEGV records: the first and 10 sampled of $NSEGV" 11 "${C[0]:-}"
assert_eq "SIGABRT, SIGFPE, exit records" "1 1 1" "${C[1]:-} ${C[2]:-} ${C[6]:-}"
assert_eq "fingerprints per type" "1 1 1" "${C[3]:-}"
assert_eq "fingerprints in all: each type its own" 3 "${C[4]:-}"
assert_eq "records that fail a check (below)" 0 "${C[5]:-}"
[[ ${C[5]:-} == 0 ]] || sed 's/^/    | /' "$TMP/check1.err" | tail -n 20
assert_eq "console: FATAL lines of each type" 3 \
	"$(grep -E ' FATAL .* SIG(SEGV|ABRT|FPE): ' "$OBS_OUT" | grep -oE 'SIG(SEGV|ABRT|FPE):' | sort -u | wc -l)"
assert_ge "console: SIGSEGV lines at store_record, with its fingerprint" \
	"$(grep -cE ' FATAL .*SIGSEGV: .*\[[0-9a-f]{16}\] at store_record \(crashme\.c:[0-9]+\) < handle' "$OBS_OUT")" 1
assert_no_loss "events lost" "$M"
touch "$TMP/crash.done"
wait_exit "$OBS_PID" 20
assert_eq "obsprobe's exit status once the shell is gone" 0 "$WAIT_RC"

# --- Go panics under gin's Recovery, and one that kills the process
rm -f "$RECV_DIR"/*.json
GOSRC=$ROOT/tests/fixtures/gopanic/main.go
start_go_service gopanic "$GPORT" "the Go panic service" || finish
start_obsprobe --pid "$GOPID" --console json --logs off \
	--otlp-endpoint "http://127.0.0.1:$RPORT" || finish
# each request its own trace id: 0000...<kind><n>
tp() { printf '00-%032x-%016x-01' "$1" "$1"; }
{
	for ((i = 1; i <= NIDX; i++)); do echo "$((1000 + i)) /index/$((10 + i))"; done
	for ((i = 1; i <= NFAIL; i++)); do echo "$((2000 + i)) /fail/f$i"; done
	for ((i = 1; i <= 4; i++)); do echo "$((3000 + i)) /ok/k$i"; done
	for ((i = 1; i <= NERR; i++)); do echo "$((5000 + i)) /err/$((700 + i))"; done
} >"$TMP/reqs"
while read -r id path; do
	echo "-H \"traceparent: $(tp "$id")\" http://127.0.0.1:$GPORT$path"
done <"$TMP/reqs" | xargs -P 4 -L 1 curl -s -o /dev/null -w '%{http_code}\n' >"$TMP/codes"
assert_eq "answers: 500s (recovered panics, refusals), 200s" "$((NIDX + NFAIL + NERR)) 4" \
	"$(grep -cx 500 "$TMP/codes") $(grep -cx 200 "$TMP/codes")"
wait_until 10 spans_at_least "$((NIDX + NFAIL + NERR + 4))" "$OBS_OUT" kind=SERVER ||
	fail "only $(spans_count "$OBS_OUT" kind=SERVER) SERVER spans"
sleep 1.2
scrape "$OBS_METRICS" >"$M" || fail "scrape of $OBS_METRICS failed"
# the panic that kills it, from a goroutine the handler spawned
curl -s -o /dev/null -H "traceparent: $(tp 4001)" "http://127.0.0.1:$GPORT/die/d1"
wait_exit "$GOPID" 10
assert_eq "the service died of its panic (status 2)" 2 "$WAIT_RC"
WANT=$((NIDX + NFAIL + 1 + NERR))
# shellcheck disable=SC2317 # called by wait_until
has_spans() { otlp_spans "$RECV_DIR" "$TMP/spans.json" && (($(spans_count "$TMP/spans.json" kind=SERVER) >= $1)); }
wait_until 20 has_logs "$WANT" "$TMP/logs.json" ||
	fail "only $(wc -l <"$TMP/logs.json" 2>/dev/null || echo 0) panic records of $WANT after 20 s"
wait_until 20 has_spans "$((NIDX + NFAIL + NERR + 4))" || fail "the SERVER spans did not all reach OTLP"
sleep 1.5
otlp_logs "$RECV_DIR" "$TMP/logs.json"
otlp_spans "$RECV_DIR" "$TMP/spans.json"
mapfile -t C < <("$PY" - "$TMP/logs.json" "$TMP/spans.json" "$(line_of "$GOSRC" PANIC:index)" \
	"$(line_of "$GOSRC" PANIC:fail)" "$(line_of "$GOSRC" PANIC:die)" 2>"$TMP/check.err" <<'PYEOF'
import collections, json, re, sys
logs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
spans = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
lidx, lfail, ldie = sys.argv[3:6]
server = {s["trace_id"]: s for s in spans if s.get("kind") == "SERVER"}
bad, n, fps = collections.Counter(), collections.Counter(), collections.defaultdict(set)
def check(what, ok, rec):
    if not ok:
        bad[what] += 1
        print("%s: %s" % (what, json.dumps(rec)[:700]), file=sys.stderr)
seen_spans = set()
for r in logs:
    a = r.get("attributes", {})
    m = a.get("exception.message") or ""
    frames = [f.strip() for f in (a.get("exception.stacktrace") or "").splitlines()]
    if a.get("exception.type") == "500":
        s = server.get(r.get("trace_id"))
        n["500"] += 1
        fps["500"].add(a.get("error.fingerprint"))
        check("500: severity ERROR", r.get("severity_number") == 17, r)
        check("500: on its own SERVER span, a refusal", s is not None and
              r.get("span_id") == s["span_id"] and s["attributes"].get("url.path", "").startswith("/err/")
              and int(r["trace_id"], 16) // 1000 == 5, r)
        check("500: no stack", "exception.stacktrace" not in a, r)
        continue
    if a.get("exception.type") != "panic":
        check("a record of no panic", False, r)
        continue
    mi = re.match(r"runtime error: index out of range \[(\d+)\] with length 3$", m)
    mf = re.match(r"order f(\d+) failed$", m)
    md = re.match(r"worker d1 died$", m)
    if mi:
        kind, rid, fn = "index", 1000 + int(mi.group(1)) - 10, "main.lookupItem (main.go:%s)" % lidx
    elif mf:
        kind, rid, fn = "fail", 2000 + int(mf.group(1)), "main.chargeOrder (main.go:%s)" % lfail
    elif md:
        kind, rid, fn = "die", 4001, "main.runWorker (main.go:%s)" % ldie
    else:
        check("a panic of no known text", False, r)
        continue
    n[kind] += 1
    fps[kind].add(a.get("error.fingerprint"))
    fatal = kind == "die"
    check(kind + ": severity", (r.get("severity_number"), r.get("severity_text")) ==
          ((21, "FATAL") if fatal else (17, "ERROR")), r)
    check(kind + ": recovered flag", a.get("go.panic.recovered") is (not fatal), r)
    check(kind + ": the panicking function's frame", fn in frames[:3], r)
    check(kind + ": on its own request's trace", r.get("trace_id") == "%032x" % rid, r)
    if fatal:
        continue
    s = server.get("%032x" % rid)
    if not s:
        check(kind + ": its SERVER span", False, r)
        continue
    check(kind + ": on its request's SERVER span", r.get("span_id") == s["span_id"], r)
    ev = [e for e in s.get("events", []) if e["name"] == "exception"]
    check(kind + ": the span's exception event", len(ev) == 1 and
          ev[0]["attributes"].get("exception.type") == "panic" and
          ev[0]["attributes"].get("exception.message") == m and
          fn in (ev[0]["attributes"].get("exception.stacktrace") or ""), s)
    check(kind + ": the span's status ERROR", s.get("status") == "ERROR", s)
    seen_spans.add(s["span_id"])
others = [s for s in server.values() if s.get("events") and s["span_id"] not in seen_spans]
check("exception events on other spans", not others, others)
print(n["index"]); print(n["fail"]); print(n["die"]); print(n["500"])
print(" ".join(str(len(fps[k])) for k in ("index", "fail", "die", "500")))
print(sum(bad.values()))
for k, v in sorted(bad.items()):
    print("%s: %d" % (k, v), file=sys.stderr)
PYEOF
)
assert_eq "records: panics in index, fail, die; refusals (500)" "$NIDX $NFAIL 1 $NERR" \
	"${C[0]:-} ${C[1]:-} ${C[2]:-} ${C[3]:-}"
assert_eq "fingerprints: one per panic site, one for the refusals" "1 1 1 1" "${C[4]:-}"
assert_eq "records and spans that fail a check (below)" 0 "${C[5]:-}"
[[ ${C[5]:-} == 0 ]] || sed 's/^/    | /' "$TMP/check.err" | tail -n 20
assert_eq "obsprobe_errors_total before the fatal panic: panic, 500" "$((NIDX + NFAIL)) $NERR" \
	"$(counter_sum obsprobe_errors_total 'error_type="panic"' "$M") $(counter_sum obsprobe_errors_total 'error_type="500"' "$M")"
assert_eq "obsprobe_crashes_total before the fatal panic: panic_recovered, panic_fatal" \
	"$((NIDX + NFAIL)) 0" \
	"$(counter_sum obsprobe_crashes_total 'kind="panic_recovered"' "$M") $(counter_sum obsprobe_crashes_total 'kind="panic_fatal"' "$M")"
# its only process gone, obsprobe ends by itself, having sent what it had
wait_exit "$OBS_PID" 20
assert_eq "obsprobe's exit status once the service is gone" 0 "$WAIT_RC"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Kubernetes pod metadata: obsprobe --comm goserver with K8S_NODE_NAME=node-a against a mock API
# server (tests/fixtures/k8s_api.py: HTTPS with a CA of this test's own, bearer token, LIST, a
# chunked WATCH held open, ReplicaSet and Job GETs), which reports the pods of real podman
# containers running the Go server (no OTEL_SERVICE_NAME in them), with their container ids.
#   cart     pod cart-7f9c6d5b8-q2x4z, ReplicaSet cart-7f9c6d5b8 of Deployment cart
#   catalog  pod catalog-0 of StatefulSet catalog; deleted mid-run (DELETED on the watch)
#   report   started mid-run, its pod added after (ADDED): Job report-28571040 of CronJob report
# Each one's spans (console JSON resource) and series (/metrics) carry its pod, namespace,
# container, workload, and service.name = the workload. Then the watch ends quietly (watched
# again, no list) and with a 410 (listed again, then watched). Also: a wrong token (one log
# line, container.id still there) and no K8S_NODE_NAME (no request to the API server at all).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_root || finish
build_goserver || finish
for tool in podman runc busybox openssl; do
	command -v "$tool" >/dev/null || {
		fail "$tool is not installed (scripts/install-deps.sh installs it)"
		finish
	}
done

podman_setup || finish

# A CA of this test's own, and the API server's certificate for 127.0.0.1 signed by it
{
	openssl req -x509 -nodes -days 2 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-subj /CN=test-kubernetes-ca -keyout "$TMP/ca.key" -out "$TMP/ca.crt" &&
		openssl req -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj /CN=kube-apiserver \
			-keyout "$TMP/api.key" -out "$TMP/api.csr" &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\n' >"$TMP/api.ext" &&
		openssl x509 -req -in "$TMP/api.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" \
			-CAcreateserial -days 2 -extfile "$TMP/api.ext" -out "$TMP/api.crt"
} >"$TMP/openssl.log" 2>&1 || {
	fail "openssl could not make the certificates: $(tail -n 3 "$TMP/openssl.log")"
	finish
}
printf 'eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.obsprobe-test-token.sig\n' >"$TMP/token"
printf 'eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.somebody-else.sig\n' >"$TMP/wrong-token"

STATE=$TMP/api
API_PORT=$(free_port) || finish
MOCK=$ROOT/tests/fixtures/k8s_api.py
start_bg k8s-api "$PY" "$MOCK" serve --port "$API_PORT" --cert "$TMP/api.crt" \
	--key "$TMP/api.key" --token-file "$TMP/token" --state "$STATE" --ready "$TMP/api.ready"
await_ready "$TMP/api.ready" "the mock API server" k8s-api || finish
requests() { [[ -f $STATE/requests.log ]] && wc -l <"$STATE/requests.log" || echo 0; }
assert_eq "the mock checks the token" 401 "$(curl -s -o /dev/null -w '%{http_code}' \
	--cacert "$TMP/ca.crt" "https://127.0.0.1:$API_PORT/api/v1/pods")"

declare -A PORT PID CID
for s in cart catalog report; do
	PORT[$s]=$(free_port) || finish
done

# container NAME: the Go server in its own container, on PORT[NAME], naming no service itself
container() {
	local s=$1 id
	id=$("${PODMAN[@]}" run -d --network host --name "obs-$s" \
		-v /usr:/usr:ro -v /lib:/lib:ro -v /lib64:/lib64:ro -v /etc:/etc:ro \
		-v "$TMP:/srv:ro" localhost/obsprobe-test:1 \
		/srv/goserver -listen "127.0.0.1:${PORT[$s]}" 2>"$TMP/podman-$s.err") || {
		fail "podman run of $s failed: $(tail -n 3 "$TMP/podman-$s.err")"
		return 1
	}
	CID[$s]=$id
	wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/ready" || {
		fail "container $s does not answer"
		return 1
	}
	PID[$s]=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "obs-$s")
}

hit() { # hit NAME N
	local i
	for ((i = 0; i < $2; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:${PORT[$1]}/item/$i" || fail "curl to $1 failed"
	done
}

container cart || finish
container catalog || finish
"$PY" "$MOCK" owner "$STATE" ReplicaSet shop cart-7f9c6d5b8 Deployment cart
"$PY" "$MOCK" owner "$STATE" Job batch report-28571040 CronJob report
"$PY" "$MOCK" pod "$STATE" cart-7f9c6d5b8-q2x4z shop 6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b node-a \
	ReplicaSet cart-7f9c6d5b8 "cart=${CID[cart]}"
"$PY" "$MOCK" pod "$STATE" catalog-0 shop 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e node-a \
	StatefulSet catalog "catalog=${CID[catalog]}"
# a pod of another node: never reported to node-a
"$PY" "$MOCK" pod "$STATE" elsewhere shop 11111111-2222-4333-8444-555555555555 node-b - - \
	"x=$(printf '%064d' 7)"

export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$API_PORT
export OBSPROBE_K8S_CA_FILE=$TMP/ca.crt

# 1. No K8S_NODE_NAME: not one request to the API server
before=$(requests)
OBSPROBE_K8S_TOKEN_FILE=$TMP/token start_obsprobe --comm goserver --console json || finish
hit cart 2
wait_until 5 eval "(( \$(spans_count \"\$OBS_OUT\" kind=SERVER) >= 2 ))" || true
stop_obsprobe
assert_eq "without K8S_NODE_NAME: no request to the API server" "$before" "$(requests)"
assert_eq "without K8S_NODE_NAME: cart's spans have its container.id, no k8s.*" 2 \
	"$(spans_count "$OBS_OUT" kind=SERVER "res:container.id=${CID[cart]}" '!res:k8s.pod.name' \
		res:service.name=goserver)"
assert_lacks "without K8S_NODE_NAME: nothing said of kubernetes" "$OBS_ERR" "kubernetes"

# 2. A token the API server refuses: one line saying why, container.id still there
K8S_NODE_NAME=node-a OBSPROBE_K8S_TOKEN_FILE=$TMP/wrong-token start_obsprobe --comm goserver \
	--console json || finish
hit cart 2
# the first try and the retries 1 s and 2 s later
wait_until 6 eval "(( \$(grep -c '^401 ' \"$STATE/requests.log\") >= 3 ))" ||
	fail "obsprobe did not retry after the 401"
stop_obsprobe
assert_eq "wrong token: one line says why" 1 "$(grep -c 'kubernetes: no pod metadata' "$OBS_ERR")"
assert_contains "wrong token: the line names the refusal" "$OBS_ERR" \
	"answered HTTP 401 to the list of pods (the service-account token was refused)"
assert_eq "wrong token: cart's spans still have its container.id" 2 \
	"$(spans_count "$OBS_OUT" kind=SERVER "res:container.id=${CID[cart]}" '!res:k8s.pod.name')"

# 3. The real thing
K8S_NODE_NAME=node-a OBSPROBE_K8S_TOKEN_FILE=$TMP/token start_obsprobe --comm goserver \
	--console json || finish
OBS=$OBS_PID
wait_until 10 eval "(( \$(counter_sum obsprobe_k8s_pods) == 2 ))" ||
	fail "obsprobe does not hold node-a's 2 pods ($(counter_sum obsprobe_k8s_pods))"
assert_contains "it says where the metadata comes from" "$OBS_ERR" \
	"kubernetes: pod metadata of node node-a from https://127.0.0.1:$API_PORT: 2 pods"
hit cart 3
hit catalog 4
wait_until 5 eval "(( \$(metric_sum http_server_request_duration_seconds) >= 7 ))" || true
sleep 1.2
scrape "$OBS_METRICS" >"$TMP/metrics.txt" || fail "scrape failed"
assert_eq "cart: spans with its pod, namespace, container, deployment and service.name" 3 \
	"$(spans_count "$OBS_OUT" kind=SERVER "res:container.id=${CID[cart]}" \
		res:k8s.pod.name=cart-7f9c6d5b8-q2x4z res:k8s.namespace.name=shop \
		res:k8s.container.name=cart res:k8s.deployment.name=cart \
		res:k8s.replicaset.name=cart-7f9c6d5b8 res:k8s.node.name=node-a \
		res:k8s.pod.uid=6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b res:service.name=cart)"
assert_eq "catalog: spans with its pod, statefulset and service.name" 4 \
	"$(spans_count "$OBS_OUT" kind=SERVER "res:container.id=${CID[catalog]}" \
		res:k8s.pod.name=catalog-0 res:k8s.container.name=catalog \
		res:k8s.statefulset.name=catalog '!res:k8s.deployment.name' res:service.name=catalog)"
assert_eq "cart: its series' labels" 3 \
	"$(metric_sum http_server_request_duration_seconds "container_id=\"${CID[cart]}\"&&k8s_container_name=\"cart\",k8s_deployment_name=\"cart\",k8s_namespace_name=\"shop\",k8s_node_name=\"node-a\",k8s_pod_name=\"cart-7f9c6d5b8-q2x4z\",k8s_replicaset_name=\"cart-7f9c6d5b8\",service_name=\"cart\"" "$TMP/metrics.txt")"
assert_eq "catalog: its series' labels" 4 \
	"$(metric_sum http_server_request_duration_seconds "k8s_pod_name=\"catalog-0\",k8s_statefulset_name=\"catalog\",service_name=\"catalog\"" "$TMP/metrics.txt")"
assert_ge "cart: saturation series with its pod" \
	"$(grep -c "^process_thread_count{.*k8s_pod_name=\"cart-7f9c6d5b8-q2x4z\".*process_pid=\"${PID[cart]}\"" "$TMP/metrics.txt")" 1
assert_eq "no pod UID on series (one pod name is enough)" 0 "$(grep -c k8s_pod_uid "$TMP/metrics.txt")"

# mid-run: catalog's pod goes, report's container starts and its pod comes
ok_before=$(counter_sum obsprobe_k8s_api_requests_total 'outcome="ok"')
rm "$STATE/pods/catalog-0.json"
container report || finish
"$PY" "$MOCK" pod "$STATE" report-28571040-wq7zr batch c7d8e9f0-a1b2-4c3d-9e4f-5a6b7c8d9e0f \
	node-a Job report-28571040 "report=${CID[report]}"
if ! wait_until 10 grep -q 'jobs/report-28571040$' "$STATE/requests.log" ||
	! wait_until 5 eval "(( \$(counter_sum obsprobe_k8s_pods) == 2 ))"; then
	fail "the watch did not bring the deletion and the new pod ($(counter_sum obsprobe_k8s_pods) pods)"
fi
hit report 2
hit cart 1
wait_until 5 eval "(( \$(spans_count \"\$OBS_OUT\" kind=SERVER res:service.name=report) >= 2 ))" || true
sleep 1.2
scrape "$OBS_METRICS" >"$TMP/metrics2.txt" || fail "scrape failed"
assert_eq "report (started mid-run): spans with its pod, job, cronjob, service.name" 2 \
	"$(spans_count "$OBS_OUT" kind=SERVER "res:container.id=${CID[report]}" \
		res:k8s.pod.name=report-28571040-wq7zr res:k8s.namespace.name=batch \
		res:k8s.container.name=report res:k8s.job.name=report-28571040 \
		res:k8s.cronjob.name=report res:service.name=report)"
assert_eq "report: its series" 2 \
	"$(metric_sum http_server_request_duration_seconds "k8s_container_name=\"report\",k8s_cronjob_name=\"report\",k8s_job_name=\"report-28571040\",k8s_namespace_name=\"batch\"&&service_name=\"report\"" "$TMP/metrics2.txt")"
assert_eq "cart: still labelled" 4 \
	"$(metric_sum http_server_request_duration_seconds "k8s_deployment_name=\"cart\"&&service_name=\"cart\"" "$TMP/metrics2.txt")"
assert_eq "the pod of node-b was never held" 0 "$(grep -c elsewhere "$OBS_OUT")"
assert_ge "API requests counted (the Job's GET since)" \
	"$(counter_sum obsprobe_k8s_api_requests_total 'outcome="ok"' "$TMP/metrics2.txt")" "$((ok_before + 1))"
assert_eq "no API request failed" 0 \
	"$(counter_sum obsprobe_k8s_api_requests_total 'outcome="error"' "$TMP/metrics2.txt")"
assert_eq "one watch, never restarted" 0 \
	"$(counter_sum obsprobe_k8s_watch_restarts_total "" "$TMP/metrics2.txt")"
assert_eq "the ReplicaSet was asked for once" 1 \
	"$(grep -c 'replicasets/cart-7f9c6d5b8$' "$STATE/requests.log")"

# the watch ends quietly (the API server's timeout): watched again from where it was; it ends
# with a 410 (compacted): listed again, then watched
lists() { grep -c 'nodeName%3Dnode-a$' "$STATE/requests.log"; }
watches() { grep -c 'watch=1' "$STATE/requests.log"; }
lists_before=$(lists)
watches_before=$(watches)
touch "$STATE/close"
wait_until 5 eval "(( \$(watches) > $watches_before ))" || fail "no new watch after the close"
assert_eq "a closed watch is watched again, without a list" "$lists_before" "$(lists)"
wait_until 3 eval "(( \$(counter_sum obsprobe_k8s_watch_restarts_total) == 1 ))" ||
	fail "obsprobe_k8s_watch_restarts_total is not 1 after the close"
touch "$STATE/expire"
wait_until 5 eval "(( \$(lists) > $lists_before ))" || fail "no list after the 410"
wait_until 5 eval "(( \$(watches) > $watches_before + 1 ))" || fail "no watch after the relist"
"$PY" "$MOCK" pod "$STATE" catalog-0 shop 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e node-a \
	StatefulSet catalog "catalog=${CID[catalog]}"
wait_until 5 eval "(( \$(counter_sum obsprobe_k8s_pods) == 3 ))" ||
	fail "the watch after the relist did not bring catalog's pod back"
assert_eq "no API request failed, the 410 neither" 0 \
	"$(counter_sum obsprobe_k8s_api_requests_total 'outcome="error"')"
assert_lacks "no trouble said" "$OBS_ERR" "no pod metadata"
stop_obsprobe "$OBS" "$OBS_ERR"
finish

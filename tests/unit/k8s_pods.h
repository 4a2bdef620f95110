/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pods, ReplicaSets and Jobs shaped as a Kubernetes 1.27 API server returns them (fields the
 * parser does not read included, managedFields left out as `kubectl get -o json` leaves them),
 * for test_k8s_meta.c. Container ids are 64 hex digits, as the kubelet reports them.
 */
#ifndef OBSPROBE_TEST_K8S_PODS_H
#define OBSPROBE_TEST_K8S_PODS_H

#define ID_WEB "3f4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b"
#define ID_SIDECAR "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define ID_INIT "0000111122223333444455556666777788889999aaaabbbbccccddddeeeeffff"
#define ID_DB "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
#define ID_JOB "5555555555555555555555555555555555555555555555555555555555555555"
#define ID_BARE "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd"
#define ID_LATE "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"

#define UID_WEB "6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b"
#define UID_DB "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
#define UID_JOB "c7d8e9f0-a1b2-4c3d-9e4f-5a6b7c8d9e0f"
#define UID_BARE "11111111-2222-4333-8444-555555555555"
#define UID_PENDING "99999999-8888-4777-a666-555555555555"

/* A Deployment's pod: ReplicaSet web-7d9f8b6c5d, an init container, a sidecar (containerd). */
#define POD_WEB(containers)                                                                          \
	"{\"metadata\":{\"name\":\"web-7d9f8b6c5d-x2x4q\",\"generateName\":\"web-7d9f8b6c5d-\","     \
	"\"namespace\":\"shop\",\"uid\":\"" UID_WEB "\",\"resourceVersion\":\"48211\","              \
	"\"creationTimestamp\":\"2024-05-02T09:14:07Z\",\"labels\":{\"app\":\"web\","                \
	"\"pod-template-hash\":\"7d9f8b6c5d\"},\"annotations\":{\"kubectl.kubernetes.io/"            \
	"restartedAt\":\"2024-05-02T09:14:00Z\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","  \
	"\"kind\":\"ReplicaSet\",\"name\":\"web-7d9f8b6c5d\",\"uid\":\"e1f2a3b4-c5d6-4e7f-8a9b-"     \
	"0c1d2e3f4a5b\",\"controller\":true,\"blockOwnerDeletion\":true}]},"                         \
	"\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-8kq2p\",\"projected\":{\"sources\":[{"   \
	"\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}}],"                 \
	"\"defaultMode\":420}}],\"initContainers\":[{\"name\":\"migrate\",\"image\":\"shop/web:1.4"  \
	"\"}],\"containers\":[{\"name\":\"web\",\"image\":\"shop/web:1.4\",\"ports\":[{"             \
	"\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":{}},{\"name\":\"envoy\","       \
	"\"image\":\"envoyproxy/envoy:v1.29.1\"}],\"restartPolicy\":\"Always\",\"nodeName\":"        \
	"\"node-a\",\"serviceAccountName\":\"default\"},"                                            \
	"\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"," \
	"\"lastProbeTime\":null,\"lastTransitionTime\":\"2024-05-02T09:14:12Z\"}],\"hostIP\":"       \
	"\"10.0.0.11\",\"podIP\":\"10.244.1.23\",\"podIPs\":[{\"ip\":\"10.244.1.23\"}],"             \
	"\"startTime\":\"2024-05-02T09:14:07Z\",\"initContainerStatuses\":[{\"name\":\"migrate\","   \
	"\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\",\"startedAt\":"          \
	"\"2024-05-02T09:14:08Z\",\"finishedAt\":\"2024-05-02T09:14:09Z\",\"containerID\":"          \
	"\"containerd://" ID_INIT "\"}},\"lastState\":{},\"ready\":true,\"restartCount\":0,"         \
	"\"image\":\"docker.io/shop/web:1.4\",\"imageID\":\"docker.io/shop/web@sha256:"              \
	"4e3f\",\"containerID\":\"containerd://" ID_INIT "\"}],\"containerStatuses\":[" containers   \
	"],\"qosClass\":\"BestEffort\"}}"

#define STATUS_WEB                                                                                 \
	"{\"name\":\"web\",\"state\":{\"running\":{\"startedAt\":\"2024-05-02T09:14:10Z\"}},"      \
	"\"lastState\":{},\"ready\":true,\"restartCount\":0,\"image\":\"docker.io/shop/web:1.4\"," \
	"\"imageID\":\"docker.io/shop/web@sha256:4e3f\",\"containerID\":\"containerd://" ID_WEB    \
	"\",\"started\":true}"
#define STATUS_SIDECAR                                                                               \
	"{\"name\":\"envoy\",\"state\":{\"running\":{\"startedAt\":\"2024-05-02T09:14:10Z\"}},"      \
	"\"lastState\":{},\"ready\":true,\"restartCount\":0,\"image\":\"docker.io/envoyproxy/envoy:" \
	"v1.29.1\",\"imageID\":\"docker.io/envoyproxy/envoy@sha256:77aa\",\"containerID\":"          \
	"\"containerd://" ID_SIDECAR "\",\"started\":true}"
#define STATUS_SIDECAR_WAITING                                                                        \
	"{\"name\":\"envoy\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}},"             \
	"\"lastState\":{},\"ready\":false,\"restartCount\":0,\"image\":\"envoyproxy/envoy:v1.29.1\"," \
	"\"imageID\":\"\",\"started\":false}"

/* A StatefulSet's pod (CRI-O). */
#define POD_DB                                                                                       \
	"{\"metadata\":{\"name\":\"pg-0\",\"generateName\":\"pg-\",\"namespace\":\"data\","          \
	"\"uid\":\"" UID_DB "\",\"resourceVersion\":\"48302\",\"labels\":{\"app\":\"pg\","           \
	"\"apps.kubernetes.io/pod-index\":\"0\",\"statefulset.kubernetes.io/pod-name\":\"pg-0\"},"   \
	"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"name\":\"pg\"," \
	"\"uid\":\"d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a\",\"controller\":true,"                      \
	"\"blockOwnerDeletion\":true}]},\"spec\":{\"containers\":[{\"name\":\"postgres\","           \
	"\"image\":\"postgres:16\"}],\"hostname\":\"pg-0\",\"subdomain\":\"pg\",\"nodeName\":"       \
	"\"node-a\"},\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":"            \
	"\"postgres\",\"state\":{\"running\":{\"startedAt\":\"2024-05-01T20:01:44Z\"}},\"ready\":"   \
	"true,\"restartCount\":2,\"image\":\"docker.io/library/postgres:16\",\"imageID\":"           \
	"\"docker.io/library/postgres@sha256:91ab\",\"containerID\":\"cri-o://" ID_DB "\","          \
	"\"started\":true}]}}"

/* A CronJob's Job's pod (docker), finished. */
#define POD_JOB                                                                                        \
	"{\"metadata\":{\"name\":\"report-28571040-wq7zr\",\"generateName\":\"report-28571040-\","     \
	"\"namespace\":\"batch\",\"uid\":\"" UID_JOB "\",\"resourceVersion\":\"48400\","               \
	"\"labels\":{\"batch.kubernetes.io/controller-uid\":\"f0e1d2c3-b4a5-4968-8776-655443322110\"," \
	"\"batch.kubernetes.io/job-name\":\"report-28571040\",\"job-name\":\"report-28571040\"},"      \
	"\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":"                 \
	"\"report-28571040\",\"uid\":\"f0e1d2c3-b4a5-4968-8776-655443322110\",\"controller\":true,"    \
	"\"blockOwnerDeletion\":true}],\"finalizers\":[\"batch.kubernetes.io/job-tracking\"]},"        \
	"\"spec\":{\"containers\":[{\"name\":\"report\",\"image\":\"busybox:1.36\"}],"                 \
	"\"restartPolicy\":\"Never\",\"nodeName\":\"node-a\"},\"status\":{\"phase\":\"Succeeded\","    \
	"\"containerStatuses\":[{\"name\":\"report\",\"state\":{\"terminated\":{\"exitCode\":0,"       \
	"\"reason\":\"Completed\",\"containerID\":\"docker://" ID_JOB "\"}},\"ready\":false,"          \
	"\"restartCount\":0,\"image\":\"busybox:1.36\",\"imageID\":\"docker-pullable://busybox@"       \
	"sha256:5acb\",\"containerID\":\"docker://" ID_JOB "\",\"started\":false}]}}"

/* A bare pod: no owner. */
#define POD_BARE                                                                                    \
	"{\"metadata\":{\"name\":\"debug\",\"namespace\":\"default\",\"uid\":\"" UID_BARE "\","     \
	"\"resourceVersion\":\"48410\",\"labels\":{\"run\":\"debug\"}},\"spec\":{\"containers\":[{" \
	"\"name\":\"debug\",\"image\":\"busybox\"}],\"nodeName\":\"node-a\"},\"status\":{"          \
	"\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"debug\",\"state\":{\"running\":{" \
	"}},\"ready\":true,\"restartCount\":0,\"image\":\"busybox\",\"imageID\":\"\","              \
	"\"containerID\":\"containerd://" ID_BARE "\",\"started\":true}]}}"

/* Scheduled, its containers not created yet: no containerStatuses at all. */
#define POD_PENDING                                                                                      \
	"{\"metadata\":{\"name\":\"api-5c6d7e8f9a-abcde\",\"namespace\":\"shop\",\"uid\":\"" UID_PENDING \
	"\",\"resourceVersion\":\"48500\",\"ownerReferences\":[{\"apiVersion\":"                         \
	"\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"api-5c6d7e8f9a\",\"uid\":\"0a0a0a0a-1b1b-"       \
	"4c2c-8d3d-4e4e4e4e4e4e\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{"         \
	"\"containers\":[{\"name\":\"api\",\"image\":\"shop/api:2.0\"}],\"nodeName\":\"node-a\"},"       \
	"\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"       \
	"\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2024-05-02T10:00:00Z\"}],"             \
	"\"qosClass\":\"BestEffort\"}}"

#define POD_LIST(rv, items)                                                                   \
	"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"" rv \
	"\"},"                                                                                \
	"\"items\":[" items "]}"

#define EVENT(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}"

#define REPLICASET_WEB                                                                                \
	"{\"kind\":\"ReplicaSet\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":"                 \
	"\"web-7d9f8b6c5d\",\"namespace\":\"shop\",\"uid\":\"e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b\"," \
	"\"resourceVersion\":\"47000\",\"generation\":1,\"labels\":{\"app\":\"web\",\"pod-template-"  \
	"hash\":\"7d9f8b6c5d\"},\"annotations\":{\"deployment.kubernetes.io/desired-replicas\":"      \
	"\"1\",\"deployment.kubernetes.io/revision\":\"3\"},\"ownerReferences\":[{\"apiVersion\":"    \
	"\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"aa11bb22-cc33-4d44-8e55-"     \
	"ff6677889900\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{\"replicas\":1," \
	"\"selector\":{\"matchLabels\":{\"app\":\"web\"}}},\"status\":{\"replicas\":1,"               \
	"\"readyReplicas\":1,\"observedGeneration\":1}}"

#define JOB_REPORT                                                                                    \
	"{\"kind\":\"Job\",\"apiVersion\":\"batch/v1\",\"metadata\":{\"name\":\"report-28571040\","   \
	"\"namespace\":\"batch\",\"uid\":\"f0e1d2c3-b4a5-4968-8776-655443322110\","                   \
	"\"resourceVersion\":\"48390\",\"labels\":{\"job-name\":\"report-28571040\"},"                \
	"\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"name\":\"report\"," \
	"\"uid\":\"bb22cc33-dd44-4e55-9f66-001122334455\",\"controller\":true,"                       \
	"\"blockOwnerDeletion\":true}]},\"spec\":{\"completions\":1,\"parallelism\":1},"              \
	"\"status\":{\"succeeded\":1}}"

#endif /* OBSPROBE_TEST_K8S_PODS_H */

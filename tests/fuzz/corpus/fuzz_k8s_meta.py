#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_k8s_meta.c into tests/fuzz/corpus/fuzz_k8s_meta/.

Each seed is one byte (even: a pod list follows on the first line; odd: watch lines only) and
what the API server sends, shaped as tests/unit/k8s_pods.h: pod lists, watch streams with
ADDED, MODIFIED, DELETED, BOOKMARK and ERROR events, and ReplicaSet and Job objects (the
fuzzer answers owner GETs with the input itself). Run it again after changing them:
python3 tests/fuzz/corpus/fuzz_k8s_meta.py
"""
import json
import os

IDS = ["3f4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
       "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
       "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"]
UIDS = ["6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "c7d8e9f0-a1b2-4c3d-9e4f-5a6b7c8d9e0f"]


def owner(kind, name, api="apps/v1"):
    return [{"apiVersion": api, "kind": kind, "name": name,
             "uid": "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b", "controller": True,
             "blockOwnerDeletion": True}]


def status(name, cid, runtime="containerd"):
    s = {"name": name, "state": {"running": {"startedAt": "2024-05-02T09:14:10Z"}},
         "lastState": {}, "ready": True, "restartCount": 0, "image": "shop/web:1.4",
         "imageID": "docker.io/shop/web@sha256:4e3f", "started": True}
    if cid:
        s["containerID"] = f"{runtime}://{cid}"
    return s


def pod(name, ns, uid, owners, statuses, init=(), rv="48211"):
    meta = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv,
            "creationTimestamp": "2024-05-02T09:14:07Z", "labels": {"app": name}}
    if owners:
        meta["ownerReferences"] = owners
    st = {"phase": "Running", "hostIP": "10.0.0.11", "podIP": "10.244.1.23"}
    if statuses is not None:
        st["containerStatuses"] = statuses
    if init:
        st["initContainerStatuses"] = list(init)
    return {"metadata": meta, "spec": {"containers": [{"name": "web", "image": "shop/web:1.4"}],
                                       "nodeName": "node-a"}, "status": st}


WEB = pod("web-7d9f8b6c5d-x2x4q", "shop", UIDS[0], owner("ReplicaSet", "web-7d9f8b6c5d"),
          [status("web", IDS[0]), status("envoy", None)], init=[status("migrate", IDS[1])])
WEB2 = pod("web-7d9f8b6c5d-x2x4q", "shop", UIDS[0], owner("ReplicaSet", "web-7d9f8b6c5d"),
           [status("web", IDS[0]), status("envoy", IDS[1])], rv="48230")
DB = pod("pg-0", "data", UIDS[1], owner("StatefulSet", "pg"), [status("postgres", IDS[2], "cri-o")])
JOB = pod("report-28571040-wq7zr", "batch", UIDS[2], owner("Job", "report-28571040", "batch/v1"),
          [status("report", IDS[2], "docker")])
BARE = pod("debug", "default", UIDS[1], None, [status("debug", IDS[2])])
PENDING = pod("api-5c6d7e8f9a-abcde", "shop", UIDS[2], owner("ReplicaSet", "api-5c6d7e8f9a"), None)
RS = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
      "metadata": {"name": "web-7d9f8b6c5d", "namespace": "shop",
                   "ownerReferences": owner("Deployment", "web")}}
JOBOBJ = {"kind": "Job", "apiVersion": "batch/v1",
          "metadata": {"name": "report-28571040", "namespace": "batch",
                       "ownerReferences": owner("CronJob", "report", "batch/v1")}}


def podlist(*items, rv="48600"):
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
            "items": list(items)}


def ev(t, obj):
    return {"type": t, "object": obj}


BOOKMARK = ev("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                           "metadata": {"resourceVersion": "49000", "annotations": {
                               "k8s.io/initial-events-end": "true"}}})
GONE = ev("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "too old resource version: 48211 (49100)", "reason": "Expired",
                    "code": 410})


def lines(*objs):
    return "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objs)


SEEDS = {
    "list_all": "\x00" + lines(podlist(WEB, DB, JOB, BARE, PENDING)),
    "list_then_watch": "\x00" + lines(podlist(BARE), ev("ADDED", WEB), ev("MODIFIED", WEB2),
                                      BOOKMARK, ev("DELETED", WEB2), GONE),
    "watch_job": "\x01" + lines(ev("ADDED", JOB), ev("DELETED", JOB)),
    "watch_rs_answer": "\x01" + lines(ev("ADDED", WEB), RS),
    "watch_job_answer": "\x01" + lines(JOBOBJ, ev("ADDED", JOB)),
    "watch_pending": "\x01" + lines(ev("ADDED", PENDING), ev("MODIFIED", PENDING)),
    "bookmark_gone": "\x01" + lines(BOOKMARK, GONE),
    "list_empty": "\x00" + lines(podlist(rv="1")),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_k8s_meta")
os.makedirs(out, exist_ok=True)
for name, text in SEEDS.items():
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(text)

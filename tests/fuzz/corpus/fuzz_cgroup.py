#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_cgroup.c into tests/fuzz/corpus/fuzz_cgroup/.

Each seed is a /proc/PID/cgroup file: the cgroup path shapes tests/unit/test_cgroup.c checks
by hand, each in one of the three layouts (v2 alone, v1, hybrid: v1 and the v2 line), the files
read on the machine where this was written, and a file of broken lines. Run it again after
changing them: python3 tests/fuzz/corpus/fuzz_cgroup.py
"""
import os

ID_A = "1249645f5381312b77f426684ee47f71907f9d469678aa59ded56270ee4d80f5"
ID_B = "30f71ee8e156439b7e41591add802f04704692e14f9b2622b43fd5be98a2458b"
UID = "0fb97865-1c5c-4eb2-9539-06155b59927d"
UID_US = UID.replace("-", "_")

V1 = ["rdma", "pids", "memory", "cpu,cpuacct", "devices", "freezer", "blkio",
      "net_cls,net_prio", "perf_event", "hugetlb", "cpuset", "name=systemd"]


def v2(path):
    return f"0::{path}\n"


def v1(path):
    """as docker and the kubelet leave it: every hierarchy at path but rdma"""
    n = len(V1)
    return "".join(f"{n - i}:{c}:{'/' if c == 'rdma' else path}\n" for i, c in enumerate(V1))


def hybrid(path):
    return v1(path) + v2(path)


SYSTEMD_POD = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_US}.slice"

SEEDS = {
    "docker_cgroupfs": v1(f"/docker/{ID_A}"),
    "docker_systemd": hybrid(f"/system.slice/docker-{ID_A}.scope"),
    "containerd_besteffort": v1(f"/kubepods/besteffort/pod{UID}/{ID_A}"),
    "containerd_burstable": v2(f"/kubepods/burstable/pod{UID}/{ID_A}"),
    "containerd_guaranteed": hybrid(f"/kubepods/pod{UID}/{ID_A}"),
    "containerd_systemd": v2(f"{SYSTEMD_POD}/cri-containerd-{ID_A}.scope"),
    "containerd_systemd_guaranteed":
        hybrid(f"/kubepods.slice/kubepods-pod{UID_US}.slice/cri-containerd-{ID_A}.scope"),
    "crio_systemd": v2(f"{SYSTEMD_POD}/crio-{ID_A}.scope"),
    "crio_conmon": v2(f"{SYSTEMD_POD}/crio-conmon-{ID_A}.scope"),
    "crio_cgroupfs": v1(f"/kubepods/besteffort/pod{UID}/crio-{ID_A}"),
    "podman_cgroupfs": hybrid(f"/libpod_parent/libpod-{ID_A}"),
    "podman_machine": v2(f"/machine.slice/libpod-{ID_A}.scope"),
    "podman_rootless":
        v2(f"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID_A}.scope"),
    "podman_container_subgroup": v2(f"/machine.slice/libpod-{ID_A}.scope/container"),
    "podman_conmon": v2(f"/machine.slice/libpod-conmon-{ID_A}.scope"),
    "systemd_service": hybrid("/system.slice/nginx.service"),
    "systemd_session": v2("/user.slice/user-0.slice/session-3.scope"),
    "root": v2("/"),
    "docker_in_docker": v2(f"/docker/{ID_A}/docker/{ID_B}"),
    "kind": v2(f"/system.slice/docker-{ID_A}.scope/kubelet.slice/kubelet-kubepods.slice/"
               f"kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_US}.slice/"
               f"cri-containerd-{ID_B}.scope"),
    "v1_only_in_hybrid": v1(f"/docker/{ID_A}") + v2("/system.slice/containerd.service"),
    # cat /proc/self/cgroup and /proc/1/cgroup where this was written
    "this_machine_self": "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
                         "4:memory:/process_api/aba52a17427e39b670852187927d6124\n3:cpuset:/\n"
                         "2:cpuacct:/\n1:cpu:/\n0::/\n",
    "this_machine_init": "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
                         "4:memory:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n",
    "malformed": "no colons\n\n0:/one-colon\nx:cpu:/x\n0::relative\n"
                 f"1:cpu:/{'a' * 600}\n2:pids:/nul\0/{ID_A}\n"
                 f"3:memory:/docker/{ID_B[:63]}\n0::/docker/{ID_A}",
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_cgroup")
os.makedirs(here, exist_ok=True)
for name, text in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(text.encode())

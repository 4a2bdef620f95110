#!/bin/busybox sh
# shellcheck shell=dash
# The initramfs's /init (tests/kernels/run.sh builds it): loads the modules listed in
# /modules.order, mounts the host's root (9p, read-only) under a tmpfs overlay so that it is
# writable here, and the host's result directory (9p, tag "out"), runs /cmd there in the host's
# tree, writes its exit status to out/rc and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do
	insmod "/mod/$m.ko" || echo "init: insmod $m failed"
done </modules.order
mkdir -p /host /rw /new
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 host /host || poweroff -f
mount -t tmpfs -o size=75% rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /new || poweroff -f
OUT=$(cat /outdir)
mkdir -p "/new$OUT"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "/new$OUT" || poweroff -f
mount -t proc proc /new/proc
mount -t sysfs sys /new/sys
mount -t devtmpfs dev /new/dev
# what udev would add: bash's <(...) opens /dev/fd/N
ln -s /proc/self/fd /new/dev/fd
ln -s /proc/self/fd/0 /new/dev/stdin
ln -s /proc/self/fd/1 /new/dev/stdout
ln -s /proc/self/fd/2 /new/dev/stderr
mkdir -p /new/dev/pts /new/dev/shm
mount -t devpts devpts /new/dev/pts
mount -t tmpfs tmpfs /new/dev/shm
mount -t tmpfs tmpfs /new/run
mount -t bpf bpf /new/sys/fs/bpf
mount -t debugfs debugfs /new/sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /new/sys/fs/cgroup 2>/dev/null
ip link set lo up
hostname kernel-test
cp /cmd /new/kernel-test.cmd
chroot /new /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb /bin/bash /kernel-test.cmd >"/new$OUT/log" 2>&1
echo $? >"/new$OUT/rc"
sync
poweroff -f

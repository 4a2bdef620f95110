#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make test-kernels`: integration tests inside other kernels than the host's. Each kernel is a
# Debian package (by default linux-image-amd64, bookworm's 6.1, and linux-image-6.12-amd64),
# fetched with `apt-get download` into build/kernels/ and unpacked there, booted under
# `qemu-system-x86_64 -accel tcg` (KVM does not work on these machines) with a busybox-static
# initramfs (tests/kernels/init.sh) that mounts the host's root read-only over 9p under a
# tmpfs overlay, and runs tests/run.sh there against this tree's build: the same binary, the
# same tests, another kernel. Emulation is slow: every wait of the tests is stretched
# (TIME_SCALE), and only pass/fail counts, never a timing.
#
# Environment: KERNELS (Debian packages, metapackages resolved), KERNEL_TESTS (a regex of
# tests/run.sh step names; default: a representative subset), TIME_SCALE (10), KERNEL_MEM (3G),
# KERNEL_SMP (1), KERNEL_TIMEOUT (seconds per kernel, 1500), KERNEL_CMD (run this instead of
# the tests).
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
BUILD=$(realpath -m "${BUILD:-build}")
KERNELS=${KERNELS:-linux-image-amd64 linux-image-6.12-amd64}
# socket tracepoints and exact counts (nginx), the OpenSSL uprobes (https_nginx, tls_exact),
# the scheduler and process hooks (sched_threads), PostgreSQL (pg_pipeline); and each hook's
# fallback beside its preferred variant (@fallback: tp_btf, bpf_loop, uprobe_push, fentry hidden);
# and what obsprobe does without tracefs, BTF, a hook or ring buffers (faults_env; with fentry, it
# runs there on fexit even without tracefs)
KERNEL_TESTS=${KERNEL_TESTS:-^integration/(nginx|https_nginx|sched_threads|pg_pipeline|tls_exact|faults_env)(@fallback)?$}
TIME_SCALE=${TIME_SCALE:-10}
KERNEL_MEM=${KERNEL_MEM:-3G}
# one CPU: with two, 6.12 once took an int3 oops inside its own tracepoint patching
# (text_poke_bp on mm_trace_rss_stat) under QEMU 7.2's multi-threaded emulation
KERNEL_SMP=${KERNEL_SMP:-1}
KERNEL_TIMEOUT=${KERNEL_TIMEOUT:-1500}
CACHE=$BUILD/kernels
MODULES=(virtio_pci 9pnet_virtio 9p overlay)

say() { printf 'test-kernels: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

for tool in qemu-system-x86_64 busybox apt-get dpkg-deb xz; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
[[ -x $BUILD/obsprobe ]] || die "$BUILD/obsprobe does not exist: run make first"
mkdir -p "$CACHE"

# The package a metapackage stands for (itself when it is a kernel image already).
resolve() {
	local dep
	dep=$(apt-cache depends "$1" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	echo "${dep:-$1}"
}

# unpack PKG: build/kernels/PKG/ holds the package's files; its kernel release in REL.
unpack() {
	local pkg=$1 dir=$CACHE/$1 deb
	if [[ ! -d $dir/boot ]]; then
		deb=$(ls "$CACHE"/"${pkg}"_*.deb 2>/dev/null | head -n 1)
		if [[ -z $deb ]]; then
			(cd "$CACHE" && apt-get download "$pkg") >&2 || return 1
			deb=$(ls "$CACHE"/"${pkg}"_*.deb | head -n 1)
		fi
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" && dpkg-deb -x "$deb" "$dir.tmp" &&
			mv "$dir.tmp" "$dir" || return 1
	fi
	REL=$(ls "$dir/lib/modules" | head -n 1)
	[[ -n $REL && -f $dir/boot/vmlinuz-$REL ]]
}

# The modules name needs, then name, each once, from the .ko files' own depends= field.
declare -A SEEN
ORDER=()
module_path() { find "$1" \( -name "$2.ko" -o -name "$2.ko.xz" \) -print -quit; }
add_module() {
	local tree=$1 name=$2 ko deps d
	[[ -n ${SEEN[$name]:-} ]] && return 0
	SEEN[$name]=1
	ko=$(module_path "$tree" "$name")
	[[ -n $ko ]] || ko=$(module_path "$tree" "${name//_/-}")
	[[ -n $ko ]] || return 0 # built in
	if [[ $ko == *.xz ]]; then # 6.12 ships them compressed; busybox's insmod takes them plain
		xz -dc "$ko" >"$INITRD_DIR/mod/$name.ko" || return 1
	else
		cp "$ko" "$INITRD_DIR/mod/$name.ko"
	fi
	deps=$(grep -a -o 'depends=[A-Za-z0-9_,-]*' "$INITRD_DIR/mod/$name.ko" | head -n 1)
	deps=${deps#depends=}
	for d in ${deps//,/ }; do
		add_module "$tree" "$d"
	done
	ORDER+=("$name")
}

# run_kernel PKG: boots it and runs the tests; 0 when they all pass.
run_kernel() {
	local pkg out rc cmd
	pkg=$(resolve "$1")
	say "$pkg: fetching and unpacking"
	unpack "$pkg" || { say "$pkg: cannot fetch or unpack"; return 1; }
	INITRD_DIR=$CACHE/$pkg.initrd
	rm -rf "$INITRD_DIR"
	mkdir -p "$INITRD_DIR"/{bin,mod,proc,sys,dev,tmp}
	cp "$(command -v busybox)" "$INITRD_DIR/bin/busybox"
	cp "$ROOT/tests/kernels/init.sh" "$INITRD_DIR/init"
	chmod +x "$INITRD_DIR/init"
	SEEN=()
	ORDER=()
	for m in "${MODULES[@]}"; do
		add_module "$CACHE/$pkg/lib/modules/$REL" "$m"
	done
	printf '%s\n' "${ORDER[@]}" >"$INITRD_DIR/modules.order"
	out=$(mktemp -d "/tmp/obsprobe-kernel-$REL.XXXXXX")
	echo "$out" >"$INITRD_DIR/outdir"
	cmd="cd '$ROOT' && BUILD='$BUILD' ONLY='$KERNEL_TESTS' TIME_SCALE=$TIME_SCALE"
	cmd+=" KEEP_TMP=failed bash tests/run.sh; rc=\$?; uname -r; exit \$rc"
	cmd=${KERNEL_CMD:-$cmd} # KERNEL_CMD: another command, to look into the guest by hand
	echo "$cmd" >"$INITRD_DIR/cmd"
	(cd "$INITRD_DIR" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$CACHE/$pkg.initrd.gz"
	say "$pkg: booting $REL (tcg, $KERNEL_MEM), tests matching $KERNEL_TESTS"
	timeout -k 10 "$KERNEL_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp "$KERNEL_SMP" -m "$KERNEL_MEM" \
		-nographic -no-reboot -kernel "$CACHE/$pkg/boot/vmlinuz-$REL" \
		-initrd "$CACHE/$pkg.initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet rdinit=/init" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$out,mount_tag=out,security_model=none" \
		</dev/null >"$out/console" 2>&1
	rc=$(cat "$out/rc" 2>/dev/null)
	sed "s/^/    [$REL] /" "$out/log" 2>/dev/null | grep -E '^\s+\[[^]]*\] (PASS|FAIL|==|[0-9]+ passed|failed:)'
	# a pass needs at least one test run: a pattern that matches none passes nothing
	[[ $rc == 0 ]] && ! grep -qE '^[1-9][0-9]* passed, 0 failed$' "$out/log" 2>/dev/null &&
		[[ -z ${KERNEL_CMD:-} ]] && rc="0, but no test ran"
	if [[ $rc != 0 ]]; then
		say "$pkg ($REL): FAILED (status ${rc:-none: the guest did not finish}); console and log in $out"
		tail -n 20 "$out/console" | sed "s/^/    [$REL console] /"
		return 1
	fi
	say "$pkg ($REL): passed"
	[[ -z ${KERNEL_CMD:-} ]] || cat "$out/log"
	rm -rf "$out"
}

failed=0
for k in $KERNELS; do
	run_kernel "$k" || failed=$((failed + 1))
done
((failed == 0))

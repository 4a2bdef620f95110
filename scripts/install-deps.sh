#!/usr/bin/env bash
# Installs every build, run, test and bench dependency of obsprobe from Debian packages.
# Idempotent: packages already present are left as they are.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: must run as root (try: sudo $0)" >&2
	exit 1
fi

PKGS=(
	# build
	make gcc clang llvm libclang-rt-14-dev pkg-config bpftool libbpf-dev libelf-dev libdw-dev
	zlib1g-dev libdeflate-dev libcapstone-dev libcurl4-openssl-dev protobuf-c-compiler libprotobuf-c-dev libjson-c-dev
	# tests and bench
	libcmocka-dev python3.11 nginx-light openssl curl wget wrk prometheus golang-go procps iproute2
	golang-github-prometheus-client-golang-dev libbpf-tools bpftrace
	# deploy/prometheus and deploy/grafana's test reads their YAML (deploy_prometheus.sh)
	python3-yaml
	# HTTPS tests: a server linked against OpenSSL statically (libssl.a), wget on GnuTLS
	libssl-dev libgnutls30
	# PostgreSQL tests and bench: the server 15 (initdb, postgres and pgbench, all three from
	# postgresql-15), psql and pg_isready, libpq (whose functions obsprobe probes), Go's lib/pq
	# driver (built in GOPATH mode), Python's psycopg2 (a libpq client in a thread-per-request
	# HTTP server)
	postgresql postgresql-client libpq5 golang-github-lib-pq-dev python3-psycopg2
	# the trace test's Go service (tests/fixtures/ginapp): gin, and pgx v4 with its pool
	golang-github-gin-gonic-gin-dev golang-github-jackc-pgx-v4-dev
	# node-wide tests: services in real containers (podman with runc; an image imported from a
	# busybox root, the host's /usr and /lib bound in)
	podman runc busybox-static
	# HTTP/2 tests: gRPC over h2c (tests/fixtures/grpc: Python's grpcio, its C core speaking
	# HTTP/2, no generated code; tests/fixtures/grpcgo: grpc-go, built in GOPATH mode)
	python3-grpcio golang-google-grpc-dev
	# bench/http2.sh: nghttp2's load generator, h2load
	nghttp2-client
	# the logs test's Go service (tests/fixtures/golog): logrus, in GOPATH mode
	golang-github-sirupsen-logrus-dev
	# bench/cost.sh: obsprobe --replay under callgrind
	valgrind
	# other kernels (tests/kernels/run.sh): Debian's kernel packages booted under emulation,
	# with a busybox-static initramfs (busybox-static is above)
	qemu-system-x86
)

# The OTLP tests decode with the official protos from the npm registry: node and npm from
# Debian unless the machine already has them (a newer node from elsewhere is kept).
command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

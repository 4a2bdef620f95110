#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Installs what tests/k8s/validate.js validates Kubernetes manifests with, from the npm
# registry, into a cache under the build folder, and prints that folder (what validate.js
# takes with --npm): kubernetes-models (the Kubernetes 1.27 OpenAPI schemas, compiled for
# ajv), @kubernetes-models/prometheus-operator (PodMonitor and the operator's other kinds) and
# yaml. Versions are pinned, of the 4.x line (5.x needs node 22; bookworm's nodejs is 18). A
# complete install is reused; a broken one is installed again.
#
#	tests/k8s/setup.sh [DIR]     (default: $BUILD/npm-k8s, BUILD defaulting to build/)
set -euo pipefail

PKGS=(kubernetes-models@4.5.1 @kubernetes-models/prometheus-operator@4.4.4 yaml@2.9.1)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD:-build}
[[ "$BUILD_DIR" == /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
DIR=${1:-$BUILD_DIR/npm-k8s}

# ok: every package at its pinned version, and each loads
ok() {
	node -e '
		const { createRequire } = require("module");
		const req = createRequire(process.argv[1] + "/node_modules/_");
		for (const spec of process.argv.slice(2)) {
			const at = spec.lastIndexOf("@");
			const name = spec.slice(0, at), version = spec.slice(at + 1);
			if (req(name + "/package.json").version !== version)
				process.exit(1);
		}
		const op = "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
		if (!req("kubernetes-models/apps/v1").DaemonSet || !req(op).PodMonitor ||
		    !req("yaml").parseAllDocuments)
			process.exit(1);' "$DIR" "${PKGS[@]}" >/dev/null 2>&1
}

if ! ok; then
	command -v node >/dev/null || { echo "setup.sh: node is not installed" >&2; exit 1; }
	command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; exit 1; }
	mkdir -p "$DIR"
	# a lock: two tests may set up at once
	exec 9>"$DIR/.lock"
	flock -w 300 9 || { echo "setup.sh: $DIR/.lock is held" >&2; exit 1; }
	if ! ok; then
		rm -rf "$DIR/node_modules" "$DIR/package.json" "$DIR/package-lock.json"
		if ! timeout 300 npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
			"${PKGS[@]}" >"$DIR/npm.log" 2>&1; then
			echo "setup.sh: npm install ${PKGS[*]} failed:" >&2
			tail -n 20 "$DIR/npm.log" >&2
			exit 1
		fi
		if ! ok; then
			echo "setup.sh: ${PKGS[*]} missing or unusable after npm install" >&2
			exit 1
		fi
	fi
fi
echo "$DIR"

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
# shellcheck source=tests/npm.sh
. "$ROOT/tests/npm.sh"

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

npm_setup "$DIR" ok "${PKGS[@]}" || exit 1
echo "$DIR"

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Installs the independent OTLP decoder's dependency, @opentelemetry/otlp-transformer (the
# official OTLP protos compiled by protobufjs), from the npm registry into a cache under the
# build folder, and prints that folder (what tests/otlp/decode.js takes with --npm). A
# complete install is reused; a broken one is installed again.
#
#	tests/otlp/setup.sh [DIR]     (default: build/npm-otlp of this repo)
set -euo pipefail

PKG=@opentelemetry/otlp-transformer
VERSION=0.52.1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$ROOT/build/npm-otlp}
# shellcheck source=tests/npm.sh
. "$ROOT/tests/npm.sh"
GEN=$DIR/node_modules/$PKG/build/src/generated/root.js

ok() {
	[[ -f "$GEN" ]] &&
		node -e 'const p = require(process.argv[1] + "/package.json");
			 if (p.version !== process.argv[2]) process.exit(1);
			 const r = require(process.argv[3]);
			 if (!r.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest) process.exit(1);' \
			"$DIR/node_modules/$PKG" "$VERSION" "$GEN" >/dev/null 2>&1
}

npm_setup "$DIR" ok "$PKG@$VERSION" || exit 1
echo "$DIR"

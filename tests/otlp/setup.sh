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
GEN=$DIR/node_modules/$PKG/build/src/generated/root.js

ok() {
	[[ -f "$GEN" ]] &&
		node -e 'const p = require(process.argv[1] + "/package.json");
			 if (p.version !== process.argv[2]) process.exit(1);
			 const r = require(process.argv[3]);
			 if (!r.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest) process.exit(1);' \
			"$DIR/node_modules/$PKG" "$VERSION" "$GEN" >/dev/null 2>&1
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
			"$PKG@$VERSION" >"$DIR/npm.log" 2>&1; then
			echo "setup.sh: npm install $PKG@$VERSION failed:" >&2
			tail -n 20 "$DIR/npm.log" >&2
			exit 1
		fi
		ok || { echo "setup.sh: $GEN missing or unusable after npm install" >&2; exit 1; }
	fi
fi
echo "$DIR"

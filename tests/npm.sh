# shellcheck shell=bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# npm_setup DIR OK SPEC...: makes sure the npm packages SPEC (name@version) are installed under
# DIR (a cache in the build folder) and usable, as the function OK (no arguments) says, installing
# them from the npm registry when they are not; under a lock, since two tests may set up at once.
# Returns 0, or 1 with why on stderr. Sourced by tests/otlp/setup.sh and tests/k8s/setup.sh.
npm_setup() {
	local dir=$1 ok=$2
	shift 2
	"$ok" && return 0
	command -v node >/dev/null || { echo "setup.sh: node is not installed" >&2; return 1; }
	command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; return 1; }
	mkdir -p "$dir"
	exec 9>"$dir/.lock"
	flock -w 300 9 || { echo "setup.sh: $dir/.lock is held" >&2; return 1; }
	"$ok" && return 0
	rm -rf "$dir/node_modules" "$dir/package.json" "$dir/package-lock.json"
	if ! timeout 300 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$@" \
		>"$dir/npm.log" 2>&1; then
		echo "setup.sh: npm install $* failed:" >&2
		tail -n 20 "$dir/npm.log" >&2
		return 1
	fi
	"$ok" || { echo "setup.sh: $* missing or unusable after npm install" >&2; return 1; }
}

#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# deploy/kubernetes/ and deploy/Dockerfile, checked offline: no cluster, no image registry.
#
# Manifests: every document validates against the Kubernetes 1.27 OpenAPI schemas
# (kubernetes-models, and the Prometheus Operator's for the PodMonitor, from npm through
# tests/k8s/setup.sh) with unknown fields refused (tests/k8s/validate.js), and broken copies
# (a misspelled field, a wrong type, a missing required field or image, an unknown kind, a
# bad enum, an unquoted `off`, a duplicate key) are each refused with the expected message:
# the validator can fail. tests/k8s/check_deploy.js then checks what obsprobe relies on (args,
# one port everywhere, capabilities, host mounts, RBAC, the kustomization lists every file,
# the Dockerfile's entrypoint), and is shown to fail on broken copies too. When kubectl is
# installed, `kubectl kustomize` must render the set and its output validate.
#
# Dockerfile (not built: its base image comes from a registry): every package it installs is
# a Debian bookworm package (apt-cache madison); the build stage's packages (with their
# dependencies and the base image's required packages) provide every tool `make all` runs,
# every header it compiles with and every library it links, in a build context made as
# .dockerignore makes it; the runtime stage names the package of every library
# $BUILD/obsprobe names (readelf NEEDED), and its packages and their dependencies provide
# every library ldd lists (each mapped to its package by dpkg -S). Each of these checks is
# shown to fail too: on an unknown package, a runtime stage without libcapstone4, a build
# stage without libcapstone-dev. $BUILD/obsprobe must be built (BUILD: default build).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

K8S=$ROOT/tests/k8s
KDIR=$ROOT/deploy/kubernetes
DOCKERFILE=$ROOT/deploy/Dockerfile
BUILD_DIR=${BUILD:-build}
[[ "$BUILD_DIR" == /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR

if ! NPM=$("$K8S/setup.sh" 2>"$TMP/setup.err"); then
	fail "tests/k8s/setup.sh failed (npm install of kubernetes-models)"
	sed 's/^/    | /' "$TMP/setup.err" | head -n 20
	exit 1
fi

validate() { node "$K8S/validate.js" --npm "$NPM" "$@"; }

# forward FILE: counts the PASS and FAIL lines of check_deploy.js's output in FILE
forward() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS "*) pass "${line#PASS }" ;;
		"FAIL "*) fail "${line#FAIL }" ;;
		*) log "$line" ;;
		esac
	done <"$1"
}

# --- the manifests as they are
MANIFESTS=()
for f in "$KDIR"/*.yaml; do
	[[ "$(basename "$f")" == kustomization.yaml ]] || MANIFESTS+=("$f")
done
validate "${MANIFESTS[@]}" >"$TMP/valid.out" 2>&1
rc=$?
assert_eq "validate.js accepts every manifest (exit status)" 0 "$rc"
while read -r verdict at rest; do
	case $verdict in
	ok) pass "valid: ${at#"$ROOT"/} $rest" ;;
	*) fail "invalid: ${at#"$ROOT"/} $rest" ;;
	esac
done <"$TMP/valid.out"

node "$K8S/check_deploy.js" --npm "$NPM" check "$ROOT" >"$TMP/check.out" 2>&1
rc=$?
assert_eq "check_deploy.js ran to the end (exit status)" 0 "$rc"
forward "$TMP/check.out"

# --- broken copies the validator must refuse

# rejects DESC FILE SED-EXPR EXPECTED: a copy of FILE edited by SED-EXPR must fail
# validate.js with a message containing EXPECTED (checked by check_rejected, which validates
# every copy in one run).
N_BROKEN=0
R_DESC=()
R_COPY=()
R_WANT=()
rejects() {
	local desc=$1 file=$KDIR/$2 expr=$3 want=$4 copy
	N_BROKEN=$((N_BROKEN + 1))
	mkdir -p "$TMP/broken/$N_BROKEN"
	copy=$TMP/broken/$N_BROKEN/$2
	sed -e "$expr" "$file" >"$copy"
	if cmp -s "$file" "$copy"; then
		fail "broken copy ($desc): '$expr' changed nothing in $2"
		return
	fi
	R_DESC+=("$desc in $2")
	R_COPY+=("$copy")
	R_WANT+=("$want")
}

check_rejected() {
	local i rc lines
	validate "${R_COPY[@]}" >"$TMP/broken.out" 2>&1
	rc=$?
	assert_eq "validate.js fails on the broken copies (exit status)" 1 "$rc"
	for i in "${!R_COPY[@]}"; do
		lines=$(grep -F -- "${R_COPY[i]}#" "$TMP/broken.out")
		if grep -q '^error ' <<<"$lines" && ! grep -q '^ok ' <<<"$lines" &&
			grep -qF -- "${R_WANT[i]}" <<<"$lines"; then
			pass "refused: ${R_DESC[i]} (${R_WANT[i]})"
		else
			fail "not refused as expected: ${R_DESC[i]}: wanted '${R_WANT[i]}'," \
				"got: ${lines:-nothing}"
		fi
	done
}

rejects "misspelled field (hostPid)" daemonset.yaml 's/^\( *\)hostPID:/\1hostPid:/' \
	"unknown field spec.template.spec.hostPid"
rejects "misspelled nested field" daemonset.yaml \
	's/readOnlyRootFilesystem:/readOnlyRootFileSystem:/' \
	"unknown field spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"
rejects "containerPort as a string" daemonset.yaml 's/containerPort: 9464/containerPort: "9464"/' \
	"containers/0/ports/0/containerPort must be integer"
rejects "a container without image" daemonset.yaml '/^ *image: /d' \
	"containers[0] (obsprobe) has no image"
rejects "an unquoted off (a boolean to Kubernetes' YAML 1.1)" daemonset.yaml 's/- "off"/- off/' \
	"containers/0/args/4 must be string"
rejects "an imagePullPolicy that does not exist" daemonset.yaml 's/IfNotPresent/IfNotPresnt/' \
	"imagePullPolicy must be equal to one of the allowed values"
rejects "a memory quantity in MB" daemonset.yaml 's/memory: 320Mi/memory: 320MB/' \
	'limits/memory must match format "quantity"'
rejects "an unknown kind" daemonset.yaml 's/^kind: DaemonSet$/kind: DaemonSett/' \
	'unknown kind: apiVersion "apps/v1" kind "DaemonSett"'
rejects "an unknown apiVersion" daemonset.yaml 's|^apiVersion: apps/v1$|apiVersion: apps/v1beta9|' \
	'unknown kind: apiVersion "apps/v1beta9" kind "DaemonSet"'
rejects "a Service port without its required port" service.yaml '/^ *port: 9464$/d' \
	"ports/0 must have required property port"
rejects "verbs as a string" clusterrole.yaml '0,/verbs: \[get, list, watch\]/s//verbs: get/' \
	"rules/0/verbs must be array"
rejects "a ConfigMap value that is a number" configmap.yaml \
	's/OTEL_EXPORTER_OTLP_TIMEOUT: "10000"/OTEL_EXPORTER_OTLP_TIMEOUT: 10000/' \
	"data/OTEL_EXPORTER_OTLP_TIMEOUT must be string"
rejects "misspelled PodMonitor field" podmonitor.yaml \
	's/podMetricsEndpoints:/podMetricEndpoints:/' \
	"unknown field spec.podMetricEndpoints"
rejects "a duplicate key" namespace.yaml \
	's|^\( *\)\(pod-security.kubernetes.io/warn:\) privileged|&\n\1\2 baseline|' \
	"Map keys must be unique"
check_rejected

# --- broken copies check_deploy.js must refuse

# refuses DESC FILE SED-EXPR EXPECTED: in a copy of the tree whose FILE (under deploy/) is
# edited by SED-EXPR, check_deploy.js must print a FAIL line containing EXPECTED (the copies
# are checked at once, by check_refused).
F_DESC=()
F_TREE=()
F_WANT=()
F_PIDS=()
refuses() {
	local desc=$1 file=$2 expr=$3 want=$4 tree
	N_BROKEN=$((N_BROKEN + 1))
	tree=$TMP/broken/$N_BROKEN
	mkdir -p "$tree"
	cp -a "$ROOT/deploy" "$tree/"
	sed -i -e "$expr" "$tree/deploy/$file"
	if cmp -s "$ROOT/deploy/$file" "$tree/deploy/$file"; then
		fail "broken copy ($desc): '$expr' changed nothing in $file"
		return
	fi
	node "$K8S/check_deploy.js" --npm "$NPM" check "$tree" >"$tree/check.out" 2>&1 &
	track_pid $!
	F_PIDS+=($!)
	F_DESC+=("$desc")
	F_TREE+=("$tree")
	F_WANT+=("$want")
}

check_refused() {
	local i
	for i in "${!F_PIDS[@]}"; do
		wait "${F_PIDS[i]}"
	done
	for i in "${!F_TREE[@]}"; do
		if grep '^FAIL ' "${F_TREE[i]}/check.out" | grep -qF -- "${F_WANT[i]}"; then
			pass "check_deploy.js refuses ${F_DESC[i]} (${F_WANT[i]})"
		else
			fail "check_deploy.js does not refuse ${F_DESC[i]}:" \
				"no FAIL line with '${F_WANT[i]}'"
			grep '^FAIL' "${F_TREE[i]}/check.out" | head -n 5 | sed 's/^/    | /'
		fi
	done
}

refuses "SYS_ADMIN added" kubernetes/daemonset.yaml 's/^\( *\)- BPF$/&\n\1- SYS_ADMIN/' \
	"capabilities: add exactly"
refuses "privileged: true" kubernetes/daemonset.yaml \
	's/^\( *\)readOnlyRootFilesystem: true/&\n\1privileged: true/' \
	"the container is not privileged"
refuses "a container port that is not --prometheus's" kubernetes/daemonset.yaml \
	's/containerPort: 9464/containerPort: 9465/' "the container port named metrics"
refuses "a PodMonitor on another port name" kubernetes/podmonitor.yaml \
	's/- port: metrics/- port: http/' \
	"the PodMonitor scrapes /metrics"
refuses "a manifest missing from kustomization.yaml" kubernetes/kustomization.yaml \
	'/service.yaml/d' \
	"every YAML file in deploy/kubernetes is in kustomization.yaml"
refuses "a kustomization resource that does not exist" kubernetes/kustomization.yaml \
	's/- podmonitor.yaml/&\n  - servicemonitor.yaml/' \
	"every resource of kustomization.yaml exists"
refuses "no get on pods" kubernetes/clusterrole.yaml \
	'0,/verbs: \[get, list, watch\]/s//verbs: [list, watch]/' \
	"grants get, list, watch on pods"
refuses "an ENTRYPOINT elsewhere" Dockerfile 's|^ENTRYPOINT .*|ENTRYPOINT ["/usr/bin/obsprobe"]|' \
	"the ENTRYPOINT is"
check_refused

# --- kustomize renders the set (kubectl's built-in kustomize, offline), and what it renders
# validates
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
	if kubectl kustomize "$KDIR" >"$TMP/rendered.yaml" 2>"$TMP/kustomize.err"; then
		pass "kubectl kustomize deploy/kubernetes renders"
		validate "$TMP/rendered.yaml" >"$TMP/rendered.out" 2>&1
		rc=$?
		assert_eq "what kustomize renders validates (exit status)" 0 "$rc"
		assert_eq "kustomize renders one document per manifest" "${#MANIFESTS[@]}" \
			"$(grep -c '^ok ' "$TMP/rendered.out")"
	else
		fail "kubectl kustomize deploy/kubernetes failed: $(head -n 3 "$TMP/kustomize.err")"
	fi
else
	log "kubectl is not installed: the kustomize rendering is not checked"
fi

# --- the Dockerfile's packages

# apt_stage N: the packages the Dockerfile's stage N installs, one a line
apt_stage() { node "$K8S/check_deploy.js" --npm "$NPM" apt-packages "$DOCKERFILE" "$1"; }
mapfile -t BUILD_PKGS < <(apt_stage 0)
mapfile -t RUN_PKGS < <(apt_stage 1)
assert_ge "the build stage installs packages" "${#BUILD_PKGS[@]}" 1
assert_ge "the runtime stage installs packages" "${#RUN_PKGS[@]}" 1

# apt_unknown PKG...: the PKGs that are no package of Debian bookworm, one a line. From one
# apt-cache madison for all (apt-cache show would also take this machine's other sources,
# nodesource's or Google's), keeping the versions of a bookworm suite (bookworm,
# bookworm-updates, bookworm-security).
apt_unknown() {
	local p
	apt-cache madison "$@" 2>/dev/null |
		awk -F'|' '$3 ~ / bookworm(-updates|-security)?\// {
			gsub(/ /, "", $1)
			print $1
		}' |
		sort -u >"$TMP/apt.known"
	for p in "$@"; do
		grep -qxF -- "$p" "$TMP/apt.known" || echo "$p"
	done
}

codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
assert_eq "this machine is Debian bookworm" bookworm "$codename"
apt_unknown "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}" >"$TMP/apt.unknown"
for p in "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}"; do
	if grep -qxF -- "$p" "$TMP/apt.unknown"; then
		fail "apt-cache madison $p: no such package in Debian bookworm"
	else
		pass "apt-cache madison $p: a Debian bookworm package"
	fi
done
assert_eq "apt_unknown names the packages that are not bookworm's (libbpf-1, kubectl)" \
	"libbpf-1 kubectl" "$(apt_unknown libbpf1 libbpf-1 kubectl | paste -sd' ')"

# What the base images hold: debian:bookworm and debian:bookworm-slim are both minbase
# debootstraps, the Essential and required packages and what they depend on (libc6 among it).
mapfile -t base < <(dpkg-query -W -f='${Package} ${Priority} ${Essential}\n' |
	awk '$2 == "required" || $3 == "yes" { print $1 }')

# The dependency graph of every package named here, one apt-cache depends: "PKG DEP" lines,
# DEP one of PKG's Depends or Pre-Depends (what apt-get install --no-install-recommends brings);
# both alternatives of an "a | b" and every package providing a virtual one count.
apt-cache depends --recurse --important "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}" "${base[@]}" \
	2>/dev/null | awk '
	/^[^ <]/ { p = $1; virt = 0; next }
	/^ [ |](Pre)?Depends: / {
		virt = ($NF ~ /^</)
		if (!virt)
			print p, $NF
		next
	}
	/^    [^ ]/ && virt { print p, $1 }' >"$TMP/deps.graph"

# closure PKG...: PKG and everything it depends on (deps.graph), one a line
closure() {
	awk -v roots="$*" '
		{ adj[$1] = adj[$1] " " $2 }
		END {
			n = split(roots, q, " ")
			for (i = 1; i <= n; i++)
				seen[q[i]] = 1
			for (i = 1; i <= n; i++) {
				m = split(adj[q[i]], d, " ")
				for (j = 1; j <= m; j++)
					if (!(d[j] in seen)) {
						seen[d[j]] = 1
						q[++n] = d[j]
					}
			}
			for (p in seen)
				print p
		}' "$TMP/deps.graph" | sort -u
}
closure "${base[@]}" >"$TMP/base.pkgs"
assert_true "libc6 is in the base images" grep -qx libc6 "$TMP/base.pkgs"

# installed FILE PKG...: into FILE, what a stage installing PKG holds: PKG, its dependencies
# and the base image's packages
installed() {
	local out=$1
	shift
	closure "$@" | sort -u - "$TMP/base.pkgs" >"$out"
}
installed "$TMP/build.closure" "${BUILD_PKGS[@]}"
installed "$TMP/run.closure" "${RUN_PKGS[@]}"

# _variants PATH...: each PATH, then it with /usr taken off or added, one a line
_variants() {
	local v
	for v in "$@"; do
		echo "$v"
		if [[ "$v" == /usr/* ]]; then echo "${v#/usr}"; else echo "/usr$v"; fi
	done
}

# owners FILE...: "FILE PACKAGE" per FILE (PACKAGE "-" when no package owns it), from one
# dpkg -S, trying each path as given, normalised, resolved, each with /usr added or taken off
# (merged /usr: dpkg knows some libraries under /lib).
owners() {
	local f v line pkg i
	local -a norm res
	local -A owner=()
	mapfile -t norm < <(realpath -ms -- "$@")
	mapfile -t res < <(realpath -m -- "$@")
	while IFS= read -r line; do
		# "pkg1:arch, pkg2:arch: /path"; diversions ("diversion by ...") are skipped
		[[ "$line" == diversion* ]] && continue
		pkg=${line%%: *}
		pkg=${pkg%%,*}
		owner[${line##*: }]=${pkg%%:*}
	done < <(for ((i = 1; i <= $#; i++)); do
		_variants "${!i}" "${norm[i - 1]}" "${res[i - 1]}"
	done | sort -u | xargs -r dpkg -S 2>/dev/null)
	for ((i = 1; i <= $#; i++)); do
		f=${!i}
		pkg=-
		while IFS= read -r v; do
			[[ -n "${owner[$v]:-}" ]] && { pkg=${owner[$v]}; break; }
		done < <(_variants "$f" "${norm[i - 1]}" "${res[i - 1]}")
		echo "$f $pkg"
	done
}

# coverage WHAT INSTALLED OWNERS: whether the packages of INSTALLED (a file, one a line)
# hold every file of OWNERS (a file of "FILE PACKAGE" lines): "ok WHAT: PKG ... provides
# FILES" per package, "bad WHAT: ..." per file left out.
coverage() {
	local what=$1 f p
	local -A in=() ok=()
	while read -r p; do in[$p]=1; done <"$2"
	while read -r f p; do
		if [[ "$p" == - ]]; then
			echo "bad $what: no package owns $f"
		elif [[ -n "${in[$p]:-}" ]]; then
			ok[$p]+="${ok[$p]:+, }${f##*/}"
		else
			echo "bad $what: $f is $p's, which the stage does not install"
		fi
	done <"$3"
	for p in "${!ok[@]}"; do
		echo "ok $what: $p (the stage or its base image installs it) provides ${ok[$p]}"
	done
}

# report FILE: "ok ..." lines of FILE pass, "bad ..." lines fail
report() {
	local verdict rest
	while read -r verdict rest; do
		if [[ "$verdict" == ok ]]; then pass "$rest"; else fail "$rest"; fi
	done <"$1"
}

# fails_on DESC FILE WANT: FILE (a report) has a "bad" line containing WANT: the check whose
# report it is can fail
fails_on() {
	if grep '^bad ' "$2" | grep -qF -- "$3"; then
		pass "$1: refused ($3)"
	else
		fail "$1: not refused, no 'bad' line with '$3'"
	fi
}

# without PKG LIST...: LIST less PKG, one a line
without() {
	local drop=$1
	shift
	printf '%s\n' "$@" | grep -vxF -- "$drop"
}

# --- runtime stage: the libraries build/obsprobe loads

# The libraries obsprobe opens itself (dlopen) when it needs them, by soname: the x86 decoder
# (user/process/x86sites.c) and libcurl (user/util/curl_lib.c). Neither ldd nor DT_NEEDED shows
# them.
DLOPENED=(libcapstone.so.4 libcurl.so.4)

# needed_report NAMED: per library $BIN names itself (DT_NEEDED, and DLOPENED), whether NAMED
# (a file of packages, one a line) names its package
needed_report() {
	local soname path pkg
	while read -r soname; do
		path=$(awk -v s="$soname" '$1 == s && $2 == "=>" { print $3 }' "$TMP/ldd.out")
		pkg=$(awk -v f="$path" '$1 == f { print $2 }' "$TMP/libs.owners")
		if [[ -n "$pkg" ]] && grep -qxF -- "$pkg" "$1"; then
			echo "ok runtime stage names $pkg, for $soname (NEEDED or dlopen)"
		else
			echo "bad runtime stage does not name the package of $soname (NEEDED or dlopen):" \
				"'${pkg:-?}'"
		fi
	done < <(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
		printf '%s\n' "${DLOPENED[@]}")
}

BIN=$BUILD_DIR/obsprobe
if [[ ! -x "$BIN" ]]; then
	fail "$BIN does not exist: build it first (make BUILD=$BUILD_DIR all)"
else
	ldd "$BIN" >"$TMP/ldd.out" 2>&1
	assert_lacks "ldd finds every library $BIN needs" "$TMP/ldd.out" "not found"
	# the ones it opens itself: named in it, and found where ld.so would find them
	for so in "${DLOPENED[@]}"; do
		if grep -qaF "$so" "$BIN"; then
			pass "$BIN names $so, which it opens itself"
		else
			fail "$BIN no longer names $so: update DLOPENED"
		fi
		path=$(ldconfig -p | awk -v s="$so" '$1 == s && /x86-64/ { print $NF; exit }')
		if [[ -n "$path" ]]; then
			echo "	$so => $path (dlopen)" >>"$TMP/ldd.out"
		else
			fail "ld.so finds no $so, which $BIN opens itself"
		fi
	done
	mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
		"$TMP/ldd.out" | sort -u)
	assert_ge "ldd lists libraries" "${#libs[@]}" 5
	owners "${libs[@]}" >"$TMP/libs.owners"
	coverage runtime "$TMP/run.closure" "$TMP/libs.owners" >"$TMP/run.report"
	report "$TMP/run.report"
	# each NEEDED library's package named in the runtime stage (or in the base image)
	printf '%s\n' "${RUN_PKGS[@]}" | sort -u - "$TMP/base.pkgs" >"$TMP/run.named"
	needed_report "$TMP/run.named" >"$TMP/needed.report"
	report "$TMP/needed.report"

	# and both checks refuse a runtime stage without libcapstone4
	mapfile -t less < <(without libcapstone4 "${RUN_PKGS[@]}")
	installed "$TMP/run-less.closure" "${less[@]}"
	coverage runtime "$TMP/run-less.closure" "$TMP/libs.owners" >"$TMP/run-less.report"
	fails_on "a runtime stage without libcapstone4" "$TMP/run-less.report" "libcapstone.so.4"
	printf '%s\n' "${less[@]}" | sort -u - "$TMP/base.pkgs" >"$TMP/run-less.named"
	needed_report "$TMP/run-less.named" >"$TMP/needed-less.report"
	fails_on "a runtime stage without libcapstone4 (NEEDED or dlopen)" "$TMP/needed-less.report" \
		"libcapstone.so.4"
fi

# --- build stage: tools, headers and libraries of `make all`, in the build context
# .dockerignore makes: '*', then the paths it lets back in ("!PATH")
CTX=$TMP/context
mkdir -p "$CTX"
first=$(grep -v '^\s*\(#\|$\)' "$ROOT/.dockerignore" | head -n 1)
assert_eq ".dockerignore excludes everything first, then lets paths in" "*" "$first"
while read -r p; do
	cp -a "$ROOT/${p%/}" "$CTX/" || fail ".dockerignore lets in $p, which does not exist"
done < <(sed -n 's/^!//p' "$ROOT/.dockerignore")
CTX_BUILD=$TMP/context-build
# as a fresh make (under `make test`, MAKELEVEL and MAKEFLAGS would make it print
# "make[1]: Entering directory" lines among the commands)
if (cd "$CTX" && env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS make --no-print-directory -n \
	BUILD="$CTX_BUILD" all) >"$TMP/make-n.out" 2>"$TMP/make-n.err"; then
	pass "make -n all finds every file it needs in the build context"
else
	fail "make -n all in the build context: $(tail -n 3 "$TMP/make-n.err")"
fi
assert_lacks "make all's commands in the build context name nothing outside it" \
	"$TMP/make-n.out" "$ROOT"

# the tools: the first word of each command make runs, and make and pkg-config themselves
tools=(make pkg-config)
while read -r w; do
	tools+=("$w")
done < <(awk 'NF { print $1 }' "$TMP/make-n.out" | sort -u)
files=()
for t in "${tools[@]}"; do
	if p=$(type -P "$t"); then files+=("$p"); else fail "build tool $t is not on PATH"; fi
done

# the headers: each compile command of make's, as -M, against the headers $BUILD_DIR generated
# (the protobuf-c and skeleton headers); system headers only (outside the context and build)
if [[ -d "$BUILD_DIR/gen" ]]; then
	mkdir -p "$TMP/deps"
	n=0
	jobs_max=$(nproc)
	while IFS= read -r cmd; do
		cmd=${cmd//"$CTX_BUILD"/"$BUILD_DIR"}
		cmd=$(sed -e 's/ -o [^ ]*//' -e 's/ -c / -M /' <<<"$cmd")
		n=$((n + 1))
		echo "$cmd" >"$TMP/deps/$n.cmd"
		(cd "$CTX" && eval "$cmd") >"$TMP/deps/$n.d" 2>"$TMP/deps/$n.err" &
		(($(jobs -rp | wc -l) < jobs_max)) || wait -n
	done < <(grep -E '^(cc|gcc|clang) .* -c ' "$TMP/make-n.out")
	wait
	for ((i = 1; i <= n; i++)); do
		[[ -s "$TMP/deps/$i.d" && ! -s "$TMP/deps/$i.err" ]] ||
			fail "headers of: $(cat "$TMP/deps/$i.cmd"):" \
				"$(head -n 3 "$TMP/deps/$i.err")"
	done
	assert_ge "every compile command's headers listed" "$n" 30
	mapfile -t headers < <(cat "$TMP/deps"/*.d | tr ' ' '\n' | grep '^/' |
		grep -v -e "^$CTX/" -e "^$BUILD_DIR/" | sort -u)
	assert_ge "system headers found" "${#headers[@]}" 20
	files+=("${headers[@]}")
else
	fail "$BUILD_DIR/gen does not exist: build first (make BUILD=$BUILD_DIR all)"
fi

# the libraries the link names (-lX), as the linker finds them
nlibs=0
link_libs=$(grep -E -- '-o [^ ]*/obsprobe( |$)' "$TMP/make-n.out" | tr ' ' '\n' | sed -n 's/^-l//p')
for l in $link_libs; do
	# (glibc 2.34 and later have no libpthread.so: its libpthread.a is empty)
	p=$(cc -print-file-name="lib$l.so")
	[[ "$p" == /* ]] || p=$(cc -print-file-name="lib$l.a")
	if [[ "$p" == /* ]]; then
		files+=("$p")
		nlibs=$((nlibs + 1))
	else
		fail "the linker finds no lib$l"
	fi
done
assert_ge "the link names libraries" "$nlibs" 5

owners "${files[@]}" >"$TMP/build.owners"
coverage build "$TMP/build.closure" "$TMP/build.owners" >"$TMP/build.report"
report "$TMP/build.report"
# and the check refuses a build stage without libcapstone-dev
mapfile -t less < <(without libcapstone-dev "${BUILD_PKGS[@]}")
installed "$TMP/build-less.closure" "${less[@]}"
coverage build "$TMP/build-less.closure" "$TMP/build.owners" >"$TMP/build-less.report"
fails_on "a build stage without libcapstone-dev" "$TMP/build-less.report" "capstone.h"


# --- the DaemonSet's own arguments parse with this obsprobe (--version ends the run once they
# are read: an unknown flag or a bad value fails first)
mapfile -t DS_ARGS < <("$PY" -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "DaemonSet":
        for c in d["spec"]["template"]["spec"]["containers"]:
            print("\n".join(c.get("args", [])))' "$ROOT/deploy/kubernetes/daemonset.yaml")
assert_ge "the DaemonSet has arguments" "${#DS_ARGS[@]}" 2
"$OBSPROBE" "${DS_ARGS[@]}" --version >"$TMP/ds-args.out" 2>"$TMP/ds-args.err"
assert_eq "obsprobe ${DS_ARGS[*]}: its flags parse (exit status)" 0 "$?"
assert_contains "obsprobe ${DS_ARGS[*]} --version prints the version" "$TMP/ds-args.out" "obsprobe "

finish

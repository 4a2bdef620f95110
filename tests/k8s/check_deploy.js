// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// What deploy/kubernetes/ and deploy/Dockerfile must say about obsprobe, beyond schema
// validity (tests/k8s/validate.js): one "PASS what" or "FAIL what" line per check, for
// tests/integration/deploy_kubernetes.sh to count.
//
//	node tests/k8s/check_deploy.js --npm DIR check ROOT
//	node tests/k8s/check_deploy.js --npm DIR apt-packages DOCKERFILE STAGE
//
// apt-packages prints the packages the Dockerfile's stage STAGE (0 is the first FROM) installs
// with apt-get install, one a line.
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const { execFileSync } = require("child_process");

const argv = process.argv.slice(2);
if (argv[0] !== "--npm" || argv.length < 4) {
	process.stderr.write("usage: check_deploy.js --npm DIR check ROOT | " +
			     "apt-packages DOCKERFILE STAGE\n");
	process.exit(2);
}
const req = createRequire(path.join(path.resolve(argv[1]), "node_modules", "_"));
const YAML = req("yaml");

// The capabilities obsprobe runs with (deploy/kubernetes/daemonset.yaml says why each).
const CAPS = ["BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH", "SYS_RESOURCE"];
const NAME_LABEL = "app.kubernetes.io/name";

function pass(msg) {
	console.log(`PASS ${msg}`);
}
function fail(msg) {
	console.log(`FAIL ${msg}`);
}
function expect(ok, msg, detail) {
	if (ok)
		pass(msg);
	else
		fail(detail === undefined ? msg : `${msg}: ${detail}`);
}
const show = (v) => JSON.stringify(v);
const sameSet = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

// --- Dockerfile: continuation lines joined, comments dropped, one instruction per entry.
function dockerfile(file) {
	const lines = fs.readFileSync(file, "utf8").split("\n");
	const out = [];
	let cur = "";
	for (const raw of lines) {
		if (!cur && /^\s*#/.test(raw))
			continue;
		if (/^\s*#/.test(raw))
			continue; // a comment inside a continued instruction
		if (/\\\s*$/.test(raw)) {
			cur += raw.replace(/\\\s*$/, " ");
			continue;
		}
		cur += raw;
		if (cur.trim())
			out.push(cur.trim());
		cur = "";
	}
	if (cur.trim())
		out.push(cur.trim());
	const stages = [];
	for (const ins of out) {
		const m = /^(\S+)\s*(.*)$/s.exec(ins);
		const op = m[1].toUpperCase(), rest = m[2];
		if (op === "FROM")
			stages.push({ from: rest, ins: [] });
		if (stages.length)
			stages[stages.length - 1].ins.push({ op, rest });
	}
	return stages;
}

// The packages of every `apt-get install` in a stage's RUN instructions.
function aptPackages(stage) {
	const pkgs = [];
	for (const { op, rest } of stage.ins) {
		if (op !== "RUN")
			continue;
		for (const cmd of rest.split(/&&|;|\|\|/)) {
			// (VAR=value words before the command are not packages)
			const words = cmd.trim().split(/\s+/)
				.filter((w) => !/^[A-Za-z_]+=/.test(w));
			const apt = words.findIndex((w) => /^(\S*\/)?apt(-get)?$/.test(w));
			const at = words.indexOf("install", apt);
			if (apt < 0 || at < 0)
				continue;
			pkgs.push(...words.slice(at + 1).filter((w) => !w.startsWith("-")));
		}
	}
	return pkgs;
}

function jsonArray(rest) {
	try {
		const v = JSON.parse(rest);
		return Array.isArray(v) && v.every((s) => typeof s === "string") ? v : null;
	} catch (e) {
		return null;
	}
}

if (argv[2] === "apt-packages") {
	const stages = dockerfile(argv[3]);
	const stage = stages[Number(argv[4])];
	if (!stage) {
		process.stderr.write(`check_deploy.js: ${argv[3]} has no stage ${argv[4]}\n`);
		process.exit(1);
	}
	for (const p of aptPackages(stage))
		console.log(p);
	process.exit(0);
}
if (argv[2] !== "check") {
	process.stderr.write(`check_deploy.js: unknown command ${argv[2]}\n`);
	process.exit(2);
}

const root = path.resolve(argv[3]);
const kdir = path.join(root, "deploy", "kubernetes");
const load = (f) => YAML.parseAllDocuments(fs.readFileSync(f, "utf8"), { version: "1.1" })
	.map((d) => d.toJS()).filter((d) => d);

// --- kustomization.yaml: it lists every manifest, and only files that exist.
const kust = load(path.join(kdir, "kustomization.yaml"))[0] || {};
expect(kust.apiVersion === "kustomize.config.k8s.io/v1beta1" && kust.kind === "Kustomization",
       "kustomization.yaml is a kustomize.config.k8s.io/v1beta1 Kustomization",
       `${kust.apiVersion} ${kust.kind}`);
const extraKeys = Object.keys(kust).filter((k) => !["apiVersion", "kind", "resources"].includes(k));
expect(!extraKeys.length, "kustomization.yaml has only apiVersion, kind and resources",
       extraKeys.join());
const resources = Array.isArray(kust.resources) ? kust.resources : [];
const missing = resources.filter((r) => !fs.existsSync(path.join(kdir, r)));
expect(resources.length && !missing.length,
       `every resource of kustomization.yaml exists (${resources.length})`,
       `missing: ${missing.join(", ") || "(none listed)"}`);
expect(new Set(resources).size === resources.length, "kustomization.yaml lists each resource once");
const yamls = fs.readdirSync(kdir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
const unlisted = yamls.filter((f) => !resources.includes(f));
expect(!unlisted.length,
       `every YAML file in deploy/kubernetes is in kustomization.yaml (${yamls.length})`,
       `not listed: ${unlisted.join(", ")}`);

const docs = [];
for (const r of resources.filter((r) => fs.existsSync(path.join(kdir, r))))
	for (const d of load(path.join(kdir, r)))
		docs.push(d);
const byKind = (kind) => docs.filter((d) => d.kind === kind);
const one = (kind) => {
	const all = byKind(kind);
	expect(all.length === 1, `exactly one ${kind}`, `${all.length}`);
	return all[0] || {};
};
const ns = one("Namespace");
const sa = one("ServiceAccount");
const role = one("ClusterRole");
const binding = one("ClusterRoleBinding");
const cm = one("ConfigMap");
const ds = one("DaemonSet");
const svc = one("Service");
const pm = one("PodMonitor");
const nsName = (ns.metadata || {}).name;

for (const d of docs) {
	const md = d.metadata || {};
	const what = `${d.kind}/${md.name}`;
	if (!["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(d.kind))
		expect(md.namespace === nsName, `${what} is in the namespace ${nsName}`,
		       md.namespace);
	expect((md.labels || {})[NAME_LABEL] === "obsprobe",
	       `${what} is labelled ${NAME_LABEL}: obsprobe`);
}

// --- DaemonSet
const spec = ds.spec || {};
const tmpl = spec.template || {};
const podLabels = (tmpl.metadata || {}).labels || {};
const pod = tmpl.spec || {};
const containers = pod.containers || [];
expect(containers.length === 1, "the DaemonSet runs one container", `${containers.length}`);
const c = containers[0] || {};
const args = c.args || [];
const argAfter = (flag) => {
	const i = args.indexOf(flag);
	return i >= 0 ? args[i + 1] : undefined;
};
const subset = (sel, labels) => Object.keys(sel || {}).length > 0 &&
	Object.entries(sel).every(([k, v]) => labels[k] === v);

expect(subset((spec.selector || {}).matchLabels, podLabels),
       "the DaemonSet's selector matches its pod template's labels");
expect(podLabels[NAME_LABEL] === "obsprobe", `the pods are labelled ${NAME_LABEL}: obsprobe`);
expect(args.includes("--all"), "the container's args contain --all", show(args));
expect(argAfter("--console") === "off", "the container's args say --console off", show(args));
const prom = argAfter("--prometheus") || "";
const pm_ = /^0\.0\.0\.0:([0-9]+)$/.exec(prom);
expect(pm_, "--prometheus listens on 0.0.0.0:PORT (every address of the pod)", prom);
const port = pm_ ? Number(pm_[1]) : NaN;
expect(port === 9464, "the metrics port is 9464", `${port}`);

const ports = c.ports || [];
const metricsPort = ports.find((p) => p.name === "metrics");
expect(metricsPort && metricsPort.containerPort === port,
       `the container port named metrics is --prometheus's port (${port})`, show(ports));
const probePort = (probe) => ((probe || {}).httpGet || {}).port;
for (const [name, probe, p] of [["livenessProbe", c.livenessProbe, "/healthz"],
				["readinessProbe", c.readinessProbe, "/readyz"]]) {
	const get = (probe || {}).httpGet || {};
	expect(get.path === p, `the ${name} gets ${p}`, show(get));
	expect(probePort(probe) === "metrics" || probePort(probe) === port,
	       `the ${name} uses the metrics port`, show(get.port));
}

const ann = (tmpl.metadata || {}).annotations || {};
expect(ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] === String(port) &&
       ann["prometheus.io/path"] === "/metrics",
       "the pod template has prometheus.io scrape annotations for the metrics port", show(ann));

expect(pod.hostPID === true, "hostPID is true", show(pod.hostPID));
expect(pod.hostNetwork !== true, "hostNetwork is not set", show(pod.hostNetwork));
expect(pod.priorityClassName === "system-node-critical",
       "priorityClassName is system-node-critical", show(pod.priorityClassName));
expect((pod.tolerations || []).some((t) => t.operator === "Exists" && !t.key && !t.effect),
       "a toleration with operator Exists alone: every node", show(pod.tolerations));
const us = spec.updateStrategy || {};
expect(us.type === "RollingUpdate" && (us.rollingUpdate || {}).maxUnavailable !== undefined,
       "updateStrategy is RollingUpdate with maxUnavailable", show(us));
expect(c.image === "obsprobe:0.1" && c.imagePullPolicy === "IfNotPresent",
       "the image is obsprobe:0.1, pulled IfNotPresent", `${c.image} ${c.imagePullPolicy}`);
expect(pod.serviceAccountName === (sa.metadata || {}).name,
       "the pods run as the ServiceAccount", show(pod.serviceAccountName));

const sc = c.securityContext || {};
const caps = sc.capabilities || {};
expect(sc.privileged === undefined || sc.privileged === false, "the container is not privileged",
       show(sc.privileged));
expect(sameSet(caps.drop || [], ["ALL"]), "capabilities: drop ALL", show(caps.drop));
expect(sameSet(caps.add || [], CAPS) && new Set(caps.add).size === CAPS.length,
       `capabilities: add exactly ${CAPS.join(", ")}`, show(caps.add));
expect(sc.allowPrivilegeEscalation === false, "allowPrivilegeEscalation is false");
expect(sc.readOnlyRootFilesystem === true, "readOnlyRootFilesystem is true");

const volumes = pod.volumes || [];
const mounts = c.volumeMounts || [];
const hostMount = (hostPath) => {
	const v = volumes.find((x) => (x.hostPath || {}).path === hostPath);
	return v && mounts.find((m) => m.name === v.name);
};
const tracefs = hostMount("/sys/kernel/tracing");
expect(tracefs && tracefs.mountPath === "/sys/kernel/tracing",
       "the host's /sys/kernel/tracing is mounted at /sys/kernel/tracing", show(tracefs));
const cgroup = hostMount("/sys/fs/cgroup");
expect(cgroup && cgroup.readOnly === true, "the host's /sys/fs/cgroup is mounted read-only",
       show(cgroup));
const procMounts = volumes.filter((v) => /^\/proc(\/|$)/.test((v.hostPath || {}).path || ""));
expect(!procMounts.length, "no hostPath of /proc (hostPID gives the host's)", show(procMounts));
const unmounted = volumes.filter((v) => !mounts.some((m) => m.name === v.name));
expect(!unmounted.length, "every volume is mounted", show(unmounted));

const env = c.env || [];
const node = env.find((e) => e.name === "K8S_NODE_NAME");
expect(node && ((node.valueFrom || {}).fieldRef || {}).fieldPath === "spec.nodeName",
       "K8S_NODE_NAME comes from the downward API (spec.nodeName)", show(node));
expect((c.envFrom || []).some((e) => (e.configMapRef || {}).name === (cm.metadata || {}).name),
       "the container's environment comes from the ConfigMap (envFrom)", show(c.envFrom));

// resources: requests and limits, the memory limit above --memory-limit
const res = c.resources || {};
const mib = (q) => {
	const m = /^([0-9.]+)(Ki|Mi|Gi|K|M|G|k)?$/.exec(String(q));
	if (!m)
		return NaN;
	const f = { Ki: 1 / 1024, Mi: 1, Gi: 1024, k: 1e3 / 1048576, K: 1e3 / 1048576,
		    M: 1e6 / 1048576, G: 1e9 / 1048576 };
	return Number(m[1]) * (m[2] ? f[m[2]] : 1 / 1048576);
};
const req_ = res.requests || {}, lim = res.limits || {};
expect(req_.cpu && req_.memory && lim.cpu && lim.memory,
       "resources: cpu and memory requests and limits", show(res));
const flagLimit = argAfter("--memory-limit");
const fl = /^([0-9]+)([KMG])$/.exec(flagLimit || "");
// the flag's M read as MiB, the larger of the two readings
const flagMiB = fl ? Number(fl[1]) * { K: 1 / 1024, M: 1, G: 1024 }[fl[2]] : NaN;
expect(flagMiB > 0 && flagMiB < mib(lim.memory),
       `--memory-limit (${flagLimit}) is below the container's memory limit (${lim.memory})`);
expect(mib(req_.memory) <= mib(lim.memory), "the memory request is not above the limit");

// The command: a shell that appends the ConfigMap's OBSPROBE_EXTRA_ARGS, split into words with
// globbing off, to args, and execs obsprobe. Run it here with printf in obsprobe's place.
const cmd = c.command || [];
const bin = "/usr/local/bin/obsprobe";
expect(cmd.length === 4 && cmd[0] === "/bin/sh" && cmd[1] === "-c" &&
       cmd[2].includes(`exec ${bin} `),
       `the command is a /bin/sh -c that execs ${bin}`, show(cmd));
const argvOf = (extra) => {
	if (cmd.length !== 4)
		return null;
	const script = cmd[2].replace(`exec ${bin} `, "exec /usr/bin/printf '%s\\n' ");
	const env_ = { PATH: "/usr/bin:/bin" };
	if (extra !== undefined)
		env_.OBSPROBE_EXTRA_ARGS = extra;
	const out = execFileSync("/bin/sh", ["-c", script, cmd[3], ...args],
				 { env: env_, cwd: "/" });
	return out.toString().split("\n").slice(0, -1);
};
const cmData = cm.data || {};
expect(Object.prototype.hasOwnProperty.call(cmData, "OBSPROBE_EXTRA_ARGS"),
       "the ConfigMap has OBSPROBE_EXTRA_ARGS");
const asShipped = argvOf(cmData.OBSPROBE_EXTRA_ARGS);
const extraWords = String(cmData.OBSPROBE_EXTRA_ARGS || "").split(/\s+/).filter((w) => w);
expect(show(asShipped) === show([...args, ...extraWords]),
       "obsprobe gets args and the ConfigMap's OBSPROBE_EXTRA_ARGS", show(asShipped));
const extra = "--exclude comm=kubelet  --exclude comm=*";
expect(show(argvOf(extra)) === show([...args, "--exclude", "comm=kubelet", "--exclude", "comm=*"]),
       "OBSPROBE_EXTRA_ARGS is split on blanks and not globbed", show(argvOf(extra)));
expect(show(argvOf(undefined)) === show(args), "no OBSPROBE_EXTRA_ARGS: obsprobe gets args alone");

// --- ConfigMap: environment names only, OTEL_* as obsprobe reads them
const badKeys = Object.keys(cmData).filter((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
expect(!badKeys.length, "every ConfigMap key is an environment variable name", badKeys.join());
expect(!("OTEL_SERVICE_NAME" in cmData), "the ConfigMap does not set OTEL_SERVICE_NAME " +
       "(it would name every process on the node)");
const ra = cmData.OTEL_RESOURCE_ATTRIBUTES || "";
expect(/(^|,)deployment\.environment=[^,]+/.test(ra) && !/(^|,)\s*service\.name=/.test(ra),
       "OTEL_RESOURCE_ATTRIBUTES sets deployment.environment, not service.name", ra);
const ep = cmData.OTEL_EXPORTER_OTLP_ENDPOINT;
expect(ep === "" || /^https?:\/\/./.test(ep || ""),
       "OTEL_EXPORTER_OTLP_ENDPOINT is set, empty (no OTLP export) or an http(s) URL", show(ep));

// --- Service and PodMonitor: the same port, by name
const sspec = svc.spec || {};
expect(sspec.clusterIP === "None", "the Service is headless");
const sport = (sspec.ports || []).find((p) => p.name === "metrics");
expect(sport && sport.port === port &&
       (sport.targetPort === "metrics" || sport.targetPort === port),
       `the Service's port metrics is ${port}, to the container's metrics port`,
       show(sspec.ports));
expect(subset(sspec.selector, podLabels), "the Service selects the DaemonSet's pods");
const pmspec = pm.spec || {};
expect(pm.apiVersion === "monitoring.coreos.com/v1", "the PodMonitor is monitoring.coreos.com/v1");
expect(subset((pmspec.selector || {}).matchLabels, podLabels),
       "the PodMonitor selects the DaemonSet's pods");
const eps = pmspec.podMetricsEndpoints || [];
expect(eps.length && eps.every((e) => e.port === (metricsPort || {}).name &&
				  (e.path || "/metrics") === "/metrics"),
       "the PodMonitor scrapes /metrics on the container port named metrics", show(eps));

// --- RBAC: read-only, pods among it, bound to the ServiceAccount
const rules = role.rules || [];
const grants = (group, resource, verb) => rules.some((r) =>
	(r.apiGroups || []).includes(group) && (r.resources || []).includes(resource) &&
	(r.verbs || []).includes(verb));
for (const [group, resource] of [["", "pods"], ["apps", "replicasets"], ["batch", "jobs"]])
	expect(["get", "list", "watch"].every((v) => grants(group, resource, v)),
	       `the ClusterRole grants get, list, watch on ${resource}`);
const verbs = new Set(rules.flatMap((r) => r.verbs || []));
expect([...verbs].every((v) => ["get", "list", "watch"].includes(v)),
       "the ClusterRole grants nothing but get, list, watch", show([...verbs]));
expect(!rules.some((r) => [...(r.apiGroups || []), ...(r.resources || [])].includes("*")),
       "the ClusterRole has no wildcard");
const rr = binding.roleRef || {};
expect(rr.kind === "ClusterRole" && rr.name === (role.metadata || {}).name,
       "the ClusterRoleBinding binds the ClusterRole", show(rr));
expect((binding.subjects || []).some((s) => s.kind === "ServiceAccount" &&
       s.name === (sa.metadata || {}).name && s.namespace === nsName),
       "the ClusterRoleBinding's subject is the ServiceAccount", show(binding.subjects));

// --- Dockerfile: what the DaemonSet and the test rely on
const dfile = path.join(root, "deploy", "Dockerfile");
const stages = dockerfile(dfile);
expect(stages.length === 2, "the Dockerfile has two stages", `${stages.length}`);
const [build, run] = [stages[0] || { ins: [] }, stages[stages.length - 1] || { ins: [] }];
expect(/^debian:bookworm(\s+AS\s+\S+)?$/i.test(build.from),
       "the build stage is FROM debian:bookworm", build.from);
expect(run.from === "debian:bookworm-slim", "the runtime stage is FROM debian:bookworm-slim",
       run.from);
const last = (st, op) => st.ins.filter((i) => i.op === op).pop();
expect(build.ins.some((i) => i.op === "RUN" && /(^|\s|&&)make(\s|$)/.test(i.rest)),
       "the build stage runs make");
const entry = jsonArray((last(run, "ENTRYPOINT") || {}).rest || "");
expect(show(entry) === show([bin]), `the ENTRYPOINT is ["${bin}"], what the DaemonSet execs`,
       show(entry));
const copy = (last(run, "COPY") || {}).rest || "";
expect(new RegExp(`^--from=\\S+\\s+\\S*build/obsprobe\\s+${bin}$`).test(copy),
       `the runtime stage copies build/obsprobe to ${bin}`, copy);
const cmdArgs = jsonArray((last(run, "CMD") || {}).rest || "");
expect(cmdArgs && show(cmdArgs) === show(args.slice(0, cmdArgs.length)) &&
       cmdArgs.includes("--all"),
       "the image's CMD is the DaemonSet's leading args", show(cmdArgs));
expect(((last(run, "EXPOSE") || {}).rest || "").split(/\s+/).includes(String(port)),
       `the image EXPOSEs ${port}`);
expect(((last(run, "USER") || {}).rest || "root") === "root", "the image runs as root");

process.exit(0);

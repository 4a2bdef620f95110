// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Validates Kubernetes manifests offline against the OpenAPI schemas of kubernetes-models
// (Kubernetes 1.27) and @kubernetes-models/prometheus-operator, installed by tests/k8s/setup.sh:
//
//	node tests/k8s/validate.js --npm DIR FILE...
//
// Every YAML document of every FILE must:
//   1. parse as YAML 1.1, as Kubernetes' own parser (go-yaml v2) reads it: an unquoted `off`
//      or `yes` is a boolean there, not a string; duplicate keys are errors;
//   2. have an apiVersion and kind one of the two packages has a model for (else it is an
//      unknown kind, rejected);
//   3. pass the model's validate() (ajv against the schema: types, enums, required fields);
//   4. have no field the schema does not name. validate() lets unknown fields through (the
//      schemas it ships do not say additionalProperties: false, and a misspelled field would
//      pass), so this is checked here with the same compiled schema: the document is validated
//      a second time through proxies that record which keys of each object the validator
//      reads. The validator reads every property its schema names (and every key of a map),
//      never one it does not: a key of an object left unread is unknown to the schema;
//   5. give every container and init container an image: the schema leaves it optional (for
//      controllers that fill it in), a pod cannot run without one.
// Prints "ok FILE#N Kind/name" or "error FILE#N: what" per document; exits 0 when every
// document passed, 1 when one did not, 2 when it could not run.
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

function usage(msg) {
	process.stderr.write(`validate.js: ${msg}\nusage: validate.js --npm DIR FILE...\n`);
	process.exit(2);
}

const argv = process.argv.slice(2);
if (argv[0] !== "--npm" || argv.length < 3)
	usage("expected --npm DIR and at least one file");
const npmDir = path.resolve(argv[1]);
const files = argv.slice(2);
const req = createRequire(path.join(npmDir, "node_modules", "_"));
let YAML;
try {
	YAML = req("yaml");
} catch (e) {
	usage(`cannot load the npm packages from ${npmDir}: ${e.message} (run tests/k8s/setup.sh)`);
}

// The packages models come from, in the order asked: apiVersion "v1" is kubernetes-models/v1,
// "apps/v1" kubernetes-models/apps/v1, "monitoring.coreos.com/v1" the operator's.
const PACKAGES = ["kubernetes-models", "@kubernetes-models/prometheus-operator"];

function modelFor(apiVersion, kind) {
	if (typeof apiVersion !== "string" || typeof kind !== "string" || !apiVersion || !kind)
		return null;
	if (!/^[a-z0-9.-]*\/?v[0-9a-z]+$/.test(apiVersion))
		return null;
	for (const pkg of PACKAGES) {
		let mod;
		try {
			mod = req(`${pkg}/${apiVersion}`);
		} catch (e) {
			if (["MODULE_NOT_FOUND", "ERR_PACKAGE_PATH_NOT_EXPORTED"].includes(e.code))
				continue;
			throw e;
		}
		const M = Object.prototype.hasOwnProperty.call(mod, kind) ? mod[kind] : undefined;
		if (typeof M === "function" && M.apiVersion === apiVersion && M.kind === kind &&
		    typeof M.prototype.validate === "function")
			return M;
	}
	return null;
}

// watch(value): a copy of value whose objects are proxies recording, in `seen`, the keys read
// of each; `objects` lists [path, original object, proxy] for every object (not arrays).
function watch(value, where, objects, seen) {
	if (Array.isArray(value))
		return value.map((v, i) => watch(v, `${where}[${i}]`, objects, seen));
	if (value === null || typeof value !== "object")
		return value;
	const copy = {};
	for (const [k, v] of Object.entries(value))
		copy[k] = watch(v, where ? `${where}.${k}` : k, objects, seen);
	const keys = new Set();
	const proxy = new Proxy(copy, {
		get(target, key, receiver) {
			if (typeof key === "string")
				keys.add(key);
			return Reflect.get(target, key, receiver);
		},
		has(target, key) {
			if (typeof key === "string")
				keys.add(key);
			return Reflect.has(target, key);
		},
		getOwnPropertyDescriptor(target, key) {
			if (typeof key === "string")
				keys.add(key);
			return Reflect.getOwnPropertyDescriptor(target, key);
		},
	});
	seen.set(proxy, keys);
	objects.push([where, copy, proxy]);
	return proxy;
}

function unknownFields(M, doc) {
	const objects = [];
	const seen = new Map();
	const root = watch(doc, "", objects, seen);
	try {
		M.prototype.validate.call(root);
	} catch (e) {
		// validate() already reported it; the reads made until then still count
	}
	const out = [];
	for (const [where, copy, proxy] of objects) {
		const read = seen.get(proxy);
		for (const k of Object.keys(copy))
			if (!read.has(k))
				out.push(where ? `${where}.${k}` : k);
	}
	// the fields under an unknown one were never looked at: name the unknown one only
	return out.filter((f) => !out.some((u) => f.startsWith(`${u}.`) || f.startsWith(`${u}[`)))
		.sort();
}

function podSpecOf(doc) {
	const spec = doc.spec || {};
	switch (doc.kind) {
	case "Pod":
		return spec;
	case "CronJob":
		return (((spec.jobTemplate || {}).spec || {}).template || {}).spec;
	default:
		return (spec.template || {}).spec;
	}
}

function missingImages(doc) {
	const pod = podSpecOf(doc);
	if (!pod || typeof pod !== "object")
		return [];
	const out = [];
	for (const list of ["initContainers", "containers", "ephemeralContainers"])
		(Array.isArray(pod[list]) ? pod[list] : []).forEach((c, i) => {
			if (c && typeof c === "object" && (typeof c.image !== "string" || !c.image))
				out.push(`${list}[${i}] (${c.name}) has no image`);
		});
	return out;
}

function check(doc) {
	if (doc === null || typeof doc !== "object" || Array.isArray(doc))
		return { errors: ["not a mapping"] };
	const M = modelFor(doc.apiVersion, doc.kind);
	if (!M)
		return { errors: [`unknown kind: apiVersion ${JSON.stringify(doc.apiVersion)} ` +
				  `kind ${JSON.stringify(doc.kind)}`] };
	const errors = [];
	try {
		new M(doc).validate();
	} catch (e) {
		errors.push(`schema: ${e.message}`);
	}
	for (const f of unknownFields(M, doc))
		errors.push(`unknown field ${f}`);
	for (const m of missingImages(doc))
		errors.push(m);
	return { errors, name: `${doc.kind}/${(doc.metadata || {}).name}` };
}

let bad = 0;
for (const file of files) {
	let text;
	try {
		text = fs.readFileSync(file, "utf8");
	} catch (e) {
		console.log(`error ${file}: ${e.message}`);
		bad++;
		continue;
	}
	const docs = YAML.parseAllDocuments(text, { version: "1.1", uniqueKeys: true });
	let n = 0;
	for (const d of docs) {
		n++;
		const at = `${file}#${n}`;
		const problems = [...d.errors, ...d.warnings].map((e) => e.message.split("\n")[0]);
		if (problems.length) {
			console.log(`error ${at}: YAML: ${problems.join("; ")}`);
			bad++;
			continue;
		}
		const doc = d.toJS();
		if (doc === null || doc === undefined)
			continue; // an empty document (a trailing ---)
		const { errors, name } = check(doc);
		if (errors.length) {
			console.log(`error ${at}${name ? ` (${name})` : ""}: ${errors.join("; ")}`);
			bad++;
		} else {
			console.log(`ok ${at} ${name}`);
		}
	}
	if (n === 0) {
		console.log(`error ${file}: no YAML document`);
		bad++;
	}
}
process.exit(bad ? 1 : 0);

#!/usr/bin/env node
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// The independent OTLP decoder of the tests: decodes the bodies tests/otlp/receiver.py recorded
// with the official OTLP protos as compiled by protobufjs in @opentelemetry/otlp-transformer
// (build/src/generated/root.js; tests/otlp/setup.sh installs it). Nothing of obsprobe's own
// code is used.
//
//	node decode.js --npm DIR [--status CODE|any] [--path PATH] traces|metrics|logs RECDIR
//
// Reads RECDIR/NNNNNN.json + .bin (every request whose path ends with /v1/traces, /v1/metrics
// or /v1/logs, or equals --path; with --status, only those answered with CODE; default any)
// and prints JSON lines, in request order:
//
//	{"type":"request","seq":N,"path":..,"status":..,"bytes":N,"resources":N,"items":N,
//	 "unknown_fields":N}                                    one per request
//	{"type":"error","seq":N,"error":".."}                  a body that does not decode
//	{"type":"span","seq":N,"resource":[ATTR..],"resource_dropped":N,"scope":{"name","version",
//	 "attributes"},"schema_url":..,"trace_id":"hex32","span_id":"hex16","parent_span_id":"hex"
//	 (""),"trace_state":..,"flags":N,"name":..,"kind":N,"start_time_unix_nano":"decimal",
//	 "end_time_unix_nano":"decimal","attributes":[ATTR..],"dropped_attributes_count":N,
//	 "events":N,"links":N,"span_events":[{"name":..,"time_unix_nano":"N","attributes":[..]}],
//	 "status":{"code":N,"message":..}}
//	{"type":"point","seq":N,"resource":[ATTR..],"scope":{..},"metric":NAME,"unit":..,
//	 "description":..,"data":"gauge"|"sum"|"histogram"|"exponential_histogram"|"summary"|"",
//	 "temporality":N,"monotonic":BOOL,"attributes":[ATTR..],"start_time_unix_nano":"decimal",
//	 "time_unix_nano":"decimal","flags":N,"exemplars":N, and by data:
//	 number points: "as_int":N or "as_double":X; histograms: "count":N,"sum":X|null,
//	 "min","max","bucket_counts":[N..],"explicit_bounds":[X..]}
//	{"type":"log","seq":N,"resource":[ATTR..],"resource_dropped":N,"scope":{..},"schema_url":..,
//	 "time_unix_nano":"decimal","observed_time_unix_nano":"decimal","severity_number":N,
//	 "severity_text":..,"body":{TYPE:VALUE},"attributes":[ATTR..],"dropped_attributes_count":N,
//	 "flags":N,"trace_id":"hex" (""),"span_id":"hex" (""),"event_name":..}
//
// ATTR is {"key":K, TYPE:VALUE} with TYPE string, bool, int, double, bytes (hex), array (a list
// of {TYPE:VALUE}), kvlist (a list of ATTR), or "empty":true for an AnyValue with nothing set; a
// log's body is such a {TYPE:VALUE} alone.
// Ids are lowercase hex of exactly the bytes sent (an id of the wrong length shows as such);
// 64-bit integers are JSON numbers when exact, else decimal strings; times are always decimal
// strings. unknown_fields counts fields the official protos do not define (a wrong field
// number in the encoder). Exit status 1 when a body did not decode, 2 on bad usage.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
	if (msg) process.stderr.write('decode.js: ' + msg + '\n');
	process.stderr.write('usage: decode.js --npm DIR [--status CODE|any] [--path PATH] ' +
			     'traces|metrics|logs RECDIR\n');
	process.exit(2);
}

let npm = null, status = 'any', onlyPath = null;
const pos = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	if (a === '--npm') npm = argv[++i];
	else if (a === '--status') status = argv[++i];
	else if (a === '--path') onlyPath = argv[++i];
	else if (a.startsWith('--')) usage('unknown option ' + a);
	else pos.push(a);
}
if (!npm || pos.length !== 2 || !['traces', 'metrics', 'logs'].includes(pos[0]) ||
    status === undefined)
	usage();
const [signal, recdir] = pos;

const rootPath = path.resolve(npm, 'node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js');
if (!fs.existsSync(rootPath)) usage(rootPath + ' not found (run tests/otlp/setup.sh)');
const req = createRequire(rootPath);
const root = req(rootPath);
const $protobuf = req('protobufjs/minimal');
if (!$protobuf.util.Long) usage('protobufjs has no Long support: 64-bit values would lose precision');

// Generated decoders call reader.skipType(wireType) (no depth) only for a field number the
// message does not define: count those.
let unknownFields = 0;
const skipType = $protobuf.Reader.prototype.skipType;
$protobuf.Reader.prototype.skipType = function (wireType, depth) {
	if (depth === undefined) unknownFields++;
	return skipType.call(this, wireType, depth);
};

const P = root.opentelemetry.proto;
const Req = {
	traces: P.collector.trace.v1.ExportTraceServiceRequest,
	metrics: P.collector.metrics.v1.ExportMetricsServiceRequest,
	logs: P.collector.logs.v1.ExportLogsServiceRequest,
}[signal];
const wantSuffix = '/v1/' + signal;

const hex = (b) => (b ? Buffer.from(b).toString('hex') : '');
function u64(v, signed) {
	if (v === null || v === undefined) return 0;
	if (typeof v === 'number') return v;
	const L = $protobuf.util.Long;
	const l = L.fromValue(v);
	const x = signed ? l.toSigned() : l.toUnsigned();
	const n = x.toNumber();
	return Number.isSafeInteger(n) ? n : x.toString();
}
function u64s(v, signed) {
	if (v === null || v === undefined) return '0';
	if (typeof v === 'number') return String(v);
	const L = $protobuf.util.Long;
	const l = L.fromValue(v);
	return (signed ? l.toSigned() : l.toUnsigned()).toString();
}
function dbl(x) {
	if (x === null || x === undefined) return null;
	return Number.isFinite(x) ? x : String(x);
}

function anyValue(v) {
	if (!v) return { empty: true };
	switch (v.value) {
	case 'stringValue': return { string: v.stringValue };
	case 'boolValue': return { bool: v.boolValue };
	case 'intValue': return { int: u64(v.intValue, true) };
	case 'doubleValue': return { double: dbl(v.doubleValue) };
	case 'bytesValue': return { bytes: hex(v.bytesValue) };
	case 'arrayValue': return { array: (v.arrayValue.values || []).map(anyValue) };
	case 'kvlistValue': return { kvlist: attrs(v.kvlistValue.values) };
	default: return { empty: true };
	}
}
function attrs(list) {
	return (list || []).map((kv) => Object.assign({ key: kv.key }, anyValue(kv.value)));
}
function scope(s) {
	return s ? { name: s.name || '', version: s.version || '', attributes: attrs(s.attributes) }
		 : { name: '', version: '', attributes: [] };
}

function points(m) {
	for (const d of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'])
		if (m[d]) return [d, m[d]];
	return ['', null];
}

function emit(o) { process.stdout.write(JSON.stringify(o) + '\n'); }

let failed = 0;
const seqs = fs.readdirSync(recdir).filter((f) => /^\d{6}\.json$/.test(f)).sort();
for (const f of seqs) {
	let meta;
	try {
		meta = JSON.parse(fs.readFileSync(path.join(recdir, f), 'utf8'));
	} catch (e) {
		continue; // being rewritten
	}
	if (onlyPath ? meta.path !== onlyPath : !String(meta.path).endsWith(wantSuffix)) continue;
	if (status !== 'any' && String(meta.status) !== status) continue;
	const seq = meta.seq;
	let body;
	try {
		body = fs.readFileSync(path.join(recdir, f.replace(/\.json$/, '.bin')));
	} catch (e) {
		emit({ type: 'error', seq, error: 'no body: ' + e.message });
		failed++;
		continue;
	}
	if (meta.error) {
		emit({ type: 'error', seq, error: 'receiver: ' + meta.error });
		failed++;
		continue;
	}
	let msg;
	unknownFields = 0;
	try {
		msg = Req.decode(body);
		const err = Req.verify(msg);
		if (err) throw new Error('verify: ' + err);
	} catch (e) {
		emit({ type: 'error', seq, error: String(e && e.message || e) });
		failed++;
		continue;
	}
	const out = [];
	let resources = 0;
	if (signal === 'traces') {
		for (const rs of msg.resourceSpans || []) {
			resources++;
			const res = attrs(rs.resource && rs.resource.attributes);
			const resDropped = (rs.resource && rs.resource.droppedAttributesCount) || 0;
			for (const ss of rs.scopeSpans || []) {
				const sc = scope(ss.scope);
				for (const s of ss.spans || []) {
					out.push({
						type: 'span', seq, resource: res, resource_dropped: resDropped,
						scope: sc, schema_url: ss.schemaUrl || rs.schemaUrl || '',
						trace_id: hex(s.traceId), span_id: hex(s.spanId),
						parent_span_id: hex(s.parentSpanId), trace_state: s.traceState || '',
						flags: s.flags || 0, name: s.name || '', kind: s.kind || 0,
						start_time_unix_nano: u64s(s.startTimeUnixNano),
						end_time_unix_nano: u64s(s.endTimeUnixNano),
						attributes: attrs(s.attributes),
						dropped_attributes_count: s.droppedAttributesCount || 0,
						events: (s.events || []).length, links: (s.links || []).length,
						span_events: (s.events || []).map((e) => ({
							name: e.name || '',
							time_unix_nano: u64s(e.timeUnixNano),
							attributes: attrs(e.attributes),
						})),
						status: { code: (s.status && s.status.code) || 0,
							  message: (s.status && s.status.message) || '' },
					});
				}
			}
		}
	} else if (signal === 'logs') {
		for (const rl of msg.resourceLogs || []) {
			resources++;
			const res = attrs(rl.resource && rl.resource.attributes);
			const resDropped = (rl.resource && rl.resource.droppedAttributesCount) || 0;
			for (const sl of rl.scopeLogs || []) {
				const sc = scope(sl.scope);
				for (const l of sl.logRecords || []) {
					out.push({
						type: 'log', seq, resource: res, resource_dropped: resDropped,
						scope: sc, schema_url: sl.schemaUrl || rl.schemaUrl || '',
						time_unix_nano: u64s(l.timeUnixNano),
						observed_time_unix_nano: u64s(l.observedTimeUnixNano),
						severity_number: l.severityNumber || 0,
						severity_text: l.severityText || '',
						body: anyValue(l.body),
						attributes: attrs(l.attributes),
						dropped_attributes_count: l.droppedAttributesCount || 0,
						flags: l.flags || 0, trace_id: hex(l.traceId), span_id: hex(l.spanId),
						event_name: l.eventName || '',
					});
				}
			}
		}
	} else {
		for (const rm of msg.resourceMetrics || []) {
			resources++;
			const res = attrs(rm.resource && rm.resource.attributes);
			for (const sm of rm.scopeMetrics || []) {
				const sc = scope(sm.scope);
				for (const m of sm.metrics || []) {
					const [data, d] = points(m);
					const common = {
						type: 'point', seq, resource: res, scope: sc, metric: m.name || '',
						unit: m.unit || '', description: m.description || '',
						data: data === 'exponentialHistogram' ? 'exponential_histogram' : data,
						temporality: (d && d.aggregationTemporality) || 0,
						monotonic: !!(d && d.isMonotonic),
					};
					if (!d) {
						out.push(Object.assign({ attributes: [] }, common, { no_data: true }));
						continue;
					}
					for (const p of d.dataPoints || []) {
						const o = Object.assign({}, common, {
							attributes: attrs(p.attributes),
							start_time_unix_nano: u64s(p.startTimeUnixNano),
							time_unix_nano: u64s(p.timeUnixNano),
							flags: p.flags || 0,
							exemplars: (p.exemplars || []).length,
						});
						if (data === 'gauge' || data === 'sum') {
							if (p.value === 'asInt') o.as_int = u64(p.asInt, true);
							else if (p.value === 'asDouble') o.as_double = dbl(p.asDouble);
						} else if (data === 'histogram') {
							o.count = u64(p.count);
							o.sum = dbl(p.sum);
							o.min = dbl(p.min);
							o.max = dbl(p.max);
							o.bucket_counts = (p.bucketCounts || []).map((c) => u64(c));
							o.explicit_bounds = (p.explicitBounds || []).map(dbl);
						} else if (data === 'exponential_histogram') {
							o.count = u64(p.count);
							o.sum = dbl(p.sum);
						} else if (data === 'summary') {
							o.count = u64(p.count);
							o.sum = dbl(p.sum);
						}
						out.push(o);
					}
				}
			}
		}
	}
	emit({ type: 'request', seq, path: meta.path, status: meta.status, bytes: body.length,
	       resources, items: out.length, unknown_fields: unknownFields });
	for (const o of out) emit(o);
}
// not process.exit(): it would cut what is still queued for a pipe that reads slowly
process.exitCode = failed ? 1 : 0;

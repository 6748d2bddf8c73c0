#!/usr/bin/env node
// What one real batch costs to export over OTLP metrics, for one target with 100 tables (one
// database, each table with its primary key, a secondary index and rows, analysed): the series
// the semantic catalogue derives from it (points and metric names), what actually arrives at an
// OTLP receiver (metrics, data points, request bytes) over gRPC and HTTP/protobuf, and the wall
// and CPU time of `export(batch)` + `forceFlush()` on a fresh adapter (first push: provider,
// instruments, channel) and again on the same adapter (a steady-state push). Baseline in the same
// run, same batch: our JSON-lines output (`JSON.stringify(batch)` + a write to a /dev/null
// stream), so the OTLP cost reads as a ratio that travels between machines; the Prometheus pull
// endpoint (`export(batch)` + `render()`) is a third row. Rough heap retained by each adapter
// holding the snapshot at the end. The batch comes from the built CLI (`--once --output=json`)
// after a light workload, so its counters are not zero.
// Run with: npm run bench:otlp (builds first).
// Knobs: BENCH_RUNS (7), BENCH_TABLES (100), BENCH_ROWS (500 per table), BENCH_HEAP_RUNS (3).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';

import {
  cli,
  createTables,
  dist,
  fmt,
  machineLine,
  median,
  positiveInt,
  quick,
  round,
  startEmbedded,
  writeResult,
} from './lib.mjs';

const { deriveMetricPoints, METRIC_DESCRIPTORS } = await dist('core/semantic-metrics/catalogue.js');
const { OtlpMetricsAdapter } = await dist('adapters/otlp/otlp-metrics-adapter.js');
const { PrometheusPullAdapter } = await dist('adapters/prometheus/prometheus-pull-adapter.js');

const RUNS = positiveInt('BENCH_RUNS', 7, 2);
const TABLES = positiveInt('BENCH_TABLES', 100, 30);
const ROWS = positiveInt('BENCH_ROWS', 500, 100);
const HEAP_RUNS = positiveInt('BENCH_HEAP_RUNS', 3, 1);
const DATABASE = 'bench_otlp';

const ms = (n) => (n >= 10 ? fmt(round(n)) : String(round(n, 2)));
const kib = (bytes) => `${fmt(round(bytes / 1024, 1))} KiB`;
const mib = (bytes) => `${bytes < 0 ? '−' : ''}${round(Math.abs(bytes) / 2 ** 20, 2)} MiB`;

// A full collection between two heap readings needs gc(); enabled here so the script runs with
// a plain `node` (the flag is honoured for contexts created after it is set).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// ---------------------------------------------------------------------------------------------
// OTLP receivers. They only keep the raw request bytes while timing runs (decoding is done
// afterwards), so the in-process server adds as little as it can to the measured exports.
const require = createRequire(import.meta.url);
// otlp-transformer 0.57 (the `otlp-decoder` dev alias) still ships the protobufjs request types.
const REQUEST = require('otlp-decoder/build/src/generated/root').opentelemetry.proto.collector
  .metrics.v1.ExportMetricsServiceRequest;

/** Metrics and data points of one ExportMetricsServiceRequest body. */
function decodeCounts(body) {
  const message = REQUEST.toObject(REQUEST.decode(body), { longs: Number, arrays: true });
  const names = new Set();
  let metrics = 0;
  let points = 0;
  let resources = 0;
  for (const rm of message.resourceMetrics ?? []) {
    resources += 1;
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        metrics += 1;
        names.add(m.name);
        const data = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
        points += data?.dataPoints?.length ?? 0;
      }
    }
  }
  return { resources, metrics, names, points };
}

async function startGrpcReceiver() {
  const requests = [];
  const server = new grpc.Server();
  const identity = (b) => b;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export: (call, done) => {
        requests.push({ wireBytes: call.request.length, body: call.request });
        done(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

async function startHttpReceiver() {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/metrics' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const gzip = req.headers['content-encoding'] === 'gzip';
      requests.push({ wireBytes: raw.length, body: raw, gzip });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/metrics`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const bodyOf = (request) => (request.gzip ? gunzipSync(request.body) : request.body);

/** OtlpSettings as `resolveOtlp` would give them; the interval is long so only flushes push. */
function otlpSettings(protocol, endpoint, compression) {
  return {
    enabled: true,
    selfMetrics: false,
    protocol,
    endpoint,
    headers: {},
    timeoutMs: 10_000,
    compression,
    exportIntervalMs: 3_600_000,
    serviceName: 'pgquerylens',
    resourceAttributes: {},
    cardinalityLimit: 20_000,
    tls: { insecure: false },
  };
}

// ---------------------------------------------------------------------------------------------
const loadBefore = os.loadavg()[0];
const work = mkdtempSync(path.join(os.tmpdir(), 'pgql-bench-otlp-'));
const server = await startEmbedded();
const clients = [];
const receivers = [];
const adapters = [];
try {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  clients.push(admin);
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version;

  // One database, TABLES tables, each with its primary key, one secondary index, ROWS rows.
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  const db = new pg.Client({ connectionString: server.url(DATABASE) });
  await db.connect();
  clients.push(db);
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const tables = Array.from(
    { length: TABLES },
    (_, t) => `orders_${String(t + 1).padStart(3, '0')}`,
  );
  await createTables(db, tables, ROWS, { secondIndex: false });
  // A light workload so scan, tuple, block and statement counters are not zero.
  for (const [i, table] of tables.entries()) {
    for (let k = 0; k < 3; k++) {
      await db.query(`SELECT * FROM ${table} WHERE id = $1`, [((i * 3 + k) % ROWS) + 1]);
    }
    await db.query(`SELECT count(*), sum(amount) FROM ${table} WHERE account = $1`, [i % 50]);
    await db.query(`SELECT count(*) FROM ${table} WHERE label LIKE $1`, [`%${i % 10}%`]);
    await db.query(`UPDATE ${table} SET amount = amount + 1 WHERE id = $1`, [(i % ROWS) + 1]);
  }

  // The batch: one `--once --output=json` run of the built CLI, from an empty directory and with
  // none of our or libpq's variables, so nothing but the flags configures it. OTLP is off there:
  // nothing listens, and pushing is what this script measures itself.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('PG') && !k.startsWith('PGQUERYLENS_') && !k.startsWith('OTEL_'),
    ),
  );
  Object.assign(env, { PGQUERYLENS_TELEMETRY: 'false', PGQUERYLENS_OTLP: 'false' });
  const args = [cli, '--target', server.url(DATABASE), '--once', '--output=json'];
  const cliRun = await new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...args, '--log-level=warn'], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ stdout, stderr, wallMs: performance.now() - t0 })
        : reject(new Error(`the CLI exited ${code}: ${stderr.trim()}`)),
    );
  });
  const lines = cliRun.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one batch line, got ${lines.length}`);
  const batchLine = lines[0];
  const batch = JSON.parse(batchLine);
  if (!Array.isArray(batch.probes) || batch.target?.name === undefined) {
    throw new Error('the CLI did not print a UnifiedMetrics batch');
  }
  const stderrLines = cliRun.stderr.split('\n').filter((l) => l.trim() !== '').length;

  // -------------------------------------------------------------------------------------------
  // Series: what the catalogue derives, and what arrives over each transport.
  const points = deriveMetricPoints(batch);
  const derivedNames = new Set(points.map((p) => p.descriptor.name));
  const byKind = { server: 0, database: 0, table: 0, index: 0 };
  for (const p of points) {
    if (p.object === undefined) byKind.server += 1;
    else if (p.object.index !== undefined) byKind.index += 1;
    else if (p.object.table !== undefined) byKind.table += 1;
    else byKind.database += 1;
  }
  const perMetric = new Map();
  for (const p of points) {
    perMetric.set(p.descriptor.name, (perMetric.get(p.descriptor.name) ?? 0) + 1);
  }
  const topMetrics = [...perMetric.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

  const grpcReceiver = await startGrpcReceiver();
  receivers.push(grpcReceiver);
  const httpReceiver = await startHttpReceiver();
  receivers.push(httpReceiver);
  const transports = [
    { key: 'grpc', label: 'OTLP gRPC', protocol: 'grpc', compression: 'none', rx: grpcReceiver },
    {
      key: 'http',
      label: 'OTLP HTTP/protobuf',
      protocol: 'http/protobuf',
      compression: 'none',
      rx: httpReceiver,
    },
    {
      key: 'httpGzip',
      label: 'OTLP HTTP/protobuf, gzip',
      protocol: 'http/protobuf',
      compression: 'gzip',
      rx: httpReceiver,
    },
  ];

  /** A fresh adapter: export + flush (cold), export + flush again (warm), then shut down. */
  async function otlpRun(t) {
    const adapter = new OtlpMetricsAdapter({
      settings: otlpSettings(t.protocol, t.rx.url, t.compression),
      version: 'bench',
    });
    adapters.push(adapter);
    const timed = async () => {
      const before = t.rx.requests.length;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await adapter.export(batch);
      const exported = performance.now() - t0;
      await adapter.forceFlush();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const sent = t.rx.requests.slice(before);
      if (sent.length === 0 || adapter.health().reachable !== true) {
        throw new Error(`${t.label}: the flush reached no receiver (${adapter.health().detail})`);
      }
      return { wall, exported, cpu: (c.user + c.system) / 1000, requests: sent };
    };
    const cold = await timed();
    const warm = await timed();
    await adapter.shutdown();
    adapters.splice(adapters.indexOf(adapter), 1);
    return { cold, warm };
  }

  // The JSON-lines output's work for one batch: stringify, then one line written to a stream.
  const devNull = createWriteStream('/dev/null');
  await once(devNull, 'open');
  let jsonBytes = 0;
  async function jsonRun() {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const line = `${JSON.stringify(batch)}\n`;
    await new Promise((resolve, reject) =>
      devNull.write(line, (err) => (err ? reject(err) : resolve())),
    );
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    jsonBytes = Buffer.byteLength(line);
    return { wall, exported: wall, cpu: (c.user + c.system) / 1000 };
  }

  let exposition = '';
  async function promRun() {
    const adapter = new PrometheusPullAdapter({ intervalMs: 60_000 });
    const timed = async () => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await adapter.export(batch);
      const exported = performance.now() - t0;
      const text = adapter.render();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      exposition = text;
      return { wall, exported, cpu: (c.user + c.system) / 1000 };
    };
    const cold = await timed();
    const warm = await timed();
    await adapter.shutdown();
    return { cold, warm };
  }

  const methods = [
    { key: 'json', run: jsonRun },
    ...transports.map((t) => ({ key: t.key, run: () => otlpRun(t) })),
    { key: 'prom', run: promRun },
  ];
  const samples = {};
  const sample = (key) => (samples[key] ??= { wall: [], exported: [], cpu: [] });
  const lastRequests = {};
  // Warm-up: loads the exporters' modules, opens nothing that outlives its adapter, warms V8.
  for (const m of methods) await m.run();
  for (let r = 0; r < RUNS; r++) {
    // Order rotated per round so no method always follows the same one.
    for (let k = 0; k < methods.length; k++) {
      const m = methods[(r + k) % methods.length];
      const res = await m.run();
      if (m.key === 'json') {
        for (const f of ['wall', 'exported', 'cpu']) sample('json')[f].push(res[f]);
        continue;
      }
      for (const phase of ['cold', 'warm']) {
        for (const f of ['wall', 'exported', 'cpu'])
          sample(`${m.key}.${phase}`)[f].push(res[phase][f]);
      }
      if (res.cold.requests !== undefined) {
        lastRequests[m.key] = { cold: res.cold.requests, warm: res.warm.requests };
      }
    }
  }
  devNull.end();

  // What the last run of each transport sent, decoded now, outside the timings.
  const wire = {};
  for (const t of transports) {
    const { cold, warm } = lastRequests[t.key];
    const decoded = cold.map((q) => decodeCounts(bodyOf(q)));
    const warmDecoded = warm.map((q) => decodeCounts(bodyOf(q)));
    const sum = (xs, f) => xs.reduce((n, x) => n + f(x), 0);
    wire[t.key] = {
      requests: cold.length,
      wireBytes: sum(cold, (q) => q.wireBytes),
      protoBytes: sum(cold, (q) => bodyOf(q).length),
      metrics: sum(decoded, (d) => d.metrics),
      names: new Set(decoded.flatMap((d) => [...d.names])).size,
      points: sum(decoded, (d) => d.points),
      resources: sum(decoded, (d) => d.resources),
      warmPoints: sum(warmDecoded, (d) => d.points),
    };
  }
  const expoLines = exposition.split('\n').filter((l) => l !== '');
  const promFamilies = expoLines.filter((l) => l.startsWith('# TYPE ')).length;
  const promSeries = expoLines.filter((l) => !l.startsWith('#')).length;

  // -------------------------------------------------------------------------------------------
  // Heap retained by an adapter holding the batch (after a flush, for OTLP: the SDK's storage
  // then holds every series too), against the parsed batch itself. Rough: medians of a few
  // readings after a full collection each.
  const heapUsed = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  for (const rx of receivers) rx.requests.length = 0;
  const heap = { batch: [], grpc: [], prom: [] };
  for (let i = 0; i < HEAP_RUNS; i++) {
    let h0 = heapUsed();
    const held = [JSON.parse(batchLine)];
    heap.batch.push(heapUsed() - h0);
    held.length = 0;

    h0 = heapUsed();
    const otlp = new OtlpMetricsAdapter({
      settings: otlpSettings('grpc', grpcReceiver.url, 'none'),
      version: 'bench',
    });
    adapters.push(otlp);
    await otlp.export(batch);
    await otlp.forceFlush();
    heap.grpc.push(heapUsed() - h0);
    await otlp.shutdown();
    adapters.splice(adapters.indexOf(otlp), 1);

    h0 = heapUsed();
    const prom = new PrometheusPullAdapter({ intervalMs: 60_000 });
    await prom.export(batch);
    heap.prom.push(heapUsed() - h0);
    await prom.shutdown();
  }

  // -------------------------------------------------------------------------------------------
  const med = (key) => ({
    wall: median(samples[key].wall),
    exported: median(samples[key].exported),
    cpu: median(samples[key].cpu),
  });
  const range = (key) => {
    const s = samples[key].wall;
    return `${ms(Math.min(...s))} – ${ms(Math.max(...s))}`;
  };
  const base = med('json');
  const ratio = (a, b) => String(round(a / b, 1));
  const pointCount = points.length;
  const timeRow = (label, key, bytes) => {
    const m = med(key);
    return [
      label,
      ms(m.wall),
      range(key),
      key === 'json' ? 'n/a' : ms(m.exported),
      ms(m.cpu),
      key === 'json' ? '1' : ratio(m.wall, base.wall),
      key === 'json' ? '1' : ratio(m.cpu, base.cpu),
      String(round((m.wall * 1000) / pointCount, 1)),
      bytes,
    ];
  };
  const timeRows = [
    timeRow('JSON lines: `JSON.stringify` + write to /dev/null (baseline)', 'json', kib(jsonBytes)),
    ...transports.flatMap((t) => [
      timeRow(
        `${t.label}, fresh adapter (first push)`,
        `${t.key}.cold`,
        kib(wire[t.key].wireBytes),
      ),
      timeRow(`${t.label}, same adapter (next push)`, `${t.key}.warm`, kib(wire[t.key].wireBytes)),
    ]),
    timeRow(
      'Prometheus pull: `export` + `render`, fresh adapter',
      'prom.cold',
      kib(Buffer.byteLength(exposition)),
    ),
    timeRow(
      'Prometheus pull: `export` + `render`, same adapter',
      'prom.warm',
      kib(Buffer.byteLength(exposition)),
    ),
  ];
  const table = (header, rows, align) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells) =>
      `| ${cells.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    const rule = `| ${widths.map((w, i) => (align[i] === 'l' ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
    return [line(header), rule, ...rows.map(line)].join('\n');
  };

  const probeRows = batch.probes.reduce((n, p) => n + p.rows.length, 0);
  const seriesRows = [
    [
      '`deriveMetricPoints(batch)`',
      fmt(pointCount),
      `${derivedNames.size} (of ${METRIC_DESCRIPTORS.length} in the catalogue)`,
      'n/a',
      'n/a',
    ],
    ...transports.map((t) => [
      `received over ${t.label}`,
      fmt(wire[t.key].points),
      String(wire[t.key].names),
      `${wire[t.key].requests} (${wire[t.key].resources} resource)`,
      t.compression === 'gzip'
        ? `${kib(wire[t.key].wireBytes)} (${kib(wire[t.key].protoBytes)} unzipped)`
        : kib(wire[t.key].wireBytes),
    ]),
    [
      'Prometheus exposition (`render()`)',
      fmt(promSeries),
      `${promFamilies} families`,
      'n/a',
      kib(Buffer.byteLength(exposition)),
    ],
    [
      'JSON line (the batch)',
      `${fmt(probeRows)} probe rows`,
      `${batch.probes.length} probe samples`,
      'n/a',
      kib(jsonBytes),
    ],
  ];
  const grpcCold = med('grpc.cold');
  const grpcWarm = med('grpc.warm');
  const httpCold = med('http.cold');
  const httpWarm = med('http.warm');
  const promWarm = med('prom.warm');
  const mismatch = transports.filter(
    (t) => wire[t.key].points !== pointCount || wire[t.key].warmPoints !== pointCount,
  );
  const cpus = os.cpus();
  const loadAfter = os.loadavg()[0];
  const busy = Math.max(loadBefore, loadAfter) > cpus.length;
  const md = `# OTLP metrics export of one ${TABLES}-table target

Generated by \`bench/otlp-export.mjs\` (\`npm run bench:otlp\`) on ${new Date().toISOString().slice(0, 10)}${quick ? ' (BENCH_QUICK: a smoke run, not a result)' : ''}.
One target, one database \`${DATABASE}\` with ${TABLES} tables (primary key + one secondary index, ${fmt(ROWS)} rows each, analysed), one batch from \`pgquerylens --once --output=json\`, ${RUNS} runs, medians.

## Series

| Where | Data points | Metric names | Requests | Bytes |
| --- | ---: | ---: | ---: | ---: |
${seriesRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Derived points by object: ${fmt(byKind.server)} server, ${fmt(byKind.database)} database, ${fmt(byKind.table)} table, ${fmt(byKind.index)} index (${round(pointCount / TABLES, 1)} points per table overall).
${mismatch.length === 0 ? `Every transport delivered exactly the ${fmt(pointCount)} derived points, on the first push and the next one.` : `**Mismatch:** ${mismatch.map((t) => `${t.label} delivered ${wire[t.key].points} (next push ${wire[t.key].warmPoints})`).join('; ')} of ${pointCount} derived points.`}
Most points: ${topMetrics
    .slice(0, 8)
    .map(([n, c]) => `\`${n}\` ${fmt(c)}`)
    .join(', ')}.

## Export time

${table(
  [
    'Method',
    'Wall ms',
    'Range ms',
    'of which `export` ms',
    'CPU ms',
    '× JSON wall',
    '× JSON CPU',
    'µs/point (wall)',
    'Bytes sent',
  ],
  timeRows,
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
)}

**Next push over JSON: gRPC ${ratio(grpcWarm.wall, base.wall)}× wall, ${ratio(grpcWarm.cpu, base.cpu)}× CPU; HTTP/protobuf ${ratio(httpWarm.wall, base.wall)}× wall, ${ratio(httpWarm.cpu, base.cpu)}× CPU.** First push over JSON: gRPC ${ratio(grpcCold.wall, base.wall)}×, HTTP/protobuf ${ratio(httpCold.wall, base.wall)}× wall. Prometheus (same adapter) over JSON: ${ratio(promWarm.wall, base.wall)}× wall.

\`export\` only records the batch as the target's snapshot (deriving the points); the rest of an OTLP row is \`forceFlush\` (the SDK's collect, protobuf encoding, the request and its answer), of a Prometheus row \`render\`. µs/point: wall time over the ${fmt(pointCount)} derived points.
${busy ? `\n> **Warning:** the machine was busy (1-minute load average ${round(loadBefore, 2)} before, ${round(loadAfter, 2)} after, on ${cpus.length} CPUs), so the absolute figures are high and noisier than usual; the ratios hold better.\n` : ''}
## Heap retained (rough)

| Held | Heap used Δ (median of ${HEAP_RUNS}) |
| --- | ---: |
| the parsed batch itself | ${mib(median(heap.batch))} |
| \`OtlpMetricsAdapter\` after \`export\` + \`forceFlush\` (gRPC) | ${mib(median(heap.grpc))} |
| \`PrometheusPullAdapter\` after \`export\` | ${mib(median(heap.prom))} |

The adapters' figures include their snapshot of the points, not the batch (held by the script throughout); the OTLP one also the SDK's MeterProvider, instruments, per-series storage and the gRPC channel. Readings after two forced full collections; \`heapUsed\` only (no native or buffer memory).

## Method

- Batch: the built CLI, \`--target <url> --once --output=json --log-level=warn\`, from an empty directory with no \`PG*\`, \`PGQUERYLENS_*\` or \`OTEL_*\` variables, \`PGQUERYLENS_TELEMETRY=false\` and \`PGQUERYLENS_OTLP=false\` (nothing listens for its own push), after a light workload (3 point reads, an index range, a scan and an update per table); ${stderrLines} stderr lines, ${fmt(round(cliRun.wallMs))} ms. The stdout line is parsed once and the same object fed to every method.
- OTLP: \`OtlpMetricsAdapter\` with settings as \`resolveOtlp\` gives them (cumulative, cardinality limit 20,000, timeout 10 s) and a one-hour export interval, so only \`forceFlush\` pushes. Per run a fresh adapter times \`export(batch)\` + \`forceFlush()\` twice: the first push (MeterProvider and ${METRIC_DESCRIPTORS.length} instruments built, the exporter's connection opened) and the next one on the same adapter (the steady state every interval). The flush resolves once the receiver answered. Each timed flush is checked to have reached the receiver; the last run's requests are decoded afterwards (protobufjs types of @opentelemetry/otlp-transformer 0.57) to count metrics and data points. Bytes: the request body (gRPC: the protobuf message without HTTP/2 framing).
- Receivers: in this process, on 127.0.0.1 (@grpc/grpc-js with identity serializers; \`node:http\`), keeping the raw bytes only. Their work (HTTP/2 or HTTP parsing, the reply) is therefore inside the OTLP rows' wall and CPU time, as it would not be with a remote collector; the loopback makes the network cost nearly zero.
- JSON baseline: \`JSON.stringify(batch)\` plus one \`write\` of the line to a \`/dev/null\` write stream, awaited to its callback: what the \`--output=json\` adapter does per batch.
- Prometheus: \`PrometheusPullAdapter\`, \`export(batch)\` + \`render()\` (the text a scrape gets), fresh adapter and then the same one.
- CPU: \`process.cpuUsage()\` user + system of this process during the timed section (every thread of it, the SDK's and libuv's included). One unmeasured warm-up run of each method first; order rotated per round.

## Environment

| | |
| --- | --- |
| PostgreSQL | ${pgVersion} (embedded, 127.0.0.1 TCP) |
| Machine | ${machineLine()} |
| Load average (1 min) | ${round(loadBefore, 2)} before, ${round(loadAfter, 2)} after |
`;
  writeResult('otlp-export', md);
} finally {
  await Promise.all(adapters.map((a) => a.shutdown().catch(() => undefined)));
  await Promise.all(receivers.map((r) => r.close().catch(() => undefined)));
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

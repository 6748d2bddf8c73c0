#!/usr/bin/env node
// How pgquerylens' cost grows with the number of targets: 1, 10, 50, 100, 200 and 500 targets,
// each one database on one of a few embedded servers, default collectors at a 15 s interval,
// for 5 minutes per step. Per step: collector CPU %, RSS (median and peak), scheduler skipped
// runs, export latency and cycle duration (from the batches' own timestamps, through the JSON
// lines output), series; then a least-squares line per metric: the cost per added target (slope)
// and the fixed cost (intercept). Baseline in the same run, on the same servers and databases:
// prometheus-postgres-exporter covering the same databases (one process per server, as 0.11's
// multi-DSN mode fails on them), scraped every 15 s.
// Run: npm run bench:scale (builds first). Knobs: BENCH_SCALE_TARGETS (1,10,50,100,200,500),
// BENCH_SCALE_SECONDS (300 per step), BENCH_SCALE_PEER_SECONDS (120; 0: no exporter),
// BENCH_SCALE_SERVERS (4), BENCH_SCALE_TABLES (10 per database), BENCH_SCALE_INTERVAL (15),
// BENCH_SCALE_PEER_QUERIES (1: the exporter with Debian's example queries.yaml; 0: defaults).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  cli,
  createTables,
  EXPORTER,
  exampleQueries,
  exporterErrors,
  exporterVersion,
  freePort,
  httpText,
  intList,
  linearFit,
  loadNote,
  machineLine,
  mdTable,
  median,
  num,
  parseExposition,
  percentile,
  positiveInt,
  procCpuMs,
  procStatusKb,
  quick,
  redact,
  sleep,
  spawnNode,
  startEmbedded,
  startExporter,
  stopChild,
  waitFor,
  writeResult,
} from './lib.mjs';

const STEPS = [
  ...new Set(intList('BENCH_SCALE_TARGETS', [1, 10, 50, 100, 200, 500], [1, 10])),
].sort((a, b) => a - b);
const SECONDS = positiveInt('BENCH_SCALE_SECONDS', 300, 30);
const PEER_SECONDS = (() => {
  const raw = process.env.BENCH_SCALE_PEER_SECONDS;
  if (raw === '0') return 0;
  return positiveInt('BENCH_SCALE_PEER_SECONDS', Math.min(120, SECONDS), 30);
})();
const SERVERS = Math.min(positiveInt('BENCH_SCALE_SERVERS', 4, 2), STEPS.at(-1));
const TABLES = positiveInt('BENCH_SCALE_TABLES', 10, 5);
const INTERVAL_S = positiveInt('BENCH_SCALE_INTERVAL', 15);
const PEER_QUERIES = process.env.BENCH_SCALE_PEER_QUERIES !== '0';
const NAME = 'scale';
const MAX_TARGETS = STEPS.at(-1);
const withPeer = PEER_SECONDS > 0 && existsSync(EXPORTER);
const peerVersion = withPeer ? exporterVersion() : undefined;

const loadBefore = os.loadavg()[0];
const work = mkdtempSync(path.join(os.tmpdir(), 'pgql-bench-scale-'));
const servers = [];
const admins = [];
const children = new Set();
const secrets = [];
const log = (msg) => process.stderr.write(`scale: ${msg}\n`);
const benchStart = performance.now();

/** The database of target i (0-based) and its server: round-robin over the servers. */
const placement = (i) => ({ server: i % SERVERS, db: `scale_${String(i + 1).padStart(3, '0')}` });

try {
  // ---- Servers and databases, created once for the largest step. -----------------------------
  const perServer = Math.ceil(MAX_TARGETS / SERVERS);
  // Per target: pgquerylens' pool (default maxConnections 5) and its session sampler, or one
  // exporter connection; generous, so a step never fails on max_connections.
  const maxConnections = perServer * 7 + 30;
  const setupStart = performance.now();
  for (let s = 0; s < SERVERS; s++) {
    const server = await startEmbedded({ max_connections: String(maxConnections) });
    servers.push(server);
    secrets.push(server.password);
    const admin = new pg.Client({
      connectionString: server.url(),
      application_name: 'bench-harness',
    });
    await admin.connect();
    admins.push(admin);
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    for (const role of ['pgquerylens', 'postgres_exporter']) {
      await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${server.password}'`);
    }
    // A template with tables, indexes and rows, copied per target database.
    await admin.query('CREATE DATABASE scale_template');
    const tpl = new pg.Client({ connectionString: server.url('scale_template') });
    await tpl.connect();
    await tpl.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await createTables(
      tpl,
      Array.from({ length: TABLES }, (_, t) => `items_${t + 1}`),
      200,
    );
    await tpl.end();
  }
  for (let i = 0; i < MAX_TARGETS; i++) {
    const { server, db } = placement(i);
    await admins[server].query(
      `CREATE DATABASE ${db} TEMPLATE scale_template${servers[server].major >= 15 ? ' STRATEGY FILE_COPY' : ''}`,
    );
  }
  for (const admin of admins) {
    await admin.query('ALTER DATABASE scale_template WITH ALLOW_CONNECTIONS false');
  }
  const setupMs = performance.now() - setupStart;
  log(`${SERVERS} servers, ${MAX_TARGETS} databases ready in ${num(setupMs / 1000)} s`);
  const pgVersion = (await admins[0].query('SHOW server_version')).rows[0].server_version;
  let queriesFile;
  let queryEdits = [];
  if (withPeer && PEER_QUERIES) {
    const q = exampleQueries(servers[0].major);
    queriesFile = path.join(work, 'queries.yaml');
    writeFileSync(queriesFile, q.text);
    queryEdits = q.edits;
  }

  const connectionsBy = async (role) => {
    let n = 0;
    for (const admin of admins) {
      const r = await admin.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
        [role],
      );
      n += r.rows[0].n;
    }
    return n;
  };
  const drained = (role) =>
    waitFor(async () => (await connectionsBy(role)) === 0, {
      what: `${role}'s connections to close`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });

  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('PG') && !k.startsWith('PGQUERYLENS_') && !k.startsWith('OTEL_'),
    ),
  );

  /** RSS sampled every second into `into` while `running()` holds. */
  const sampleRss = (pid, into, running) =>
    (async () => {
      while (running()) {
        const kb = procStatusKb(pid, 'VmRSS');
        if (Number.isFinite(kb)) into.push(kb);
        await sleep(1000);
      }
    })();

  /** Sum of a counter's samples matching `labelPart`, by the value of label `by`, largest first. */
  const byLabel = (samples, name, labelPart, by) => {
    const out = new Map();
    for (const x of samples) {
      if (x.name !== name || !x.labels.includes(labelPart) || x.value === 0) continue;
      const key = new RegExp(`${by}="([^"]*)"`).exec(x.labels)?.[1] ?? '?';
      out.set(key, (out.get(key) ?? 0) + x.value);
    }
    return [...out.entries()].sort((a, b) => b[1] - a[1]);
  };

  /** The collector's log lines grouped by message: count, collectors, one error text. */
  const summariseLog = (lines) => {
    const groups = new Map();
    for (const line of lines) {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { level: 'stderr', msg: line.slice(0, 120) };
      }
      const key = `${entry.level} ${entry.msg}`;
      const g = groups.get(key) ?? { count: 0, collectors: new Map(), example: undefined };
      g.count += 1;
      if (entry.collector)
        g.collectors.set(entry.collector, (g.collectors.get(entry.collector) ?? 0) + 1);
      g.example ??= entry.err ?? entry.error ?? entry.reason;
      groups.set(key, g);
    }
    return [...groups.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, 5)
      .map(([key, g]) => {
        const top = [...g.collectors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
        return `${num(g.count)}× \`${key}\`${top.length > 0 ? ` (${top.map(([c, n]) => `${c} ${num(n)}`).join(', ')})` : ''}${g.example !== undefined ? `, e.g. "${String(g.example).slice(0, 160)}"` : ''}`;
      });
  };

  // ---- One pgquerylens step. ---------------------------------------------------------------
  async function runPgquerylens(n) {
    const port = await freePort();
    const targets = Array.from({ length: n }, (_, i) => {
      const { server, db } = placement(i);
      return {
        name: `s${server + 1}-${db}`,
        url: `postgres://pgquerylens@127.0.0.1:${servers[server].port}/${db}`,
        password: servers[server].password,
        databases: [db],
      };
    });
    const configFile = path.join(work, `pgquerylens-${n}.yaml`);
    writeFileSync(
      configFile,
      JSON.stringify({
        mode: 'otel',
        interval: `${INTERVAL_S}s`,
        log: { level: 'warn' },
        otlp: { enabled: false },
        telemetry: { port, host: '127.0.0.1', prometheus: true },
        targets,
      }),
      { mode: 0o600 },
    );
    // Batches arrive as JSON lines on stdout: each one's metadata gives its run's start and end,
    // and its arrival here the export latency (end of the run → written by the adapter).
    const batches = [];
    let pending = '';
    const onStdout = (chunk) => {
      const arrived = Date.now();
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m =
          /"metadata":\{"collectorVersion":"[^"]*","startedAt":"([^"]+)","finishedAt":"([^"]+)"/.exec(
            line,
          );
        let started;
        let finished;
        if (m !== null) {
          started = Date.parse(m[1]);
          finished = Date.parse(m[2]);
        } else if (line.trim() !== '') {
          const meta = JSON.parse(line).metadata;
          started = Date.parse(meta.startedAt);
          finished = Date.parse(meta.finishedAt);
        } else continue;
        batches.push({ started, finished, arrived, bytes: line.length });
      }
    };
    const proc = spawnNode([cli, `--config=${configFile}`, '--output=json'], {
      env,
      cwd: work,
      onStdout,
    });
    children.add(proc);
    const pid = proc.child.pid;
    const spawnedAt = performance.now();
    const spawnedWall = Date.now();
    const endAt = spawnedAt + SECONDS * 1000;
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const rss = [];
    let running = true;
    let readyAt;
    try {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) {
            throw new Error(`pgquerylens exited: ${redact(proc.err(), secrets).slice(0, 2000)}`);
          }
          try {
            await httpText(`http://127.0.0.1:${port}/readyz`, 5_000);
            return true;
          } catch {
            return false;
          }
        },
        {
          what: `every target's first run (${n} targets)`,
          timeoutMs: SECONDS * 1000,
          intervalMs: 200,
        },
      );
      readyAt = performance.now();
      const readyWall = Date.now();
      const cpuReady = procCpuMs(pid);
      const sampler = sampleRss(pid, rss, () => running);
      // Scraped every interval, as Prometheus would: the render is part of the collector's cost.
      const scrapes = [];
      let next = spawnedAt + (INTERVAL_S * 1000) / 2;
      while (next < readyAt) next += INTERVAL_S * 1000;
      let last;
      while (next < endAt) {
        await sleep(Math.max(0, next - performance.now()));
        const t0 = performance.now();
        const text = await httpText(metricsUrl);
        scrapes.push(performance.now() - t0);
        last = text;
        next += INTERVAL_S * 1000;
      }
      await sleep(Math.max(0, endAt - performance.now()));
      const cpuEnd = procCpuMs(pid);
      const wallEnd = performance.now();
      const hwm = procStatusKb(pid, 'VmHWM');
      const connections = await connectionsBy('pgquerylens');
      last = await httpText(metricsUrl);
      running = false;
      await sampler;
      const samples = parseExposition(last);
      const sum = (name, labelPart = '') =>
        samples
          .filter((s) => s.name === name && s.labels.includes(labelPart))
          .reduce((a, s) => a + s.value, 0);
      const steady = batches.filter((b) => b.started >= readyWall);
      const firstSweep = batches.filter((b) => b.started < readyWall);
      return {
        n,
        firstCycleS: (readyAt - spawnedAt) / 1000,
        cpuPctAll: (cpuEnd / (wallEnd - spawnedAt)) * 100,
        cpuPctSteady: ((cpuEnd - cpuReady) / (wallEnd - readyAt)) * 100,
        rssMedianMb: median(rss) / 1024,
        rssMaxMb: hwm / 1024,
        skipped: sum('pgquerylens_scheduler_runs_total', 'outcome="skipped"'),
        started: sum('pgquerylens_scheduler_runs_total', 'outcome="started"'),
        failedRuns: sum('pgquerylens_collector_runs_total', 'outcome="failure"'),
        dropped: sum('pgquerylens_export_batches_total', 'outcome="dropped"'),
        batches: steady.length,
        batchesPerTargetMinute: steady.length / n / ((wallEnd - readyAt) / 60_000),
        latencyP50: percentile(
          steady.map((b) => b.arrived - b.finished),
          50,
        ),
        latencyP95: percentile(
          steady.map((b) => b.arrived - b.finished),
          95,
        ),
        latencyMax: Math.max(...steady.map((b) => b.arrived - b.finished)),
        firstLatencyMax: Math.max(...firstSweep.map((b) => b.arrived - b.finished)),
        cycleP50: percentile(
          steady.map((b) => b.finished - b.started),
          50,
        ),
        cycleP95: percentile(
          steady.map((b) => b.finished - b.started),
          95,
        ),
        scrapeP50: percentile(scrapes, 50),
        series: samples.filter((s) => s.name.startsWith('postgresql_')).length,
        connections,
        spawnedWall,
        stderrLines: redact(proc.err(), secrets)
          .split('\n')
          .filter((l) => l.trim() !== ''),
        failuresBy: byLabel(
          samples,
          'pgquerylens_collector_runs_total',
          'outcome="failure"',
          'collector',
        ),
        droppedBy: byLabel(
          samples,
          'pgquerylens_export_batches_total',
          'outcome="dropped"',
          'adapter',
        ),
      };
    } finally {
      running = false;
      await stopChild(proc.child, proc.exited);
      children.delete(proc);
    }
  }

  // ---- One exporter step: the same databases, one exporter per server, scraped together. ----
  // 0.11 cannot take the targets as comma-separated DSNs: two DSNs on one server report the same
  // server-wide series, and any two DSNs the same collector self-metrics, so every scrape fails
  // with HTTP 500. So, as it is deployed: one exporter per server, discovering the step's
  // databases (--auto-discover-databases --include-databases), and with the example queries
  // (per-table statistics in each database) unless BENCH_SCALE_PEER_QUERIES=0.
  async function runExporter(n) {
    const byServer = new Map();
    for (let i = 0; i < n; i++) {
      const { server, db } = placement(i);
      byServer.set(server, [...(byServer.get(server) ?? []), db]);
    }
    const handles = [];
    const rss = [];
    let running = true;
    try {
      for (const [server, dbs] of byServer) {
        const s = servers[server];
        const dsn = `postgresql://postgres_exporter:${s.password}@127.0.0.1:${s.port}/postgres?sslmode=disable&application_name=postgres_exporter`;
        const args = ['--auto-discover-databases', `--include-databases=${dbs.join(',')}`];
        if (queriesFile !== undefined) args.push(`--extend.query-path=${queriesFile}`);
        const h = await startExporter(dsn, args);
        children.add(h);
        handles.push(h);
      }
      const scrapeAll = async () => {
        const t0 = performance.now();
        const texts = await Promise.all(handles.map((h) => httpText(h.url, 600_000)));
        return { ms: performance.now() - t0, texts };
      };
      // The first scrape opens every connection: reported apart.
      const firstScrapeS = (await scrapeAll()).ms / 1000;
      const startedAt = performance.now();
      const cpuOf = () => handles.reduce((a, h) => a + procCpuMs(h.pid), 0);
      const cpuStart = cpuOf();
      const sampler = (async () => {
        while (running) {
          rss.push(handles.reduce((a, h) => a + procStatusKb(h.pid, 'VmRSS'), 0));
          await sleep(1000);
        }
      })();
      const endAt = startedAt + PEER_SECONDS * 1000;
      const scrapes = [];
      let series = 0;
      let next = startedAt;
      while (next < endAt) {
        await sleep(Math.max(0, next - performance.now()));
        const { ms, texts } = await scrapeAll();
        scrapes.push(ms);
        series = texts.reduce(
          (a, t) => a + parseExposition(t).filter((x) => x.name.startsWith('pg_')).length,
          0,
        );
        // A scrape longer than the interval delays the next one, as Prometheus would skip.
        next = Math.max(next + INTERVAL_S * 1000, performance.now());
      }
      await sleep(Math.max(0, endAt - performance.now()));
      const cpuEnd = cpuOf();
      const wallEnd = performance.now();
      running = false;
      await sampler;
      return {
        n,
        processes: handles.length,
        firstScrapeS,
        cpuPct: ((cpuEnd - cpuStart) / (wallEnd - startedAt)) * 100,
        rssMedianMb: median(rss) / 1024,
        rssMaxMb: handles.reduce((a, h) => a + procStatusKb(h.pid, 'VmHWM'), 0) / 1024,
        scrapes: scrapes.length,
        scrapeP50: percentile(scrapes, 50),
        scrapeP95: percentile(scrapes, 95),
        overInterval: scrapes.filter((ms) => ms > INTERVAL_S * 1000).length,
        overTimeout: scrapes.filter((ms) => ms > 10_000).length,
        series,
        errors: exporterErrors(redact(handles.map((h) => h.log()).join('\n'), secrets)),
      };
    } finally {
      running = false;
      for (const h of handles) {
        await stopChild(h.child, h.exited);
        children.delete(h);
      }
    }
  }

  // ---- Steps. -------------------------------------------------------------------------------
  const ours = [];
  const peer = [];
  for (const n of STEPS) {
    log(`${n} targets: pgquerylens for ${SECONDS} s`);
    try {
      ours.push(await runPgquerylens(n));
    } catch (err) {
      // A step that cannot finish (say, the first runs outlast the step) is reported, not fatal.
      ours.push({ n, failed: redact(err.message, secrets) });
    }
    await drained('pgquerylens');
    if (withPeer) {
      log(`${n} targets: exporter for ${PEER_SECONDS} s`);
      try {
        peer.push(await runExporter(n));
      } catch (err) {
        peer.push({ n, failed: redact(err.message, secrets) });
      }
      await drained('postgres_exporter');
    }
  }

  // ---- Report ---------------------------------------------------------------------------------
  const xs = (rows) => rows.map((r) => r.n);
  const withUnit = (v, unit) => (unit ? `${num(v)} ${unit}` : num(v));
  const fitRow = (rows, label, key, unit) => {
    const ok = rows.filter((r) => Number.isFinite(r[key]));
    const f =
      ok.length >= 2
        ? linearFit(
            xs(ok),
            ok.map((r) => r[key]),
          )
        : undefined;
    return [
      label,
      f ? withUnit(f.slope, unit) : 'n/a',
      f ? withUnit(f.intercept, unit) : 'n/a',
      f && Number.isFinite(f.r2) ? num(f.r2) : 'n/a',
      ...STEPS.map((n) => num(rows.find((r) => r.n === n)?.[key])),
    ];
  };
  const fitHeader = [
    'Metric',
    'Per added target (slope)',
    'Fixed (intercept)',
    'r²',
    ...STEPS.map((n) => `${n}`),
  ];
  const oursFit = mdTable(fitHeader, [
    fitRow(ours, 'CPU % of one core, whole step (start, first sweep, steady)', 'cpuPctAll', '%'),
    fitRow(ours, 'CPU % of one core, steady (after every target’s first run)', 'cpuPctSteady', '%'),
    fitRow(ours, 'RSS MB, median', 'rssMedianMb', 'MB'),
    fitRow(ours, 'RSS MB, peak (VmHWM)', 'rssMaxMb', 'MB'),
    fitRow(ours, 'Skipped runs (scheduler)', 'skipped', ''),
    fitRow(ours, 'Export latency ms, p50', 'latencyP50', 'ms'),
    fitRow(ours, 'Export latency ms, p95', 'latencyP95', 'ms'),
    fitRow(ours, 'Cycle duration ms, p95', 'cycleP95', 'ms'),
    fitRow(ours, 'First run of every target, s', 'firstCycleS', 's'),
    fitRow(ours, '`/metrics` render ms, p50', 'scrapeP50', 'ms'),
    fitRow(ours, 'Series (`postgresql_*`)', 'series', ''),
    fitRow(ours, 'Server connections held', 'connections', ''),
  ]);
  const peerOk = peer.filter((p) => p.failed === undefined);
  const peerFit = withPeer
    ? mdTable(fitHeader, [
        fitRow(peerOk, 'CPU % of one core (scraped every interval)', 'cpuPct', '%'),
        fitRow(peerOk, 'RSS MB, median', 'rssMedianMb', 'MB'),
        fitRow(peerOk, 'RSS MB, peak (VmHWM)', 'rssMaxMb', 'MB'),
        fitRow(peerOk, 'Scrape round wall ms, p50', 'scrapeP50', 'ms'),
        fitRow(peerOk, 'Scrape round wall ms, p95', 'scrapeP95', 'ms'),
        fitRow(peerOk, 'First scrape s (opens every connection)', 'firstScrapeS', 's'),
        fitRow(peerOk, 'Series (`pg_*`)', 'series', ''),
      ])
    : '';
  const slopeOf = (rows, key) => {
    const ok = rows.filter((r) => Number.isFinite(r[key]));
    return ok.length >= 2
      ? linearFit(
          xs(ok),
          ok.map((r) => r[key]),
        ).slope
      : NaN;
  };
  const slopeRatio = (a, b) =>
    Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${num(a / b)}×` : 'n/a';
  const comparison = withPeer
    ? mdTable(
        ['Per added target', 'pgquerylens', 'exporter', 'pgquerylens ÷ exporter'],
        [
          ['CPU % of one core (pgquerylens: steady)', 'cpuPctSteady', 'cpuPct', '%'],
          ['RSS MB, median', 'rssMedianMb', 'rssMedianMb', 'MB'],
          ['RSS MB, peak', 'rssMaxMb', 'rssMaxMb', 'MB'],
          ['Series', 'series', 'series', ''],
        ].map(([label, a, b, unit]) => {
          const sa = slopeOf(ours, a);
          const sb = slopeOf(peerOk, b);
          return [label, withUnit(sa, unit), withUnit(sb, unit), slopeRatio(sa, sb)];
        }),
      )
    : '';
  const stepsTable = mdTable(
    [
      'Targets',
      `batches per target-minute (≈ ${num(60 / INTERVAL_S)} on long steps)`,
      'skipped',
      'failed collector runs',
      'dropped',
      'latency max ms (first sweep)',
      'cycle p50 ms',
      'stderr lines',
    ],
    ours.map((r) =>
      r.failed !== undefined
        ? [String(r.n), `**failed**: ${r.failed.slice(0, 200)}`, '', '', '', '', '', '']
        : [
            String(r.n),
            num(r.batchesPerTargetMinute),
            num(r.skipped),
            num(r.failedRuns),
            num(r.dropped),
            `${num(r.latencyMax)} (${num(r.firstLatencyMax)})`,
            num(r.cycleP50),
            String(r.stderrLines.length),
          ],
    ),
  );
  const peerSteps = withPeer
    ? mdTable(
        [
          'Targets',
          'exporters',
          'scrape rounds',
          `> ${INTERVAL_S} s`,
          '> 10 s (Prometheus’ default timeout)',
          'errors',
        ],
        peer.map((p) =>
          p.failed !== undefined
            ? [String(p.n), '', 'failed', '', '', p.failed.slice(0, 200)]
            : [
                String(p.n),
                String(p.processes),
                String(p.scrapes),
                String(p.overInterval),
                String(p.overTimeout),
                p.errors.join('; ') || 'none',
              ],
        ),
      )
    : '';
  const diagnostics = ours
    .filter((r) => r.failed === undefined)
    .flatMap((r) => {
      const parts = [];
      if (r.failuresBy.length > 0) {
        parts.push(
          `failed collector runs by collector: ${r.failuresBy
            .slice(0, 5)
            .map(([c, n]) => `${c} ${num(n)}`)
            .join(', ')}`,
        );
      }
      if (r.droppedBy.length > 0) {
        parts.push(
          `dropped batches by adapter: ${r.droppedBy.map(([a, n]) => `${a} ${num(n)}`).join(', ')}`,
        );
      }
      const log = summariseLog(r.stderrLines);
      if (log.length > 0) parts.push(`log (warn and above): ${log.join('; ')}`);
      return parts.length > 0 ? [`- ${r.n} targets: ${parts.join('. ')}.`] : [];
    });
  const load = loadNote(loadBefore);
  const md = `# Scale: cost per added target

Generated by \`bench/scale.mjs\` (\`npm run bench:scale\`) on ${new Date().toISOString().slice(0, 10)}${quick ? ' (BENCH_QUICK: a smoke run, not a result)' : ''}.
Steps: ${STEPS.join(', ')} targets; each target is one database (${TABLES} tables with indexes and 200 rows each) on one of ${SERVERS} embedded PostgreSQL ${pgVersion} servers (round-robin), configured as its own target (\`databases: [its database]\`). pgquerylens: default collectors, \`interval: ${INTERVAL_S}s\`, ${SECONDS} s per step from its start. Linear least-squares fit over the steps: slope = cost per added target.

## pgquerylens

${oursFit}

${stepsTable}

## Baseline: prometheus-postgres-exporter, same targets

${withPeer ? `${peerFit}\n\n${peerSteps}\n\n${comparison}` : `Not run: ${PEER_SECONDS === 0 ? 'BENCH_SCALE_PEER_SECONDS=0' : `${EXPORTER} not found`}.`}

## Method

- pgquerylens runs as a daemon per step (\`--config\` with one target per database, OTLP off, \`telemetry.prometheus: true\`, \`--output=json\` to the harness' pipe). Its \`/metrics\` is scraped every ${INTERVAL_S} s (as Prometheus would; the render is in its CPU). **Whole step**: CPU (utime + stime, /proc) over the ${SECONDS} s from spawn, which hold the start, one full sweep (every collector is due on the first run; the 5-minute collectors' next run falls after the step) and the steady cycles. **Steady**: from the moment /readyz reports every target's first run done to the end. RSS: VmRSS every second after that (median), VmHWM at the end (peak).
- Export latency: each batch's \`metadata.finishedAt\` (end of its run) to its JSON line arriving at the harness, steady batches only; it holds the export queue and the JSON adapter's serialisation. Cycle duration: \`finishedAt − startedAt\` of each steady batch (one per target per cycle). Skipped runs: \`pgquerylens_scheduler_runs_total{outcome="skipped"}\` at the end of the step: per (target, collector) entry whose previous run was still going when its next turn came, so one late cycle of a target counts once per collector due in it.
- Each target also runs the server-wide collectors and its own 1 s session sampler, as a server monitored per database would.${withPeer ? `\n- Exporter (${peerVersion}): 0.11 cannot take these targets as comma-separated DSNs in \`DATA_SOURCE_NAME\` (two DSNs on one server report the same server-wide series, and any two DSNs the same collector self-metrics: every scrape fails with HTTP 500), so it runs as deployed: one process per server used by the step (DSN to its \`postgres\` database), \`--auto-discover-databases --include-databases=<the step's databases on it>\`${queriesFile !== undefined ? `, and Debian's example queries.yaml (per-table statistics in each database, per-statement series; edits: ${queryEdits.join('; ')})` : ' and its defaults only (BENCH_SCALE_PEER_QUERIES=0: no per-database statistics)'}. After a first scrape of all of them (reported apart: it opens every connection), they are scraped together every ${INTERVAL_S} s for ${PEER_SECONDS} s (a round longer than the interval delays the next); CPU and RSS are summed over the processes. It runs after pgquerylens' step, never beside it.` : ''}
- Setup (not in the figures): ${num(setupMs / 1000)} s; whole bench ${num((performance.now() - benchStart) / 60_000)} min. \`max_connections\` ${maxConnections} per server.
${load.warning}
## Diagnostics

${diagnostics.length > 0 ? diagnostics.join('\n') : 'No failed collector runs, dropped batches or warnings at any step.'}

## Environment

| | |
| --- | --- |
| PostgreSQL | ${pgVersion} × ${SERVERS} (embedded, 127.0.0.1 TCP, fsync off) |
| Machine | ${machineLine()} |
| Load | ${load.line} |

Client and servers share the machine's CPUs: at the larger steps the servers' own work (connections, the per-target session samplers reading pg_stat_activity) competes with the collector.
`;
  writeResult(NAME, md);
} finally {
  for (const c of children) await stopChild(c.child, c.exited);
  await Promise.all(admins.map((a) => a.end().catch(() => undefined)));
  for (const s of servers) await s.stop();
  rmSync(work, { recursive: true, force: true });
}

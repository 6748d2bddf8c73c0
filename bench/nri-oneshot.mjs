#!/usr/bin/env node
// Wall time and peak RSS of one `--mode=nri` run as the New Relic infrastructure agent starts
// it (a fresh process, only nri-postgresql's variables in its environment, no PATH) against one
// (embedded) server with 3 databases and 100 tables, side by side in the same run with two
// baselines: a bare `node -e ""` start, and the same collection as our own `--once
// --output=json` in the otel mode (no NRI adapter, no session burst, no saved state), so the
// NRI adapter's and the burst's cost reads as a ratio that travels between machines.
// Run with: npm run bench:nri (builds first), or as part of npm run bench.
// Knobs: BENCH_RUNS (5), BENCH_DATABASES (3), BENCH_TABLES (100, spread over the databases),
// BENCH_ROWS (500 per table), BENCH_RSS (`time` for /usr/bin/time, `preload` for a
// --require'd hook reading process.resourceUsage(); the default is time when it works).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import {
  cli,
  createTables,
  fmt,
  machineLine,
  mb,
  median,
  positiveInt,
  quick,
  round,
  startEmbedded,
  tableWorkload,
  writeResult,
} from './lib.mjs';

const RUNS = positiveInt('BENCH_RUNS', 5, 1);
const DATABASES = positiveInt('BENCH_DATABASES', 3);
const TABLES = positiveInt('BENCH_TABLES', 100, 30);
const ROWS = positiveInt('BENCH_ROWS', 500, 100);
const TIME_BIN = '/usr/bin/time';

const signed = (n) => `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n))}`;

const work = mkdtempSync(path.join(os.tmpdir(), 'pgql-bench-nri-'));

// ---------------------------------------------------------------------------------------------
// Peak RSS of a child. GNU time reads the kernel's figure for the process it waits on; without
// it, a preloaded hook writes the child's own maxRSS (getrusage, kB) to a file named after its
// pid on exit. Either way nothing is added to the child's environment.
const preload = path.join(work, 'max-rss.cjs');
writeFileSync(
  preload,
  `'use strict';
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  writeFileSync(${JSON.stringify(work)} + '/rss-' + process.pid, String(process.resourceUsage().maxRSS));
});
`,
);

function timeWorks() {
  if (!existsSync(TIME_BIN)) return false;
  const out = path.join(work, 'time-probe');
  const r = spawnSync(TIME_BIN, ['-o', out, '-f', '%M', process.execPath, '-e', ''], { env: {} });
  return r.status === 0 && /^\d+\s*$/.test(readFileSync(out, 'utf8'));
}
const rssMethod = process.env.BENCH_RSS ?? (timeWorks() ? 'time' : 'preload');
if (rssMethod !== 'time' && rssMethod !== 'preload') {
  throw new Error('BENCH_RSS must be time or preload');
}

let runCounter = 0;
/** Runs `node ...args` with exactly `env`; wall time is spawn to exit. */
function runNode(args, env) {
  runCounter += 1;
  const rssFile = path.join(work, `time-${runCounter}`);
  const [command, argv] =
    rssMethod === 'time'
      ? [TIME_BIN, ['-o', rssFile, '-f', '%M', process.execPath, ...args]]
      : [process.execPath, ['--require', preload, ...args]];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let wallMs = NaN;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => (wallMs = performance.now() - t0));
    child.on('close', (code) => {
      // With time, the exit status is the child's; with the hook, the pid is node's own.
      const file = rssMethod === 'time' ? rssFile : path.join(work, `rss-${child.pid}`);
      let rssKb = NaN;
      try {
        rssKb = Number(readFileSync(file, 'utf8').trim());
        rmSync(file);
      } catch {
        // Reported as a failed run below.
      }
      if (code !== 0 || !Number.isFinite(rssKb)) {
        reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
        return;
      }
      resolve({ wallMs, rssKb, stdout, stderr });
    });
  });
}

/** What one run printed: lines, and the sets in them. */
function countOutput(stdout) {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const counts = { lines: lines.length, entities: 0, sets: 0, events: 0 };
  for (const line of lines) {
    const doc = JSON.parse(line);
    if (Array.isArray(doc.data)) {
      // NRI v3: a metric set per `metrics` item; v4: a dimensional metric per item.
      for (const entity of doc.data) {
        counts.entities += 1;
        counts.sets += entity.metrics?.length ?? 0;
        counts.events += entity.events?.length ?? 0;
      }
    } else if (Array.isArray(doc.probes)) {
      // A UnifiedMetrics batch: probe rows, and the query-performance records as events.
      counts.entities += 1;
      counts.sets += doc.probes.reduce((n, p) => n + p.rows.length, 0);
      for (const [key, value] of Object.entries(doc)) {
        if (key !== 'probes' && Array.isArray(value)) counts.events += value.length;
      }
    }
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
const server = await startEmbedded();
const clients = [];
try {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  clients.push(admin);
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version;

  // 3 databases, 100 tables between them (34 + 33 + 33), each with its primary key and one or
  // two secondary indexes, ROWS rows, analysed.
  const databases = Array.from({ length: DATABASES }, (_, i) => `bench_nri_${i + 1}`);
  const tablesOf = databases.map((_, i) =>
    Array.from(
      { length: Math.floor(TABLES / DATABASES) + (i < TABLES % DATABASES ? 1 : 0) },
      (_, t) => `orders_${String(t + 1).padStart(2, '0')}`,
    ),
  );
  const dbClients = [];
  for (const [i, db] of databases.entries()) {
    await admin.query(`CREATE DATABASE ${db}`);
    const c = new pg.Client({ connectionString: server.url(db) });
    await c.connect();
    clients.push(c);
    dbClients.push(c);
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await createTables(c, tablesOf[i], ROWS);
  }

  // A light workload per table (point reads, an index range, a scan, an update), plus a
  // slower statement per database so query monitoring's 1 ms threshold sees one. Run before
  // every process so each collection finds fresh statement and table activity, as under the
  // agent's interval.
  let tick = 0;
  const workload = async () => {
    tick += 1;
    await Promise.all(
      dbClients.map(async (c, i) => {
        await tableWorkload(c, tablesOf[i], ROWS, tick);
        await c.query(
          `SELECT a.account, count(*) FROM ${tablesOf[i][0]} a JOIN ${tablesOf[i][1] ?? tablesOf[i][0]} b
             ON a.account = b.account, pg_sleep(0.002) GROUP BY a.account`,
        );
      }),
    );
  };
  await workload();

  // The agent's environment for the integration: its `env` map, TEMP_DIR, nothing else.
  const nriEnv = (stateDir) => {
    mkdirSync(stateDir, { recursive: true });
    return {
      HOSTNAME: '127.0.0.1',
      PORT: String(server.port),
      USERNAME: 'postgres',
      PASSWORD: server.password,
      COLLECTION_LIST: JSON.stringify(databases),
      ENABLE_QUERY_MONITORING: 'true',
      TEMP_DIR: stateDir,
    };
  };

  // The otel baselines collect exactly what the NRI runs collect: the resolved target and
  // collector switches, read back from `validate` with the same variables.
  const otelConfigFor = (name, env) => {
    const validated = spawnSync(process.execPath, [cli, 'validate', '--mode=nri'], {
      env,
      encoding: 'utf8',
    });
    if (validated.status !== 0) throw new Error(`validate failed: ${validated.stderr}`);
    const resolved = parseYaml(validated.stdout.replace(/^configuration is valid\n/, ''));
    const t = resolved.targets[0];
    const file = path.join(work, name);
    const target = { name: t.name, host: t.host, port: t.port, user: t.user };
    Object.assign(target, { password: server.password, database: t.database });
    Object.assign(target, { sslmode: t.sslmode, databases: t.databases });
    const config = { mode: 'otel', log: { level: 'warn' }, targets: [target] };
    writeFileSync(file, JSON.stringify({ ...config, collectors: resolved.collectors }), {
      mode: 0o600,
    });
    return file;
  };
  const validateEnv = nriEnv(path.join(work, 'state-validate'));
  const otelConfig = otelConfigFor('otel.json', validateEnv);
  const noQm = { ENABLE_QUERY_MONITORING: 'false' };
  const otelNoQmConfig = otelConfigFor('otel-no-qm.json', { ...validateEnv, ...noQm });
  // No target in it: nri-postgresql's variables still describe the target (drop-in).
  const noBurstConfig = path.join(work, 'no-burst.json');
  writeFileSync(noBurstConfig, JSON.stringify({ nri: { burst: { samples: 0 } } }));

  // `base` is the otel run collecting the same things, for the "× otel" columns.
  const method = (name, args, env, base) => ({ name, args, env, base, wall: [], rss: [] });
  const bare = method('bare `node -e ""`', ['-e', ''], {});
  const otel = method(
    'otel `--once --output=json`',
    [cli, `--config=${otelConfig}`, '--once', '--output=json'],
    {},
  );
  const v3 = method('`--mode=nri` (v3)', [cli, '--mode=nri'], nriEnv(path.join(work, 'v3')), otel);
  const v4 = method(
    '`--mode=nri --nri-protocol=4`',
    [cli, '--mode=nri', '--nri-protocol=4'],
    nriEnv(path.join(work, 'v4')),
    otel,
  );
  // Diagnostics that split the difference: the burst, query monitoring's records (an NRI run
  // has the previous run's statement baseline, a plain --once has none and so no deltas to
  // report), and what is left: the adapter and its state.
  const noBurst = method(
    'diag: `--mode=nri` (v3), burst off',
    [cli, '--mode=nri', `--config=${noBurstConfig}`],
    nriEnv(path.join(work, 'v3-no-burst')),
    otel,
  );
  const otelNoQm = method(
    'diag: otel `--once`, query monitoring off',
    [cli, `--config=${otelNoQmConfig}`, '--once', '--output=json'],
    {},
  );
  const noBurstNoQm = method(
    'diag: `--mode=nri` (v3), burst off, query monitoring off',
    [cli, '--mode=nri', `--config=${noBurstConfig}`],
    { ...nriEnv(path.join(work, 'v3-no-burst-no-qm')), ...noQm },
    otelNoQm,
  );
  const methods = [bare, v3, v4, otel, noBurst, noBurstNoQm, otelNoQm];

  // Warm-up: saves each NRI variant's rates and statement baselines, warms the OS caches.
  for (const m of methods) {
    if (m !== bare) await workload();
    await runNode(m.args, m.env);
  }
  for (const m of methods) Object.assign(m, { stderrLines: 0, out: undefined });
  for (let r = 0; r < RUNS; r++) {
    // Order rotated per round so no method always follows the same one.
    for (let k = 0; k < methods.length; k++) {
      const m = methods[(r + k) % methods.length];
      if (m !== bare) await workload();
      const res = await runNode(m.args, m.env);
      m.wall.push(res.wallMs);
      m.rss.push(res.rssKb);
      m.out = countOutput(res.stdout);
      m.stderrLines += res.stderr.split('\n').filter((l) => l.trim() !== '').length;
    }
  }

  // -------------------------------------------------------------------------------------------
  const range = (xs, f) => `${f(Math.min(...xs))} – ${f(Math.max(...xs))}`;
  const ratio = (a, b) => round(a / b, 2);
  const rows = methods.map((m) => {
    const w = median(m.wall);
    const r = median(m.rss);
    const base = m.base ?? m;
    return [
      m.name,
      fmt(round(w)),
      range(m.wall, (x) => fmt(round(x))),
      String(mb(r)),
      range(m.rss, mb),
      String(ratio(w, median(bare.wall))),
      String(ratio(r, median(bare.rss))),
      m === bare ? 'n/a' : String(ratio(w, median(base.wall))),
      m === bare ? 'n/a' : String(ratio(r, median(base.rss))),
      m === bare
        ? 'n/a'
        : `${m.out.lines} / ${fmt(m.out.entities)} / ${fmt(m.out.sets)} / ${fmt(m.out.events)}`,
    ];
  });
  const header = [
    'Run',
    'Wall ms',
    'Range ms',
    'Peak RSS MB',
    'Range MB',
    '× bare wall',
    '× bare RSS',
    '× otel wall',
    '× otel RSS',
    'Lines / entities / sets / events',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const compare = ([label, a, b]) =>
    `- ${label}: ${ratio(median(a.wall), median(b.wall))}× wall ` +
    `(${signed(round(median(a.wall) - median(b.wall)))} ms), ` +
    `${ratio(median(a.rss), median(b.rss))}× peak RSS (${signed(mb(median(a.rss) - median(b.rss)))} MB)`;
  const out = [
    `# One \`--mode=nri\` run: ${DATABASES} databases, ${TABLES} tables (${ROWS} rows each), ${RUNS} runs, medians${quick ? ' (BENCH_QUICK: a smoke run, not a result)' : ''}`,
    '',
    line(header),
    `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...rows.map(line),
    '',
    ...[
      ['NRI v3 over otel --once (burst, query-monitoring records, adapter)', v3, otel],
      ['NRI v4 over otel --once (burst, query-monitoring records, adapter)', v4, otel],
      ['the burst (v3 over v3 burst off)', v3, noBurst],
      ['query-monitoring records (v3 burst off, over the same with it off)', noBurst, noBurstNoQm],
      [
        'the NRI adapter and state (v3 burst off, no QM, over otel --once no QM)',
        noBurstNoQm,
        otelNoQm,
      ],
    ].map(compare),
    '',
    `stderr lines over all measured runs: ${methods
      .filter((m) => m !== bare)
      .map((m) => m.stderrLines)
      .join(', ')}, in the table's order (a healthy run prints none).`,
    '',
    '× otel: over the otel run collecting the same (the query-monitoring-off one for the run with it off).',
    'Sets: NRI v3 metric sets (data[].metrics, QPM sets included); NRI v4 dimensional metrics; otel probe',
    'rows. Events: NRI v4 events; otel query-performance records (none: a plain --once keeps no statement',
    'baseline between processes, so it reads pg_stat_statements but has no deltas to report). Counts are',
    'from the last run. Wall: spawn to exit, including Node start, connecting, the NRI burst (10 session',
    'samples 100 ms apart by default) and the state save. Only the nri-postgresql variables (HOSTNAME, PORT,',
    "USERNAME, PASSWORD, COLLECTION_LIST, ENABLE_QUERY_MONITORING, TEMP_DIR) in the NRI runs' environment,",
    "none in the others'. A light workload (6 statements per table) runs before each collecting process,",
    'not timed; one unmeasured warm-up run per method first (it saves the state the next run reads).',
    '',
    `PostgreSQL ${pgVersion} (embedded, 127.0.0.1 TCP); ${machineLine()}; peak RSS by ${rssMethod === 'time' ? `${TIME_BIN} -f %M` : 'process.resourceUsage().maxRSS (preload)'}.`,
  ];
  writeResult('nri-oneshot', out.join('\n'));
} finally {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

#!/usr/bin/env node
// Cost to the monitored server and to the collector's host of Debian's prometheus-postgres-exporter
// (the peer) against pgquerylens' default collectors, in the same run on the same (embedded)
// server: 3 databases of 100 tables each (indexes, rows, a light workload per cycle).
// Per cycle, for each: server execution time and statements (pg_stat_statements deltas, top-level
// only, attributed by login role because pg_stat_statements has no application_name), series
// exposed, client CPU (/proc utime+stime) and RSS; medians over the steady cycles and ratios.
// The exporter runs twice: with its defaults, and with Debian's example queries.yaml (per-table
// and per-statement metrics, the way a user gets them). pgquerylens runs as a daemon with the
// Prometheus pull endpoint, scraped once per cycle like the exporter.
// Run: npm run bench:peer (builds first). Knobs: BENCH_PEER_CYCLES (8), BENCH_PEER_INTERVAL (15,
// seconds), BENCH_DATABASES (3), BENCH_TABLES (100 per database), BENCH_ROWS (500 per table),
// POSTGRES_EXPORTER (/usr/bin/prometheus-postgres-exporter).
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
  loadNote,
  machineLine,
  mdTable,
  mean,
  median,
  num,
  parseExposition,
  positiveInt,
  procCpuMs,
  procStatusKb,
  quick,
  ratio,
  redact,
  sleep,
  spawnNode,
  startEmbedded,
  startExporter,
  stopChild,
  tableWorkload,
  waitFor,
  writeResult,
} from './lib.mjs';

const CYCLES = positiveInt('BENCH_PEER_CYCLES', 8, 3);
const INTERVAL_S = positiveInt('BENCH_PEER_INTERVAL', 15);
const DATABASES = positiveInt('BENCH_DATABASES', 3);
const TABLES = positiveInt('BENCH_TABLES', 100, 30);
const ROWS = positiveInt('BENCH_ROWS', 500, 200);
const NAME = 'peer-exporter';

if (!existsSync(EXPORTER)) {
  writeResult(
    NAME,
    `# Peer: prometheus-postgres-exporter\n\nSkipped: ${EXPORTER} not found (Debian: \`apt-get install prometheus-postgres-exporter\`, or set POSTGRES_EXPORTER).\n`,
  );
  process.exit(0);
}
const peerVersion = exporterVersion();

// ---- pg_stat_statements deltas by role -------------------------------------------------------

const ASH_MARK = 'AS sampled_at';

async function snapshot(admin, roles) {
  const { rows } = await admin.query(
    `SELECT r.rolname AS role, s.dbid, s.queryid::text AS queryid, s.toplevel,
            s.calls::float8 AS calls, s.total_exec_time::float8 AS ms,
            s.query LIKE '%${ASH_MARK}%' AS ash
       FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
      WHERE r.rolname = ANY($1)`,
    [roles],
  );
  const dealloc = Number(
    (await admin.query('SELECT dealloc FROM pg_stat_statements_info')).rows[0].dealloc,
  );
  return {
    map: new Map(rows.map((r) => [`${r.role}|${r.dbid}|${r.queryid}|${r.toplevel}`, r])),
    dealloc,
  };
}

/** Top-level statements and execution ms per role between two snapshots. */
function delta(before, after) {
  const out = {};
  for (const [key, r] of after.map) {
    if (!r.toplevel) continue;
    const o = before.map.get(key);
    // A new entry (or one evicted and re-created) counts from zero.
    const grew = o !== undefined && r.calls >= o.calls;
    const calls = grew ? r.calls - o.calls : r.calls;
    const ms = grew ? r.ms - o.ms : r.ms;
    const d = (out[r.role] ??= { calls: 0, ms: 0, ashCalls: 0, ashMs: 0 });
    d.calls += calls;
    d.ms += ms;
    if (r.ash) {
      d.ashCalls += calls;
      d.ashMs += ms;
    }
  }
  return { byRole: out, evicted: after.dealloc - before.dealloc };
}

// ---- Series ----------------------------------------------------------------------------------

function seriesOf(text, prefix) {
  const samples = parseExposition(text);
  const own = samples.filter((s) => s.name.startsWith(prefix));
  const families = new Map();
  for (const s of own) {
    const family = s.name.replace(/_(bucket|sum|count|total)$/, '');
    families.set(family, (families.get(family) ?? 0) + 1);
  }
  return { all: samples.length, own: own.length, families, samples };
}

// ---------------------------------------------------------------------------------------------
const loadBefore = os.loadavg()[0];
const work = mkdtempSync(path.join(os.tmpdir(), 'pgql-bench-peer-'));
const server = await startEmbedded({ max_connections: '100' });
const secrets = [server.password];
const clients = [];
const children = [];
try {
  const admin = new pg.Client({
    connectionString: server.url(),
    application_name: 'bench-harness',
  });
  await admin.connect();
  clients.push(admin);
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version;
  const pgssMax = (await admin.query('SHOW pg_stat_statements.max')).rows[0][
    'pg_stat_statements.max'
  ];

  // Each tool logs in as its own role (same privileges: superuser, as README.Debian allows), so
  // pg_stat_statements can tell their statements apart; the harness stays `postgres`.
  const tools = [
    { key: 'exDefault', role: 'postgres_exporter', app: 'postgres_exporter' },
    { key: 'exQueries', role: 'postgres_exporter_queries', app: 'postgres_exporter' },
    { key: 'pgql', role: 'pgquerylens', app: 'pgquerylens' },
  ];
  for (const t of tools) {
    await admin.query(`CREATE ROLE ${t.role} LOGIN SUPERUSER PASSWORD '${server.password}'`);
  }
  const roles = tools.map((t) => t.role);

  const databases = Array.from({ length: DATABASES }, (_, i) => `bench_peer_${i + 1}`);
  const tables = Array.from(
    { length: TABLES },
    (_, t) => `orders_${String(t + 1).padStart(3, '0')}`,
  );
  const dbClients = [];
  const setupStart = performance.now();
  for (const db of databases) {
    await admin.query(`CREATE DATABASE ${db}`);
    const c = new pg.Client({
      connectionString: server.url(db),
      application_name: 'bench-harness',
    });
    await c.connect();
    clients.push(c);
    dbClients.push(c);
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await createTables(c, tables, ROWS);
  }
  const setupMs = performance.now() - setupStart;
  // The setup's DDL would otherwise sit in pg_stat_statements as ~1,000 one-off statements.
  await admin.query('SELECT pg_stat_statements_reset()');
  let tick = 0;
  const workload = async () => {
    tick += 1;
    await Promise.all(dbClients.map((c) => tableWorkload(c, tables, ROWS, tick)));
  };
  await workload();

  // ---- The exporters: started now, idle until scraped. --------------------------------------
  const queries = exampleQueries(server.major);
  const queriesFile = path.join(work, 'queries.yaml');
  writeFileSync(queriesFile, queries.text);
  const dsn = (role, app) =>
    `postgresql://${role}:${server.password}@127.0.0.1:${server.port}/postgres?sslmode=disable&application_name=${app}`;
  const startTool = async (tool, extraArgs) => {
    const args = ['--auto-discover-databases', ...extraArgs];
    const handle = await startExporter(dsn(tool.role, tool.app), args);
    children.push(handle);
    Object.assign(tool, {
      pid: handle.pid,
      url: handle.url,
      args: args.map((a) => a.replace(work, '…')),
      log: () => redact(handle.log(), secrets),
    });
  };
  const [exDefault, exQueries, pgql] = tools;
  await startTool(exDefault, []);
  await startTool(exQueries, [`--extend.query-path=${queriesFile}`]);

  /** One scrape of an exporter: wall, its CPU, RSS, series. */
  const scrapeExporter = async (tool) => {
    const cpu0 = procCpuMs(tool.pid);
    const t0 = performance.now();
    const text = await httpText(tool.url);
    const wallMs = performance.now() - t0;
    const cpuMs = procCpuMs(tool.pid) - cpu0;
    const series = seriesOf(text, 'pg_');
    return { wallMs, cpuMs, rssKb: procStatusKb(tool.pid, 'VmRSS'), series };
  };

  // ---- First scrapes and pgquerylens' first cycle, reported apart. ---------------------------
  const first = {};
  let snap = await snapshot(admin, roles);
  for (const tool of [exDefault, exQueries]) {
    const cpuStart = procCpuMs(tool.pid); // since process start: Go runtime and listener
    const s = await scrapeExporter(tool);
    const next = await snapshot(admin, roles);
    const d = delta(snap, next).byRole[tool.role] ?? { calls: 0, ms: 0 };
    snap = next;
    first[tool.key] = { ...s, cpuMs: cpuStart + s.cpuMs, server: d };
  }

  const telemetryPort = await freePort();
  const configFile = path.join(work, 'pgquerylens.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 'otel',
      interval: `${INTERVAL_S}s`,
      log: { level: 'warn' },
      otlp: { enabled: false },
      telemetry: { port: telemetryPort, host: '127.0.0.1', prometheus: true },
      targets: [
        {
          name: 'bench',
          url: `postgres://${pgql.role}@127.0.0.1:${server.port}/postgres`,
          password: server.password,
          databases: 'all',
        },
      ],
    }),
    { mode: 0o600 },
  );
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('PG') && !k.startsWith('PGQUERYLENS_') && !k.startsWith('OTEL_'),
    ),
  );
  const before = await snapshot(admin, roles);
  const pgqlProc = spawnNode([cli, `--config=${configFile}`], { env, cwd: work });
  children.push(pgqlProc);
  pgql.pid = pgqlProc.child.pid;
  pgql.url = `http://127.0.0.1:${telemetryPort}/metrics`;
  const pgqlStarted = performance.now();
  await waitFor(
    async () => {
      if (pgqlProc.child.exitCode !== null) {
        throw new Error(`pgquerylens exited: ${redact(pgqlProc.err(), secrets)}`);
      }
      try {
        await httpText(`http://127.0.0.1:${telemetryPort}/readyz`, 5_000);
        return true;
      } catch {
        return false;
      }
    },
    { what: 'pgquerylens’ first cycle (/readyz)', timeoutMs: 120_000, intervalMs: 100 },
  );
  const readyAt = performance.now();
  {
    const text = await httpText(pgql.url);
    const after = await snapshot(admin, roles);
    const d = delta(before, after).byRole[pgql.role] ?? { calls: 0, ms: 0 };
    first.pgql = {
      wallMs: readyAt - pgqlStarted,
      cpuMs: procCpuMs(pgql.pid),
      rssKb: procStatusKb(pgql.pid, 'VmRSS'),
      series: seriesOf(text, 'postgresql_'),
      server: d,
    };
    snap = after;
  }

  // ---- Steady cycles. -----------------------------------------------------------------------
  // The end of the second cycle fixes the phase of pgquerylens' cycles (it polls /metrics, so it
  // happens before any measured window). Window boundaries then sit 6 s after a cycle's end,
  // mid-way between cycles, so each window holds exactly one cycle (checked), its session-sampler
  // ticks, and one scrape of each tool: the exporters are scraped at the boundary, well clear of
  // pgquerylens' cycle. The first boundary only primes the readings.
  const batchesOf = (series) =>
    series.samples
      .filter((x) => x.name === 'pgquerylens_collection_batches_total')
      .reduce((n, x) => n + x.value, 0);
  const skippedOf = (series) =>
    series.samples
      .filter((x) => x.name === 'pgquerylens_scheduler_runs_total' && x.labels.includes('skipped'))
      .reduce((n, x) => n + x.value, 0);
  const firstBatches = batchesOf(first.pgql.series);
  await waitFor(
    async () => batchesOf(seriesOf(await httpText(pgql.url), 'postgresql_')) > firstBatches,
    { what: 'pgquerylens’ second cycle', timeoutMs: (INTERVAL_S + 60) * 1000, intervalMs: 250 },
  );
  let boundary = performance.now() + 6_000;
  let pgqlCpu = NaN;
  let batches = NaN;
  const windows = [];
  for (let k = 0; k <= CYCLES; k++) {
    await sleep(Math.max(0, boundary - performance.now()));
    const cpuBefore = procCpuMs(pgql.pid);
    const t0 = performance.now();
    const text = await httpText(pgql.url);
    const scrapeMs = performance.now() - t0;
    const cpu = procCpuMs(pgql.pid);
    const series = seriesOf(text, 'postgresql_');
    const ex = {};
    for (const tool of [exDefault, exQueries]) ex[tool.key] = await scrapeExporter(tool);
    const next = await snapshot(admin, roles);
    const d = delta(snap, next);
    const nowBatches = batchesOf(series);
    if (k > 0) {
      windows.push({
        pgql: {
          cpuMs: cpu - pgqlCpu,
          renderCpuMs: cpu - cpuBefore,
          wallMs: scrapeMs,
          rssKb: procStatusKb(pgql.pid, 'VmRSS'),
          series,
          cycles: nowBatches - batches,
          skipped: skippedOf(series),
          server: d.byRole[pgql.role] ?? { calls: 0, ms: 0, ashCalls: 0, ashMs: 0 },
        },
        ...Object.fromEntries(
          [exDefault, exQueries].map((t) => [
            t.key,
            { ...ex[t.key], server: d.byRole[t.role] ?? { calls: 0, ms: 0 } },
          ]),
        ),
        evicted: d.evicted,
      });
      process.stderr.write(`peer-exporter: cycle ${k}/${CYCLES}\n`);
    }
    snap = next;
    pgqlCpu = cpu;
    batches = nowBatches;
    boundary += INTERVAL_S * 1000;
    await workload();
  }
  const hwm = Object.fromEntries(tools.map((t) => [t.key, procStatusKb(t.pid, 'VmHWM')]));
  const pgqlLog = redact(pgqlProc.err(), secrets)
    .split('\n')
    .filter((l) => l.trim() !== '');

  // ---- Report ---------------------------------------------------------------------------------
  const pick = (key, f) => windows.map((w) => f(w[key]));
  const stat = (key) => {
    const serverMs = median(pick(key, (x) => x.server.ms));
    const calls = median(pick(key, (x) => x.server.calls));
    const series = median(pick(key, (x) => x.series.own));
    const cpuMs = median(pick(key, (x) => x.cpuMs));
    return {
      serverMs,
      serverMeanMs: mean(pick(key, (x) => x.server.ms)),
      calls,
      callsMean: mean(pick(key, (x) => x.server.calls)),
      series,
      allLines: median(pick(key, (x) => x.series.all)),
      serverPer1k: (serverMs / series) * 1000,
      cpuMs,
      cpuMeanMs: mean(pick(key, (x) => x.cpuMs)),
      cpuPer1k: (cpuMs / series) * 1000,
      rssKb: median(pick(key, (x) => x.rssKb)),
      hwmKb: hwm[key],
      wallMs: median(pick(key, (x) => x.wallMs)),
    };
  };
  const s = { exDefault: stat('exDefault'), exQueries: stat('exQueries'), pgql: stat('pgql') };
  const ashMs = median(pick('pgql', (x) => x.server.ashMs));
  const ashCalls = median(pick('pgql', (x) => x.server.ashCalls));
  const renderCpuMs = median(pick('pgql', (x) => x.renderCpuMs));
  const cycleCounts = pick('pgql', (x) => x.cycles);
  const oddWindows = cycleCounts.filter((c) => c !== 1).length;
  const skipped = windows.at(-1)?.pgql.skipped ?? 0;
  const evicted = windows.reduce((n, w) => n + w.evicted, 0);

  const rowsFor = [
    ['Server execution ms per cycle (median)', (x) => num(x.serverMs)],
    ['Server execution ms per cycle (mean)', (x) => num(x.serverMeanMs)],
    ['Statements per cycle (median)', (x) => num(x.calls)],
    ['Series exposed (metric samples of its own)', (x) => num(x.series)],
    ['All exposition lines (incl. process/self metrics)', (x) => num(x.allLines)],
    ['Server ms per 1,000 series', (x) => num(x.serverPer1k)],
    ['Client CPU ms per cycle (median)', (x) => num(x.cpuMs)],
    ['Client CPU ms per cycle (mean)', (x) => num(x.cpuMeanMs)],
    ['Client CPU ms per 1,000 series', (x) => num(x.cpuPer1k)],
    ['RSS MB (median at the cycle boundary)', (x) => num(x.rssKb / 1024)],
    ['Peak RSS MB (VmHWM, whole run)', (x) => num(x.hwmKb / 1024)],
    ['Scrape wall ms (median; the exporter queries the server in it)', (x) => num(x.wallMs)],
  ];
  const ratioKeys = [
    'serverMs',
    'serverMeanMs',
    'calls',
    'series',
    'allLines',
    'serverPer1k',
    'cpuMs',
    'cpuMeanMs',
    'cpuPer1k',
    'rssKb',
    'hwmKb',
    'wallMs',
  ];
  const mainTable = mdTable(
    [
      'Per cycle, steady state',
      'exporter defaults',
      'exporter + queries.yaml',
      'pgquerylens',
      'pgquerylens ÷ defaults',
      'pgquerylens ÷ queries.yaml',
    ],
    rowsFor.map(([label, f], i) => [
      label,
      f(s.exDefault),
      f(s.exQueries),
      f(s.pgql),
      ratio(s.pgql[ratioKeys[i]], s.exDefault[ratioKeys[i]]),
      ratio(s.pgql[ratioKeys[i]], s.exQueries[ratioKeys[i]]),
    ]),
  );
  const firstTable = mdTable(
    ['First cycle / scrape', 'exporter defaults', 'exporter + queries.yaml', 'pgquerylens'],
    [
      [
        'Server execution ms',
        ...['exDefault', 'exQueries', 'pgql'].map((k) => num(first[k].server.ms)),
      ],
      ['Statements', ...['exDefault', 'exQueries', 'pgql'].map((k) => num(first[k].server.calls))],
      ['Series', ...['exDefault', 'exQueries', 'pgql'].map((k) => num(first[k].series.own))],
      [
        'Client CPU ms (since process start)',
        ...['exDefault', 'exQueries', 'pgql'].map((k) => num(first[k].cpuMs)),
      ],
      [
        'Wall ms (scrape; pgquerylens: start to ready)',
        ...['exDefault', 'exQueries', 'pgql'].map((k) => num(first[k].wallMs)),
      ],
      [
        'RSS MB after it',
        ...['exDefault', 'exQueries', 'pgql'].map((k) => num(first[k].rssKb / 1024)),
      ],
    ],
  );
  // Amortised bound: what the first cycle cost beyond a steady one, as if it recurred at the
  // shortest slower cadence (5 minutes). The 1-minute collectors are in the steady mean already.
  const fiveMinCycles = 300 / INTERVAL_S;
  const amortisedMs =
    s.pgql.serverMeanMs + (first.pgql.server.ms - s.pgql.serverMeanMs) / fiveMinCycles;
  const familiesTable = (fam, n = 8) =>
    [...fam.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([f, c]) => `\`${f}\` ${num(c)}`)
      .join(', ');
  const lastEx = windows.at(-1);
  const byPrefix = (fam, prefixes) => {
    const out = {};
    for (const [f, c] of fam) {
      const p = prefixes.find((x) => f.startsWith(x)) ?? 'other';
      out[p] = (out[p] ?? 0) + c;
    }
    return out;
  };
  const qFam = byPrefix(lastEx.exQueries.series.families, [
    'pg_stat_user_tables',
    'pg_statio_user_tables',
    'pg_stat_statements',
    'pg_settings',
  ]);
  const exLog = (tool) => exporterErrors(tool.log());
  const uniq = (xs) => [...new Set(xs)];
  const load = loadNote(loadBefore);

  const md = `# Peer: prometheus-postgres-exporter vs pgquerylens, cost per cycle

Generated by \`bench/peer-exporter.mjs\` (\`npm run bench:peer\`) on ${new Date().toISOString().slice(0, 10)}${quick ? ' (BENCH_QUICK: a smoke run, not a result)' : ''}.
One embedded PostgreSQL ${pgVersion}, ${DATABASES} databases × ${TABLES} tables (primary key, one or two secondary indexes, ${num(ROWS)} rows each, analysed), a light workload between cycles (6 statements per table). ${CYCLES} steady cycles of ${INTERVAL_S} s after the first; medians, ratios pgquerylens ÷ peer (below 1: pgquerylens' figure is lower).

${mainTable}

pgquerylens' server time includes its 1 s session sampler (Active Session History, which the exporter has no counterpart for): median ${num(ashMs)} ms and ${num(ashCalls)} statements of each cycle's figures above; without it pgquerylens' median is ≈ ${num(s.pgql.serverMs - ashMs)} ms and ${num(s.pgql.calls - ashCalls)} statements per cycle. Of pgquerylens' client CPU per cycle, rendering its \`/metrics\` for the scrape took a median ${num(renderCpuMs)} ms (CPU read just before and after the scrape); the rest is the cycle, the sampler's ${INTERVAL_S} ticks and the export.

**Steady state is not a full sweep for pgquerylens.** Its collectors have their own cadences (\`pgquerylens collectors\`): per-table, per-index, sequence, function, bloat and settings probes run every 5 min to 1 h, \`pg_stat_statements\`/\`pg_stat_activity\`/replication slots every minute, the rest every cycle. The exporter runs every query on every scrape. The mean over ${CYCLES} cycles covers the 1-minute collectors ${num((CYCLES * INTERVAL_S) / 60)} time(s); the first cycle below runs everything once. Amortised bound: treating everything the first cycle did beyond a steady one as recurring every 5 minutes gives ≤ ${num(amortisedMs)} ms of server time per cycle (it also includes one-off connection and server-facts work, hence a bound).

${firstTable}

## What each one exposes

- **Exporter defaults** (\`${peerVersion}\`, \`${exDefault.args.join(' ')}\`): ${num(s.exDefault.series)} \`pg_*\` series. No per-table or per-index metrics: in 0.11 those exist only as user queries (\`pg_stat_user_tables\`, \`pg_statio_user_tables\` in the example queries.yaml); the built-in metrics are server-wide (\`pg_stat_database\`, \`pg_locks\`, \`pg_stat_activity\`, \`pg_settings\`, replication, archiver, database sizes), read once per scrape, with \`SELECT version()\` in each discovered database. Largest families: ${familiesTable(lastEx.exDefault.series.families)}.
- **Exporter + queries.yaml** (\`--extend.query-path\`, Debian's \`examples/queries.yaml\` with these edits: ${queries.edits.join('; ')}): ${num(s.exQueries.series)} \`pg_*\` series: ${Object.entries(
    qFam,
  )
    .map(([p, c]) => `${p} ${num(c)}`)
    .join(
      ', ',
    )}. Per-table queries run in every discovered database each scrape; \`pg_stat_statements\` gives one series per statement and column (every statement on the server, not a top N).
- **pgquerylens** (default collectors, \`databases: all\`, \`telemetry.prometheus: true\`, OTLP off): ${num(s.pgql.series)} \`postgresql_*\` series on its \`/metrics\` (the semantic metrics: server, database, table, index, statement top-N, sessions, locks, settings…); its own \`pgquerylens_*\` self-metrics are in the "all lines" row only. Largest families: ${familiesTable(lastEx.pgql.series.families)}.
- Series = non-comment lines of the exposition whose metric name has the tool's prefix (\`pg_\`, \`postgresql_\`), at the last boundary scrape.

## Method

- Attribution: pg_stat_statements has no application_name, so each tool logs in as its own role (\`postgres_exporter\`, \`postgres_exporter_queries\`, \`pgquerylens\`; all superusers, as README.Debian allows) and also sets application_name (\`postgres_exporter\` in \`DATA_SOURCE_NAME\`, \`pgquerylens\` by the collector). The harness runs as \`postgres\` (application_name \`bench-harness\`) and is excluded. Statements and execution time are pg_stat_statements deltas of top-level entries (\`toplevel\`; the server tracks nested statements too), so utility statements (\`SET\`, \`BEGIN\`) count as statements. \`pg_stat_statements.max\` ${pgssMax}; entries evicted during the run: ${evicted}.
- pgquerylens runs as a daemon (\`--config\`, \`interval: ${INTERVAL_S}s\`, Prometheus pull on the telemetry listener, OTLP off, no datastore). After its second cycle, window boundaries are set 6 s after a cycle's end, mid-way between cycles; at each boundary the harness scrapes pgquerylens' \`/metrics\` (as Prometheus would, so the render is in its CPU), then each exporter's \`/metrics\`, then reads pg_stat_statements, then runs the workload. Each window therefore holds one pgquerylens cycle and its ${INTERVAL_S} session-sampler ticks, and one scrape of each exporter. Cycles per window: ${uniq(cycleCounts).join(', ')}${oddWindows > 0 ? ` (**${oddWindows} window(s) did not hold exactly one cycle**)` : ' (exactly one each)'}; scheduler skipped runs: ${skipped}.
- Client CPU: utime + stime from /proc/<pid>/stat between boundaries (10 ms ticks, hence the means too). RSS: VmRSS at each boundary; peak: VmHWM at the end. The first cycle/scrape is reported apart: connections, server facts, Go/Node start, and pgquerylens runs every collector once.
- Setup (not timed in the figures): ${num(setupMs / 1000)} s. pg_stat_statements reset after the setup.
${load.warning}
## Logs

- Exporter defaults, errors: ${exLog(exDefault).join('; ') || 'none'}${server.major >= 17 ? ' (0.11.1 predates PostgreSQL 17, which moved the checkpoint columns from pg_stat_bgwriter to pg_stat_checkpointer: its bgwriter collector fails on every scrape)' : ''}.
- Exporter + queries.yaml, errors: ${exLog(exQueries).join('; ') || 'none'}.
- pgquerylens (log level warn): ${pgqlLog.length} lines${pgqlLog.length > 0 ? `, e.g. \`${pgqlLog[0].slice(0, 200)}\`` : ''}.

## Environment

| | |
| --- | --- |
| PostgreSQL | ${pgVersion} (embedded, 127.0.0.1 TCP, fsync off) |
| prometheus-postgres-exporter | ${peerVersion} |
| Machine | ${machineLine()} |
| Load | ${load.line} |
`;
  writeResult(NAME, md);
} finally {
  for (const c of children) await stopChild(c.child, c.exited);
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

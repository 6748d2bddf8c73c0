#!/usr/bin/env node
// Cost of the 1 s session sampler with 100 active sessions, side by side with a baseline in
// the same run: the same pg_stat_activity read done by a bare node-postgres client that keeps
// nothing. Reports collector CPU per tick (ours and the baseline's, and their ratio) and the
// server's execution time per sample from pg_stat_statements. Run: npm run bench:ash
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(path.join(root, 'dist', p));
const { EmbeddedServer } = await load('cli/embedded/embedded-server.js');
const { silentLogger } = await load('core/logger.js');
const { PgTargetConnector } = await load('collectors/connection/pg-target-connector.js');
const { AshSampler } = await load('collectors/ash/ash-sampler.js');
const { ashSampleSql } = await load('collectors/ash/ash-sql.js');
const { QUERY_PERFORMANCE_DEFAULTS } = await load('core/config/query-performance-settings.js');
const { loadConfig } = await load('core/config/load-config.js');

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100);
const TICKS = Number(process.env.BENCH_TICKS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

const server = await EmbeddedServer.start({
  logger: silentLogger,
  settings: { max_connections: String(SESSIONS + 30) },
});
const admin = new pg.Client({ connectionString: server.url() });
await admin.connect();
await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
const workers = [];
try {
  // 100 sessions that stay active: half sleeping (a wait event), half spinning on CPU, each
  // with a distinct text so obfuscation cannot hit one memo entry.
  for (let i = 0; i < SESSIONS; i++) {
    const c = new pg.Client({ connectionString: server.url() });
    c.on('error', () => undefined);
    await c.connect();
    workers.push(c);
    const sql =
      i % 2 === 0
        ? `SELECT pg_sleep(600), 'worker ${i}', ${i} AS n`
        : `SELECT count(*) FROM generate_series(1, 2000000000) g WHERE g = ${i} OR 'x${i}' = 'y'`;
    c.query(sql).catch(() => undefined);
  }
  const active = async () =>
    Number(
      (
        await admin.query(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        )
      ).rows[0].n,
    );
  while ((await active()) < SESSIONS) await new Promise((r) => setTimeout(r, 50));

  const target = loadConfig({
    env: {},
    flags: { targets: [{ url: server.url(), name: 'bench' }] },
    knownCollectors: [],
  }).targets[0];
  const connector = new PgTargetConnector(target, silentLogger);
  const settings = {
    ...QUERY_PERFORMANCE_DEFAULTS,
    ash: { ...QUERY_PERFORMANCE_DEFAULTS.ash, intervalMs: 3_600_000, timeoutMs: 5_000 },
  };
  const facts = await connector.facts();
  const sql = ashSampleSql(facts);

  const ours = [];
  const base = [];
  let seen = 0;
  for (let run = 0; run < RUNS; run++) {
    // Baseline: the identical read, rows dropped.
    const bare = new pg.Client({ connectionString: server.url() });
    await bare.connect();
    await bare.query('SELECT 1');
    let t = process.cpuUsage();
    for (let i = 0; i < TICKS; i++) await bare.query(sql, [settings.queryTextMaxLength]);
    let used = process.cpuUsage(t);
    base.push((used.user + used.system) / TICKS);
    await bare.end();

    // Ours: the sampler (query, obfuscation, samples into the ring), read as collectors do.
    const sampler = new AshSampler({
      target: 'bench',
      connector,
      settings,
      logger: silentLogger,
      wanted: () => true,
      blockingWanted: () => false,
    });
    await sampler.tickNow(); // connects
    sampler.ring.read('bench');
    t = process.cpuUsage();
    for (let i = 0; i < TICKS; i++) {
      await sampler.tickNow();
      if (i % 30 === 29) sampler.ring.read('bench');
    }
    used = process.cpuUsage(t);
    ours.push((used.user + used.system) / TICKS);
    seen = sampler.samples / sampler.ticks;
    await sampler.stop();
  }
  await connector.close();

  const stats = await admin.query(
    `SELECT sum(calls)::float8 AS calls, sum(total_exec_time)::float8 AS ms
       FROM pg_stat_statements WHERE query LIKE '%FROM pg_catalog.pg_stat_activity%backend_type IN%'`,
  );
  const serverMsPerSample = stats.rows[0].ms / stats.rows[0].calls;
  const ourUs = median(ours);
  const baseUs = median(base);
  const lines = [
    `ASH sampler, ${SESSIONS} active sessions (${round(seen, 0)} seen per tick), ${TICKS} ticks x ${RUNS} runs, medians:`,
    `  collector CPU per tick: ${round(ourUs / 1000, 2)} ms (baseline read without processing ${round(baseUs / 1000, 2)} ms, ratio ${round(ourUs / baseUs, 2)}x)`,
    `  collector CPU at 1 tick/s: ${round(ourUs / 10_000, 2)} % of one core`,
    `  server execution time per sample: ${round(serverMsPerSample, 2)} ms (${round(serverMsPerSample / 10, 3)} % of one core at 1/s)`,
  ];
  console.log(lines.join('\n'));
} finally {
  await Promise.all(workers.map((w) => w.end().catch(() => undefined)));
  await admin.end();
  await server.stop();
}

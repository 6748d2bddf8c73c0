#!/usr/bin/env node
// Rows per second of the datastore's COPY writer (DatastoreWriter.write) against two baselines
// in the same run, on the same (embedded) server, with the same rows, into the same partitioned
// metrics table:
//   1. `psql \copy` of the identical rows from a TSV file: the physical limit of COPY;
//   2. 100-row multi-row parameterised INSERTs in one transaction (the pgEdge collector's way).
// The figures are meant as ratios, which travel between machines; absolute rows/s do not.
// Run with: npm run bench:datastore (builds first), or as part of npm run bench.
// Knobs: BENCH_RUNS (5), BENCH_TARGETS (200), BENCH_ROWS_PER_TARGET (500),
// BENCH_PROBE (pg_stat_all_tables if the build has it, else pg_stat_database), PSQL (psql path).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
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

const runs = positiveInt('BENCH_RUNS', 5, 2);
const targetCount = positiveInt('BENCH_TARGETS', 200, 20);
const rowsPerTarget = positiveInt('BENCH_ROWS_PER_TARGET', 500, 100);
const INSERT_ROWS = 100;

// psql first: no point starting a server without it.
const psql = findPsql();
function findPsql() {
  // An explicit PSQL is the only candidate: a wrong one must fail, not fall back silently.
  const candidates = process.env.PSQL ? [process.env.PSQL] : ['psql', '/usr/bin/psql'];
  for (const candidate of candidates) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { bin: candidate, version: r.stdout.trim() };
  }
  console.error(
    `bench/datastore-write: psql not found${process.env.PSQL ? ` at PSQL=${process.env.PSQL}` : ''} (needed for the \\copy baseline).\n` +
      '  Install the PostgreSQL client, e.g. `apt-get install postgresql-client` (Debian/Ubuntu)\n' +
      '  or `brew install libpq` (macOS), or point PSQL=/path/to/psql at one.',
  );
  process.exit(1);
}

const modules = {
  builtin: await dist('collectors/builtin-collectors.js'),
  pool: await dist('adapters/datastore/datastore-pool.js'),
  migrate: await dist('adapters/datastore/migrate.js'),
  tables: await dist('adapters/datastore/metrics-tables.js'),
  writer: await dist('adapters/datastore/datastore-writer.js'),
  copyText: await dist('adapters/datastore/copy-text.js'),
  partitions: await dist('adapters/datastore/partitions.js'),
};
const { storedColumns } = modules.tables;
const { copyField } = modules.copyText;

const schemas = modules.builtin.builtinProbeSchemas();
const probeName =
  process.env.BENCH_PROBE ||
  (schemas.some((s) => s.name === 'pg_stat_all_tables')
    ? 'pg_stat_all_tables'
    : 'pg_stat_database');
const schema = schemas.find((s) => s.name === probeName);
if (schema === undefined) {
  console.error(`bench/datastore-write: no probe ${probeName} in the build`);
  process.exit(1);
}
if (schema.changeTracked) {
  console.error(`bench/datastore-write: ${probeName} is change-tracked; pick a plain probe`);
  process.exit(1);
}
const columns = storedColumns(schema);
const tableSql = `metrics."${schema.name}"`;
const columnList = columns.map((c) => `"${c.name}"`).join(', ');

// ---- Rows: generated once, typed after the probe's schema, deterministic. ----

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(0x70677166);
const DAY_MS = 86_400_000;
// Middle of the current week: every row lands in one (pre-created) weekly partition.
const collectedBase = modules.partitions.weekStart(new Date()).getTime() + 3.5 * DAY_MS;

function value(column, rowIndex) {
  const keyColumn = schema.key.includes(column.name);
  // Statistics views have NULLs (never-vacuumed tables, stats never reset, newer-version columns).
  if (!keyColumn && rand() < 0.08) return null;
  switch (column.type) {
    case 'int8':
      // Counters of every magnitude, small ones most often.
      return Math.floor(rand() ** 4 * 1e13);
    case 'float8':
      return Math.round(rand() ** 2 * 1e9) / 1000;
    case 'bool':
      return rand() < 0.5;
    case 'timestamptz':
      return new Date(collectedBase - Math.floor(rand() * 30 * DAY_MS)).toISOString();
    case 'jsonb':
      return JSON.stringify({ n: Math.floor(rand() * 1000), s: `v${rowIndex}` });
    case 'text':
      return keyColumn
        ? `${column.name}_${rowIndex}`
        : `${column.name.slice(0, 8)}_${rowIndex % 37}`;
  }
  throw new Error(`unhandled column type ${column.type}`);
}

function buildBatches() {
  const batches = [];
  for (let t = 0; t < targetCount; t += 1) {
    const rows = [];
    for (let r = 0; r < rowsPerTarget; r += 1) {
      const row = {};
      for (const column of schema.columns) row[column.name] = value(column, r);
      rows.push(row);
    }
    const name = `bench-target-${String(t).padStart(4, '0')}`;
    batches.push({
      id: `bench-${t}`,
      target: { name, host: `10.0.${t >> 8}.${t & 255}`, port: 5432, labels: { env: 'bench' } },
      probes: [
        {
          probe: schema.name,
          scope: schema.scope,
          ...(schema.scope === 'database' ? { database: `app_${t % 7}` } : {}),
          collectedAt: new Date(collectedBase + t).toISOString(),
          rows,
        },
      ],
      rows: rows.length,
    });
  }
  return batches;
}

// The rows each method stores: [connection_id, (database_name,) collected_at, ...probe columns].
function flatRows(batches, ids) {
  const out = [];
  for (const batch of batches) {
    const connectionId = ids.get(batch.target.name);
    for (const sample of batch.probes) {
      for (const row of sample.rows) {
        out.push(
          columns.map((c) => {
            if (c.name === 'connection_id') return connectionId;
            if (c.name === 'database_name') return sample.database ?? '';
            if (c.name === 'collected_at') return sample.collectedAt;
            return row[c.name] ?? null;
          }),
        );
      }
    }
  }
  return out;
}

function tsv(flat) {
  const noCoerce = () => {
    throw new Error('generated value did not fit its column');
  };
  return flat
    .map(
      (values) => values.map((v, i) => copyField(v, columns[i].type, noCoerce)).join('\t') + '\n',
    )
    .join('');
}

// ---- The three methods. Each returns elapsed ms. ----

async function runOurs(writer, batches) {
  const t0 = performance.now();
  const result = await writer.write(batches);
  const ms = performance.now() - t0;
  if (result.rows !== totalRows) throw new Error(`writer stored ${result.rows} of ${totalRows}`);
  return ms;
}

function runPsql(file, env) {
  const cmd = `\\copy ${tableSql} (${columnList}) FROM '${file}'`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(psql.bin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', cmd], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`psql \\copy exited ${code}: ${err.trim()}`));
    });
  });
}

function psqlStartup(env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(psql.bin, ['-X', '-q', '-c', 'SELECT 1'], { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`psql exited ${code}`)),
    );
  });
}

function insertSql(rowCount) {
  const width = columns.length;
  const tuples = [];
  for (let r = 0; r < rowCount; r += 1) {
    tuples.push(`(${columns.map((_, c) => `$${r * width + c + 1}`).join(', ')})`);
  }
  return `INSERT INTO ${tableSql} (${columnList}) VALUES ${tuples.join(', ')}`;
}

async function runInsert(pool, flat) {
  const fullSql = insertSql(INSERT_ROWS);
  const client = await pool.connect();
  try {
    const t0 = performance.now();
    await client.query('BEGIN');
    for (let start = 0; start < flat.length; start += INSERT_ROWS) {
      const chunk = flat.slice(start, start + INSERT_ROWS);
      const params = chunk.flat();
      // Full chunks reuse one prepared statement, as a driver with a statement cache would.
      if (chunk.length === INSERT_ROWS) {
        await client.query({ name: 'bench_insert_100', text: fullSql, values: params });
      } else {
        await client.query(insertSql(chunk.length), params);
      }
    }
    await client.query('COMMIT');
    return performance.now() - t0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

// ---- Helpers ----

const fmtInt = (n) => fmt(Math.round(n));
const round2 = (n) => round(n, 2);

async function reset(pool) {
  await pool.query(`TRUNCATE ${tableSql}, public.ingested_batches`);
  // Start every run from the same state: no checkpoint from an earlier run lands mid-measure.
  await pool.query('CHECKPOINT');
}

/** Order-independent fingerprint of the stored rows, so the methods provably stored the same. */
async function fingerprint(pool) {
  const r = await pool.query(
    `SELECT count(*)::bigint AS n, coalesce(sum(hashtext(t::text)::bigint), 0)::text AS h
       FROM ${tableSql} t`,
  );
  return `${r.rows[0].n}/${r.rows[0].h}`;
}

// ---- Main ----

const totalRows = targetCount * rowsPerTarget;
const tBuild = performance.now();
const batches = buildBatches();
const buildMs = performance.now() - tBuild;

const startedAt = performance.now();
const loadBefore = os.loadavg()[0];
const server = await startEmbedded();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgql-bench-write-'));
const pool = modules.pool.createDatastorePool({
  url: server.url(),
  maxConnections: 4,
  statementTimeoutMs: 120_000,
});
const psqlEnv = {
  ...process.env,
  PGHOST: '127.0.0.1',
  PGPORT: String(server.port),
  PGUSER: 'postgres',
  PGPASSWORD: server.password,
  PGDATABASE: 'postgres',
  PGAPPNAME: 'pgquerylens-bench',
  PGOPTIONS: '-c statement_timeout=120000',
};
try {
  await modules.migrate.migrate(pool);
  {
    const client = await pool.connect();
    try {
      await modules.tables.syncMetricsTables(client, [schema]);
    } finally {
      client.release();
    }
  }
  const writer = new modules.writer.DatastoreWriter({ pool, schemas: [schema], owner: 'bench' });

  // Warm-up write: registers the connections and creates the week's partition (both cached by
  // the writer, as in a long-running collector), and warms the server's and V8's caches.
  await writer.write(batches);
  const ids = new Map(
    (await pool.query('SELECT name, id FROM public.connections')).rows.map((r) => [r.name, r.id]),
  );
  const flat = flatRows(batches, ids);
  const file = path.join(tmp, 'rows.tsv');
  writeFileSync(file, tsv(flat));
  const fileBytes = readFileSync(file).length;
  const partitions = await pool.query(
    `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = $1::regclass`,
    [tableSql],
  );

  const methods = {
    ours: () => runOurs(writer, batches),
    copy: () => runPsql(file, psqlEnv),
    insert: () => runInsert(pool, flat),
  };
  const times = { ours: [], copy: [], insert: [] };
  const cpu = { ours: [], insert: [] };
  const prints = { ours: new Set(), copy: new Set(), insert: new Set() };
  const order = ['ours', 'copy', 'insert'];
  for (let run = 0; run < runs; run += 1) {
    // Rotate the order so no method always runs right after the same other one.
    for (let k = 0; k < order.length; k += 1) {
      const name = order[(run + k) % order.length];
      await reset(pool);
      const cpu0 = process.cpuUsage();
      times[name].push(await methods[name]());
      const c = process.cpuUsage(cpu0);
      if (name in cpu) cpu[name].push((c.user + c.system) / 1000);
      // Checked once per method (it reads the whole table), on the last run.
      if (run === runs - 1) prints[name].add(await fingerprint(pool));
    }
  }
  const startupMs = [];
  for (let i = 0; i < 5; i += 1) startupMs.push(await psqlStartup(psqlEnv));

  const allPrints = new Set([...prints.ours, ...prints.copy, ...prints.insert]);
  if (allPrints.size !== 1) {
    throw new Error(
      `the methods stored different rows: ${JSON.stringify(prints, (_, v) => (v instanceof Set ? [...v] : v))}`,
    );
  }
  const expected = `${totalRows}/`;
  if (![...allPrints][0].startsWith(expected)) {
    throw new Error(`expected ${totalRows} rows, stored ${[...allPrints][0]}`);
  }

  const version = (await pool.query('SHOW server_version')).rows[0].server_version;
  const settings = (
    await pool.query(
      `SELECT name, setting FROM pg_settings
        WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers')`,
    )
  ).rows;
  const setting = (n) => settings.find((s) => s.name === n)?.setting;

  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const rps = Object.fromEntries(Object.entries(med).map(([k, v]) => [k, totalRows / (v / 1000)]));
  const label = {
    ours: '`DatastoreWriter.write` (COPY, ours)',
    copy: '`psql \\copy` from file',
    insert: `${INSERT_ROWS}-row multi-row INSERTs, one transaction`,
  };
  const rowOf = (k) => {
    const sorted = [...times[k]].sort((a, b) => a - b);
    const cpuCell = k in cpu ? fmtInt(median(cpu[k])) : 'n/a (separate process)';
    return `| ${label[k]} | ${fmtInt(med[k])} | ${fmtInt(sorted[0])} – ${fmtInt(sorted.at(-1))} | ${fmtInt(rps[k])} | ${round2(rps[k] / rps.copy)} | ${round2(rps[k] / rps.insert)} | ${cpuCell} |`;
  };
  const loadAfter = os.loadavg()[0];
  const busy = Math.max(loadBefore, loadAfter) > os.cpus().length;
  const gapMs = med.ours - med.copy;
  const md = `# Datastore write throughput

Generated by \`bench/datastore-write.mjs\` (\`npm run bench:datastore\`) on ${new Date().toISOString().slice(0, 10)}${quick ? ' (BENCH_QUICK: a smoke run, not a result)' : ''}.
Same server, same run, same ${fmtInt(totalRows)} rows, same partitioned table for every method.

| Method | Median ms | Range ms | Rows/s (median) | × \`\\copy\` | × INSERT | Node CPU ms (median) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${['ours', 'copy', 'insert'].map(rowOf).join('\n')}

**Ours / \`\\copy\`: ${round2(rps.ours / rps.copy)}** · **Ours / INSERT: ${round2(rps.ours / rps.insert)}** (ratios of rows/s; above 1 is faster).

Ours took ${fmtInt(Math.abs(gapMs))} ms ${gapMs >= 0 ? 'more' : 'less'} than \`\\copy\` for ${fmtInt(totalRows)} rows; its Node process spent ${fmtInt(median(cpu.ours))} ms of CPU (encoding every row as COPY text, in chunks streamed while the COPY runs). Node CPU is user + system time of this process during the write; psql's own CPU is not measured.
${busy ? `\n> **Warning:** the machine was busy (1-minute load average ${round2(loadBefore)} before, ${round2(loadAfter)} after, on ${os.cpus().length} CPUs). Client and server competed with other work for CPU, so absolute figures are low and the ratios are noisier than usual; CPU-heavy client work (ours, INSERT) suffers more than \`\\copy\`.\n` : ''}
## Method

- Rows: ${targetCount} targets × ${rowsPerTarget} rows of probe \`${schema.name}\` (${schema.scope}-scoped, ${schema.columns.length} probe columns, ${columns.length} stored columns with \`connection_id\`${schema.scope === 'database' ? ', `database_name`' : ''}, \`collected_at\`), values generated per column type (int8 counters of every magnitude, float8, timestamptz, text keys), ~8% NULLs in non-key columns. Built once as \`PendingBatch\` objects (one batch per target) and written once to a ${fmtInt(fileBytes / 1024)} KiB TSV file with the writer's own field encoding; the INSERT baseline binds the same values.
- Table: \`${tableSql}\` as the datastore creates it (migrations + \`syncMetricsTables\`): range-partitioned by week on \`collected_at\`, with its (connection, time) index; the week's partition already exists (${partitions.rows[0].n} partition). Before every run: \`TRUNCATE\` of the table and the ingest ledger, then \`CHECKPOINT\`.
- Ours: \`DatastoreWriter.write(batches)\` as the collector calls it, timed end to end (ledger insert, encoding rows to COPY text in Node, one \`COPY FROM STDIN\` through pg-copy-streams, commit); connection ids and partition already cached by a warm-up write, as in a running collector.
- \`\\copy\`: \`psql -c "\\copy … FROM 'rows.tsv'"\`, wall time of the psql process, so it includes psql's start and connect (median ${fmtInt(median(startupMs))} ms for \`psql -c 'SELECT 1'\`).
- INSERT: one transaction of parameterised ${INSERT_ROWS}-row \`INSERT … VALUES\` statements (${columns.length * INSERT_ROWS} parameters each, one named prepared statement), node-postgres, one connection.
- ${runs} measured runs per method, order rotated per run, after the writer's warm-up write of the same rows (which also warms the server); medians reported. After each method's last run an order-independent fingerprint (count + sum of row hashes) of the stored rows is taken: all methods stored identical rows.

## Environment

| | |
| --- | --- |
| PostgreSQL | ${version} (embedded, 127.0.0.1 TCP) |
| Server settings | fsync=${setting('fsync')}, synchronous_commit=${setting('synchronous_commit')}, full_page_writes=${setting('full_page_writes')}, wal_level=${setting('wal_level')}, shared_buffers=${setting('shared_buffers')} × 8 kB |
| psql | ${psql.version} |
| Rows per run | ${fmtInt(totalRows)} (${targetCount} × ${rowsPerTarget}) |
| Columns | ${columns.length} stored (${schema.columns.length} probe + ${columns.length - schema.columns.length} reserved) |
| Machine | ${machineLine()} |
| Load average (1 min) | ${round2(loadBefore)} before, ${round2(loadAfter)} after |

fsync is off on the embedded server (a throwaway instance), so absolute figures are higher than on a durable server; the ratios between methods are what this measures. Client and server share the machine's CPUs.
`;
  writeResult('datastore-write', md);
  console.log(
    `(row generation ${fmtInt(buildMs)} ms; server and runs ${fmtInt((performance.now() - startedAt) / 1000)} s)`,
  );
} finally {
  await pool.end().catch(() => undefined);
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}

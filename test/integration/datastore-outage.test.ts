import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { pendingFromBatch } from '../../src/adapters/datastore/pending-batch.js';
import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { cleanEnv, collect, startCli, type CliResult } from '../helpers/cli.js';
import { queryOnce } from '../helpers/fresh-database.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * A real outage of the history datastore under a running collector: the datastore is a
 * separate embedded PostgreSQL that is stopped and started again from its data directory, the
 * collector is the built CLI in its own process. What the CLI produced (its JSON-lines output)
 * must be what the datastore holds, row for row, probe by probe.
 */

const pgUrl = inject('pgUrl');

/** Cheap probes that store every sample (none is change-tracked), all every second. */
const ENABLED = ['pg_connectivity', 'pg_stat_activity_summary', 'pg_stat_database', 'pg_database'];
const ALL_PROBES = BUILTIN_PROBES.map((p) => p.name);

const dirs: string[] = [];
const servers: EmbeddedServer[] = [];
const proxies: TcpProxy[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(proxies.map((p) => p.down()));
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A temporary directory the embedded server (run as an unprivileged user under root) can reach. */
async function workDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgql-outage-'));
  dirs.push(dir);
  await chmod(dir, 0o755);
  return dir;
}

async function startDatastore(dataDir: string): Promise<EmbeddedServer> {
  const server = await EmbeddedServer.start({ logger: silentLogger, dataDir });
  servers.push(server);
  return server;
}

/** Writes the CLI's configuration: one target, the chosen probes only, the datastore. */
async function writeConfig(
  dir: string,
  datastoreUrl: string,
  datastoreExtra: Record<string, unknown> = {},
): Promise<string> {
  const collectors = Object.fromEntries(
    ALL_PROBES.map((name) => [
      name,
      ENABLED.includes(name) ? { enabled: true, interval: '1s' } : { enabled: false },
    ]),
  );
  const config = {
    targets: [{ url: pgUrl, name: 'outage' }],
    collectors,
    datastore: { url: datastoreUrl, ...datastoreExtra },
  };
  const file = path.join(dir, 'pgquerylens.yaml');
  // JSON is YAML.
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

interface RunningCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<CliResult>;
  /** Everything logged so far. */
  stderr(): string;
}

function runDaemon(config: string, outputFile: string): RunningCli {
  const child = startCli(
    [
      '--config',
      config,
      '--interval',
      '1s',
      '--output',
      'json',
      '--output-file',
      outputFile,
      '--log-level',
      'info',
    ],
    cleanEnv(),
  );
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = collect(child, 120_000);
  return { child, exited, stderr: () => stderr };
}

/** The complete batches written to a JSON-lines output file so far. */
async function batchesIn(file: string): Promise<UnifiedMetrics[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  // The last element is '' after a complete line, or a line still being written.
  lines.pop();
  return lines.map((line) => JSON.parse(line) as UnifiedMetrics);
}

/** Rows produced per probe by every batch of these output files. */
async function producedRows(...files: string[]): Promise<Map<string, number>> {
  const produced = new Map<string, number>();
  for (const file of files) {
    for (const batch of await batchesIn(file)) {
      for (const sample of batch.probes) {
        produced.set(sample.probe, (produced.get(sample.probe) ?? 0) + sample.rows.length);
      }
    }
  }
  return produced;
}

/** Rows stored per probe (every built-in probe's table, so stray rows would show). */
async function storedRows(datastoreUrl: string): Promise<Map<string, number>> {
  const union = ALL_PROBES.map(
    (name) => `SELECT '${name}' AS probe, count(*)::int AS n FROM metrics.${name}`,
  ).join(' UNION ALL ');
  const rows = await queryOnce<{ probe: string; n: number }>(datastoreUrl, union);
  return new Map(rows.map((r) => [r.probe, r.n]));
}

/** Rows stored for one probe; 0 while the schema is not there yet. */
async function storedOf(datastoreUrl: string, probe: string): Promise<number> {
  try {
    const rows = await queryOnce<{ n: number }>(
      datastoreUrl,
      `SELECT count(*)::int AS n FROM metrics.${probe}`,
    );
    return rows[0]?.n ?? 0;
  } catch {
    return 0;
  }
}

/** Every probe: produced rows equal stored rows (0 for the disabled ones). */
async function expectStoredEqualsProduced(
  datastoreUrl: string,
  produced: Map<string, number>,
): Promise<void> {
  const stored = await storedRows(datastoreUrl);
  const expected = new Map(ALL_PROBES.map((name) => [name, produced.get(name) ?? 0]));
  expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(expected));
  // The comparison means something only if rows were produced.
  for (const name of ['pg_connectivity', 'pg_stat_database', 'pg_database']) {
    expect(produced.get(name), name).toBeGreaterThan(0);
  }
}

interface StopLog {
  readonly msg: string;
  readonly datastore?: {
    readonly rowsWritten: number;
    readonly failedWrites: number;
    readonly droppedRows: number;
    readonly bufferedRows: number;
  };
}

/** The CLI's last log line, `stopped`, with the datastore counters. */
function stopLog(stderr: string): StopLog {
  const records = stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as StopLog);
  const stopped = records.find((r) => r.msg === 'stopped');
  if (stopped === undefined) throw new Error(`no 'stopped' log line in:\n${stderr}`);
  return stopped;
}

async function spoolFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /^\d{16}-\d+-[0-9a-f]+\.json$/.test(f)).sort();
  } catch {
    return [];
  }
}

/** The batch id in a spool file name (`<sequence>-<rows>-<id>.json`). */
function spoolId(file: string): string {
  return file.replace(/\.json$/, '').split('-')[2] ?? '';
}

function spoolRows(file: string): number {
  return Number(file.split('-')[1]);
}

/** Ids the datastore uses for the batches of an output file (those with rows). */
async function batchIds(file: string): Promise<string[]> {
  return (await batchesIn(file))
    .map((b) => pendingFromBatch(b)?.id)
    .filter((id): id is string => id !== undefined);
}

const POLL = { timeout: 30_000, interval: 100 };

describe('the CLI through a real datastore outage', () => {
  it('stop the datastore mid-run, restart it: every row arrives once', async () => {
    const dir = await workDir();
    const dataDir = path.join(dir, 'store');
    let datastore = await startDatastore(dataDir);
    const proxy = await TcpProxy.start(datastore.url());
    proxies.push(proxy);
    const config = await writeConfig(dir, proxy.urlFor(datastore.url()));
    const output = path.join(dir, 'out.ndjson');
    const cli = runDaemon(config, output);

    // A few cycles stored before the outage.
    await expect
      .poll(() => storedOf(datastore.url(), 'pg_connectivity'), POLL)
      .toBeGreaterThanOrEqual(3);

    // The datastore goes away for real; collection carries on.
    await datastore.stop();
    const linesAtStop = (await batchesIn(output)).length;
    await expect
      .poll(async () => (await batchesIn(output)).length, POLL)
      .toBeGreaterThanOrEqual(linesAtStop + 4);
    expect(cli.stderr()).toContain('datastore unavailable; buffering and retrying');

    // Back from the same data directory, on a new port behind the same proxy port.
    datastore = await startDatastore(dataDir);
    proxy.retarget(datastore.port);
    await expect.poll(() => cli.stderr(), POLL).toContain('datastore reachable again');
    const linesAtRestart = (await batchesIn(output)).length;
    // Caught up while still running (not only by the flush at shutdown), a few cycles later.
    await expect
      .poll(async () => {
        const batches = (await batchesIn(output)).length;
        const produced = (await producedRows(output)).get('pg_connectivity') ?? 0;
        const stored = await storedOf(datastore.url(), 'pg_connectivity');
        return batches >= linesAtRestart + 2 && stored === produced;
      }, POLL)
      .toBe(true);

    cli.child.kill('SIGTERM');
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(0);

    await expectStoredEqualsProduced(datastore.url(), await producedRows(output));
    const stopped = stopLog(result.stderr);
    expect(stopped.datastore?.droppedRows).toBe(0);
    expect(stopped.datastore?.bufferedRows).toBe(0);
    expect(stopped.datastore?.failedWrites).toBeGreaterThan(0);
    const produced = [...(await producedRows(output)).values()].reduce((a, b) => a + b, 0);
    expect(stopped.datastore?.rowsWritten).toBe(produced);
  }, 90_000);

  it('SIGKILL while the datastore is down: the spool replays after restart', async () => {
    const dir = await workDir();
    const dataDir = path.join(dir, 'store');
    const spoolDir = path.join(dir, 'spool');
    let datastore = await startDatastore(dataDir);
    const proxy = await TcpProxy.start(datastore.url());
    proxies.push(proxy);
    const config = await writeConfig(dir, proxy.urlFor(datastore.url()), { spoolDir });
    const firstOutput = path.join(dir, 'out-1.ndjson');
    const first = runDaemon(config, firstOutput);

    await expect
      .poll(() => storedOf(datastore.url(), 'pg_connectivity'), POLL)
      .toBeGreaterThanOrEqual(2);
    await datastore.stop();
    await expect.poll(async () => (await spoolFiles(spoolDir)).length, POLL).toBeGreaterThan(3);

    // Kill at a quiet moment: just after a cycle, when the output file and the spool agree
    // (every spooled batch is in the output, and the newest output batch is spooled).
    const before = (await batchIds(firstOutput)).length;
    await expect
      .poll(
        async () => {
          const ids = await batchIds(firstOutput);
          const spooled = (await spoolFiles(spoolDir)).map(spoolId);
          const consistent =
            ids.length > before &&
            spooled.every((id) => ids.includes(id)) &&
            spooled.includes(ids[ids.length - 1] ?? '');
          if (consistent) first.child.kill('SIGKILL');
          return consistent;
        },
        { timeout: 30_000, interval: 20 },
      )
      .toBe(true);
    const killed = await first.exited;
    expect(killed.code).toBeNull();
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(killed.stderr).toContain('datastore unavailable; buffering and retrying');
    expect(killed.stderr).not.toContain('"msg":"stopped"');

    const left = await spoolFiles(spoolDir);
    expect(left.length).toBeGreaterThan(3);
    const firstIds = await batchIds(firstOutput);
    for (const file of left) expect(firstIds).toContain(spoolId(file));
    const leftRows = left.reduce((n, f) => n + spoolRows(f), 0);

    // The datastore returns; a new collector process replays the spool and carries on.
    datastore = await startDatastore(dataDir);
    proxy.retarget(datastore.port);
    const secondOutput = path.join(dir, 'out-2.ndjson');
    const second = runDaemon(config, secondOutput);
    await expect
      .poll(async () => {
        const now = await spoolFiles(spoolDir);
        const lines = (await batchesIn(secondOutput)).length;
        return lines >= 2 && left.every((f) => !now.includes(f));
      }, POLL)
      .toBe(true);
    second.child.kill('SIGTERM');
    const result = await second.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('datastore spool has batches from an earlier run');
    const replay = result.stderr
      .split('\n')
      .filter((line) => line.includes('datastore spool has batches from an earlier run'))
      .map((line) => JSON.parse(line) as { batches: number; rows: number })[0];
    expect(replay).toMatchObject({ batches: left.length, rows: leftRows });

    await expectStoredEqualsProduced(
      datastore.url(),
      await producedRows(firstOutput, secondOutput),
    );
    const stopped = stopLog(result.stderr);
    expect(stopped.datastore?.droppedRows).toBe(0);
    expect(stopped.datastore?.bufferedRows).toBe(0);
    expect(await spoolFiles(spoolDir)).toEqual([]);
  }, 90_000);
});

import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { constants as zlib, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { contentHash, pendingFromBatch } from '../../src/adapters/datastore/pending-batch.js';
import { NdjsonSpoolAdapter } from '../../src/adapters/output/ndjson-spool-adapter.js';
import { loadCommand, type LoadArgs } from '../../src/cli/load-command.js';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { BUILTIN_PROBES, builtinProbeSchemas } from '../../src/collectors/builtin-collectors.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');
const schemas = builtinProbeSchemas();
const dirs: string[] = [];
/** Real batches from the test server, oldest first. */
let batches: UnifiedMetrics[] = [];

beforeAll(async () => {
  const connector = new PgTargetConnector(
    targetFor(pgUrl, { name: 'store-and-forward' }),
    silentLogger,
  );
  try {
    const runner = new CollectionRunner({
      target: { name: 'store-and-forward', host: '127.0.0.1', port: 5432, labels: { site: 'x' } },
      connector,
      collectors: BUILTIN_PROBES,
      settings: () => ({ statementTimeoutMs: 10_000, deadlineMs: 20_000 }),
      collectorVersion: 'test',
      logger: silentLogger,
    });
    for (let i = 0; i < 4; i++) {
      batches.push(
        await runner.run(
          BUILTIN_PROBES.map((p) => p.name),
          new AbortController().signal,
        ),
      );
    }
  } finally {
    await connector.close();
  }
  batches = batches.filter((b) => pendingFromBatch(b) !== undefined);
  expect(batches).toHaveLength(4);
}, 120_000);

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgql-saf-'));
  dirs.push(dir);
  return dir;
}

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The summary line's key=value pairs. */
  readonly summary: Record<string, number>;
}

async function load(
  files: string[],
  env: NodeJS.ProcessEnv,
  extra: Partial<LoadArgs> = {},
): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await loadCommand(
    { files, ...extra },
    {
      env,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      logger: silentLogger,
    },
  );
  const summary = Object.fromEntries(
    [...stdout.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]),
  );
  return { code, stdout, stderr, summary };
}

/**
 * Rows the datastore should hold per table after storing `stored` in order: every row, except
 * change-tracked samples equal to the previous one of the same probe and database.
 */
function expectedRows(stored: readonly UnifiedMetrics[]): Map<string, number> {
  const byName = new Map(schemas.map((s) => [s.name, s]));
  const last = new Map<string, string>();
  const rows = new Map(schemas.map((s) => [s.name, 0]));
  for (const batch of stored) {
    for (const sample of pendingFromBatch(batch)?.probes ?? []) {
      const schema = byName.get(sample.probe);
      if (schema === undefined) continue;
      if (schema.changeTracked) {
        const key = `${batch.target.name}\0${sample.probe}\0${sample.database ?? ''}`;
        const hash = contentHash(sample);
        if (last.get(key) === hash) continue;
        last.set(key, hash);
      }
      rows.set(sample.probe, (rows.get(sample.probe) ?? 0) + sample.rows.length);
    }
  }
  return rows;
}

async function storedRows(url: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const schema of schemas) {
    const r = await queryOnce<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM metrics."${schema.name}"`,
    );
    out.set(schema.name, r[0]?.n ?? -1);
  }
  return out;
}

function total(rows: Map<string, number>): number {
  return [...rows.values()].reduce((a, b) => a + b, 0);
}

/** The batch again, as if collected `ms` later: a different batch with the same rows. */
function later(batch: UnifiedMetrics, ms: number): UnifiedMetrics {
  const shift = (iso: string): string => new Date(Date.parse(iso) + ms).toISOString();
  return {
    ...batch,
    metadata: {
      ...batch.metadata,
      startedAt: shift(batch.metadata.startedAt),
      finishedAt: shift(batch.metadata.finishedAt),
    },
    probes: batch.probes.map((p) => ({ ...p, collectedAt: shift(p.collectedAt) })),
  };
}

async function datastoreEnv(): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
  const url = await freshDatabase(pgUrl, 'pgql_saf');
  return { url, env: { PGQUERYLENS_DATASTORE_URL: url } };
}

const signal = new AbortController().signal;

describe('store and forward', { timeout: 60_000 }, () => {
  it('spools batches into rotated gzip files and loads them once, however often loaded', async () => {
    const dir = path.join(await tempDir(), 'spool', 'nested');
    const spool = new NdjsonSpoolAdapter({ dir, maxBytes: 1 });
    for (const batch of batches) await spool.export(batch, signal);
    await spool.forceFlush();
    await spool.shutdown();
    await spool.shutdown();

    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(batches.length);
    expect(names.every((n) => /^pgquerylens-\d{8}T\d{6}\.\d{3}Z-\d+\.ndjson\.gz$/.test(n))).toBe(
      true,
    );
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = names.map((n) => path.join(dir, n));
    for (const [i, file] of files.entries()) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      // Complete gzip (strict decompression), one batch per line, in write order.
      expect(gunzipSync(await readFile(file)).toString()).toBe(`${JSON.stringify(batches[i])}\n`);
    }
    expect(spool.stats).toMatchObject({ lines: 4, finishedFiles: files, currentFile: undefined });
    await expect(spool.export(batches[0]!, signal)).rejects.toThrow(/shut down/);

    const { url, env } = await datastoreEnv();
    const expected = expectedRows(batches);
    expect(total(expected)).toBeGreaterThan(100);

    const first = await load(files, env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.summary).toMatchObject({
      files: 4,
      failed_files: 0,
      batches: 4,
      stored_batches: 4,
      rows: total(expected),
      duplicate_batches: 0,
      bad_lines: 0,
      unknown_samples: 0,
    });
    expect(await storedRows(url)).toEqual(expected);

    // Again, one batch per transaction this time: nothing new, every batch a duplicate.
    const again = await load(files, env, { batchRows: 1 });
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({
      files: 4,
      batches: 4,
      stored_batches: 0,
      rows: 0,
      duplicate_batches: 4,
      bad_lines: 0,
    });
    // The same file twice in one load is stored once too.
    const twice = await load([files[0]!, files[0]!], env);
    expect(twice.summary).toMatchObject({ rows: 0, duplicate_batches: 2 });
    expect(await storedRows(url)).toEqual(expected);
  });

  it('stores the same in many small transactions or one large one', async () => {
    const dir = await tempDir();
    const spool = new NdjsonSpoolAdapter({ dir, maxBytes: 1024 ** 3 });
    for (const batch of batches) await spool.export(batch, signal);
    await spool.shutdown();
    const files = spool.stats.finishedFiles;
    expect(files).toHaveLength(1);
    const { url, env } = await datastoreEnv();
    const result = await load([...files], env, { batchRows: 50 });
    expect(result.code).toBe(0);
    expect(result.summary).toMatchObject({ batches: 4, stored_batches: 4, duplicate_batches: 0 });
    expect(await storedRows(url)).toEqual(expectedRows(batches));

    // A file given twice, all in one transaction: each batch is still stored once.
    const other = await datastoreEnv();
    const twice = await load([...files, ...files], other.env, { batchRows: 10_000_000 });
    expect(twice.code).toBe(0);
    expect(twice.summary).toMatchObject({ batches: 8, stored_batches: 4, duplicate_batches: 4 });
    expect(await storedRows(other.url)).toEqual(expectedRows(batches));
  });

  it('reports bad lines with file:line, skips them and stores the rest', async () => {
    const dir = await tempDir();
    const good = [later(batches[0]!, 1_000), later(batches[1]!, 2_000), later(batches[2]!, 3_000)];
    const plain = path.join(dir, 'hand-made.ndjson');
    await writeFile(
      plain,
      [
        JSON.stringify(good[0]),
        '{"schemaVersion":1,"target":', // torn
        JSON.stringify({ ...good[1], schemaVersion: 2 }),
        '',
        JSON.stringify({ ...good[1], target: { host: 'h', port: 1, labels: {} } }),
        JSON.stringify(good[1]),
      ].join('\r\n'),
    );
    const gz = path.join(dir, 'truncated.ndjson.gz');
    const gzBytes = gzipSync(`${JSON.stringify(good[2])}\n${JSON.stringify(good[0])}\n`);
    await writeFile(gz, gzBytes.subarray(0, gzBytes.length - 200));
    const missing = path.join(dir, 'missing.ndjson.gz');

    const { url, env } = await datastoreEnv();
    const result = await load([plain, gz, missing], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${plain}:2: not JSON`);
    expect(result.stderr).toContain(`${plain}:3: not a batch: schemaVersion is 2`);
    expect(result.stderr).toContain(`${plain}:5: not a batch: target.name missing`);
    expect(result.stderr).not.toContain(`${plain}:4:`);
    expect(result.stderr).toContain(`${gz}:2: unreadable`);
    expect(result.stderr).toContain(`${missing}: cannot read`);
    expect(result.summary).toMatchObject({
      files: 2,
      failed_files: 1,
      batches: 3,
      stored_batches: 3,
      bad_lines: 4,
    });
    const expected = expectedRows(good);
    expect(result.summary.rows).toBe(total(expected));
    expect(await storedRows(url)).toEqual(expected);
  });

  it('completes a .partial left by a crash, up to the last whole line', async () => {
    const dirA = await tempDir();
    // Never rotated here: batches grow with the databases other tests create on the server.
    const writer = new NdjsonSpoolAdapter({ dir: dirA, maxBytes: 1024 ** 3 });
    for (const batch of batches.slice(0, 3)) await writer.export(batch, signal);
    const partialA = writer.stats.currentFile!;
    expect(partialA).toMatch(/\.ndjson\.gz\.partial$/);
    // Every acknowledged batch is in the file already: no trailer needed to read it.
    const afterThree = await readFile(partialA);
    const readable = gunzipSync(afterThree, { finishFlush: zlib.Z_SYNC_FLUSH }).toString();
    expect(readable).toBe(
      batches
        .slice(0, 3)
        .map((b) => `${JSON.stringify(b)}\n`)
        .join(''),
    );
    await writer.export(batches[3]!, signal);
    const afterFour = await readFile(partialA);
    expect(afterFour.subarray(0, afterThree.length).equals(afterThree)).toBe(true);

    // The crash: the fourth write torn half-way, no gzip trailer.
    const dirB = await tempDir();
    const orphan = path.join(
      dirB,
      `pgquerylens-20240101T000000.000Z-${process.pid}.ndjson.gz.partial`,
    );
    const torn = afterFour.subarray(0, Math.floor((afterThree.length + afterFour.length) / 2));
    await writeFile(orphan, torn, { mode: 0o600 });
    // A file another running process is writing must be left alone.
    const stamp = new Date().toISOString().replace(/[-:]/g, '');
    const live = path.join(dirB, `pgquerylens-${stamp}-${process.ppid}.ndjson.gz.partial`);
    await writeFile(live, afterThree, { mode: 0o600 });

    const restarted = new NdjsonSpoolAdapter({ dir: dirB });
    await restarted.start();
    expect(restarted.stats.recoveredFiles).toBe(1);
    const finished = orphan.slice(0, -'.partial'.length);
    expect((await readdir(dirB)).sort()).toEqual(
      [path.basename(finished), path.basename(live)].sort(),
    );
    expect((await stat(finished)).mode & 0o777).toBe(0o600);
    const lines = gunzipSync(await readFile(finished)).toString();
    expect(lines).toBe(readable);

    const { url, env } = await datastoreEnv();
    const result = await load([finished, live], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${live}: not loaded`);
    expect(result.summary).toMatchObject({ files: 1, failed_files: 1, batches: 3, bad_lines: 0 });
    expect(await storedRows(url)).toEqual(expectedRows(batches.slice(0, 3)));

    await restarted.shutdown();
    await writer.shutdown();
    expect(gunzipSync(await readFile(partialA.slice(0, -'.partial'.length))).toString()).toBe(
      batches.map((b) => `${JSON.stringify(b)}\n`).join(''),
    );
  });

  it('finishes an idle file after maxAge, not on forceFlush', async () => {
    const dir = await tempDir();
    const spool = new NdjsonSpoolAdapter({ dir, maxAgeMs: 300 });
    await spool.export(batches[0]!, signal);
    const current = spool.stats.currentFile;
    await spool.forceFlush();
    expect(spool.stats.currentFile).toBe(current);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(spool.stats.currentFile).toBeUndefined();
    expect(await readdir(dir)).toEqual([path.basename(current!.slice(0, -'.partial'.length))]);
    await spool.export(batches[1]!, signal);
    await spool.shutdown();
    expect(spool.stats.finishedFiles).toHaveLength(2);
  });

  it('exits 2 naming datastore.url when no datastore is configured', async () => {
    const result = await load(['whatever.ndjson.gz'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('datastore.url');
    expect(result.stdout).toBe('');
  });
});

import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BUILTIN_PROBES,
  builtinCollectorNames,
} from '../../../src/collectors/builtin-collectors.js';
import { EmbeddedServer } from '../../../src/cli/embedded/embedded-server.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ProbeSample } from '../../../src/core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../../src/core/model/unified-metrics.js';
import { queryOnce } from '../../helpers/fresh-database.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';

/** Cheap probes that store every sample (none is change-tracked), every interval. */
export const OUTAGE_PROBES = [
  'pg_connectivity',
  'pg_stat_activity_summary',
  'pg_stat_database',
  'pg_database',
];
/** Probes whose rows carry a database: a stored row is matched on it too. */
export const DATABASE_SCOPED = new Set(
  BUILTIN_PROBES.filter((p) => p.schema.scope === 'database').map((p) => p.name),
);
/** Every built-in collector switched off except OUTAGE_PROBES. */
export const outageCollectors = (): Record<string, { enabled: boolean }> =>
  Object.fromEntries(
    builtinCollectorNames().map((name) => [name, { enabled: OUTAGE_PROBES.includes(name) }]),
  );

/**
 * A history datastore that really goes away: an embedded PostgreSQL kept on its own data
 * directory, stopped and started again. Each start takes a new port, so the collector reaches
 * it through a loopback proxy whose port stays; while the server is down the proxy's
 * connections die at once, as connections to a stopped server's host would be refused.
 */
export class RestartableDatastore {
  #server: EmbeddedServer | undefined;

  private constructor(
    private readonly dataDir: string,
    private readonly proxy: TcpProxy,
    server: EmbeddedServer,
  ) {
    this.#server = server;
  }

  static async start(dataDir: string): Promise<RestartableDatastore> {
    const server = await EmbeddedServer.start({ logger: silentLogger, dataDir });
    try {
      const proxy = await TcpProxy.start(server.url());
      return new RestartableDatastore(dataDir, proxy, server);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  /** The URL the collector is given (through the proxy; holds the password). */
  collectorUrl(): string {
    return this.proxy.urlFor(this.directUrl());
  }

  /** The server's own URL, for the test's queries; only while it runs. */
  directUrl(): string {
    if (this.#server === undefined) throw new Error('the datastore is stopped');
    return this.#server.url();
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Fast shutdown of the server; its data stays. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.stop();
  }

  /** Starts the server again from the same data directory, behind the same proxy port. */
  async restart(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = await EmbeddedServer.start({ logger: silentLogger, dataDir: this.dataDir });
    this.#server = server;
    this.proxy.retarget(server.port);
  }

  async close(): Promise<void> {
    await this.proxy.down();
    await this.stop();
  }
}

/** A temporary directory the embedded server (an unprivileged user under root) can traverse. */
export async function outageWorkDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The complete batches of a JSON-lines output file (a line being written is left out). */
export async function batchesIn(file: string): Promise<UnifiedMetrics[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop();
  return lines.map((line) => JSON.parse(line) as UnifiedMetrics);
}

/** Where a sample's rows are stored: probe, database ('' for server scope), collection time. */
export function sampleKey(probe: string, database: string, collectedAtMs: number): string {
  return `${probe}|${database}|${collectedAtMs}`;
}

/**
 * Rows per sample key, from batches or spooled batches (samples without rows store nothing and
 * are left out).
 */
export function producedSamples(
  batches: readonly { readonly probes: readonly ProbeSample[] }[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const batch of batches) {
    for (const s of batch.probes) {
      if (s.rows.length === 0) continue;
      const key = sampleKey(s.probe, s.database ?? '', Date.parse(s.collectedAt));
      out.set(key, (out.get(key) ?? 0) + s.rows.length);
    }
  }
  return out;
}

/** Rows per sample key, as stored in the datastore for these probes. */
export async function storedSamples(
  url: string,
  probes: readonly string[],
  databaseScoped: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const probe of probes) {
    const db = databaseScoped.has(probe) ? 'database_name' : "''";
    const rows = await queryOnce<{ db: string; at: string; n: number }>(
      url,
      `SELECT ${db} AS db, (extract(epoch FROM collected_at) * 1000)::bigint::text AS at,
              count(*)::int AS n
         FROM metrics.${probe} GROUP BY 1, 2`,
    );
    for (const r of rows) out.set(sampleKey(probe, r.db, Number(r.at)), r.n);
  }
  return out;
}

/** Rows stored more than once: identical in every column, connection and time included. */
export async function duplicateRows(url: string, probe: string): Promise<number> {
  const rows = await queryOnce<{ n: number }>(
    url,
    `SELECT (count(*) - count(DISTINCT t))::int AS n FROM metrics.${probe} t`,
  );
  return rows[0]?.n ?? 0;
}

/** Compares produced and stored samples: what is missing, extra or stored a different number of times. */
export function sampleDifferences(
  produced: ReadonlyMap<string, number>,
  stored: ReadonlyMap<string, number>,
): { missing: string[]; extra: string[]; miscounted: string[] } {
  const missing: string[] = [];
  const miscounted: string[] = [];
  for (const [key, n] of produced) {
    const got = stored.get(key);
    if (got === undefined) missing.push(key);
    else if (got !== n) miscounted.push(`${key}: produced ${n}, stored ${got}`);
  }
  const extra = [...stored.keys()].filter((key) => !produced.has(key));
  return { missing, extra, miscounted };
}

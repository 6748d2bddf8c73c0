import type pg from 'pg';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { partitionName, weekStart } from './partitions.js';
import { ident } from './sql-ident.js';

const DAY_MS = 86_400_000;

/** What one GC pass did. */
export interface GcResult {
  /** Partitions dropped, by name. */
  readonly dropped: readonly string[];
  /** Expired partitions kept because they hold a change-tracked probe's latest snapshot. */
  readonly protected: readonly string[];
}

export interface GcOptions {
  readonly schemas: readonly ProbeSchema[];
  /** Retention from configuration, days, per probe; the schema's default otherwise. */
  readonly configuredRetentionDays?: (probe: string) => number | undefined;
  readonly now?: () => Date;
}

interface PartitionRow {
  partition: string;
  parent: string;
  upper: Date | null;
}

/**
 * Drops whole weekly partitions whose range ended before now minus the probe's retention. Rows
 * are never deleted one by one. A change-tracked probe's latest snapshot per connection is kept
 * however old, since "the current settings" are that row. Retention comes from `probe_configs`
 * (the longest of the global and per-connection rows: partitions are shared by connections),
 * then configuration, then the probe's default.
 */
export async function collectGarbage(pool: pg.Pool, options: GcOptions): Promise<GcResult> {
  const now = (options.now ?? (() => new Date()))();
  const schemas = new Map(options.schemas.map((s) => [s.name, s]));
  // Partitions hold every connection's rows: a connection's own retention may lengthen what is
  // kept, never shorten it for the others.
  const stored = await pool.query<{ name: string; global: number | null; longest: number | null }>(
    `SELECT name,
            max(retention_days) FILTER (WHERE connection_id IS NULL)::int AS global,
            max(retention_days) FILTER (WHERE connection_id IS NOT NULL)::int AS longest
       FROM public.probe_configs
      WHERE retention_days IS NOT NULL GROUP BY name`,
  );
  const storedGlobal = new Map(
    stored.rows.filter((r) => r.global !== null).map((r) => [r.name, r.global ?? 0]),
  );
  const storedLongest = new Map(
    stored.rows.filter((r) => r.longest !== null).map((r) => [r.name, r.longest ?? 0]),
  );
  const partitions = await pool.query<PartitionRow>(
    `SELECT c.relname AS partition, p.relname AS parent,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz
              AS upper
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = 'metrics'
      ORDER BY 1`,
  );
  const latest = await pool.query<{ probe: string; collected_at: Date }>(
    'SELECT probe, collected_at FROM public.change_tracking',
  );
  const keep = new Set(
    latest.rows.map((r) => partitionName(r.probe, weekStart(new Date(r.collected_at)))),
  );
  const dropped: string[] = [];
  const kept: string[] = [];
  for (const row of partitions.rows) {
    const schema = schemas.get(row.parent);
    if (schema === undefined || row.upper === null) continue;
    const days = Math.max(
      storedGlobal.get(row.parent) ??
        options.configuredRetentionDays?.(row.parent) ??
        schema.retentionDays,
      storedLongest.get(row.parent) ?? 0,
    );
    const cutoff = now.getTime() - days * DAY_MS;
    if (new Date(row.upper).getTime() > cutoff) continue;
    if (keep.has(row.partition)) {
      kept.push(row.partition);
      continue;
    }
    await pool.query(`DROP TABLE IF EXISTS metrics.${ident(row.partition)}`);
    dropped.push(row.partition);
  }
  // The ingest ledger only has to outlive the longest history a batch could be replayed into.
  const longest = Math.max(
    7,
    ...options.schemas.map((s) => s.retentionDays),
    ...storedGlobal.values(),
    ...storedLongest.values(),
  );
  await pool.query('DELETE FROM public.ingested_batches WHERE ingested_at < $1', [
    new Date(now.getTime() - longest * DAY_MS),
  ]);
  return { dropped, protected: kept };
}

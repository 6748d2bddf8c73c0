import type pg from 'pg';
import { ident, metricsTable } from './sql-ident.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** Monday 00:00 UTC of the week holding `at`. */
export function weekStart(at: Date): Date {
  const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const sinceMonday = (new Date(midnight).getUTCDay() + 6) % 7;
  return new Date(midnight - sinceMonday * DAY_MS);
}

/** `{table}_{YYYYMMDD}`, the Monday of the partition's week. */
export function partitionName(table: string, monday: Date): string {
  return `${table}_${monday.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** One week's partition of a metrics table. */
export interface WeekPartition {
  readonly table: string;
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

export function partitionFor(table: string, at: Date): WeekPartition {
  const from = weekStart(at);
  return { table, name: partitionName(table, from), from, to: new Date(from.getTime() + WEEK_MS) };
}

/**
 * Creates weekly partitions on demand and remembers which exist. Creation takes a transaction
 * advisory lock on the partition's name, so collectors racing on the first row of a week (in
 * this process or another) create it once and neither fails.
 */
export class PartitionManager {
  readonly #known = new Set<string>();
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Makes sure the partition of `table` holding `at` exists. */
  async ensure(table: string, at: Date): Promise<void> {
    const partition = partitionFor(table, at);
    if (this.#known.has(partition.name)) return;
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `pgquerylens partition ${partition.name}`,
      ]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS metrics.${ident(partition.name)}
           PARTITION OF ${metricsTable(table)}
           FOR VALUES FROM ('${partition.from.toISOString()}') TO ('${partition.to.toISOString()}')`,
      );
      await client.query('COMMIT');
      this.#known.add(partition.name);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** The current and the next week's partitions of every table, so a week starts ready. */
  async ensureAhead(tables: readonly string[], now: Date): Promise<void> {
    for (const table of tables) {
      await this.ensure(table, now);
      await this.ensure(table, new Date(now.getTime() + WEEK_MS));
    }
  }

  /** Forgets every partition, after another process may have dropped some. */
  forgetAll(): void {
    this.#known.clear();
  }

  /** Forgets a partition (after GC dropped it), so it is re-created if rows for it arrive. */
  forget(name: string): void {
    this.#known.delete(name);
  }
}

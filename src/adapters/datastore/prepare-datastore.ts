import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { syncMetricsTables } from './metrics-tables.js';
import { migrate, type MigrateResult } from './migrate.js';

/** Brings a datastore up to date: pending migrations, then one table per probe. */
export async function prepareDatastore(
  pool: pg.Pool,
  schemas: readonly ProbeSchema[],
  logger?: Logger,
): Promise<MigrateResult> {
  const result = await migrate(pool);
  if (result.applied.length > 0) {
    logger?.info('datastore migrated', { from: result.from, to: result.to });
  }
  const client = await pool.connect();
  try {
    await syncMetricsTables(client, schemas);
  } finally {
    client.release();
  }
  return result;
}

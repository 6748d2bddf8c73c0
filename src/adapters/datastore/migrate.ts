import type pg from 'pg';
import { MIGRATIONS, type Migration } from './migrations.js';

/** What a migration run did. */
export interface MigrateResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

// Any fixed number: only pgquerylens processes take it.
const MIGRATION_LOCK = 0x7067716c; // "pgql"

/**
 * Applies the migrations the datastore lacks, each in its own transaction and recorded in
 * `schema_version`. Safe to run from several collectors at once: a session-level advisory lock
 * serialises them, and each rechecks the version under the lock.
 */
export async function migrate(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`
        CREATE TABLE IF NOT EXISTS public.schema_version (
          version     integer PRIMARY KEY,
          description text NOT NULL,
          applied_at  timestamptz NOT NULL DEFAULT now()
        )`);
      const from = await currentVersion(client);
      const applied: number[] = [];
      for (const migration of migrations) {
        if (migration.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query(
            'INSERT INTO public.schema_version (version, description) VALUES ($1, $2)',
            [migration.version, migration.description],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(
            `datastore migration ${migration.version} (${migration.description}) failed: ${(err as Error).message}`,
            { cause: err },
          );
        }
        applied.push(migration.version);
      }
      return { from, to: applied.at(-1) ?? from, applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** The schema version of the datastore; 0 when nothing was applied. */
export async function currentVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>(
    "SELECT to_regclass('public.schema_version')::text AS t",
  );
  if (exists.rows[0]?.t == null) return 0;
  const result = await client.query<{ v: number }>(
    'SELECT coalesce(max(version), 0)::int AS v FROM public.schema_version',
  );
  return result.rows[0]?.v ?? 0;
}

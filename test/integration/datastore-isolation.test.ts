import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatastorePool } from '../../src/adapters/datastore/datastore-pool.js';
import { DatastoreWriter } from '../../src/adapters/datastore/datastore-writer.js';
import { syncMetricsTables } from '../../src/adapters/datastore/metrics-tables.js';
import { migrate } from '../../src/adapters/datastore/migrate.js';
import { pendingFromBatch } from '../../src/adapters/datastore/pending-batch.js';
import { builtinProbeSchemas } from '../../src/collectors/builtin-collectors.js';
import { pgStatDatabase } from '../../src/collectors/probes/pg-stat-database.js';
import { emptyParts, type UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { runProbe } from '../helpers/probe-run.js';

const pgUrl = inject('pgUrl');
const suffix = randomBytes(3).toString('hex');
const alice = `pgql_alice_${suffix}`;
const carol = `pgql_carol_${suffix}`;
const password = `Reader-${suffix}-pw`;

afterAll(async () => {
  for (const role of [alice, carol]) {
    await queryOnce(pgUrl, `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  }
});

function urlAs(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

describe('datastore isolation by owner (row-level security)', () => {
  it('a reader sees only the rows of connections its owners were granted', async () => {
    const url = await freshDatabase(pgUrl);
    const pool = createDatastorePool({ url, maxConnections: 3 });
    try {
      await migrate(pool);
      const client = await pool.connect();
      try {
        await syncMetricsTables(client, builtinProbeSchemas());
      } finally {
        client.release();
      }
      const sample = (await runProbe(pgUrl, pgStatDatabase, ['postgres'])).samples[0];
      if (sample === undefined) throw new Error('no sample');
      const batch = (target: string): UnifiedMetrics => ({
        schemaVersion: 1,
        target: { name: target, host: '127.0.0.1', port: 5432, labels: {} },
        server: {},
        metadata: { collectorVersion: 't', startedAt: target, finishedAt: target, collectors: [] },
        ...emptyParts(),
        probes: [sample],
      });
      const schemas = builtinProbeSchemas();
      for (const [target, owner] of [
        ['db-of-alice', alice],
        ['db-of-bob', 'bob'],
      ] as const) {
        const pending = pendingFromBatch(batch(target));
        if (pending === undefined) throw new Error('empty');
        await new DatastoreWriter({ pool, schemas, owner }).write([pending]);
      }
      await queryOnce(
        url,
        `CREATE ROLE ${alice} LOGIN PASSWORD '${password}' IN ROLE pgquerylens_reader;
         CREATE ROLE ${carol} LOGIN PASSWORD '${password}' IN ROLE pgquerylens_reader;
         INSERT INTO reader_grants (reader, owner_username) VALUES ('${carol}', 'bob')`,
      );
      const ids = await queryOnce<{ id: number; name: string }>(
        url,
        'SELECT id, name FROM connections ORDER BY id',
      );
      const aliceRows = await queryOnce<{ connection_id: number }>(
        urlAs(url, alice),
        'SELECT DISTINCT connection_id FROM metrics.pg_stat_database',
      );
      const carolRows = await queryOnce<{ connection_id: number }>(
        urlAs(url, carol),
        'SELECT DISTINCT connection_id FROM metrics.pg_stat_database',
      );
      const idOf = (name: string): number | undefined => ids.find((r) => r.name === name)?.id;
      expect(aliceRows.map((r) => r.connection_id)).toEqual([idOf('db-of-alice')]);
      expect(carolRows.map((r) => r.connection_id)).toEqual([idOf('db-of-bob')]);
      // Readers never reach connections (passwords) nor partitions behind the policy.
      await expect(queryOnce(urlAs(url, alice), 'SELECT * FROM connections')).rejects.toThrow(
        /permission denied/,
      );
      const partition = await queryOnce<{ p: string }>(
        url,
        "SELECT c.relname AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'pg_stat_database' LIMIT 1",
      );
      await expect(
        queryOnce(urlAs(url, alice), `SELECT * FROM metrics.${partition[0]?.p ?? 'x'}`),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await pool.end();
    }
  });
});

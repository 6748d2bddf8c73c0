import { describe, expect, inject, it } from 'vitest';
import { createDatastorePool } from '../../src/adapters/datastore/datastore-pool.js';

describe('datastore pool', () => {
  it('is capped, tagged and separate from monitoring sessions', async () => {
    const pool = createDatastorePool({ url: inject('pgUrl'), maxConnections: 3 });
    try {
      expect(pool.options.max).toBe(3);
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      const waiting = pool.connect();
      expect(pool.waitingCount).toBe(1);
      const row = await clients[0].query<{ app: string }>(
        "SELECT current_setting('application_name') AS app",
      );
      expect(row.rows[0]?.app).toBe('pgquerylens-datastore');
      for (const c of clients) c.release();
      (await waiting).release();
    } finally {
      await pool.end();
    }
  });

  it('defaults to 25 connections from configuration', async () => {
    const { loadConfig } = await import('../../src/core/config/load-config.js');
    const config = loadConfig({
      env: { PGQUERYLENS_DATASTORE_URL: inject('pgUrl') },
      knownCollectors: [],
    });
    expect(config.datastore?.maxConnections).toBe(25);
  });
});

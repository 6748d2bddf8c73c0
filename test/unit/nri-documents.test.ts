import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NRI_DEFAULTS } from '../../src/core/config/nri-settings.js';
import { silentLogger } from '../../src/core/logger.js';
import { NriAdapter } from '../../src/adapters/nri/nri-adapter.js';
import { buildV3Documents, serializeV3Document } from '../../src/adapters/nri/v3/v3-documents.js';
import type { V3Entity, V3MetricSet } from '../../src/adapters/nri/v3/v3-types.js';
import { fakeBatch } from '../helpers/batches.js';

const TARGET = { name: 'db1', host: 'db1', port: 5432, labels: {} };

function qpmSets(n: number): V3MetricSet[] {
  return Array.from({ length: n }, (_, i) => ({
    event_type: 'PostgresSlowQueries',
    query_id: String(i),
  }));
}

describe('protocol 3 documents', () => {
  it('puts at most 600 sets on a line and each QPM type on its own lines', () => {
    const entity: V3Entity = {
      entity: { name: 'db1:5432', type: 'pg-instance', id_attributes: [] },
      metrics: [{ event_type: 'PostgresqlInstanceSample' }],
      inventory: {},
      events: [],
    };
    const docs = buildV3Documents(
      TARGET,
      [entity],
      [
        { eventType: 'PostgresWaitEvents', sets: qpmSets(2) },
        { eventType: 'PostgresSlowQueries', sets: qpmSets(1201) },
      ],
      '1.2.3',
    );
    expect(docs.map((d) => d.data.reduce((n, e) => n + e.metrics.length, 0))).toEqual([
      1, 2, 600, 600, 1,
    ]);
    for (const doc of docs.slice(1)) {
      expect(doc.data[0]?.entity).toEqual({
        name: 'db1:5432',
        type: 'pg-instance',
        id_attributes: [],
      });
    }
  });

  it('splits a huge entity, keeping its inventory with the first part', () => {
    const big: V3Entity = {
      entity: { name: 'x', type: 'pg-database', id_attributes: [] },
      metrics: Array.from({ length: 700 }, () => ({ event_type: 'PostgresqlDatabaseSample' })),
      inventory: { 'a/setting': { value: '1' } },
      events: [],
    };
    const docs = buildV3Documents(TARGET, [big], [], '1');
    expect(docs).toHaveLength(2);
    expect(docs[0]?.data[0]?.inventory).toEqual({ 'a/setting': { value: '1' } });
    expect(docs[1]?.data[0]?.inventory).toEqual({});
  });

  it('serializes as Go does: sorted map keys, HTML-safe strings', () => {
    const [doc] = buildV3Documents(
      TARGET,
      [
        {
          entity: { name: 'db1:5432', type: 'pg-instance', id_attributes: [] },
          metrics: [{ event_type: 'S', zeta: 1, displayName: 'a<b>&c', 'db.x': 2 }],
          inventory: { 'b/setting': { value: 'x' }, 'a/setting': { value: null } },
          events: [],
        },
      ],
      [],
      '1.0.0',
    );
    expect(doc).toBeDefined();
    if (doc === undefined) return;
    expect(serializeV3Document(doc)).toBe(
      '{"name":"com.newrelic.postgresql","protocol_version":"3","integration_version":"1.0.0",' +
        '"data":[{"entity":{"name":"db1:5432","type":"pg-instance","id_attributes":[]},' +
        '"metrics":[{"db.x":2,"displayName":"a\\u003cb\\u003e\\u0026c","event_type":"S","zeta":1}],' +
        '"inventory":{"a/setting":{"value":null},"b/setting":{"value":"x"}},"events":[]}]}',
    );
  });
});

describe('NriAdapter', () => {
  it('writes {} heartbeats while nothing else was written, then stops on shutdown', async () => {
    const lines: string[] = [];
    const adapter = new NriAdapter({
      settings: { ...NRI_DEFAULTS, protocol: 3 },
      stateDir: mkdtempSync(path.join(os.tmpdir(), 'pgql-nri-')),
      stateKey: () => 'k',
      integrationVersion: 'test',
      intervalMs: 1000,
      writeLine: (line) => {
        lines.push(line);
        return Promise.resolve();
      },
      logger: silentLogger,
      heartbeatMs: 40,
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(new Set(lines)).toEqual(new Set(['{}']));
    await adapter.export(fakeBatch(1), new AbortController().signal);
    await adapter.shutdown();
    const count = lines.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(lines.length).toBe(count);
  });
});

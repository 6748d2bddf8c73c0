import { ATTR } from './attribute-names.js';
import { dbNamespace, isUserSchema } from './db-namespace.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { numberAt, rowsOf, textAt } from './probe-reading.js';

const INDEX = [ATTR.dbNamespace, ATTR.dbCollectionName, ATTR.indexName];

const M = {
  scans: defineMetric({
    name: 'postgresql.index.scans',
    unit: '{scans}',
    instrument: 'counter',
    description: 'Index scans started on an index.',
    attributes: INDEX,
    receiver: true,
  }),
  size: defineMetric({
    name: 'postgresql.index.size',
    unit: 'By',
    instrument: 'gauge',
    description: 'Disk space used by an index (pg_relation_size).',
    attributes: INDEX,
    receiver: true,
  }),
} as const;

/** pg_stat_all_indexes, user indexes only (as pg_stat_user_indexes). */
export const INDEX_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const { row, sample } of rowsOf(batch, 'pg_stat_all_indexes')) {
      const database = sample.database;
      const schema = textAt(row, 'schemaname');
      const table = textAt(row, 'relname');
      const index = textAt(row, 'indexrelname');
      if (database === undefined || schema === undefined || table === undefined) continue;
      if (index === undefined || !isUserSchema(schema)) continue;
      const attrs = {
        [ATTR.dbNamespace]: dbNamespace(database, schema),
        [ATTR.dbCollectionName]: table,
        [ATTR.indexName]: index,
      };
      const placement = { object: { database, schema, table, index } };
      sink.add(M.scans, numberAt(row, 'idx_scan'), attrs, placement);
      sink.add(M.size, numberAt(row, 'index_size_bytes'), attrs, placement);
    }
  },
};

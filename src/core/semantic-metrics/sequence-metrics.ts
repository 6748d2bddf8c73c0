import { ATTR } from './attribute-names.js';
import { dbNamespace } from './db-namespace.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { numberAt, rowsOf, textAt } from './probe-reading.js';

const M = {
  utilization: defineMetric({
    name: 'postgresql.sequence.utilization',
    unit: '1',
    instrument: 'gauge',
    integer: false,
    description:
      'Share of a sequence’s range already used (0–1), for the sequences nearest exhaustion; absent when the role may not read the value.',
    attributes: [ATTR.dbNamespace, ATTR.sequenceName],
  }),
} as const;

/** pg_sequence_exhaustion. */
export const SEQUENCE_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const { row, sample } of rowsOf(batch, 'pg_sequence_exhaustion')) {
      const database = sample.database;
      const schema = textAt(row, 'schemaname');
      const name = textAt(row, 'sequencename');
      const pct = numberAt(row, 'pct_used');
      if (database === undefined || schema === undefined || name === undefined) continue;
      sink.add(
        M.utilization,
        pct === undefined ? undefined : pct / 100,
        { [ATTR.dbNamespace]: dbNamespace(database, schema), [ATTR.sequenceName]: name },
        { object: { database, schema } },
      );
    }
  },
};

import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';

const M = {
  changes: defineMetric({
    name: 'postgresql.plan.changes',
    unit: '{change}',
    instrument: 'counter',
    temporality: 'delta',
    description:
      'Plan changes detected during the interval: a statement’s new plan hash (new_plan) or a proven slowdown after one (suspected_regression).',
    attributes: [ATTR.dbNamespace, ATTR.planChangeKind],
  }),
} as const;

/** planChanges, counted per database and kind. */
export const PLAN_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    const counts = new Map<string, { database: string; kind: string; n: number }>();
    for (const change of batch.planChanges) {
      const key = JSON.stringify([change.databaseName, change.kind]);
      const entry = counts.get(key) ?? { database: change.databaseName, kind: change.kind, n: 0 };
      entry.n += 1;
      counts.set(key, entry);
    }
    for (const { database, kind, n } of counts.values()) {
      sink.add(
        M.changes,
        n,
        { [ATTR.dbNamespace]: database, [ATTR.planChangeKind]: kind },
        database === '' ? {} : { object: { database } },
      );
    }
  },
};

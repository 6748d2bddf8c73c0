import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import type { MetricDescriptor } from './metric-types.js';
import { numberAt, rowsOf, textAt } from './probe-reading.js';

const M = {
  backends: defineMetric({
    name: 'postgresql.backends',
    unit: '1',
    instrument: 'updown-counter',
    description:
      'Backend processes connected to a database, every state and backend type (the collector’s own session excluded).',
    attributes: [ATTR.dbNamespace],
    receiver: true,
  }),
  sessions: defineMetric({
    name: 'postgresql.session.count',
    unit: '{session}',
    instrument: 'updown-counter',
    description:
      'Sessions by database, state, wait event type (CPU when active without a wait) and backend type.',
    attributes: [ATTR.dbNamespace, ATTR.sessionState, ATTR.waitEventType, ATTR.backendType],
  }),
  oldestTransaction: defineMetric({
    name: 'postgresql.transaction.oldest.age',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description: 'Age of the oldest open transaction, per database (0 when none).',
    attributes: [ATTR.dbNamespace],
  }),
  oldestQuery: defineMetric({
    name: 'postgresql.query.oldest.age',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description: 'Run time so far of the longest-running active statement, per database.',
    attributes: [ATTR.dbNamespace],
  }),
  oldestIdleInTransaction: defineMetric({
    name: 'postgresql.session.idle_in_transaction.oldest.age',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description: 'Longest time a session has sat idle inside a transaction, per database.',
    attributes: [ATTR.dbNamespace],
  }),
} as const;

const OLDEST: readonly (readonly [MetricDescriptor, string])[] = [
  [M.oldestTransaction, 'max_xact_age_seconds'],
  [M.oldestQuery, 'max_active_query_seconds'],
  [M.oldestIdleInTransaction, 'max_idle_in_transaction_seconds'],
];

/** Per-database totals and maxima over the summary's rows, in first-seen order. */
function perDatabase(
  rows: readonly { row: Parameters<typeof numberAt>[0] }[],
): Map<string, { backends: number; oldest: number[] }> {
  const byDb = new Map<string, { backends: number; oldest: number[] }>();
  for (const { row } of rows) {
    const database = textAt(row, 'datname') ?? '';
    const entry = byDb.get(database) ?? { backends: 0, oldest: OLDEST.map(() => 0) };
    entry.backends += numberAt(row, 'sessions') ?? 0;
    OLDEST.forEach(([, column], i) => {
      entry.oldest[i] = Math.max(entry.oldest[i] ?? 0, numberAt(row, column) ?? 0);
    });
    byDb.set(database, entry);
  }
  return byDb;
}

/** pg_stat_activity_summary (sessions grouped in SQL). */
export const SESSION_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    const rows = rowsOf(batch, 'pg_stat_activity_summary');
    for (const { row } of rows) {
      const database = textAt(row, 'datname') ?? '';
      sink.add(
        M.sessions,
        numberAt(row, 'sessions'),
        {
          [ATTR.dbNamespace]: database,
          [ATTR.sessionState]: textAt(row, 'state'),
          [ATTR.waitEventType]: textAt(row, 'wait_event_type'),
          [ATTR.backendType]: textAt(row, 'backend_type'),
        },
        database === '' ? {} : { object: { database } },
      );
    }
    for (const [database, entry] of perDatabase(rows)) {
      const attrs = { [ATTR.dbNamespace]: database };
      const placement = database === '' ? {} : { object: { database } };
      // Processes without a database (checkpointer, walwriter...) are not a database's backends.
      if (database !== '') sink.add(M.backends, entry.backends, attrs, placement);
      OLDEST.forEach(([descriptor], i) => sink.add(descriptor, entry.oldest[i], attrs, placement));
    }
  },
};

import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { boolAt, numberAt, rowsOf, textAt } from './probe-reading.js';

const LOCK = [ATTR.dbNamespace, ATTR.lockType, ATTR.lockMode];

const M = {
  locks: defineMetric({
    name: 'postgresql.lock.count',
    unit: '{lock}',
    instrument: 'updown-counter',
    description:
      'Locks held (granted) and awaited, by database, lock type and mode. Unlike the receiver’s optional postgresql.database.locks it has no relation attribute (the probe groups in SQL without it).',
    attributes: [...LOCK, ATTR.lockGranted],
  }),
  waiters: defineMetric({
    name: 'postgresql.lock.waiter.count',
    unit: '{session}',
    instrument: 'updown-counter',
    description: 'Sessions waiting for a lock, by database, lock type and mode.',
    attributes: LOCK,
  }),
  oldestWait: defineMetric({
    name: 'postgresql.lock.wait.oldest.age',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description: 'Longest current wait for a lock, by database, lock type and mode (PG14+).',
    attributes: LOCK,
  }),
} as const;

/**
 * pg_locks (grouped in SQL). Locks on shared catalogs and transaction ids belong to no database
 * and carry no db.namespace.
 */
export const LOCK_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const { row } of rowsOf(batch, 'pg_locks')) {
      const database = textAt(row, 'datname') ?? '';
      const granted = boolAt(row, 'granted');
      const attrs = {
        [ATTR.dbNamespace]: database,
        [ATTR.lockType]: textAt(row, 'locktype'),
        [ATTR.lockMode]: textAt(row, 'mode'),
      };
      const placement = database === '' ? {} : { object: { database } };
      sink.add(
        M.locks,
        numberAt(row, 'locks'),
        { ...attrs, [ATTR.lockGranted]: granted },
        placement,
      );
      if (granted === false) {
        sink.add(M.waiters, numberAt(row, 'waiting_sessions'), attrs, placement);
        sink.add(M.oldestWait, numberAt(row, 'max_wait_seconds'), attrs, placement);
      }
    }
  },
};

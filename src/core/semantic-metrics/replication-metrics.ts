import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { boolAt, numberAt, rowsOf, textAt } from './probe-reading.js';

const SLOT = [ATTR.slotName, ATTR.slotType, ATTR.dbNamespace];

const M = {
  dataDelay: defineMetric({
    name: 'postgresql.replication.data_delay',
    unit: 'By',
    instrument: 'gauge',
    description: 'WAL a replica has yet to replay, from this server’s newest WAL.',
    attributes: [ATTR.replicationClient],
    receiver: true,
  }),
  walDelay: defineMetric({
    name: 'postgresql.wal.delay',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description:
      'Time between flushing recent WAL locally and a replica confirming it wrote, flushed or replayed it.',
    attributes: [ATTR.operation, ATTR.replicationClient],
    receiver: true,
  }),
  slotRetainedWal: defineMetric({
    name: 'postgresql.replication.slot.retained_wal',
    unit: 'By',
    instrument: 'gauge',
    description: 'WAL a replication slot keeps from being removed (from its restart_lsn).',
    attributes: SLOT,
  }),
  slotActive: defineMetric({
    name: 'postgresql.replication.slot.active',
    unit: '1',
    instrument: 'gauge',
    description: '1 while a consumer is connected to the replication slot, 0 otherwise.',
    attributes: SLOT,
  }),
  slotSafeWal: defineMetric({
    name: 'postgresql.replication.slot.safe_wal.size',
    unit: 'By',
    instrument: 'gauge',
    description:
      'WAL that can still be written before the slot is invalidated by max_slot_wal_keep_size (PG13+; absent when unlimited).',
    attributes: SLOT,
  }),
  slotXminAge: defineMetric({
    name: 'postgresql.replication.slot.xmin.age',
    unit: '{transaction}',
    instrument: 'gauge',
    description: 'Age of the oldest transaction a slot holds back vacuum for.',
    attributes: SLOT,
  }),
  slotCatalogXminAge: defineMetric({
    name: 'postgresql.replication.slot.catalog_xmin.age',
    unit: '{transaction}',
    instrument: 'gauge',
    description: 'Age of the oldest transaction a logical slot holds back catalog vacuum for.',
    attributes: SLOT,
  }),
} as const;

const LAG_OPERATIONS = ['write', 'flush', 'replay'] as const;

/**
 * pg_stat_replication (walsender rows: this server feeding replicas) and pg_replication_slots.
 * The receiver records `postgresql.wal.delay` (seconds as double) rather than the integer
 * `postgresql.wal.lag` under its default `preciselagmetrics` gate; we follow the code. A client
 * connected over a Unix socket has no address: `unix`, as the receiver says.
 */
export const REPLICATION_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const { row } of rowsOf(batch, 'pg_stat_replication')) {
      if (textAt(row, 'role') !== 'primary') continue;
      const client = { [ATTR.replicationClient]: textAt(row, 'client_addr') ?? 'unix' };
      sink.add(M.dataDelay, numberAt(row, 'replay_lag_bytes'), client);
      for (const operation of LAG_OPERATIONS) {
        sink.add(M.walDelay, numberAt(row, `${operation}_lag`), {
          [ATTR.operation]: operation,
          ...client,
        });
      }
    }
    for (const { row } of rowsOf(batch, 'pg_replication_slots')) {
      const name = textAt(row, 'slot_name');
      if (name === undefined) continue;
      const database = textAt(row, 'database');
      const attrs = {
        [ATTR.slotName]: name,
        [ATTR.slotType]: textAt(row, 'slot_type'),
        [ATTR.dbNamespace]: database,
      };
      const placement = database === undefined ? {} : { object: { database } };
      const active = boolAt(row, 'active');
      sink.add(M.slotRetainedWal, numberAt(row, 'retained_bytes'), attrs, placement);
      sink.add(M.slotActive, active === undefined ? undefined : Number(active), attrs, placement);
      sink.add(M.slotSafeWal, numberAt(row, 'safe_wal_size'), attrs, placement);
      sink.add(M.slotXminAge, numberAt(row, 'xmin_age'), attrs, placement);
      sink.add(M.slotCatalogXminAge, numberAt(row, 'catalog_xmin_age'), attrs, placement);
    }
  },
};

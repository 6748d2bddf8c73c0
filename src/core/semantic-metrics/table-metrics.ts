import type { ProbeRow, ProbeSample } from '../model/probe-sample.js';
import type { UnifiedMetrics } from '../model/unified-metrics.js';
import { ATTR } from './attribute-names.js';
import { dbNamespace, isUserSchema } from './db-namespace.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import type { DatabaseObjectRef } from './metric-types.js';
import type { PointSink } from './point-sink.js';
import { msToSeconds, numberAt, rowsOf, samplesOf, textAt } from './probe-reading.js';

const TABLE = [ATTR.dbNamespace, ATTR.dbCollectionName];

const M = {
  rows: defineMetric({
    name: 'postgresql.rows',
    unit: '1',
    instrument: 'updown-counter',
    description: 'Estimated live and dead rows of a table.',
    attributes: [ATTR.state, ...TABLE],
    receiver: true,
  }),
  operations: defineMetric({
    name: 'postgresql.operations',
    unit: '1',
    instrument: 'counter',
    description: 'Rows inserted, updated, deleted and HOT-updated in a table.',
    attributes: [ATTR.operation, ...TABLE],
    receiver: true,
  }),
  size: defineMetric({
    name: 'postgresql.table.size',
    unit: 'By',
    instrument: 'updown-counter',
    description:
      'Disk space used by a table: heap with its TOAST, free space and visibility maps (pg_table_size; the receiver reads the heap alone).',
    attributes: TABLE,
    receiver: true,
  }),
  vacuumCount: defineMetric({
    name: 'postgresql.table.vacuum.count',
    unit: '{vacuum}',
    instrument: 'counter',
    description: 'Manual VACUUMs of a table.',
    attributes: TABLE,
    receiver: true,
  }),
  sequentialScans: defineMetric({
    name: 'postgresql.sequential_scans',
    unit: '{sequential_scan}',
    instrument: 'counter',
    description: 'Sequential scans of a table.',
    attributes: TABLE,
    receiver: true,
  }),
  blocksRead: defineMetric({
    name: 'postgresql.blocks_read',
    unit: '1',
    instrument: 'counter',
    description:
      'Block reads of a table, its indexes, TOAST and TOAST index, from disk (_read) or shared buffers (_hit).',
    attributes: [ATTR.source, ...TABLE],
    receiver: true,
  }),
  tableCount: defineMetric({
    name: 'postgresql.table.count',
    unit: '{table}',
    instrument: 'updown-counter',
    description: 'User tables in a database.',
    attributes: [ATTR.dbNamespace],
    receiver: true,
  }),
  maintenance: defineMetric({
    name: 'postgresql.table.maintenance.operations',
    unit: '{operation}',
    instrument: 'counter',
    description: 'VACUUM and ANALYZE runs on a table, manual and by autovacuum.',
    attributes: [...TABLE, ATTR.maintenanceType],
  }),
  maintenanceTime: defineMetric({
    name: 'postgresql.table.maintenance.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time spent in VACUUM and ANALYZE of a table, manual and by autovacuum (PG18+).',
    attributes: [...TABLE, ATTR.maintenanceType],
  }),
  xidAge: defineMetric({
    name: 'postgresql.table.xid.age',
    unit: '{transaction}',
    instrument: 'gauge',
    description:
      'Age of a table’s oldest unfrozen transaction id (age(relfrozenxid)), for the tables nearest wraparound.',
    attributes: TABLE,
  }),
  multixactAge: defineMetric({
    name: 'postgresql.table.multixact.age',
    unit: '{multixact}',
    instrument: 'gauge',
    description: 'Age of a table’s oldest multixact id (mxid_age(relminmxid)).',
    attributes: TABLE,
  }),
} as const;

const ROW_STATES = [
  ['live', 'n_live_tup'],
  ['dead', 'n_dead_tup'],
] as const;

const OPERATIONS = [
  ['ins', 'n_tup_ins'],
  ['upd', 'n_tup_upd'],
  ['del', 'n_tup_del'],
  ['hot_upd', 'n_tup_hot_upd'],
] as const;

const BLOCK_SOURCES = [
  'heap_read',
  'heap_hit',
  'idx_read',
  'idx_hit',
  'toast_read',
  'toast_hit',
  'tidx_read',
  'tidx_hit',
] as const;

const MAINTENANCE = ['vacuum', 'autovacuum', 'analyze', 'autoanalyze'] as const;

interface TableRef {
  readonly attrs: Record<string, string>;
  readonly object: DatabaseObjectRef;
}

/** The table a row of a database-scoped probe names, when it is a user table. */
function userTable(row: ProbeRow, sample: ProbeSample): TableRef | undefined {
  const database = sample.database;
  const schema = textAt(row, 'schemaname');
  const table = textAt(row, 'relname');
  if (database === undefined || schema === undefined || table === undefined) return undefined;
  if (!isUserSchema(schema)) return undefined;
  return {
    attrs: { [ATTR.dbNamespace]: dbNamespace(database, schema), [ATTR.dbCollectionName]: table },
    object: { database, schema, table },
  };
}

function deriveTableStats(row: ProbeRow, ref: TableRef, sink: PointSink): void {
  const { attrs, object } = ref;
  for (const [state, column] of ROW_STATES) {
    sink.add(M.rows, numberAt(row, column), { [ATTR.state]: state, ...attrs }, { object });
  }
  for (const [operation, column] of OPERATIONS) {
    sink.add(
      M.operations,
      numberAt(row, column),
      { [ATTR.operation]: operation, ...attrs },
      { object },
    );
  }
  sink.add(M.size, numberAt(row, 'table_size_bytes'), attrs, { object });
  sink.add(M.vacuumCount, numberAt(row, 'vacuum_count'), attrs, { object });
  sink.add(M.sequentialScans, numberAt(row, 'seq_scan'), attrs, { object });
  for (const source of BLOCK_SOURCES) {
    const column = source.replace('_', '_blks_');
    sink.add(M.blocksRead, numberAt(row, column), { [ATTR.source]: source, ...attrs }, { object });
  }
  for (const type of MAINTENANCE) {
    const typed = { ...attrs, [ATTR.maintenanceType]: type };
    sink.add(M.maintenance, numberAt(row, `${type}_count`), typed, { object });
    sink.add(M.maintenanceTime, msToSeconds(numberAt(row, `total_${type}_time`)), typed, {
      object,
    });
  }
}

/** pg_stat_all_tables (user tables, as pg_stat_user_tables) and pg_table_wraparound. */
export const TABLE_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch: UnifiedMetrics, sink: PointSink) {
    for (const sample of samplesOf(batch, 'pg_stat_all_tables')) {
      let tables = 0;
      for (const row of sample.rows) {
        const ref = userTable(row, sample);
        if (ref === undefined) continue;
        tables += 1;
        deriveTableStats(row, ref, sink);
      }
      const database = sample.database;
      if (database !== undefined) {
        sink.add(M.tableCount, tables, { [ATTR.dbNamespace]: database }, { object: { database } });
      }
    }
    for (const { row, sample } of rowsOf(batch, 'pg_table_wraparound')) {
      const ref = userTable(row, sample);
      if (ref === undefined) continue;
      sink.add(M.xidAge, numberAt(row, 'xid_age'), ref.attrs, { object: ref.object });
      sink.add(M.multixactAge, numberAt(row, 'mxid_age'), ref.attrs, { object: ref.object });
    }
  },
};

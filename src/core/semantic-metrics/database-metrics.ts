import type { UnifiedMetrics } from '../model/unified-metrics.js';
import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import type { MetricDescriptor } from './metric-types.js';
import type { PointSink } from './point-sink.js';
import { boolAt, msToSeconds, numberAt, rowsOf, textAt } from './probe-reading.js';

const DB = [ATTR.dbNamespace];

/** A receiver counter of pg_stat_database, per database. */
function statCounter(name: string, unit: string, description: string): MetricDescriptor {
  return defineMetric({
    name,
    unit,
    instrument: 'counter',
    description,
    attributes: DB,
    receiver: true,
  });
}

const M = {
  commits: statCounter('postgresql.commits', '1', 'Transactions committed (xact_commit).'),
  rollbacks: statCounter('postgresql.rollbacks', '1', 'Transactions rolled back (xact_rollback).'),
  deadlocks: statCounter('postgresql.deadlocks', '{deadlock}', 'Deadlocks detected.'),
  tempFiles: statCounter('postgresql.temp_files', '{temp_file}', 'Temporary files created.'),
  tempIo: statCounter('postgresql.temp.io', 'By', 'Data written to temporary files.'),
  tupReturned: statCounter(
    'postgresql.tup_returned',
    '{tup_returned}',
    'Rows returned by queries (tup_returned).',
  ),
  tupFetched: statCounter(
    'postgresql.tup_fetched',
    '{tup_fetched}',
    'Rows fetched by queries (tup_fetched).',
  ),
  tupInserted: statCounter('postgresql.tup_inserted', '{tup_inserted}', 'Rows inserted.'),
  tupUpdated: statCounter('postgresql.tup_updated', '{tup_updated}', 'Rows updated.'),
  tupDeleted: statCounter('postgresql.tup_deleted', '{tup_deleted}', 'Rows deleted.'),
  blksHit: statCounter(
    'postgresql.blks_hit',
    '{blks_hit}',
    'Block reads found in shared buffers (blks_hit).',
  ),
  blksRead: statCounter(
    'postgresql.blks_read',
    '{blks_read}',
    'Blocks read from disk or OS cache.',
  ),
  dbSize: defineMetric({
    name: 'postgresql.db_size',
    unit: 'By',
    instrument: 'updown-counter',
    description: 'Disk space used by the database (pg_database_size).',
    attributes: DB,
    receiver: true,
  }),
  databaseCount: defineMetric({
    name: 'postgresql.database.count',
    unit: '{databases}',
    instrument: 'updown-counter',
    description: 'Databases monitored in this batch (those pg_stat_database was read in).',
    receiver: true,
  }),
  conflicts: defineMetric({
    name: 'postgresql.query.conflicts',
    unit: '{query}',
    instrument: 'counter',
    description: 'Standby queries cancelled by recovery conflicts, by cause; zero on a primary.',
    attributes: [ATTR.conflictType, ATTR.dbNamespace],
    receiver: true,
  }),
  ioTime: defineMetric({
    name: 'postgresql.database.io.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description:
      'Time backends spent reading and writing data blocks (blk_read_time, blk_write_time; needs track_io_timing).',
    attributes: [ATTR.dbNamespace, ATTR.diskIoDirection],
  }),
  checksumFailures: defineMetric({
    name: 'postgresql.checksum.failures',
    unit: '{failure}',
    instrument: 'counter',
    description: 'Data page checksum failures detected (needs data checksums).',
    attributes: DB,
  }),
  sessions: defineMetric({
    name: 'postgresql.sessions',
    unit: '{session}',
    instrument: 'counter',
    description: 'Sessions established (PG14+).',
    attributes: DB,
  }),
  sessionTerminations: defineMetric({
    name: 'postgresql.session.terminations',
    unit: '{session}',
    instrument: 'counter',
    description:
      'Sessions that ended abnormally (PG14+): client lost (abandoned), fatal error, or terminated by an operator (killed).',
    attributes: [ATTR.dbNamespace, ATTR.sessionTerminationReason],
  }),
  sessionTime: defineMetric({
    name: 'postgresql.session.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time sessions spent connected (session_time, PG14+).',
    attributes: DB,
  }),
  sessionActiveTime: defineMetric({
    name: 'postgresql.session.active.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time sessions spent executing statements (active_time, PG14+).',
    attributes: DB,
  }),
  sessionIdleInTransactionTime: defineMetric({
    name: 'postgresql.session.idle_in_transaction.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time sessions spent idle inside a transaction (PG14+).',
    attributes: DB,
  }),
  xidAge: defineMetric({
    name: 'postgresql.database.xid.age',
    unit: '{transaction}',
    instrument: 'gauge',
    description:
      'Age of the database’s oldest unfrozen transaction id (age(datfrozenxid)); the server stops assigning ids at 2^31.',
    attributes: DB,
  }),
  multixactAge: defineMetric({
    name: 'postgresql.database.multixact.age',
    unit: '{multixact}',
    instrument: 'gauge',
    description: 'Age of the database’s oldest multixact id (mxid_age(datminmxid)).',
    attributes: DB,
  }),
} as const;

const STAT_COUNTERS: readonly (readonly [MetricDescriptor, string])[] = [
  [M.commits, 'xact_commit'],
  [M.rollbacks, 'xact_rollback'],
  [M.deadlocks, 'deadlocks'],
  [M.tempFiles, 'temp_files'],
  [M.tempIo, 'temp_bytes'],
  [M.tupReturned, 'tup_returned'],
  [M.tupFetched, 'tup_fetched'],
  [M.tupInserted, 'tup_inserted'],
  [M.tupUpdated, 'tup_updated'],
  [M.tupDeleted, 'tup_deleted'],
  [M.blksHit, 'blks_hit'],
  [M.blksRead, 'blks_read'],
  [M.checksumFailures, 'checksum_failures'],
  [M.sessions, 'sessions'],
];

const CONFLICTS = ['tablespace', 'lock', 'snapshot', 'bufferpin', 'deadlock'] as const;

function deriveStatDatabase(batch: UnifiedMetrics, sink: PointSink): Set<string> {
  const sized = new Set<string>();
  for (const { row, sample } of rowsOf(batch, 'pg_stat_database')) {
    const database = textAt(row, 'datname') ?? sample.database;
    if (database === undefined) continue;
    const attrs = { [ATTR.dbNamespace]: database };
    const placement = { object: { database } };
    for (const [descriptor, column] of STAT_COUNTERS) {
      sink.add(descriptor, numberAt(row, column), attrs, placement);
    }
    const size = numberAt(row, 'size_bytes');
    if (size !== undefined) {
      sink.add(M.dbSize, size, attrs, placement);
      sized.add(database);
    }
    for (const [direction, column] of [
      ['read', 'blk_read_time'],
      ['write', 'blk_write_time'],
    ] as const) {
      sink.add(
        M.ioTime,
        msToSeconds(numberAt(row, column)),
        { ...attrs, [ATTR.diskIoDirection]: direction },
        placement,
      );
    }
    for (const reason of ['abandoned', 'fatal', 'killed'] as const) {
      sink.add(
        M.sessionTerminations,
        numberAt(row, `sessions_${reason}`),
        { ...attrs, [ATTR.sessionTerminationReason]: reason },
        placement,
      );
    }
    sink.add(M.sessionTime, msToSeconds(numberAt(row, 'session_time')), attrs, placement);
    sink.add(M.sessionActiveTime, msToSeconds(numberAt(row, 'active_time')), attrs, placement);
    sink.add(
      M.sessionIdleInTransactionTime,
      msToSeconds(numberAt(row, 'idle_in_transaction_time')),
      attrs,
      placement,
    );
  }
  return sized;
}

/**
 * The databases monitored: every database pg_stat_database was asked to read (failed reads
 * included, as the receiver counts the databases it scrapes), plus those with a sample.
 */
function monitoredDatabases(batch: UnifiedMetrics): Set<string> | undefined {
  const names = new Set<string>();
  let ran = false;
  for (const status of batch.metadata.collectors) {
    if (status.collector !== 'pg_stat_database') continue;
    ran = true;
    if (status.database !== undefined) names.add(status.database);
  }
  for (const { row, sample } of rowsOf(batch, 'pg_stat_database')) {
    ran = true;
    const database = textAt(row, 'datname') ?? sample.database;
    if (database !== undefined) names.add(database);
  }
  return ran ? names : undefined;
}

function deriveDatabaseList(batch: UnifiedMetrics, sink: PointSink, sized: Set<string>): void {
  for (const { row } of rowsOf(batch, 'pg_database')) {
    const database = textAt(row, 'datname');
    if (database === undefined) continue;
    const attrs = { [ATTR.dbNamespace]: database };
    const placement = { object: { database } };
    sink.add(M.xidAge, numberAt(row, 'age_datfrozenxid'), attrs, placement);
    sink.add(M.multixactAge, numberAt(row, 'age_datminmxid'), attrs, placement);
    // pg_stat_database's size is preferred (read with the database's other counters); this
    // fills in the non-template databases it did not read, as the receiver lists them.
    if (!sized.has(database) && boolAt(row, 'datistemplate') !== true) {
      sink.add(M.dbSize, numberAt(row, 'database_size_bytes'), attrs, placement);
    }
  }
}

/** pg_stat_database, pg_stat_database_conflicts and pg_database. */
export const DATABASE_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    const sized = deriveStatDatabase(batch, sink);
    const monitored = monitoredDatabases(batch);
    if (monitored !== undefined) sink.add(M.databaseCount, monitored.size);
    for (const { row, sample } of rowsOf(batch, 'pg_stat_database_conflicts')) {
      const database = textAt(row, 'datname') ?? sample.database;
      if (database === undefined) continue;
      for (const type of CONFLICTS) {
        sink.add(
          M.conflicts,
          numberAt(row, `confl_${type}`),
          { [ATTR.conflictType]: type, [ATTR.dbNamespace]: database },
          { object: { database } },
        );
      }
    }
    deriveDatabaseList(batch, sink, sized);
  },
};

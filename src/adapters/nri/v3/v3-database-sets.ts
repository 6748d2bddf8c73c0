import type { ProbeRow } from '../../../core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import {
  castBigint,
  databaseRows,
  hasProbe,
  probeSamples,
  text,
  toNumber,
  V3SetBuilder,
  type V3BuildContext,
} from './v3-metric-sets.js';
import type { V3EntityDraft } from './v3-naming.js';

/** Event type of every database set. */
export const DATABASE_SAMPLE = 'PostgresqlDatabaseSample';

/** pg_locks modes → nri's lock gauges, in its column order. */
const LOCK_GAUGES: readonly (readonly [string, string])[] = [
  ['AccessExclusiveLock', 'db.locks.accessExclusiveLock'],
  ['AccessShareLock', 'db.locks.accessShareLock'],
  ['ExclusiveLock', 'db.locks.exclusiveLock'],
  ['RowExclusiveLock', 'db.locks.rowExclusiveLock'],
  ['RowShareLock', 'db.locks.rowShareLock'],
  ['ShareLock', 'db.locks.shareLock'],
  ['ShareRowExclusiveLock', 'db.locks.shareRowExclusiveLock'],
  ['ShareUpdateExclusiveLock', 'db.locks.shareUpdateExclusiveLock'],
];

/** The pg-database entity of `database` (identity: host and port). */
export function databaseEntity(ctx: V3BuildContext, database: string): V3EntityDraft {
  return ctx.registry.entity({
    name: database,
    type: 'pg-database',
    idAttributes: { host: ctx.host, port: ctx.port },
  });
}

/**
 * Sets A (activity and conflicts) and B (temp files, deadlocks, I/O time) per database, in
 * nri's order: every database's set A, then every database's set B. Each database's row comes
 * from its own pg_stat_database sample.
 */
export function addDatabaseSets(ctx: V3BuildContext): void {
  const templates = templateDatabases(ctx.batch);
  const stats = databaseRows(ctx.batch, 'pg_stat_database')
    .map(({ database, row }) => ({ name: text(row, 'datname') ?? database, row }))
    .filter((d) => !templates.has(d.name));
  if (stats.length === 0) return;
  const conflicts = new Map(
    databaseRows(ctx.batch, 'pg_stat_database_conflicts').map(({ database, row }) => [
      text(row, 'datname') ?? database,
      row,
    ]),
  );
  const maxConnections = setting(ctx.batch, 'max_connections');
  for (const { name, row } of stats) {
    const c: ProbeRow = conflicts.get(name) ?? {};
    databaseSet(ctx, name)
      .gauge('db.maxconnections', maxConnections)
      .gauge('db.connections', row.numbackends)
      .rate('db.commitsPerSecond', row.xact_commit)
      .rate('db.rollbacksPerSecond', row.xact_rollback)
      .rate('db.readsPerSecond', row.blks_read)
      .rate('db.bufferHitsPerSecond', row.blks_hit)
      .rate('db.rowsReturnedPerSecond', row.tup_returned)
      .rate('db.rowsFetchedPerSecond', row.tup_fetched)
      .rate('db.rowsInsertedPerSecond', row.tup_inserted)
      .rate('db.rowsUpdatedPerSecond', row.tup_updated)
      .rate('db.rowsDeletedPerSecond', row.tup_deleted)
      .rate('db.conflicts.tablespacePerSecond', c.confl_tablespace)
      .rate('db.conflicts.locksPerSecond', c.confl_lock)
      .rate('db.conflicts.snapshotPerSecond', c.confl_snapshot)
      .rate('db.conflicts.bufferpinPerSecond', c.confl_bufferpin)
      .rate('db.conflicts.deadlockPerSecond', c.confl_deadlock)
      .add();
  }
  for (const { name, row } of stats) {
    databaseSet(ctx, name)
      .rate('db.tempFilesCreatedPerSecond', row.temp_files)
      .rate('db.tempWrittenInBytesPerSecond', row.temp_bytes)
      .rate('db.deadlocksPerSecond', row.deadlocks)
      .rate('db.readTimeInMillisecondsPerSecond', castBigint(row.blk_read_time))
      .rate('db.writeTimeInMillisecondsPerSecond', castBigint(row.blk_write_time))
      .add();
  }
}

/**
 * Set C: locks per mode, 0 for modes no lock holds, for every monitored database; only when
 * the pg_locks probe ran (nri's COLLECT_DB_LOCK_METRICS). nri counts the locks of sessions
 * connected to a database; the probe counts locks on objects of a database, which is what a
 * lock pile-up in that database looks like either way.
 */
export function addLockSets(ctx: V3BuildContext): void {
  if (!hasProbe(ctx.batch, 'pg_locks')) return;
  const counts = new Map<string, number>();
  for (const row of probeSamples(ctx.batch, 'pg_locks').flatMap((s) => s.rows)) {
    const key = `${text(row, 'datname') ?? ''}\u0000${text(row, 'mode') ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + (toNumber(row.locks) ?? 0));
  }
  const templates = templateDatabases(ctx.batch);
  for (const name of monitoredDatabases(ctx.batch)) {
    if (templates.has(name)) continue;
    const set = databaseSet(ctx, name);
    for (const [mode, metric] of LOCK_GAUGES) {
      set.gauge(metric, counts.get(`${name}\u0000${mode}`) ?? 0);
    }
    set.add();
  }
}

function databaseSet(ctx: V3BuildContext, database: string): V3SetBuilder {
  return new V3SetBuilder(ctx, databaseEntity(ctx, database), DATABASE_SAMPLE, [
    ['displayName', database],
    ['entityName', `database:${database}`],
  ]);
}

/**
 * The databases this batch read, pg_stat_database's first: every database-scoped sample and
 * collector run names one. The collector already left out templates and ignored databases.
 */
function monitoredDatabases(batch: UnifiedMetrics): string[] {
  const names = new Set<string>();
  for (const sample of probeSamples(batch, 'pg_stat_database')) {
    if (sample.database !== undefined) names.add(sample.database);
  }
  for (const sample of batch.probes) {
    if (sample.scope === 'database' && sample.database !== undefined) names.add(sample.database);
  }
  for (const run of batch.metadata.collectors) {
    if (run.database !== undefined) names.add(run.database);
  }
  return [...names];
}

/** Template databases, when the batch lists databases (nri never reports them). */
function templateDatabases(batch: UnifiedMetrics): Set<string> {
  const names = new Set<string>();
  for (const row of probeSamples(batch, 'pg_database').flatMap((s) => s.rows)) {
    const name = text(row, 'datname');
    if (name !== undefined && row.datistemplate === true) names.add(name);
  }
  return names;
}

/** A setting's value from the pg_settings probe, or undefined when absent. */
function setting(batch: UnifiedMetrics, name: string): string | undefined {
  for (const row of probeSamples(batch, 'pg_settings').flatMap((s) => s.rows)) {
    if (row.name === name) return text(row, 'setting');
  }
  return undefined;
}

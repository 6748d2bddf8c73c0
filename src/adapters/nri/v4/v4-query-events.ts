import type { IndividualQuery } from '../../../core/model/individual-query.js';
import type { SlowQuery } from '../../../core/model/slow-query.js';
import type { WaitEvent } from '../../../core/model/wait-event.js';
import {
  formatMs,
  inDatabase,
  plural,
  postgresEvent,
  type RoutedEvent,
} from './v4-event-values.js';

/**
 * Event attribute names follow the receiver's `db.server.top_query` and
 * `db.server.query_sample` events (`postgresql.calls`, `postgresql.total_exec_time`, ...),
 * with semconv names where one exists (`db.namespace`, `db.query.text`, `user.name`). Times are
 * milliseconds, as the receiver's attribute descriptions say; `postgresql.query_id` is used on
 * every event so one facet joins them.
 */

/** One ranked statement of the interval. */
export function topQueryEvent(q: SlowQuery): RoutedEvent {
  const summary =
    `Top query ${q.queryId}${inDatabase(q.databaseName)}: ${plural(q.calls, 'call')}, ` +
    `${formatMs(q.meanExecTimeMs)} per call, ${formatMs(q.totalExecTimeMs)} in ${formatMs(q.intervalSeconds * 1000)}`;
  return {
    database: q.databaseName,
    event: postgresEvent(summary, 'db.server.top_query', {
      'db.namespace': q.databaseName,
      'db.query.text': q.queryText,
      'db.operation.name': q.statementType === 'OTHER' ? undefined : q.statementType,
      'user.name': q.userName,
      'postgresql.query_id': q.queryId,
      'postgresql.schema': q.schemaName,
      'postgresql.toplevel': q.toplevel,
      'postgresql.interval': q.intervalSeconds,
      'postgresql.calls': q.calls,
      'postgresql.rows': q.rows,
      'postgresql.total_exec_time': q.totalExecTimeMs,
      'postgresql.mean_exec_time': q.meanExecTimeMs,
      'postgresql.stddev_exec_time': q.stddevExecTimeMs,
      'postgresql.total_plan_time': q.totalPlanTimeMs,
      'postgresql.avg_disk_reads': q.avgDiskReads,
      'postgresql.avg_disk_writes': q.avgDiskWrites,
      'postgresql.shared_blks_hit': q.sharedBlksHit,
      'postgresql.shared_blks_read': q.sharedBlksRead,
      'postgresql.shared_blks_dirtied': q.sharedBlksDirtied,
      'postgresql.shared_blks_written': q.sharedBlksWritten,
      'postgresql.temp_blks_read': q.tempBlksRead,
      'postgresql.temp_blks_written': q.tempBlksWritten,
      'postgresql.blk_read_time': q.blkReadTimeMs,
      'postgresql.blk_write_time': q.blkWriteTimeMs,
      'postgresql.wal_records': q.walRecords,
      'postgresql.wal_bytes': q.walBytes,
      'postgresql.jit_time': q.jitTimeMs,
      'postgresql.collected_at': q.collectedAt,
    }),
  };
}

/** One execution of a ranked statement the sampler (or pg_stat_activity) saw. */
export function querySampleEvent(q: IndividualQuery): RoutedEvent {
  const took = q.execTimeMs === undefined ? '' : `: ${formatMs(q.execTimeMs)}`;
  const state = q.state === undefined ? '' : ` (${q.state})`;
  return {
    database: q.databaseName,
    event: postgresEvent(
      `Execution of query ${q.queryId}${inDatabase(q.databaseName)}${took}${state}`,
      'db.server.query_sample',
      {
        'db.namespace': q.databaseName,
        'db.query.text': q.queryText,
        'postgresql.query_id': q.queryId,
        'postgresql.query_truncated': q.queryTruncated,
        'postgresql.pid': q.pid,
        'postgresql.state': q.state,
        'postgresql.total_exec_time': q.execTimeMs,
        'postgresql.cpu_time': q.cpuTimeMs,
        'postgresql.mean_exec_time': q.avgExecTimeMs,
        'postgresql.plan_id': q.planId,
        'postgresql.sample.source': q.source,
        'postgresql.collected_at': q.observedAt,
      },
    ),
  };
}

/** Estimated time in one wait event over the interval. */
export function waitEventEvent(w: WaitEvent): RoutedEvent {
  const summary =
    `Wait ${w.waitEventName}${inDatabase(w.databaseName)}: ${formatMs(w.totalWaitTimeMs)} ` +
    `over ${plural(w.sampleCount, 'sample')}`;
  return {
    database: w.databaseName,
    event: postgresEvent(summary, 'postgresql.wait_event', {
      'db.namespace': w.databaseName,
      'db.query.text': w.queryText,
      'postgresql.query_id': w.queryId,
      'postgresql.wait_event_type': w.waitEventType,
      'postgresql.wait_event': w.waitEvent,
      'postgresql.wait_event.name': w.waitEventName,
      'postgresql.wait_event.category': w.waitCategory,
      'postgresql.wait_event.description': w.description,
      'postgresql.total_wait_time': w.totalWaitTimeMs,
      'postgresql.sample_count': w.sampleCount,
      'postgresql.wait_event.source': w.source,
      'postgresql.collected_at': w.collectedAt,
    }),
  };
}

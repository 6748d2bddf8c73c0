import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import {
  hasProbe,
  probeSamples,
  text,
  V3SetBuilder,
  type V3BuildContext,
} from './v3-metric-sets.js';

/** Event type of both PgBouncer sets. */
export const PGBOUNCER_SAMPLE = 'PgBouncerSample';

/** Whether the batch is a PgBouncer target's (its probes are the SHOW ones). */
export function isPgBouncerBatch(batch: UnifiedMetrics): boolean {
  return hasProbe(batch, 'pgbouncer_stats') || hasProbe(batch, 'pgbouncer_pools');
}

/**
 * One `pgbouncer` entity per PgBouncer database: a set per SHOW STATS row, then a set per
 * SHOW POOLS row (one per database and user). Values are PgBouncer's own: times stay in
 * microseconds and `maxwait` in seconds, although nri's names say milliseconds.
 */
export function addPgBouncerSets(ctx: V3BuildContext): void {
  for (const row of probeSamples(ctx.batch, 'pgbouncer_stats').flatMap((s) => s.rows)) {
    const database = text(row, 'database');
    if (database === undefined) continue;
    pgbouncerSet(ctx, database)
      .rate('pgbouncer.stats.transactionsPerSecond', row.total_xact_count)
      .rate('pgbouncer.stats.queriesPerSecond', row.total_query_count)
      .gauge('pgbouncer.stats.totalServerAssignmentCount', row.total_server_assignment_count)
      .rate('pgbouncer.stats.bytesInPerSecond', row.total_received)
      .rate('pgbouncer.stats.bytesOutPerSecond', row.total_sent)
      .rate('pgbouncer.stats.totalTransactionDurationInMillisecondsPerSecond', row.total_xact_time)
      .rate('pgbouncer.stats.totalQueryDurationInMillisecondsPerSecond', row.total_query_time)
      .rate('pgbouncer.stats.requestsPerSecond', row.total_requests)
      .gauge('pgbouncer.stats.avgTransactionCount', row.avg_xact_count)
      .gauge('pgbouncer.stats.avgTransactionDurationInMilliseconds', row.avg_xact_time)
      .gauge('pgbouncer.stats.avgQueryCount', row.avg_query_count)
      .gauge('pgbouncer.stats.avgServerAssignmentCount', row.avg_server_assignment_count)
      .gauge('pgbouncer.stats.avgBytesIn', row.avg_recv)
      .gauge('pgbouncer.stats.avgBytesOut', row.avg_sent)
      .gauge('pgbouncer.stats.avgRequestsPerSecond', row.avg_req)
      // avg_query was renamed avg_query_time in 1.8; one attribute for both.
      .gauge('pgbouncer.stats.avgQueryDurationInMilliseconds', row.avg_query_time ?? row.avg_query)
      .add();
  }
  for (const row of probeSamples(ctx.batch, 'pgbouncer_pools').flatMap((s) => s.rows)) {
    const database = text(row, 'database');
    if (database === undefined) continue;
    pgbouncerSet(ctx, database)
      .attribute('pgbouncer.pools.user', row.user)
      .gauge('pgbouncer.pools.clientConnectionsCancelReq', row.cl_cancel_req)
      .gauge('pgbouncer.pools.clientConnectionsActive', row.cl_active)
      .gauge('pgbouncer.pools.clientConnectionsWaiting', row.cl_waiting)
      .gauge('pgbouncer.pools.clientConnectionsWaitingCancelReq', row.cl_waiting_cancel_req)
      .gauge('pgbouncer.pools.clientConnectionsActiveCancelReq', row.cl_active_cancel_req)
      .gauge('pgbouncer.pools.serverConnectionsActiveCancel', row.sv_active_cancel)
      .gauge('pgbouncer.pools.serverConnectionsBeingCancel', row.sv_being_canceled)
      .gauge('pgbouncer.pools.serverConnectionsActive', row.sv_active)
      .gauge('pgbouncer.pools.serverConnectionsIdle', row.sv_idle)
      .gauge('pgbouncer.pools.serverConnectionsUsed', row.sv_used)
      .gauge('pgbouncer.pools.serverConnectionsTested', row.sv_tested)
      .gauge('pgbouncer.pools.serverConnectionsLogin', row.sv_login)
      .gauge('pgbouncer.pools.maxwaitInMilliseconds', row.maxwait)
      .add();
  }
}

function pgbouncerSet(ctx: V3BuildContext, database: string): V3SetBuilder {
  const draft = ctx.registry.entity({
    name: database,
    type: 'pgbouncer',
    idAttributes: { host: ctx.host, port: ctx.port },
  });
  return new V3SetBuilder(ctx, draft, PGBOUNCER_SAMPLE, [
    ['displayName', database],
    ['entityName', `pgbouncer:${database}`],
    ['host', ctx.host],
  ]);
}

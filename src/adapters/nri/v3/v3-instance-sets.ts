import type { ProbeRow, ProbeValue } from '../../../core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { metricsQuerySets } from './v3-custom-sets.js';
import {
  castBigint,
  firstRow,
  hasProbe,
  probeSamples,
  toNumber,
  V3SetBuilder,
  type V3BuildContext,
} from './v3-metric-sets.js';
import { instanceName, type V3EntityDraft } from './v3-naming.js';
import type { V3MetricSet } from './v3-types.js';

/** Event type of the instance set. */
export const INSTANCE_SAMPLE = 'PostgresqlInstanceSample';

/** Probes whose rows feed the instance set; without any of them the batch has no instance set. */
const INSTANCE_PROBES = ['pg_stat_bgwriter', 'pg_stat_checkpointer', 'pg_stat_io'] as const;

/** The pg-instance entity (`host:port`, no identity attributes). */
export function instanceEntity(ctx: V3BuildContext): V3EntityDraft {
  return ctx.registry.entity({
    name: instanceName(ctx.host, ctx.port),
    type: 'pg-instance',
    idAttributes: {},
  });
}

/** Whether the batch has anything for the instance set. */
export function hasInstanceMetrics(batch: UnifiedMetrics): boolean {
  return INSTANCE_PROBES.some((p) => hasProbe(batch, p));
}

/**
 * The one PostgresqlInstanceSample set: up to 16 the bgwriter view's counters; from 17 the
 * three left there plus pg_stat_checkpointer's and pg_stat_io's sums, named as nri names them.
 */
export function addInstanceSet(ctx: V3BuildContext, draft: V3EntityDraft): void {
  const name = instanceName(ctx.host, ctx.port);
  const set = new V3SetBuilder(ctx, draft, INSTANCE_SAMPLE, [
    ['displayName', name],
    ['entityName', `pg-instance:${name}`],
  ]);
  const bg = firstRow(ctx.batch, 'pg_stat_bgwriter') ?? {};
  const cp = firstRow(ctx.batch, 'pg_stat_checkpointer') ?? {};
  if (serverMajor(ctx.batch) < 17) {
    // Before 17 pg_stat_checkpointer is read from pg_stat_bgwriter under the new names, so it
    // stands in for the bgwriter probe's columns when only that probe ran.
    set
      .rate('bgwriter.checkpointsScheduledPerSecond', bg.checkpoints_timed ?? cp.num_timed)
      .rate('bgwriter.checkpointsRequestedPerSecond', bg.checkpoints_req ?? cp.num_requested)
      .rate(
        'bgwriter.buffersWrittenForCheckpointsPerSecond',
        bg.buffers_checkpoint ?? cp.buffers_written,
      )
      .rate('bgwriter.buffersWrittenByBackgroundWriterPerSecond', bg.buffers_clean)
      .rate('bgwriter.backgroundWriterStopsPerSecond', bg.maxwritten_clean)
      .rate('bgwriter.buffersWrittenByBackendPerSecond', bg.buffers_backend)
      .rate('bgwriter.buffersAllocatedPerSecond', bg.buffers_alloc)
      .rate('bgwriter.backendFsyncCallsPerSecond', bg.buffers_backend_fsync)
      .rate(
        'bgwriter.checkpointWriteTimeInMillisecondsPerSecond',
        castBigint(bg.checkpoint_write_time ?? cp.write_time),
      )
      .rate(
        'bgwriter.checkpointSyncTimeInMillisecondsPerSecond',
        castBigint(bg.checkpoint_sync_time ?? cp.sync_time),
      );
  } else {
    set
      .rate('bgwriter.buffersWrittenByBackgroundWriterPerSecond', bg.buffers_clean)
      .rate('bgwriter.backgroundWriterStopsPerSecond', bg.maxwritten_clean)
      .rate('bgwriter.buffersAllocatedPerSecond', bg.buffers_alloc)
      .rate('checkpointer.checkpointsScheduledPerSecond', cp.num_timed)
      .rate('checkpointer.checkpointsRequestedPerSecond', cp.num_requested)
      .rate('checkpointer.buffersWrittenForCheckpointsPerSecond', cp.buffers_written)
      .rate('checkpointer.checkpointWriteTimeInMillisecondsPerSecond', castBigint(cp.write_time))
      .rate('checkpointer.checkpointSyncTimeInMillisecondsPerSecond', castBigint(cp.sync_time));
    const io = probeSamples(ctx.batch, 'pg_stat_io').flatMap((s) => s.rows);
    set
      .rate('io.buffersWrittenByBackendPerSecond', sum(io, 'writes'))
      .rate('io.backendFsyncCallsPerSecond', sum(io, 'fsyncs'));
  }
  set.add();
}

/**
 * The `PgCustomQuerySample` sets of CUSTOM_METRICS_QUERY rows, which belong on the instance
 * entity (`draft`): one per row, returned for the caller to append.
 */
export function customQuerySets(ctx: V3BuildContext, draft: V3EntityDraft): V3MetricSet[] {
  return metricsQuerySets(ctx, draft);
}

/**
 * The server's major version: from the batch, else guessed from which columns the bgwriter or
 * checkpointer rows carry (17 moved the checkpoint counters out of pg_stat_bgwriter).
 */
function serverMajor(batch: UnifiedMetrics): number {
  if (batch.server.versionNum !== undefined) return Math.floor(batch.server.versionNum / 10_000);
  const bg = firstRow(batch, 'pg_stat_bgwriter');
  if (bg !== undefined) return 'checkpoints_timed' in bg ? 16 : 17;
  const cp = firstRow(batch, 'pg_stat_checkpointer');
  return cp !== undefined && !('restartpoints_timed' in cp) ? 16 : 17;
}

/** SQL `SUM(column)`: NULLs skipped, NULL when no row has a value. */
function sum(rows: readonly ProbeRow[], column: string): ProbeValue {
  let total: number | null = null;
  for (const row of rows) {
    const n = toNumber(row[column]);
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
}

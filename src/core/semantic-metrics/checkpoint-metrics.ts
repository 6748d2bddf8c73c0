import type { ProbeRow } from '../model/probe-sample.js';
import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { numberAt, rowsOf } from './probe-reading.js';

const M = {
  buffersAllocated: defineMetric({
    name: 'postgresql.bgwriter.buffers.allocated',
    unit: '{buffers}',
    instrument: 'counter',
    description: 'Shared buffers allocated.',
    receiver: true,
  }),
  buffersWrites: defineMetric({
    name: 'postgresql.bgwriter.buffers.writes',
    unit: '{buffers}',
    instrument: 'counter',
    description:
      'Shared buffers written, by writer: background writer, checkpoints, and (before PG17) backends and their own fsyncs.',
    attributes: [ATTR.source],
    receiver: true,
  }),
  checkpointCount: defineMetric({
    name: 'postgresql.bgwriter.checkpoint.count',
    unit: '{checkpoints}',
    instrument: 'counter',
    description: 'Checkpoints started, scheduled (timed) or requested.',
    attributes: [ATTR.type],
    receiver: true,
  }),
  duration: defineMetric({
    name: 'postgresql.bgwriter.duration',
    unit: 'ms',
    instrument: 'counter',
    integer: false,
    description: 'Time checkpoints spent writing and syncing files.',
    attributes: [ATTR.type],
    receiver: true,
  }),
  maxwritten: defineMetric({
    name: 'postgresql.bgwriter.maxwritten',
    unit: '1',
    instrument: 'counter',
    description:
      'Times the background writer stopped a cleaning scan for writing too many buffers.',
    receiver: true,
  }),
  restartpointRequests: defineMetric({
    name: 'postgresql.checkpointer.restartpoint.requests',
    unit: '{restartpoint}',
    instrument: 'counter',
    description: 'Restartpoints due on a standby, scheduled (timed) or requested (PG17+).',
    attributes: [ATTR.type],
  }),
  restartpointCompletions: defineMetric({
    name: 'postgresql.checkpointer.restartpoint.completions',
    unit: '{restartpoint}',
    instrument: 'counter',
    description: 'Restartpoints performed on a standby (PG17+).',
  }),
  checkpointCompletions: defineMetric({
    name: 'postgresql.checkpointer.checkpoint.completions',
    unit: '{checkpoint}',
    instrument: 'counter',
    description: 'Checkpoints completed, skipped ones excluded (PG18+).',
  }),
  slruWrites: defineMetric({
    name: 'postgresql.checkpointer.slru.writes',
    unit: '{buffers}',
    instrument: 'counter',
    description: 'SLRU buffers written by checkpoints and restartpoints (PG18+).',
  }),
} as const;

/** Checkpoint counters under pg_stat_checkpointer's names, from either probe. */
interface CheckpointColumns {
  readonly timed: string;
  readonly requested: string;
  readonly writeTime: string;
  readonly syncTime: string;
  readonly buffers: string;
}

const CHECKPOINTER: CheckpointColumns = {
  timed: 'num_timed',
  requested: 'num_requested',
  writeTime: 'write_time',
  syncTime: 'sync_time',
  buffers: 'buffers_written',
};

const BGWRITER_BEFORE_17: CheckpointColumns = {
  timed: 'checkpoints_timed',
  requested: 'checkpoints_req',
  writeTime: 'checkpoint_write_time',
  syncTime: 'checkpoint_sync_time',
  buffers: 'buffers_checkpoint',
};

/**
 * pg_stat_bgwriter and pg_stat_checkpointer, the way the receiver splits them at PG17: the
 * checkpoint figures come from pg_stat_checkpointer (which our probe reads under the same names
 * from pg_stat_bgwriter before 17) or, when only pg_stat_bgwriter ran, from its pre-17 columns;
 * backend writes exist only before 17 and are simply absent after.
 */
export const CHECKPOINT_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    const bgwriter = rowsOf(batch, 'pg_stat_bgwriter')[0]?.row;
    const checkpointer = rowsOf(batch, 'pg_stat_checkpointer')[0]?.row;
    if (bgwriter !== undefined) {
      sink.add(M.buffersAllocated, numberAt(bgwriter, 'buffers_alloc'));
      sink.add(M.maxwritten, numberAt(bgwriter, 'maxwritten_clean'));
      sink.add(M.buffersWrites, numberAt(bgwriter, 'buffers_clean'), {
        [ATTR.source]: 'bgwriter',
      });
      sink.add(M.buffersWrites, numberAt(bgwriter, 'buffers_backend'), {
        [ATTR.source]: 'backend',
      });
      sink.add(M.buffersWrites, numberAt(bgwriter, 'buffers_backend_fsync'), {
        [ATTR.source]: 'backend_fsync',
      });
    }
    const source: [ProbeRow, CheckpointColumns] | undefined =
      checkpointer !== undefined
        ? [checkpointer, CHECKPOINTER]
        : bgwriter !== undefined
          ? [bgwriter, BGWRITER_BEFORE_17]
          : undefined;
    if (source !== undefined) {
      const [row, c] = source;
      sink.add(M.buffersWrites, numberAt(row, c.buffers), { [ATTR.source]: 'checkpoints' });
      sink.add(M.checkpointCount, numberAt(row, c.requested), { [ATTR.type]: 'requested' });
      sink.add(M.checkpointCount, numberAt(row, c.timed), { [ATTR.type]: 'scheduled' });
      sink.add(M.duration, numberAt(row, c.syncTime), { [ATTR.type]: 'sync' });
      sink.add(M.duration, numberAt(row, c.writeTime), { [ATTR.type]: 'write' });
    }
    if (checkpointer !== undefined) {
      sink.add(M.restartpointRequests, numberAt(checkpointer, 'restartpoints_req'), {
        [ATTR.type]: 'requested',
      });
      sink.add(M.restartpointRequests, numberAt(checkpointer, 'restartpoints_timed'), {
        [ATTR.type]: 'scheduled',
      });
      sink.add(M.restartpointCompletions, numberAt(checkpointer, 'restartpoints_done'));
      sink.add(M.checkpointCompletions, numberAt(checkpointer, 'num_done'));
      sink.add(M.slruWrites, numberAt(checkpointer, 'slru_written'));
    }
  },
};

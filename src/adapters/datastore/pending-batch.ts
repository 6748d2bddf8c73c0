import { createHash } from 'node:crypto';
import type { ProbeSample } from '../../core/model/probe-sample.js';
import type { TargetIdentity } from '../../core/model/target-identity.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';

/** The part of a batch the datastore stores, waiting to be written. */
export interface PendingBatch {
  /** Content hash: the same batch (replayed, or loaded twice) has the same id. */
  readonly id: string;
  readonly target: Pick<TargetIdentity, 'name' | 'host' | 'port' | 'labels'>;
  readonly probes: readonly ProbeSample[];
  /** Rows over all probes, for buffer accounting. */
  readonly rows: number;
}

/**
 * What the datastore keeps of a batch; undefined when it has no probe samples. Empty samples
 * stay: for a change-tracked probe, "now empty" (pg_ident.conf emptied) is a change to record.
 */
export function pendingFromBatch(batch: UnifiedMetrics): PendingBatch | undefined {
  const probes = batch.probes;
  if (probes.length === 0) return undefined;
  const target = {
    name: batch.target.name,
    host: batch.target.host,
    port: batch.target.port,
    labels: batch.target.labels,
  };
  const id = createHash('sha256')
    .update(JSON.stringify({ target: target.name, startedAt: batch.metadata.startedAt, probes }))
    .digest('hex')
    .slice(0, 32);
  return { id, target, probes, rows: probes.reduce((n, p) => n + p.rows.length, 0) };
}

/** Hash of a sample's content, independent of row order, for change tracking. */
export function contentHash(sample: ProbeSample): string {
  const rows = sample.rows.map((row) =>
    JSON.stringify(
      Object.keys(row)
        .sort()
        .map((k) => [k, row[k]]),
    ),
  );
  rows.sort();
  return createHash('sha256').update(rows.join('\n')).digest('hex');
}

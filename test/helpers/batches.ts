import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';

/** A minimal batch for export tests; `seq` tells batches apart. */
export function fakeBatch(seq: number, target = 't'): UnifiedMetrics {
  const now = new Date(1_700_000_000_000 + seq * 1000).toISOString();
  return {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target: { name: target, host: 'h', port: 5432, labels: {} },
    server: {},
    metadata: { collectorVersion: 'test', startedAt: now, finishedAt: now, collectors: [] },
    ...emptyParts(),
    probes: [{ probe: 'seq', scope: 'server', collectedAt: now, rows: [{ seq }] }],
  };
}

export function seqOf(batch: UnifiedMetrics): number {
  return Number(batch.probes[0]?.rows[0]?.seq);
}

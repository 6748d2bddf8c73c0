import type { UnifiedMetrics } from '../model/unified-metrics.js';
import { BLOCKING_METRICS } from './blocking-metrics.js';
import { CHECKPOINT_METRICS } from './checkpoint-metrics.js';
import { DATABASE_METRICS } from './database-metrics.js';
import { FUNCTION_METRICS } from './function-metrics.js';
import { INDEX_METRICS } from './index-metrics.js';
import { IO_METRICS } from './io-metrics.js';
import { LOCK_METRICS } from './lock-metrics.js';
import type { MetricFamily } from './metric-family.js';
import type { MetricDescriptor, MetricPoint } from './metric-types.js';
import { PGBOUNCER_METRICS } from './pgbouncer-metrics.js';
import { PLAN_METRICS } from './plan-metrics.js';
import { PointSink } from './point-sink.js';
import { REPLICATION_METRICS } from './replication-metrics.js';
import { SEQUENCE_METRICS } from './sequence-metrics.js';
import { SERVER_METRICS } from './server-metrics.js';
import { SESSION_HISTORY_METRICS } from './session-history-metrics.js';
import { SESSION_METRICS } from './session-metrics.js';
import { STATEMENT_METRICS } from './statement-metrics.js';
import { TABLE_METRICS } from './table-metrics.js';
import { WAL_METRICS } from './wal-metrics.js';

/** Every family, server-wide first, then databases and their objects, then query performance. */
const FAMILIES: readonly MetricFamily[] = [
  SERVER_METRICS,
  SESSION_METRICS,
  LOCK_METRICS,
  CHECKPOINT_METRICS,
  WAL_METRICS,
  REPLICATION_METRICS,
  IO_METRICS,
  DATABASE_METRICS,
  TABLE_METRICS,
  INDEX_METRICS,
  FUNCTION_METRICS,
  SEQUENCE_METRICS,
  STATEMENT_METRICS,
  SESSION_HISTORY_METRICS,
  BLOCKING_METRICS,
  PLAN_METRICS,
  PGBOUNCER_METRICS,
];

/** Every descriptor the catalogue can emit (for docs, tests and instrument creation). */
export const METRIC_DESCRIPTORS: readonly MetricDescriptor[] = Object.freeze(
  FAMILIES.flatMap((f) => f.descriptors),
);

/**
 * The named metric points of one batch. Pure and deterministic: the same batch gives the same
 * points in the same order. Probes and parts absent from the batch yield nothing, as do NULL
 * columns; no value is NaN or infinite.
 */
export function deriveMetricPoints(batch: UnifiedMetrics): MetricPoint[] {
  const sink = new PointSink();
  for (const family of FAMILIES) family.derive(batch, sink);
  return [...sink.points];
}

/** A descriptor by name, for adapters that map a few metrics specially. */
export function metricDescriptor(name: string): MetricDescriptor | undefined {
  return METRIC_DESCRIPTORS.find((d) => d.name === name);
}

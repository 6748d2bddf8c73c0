import type { UnifiedMetrics } from '../model/unified-metrics.js';
import type { MetricDescriptor } from './metric-types.js';
import type { PointSink } from './point-sink.js';

/** One area of the catalogue: its descriptors and how a batch turns into their points. */
export interface MetricFamily {
  readonly descriptors: readonly MetricDescriptor[];
  /** Adds the family's points for the batch; adds nothing when its sources are absent. */
  derive(batch: UnifiedMetrics, sink: PointSink): void;
}

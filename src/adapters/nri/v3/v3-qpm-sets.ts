import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { V3_QPM_EVENT_TYPES } from './v3-qpm-event-types.js';
import { executionPlanSets } from './v3-qpm-plans.js';
import { blockingSessionSets, waitEventSets } from './v3-qpm-sessions.js';
import { individualQuerySets, slowQuerySet } from './v3-qpm-statements.js';
import type { V3MetricSet, V3QpmGroup } from './v3-types.js';

/** nri-postgresql's query-monitoring thresholds, as the adapter applies them. */
export interface V3QpmOptions {
  /** QUERY_MONITORING_COUNT_THRESHOLD after nri's clamping (1..30): the most sets per event type. */
  readonly countThreshold: number;
  /** QUERY_MONITORING_RESPONSE_TIME_THRESHOLD, ms: individual queries whose statement's interval mean (avgExecTimeMs) is not above it are left out. */
  readonly responseTimeThresholdMs: number;
}

/**
 * The QPM sets of one batch, one group per event type in nri's order (WaitEvents,
 * BlockingSessions, SlowQueries, IndividualQueries, ExecutionPlanMetrics); groups with no
 * sets are omitted. Sets carry `event_type` and nri's attributes only (its schemas forbid
 * anything else, so no displayName/entityName).
 *
 * The count threshold caps wait events, blocking edges and slow queries; executions are
 * capped per reported slow query (at most 10), and plans count whole trees, never nodes.
 */
export function buildV3QpmGroups(batch: UnifiedMetrics, options: V3QpmOptions): V3QpmGroup[] {
  const limit = Math.max(0, Math.trunc(options.countThreshold));
  // Our ranking (interval execution time) is the order; nri's lifetime mean is not known.
  const reported = batch.slowQueries.slice(0, limit);
  const groups: [string, V3MetricSet[]][] = [
    [V3_QPM_EVENT_TYPES.waitEvents, waitEventSets(batch.waitEvents, limit)],
    [V3_QPM_EVENT_TYPES.blockingSessions, blockingSessionSets(batch.blockingSessions, limit)],
    [V3_QPM_EVENT_TYPES.slowQueries, reported.map(slowQuerySet)],
    [
      V3_QPM_EVENT_TYPES.individualQueries,
      individualQuerySets(
        reported,
        batch.individualQueries,
        batch.executionPlans,
        limit,
        options.responseTimeThresholdMs,
      ),
    ],
    [
      V3_QPM_EVENT_TYPES.executionPlanMetrics,
      executionPlanSets(batch.executionPlans, reported, limit),
    ],
  ];
  return groups
    .filter(([, sets]) => sets.length > 0)
    .map(([eventType, sets]) => ({ eventType, sets }));
}

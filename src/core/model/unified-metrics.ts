import type { ActiveSessionWindow } from './active-session-window.js';
import type { AshSample } from './ash-sample.js';
import type { BlockingSession } from './blocking-session.js';
import type { CollectionMetadata } from './collection-metadata.js';
import type { ExecutionPlan } from './execution-plan.js';
import type { IndividualQuery } from './individual-query.js';
import type { PlanChange } from './plan-change.js';
import type { ProbeSample } from './probe-sample.js';
import type { SlowQuery } from './slow-query.js';
import type { ServerInfo, TargetIdentity } from './target-identity.js';
import type { WaitEvent } from './wait-event.js';

/** Version of the batch shape; bumped on any incompatible change to the JSON form. */
export const UNIFIED_METRICS_SCHEMA_VERSION = 1;

/** The parts a collector can contribute to a batch. */
export interface MetricParts {
  readonly probes: readonly ProbeSample[];
  readonly slowQueries: readonly SlowQuery[];
  readonly waitEvents: readonly WaitEvent[];
  readonly blockingSessions: readonly BlockingSession[];
  readonly individualQueries: readonly IndividualQuery[];
  readonly executionPlans: readonly ExecutionPlan[];
  readonly ashSamples: readonly AshSample[];
  readonly planChanges: readonly PlanChange[];
  readonly activeSessions: readonly ActiveSessionWindow[];
}

/** Names of the array parts, in a stable order for merging and printing. */
export const METRIC_PART_NAMES = [
  'probes',
  'slowQueries',
  'waitEvents',
  'blockingSessions',
  'individualQueries',
  'executionPlans',
  'ashSamples',
  'planChanges',
  'activeSessions',
] as const satisfies readonly (keyof MetricParts)[];

/**
 * The canonical model: one batch per target and collection run (the collectors due together
 * on that target). Every adapter consumes exactly this.
 */
export interface UnifiedMetrics extends MetricParts {
  readonly schemaVersion: typeof UNIFIED_METRICS_SCHEMA_VERSION;
  readonly target: TargetIdentity;
  readonly server: ServerInfo;
  readonly metadata: CollectionMetadata;
}

/** What one collector run returns: any subset of the parts. */
export type PartialMetrics = Partial<MetricParts>;

/** Empty parts, for building a batch. */
export function emptyParts(): { -readonly [K in keyof MetricParts]: MetricParts[K][number][] } {
  return {
    probes: [],
    slowQueries: [],
    waitEvents: [],
    blockingSessions: [],
    individualQueries: [],
    executionPlans: [],
    ashSamples: [],
    planChanges: [],
    activeSessions: [],
  };
}

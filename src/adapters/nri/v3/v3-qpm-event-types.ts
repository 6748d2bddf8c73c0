/** nri-postgresql's query-performance event types, in the order it publishes them. */
export const V3_QPM_EVENT_TYPES = {
  waitEvents: 'PostgresWaitEvents',
  blockingSessions: 'PostgresBlockingSessions',
  slowQueries: 'PostgresSlowQueries',
  individualQueries: 'PostgresIndividualQueries',
  executionPlanMetrics: 'PostgresExecutionPlanMetrics',
} as const;

/** One of the five query-performance event types. */
export type V3QpmEventType = (typeof V3_QPM_EVENT_TYPES)[keyof typeof V3_QPM_EVENT_TYPES];

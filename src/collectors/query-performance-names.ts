/** Names (and config keys) of the query-performance collectors, shared by their parts. */
export const ACTIVE_SESSION_HISTORY = 'active_session_history';
export const WAIT_EVENTS = 'wait_events';
export const BLOCKING_SESSIONS = 'blocking_sessions';
export const SLOW_QUERIES = 'slow_queries';
export const EXECUTION_PLANS = 'execution_plans';

/** Collectors that read the session sampler: it runs while any of them is enabled. */
export const ASH_CONSUMERS = [
  ACTIVE_SESSION_HISTORY,
  WAIT_EVENTS,
  BLOCKING_SESSIONS,
  SLOW_QUERIES,
  EXECUTION_PLANS,
];

import type { Collector } from '../core/collector.js';
import { CollectorRegistry } from '../core/collector-registry.js';
import {
  resolveCustomQueries,
  type CustomQuerySettings,
} from '../core/config/custom-query-settings.js';
import { QUERY_PERFORMANCE_DEFAULTS } from '../core/config/query-performance-settings.js';
import { activeSessionHistoryCollector } from './ash/active-session-history-collector.js';
import { blockingSessionsCollector } from './ash/blocking-sessions-collector.js';
import { waitEventsCollector } from './ash/wait-events-collector.js';
import {
  CUSTOM_QUERIES,
  customQueriesCollector,
  hasCustomQueries,
} from './custom/custom-queries-collector.js';
import type { ConnectorLookup } from './custom/target-connectors.js';
import { executionPlansCollector } from './plans/execution-plans-collector.js';
import {
  ACTIVE_SESSION_HISTORY,
  BLOCKING_SESSIONS,
  EXECUTION_PLANS,
  SLOW_QUERIES,
  WAIT_EVENTS,
} from './query-performance-names.js';
import { QueryPerformanceState } from './query-performance-state.js';
import {
  slowQueriesCollector,
  STATEMENT_INTERVALS_SCHEMA,
} from './statements/slow-queries-collector.js';
import type { ProbeSchema } from '../core/probe-schema.js';
import { DATABASE_PROBES } from './probes/catalog-database.js';
import { EXTENSION_PROBES } from './probes/catalog-extensions.js';
import { MAINTENANCE_PROBES } from './probes/catalog-maintenance.js';
import { PGBOUNCER_PROBES } from './probes/catalog-pgbouncer.js';
import { SERVER_PROBES } from './probes/catalog-server.js';
import { STATEMENT_PROBES } from './probes/catalog-statements.js';
import type { ProbeCollector } from './probes/define-probe.js';

/** Every probe shipped with pgquerylens, server-scoped first. */
export const BUILTIN_PROBES: readonly ProbeCollector[] = [
  ...SERVER_PROBES,
  ...MAINTENANCE_PROBES,
  ...STATEMENT_PROBES,
  ...EXTENSION_PROBES,
  ...DATABASE_PROBES,
  ...PGBOUNCER_PROBES,
];

/** The query-performance collectors, all on by default; they share `state`. */
export function queryPerformanceCollectors(state: QueryPerformanceState): Collector[] {
  return [
    slowQueriesCollector(state),
    activeSessionHistoryCollector(state.ash, state.settings),
    waitEventsCollector(state),
    blockingSessionsCollector(state.ash),
    executionPlansCollector(state),
  ];
}

/** The configured custom queries, and how to reach a target's other databases. */
export interface CustomQueriesSetup {
  readonly settings: CustomQuerySettings;
  /** Connectors by target name (`TargetConnectors.lookup`), for queries with `database:`. */
  readonly connectors?: ConnectorLookup;
}

/**
 * The registry of every collector shipped with pgquerylens. Without `state` (commands that
 * only list or validate) the query-performance collectors get a state of defaults. The
 * custom-query collector is on by default only when `custom` configures a query.
 */
export function builtinCollectors(
  state: QueryPerformanceState = new QueryPerformanceState(QUERY_PERFORMANCE_DEFAULTS),
  custom: CustomQueriesSetup = { settings: resolveCustomQueries({}) },
): CollectorRegistry {
  const registry = new CollectorRegistry();
  for (const probe of BUILTIN_PROBES) {
    registry.register(probe, { enabledByDefault: probe.spec.enabledByDefault });
  }
  for (const collector of queryPerformanceCollectors(state)) {
    registry.register(collector, { enabledByDefault: true });
  }
  registry.register(customQueriesCollector(custom.settings, custom.connectors), {
    enabledByDefault: hasCustomQueries(custom.settings),
  });
  return registry;
}

/** Names of the shipped collectors, for validating `collectors:` in configuration. */
export function builtinCollectorNames(): string[] {
  return [
    ...BUILTIN_PROBES.map((p) => p.name),
    SLOW_QUERIES,
    ACTIVE_SESSION_HISTORY,
    WAIT_EVENTS,
    BLOCKING_SESSIONS,
    EXECUTION_PLANS,
    CUSTOM_QUERIES,
  ];
}

/** Row shapes of every shipped probe, for adapters that store rows (the datastore). */
export function builtinProbeSchemas(): ProbeSchema[] {
  return [...BUILTIN_PROBES.map((p) => p.schema), STATEMENT_INTERVALS_SCHEMA];
}

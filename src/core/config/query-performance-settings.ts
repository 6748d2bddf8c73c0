import type { ParsedQueryPerformance } from './config-schema.js';
import type { QueryTextMode } from './modes.js';

/** Settings of the query-performance collectors (statements, ASH, blocking, plans). */
export interface QueryPerformanceSettings {
  /** Statement texts from sessions and plan conditions: obfuscated (default), raw or none. */
  readonly queryText: QueryTextMode;
  /** Characters of a text kept (nri's 4095). */
  readonly queryTextMaxLength: number;
  /** Slow queries reported per server and interval, by interval execution time. */
  readonly slowQueryLimit: number;
  /** Recent executions reported per slow query. */
  readonly individualQueriesPerQuery: number;
  readonly ash: {
    /** Sampler cadence, ms. */
    readonly intervalMs: number;
    /** `statement_timeout` of one tick, ms. */
    readonly timeoutMs: number;
    /**
     * Sessions held per server until every consumer has read them (about 0.5 KB each); the
     * oldest ticks go first.
     */
    readonly bufferSessions: number;
    /** Export every sampled session, not only the per-window aggregate. */
    readonly rawSamples: boolean;
  };
  readonly blocking: {
    /** Shortest time between two lock-tree reads, ms. */
    readonly minIntervalMs: number;
    /** Edges read at most per lock-tree read. */
    readonly maxRows: number;
  };
  readonly plans: {
    /** A query id is explained again at most this often, ms. */
    readonly perQueryIntervalMs: number;
    /** EXPLAINs per server per cycle. */
    readonly maxPerCycle: number;
    /** A failed EXPLAIN is not retried before this, ms (permission errors: a tenth of it). */
    readonly failureTtlMs: number;
    /** SECURITY DEFINER helper `schema.function(text) returns json`, when installed. */
    readonly explainFunction?: string;
  };
  readonly regression: {
    /** New plan mean ÷ previous plan baseline mean that counts as slower. */
    readonly ratio: number;
    /** Extra execution time per hour the new plan must cost, ms. */
    readonly minExtraMsPerHour: number;
    /** How long a new plan is observed before the verdict, ms. */
    readonly windowMs: number;
    /** Calls needed on each side. */
    readonly minCalls: number;
    /** History of the previous plan that forms its baseline, ms. */
    readonly baselineWindowMs: number;
  };
}

export const QUERY_PERFORMANCE_DEFAULTS: QueryPerformanceSettings = {
  queryText: 'obfuscated',
  queryTextMaxLength: 4095,
  slowQueryLimit: 20,
  individualQueriesPerQuery: 10,
  ash: { intervalMs: 1_000, timeoutMs: 500, bufferSessions: 20_000, rawSamples: false },
  blocking: { minIntervalMs: 10_000, maxRows: 1_000 },
  plans: { perQueryIntervalMs: 3_600_000, maxPerCycle: 20, failureTtlMs: 86_400_000 },
  regression: {
    ratio: 1.5,
    minExtraMsPerHour: 10_000,
    windowMs: 3_600_000,
    minCalls: 30,
    baselineWindowMs: 86_400_000,
  },
};

/** The validated section with every default applied. */
export function resolveQueryPerformance(parsed: ParsedQueryPerformance): QueryPerformanceSettings {
  const d = QUERY_PERFORMANCE_DEFAULTS;
  const explainFunction = parsed.plans?.explainFunction;
  return {
    queryText: parsed.queryText ?? d.queryText,
    queryTextMaxLength: parsed.queryTextMaxLength ?? d.queryTextMaxLength,
    slowQueryLimit: parsed.slowQueries?.limit ?? d.slowQueryLimit,
    individualQueriesPerQuery: parsed.individualQueries?.perQuery ?? d.individualQueriesPerQuery,
    ash: {
      intervalMs: parsed.ash?.interval ?? d.ash.intervalMs,
      timeoutMs: parsed.ash?.timeout ?? d.ash.timeoutMs,
      bufferSessions: parsed.ash?.bufferSessions ?? d.ash.bufferSessions,
      rawSamples: parsed.ash?.rawSamples ?? d.ash.rawSamples,
    },
    blocking: {
      minIntervalMs: parsed.blocking?.minInterval ?? d.blocking.minIntervalMs,
      maxRows: parsed.blocking?.maxRows ?? d.blocking.maxRows,
    },
    plans: {
      perQueryIntervalMs: parsed.plans?.perQueryInterval ?? d.plans.perQueryIntervalMs,
      maxPerCycle: parsed.plans?.maxPerCycle ?? d.plans.maxPerCycle,
      failureTtlMs: parsed.plans?.failureTtl ?? d.plans.failureTtlMs,
      ...(explainFunction === undefined ? {} : { explainFunction }),
    },
    regression: {
      ratio: parsed.regression?.ratio ?? d.regression.ratio,
      minExtraMsPerHour: parsed.regression?.minExtraPerHour ?? d.regression.minExtraMsPerHour,
      windowMs: parsed.regression?.window ?? d.regression.windowMs,
      minCalls: parsed.regression?.minCalls ?? d.regression.minCalls,
      baselineWindowMs: parsed.regression?.baselineWindow ?? d.regression.baselineWindowMs,
    },
  };
}

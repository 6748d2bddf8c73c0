import {
  QUERY_PERFORMANCE_DEFAULTS,
  type QueryPerformanceSettings,
} from '../../core/config/query-performance-settings.js';
import type { PlanChange } from '../../core/model/plan-change.js';

/** When a plan change counts as a regression: the `queryPerformance.regression` settings. */
export type RegressionSettings = QueryPerformanceSettings['regression'];

/** 1.5× slower over the first hour (≥ 30 calls) than the last 24 h (≥ 30 calls), ≥ 10 s/h extra. */
export const DEFAULT_REGRESSION_SETTINGS: RegressionSettings =
  QUERY_PERFORMANCE_DEFAULTS.regression;

/** A statement as the tracker keys it. */
export interface TrackedQuery {
  readonly databaseName: string;
  readonly queryId: string;
}

/** One statement's pg_stat_statements delta over one collection interval. */
export interface IntervalStats {
  readonly calls: number;
  readonly totalExecTimeMs: number;
  readonly intervalEnd: Date;
}

/** Construction options of PlanRegressionTracker. */
export interface PlanRegressionTrackerOptions {
  readonly settings?: Partial<RegressionSettings>;
  /** Statements remembered at most; the least recently touched is forgotten first. */
  readonly maxQueries?: number;
}

const HOUR_MS = 3_600_000;

/** A statement flapping between many plans must not grow without bound either. */
const MAX_PLANS_PER_QUERY = 8;

interface Totals {
  calls: number;
  totalMs: number;
}

interface PlanHistory {
  /** Hour start (epoch ms) → what ran on this plan in that hour. */
  readonly buckets: Map<number, Totals>;
  generic: boolean;
}

interface ActiveChange {
  readonly previousPlanHash: string;
  readonly newPlanHash: string;
  readonly at: number;
  readonly generic: boolean;
  /** The previous plan's totals within the baseline window, frozen at the change. */
  readonly baseline: Totals;
  /** What ran on the new plan since the change. */
  readonly since: Totals;
  /** Reported, or too old to blame on the change any more. */
  settled: boolean;
}

interface QueryState {
  current: string;
  readonly plans: Map<string, PlanHistory>;
  change: ActiveChange | undefined;
  touchedAt: number;
  latestEnd: number;
}

function addTo(totals: Totals, calls: number, totalMs: number): void {
  totals.calls += calls;
  totals.totalMs += totalMs;
}

function meanOf(totals: Totals): number | undefined {
  return totals.calls > 0 ? totals.totalMs / totals.calls : undefined;
}

function checkSettings(s: RegressionSettings): void {
  const positive = (v: number): boolean => Number.isFinite(v) && v > 0;
  if (!positive(s.ratio)) throw new RangeError(`regression ratio must be > 0, got ${s.ratio}`);
  if (!(Number.isFinite(s.minExtraMsPerHour) && s.minExtraMsPerHour >= 0)) {
    throw new RangeError(`minExtraMsPerHour must be >= 0, got ${s.minExtraMsPerHour}`);
  }
  if (!positive(s.windowMs)) throw new RangeError(`windowMs must be > 0, got ${s.windowMs}`);
  // At least one call on each side, or a mean would divide by zero.
  if (!(Number.isFinite(s.minCalls) && s.minCalls >= 1)) {
    throw new RangeError(`minCalls must be >= 1, got ${s.minCalls}`);
  }
  if (!positive(s.baselineWindowMs)) {
    throw new RangeError(`baselineWindowMs must be > 0, got ${s.baselineWindowMs}`);
  }
}

/**
 * Follows each statement's plan hash and execution statistics on one monitored server and
 * reports plan changes, then, once the new plan has been watched for `windowMs`, whether it
 * made the statement slower.
 *
 * Verdict (evaluated on every interval after the change, reported at most once per change):
 * elapsed since the change ≥ windowMs, the new plan has ≥ minCalls, the previous plan had
 * ≥ minCalls in the baselineWindowMs before the change, newMean ≥ ratio × previousMean, and
 * (newMean − previousMean) × newCalls ÷ elapsed hours ≥ minExtraMsPerHour. The new plan's
 * figures are cumulative since the change, so a slow trickle of calls can still reach a
 * verdict later; evaluation stops once the change is older than the baseline window, when the
 * new plan has become the baseline itself and a slowdown is no longer the change's doing.
 */
export class PlanRegressionTracker {
  /** Effective settings, defaults filled in. */
  readonly settings: RegressionSettings;
  readonly #maxQueries: number;
  /** In touch order, so the first entry is the least recently touched. */
  readonly #queries = new Map<string, QueryState>();

  constructor(options: PlanRegressionTrackerOptions = {}) {
    this.settings = { ...DEFAULT_REGRESSION_SETTINGS, ...options.settings };
    checkSettings(this.settings);
    const maxQueries = options.maxQueries ?? 10_000;
    if (!(Number.isInteger(maxQueries) && maxQueries >= 1)) {
      throw new RangeError(`maxQueries must be a positive integer, got ${maxQueries}`);
    }
    this.#maxQueries = maxQueries;
  }

  /** Statements currently remembered. */
  get size(): number {
    return this.#queries.size;
  }

  /**
   * Records the plan a statement was seen with. Returns a `new_plan` change when it differs
   * from the plan seen before (a return to an older plan included); the first plan of a
   * statement is only remembered.
   */
  observePlan(
    query: TrackedQuery,
    planHash: string,
    generic: boolean,
    at: Date,
  ): PlanChange | undefined {
    const time = at.getTime();
    if (!Number.isFinite(time)) throw new RangeError('observePlan needs a valid date');
    const state = this.#touch(query, time);
    if (state === undefined) {
      this.#insert(query, {
        current: planHash,
        plans: new Map([[planHash, { buckets: new Map(), generic }]]),
        change: undefined,
        touchedAt: time,
        latestEnd: Number.NEGATIVE_INFINITY,
      });
      return undefined;
    }
    if (planHash === state.current) {
      const history = state.plans.get(planHash);
      if (history !== undefined) history.generic = generic;
      return undefined;
    }

    const previousPlanHash = state.current;
    const previous = state.plans.get(previousPlanHash);
    const baseline: Totals = { calls: 0, totalMs: 0 };
    for (const [hourStart, totals] of previous?.buckets ?? []) {
      if (hourStart >= time - this.settings.baselineWindowMs && hourStart <= time) {
        addTo(baseline, totals.calls, totals.totalMs);
      }
    }
    const history = state.plans.get(planHash) ?? { buckets: new Map<number, Totals>(), generic };
    history.generic = generic;
    // Re-inserted so the plans map stays in recency order for its own bound.
    state.plans.delete(planHash);
    state.plans.set(planHash, history);
    for (const hash of state.plans.keys()) {
      if (state.plans.size <= MAX_PLANS_PER_QUERY) break;
      state.plans.delete(hash);
    }
    state.current = planHash;
    // Either side being a generic-plan estimate makes the comparison only a suspicion.
    const eitherGeneric = generic || (previous?.generic ?? false);
    state.change = {
      previousPlanHash,
      newPlanHash: planHash,
      at: time,
      generic: eitherGeneric,
      baseline,
      since: { calls: 0, totalMs: 0 },
      settled: false,
    };
    const previousMeanMs = meanOf(baseline);
    return {
      queryId: query.queryId,
      databaseName: query.databaseName,
      previousPlanHash,
      newPlanHash: planHash,
      kind: 'new_plan',
      ...(previousMeanMs === undefined ? {} : { previousMeanMs }),
      generic: eitherGeneric,
      detectedAt: at.toISOString(),
    };
  }

  /**
   * Attributes one interval's statistics to the plan that was current when it ended, and
   * returns a `suspected_regression` once the current plan change proves slower. Intervals
   * of statements without a known plan are ignored, as are negative or non-finite deltas
   * (a statistics reset carries no timing information).
   */
  observeInterval(query: TrackedQuery, stats: IntervalStats): PlanChange | undefined {
    const { calls, totalExecTimeMs } = stats;
    const end = stats.intervalEnd.getTime();
    if (!(Number.isFinite(calls) && calls >= 0 && Number.isFinite(totalExecTimeMs))) {
      return undefined;
    }
    if (totalExecTimeMs < 0 || !Number.isFinite(end)) return undefined;
    const state = this.#touch(query, end);
    if (state === undefined) return undefined;

    const change = state.change;
    // An interval that ended before the change was seen belongs to the plan it replaced.
    const late = change !== undefined && end < change.at;
    const hash = late ? change.previousPlanHash : state.current;
    const history = state.plans.get(hash);
    if (history !== undefined) {
      const hourStart = Math.floor(end / HOUR_MS) * HOUR_MS;
      const bucket = history.buckets.get(hourStart) ?? { calls: 0, totalMs: 0 };
      addTo(bucket, calls, totalExecTimeMs);
      history.buckets.set(hourStart, bucket);
    }
    if (change !== undefined) {
      if (!late) addTo(change.since, calls, totalExecTimeMs);
      else if (end >= change.at - this.settings.baselineWindowMs) {
        addTo(change.baseline, calls, totalExecTimeMs);
      }
    }
    state.latestEnd = Math.max(state.latestEnd, end);
    this.#prune(state);
    return late ? undefined : this.#verdict(query, state, end);
  }

  /** The plan hash a statement currently runs with, as far as the tracker knows. */
  currentPlan(query: TrackedQuery): string | undefined {
    return this.#queries.get(keyOf(query))?.current;
  }

  /** Drops statements not touched (by a plan or an interval) since `olderThan`. */
  forget(olderThan: Date): void {
    const cutoff = olderThan.getTime();
    for (const [key, state] of this.#queries) {
      if (state.touchedAt < cutoff) this.#queries.delete(key);
    }
  }

  /** Every statement's plans and open change as plain JSON, for the next process. */
  saveState(): SavedPlanHistory {
    return [...this.#queries].map(([key, q]) => ({
      key,
      current: q.current,
      plans: [...q.plans].map(([hash, h]) => ({
        hash,
        generic: h.generic,
        buckets: [...h.buckets].map(([hour, t]) => [hour, t.calls, t.totalMs] as const),
      })),
      ...(q.change === undefined ? {} : { change: { ...q.change } }),
      touchedAt: q.touchedAt,
      latestEnd: Number.isFinite(q.latestEnd) ? q.latestEnd : null,
    }));
  }

  /** Takes saved statements back; entries that do not parse are skipped, never trusted. */
  restoreState(saved: unknown): void {
    if (!Array.isArray(saved)) return;
    for (const entry of saved) {
      const state = parseSavedQuery(entry);
      if (state === undefined) continue;
      this.#queries.set(state.key, state.state);
      for (const key of this.#queries.keys()) {
        if (this.#queries.size <= this.#maxQueries) break;
        this.#queries.delete(key);
      }
    }
  }

  #verdict(query: TrackedQuery, state: QueryState, end: number): PlanChange | undefined {
    const change = state.change;
    if (change === undefined || change.settled) return undefined;
    const s = this.settings;
    const elapsed = end - change.at;
    if (elapsed > Math.max(s.windowMs, s.baselineWindowMs)) {
      change.settled = true;
      return undefined;
    }
    if (elapsed < s.windowMs) return undefined;
    if (change.since.calls < s.minCalls || change.baseline.calls < s.minCalls) return undefined;
    const previousMeanMs = change.baseline.totalMs / change.baseline.calls;
    const newMeanMs = change.since.totalMs / change.since.calls;
    if (newMeanMs < s.ratio * previousMeanMs) return undefined;
    const extraTimeMsPerHour =
      ((newMeanMs - previousMeanMs) * change.since.calls * HOUR_MS) / elapsed;
    if (extraTimeMsPerHour < s.minExtraMsPerHour) return undefined;
    change.settled = true;
    return {
      queryId: query.queryId,
      databaseName: query.databaseName,
      previousPlanHash: change.previousPlanHash,
      newPlanHash: change.newPlanHash,
      kind: 'suspected_regression',
      previousMeanMs,
      newMeanMs,
      extraTimeMsPerHour,
      newPlanCalls: change.since.calls,
      generic: change.generic,
      detectedAt: new Date(end).toISOString(),
    };
  }

  /** Drops hourly buckets older than any baseline could reach, and plans left empty. */
  #prune(state: QueryState): void {
    const horizon = state.latestEnd - this.settings.baselineWindowMs - HOUR_MS;
    for (const [hash, history] of state.plans) {
      for (const hourStart of history.buckets.keys()) {
        if (hourStart < horizon) history.buckets.delete(hourStart);
      }
      if (history.buckets.size === 0 && hash !== state.current) state.plans.delete(hash);
    }
  }

  #touch(query: TrackedQuery, time: number): QueryState | undefined {
    const key = keyOf(query);
    const state = this.#queries.get(key);
    if (state === undefined) return undefined;
    this.#queries.delete(key);
    this.#queries.set(key, state);
    state.touchedAt = Math.max(state.touchedAt, time);
    return state;
  }

  #insert(query: TrackedQuery, state: QueryState): void {
    this.#queries.set(keyOf(query), state);
    for (const key of this.#queries.keys()) {
      if (this.#queries.size <= this.#maxQueries) break;
      this.#queries.delete(key);
    }
  }
}

// NUL cannot appear in a database name, so the key cannot collide.
function keyOf(query: TrackedQuery): string {
  return `${query.databaseName}\u0000${query.queryId}`;
}

/** What saveState writes: one entry per statement. */
export type SavedPlanHistory = readonly unknown[];

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parseTotals(v: unknown): Totals | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  return isNum(o.calls) && isNum(o.totalMs) ? { calls: o.calls, totalMs: o.totalMs } : undefined;
}

function parseSavedQuery(v: unknown): { key: string; state: QueryState } | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.key !== 'string' || typeof o.current !== 'string' || !isNum(o.touchedAt)) {
    return undefined;
  }
  if (!Array.isArray(o.plans)) return undefined;
  const plans = new Map<string, PlanHistory>();
  for (const p of o.plans as unknown[]) {
    if (p === null || typeof p !== 'object') return undefined;
    const plan = p as Record<string, unknown>;
    if (typeof plan.hash !== 'string' || typeof plan.generic !== 'boolean') return undefined;
    if (!Array.isArray(plan.buckets)) return undefined;
    const buckets = new Map<number, Totals>();
    for (const b of plan.buckets as unknown[]) {
      if (!Array.isArray(b) || !isNum(b[0]) || !isNum(b[1]) || !isNum(b[2])) return undefined;
      buckets.set(b[0], { calls: b[1], totalMs: b[2] });
    }
    plans.set(plan.hash, { buckets, generic: plan.generic });
  }
  let change: ActiveChange | undefined;
  if (o.change !== undefined) {
    const c = o.change as Record<string, unknown> | null;
    if (c === null || typeof c !== 'object') return undefined;
    const baseline = parseTotals(c.baseline);
    const since = parseTotals(c.since);
    if (
      typeof c.previousPlanHash !== 'string' ||
      typeof c.newPlanHash !== 'string' ||
      !isNum(c.at) ||
      typeof c.generic !== 'boolean' ||
      typeof c.settled !== 'boolean' ||
      baseline === undefined ||
      since === undefined
    ) {
      return undefined;
    }
    change = {
      previousPlanHash: c.previousPlanHash,
      newPlanHash: c.newPlanHash,
      at: c.at,
      generic: c.generic,
      baseline,
      since,
      settled: c.settled,
    };
  }
  return {
    key: o.key,
    state: {
      current: o.current,
      plans,
      change,
      touchedAt: o.touchedAt,
      latestEnd: isNum(o.latestEnd) ? o.latestEnd : Number.NEGATIVE_INFINITY,
    },
  };
}

import type { QueryPerformanceSettings } from '../core/config/query-performance-settings.js';
import type { Logger } from '../core/logger.js';
import type { TargetIdentity } from '../core/model/target-identity.js';
import type { TargetConnector } from '../core/target-connector.js';
import type { TargetService } from '../core/target-service.js';
import type { SlowQuery } from '../core/model/slow-query.js';
import { AshService } from './ash/ash-service.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { WaitSamplingProfile } from './ash/wait-sampling-profile.js';
import { PlanBudget } from './plans/plan-budget.js';
import { PlanRegressionTracker } from './plans/plan-regression.js';
import { statementTexts } from './probes/pg-stat-statements.js';
import type { QueryTextCache } from './probes/query-text-cache.js';
import { StatementDeltaTracker } from './statements/statement-deltas.js';
import { StatementDirectory } from './statements/statement-directory.js';

/**
 * What the query-performance collectors share, per process: the session samplers, what is
 * known about each server's statements, their deltas, their plans. One collector's output is
 * another's input (slow queries choose which statements are explained; plans tell slow
 * queries which plan ran), so they meet here rather than importing each other.
 */
export class QueryPerformanceState implements TargetService {
  readonly name = 'query performance';
  readonly settings: QueryPerformanceSettings;
  readonly ash: AshService;
  readonly statements = new StatementDirectory();
  readonly texts: QueryTextCache;
  /** Who may be explained when; shared so its times survive a one-shot process. */
  readonly planBudget: PlanBudget;
  /** pg_wait_sampling profile reads, for differencing without reset rights. */
  readonly waitProfile = new WaitSamplingProfile();
  readonly #deltas = new Map<string, StatementDeltaTracker>();
  readonly #regressions = new Map<string, PlanRegressionTracker>();
  readonly #latestSlow = new Map<string, readonly SlowQuery[]>();

  /** `startSamplers: false` leaves ticks to callers (tests take them one by one). */
  constructor(
    settings: QueryPerformanceSettings,
    texts: QueryTextCache = statementTexts,
    startSamplers = true,
  ) {
    this.settings = settings;
    this.ash = new AshService(settings, startSamplers);
    this.texts = texts;
    this.planBudget = new PlanBudget(
      settings.plans.perQueryIntervalMs,
      settings.plans.maxPerCycle,
      settings.plans.failureTtlMs,
    );
  }

  /** The delta tracker of a target's pg_stat_statements. */
  deltas(target: string): StatementDeltaTracker {
    let tracker = this.#deltas.get(target);
    if (tracker === undefined) {
      tracker = new StatementDeltaTracker();
      this.#deltas.set(target, tracker);
    }
    return tracker;
  }

  /** The plan history and regression detector of a target. */
  regressions(target: string): PlanRegressionTracker {
    let tracker = this.#regressions.get(target);
    if (tracker === undefined) {
      tracker = new PlanRegressionTracker({ settings: this.settings.regression });
      this.#regressions.set(target, tracker);
    }
    return tracker;
  }

  /** The slow queries of a target's last interval: the first candidates for EXPLAIN. */
  latestSlowQueries(target: string): readonly SlowQuery[] {
    return this.#latestSlow.get(target) ?? [];
  }

  setLatestSlowQueries(target: string, slow: readonly SlowQuery[]): void {
    this.#latestSlow.set(target, slow);
  }

  /** Starts the target's session sampler. */
  attach(
    target: TargetIdentity,
    connector: TargetConnector,
    enabled: (collector: string) => boolean,
    logger: Logger,
  ): void {
    this.ash.attach(target, connector, enabled, logger);
  }

  /** Stops the sampler and forgets the target's statements and plans. */
  async detach(target: string): Promise<void> {
    // At once, before anything awaits: a replacement target of the same name attaches right
    // after, and must not lose what it gathers to a late forget.
    this.forgetTarget(target);
    await this.ash.detach(target);
  }

  /** Ticks the target's sampler `samples` times, one sampler interval apart. */
  async burst(target: string, samples: number, signal: AbortSignal): Promise<void> {
    const sampler = this.ash.sampler(target);
    // Nobody reads the samples (query monitoring off): no reason to make the run wait.
    if (sampler === undefined || !sampler.wanted) return;
    for (let i = 0; i < samples && !signal.aborted; i++) {
      const started = Date.now();
      const ok = sampler.ticks;
      await sampler.tickNow();
      // A server that did not answer one tick will not answer the next: ten connect timeouts
      // in a row would outlast the agent's own timeout and lose the whole run.
      if (sampler.ticks === ok) return;
      const wait = sampler.intervalMs - (Date.now() - started);
      if (i + 1 < samples && wait > 0) await delay(wait, signal);
    }
  }

  async close(): Promise<void> {
    await this.ash.close();
  }

  /** Drops everything kept for a target that is no longer monitored. */
  forgetTarget(target: string): void {
    this.#deltas.delete(target);
    this.#regressions.delete(target);
    this.#latestSlow.delete(target);
    this.statements.forgetTarget(target);
    this.planBudget.forgetTarget(target);
    this.waitProfile.forgetTarget(target);
  }

  /**
   * What a one-shot process must hand to the next: the statement baseline (or every run would
   * be a first one, with no slow queries), EXPLAIN times (or every run would explain again),
   * plan histories, the last slow queries and a pg_wait_sampling read.
   */
  saveState(target: string): SavedQueryPerformance {
    const deltas = this.#deltas.get(target)?.saveState();
    const profile = this.waitProfile.saveState(target);
    return {
      version: SAVED_VERSION,
      ...(deltas === undefined ? {} : { statements: deltas }),
      plans: this.#regressions.get(target)?.saveState() ?? [],
      planBudget: this.planBudget.saveState(target, Date.now()),
      latestSlowQueries: this.latestSlowQueries(target),
      ...(profile === undefined ? {} : { waitProfile: profile }),
    };
  }

  /** Takes back what saveState wrote; a part that does not parse is left out, never fatal. */
  restoreState(target: string, saved: unknown): void {
    if (saved === null || typeof saved !== 'object') return;
    const s = saved as Partial<Record<keyof SavedQueryPerformance, unknown>>;
    if (s.version !== SAVED_VERSION) return;
    if (s.statements !== undefined) this.deltas(target).restoreState(s.statements);
    this.regressions(target).restoreState(s.plans);
    this.planBudget.restoreState(target, s.planBudget);
    if (s.waitProfile !== undefined) this.waitProfile.restoreState(target, s.waitProfile);
    // Only candidates for EXPLAIN; a malformed one is dropped rather than trusted.
    if (Array.isArray(s.latestSlowQueries)) {
      this.setLatestSlowQueries(
        target,
        (s.latestSlowQueries as unknown[]).filter(isSlowQueryLike) as SlowQuery[],
      );
    }
  }
}

const SAVED_VERSION = 1;

/** The saved form of one target's query-performance state. */
export interface SavedQueryPerformance {
  readonly version: typeof SAVED_VERSION;
  readonly statements?: unknown;
  readonly plans: unknown;
  readonly planBudget: unknown;
  readonly latestSlowQueries: readonly SlowQuery[];
  readonly waitProfile?: unknown;
}

function isSlowQueryLike(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.queryId === 'string' &&
    typeof o.queryText === 'string' &&
    typeof o.databaseName === 'string' &&
    typeof o.calls === 'number' &&
    typeof o.meanExecTimeMs === 'number'
  );
}

/** Waits, ending early (not throwing) on abort. */
async function delay(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

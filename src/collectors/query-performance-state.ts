import type { QueryPerformanceSettings } from '../core/config/query-performance-settings.js';
import type { Logger } from '../core/logger.js';
import type { TargetIdentity } from '../core/model/target-identity.js';
import type { TargetConnector } from '../core/target-connector.js';
import type { TargetService } from '../core/target-service.js';
import type { SlowQuery } from '../core/model/slow-query.js';
import { AshService } from './ash/ash-service.js';
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

  async close(): Promise<void> {
    await this.ash.close();
  }

  /** Drops everything kept for a target that is no longer monitored. */
  forgetTarget(target: string): void {
    this.#deltas.delete(target);
    this.#regressions.delete(target);
    this.#latestSlow.delete(target);
    this.statements.forgetTarget(target);
  }
}

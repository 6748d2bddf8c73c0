import { setMaxListeners } from 'node:events';
import type { Collector } from './collector.js';
import { CollectorUnavailableError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { CollectorRunStatus } from './model/collection-metadata.js';
import type { TargetIdentity } from './model/target-identity.js';
import {
  emptyParts,
  METRIC_PART_NAMES,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type PartialMetrics,
  type UnifiedMetrics,
} from './model/unified-metrics.js';
import { redact } from './redact.js';
import type { ServerFacts } from './server-facts.js';
import type { QuerySession, TargetConnector } from './target-connector.js';
import { withTimeout } from './timeout.js';

/** How one collector runs on this target. */
export interface CollectorRunSettings {
  /** `statement_timeout` applied to each of its queries, ms. */
  readonly statementTimeoutMs: number;
  /** Deadline of one whole run (one database), ms. */
  readonly deadlineMs: number;
}

export interface CollectionRunnerOptions {
  readonly target: TargetIdentity;
  readonly connector: TargetConnector;
  readonly collectors: readonly Collector[];
  readonly settings: (collector: string) => CollectorRunSettings;
  readonly collectorVersion: string;
  readonly logger: Logger;
  /** Deadline for reaching the server and listing its databases, ms. */
  readonly connectDeadlineMs?: number;
}

/** How a run may hand over what is done before its slowest collector finishes. */
export interface RunSplit {
  /**
   * From the run's start, ms: collectors still running by then are left to finish on their
   * own, and what the others gathered goes out at once through `early`. The scheduler sets it
   * to the earliest next turn of the group, so one hung collector does not hold the others.
   */
  readonly afterMs: number;
  /** Receives the finished collectors' batch, and their names (they may now run again). */
  readonly early: (batch: UnifiedMetrics, collectors: readonly string[]) => void;
}

/** What one collector gathered in this run, over all its databases. */
interface CollectorOutcome {
  readonly parts: ReturnType<typeof emptyParts>;
  readonly statuses: CollectorRunStatus[];
  /** (collector, database) runs not finished yet. */
  pending: number;
}

/**
 * Turns "these collectors are due on this target" into one UnifiedMetrics batch (two when a
 * `RunSplit` lets the finished collectors go ahead of a straggler). Never throws:
 * an unreachable server or a failing collector becomes an error in the batch's metadata, so
 * adapters can report it and the next run retries.
 */
export class CollectionRunner {
  readonly #opts: CollectionRunnerOptions;
  readonly #byName: Map<string, Collector>;
  readonly #reportedUnavailable = new Set<string>();
  #systemIdentifier: string | undefined;

  constructor(options: CollectionRunnerOptions) {
    this.#opts = options;
    this.#byName = new Map(options.collectors.map((c) => [c.name, c]));
  }

  get target(): TargetIdentity {
    return this.#opts.target;
  }

  /** Names of the collectors this runner knows. */
  get collectorNames(): string[] {
    return [...this.#byName.keys()];
  }

  async run(
    collectorNames: readonly string[],
    parent: AbortSignal,
    split?: RunSplit,
  ): Promise<UnifiedMetrics> {
    const startedAt = new Date();
    // Every (collector, database) pair listens to the run's signal: one listener per pair is
    // expected, so the default limit of 10 (and its warning) does not apply.
    const run = new AbortController();
    setMaxListeners(0, run.signal);
    const forward = (): void => run.abort(parent.reason);
    if (parent.aborted) forward();
    else parent.addEventListener('abort', forward, { once: true });
    try {
      return await this.#run(collectorNames, run.signal, startedAt, split);
    } finally {
      parent.removeEventListener('abort', forward);
    }
  }

  async #run(
    collectorNames: readonly string[],
    signal: AbortSignal,
    startedAt: Date,
    split: RunSplit | undefined,
  ): Promise<UnifiedMetrics> {
    const collectors = collectorNames
      .map((n) => this.#byName.get(n))
      .filter((c): c is Collector => c !== undefined);
    const outcomes = new Map<string, CollectorOutcome>(
      collectors.map((c) => [c.name, { parts: emptyParts(), statuses: [], pending: 0 }]),
    );
    let facts: ServerFacts | undefined;
    let runError: string | undefined;
    const sent = new Set<string>();
    const batchOf = (names: readonly string[]): UnifiedMetrics =>
      this.#batch(names, outcomes, facts, runError, startedAt);

    try {
      const connectDeadlineMs = this.#opts.connectDeadlineMs ?? 30_000;
      facts = await withTimeout(
        `reaching ${this.#opts.target.name}`,
        connectDeadlineMs,
        (deadline) => this.#opts.connector.facts(deadline),
        signal,
      );
      this.#systemIdentifier = facts.systemIdentifier ?? this.#systemIdentifier;
      const serverScoped = collectors.filter((c) => c.scope === 'server');
      const dbScoped = collectors.filter((c) => c.scope === 'database');
      // Listed even without database-scoped collectors: cluster-wide views are filtered by it.
      const databases = await this.#opts.connector.listDatabases(signal);
      const tasks: Promise<void>[] = [];
      const start = (collector: Collector, database: string | undefined): void => {
        const outcome = outcomes.get(collector.name) as CollectorOutcome;
        outcome.pending += 1;
        tasks.push(
          this.#runOne(collector, database, databases, startedAt, signal, outcome).finally(() => {
            outcome.pending -= 1;
          }),
        );
      };
      for (const collector of serverScoped) start(collector, undefined);
      for (const database of databases) {
        for (const collector of dbScoped) start(collector, database);
      }
      const all = Promise.all(tasks);
      if (split !== undefined && (await this.#straggling(all, split.afterMs, startedAt))) {
        const done = [...outcomes].filter(([, o]) => o.pending === 0).map(([name]) => name);
        if (done.length > 0) {
          for (const name of done) sent.add(name);
          split.early(batchOf(done), done);
        }
      }
      await all;
    } catch (err) {
      runError = redact(errorMessage(err));
      this.#opts.logger.warn('target unreachable, will retry next run', {
        target: this.#opts.target.name,
        err: runError,
      });
      for (const collector of collectors) {
        (outcomes.get(collector.name) as CollectorOutcome).statuses.push({
          collector: collector.name,
          durationMs: 0,
          success: false,
          error: runError,
        });
      }
    }
    return batchOf(collectors.map((c) => c.name).filter((n) => !sent.has(n)));
  }

  /** Whether `all` is still running `afterMs` after the start of the run. */
  async #straggling(all: Promise<unknown>, afterMs: number, startedAt: Date): Promise<boolean> {
    const left = afterMs - (Date.now() - startedAt.getTime());
    if (!(left < Infinity)) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), Math.max(0, left));
    });
    try {
      return await Promise.race([all.then(() => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The batch of the named collectors' outcomes, finished now. */
  #batch(
    names: readonly string[],
    outcomes: ReadonlyMap<string, CollectorOutcome>,
    facts: ServerFacts | undefined,
    runError: string | undefined,
    startedAt: Date,
  ): UnifiedMetrics {
    const parts = emptyParts();
    const statuses: CollectorRunStatus[] = [];
    for (const name of names) {
      const outcome = outcomes.get(name);
      if (outcome === undefined) continue;
      mergeInto(parts, outcome.parts);
      statuses.push(...outcome.statuses);
    }
    return {
      schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
      target:
        this.#systemIdentifier === undefined
          ? this.#opts.target
          : { ...this.#opts.target, systemIdentifier: this.#systemIdentifier },
      server:
        facts === undefined
          ? {}
          : {
              versionNum: facts.versionNum,
              version: facts.version,
              isInRecovery: facts.isInRecovery,
            },
      metadata: {
        collectorVersion: this.#opts.collectorVersion,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        collectors: statuses,
        ...(runError === undefined ? {} : { error: runError }),
      },
      ...parts,
    };
  }

  async #runOne(
    collector: Collector,
    database: string | undefined,
    databases: readonly string[],
    startedAt: Date,
    signal: AbortSignal,
    { parts, statuses }: CollectorOutcome,
  ): Promise<void> {
    const settings = this.#opts.settings(collector.name);
    const began = performance.now();
    const where = database === undefined ? {} : { database };
    const logger = this.#opts.logger.child({ collector: collector.name, ...where });
    try {
      const out = await withTimeout(
        `collector ${collector.name}`,
        settings.deadlineMs,
        (deadline) =>
          this.#opts.connector.withSession(
            database,
            async (session) => {
              const bounded = boundSession(session, settings.statementTimeoutMs);
              const reason = collector.unavailableReason?.(bounded);
              if (reason !== undefined) {
                throw new CollectorUnavailableError(reason);
              }
              return collector.collect({
                target: this.#opts.target,
                session: bounded,
                databases,
                signal: deadline,
                logger,
                startedAt,
                ...where,
              });
            },
            deadline,
          ),
        signal,
      );
      mergeInto(parts, out);
      statuses.push({
        collector: collector.name,
        ...where,
        durationMs: elapsed(began),
        success: true,
      });
    } catch (err) {
      const message = redact(errorMessage(err));
      const unavailable = err instanceof CollectorUnavailableError;
      const key = `${collector.name}/${database ?? ''}/${message}`;
      if (!unavailable) {
        logger.warn('collector failed', { target: this.#opts.target.name, err: message });
      } else if (!this.#reportedUnavailable.has(key)) {
        // Unavailability is a property of the server, not an event: say it once.
        this.#reportedUnavailable.add(key);
        logger.info('collector unavailable on this server, skipped', {
          target: this.#opts.target.name,
          reason: message,
        });
      }
      statuses.push({
        collector: collector.name,
        ...where,
        durationMs: elapsed(began),
        success: false,
        error: message,
        ...(unavailable ? { unavailable: true } : {}),
      });
    }
  }
}

function elapsed(began: number): number {
  return Math.round((performance.now() - began) * 1000) / 1000;
}

/** A session whose queries default to the collector's statement timeout. */
function boundSession(session: QuerySession, statementTimeoutMs: number): QuerySession {
  return {
    facts: session.facts,
    query: (sql, params, options) =>
      session.query(sql, params, { timeoutMs: options?.timeoutMs ?? statementTimeoutMs }),
  };
}

function mergeInto(parts: ReturnType<typeof emptyParts>, out: PartialMetrics): void {
  for (const name of METRIC_PART_NAMES) {
    const items = out[name];
    if (items !== undefined && items.length > 0) {
      (parts[name] as unknown[]).push(...items);
    }
  }
}

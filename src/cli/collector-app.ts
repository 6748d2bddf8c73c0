import type { Collector } from '../core/collector.js';
import type { CollectorRegistry } from '../core/collector-registry.js';
import { CollectionRunner, type CollectorRunSettings } from '../core/collection-runner.js';
import type { ResolvedConfig, ResolvedTarget } from '../core/config/resolved-config.js';
import { errorMessage } from '../core/errors.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import { ExportManager } from '../core/export-manager.js';
import type { Logger } from '../core/logger.js';
import { Scheduler, type ScheduleEntry } from '../core/scheduler.js';
import type { TargetConnector } from '../core/target-connector.js';

export interface CollectorAppDeps {
  readonly config: ResolvedConfig;
  readonly registry: CollectorRegistry;
  readonly adapters: readonly ExportAdapter[];
  readonly connect: (target: ResolvedTarget) => TargetConnector;
  readonly logger: Logger;
  readonly version: string;
}

/** Outcome of a one-shot run. */
export interface OnceResult {
  readonly batches: number;
  /** Targets whose server could not be reached at all. */
  readonly unreachable: number;
}

/** Wires targets, collectors, the scheduler and the export manager together. */
export class CollectorApp {
  readonly exportManager: ExportManager;
  readonly #deps: CollectorAppDeps;
  readonly #collectors: Collector[];
  readonly #connectors = new Map<string, TargetConnector>();
  readonly #runners = new Map<string, CollectionRunner>();
  #scheduler: Scheduler | undefined;
  #stopped = false;

  constructor(deps: CollectorAppDeps) {
    this.#deps = deps;
    const { config } = deps;
    this.#collectors = deps.registry.enabled(config.collectors);
    this.exportManager = new ExportManager(deps.adapters, {
      exportTimeoutMs: config.export.timeoutMs,
      queueSize: config.export.queueSize,
      maxRetries: config.export.maxRetries,
      backoff: { initialMs: config.export.retryInitialMs, maxMs: config.export.retryMaxMs },
      logger: deps.logger,
    });
    for (const target of config.targets) {
      const connector = deps.connect(target);
      this.#connectors.set(target.name, connector);
      this.#runners.set(
        target.name,
        new CollectionRunner({
          target: {
            name: target.name,
            host: target.host,
            port: target.port,
            labels: target.labels,
          },
          connector,
          collectors: this.#collectorsFor(target),
          settings: (name) => this.#runSettings(target, name),
          collectorVersion: deps.version,
          logger: deps.logger.child({ target: target.name }),
          connectDeadlineMs: target.connectTimeoutMs + target.statementTimeoutMs + 1_000,
        }),
      );
    }
  }

  /** Effective cadence of a collector: its own setting, its declared default, or the base. */
  intervalOf(collector: Collector): number {
    return (
      this.#deps.config.collectors[collector.name]?.intervalMs ??
      collector.defaultIntervalMs ??
      this.#deps.config.intervalMs
    );
  }

  /** Runs every enabled collector once on every target and exports the batches. */
  async runOnce(signal: AbortSignal = new AbortController().signal): Promise<OnceResult> {
    const batches = await Promise.all(
      [...this.#runners.values()].map((runner) => runner.run(runner.collectorNames, signal)),
    );
    for (const batch of batches) {
      this.exportManager.publish(batch);
    }
    return {
      batches: batches.length,
      unreachable: batches.filter((b) => b.metadata.error !== undefined).length,
    };
  }

  /** Starts periodic collection. */
  start(): void {
    const entries: ScheduleEntry[] = [];
    for (const target of this.#deps.config.targets) {
      for (const collector of this.#collectorsFor(target)) {
        entries.push({
          target: target.name,
          collector: collector.name,
          intervalMs: this.intervalOf(collector),
        });
      }
    }
    this.#scheduler = new Scheduler(
      entries,
      (target, collectors, signal) => this.#runGroup(target, collectors, signal),
      {
        logger: this.#deps.logger,
      },
    );
    this.#scheduler.start();
    this.#deps.logger.info('collecting', {
      targets: this.#deps.config.targets.map((t) => t.name),
      collectors: this.#collectors.map((c) => `${c.name}@${this.intervalOf(c) / 1000}s`),
      adapters: this.exportManager.adapterNames,
    });
  }

  /**
   * Stops scheduling, lets runs in flight finish (up to the shutdown deadline), flushes the
   * adapters and closes every connection. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const deadline = this.#deps.config.shutdownTimeoutMs;
    const started = Date.now();
    if (this.#scheduler !== undefined) {
      await this.#scheduler.stop(deadline);
    }
    const left = Math.max(1_000, deadline - (Date.now() - started));
    await this.exportManager.shutdown(left);
    await Promise.all(
      [...this.#connectors.values()].map((c) =>
        c
          .close()
          .catch((err: unknown) =>
            this.#deps.logger.warn('closing connections failed', { err: errorMessage(err) }),
          ),
      ),
    );
  }

  /** Counters for logs and self-metrics. */
  stats(): {
    scheduler: Scheduler['stats'] | undefined;
    export: ReturnType<ExportManager['stats']>;
  } {
    return { scheduler: this.#scheduler?.stats, export: this.exportManager.stats() };
  }

  async #runGroup(target: string, collectors: string[], signal: AbortSignal): Promise<void> {
    const runner = this.#runners.get(target);
    if (runner === undefined) return;
    const batch = await runner.run(collectors, signal);
    this.exportManager.publish(batch);
  }

  /** The enabled collectors that read this kind of target (a PgBouncer has no pg_* views). */
  #collectorsFor(target: ResolvedTarget): Collector[] {
    return this.#collectors.filter((c) => (c.targetKind ?? 'postgresql') === target.kind);
  }

  #runSettings(target: ResolvedTarget, collector: string): CollectorRunSettings {
    const own = this.#deps.config.collectors[collector];
    const statementTimeoutMs = own?.statementTimeoutMs ?? target.statementTimeoutMs;
    const definition = this.#collectors.find((c) => c.name === collector);
    const intervalMs =
      definition === undefined ? this.#deps.config.intervalMs : this.intervalOf(definition);
    // A run may take its interval (capped at a minute) but never less than one full query.
    const deadlineMs =
      own?.timeoutMs ?? Math.max(statementTimeoutMs + 5_000, Math.min(intervalMs, 60_000));
    return { statementTimeoutMs, deadlineMs };
  }
}

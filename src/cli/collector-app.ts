import type { Collector, CollectorDefinition } from '../core/collector.js';
import type { CollectorRegistry } from '../core/collector-registry.js';
import { CollectionRunner, type CollectorRunSettings } from '../core/collection-runner.js';
import type { ResolvedConfig, ResolvedTarget } from '../core/config/resolved-config.js';
import { errorMessage } from '../core/errors.js';
import type { ExportAdapter } from '../core/export-adapter.js';
import { ExportManager } from '../core/export-manager.js';
import type { Logger } from '../core/logger.js';
import { Scheduler, type GroupTurn } from '../core/scheduler.js';
import type { TargetConnector } from '../core/target-connector.js';
import type { TargetService } from '../core/target-service.js';
import type { TargetIdentity } from '../core/model/target-identity.js';
import type { UnifiedMetrics } from '../core/model/unified-metrics.js';

/** How long before a group's next turn its finished collectors are handed over, ms. */
const SPLIT_AHEAD_MS = 500;

export interface CollectorAppDeps {
  readonly config: ResolvedConfig;
  readonly registry: CollectorRegistry;
  readonly adapters: readonly ExportAdapter[];
  readonly connect: (target: ResolvedTarget) => TargetConnector;
  readonly logger: Logger;
  readonly version: string;
  /** Background work per target (the session sampler); runs only while collecting periodically. */
  readonly services?: readonly TargetService[];
  /** Sees every finished batch before it is exported (self-telemetry). */
  readonly onBatch?: (batch: UnifiedMetrics) => void;
  /** Told when a target stops being collected. */
  readonly onTargetRemoved?: (name: string) => void;
}

/** How runOnceAttached carries service state from one process to the next. */
export interface OnceAttachedOptions {
  /** Samples each service takes before the collectors run (the session sampler's ticks). */
  readonly burstSamples: number;
  /** The state saved by the previous process, by service name; undefined when none. */
  readonly loadState: (target: TargetIdentity) => Readonly<Record<string, unknown>> | undefined;
  /** Keeps the services' state for the next process. */
  readonly saveState: (target: TargetIdentity, state: Readonly<Record<string, unknown>>) => void;
  readonly signal?: AbortSignal;
}

/** Outcome of a one-shot run. */
export interface OnceResult {
  readonly batches: number;
  /** Targets whose server could not be reached at all. */
  readonly unreachable: number;
}

/** Per-target probe settings from outside the configuration file (the datastore's probe_configs). */
export interface ProbeOverride {
  readonly enabled?: boolean;
  readonly intervalMs?: number;
}

/** The override for a probe on a target, if any. */
export type ProbeOverrides = (target: string, collector: string) => ProbeOverride | undefined;

/**
 * Wires targets, collectors, the scheduler and the export manager together. Targets and probe
 * settings may change while it runs (the datastore's connections and probe_configs).
 */
export class CollectorApp {
  readonly exportManager: ExportManager;
  readonly #deps: CollectorAppDeps;
  readonly #registered: readonly CollectorDefinition[];
  readonly #targets = new Map<string, ResolvedTarget>();
  readonly #connectors = new Map<string, TargetConnector>();
  readonly #runners = new Map<string, CollectionRunner>();
  #overrides: ProbeOverrides = () => undefined;
  readonly #inFlight = new Map<string, Set<Promise<unknown>>>();
  readonly #retiring = new Set<Promise<void>>();
  #scheduler: Scheduler | undefined;
  #stopped = false;

  constructor(deps: CollectorAppDeps) {
    this.#deps = deps;
    const { config } = deps;
    this.#registered = deps.registry.list();
    this.exportManager = new ExportManager(deps.adapters, {
      exportTimeoutMs: config.export.timeoutMs,
      // Every target's batch can land in one moment (a fleet on one interval): the default bound
      // grows with the fleet, so a healthy adapter that is a moment behind loses nothing.
      queueSize: config.export.queueSize ?? (() => Math.max(100, 2 * this.#targets.size)),
      maxRetries: config.export.maxRetries,
      backoff: { initialMs: config.export.retryInitialMs, maxMs: config.export.retryMaxMs },
      logger: deps.logger,
    });
    for (const target of config.targets) {
      this.#addRunner(target);
    }
  }

  /** Names of the targets collected now. */
  get targetNames(): string[] {
    return [...this.#targets.keys()];
  }

  /** Targets with at least one collector enabled (the others never run). */
  get collectingTargetNames(): string[] {
    return [...this.#targets.keys()].filter((name) => this.#enabledFor(name).length > 0);
  }

  /**
   * Adds a target, or replaces one whose settings changed (its connections are closed and
   * reopened). Returns false when nothing changed.
   */
  async upsertTarget(target: ResolvedTarget): Promise<boolean> {
    const current = this.#targets.get(target.name);
    if (current !== undefined && JSON.stringify(current) === JSON.stringify(target)) return false;
    if (current !== undefined) await this.#dropRunner(target.name);
    this.#addRunner(target);
    this.#attachServices(target.name);
    this.#reschedule(target.name);
    return true;
  }

  /** Stops collecting a target and closes its connections; a run in flight is cut short. */
  async removeTarget(name: string): Promise<void> {
    if (!this.#targets.has(name)) return;
    this.#scheduler?.removeTarget(name);
    await this.#dropRunner(name);
    this.#deps.onTargetRemoved?.(name);
  }

  /** Replaces the probe overrides and reschedules every target by them. */
  setProbeOverrides(overrides: ProbeOverrides): void {
    this.#overrides = overrides;
    for (const name of this.#targets.keys()) this.#reschedule(name);
  }

  /** Effective cadence of a collector: override, its own setting, its default, or the base. */
  intervalOf(collector: Collector, target?: string): number {
    return (
      (target === undefined ? undefined : this.#overrides(target, collector.name)?.intervalMs) ??
      this.#deps.config.collectors[collector.name]?.intervalMs ??
      collector.defaultIntervalMs ??
      this.#deps.config.intervalMs
    );
  }

  /** Runs every enabled collector once on every target and exports the batches. */
  async runOnce(signal: AbortSignal = new AbortController().signal): Promise<OnceResult> {
    const batches = await Promise.all(
      [...this.#runners].map(([name, runner]) =>
        runner.run(
          this.#enabledFor(name).map((c) => c.name),
          signal,
        ),
      ),
    );
    for (const batch of batches) {
      this.#publish(batch);
    }
    return {
      batches: batches.length,
      unreachable: batches.filter((b) => b.metadata.error !== undefined).length,
    };
  }

  /**
   * One run for a process started afresh every interval (the NRI integration): each service
   * gets the state the previous process saved, attaches and takes a burst of samples, the
   * collectors run once, and the services' state is handed back for the next process.
   */
  async runOnceAttached(options: OnceAttachedOptions): Promise<OnceResult> {
    const services = this.#deps.services ?? [];
    const signal = options.signal ?? new AbortController().signal;
    const targets = [...this.#runners.values()].map((r) => r.target);
    for (const target of targets) {
      const saved = options.loadState(target);
      for (const service of services) {
        const state = saved?.[service.name];
        if (state !== undefined) service.restoreState?.(target.name, state);
      }
      this.#attachServices(target.name, true);
    }
    try {
      await Promise.all(
        targets.flatMap((t) =>
          services.map((service) =>
            (service.burst?.(t.name, options.burstSamples, signal) ?? Promise.resolve()).catch(
              (err: unknown) => {
                this.#deps.logger.warn(`the ${service.name} burst failed`, {
                  target: t.name,
                  err: errorMessage(err),
                });
              },
            ),
          ),
        ),
      );
      return await this.runOnce(signal);
    } finally {
      for (const target of targets) {
        const state: Record<string, unknown> = {};
        for (const service of services) {
          const saved = service.saveState?.(target.name);
          if (saved !== undefined) state[service.name] = saved;
        }
        options.saveState(target, state);
      }
      await Promise.all(
        targets.flatMap((t) => services.map((s) => s.detach(t.name).catch(() => undefined))),
      );
    }
  }

  /** Starts periodic collection. */
  start(): void {
    this.#scheduler = new Scheduler(
      [],
      (target, collectors, signal, turn) => this.#runGroup(target, collectors, signal, turn),
      { logger: this.#deps.logger },
    );
    this.#scheduler.start();
    for (const name of this.#targets.keys()) {
      this.#attachServices(name);
      this.#reschedule(name);
    }
    const first = this.#targets.keys().next().value;
    this.#deps.logger.info('collecting', {
      targets: this.targetNames,
      collectors:
        first === undefined
          ? []
          : this.#enabledFor(first).map((c) => `${c.name}@${this.intervalOf(c, first) / 1000}s`),
      adapters: this.exportManager.adapterNames,
    });
  }

  #addRunner(target: ResolvedTarget): void {
    const connector = this.#deps.connect(target);
    this.#targets.set(target.name, target);
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
        collectors: this.#kindCollectors(target),
        settings: (name) => this.#runSettings(target, name),
        collectorVersion: this.#deps.version,
        logger: this.#deps.logger.child({ target: target.name }),
        connectDeadlineMs: target.connectTimeoutMs + target.statementTimeoutMs + 1_000,
      }),
    );
  }

  /**
   * Forgets a target at once; its connections close once its runs in flight are done, so a
   * changed or removed target's last batch is not cut short (stop() waits for them).
   */
  #dropRunner(name: string): Promise<void> {
    const connector = this.#connectors.get(name);
    const running = [...(this.#inFlight.get(name) ?? [])];
    this.#targets.delete(name);
    this.#connectors.delete(name);
    this.#runners.delete(name);
    if (connector === undefined) return Promise.resolve();
    const detached = (this.#deps.services ?? []).map((service) => service.detach(name));
    const retired = Promise.allSettled([...running, ...detached])
      .then(() => connector.close())
      .catch((err: unknown) =>
        this.#deps.logger.warn('closing connections failed', {
          target: name,
          err: errorMessage(err),
        }),
      )
      .finally(() => this.#retiring.delete(retired));
    this.#retiring.add(retired);
    return Promise.resolve();
  }

  /** Starts each service on a target, once collection is periodic or `now` (a burst run). */
  #attachServices(name: string, now = false): void {
    const connector = this.#connectors.get(name);
    const runner = this.#runners.get(name);
    if ((this.#scheduler === undefined && !now) || this.#stopped || !connector || !runner) return;
    for (const service of this.#deps.services ?? []) {
      service.attach(
        runner.target,
        connector,
        (collector) => this.#enabledFor(name).some((c) => c.name === collector),
        this.#deps.logger.child({ target: name }),
      );
    }
  }

  #reschedule(name: string): void {
    if (this.#scheduler === undefined || this.#stopped) return;
    this.#scheduler.setTarget(
      name,
      this.#enabledFor(name).map((collector) => ({
        target: name,
        collector: collector.name,
        intervalMs: this.intervalOf(collector, name),
      })),
    );
  }

  /** Collectors that read this kind of target (a PgBouncer has no pg_* views). */
  #kindCollectors(target: ResolvedTarget): Collector[] {
    return this.#registered.map((d) => d.collector).filter((c) => readsKind(c, target));
  }

  /** Collectors enabled on a target: override, then configuration, then the default. */
  #enabledFor(name: string): Collector[] {
    const target = this.#targets.get(name);
    if (target === undefined) return [];
    return this.#registered
      .filter(
        ({ collector: c, enabledByDefault }) =>
          readsKind(c, target) &&
          (this.#overrides(name, c.name)?.enabled ??
            this.#deps.config.collectors[c.name]?.enabled ??
            enabledByDefault),
      )
      .map((d) => d.collector);
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
    await Promise.all(
      (this.#deps.services ?? []).map((service) =>
        service.close().catch((err: unknown) =>
          this.#deps.logger.warn(`stopping the ${service.name} failed`, {
            err: errorMessage(err),
          }),
        ),
      ),
    );
    const left = Math.max(1_000, deadline - (Date.now() - started));
    await this.exportManager.shutdown(left);
    await Promise.all(this.#retiring);
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

  async #runGroup(
    target: string,
    collectors: string[],
    signal: AbortSignal,
    turn: GroupTurn,
  ): Promise<void> {
    const runner = this.#runners.get(target);
    if (runner === undefined) return;
    // When a straggler is still running as the group's next turn nears, the others' batch goes
    // out and they run again on time; the straggler's own batch follows when it ends. Split a
    // little ahead, since the scheduler gathers turns due within a short window.
    const run = runner.run(collectors, signal, {
      afterMs: Math.max(0, turn.nextTurnInMs - SPLIT_AHEAD_MS),
      early: (batch, done) => {
        this.#publish(batch);
        turn.release(done);
      },
    });
    const runs = this.#inFlight.get(target) ?? new Set<Promise<unknown>>();
    this.#inFlight.set(target, runs);
    runs.add(run);
    try {
      this.#publish(await run);
    } finally {
      runs.delete(run);
    }
  }

  #publish(batch: UnifiedMetrics): void {
    try {
      this.#deps.onBatch?.(batch);
    } catch (err) {
      this.#deps.logger.warn('self-telemetry failed to count a batch', { err: errorMessage(err) });
    }
    this.exportManager.publish(batch);
  }

  #runSettings(target: ResolvedTarget, collector: string): CollectorRunSettings {
    const own = this.#deps.config.collectors[collector];
    const statementTimeoutMs = own?.statementTimeoutMs ?? target.statementTimeoutMs;
    const definition = this.#registered.find((d) => d.collector.name === collector)?.collector;
    const intervalMs =
      definition === undefined
        ? this.#deps.config.intervalMs
        : this.intervalOf(definition, target.name);
    // A run may take its interval (capped at a minute) but never less than one full query.
    const deadlineMs =
      own?.timeoutMs ?? Math.max(statementTimeoutMs + 5_000, Math.min(intervalMs, 60_000));
    return { statementTimeoutMs, deadlineMs };
  }
}

/** Whether a collector reads this kind of target (a PgBouncer has no pg_* views). */
function readsKind(collector: Collector, target: ResolvedTarget): boolean {
  return (collector.targetKind ?? 'postgresql') === target.kind;
}

import type { ExportAdapter } from '../../core/export-adapter.js';
import type { TargetIdentity } from '../../core/model/target-identity.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import type { SelfMetricPoint } from '../../core/self-telemetry.js';
import { TargetSnapshot } from '../../core/semantic-metrics/target-snapshot.js';
import {
  metricPointFamilies,
  renderExposition,
  selfMetricFamilies,
  type PrometheusFamily,
} from './prometheus-exposition.js';

/** What the Prometheus pull adapter needs. */
export interface PrometheusPullAdapterOptions {
  /** The collection interval, ms; sets the default staleness. Default one minute. */
  readonly intervalMs?: number;
  /**
   * A reading (a probe's rows, a query-performance metric, a whole target) not refreshed for
   * this long stops being exposed. Default: five intervals or five minutes, whichever is longer,
   * so a probe on a slower cadence is not dropped between its runs.
   */
  readonly staleAfterMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface TargetState {
  /** Identity and labels as of the target's latest batch. */
  target: TargetIdentity;
  readonly snapshot: TargetSnapshot;
}

/**
 * Serves the semantic metrics for Prometheus to scrape. `export` only records the batch as the
 * target's latest snapshot; `render` writes every target's current points at scrape time. One
 * endpoint exposes many servers under a single `instance` (the collector), so each series carries
 * the server's identity as labels.
 */
export class PrometheusPullAdapter implements ExportAdapter {
  readonly name = 'prometheus';
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #targets = new Map<string, TargetState>();
  #closed = false;

  constructor(options: PrometheusPullAdapterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#staleAfterMs =
      options.staleAfterMs ?? Math.max(5 * (options.intervalMs ?? 60_000), 300_000);
  }

  /** Records the batch as its target's latest readings. */
  export(batch: UnifiedMetrics): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const now = this.#now();
    let state = this.#targets.get(batch.target.name);
    if (state === undefined) {
      state = { target: batch.target, snapshot: new TargetSnapshot(this.#staleAfterMs) };
      this.#targets.set(batch.target.name, state);
    }
    state.target = batch.target;
    state.snapshot.update(batch, now);
    this.#expire(now);
    return Promise.resolve();
  }

  /** Nothing is buffered: Prometheus pulls. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Stops exposing anything. */
  shutdown(): Promise<void> {
    this.#closed = true;
    this.#targets.clear();
    return Promise.resolve();
  }

  /**
   * The exposition text of every target's current points, plus `extra` (the collector's own
   * readings), merged so each metric name appears once.
   */
  render(extra: readonly SelfMetricPoint[] = []): string {
    // A target that stopped sending batches must still go stale between scrapes.
    this.#expire(this.#now());
    const families: PrometheusFamily[] = [];
    const names = [...this.#targets.keys()].sort();
    for (const name of names) {
      const state = this.#targets.get(name);
      if (state === undefined) continue;
      families.push(
        ...metricPointFamilies(
          state.snapshot.points,
          identityLabels(state.target),
          state.target.labels,
        ),
      );
    }
    families.push(...selfMetricFamilies(extra));
    return renderExposition(families);
  }

  /** Forgets stale readings; a target with nothing left (gone or only failing) is dropped. */
  #expire(now: number): void {
    for (const [name, state] of this.#targets) {
      state.snapshot.expire(now);
      if (state.snapshot.empty) this.#targets.delete(name);
    }
  }
}

/** The server's identity, as the OTLP resource carries it, in Prometheus label form. */
function identityLabels(target: TargetIdentity): Record<string, string> {
  return {
    server_address: target.host,
    server_port: String(target.port),
    db_system_name: 'postgresql',
  };
}

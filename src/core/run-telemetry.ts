import type { UnifiedMetrics } from './model/unified-metrics.js';
import type { SelfMetricPoint, SelfMetricSource } from './self-telemetry.js';

interface CollectorTally {
  runs: number;
  failures: number;
  unavailable: number;
  totalSeconds: number;
  lastSeconds: number;
}

interface TargetTally {
  batches: number;
  up: boolean;
  ashTicks: number;
  ashFailedTicks: number;
  ashSkippedTicks: number;
  ashSamples: number;
  readonly collectors: Map<string, CollectorTally>;
}

/**
 * What the collection runs did, per target and collector, read off the batches themselves
 * (their metadata and session windows), so it counts exactly what the adapters were given.
 */
export class RunTelemetry implements SelfMetricSource {
  readonly #targets = new Map<string, TargetTally>();

  /** Counts one finished run. */
  record(batch: UnifiedMetrics): void {
    let t = this.#targets.get(batch.target.name);
    if (t === undefined) {
      t = {
        batches: 0,
        up: true,
        ashTicks: 0,
        ashFailedTicks: 0,
        ashSkippedTicks: 0,
        ashSamples: 0,
        collectors: new Map(),
      };
      this.#targets.set(batch.target.name, t);
    }
    t.batches += 1;
    t.up = batch.metadata.error === undefined;
    for (const w of batch.activeSessions) {
      t.ashTicks += w.ticks;
      t.ashFailedTicks += w.failedTicks;
      t.ashSkippedTicks += w.skippedTicks;
      t.ashSamples += w.samples;
    }
    // A database-scoped collector reports once per database; its run is their sum.
    const byCollector = new Map<string, { seconds: number; ok: boolean; unavailable: boolean }>();
    for (const s of batch.metadata.collectors) {
      const seen = byCollector.get(s.collector);
      byCollector.set(s.collector, {
        seconds: (seen?.seconds ?? 0) + s.durationMs / 1000,
        ok: (seen?.ok ?? true) && (s.success || s.unavailable === true),
        unavailable: (seen?.unavailable ?? true) && s.unavailable === true,
      });
    }
    for (const [name, run] of byCollector) {
      const c = t.collectors.get(name) ?? {
        runs: 0,
        failures: 0,
        unavailable: 0,
        totalSeconds: 0,
        lastSeconds: 0,
      };
      c.runs += 1;
      if (run.unavailable) c.unavailable += 1;
      else if (!run.ok) c.failures += 1;
      c.totalSeconds += run.seconds;
      c.lastSeconds = run.seconds;
      t.collectors.set(name, c);
    }
  }

  /** Stops reporting a target that is no longer collected. */
  forget(target: string): void {
    this.#targets.delete(target);
  }

  /** Whether every named target has finished at least one run. */
  completedFirstRun(targets: readonly string[]): boolean {
    return targets.every((name) => this.#targets.has(name));
  }

  selfMetrics(): SelfMetricPoint[] {
    const out: SelfMetricPoint[] = [];
    for (const [target, t] of this.#targets) {
      const at = { target };
      out.push(
        counter(
          'pgquerylens.collection.batches',
          'Collection runs finished',
          '{batch}',
          t.batches,
          at,
        ),
        gauge(
          'pgquerylens.target.up',
          'Whether the last run reached the server (1) or not (0)',
          '1',
          t.up ? 1 : 0,
          at,
        ),
      );
      if (t.ashTicks + t.ashFailedTicks + t.ashSkippedTicks > 0) {
        const tick = (outcome: string, n: number): SelfMetricPoint =>
          counter('pgquerylens.ash.ticks', 'Session sampler ticks', '{tick}', n, {
            ...at,
            outcome,
          });
        out.push(
          tick('ok', t.ashTicks),
          tick('failed', t.ashFailedTicks),
          tick('skipped', t.ashSkippedTicks),
          counter(
            'pgquerylens.ash.samples',
            'Sessions sampled by Active Session History',
            '{sample}',
            t.ashSamples,
            at,
          ),
        );
      }
      for (const [collector, c] of t.collectors) {
        const ct = { target, collector };
        const runs = (outcome: string, n: number): SelfMetricPoint =>
          counter('pgquerylens.collector.runs', 'Collector runs by outcome', '{run}', n, {
            ...ct,
            outcome,
          });
        out.push(
          runs('success', c.runs - c.failures - c.unavailable),
          runs('failure', c.failures),
          runs('unavailable', c.unavailable),
          {
            name: 'pgquerylens.collector.time',
            description: 'Time spent in the collector, all runs',
            unit: 's',
            kind: 'counter',
            integer: false,
            value: round(c.totalSeconds),
            attributes: ct,
          },
          {
            name: 'pgquerylens.collector.duration',
            description: 'Duration of the collector’s last run',
            unit: 's',
            kind: 'gauge',
            integer: false,
            value: round(c.lastSeconds),
            attributes: ct,
          },
        );
      }
    }
    return out;
  }
}

/** A monotonic integer total. */
export function counter(
  name: string,
  description: string,
  unit: string,
  value: number,
  attributes: Readonly<Record<string, string>>,
): SelfMetricPoint {
  return { name, description, unit, kind: 'counter', integer: true, value, attributes };
}

/** A current integer value. */
export function gauge(
  name: string,
  description: string,
  unit: string,
  value: number,
  attributes: Readonly<Record<string, string>>,
): SelfMetricPoint {
  return { name, description, unit, kind: 'gauge', integer: true, value, attributes };
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

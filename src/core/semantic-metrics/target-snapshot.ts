import type { CollectorRunStatus } from '../model/collection-metadata.js';
import type { ProbeSample } from '../model/probe-sample.js';
import { emptyParts, type UnifiedMetrics } from '../model/unified-metrics.js';
import { deriveMetricPoints } from './catalogue.js';
import type { MetricPoint } from './metric-types.js';

/** What a collector last reported for the target, and when. */
interface ProbeEntry {
  readonly samples: readonly ProbeSample[];
  readonly statuses: readonly CollectorRunStatus[];
  readonly at: number;
}

interface PointsEntry {
  readonly points: readonly MetricPoint[];
  readonly at: number;
}

interface DeltaTotal {
  readonly point: MetricPoint;
  total: number;
  at: number;
}

/**
 * The latest metric points of one target, which the SDK's observable callbacks read (they never
 * query). Probe samples are kept per collector: a batch replaces what the collectors that ran in
 * it said, so a table dropped since the last run loses its series while probes on another cadence
 * keep theirs. Points from the query-performance parts are kept per metric name. Delta counters
 * (per-interval figures) are summed here into running totals, exported as cumulative sums;
 * keeping the totals outside the SDK lets a MeterProvider be rebuilt without losing them.
 * Anything not refreshed within `staleAfterMs` is forgotten, which bounds memory.
 */
export class TargetSnapshot {
  private readonly probes = new Map<string, ProbeEntry>();
  private readonly parts = new Map<string, PointsEntry>();
  private readonly deltas = new Map<string, DeltaTotal>();
  private latest: UnifiedMetrics | undefined;
  private current: readonly MetricPoint[] = [];

  constructor(private readonly staleAfterMs: number) {}

  /** Points to observe now: gauges and cumulative sums, delta totals as cumulative sums. */
  get points(): readonly MetricPoint[] {
    return this.current;
  }

  /** True when nothing is left to export (every reading went stale). */
  get empty(): boolean {
    return this.probes.size === 0 && this.parts.size === 0 && this.deltas.size === 0;
  }

  /** Takes in one batch of the target. */
  update(batch: UnifiedMetrics, now: number): void {
    this.latest = batch;
    const ran = new Set<string>();
    for (const s of batch.metadata.collectors) if (s.success) ran.add(s.collector);
    for (const s of batch.probes) ran.add(s.probe);
    for (const name of ran) {
      this.probes.set(name, {
        samples: batch.probes.filter((s) => s.probe === name),
        statuses: batch.metadata.collectors.filter((s) => s.collector === name),
        at: now,
      });
    }
    const byName = new Map<string, MetricPoint[]>();
    for (const point of deriveMetricPoints({ ...batch, probes: [] })) {
      if (point.descriptor.temporality === 'delta') {
        this.addDelta(point, now);
        continue;
      }
      const list = byName.get(point.descriptor.name) ?? [];
      list.push(point);
      byName.set(point.descriptor.name, list);
    }
    for (const [name, points] of byName) this.parts.set(name, { points, at: now });
    this.refresh(now);
  }

  /** Forgets stale readings; returns true when something was dropped. */
  expire(now: number): boolean {
    const cutoff = now - this.staleAfterMs;
    let dropped = false;
    for (const map of [this.probes, this.parts, this.deltas] as Map<string, { at: number }>[]) {
      for (const [key, entry] of map) {
        if (entry.at < cutoff) {
          map.delete(key);
          dropped = true;
        }
      }
    }
    if (dropped) this.refresh(now);
    return dropped;
  }

  private addDelta(point: MetricPoint, now: number): void {
    const key = seriesKey(point);
    const found = this.deltas.get(key);
    if (found === undefined) {
      this.deltas.set(key, { point, total: point.value, at: now });
    } else {
      found.total += point.value;
      found.at = now;
    }
  }

  private refresh(now: number): void {
    this.expireQuietly(now);
    const base = this.latest;
    if (base === undefined) return;
    const entries = [...this.probes.values()];
    const fromProbes = deriveMetricPoints({
      ...base,
      ...emptyParts(),
      probes: entries.flatMap((e) => e.samples),
      metadata: { ...base.metadata, collectors: entries.flatMap((e) => e.statuses) },
    }).filter((p) => p.descriptor.temporality !== 'delta' && !this.parts.has(p.descriptor.name));
    const fromParts = [...this.parts.values()].flatMap((e) => e.points);
    const totals = [...this.deltas.values()].map((d) => ({ ...d.point, value: d.total }));
    this.current = [...fromProbes, ...fromParts, ...totals];
  }

  private expireQuietly(now: number): void {
    const cutoff = now - this.staleAfterMs;
    for (const map of [this.probes, this.parts, this.deltas] as Map<string, { at: number }>[]) {
      for (const [key, entry] of map) if (entry.at < cutoff) map.delete(key);
    }
  }
}

/** Identity of a series within a target: metric name plus its sorted attributes. */
export function seriesKey(point: MetricPoint): string {
  const attrs = Object.entries(point.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${point.descriptor.name}\u0000${JSON.stringify(attrs)}`;
}

import { describe, expect, it } from 'vitest';
import type { CollectorRunStatus } from '../../src/core/model/collection-metadata.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { RunTelemetry } from '../../src/core/run-telemetry.js';
import type { SelfMetricPoint } from '../../src/core/self-telemetry.js';
import { fakeBatch } from '../helpers/batches.js';

function batch(
  target: string,
  collectors: CollectorRunStatus[],
  extra: Partial<UnifiedMetrics> = {},
): UnifiedMetrics {
  const b = fakeBatch(1, target);
  return { ...b, metadata: { ...b.metadata, collectors }, ...extra };
}

function value(points: readonly SelfMetricPoint[], name: string, attrs: Record<string, string>) {
  return points.find(
    (p) => p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  )?.value;
}

describe('RunTelemetry', () => {
  it('counts runs per target and collector, summing a collector’s databases', () => {
    const t = new RunTelemetry();
    t.record(
      batch('a', [
        { collector: 'pg_stat_database', durationMs: 20, success: true },
        { collector: 'pg_stat_user_tables', database: 'x', durationMs: 10, success: true },
        { collector: 'pg_stat_user_tables', database: 'y', durationMs: 30, success: false },
        { collector: 'pg_stat_kcache', durationMs: 1, success: false, unavailable: true },
      ]),
    );
    t.record(batch('a', [{ collector: 'pg_stat_database', durationMs: 40, success: true }]));
    const points = t.selfMetrics();
    const runs = (collector: string, outcome: string) =>
      value(points, 'pgquerylens.collector.runs', { target: 'a', collector, outcome });
    expect(runs('pg_stat_database', 'success')).toBe(2);
    expect(runs('pg_stat_user_tables', 'failure')).toBe(1);
    expect(runs('pg_stat_user_tables', 'success')).toBe(0);
    expect(runs('pg_stat_kcache', 'unavailable')).toBe(1);
    expect(
      value(points, 'pgquerylens.collector.duration', { collector: 'pg_stat_user_tables' }),
    ).toBeCloseTo(0.04);
    expect(value(points, 'pgquerylens.collector.duration', { collector: 'pg_stat_database' })).toBe(
      0.04,
    );
    expect(
      value(points, 'pgquerylens.collector.time', { collector: 'pg_stat_database' }),
    ).toBeCloseTo(0.06);
    expect(value(points, 'pgquerylens.collection.batches', { target: 'a' })).toBe(2);
    expect(value(points, 'pgquerylens.target.up', { target: 'a' })).toBe(1);
  });

  it('tracks reachability, ASH ticks, first runs and forgets removed targets', () => {
    const t = new RunTelemetry();
    expect(t.completedFirstRun(['a'])).toBe(false);
    expect(t.completedFirstRun([])).toBe(true);
    const down = batch('a', []);
    t.record({ ...down, metadata: { ...down.metadata, error: 'connection refused' } });
    expect(t.completedFirstRun(['a'])).toBe(true);
    expect(value(t.selfMetrics(), 'pgquerylens.target.up', { target: 'a' })).toBe(0);
    t.record(
      batch('b', [], {
        activeSessions: [
          {
            windowStart: '',
            windowEnd: '',
            sampleIntervalMs: 1000,
            ticks: 9,
            failedTicks: 1,
            skippedTicks: 2,
            samples: 27,
            averageActiveSessions: 3,
            buckets: [],
          },
        ],
      }),
    );
    const points = t.selfMetrics();
    expect(value(points, 'pgquerylens.ash.samples', { target: 'b' })).toBe(27);
    expect(value(points, 'pgquerylens.ash.ticks', { target: 'b', outcome: 'skipped' })).toBe(2);
    expect(value(points, 'pgquerylens.ash.samples', { target: 'a' })).toBeUndefined();
    t.forget('a');
    expect(t.selfMetrics().some((p) => p.attributes.target === 'a')).toBe(false);
    expect(t.completedFirstRun(['a', 'b'])).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import {
  PlanRegressionTracker,
  type TrackedQuery,
} from '../../src/collectors/plans/plan-regression.js';
import type { PlanChange } from '../../src/core/model/plan-change.js';

const Q: TrackedQuery = { databaseName: 'app', queryId: '-8123456789' };
const T0 = Date.parse('2024-03-01T00:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function at(minutes: number): Date {
  return new Date(T0 + minutes * MINUTE);
}

/** One interval per minute from `from` (exclusive) to `to` (inclusive); returns what was reported. */
function feed(
  tracker: PlanRegressionTracker,
  query: TrackedQuery,
  from: number,
  to: number,
  callsPerMinute: number,
  meanMs: number,
): { minute: number; change: PlanChange }[] {
  const reported: { minute: number; change: PlanChange }[] = [];
  for (let m = from + 1; m <= to; m++) {
    const change = tracker.observeInterval(query, {
      calls: callsPerMinute,
      totalExecTimeMs: callsPerMinute * meanMs,
      intervalEnd: at(m),
    });
    if (change !== undefined) reported.push({ minute: m, change });
  }
  return reported;
}

/** Plan `aaaa` for two hours at 10 ms, then plan `bbbb` appears at minute 120. */
function withBaseline(tracker = new PlanRegressionTracker()): PlanRegressionTracker {
  expect(tracker.observePlan(Q, 'aaaa', false, at(0))).toBeUndefined();
  expect(feed(tracker, Q, 0, 120, 10, 10)).toEqual([]);
  const change = tracker.observePlan(Q, 'bbbb', false, at(120));
  expect(change).toEqual({
    queryId: Q.queryId,
    databaseName: Q.databaseName,
    previousPlanHash: 'aaaa',
    newPlanHash: 'bbbb',
    kind: 'new_plan',
    previousMeanMs: 10,
    generic: false,
    detectedAt: at(120).toISOString(),
  });
  return tracker;
}

describe('PlanRegressionTracker', () => {
  it('remembers the first plan without reporting, and ignores the same plan again', () => {
    const tracker = new PlanRegressionTracker();
    expect(tracker.observePlan(Q, 'aaaa', false, at(0))).toBeUndefined();
    expect(tracker.observePlan(Q, 'aaaa', false, at(60))).toBeUndefined();
    expect(tracker.currentPlan(Q)).toBe('aaaa');
    expect(tracker.currentPlan({ ...Q, databaseName: 'other' })).toBeUndefined();
  });

  it('ignores intervals of a statement whose plan is unknown', () => {
    const tracker = new PlanRegressionTracker();
    expect(feed(tracker, Q, 0, 10, 10, 10)).toEqual([]);
    expect(tracker.size).toBe(0);
  });

  it('flags a slower new plan exactly once, after the observation window', () => {
    const tracker = withBaseline();
    // 3× slower at 600 calls/h: 20 ms × 600 = 12 s extra per hour.
    const reported = feed(tracker, Q, 120, 120 + 180, 10, 30);
    expect(reported).toHaveLength(1);
    const { minute, change } = reported[0]!;
    expect(minute).toBe(180);
    expect(change).toEqual({
      queryId: Q.queryId,
      databaseName: Q.databaseName,
      previousPlanHash: 'aaaa',
      newPlanHash: 'bbbb',
      kind: 'suspected_regression',
      previousMeanMs: 10,
      newMeanMs: 30,
      extraTimeMsPerHour: 12_000,
      newPlanCalls: 600,
      generic: false,
      detectedAt: at(180).toISOString(),
    });
  });

  it('does not flag before the window has passed', () => {
    const tracker = withBaseline();
    expect(feed(tracker, Q, 120, 179, 50, 100)).toEqual([]);
    expect(feed(tracker, Q, 179, 180, 50, 100)).toHaveLength(1);
  });

  it('does not flag below the ratio', () => {
    const tracker = withBaseline();
    // 1.4× slower, yet plenty of extra time: 4 ms × 6000 calls/h = 24 s/h.
    expect(feed(tracker, Q, 120, 120 + 600, 100, 14)).toEqual([]);
  });

  it('does not flag below the extra-time floor', () => {
    const tracker = withBaseline();
    // 3× slower but only 60 calls/h: 20 ms × 60 = 1.2 s/h.
    expect(feed(tracker, Q, 120, 120 + 600, 1, 30)).toEqual([]);
  });

  it('does not flag with too few calls on the new plan', () => {
    const tracker = withBaseline(new PlanRegressionTracker({ settings: { minExtraMsPerHour: 0 } }));
    // 25 calls in all, each 100× slower.
    const reported = [
      ...feed(tracker, Q, 120, 125, 5, 1_000),
      ...feed(tracker, Q, 125, 120 + 300, 0, 0),
    ];
    expect(reported).toEqual([]);
  });

  it('does not flag without enough baseline calls', () => {
    const tracker = new PlanRegressionTracker();
    tracker.observePlan(Q, 'aaaa', false, at(0));
    feed(tracker, Q, 0, 20, 1, 10); // 20 calls < 30
    expect(tracker.observePlan(Q, 'bbbb', false, at(20))?.previousMeanMs).toBe(10);
    expect(feed(tracker, Q, 20, 20 + 180, 100, 1_000)).toEqual([]);
  });

  it('baselines only the window before the change', () => {
    const tracker = new PlanRegressionTracker({ settings: { baselineWindowMs: 2 * HOUR } });
    tracker.observePlan(Q, 'aaaa', false, at(0));
    feed(tracker, Q, 0, 599, 10, 50); // slow long ago
    feed(tracker, Q, 599, 720, 10, 10); // fast in the last 2 h (hour buckets from minute 600)
    expect(tracker.observePlan(Q, 'bbbb', false, at(720))?.previousMeanMs).toBe(10);
  });

  it('reports a change back to an earlier plan, against the plan it replaces', () => {
    const tracker = withBaseline();
    expect(feed(tracker, Q, 120, 180, 10, 30)).toHaveLength(1);
    const back = tracker.observePlan(Q, 'aaaa', false, at(180));
    expect(back).toMatchObject({
      kind: 'new_plan',
      previousPlanHash: 'bbbb',
      newPlanHash: 'aaaa',
      previousMeanMs: 30,
    });
    expect(tracker.currentPlan(Q)).toBe('aaaa');
    // Faster again: nothing more to report.
    expect(feed(tracker, Q, 180, 360, 10, 10)).toEqual([]);
    // And the regression is found again if the slow plan returns.
    expect(tracker.observePlan(Q, 'bbbb', false, at(360))?.previousMeanMs).toBe(10);
    expect(feed(tracker, Q, 360, 420, 10, 30)).toHaveLength(1);
  });

  it('attributes an interval that ended before the change to the previous plan', () => {
    const tracker = withBaseline();
    // A late 60 s interval ending at minute 119.5, slow: it must not count for plan bbbb.
    expect(
      tracker.observeInterval(Q, {
        calls: 1_000,
        totalExecTimeMs: 1_000_000,
        intervalEnd: new Date(T0 + 119.5 * MINUTE),
      }),
    ).toBeUndefined();
    // Baseline mean is now (1200×10 + 1000×1000) / 2200 ≈ 460 ms: 30 ms is no regression.
    expect(feed(tracker, Q, 120, 300, 10, 30)).toEqual([]);
  });

  it('stops judging a change once it is older than the baseline window', () => {
    const tracker = withBaseline(
      new PlanRegressionTracker({ settings: { baselineWindowMs: 2 * HOUR } }),
    );
    // Fine for the first two hours, then slow: not the plan change's doing any more.
    expect(feed(tracker, Q, 120, 240, 10, 10)).toEqual([]);
    expect(feed(tracker, Q, 240, 600, 100, 500)).toEqual([]);
  });

  it('marks changes involving a generic plan', () => {
    const tracker = new PlanRegressionTracker();
    tracker.observePlan(Q, 'aaaa', true, at(0));
    feed(tracker, Q, 0, 60, 10, 10);
    expect(tracker.observePlan(Q, 'bbbb', false, at(60))?.generic).toBe(true);
    const reported = feed(tracker, Q, 60, 120, 10, 30);
    expect(reported.map((r) => r.change.generic)).toEqual([true]);
  });

  it('ignores negative and non-finite deltas', () => {
    const tracker = withBaseline();
    for (const stats of [
      { calls: -5, totalExecTimeMs: 10 },
      { calls: 5, totalExecTimeMs: -10 },
      { calls: Number.NaN, totalExecTimeMs: 10 },
    ]) {
      expect(tracker.observeInterval(Q, { ...stats, intervalEnd: at(200) })).toBeUndefined();
    }
    expect(feed(tracker, Q, 120, 180, 10, 30)).toHaveLength(1);
  });

  it('keeps at most maxQueries statements, evicting the least recently touched', () => {
    const tracker = new PlanRegressionTracker({ maxQueries: 3 });
    const q = (n: number): TrackedQuery => ({ databaseName: 'app', queryId: String(n) });
    for (let n = 1; n <= 3; n++) tracker.observePlan(q(n), `p${n}`, false, at(n));
    // Touching q1 makes q2 the least recently touched.
    tracker.observeInterval(q(1), { calls: 1, totalExecTimeMs: 1, intervalEnd: at(4) });
    tracker.observePlan(q(4), 'p4', false, at(5));
    expect(tracker.size).toBe(3);
    expect(tracker.currentPlan(q(2))).toBeUndefined();
    expect([1, 3, 4].map((n) => tracker.currentPlan(q(n)))).toEqual(['p1', 'p3', 'p4']);
    for (let n = 5; n <= 100; n++) tracker.observePlan(q(n), `p${n}`, false, at(n));
    expect(tracker.size).toBe(3);
  });

  it('forgets statements untouched since a given time', () => {
    const tracker = new PlanRegressionTracker();
    const other: TrackedQuery = { databaseName: 'app', queryId: '7' };
    tracker.observePlan(Q, 'aaaa', false, at(0));
    tracker.observePlan(other, 'cccc', false, at(0));
    tracker.observeInterval(other, { calls: 1, totalExecTimeMs: 1, intervalEnd: at(30) });
    tracker.forget(at(10));
    expect(tracker.currentPlan(Q)).toBeUndefined();
    expect(tracker.currentPlan(other)).toBe('cccc');
  });

  it('rejects settings that cannot work', () => {
    expect(() => new PlanRegressionTracker({ settings: { minCalls: 0 } })).toThrow(RangeError);
    expect(() => new PlanRegressionTracker({ settings: { windowMs: 0 } })).toThrow(RangeError);
    expect(() => new PlanRegressionTracker({ settings: { ratio: Number.NaN } })).toThrow(
      RangeError,
    );
    expect(() => new PlanRegressionTracker({ maxQueries: 0 })).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import {
  COUNTER_SINCE,
  CounterValues,
  LEGACY_NAMES,
  STATEMENT_COUNTERS,
  countersFor,
  packCounters,
  type CounterName,
} from '../../src/collectors/statements/statement-counters.js';
import {
  StatementDeltaTracker,
  type StatementRow,
  type StatementSnapshot,
} from '../../src/collectors/statements/statement-deltas.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const DB = 5;

function at(seconds: number): Date {
  return new Date(T0 + seconds * 1000);
}

function iso(seconds: number): string {
  return at(seconds).toISOString();
}

function row(
  queryid: string,
  counters: Partial<Record<CounterName, number>>,
  extra: Partial<StatementRow> = {},
): StatementRow {
  return { userid: 10, dbid: DB, queryid, toplevel: true, counters, ...extra };
}

function snap(
  seconds: number,
  rows: StatementRow[],
  extra: Partial<StatementSnapshot> = {},
): StatementSnapshot {
  return { takenAt: at(seconds), monitoredDbids: [DB], rows, ...extra };
}

/** A tracker already holding `first` as its baseline. */
function trackerWith(first: StatementSnapshot): StatementDeltaTracker {
  const tracker = new StatementDeltaTracker();
  expect(tracker.apply(first).status).toBe('baseline');
  return tracker;
}

const NO_COUNTS = {
  newKeys: 0,
  countedFromZero: 0,
  rebaselined: 0,
  negative: 0,
  idle: 0,
  disappeared: 0,
};

describe('StatementDeltaTracker', () => {
  it('baselines the first snapshot', () => {
    const result = new StatementDeltaTracker().apply(
      snap(0, [row('1', { calls: 3, total_exec_time: 9 })], { dealloc: 4 }),
    );
    expect(result).toEqual({ status: 'baseline', deltas: [], counts: { rows: 1, ...NO_COUNTS } });
  });

  it('subtracts the counters present in both snapshots', () => {
    const tracker = trackerWith(
      snap(0, [row('1', { calls: 3, total_exec_time: 9, rows: 30, shared_blks_hit: 100 })]),
    );
    const result = tracker.apply(
      snap(60, [
        row('1', { calls: 5, total_exec_time: 15.5, rows: 50, shared_blks_hit: 100, plans: 7 }),
      ]),
    );
    expect(result.status).toBe('ok');
    expect(result.intervalSeconds).toBe(60);
    expect(result.deltas).toEqual([
      {
        userid: 10,
        dbid: DB,
        queryid: '1',
        toplevel: true,
        counters: { calls: 2, total_exec_time: 6.5, rows: 20, shared_blks_hit: 0 },
        countedFromZero: false,
      },
    ]);
    expect(result.deltas[0]).not.toHaveProperty('stddevExecTime');
    expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS });
  });

  it('leaves out counters either snapshot lacks', () => {
    // An ALTER EXTENSION UPDATE between reads adds and renames columns.
    const tracker = trackerWith(snap(0, [row('1', { calls: 1, total_exec_time: 2, rows: 3 })]));
    const [delta] = tracker.apply(
      snap(60, [row('1', { calls: 2, total_exec_time: 4, plans: 5 })]),
    ).deltas;
    expect(Object.keys(delta?.counters ?? {})).toEqual(['calls', 'total_exec_time']);
    expect(JSON.parse(JSON.stringify(delta?.counters))).toEqual({ calls: 1, total_exec_time: 2 });
  });

  it('keeps top-level and nested runs of one statement apart', () => {
    const tracker = trackerWith(
      snap(0, [row('1', { calls: 1 }), row('1', { calls: 10 }, { toplevel: false })]),
    );
    const result = tracker.apply(
      snap(60, [row('1', { calls: 2 }), row('1', { calls: 30 }, { toplevel: false })]),
    );
    expect(result.deltas.map((d) => [d.toplevel, d.counters.calls])).toEqual([
      [true, 1],
      [false, 20],
    ]);
  });

  it('keeps the first row of a repeated key', () => {
    const tracker = trackerWith(snap(0, [row('1', { calls: 1 })]));
    const result = tracker.apply(snap(60, [row('1', { calls: 4 }), row('1', { calls: 100 })]));
    expect(result.deltas.map((d) => d.counters.calls)).toEqual([3]);
    expect(result.counts).toEqual({ rows: 2, ...NO_COUNTS });
  });

  describe('reset', () => {
    it('emits nothing when stats_reset changes, then deltas from the reset snapshot', () => {
      const tracker = trackerWith(
        snap(0, [row('1', { calls: 100 })], { statsReset: iso(-3600), dealloc: 50 }),
      );
      const reset = tracker.apply(
        snap(60, [row('1', { calls: 4 })], { statsReset: iso(30), dealloc: 2 }),
      );
      expect(reset).toEqual({
        status: 'reset',
        deallocDelta: 2,
        deltas: [],
        counts: { rows: 1, ...NO_COUNTS },
      });
      const after = tracker.apply(
        snap(120, [row('1', { calls: 9 })], { statsReset: iso(30), dealloc: 3 }),
      );
      expect(after.status).toBe('ok');
      expect(after.deallocDelta).toBe(1);
      expect(after.deltas.map((d) => d.counters.calls)).toEqual([5]);
    });

    it('compares stats_reset as instants, not text', () => {
      const tracker = trackerWith(
        snap(0, [row('1', { calls: 1 })], { statsReset: '2024-05-01T10:00:00.000Z' }),
      );
      const result = tracker.apply(
        snap(60, [row('1', { calls: 2 })], { statsReset: '2024-05-01T12:00:00+02:00' }),
      );
      expect(result.status).toBe('ok');
    });

    it('is not a reset when either side lacks stats_reset', () => {
      const tracker = trackerWith(snap(0, [row('1', { calls: 1 })]));
      const result = tracker.apply(snap(60, [row('1', { calls: 2 })], { statsReset: iso(-10) }));
      expect(result.status).toBe('ok');
    });
  });

  describe('dealloc', () => {
    it('is the rise since the previous snapshot', () => {
      const tracker = trackerWith(snap(0, [], { dealloc: 5 }));
      expect(tracker.apply(snap(60, [], { dealloc: 8 })).deallocDelta).toBe(3);
    });

    it('is absent when it went down or either side lacks it', () => {
      const tracker = trackerWith(snap(0, [], { dealloc: 5 }));
      expect(tracker.apply(snap(60, [], { dealloc: 4 }))).not.toHaveProperty('deallocDelta');
      expect(tracker.apply(snap(120, []))).not.toHaveProperty('deallocDelta');
      expect(tracker.apply(snap(180, [], { dealloc: 9 }))).not.toHaveProperty('deallocDelta');
      expect(tracker.apply(snap(240, [], { dealloc: 9 })).deallocDelta).toBe(0);
    });
  });

  it('re-baselines a key with a counter that went down and counts from there', () => {
    const tracker = trackerWith(
      snap(0, [row('1', { calls: 10, rows: 100 }), row('2', { calls: 1 })]),
    );
    const result = tracker.apply(
      snap(60, [row('1', { calls: 12, rows: 40 }), row('2', { calls: 2 })]),
    );
    expect(result.deltas.map((d) => d.queryid)).toEqual(['2']);
    expect(result.counts).toEqual({ rows: 2, ...NO_COUNTS, negative: 1 });
    const next = tracker.apply(
      snap(120, [row('1', { calls: 13, rows: 45 }), row('2', { calls: 2 })]),
    );
    expect(next.deltas.map((d) => [d.queryid, d.counters])).toEqual([['1', { calls: 1, rows: 5 }]]);
  });

  it('emits nothing for a key without new calls', () => {
    const tracker = trackerWith(snap(0, [row('1', { calls: 3, plans: 3 })]));
    const result = tracker.apply(snap(60, [row('1', { calls: 3, plans: 5 })]));
    expect(result.deltas).toEqual([]);
    expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS, idle: 1 });
  });

  it('counts keys that disappeared', () => {
    const tracker = trackerWith(
      snap(0, [row('1', { calls: 1 }), row('2', { calls: 1 }), row('3', { calls: 1 })]),
    );
    const result = tracker.apply(snap(60, [row('2', { calls: 2 })]));
    expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS, disappeared: 2 });
  });

  describe('entries re-created (stats_since, PostgreSQL 17+)', () => {
    it('counts an entry re-created within the interval from zero', () => {
      const tracker = trackerWith(
        snap(0, [
          row(
            '1',
            { calls: 100, total_exec_time: 500 },
            { statsSince: iso(-900), meanExecTime: 5, stddevExecTime: 1 },
          ),
        ]),
      );
      const result = tracker.apply(
        snap(60, [
          row(
            '1',
            { calls: 3, total_exec_time: 12 },
            { statsSince: iso(20), meanExecTime: 4, stddevExecTime: 2 },
          ),
        ]),
      );
      expect(result.deltas).toEqual([
        {
          userid: 10,
          dbid: DB,
          queryid: '1',
          toplevel: true,
          counters: { calls: 3, total_exec_time: 12 },
          stddevExecTime: 2,
          countedFromZero: true,
        },
      ]);
      expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS, countedFromZero: 1 });
    });

    it('counts from zero even when the new counters exceed the old ones', () => {
      const tracker = trackerWith(snap(0, [row('1', { calls: 1 }, { statsSince: iso(-900) })]));
      const result = tracker.apply(snap(60, [row('1', { calls: 7 }, { statsSince: iso(0) })]));
      expect(result.deltas.map((d) => [d.counters.calls, d.countedFromZero])).toEqual([[7, true]]);
    });

    it('re-baselines an entry re-created before the previous snapshot', () => {
      // The previous read showed an older incarnation: its row and takenAt disagree (clock skew
      // or a slow read), so the new counters cover an unknown span.
      const tracker = trackerWith(snap(0, [row('1', { calls: 100 }, { statsSince: iso(-900) })]));
      const result = tracker.apply(snap(60, [row('1', { calls: 8 }, { statsSince: iso(-30) })]));
      expect(result.deltas).toEqual([]);
      expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS, rebaselined: 1 });
      const next = tracker.apply(snap(120, [row('1', { calls: 10 }, { statsSince: iso(-30) })]));
      expect(next.deltas.map((d) => [d.counters.calls, d.countedFromZero])).toEqual([[2, false]]);
    });
  });

  describe('new keys', () => {
    it('counts a key created within the interval from zero', () => {
      const tracker = trackerWith(snap(0, [row('1', { calls: 1 })]));
      const result = tracker.apply(
        snap(60, [
          row('1', { calls: 1 }),
          row('2', { calls: 1, total_exec_time: 4000 }, { meanExecTime: 4000, stddevExecTime: 0 }),
        ]),
      );
      expect(result.deltas).toEqual([
        {
          userid: 10,
          dbid: DB,
          queryid: '2',
          toplevel: true,
          counters: { calls: 1, total_exec_time: 4000 },
          stddevExecTime: 0,
          countedFromZero: true,
        },
      ]);
      expect(result.counts).toEqual({
        rows: 2,
        ...NO_COUNTS,
        newKeys: 1,
        countedFromZero: 1,
        idle: 1,
      });
    });

    it('counts a key whose stats_since is within the interval from zero', () => {
      const tracker = trackerWith(snap(0, []));
      const result = tracker.apply(snap(60, [row('2', { calls: 2 }, { statsSince: iso(0) })]));
      expect(result.deltas.map((d) => [d.counters.calls, d.countedFromZero])).toEqual([[2, true]]);
    });

    it('baselines a key created before the previous snapshot', () => {
      const tracker = trackerWith(snap(0, []));
      const result = tracker.apply(snap(60, [row('2', { calls: 2 }, { statsSince: iso(-1) })]));
      expect(result.deltas).toEqual([]);
      expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS, newKeys: 1, rebaselined: 1 });
      const next = tracker.apply(snap(120, [row('2', { calls: 3 }, { statsSince: iso(-1) })]));
      expect(next.deltas.map((d) => d.counters.calls)).toEqual([1]);
    });

    it('baselines keys of a newly monitored database', () => {
      const tracker = trackerWith(snap(0, [row('1', { calls: 1 })]));
      const result = tracker.apply(
        snap(60, [row('1', { calls: 1 }), row('2', { calls: 500 }, { dbid: 7 })], {
          monitoredDbids: [DB, 7],
        }),
      );
      expect(result.deltas).toEqual([]);
      expect(result.counts).toEqual({ rows: 2, ...NO_COUNTS, newKeys: 1, idle: 1 });
      const next = tracker.apply(
        snap(120, [row('1', { calls: 1 }), row('2', { calls: 502 }, { dbid: 7 })], {
          monitoredDbids: [DB, 7],
        }),
      );
      expect(next.deltas.map((d) => [d.dbid, d.counters.calls])).toEqual([[7, 2]]);
    });

    it('reports a new key without calls as idle', () => {
      const tracker = trackerWith(snap(0, []));
      const result = tracker.apply(snap(60, [row('2', { calls: 0, plans: 1 })]));
      expect(result.deltas).toEqual([]);
      expect(result.counts).toEqual({ rows: 1, ...NO_COUNTS, newKeys: 1, idle: 1 });
    });
  });

  describe('interval stddev', () => {
    // Runs of 10 and 20 ms, then 30 and 50 ms: the interval's are 30 and 50, stddev 10.
    const first = row(
      '1',
      { calls: 2, total_exec_time: 30 },
      { meanExecTime: 15, stddevExecTime: 5 },
    );
    const second = row(
      '1',
      { calls: 4, total_exec_time: 110 },
      { meanExecTime: 27.5, stddevExecTime: Math.sqrt(218.75) },
    );

    it('is derived from the two lifetime stddevs', () => {
      const tracker = trackerWith(snap(0, [first]));
      const [delta] = tracker.apply(snap(60, [second])).deltas;
      expect(delta?.counters).toEqual({ calls: 2, total_exec_time: 80 });
      expect(delta?.stddevExecTime).toBeCloseTo(10, 9);
    });

    it('is zero, not NaN, when rounding takes the variance below zero', () => {
      const tracker = trackerWith(
        snap(0, [
          row('1', { calls: 3, total_exec_time: 0.3 }, { meanExecTime: 0.1, stddevExecTime: 0 }),
        ]),
      );
      const [delta] = tracker.apply(
        snap(60, [
          row('1', { calls: 6, total_exec_time: 0.6 }, { meanExecTime: 0.1, stddevExecTime: 0 }),
        ]),
      ).deltas;
      expect(delta?.stddevExecTime).toBeGreaterThanOrEqual(0);
      expect(delta?.stddevExecTime).toBeCloseTo(0, 6);
    });

    it('is absent when a snapshot lacks mean or stddev', () => {
      const tracker = trackerWith(snap(0, [row('1', { calls: 2, total_exec_time: 30 })]));
      const [delta] = tracker.apply(snap(60, [second])).deltas;
      expect(delta).not.toHaveProperty('stddevExecTime');
    });
  });

  describe('clock going back', () => {
    it('baselines a snapshot not newer than the previous one and compares with it next', () => {
      const tracker = trackerWith(snap(60, [row('1', { calls: 10 })]));
      expect(tracker.apply(snap(60, [row('1', { calls: 11 })])).status).toBe('baseline');
      const back = tracker.apply(snap(30, [row('1', { calls: 12 })]));
      expect(back).toEqual({ status: 'baseline', deltas: [], counts: { rows: 1, ...NO_COUNTS } });
      const next = tracker.apply(snap(90, [row('1', { calls: 15 })]));
      expect(next.intervalSeconds).toBe(60);
      expect(next.deltas.map((d) => d.counters.calls)).toEqual([3]);
    });
  });

  it('handles 10 000 rows with all counters', () => {
    const count = 10_000;
    const build = (seconds: number, step: number): StatementSnapshot =>
      snap(
        seconds,
        Array.from({ length: count }, (_, i) => {
          const counters: Partial<Record<CounterName, number>> = {};
          STATEMENT_COUNTERS.forEach((name, c) => (counters[name] = (i + 1) * (c + 1) * step));
          // Every tenth statement was idle; every hundredth lost its entry.
          if (step > 1 && i % 10 === 0) counters.calls = i + 1;
          if (step > 1 && i % 100 === 1) counters.rows = 0;
          return row(String(BigInt(i) * 1_000_000_007n - 9_000_000_000_000_000_000n), counters, {
            userid: 10 + (i % 3),
            toplevel: i % 2 === 0,
          });
        }),
      );
    const tracker = trackerWith(build(0, 1));
    const result = tracker.apply(build(60, 2));
    expect(result.counts).toEqual({
      rows: count,
      ...NO_COUNTS,
      idle: count / 10,
      negative: count / 100,
    });
    expect(result.deltas).toHaveLength(count - count / 10 - count / 100);
    for (const delta of result.deltas.slice(0, 50)) {
      const i = Number((BigInt(delta.queryid) + 9_000_000_000_000_000_000n) / 1_000_000_007n);
      STATEMENT_COUNTERS.forEach((name, c) => {
        expect(delta.counters[name]).toBe((i + 1) * (c + 1));
      });
    }
  });
});

describe('statement counters', () => {
  it('packs every counter into its STATEMENT_COUNTERS slot and reads it back', () => {
    const counters: Partial<Record<CounterName, number>> = {};
    STATEMENT_COUNTERS.forEach((name, c) => (counters[name] = c * 10 + 0.5));
    delete counters.plans;
    const packed = new Float64Array(2 + STATEMENT_COUNTERS.length);
    packCounters(counters, packed, 2);
    STATEMENT_COUNTERS.forEach((name, c) => {
      expect(packed[2 + c]).toBe(name === 'plans' ? Number.NaN : c * 10 + 0.5);
    });
    const values = new CounterValues(packed, 2);
    expect({ ...values }).toEqual(counters);
    expect(Object.keys(values)).toEqual(STATEMENT_COUNTERS.filter((name) => name !== 'plans'));
  });

  it('dates every counter, renamed ones from before their rename', () => {
    expect(Object.keys(COUNTER_SINCE).sort()).toEqual([...STATEMENT_COUNTERS].sort());
    for (const [name, legacy] of Object.entries(LEGACY_NAMES)) {
      expect(COUNTER_SINCE[name as CounterName]).toBe('1.7');
      expect(['1.8', '1.11']).toContain(legacy.until);
    }
  });

  it('lists the counters of each extension version', () => {
    const v17 = countersFor('1.7');
    expect(v17).toContain('total_exec_time');
    expect(v17).toContain('shared_blk_read_time');
    expect(v17).not.toContain('plans');
    expect(countersFor('1.8')).toEqual(expect.arrayContaining(['plans', 'wal_bytes']));
    expect(countersFor('1.9')).toEqual(countersFor('1.8'));
    expect(countersFor('1.10')).toContain('jit_functions');
    expect(countersFor('1.10')).not.toContain('jit_deform_count');
    expect(countersFor('1.11')).toEqual(
      expect.arrayContaining(['jit_deform_time', 'local_blk_read_time']),
    );
    expect(countersFor('1.11')).not.toContain('wal_buffers_full');
    expect(countersFor('1.12')).toEqual(STATEMENT_COUNTERS);
    expect(countersFor('1.13')).toEqual(STATEMENT_COUNTERS);
  });

  it('reads versions older than 1.7 as 1.7', () => {
    expect(countersFor('1.6')).toEqual(countersFor('1.7'));
    expect(countersFor('1.6')).toHaveLength(15);
  });
});

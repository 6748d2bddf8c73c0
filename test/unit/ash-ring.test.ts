import { describe, expect, it } from 'vitest';
import { AshRing } from '../../src/collectors/ash/ash-ring.js';
import type { AshSample } from '../../src/core/model/ash-sample.js';

// Only the count matters to the ring; the sample's fields are never read.
const sessions = (n: number): AshSample[] => Array.from({ length: n }, () => ({}) as AshSample);
// push() judges staleness by the wall clock, so the test's times are near it.
const T = Date.now();

describe('AshRing', () => {
  it('hands each consumer the ticks it has not read, and reports ticks lost to the bound', () => {
    const ring = new AshRing(10);
    ring.subscribe(['a', 'b'], T);
    ring.push(T + 1_000, 'ok', sessions(4));
    expect(ring.read('a', T + 1_000).ticks.map((t) => t.seq)).toEqual([1]);
    expect(ring.read('b', T + 1_000).ticks.map((t) => t.seq)).toEqual([1]);
    // Read by both: dropped.
    expect(ring.size).toBe(0);
    ring.push(T + 2_000, 'ok', sessions(4));
    ring.push(T + 3_000, 'ok', sessions(4));
    expect(ring.read('a', T + 3_000).ticks.map((t) => t.seq)).toEqual([2, 3]);
    // b has not read them: they stay for it.
    expect(ring.size).toBe(2);
    // Over the bound the oldest go, and b learns how many it missed; a missed none.
    ring.push(T + 4_000, 'ok', sessions(4));
    ring.push(T + 5_000, 'ok', sessions(4));
    const b = ring.read('b', T + 5_000);
    expect(b.ticks.map((t) => t.seq)).toEqual([4, 5]);
    expect(b.lostTicks).toBe(2);
    const a = ring.read('a', T + 5_000);
    expect(a.ticks.map((t) => t.seq)).toEqual([4, 5]);
    expect(a.lostTicks).toBe(0);
  });

  it('keeps a heartbeat tick even when one tick alone is over the bound', () => {
    const ring = new AshRing(2);
    ring.push(T + 1_000, 'ok', sessions(5));
    expect(ring.size).toBe(1);
    ring.push(T + 2_000, 'failed');
    expect(ring.size).toBe(1);
    expect(ring.read('a', T + 2_000).ticks.map((t) => t.status)).toEqual(['failed']);
  });

  // A soak found dropped ticks kept reachable: compaction waited for 1,024 of them, about 17
  // minutes of a busy server's sessions at one tick a second, per target.
  it('lets go of read ticks as it goes: what it references stays near what it holds', () => {
    const ring = new AshRing(100_000);
    ring.subscribe(['ash', 'waits'], T);
    let worst = 0;
    for (let i = 1; i <= 5_000; i++) {
      ring.push(T + i, 'ok', sessions(30));
      if (i % 15 === 0) ring.read('ash', T + i);
      if (i % 60 === 0) ring.read('waits', T + i);
      worst = Math.max(worst, ring.retained - ring.size);
    }
    // Between two reads of the slower consumer 60 ticks are held; dropped ones never outnumber
    // the held ones by more than one compaction's worth.
    expect(ring.size).toBeLessThanOrEqual(60);
    expect(worst).toBeLessThanOrEqual(60);
  });

  it('lets go of ticks evicted by the bound, with no reader at all', () => {
    const ring = new AshRing(300);
    let worst = 0;
    for (let i = 1; i <= 5_000; i++) {
      ring.push(T + i, 'ok', sessions(30));
      worst = Math.max(worst, ring.retained);
    }
    expect(ring.size).toBe(10);
    expect(worst).toBeLessThanOrEqual(2 * ring.size + 1);
  });
});

import { describe, expect, it } from 'vitest';
import { ownsTarget, shardOf } from '../../src/core/sharding/rendezvous.js';

const NAMES = Array.from({ length: 1000 }, (_, i) => `db-${i}.prod.internal:5432`);

describe('rendezvous sharding', () => {
  it('gives every target exactly one owner, shares within 20% of even', () => {
    for (let n = 1; n <= 10; n++) {
      const counts = new Array<number>(n).fill(0);
      for (const name of NAMES) {
        const owners = Array.from({ length: n }, (_, s) => s).filter((s) => ownsTarget(name, s, n));
        expect(owners).toHaveLength(1);
        counts[owners[0]!]! += 1;
      }
      const even = NAMES.length / n;
      for (const c of counts) expect(Math.abs(c - even) / even).toBeLessThanOrEqual(0.2);
    }
  });

  it('moves at most 1.5/(N+1) of the targets going from N to N+1, all to the new shard', () => {
    for (let n = 1; n < 10; n++) {
      let moved = 0;
      for (const name of NAMES) {
        const before = shardOf(name, n);
        const after = shardOf(name, n + 1);
        if (before !== after) {
          moved += 1;
          expect(after).toBe(n);
        }
      }
      expect(moved / NAMES.length).toBeLessThanOrEqual(1.5 / (n + 1));
      expect(moved).toBeGreaterThan(0);
    }
  });

  it('is stable and rejects a shard count below one', () => {
    expect(shardOf('a', 5)).toBe(shardOf('a', 5));
    expect(ownsTarget('a', 0, 1)).toBe(true);
    expect(() => shardOf('a', 0)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { QueryTextCache } from '../../src/collectors/probes/query-text-cache.js';

describe('QueryTextCache', () => {
  it('is bounded by the size of its texts, evicting the least recently used first', () => {
    const cache = new QueryTextCache(1_000, 4 * 100); // room for about 200 characters
    cache.set('t', '1', 'a'.repeat(80));
    cache.set('t', '2', 'b'.repeat(80));
    expect(cache.get('t', '1')).toBe('a'.repeat(80)); // 1 is now the most recent
    cache.set('t', '3', 'c'.repeat(80)); // 240 characters: the least recent (2) goes
    expect(cache.has('t', '2')).toBe(false);
    expect(cache.has('t', '1')).toBe(true);
    expect(cache.has('t', '3')).toBe(true);
    // Replacing a text accounts for the old one leaving.
    cache.set('t', '3', 'c');
    cache.set('u', '9', 'd'.repeat(100));
    expect([cache.has('t', '1'), cache.has('t', '3'), cache.has('u', '9')]).toEqual([
      true,
      true,
      true,
    ]);
  });
});

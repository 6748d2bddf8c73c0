import { describe, expect, it } from 'vitest';
import { deepMerge, setPath } from '../../src/core/config/merge.js';

describe('deepMerge and setPath', () => {
  it('merges objects key by key and replaces arrays and scalars whole', () => {
    expect(
      deepMerge({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, d: undefined }, { e: 2 }),
    ).toEqual({ a: { b: 1, c: [3] }, d: 'x', e: 2 });
    const target: Record<string, unknown> = { otlp: 'scalar' };
    setPath(target, ['otlp', 'logs', 'enabled'], false);
    expect(target).toEqual({ otlp: { logs: { enabled: false } } });
  });

  // Found by the config fuzzer (seed 20261122): a YAML key `__proto__` is an own key of the
  // parsed file, but assigning it set the merged object's prototype, so its elements surfaced
  // as inherited keys and the real key was never reported.
  it('keeps a __proto__ key as an own property, never as the prototype', () => {
    const layer = JSON.parse('{"__proto__": [""], "interval": "10s"}') as Record<string, unknown>;
    const merged = deepMerge(layer, { other: 1 });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__', 'interval', 'other']);
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(merged['0' as string]).toBeUndefined();
    const nested = JSON.parse('{"a": {"__proto__": {"polluted": true}}}') as Record<
      string,
      unknown
    >;
    const both = deepMerge(nested, nested);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(both.a)).toBe(Object.prototype);
    const target: Record<string, unknown> = {};
    setPath(target, ['__proto__', 'x'], 1);
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(['__proto__']);
  });
});

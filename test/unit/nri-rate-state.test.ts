import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateState, rateKey } from '../../src/adapters/nri/v3/rate-state.js';

const TTL = 6 * 60_000;
const T0 = 1_700_000_000_000;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pgql-rate-state-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('RateState arithmetic', () => {
  it('gives 0 on first sight, then the change per elapsed second', () => {
    const state = new RateState(TTL);
    expect(state.rate('k', 100, T0)).toBe(0);
    expect(state.rate('k', 250, T0 + 15_000)).toBe(10);
    expect(state.delta('d', 7, T0)).toBe(0);
    expect(state.delta('d', 19, T0 + 15_000)).toBe(12);
    expect(state.size).toBe(2);
  });

  it('drops a sample in the same whole second and keeps the stored one', () => {
    const state = new RateState(TTL);
    state.rate('k', 100, T0 + 100);
    // 800 ms later but the same Unix second: too close, as the SDK says.
    expect(state.rate('k', 500, T0 + 900)).toBeUndefined();
    expect(state.delta('k', 500, T0 + 900)).toBeUndefined();
    // Measured from the kept sample (100 at second T0), not from the dropped one.
    expect(state.rate('k', 130, T0 + 3_000)).toBe(10);
  });

  it('counts whole seconds, as the SDK stores Unix seconds', () => {
    const state = new RateState(TTL);
    state.rate('k', 0, T0 + 900);
    // 200 ms later but across a second boundary: one second elapsed.
    expect(state.rate('k', 5, T0 + 1_100)).toBe(5);
  });

  it('returns negative changes as they are (a counter reset)', () => {
    const state = new RateState(TTL);
    state.rate('k', 1000, T0);
    expect(state.rate('k', 400, T0 + 10_000)).toBe(-60);
    state.delta('d', 50, T0);
    expect(state.delta('d', 20, T0 + 10_000)).toBe(-30);
  });

  it('treats a previous sample older than the ttl as never seen', () => {
    const state = new RateState(TTL);
    state.rate('k', 100, T0);
    expect(state.rate('k', 900, T0 + TTL + 1_000)).toBe(0);
    expect(state.rate('k', 960, T0 + TTL + 7_000)).toBe(10);
  });

  it('ignores non-finite values without disturbing the stored sample', () => {
    const state = new RateState(TTL);
    state.rate('k', 10, T0);
    expect(state.rate('k', Number.NaN, T0 + 5_000)).toBeUndefined();
    expect(state.rate('k', 20, T0 + 10_000)).toBe(1);
  });
});

describe('rateKey', () => {
  it('sorts the namespace attributes and appends the metric, as the SDK does', () => {
    expect(rateKey({ entityName: 'database:a', displayName: 'a' }, 'db.commitsPerSecond')).toBe(
      'displayName==a::entityName==database:a::db.commitsPerSecond',
    );
    expect(rateKey({}, 'm')).toBe('m');
    // Different entities give different keys for the same metric.
    expect(rateKey({ entityKey: 'pg-table:t:host=h' }, 'm')).not.toBe(
      rateKey({ entityKey: 'pg-table:t:host=g' }, 'm'),
    );
  });
});

describe('RateState file', () => {
  it('round-trips and continues rates across a restart', () => {
    const file = path.join(dir, 'state', 'rates.json');
    const state = new RateState(TTL);
    state.rate('a', 10, T0);
    state.delta('b', 5, T0);
    state.save(file, T0 + 1_000);

    const loaded = RateState.load(file, TTL, T0 + 10_000);
    expect(loaded.problem).toBeUndefined();
    expect(loaded.state.size).toBe(2);
    expect(loaded.state.rate('a', 110, T0 + 10_000)).toBe(10);
    expect(loaded.state.delta('b', 8, T0 + 10_000)).toBe(3);
  });

  it('writes atomically: mode 0600, directory 0700, no temporary file left', () => {
    const stateDir = path.join(dir, 'nested', 'nri');
    const file = path.join(stateDir, 'rates.json');
    const state = new RateState(TTL);
    state.rate('a', 1, T0);
    state.save(file, T0);
    state.rate('a', 2, T0 + 5_000);
    state.save(file, T0 + 5_000);
    expect(readdirSync(stateDir)).toEqual(['rates.json']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('drops entries older than the ttl when saving and when loading', () => {
    const file = path.join(dir, 'rates.json');
    const state = new RateState(TTL);
    state.rate('old', 1, T0);
    state.rate('new', 1, T0 + TTL);
    state.save(file, T0 + TTL + 1);
    expect(state.size).toBe(1);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(saved.entries)).toEqual(['new']);
    expect(RateState.load(file, TTL, T0 + 2 * TTL + 2).state.size).toBe(0);
  });

  it('reads a missing, corrupt or foreign file as an empty state with a reason', () => {
    const missing = RateState.load(path.join(dir, 'absent.json'), TTL, T0);
    expect(missing.state.size).toBe(0);
    expect(missing.problem).toMatch(/does not exist/);

    const cases = [
      '{not json',
      'null',
      JSON.stringify({ version: 99, entries: {} }),
      JSON.stringify({ version: 1, entries: { k: ['1', T0] } }),
      JSON.stringify({ version: 1, entries: { k: [1] } }),
    ];
    for (const [i, body] of cases.entries()) {
      const file = path.join(dir, `corrupt-${i}.json`);
      writeFileSync(file, body);
      const loaded = RateState.load(file, TTL, T0);
      expect(loaded.state.size, body).toBe(0);
      expect(loaded.problem, body).toMatch(/corrupt/);
    }

    // A directory where the file should be: unreadable, still no throw.
    const unreadable = RateState.load(dir, TTL, T0);
    expect(unreadable.state.size).toBe(0);
    expect(unreadable.problem).toMatch(/cannot read/);
  });

  it('throws when the file cannot be written, leaving no temporary file', () => {
    const state = new RateState(TTL);
    state.rate('a', 1, T0);
    // The target is an existing directory: rename fails after the temp file was written.
    const target = path.join(dir, 'taken');
    state.save(path.join(target, 'x.json'), T0);
    expect(() => state.save(target, T0)).toThrow();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

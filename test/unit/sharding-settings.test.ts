import { describe, expect, it } from 'vitest';
import { resolveSharding } from '../../src/core/config/sharding-settings.js';
import type { ConfigIssue } from '../../src/core/errors.js';

function resolve(parsed: { shards?: number; shard?: number }, env: NodeJS.ProcessEnv = {}) {
  const issues: ConfigIssue[] = [];
  return { settings: resolveSharding(parsed, env, issues), issues };
}

describe('sharding settings', () => {
  it('is off by default and with one shard', () => {
    expect(resolve({}).settings).toEqual({ shards: 1, shard: 0 });
    expect(resolve({ shards: 1 }, { POD_NAME: 'x-4' }).settings).toEqual({ shards: 1, shard: 0 });
  });

  it('takes the ordinal from the setting, else POD_NAME, else HOSTNAME', () => {
    expect(resolve({ shards: 3, shard: 2 }, { POD_NAME: 'pgq-0' }).settings.shard).toBe(2);
    expect(resolve({ shards: 3 }, { POD_NAME: 'pgq-1', HOSTNAME: 'pgq-2' }).settings.shard).toBe(1);
    expect(resolve({ shards: 3 }, { HOSTNAME: 'my-release-pgquerylens-2' }).settings.shard).toBe(2);
  });

  it('names what is missing or out of range', () => {
    expect(resolve({ shards: 3 }, { POD_NAME: 'collector' }).issues.map((i) => i.path)).toEqual([
      'PGQUERYLENS_SHARD',
    ]);
    expect(resolve({ shards: 3 }, { POD_NAME: 'pgq-3' }).issues.map((i) => i.path)).toEqual([
      'POD_NAME',
    ]);
    expect(resolve({ shards: 2, shard: 2 }).issues.map((i) => i.path)).toEqual(['sharding.shard']);
  });
});

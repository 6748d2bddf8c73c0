import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { shardOf } from '../../src/core/sharding/rendezvous.js';
import { cleanEnv, runCli } from '../helpers/cli.js';

const pgUrl = inject('pgUrl');
const NAMES = Array.from({ length: 8 }, (_, i) => `replica-test-${i}`);

/** A config naming eight targets (all the same server, which is all the test needs). */
function configFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgql-shard-'));
  const file = path.join(dir, 'config.yaml');
  const targets = NAMES.map((name) => `  - { name: ${name}, url: '${pgUrl}' }`).join('\n');
  writeFileSync(
    file,
    `mode: otel\notlp: { enabled: false }\ncollectors: { pg_settings: { enabled: false } }\ntargets:\n${targets}\n`,
  );
  return file;
}

describe('replicas sharing the targets', () => {
  it('collect disjoint shares that together cover every target', async () => {
    const config = configFile();
    const shares: string[][] = [];
    for (const pod of ['pgq-0', 'pgq-1', 'pgq-2']) {
      const result = await runCli(
        ['--config', config, '--once', '--output=json', '--log-level=info'],
        cleanEnv({ PGQUERYLENS_SHARDS: '3', POD_NAME: pod }),
        120_000,
      );
      expect(result.code, result.stderr).toBe(0);
      const names = result.stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => (JSON.parse(l) as UnifiedMetrics).target.name);
      shares.push(names.sort());
      const ordinal = Number(pod.slice(-1));
      expect(names.every((n) => shardOf(n, 3) === ordinal)).toBe(true);
      expect(result.stderr).toMatch(/share of the targets/);
    }
    const all = shares.flat().sort();
    expect(all).toEqual([...NAMES].sort());
    expect(new Set(all).size).toBe(NAMES.length);
  }, 180_000);

  it('refuses a shard count without an ordinal, naming the variable', async () => {
    const result = await runCli(
      ['--config', configFile(), '--once', '--output=json'],
      cleanEnv({ PGQUERYLENS_SHARDS: '3', POD_NAME: 'no-ordinal', HOSTNAME: 'box' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PGQUERYLENS_SHARD/);
  });
});

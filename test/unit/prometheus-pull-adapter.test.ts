import { describe, expect, it } from 'vitest';
import { PrometheusPullAdapter } from '../../src/adapters/prometheus/prometheus-pull-adapter.js';
import type { TargetIdentity } from '../../src/core/model/target-identity.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';
import type { SelfMetricPoint } from '../../src/core/self-telemetry.js';

/** A batch whose pg_stat_database sample has one row per database, commits as given. */
function batch(target: TargetIdentity, commits: Readonly<Record<string, number>>): UnifiedMetrics {
  const now = new Date().toISOString();
  return {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target,
    server: {},
    metadata: {
      collectorVersion: 'test',
      startedAt: now,
      finishedAt: now,
      collectors: [],
    },
    ...emptyParts(),
    probes: Object.entries(commits).map(([database, xact]) => ({
      probe: 'pg_stat_database',
      scope: 'database' as const,
      database,
      collectedAt: now,
      rows: [{ datname: database, xact_commit: xact }],
    })),
  };
}

const A: TargetIdentity = { name: 'a', host: 'db-a', port: 5432, labels: { env: 'prod' } };
const B: TargetIdentity = {
  name: 'b',
  host: 'db-b',
  port: 6432,
  // A user label must not move a series to another server.
  labels: { 'server.address': 'spoofed', 'team.name': 'x' },
};

/** The commits lines of a rendering. */
function commits(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('postgresql_commits_total{'));
}

describe('PrometheusPullAdapter', () => {
  it('renders every target with its identity on each series', async () => {
    const adapter = new PrometheusPullAdapter();
    await adapter.export(batch(A, { app: 5 }));
    await adapter.export(batch(B, { app: 7 }));
    expect(commits(adapter.render())).toEqual([
      'postgresql_commits_total{db_namespace="app",db_system_name="postgresql",env="prod",server_address="db-a",server_port="5432"} 5',
      'postgresql_commits_total{db_namespace="app",db_system_name="postgresql",server_address="db-b",server_port="6432",team_name="x"} 7',
    ]);
    expect(adapter.render().match(/^# TYPE postgresql_commits_total counter$/gm)).toHaveLength(1);
  });

  it('merges self metrics into the same exposition', async () => {
    const adapter = new PrometheusPullAdapter();
    await adapter.export(batch(A, { app: 1 }));
    const self: SelfMetricPoint[] = [
      {
        name: 'pgquerylens.targets',
        description: 'Targets configured.',
        unit: '{target}',
        kind: 'gauge',
        integer: true,
        value: 1,
        attributes: {},
      },
    ];
    const text = adapter.render(self);
    expect(text).toContain('# TYPE pgquerylens_targets gauge\npgquerylens_targets 1\n');
    expect(commits(text)).toHaveLength(1);
  });

  it('replaces a target’s series with its latest batch', async () => {
    const adapter = new PrometheusPullAdapter();
    await adapter.export(batch(A, { app: 5, gone: 2 }));
    expect(commits(adapter.render())).toHaveLength(2);
    await adapter.export(batch(A, { app: 6 }));
    const lines = commits(adapter.render());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/db_namespace="app".* 6$/);
  });

  it('forgets a target not heard from within the staleness window, even between exports', async () => {
    let now = 1_000_000;
    const adapter = new PrometheusPullAdapter({ intervalMs: 10_000, now: () => now });
    await adapter.export(batch(A, { app: 5 }));
    await adapter.export(batch(B, { app: 7 }));
    // Default window: max(5 × 10 s, 5 min).
    now += 300_000;
    await adapter.export(batch(B, { app: 8 }));
    expect(commits(adapter.render())).toHaveLength(2);
    now += 1;
    expect(commits(adapter.render())).toEqual([expect.stringContaining('server_address="db-b"')]);
    now += 300_001;
    expect(adapter.render()).toBe('');
  });

  it('honours an explicit staleness and exposes nothing after shutdown', async () => {
    let now = 0;
    const adapter = new PrometheusPullAdapter({ staleAfterMs: 1_000, now: () => now });
    await adapter.export(batch(A, { app: 5 }));
    now = 1_001;
    expect(adapter.render()).toBe('');
    await adapter.export(batch(A, { app: 5 }));
    expect(adapter.render()).not.toBe('');
    await adapter.shutdown();
    expect(adapter.render()).toBe('');
    await adapter.export(batch(A, { app: 5 }));
    expect(adapter.render()).toBe('');
  });
});

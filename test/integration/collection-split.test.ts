import { afterAll, describe, expect, inject, it } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import type { Collector } from '../../src/core/collector.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { targetFor } from '../helpers/targets.js';

/** A server-scoped collector whose one query takes `seconds` on the server. */
function sleeper(name: string, seconds: number): Collector {
  return {
    name,
    scope: 'server',
    description: `sleeps ${seconds} s`,
    async collect(ctx) {
      const rows = await ctx.session.query<{ v: number }>(`SELECT pg_sleep(${seconds}), 1 AS v`);
      return {
        probes: [
          {
            probe: name,
            scope: 'server',
            collectedAt: new Date().toISOString(),
            rows: rows.map((r) => ({ v: r.v })),
          },
        ],
      };
    },
  };
}

const connectors: PgTargetConnector[] = [];
afterAll(async () => {
  await Promise.all(connectors.map((c) => c.close()));
});

function runnerWith(collectors: Collector[]): CollectionRunner {
  const target = targetFor(inject('pgUrl'), { name: 'split-test' });
  const connector = new PgTargetConnector(target, silentLogger);
  connectors.push(connector);
  return new CollectionRunner({
    target: { name: 'split-test', host: target.host, port: target.port, labels: {} },
    connector,
    collectors,
    settings: () => ({ statementTimeoutMs: 10_000, deadlineMs: 10_000 }),
    collectorVersion: 'test',
    logger: silentLogger,
  });
}

const names = (b: UnifiedMetrics): string[] => b.metadata.collectors.map((c) => c.collector).sort();

describe('a group with a straggler', () => {
  it('hands over what finished before the split, and the straggler in a batch of its own', async () => {
    const runner = runnerWith([
      sleeper('quick', 0),
      sleeper('also_quick', 0.05),
      sleeper('slow', 1.5),
    ]);
    const early: { batch: UnifiedMetrics; done: readonly string[]; at: number }[] = [];
    const started = Date.now();
    const last = await runner.run(['quick', 'also_quick', 'slow'], new AbortController().signal, {
      afterMs: 500,
      early: (batch, done) => early.push({ batch, done, at: Date.now() - started }),
    });
    expect(early).toHaveLength(1);
    const first = early[0]!;
    expect([...first.done].sort()).toEqual(['also_quick', 'quick']);
    expect(names(first.batch)).toEqual(['also_quick', 'quick']);
    expect(first.batch.probes.map((p) => p.probe).sort()).toEqual(['also_quick', 'quick']);
    // Handed over at the split, not when the straggler ended.
    expect(first.at).toBeLessThan(1_200);
    expect(names(last)).toEqual(['slow']);
    expect(last.probes.map((p) => p.probe)).toEqual(['slow']);
    expect(last.metadata.collectors[0]?.success).toBe(true);
    expect(last.metadata.startedAt).toBe(first.batch.metadata.startedAt);
  });

  it('is one batch when everything finishes before the split', async () => {
    const runner = runnerWith([sleeper('quick', 0), sleeper('slow', 0.2)]);
    let earlyCalls = 0;
    const batch = await runner.run(['quick', 'slow'], new AbortController().signal, {
      afterMs: 5_000,
      early: () => (earlyCalls += 1),
    });
    expect(earlyCalls).toBe(0);
    expect(names(batch)).toEqual(['quick', 'slow']);
  });

  it('does not split when nothing has finished yet', async () => {
    const runner = runnerWith([sleeper('slow_a', 0.8), sleeper('slow_b', 0.8)]);
    let earlyCalls = 0;
    const batch = await runner.run(['slow_a', 'slow_b'], new AbortController().signal, {
      afterMs: 100,
      early: () => (earlyCalls += 1),
    });
    expect(earlyCalls).toBe(0);
    expect(names(batch)).toEqual(['slow_a', 'slow_b']);
  });
});

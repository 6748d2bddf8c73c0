import type { BlockingSession } from '../model/blocking-session.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { collectorSucceeded } from './probe-reading.js';

const M = {
  chains: defineMetric({
    name: 'postgresql.blocking.chain.count',
    unit: '{chain}',
    instrument: 'updown-counter',
    description: 'Lock-wait chains (distinct root blockers) in the latest lock-tree reading.',
  }),
  blocked: defineMetric({
    name: 'postgresql.session.blocked.count',
    unit: '{session}',
    instrument: 'updown-counter',
    description:
      'Sessions waiting on a lock another session holds, in the latest lock-tree reading.',
  }),
  maxDepth: defineMetric({
    name: 'postgresql.blocking.chain.max_depth',
    unit: '{session}',
    instrument: 'gauge',
    description:
      'Longest lock-wait chain: sessions between a root blocker and its furthest waiter (1 = blocked directly).',
  }),
} as const;

/** The edges of the newest reading: counts describe "now", not every tick of the window. */
function latestReading(edges: readonly BlockingSession[]): readonly BlockingSession[] {
  let latest = '';
  for (const e of edges) if (e.collectedAt > latest) latest = e.collectedAt;
  return edges.filter((e) => e.collectedAt === latest);
}

/**
 * blockingSessions. Counts are server-wide and reported (as 0) whenever
 * the blocking_sessions collector ran, so a resolved pile-up shows as zero, not as a stale value.
 */
export const BLOCKING_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    if (batch.blockingSessions.length > 0 || collectorSucceeded(batch, 'blocking_sessions')) {
      const edges = latestReading(batch.blockingSessions);
      sink.add(M.chains, new Set(edges.map((e) => e.rootBlockingPid)).size);
      sink.add(M.blocked, new Set(edges.map((e) => e.blockedPid)).size);
      sink.add(
        M.maxDepth,
        edges.reduce((max, e) => Math.max(max, e.depth), 0),
      );
    }
  },
};

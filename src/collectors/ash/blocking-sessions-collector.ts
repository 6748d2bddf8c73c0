import type { Collector } from '../../core/collector.js';
import { BLOCKING_SESSIONS } from '../query-performance-names.js';
import { AshConsumer } from './ash-consumer.js';
import type { AshService } from './ash-service.js';

/**
 * Lock trees the sampler read since the last run. The sampler reads them only after a tick saw
 * a session waiting on a lock, and at most every `queryPerformance.blocking.minInterval`:
 * pg_blocking_pids locks the whole lock manager, so it is never run on a quiet server.
 */
export function blockingSessionsCollector(service: AshService): Collector {
  const consumer = new AshConsumer(BLOCKING_SESSIONS, service);
  return {
    name: BLOCKING_SESSIONS,
    scope: 'server',
    description:
      'Blocking sessions: blocked and blocking pids, statements, lock, wait time, chain root and depth',
    collect(ctx) {
      // Reading advances the cursor too, so the sampler's ring does not wait for this consumer.
      const { sampler } = consumer.read(ctx);
      const databases = new Set(ctx.databases);
      const { edges, dropped } = sampler.takeBlockingEdges();
      if (dropped > 0) {
        ctx.logger.warn('lock-tree edges dropped before export', {
          target: ctx.target.name,
          dropped,
        });
      }
      return Promise.resolve({
        blockingSessions: edges.filter((e) => databases.has(e.databaseName)),
      });
    },
  };
}

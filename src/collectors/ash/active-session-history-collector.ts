import type { Collector } from '../../core/collector.js';
import type { QueryPerformanceSettings } from '../../core/config/query-performance-settings.js';
import { ACTIVE_SESSION_HISTORY } from '../query-performance-names.js';
import { activeSessionWindow, sessionsOf } from './active-session-aggregate.js';
import { AshConsumer } from './ash-consumer.js';
import type { AshService } from './ash-service.js';

/**
 * Active Session History: per export window, average active sessions by database, wait event,
 * query and state, with the sampler's heartbeat (ticks taken, failed, skipped); the sampled
 * sessions themselves when `queryPerformance.ash.rawSamples` is on.
 */
export function activeSessionHistoryCollector(
  service: AshService,
  settings: QueryPerformanceSettings,
): Collector {
  const consumer = new AshConsumer(ACTIVE_SESSION_HISTORY, service);
  return {
    name: ACTIVE_SESSION_HISTORY,
    scope: 'server',
    description:
      'Active Session History: average active sessions by wait event, query and state, from a 1 s sampler',
    collect(ctx) {
      const read = consumer.read(ctx);
      const sessions = sessionsOf(read.ticks, new Set(ctx.databases));
      const window = activeSessionWindow(read.ticks, sessions, {
        start: read.start,
        end: read.end,
        intervalMs: read.sampler.intervalMs,
      });
      if (read.lostTicks > 0) {
        ctx.logger.warn('session samples were dropped before export (buffer full)', {
          target: ctx.target.name,
          lostTicks: read.lostTicks,
        });
      }
      return Promise.resolve({
        activeSessions: [window],
        ...(settings.ash.rawSamples ? { ashSamples: sessions } : {}),
      });
    },
  };
}

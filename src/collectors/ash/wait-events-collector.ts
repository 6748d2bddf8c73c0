import type { Collector } from '../../core/collector.js';
import { CollectorUnavailableError } from '../../core/errors.js';
import type { WaitEvent } from '../../core/model/wait-event.js';
import { WAIT_EVENTS } from '../query-performance-names.js';
import type { QueryPerformanceState } from '../query-performance-state.js';
import { obfuscateSql } from '../query-text/obfuscate-sql.js';
import { sessionsOf, waitEventsFromSessions } from './active-session-aggregate.js';
import { AshConsumer } from './ash-consumer.js';
import { LiveWaitEventDescriptions } from './live-wait-event-descriptions.js';
import { waitSamplingUsable } from './wait-sampling-profile.js';

/**
 * Wait time per interval by database, query and wait event, estimated from the session
 * sampler (samples × interval) and, where pg_wait_sampling is installed, from its 10 ms
 * profile as a second, finer source. Descriptions come from pg_wait_events on 17+.
 */
export function waitEventsCollector(state: QueryPerformanceState): Collector {
  const service = state.ash;
  const consumer = new AshConsumer(WAIT_EVENTS, service);
  const profile = state.waitProfile;
  const descriptions = new LiveWaitEventDescriptions();
  return {
    name: WAIT_EVENTS,
    scope: 'server',
    description:
      'Wait events: estimated wait time by database, query and event, from ASH and pg_wait_sampling',
    async collect(ctx) {
      const target = ctx.target.name;
      const describe = await descriptions.for(ctx);
      const events: WaitEvent[] = [];
      const hasSampler = service.sampler(target) !== undefined;
      if (hasSampler) {
        const read = consumer.read(ctx);
        const sessions = sessionsOf(read.ticks, new Set(ctx.databases));
        events.push(
          ...waitEventsFromSessions(
            sessions,
            read.sampler.intervalMs,
            ctx.startedAt.toISOString(),
            describe,
          ),
        );
      }
      if (waitSamplingUsable(ctx.session.facts)) {
        const monitored = new Set(ctx.databases);
        const sampled = await profile.read(
          ctx,
          (id) => state.statements.get(target, id)?.databaseName,
        );
        for (const event of sampled) {
          if (event.databaseName !== '' && !monitored.has(event.databaseName)) continue;
          const stored =
            event.queryId === undefined ? undefined : state.texts.get(target, event.queryId);
          // The cache holds pg_stat_statements' own text, whose utility statements and comments
          // keep their constants: shown under the same policy as slow queries' texts.
          const text =
            stored === undefined || state.settings.queryText === 'none'
              ? undefined
              : state.settings.queryText === 'obfuscated'
                ? obfuscateSql(stored)
                : stored;
          const description = describe(event.waitEventType, event.waitEvent);
          events.push({
            ...event,
            ...(text === undefined ? {} : { queryText: text }),
            ...(description === undefined ? {} : { description }),
          });
        }
      } else if (!hasSampler) {
        // Neither source: say why in the batch rather than report silence.
        throw new CollectorUnavailableError(
          'needs the session sampler or the pg_wait_sampling extension',
        );
      }
      return { waitEvents: events };
    },
  };
}

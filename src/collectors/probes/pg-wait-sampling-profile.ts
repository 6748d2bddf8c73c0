import {
  extensionAtLeast,
  extensionRelation,
  isPreloaded,
  type ServerFacts,
} from '../../core/server-facts.js';
import { defineProbe } from './define-probe.js';

const EXTENSION = 'pg_wait_sampling';

/** 1.1 added queryid to the profile. */
const hasQueryId = (facts: ServerFacts): boolean => extensionAtLeast(facts, EXTENSION, '1.1');

/**
 * The wait-event profile: how many times the sampler found a backend in each wait event, per
 * query, since the profile was last reset. Off by default: the wait_events collector reads the
 * same profile as interval wait time and resets it when the role may, which would make these
 * cumulative rows restart at every one of its runs.
 * Summed over pids so the result stays small. The history view is never read: it is a ring
 * buffer of raw samples, costly to copy and overwritten anyway.
 */
export const pgWaitSamplingProfile = defineProbe({
  name: 'pg_wait_sampling_profile',
  scope: 'server',
  description:
    'pg_wait_sampling profile: wait-event samples per event and query, with the sampling period',
  retentionDays: 7,
  enabledByDefault: false,
  key: ['event_type', 'event', 'queryid'],
  columns: [
    // A sample with no wait event is a backend running on CPU, as ASH tools label it.
    { name: 'event_type', type: 'text', sql: "coalesce(event_type, 'CPU')" },
    { name: 'event', type: 'text', sql: "coalesce(event, 'CPU')" },
    // Text: a 64-bit query id does not fit a JS number. 0 when queries are not profiled.
    { name: 'queryid', type: 'text', sql: 'coalesce(queryid, 0)::text', when: hasQueryId },
    { name: 'queryid', type: 'text', sql: "'0'", when: (facts) => !hasQueryId(facts) },
    { name: 'samples', type: 'int8', sql: 'sum(count)::int8' },
    // The profile's sampling period (pg_wait_sampling.profile_period): samples × period is
    // the estimated time spent in the event, ms.
    {
      name: 'sample_period_ms',
      type: 'int8',
      sql: "current_setting('pg_wait_sampling.profile_period', true)::int8",
    },
  ],
  requires: { extension: EXTENSION },
  unavailable: (facts) =>
    isPreloaded(facts, EXTENSION) === false
      ? `${EXTENSION} is not in shared_preload_libraries (add it and restart)`
      : undefined,
  sql: (select, { facts }) =>
    `SELECT ${select} FROM ${extensionRelation(facts, EXTENSION, 'pg_wait_sampling_profile')}
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
});

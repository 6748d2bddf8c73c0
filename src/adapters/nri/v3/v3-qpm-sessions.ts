import type { BlockingSession } from '../../../core/model/blocking-session.js';
import type { WaitEvent } from '../../../core/model/wait-event.js';
import { V3_QPM_EVENT_TYPES } from './v3-qpm-event-types.js';
import {
  nriCollectionTimestamp,
  putInteger,
  putNumber,
  putText,
  rfc3339,
} from './v3-qpm-values.js';
import type { V3MetricSet } from './v3-types.js';

/**
 * `PostgresWaitEvents`: the `limit` largest waits. When the batch has pg_wait_sampling's
 * profile it is used alone (nri's source, 10 ms samples), so one wait is never counted twice
 * from both sources; otherwise the session sampler's estimate.
 *
 * nri keeps only waits with a query id. We keep the others and leave `query_id` and
 * `query_text` out: before PostgreSQL 14 (no query ids in pg_stat_activity) or with
 * compute_query_id off, every wait would otherwise vanish, and a wait with no statement
 * (e.g. a lock wait on a utility command) is still the server's time. nri's strict schema
 * requires both fields, but the agent does not validate, and NRQL facets on them simply show
 * those waits as unnamed.
 */
export function waitEventSets(events: readonly WaitEvent[], limit: number): V3MetricSet[] {
  const profiled = events.filter((e) => e.source === 'pg_wait_sampling');
  const chosen = profiled.length > 0 ? profiled : events;
  return [...chosen]
    .sort((a, b) => b.totalWaitTimeMs - a.totalWaitTimeMs)
    .slice(0, Math.max(0, limit))
    .map((e) => {
      const set: V3MetricSet = { event_type: V3_QPM_EVENT_TYPES.waitEvents };
      putText(set, 'wait_event_name', e.waitEventName);
      putText(set, 'wait_category', e.waitCategory);
      putNumber(set, 'total_wait_time_ms', e.totalWaitTimeMs);
      putText(set, 'collection_timestamp', nriCollectionTimestamp(e.collectedAt));
      if (e.queryId !== undefined) {
        putText(set, 'query_id', e.queryId);
        putText(set, 'query_text', e.queryText);
      }
      // pg_wait_sampling rows of a backend with no database carry ''.
      putText(set, 'database_name', e.databaseName === '' ? undefined : e.databaseName);
      return set;
    });
}

/**
 * `PostgresBlockingSessions`: one set per blocked → blocking edge, the `limit` whose blocked
 * statement started first (nri's `ORDER BY blocked query_start`), a start unknown last. The
 * sampler may read the same edge on several ticks between two runs; each is reported once,
 * as last seen, since nri reports one snapshot per run.
 */
export function blockingSessionSets(
  edges: readonly BlockingSession[],
  limit: number,
): V3MetricSet[] {
  const latest = new Map<string, BlockingSession>();
  for (const e of edges) {
    const key = `${e.databaseName}\u0000${e.blockedPid}\u0000${e.blockingPid}\u0000${e.blockedQueryStart ?? ''}`;
    const known = latest.get(key);
    if (known === undefined || Date.parse(e.collectedAt) >= Date.parse(known.collectedAt)) {
      latest.set(key, e);
    }
  }
  const start = (e: BlockingSession): number => {
    const ms = e.blockedQueryStart === undefined ? NaN : Date.parse(e.blockedQueryStart);
    return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
  };
  return [...latest.values()]
    .sort((a, b) => start(a) - start(b) || a.blockedPid - b.blockedPid)
    .slice(0, Math.max(0, limit))
    .map((e) => {
      const set: V3MetricSet = { event_type: V3_QPM_EVENT_TYPES.blockingSessions };
      putInteger(set, 'blocked_pid', e.blockedPid);
      putText(set, 'blocked_query', e.blockedQuery);
      putText(set, 'blocked_query_id', e.blockedQueryId);
      putText(set, 'blocked_query_start', startOf(e.blockedQueryStart));
      putText(set, 'database_name', e.databaseName);
      putInteger(set, 'blocking_pid', e.blockingPid);
      putText(set, 'blocking_query', e.blockingQuery);
      putText(set, 'blocking_query_id', e.blockingQueryId);
      putText(set, 'blocking_query_start', startOf(e.blockingQueryStart));
      return set;
    });
}

function startOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : rfc3339(value);
}

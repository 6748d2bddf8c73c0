import type { ActiveSessionWindow } from '../model/active-session-window.js';
import type { WaitEvent } from '../model/wait-event.js';
import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import type { PointSink } from './point-sink.js';
import { secondsBetween } from './probe-reading.js';

const WAIT = [ATTR.dbNamespace, ATTR.waitEventType, ATTR.waitEvent];

const M = {
  loadAverage: defineMetric({
    name: 'postgresql.session.load_average',
    unit: '{session}',
    instrument: 'gauge',
    integer: false,
    description:
      'Average active sessions (ASH) over the sampler window, by database, wait event type (CPU when on CPU), wait event and state.',
    attributes: [...WAIT, ATTR.sessionState],
  }),
  waitTime: defineMetric({
    name: 'postgresql.wait.time',
    unit: 's',
    instrument: 'counter',
    temporality: 'delta',
    integer: false,
    description:
      'Estimated time sessions spent in a wait event during the interval (samples × sampling period), by database and event.',
    attributes: WAIT,
  }),
} as const;

/** Weight of a window: its length, or what its ticks covered when the bounds are unusable. */
function windowMs(window: ActiveSessionWindow): number {
  const seconds = secondsBetween(window.windowStart, window.windowEnd);
  if (seconds !== undefined && seconds > 0) return seconds * 1000;
  return window.ticks * window.sampleIntervalMs;
}

/**
 * Average active sessions, per (database, wait, state) over every window of the batch that
 * sampled at least once, weighted by window length; query ids are summed away (they belong to
 * events, not series). Windows without a tick are an outage, not an idle server: left out.
 */
function deriveLoadAverage(windows: readonly ActiveSessionWindow[], sink: PointSink): void {
  const sums = new Map<string, { attrs: Record<string, string>; weighted: number }>();
  let totalMs = 0;
  for (const window of windows) {
    const ms = windowMs(window);
    if (window.ticks <= 0 || !(ms > 0)) continue;
    totalMs += ms;
    for (const b of window.buckets) {
      const key = JSON.stringify([b.databaseName, b.waitEventType, b.waitEvent, b.state]);
      const entry = sums.get(key) ?? {
        attrs: {
          [ATTR.dbNamespace]: b.databaseName,
          [ATTR.waitEventType]: b.waitEventType,
          [ATTR.waitEvent]: b.waitEvent,
          [ATTR.sessionState]: b.state,
        },
        weighted: 0,
      };
      entry.weighted += b.averageActiveSessions * ms;
      sums.set(key, entry);
    }
  }
  if (totalMs <= 0) return;
  for (const { attrs, weighted } of sums.values()) {
    const database = attrs[ATTR.dbNamespace] ?? '';
    sink.add(
      M.loadAverage,
      weighted / totalMs,
      attrs,
      database === '' ? {} : { object: { database } },
    );
  }
}

/**
 * Wait time per (database, type, event), summed over queries. When pg_wait_sampling reported,
 * its finer 10 ms profile is used alone: adding the sampler's estimate would count waits twice.
 */
function deriveWaitTime(events: readonly WaitEvent[], sink: PointSink): void {
  const finer = events.some((e) => e.source === 'pg_wait_sampling');
  const sums = new Map<string, { attrs: Record<string, string>; ms: number }>();
  for (const e of events) {
    if (finer && e.source !== 'pg_wait_sampling') continue;
    const key = JSON.stringify([e.databaseName, e.waitEventType, e.waitEvent]);
    const entry = sums.get(key) ?? {
      attrs: {
        [ATTR.dbNamespace]: e.databaseName,
        [ATTR.waitEventType]: e.waitEventType,
        [ATTR.waitEvent]: e.waitEvent,
      },
      ms: 0,
    };
    entry.ms += e.totalWaitTimeMs;
    sums.set(key, entry);
  }
  for (const { attrs, ms } of sums.values()) {
    const database = attrs[ATTR.dbNamespace] ?? '';
    sink.add(M.waitTime, ms / 1000, attrs, database === '' ? {} : { object: { database } });
  }
}

/** activeSessions (ASH windows) and waitEvents. */
export const SESSION_HISTORY_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    deriveLoadAverage(batch.activeSessions, sink);
    deriveWaitTime(batch.waitEvents, sink);
  },
};

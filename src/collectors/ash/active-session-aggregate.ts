import type {
  ActiveSessionBucket,
  ActiveSessionWindow,
} from '../../core/model/active-session-window.js';
import type { AshSample } from '../../core/model/ash-sample.js';
import type { WaitEvent } from '../../core/model/wait-event.js';
import type { AshTick } from './ash-ring.js';
import { waitCategory, waitEventDescription } from './wait-event-catalog.js';

/** Sessions of the monitored databases in ticks that read the server. */
export function sessionsOf(ticks: readonly AshTick[], databases: ReadonlySet<string>): AshSample[] {
  const out: AshSample[] = [];
  for (const tick of ticks) {
    if (tick.status !== 'ok') continue;
    for (const s of tick.sessions) {
      if (s.databaseName !== undefined && databases.has(s.databaseName)) out.push(s);
    }
  }
  return out;
}

/**
 * Average active sessions over a window. AAS is samples ÷ ticks that read the server, i.e.
 * samples × interval ÷ the time actually observed: a window with a sampler outage is not
 * diluted by the seconds nobody looked.
 */
export function activeSessionWindow(
  ticks: readonly AshTick[],
  sessions: readonly AshSample[],
  window: { readonly start: number; readonly end: number; readonly intervalMs: number },
): ActiveSessionWindow {
  const okTicks = ticks.filter((t) => t.status === 'ok').length;
  const aas = (samples: number): number => (okTicks === 0 ? 0 : round(samples / okTicks));
  const buckets = new Map<
    string,
    { bucket: Omit<ActiveSessionBucket, 'samples' | 'averageActiveSessions'>; samples: number }
  >();
  for (const s of sessions) {
    const key = [s.databaseName, s.waitEventType, s.waitEvent, s.queryId ?? '', s.state].join(
      '\u0000',
    );
    const entry = buckets.get(key);
    if (entry !== undefined) {
      entry.samples++;
      continue;
    }
    buckets.set(key, {
      bucket: {
        databaseName: s.databaseName ?? '',
        waitEventType: s.waitEventType,
        waitEvent: s.waitEvent,
        ...(s.queryId === undefined ? {} : { queryId: s.queryId }),
        state: s.state,
      },
      samples: 1,
    });
  }
  return {
    windowStart: new Date(window.start).toISOString(),
    windowEnd: new Date(window.end).toISOString(),
    sampleIntervalMs: window.intervalMs,
    ticks: okTicks,
    failedTicks: ticks.filter((t) => t.status === 'failed').length,
    skippedTicks: ticks.filter((t) => t.status === 'skipped').length,
    samples: sessions.length,
    averageActiveSessions: aas(sessions.length),
    buckets: [...buckets.values()]
      .map(({ bucket, samples }) => ({ ...bucket, samples, averageActiveSessions: aas(samples) }))
      .sort((a, b) => b.samples - a.samples),
  };
}

/**
 * Estimated wait time by (database, query, wait event): samples × interval. Only running
 * statements count; a session idle in a transaction is visible in the ASH buckets, but its
 * ClientRead is the application's time, not a statement's wait.
 */
export function waitEventsFromSessions(
  sessions: readonly AshSample[],
  intervalMs: number,
  collectedAt: string,
  describe: (type: string, event: string) => string | undefined = waitEventDescription,
): WaitEvent[] {
  const groups = new Map<string, { first: AshSample; samples: number }>();
  for (const s of sessions) {
    if (s.state !== 'active') continue;
    const key = [s.databaseName, s.queryId ?? '', s.waitEventType, s.waitEvent].join('\u0000');
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { first: s, samples: 1 });
    else group.samples++;
  }
  return [...groups.values()]
    .map(({ first: s, samples }) => {
      const description = describe(s.waitEventType, s.waitEvent);
      return {
        databaseName: s.databaseName ?? '',
        ...(s.queryId === undefined ? {} : { queryId: s.queryId }),
        ...(s.query === undefined ? {} : { queryText: s.query }),
        waitEventType: s.waitEventType,
        waitEvent: s.waitEvent,
        waitEventName: `${s.waitEventType}:${s.waitEvent}`,
        waitCategory: waitCategory(s.waitEventType),
        totalWaitTimeMs: samples * intervalMs,
        sampleCount: samples,
        ...(description === undefined ? {} : { description }),
        source: 'ash' as const,
        collectedAt,
      };
    })
    .sort((a, b) => b.totalWaitTimeMs - a.totalWaitTimeMs);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

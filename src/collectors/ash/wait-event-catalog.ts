import type { WaitCategory } from '../../core/model/wait-event.js';
import { WAIT_EVENT_DESCRIPTIONS } from './wait-event-descriptions.js';

export type { WaitCategory };

/** First major with `pg_wait_events`; older servers get the shipped table only. */
export const WAIT_EVENTS_VIEW_MIN_MAJOR = 17;

// Our own labels for sessions PostgreSQL reports no wait event for; no server describes them.
const LABEL_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  ['CPU:CPU', 'Running on CPU, or in a code path PostgreSQL does not instrument with a wait event'],
  ['IdleTx:IdleTx', 'Idle in transaction: holding a transaction open without running a statement'],
]);

/**
 * nri-postgresql's grouping of a `wait_event_type`: heavyweight and lightweight locks are
 * `Locks`, `IO` is `Disk IO`, our `CPU` label is `CPU`, everything else `Other`.
 */
export function waitCategory(waitEventType: string): WaitCategory {
  switch (waitEventType) {
    case 'Lock':
    case 'LWLock':
      return 'Locks';
    case 'IO':
      return 'Disk IO';
    case 'CPU':
      return 'CPU';
    default:
      return 'Other';
  }
}

/**
 * Description from the shipped table (PostgreSQL 17/18 text; 12-16 names included), or of
 * our CPU / IdleTx labels. Undefined for extension-defined and unknown events.
 */
export function waitEventDescription(type: string, name: string): string | undefined {
  const key = `${type}:${name}`;
  return LABEL_DESCRIPTIONS.get(key) ?? WAIT_EVENT_DESCRIPTIONS.get(key);
}

/** Reads the server's own descriptions; only on `WAIT_EVENTS_VIEW_MIN_MAJOR` and later. */
export function waitEventsSql(): string {
  return 'SELECT type, name, description FROM pg_catalog.pg_wait_events';
}

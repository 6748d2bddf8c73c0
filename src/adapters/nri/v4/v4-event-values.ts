import {
  V4_EVENT_CATEGORY,
  V4_MAX_ATTRIBUTE_LENGTH,
  type V4AttributeValue,
  type V4Event,
} from './v4-types.js';

/** Attributes as builders write them: undefined means "not known", and is left out. */
export type EventAttributes = Record<string, V4AttributeValue | undefined>;

/** An event with the database it is about (routed to that database's entity), if any. */
export interface RoutedEvent {
  readonly event: V4Event;
  readonly database?: string;
}

/** `text`, cut to `max` characters with an ellipsis when longer. */
export function capText(text: string, max = V4_MAX_ATTRIBUTE_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A protocol 4 event: flat scalar attributes (undefined, empty strings and non-finite numbers
 * dropped, strings capped), category `postgresql`, and every event saying what system it is.
 */
export function postgresEvent(
  summary: string,
  eventName: string,
  attributes: EventAttributes,
): V4Event {
  const flat: Record<string, V4AttributeValue> = {
    'event.name': eventName,
    'db.system.name': 'postgresql',
  };
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === '') continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    flat[key] = typeof value === 'string' ? capText(value) : value;
  }
  return { summary: capText(summary), category: V4_EVENT_CATEGORY, attributes: flat };
}

/** A duration for people: `0.042 ms`, `4.2 ms`, `18.0 ms`, `2.35 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  const abs = Math.abs(ms);
  if (abs >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return abs > 0 && abs < 1 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(1)} ms`;
}

/** `1 call`, `6 calls`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** ` in <db>` for summaries, nothing when the database is unknown. */
export function inDatabase(database: string): string {
  return database === '' ? '' : ` in ${database}`;
}

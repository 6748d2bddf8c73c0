/** Wait categories as nri-postgresql groups them. */
export type WaitCategory = 'Locks' | 'Disk IO' | 'CPU' | 'Other';

/** Estimated time spent in one wait event over one interval, from session samples. */
export interface WaitEvent {
  /** Database of the waiting sessions. */
  readonly databaseName: string;
  /** Statement that waited, when the server computes query ids. */
  readonly queryId?: string;
  /** Normalised statement text, when known. */
  readonly queryText?: string;
  /** `wait_event_type`, or `CPU` for an active session with no wait. */
  readonly waitEventType: string;
  /** `wait_event`, or `CPU` for an active session with no wait. */
  readonly waitEvent: string;
  /** `<type>:<event>`, nri-postgresql's `wait_event_name`. */
  readonly waitEventName: string;
  /** Coarse category. */
  readonly waitCategory: WaitCategory;
  /** Samples × sample interval, in ms (`total_wait_time_ms`). */
  readonly totalWaitTimeMs: number;
  /** How many samples saw the wait. */
  readonly sampleCount: number;
  /** Human description (`pg_wait_events` on PG17+, a shipped table before). */
  readonly description?: string;
  /** Where the estimate came from. */
  readonly source: 'ash' | 'pg_wait_sampling';
  /** End of the interval (ISO-8601, UTC). */
  readonly collectedAt: string;
}

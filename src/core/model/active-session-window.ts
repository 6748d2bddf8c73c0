/** Average active sessions of one (database, wait, query, state) over one window. */
export interface ActiveSessionBucket {
  readonly databaseName: string;
  /** `wait_event_type`, or `CPU` for an active session with no wait event, `IdleTx` when idle in a transaction. */
  readonly waitEventType: string;
  readonly waitEvent: string;
  readonly queryId?: string;
  /** `active`, `idle in transaction`, … */
  readonly state: string;
  /** Sessions seen in that bucket, summed over the window's ticks. */
  readonly samples: number;
  /** samples × sample interval ÷ window length (Oracle's AAS). */
  readonly averageActiveSessions: number;
}

/**
 * What the session sampler saw over one export window. Ticks are counted separately from
 * sessions, so an idle window (ticks, no sessions) and a sampler outage (no ticks) differ.
 */
export interface ActiveSessionWindow {
  /** Start and end of the window (ISO-8601, UTC). */
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Sampler cadence, ms. */
  readonly sampleIntervalMs: number;
  /** Ticks that read the server. */
  readonly ticks: number;
  /** Ticks that failed (server down, timeout). */
  readonly failedTicks: number;
  /** Ticks not taken because the previous one was still running. */
  readonly skippedTicks: number;
  /** Sessions seen over the window. */
  readonly samples: number;
  /** Average active sessions over the whole window, all buckets together. */
  readonly averageActiveSessions: number;
  /** Per (database, wait event, query id, state), busiest first. */
  readonly buckets: readonly ActiveSessionBucket[];
}

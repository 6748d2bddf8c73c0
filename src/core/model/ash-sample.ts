/** One session seen by one Active Session History tick. */
export interface AshSample {
  /** Tick time (ISO-8601, UTC). */
  readonly sampledAt: string;
  /** Sampler cadence, so average active sessions = samples × interval / window. */
  readonly sampleIntervalMs: number;
  readonly pid: number;
  /** With pid, identifies a session across pid reuse. */
  readonly backendStart?: string;
  readonly databaseName?: string;
  readonly userName?: string;
  readonly applicationName?: string;
  readonly clientAddr?: string;
  readonly backendType?: string;
  /** `active`, `idle in transaction`, … */
  readonly state: string;
  /** `CPU` for an active session without a wait event; `IdleTx` idle in a transaction without one. */
  readonly waitEventType: string;
  readonly waitEvent: string;
  readonly queryId?: string;
  /** Parallel-query leader (PG13+). */
  readonly leaderPid?: number;
  readonly xactStart?: string;
  readonly queryStart?: string;
  readonly stateChange?: string;
  /** Statement text as configured (obfuscated by default), cut to the configured length. */
  readonly query?: string;
  /** True when the server or pgquerylens cut the text. */
  readonly queryTruncated?: boolean;
}

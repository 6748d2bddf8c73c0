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
  /** `CPU*` for an active session without a wait event; `IdleTx` for idle in transaction. */
  readonly waitEventType: string;
  readonly waitEvent: string;
  readonly queryId?: string;
  /** Parallel-query leader (PG13+). */
  readonly leaderPid?: number;
  readonly xactStart?: string;
  readonly queryStart?: string;
  readonly stateChange?: string;
  /** Obfuscated statement text, truncated. */
  readonly query?: string;
}

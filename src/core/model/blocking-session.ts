/** One blocked → blocking edge of a lock-wait tree. */
export interface BlockingSession {
  /** Database of the blocked session. */
  readonly databaseName: string;
  /** The waiting backend. */
  readonly blockedPid: number;
  /** Its statement, obfuscated. */
  readonly blockedQuery: string;
  readonly blockedQueryId?: string;
  /** When its statement started (ISO-8601). */
  readonly blockedQueryStart?: string;
  /** The backend holding the lock (0 for a prepared transaction). */
  readonly blockingPid: number;
  /** Its current or last statement, obfuscated. */
  readonly blockingQuery: string;
  readonly blockingQueryId?: string;
  readonly blockingQueryStart?: string;
  /** State of the blocker, e.g. `idle in transaction`. */
  readonly blockingState?: string;
  /** Age of the blocker's transaction, ms. */
  readonly blockingXactAgeMs?: number;
  /** `pg_locks.locktype` and `mode` of the ungranted lock. */
  readonly lockType?: string;
  readonly lockMode?: string;
  /** Relation the lock is on, when it is a relation lock. */
  readonly relation?: string;
  /** How long the blocked session has waited, ms (PG14+ `waitstart`). */
  readonly blockedForMs?: number;
  /** Head of the chain this edge belongs to. */
  readonly rootBlockingPid: number;
  /** Distance from the root (1 = blocked directly by the root). */
  readonly depth: number;
  /** When the edge was observed (ISO-8601, UTC). */
  readonly collectedAt: string;
}

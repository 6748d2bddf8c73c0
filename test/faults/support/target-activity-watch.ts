import pg from 'pg';

/** One look at the collector's sessions running a given statement. */
export interface ActivityLook {
  readonly at: number;
  /** Sessions per database. */
  readonly byDatabase: ReadonlyMap<string, number>;
  /** Sessions waiting on a heavyweight lock. */
  readonly waitingOnLock: number;
}

/**
 * Polls pg_stat_activity for active sessions of `applicationName` whose statement contains
 * `statementFragment`, to see how many run at once (never more than one per database, for a
 * collector that must not overlap itself) and whether they really wait on a lock.
 */
export class ActivityWatch {
  readonly looks: ActivityLook[] = [];
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #error: Error | undefined;

  private constructor(
    private readonly client: pg.Client,
    private readonly applicationName: string,
    private readonly statementFragment: string,
  ) {}

  static async start(
    serverUrl: string,
    applicationName: string,
    statementFragment: string,
    everyMs = 150,
  ): Promise<ActivityWatch> {
    const client = new pg.Client({ connectionString: serverUrl, application_name: 'fault-watch' });
    await client.connect();
    const watch = new ActivityWatch(client, applicationName, statementFragment);
    watch.#timer = setInterval(() => void watch.#look(), everyMs);
    return watch;
  }

  /** Most sessions seen at once in `database`. */
  maxConcurrent(database: string): number {
    return Math.max(0, ...this.looks.map((l) => l.byDatabase.get(database) ?? 0));
  }

  /** Looks that saw a session waiting on a lock. */
  lockWaits(): number {
    return this.looks.filter((l) => l.waitingOnLock > 0).length;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#busy) await new Promise((r) => setTimeout(r, 20));
    await this.client.end();
    if (this.#error !== undefined) throw this.#error;
  }

  async #look(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const { rows } = await this.client.query<{ datname: string; lock: boolean }>(
        `SELECT datname, wait_event_type IS NOT DISTINCT FROM 'Lock' AS lock
           FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid()
            AND strpos(query, $2) > 0`,
        [this.applicationName, this.statementFragment],
      );
      const byDatabase = new Map<string, number>();
      for (const r of rows) byDatabase.set(r.datname, (byDatabase.get(r.datname) ?? 0) + 1);
      this.looks.push({
        at: Date.now(),
        byDatabase,
        waitingOnLock: rows.filter((r) => r.lock).length,
      });
    } catch (err) {
      this.#error ??= err instanceof Error ? err : new Error('reading pg_stat_activity failed');
    } finally {
      this.#busy = false;
    }
  }
}

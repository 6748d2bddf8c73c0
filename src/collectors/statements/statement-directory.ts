/** What is known about a statement of a server, from its pg_stat_statements entries. */
export interface StatementInfo {
  readonly databaseName: string;
}

/**
 * queryid → database per target, filled by the slow-queries collector from each snapshot, so
 * wait events from pg_wait_sampling (which has no database) can name the statement's database;
 * its text is in the shared text cache. Bounded per target; the oldest entries go first.
 */
export class StatementDirectory {
  readonly #maxPerTarget: number;
  readonly #byTarget = new Map<string, Map<string, StatementInfo>>();

  constructor(maxPerTarget = 50_000) {
    this.#maxPerTarget = maxPerTarget;
  }

  set(target: string, queryId: string, info: StatementInfo): void {
    let map = this.#byTarget.get(target);
    if (map === undefined) {
      map = new Map();
      this.#byTarget.set(target, map);
    }
    map.delete(queryId);
    map.set(queryId, info);
    if (map.size > this.#maxPerTarget) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }

  get(target: string, queryId: string): StatementInfo | undefined {
    return this.#byTarget.get(target)?.get(queryId);
  }

  forgetTarget(target: string): void {
    this.#byTarget.delete(target);
  }
}

import pg from 'pg';

/** Identifier in every workload statement: obfuscation keeps identifiers, drops literals. */
export const LEAK_MARKER = 'pgql_leak_marker';

/** The sentinel as a SQL string literal (it holds no quote, checked here). */
function literal(sentinel: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(sentinel)) throw new Error('sentinel must be [A-Za-z0-9-]');
  return `'${sentinel}'`;
}

/** Tables and data the workload reads; run once as a superuser on the monitored database. */
export function workloadSetupSql(sentinel: string): string {
  return `CREATE TABLE leak_t (id int PRIMARY KEY, secret text NOT NULL, v int NOT NULL DEFAULT 0);
          INSERT INTO leak_t SELECT g, 'row-' || g, 0 FROM generate_series(1, 50) g;
          INSERT INTO leak_t VALUES (0, ${literal(sentinel)}, 0);
          ANALYZE leak_t;`;
}

/**
 * Statements that carry the sentinel in their text, running while a collector watches, so
 * that every path that reads statement texts sees it: pg_stat_statements (a utility
 * statement keeps its constants, a comment is kept as first seen), session sampling (a
 * literal in a running query), plan capture (a literal in a condition on a table) and
 * blocking chains (both sides of a row lock).
 */
export class SentinelWorkload {
  #running = true;
  readonly #loops: Promise<void>[] = [];
  readonly #clients: pg.Client[] = [];
  /** Statements that completed, so a test can tell the workload really ran. */
  completed = 0;

  private constructor(private readonly url: string) {}

  static async start(url: string, sentinel: string, role: string): Promise<SentinelWorkload> {
    const w = new SentinelWorkload(url);
    const s = literal(sentinel);
    const [a, b, holder, waiter] = await Promise.all([
      w.#client(),
      w.#client(),
      w.#client(),
      w.#client(),
    ]);
    w.#loop(async () => {
      await a.query(`ALTER ROLE ${role} PASSWORD ${s}`);
      await a.query(`SELECT pg_sleep(1.1), ${s}::text AS ${LEAK_MARKER}`);
    });
    w.#loop(async () => {
      await b.query(
        `SELECT count(*) AS ${LEAK_MARKER} FROM leak_t, pg_sleep(0.7) WHERE secret = ${s}`,
      );
    });
    w.#loop(async () => {
      try {
        await holder.query('BEGIN');
        await holder.query(`UPDATE leak_t SET v = v + 1 WHERE secret = ${s}`);
        const blocked = waiter
          .query(`UPDATE leak_t SET v = v - 1 WHERE secret = ${s} /* ${sentinel} ${LEAK_MARKER} */`)
          .then(() => undefined);
        // Never an unhandled rejection, whatever happens to the holder meanwhile.
        blocked.catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1_500));
        await holder.query('COMMIT');
        await blocked;
      } catch (err) {
        await holder.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    return w;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    await Promise.all(this.#clients.map((c) => c.end().catch(() => undefined)));
  }

  async #client(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'pgql-fault-workload',
    });
    client.on('error', () => undefined);
    await client.connect();
    this.#clients.push(client);
    return client;
  }

  #loop(step: () => Promise<void>): void {
    this.#loops.push(
      (async () => {
        while (this.#running) {
          try {
            await step();
            this.completed += 1;
          } catch {
            // A statement cut by stop(), or the role being altered under a session: go on.
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      })(),
    );
  }
}

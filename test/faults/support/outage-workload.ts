import pg from 'pg';

/**
 * Sessions that keep the monitored server busy, so the query-performance collectors have
 * something to report every cycle: `sleepers` sessions always active in pg_sleep (one Active
 * Session History sample each per tick) and one session running a few distinct statements
 * (top-query events). Statements carry the application name so a DBA can tell them apart.
 */
export class OutageWorkload {
  readonly #clients: pg.Client[] = [];
  readonly #loops: Promise<void>[] = [];
  #stopped = false;

  private constructor() {}

  static async start(url: string, sleepers: number): Promise<OutageWorkload> {
    const w = new OutageWorkload();
    try {
      for (let i = 0; i <= sleepers; i++) {
        const client = new pg.Client({
          connectionString: url,
          application_name: 'pgquerylens-fault-workload',
        });
        // A session ended by the server (another test's cleanup) must not crash the run.
        client.on('error', () => undefined);
        await client.connect();
        w.#clients.push(client);
        w.#loops.push(i === 0 ? w.#statements(client) : w.#sleep(client));
      }
    } catch (err) {
      await w.stop();
      throw err;
    }
    return w;
  }

  async #sleep(client: pg.Client): Promise<void> {
    while (!this.#stopped) {
      await client.query('SELECT pg_sleep(0.5)').catch(() => undefined);
    }
  }

  async #statements(client: pg.Client): Promise<void> {
    while (!this.#stopped) {
      // Different shapes are different pg_stat_statements entries (literals are normalised).
      for (let n = 1; n <= 5 && !this.#stopped; n++) {
        const columns = Array.from({ length: n }, (_, i) => `g + ${i}`).join(', ');
        await client
          .query(`SELECT ${columns} FROM generate_series(1, 200) g ORDER BY 1 DESC LIMIT 3`)
          .catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    await Promise.all(this.#clients.map((c) => c.end().catch(() => undefined)));
  }
}

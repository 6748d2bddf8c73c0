import pg from 'pg';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { sleep } from '../../core/timeout.js';

const SETUP = `
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE IF NOT EXISTS demo_customer (id serial PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS demo_order (id bigserial PRIMARY KEY, customer_id int REFERENCES demo_customer, amount numeric(10,2), status text, created_at timestamptz DEFAULT now());
CREATE INDEX IF NOT EXISTS demo_order_customer ON demo_order (customer_id);
INSERT INTO demo_customer (name) SELECT 'customer ' || g FROM generate_series(1, 200) g
  WHERE NOT EXISTS (SELECT 1 FROM demo_customer);`;

/**
 * A light, varied load so the embedded demo has something to show: short OLTP statements, a
 * report query, an occasional idle-in-transaction session. A few statements a second at most.
 */
export class DemoWorkload {
  readonly #pool: pg.Pool;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(url: string, logger: Logger) {
    this.#pool = new pg.Pool({
      connectionString: url,
      max: 3,
      application_name: 'pgquerylens-demo-workload',
    });
    this.#pool.on('error', () => undefined);
    this.#logger = logger;
  }

  async start(): Promise<void> {
    await this.#pool.query(SETUP);
    const signal = this.#stop.signal;
    this.#loops = [
      this.#loop(
        'oltp',
        200,
        async () => {
          const customer = 1 + Math.floor(Math.random() * 200);
          await this.#pool.query(
            "INSERT INTO demo_order (customer_id, amount, status) VALUES ($1, $2, 'new')",
            [customer, (Math.random() * 500).toFixed(2)],
          );
          await this.#pool.query(
            'SELECT * FROM demo_order WHERE customer_id = $1 ORDER BY id DESC LIMIT 10',
            [customer],
          );
          await this.#pool.query(
            "UPDATE demo_order SET status = 'paid' WHERE id = (SELECT max(id) FROM demo_order WHERE customer_id = $1)",
            [customer],
          );
        },
        signal,
      ),
      this.#loop(
        'report',
        3_000,
        async () => {
          await this.#pool.query(
            `SELECT c.name, count(*), sum(o.amount) FROM demo_order o JOIN demo_customer c ON c.id = o.customer_id
            GROUP BY c.name ORDER BY 3 DESC NULLS LAST LIMIT 5`,
          );
          await this.#pool.query('SELECT pg_sleep(0.3)');
        },
        signal,
      ),
      this.#loop(
        'idle-in-transaction',
        10_000,
        async () => {
          const client = await this.#pool.connect();
          try {
            await client.query('BEGIN');
            await client.query('SELECT count(*) FROM demo_customer');
            await sleep(2_000, signal);
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        },
        signal,
      ),
    ];
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
    await this.#pool.end();
  }

  async #loop(
    name: string,
    everyMs: number,
    step: () => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    while (!signal.aborted) {
      try {
        await step();
      } catch (err) {
        if (!signal.aborted)
          this.#logger.debug('demo workload step failed', { step: name, err: errorMessage(err) });
      }
      await sleep(everyMs, signal);
    }
  }
}

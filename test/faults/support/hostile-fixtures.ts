import pg from 'pg';
import { sleep } from '../../../src/core/timeout.js';

/** `"name"` with embedded double quotes doubled: a quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'text'` with embedded single quotes doubled (standard_conforming_strings is on). */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Names a careless or hostile DBA gives things: quotes of both kinds, spaces, dots,
 * backslashes, tabs and newlines, accents, CJK, emoji. All within 63 bytes (NAMEDATALEN).
 */
export const HOSTILE_DATABASES = [
  'Zürich "prod".db',
  '日本',
  "🐘 it's \\back\\slash",
  'tab\there\nnewline',
] as const;

export const HOSTILE_SCHEMAS = ['Schéma "x".y', '日本 語', "back\\slash 'q'"] as const;

export const HOSTILE_TABLES = [`Tâble 'q' "dq"`, '🐘.emoji', 'line\nbreak\ttab'] as const;

export const HOSTILE_FUNCTION = 'fn "x" ü';

/** A login role with a hostile name, so session samples carry it as the user. */
export const HOSTILE_ROLE = `Rôle "weird" 'x' 🐘`;
export const HOSTILE_ROLE_PASSWORD = 'hostile-Role-pw-31';

/** Application names of the workload's sessions (ASH and pg_stat_activity carry them). */
export const HOSTILE_APPLICATION = 'app "x" 🐘\\ é';

/** Every (database, schema, table) created, for round-trip checks. */
export function hostileTables(): { database: string; schema: string; table: string }[] {
  return HOSTILE_DATABASES.flatMap((database) =>
    HOSTILE_SCHEMAS.flatMap((schema) =>
      HOSTILE_TABLES.map((table) => ({ database, schema, table })),
    ),
  );
}

export function urlFor(
  serverUrl: string,
  database: string,
  user?: string,
  password?: string,
): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (user !== undefined) url.username = encodeURIComponent(user);
  if (password !== undefined) url.password = encodeURIComponent(password);
  return url.toString();
}

/** Client config for `database` (pg's URL parser would not decode every name back). */
export function clientConfig(
  serverUrl: string,
  database: string,
  as?: { user: string; password: string },
): pg.ClientConfig {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: Number(url.port),
    user: as?.user ?? decodeURIComponent(url.username),
    password: as?.password ?? decodeURIComponent(url.password),
    database,
    application_name: HOSTILE_APPLICATION,
  };
}

async function withClient<T>(
  config: pg.ClientConfig,
  work: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the hostile role and databases; in each, the schemas, tables (with a hostile serial
 * column and index), a function, and pg_stat_statements.
 */
export async function createHostileObjects(serverUrl: string): Promise<void> {
  await withClient(clientConfig(serverUrl, 'postgres'), async (c) => {
    await c.query(
      `CREATE ROLE ${ident(HOSTILE_ROLE)} LOGIN PASSWORD ${literal(HOSTILE_ROLE_PASSWORD)}`,
    );
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    for (const db of HOSTILE_DATABASES) await c.query(`CREATE DATABASE ${ident(db)}`);
  });
  for (const db of HOSTILE_DATABASES) {
    await withClient(clientConfig(serverUrl, db), async (c) => {
      const statements = ['CREATE EXTENSION IF NOT EXISTS pg_stat_statements'];
      for (const schema of HOSTILE_SCHEMAS) {
        statements.push(
          `CREATE SCHEMA ${ident(schema)}`,
          `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(HOSTILE_ROLE)}`,
          `CREATE FUNCTION ${ident(schema)}.${ident(HOSTILE_FUNCTION)}(x int) RETURNS int
             LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$`,
        );
        for (const table of HOSTILE_TABLES) {
          const t = `${ident(schema)}.${ident(table)}`;
          statements.push(
            `CREATE TABLE ${t} (${ident('id "é"')} serial PRIMARY KEY, ${ident('v\\al')} float8,
               ${ident('note 日本')} text)`,
            `CREATE INDEX ${ident(`${table} idx "i"`)} ON ${t} (${ident('v\\al')})`,
            `INSERT INTO ${t} (${ident('v\\al')}, ${ident('note 日本')})
               SELECT CASE g % 4 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN 'Infinity'::float8
                                 WHEN 2 THEN '-Infinity'::float8 ELSE g END,
                      E'ctl \\x01\\x07\\x1b é 日本 🐘 \\u2028 \\ufeff ' || g
                 FROM generate_series(1, 200) g`,
            `GRANT ALL ON ${t} TO ${ident(HOSTILE_ROLE)}`,
            `ANALYZE ${t}`,
          );
        }
      }
      statements.push(`GRANT ALL ON ALL SEQUENCES IN SCHEMA ${HOSTILE_SCHEMAS.map(ident).join(', ')}
                         TO ${ident(HOSTILE_ROLE)}`);
      for (const sql of statements) await c.query(sql);
    });
  }
}

/** About 1 MB of text that is valid UTF-8 but no friend of a parser or an escaper. */
export function hostileMegabyte(): string {
  const piece = `é日本🐘 \\ ' " \t \u0001\u0007\u001b \u2028\u2029 \ufeff \\uD800 \\u0000 %s %n $1 ;`;
  return piece.repeat(Math.ceil(1_048_576 / Buffer.byteLength(piece))).slice(0, 700_000);
}

/**
 * Keeps every hostile database busy until stopped: reads and writes on every table, calls of the
 * functions, statements with weird literals, a 1 MB statement that pg_stat_statements records
 * (its text is a comment, which normalisation keeps) running long enough for the session
 * sampler to see it, and a lock queue (one session holding a table, another waiting).
 */
export class HostileWorkload {
  #running = true;
  readonly #loops: Promise<void>[] = [];
  readonly #errors: string[] = [];

  constructor(private readonly serverUrl: string) {}

  start(): void {
    for (const db of HOSTILE_DATABASES) {
      this.#loops.push(this.#loop(db, false), this.#loop(db, true));
    }
    this.#loops.push(this.#bigStatements(), this.#lockQueue());
  }

  /** Unexpected workload errors (the workload itself must work for the test to mean much). */
  get errors(): readonly string[] {
    return this.#errors;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(db: string, asHostileRole: boolean): Promise<void> {
    await this.#guard(db, async () => {
      const config = clientConfig(
        this.serverUrl,
        db,
        asHostileRole ? { user: HOSTILE_ROLE, password: HOSTILE_ROLE_PASSWORD } : undefined,
      );
      await withClient(config, async (c) => {
        let i = 0;
        while (this.#running) {
          i += 1;
          for (const schema of HOSTILE_SCHEMAS) {
            for (const table of HOSTILE_TABLES) {
              const t = `${ident(schema)}.${ident(table)}`;
              await c.query(
                `SELECT count(*), max(${ident('v\\al')}) FROM ${t} WHERE ${ident('id "é"')} > $1`,
                [i % 50],
              );
              await c.query(
                `UPDATE ${t} SET ${ident('note 日本')} = ${ident('note 日本')} || '' WHERE ${ident('id "é"')} = $1`,
                [(i % 200) + 1],
              );
              await c.query(`INSERT INTO ${t} (${ident('v\\al')}) VALUES ('NaN'), ($1)`, [i]);
            }
            await c.query(`SELECT ${ident(schema)}.${ident(HOSTILE_FUNCTION)}($1)`, [i]);
          }
          await c.query(
            `SELECT 'ctl \u0001\u0007\u001b é 日本 🐘 \u2028 \ufeff \\uD800 "' || $1 AS ${ident('wéird "col"')},
                    'NaN'::numeric AS n, 'Infinity'::float8 AS inf, '-Infinity'::numeric AS ninf`,
            [String(i)],
          );
          await sleep(150);
        }
      });
    });
  }

  async #bigStatements(): Promise<void> {
    const big = hostileMegabyte();
    await this.#guard('postgres', () =>
      withClient(clientConfig(this.serverUrl, HOSTILE_DATABASES[0]), async (c) => {
        while (this.#running) {
          // The comment keeps the text whole in pg_stat_statements (constants would be
          // normalised away); pg_sleep keeps it in pg_stat_activity for the sampler.
          await c.query(`SELECT pg_sleep(0.8) /* ${big.replaceAll('*/', '* /')} */`);
          await c.query(
            `SELECT length($1::text) /* ${big.slice(0, 100_000).replaceAll('*/', '* /')} */`,
            [big],
          );
        }
      }),
    );
  }

  async #lockQueue(): Promise<void> {
    const db = HOSTILE_DATABASES[0];
    const t = `${ident(HOSTILE_SCHEMAS[0])}.${ident(HOSTILE_TABLES[0])}`;
    await this.#guard(db, async () => {
      const holder = new pg.Client(clientConfig(this.serverUrl, db));
      const waiter = new pg.Client(
        clientConfig(this.serverUrl, db, { user: HOSTILE_ROLE, password: HOSTILE_ROLE_PASSWORD }),
      );
      await holder.connect();
      await waiter.connect();
      try {
        while (this.#running) {
          await holder.query('BEGIN');
          await holder.query(`LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE`);
          const waiting = waiter.query(`SELECT count(*) FROM ${t} /* waits: 'é' "🐘" */`);
          await sleep(2_500);
          await holder.query('COMMIT');
          await waiting;
          await sleep(500);
        }
      } finally {
        await holder.end().catch(() => undefined);
        await waiter.end().catch(() => undefined);
      }
    });
  }

  async #guard(db: string, work: () => Promise<void>): Promise<void> {
    while (this.#running) {
      try {
        await work();
        return;
      } catch (err) {
        // A reset or a terminated session must not end the workload; note it and go on.
        this.#errors.push(
          `${JSON.stringify(db)}: ${err instanceof Error ? err.message : String(err)}`,
        );
        await sleep(500);
      }
    }
  }
}

/**
 * Makes every statistics counter go backwards: per-database statistics in every database,
 * pg_stat_statements, and the shared ones (bgwriter/checkpointer, WAL, I/O, SLRU).
 */
export async function resetStatistics(serverUrl: string, major: number): Promise<void> {
  for (const db of ['postgres', ...HOSTILE_DATABASES]) {
    await withClient(clientConfig(serverUrl, db), (c) => c.query('SELECT pg_stat_reset()'));
  }
  await withClient(clientConfig(serverUrl, 'postgres'), async (c) => {
    await c.query('SELECT pg_stat_statements_reset()');
    await c.query("SELECT pg_stat_reset_shared('bgwriter')");
    if (major >= 14) await c.query("SELECT pg_stat_reset_shared('wal')");
    if (major >= 16) await c.query("SELECT pg_stat_reset_shared('io')");
    if (major >= 17) await c.query("SELECT pg_stat_reset_shared('checkpointer')");
    await c.query('SELECT pg_stat_reset_slru(NULL)');
  });
}

import pg from 'pg';

/** Names the probe tests look for; created by `createProbeFixtures`. */
export const FIXTURES = {
  database: 'pgql_test_a',
  subscriberDatabase: 'pgql_test_b',
  schema: 'app',
  table: 'orders',
  unusedIndex: 'orders_note_idx',
  invalidIndex: 'dupes_v_uniq',
  sequence: 'ticket_seq',
  function: 'add_numbers',
  physicalSlot: 'pgql_physical',
  logicalSlot: 'pgql_logical',
  publication: 'pgql_pub',
  subscription: 'pgql_sub',
} as const;

/**
 * Gives every probe something to read: tables with live and dead rows, a used and an unused
 * index, an invalid index, a nearly exhausted sequence, a called function, physical and logical
 * replication slots with decoded changes, a publication and a (never connected) subscription.
 * Idempotent, so a reused server (PGQUERYLENS_TEST_DSN) can run it again.
 */
export async function createProbeFixtures(superuserUrl: string): Promise<string[]> {
  const skipped: string[] = [];
  const url = new URL(superuserUrl);
  url.pathname = `/${FIXTURES.database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    await db.query(`
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
      DROP SCHEMA IF EXISTS app CASCADE;
      CREATE SCHEMA app;
      CREATE TABLE app.orders (id serial PRIMARY KEY, customer int NOT NULL, note text);
      CREATE INDEX orders_customer_idx ON app.orders (customer);
      CREATE INDEX orders_note_idx ON app.orders (note);
      INSERT INTO app.orders (customer, note)
           SELECT g % 50, 'order ' || g FROM generate_series(1, 2000) g;
      UPDATE app.orders SET note = note || ' (changed)' WHERE id % 10 = 0;
      DELETE FROM app.orders WHERE id % 7 = 0;
      ANALYZE app.orders;
      SELECT count(*) FROM app.orders WHERE customer = 7;
      CREATE TABLE app.dupes (v int);
      INSERT INTO app.dupes VALUES (1), (1), (2);
      CREATE SEQUENCE app.ticket_seq AS integer MAXVALUE 1000;
      SELECT setval('app.ticket_seq', 900);
      CREATE FUNCTION app.add_numbers(a int, b int) RETURNS int
        LANGUAGE plpgsql AS 'BEGIN RETURN a + b; END';
      SELECT app.add_numbers(g, 1) FROM generate_series(1, 5) g;
    `);
    // A failed concurrent build leaves the index behind, marked invalid.
    await db
      .query('CREATE UNIQUE INDEX CONCURRENTLY dupes_v_uniq ON app.dupes (v)')
      .catch(() => {});
    await db.query(`CREATE PUBLICATION ${FIXTURES.publication} FOR TABLE app.orders`);
    await db.query(`
      SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
       WHERE slot_name IN ('${FIXTURES.physicalSlot}', '${FIXTURES.logicalSlot}');
      SELECT pg_create_physical_replication_slot('${FIXTURES.physicalSlot}', true)`);
    try {
      await db.query(
        `SELECT pg_create_logical_replication_slot('${FIXTURES.logicalSlot}', 'test_decoding')`,
      );
      // Decoding reads flushed WAL only; this server commits asynchronously by default.
      await db.query('SET synchronous_commit = on');
      await db.query('INSERT INTO app.orders (customer, note) VALUES (1, $1)', ['decoded']);
      await db.query(
        `SELECT count(*) FROM pg_logical_slot_get_changes('${FIXTURES.logicalSlot}', NULL, NULL)`,
      );
    } catch {
      skipped.push('logical slot (wal_level is not logical)');
    }
  } finally {
    await db.end();
  }

  url.pathname = `/${FIXTURES.subscriberDatabase}`;
  const sub = new pg.Client({ connectionString: url.toString() });
  await sub.connect();
  try {
    await sub.query(`DROP SUBSCRIPTION IF EXISTS ${FIXTURES.subscription}`).catch(() => {});
    // connect=false creates it without a slot or worker; the stats views still list it.
    await sub.query(
      `CREATE SUBSCRIPTION ${FIXTURES.subscription}
         CONNECTION 'host=127.0.0.1 dbname=${FIXTURES.database}'
         PUBLICATION ${FIXTURES.publication} WITH (connect = false)`,
    );
  } catch {
    skipped.push('subscription');
  } finally {
    await sub.end();
  }
  return skipped;
}

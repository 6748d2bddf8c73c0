import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decryptPassword } from '../../src/adapters/datastore/password-crypto.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { DebianPostgres, debianPostgresSkipReason } from '../helpers/debian-postgres.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { runCliWithStdin } from './support/secret-cli.js';
import { OtlpCapture } from './support/secret-otlp-capture.js';
import {
  holdsSentinel,
  locateSentinel,
  scanDatastore,
  type DatastoreScan,
} from './support/secret-scan.js';
import { LEAK_MARKER, SentinelWorkload, workloadSetupSql } from './support/secret-workload.js';
import { batchesIn, batchesOf, killDaemons, pollUntil, startDaemon } from './support/target-cli.js';

/**
 * Issue 8, fault "secrets": a sentinel password set on a real role of a monitored Debian
 * PostgreSQL 15 (pg_stat_statements, pg_wait_sampling and pg_stat_kcache loaded), given to the
 * collector every way there is (inside a URL, inline in the file, from a file, from a
 * variable, nri-postgresql's PASSWORD, `connections add --password-stdin`), and also sent to
 * that server inside statements (ALTER ROLE … PASSWORD, a literal in a running query, a
 * literal in a condition a plan shows, a comment pg_stat_statements keeps, both sides of a
 * row lock), so that the slow-query, session-sampling, blocking and plan paths all read it.
 * Every mode of the built CLI runs against it: validate, connections add/list, --once JSON
 * lines, --mode=nri on protocols 4 and 3 (twice each, so slow queries have a baseline), a
 * wrong-password target and run (authentication errors logged), --mode=otel into a real OTLP
 * receiver that keeps each request's raw bytes, and --mode=hybrid with a datastore.
 *
 * Must hold: the sentinel (as is, or base64-encoded) appears in no log line (stderr), no
 * payload (stdout: NRI, JSON lines, command output), no JSON-lines file, no OTLP request
 * (metrics or logs, raw bytes), and no row of any table of any schema of the datastore's
 * database except the stored connection's `password_encrypted`, which holds it only
 * encrypted (it decrypts to the sentinel with the server secret, and does not contain it).
 * The paths must really have run: the outputs carry the workload's statements (their
 * identifiers survive obfuscation), plans of its table and its lock waits.
 */

const skipReason = debianPostgresSkipReason();
const pgUrl = inject('pgUrl');

const SENTINEL = `Sentinel-PW-9f3c${randomBytes(6).toString('hex')}`;
const ROLE = 'pgql_sentinel';
/** A real role whose password is not the sentinel: the collector is given the sentinel. */
const WRONG_ROLE = 'pgql_wrong_pw';
const SERVER_SECRET = `fault-server-secret-${randomBytes(8).toString('hex')}`;
const INTERVAL = '2s';

let dir = '';
let monitored: DebianPostgres | undefined;
let datastoreUrl = '';
let capture: OtlpCapture | undefined;
let workload: SentinelWorkload | undefined;
let secretFile = '';
let passwordFile = '';

/** Every output of every run, by what produced it. */
const outputs: { what: string; text: string }[] = [];

function record(what: string, result: CliResult): void {
  outputs.push({ what: `${what} stdout`, text: result.stdout });
  outputs.push({ what: `${what} stderr`, text: result.stderr });
}

/** Soft and boolean: every leak is listed, and none prints the text that holds it. */
function expectNoSentinel(what: string, text: string | Buffer): void {
  expect.soft(holdsSentinel(text, SENTINEL), `${what} holds the sentinel`).toBe(false);
}

/** `text` with the sentinel masked: for failure messages, which must never show it. */
function safe(text: string): string {
  return text.split(SENTINEL).join('<SENTINEL>');
}

function expectNoLeakIn(what: string, result: CliResult): void {
  expectNoSentinel(`${what} stdout`, result.stdout);
  expectNoSentinel(`${what} stderr`, result.stderr);
}

beforeAll(async () => {
  if (skipReason !== undefined) return;
  dir = await mkdtemp(path.join(tmpdir(), 'pgql-fault-secrets-'));
  secretFile = path.join(dir, 'server-secret');
  passwordFile = path.join(dir, 'pg-password');
  await writeFile(secretFile, `${SERVER_SECRET}\n`, { mode: 0o600 });
  await writeFile(passwordFile, `${SENTINEL}\n`, { mode: 0o600 });
  [monitored, datastoreUrl, capture] = await Promise.all([
    DebianPostgres.start(),
    freshDatabase(pgUrl, 'pgql_secret_ds'),
    OtlpCapture.start(),
  ]);
  const wrong = randomBytes(12).toString('hex');
  await queryOnce(
    monitored.url(),
    `CREATE EXTENSION pg_stat_statements;
     CREATE EXTENSION pg_wait_sampling;
     CREATE EXTENSION pg_stat_kcache;
     CREATE ROLE ${ROLE} LOGIN PASSWORD '${SENTINEL}' IN ROLE pg_monitor;
     CREATE ROLE ${WRONG_ROLE} LOGIN PASSWORD '${wrong}' IN ROLE pg_monitor;
     ${workloadSetupSql(SENTINEL)}
     GRANT SELECT ON leak_t TO ${ROLE};`,
  );
  workload = await SentinelWorkload.start(monitored.url(), SENTINEL, ROLE);
});

afterAll(async () => {
  killDaemons();
  await workload?.stop();
  await capture?.close();
  await monitored?.stop();
  if (datastoreUrl !== '') {
    const name = new URL(datastoreUrl).pathname.slice(1);
    await queryOnce(pgUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function port(): number {
  return monitored!.port;
}

function sentinelUrl(): string {
  return `postgres://${ROLE}:${SENTINEL}@127.0.0.1:${port()}/postgres`;
}

/** The targets, one per way of giving the password, and one whose password is wrong. */
function targets(): Record<string, unknown>[] {
  const host = { host: '127.0.0.1', port: port(), database: 'postgres' };
  return [
    { name: 'url-pw', url: sentinelUrl(), databases: ['postgres'] },
    { name: 'file-pw', ...host, user: ROLE, passwordFile, databases: [] },
    { name: 'env-pw', ...host, user: ROLE, passwordEnv: 'FAULT_SENTINEL_PW', databases: [] },
    { name: 'wrong-pw', ...host, user: WRONG_ROLE, password: SENTINEL, databases: [] },
  ];
}

/** Every text path on, at a pace that fills them within seconds. */
function configuration(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const fast = { interval: INTERVAL };
  return {
    interval: INTERVAL,
    targets: targets(),
    collectors: {
      slow_queries: fast,
      execution_plans: fast,
      pg_stat_activity: fast,
      pg_stat_statements: fast,
      pg_wait_sampling_profile: { enabled: true, interval: INTERVAL },
    },
    queryPerformance: { ash: { rawSamples: true } },
    otlp: { logs: { events: { ashSamples: true } } },
    ...extra,
  };
}

async function writeConfig(name: string, config: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ FAULT_SENTINEL_PW: SENTINEL, ...extra });
}

/** Whether any batch carries `needle` in the given part. */
function anyPartHolds(
  batches: readonly UnifiedMetrics[],
  part: keyof UnifiedMetrics,
  needle: string,
): boolean {
  return batches.some((b) => JSON.stringify(b[part]).includes(needle));
}

describe.skipIf(skipReason !== undefined)('a sentinel password never leaves in clear', () => {
  it('validate', async () => {
    const config = await writeConfig('validate.yaml', configuration());
    const result = await runCli(['validate', '--config', config], env());
    record('validate', result);
    expect(result.code, safe(result.stderr)).toBe(0);
    expectNoLeakIn('validate', result);
  });

  it('connections add --password-stdin, then list', async () => {
    const dsEnv = env({
      PGQUERYLENS_DATASTORE_URL: datastoreUrl,
      PGQUERYLENS_SECRET_FILE: secretFile,
    });
    const add = await runCliWithStdin(
      [
        'connections',
        'add',
        '--name',
        'stored-pw',
        '--host',
        '127.0.0.1',
        '--port',
        String(port()),
        '--user',
        ROLE,
        '--password-stdin',
        '--owner',
        'fault',
        '--log-level',
        'debug',
      ],
      dsEnv,
      `${SENTINEL}\n`,
    );
    record('connections add', add);
    expect(add.code, safe(add.stderr)).toBe(0);
    const list = await runCli(['connections', 'list', '--log-level', 'debug'], dsEnv);
    const listJson = await runCli(['connections', 'list', '--json'], dsEnv);
    record('connections list', list);
    record('connections list --json', listJson);
    expect(list.code).toBe(0);
    expect(safe(list.stdout)).toContain('stored-pw');
    expect(listJson.code).toBe(0);
    for (const [what, r] of [
      ['connections add', add],
      ['connections list', list],
      ['connections list --json', listJson],
    ] as const) {
      expectNoLeakIn(what, r);
    }
    // Stored encrypted: not the plaintext, but the sentinel once decrypted with the secret.
    const [row] = await queryOnce<{ password_encrypted: string }>(
      datastoreUrl,
      "SELECT password_encrypted FROM connections WHERE name = 'stored-pw'",
    );
    expect(row?.password_encrypted).toBeTruthy();
    expectNoSentinel('password_encrypted', row!.password_encrypted);
    const decrypted = await decryptPassword(row!.password_encrypted, SERVER_SECRET);
    expect(decrypted === SENTINEL, 'password_encrypted decrypts to the sentinel').toBe(true);
  });

  it('--once, JSON lines', async () => {
    const config = await writeConfig('once.yaml', configuration());
    const result = await runCli(
      ['--config', config, '--once', '--output=json', '--log-level=debug', '--log-format=json'],
      env(),
      120_000,
    );
    record('--once json', result);
    expectNoLeakIn('--once json', result);
    // Three targets reached, the fourth refused for its password: logged, nothing crashed.
    expect(result.code, safe(result.stderr)).toBe(0);
    const batches = batchesOf(result.stdout);
    expect(batches.map((b) => b.target.name).sort()).toEqual([
      'env-pw',
      'file-pw',
      'url-pw',
      'wrong-pw',
    ]);
    const wrong = batches.find((b) => b.target.name === 'wrong-pw');
    expect(safe(wrong?.metadata.error ?? '')).toMatch(/password authentication failed/);
    expect(safe(result.stderr)).toMatch(/password authentication failed/);
    for (const t of ['url-pw', 'file-pw', 'env-pw']) {
      expect(batches.find((b) => b.target.name === t)?.metadata.error).toBeUndefined();
    }
  });

  it('--mode=nri, protocols 4 and 3, twice each, and with a wrong password', async () => {
    const v4Env = env({ TEMP_DIR: path.join(dir, 'nri-v4') });
    const nriVars = {
      HOSTNAME: '127.0.0.1',
      PORT: String(port()),
      USERNAME: ROLE,
      PASSWORD: SENTINEL,
      DATABASE: 'postgres',
      COLLECTION_LIST: 'ALL',
      ENABLE_QUERY_MONITORING: 'true',
      VERBOSE: '1',
      TEMP_DIR: path.join(dir, 'nri-v3'),
    };
    await mkdir(path.join(dir, 'nri-v4'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(dir, 'nri-v3'), { recursive: true, mode: 0o700 });
    const stdouts: string[] = [];
    for (const round of [1, 2]) {
      const v4 = await runCli(
        ['--mode=nri', '--target', sentinelUrl(), '--log-level=debug'],
        v4Env,
        120_000,
      );
      record(`nri v4 #${round}`, v4);
      expectNoLeakIn(`nri v4 #${round}`, v4);
      expect(v4.code, safe(v4.stderr)).toBe(0);
      const v3 = await runCli(['--mode=nri'], env(nriVars), 120_000);
      record(`nri v3 #${round}`, v3);
      expectNoLeakIn(`nri v3 #${round}`, v3);
      expect(v3.code, safe(v3.stderr)).toBe(0);
      stdouts.push(v4.stdout, v3.stdout);
      // Let the workload run between rounds, so the second has statements to report.
      await new Promise((r) => setTimeout(r, 2_500));
    }
    const wrong = await runCli(
      ['--mode=nri'],
      env({ ...nriVars, USERNAME: WRONG_ROLE, TEMP_DIR: path.join(dir, 'nri-v3') }),
      120_000,
    );
    record('nri wrong password', wrong);
    expectNoLeakIn('nri wrong password', wrong);
    expect(wrong.code).toBe(1);
    expect(safe(wrong.stderr)).toMatch(/password authentication failed/);
    // The query-performance paths ran: the workload's statements are in the payloads.
    expect(safe(stdouts.join('\n'))).toContain(LEAK_MARKER);
    expect(safe(stdouts.join('\n'))).toContain('PostgresSlowQueries');
  });

  it('--mode=otel into a real OTLP receiver (raw request bytes)', async () => {
    const config = await writeConfig('otel.yaml', configuration());
    const output = path.join(dir, 'otel.ndjson');
    const cli = startDaemon(
      [
        '--config',
        config,
        '--mode=otel',
        '--output=json',
        '--output-file',
        output,
        '--log-level=debug',
        '--log-format=json',
      ],
      env(capture!.env()),
    );
    const logEvents = (name: string): number =>
      capture!.logRecords.filter((r) => r.eventName === name).length;
    try {
      await pollUntil(
        'query-performance events of the workload over OTLP',
        async () => {
          const batches = await batchesIn(output);
          return (
            capture!.logRecords.some(
              (r) =>
                r.eventName === 'db.server.top_query' &&
                String(r.attributes['db.query.text']).includes(LEAK_MARKER),
            ) &&
            logEvents('postgresql.query.plan') > 0 &&
            logEvents('postgresql.blocking') > 0 &&
            anyPartHolds(batches, 'executionPlans', 'leak_t') &&
            anyPartHolds(batches, 'blockingSessions', 'leak_t')
          );
        },
        90_000,
        500,
      );
    } finally {
      const result = await cli.stop();
      record('otel', result);
      expectNoLeakIn('otel', result);
      expect(result.code).toBe(0);
    }
    const text = await readFile(output, 'utf8');
    outputs.push({ what: 'otel JSON lines file', text });
    expectNoSentinel('otel JSON lines file', text);
    // Every text path saw the workload's statements (identifiers survive obfuscation).
    const batches = await batchesIn(output);
    for (const part of ['slowQueries', 'individualQueries', 'waitEvents', 'ashSamples'] as const) {
      expect
        .soft(anyPartHolds(batches, part, LEAK_MARKER), `${part} carry the workload`)
        .toBe(true);
    }
    // ALTER ROLE … PASSWORD went through pg_stat_statements to slow queries, withheld whole.
    expect
      .soft(
        anyPartHolds(batches, 'slowQueries', '<redacted: may contain a password>'),
        'ALTER ROLE',
      )
      .toBe(true);
    expect(capture!.decodeErrors).toBe(0);
    expect(capture!.metrics.length).toBeGreaterThan(0);
    const leaking = capture!.requests.filter((r) => holdsSentinel(r.raw, SENTINEL));
    expect
      .soft(
        leaking.map((r) => r.signal),
        `OTLP requests holding the sentinel (of ${capture!.requests.length})`,
      )
      .toEqual([]);
    expect(safe(cli.stderr())).toMatch(/password authentication failed/);
  });

  it('--mode=hybrid with a datastore: NRI, OTLP, and every table of the datastore', async ({
    annotate,
  }) => {
    const config = await writeConfig(
      'hybrid.yaml',
      configuration({
        datastore: { url: datastoreUrl, secretFile, owner: 'fault' },
      }),
    );
    const output = path.join(dir, 'hybrid.ndjson');
    const requestsBefore = capture!.requests.length;
    const cli = startDaemon(
      [
        '--config',
        config,
        '--mode=hybrid',
        '--output=json',
        '--output-file',
        output,
        '--log-level=debug',
        '--log-format=json',
      ],
      env(capture!.env()),
    );
    try {
      await pollUntil(
        'the stored connection collected and rows in the datastore',
        async () => {
          const batches = await batchesIn(output);
          if (!batches.some((b) => b.target.name === 'stored-pw' && b.probes.length > 0)) {
            return false;
          }
          const [n] = await queryOnce<{ n: number }>(
            datastoreUrl,
            'SELECT count(*)::int AS n FROM metrics.pg_stat_activity',
          ).catch(() => [{ n: 0 }]);
          return (n?.n ?? 0) > 0 && anyPartHolds(batches, 'slowQueries', LEAK_MARKER);
        },
        90_000,
        500,
      );
      // A few more cycles so that every kind of row has been written.
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      record('hybrid', await cli.stop());
    }
    // Scanned (and annotated) before any check, so a failed check cannot hide the numbers.
    const scan: DatastoreScan = await scanDatastore(datastoreUrl, SENTINEL);
    await annotate(
      `datastore: ${scan.tables} tables, ${scan.rows} rows scanned; holding the sentinel: ` +
        JSON.stringify(scan.leaks),
    );
    const result = await cli.exited;
    expectNoLeakIn('hybrid', result);
    expect(result.code).toBe(0);
    const text = await readFile(output, 'utf8');
    outputs.push({ what: 'hybrid JSON lines file', text });
    expectNoSentinel('hybrid JSON lines file', text);
    expect(safe(cli.stdout())).toContain('"protocol_version"');
    const hybridRequests = capture!.requests.slice(requestsBefore);
    expect(hybridRequests.length).toBeGreaterThan(0);
    expect
      .soft(
        hybridRequests.filter((r) => holdsSentinel(r.raw, SENTINEL)).map((r) => r.signal),
        'hybrid OTLP requests holding the sentinel',
      )
      .toEqual([]);

    expect(scan.tables).toBeGreaterThan(10);
    expect(scan.rows).toBeGreaterThan(100);
    expect.soft(scan.leaks, 'datastore tables holding the sentinel').toEqual({});
    // The only place it may be, encrypted.
    const rows = await queryOnce<{ name: string; password_encrypted: string | null }>(
      datastoreUrl,
      'SELECT name, password_encrypted FROM connections ORDER BY name',
    );
    expect(rows.map((r) => r.name)).toContain('stored-pw');
    for (const r of rows) {
      if (r.password_encrypted !== null)
        expectNoSentinel(`${r.name} password_encrypted`, r.password_encrypted);
    }
  });

  it('summary: no output of any run held the sentinel', async ({ annotate }) => {
    const leaking = outputs.filter((o) => holdsSentinel(o.text, SENTINEL)).map((o) => o.what);
    const where = outputs
      .filter((o) => holdsSentinel(o.text, SENTINEL))
      .map((o) => `${o.what}: ${locateSentinel(o.text, SENTINEL).join(', ')}`);
    await annotate(
      `${outputs.length} outputs checked, ${capture?.requests.length ?? 0} OTLP requests, ` +
        `workload statements completed: ${workload?.completed ?? 0}; leaking: ${where.join(' | ')}`,
    );
    expect(leaking).toEqual([]);
  });
});

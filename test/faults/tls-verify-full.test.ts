import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import {
  DebianPostgres,
  debianPostgresSkipReason,
  serverDir,
  serverUser,
} from '../helpers/debian-postgres.js';
import { batchesOf, probeRows } from './support/target-cli.js';
import { makeTlsFiles, type TlsFiles } from './support/tls-certs.js';

/**
 * Issue 8, fault "TLS": a Debian PostgreSQL 15 with `ssl=on`, a certificate for `localhost`
 * signed by a CA made here, and a pg_hba.conf that rejects unencrypted connections. The built
 * CLI runs once per case (`--once --output=json`).
 *
 * Must hold:
 * - `sslmode=verify-full` with the CA (in the URL or as the target's `sslrootcert` key) on
 *   `localhost` connects over TLS (the server sees the collector's sessions encrypted) and
 *   collects: exit 0, a batch without error with probe rows;
 * - without the CA, with another CA, with a CA file that does not exist, or by a name the
 *   certificate does not carry (127.0.0.1), it refuses: exit 1, a batch whose error says why
 *   (certificate/host name/missing file), no probe rows, a warning in the log, no crash (no
 *   stack trace, no unhandled error), and the password nowhere in the output;
 * - the same address under verify-ca (no name check) connects: the refusal above is the name.
 */

const skipReason = debianPostgresSkipReason();

let dir = '';
let tls: TlsFiles | undefined;
let server: DebianPostgres | undefined;

beforeAll(async () => {
  if (skipReason !== undefined) return;
  const runAs = await serverUser();
  dir = await serverDir('pgql-fault-tls-', runAs);
  tls = await makeTlsFiles(dir, 'localhost', runAs);
  const hba = path.join(dir, 'pg_hba.conf');
  await writeFile(
    hba,
    [
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      'hostssl all all ::1/128 scram-sha-256',
      'hostnossl all all 0.0.0.0/0 reject',
      'hostnossl all all ::/0 reject',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  server = await DebianPostgres.start({
    listen_addresses: 'localhost',
    ssl: 'on',
    ssl_cert_file: tls.serverCert,
    ssl_key_file: tls.serverKey,
    hba_file: hba,
    shared_preload_libraries: 'pg_stat_statements',
  });
});

afterAll(async () => {
  await server?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** `text` with the server's password masked: failure messages must never show it. */
function safe(text: string | undefined): string {
  return (text ?? '').split(server!.password).join('<PASSWORD>');
}

/** What Node says of a chain it cannot trust. */
const UNTRUSTED = /self[- ]signed certificate|unable to (get|verify)/i;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function url(host: string, params: Record<string, string>): string {
  const u = new URL(server!.url());
  u.hostname = host;
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

async function once(args: readonly string[], env = cleanEnv()): Promise<CliResult> {
  return runCli(['--once', '--output=json', '--log-format=json', ...args], env, 90_000);
}

function onlyBatch(result: CliResult): UnifiedMetrics {
  const batches = batchesOf(result.stdout);
  expect(batches).toHaveLength(1);
  return batches[0]!;
}

/** A run that reached the server over TLS and collected. */
function expectCollected(result: CliResult): void {
  expect(result.code, safe(result.stderr)).toBe(0);
  const batch = onlyBatch(result);
  expect(batch.metadata.error).toBeUndefined();
  expect(probeRows(batch, 'pg_connectivity')).toBe(1);
  const ours = batch.probes
    .filter((p) => p.probe === 'pg_stat_connection_security')
    .flatMap((p) => p.rows)
    .filter((r) => r.application_name === 'pgquerylens');
  expect(ours.length).toBeGreaterThan(0);
  for (const row of ours) {
    expect(row.ssl).toBe(true);
    expect(row.ssl_version).toMatch(/^TLSv1\.[23]$/);
  }
  // A boolean, so that a failure does not print the password.
  expect((result.stdout + result.stderr).includes(server!.password), 'password in output').toBe(
    false,
  );
}

/** A run refused before collecting anything, with `reason` in the batch and in the log. */
function expectRefused(result: CliResult, reason: RegExp): string {
  expect(result.code, 'exit code of a run that reached no target').toBe(1);
  const batch = onlyBatch(result);
  expect(safe(batch.metadata.error)).toMatch(reason);
  expect(batch.probes.flatMap((p) => p.rows)).toEqual([]);
  expect(batch.server).toEqual({});
  const logs = result.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; err?: string; level: string });
  const warning = logs.find((l) => l.msg === 'target unreachable, will retry next run');
  expect(safe(warning?.err)).toMatch(reason);
  // Refused cleanly: no crash, no stack trace, no secret.
  expect(safe(result.stderr)).not.toMatch(/unhandled|uncaught|\n\s+at /i);
  expect(logs.every((l) => l.level !== 'fatal')).toBe(true);
  // A boolean, so that a failure does not print the password.
  expect((result.stdout + result.stderr).includes(server!.password), 'password in output').toBe(
    false,
  );
  return safe(batch.metadata.error);
}

describe.skipIf(skipReason !== undefined)('TLS with verify-full against a private CA', () => {
  it('collects with the CA on the certificate’s name, from the URL', async () => {
    expectCollected(
      await once([
        '--target',
        url('localhost', { sslmode: 'verify-full', sslrootcert: tls!.caCert }),
      ]),
    );
  });

  it('collects with the CA as the target’s sslrootcert key, password from a variable', async () => {
    const config = path.join(dir, 'tls.yaml');
    const target = {
      name: 'tls-config',
      host: 'localhost',
      port: server!.port,
      user: 'postgres',
      passwordEnv: 'FAULT_TLS_PASSWORD',
      sslmode: 'verify-full',
      sslrootcert: tls!.caCert,
      databases: ['postgres'],
    };
    await writeFile(config, JSON.stringify({ targets: [target] }), { mode: 0o600 });
    expectCollected(
      await once(['--config', config], cleanEnv({ FAULT_TLS_PASSWORD: server!.password })),
    );
  });

  it('refuses without a CA: the server’s certificate is not trusted', async ({ annotate }) => {
    const run = await once(['--target', url('localhost', { sslmode: 'verify-full' })]);
    await annotate(expectRefused(run, UNTRUSTED));
  });

  it('refuses with another CA', async ({ annotate }) => {
    const run = await once([
      '--target',
      url('localhost', { sslmode: 'verify-full', sslrootcert: tls!.otherCaCert }),
    ]);
    await annotate(expectRefused(run, UNTRUSTED));
  });

  it('refuses with a CA file that does not exist, naming it', async ({ annotate }) => {
    const missing = path.join(dir, 'no-such-ca.pem');
    const run = await once([
      '--target',
      url('localhost', { sslmode: 'verify-full', sslrootcert: missing }),
    ]);
    await annotate(expectRefused(run, new RegExp(`ENOENT.*${escapeRegExp(missing)}`)));
  });

  it('refuses a host name the certificate does not carry, only under verify-full', async ({
    annotate,
  }) => {
    const run = await once([
      '--target',
      url('127.0.0.1', { sslmode: 'verify-full', sslrootcert: tls!.caCert }),
    ]);
    await annotate(
      expectRefused(
        run,
        /Hostname\/IP does not match certificate's altnames|not in the cert's list/i,
      ),
    );
    // The chain is fine: verify-ca, which checks no name, connects to the same address.
    expectCollected(
      await once([
        '--target',
        url('127.0.0.1', { sslmode: 'verify-ca', sslrootcert: tls!.caCert }),
      ]),
    );
  });

  it('is refused by the server without TLS: the successes above were encrypted', async ({
    annotate,
  }) => {
    const run = await once(['--target', url('localhost', { sslmode: 'disable' })]);
    await annotate(expectRefused(run, /pg_hba\.conf rejects connection.*no encryption/i));
  });
});

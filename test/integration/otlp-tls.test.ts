import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpMetricsAdapter } from '../../src/adapters/otlp/otlp-metrics-adapter.js';
import { fakeBatch } from '../helpers/batches.js';
import { startGrpcReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpTestSettings } from '../helpers/otlp-settings.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pgql-otlp-tls-'));
const file = (name: string): string => path.join(dir, name);
let receiver: OtlpReceiver;
let port: string;

beforeAll(async () => {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  };
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'],
    ...['-subj', '/CN=pgquerylens test CA', '-keyout', 'ca.key', '-out', 'ca.pem'],
  );
  openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost'],
    ...['-keyout', 'server.key', '-out', 'server.csr'],
  );
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key'],
    ...['-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem'],
  );
  receiver = await startGrpcReceiver(
    grpc.ServerCredentials.createSsl(null, [
      {
        cert_chain: readFileSync(file('server.pem')),
        private_key: readFileSync(file('server.key')),
      },
    ]),
  );
  port = new URL(receiver.url).port;
}, 60_000);

afterAll(async () => {
  await receiver?.close();
});

/** One probe reading the catalogue turns into a metric (`postgresql.backends`). */
function batchWithBackends(target: string) {
  const b = fakeBatch(1, target);
  return {
    ...b,
    probes: [
      {
        probe: 'pg_stat_database',
        scope: 'server' as const,
        collectedAt: b.metadata.startedAt,
        rows: [{ datname: 'app', numbackends: 3, xact_commit: 10 }],
      },
    ],
  };
}

describe('OTLP over TLS', () => {
  it('trusts the endpoint through the configured CA and refuses it without', async () => {
    const trusted = new OtlpMetricsAdapter({
      settings: otlpTestSettings({
        endpoint: `https://localhost:${port}`,
        tls: { certificate: file('ca.pem'), insecure: false },
      }),
      version: 'test',
    });
    await trusted.export(batchWithBackends('tls-trusted'));
    await trusted.forceFlush();
    await trusted.shutdown();
    expect(receiver.requests.length).toBeGreaterThan(0);
    const delivered = receiver.requests.length;

    // The system's CAs do not include ours: the handshake fails and nothing is delivered.
    const untrusted = new OtlpMetricsAdapter({
      settings: otlpTestSettings({ endpoint: `https://localhost:${port}` }),
      version: 'test',
    });
    await untrusted.export(batchWithBackends('tls-untrusted'));
    await untrusted.forceFlush();
    expect(untrusted.health().reachable).toBe(false);
    await untrusted.shutdown();
    expect(receiver.requests.length).toBe(delivered);
  }, 30_000);
});

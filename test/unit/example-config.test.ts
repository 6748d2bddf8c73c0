import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load-config.js';
import { builtinCollectorNames } from '../../src/collectors/builtin-collectors.js';

const example = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../config/pgquerylens.example.yaml',
);

describe('the shipped example configuration', () => {
  it('is valid, so users can start from it', () => {
    const config = loadConfig({
      configPath: example,
      env: { REPORTING_DB_PASSWORD: 'example-only' },
      knownCollectors: builtinCollectorNames(),
      readFile: (p) => (p.startsWith('/run/secrets') ? 'file-pw\n' : readFileSync(p, 'utf8')),
    });
    expect(config.targets.map((t) => t.name)).toEqual(['orders-primary', 'reporting']);
    expect(config.targets[0]?.ssl).toMatchObject({
      mode: 'verify-full',
      rootCertPath: '/etc/ssl/pg-ca.pem',
    });
    expect(config.targets[1]).toMatchObject({
      port: 5433,
      statementTimeoutMs: 10_000,
      databases: ['analytics'],
    });
    expect(config.collectors.pg_settings?.retentionDays).toBe(365);
    expect(config.datastore).toMatchObject({
      owner: 'platform-team',
      spoolMaxMb: 1024,
      refresh: 120_000,
      maxConnections: 25,
    });
  });
});

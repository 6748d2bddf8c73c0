import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/core/config/load-config.js';
import { parseGoDurationMs } from '../../src/core/config/nri-go-duration.js';
import { builtinCollectorNames } from '../../src/collectors/builtin-collectors.js';
import { ASH_CONSUMERS } from '../../src/collectors/query-performance-names.js';

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

const newrelic = (name: string): string =>
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/newrelic', name);

interface AgentIntegration {
  name: string;
  exec: string[];
  env: Record<string, unknown>;
  interval: string;
  timeout: string;
  labels: Record<string, string>;
  inventory_source: string;
}

/** The one integration of a shipped agent config, with the agent's structure checked. */
function integrationOf(file: string): { doc: Record<string, unknown>; entry: AgentIntegration } {
  const doc = parse(readFileSync(newrelic(file), 'utf8')) as Record<string, unknown>;
  const integrations = doc.integrations as AgentIntegration[];
  expect(integrations).toHaveLength(1);
  const entry = integrations[0] as AgentIntegration;
  expect(typeof entry.name).toBe('string');
  // No PATH under the agent: the interpreter and the script are absolute paths.
  expect(entry.exec[0]).toMatch(/^\/.+\/node$/);
  expect(entry.exec[1]).toMatch(/^\/.+\/dist\/cli\/main\.js$/);
  expect(entry.exec).toContain('--mode=nri');
  for (const value of Object.values(entry.env)) {
    expect(['string', 'number', 'boolean']).toContain(typeof value);
  }
  expect(parseGoDurationMs(entry.interval)).toBeGreaterThanOrEqual(15_000);
  expect(parseGoDurationMs(entry.timeout)).toBeGreaterThan(parseGoDurationMs(entry.interval) ?? 0);
  expect(Object.keys(entry.labels).length).toBeGreaterThan(0);
  expect(entry.inventory_source).toBe('config/postgresql');
  return { doc, entry };
}

/** Loads the entry's env as the agent passes it: keys upper-cased, values as strings. */
function loadAgentEnv(entry: AgentIntegration, replace: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { NRI_CONFIG_INTERVAL: entry.interval };
  for (const [key, value] of Object.entries(entry.env)) {
    let text = String(value);
    for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
    env[key.toUpperCase()] = text;
  }
  return loadConfig({
    env,
    flags: { mode: 'nri' },
    knownCollectors: builtinCollectorNames(),
    queryMonitoringCollectors: ASH_CONSUMERS,
    readFile: (p) => (p === env.PASSWORD_FILE ? 'agent-file-pw\n' : readFileSync(p, 'utf8')),
  });
}

describe('the shipped New Relic agent configurations', () => {
  it('postgresql-config.yml runs pgquerylens with nri-postgresql defaults', () => {
    const { entry } = integrationOf('postgresql-config.yml');
    expect(entry.env.PASSWORD_FILE).toMatch(/^\//);
    const config = loadAgentEnv(entry);
    expect(config.targets).toHaveLength(1);
    expect(config.targets[0]).toMatchObject({
      name: 'localhost:5432',
      password: 'agent-file-pw',
      databases: ['postgres'],
      ssl: { mode: 'disable' },
      connectTimeoutMs: 10_000,
    });
    expect(config.intervalMs).toBe(30_000);
    expect(config.nri.protocol).toBe(3);
    expect(config.collectors.pg_locks?.enabled).toBe(false);
    expect(config.collectors.slow_queries?.enabled).toBe(false);
  });

  it('postgresql-config.k8s.yml discovers pods and targets their IP', () => {
    const { doc, entry } = integrationOf('postgresql-config.k8s.yml');
    const discovery = doc.discovery as { command: { exec: string; match: Record<string, string> } };
    expect(discovery.command.exec).toBe('/var/db/newrelic-infra/nri-discovery-kubernetes');
    expect(Object.keys(discovery.command.match)[0]).toMatch(/^label\./);
    expect(entry.env.HOSTNAME).toBe('${discovery.ip}');
    const config = loadAgentEnv(entry, { '${discovery.ip}': '10.1.2.3' });
    expect(config.targets[0]).toMatchObject({ name: '10.1.2.3:5432', databases: 'all' });
  });

  it('postgresql-custom-query.yml is a valid CUSTOM_METRICS_CONFIG file', () => {
    const config = loadConfig({
      env: {
        USERNAME: 'u',
        PASSWORD: 'example-pw',
        CUSTOM_METRICS_CONFIG: newrelic('postgresql-custom-query.yml'),
      },
      flags: { mode: 'nri' },
      knownCollectors: builtinCollectorNames(),
    });
    expect(config.customQueries.queries.map((q) => q.sampleName)).toEqual([
      'PostgresqlTransactionSample',
      'PostgresqlUnusedIndexSample',
      'PostgresqlCustomSample',
    ]);
    expect(config.customQueries.queries[0]?.metricTypes).toMatchObject({ xact_commit: 'rate' });
  });
});

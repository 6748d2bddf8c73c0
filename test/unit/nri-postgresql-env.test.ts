import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinCollectorNames } from '../../src/collectors/builtin-collectors.js';
import { ASH_CONSUMERS } from '../../src/collectors/query-performance-names.js';
import { loadConfig, type LoadConfigInput } from '../../src/core/config/load-config.js';
import { parseGoBool } from '../../src/core/config/nri-bool.js';
import { parseGoDurationMs } from '../../src/core/config/nri-go-duration.js';
import type { ResolvedConfig } from '../../src/core/config/resolved-config.js';
import { ConfigError, type ConfigIssue } from '../../src/core/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pgql-nri-env-'));
const PASSWORD = 'nri-Secret-pw-77';
const CREDENTIALS = { USERNAME: 'newrelic', PASSWORD };

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Loads as the agent runs us: `--mode=nri` and nri-postgresql's variables. */
function nri(env: NodeJS.ProcessEnv, input: Partial<LoadConfigInput> = {}): ResolvedConfig {
  return loadConfig({
    env,
    knownCollectors: builtinCollectorNames(),
    queryMonitoringCollectors: ASH_CONSUMERS,
    ...input,
    flags: { mode: 'nri', ...input.flags },
  });
}

function issuesOf(env: NodeJS.ProcessEnv, input: Partial<LoadConfigInput> = {}): ConfigIssue[] {
  try {
    nri(env, input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

function enabled(c: ResolvedConfig, collector: string): boolean | undefined {
  return c.collectors[collector]?.enabled;
}

describe('nri-postgresql variables → one target (drop-in)', () => {
  it('applies nri-postgresql defaults when only the credentials are given', () => {
    const c = nri(CREDENTIALS);
    expect(c.targets).toHaveLength(1);
    expect(c.targets[0]).toMatchObject({
      name: 'localhost:5432',
      kind: 'postgresql',
      host: 'localhost',
      port: 5432,
      user: 'newrelic',
      password: PASSWORD,
      database: 'postgres',
      ssl: { mode: 'disable' },
      // COLLECTION_LIST `{}`: the instance only, no database visited.
      databases: [],
      excludeDatabases: [],
      connectTimeoutMs: 10_000,
    });
    expect(c.nri).toMatchObject({
      protocol: 3,
      metrics: true,
      inventory: true,
      events: true,
      ignoreTables: [],
      countThreshold: 20,
      responseTimeThresholdMs: 1,
    });
    expect(c.nri.collection).toBeUndefined();
    expect(enabled(c, 'pg_locks')).toBe(false);
    expect(enabled(c, 'pg_table_bloat')).toBe(true);
    for (const name of ASH_CONSUMERS) expect(enabled(c, name)).toBe(false);
    expect(c.customQueries).toEqual({ queries: [], timeoutMs: 10_000 });
    expect(c.log).toEqual({ level: 'warn', format: 'agent' });
    expect(c.noTargetConfigured).toBe(false);
  });

  it('maps every connection and feature variable', () => {
    const c = nri({
      ...CREDENTIALS,
      HOSTNAME: 'db.internal',
      PORT: '6543',
      DATABASE: 'app',
      COLLECTION_LIST: '["app","billing"]',
      COLLECTION_IGNORE_DATABASE_LIST: '["billing"]',
      COLLECTION_IGNORE_TABLE_LIST: '["audit_log","events"]',
      TIMEOUT: '7',
      COLLECT_DB_LOCK_METRICS: 'true',
      COLLECT_BLOAT_METRICS: 'False',
      ENABLE_QUERY_MONITORING: '1',
      QUERY_MONITORING_COUNT_THRESHOLD: '12',
      QUERY_MONITORING_RESPONSE_TIME_THRESHOLD: '250',
      NRI_CLUSTER: 'orders',
      NRI_SERVICE: 'orders-db',
      CUSTOM_METRICS_QUERY: "SELECT 'x' AS metric_name, 'gauge' AS metric_type, 1 AS metric_value",
    });
    expect(c.targets[0]).toMatchObject({
      name: 'db.internal:6543',
      host: 'db.internal',
      port: 6543,
      database: 'app',
      databases: ['app', 'billing'],
      excludeDatabases: ['billing'],
      connectTimeoutMs: 7_000,
    });
    expect(c.nri).toMatchObject({
      ignoreTables: ['audit_log', 'events'],
      countThreshold: 12,
      responseTimeThresholdMs: 250,
      clusterName: 'orders',
      serviceName: 'orders-db',
    });
    expect(c.queryPerformance.slowQueryLimit).toBe(12);
    expect(enabled(c, 'pg_locks')).toBe(true);
    expect(enabled(c, 'pg_table_bloat')).toBe(false);
    for (const name of ASH_CONSUMERS) expect(enabled(c, name)).toBe(true);
    expect(c.customQueries.metricsQuery).toContain('metric_name');
  });

  it.each([
    ['ALL', 'all'],
    ['all', 'all'],
    ['All', 'all'],
    ['{}', []],
    ['[]', []],
    ['["postgres"]', ['postgres']],
  ])('COLLECTION_LIST=%s → databases %j', (value, databases) => {
    const c = nri({ ...CREDENTIALS, COLLECTION_LIST: value });
    expect(c.targets[0]?.databases).toEqual(databases);
    expect(c.nri.collection).toBeUndefined();
  });

  it('takes the object form of COLLECTION_LIST as exactly the objects to collect', () => {
    const c = nri({
      ...CREDENTIALS,
      COLLECTION_LIST: JSON.stringify({
        app: { public: { orders: ['orders_pkey'], customers: [] }, sales: null },
        postgres: null,
        ops: { public: { jobs: null } },
      }),
    });
    expect(c.targets[0]?.databases).toEqual(['app', 'postgres', 'ops']);
    expect(c.nri.collection).toEqual({
      app: { public: { orders: ['orders_pkey'], customers: [] }, sales: {} },
      postgres: {},
      ops: { public: { jobs: [] } },
    });
  });

  it('maps ENABLE_SSL and the certificate variables onto sslmode', () => {
    expect(nri({ ...CREDENTIALS, SSL_ROOT_CERT_LOCATION: '/ca.pem' }).targets[0]?.ssl).toEqual({
      mode: 'disable',
    });
    expect(
      nri({ ...CREDENTIALS, ENABLE_SSL: 'true', TRUST_SERVER_CERTIFICATE: 'true' }).targets[0]?.ssl,
    ).toEqual({ mode: 'require' });
    expect(
      nri({
        ...CREDENTIALS,
        ENABLE_SSL: 'true',
        SSL_ROOT_CERT_LOCATION: '/etc/ca.pem',
        SSL_CERT_LOCATION: '/etc/client.crt',
        SSL_KEY_LOCATION: '/etc/client.key',
      }).targets[0]?.ssl,
    ).toEqual({
      mode: 'verify-full',
      rootCertPath: '/etc/ca.pem',
      certPath: '/etc/client.crt',
      keyPath: '/etc/client.key',
    });
    expect(issuesOf({ ...CREDENTIALS, ENABLE_SSL: 't' })).toEqual([
      {
        path: 'SSL_ROOT_CERT_LOCATION',
        message: expect.stringContaining(
          'required when ENABLE_SSL is true and TRUST_SERVER_CERTIFICATE is false',
        ) as string,
      },
    ]);
  });

  it('adds a PgBouncer target on the same host, port and credentials with PGBOUNCER', () => {
    const c = nri({ ...CREDENTIALS, HOSTNAME: 'pool', PORT: '6432', PGBOUNCER: 'true' });
    expect(c.targets.map((t) => [t.name, t.kind, t.database])).toEqual([
      ['pool:6432', 'postgresql', 'postgres'],
      ['pgbouncer@pool:6432', 'pgbouncer', 'pgbouncer'],
    ]);
    expect(c.targets[1]).toMatchObject({
      host: 'pool',
      port: 6432,
      user: 'newrelic',
      password: PASSWORD,
    });
  });

  it('names the target host:port, replacing what a target name may not hold', () => {
    expect(nri({ ...CREDENTIALS, HOSTNAME: '::1' }).targets[0]?.name).toBe('::1:5432');
    expect(nri({ ...CREDENTIALS, HOSTNAME: 'db host/1' }).targets[0]).toMatchObject({
      name: 'db_host_1:5432',
      host: 'db host/1',
    });
  });

  it.each([
    ['-5', 20],
    ['0', 20],
    ['1', 1],
    ['30', 30],
    ['31', 30],
    ['500', 30],
  ])('QUERY_MONITORING_COUNT_THRESHOLD=%s → %d', (value, expected) => {
    const c = nri({ ...CREDENTIALS, QUERY_MONITORING_COUNT_THRESHOLD: value });
    expect(c.nri.countThreshold).toBe(expected);
    expect(c.queryPerformance.slowQueryLimit).toBe(expected);
  });

  it.each([
    ['-3', 1],
    ['0', 0],
    ['500', 500],
  ])('QUERY_MONITORING_RESPONSE_TIME_THRESHOLD=%s → %d ms', (value, expected) => {
    const c = nri({ ...CREDENTIALS, QUERY_MONITORING_RESPONSE_TIME_THRESHOLD: value });
    expect(c.nri.responseTimeThresholdMs).toBe(expected);
  });

  it('emits everything unless METRICS, INVENTORY or EVENTS is true, then only those', () => {
    const parts = (env: NodeJS.ProcessEnv) => {
      const { metrics, inventory, events } = nri({ ...CREDENTIALS, ...env }).nri;
      return { metrics, inventory, events };
    };
    expect(parts({})).toEqual({ metrics: true, inventory: true, events: true });
    expect(parts({ METRICS: 'false' })).toEqual({ metrics: true, inventory: true, events: true });
    expect(parts({ INVENTORY: 'true' })).toEqual({
      metrics: false,
      inventory: true,
      events: false,
    });
    expect(parts({ METRICS: 'true', EVENTS: '1', INVENTORY: 'false' })).toEqual({
      metrics: true,
      inventory: false,
      events: true,
    });
  });

  it('treats empty values as unset', () => {
    const c = nri({
      ...CREDENTIALS,
      HOSTNAME: '',
      PORT: '',
      DATABASE: '',
      ENABLE_SSL: '',
      COLLECTION_LIST: '',
      TIMEOUT: '',
      COLLECT_DB_LOCK_METRICS: '',
      QUERY_MONITORING_COUNT_THRESHOLD: '',
    });
    expect(c.targets[0]).toMatchObject({
      name: 'localhost:5432',
      database: 'postgres',
      databases: [],
      ssl: { mode: 'disable' },
    });
    expect(enabled(c, 'pg_locks')).toBe(false);
    expect(c.nri.countThreshold).toBe(20);
  });

  it('keeps the bounded default connect timeout for TIMEOUT=0 (lib/pq: wait forever)', () => {
    expect(nri({ ...CREDENTIALS, TIMEOUT: '0' }).targets[0]?.connectTimeoutMs).toBe(10_000);
  });

  it('reads the password from PASSWORD_FILE', () => {
    const pw = file('password', `${PASSWORD}\n`);
    const c = nri({ USERNAME: 'newrelic', PASSWORD_FILE: pw });
    expect(c.targets[0]?.password).toBe(PASSWORD);
  });
});

describe('malformed nri-postgresql variables', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '54.32'],
    ['TIMEOUT', '1.5'],
    ['TIMEOUT', '-1'],
    ['TIMEOUT', '10s'],
    ['ENABLE_SSL', 'yes'],
    ['TRUST_SERVER_CERTIFICATE', 'on'],
    ['PGBOUNCER', 'Yes'],
    ['COLLECT_DB_LOCK_METRICS', 'tRUE'],
    ['COLLECT_BLOAT_METRICS', '2'],
    ['ENABLE_QUERY_MONITORING', 'enabled'],
    ['METRICS', 'y'],
    ['INVENTORY', 'no'],
    ['EVENTS', ' true'],
    ['QUERY_MONITORING_COUNT_THRESHOLD', 'ten'],
    ['QUERY_MONITORING_RESPONSE_TIME_THRESHOLD', '1.5'],
    ['QUERY_MONITORING_RESPONSE_TIME_THRESHOLD', '99999999'],
    ['COLLECTION_LIST', '[postgres'],
    ['COLLECTION_LIST', '42'],
    ['COLLECTION_LIST', '"postgres"'],
    ['COLLECTION_LIST', '[1, 2]'],
    ['COLLECTION_LIST', '{"db":{"public":"orders"}}'],
    ['COLLECTION_LIST', '{"db":{"public":{"orders":[1]}}}'],
    ['COLLECTION_LIST', '{"db":["public"]}'],
    ['COLLECTION_IGNORE_DATABASE_LIST', 'azure_sys'],
    ['COLLECTION_IGNORE_DATABASE_LIST', '{"a":1}'],
    ['COLLECTION_IGNORE_TABLE_LIST', '[""]'],
    ['VERBOSE', 'loud'],
    ['NRI_CONFIG_INTERVAL', '30 seconds'],
    ['NRI_CONFIG_INTERVAL', '-30s'],
    ['CACHE_TTL', '6'],
    ['CACHE_TTL', '0s'],
  ])('%s=%s is reported on that variable', (name, value) => {
    const issues = issuesOf({ ...CREDENTIALS, [name]: value });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(name);
    expect(issues[0]?.message).not.toBe('');
  });

  it('says which values a boolean accepts and what it got', () => {
    expect(issuesOf({ ...CREDENTIALS, PGBOUNCER: 'yes' })).toEqual([
      { path: 'PGBOUNCER', message: 'expected true or false (or 1, 0, t, f), got "yes"' },
    ]);
  });

  it('accepts exactly Go ParseBool spellings', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false);
    for (const bad of ['yes', 'on', 'tRUE', ' true', '', 'hasOwnProperty']) {
      expect(parseGoBool(bad)).toBeUndefined();
    }
  });

  it('requires a username and password, in nri-postgresql words', () => {
    expect(issuesOf({})).toEqual([
      { path: 'USERNAME', message: 'must specify a username and password' },
      { path: 'PASSWORD', message: 'must specify a username and password' },
    ]);
    expect(issuesOf({ PASSWORD })).toEqual([
      { path: 'USERNAME', message: 'must specify a username and password' },
    ]);
    expect(issuesOf({ USERNAME: 'newrelic' })).toEqual([
      { path: 'PASSWORD', message: 'must specify a username and password' },
    ]);
    expect(issuesOf({ USERNAME: 'u', PASSWORD_FILE: path.join(dir, 'missing') })).toEqual([
      { path: 'PASSWORD_FILE', message: `cannot read ${path.join(dir, 'missing')}: no such file` },
    ]);
    expect(issuesOf({ USERNAME: 'u', PASSWORD, PASSWORD_FILE: '/x' })).toEqual([
      { path: 'PASSWORD', message: 'set PASSWORD or PASSWORD_FILE, not both' },
    ]);
  });

  it('reports every problem together, never the password', () => {
    const issues = issuesOf({
      PASSWORD,
      PORT: PASSWORD,
      ENABLE_SSL: 'maybe',
      COLLECTION_LIST: '[postgres',
      QUERY_MONITORING_COUNT_THRESHOLD: 'lots',
      CUSTOM_METRICS_CONFIG: path.join(dir, 'nowhere.yml'),
      PGQUERYLENS_LOG_FORMAT: 'xml',
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'COLLECTION_LIST',
        'CUSTOM_METRICS_CONFIG',
        'ENABLE_SSL',
        'PORT',
        'QUERY_MONITORING_COUNT_THRESHOLD',
        'USERNAME',
        'log.format',
      ].sort(),
    );
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).not.toContain(PASSWORD);
  });
});

describe('when the nri-postgresql variables apply', () => {
  const fileWithTarget = file(
    'with-target.yaml',
    'targets:\n  - name: from-file\n    url: postgres://mon@db1/postgres\n',
  );

  it.each<[string, Partial<LoadConfigInput>, NodeJS.ProcessEnv]>([
    ['a file target', { configPath: fileWithTarget }, {}],
    ['PGQUERYLENS_TARGETS', {}, { PGQUERYLENS_TARGETS: 'postgres://mon@db2/postgres' }],
    ['--target', { flags: { targets: [{ url: 'postgres://mon@db3/postgres' }] } }, {}],
    ['PGHOST', {}, { PGHOST: 'db4', PGUSER: 'mon' }],
  ])('not when %s names a target', (_what, input, env) => {
    // Malformed nri variables are not even read then.
    const c = nri({ ...env, PORT: 'abc', COLLECTION_LIST: '[' }, input);
    expect(c.targets).toHaveLength(1);
    expect(c.targets[0]?.name).not.toContain('localhost');
    expect(c.nri.protocol).toBe(4);
    expect(enabled(c, 'pg_locks')).toBeUndefined();
    // The agent's defaults still apply in nri mode.
    expect(c.log).toEqual({ level: 'warn', format: 'agent' });
  });

  it('not in otel mode', () => {
    const c = loadConfig({
      env: { ...CREDENTIALS, TEMP_DIR: '/tmp/x', VERBOSE: '1' },
      knownCollectors: builtinCollectorNames(),
    });
    expect(c.targets).toEqual([]);
    expect(c.log).toEqual({ level: 'info', format: 'json' });
    expect(c.nri.stateDir).toBeUndefined();
  });

  it('in hybrid mode only when credentials are given', () => {
    const bare = nri({}, { flags: { mode: 'hybrid' } });
    expect(bare.noTargetConfigured).toBe(true);
    expect(bare.log).toEqual({ level: 'warn', format: 'agent' });
    const given = nri(CREDENTIALS, { flags: { mode: 'hybrid' } });
    expect(given.targets[0]?.name).toBe('localhost:5432');
    // A desktop session's USERNAME alone is not a request for a drop-in target.
    const desktop = nri({ USERNAME: 'alice' }, { flags: { mode: 'hybrid' } });
    expect(desktop.noTargetConfigured).toBe(true);
  });

  it('with a datastore (stored targets) only when credentials are given', () => {
    const env = { PGQUERYLENS_DATASTORE_URL: 'postgres://ds@store/pgql' };
    expect(nri(env).noTargetConfigured).toBe(true);
    expect(nri({ ...env, ...CREDENTIALS }).targets).toHaveLength(1);
  });

  it('puts set variables above the file and unset ones below it', () => {
    const yaml = file(
      'nri-mode.yaml',
      'nri: { protocol: 4 }\ncollectors:\n  pg_locks: { enabled: true }\n  pg_table_bloat: { enabled: false }\n',
    );
    const fromFile = nri(CREDENTIALS, { configPath: yaml });
    expect(fromFile.nri.protocol).toBe(4);
    expect(enabled(fromFile, 'pg_locks')).toBe(true);
    expect(enabled(fromFile, 'pg_table_bloat')).toBe(false);

    const explicit = nri(
      { ...CREDENTIALS, COLLECT_DB_LOCK_METRICS: 'false', COLLECT_BLOAT_METRICS: 'true' },
      { configPath: yaml },
    );
    expect(enabled(explicit, 'pg_locks')).toBe(false);
    expect(enabled(explicit, 'pg_table_bloat')).toBe(true);
  });

  it('lets PGQUERYLENS_* variables and flags override the nri ones', () => {
    const c = nri({
      ...CREDENTIALS,
      PGQUERYLENS_NRI_PROTOCOL: '4',
      PGQUERYLENS_NRI_STATE_DIR: '/var/lib/pgql',
      PGQUERYLENS_LOG_LEVEL: 'error',
      TEMP_DIR: '/tmp/agent',
    });
    expect(c.nri.protocol).toBe(4);
    expect(c.nri.stateDir).toBe('/var/lib/pgql');
    expect(c.log.level).toBe('error');
    expect(
      nri({ ...CREDENTIALS, VERBOSE: '1' }, { flags: { log: { level: 'info' } } }).log.level,
    ).toBe('info');
  });
});

describe('the agent variables', () => {
  it('map TEMP_DIR, NRI_CONFIG_INTERVAL, VERBOSE and CACHE_TTL', () => {
    const c = nri({
      ...CREDENTIALS,
      TEMP_DIR: '/tmp/nr-integrations',
      NRI_CONFIG_INTERVAL: '1m0s',
      VERBOSE: '1',
      CACHE_TTL: '10m',
    });
    expect(c.nri.stateDir).toBe('/tmp/nr-integrations');
    expect(c.intervalMs).toBe(60_000);
    expect(c.log).toEqual({ level: 'debug', format: 'agent' });
    expect(c.nri.stateTtlMs).toBe(600_000);
  });

  it('apply beside a pgquerylens file, which wins where it sets the same thing', () => {
    const yaml = file(
      'agent.yaml',
      'interval: 45s\nlog: { level: info }\ntargets:\n  - url: postgres://mon@db/postgres\n',
    );
    const c = nri(
      { TEMP_DIR: '/tmp/t', NRI_CONFIG_INTERVAL: '15s', VERBOSE: '1' },
      { configPath: yaml },
    );
    expect(c.intervalMs).toBe(45_000);
    expect(c.log).toEqual({ level: 'info', format: 'agent' });
    expect(c.nri.stateDir).toBe('/tmp/t');
  });

  it('leave the interval alone for a run-once integration (interval 0)', () => {
    expect(nri({ ...CREDENTIALS, NRI_CONFIG_INTERVAL: '0s' }).intervalMs).toBe(30_000);
    expect(nri({ ...CREDENTIALS, NRI_CONFIG_INTERVAL: '0' }).intervalMs).toBe(30_000);
  });

  it.each([
    ['30s', 30_000],
    ['1m0s', 60_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['500ms', 500],
    ['2m3.5s', 123_500],
    ['0', 0],
  ])('Go duration %s → %d ms', (text, ms) => {
    expect(parseGoDurationMs(text)).toBe(ms);
  });

  it.each(['', '30', 's', '1d', '-1s', '30 s', '1m 0s'])('rejects Go duration %j', (text) => {
    expect(parseGoDurationMs(text)).toBeUndefined();
  });
});

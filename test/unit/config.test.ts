import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadConfigInput } from '../../src/core/config/load-config.js';
import { ConfigError } from '../../src/core/errors.js';
import { redact } from '../../src/core/redact.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pgql-config-'));
const KNOWN = ['pg_stat_database', 'pg_settings'];

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function load(input: Partial<LoadConfigInput>) {
  return loadConfig({ env: {}, knownCollectors: KNOWN, ...input });
}

/** The issues a bad configuration produces, as `path: message` lines. */
function issuesOf(input: Partial<LoadConfigInput>): string[] {
  try {
    load(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('configuration precedence', () => {
  const yaml = file(
    'precedence.yaml',
    `mode: nri
interval: 1m
log: { level: warn, format: text }
connection: { statementTimeout: 3s }
targets:
  - name: from-file
    url: postgres://file@db1:5433/app
`,
  );

  it('reads the YAML file when nothing overrides it', () => {
    const c = load({ configPath: yaml });
    expect(c.mode).toBe('nri');
    expect(c.intervalMs).toBe(60_000);
    expect(c.log).toEqual({ level: 'warn', format: 'text' });
    expect(c.targets).toHaveLength(1);
    expect(c.targets[0]).toMatchObject({
      name: 'from-file',
      host: 'db1',
      port: 5433,
      user: 'file',
      database: 'app',
      statementTimeoutMs: 3_000,
      maxConnections: 5,
      maxConcurrentQueries: 2,
      lockTimeoutMs: 100,
    });
  });

  it('lets the environment override the file, and flags override both', () => {
    const env = {
      PGQUERYLENS_MODE: 'hybrid',
      PGQUERYLENS_INTERVAL: '20s',
      PGQUERYLENS_LOG_LEVEL: 'debug',
    };
    const fromEnv = load({ configPath: yaml, env });
    expect(fromEnv.mode).toBe('hybrid');
    expect(fromEnv.intervalMs).toBe(20_000);
    expect(fromEnv.log).toEqual({ level: 'debug', format: 'text' });

    const fromFlags = load({ configPath: yaml, env, flags: { mode: 'otel', interval: '5s' } });
    expect(fromFlags.mode).toBe('otel');
    expect(fromFlags.intervalMs).toBe(5_000);
    expect(fromFlags.log.level).toBe('debug');
  });

  it('puts caller defaults below the file, the environment and flags', () => {
    const defaults = { interval: '10s', output: { format: 'summary' } };
    expect(load({ defaults }).intervalMs).toBe(10_000);
    expect(load({ defaults, configPath: yaml }).intervalMs).toBe(60_000);
    expect(load({ defaults, env: { PGQUERYLENS_INTERVAL: '7s' } }).intervalMs).toBe(7_000);
    expect(load({ defaults, flags: { output: { path: '/tmp/x' } } }).output).toEqual({
      format: 'summary',
      path: '/tmp/x',
    });
  });

  it('replaces the target list from a higher layer rather than appending', () => {
    const c = load({
      configPath: yaml,
      env: { PGQUERYLENS_TARGETS: 'postgres://a@h1/x, postgres://b@h2:6000/y' },
    });
    // Default names are host:port, plus the database when it is not the default one.
    expect(c.targets.map((t) => t.name)).toEqual(['h1:5432/x', 'h2:6000/y']);
    const flagged = load({
      configPath: yaml,
      flags: { targets: [{ url: 'postgres://c@h3/postgres' }] },
    });
    expect(flagged.targets.map((t) => t.name)).toEqual(['h3:5432']);
  });

  it('builds a single target from PG* variables only when no target is configured', () => {
    const env = {
      PGHOST: 'pghost',
      PGPORT: '6543',
      PGUSER: 'mon',
      PGPASSWORD: 'pg-env-pass',
      PGDATABASE: 'ops',
      PGSSLMODE: 'require',
    };
    const c = load({ env });
    expect(c.targets).toHaveLength(1);
    expect(c.targets[0]).toMatchObject({
      name: 'pghost:6543/ops',
      host: 'pghost',
      port: 6543,
      user: 'mon',
      password: 'pg-env-pass',
      database: 'ops',
      ssl: { mode: 'require' },
    });
    expect(load({ configPath: yaml, env }).targets[0]?.name).toBe('from-file');
  });

  it('reports no target (for the embedded demo) when nothing names one', () => {
    const c = load({});
    expect(c.noTargetConfigured).toBe(true);
    expect(c.mode).toBe('otel');
    expect(c.intervalMs).toBe(30_000);
  });

  it('reads secrets from *_FILE variables, passwordFile and passwordEnv', () => {
    const urls = file('targets.txt', 'postgres://u:file-secret-1@h9/db\n');
    const pw = file('pw.txt', 'file-secret-2\n');
    const c = load({ env: { PGQUERYLENS_TARGETS_FILE: urls } });
    expect(c.targets[0]?.password).toBe('file-secret-1');

    const d = load({
      env: { MY_PW: 'env-secret-3', PGQUERYLENS_PASSWORD_FILE: pw },
      flags: {
        targets: [
          { name: 'a', host: 'h', passwordEnv: 'MY_PW' },
          { name: 'b', host: 'h', passwordFile: pw },
          { name: 'c', host: 'h' },
        ],
      },
    });
    expect(d.targets.map((t) => t.password)).toEqual([
      'env-secret-3',
      'file-secret-2',
      'file-secret-2',
    ]);
    // Every secret read is now masked wherever it appears.
    expect(redact('a file-secret-1 b env-secret-3 c file-secret-2')).toBe('a **** b **** c ****');
  });

  it('accepts an empty database list: server-wide collectors only', () => {
    const c = load({ flags: { targets: [{ host: 'h', databases: [] }] } });
    expect(c.targets[0]?.databases).toEqual([]);
  });

  it('adds PGQUERYLENS_NRI_PROTOCOL and PGQUERYLENS_NRI_STATE_DIR to the nri section', () => {
    const c = load({
      env: { PGQUERYLENS_NRI_PROTOCOL: '3', PGQUERYLENS_NRI_STATE_DIR: '/var/lib/pgql' },
    });
    expect(c.nri.protocol).toBe(3);
    expect(c.nri.stateDir).toBe('/var/lib/pgql');
    expect(issuesOf({ env: { PGQUERYLENS_NRI_PROTOCOL: '5' } })).toEqual([
      'nri.protocol: Invalid input',
    ]);
  });

  it('applies collector settings and rejects unknown collectors', () => {
    const c = load({ flags: { collectors: { pg_settings: { enabled: false, interval: '5m' } } } });
    expect(c.collectors.pg_settings).toEqual({ enabled: false, intervalMs: 300_000 });
    expect(issuesOf({ flags: { collectors: { pg_stat_databse: { enabled: true } } } })).toEqual([
      'collectors.pg_stat_databse: unknown collector (did you mean pg_stat_database?)',
    ]);
  });
});

describe('configuration errors name the key and what is wrong', () => {
  it.each([
    [{ mode: 'agent' }, 'mode: must be one of "nri", "otel", "hybrid"'],
    [{ interval: 'soon' }, 'interval: invalid duration "soon": use e.g. 500ms, 30s, 10m, 1h'],
    [{ interval: '0s' }, 'interval: must be greater than 0'],
    [{ interval: '30d' }, 'interval: must be at most 24d'],
    [
      { targets: [{ host: 'h', port: 70000 }] },
      'targets[0].port: Too big: expected number to be <=65535',
    ],
    [
      { targets: [{ host: 'h', port: 'abc' }] },
      'targets[0].port: expected number, got string "abc"',
    ],
    [{ targets: [{ host: 'h', hots: 'x' }] }, 'targets[0].hots: unknown key'],
    [{ targets: [{ port: 5432 }] }, 'targets[0].url: set url or host'],
    [
      { targets: [{ url: 'postgres://h/db', host: 'h' }] },
      'targets[0].host: set url or host, not both',
    ],
    [
      { targets: [{ host: 'h', sslmode: 'maybe' }] },
      'targets[0].sslmode: must be one of "disable", "allow", "prefer", "require", "verify-ca", "verify-full"',
    ],
    [
      { targets: [{ host: 'h', password: 'x', passwordEnv: 'Y' }] },
      'targets[0].password: set only one of password, passwordFile, passwordEnv',
    ],
    [{ targets: [{ host: 'h', databases: [''] }] }, 'targets[0].databases[0]: must not be empty'],
    [
      { targets: [{ url: 'mysql://h/db' }] },
      'targets[0].url: unsupported scheme mysql: (use postgres://)',
    ],
    [
      { targets: [{ url: 'postgres://h/db?sslmod=require' }] },
      'targets[0].url: unsupported URL parameter "sslmod"',
    ],
    [
      { targets: [{ host: 'h', passwordFile: '/nonexistent/pw' }] },
      'targets[0].passwordFile: cannot read /nonexistent/pw: no such file',
    ],
    [
      { targets: [{ host: 'h', passwordEnv: 'PGQL_UNSET_VAR' }] },
      'targets[0].passwordEnv: environment variable PGQL_UNSET_VAR is not set',
    ],
    [
      { targets: [{ host: 'h' }, { host: 'h' }] },
      'targets[1].name: duplicate target name "h:5432" (also targets[0])',
    ],
    [{ export: { queueSize: 0 } }, 'export.queueSize: Too small: expected number to be >=1'],
    [{ bogus: 1 }, 'bogus: unknown key'],
    // The value of a password-like key is never echoed, even when it has the wrong type.
    [
      { targets: [{ host: 'h', password: 987654 }] },
      'targets[0].password: expected string, got number',
    ],
  ])('%j → %s', (flags, expected) => {
    expect(issuesOf({ flags })).toContain(expected);
  });

  it('lists every problem, one per line', () => {
    expect(
      issuesOf({ flags: { mode: 'x', interval: 'y', targets: [{ host: 'h', port: 0 }] } }),
    ).toHaveLength(3);
  });

  it('names the environment variable that is wrong', () => {
    expect(issuesOf({ env: { PGQUERYLENS_MAX_CONNECTIONS: 'lots' } })).toEqual([
      'PGQUERYLENS_MAX_CONNECTIONS: expected a number, got "lots"',
    ]);
    expect(
      issuesOf({ env: { PGQUERYLENS_PASSWORD: 'a', PGQUERYLENS_PASSWORD_FILE: '/x' } }),
    ).toEqual([
      'PGQUERYLENS_PASSWORD: set PGQUERYLENS_PASSWORD or PGQUERYLENS_PASSWORD_FILE, not both',
    ]);
    expect(issuesOf({ env: { PGQUERYLENS_DATASTORE_URL_FILE: '/nonexistent/x' } })).toEqual([
      'PGQUERYLENS_DATASTORE_URL_FILE: cannot read /nonexistent/x: no such file',
    ]);
  });

  it('reports YAML syntax errors with line and column, and a missing file', () => {
    const bad = file('bad.yaml', 'mode: otel\ntargets: [\n  - host: x\n');
    const [line] = issuesOf({ configPath: bad });
    expect(line).toMatch(/bad\.yaml at line \d+, column \d+: /);
    expect(issuesOf({ configPath: path.join(dir, 'missing.yaml') })).toEqual([
      `cannot read config file ${path.join(dir, 'missing.yaml')}: no such file`,
    ]);
    const list = file('list.yaml', '- a\n- b\n');
    expect(issuesOf({ configPath: list })).toEqual([
      `${list}: the top level must be a mapping of keys`,
    ]);
  });

  it('never echoes a password from a malformed URL', () => {
    const lines = issuesOf({ flags: { targets: [{ url: 'postgres://u:hunter2-secret@[bad' }] } });
    expect(lines.join('\n')).not.toContain('hunter2-secret');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinCollectorNames } from '../../src/collectors/builtin-collectors.js';
import { loadConfig } from '../../src/core/config/load-config.js';
import type { ResolvedConfig } from '../../src/core/config/resolved-config.js';
import { ConfigError, type ConfigIssue } from '../../src/core/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pgql-custom-'));
const CREDENTIALS = { USERNAME: 'newrelic', PASSWORD: 'custom-pw-1' };

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function withCustomConfig(text: string, env: NodeJS.ProcessEnv = {}): ResolvedConfig {
  return loadConfig({
    env: { ...CREDENTIALS, CUSTOM_METRICS_CONFIG: file('queries.yml', text), ...env },
    flags: { mode: 'nri' },
    knownCollectors: builtinCollectorNames(),
  });
}

function issuesOf(text: string): ConfigIssue[] {
  try {
    withCustomConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('CUSTOM_METRICS_CONFIG', () => {
  it('converts nri-postgresql custom queries into customQueries.queries', () => {
    const c = withCustomConfig(`---
queries:
  # Metric names are the column names.
  - query: >-
      SELECT checkpoints_timed AS scheduled, buffers_alloc
      FROM pg_stat_bgwriter;
    database: postgres
    metric_types:
      buffers_alloc: rate
      scheduled: delta
    sample_name: MyCustomSample
  - query: SELECT relname, n_live_tup FROM pg_stat_user_tables
  - query: SELECT 1 AS one
    database: 2024
    metric_types:
      one: attribute
`);
    expect(c.customQueries.queries).toEqual([
      {
        query: 'SELECT checkpoints_timed AS scheduled, buffers_alloc FROM pg_stat_bgwriter;',
        database: 'postgres',
        metricTypes: { buffers_alloc: 'rate', scheduled: 'delta' },
        sampleName: 'MyCustomSample',
      },
      {
        query: 'SELECT relname, n_live_tup FROM pg_stat_user_tables',
        metricTypes: {},
        sampleName: 'PostgresqlCustomSample',
      },
      {
        query: 'SELECT 1 AS one',
        database: '2024',
        metricTypes: { one: 'attribute' },
        sampleName: 'PostgresqlCustomSample',
      },
    ]);
    expect(c.customQueries.metricsQuery).toBeUndefined();
  });

  it('takes an empty list, and CUSTOM_METRICS_QUERY beside it', () => {
    const c = withCustomConfig('queries: []\n', {
      CUSTOM_METRICS_QUERY: "SELECT 'a' AS metric_name, 'gauge' AS metric_type, 1 AS metric_value",
    });
    expect(c.customQueries.queries).toEqual([]);
    expect(c.customQueries.metricsQuery).toMatch(/^SELECT 'a'/);
  });

  it('names the variable and the reason when the file cannot be read', () => {
    const missing = path.join(dir, 'absent.yml');
    let issues: readonly ConfigIssue[] = [];
    try {
      loadConfig({
        env: { ...CREDENTIALS, CUSTOM_METRICS_CONFIG: missing },
        flags: { mode: 'nri' },
        knownCollectors: [],
      });
    } catch (err) {
      issues = (err as ConfigError).issues;
    }
    expect(issues).toEqual([
      {
        path: 'CUSTOM_METRICS_CONFIG',
        message: `${missing}: cannot read the custom queries file: no such file`,
      },
    ]);
  });

  it.each([
    ['queries:\n  - query: [\n', /line \d+, column \d+: /],
    ['', /expected a top-level `queries:` list/],
    ['- query: SELECT 1\n', /expected a top-level `queries:` list/],
    ['queries: SELECT 1\n', /expected a top-level `queries:` list/],
    ['queries: []\nextra: 1\n', /unknown top-level key "extra"/],
    ['queries:\n  - SELECT 1\n', /queries\[0\]: expected a mapping with a query/],
    ['queries:\n  - database: postgres\n', /queries\[0\]\.query: is required/],
    ["queries:\n  - query: ''\n", /queries\[0\]\.query: must not be empty/],
    [
      'queries:\n  - query: SELECT 1\n    metrics_types: {a: rate}\n',
      /queries\[0\]\.metrics_types: unknown key/,
    ],
    [
      'queries:\n  - query: SELECT 1\n    metric_types: {a: counter}\n',
      /queries\[0\]\.metric_types\.a: must be one of "gauge", "rate"/,
    ],
    [
      'queries:\n  - query: SELECT 1\n    sample_name: My Sample\n',
      /queries\[0\]\.sample_name: use letters, digits and _ only/,
    ],
    [
      'queries:\n  - query: SELECT 1\n    database: [a]\n',
      /queries\[0\]\.database: expected string/,
    ],
  ])('reports %j on CUSTOM_METRICS_CONFIG', (text, message) => {
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('CUSTOM_METRICS_CONFIG');
    expect(issues[0]?.message).toMatch(message);
    expect(issues[0]?.message).toContain('queries.yml');
  });

  it('reports every bad entry, not only the first', () => {
    const issues = issuesOf(
      'queries:\n  - query: SELECT 1\n  - sample_name: X\n  - query: SELECT 2\n    metric_types: {a: b}\n',
    );
    expect(issues.map((i) => i.message.replace(/^.*queries\.yml: /, ''))).toEqual([
      'queries[1].query: is required',
      expect.stringMatching(/^queries\[2\]\.metric_types\.a: must be one of/) as string,
    ]);
  });
});

describe('customQueries in a pgquerylens file', () => {
  it('is read in any mode, with its timeout', () => {
    const yaml = file(
      'pgql.yaml',
      `customQueries:
  timeout: 3s
  metricsQuery: SELECT 'n' AS metric_name, 'gauge' AS metric_type, 1 AS metric_value
  queries:
    - query: SELECT 1 AS one
      database: app
      metricTypes: { one: gauge }
      sampleName: OneSample
`,
    );
    const c = loadConfig({ configPath: yaml, env: {}, knownCollectors: [] });
    expect(c.customQueries).toEqual({
      metricsQuery: "SELECT 'n' AS metric_name, 'gauge' AS metric_type, 1 AS metric_value",
      queries: [
        {
          query: 'SELECT 1 AS one',
          database: 'app',
          metricTypes: { one: 'gauge' },
          sampleName: 'OneSample',
        },
      ],
      timeoutMs: 3_000,
    });
  });
});

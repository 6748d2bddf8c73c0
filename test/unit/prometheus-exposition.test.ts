import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  metricPointFamilies,
  prometheusLabels,
  renderExposition,
  renderSelfMetrics,
  selfMetricFamilies,
  type PrometheusFamily,
} from '../../src/adapters/prometheus/prometheus-exposition.js';
import type { SelfMetricPoint } from '../../src/core/self-telemetry.js';
import { METRIC_DESCRIPTORS } from '../../src/core/semantic-metrics/catalogue.js';
import type {
  MetricDescriptor,
  MetricPoint,
} from '../../src/core/semantic-metrics/metric-types.js';

const hasPromtool = spawnSync('promtool', ['--version']).error === undefined;

function descriptor(name: string): MetricDescriptor {
  const found = METRIC_DESCRIPTORS.find((d) => d.name === name);
  if (found === undefined) throw new Error(`no descriptor ${name}`);
  return found;
}

function point(
  name: string,
  value: number,
  attributes: MetricPoint['attributes'] = {},
): MetricPoint {
  return { descriptor: descriptor(name), value, attributes };
}

describe('renderExposition', () => {
  it('writes HELP, TYPE and samples, escaped, sorted, non-finite values spelled out', () => {
    const text = renderExposition([
      {
        name: 'zeta',
        help: 'Last \\ family\nwith two lines',
        type: 'gauge',
        samples: [
          { labels: { b: 'x', a: 'quote " back \\ nl \n end' }, value: Number.NaN },
          { labels: { a: '1' }, value: Number.POSITIVE_INFINITY },
          { labels: { a: '0' }, value: Number.NEGATIVE_INFINITY },
        ],
      },
      {
        name: 'alpha_total',
        help: 'First.',
        type: 'counter',
        samples: [{ labels: {}, value: 42 }],
      },
    ]);
    expect(text).toBe(
      [
        '# HELP alpha_total First.',
        '# TYPE alpha_total counter',
        'alpha_total 42',
        '# HELP zeta Last \\\\ family\\nwith two lines',
        '# TYPE zeta gauge',
        'zeta{a="0"} -Inf',
        'zeta{a="1"} +Inf',
        'zeta{a="quote \\" back \\\\ nl \\n end",b="x"} NaN',
        '',
      ].join('\n'),
    );
  });

  it('merges families of one name into one block and drops what would clash', () => {
    const text = renderExposition([
      {
        name: 'm',
        help: 'First help.',
        type: 'gauge',
        samples: [{ labels: { k: 'b' }, value: 2 }],
      },
      {
        name: 'm',
        help: 'Second help.',
        type: 'gauge',
        samples: [
          { labels: { k: 'a' }, value: 1 },
          // The same series again: Prometheus would reject the scrape's duplicate.
          { labels: { k: 'b' }, value: 99 },
        ],
      },
      // Another type under the same name cannot share the block.
      { name: 'm', help: 'Counter.', type: 'counter', samples: [{ labels: { k: 'c' }, value: 3 }] },
      { name: 'empty', help: 'Nothing.', type: 'gauge', samples: [] },
    ]);
    expect(text).toBe('# HELP m First help.\n# TYPE m gauge\nm{k="a"} 1\nm{k="b"} 2\n');
  });

  it('renders nothing for no samples', () => {
    expect(renderExposition([])).toBe('');
  });
});

describe('metricPointFamilies', () => {
  it('names, types and labels semantic points', () => {
    const families = metricPointFamilies(
      [
        point('postgresql.commits', 10, { 'db.namespace': 'app' }),
        point('postgresql.commits', 20, { 'db.namespace': 'other' }),
        point('postgresql.backends', 3, { 'db.namespace': 'app' }),
        point('postgresql.connection.max', 100),
      ],
      { server_address: 'db1', server_port: '5432', db_system_name: 'postgresql' },
      { env: 'prod', 'team.name': 'core', server_address: 'spoofed', 'db.namespace': 'ignored' },
    );
    const byName = new Map(families.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual([
      'postgresql_backends',
      'postgresql_commits_total',
      'postgresql_connection_max',
    ]);
    expect(byName.get('postgresql_commits_total')).toMatchObject({
      type: 'counter',
      help: descriptor('postgresql.commits').description,
    });
    // An up-down counter can go down: a gauge for Prometheus.
    expect(byName.get('postgresql_backends')?.type).toBe('gauge');
    expect(byName.get('postgresql_commits_total')?.samples).toEqual([
      {
        labels: {
          env: 'prod',
          team_name: 'core',
          db_namespace: 'app',
          server_address: 'db1',
          server_port: '5432',
          db_system_name: 'postgresql',
        },
        value: 10,
      },
      {
        labels: {
          env: 'prod',
          team_name: 'core',
          db_namespace: 'other',
          server_address: 'db1',
          server_port: '5432',
          db_system_name: 'postgresql',
        },
        value: 20,
      },
    ]);
    // A point without the attribute keeps the target label of that name.
    expect(byName.get('postgresql_connection_max')?.samples[0]?.labels.db_namespace).toBe(
      'ignored',
    );
  });

  it('keeps values in the OTel unit the name states', () => {
    const [family] = metricPointFamilies([
      point('postgresql.bgwriter.duration', 1500, { type: 'write' }),
    ]);
    expect(family).toMatchObject({
      name: 'postgresql_bgwriter_duration_milliseconds_total',
      samples: [{ labels: { type: 'write' }, value: 1500 }],
    });
  });
});

describe('prometheusLabels', () => {
  it('joins colliding attributes in key order and drops reserved names', () => {
    expect(
      prometheusLabels({ 'a.b': 'dot', a_b: 'underscore', __name__: 'x', n: 3, t: true }),
    ).toEqual({ a_b: 'dot;underscore', n: '3', t: 'true' });
  });
});

describe('selfMetricFamilies', () => {
  it('groups readings of one metric into one family', () => {
    const base = { description: 'Batches exported.', unit: '{batch}', integer: true } as const;
    const points: SelfMetricPoint[] = [
      {
        ...base,
        name: 'pgquerylens.export.batches',
        kind: 'counter',
        value: 4,
        attributes: { adapter: 'otlp' },
      },
      {
        ...base,
        name: 'pgquerylens.export.batches',
        kind: 'counter',
        value: 2,
        attributes: { adapter: 'nri' },
      },
      {
        name: 'pgquerylens.collector.duration',
        description: 'Last cycle.',
        unit: 's',
        kind: 'gauge',
        integer: false,
        value: 0.25,
        attributes: {},
      },
    ];
    expect(renderSelfMetrics(points)).toBe(renderExposition(selfMetricFamilies(points)));
    expect(renderSelfMetrics(points)).toBe(
      [
        '# HELP pgquerylens_collector_duration_seconds Last cycle.',
        '# TYPE pgquerylens_collector_duration_seconds gauge',
        'pgquerylens_collector_duration_seconds 0.25',
        '# HELP pgquerylens_export_batches_total Batches exported.',
        '# TYPE pgquerylens_export_batches_total counter',
        'pgquerylens_export_batches_total{adapter="nri"} 2',
        'pgquerylens_export_batches_total{adapter="otlp"} 4',
        '',
      ].join('\n'),
    );
  });
});

describe('promtool', () => {
  it.skipIf(!hasPromtool)('accepts the output (skipped when promtool is not installed)', () => {
    const families: PrometheusFamily[] = [
      ...metricPointFamilies(
        [
          point('postgresql.commits', 7, { 'db.namespace': 'we"ird\\name\nx' }),
          point('postgresql.commits', 8, { 'db.namespace': 'ünïcödé 数据库' }),
          point('postgresql.backends', 2, { 'db.namespace': 'app' }),
          point('postgresql.connection.max', 100),
        ],
        { server_address: '10.0.0.1', server_port: '5432', db_system_name: 'postgresql' },
        { '1st-label': 'v', 'env.name': 'prod' },
      ),
      {
        name: 'odd_values',
        help: 'Help with \\ backslash\nand newline.',
        type: 'gauge',
        samples: [
          { labels: { k: 'nan' }, value: Number.NaN },
          { labels: { k: 'inf' }, value: Number.POSITIVE_INFINITY },
          { labels: { k: 'tiny' }, value: 5e-324 },
          { labels: { k: 'huge' }, value: 1e300 },
        ],
      },
    ];
    const text = renderExposition(families);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import {
  prometheusLabelName,
  prometheusMetricName,
  type OtelMetricKind,
} from '../../src/adapters/prometheus/prometheus-names.js';
import { METRIC_DESCRIPTORS } from '../../src/core/semantic-metrics/catalogue.js';

describe('prometheusMetricName', () => {
  // otel.md §1: what Prometheus' OTLP receiver names the receiver's metrics.
  it.each<[string, string, OtelMetricKind, string]>([
    ['postgresql.commits', '1', 'counter', 'postgresql_commits_total'],
    ['postgresql.backends', '1', 'updown-counter', 'postgresql_backends'],
    ['postgresql.db_size', 'By', 'updown-counter', 'postgresql_db_size_bytes'],
    [
      'postgresql.bgwriter.duration',
      'ms',
      'counter',
      'postgresql_bgwriter_duration_milliseconds_total',
    ],
    ['postgresql.wal.lag', 's', 'gauge', 'postgresql_wal_lag_seconds'],
    ['postgresql.connection.max', '{connection}', 'gauge', 'postgresql_connection_max'],
  ])('%s (%s, %s) → %s', (name, unit, kind, expected) => {
    expect(prometheusMetricName(name, unit, kind)).toBe(expected);
  });

  // Cases of prometheus/otlptranslator's own tests (UnderscoreEscapingWithSuffixes).
  it.each<[string, string, OtelMetricKind, string]>([
    ['requests', '', 'counter', 'requests_total'],
    ['cpu_usage', '1', 'gauge', 'cpu_usage_ratio'],
    ['items', '1', 'counter', 'items_total'],
    ['response_time', 'ms', 'gauge', 'response_time_milliseconds'],
    ['requests', '1/s', 'gauge', 'requests_per_second'],
    ['throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
    ['custom_metric', 'custom_unit', 'gauge', 'custom_metric_custom_unit'],
    ['custom_metric', '{custom}', 'gauge', 'custom_metric'],
    ['custom_metric', 'By/{custom}', 'gauge', 'custom_metric_bytes'],
    ['requests_total', '', 'counter', 'requests_total'],
    ['cpu_usage_ratio', '1', 'gauge', 'cpu_usage_ratio'],
    ['response_time_seconds', 's', 'gauge', 'response_time_seconds'],
    ['cpu_seconds_total', 's', 'counter', 'cpu_seconds_total'],
    ['active_connections', '', 'updown-counter', 'active_connections'],
    [
      'metric__with__multiple__underscores',
      'unit__multiple__underscores',
      'gauge',
      'metric_with_multiple_underscores_unit_multiple_underscores',
    ],
    [
      'custom_metric',
      'unit@with#special/chars',
      'gauge',
      'custom_metric_unit_with_special_per_chars',
    ],
    ['uptime', 'd', 'gauge', 'uptime_days'],
    ['123_requests', '', 'counter', '_123_requests_total'],
  ])('%s (%s, %s) → %s', (name, unit, kind, expected) => {
    expect(prometheusMetricName(name, unit, kind)).toBe(expected);
  });

  it('moves `total` and `ratio` to the end instead of repeating them', () => {
    expect(prometheusMetricName('a.total.b', '1', 'counter')).toBe('a_b_total');
    expect(prometheusMetricName('a.ratio.b', '1', 'gauge')).toBe('a_b_ratio');
    // Only a gauge is a ratio: an up-down counter with unit 1 is a count.
    expect(prometheusMetricName('a.ratio.b', '1', 'updown-counter')).toBe('a_ratio_b');
  });

  it('adds no unit word the name already holds anywhere', () => {
    expect(prometheusMetricName('pg.bytes.read', 'By', 'counter')).toBe('pg_bytes_read_total');
    expect(prometheusMetricName('pg.read', 'By', 'counter')).toBe('pg_read_bytes_total');
  });

  it('gives nothing for a name with no valid character', () => {
    expect(prometheusMetricName('@#$%', '', 'gauge')).toBeUndefined();
    expect(prometheusMetricName('', 's', 'counter')).toBe('seconds_total');
  });

  it('names every catalogue metric validly and distinctly', () => {
    const names = METRIC_DESCRIPTORS.map((d) => prometheusMetricName(d.name, d.unit, d.instrument));
    for (const n of names) expect(n).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    expect(new Set(names).size).toBe(METRIC_DESCRIPTORS.length);
  });
});

describe('prometheusLabelName', () => {
  it.each<[string, string | undefined]>([
    ['db.namespace', 'db_namespace'],
    ['postgresql.index.name', 'postgresql_index_name'],
    ['http.method', 'http_method'],
    ['a-b c', 'a_b_c'],
    ['123invalid', 'key_123invalid'],
    ['_private', 'key_private'],
    ['__reserved__', '__reserved__'],
    ['ünïcode', 'key_n_code'],
    ['', undefined],
    ['...', undefined],
  ])('%s → %s', (name, expected) => {
    expect(prometheusLabelName(name)).toBe(expected);
  });
});

import type { SelfMetricPoint } from '../../core/self-telemetry.js';
import type {
  MetricAttributeValue,
  MetricPoint,
} from '../../core/semantic-metrics/metric-types.js';
import { prometheusLabelName, prometheusMetricName } from './prometheus-names.js';

/** The content type of the text exposition format this module writes. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Prometheus metric types this exporter writes (no histograms or summaries exist upstream). */
export type PrometheusType = 'counter' | 'gauge';

/** One series of a family. */
export interface PrometheusSample {
  /** Valid Prometheus label names → raw (unescaped) values. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Everything exposed under one metric name. */
export interface PrometheusFamily {
  /** Final Prometheus name, suffixes included (`postgresql_commits_total`). */
  readonly name: string;
  /** Raw help text; escaped when written. */
  readonly help: string;
  readonly type: PrometheusType;
  readonly samples: readonly PrometheusSample[];
}

/**
 * Writes families in text format 0.0.4. Families sharing a name are merged into one block (the
 * format forbids a second HELP/TYPE for a name); one whose type differs from the first of that
 * name is dropped rather than corrupt the first, and so is a repeated label set, because
 * Prometheus would reject the sample as a duplicate. Order is by name, then by label set, so
 * two scrapes of the same state are byte-identical. Every `sort()` here is without a comparator:
 * for strings that is UTF-16 code-unit order, independent of the locale.
 */
export function renderExposition(families: readonly PrometheusFamily[]): string {
  const merged = new Map<string, { family: PrometheusFamily; series: Map<string, number> }>();
  for (const family of families) {
    let entry = merged.get(family.name);
    if (entry === undefined) {
      entry = { family, series: new Map() };
      merged.set(family.name, entry);
    } else if (entry.family.type !== family.type) {
      continue;
    }
    for (const sample of family.samples) {
      const key = labelText(sample.labels);
      if (!entry.series.has(key)) entry.series.set(key, sample.value);
    }
  }
  const out: string[] = [];
  for (const name of [...merged.keys()].sort()) {
    const entry = merged.get(name);
    if (entry === undefined || entry.series.size === 0) continue;
    out.push(`# HELP ${name} ${escapeHelp(entry.family.help)}`);
    out.push(`# TYPE ${name} ${entry.family.type}`);
    for (const key of [...entry.series.keys()].sort()) {
      out.push(`${name}${key} ${formatValue(entry.series.get(key) ?? Number.NaN)}`);
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/**
 * Families of semantic metric points. Labels, highest precedence first: `identity` (the server,
 * which nothing may override or two servers' series would merge), the point's attributes, then
 * `defaults` (a target's user labels). Up-down counters are gauges in Prometheus; values keep
 * their OTel unit, which the name's unit suffix states.
 */
export function metricPointFamilies(
  points: readonly MetricPoint[],
  identity: Readonly<Record<string, string>> = {},
  defaults: Readonly<Record<string, MetricAttributeValue>> = {},
): PrometheusFamily[] {
  const base = prometheusLabels(defaults);
  const byName = new Map<
    string,
    { help: string; type: PrometheusType; samples: PrometheusSample[] }
  >();
  // Points share their descriptor object: translate each metric's name once per render.
  const names = new Map<MetricPoint['descriptor'], string | undefined>();
  for (const point of points) {
    const d = point.descriptor;
    let name = names.get(d);
    if (!names.has(d)) {
      name = prometheusMetricName(d.name, d.unit, d.instrument);
      names.set(d, name);
    }
    if (name === undefined) continue;
    let family = byName.get(name);
    if (family === undefined) {
      family = {
        help: d.description,
        type: d.instrument === 'counter' ? 'counter' : 'gauge',
        samples: [],
      };
      byName.set(name, family);
    }
    family.samples.push({
      labels: { ...base, ...prometheusLabels(point.attributes), ...identity },
      value: point.value,
    });
  }
  return [...byName].map(([name, f]) => ({ name, ...f }));
}

/** Families of the collector's own readings. */
export function selfMetricFamilies(points: readonly SelfMetricPoint[]): PrometheusFamily[] {
  const byName = new Map<
    string,
    { help: string; type: PrometheusType; samples: PrometheusSample[] }
  >();
  for (const point of points) {
    const name = prometheusMetricName(point.name, point.unit, point.kind);
    if (name === undefined) continue;
    let family = byName.get(name);
    if (family === undefined) {
      family = { help: point.description, type: point.kind, samples: [] };
      byName.set(name, family);
    }
    family.samples.push({ labels: prometheusLabels(point.attributes), value: point.value });
  }
  return [...byName].map(([name, f]) => ({ name, ...f }));
}

/** The exposition text of the collector's own readings alone (no pull adapter configured). */
export function renderSelfMetrics(points: readonly SelfMetricPoint[]): string {
  return renderExposition(selfMetricFamilies(points));
}

/**
 * Attributes as labels. Two attributes that map to one label name have their values joined with
 * `;` in the order of their original names, as Prometheus' OTLP receiver does. Names Prometheus
 * reserves (`__` prefix) and names with nothing valid left are dropped.
 */
export function prometheusLabels(
  attributes: Readonly<Record<string, MetricAttributeValue>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes).sort()) {
    const name = prometheusLabelName(key);
    const value = attributes[key];
    if (name === undefined || name.startsWith('__') || value === undefined) continue;
    const text = String(value);
    out[name] = name in out ? `${out[name]};${text}` : text;
  }
  return out;
}

/** `{a="1",b="2"}` with names sorted, or nothing for no labels. */
function labelText(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return '';
  return `{${names.map((n) => `${n}="${escapeLabelValue(labels[n] ?? '')}"`).join(',')}}`;
}

function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's ParseFloat reads JS number text; only the non-finite spellings differ. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

const NEEDS_ESCAPE = /[\\"\n]/;

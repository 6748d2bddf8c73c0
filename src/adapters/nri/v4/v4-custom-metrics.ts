import { DEFAULT_CUSTOM_SAMPLE } from '../../../core/config/custom-query-settings.js';
import type { ProbeSample, ProbeValue } from '../../../core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { ATTR } from '../../../core/semantic-metrics/attribute-names.js';
import type { DatabaseObjectRef } from '../../../core/semantic-metrics/metric-types.js';
import { cellNumber, typedColumns } from '../cell-values.js';
import { capText } from './v4-event-values.js';
import type { V4AttributeValue, V4Metric, V4MetricType } from './v4-types.js';

/** Attribute naming the custom query's sample (event type in v3), so users can find its rows. */
export const CUSTOM_SAMPLE_ATTRIBUTE = 'custom.sample';

/** The columns of a metrics-query row that say which metric it is, never attributes. */
const METRIC_COLUMNS: ReadonlySet<string> = new Set(['metric_name', 'metric_type', 'metric_value']);

/**
 * What a custom source type (nri-postgresql's names, case-insensitive as the SDK reads them)
 * becomes in protocol 4. The agent turns cumulative values into rates and deltas itself, keyed
 * by metric name and attributes, so no state is kept here. `prate`/`pdelta` (negative results
 * dropped) map like `rate`/`delta`: the agent never reports a negative cumulative difference.
 */
const SOURCE_TYPES: Readonly<Record<string, V4MetricType | 'attribute'>> = {
  gauge: 'gauge',
  rate: 'cumulative-rate',
  prate: 'cumulative-rate',
  delta: 'cumulative-count',
  pdelta: 'cumulative-count',
  attribute: 'attribute',
};

/** A custom metric with the database whose entity it belongs to (the instance when absent). */
export interface RoutedMetric {
  readonly metric: V4Metric;
  readonly object?: DatabaseObjectRef;
}

/**
 * The protocol 4 type of a custom source type name, `attribute` for a column that is text,
 * undefined for anything unknown (such rows or columns are skipped, as nri-postgresql does).
 */
export function customMetricType(
  name: ProbeValue | undefined,
): V4MetricType | 'attribute' | undefined {
  if (typeof name !== 'string') return undefined;
  const lower = name.toLowerCase();
  return Object.hasOwn(SOURCE_TYPES, lower) ? SOURCE_TYPES[lower] : undefined;
}

/**
 * Every custom-query row of the batch as protocol 4 metrics, in collection order:
 * - `metrics-query` rows (CUSTOM_METRICS_QUERY): one metric per row on the instance, named
 *   `metric_name`, of `metric_type`; every other column a string attribute. A row of type
 *   `attribute` has no number and is skipped, as are rows of unknown type or without a name or
 *   a finite value;
 * - `columns` rows (CUSTOM_METRICS_CONFIG): one metric per numeric or boolean (1/0) column on
 *   the sample's database, named `<sampleName>.<column>`, of its configured type (else gauge);
 *   text and `attribute` columns become attributes of the row's metrics, with `db.namespace`.
 * Both carry `custom.sample`. NULLs and non-finite numbers are left out; attribute text is
 * capped at V4_MAX_ATTRIBUTE_LENGTH and empty strings dropped, as on every other v4 metric.
 */
export function customMetrics(batch: UnifiedMetrics): RoutedMetric[] {
  const out: RoutedMetric[] = [];
  for (const sample of batch.probes) {
    if (sample.custom?.form === 'metrics-query') out.push(...metricsQueryMetrics(sample));
    else if (sample.custom?.form === 'columns') out.push(...columnMetrics(sample));
  }
  return out;
}

function metricsQueryMetrics(sample: ProbeSample): RoutedMetric[] {
  const out: RoutedMetric[] = [];
  for (const row of sample.rows) {
    const name = row.metric_name;
    const type = customMetricType(row.metric_type);
    const value = cellNumber(row.metric_value);
    if (typeof name !== 'string' || name === '') continue;
    if (type === undefined || type === 'attribute' || value === undefined) continue;
    const attributes: Record<string, V4AttributeValue> = {};
    for (const [column, cell] of Object.entries(row)) {
      if (!METRIC_COLUMNS.has(column)) setText(attributes, column, cell);
    }
    setText(attributes, CUSTOM_SAMPLE_ATTRIBUTE, sample.custom?.sampleName);
    out.push({ metric: { name, type, value, attributes } });
  }
  return out;
}

function columnMetrics(sample: ProbeSample): RoutedMetric[] {
  const database = sample.database;
  if (database === undefined || database === '') return [];
  const object: DatabaseObjectRef = { database };
  const named = sample.custom?.sampleName;
  // An empty name would make metric names start with a dot.
  const sampleName = named === undefined || named === '' ? DEFAULT_CUSTOM_SAMPLE : named;
  const metricTypes = sample.custom?.metricTypes ?? {};
  const out: RoutedMetric[] = [];
  for (const row of sample.rows) {
    const attributes: Record<string, V4AttributeValue> = {};
    const values: [string, number, V4MetricType][] = [];
    for (const [column, cell, type] of typedColumns(row, metricTypes, customMetricType)) {
      if (type === 'attribute') {
        setText(attributes, column, cell);
        continue;
      }
      const value = cellNumber(cell);
      if (value !== undefined) values.push([`${sampleName}.${column}`, value, type]);
    }
    // Ours last: routing attributes must not be replaced by a column of the same name.
    attributes[ATTR.dbNamespace] = database;
    setText(attributes, CUSTOM_SAMPLE_ATTRIBUTE, sampleName);
    for (const [name, value, type] of values) {
      // Each metric its own attribute object: the JSON is the same, and nothing is shared.
      out.push({ metric: { name, type, value, attributes: { ...attributes } }, object });
    }
  }
  return out;
}

/** Sets `key` to the cell as text (capped); NULL, undefined and empty text are left out. */
function setText(
  attributes: Record<string, V4AttributeValue>,
  key: string,
  cell: ProbeValue | undefined,
): void {
  if (cell === null || cell === undefined) return;
  const text = String(cell);
  if (text !== '') attributes[key] = capText(text);
}

import type { MetricPoint } from '../../../core/semantic-metrics/metric-types.js';
import type { V4Metric, V4MetricType } from './v4-types.js';

/**
 * The protocol 4 type of a point: cumulative counters become `cumulative-count` (the agent turns
 * them into deltas), interval increments `count`, gauges and up-down counts (current values)
 * `gauge`.
 */
export function v4MetricType(point: MetricPoint): V4MetricType {
  const { instrument, temporality } = point.descriptor;
  if (instrument !== 'counter') return 'gauge';
  return temporality === 'delta' ? 'count' : 'cumulative-count';
}

/** One point as a protocol 4 metric; attributes are kept whole (the agent adds entity fields). */
export function toV4Metric(point: MetricPoint, defaultIntervalMs: number): V4Metric {
  const type = v4MetricType(point);
  return {
    name: point.descriptor.name,
    type,
    value: point.value,
    ...(type === 'count' ? { 'interval.ms': point.intervalMs ?? defaultIntervalMs } : {}),
    attributes: { ...point.attributes },
  };
}

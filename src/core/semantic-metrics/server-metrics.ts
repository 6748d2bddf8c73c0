import type { UnifiedMetrics } from '../model/unified-metrics.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { numberAt, rowsOf, secondsBetween, textAt } from './probe-reading.js';

const M = {
  connectionMax: defineMetric({
    name: 'postgresql.connection.max',
    unit: '{connections}',
    instrument: 'gauge',
    description: 'Configured maximum number of client connections (max_connections).',
    receiver: true,
  }),
  uptime: defineMetric({
    name: 'postgresql.uptime',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description: 'Time since the server (postmaster) started.',
  }),
} as const;

/** max_connections from pg_settings, else from pg_server_info. */
function maxConnections(batch: UnifiedMetrics): number | undefined {
  for (const { row } of rowsOf(batch, 'pg_settings')) {
    if (textAt(row, 'name') === 'max_connections') return numberAt(row, 'setting');
  }
  const info = rowsOf(batch, 'pg_server_info')[0]?.row;
  return info === undefined ? undefined : numberAt(info, 'max_connections');
}

/** Server start from pg_server_info, else pg_node_role, against the reading's own time. */
function uptime(batch: UnifiedMetrics): number | undefined {
  for (const probe of ['pg_server_info', 'pg_node_role']) {
    const found = rowsOf(batch, probe)[0];
    if (found === undefined) continue;
    return secondsBetween(textAt(found.row, 'postmaster_start_time'), found.sample.collectedAt);
  }
  return undefined;
}

/** Server-wide settings and identity: pg_settings, pg_server_info, pg_node_role. */
export const SERVER_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    sink.add(M.connectionMax, maxConnections(batch));
    sink.add(M.uptime, uptime(batch));
  },
};

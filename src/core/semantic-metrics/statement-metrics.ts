import type { SlowQuery } from '../model/slow-query.js';
import type { UnifiedMetrics } from '../model/unified-metrics.js';
import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import type { PointSink } from './point-sink.js';
import { boolAt, numberAt, rowsOf, textAt } from './probe-reading.js';

const DB = [ATTR.dbNamespace];

const M = {
  executionTime: defineMetric({
    name: 'postgresql.query.execution.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description:
      'Execution time of the top-level statements pg_stat_statements tracks, per database (the probe reads the 500 with most time, so a lower bound).',
    attributes: DB,
    receiver: true,
  }),
  calls: defineMetric({
    name: 'postgresql.query.calls',
    unit: '{call}',
    instrument: 'counter',
    description:
      'Executions of the top-level statements read from pg_stat_statements, per database.',
    attributes: DB,
  }),
  rows: defineMetric({
    name: 'postgresql.query.rows',
    unit: '{row}',
    instrument: 'counter',
    description:
      'Rows returned or affected by the top-level statements read from pg_stat_statements, per database.',
    attributes: DB,
  }),
  deallocations: defineMetric({
    name: 'postgresql.query.deallocations',
    unit: '{statement}',
    instrument: 'counter',
    description:
      'pg_stat_statements entries evicted to make room (pg_stat_statements_info.dealloc, 1.9+); rising means pg_stat_statements.max is too small.',
  }),
  tracked: defineMetric({
    name: 'postgresql.query.tracked.count',
    unit: '{statement}',
    instrument: 'updown-counter',
    description: 'Entries pg_stat_statements holds for the monitored databases.',
  }),
  topCalls: defineMetric({
    name: 'postgresql.top_query.calls',
    unit: '{call}',
    instrument: 'counter',
    temporality: 'delta',
    description:
      'Executions during the slow-query interval of the statements ranked in its top N, per database.',
    attributes: DB,
  }),
  topExecutionTime: defineMetric({
    name: 'postgresql.top_query.execution.time',
    unit: 's',
    instrument: 'counter',
    temporality: 'delta',
    integer: false,
    description:
      'Execution time during the slow-query interval of its top N statements, per database.',
    attributes: DB,
  }),
  topRows: defineMetric({
    name: 'postgresql.top_query.rows',
    unit: '{row}',
    instrument: 'counter',
    temporality: 'delta',
    description:
      'Rows returned or affected during the slow-query interval by its top N statements.',
    attributes: DB,
  }),
} as const;

/** Sums of the pg_stat_statements probe's top-level rows, per database (nested ones are in them). */
function deriveStatementTotals(batch: UnifiedMetrics, sink: PointSink): void {
  const totals = new Map<string, { time: number; calls: number; rows: number }>();
  let dealloc: number | undefined;
  for (const { row } of rowsOf(batch, 'pg_stat_statements')) {
    dealloc ??= numberAt(row, 'dealloc');
    const database = textAt(row, 'datname');
    if (database === undefined || boolAt(row, 'toplevel') === false) continue;
    const total = totals.get(database) ?? { time: 0, calls: 0, rows: 0 };
    total.time += numberAt(row, 'total_exec_time') ?? 0;
    total.calls += numberAt(row, 'calls') ?? 0;
    total.rows += numberAt(row, 'rows') ?? 0;
    totals.set(database, total);
  }
  for (const [database, total] of totals) {
    const attrs = { [ATTR.dbNamespace]: database };
    const placement = { object: { database } };
    sink.add(M.executionTime, total.time / 1000, attrs, placement);
    sink.add(M.calls, total.calls, attrs, placement);
    sink.add(M.rows, total.rows, attrs, placement);
  }
  sink.add(M.deallocations, dealloc);
}

/** Per-database sums of one interval's ranked statements (top-level only). */
function deriveSlowQueryTotals(slow: readonly SlowQuery[], sink: PointSink): void {
  const totals = new Map<string, { calls: number; time: number; rows: number; seconds: number }>();
  for (const q of slow) {
    if (!q.toplevel) continue;
    const total = totals.get(q.databaseName) ?? { calls: 0, time: 0, rows: 0, seconds: 0 };
    total.calls += q.calls;
    total.time += q.totalExecTimeMs;
    total.rows += q.rows;
    total.seconds = Math.max(total.seconds, q.intervalSeconds);
    totals.set(q.databaseName, total);
  }
  for (const [database, total] of totals) {
    const attrs = { [ATTR.dbNamespace]: database };
    const placement = { object: { database }, intervalMs: total.seconds * 1000 };
    sink.add(M.topCalls, total.calls, attrs, placement);
    sink.add(M.topExecutionTime, total.time / 1000, attrs, placement);
    sink.add(M.topRows, total.rows, attrs, placement);
  }
}

/** pg_stat_statements (cumulative), the slow_queries interval row, and slowQueries (deltas). */
export const STATEMENT_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    deriveStatementTotals(batch, sink);
    const interval = rowsOf(batch, 'slow_queries')[0]?.row;
    if (interval !== undefined) sink.add(M.tracked, numberAt(interval, 'entries'));
    deriveSlowQueryTotals(batch.slowQueries, sink);
  },
};

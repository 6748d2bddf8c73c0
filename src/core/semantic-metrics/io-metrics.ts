import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { msToSeconds, numberAt, rowsOf, textAt } from './probe-reading.js';

const IO = [ATTR.backendType, ATTR.ioObject, ATTR.ioContext, ATTR.ioOperation];

const M = {
  operations: defineMetric({
    name: 'postgresql.io.operations',
    unit: '{operation}',
    instrument: 'counter',
    description:
      'I/O operations by backend type, object (relation, temp relation, WAL on 18+), context and operation (pg_stat_io, PG16+).',
    attributes: IO,
  }),
  time: defineMetric({
    name: 'postgresql.io.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time spent in I/O operations (pg_stat_io, PG16+; needs track_io_timing).',
    attributes: IO,
  }),
} as const;

/** pg_stat_io column → operation value; times exist for the first five. */
const OPERATIONS = [
  ['read', 'reads', 'read_time'],
  ['write', 'writes', 'write_time'],
  ['writeback', 'writebacks', 'writeback_time'],
  ['extend', 'extends', 'extend_time'],
  ['fsync', 'fsyncs', 'fsync_time'],
  ['hit', 'hits', undefined],
  ['eviction', 'evictions', undefined],
  ['reuse', 'reuses', undefined],
] as const;

/** pg_stat_io; NULL cells (operations a backend type never does) yield nothing. */
export const IO_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const { row } of rowsOf(batch, 'pg_stat_io')) {
      const base = {
        [ATTR.backendType]: textAt(row, 'backend_type'),
        [ATTR.ioObject]: textAt(row, 'object'),
        [ATTR.ioContext]: textAt(row, 'context'),
      };
      for (const [operation, count, time] of OPERATIONS) {
        const attrs = { ...base, [ATTR.ioOperation]: operation };
        sink.add(M.operations, numberAt(row, count), attrs);
        if (time !== undefined) sink.add(M.time, msToSeconds(numberAt(row, time)), attrs);
      }
    }
  },
};

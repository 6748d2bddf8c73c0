import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { numberAt, rowsOf, secondsBetween, textAt } from './probe-reading.js';

const M = {
  age: defineMetric({
    name: 'postgresql.wal.age',
    unit: 's',
    instrument: 'gauge',
    description:
      'Time since the last WAL file was archived (pg_stat_archiver); absent until one is archived.',
    receiver: true,
  }),
  lsn: defineMetric({
    name: 'postgresql.wal.lsn',
    unit: 'By',
    instrument: 'counter',
    description:
      'Current WAL position as a byte offset: WAL generated since initdb on a primary, replayed on a standby. Every version, unlike pg_stat_wal.',
  }),
  records: defineMetric({
    name: 'postgresql.wal.records',
    unit: '{record}',
    instrument: 'counter',
    description: 'WAL records generated (pg_stat_wal, PG14+).',
  }),
  fullPageImages: defineMetric({
    name: 'postgresql.wal.full_page_images',
    unit: '{full_page_image}',
    instrument: 'counter',
    description: 'WAL full-page images generated (PG14+).',
  }),
  generated: defineMetric({
    name: 'postgresql.wal.generated',
    unit: 'By',
    instrument: 'counter',
    description: 'WAL generated (pg_stat_wal.wal_bytes, PG14+; reset with the statistics).',
  }),
  buffersFull: defineMetric({
    name: 'postgresql.wal.buffers_full',
    unit: '{event}',
    instrument: 'counter',
    description: 'Times WAL was written because the WAL buffers were full (PG14+).',
  }),
  archived: defineMetric({
    name: 'postgresql.wal.archived',
    unit: '{file}',
    instrument: 'counter',
    description: 'WAL files archived.',
  }),
  archiveFailures: defineMetric({
    name: 'postgresql.wal.archive_failures',
    unit: '{file}',
    instrument: 'counter',
    description: 'Failed attempts to archive a WAL file.',
  }),
} as const;

/** pg_stat_wal with pg_stat_archiver. */
export const WAL_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    const found = rowsOf(batch, 'pg_stat_wal')[0];
    if (found === undefined) return;
    const { row, sample } = found;
    const age = secondsBetween(textAt(row, 'last_archived_time'), sample.collectedAt);
    sink.add(M.age, age === undefined ? undefined : Math.max(0, age));
    sink.add(M.lsn, numberAt(row, 'wal_lsn_bytes'));
    sink.add(M.records, numberAt(row, 'wal_records'));
    sink.add(M.fullPageImages, numberAt(row, 'wal_fpi'));
    sink.add(M.generated, numberAt(row, 'wal_bytes'));
    sink.add(M.buffersFull, numberAt(row, 'wal_buffers_full'));
    sink.add(M.archived, numberAt(row, 'archived_count'));
    sink.add(M.archiveFailures, numberAt(row, 'failed_count'));
  },
};

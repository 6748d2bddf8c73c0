import { progressColumn as col, progressProbe } from './progress-probe.js';

export const pgStatProgressCopy = progressProbe({
  name: 'pg_stat_progress_copy',
  view: 'pg_stat_progress_copy',
  description: 'Running COPY commands: direction, source type, bytes and tuples processed',
  minMajor: 14,
  perRelation: true,
  durationFrom: 'statement',
  columns: [
    col('command', 'text'),
    col('type', 'text'),
    col('bytes_processed', 'int8'),
    col('bytes_total', 'int8'),
    col('tuples_processed', 'int8'),
    col('tuples_excluded', 'int8'),
    // Rows skipped by ON_ERROR ignore.
    col('tuples_skipped', 'int8', { since: 17 }),
  ],
});

import { progressColumn as col, progressProbe } from './progress-probe.js';

export const pgStatProgressBasebackup = progressProbe({
  name: 'pg_stat_progress_basebackup',
  view: 'pg_stat_progress_basebackup',
  description: 'Running base backups (pg_basebackup): phase, bytes streamed of the estimated total',
  minMajor: 13,
  perRelation: false,
  durationFrom: 'statement',
  columns: [
    col('phase', 'text'),
    // NULL unless the client asked for progress (pg_basebackup --progress).
    col('backup_total', 'int8'),
    col('backup_streamed', 'int8'),
    col('tablespaces_total', 'int8'),
    col('tablespaces_streamed', 'int8'),
  ],
});

import { progressColumn as col, progressOidColumn, progressProbe } from './progress-probe.js';

export const pgStatProgressCreateIndex = progressProbe({
  name: 'pg_stat_progress_create_index',
  view: 'pg_stat_progress_create_index',
  description:
    'Running CREATE INDEX and REINDEX: phase, lockers waited for, blocks and tuples processed',
  perRelation: true,
  durationFrom: 'statement',
  columns: [
    progressOidColumn('index_relid'),
    col('command', 'text'),
    col('phase', 'text'),
    col('lockers_total', 'int8'),
    col('lockers_done', 'int8'),
    col('current_locker_pid', 'int8'),
    col('blocks_total', 'int8'),
    col('blocks_done', 'int8'),
    col('tuples_total', 'int8'),
    col('tuples_done', 'int8'),
    col('partitions_total', 'int8'),
    col('partitions_done', 'int8'),
  ],
});

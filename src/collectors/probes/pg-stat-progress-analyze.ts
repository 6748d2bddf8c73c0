import { progressColumn as col, progressOidColumn, progressProbe } from './progress-probe.js';

export const pgStatProgressAnalyze = progressProbe({
  name: 'pg_stat_progress_analyze',
  view: 'pg_stat_progress_analyze',
  description:
    'Running ANALYZEs (manual and autovacuum): phase, sample blocks, extended statistics',
  minMajor: 13,
  perRelation: true,
  durationFrom: 'table',
  columns: [
    col('phase', 'text'),
    col('sample_blks_total', 'int8'),
    col('sample_blks_scanned', 'int8'),
    col('ext_stats_total', 'int8'),
    col('ext_stats_computed', 'int8'),
    col('child_tables_total', 'int8'),
    col('child_tables_done', 'int8'),
    progressOidColumn('current_child_table_relid'),
    col('delay_time', 'float8', { since: 18 }),
  ],
});

import { progressColumn as col, progressOidColumn, progressProbe } from './progress-probe.js';

export const pgStatProgressCluster = progressProbe({
  name: 'pg_stat_progress_cluster',
  view: 'pg_stat_progress_cluster',
  description: 'Running CLUSTER and VACUUM FULL: phase, heap tuples scanned and written',
  perRelation: true,
  durationFrom: 'table',
  columns: [
    col('command', 'text'),
    col('phase', 'text'),
    progressOidColumn('cluster_index_relid'),
    col('heap_tuples_scanned', 'int8'),
    col('heap_tuples_written', 'int8'),
    col('heap_blks_total', 'int8'),
    col('heap_blks_scanned', 'int8'),
    col('index_rebuild_count', 'int8'),
  ],
});

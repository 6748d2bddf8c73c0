import { progressColumn as col, progressProbe } from './progress-probe.js';

/** PG17 measures the dead-item store in bytes, so its columns are new ones, not renames. */
export const pgStatProgressVacuum = progressProbe({
  name: 'pg_stat_progress_vacuum',
  view: 'pg_stat_progress_vacuum',
  description: 'Running VACUUMs (manual and autovacuum): phase, heap blocks scanned, index passes',
  perRelation: true,
  durationFrom: 'table',
  columns: [
    col('phase', 'text'),
    col('heap_blks_total', 'int8'),
    col('heap_blks_scanned', 'int8'),
    col('heap_blks_vacuumed', 'int8'),
    col('index_vacuum_count', 'int8'),
    col('max_dead_tuples', 'int8', { until: 16 }),
    col('num_dead_tuples', 'int8', { until: 16 }),
    col('max_dead_tuple_bytes', 'int8', { since: 17 }),
    col('dead_tuple_bytes', 'int8', { since: 17 }),
    col('num_dead_item_ids', 'int8', { since: 17 }),
    col('indexes_total', 'int8', { since: 17 }),
    col('indexes_processed', 'int8', { since: 17 }),
    // Milliseconds slept in cost-based delay; non-zero only with track_cost_delay_timing.
    col('delay_time', 'float8', { since: 18 }),
  ],
});

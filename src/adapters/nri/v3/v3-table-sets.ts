import type { ProbeValue } from '../../../core/model/probe-sample.js';
import { tableSelected, type V3RelationFilter } from './v3-collection-sets.js';
import {
  databaseRows,
  epochSeconds,
  text,
  toNumber,
  V3SetBuilder,
  type V3BuildContext,
} from './v3-metric-sets.js';

/** Event type of both table sets. */
export const TABLE_SAMPLE = 'PostgresqlTableSample';

/**
 * The table set from pg_stat_all_tables (with pg_statio_all_tables' block counters), user
 * tables only. pg_total_relation_size = pg_table_size + pg_indexes_size, so the index size is
 * the difference of the probe's two sizes.
 */
export function addTableSets(ctx: V3BuildContext, filter: V3RelationFilter): void {
  for (const { database, row } of databaseRows(ctx.batch, 'pg_stat_all_tables')) {
    const schema = text(row, 'schemaname');
    const table = text(row, 'relname');
    if (schema === undefined || table === undefined) continue;
    if (!tableSelected(filter, database, schema, table)) continue;
    tableSet(ctx, database, schema, table)
      .gauge('table.totalSizeInBytes', row.total_size_bytes)
      .gauge('table.indexSizeInBytes', difference(row.total_size_bytes, row.table_size_bytes))
      .gauge('table.liveRows', row.n_live_tup)
      .gauge('table.deadRows', row.n_dead_tup)
      .rate('table.indexBlocksReadPerSecond', row.idx_blks_read)
      .rate('table.indexBlocksHitPerSecond', row.idx_blks_hit)
      .rate('table.indexToastBlocksReadPerSecond', row.toast_blks_read)
      .rate('table.indexToastBlocksHitPerSecond', row.toast_blks_hit)
      .gauge('table.lastVacuum', epochSeconds(row.last_vacuum))
      .gauge('table.lastAutoVacuum', epochSeconds(row.last_autovacuum))
      .gauge('table.lastAnalyze', epochSeconds(row.last_analyze))
      .gauge('table.lastAutoAnalyze', epochSeconds(row.last_autoanalyze))
      .rate('table.sequentialScansPerSecond', row.seq_scan)
      .rate('table.sequentialScanRowsFetchedPerSecond', row.seq_tup_read)
      .rate('table.indexScansPerSecond', row.idx_scan)
      .rate('table.indexScanRowsFetchedPerSecond', row.idx_tup_fetch)
      .rate('table.rowsInsertedPerSecond', row.n_tup_ins)
      .rate('table.rowsUpdatedPerSecond', row.n_tup_upd)
      .rate('table.rowsDeletedPerSecond', row.n_tup_del)
      .add();
  }
}

/**
 * The bloat set from pg_table_bloat, for tables whose estimate came from column statistics.
 * nri's estimate skips tables pg_stats does not fully cover (`is_na`); the probe's fallback
 * (the dead-row share) is another quantity, so those tables get no bloat set either.
 */
export function addBloatSets(ctx: V3BuildContext, filter: V3RelationFilter): void {
  for (const { database, row } of databaseRows(ctx.batch, 'pg_table_bloat')) {
    const schema = text(row, 'schemaname');
    const table = text(row, 'relname');
    if (schema === undefined || table === undefined || row.method !== 'statistics') continue;
    if (!tableSelected(filter, database, schema, table)) continue;
    tableSet(ctx, database, schema, table)
      .gauge('table.bloatSizeInBytes', row.estimated_bloat_bytes)
      .gauge('table.dataSizeInBytes', row.table_size_bytes)
      .gauge('table.bloatRatio', row.bloat_pct)
      .add();
  }
}

function tableSet(
  ctx: V3BuildContext,
  database: string,
  schema: string,
  table: string,
): V3SetBuilder {
  const draft = ctx.registry.entity({
    name: table,
    type: 'pg-table',
    idAttributes: { host: ctx.host, port: ctx.port, 'pg-database': database, 'pg-schema': schema },
  });
  return new V3SetBuilder(ctx, draft, TABLE_SAMPLE, [
    ['displayName', table],
    ['entityName', `table:${table}`],
    ['database', database],
    ['schema', schema],
  ]);
}

/** a - b, NULL when either is (a size read while the table was locked). */
function difference(a: ProbeValue | undefined, b: ProbeValue | undefined): number | undefined {
  const x = toNumber(a);
  const y = toNumber(b);
  return x === undefined || y === undefined ? undefined : x - y;
}

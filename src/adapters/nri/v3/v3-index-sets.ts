import { indexSelected, type V3RelationFilter } from './v3-collection-sets.js';
import { databaseRows, text, V3SetBuilder, type V3BuildContext } from './v3-metric-sets.js';

/** Event type of the index set. */
export const INDEX_SAMPLE = 'PostgresqlIndexSample';

/** One PostgresqlIndexSample per index of a user table, from pg_stat_all_indexes. */
export function addIndexSets(ctx: V3BuildContext, filter: V3RelationFilter): void {
  for (const { database, row } of databaseRows(ctx.batch, 'pg_stat_all_indexes')) {
    const schema = text(row, 'schemaname');
    const table = text(row, 'relname');
    const index = text(row, 'indexrelname');
    if (schema === undefined || table === undefined || index === undefined) continue;
    if (!indexSelected(filter, database, schema, table, index)) continue;
    const draft = ctx.registry.entity({
      name: index,
      type: 'pg-index',
      idAttributes: {
        host: ctx.host,
        port: ctx.port,
        'pg-database': database,
        'pg-schema': schema,
        'pg-table': table,
      },
    });
    new V3SetBuilder(ctx, draft, INDEX_SAMPLE, [
      ['displayName', index],
      ['entityName', `index:${index}`],
      ['database', database],
      ['schema', schema],
      ['table', table],
    ])
      .gauge('index.sizeInBytes', row.index_size_bytes)
      .rate('index.rowsReadPerSecond', row.idx_tup_read)
      .rate('index.rowsFetchedPerSecond', row.idx_tup_fetch)
      .add();
  }
}

import type { ProbeSample, ProbeValue } from '../../../core/model/probe-sample.js';
import { typedColumns } from '../cell-values.js';
import { databaseEntity } from './v3-database-sets.js';
import { V3SetBuilder, type V3BuildContext, type V3SourceType } from './v3-metric-sets.js';
import { instanceName, type V3EntityDraft } from './v3-naming.js';
import type { V3MetricSet } from './v3-types.js';

/** The source types a custom query may name (the SDK's names). */
export type CustomSourceType = V3SourceType;

const SOURCE_TYPES: ReadonlySet<string> = new Set<CustomSourceType>([
  'gauge',
  'rate',
  'delta',
  'prate',
  'pdelta',
  'attribute',
]);

/** The columns of a CUSTOM_METRICS_QUERY row that say which metric it is. */
const METRIC_COLUMNS: ReadonlySet<string> = new Set(['metric_name', 'metric_type', 'metric_value']);

/**
 * A source type by name, case-insensitive as the SDK's `SourceTypeForName`; undefined for
 * anything else (nri-postgresql then skips the row).
 */
export function customSourceType(name: ProbeValue | undefined): CustomSourceType | undefined {
  if (typeof name !== 'string') return undefined;
  const lower = name.toLowerCase();
  return SOURCE_TYPES.has(lower) ? (lower as CustomSourceType) : undefined;
}

/**
 * CUSTOM_METRICS_QUERY: one `PgCustomQuerySample` set per row for the pg-instance entity
 * (`draft`), namespaced by displayName, entityName and every other column as a string, with
 * the one metric `metric_name` of source type `metric_type`. A row whose name is not text or
 * whose type is unknown gets no set, as in nri-postgresql. The sets are returned, not added.
 */
export function metricsQuerySets(ctx: V3BuildContext, draft: V3EntityDraft): V3MetricSet[] {
  const name = instanceName(ctx.host, ctx.port);
  const sets: V3MetricSet[] = [];
  for (const sample of customSamples(ctx, 'metrics-query')) {
    for (const row of sample.rows) {
      const metric = row.metric_name;
      const type = customSourceType(row.metric_type);
      if (typeof metric !== 'string' || metric === '' || type === undefined) continue;
      const attributes: [string, string][] = [
        ['displayName', name],
        ['entityName', `pg-instance:${name}`],
      ];
      for (const [column, value] of Object.entries(row)) {
        // NULL attributes are left out, as every other v3 value (nri would print "<nil>").
        if (METRIC_COLUMNS.has(column) || value === null) continue;
        attributes.push([column, String(value)]);
      }
      // The attributes are the set's namespace, so each row's rates have their own history.
      const set = new V3SetBuilder(ctx, draft, sample.custom?.sampleName ?? '', attributes);
      set.source(metric, row.metric_value, type);
      sets.push(set.values);
    }
  }
  return sets;
}

/**
 * CUSTOM_METRICS_CONFIG: one set per row of each query, of event type `sampleName`, on the
 * pg-database entity of the database it ran in (the one the database sets use), with a
 * `database` attribute. Every column is a metric of its
 * configured type, else gauge for numbers and booleans (1/0), attribute for text; NULL
 * columns are left out. Appended after the other entities' sets, as nri runs them last.
 */
export function addCustomColumnSets(ctx: V3BuildContext): void {
  for (const sample of customSamples(ctx, 'columns')) {
    const database = sample.database;
    if (database === undefined) continue;
    const draft = databaseEntity(ctx, database);
    const metricTypes = sample.custom?.metricTypes ?? {};
    for (const row of sample.rows) {
      // event_type names the set; a column of that name would replace it and lose the set.
      const typed = typedColumns(row, metricTypes, customSourceType, (c) => c === 'event_type');
      // nri's rate key is the set's namespace only, the same for every row of a query, so
      // rows of one query overwrite each other's history. Adding the row's text attributes
      // keeps one history per row (e.g. per datname); a one-row query behaves as in nri.
      const rowKey = typed
        .filter(([, , type]) => type === 'attribute')
        .map(([column, value]): [string, string] => [column, String(value)]);
      const set = new V3SetBuilder(
        ctx,
        draft,
        sample.custom?.sampleName ?? '',
        // Only `database`, as nri-postgresql sets it; the agent fills displayName and
        // entityName with the entity key.
        [['database', database]],
        rowKey,
      );
      for (const [column, value, type] of typed) set.source(column, value, type);
      draft.entity.metrics.push(set.values);
    }
  }
}

/** The batch's custom-query samples of one form, in collection order. */
function customSamples(ctx: V3BuildContext, form: 'metrics-query' | 'columns'): ProbeSample[] {
  return ctx.batch.probes.filter((s) => s.custom?.form === form);
}

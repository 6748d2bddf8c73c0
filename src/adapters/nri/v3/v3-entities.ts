import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import type { RateState } from './rate-state.js';
import type { V3CollectionList } from './v3-collection-sets.js';
import { addCustomColumnSets } from './v3-custom-sets.js';
import { addDatabaseSets, addLockSets } from './v3-database-sets.js';
import { addIndexSets } from './v3-index-sets.js';
import {
  addInstanceSet,
  customQuerySets,
  hasInstanceMetrics,
  instanceEntity,
} from './v3-instance-sets.js';
import { hasInventory, settingsInventory } from './v3-inventory.js';
import type { V3BuildContext } from './v3-metric-sets.js';
import { V3EntityRegistry } from './v3-naming.js';
import { addPgBouncerSets, isPgBouncerBatch } from './v3-pgbouncer-sets.js';
import { addBloatSets, addTableSets } from './v3-table-sets.js';
import type { V3Entity } from './v3-types.js';

/** How nri-postgresql was configured, as far as the entity sets go. */
export interface V3EntityOptions {
  /**
   * COLLECTION_LIST object form `{db: {schema: {table: [index, ...]}}}`: only these
   * tables/indexes get sets; undefined = every table/index the probes returned (array/ALL
   * forms). Databases are already filtered by the collector.
   */
  readonly collection?: V3CollectionList;
  /** COLLECTION_IGNORE_TABLE_LIST: bare table names to leave out (only when `collection` is undefined, as nri does). */
  readonly ignoreTables: readonly string[];
  /** METRICS flag: when both flags are false, both are emitted. */
  readonly metrics: boolean;
  /** INVENTORY flag: when both flags are false, both are emitted. */
  readonly inventory: boolean;
  /** NRI_CLUSTER → `cluster_name` string attribute on every set. */
  readonly clusterName?: string;
  /** NRI_SERVICE → `service_name` string attribute on every set. */
  readonly serviceName?: string;
}

/**
 * Every non-QPM entity of one batch, in nri-postgresql's order: instance first (its set,
 * inventory and custom-query sets), then databases, tables, indexes, then the sets of
 * config-file custom queries (on database entities); a PgBouncer target's
 * batch gives pgbouncer entities. Rates advance `rates`, so call once per batch.
 */
export function buildV3Entities(
  batch: UnifiedMetrics,
  rates: RateState,
  options: V3EntityOptions,
  nowMs: number,
): V3Entity[] {
  // The SDK's default: neither flag given means everything.
  const both = !options.metrics && !options.inventory;
  const metrics = options.metrics || both;
  const inventory = options.inventory || both;
  const common: [string, string][] = [];
  if (options.clusterName !== undefined && options.clusterName !== '') {
    common.push(['cluster_name', options.clusterName]);
  }
  if (options.serviceName !== undefined && options.serviceName !== '') {
    common.push(['service_name', options.serviceName]);
  }
  const ctx: V3BuildContext = {
    batch,
    rates,
    nowMs,
    host: batch.target.host,
    port: String(batch.target.port),
    commonAttributes: common,
    registry: new V3EntityRegistry(),
  };

  if (isPgBouncerBatch(batch)) {
    if (metrics) addPgBouncerSets(ctx);
    return ctx.registry.entities();
  }

  const instanceSet = metrics && hasInstanceMetrics(batch);
  const settings = inventory && hasInventory(batch);
  // Only CUSTOM_METRICS_QUERY rows belong on the instance; config-file queries go to databases.
  const custom = metrics && batch.probes.some((s) => s.custom?.form === 'metrics-query');
  if (instanceSet || settings || custom) {
    const instance = instanceEntity(ctx);
    if (instanceSet) addInstanceSet(ctx, instance);
    if (settings) Object.assign(instance.entity.inventory, settingsInventory(batch));
    if (custom) instance.entity.metrics.push(...customQuerySets(ctx, instance));
  }
  if (!metrics) return ctx.registry.entities();

  const filter = { collection: options.collection, ignoreTables: options.ignoreTables };
  addDatabaseSets(ctx);
  addLockSets(ctx);
  addTableSets(ctx, filter);
  addBloatSets(ctx, filter);
  addIndexSets(ctx, filter);
  // nri runs CUSTOM_METRICS_CONFIG after everything else, reusing the database entities.
  addCustomColumnSets(ctx);
  return ctx.registry.entities();
}

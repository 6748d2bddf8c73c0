import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { deriveMetricPoints } from '../../../core/semantic-metrics/catalogue.js';
import { customMetrics } from './v4-custom-metrics.js';
import { DatasetBook } from './v4-dataset-book.js';
import { entityFor, rootEntity } from './v4-entities.js';
import { queryPerformanceEvents } from './v4-events.js';
import { settingsInventory } from './v4-inventory.js';
import { toV4Metric } from './v4-metrics.js';
import { splitDatasets } from './v4-split.js';
import {
  V4_INTEGRATION_NAME,
  V4_MAX_ITEMS_PER_DOCUMENT,
  type V4AttributeValue,
  type V4Common,
  type V4Document,
  type V4Options,
} from './v4-types.js';

/** cluster_name / service_name, added by the agent to every metric of the dataset. */
function commonAttributes(options: V4Options): Record<string, V4AttributeValue> {
  const attributes: Record<string, V4AttributeValue> = {};
  if (options.clusterName !== undefined && options.clusterName !== '') {
    attributes.cluster_name = options.clusterName;
  }
  if (options.serviceName !== undefined && options.serviceName !== '') {
    attributes.service_name = options.serviceName;
  }
  return attributes;
}

/**
 * The protocol 4 payload(s) for one batch: one document
 * `{protocol_version: "4", integration: {name, version}, data: [...]}` with a dataset per
 * entity (the instance or pooler first, then databases, tables and indexes as their points
 * name them), split into several documents when it would exceed V4_MAX_ITEMS_PER_DOCUMENT
 * metrics and events, so no line is huge. Metrics are the semantic catalogue's points, then
 * the rows of custom queries (v4-custom-metrics.ts); the instance carries the pg_settings
 * inventory; events are the query-performance records.
 */
export function buildV4Documents(
  batch: UnifiedMetrics,
  options: V4Options,
  nowMs: number,
): V4Document[] {
  const book = new DatasetBook();
  const root = rootEntity(batch);
  const rootDataset = book.for(root);
  if (options.metrics) {
    for (const point of deriveMetricPoints(batch)) {
      book
        .for(entityFor(batch, root, point.object))
        .metrics.push(toV4Metric(point, options.intervalMs));
    }
    // Users' own queries after the catalogue, as nri-postgresql runs them last.
    for (const { metric, object } of customMetrics(batch)) {
      book.for(entityFor(batch, root, object)).metrics.push(metric);
    }
  }
  if (options.inventory) rootDataset.inventory = settingsInventory(batch);
  if (options.events && root.type === 'pg-instance') {
    for (const { event, database } of queryPerformanceEvents(batch)) {
      const object = database === undefined || database === '' ? undefined : { database };
      book.for(entityFor(batch, root, object)).events.push(event);
    }
  }
  const common: V4Common = {
    timestamp: nowMs,
    'interval.ms': options.intervalMs,
    attributes: commonAttributes(options),
  };
  const integration = {
    name: options.integrationName ?? V4_INTEGRATION_NAME,
    version: options.integrationVersion,
  };
  return splitDatasets(book.datasets(common), V4_MAX_ITEMS_PER_DOCUMENT).map((data) => ({
    protocol_version: '4',
    integration,
    data,
  }));
}

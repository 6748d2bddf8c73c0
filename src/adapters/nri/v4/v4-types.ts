/**
 * The JSON shapes of New Relic infrastructure protocol 4 (infra-integrations-sdk v4, the agent's
 * `pkg/integrations/v4/protocol`): dimensional metrics, inventory and events per entity.
 */

/** Metric types the agent accepts in protocol 4. */
export const V4_METRIC_TYPES = [
  'gauge',
  'count',
  'summary',
  'cumulative-count',
  'rate',
  'cumulative-rate',
  'prometheus-summary',
  'prometheus-histogram',
] as const;

/** One of V4_METRIC_TYPES. */
export type V4MetricType = (typeof V4_METRIC_TYPES)[number];

/** A metric or event attribute value: always a scalar. */
export type V4AttributeValue = string | number | boolean;

/** One dimensional metric. */
export interface V4Metric {
  readonly name: string;
  readonly type: V4MetricType;
  readonly value: number;
  /** For `count`: the interval the value covers, ms; the dataset's `common` one otherwise. */
  readonly 'interval.ms'?: number;
  readonly attributes: Record<string, V4AttributeValue>;
}

/** An entity; protocol 4 has no id attributes, so the name alone must be unique per account. */
export interface V4Entity {
  readonly name: string;
  readonly type: V4EntityType;
  readonly displayName: string;
  readonly metadata: Record<string, V4AttributeValue>;
}

/** Entity types this integration reports. */
export type V4EntityType = 'pg-instance' | 'pg-database' | 'pg-table' | 'pg-index' | 'pgbouncer';

/** An event; the agent stores it as an InfrastructureEvent and needs the summary. */
export interface V4Event {
  readonly summary: string;
  readonly category: string;
  readonly attributes: Record<string, V4AttributeValue>;
}

/** Inventory items: `{"max_connections/setting": {"value": "100"}}`. */
export type V4Inventory = Record<string, Record<string, string | number | boolean | null>>;

/** Attributes and timing shared by every metric of a dataset. */
export interface V4Common {
  readonly timestamp: number;
  readonly 'interval.ms': number;
  readonly attributes: Record<string, V4AttributeValue>;
}

/** One `data[]` item: an entity with what it reports. */
export interface V4Dataset {
  readonly common: V4Common;
  readonly entity: V4Entity;
  readonly metrics: V4Metric[];
  readonly inventory: V4Inventory;
  readonly events: V4Event[];
  readonly ignore_entity: boolean;
}

/** One stdout line. */
export interface V4Document {
  readonly protocol_version: '4';
  readonly integration: { readonly name: string; readonly version: string };
  readonly data: V4Dataset[];
}

/** What shapes the protocol 4 output. */
export interface V4Options {
  readonly integrationVersion: string;
  /** Collection interval, ms, for common["interval.ms"] (needed by count metrics). */
  readonly intervalMs: number;
  readonly metrics: boolean;
  readonly inventory: boolean;
  readonly events: boolean;
  /** NRI_CLUSTER / NRI_SERVICE, added as cluster_name / service_name common attributes. */
  readonly clusterName?: string;
  readonly serviceName?: string;
  /** Reported as integration.name; V4_INTEGRATION_NAME when omitted. */
  readonly integrationName?: string;
}

/** The integration name nri-postgresql reports, so the agent files us in the same place. */
export const V4_INTEGRATION_NAME = 'com.newrelic.postgresql';

/** Metrics plus events per line, so no line grows huge (the SDK has no such limit for v4). */
export const V4_MAX_ITEMS_PER_DOCUMENT = 5000;

/** Longest attribute string kept (New Relic truncates event attributes at 4096 bytes). */
export const V4_MAX_ATTRIBUTE_LENGTH = 4095;

/** Event category of every event this integration reports. */
export const V4_EVENT_CATEGORY = 'postgresql';

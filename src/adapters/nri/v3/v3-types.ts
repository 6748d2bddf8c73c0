/**
 * The JSON shapes of infra-integrations-sdk protocol 3, as nri-postgresql prints them. Key
 * order matters to byte-for-byte comparisons, so builders insert keys in the SDK's order.
 */

/** A value in a metric set: numbers for gauge/rate/delta, strings for attributes. */
export type V3Value = string | number;

/**
 * One metric set: `event_type` first, then the namespace attributes (strings), then the
 * metrics. NULL values are omitted, never written as null.
 */
export type V3MetricSet = Record<string, V3Value>;

/** An entity identity attribute; capitalised because the Go struct has no JSON tags. */
export interface V3IdAttribute {
  readonly Key: string;
  readonly Value: string;
}

/** One `data[]` item. */
export interface V3Entity {
  readonly entity: {
    readonly name: string;
    readonly type: string;
    /** Sorted by Key. */
    readonly id_attributes: V3IdAttribute[];
  };
  readonly metrics: V3MetricSet[];
  /** `{"<name>/setting": {"value": "..."}}`; `{}` when empty. */
  readonly inventory: Record<string, Record<string, string | number | null>>;
  /** nri-postgresql never emits events; always `[]` in v3. */
  readonly events: unknown[];
}

/** One stdout line. */
export interface V3Document {
  readonly name: 'com.newrelic.postgresql';
  readonly protocol_version: '3';
  readonly integration_version: string;
  readonly data: V3Entity[];
}

/** The sets of one query-performance event type, published as their own line(s). */
export interface V3QpmGroup {
  /** e.g. `PostgresSlowQueries`. */
  readonly eventType: string;
  readonly sets: V3MetricSet[];
}

/** The integration name nri-postgresql reports. */
export const V3_INTEGRATION_NAME = 'com.newrelic.postgresql';

/** The SDK publishes a line every this many metric sets. */
export const V3_SETS_PER_LINE = 600;

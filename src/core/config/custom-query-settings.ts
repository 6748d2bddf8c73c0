import type { ParsedCustomQueries } from './config-schema.js';

/** How a custom query column is reported, as nri-postgresql names the source types. */
export type CustomMetricType = 'gauge' | 'rate' | 'delta' | 'prate' | 'pdelta' | 'attribute';

/** One query of a CUSTOM_METRICS_CONFIG file. */
export interface CustomQuery {
  readonly query: string;
  /** Database it runs in; the target's connection database when absent. */
  readonly database?: string;
  /** Column → type; numbers default to gauge, text to attribute. */
  readonly metricTypes: Readonly<Record<string, CustomMetricType>>;
  /** Event type of its sets. */
  readonly sampleName: string;
}

/** Custom statistics queries; none by default. */
export interface CustomQuerySettings {
  /** CUSTOM_METRICS_QUERY: rows of metric_name, metric_type, metric_value (+ attributes). */
  readonly metricsQuery?: string;
  readonly queries: readonly CustomQuery[];
  /** Per-query timeout, ms. */
  readonly timeoutMs: number;
}

/** nri-postgresql's default event type for CUSTOM_METRICS_CONFIG queries. */
export const DEFAULT_CUSTOM_SAMPLE = 'PostgresqlCustomSample';

export function resolveCustomQueries(parsed: ParsedCustomQueries): CustomQuerySettings {
  return {
    ...(parsed.metricsQuery === undefined ? {} : { metricsQuery: parsed.metricsQuery }),
    queries: (parsed.queries ?? []).map((q) => ({
      query: q.query,
      ...(q.database === undefined ? {} : { database: q.database }),
      metricTypes: q.metricTypes ?? {},
      sampleName: q.sampleName ?? DEFAULT_CUSTOM_SAMPLE,
    })),
    timeoutMs: parsed.timeout ?? 10_000,
  };
}

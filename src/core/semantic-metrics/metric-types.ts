/**
 * How a metric is exposed: `counter` is a monotonic sum, `updown-counter` a non-monotonic sum
 * (a count that can go down), `gauge` a sampled value that is never summed over time.
 */
export type MetricInstrument = 'gauge' | 'counter' | 'updown-counter';

/**
 * How a sum's points relate over time. `cumulative`: each point is the running total since the
 * server (or the statistics) started, as PostgreSQL's views report it. `delta`: each point is
 * what happened during one interval (`MetricPoint.intervalMs`), for figures pgquerylens itself
 * computes per interval (slow-query deltas, sampled wait time, plan changes); an OTLP adapter adds
 * them to a synchronous Counter, an NRI v4 adapter reports them as `count`. Gauges are
 * `cumulative` by convention (the field means nothing for them).
 */
export type MetricTemporality = 'cumulative' | 'delta';

/** A data-point attribute value; OTel metric attributes must be primitives. */
export type MetricAttributeValue = string | number | boolean;

/** Static description of one named metric. */
export interface MetricDescriptor {
  /** Dotted lowercase name, e.g. `postgresql.commits`. */
  readonly name: string;
  /** UCUM unit: `1`, `By`, `s`, `ms`, `{connection}`, ... */
  readonly unit: string;
  readonly instrument: MetricInstrument;
  readonly temporality: MetricTemporality;
  /** Whole numbers (OTel ValueType.INT); values are rounded to integers when set. */
  readonly integer: boolean;
  readonly description: string;
  /**
   * True when the OpenTelemetry Collector's postgresqlreceiver emits this name with the same
   * unit, kind and attribute names (its `useOTelSemconv` mode).
   */
  readonly receiver: boolean;
  /** Data-point attribute names the metric may carry (some only when known). */
  readonly attributes: readonly string[];
}

/**
 * The PostgreSQL object a point describes, so adapters can route it (an NRI entity, say)
 * without parsing `db.namespace`. Absent for server-level points and for PgBouncer ones.
 */
export interface DatabaseObjectRef {
  readonly database: string;
  readonly schema?: string;
  readonly table?: string;
  readonly index?: string;
}

/** One value of one metric for one attribute set. */
export interface MetricPoint {
  readonly descriptor: MetricDescriptor;
  /** Finite; an integer when the descriptor says so. */
  readonly value: number;
  /**
   * Data-point attributes (semconv model): db.namespace, db.collection.name,
   * postgresql.index.name, plus metric-specific ones (source, type, state, operation, ...).
   * Never the server identity: that is the resource (OTLP) or the entity (NRI).
   */
  readonly attributes: Readonly<Record<string, MetricAttributeValue>>;
  /** What the point is about, when it is a database or an object in one. */
  readonly object?: DatabaseObjectRef;
  /** For delta points: the length of the interval the value covers, ms, when known. */
  readonly intervalMs?: number;
}

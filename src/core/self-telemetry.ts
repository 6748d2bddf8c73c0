/**
 * The collector's own metrics and readiness, as plain readings: the HTTP listener renders them
 * for Prometheus, the OTLP adapter sends them as metrics, so neither owns the bookkeeping.
 */

/** One reading of one of the collector's own metrics. */
export interface SelfMetricPoint {
  /** Dotted OpenTelemetry name, e.g. `pgquerylens.collector.duration`. */
  readonly name: string;
  readonly description: string;
  /** UCUM unit (`s`, `{batch}`, `By`). */
  readonly unit: string;
  /** `counter`: monotonic cumulative total; `gauge`: a current value. */
  readonly kind: 'counter' | 'gauge';
  /** Whether the value is always a whole number. */
  readonly integer: boolean;
  readonly value: number;
  /** Primitive attributes only (metric attributes must be). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Anything that can report its own readings on demand (read at scrape or export time). */
export interface SelfMetricSource {
  /** Current readings; cheap, never queries anything. */
  selfMetrics(): readonly SelfMetricPoint[];
}

/** Whether an adapter's destination took its last delivery. */
export interface AdapterHealth {
  /** undefined until the first delivery was attempted. */
  readonly reachable: boolean | undefined;
  /** Why not, redacted; for the /readyz body. */
  readonly detail?: string;
}

/** One line of the /readyz answer. */
export interface ReadinessCheck {
  /** `config`, `first-cycle`, `adapter:<name>`. */
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

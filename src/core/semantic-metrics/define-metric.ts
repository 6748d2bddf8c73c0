import type { MetricDescriptor, MetricInstrument, MetricTemporality } from './metric-types.js';

/** What a catalogue entry spells out; the rest has defaults. */
export interface MetricSpec {
  readonly name: string;
  readonly unit: string;
  readonly instrument: MetricInstrument;
  readonly description: string;
  readonly attributes?: readonly string[];
  /** Defaults to true: most PostgreSQL counters are int8. */
  readonly integer?: boolean;
  /** Defaults to cumulative. */
  readonly temporality?: MetricTemporality;
  /** Defaults to false. */
  readonly receiver?: boolean;
}

/** A frozen descriptor from a spec, so the catalogue can never be mutated by a consumer. */
export function defineMetric(spec: MetricSpec): MetricDescriptor {
  return Object.freeze({
    name: spec.name,
    unit: spec.unit,
    instrument: spec.instrument,
    temporality: spec.temporality ?? 'cumulative',
    integer: spec.integer ?? true,
    description: spec.description,
    receiver: spec.receiver ?? false,
    attributes: Object.freeze([...(spec.attributes ?? [])]),
  });
}

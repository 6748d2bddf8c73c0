import { cellNumber } from '../cell-values.js';
import type { ProbeRow, ProbeSample, ProbeValue } from '../../../core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { rateKey, type RateState } from './rate-state.js';
import type { V3EntityDraft, V3EntityRegistry } from './v3-naming.js';
import type { V3MetricSet } from './v3-types.js';

/** The SDK's source types, as custom queries name them. */
export type V3SourceType = 'gauge' | 'rate' | 'delta' | 'prate' | 'pdelta' | 'attribute';

/** What every set builder of one batch shares. */
export interface V3BuildContext {
  /** The batch being converted. */
  readonly batch: UnifiedMetrics;
  /** Previous values of rate metrics, advanced by every rate computed. */
  readonly rates: RateState;
  /** The time rates are computed for (epoch ms). */
  readonly nowMs: number;
  /** Host and port as configured: nri uses the raw config strings in names and ids. */
  readonly host: string;
  readonly port: string;
  /** `cluster_name` / `service_name` when set: added to every set after its namespace. */
  readonly commonAttributes: readonly (readonly [string, string])[];
  /** The entities built so far, in creation order. */
  readonly registry: V3EntityRegistry;
}

/**
 * Fills one metric set the way the SDK does: `event_type`, the namespace attributes, then each
 * metric in definition order. NULL (or absent) sources leave the key out; a rate the state
 * cannot compute yet (same second) is left out too.
 */
export class V3SetBuilder {
  private readonly set: V3MetricSet;
  private readonly namespace: Record<string, string>;

  /**
   * A set of `eventType` on `draft`, namespaced by `attributes` (displayName first), which are
   * printed; `keyOnly` namespace its rates without being printed.
   */
  constructor(
    private readonly ctx: V3BuildContext,
    private readonly draft: V3EntityDraft,
    eventType: string,
    attributes: readonly (readonly [string, string])[],
    keyOnly: readonly (readonly [string, string])[] = [],
  ) {
    this.set = { event_type: eventType };
    this.namespace = {};
    for (const [key, value] of [...attributes, ...ctx.commonAttributes]) {
      this.set[key] = value;
      this.namespace[key] = value;
    }
    for (const [key, value] of keyOnly) this.namespace[key] = value;
    // The SDK adds the entity key to the namespace, so equal sets of two entities never share
    // a previous value.
    this.namespace.entityKey = draft.key;
  }

  /** A value as-is. */
  gauge(name: string, value: ProbeValue | undefined): this {
    const n = toNumber(value);
    if (n !== undefined) this.set[name] = n;
    return this;
  }

  /** Change per second since the previous sample of the same entity, set and metric. */
  rate(name: string, value: ProbeValue | undefined): this {
    const n = toNumber(value);
    if (n === undefined) return this;
    const r = this.ctx.rates.rate(rateKey(this.namespace, name), n, this.ctx.nowMs);
    if (r !== undefined) this.set[name] = r;
    return this;
  }

  /** A string attribute; NULL leaves it out. */
  attribute(name: string, value: ProbeValue | undefined): this {
    if (value !== null && value !== undefined) this.set[name] = String(value);
    return this;
  }

  /** A value by the SDK source type a user named (custom queries); a misfit is left out. */
  source(name: string, value: ProbeValue | undefined, type: V3SourceType): this {
    if (type === 'gauge') return this.gauge(name, value);
    if (type === 'attribute') return this.attribute(name, value);
    const n = toNumber(value);
    if (n === undefined) return this;
    const key = rateKey(this.namespace, name);
    const { rates, nowMs } = this.ctx;
    const result =
      type === 'rate'
        ? rates.rate(key, n, nowMs)
        : type === 'delta'
          ? rates.delta(key, n, nowMs)
          : type === 'prate'
            ? rates.prate(key, n, nowMs)
            : rates.pdelta(key, n, nowMs);
    if (result !== undefined) this.set[name] = result;
    return this;
  }

  /** The set as it will be printed, without adding it to its entity. */
  get values(): V3MetricSet {
    return this.set;
  }

  /** Appends the set to its entity and returns it. */
  add(): V3MetricSet {
    this.draft.entity.metrics.push(this.set);
    return this.set;
  }
}

/** A metric value as float64: numbers, booleans as 1/0, numeric text; anything else absent. */
export const toNumber = cellNumber;

/**
 * `CAST(x AS bigint)` of a float8, as nri's SQL does for millisecond totals: PostgreSQL rounds
 * to the nearest integer, ties to even.
 */
export function castBigint(value: ProbeValue | undefined): number | undefined {
  const n = toNumber(value);
  if (n === undefined) return undefined;
  const rounded = Math.round(n);
  return Math.abs(n % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** `extract(epoch from ts)::int` of an ISO timestamp: whole seconds, rounded. */
export function epochSeconds(value: ProbeValue | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.round(ms / 1000);
}

/** The batch's samples of one built-in probe; custom-query samples never match a probe name. */
export function probeSamples(batch: UnifiedMetrics, probe: string): ProbeSample[] {
  return batch.probes.filter((s) => s.probe === probe && s.custom === undefined);
}

/** Whether the batch carries a sample of this probe (the probe ran, even with no rows). */
export function hasProbe(batch: UnifiedMetrics, probe: string): boolean {
  return probeSamples(batch, probe).length > 0;
}

/** The first row of a server-scoped probe (single-row views such as pg_stat_bgwriter). */
export function firstRow(batch: UnifiedMetrics, probe: string): ProbeRow | undefined {
  return probeSamples(batch, probe)[0]?.rows[0];
}

/** Every row of a database-scoped probe with the database it was read in. */
export function databaseRows(
  batch: UnifiedMetrics,
  probe: string,
): { readonly database: string; readonly row: ProbeRow }[] {
  return probeSamples(batch, probe).flatMap((sample) => {
    const database = sample.database;
    return database === undefined ? [] : sample.rows.map((row) => ({ database, row }));
  });
}

/** A text column, or undefined when NULL or not text. */
export function text(row: ProbeRow, column: string): string | undefined {
  const value = row[column];
  return typeof value === 'string' ? value : undefined;
}

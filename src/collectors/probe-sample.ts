import type { CollectContext, Collector } from '../core/collector.js';
import type { ProbeRow, ProbeSample, ProbeValue } from '../core/model/probe-sample.js';
import type { Row } from '../core/target-connector.js';

/** Wraps driver rows as a ProbeSample stamped with the run's start time. */
export function probeSample(
  collector: Collector,
  ctx: CollectContext,
  rows: readonly Row[],
): ProbeSample {
  return {
    probe: collector.name,
    scope: collector.scope,
    ...(ctx.database === undefined ? {} : { database: ctx.database }),
    collectedAt: ctx.startedAt.toISOString(),
    rows: rows.map(toProbeRow),
  };
}

function toProbeRow(row: Row): ProbeRow {
  const out: Record<string, ProbeValue> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = toProbeValue(value);
  }
  return out;
}

function toProbeValue(value: unknown): ProbeValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  // Arrays and composite values: kept readable rather than dropped.
  return JSON.stringify(value);
}

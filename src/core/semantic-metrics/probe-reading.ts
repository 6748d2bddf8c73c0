import type { ProbeRow, ProbeSample } from '../model/probe-sample.js';
import type { UnifiedMetrics } from '../model/unified-metrics.js';

/** The samples of one probe in the batch, in batch order (none when it did not run). */
export function samplesOf(batch: UnifiedMetrics, probe: string): readonly ProbeSample[] {
  return batch.probes.filter((s) => s.probe === probe);
}

/** Every row of one probe with the database its sample read (database-scoped probes). */
export function rowsOf(
  batch: UnifiedMetrics,
  probe: string,
): { readonly row: ProbeRow; readonly sample: ProbeSample }[] {
  return samplesOf(batch, probe).flatMap((sample) => sample.rows.map((row) => ({ row, sample })));
}

/**
 * A column as a finite number; undefined for NULL, a missing column (older server), or
 * anything that is not a number. int8 values arrive as numbers; numeric text is accepted too.
 */
export function numberAt(row: ProbeRow, column: string): number | undefined {
  const value = row[column];
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** A column as text; undefined for NULL or a missing column. */
export function textAt(row: ProbeRow, column: string): string | undefined {
  const value = row[column];
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : String(value);
}

/** A boolean column; undefined for NULL or a missing column. */
export function boolAt(row: ProbeRow, column: string): boolean | undefined {
  const value = row[column];
  return typeof value === 'boolean' ? value : undefined;
}

/** Seconds from `fromIso` to `toIso`; undefined when either is not a valid timestamp. */
export function secondsBetween(
  fromIso: string | undefined,
  toIso: string | undefined,
): number | undefined {
  if (fromIso === undefined || toIso === undefined) return undefined;
  const from = Date.parse(fromIso);
  const to = Date.parse(toIso);
  return Number.isFinite(from) && Number.isFinite(to) ? (to - from) / 1000 : undefined;
}

/** Milliseconds to seconds, keeping undefined. */
export function msToSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** Whether a collector ran on this batch and succeeded at least once (any database). */
export function collectorSucceeded(batch: UnifiedMetrics, collector: string): boolean {
  return batch.metadata.collectors.some((c) => c.collector === collector && c.success);
}

import type { ProbeRow, ProbeValue } from '../../core/model/probe-sample.js';

/** A cell as a finite number (booleans 1/0, numeric text parsed); undefined otherwise. */
export function cellNumber(value: ProbeValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * Each non-NULL column of a custom-query row with its type, as both protocols read
 * CUSTOM_METRICS_CONFIG: the configured `metric_types` name, else `attribute` for text and
 * `gauge` for everything else, mapped by `typeOf` to the protocol's own type; a column whose
 * type does not map (an unknown name) is left out, as are `skipped` ones.
 */
export function typedColumns<T>(
  row: ProbeRow,
  metricTypes: Readonly<Record<string, string>>,
  typeOf: (name: string) => T | undefined,
  skipped: (column: string) => boolean = () => false,
): [string, ProbeValue, T][] {
  const out: [string, ProbeValue, T][] = [];
  for (const [column, cell] of Object.entries(row)) {
    if (cell === null || skipped(column)) continue;
    const configured = Object.hasOwn(metricTypes, column) ? metricTypes[column] : undefined;
    const type = typeOf(configured ?? (typeof cell === 'string' ? 'attribute' : 'gauge'));
    if (type !== undefined) out.push([column, cell, type]);
  }
  return out;
}

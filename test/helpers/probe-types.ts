import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import type { ProbeValue } from '../../src/core/model/probe-sample.js';
import type { ProbeColumnType } from '../../src/core/probe-schema.js';
import type { ProbeRun } from './probe-run.js';

/** Whether a value read by a probe has the type its schema declares (NULL fits every type). */
export function fitsType(value: ProbeValue, type: ProbeColumnType): boolean {
  if (value === null) return true;
  switch (type) {
    case 'int8':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float8':
      return typeof value === 'number';
    case 'bool':
      return typeof value === 'boolean';
    case 'timestamptz':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'jsonb':
      if (typeof value !== 'string') return false;
      try {
        JSON.parse(value);
        return true;
      } catch {
        return false;
      }
    case 'text':
      return typeof value === 'string';
  }
}

/**
 * What is wrong with a run of shipped probes: runs that failed (unavailable is fine, with a
 * reason), columns not in the probe's schema or not of its type, key columns missing.
 */
export function catalogProblems(runs: ReadonlyMap<string, ProbeRun>): string[] {
  const problems = new Set<string>();
  for (const [name, run] of runs) {
    for (const status of run.statuses) {
      const where = `${name}${status.database === undefined ? '' : `@${status.database}`}`;
      if (!status.success && status.unavailable !== true) {
        problems.add(`${where}: ${status.error ?? '?'}`);
      }
      if (status.unavailable === true && !/\w{4,}/.test(status.error ?? '')) {
        problems.add(`${where}: unavailable without a reason`);
      }
    }
    const probe = BUILTIN_PROBES.find((p) => p.name === name);
    if (probe === undefined) {
      problems.add(`${name} not found`);
      continue;
    }
    const types = new Map(probe.schema.columns.map((c) => [c.name, c.type]));
    for (const row of run.rows) {
      for (const [column, value] of Object.entries(row)) {
        const type = types.get(column);
        if (type === undefined) problems.add(`${name}.${column}: not in the schema`);
        else if (!fitsType(value, type)) {
          problems.add(`${name}.${column}: ${JSON.stringify(value)} is not ${type}`);
        }
      }
      for (const key of probe.schema.key) {
        if (row[key] === undefined) problems.add(`${name}: key column ${key} missing`);
      }
    }
  }
  return [...problems];
}

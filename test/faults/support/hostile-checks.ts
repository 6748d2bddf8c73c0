import type { UnifiedMetrics } from '../../../src/core/model/unified-metrics.js';

/** Every non-empty line parsed as JSON; the ones that do not parse are listed, cut short. */
export function parseLines(text: string): { values: unknown[]; bad: string[] } {
  const values: unknown[] = [];
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      bad.push(line.slice(0, 200));
    }
  }
  return { values, bad };
}

/** Every string anywhere in a JSON value, object keys included. */
export function stringsIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      stringsIn(v, into);
    }
  }
  return into;
}

/** Numbers that a JSON document cannot carry honestly: anything but a finite number. */
export function nullsIn(value: unknown, where = '', into: string[] = []): string[] {
  if (value === null) into.push(where);
  else if (Array.isArray(value)) value.forEach((v, i) => nullsIn(v, `${where}[${i}]`, into));
  else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) nullsIn(v, `${where}.${k}`, into);
  }
  return into;
}

/** Collector runs that failed (not "unavailable": the server lacking an extension is fine). */
export function failedCollectors(batches: readonly UnifiedMetrics[]): string[] {
  const out = new Set<string>();
  for (const b of batches) {
    if (b.metadata.error !== undefined) out.add(`run: ${b.metadata.error}`);
    for (const c of b.metadata.collectors) {
      if (!c.success && c.unavailable !== true) {
        out.add(`${c.collector} ${JSON.stringify(c.database ?? '')}: ${c.error ?? '?'}`);
      }
    }
  }
  return [...out];
}

/** Interval figures of slow queries that are negative or not finite (a reset handled badly). */
export function badSlowQueryNumbers(batches: readonly UnifiedMetrics[]): string[] {
  const out: string[] = [];
  for (const b of batches) {
    for (const q of b.slowQueries) {
      for (const [key, value] of Object.entries(q)) {
        if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0)) {
          out.push(`${q.queryId} ${key}=${value}`);
        }
      }
      if (!(q.calls > 0)) out.push(`${q.queryId} calls=${q.calls}`);
    }
  }
  return out;
}

/** pino's numeric levels: 50 error, 60 fatal. */
export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/** The CLI's JSON logs on stderr, and any line that is not one (a stack trace, a crash). */
export function logLines(stderr: string): { logs: LogLine[]; other: string[] } {
  const { values, bad } = parseLines(stderr);
  return { logs: values as LogLine[], other: bad };
}

/**
 * Structural problems of a protocol 3 (nri-postgresql) line: the four top-level keys, entities
 * with metrics/inventory/events, metric sets whose keys are sorted (as Go writes them) and whose
 * values are strings or finite numbers.
 */
export function v3DocumentProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return ['not an object'];
  const d = doc as Record<string, unknown>;
  const keys = Object.keys(d).sort().join(',');
  if (keys !== 'data,integration_version,name,protocol_version') problems.push(`keys ${keys}`);
  if (d.protocol_version !== '3') problems.push(`protocol_version ${String(d.protocol_version)}`);
  if (!Array.isArray(d.data)) return [...problems, 'data is not a list'];
  for (const [i, entity] of (d.data as unknown[]).entries()) {
    const e = entity as Record<string, unknown>;
    if (!Array.isArray(e.metrics) || !Array.isArray(e.events) || typeof e.inventory !== 'object') {
      problems.push(`data[${i}]: metrics, inventory and events expected`);
      continue;
    }
    for (const set of e.metrics as Record<string, unknown>[]) {
      const names = Object.keys(set);
      if (names.join('\n') !== [...names].sort().join('\n')) {
        problems.push(`data[${i}] ${String(set.event_type)}: keys unsorted`);
      }
      for (const [k, v] of Object.entries(set)) {
        if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
          problems.push(`data[${i}] ${String(set.event_type)}.${k}: ${JSON.stringify(v)}`);
        }
      }
    }
  }
  return problems;
}

/** Where in a JSON value strings matching `pred` sit (paths like `[3].probes[2].rows[0].query`). */
export function stringPaths(
  value: unknown,
  pred: (s: string) => boolean,
  where = '',
  into: string[] = [],
): string[] {
  if (typeof value === 'string') {
    if (pred(value)) into.push(where);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => stringPaths(v, pred, `${where}[${i}]`, into));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) stringPaths(v, pred, `${where}.${k}`, into);
  }
  return into;
}

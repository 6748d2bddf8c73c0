import type { QueryTextMode } from '../../core/config/modes.js';
import { obfuscateSql } from '../query-text/obfuscate-sql.js';

/** Plan keys that hold SQL expressions, where literals (and so data) can appear. */
const EXPRESSION_KEYS = new Set([
  'Filter',
  'Join Filter',
  'Index Cond',
  'Recheck Cond',
  'Hash Cond',
  'Merge Cond',
  'TID Cond',
  'One-Time Filter',
  'Output',
  'Sort Key',
  'Group Key',
  'Presorted Key',
  'Cache Key',
  'Function Call',
  'Table Function Call',
  'Repeatable Seed',
  'Sampling Parameters',
  'Run Condition',
  'Order By',
  'Conflict Filter',
  'Group Keys',
  'Hash Keys',
  'Grouping Sets',
]);

/** Every string inside a value (nested lists of grouping sets included), obfuscated. */
function obfuscateStrings(value: unknown): unknown {
  if (typeof value === 'string') return obfuscateSql(value);
  if (Array.isArray(value)) return value.map(obfuscateStrings);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, obfuscateStrings(v)]));
  }
  return value;
}

/**
 * A copy of an EXPLAIN document whose expressions went through the same text policy as
 * session texts: obfuscated (literals out), raw, or dropped.
 */
export function applyConditionPolicy(plan: unknown, mode: QueryTextMode): unknown {
  if (mode === 'raw') return plan;
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (!EXPRESSION_KEYS.has(key)) {
        out[key] = visit(inner);
      } else if (mode === 'obfuscated') {
        out[key] = obfuscateStrings(inner);
      }
    }
    return out;
  };
  return visit(plan);
}

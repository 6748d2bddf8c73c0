import type { z } from 'zod';
import type { ConfigIssue } from '../errors.js';

/** `['targets', 0, 'port']` → `targets[0].port`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
    } else {
      const name = String(key);
      const plain = /^[A-Za-z_][\w-]*$/.test(name);
      // Quoted when not a plain name, at the root too: an empty or multi-line key must still
      // show, and on one line.
      out += plain ? (out === '' ? name : `.${name}`) : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

/** One ConfigIssue per problem, unknown keys named one by one so a typo points at itself. */
export function zodIssuesToConfigIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
      }
      continue;
    }
    const sensitive = issue.path.some((k) => typeof k === 'string' && SENSITIVE_KEY.test(k));
    issues.push({ path: formatPath(issue.path), message: describe(issue, sensitive) });
  }
  return issues;
}

// Values under these keys may be secrets: say what type they are, never what they hold.
const SENSITIVE_KEY = /password|secret|token|url/i;

function describe(issue: z.core.$ZodIssue, sensitive: boolean): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined
        ? 'is required'
        : `expected ${issue.expected}, got ${typeName(issue.input, sensitive)}`;
    default:
      return issue.message;
  }
}

function typeName(value: unknown, sensitive: boolean): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (sensitive) return typeof value;
  // JSON has no Infinity or NaN (it would say `number null`).
  return typeof value === 'number' ? `number ${value}` : `${typeof value} ${JSON.stringify(value)}`;
}

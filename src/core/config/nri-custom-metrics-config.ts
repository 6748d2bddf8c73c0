import { parseDocument } from 'yaml';
import { customQuerySchema } from './config-schema.js';
import { fsReason, type ReadTextFile } from './env-overrides.js';
import type { NriEnvValues } from './nri-env-values.js';
import { yamlErrorText } from './yaml-error-text.js';
import { zodIssuesToConfigIssues } from './zod-issues.js';

const VARIABLE = 'CUSTOM_METRICS_CONFIG';

/** nri-postgresql's key → ours, for each key a query entry may have. */
const ENTRY_KEYS: Readonly<Record<string, string>> = {
  query: 'query',
  database: 'database',
  metric_types: 'metricTypes',
  sample_name: 'sampleName',
};

/**
 * Reads nri-postgresql's custom queries file (`queries: [{query, database?, metric_types?,
 * sample_name?}]`) and returns its entries as `customQueries.queries` items. Every problem
 * (unreadable file, YAML error, unknown key, bad type) is reported on CUSTOM_METRICS_CONFIG
 * with the file and entry it concerns; undefined then.
 */
export function readCustomMetricsConfig(
  path: string,
  readFile: ReadTextFile,
  values: NriEnvValues,
): Record<string, unknown>[] | undefined {
  const fail = (message: string): undefined => {
    values.report(VARIABLE, `${path}: ${message}`);
    return undefined;
  };
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    return fail(`cannot read the custom queries file: ${fsReason(err)}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const pos = yamlError.linePos?.[0];
    const where = pos === undefined ? '' : `line ${pos.line}, column ${pos.col}: `;
    return fail(`${where}${yamlErrorText(yamlError.message)}`);
  }
  let root: unknown;
  try {
    root = doc.toJS();
  } catch (err) {
    // yaml refuses alias expansions that would blow up (a "billion laughs" file).
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (!isMapping(root) || !Array.isArray(root.queries)) {
    return fail('expected a top-level `queries:` list');
  }
  const unknownTop = Object.keys(root).filter((k) => k !== 'queries');
  if (unknownTop.length > 0) {
    return fail(`unknown top-level key ${unknownTop.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  const out: Record<string, unknown>[] = [];
  let ok = true;
  root.queries.forEach((entry: unknown, index) => {
    const problem = convertEntry(entry, index, out);
    if (problem !== undefined) {
      ok = false;
      fail(problem);
    }
  });
  return ok ? out : undefined;
}

/** Converts one entry into `out`, or says what is wrong with it. */
function convertEntry(
  entry: unknown,
  index: number,
  out: Record<string, unknown>[],
): string | undefined {
  const where = `queries[${index}]`;
  if (!isMapping(entry)) return `${where}: expected a mapping with a query`;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    const ours = ENTRY_KEYS[key];
    if (ours === undefined) {
      return `${where}.${key}: unknown key (use query, database, metric_types, sample_name)`;
    }
    if (value === null || value === undefined) continue;
    // A bare number is a valid database name in YAML's eyes (`database: 2024`).
    converted[ours] = ours === 'database' && typeof value === 'number' ? String(value) : value;
  }
  const parsed = customQuerySchema.safeParse(converted, { reportInput: true });
  if (parsed.success) {
    out.push(converted);
    return undefined;
  }
  const issue = zodIssuesToConfigIssues(parsed.error)[0];
  if (issue === undefined) return `${where}: invalid`;
  const path = Object.entries(ENTRY_KEYS).reduce(
    (p, [theirs, ours]) => p.replace(new RegExp(`^${ours}\\b`), theirs),
    issue.path,
  );
  return `${where}${path === '' ? '' : `.${path}`}: ${issue.message}`;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

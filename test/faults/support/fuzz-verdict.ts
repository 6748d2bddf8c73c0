import { parse } from 'yaml';
import { builtinCollectorNames } from '../../../src/collectors/builtin-collectors.js';
import { ASH_CONSUMERS } from '../../../src/collectors/query-performance-names.js';
import { validateCommand } from '../../../src/cli/validate-command.js';
import { configSchema } from '../../../src/core/config/config-schema.js';
import { loadConfig } from '../../../src/core/config/load-config.js';
import { ConfigError, formatConfigIssue, type ConfigIssue } from '../../../src/core/errors.js';
import { PASSWORD_MARK } from './fuzz-config-arbitraries.js';

/** What the loader made of one configuration: usable, or the problems it listed. */
export type Verdict = { readonly valid: true } | { readonly valid: false; issues: ConfigIssue[] };

/**
 * The loader as `validate` and `run` call it. Anything thrown other than a ConfigError is the
 * defect this suite looks for, so it propagates.
 */
export function loadVerdict(configPath: string, env: NodeJS.ProcessEnv): Verdict {
  try {
    loadConfig({
      configPath,
      env,
      flags: {},
      knownCollectors: builtinCollectorNames(),
      queryMonitoringCollectors: ASH_CONSUMERS,
    });
    return { valid: true };
  } catch (err) {
    if (err instanceof ConfigError) return { valid: false, issues: [...err.issues] };
    throw err;
  }
}

const SCHEMA_KEYS = new Set(Object.keys(configSchema.shape));
/** Variables the loader names when they are missing rather than wrong. */
const NAMED_WHEN_MISSING = new Set(['PGQUERYLENS_SHARD', 'USERNAME', 'PASSWORD']);
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

/** Why an issue does not point the user at what to fix; empty when it does. */
export function issueProblems(
  issue: ConfigIssue,
  configPath: string,
  doc: unknown,
  env: NodeJS.ProcessEnv,
): string[] {
  const problems: string[] = [];
  const shown = JSON.stringify(issue);
  if (issue.message.trim() === '') problems.push(`empty message: ${shown}`);
  if (STACK_FRAME.test(issue.message)) problems.push(`stack trace in message: ${shown}`);
  if (issue.path === '') {
    // Problems of the file as a whole name the file (and the line, for YAML errors).
    if (!issue.message.startsWith(configPath)) problems.push(`no key path: ${shown}`);
    return problems;
  }
  const root = rootKeys(doc);
  if (/^[A-Z][A-Z0-9_]*$/.test(issue.path) && !root.has(issue.path)) {
    if (env[issue.path] === undefined && !NAMED_WHEN_MISSING.has(issue.path)) {
      problems.push(`names a variable that is not set: ${shown}`);
    }
    return problems;
  }
  const first = rootSegment(issue.path);
  if (!SCHEMA_KEYS.has(first) && !root.has(first)) {
    problems.push(`path is neither a configuration key nor one the file has: ${shown}`);
  }
  // Only the file can hold keys the schema does not know: the key must be there.
  if (issue.message === 'unknown key' && !hasPath(doc, issue.path)) {
    problems.push(`unknown key that the file does not have: ${shown}`);
  }
  return problems;
}

/** The top-level key a path starts with: `targets` of `targets[0].port`, `a b` of `["a b"].c`. */
function rootSegment(path: string): string {
  const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(path)?.[1];
  if (quoted !== undefined) return JSON.parse(quoted) as string;
  return /^[^.[]*/.exec(path)?.[0] ?? '';
}

/** Whether `path` (as formatPath writes it) leads to a key of `doc`. */
function hasPath(doc: unknown, path: string): boolean {
  const keys: (string | number)[] = [rootSegment(path)];
  const token = /\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  token.lastIndex = path.startsWith('[')
    ? (/^\[(?:"(?:[^"\\]|\\.)*")\]/.exec(path)?.[0].length ?? 0)
    : (keys[0] as string).length;
  while (token.lastIndex < path.length) {
    const m = token.exec(path);
    if (m === null) return false;
    keys.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3] ?? '""') as string)));
  }
  let node: unknown = doc;
  for (const key of keys) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return true;
}

/** The file as plain data, for checking paths against; undefined when it does not parse. */
export function parseLoose(text: string): unknown {
  try {
    return parse(text, { maxAliasCount: -1, logLevel: 'error' });
  } catch {
    return undefined;
  }
}

function rootKeys(doc: unknown): Set<string> {
  return doc !== null && typeof doc === 'object' && !Array.isArray(doc)
    ? new Set(Object.keys(doc))
    : new Set();
}

export interface Output {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `validate` in this process, its stdout and stderr captured. */
export function validateInProcess(configPath: string, env: NodeJS.ProcessEnv): Output {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  const capture =
    (append: (text: string) => void): typeof process.stdout.write =>
    (chunk: string | Uint8Array): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    };
  process.stdout.write = capture((t) => (stdout += t));
  process.stderr.write = capture((t) => (stderr += t));
  try {
    return { code: validateCommand({ config: configPath }, env), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** stderr without Node's own warnings (e.g. YAML's complex-key warning). */
export function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('(node:') && !l.startsWith('(Use `node'));
}

/**
 * Why `validate`'s output breaks its contract for this verdict: exit 0 with the effective
 * configuration, or 2 with one `config error: <path>: …` line per issue; never a stack trace,
 * never a password.
 */
export function outputProblems(output: Output, verdict: Verdict): string[] {
  const problems: string[] = [];
  const all = `${output.stdout}\n${output.stderr}`;
  if (STACK_FRAME.test(all)) problems.push('stack trace in output');
  if (all.includes(PASSWORD_MARK)) problems.push('a password reached the output');
  if (verdict.valid) {
    if (output.code !== 0) problems.push(`valid configuration but exit ${output.code}`);
    if (!output.stdout.startsWith('configuration is valid\n')) problems.push('no effective config');
    if (errorLines(output.stderr).length > 0) problems.push('stderr on a valid configuration');
    return problems;
  }
  if (output.code !== 2) problems.push(`invalid configuration but exit ${output.code}`);
  const lines = errorLines(output.stderr);
  if (lines.length !== verdict.issues.length) {
    problems.push(`${verdict.issues.length} issues but ${lines.length} stderr lines`);
  }
  for (const [i, line] of lines.entries()) {
    const issue = verdict.issues[i];
    // Under the New Relic agent (nri or hybrid mode) lines carry the agent's `[ERR] ` tag.
    if (!/^(\[ERR\] )?config error: /.test(line)) {
      problems.push(`not a config error line: ${line}`);
    }
    // The issue as the CLI formats it (control characters escaped, so one line); secrets are
    // masked wherever they appear, key paths included (a DSN-shaped key, a header
    // value registered as a secret): a masked line has still named its key, partly hidden.
    else if (
      issue !== undefined &&
      issue.path !== '' &&
      !line.includes(formatConfigIssue(issue)) &&
      !line.includes('****')
    ) {
      problems.push(`line ${i} does not name ${issue.path}: ${line}`);
    }
  }
  return problems;
}

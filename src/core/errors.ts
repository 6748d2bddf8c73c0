/** One problem in the merged configuration, located by its key path. */
export interface ConfigIssue {
  /** Dotted path with indexes, e.g. `targets[0].port`; empty for the root. */
  readonly path: string;
  readonly message: string;
}

/** Configuration that cannot be used; the CLI prints each issue on a line and exits 2. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * One line per issue, always: a file name or value quoted into a message may hold a line break
 * (a `*_FILE` variable of "\n"), which would split the issue over lines and forge a second one.
 */
export function formatConfigIssue(issue: ConfigIssue): string {
  const message = oneLine(issue.message);
  return issue.path === '' ? message : `${oneLine(issue.path)}: ${message}`;
}

// Control characters are exactly what this matches.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function oneLine(text: string): string {
  return text.replace(
    CONTROL,
    (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An operation outlived its deadline. */
export class TimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/** A collector cannot run on this server (missing view, extension or privilege). */
export class CollectorUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CollectorUnavailableError';
  }
}

/** Message of anything thrown, for logs and metadata. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message === '' ? err.name : err.message;
  }
  return String(err);
}

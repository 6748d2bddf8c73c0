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

export function formatConfigIssue(issue: ConfigIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
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

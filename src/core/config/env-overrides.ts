import type { ConfigIssue } from '../errors.js';
import { registerSecret } from '../redact.js';
import { setPath } from './merge.js';

type Kind = 'string' | 'number' | 'boolean' | 'list';

interface EnvBinding {
  /** Where the value goes in the raw config. */
  readonly path: readonly string[];
  readonly kind: Kind;
  /** Secrets may also come from `<NAME>_FILE` and are masked in all output. */
  readonly secret?: boolean;
}

/** `PGQUERYLENS_*` variables; each secret also has a `*_FILE` form. */
export const ENV_BINDINGS: Readonly<Record<string, EnvBinding>> = {
  PGQUERYLENS_MODE: { path: ['mode'], kind: 'string' },
  PGQUERYLENS_INTERVAL: { path: ['interval'], kind: 'string' },
  PGQUERYLENS_TARGETS: { path: ['targets'], kind: 'list', secret: true },
  PGQUERYLENS_OUTPUT: { path: ['output', 'format'], kind: 'string' },
  PGQUERYLENS_OUTPUT_FILE: { path: ['output', 'path'], kind: 'string' },
  PGQUERYLENS_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  PGQUERYLENS_LOG_FORMAT: { path: ['log', 'format'], kind: 'string' },
  PGQUERYLENS_STATEMENT_TIMEOUT: { path: ['connection', 'statementTimeout'], kind: 'string' },
  PGQUERYLENS_CONNECT_TIMEOUT: { path: ['connection', 'connectTimeout'], kind: 'string' },
  PGQUERYLENS_MAX_CONNECTIONS: { path: ['connection', 'maxConnections'], kind: 'number' },
  PGQUERYLENS_MAX_CONCURRENT_QUERIES: {
    path: ['connection', 'maxConcurrentQueries'],
    kind: 'number',
  },
  PGQUERYLENS_DATASTORE_URL: { path: ['datastore', 'url'], kind: 'string', secret: true },
  PGQUERYLENS_DATASTORE_SPOOL_DIR: { path: ['datastore', 'spoolDir'], kind: 'string' },
  PGQUERYLENS_SECRET_FILE: { path: ['datastore', 'secretFile'], kind: 'string' },
  PGQUERYLENS_SHUTDOWN_TIMEOUT: { path: ['shutdownTimeout'], kind: 'string' },
  PGQUERYLENS_NRI_PROTOCOL: { path: ['nri', 'protocol'], kind: 'number' },
  PGQUERYLENS_TELEMETRY_PORT: { path: ['telemetry', 'port'], kind: 'number' },
  PGQUERYLENS_TELEMETRY_HOST: { path: ['telemetry', 'host'], kind: 'string' },
  PGQUERYLENS_TELEMETRY: { path: ['telemetry', 'enabled'], kind: 'boolean' },
  PGQUERYLENS_PROMETHEUS: { path: ['telemetry', 'prometheus'], kind: 'boolean' },
  PGQUERYLENS_OTLP: { path: ['otlp', 'enabled'], kind: 'boolean' },
  PGQUERYLENS_SHARDS: { path: ['sharding', 'shards'], kind: 'number' },
  PGQUERYLENS_SHARD: { path: ['sharding', 'shard'], kind: 'number' },
  PGQUERYLENS_NRI_STATE_DIR: { path: ['nri', 'stateDir'], kind: 'string' },
};

/** Default password for targets that set none (`PGQUERYLENS_PASSWORD` / `_FILE`). */
export const DEFAULT_PASSWORD_ENV = 'PGQUERYLENS_PASSWORD';

export type ReadTextFile = (path: string) => string;

/** Reads `NAME` or, failing that, the file named by `NAME_FILE` (trailing newline trimmed). */
export function readEnvOrFile(
  env: NodeJS.ProcessEnv,
  name: string,
  readFile: ReadTextFile,
  issues: ConfigIssue[],
): string | undefined {
  const direct = env[name];
  const filePath = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && filePath !== undefined && filePath !== '') {
    issues.push({ path: name, message: `set ${name} or ${name}_FILE, not both` });
    return undefined;
  }
  if (filePath !== undefined && filePath !== '') {
    try {
      return readFile(filePath).replace(/\r?\n$/, '');
    } catch (err) {
      issues.push({ path: `${name}_FILE`, message: `cannot read ${filePath}: ${fsReason(err)}` });
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

/** The raw-config fragment the environment contributes. */
export function envOverrides(
  env: NodeJS.ProcessEnv,
  readFile: ReadTextFile,
  issues: ConfigIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, binding] of Object.entries(ENV_BINDINGS)) {
    const value = binding.secret
      ? readEnvOrFile(env, name, readFile, issues)
      : env[name] === ''
        ? undefined
        : env[name];
    if (value === undefined) {
      continue;
    }
    // A URL is secret for the password it may hold; the keyword `embedded` holds none, and
    // masking it would garble every path and message that contains the word.
    if (binding.secret && value !== 'embedded') {
      registerSecret(value);
    }
    switch (binding.kind) {
      case 'string':
        setPath(out, binding.path, value);
        break;
      case 'number': {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n)) {
          issues.push({ path: name, message: `expected a number, got ${JSON.stringify(value)}` });
        } else {
          setPath(out, binding.path, n);
        }
        break;
      }
      case 'boolean': {
        const b = /^(true|1|yes|on)$/i.test(value)
          ? true
          : /^(false|0|no|off)$/i.test(value)
            ? false
            : undefined;
        if (b === undefined) {
          issues.push({
            path: name,
            message: `expected true or false, got ${JSON.stringify(value)}`,
          });
        } else {
          setPath(out, binding.path, b);
        }
        break;
      }
      case 'list':
        setPath(
          out,
          binding.path,
          value
            .split(/[\s,]+/)
            .filter((u) => u !== '')
            .map((url) => ({ url })),
        );
        break;
    }
  }
  return out;
}

export function fsReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

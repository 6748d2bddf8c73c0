import type { ConfigIssue } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { ParsedConfig, ParsedTarget } from './config-schema.js';
import { SSL_MODES, type SslMode } from './modes.js';
import { CONNECTION_DEFAULTS, type ResolvedTarget, type TargetKind } from './resolved-config.js';
import { fsReason } from './env-overrides.js';

interface ResolveContext {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => string;
  readonly defaultPassword: string | undefined;
  readonly issues: ConfigIssue[];
  readonly pathPrefix: string;
}

/** The fields a connection URL can carry. */
interface UrlParts {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  sslmode?: string;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
}

/** A target from the standard libpq variables, used only when no target is configured. */
export function pgEnvTarget(env: NodeJS.ProcessEnv): ParsedTarget | undefined {
  const pick = (name: string): string | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  if (
    pick('PGHOST') === undefined &&
    pick('PGPORT') === undefined &&
    pick('PGUSER') === undefined
  ) {
    return undefined;
  }
  const port = pick('PGPORT');
  const sslmode = pick('PGSSLMODE');
  return {
    host: pick('PGHOST') ?? 'localhost',
    ...(port === undefined ? {} : { port: Number(port) }),
    ...(pick('PGUSER') === undefined ? {} : { user: pick('PGUSER') }),
    ...(pick('PGPASSWORD') === undefined ? {} : { password: pick('PGPASSWORD') }),
    ...(pick('PGDATABASE') === undefined ? {} : { database: pick('PGDATABASE') }),
    ...(sslmode === undefined ? {} : { sslmode: sslmode as SslMode }),
  };
}

/** Where each kind listens by default, and the database its connection opens. */
const KIND_DEFAULTS: Readonly<Record<TargetKind, { port: number; database: string }>> = {
  postgresql: { port: 5432, database: 'postgres' },
  // PgBouncer's statistics are SHOW commands on its admin console, the `pgbouncer` database.
  pgbouncer: { port: 6432, database: 'pgbouncer' },
};

export function resolveTargets(
  targets: readonly ParsedTarget[],
  connection: ParsedConfig['connection'],
  ctx: ResolveContext,
): ResolvedTarget[] {
  const resolved: ResolvedTarget[] = [];
  const seen = new Map<string, number>();
  targets.forEach((target, index) => {
    const path = ctx.pathPrefix === 'targets' ? `targets[${index}]` : ctx.pathPrefix;
    const fromUrl = target.url === undefined ? {} : parseUrl(target.url, `${path}.url`, ctx.issues);
    const kind = target.type ?? 'postgresql';
    const defaults = KIND_DEFAULTS[kind];
    const host = target.host ?? fromUrl.host ?? 'localhost';
    const port = target.port ?? fromUrl.port ?? defaults.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      ctx.issues.push({ path: `${path}.port`, message: `invalid port ${String(port)}` });
    }
    const sslmode = target.sslmode ?? fromUrl.sslmode ?? 'disable';
    if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
      ctx.issues.push({
        path: `${path}.sslmode`,
        message: `must be one of ${SSL_MODES.join(', ')}`,
      });
    }
    const password = readPassword(target, fromUrl, path, ctx);
    registerSecret(password);
    const database = target.database ?? fromUrl.database ?? defaults.database;
    if (kind === 'pgbouncer' && database !== defaults.database) {
      ctx.issues.push({
        path: `${path}.database`,
        message: `a pgbouncer target reads the admin console: database must be ${defaults.database}`,
      });
    }
    // Two targets on one server differ by database, so the default name says which.
    const name =
      target.name ??
      (database === defaults.database ? `${host}:${port}` : `${host}:${port}/${database}`);
    const previous = seen.get(name);
    if (previous !== undefined) {
      ctx.issues.push({
        path: `${path}.name`,
        message: `duplicate target name ${JSON.stringify(name)} (also targets[${previous}])`,
      });
    }
    seen.set(name, index);
    const user = target.user ?? fromUrl.user;
    const rootCertPath = target.sslrootcert ?? fromUrl.sslrootcert;
    const certPath = target.sslcert ?? fromUrl.sslcert;
    const keyPath = target.sslkey ?? fromUrl.sslkey;
    resolved.push(
      Object.freeze({
        name,
        kind,
        host,
        port,
        ...(user === undefined ? {} : { user }),
        ...(password === undefined ? {} : { password }),
        database,
        ssl: {
          mode: sslmode as SslMode,
          ...(rootCertPath === undefined ? {} : { rootCertPath }),
          ...(certPath === undefined ? {} : { certPath }),
          ...(keyPath === undefined ? {} : { keyPath }),
        },
        databases: target.databases ?? 'all',
        excludeDatabases: target.excludeDatabases ?? [],
        labels: target.labels ?? {},
        maxConnections:
          target.maxConnections ?? connection.maxConnections ?? CONNECTION_DEFAULTS.maxConnections,
        maxConcurrentQueries:
          target.maxConcurrentQueries ??
          connection.maxConcurrentQueries ??
          CONNECTION_DEFAULTS.maxConcurrentQueries,
        statementTimeoutMs:
          target.statementTimeout ??
          connection.statementTimeout ??
          CONNECTION_DEFAULTS.statementTimeoutMs,
        lockTimeoutMs:
          target.lockTimeout ?? connection.lockTimeout ?? CONNECTION_DEFAULTS.lockTimeoutMs,
        connectTimeoutMs:
          target.connectTimeout ??
          connection.connectTimeout ??
          CONNECTION_DEFAULTS.connectTimeoutMs,
      }),
    );
  });
  return resolved;
}

function readPassword(
  target: ParsedTarget,
  fromUrl: UrlParts,
  path: string,
  ctx: ResolveContext,
): string | undefined {
  if (target.password !== undefined) {
    return target.password;
  }
  if (target.passwordFile !== undefined) {
    try {
      return ctx.readFile(target.passwordFile).replace(/\r?\n$/, '');
    } catch (err) {
      ctx.issues.push({
        path: `${path}.passwordFile`,
        message: `cannot read ${target.passwordFile}: ${fsReason(err)}`,
      });
      return undefined;
    }
  }
  if (target.passwordEnv !== undefined) {
    const value = ctx.env[target.passwordEnv];
    if (value === undefined) {
      ctx.issues.push({
        path: `${path}.passwordEnv`,
        message: `environment variable ${target.passwordEnv} is not set`,
      });
    }
    return value;
  }
  return fromUrl.password ?? ctx.defaultPassword;
}

function parseUrl(raw: string, path: string, issues: ConfigIssue[]): UrlParts {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The raw value may hold a password: never echo it.
    issues.push({
      path,
      message: 'not a valid URL (expected postgres://user:password@host:port/db)',
    });
    return {};
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    issues.push({ path, message: `unsupported scheme ${url.protocol} (use postgres://)` });
    return {};
  }
  const q = url.searchParams;
  const out: UrlParts = {};
  let hostname: string;
  let username: string;
  let password: string;
  let database: string;
  try {
    hostname = decodeURIComponent(url.hostname);
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
    database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  } catch {
    // A stray `%` (say, in a password not percent-encoded): never echo the value.
    issues.push({ path, message: 'malformed percent-encoding in the URL (write % as %25)' });
    return {};
  }
  const host = q.get('host') ?? hostname.replace(/^\[(.*)\]$/, '$1');
  if (host !== '') out.host = host;
  if (url.port !== '') out.port = Number(url.port);
  if (q.get('port') !== null) out.port = Number(q.get('port'));
  if (username !== '') out.user = username;
  if (password !== '') out.password = password;
  if (database !== '') out.database = database;
  for (const key of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'] as const) {
    const value = q.get(key);
    if (value !== null) out[key] = value;
  }
  const known = new Set([
    'host',
    'port',
    'sslmode',
    'sslrootcert',
    'sslcert',
    'sslkey',
    'application_name',
  ]);
  for (const key of q.keys()) {
    if (!known.has(key)) {
      issues.push({ path, message: `unsupported URL parameter ${JSON.stringify(key)}` });
    }
  }
  return out;
}

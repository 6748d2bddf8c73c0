import type { ConfigIssue } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { RawConfig } from './config-schema.js';
import { readEnvOrFile, type ReadTextFile } from './env-overrides.js';
import { setPath } from './merge.js';
import { parseCollectionList } from './nri-collection-list.js';
import { readCustomMetricsConfig } from './nri-custom-metrics-config.js';
import { NriEnvValues } from './nri-env-values.js';

export interface NriPostgresqlEnvInput {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: ReadTextFile;
  readonly issues: ConfigIssue[];
  /** Registered collectors: toggles are set for these only (others do not exist here). */
  readonly knownCollectors: readonly string[];
  /** The query-performance collectors ENABLE_QUERY_MONITORING switches on and off. */
  readonly queryMonitoringCollectors: readonly string[];
}

/** nri-postgresql's variables as two raw-config layers. */
export interface NriPostgresqlLayers {
  /** What nri-postgresql does when a variable is unset (and protocol 3): below the file. */
  readonly defaults: RawConfig;
  /** What the variables that are set say: above the file, below PGQUERYLENS_* and flags. */
  readonly explicit: RawConfig;
}

/** nri-postgresql's own wording, kept so the agent's log reads the same. */
export const MISSING_CREDENTIALS = 'must specify a username and password';

const LOCKS_PROBE = 'pg_locks';
const BLOAT_PROBE = 'pg_table_bloat';
const DEFAULT_COUNT_THRESHOLD = 20;
const MAX_COUNT_THRESHOLD = 30;
const DEFAULT_RESPONSE_TIME_THRESHOLD_MS = 1;
const MAX_RESPONSE_TIME_THRESHOLD_MS = 3_600_000;
const MAX_TIMEOUT_SECONDS = 86_400;

/**
 * Builds the configuration an nri-postgresql integration config's `env` describes (samples in
 * config/newrelic): one PostgreSQL target from HOSTNAME/PORT/USERNAME/PASSWORD/DATABASE,
 * a PgBouncer target with PGBOUNCER, what to collect from COLLECTION_LIST and the feature
 * switches. Every malformed value is reported on its variable (nriLayers masks the password
 * in the messages).
 */
export function nriPostgresqlLayers(input: NriPostgresqlEnvInput): NriPostgresqlLayers {
  const values = new NriEnvValues(input.env, input.issues);
  const defaults: RawConfig = {};
  const explicit: RawConfig = {};
  const put = (isSet: boolean, path: readonly string[], value: unknown): void =>
    setPath(isSet ? explicit : defaults, path, value);
  const toggle = (isSet: boolean, collector: string, enabled: boolean): void => {
    if (input.knownCollectors.includes(collector)) {
      put(isSet, ['collectors', collector, 'enabled'], enabled);
    }
  };

  // Same event types as the integration being replaced; `nri.protocol` in the file still wins.
  put(false, ['nri', 'protocol'], 3);

  const targets = buildTargets(values, input);
  explicit.targets = targets;

  const locks = values.bool('COLLECT_DB_LOCK_METRICS');
  toggle(locks !== undefined, LOCKS_PROBE, locks ?? false);
  const bloat = values.bool('COLLECT_BLOAT_METRICS');
  toggle(bloat !== undefined, BLOAT_PROBE, bloat ?? true);
  const monitoring = values.bool('ENABLE_QUERY_MONITORING');
  for (const collector of input.queryMonitoringCollectors) {
    toggle(monitoring !== undefined, collector, monitoring ?? false);
  }

  const count = values.int('QUERY_MONITORING_COUNT_THRESHOLD');
  if (count !== undefined) {
    // nri-postgresql: negative → default, above 30 → 30. Zero (LIMIT 0 there: no events at
    // all) also falls back to the default; switching events off is EVENTS' or
    // ENABLE_QUERY_MONITORING's job.
    const clamped = count <= 0 ? DEFAULT_COUNT_THRESHOLD : Math.min(count, MAX_COUNT_THRESHOLD);
    put(true, ['nri', 'queryMonitoring', 'countThreshold'], clamped);
    put(true, ['queryPerformance', 'slowQueries', 'limit'], clamped);
  }
  const responseTime = values.int('QUERY_MONITORING_RESPONSE_TIME_THRESHOLD', {
    max: MAX_RESPONSE_TIME_THRESHOLD_MS,
  });
  if (responseTime !== undefined) {
    const ms = responseTime < 0 ? DEFAULT_RESPONSE_TIME_THRESHOLD_MS : responseTime;
    put(true, ['nri', 'queryMonitoring', 'responseTimeThreshold'], ms);
  }

  // The SDK collects everything unless at least one of these is true; then only those.
  const parts = { metrics: 'METRICS', inventory: 'INVENTORY', events: 'EVENTS' } as const;
  const chosen = Object.entries(parts).map(([key, name]) => [key, values.bool(name)] as const);
  if (chosen.some(([, v]) => v === true)) {
    for (const [key, v] of chosen) put(true, ['nri', key], v === true);
  }

  const cluster = values.text('NRI_CLUSTER');
  if (cluster !== undefined) put(true, ['nri', 'clusterName'], cluster);
  const service = values.text('NRI_SERVICE');
  if (service !== undefined) put(true, ['nri', 'serviceName'], service);

  const ignoreTables = values.nameList('COLLECTION_IGNORE_TABLE_LIST');
  if (ignoreTables !== undefined) put(true, ['nri', 'ignoreTables'], ignoreTables);

  const metricsQuery = values.text('CUSTOM_METRICS_QUERY');
  if (metricsQuery !== undefined) put(true, ['customQueries', 'metricsQuery'], metricsQuery);
  const customConfig = values.text('CUSTOM_METRICS_CONFIG');
  if (customConfig !== undefined) {
    const queries = readCustomMetricsConfig(customConfig, input.readFile, values);
    if (queries !== undefined) put(true, ['customQueries', 'queries'], queries);
  }

  const collection = parseCollectionList(values);
  if (collection.collection !== undefined) {
    put(true, ['nri', 'collection'], collection.collection);
  }
  for (const target of targets) {
    if (target.type === undefined) target.databases = collection.databases;
  }
  return { defaults, explicit };
}

/** The PostgreSQL target, and the PgBouncer one when PGBOUNCER is true. */
function buildTargets(
  values: NriEnvValues,
  input: NriPostgresqlEnvInput,
): Record<string, unknown>[] {
  const user = values.text('USERNAME');
  const before = input.issues.length;
  const password = readEnvOrFile(input.env, 'PASSWORD', input.readFile, input.issues);
  registerSecret(password);
  const passwordProblem = input.issues.length > before;
  if (user === undefined) values.report('USERNAME', MISSING_CREDENTIALS);
  if (password === undefined && !passwordProblem) values.report('PASSWORD', MISSING_CREDENTIALS);

  const host = values.text('HOSTNAME') ?? 'localhost';
  const port = values.int('PORT', { min: 1, max: 65535 }) ?? 5432;
  const common: Record<string, unknown> = {
    host,
    port,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...sslFields(values),
  };
  const timeout = values.int('TIMEOUT', { min: 0, max: MAX_TIMEOUT_SECONDS });
  // lib/pq reads connect_timeout=0 as "wait forever"; we keep our bounded default instead.
  if (timeout !== undefined && timeout > 0) common.connectTimeout = `${timeout}s`;

  const name = targetName(host, port);
  const postgres: Record<string, unknown> = {
    name,
    ...common,
    database: values.text('DATABASE') ?? 'postgres',
  };
  const excluded = values.nameList('COLLECTION_IGNORE_DATABASE_LIST');
  if (excluded !== undefined) postgres.excludeDatabases = excluded;
  const targets = [postgres];
  if (values.bool('PGBOUNCER') === true) {
    // nri-postgresql reads the pooler's admin console on the same host and port.
    targets.push({ name: `pgbouncer@${name}`, type: 'pgbouncer', ...common });
  }
  return targets;
}

/**
 * ENABLE_SSL and friends as nri-postgresql maps them onto libpq's sslmode: off → disable;
 * TRUST_SERVER_CERTIFICATE → require (no verification); otherwise verify-full, which needs the
 * CA in SSL_ROOT_CERT_LOCATION. Client certificate and key are passed when given.
 */
function sslFields(values: NriEnvValues): Record<string, unknown> {
  const enabled = values.bool('ENABLE_SSL') ?? false;
  const trust = values.bool('TRUST_SERVER_CERTIFICATE') ?? false;
  const rootCert = values.text('SSL_ROOT_CERT_LOCATION');
  const cert = values.text('SSL_CERT_LOCATION');
  const key = values.text('SSL_KEY_LOCATION');
  if (!enabled) return { sslmode: 'disable' };
  const client = {
    ...(cert === undefined ? {} : { sslcert: cert }),
    ...(key === undefined ? {} : { sslkey: key }),
  };
  if (trust) return { sslmode: 'require', ...client };
  if (rootCert === undefined) {
    values.report(
      'SSL_ROOT_CERT_LOCATION',
      'required when ENABLE_SSL is true and TRUST_SERVER_CERTIFICATE is false ' +
        '(the CA certificate that verifies the server)',
    );
  }
  return {
    sslmode: 'verify-full',
    ...(rootCert === undefined ? {} : { sslrootcert: rootCert }),
    ...client,
  };
}

/**
 * `host:port`, nri-postgresql's instance entity name, with any character a target name may not
 * hold (`[A-Za-z0-9_.:@-]`) replaced by `_`.
 */
export function targetName(host: string, port: number): string {
  return `${host.replace(/[^A-Za-z0-9_.:@-]/g, '_')}:${port}`;
}

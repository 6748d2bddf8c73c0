import { z } from 'zod';
import { parseDurationMs } from '../duration.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  MODES,
  OUTPUT_FORMATS,
  QUERY_TEXT_MODES,
  SSL_MODES,
} from './modes.js';
import { TARGET_KINDS } from './resolved-config.js';

/** `30s`, `10m`, `500ms` or a number of seconds, to milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid duration ${JSON.stringify(value)}: use e.g. 500ms, 30s, 10m, 1h`,
    });
    return z.NEVER;
  }
  return ms;
});

// Node timers overflow past 2^31-1 ms (about 24.8 days) and would fire at once.
const MAX_DURATION_MS = 24 * 86_400_000;

const positiveDuration = duration
  .refine((ms) => ms > 0, { message: 'must be greater than 0' })
  .refine((ms) => ms <= MAX_DURATION_MS, { message: 'must be at most 24d' });

const intIn = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);

const nonEmpty = z.string().min(1, { message: 'must not be empty' });

/** Connection limits and timeouts; settable at the top level (`connection`) and per target. */
const connectionFields = {
  maxConnections: intIn(1, 100).optional(),
  maxConcurrentQueries: intIn(1, 50).optional(),
  statementTimeout: positiveDuration.optional(),
  lockTimeout: positiveDuration.optional(),
  connectTimeout: positiveDuration.optional(),
};

export const targetSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:@-]+$/, { message: 'use letters, digits and _ . : @ - only' })
      .optional(),
    type: z.enum(TARGET_KINDS).optional(),
    url: nonEmpty.optional(),
    host: nonEmpty.optional(),
    port: intIn(1, 65535).optional(),
    user: nonEmpty.optional(),
    password: z.string().optional(),
    passwordFile: nonEmpty.optional(),
    passwordEnv: nonEmpty.optional(),
    database: nonEmpty.optional(),
    sslmode: z.enum(SSL_MODES).optional(),
    sslrootcert: nonEmpty.optional(),
    sslcert: nonEmpty.optional(),
    sslkey: nonEmpty.optional(),
    // An empty list reads server-wide collectors only (nri-postgresql's default COLLECTION_LIST).
    databases: z.union([z.literal('all'), z.array(nonEmpty)]).optional(),
    excludeDatabases: z.array(nonEmpty).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    ...connectionFields,
  })
  .superRefine((t, ctx) => {
    if (t.url === undefined && t.host === undefined) {
      ctx.addIssue({ code: 'custom', message: 'set url or host', path: ['url'] });
    }
    if (t.url !== undefined && t.host !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set url or host, not both', path: ['host'] });
    }
    const sources = [t.password, t.passwordFile, t.passwordEnv].filter((s) => s !== undefined);
    if (sources.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'set only one of password, passwordFile, passwordEnv',
        path: ['password'],
      });
    }
  });

// History may be kept for years; no timer ever waits this long.
const retention = duration
  .refine((ms) => ms >= 86_400_000, { message: 'must be at least 1d' })
  .refine((ms) => ms <= 3650 * 86_400_000, { message: 'must be at most 3650d' });

const collectorSettingsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  interval: positiveDuration.optional(),
  statementTimeout: positiveDuration.optional(),
  timeout: positiveDuration.optional(),
  /** How long the datastore keeps this probe's history (whole days). */
  retention: retention.optional(),
});

// A schema-qualified function name, checked because it is spliced into SQL.
const qualifiedName = z.string().regex(/^[a-z_][a-z0-9_$]*\.[a-z_][a-z0-9_$]*$/, {
  message: 'use schema.function, lower-case letters, digits and _ only',
});

const queryPerformanceSchema = z.strictObject({
  queryText: z.enum(QUERY_TEXT_MODES).optional(),
  queryTextMaxLength: intIn(64, 1_000_000).optional(),
  slowQueries: z.strictObject({ limit: intIn(1, 500).optional() }).optional(),
  individualQueries: z.strictObject({ perQuery: intIn(0, 100).optional() }).optional(),
  ash: z
    .strictObject({
      interval: positiveDuration
        .refine((ms) => ms >= 100 && ms <= 60_000, { message: 'must be between 100ms and 60s' })
        .optional(),
      timeout: positiveDuration.optional(),
      bufferSessions: intIn(1_000, 50_000_000).optional(),
      rawSamples: z.boolean().optional(),
    })
    .optional(),
  blocking: z
    .strictObject({
      minInterval: positiveDuration.optional(),
      maxRows: intIn(1, 100_000).optional(),
    })
    .optional(),
  plans: z
    .strictObject({
      perQueryInterval: positiveDuration.optional(),
      maxPerCycle: intIn(0, 1_000).optional(),
      failureTtl: positiveDuration.optional(),
      explainFunction: qualifiedName.optional(),
    })
    .optional(),
  regression: z
    .strictObject({
      ratio: z.number().gt(1).max(1_000).optional(),
      minExtraPerHour: duration
        .refine((ms) => ms >= 0, { message: 'must not be negative' })
        .optional(),
      window: positiveDuration.optional(),
      minCalls: intIn(1, 1_000_000_000).optional(),
      baselineWindow: positiveDuration.optional(),
    })
    .optional(),
});

export type ParsedQueryPerformance = z.output<typeof queryPerformanceSchema>;

/** COLLECTION_LIST's object form: database → schema → table → indexes. */
const collectionObject = z.record(
  z.string(),
  z.record(z.string(), z.record(z.string(), z.array(z.string()))),
);

/** How the NRI adapter writes for the New Relic infrastructure agent. */
const nriSchema = z.strictObject({
  /** Infrastructure SDK protocol: 4 (dimensional metrics) or 3 (nri-postgresql's samples). */
  protocol: z.union([z.literal(3), z.literal(4)]).optional(),
  /** Keep running and print a payload per interval (plus `{}` heartbeats). */
  daemon: z.boolean().optional(),
  /** Where rate and statement state lives between one-shot runs. */
  stateDir: nonEmpty.optional(),
  /** State older than this is forgotten (nri's CACHE_TTL). */
  stateTtl: positiveDuration.optional(),
  /** Session samples taken during a one-shot run, and their spacing. */
  burst: z
    .strictObject({
      samples: intIn(0, 100).optional(),
      interval: positiveDuration
        .refine((ms) => ms >= 50 && ms <= 10_000, { message: 'must be between 50ms and 10s' })
        .optional(),
    })
    .optional(),
  /** What to emit: metric sets, inventory, events (query performance). */
  metrics: z.boolean().optional(),
  inventory: z.boolean().optional(),
  events: z.boolean().optional(),
  /** NRI_CLUSTER / NRI_SERVICE: `cluster_name` / `service_name` on every set. */
  clusterName: nonEmpty.optional(),
  serviceName: nonEmpty.optional(),
  /** Only these tables and indexes get sets (COLLECTION_LIST's object form). */
  collection: collectionObject.optional(),
  /** Tables left out by bare name (COLLECTION_IGNORE_TABLE_LIST). */
  ignoreTables: z.array(nonEmpty).optional(),
  queryMonitoring: z
    .strictObject({
      /** Most sets per query-performance event type (1..30, nri's limit). */
      countThreshold: intIn(1, 30).optional(),
      /** Individual queries of statements at or below this mean (ms) are left out. */
      responseTimeThreshold: z.number().min(0).max(3_600_000).optional(),
    })
    .optional(),
});

export type ParsedNri = z.output<typeof nriSchema>;

/** Which query-performance records go out as OTLP log events. */
const otlpEventsSchema = z.strictObject({
  /** Slow queries as `db.server.top_query`. */
  topQueries: z.boolean().optional(),
  /** Individual executions as `db.server.query_sample`. */
  querySamples: z.boolean().optional(),
  /** Captured execution plans. */
  plans: z.boolean().optional(),
  /** New plans and suspected regressions. */
  planChanges: z.boolean().optional(),
  /** Blocked → blocking edges of lock-wait trees. */
  blockingChains: z.boolean().optional(),
  /** Every Active Session History sample (voluminous; off by default). */
  ashSamples: z.boolean().optional(),
});

/** Events as OTLP log records; unset transport settings follow the metrics' (`otlp.*`). */
const otlpLogsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  protocol: z.enum(['grpc', 'http/protobuf', 'http/json']).optional(),
  /** Full URL; for HTTP including the path, e.g. `http://vl:9428/insert/opentelemetry/v1/logs`. */
  endpoint: nonEmpty.optional(),
  headers: z.record(nonEmpty, z.string()).optional(),
  timeout: positiveDuration.optional(),
  compression: z.enum(['gzip', 'none']).optional(),
  events: otlpEventsSchema.optional(),
  /** Longest attribute value (query texts, plans) before it is cut. */
  attributeValueLengthLimit: intIn(64, 1_048_576).optional(),
  /** Records waiting to be sent, all targets together; beyond it new ones are dropped and counted. */
  maxQueueSize: intIn(1, 1_000_000).optional(),
  /** Records per export request. */
  maxExportBatchSize: intIn(1, 100_000).optional(),
});

export type ParsedOtlpLogs = z.output<typeof otlpLogsSchema>;

/** The OTLP adapters (`otel` and `hybrid` modes); OTEL_* variables fill what is unset. */
const otlpSchema = z.strictObject({
  /** false: no OTLP push at all (e.g. only the Prometheus pull endpoint). Default true. */
  enabled: z.boolean().optional(),
  protocol: z.enum(['grpc', 'http/protobuf', 'http/json']).optional(),
  /** Full URL; for HTTP including the path, e.g. `http://vm:8428/opentelemetry/v1/metrics`. */
  endpoint: nonEmpty.optional(),
  headers: z.record(nonEmpty, z.string()).optional(),
  timeout: positiveDuration.optional(),
  compression: z.enum(['gzip', 'none']).optional(),
  exportInterval: positiveDuration.optional(),
  serviceName: nonEmpty.optional(),
  resourceAttributes: z.record(nonEmpty, z.string()).optional(),
  /** Series per instrument and target before the SDK's overflow series. */
  cardinalityLimit: intIn(100, 10_000_000).optional(),
  /** PEM file of the CA that signed the endpoint's certificate (TLS). */
  certificate: nonEmpty.optional(),
  /** PEM files of a client certificate and its key (mutual TLS). */
  clientCertificate: nonEmpty.optional(),
  clientKey: nonEmpty.optional(),
  /** For a gRPC endpoint written as `host:port`: plaintext (`http://`) instead of TLS. */
  insecure: z.boolean().optional(),
  logs: otlpLogsSchema.optional(),
  /** The collector's own metrics over OTLP too (`telemetry` serves them over HTTP). */
  selfMetrics: z.boolean().optional(),
});

/** The self-telemetry HTTP listener: /healthz, /readyz and /metrics. */
const telemetrySchema = z.strictObject({
  /** Default: on for long-running modes, off for one-shot runs (`--once`, NRI under the agent). */
  enabled: z.boolean().optional(),
  host: nonEmpty.optional(),
  /** 0 picks a free port (logged). */
  port: intIn(0, 65_535).optional(),
  /** Serve the PostgreSQL metrics on /metrics as well as the collector's own (Prometheus pull). */
  prometheus: z.boolean().optional(),
});

export type ParsedTelemetry = z.output<typeof telemetrySchema>;

/** Replicas sharing the targets by rendezvous hashing of their names. */
const shardingSchema = z.strictObject({
  /** How many replicas share the targets. */
  shards: intIn(1, 1000).optional(),
  /** This replica's ordinal; default: the trailing number of POD_NAME or HOSTNAME. */
  shard: intIn(0, 999).optional(),
});

export type ParsedSharding = z.output<typeof shardingSchema>;

export type ParsedOtlp = z.output<typeof otlpSchema>;

/** A custom query as nri-postgresql's CUSTOM_METRICS_CONFIG file defines one. */
export const customQuerySchema = z.strictObject({
  query: nonEmpty,
  /** Database it runs in; the target's connection database when absent. */
  database: nonEmpty.optional(),
  /** Column → gauge | rate | delta | attribute; numbers default to gauge, text to attribute. */
  metricTypes: z
    .record(z.string(), z.enum(['gauge', 'rate', 'delta', 'prate', 'pdelta', 'attribute']))
    .optional(),
  /** Event type of its sets (default PostgresqlCustomSample). */
  sampleName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'use letters, digits and _ only' })
    .optional(),
});

/** Custom statistics queries (nri-postgresql's CUSTOM_METRICS_QUERY and CUSTOM_METRICS_CONFIG). */
const customQueriesSchema = z.strictObject({
  /** One query returning metric_name, metric_type, metric_value (+ attribute columns). */
  metricsQuery: nonEmpty.optional(),
  queries: z.array(customQuerySchema).max(100).optional(),
  /** Per-query timeout. */
  timeout: positiveDuration.optional(),
});

export type ParsedCustomQueries = z.output<typeof customQueriesSchema>;

export const configSchema = z.strictObject({
  mode: z.enum(MODES).default('otel'),
  interval: positiveDuration.default(30_000),
  targets: z.array(targetSchema).default([]),
  connection: z.strictObject(connectionFields).default({}),
  collectors: z.record(z.string(), collectorSettingsSchema).default({}),
  queryPerformance: queryPerformanceSchema.default({}),
  nri: nriSchema.default({}),
  customQueries: customQueriesSchema.default({}),
  otlp: otlpSchema.default({}),
  telemetry: telemetrySchema.default({}),
  sharding: shardingSchema.default({}),
  output: z
    .strictObject({
      format: z.enum(OUTPUT_FORMATS).default('json'),
      path: nonEmpty.default('-'),
      /** For `file`: directory of rotated, compressed NDJSON batches for `pgquerylens load`. */
      spoolDir: nonEmpty.optional(),
    })
    .refine((o) => o.format !== 'file' || o.spoolDir !== undefined, {
      message: 'format file needs spoolDir (--spool-dir)',
      path: ['spoolDir'],
    })
    .optional(),
  export: z
    .strictObject({
      timeout: positiveDuration.default(10_000),
      // Default: 100, or twice the targets (a fleet finishes its runs together).
      queueSize: intIn(1, 100_000).optional(),
      maxRetries: intIn(0, 1000).default(5),
      retryInitial: positiveDuration.default(500),
      retryMax: positiveDuration.default(30_000),
    })
    .default({
      timeout: 10_000,
      maxRetries: 5,
      retryInitial: 500,
      retryMax: 30_000,
    }),
  datastore: z
    .strictObject({
      /** A PostgreSQL URL, or `embedded` for a server kept under `dataDir`. */
      url: nonEmpty.optional(),
      /** The datastore role's password, when not in the URL. */
      passwordFile: nonEmpty.optional(),
      /** Server secret that encrypts passwords in the `connections` table. */
      secretFile: nonEmpty.optional(),
      maxConnections: intIn(1, 500).default(25),
      /** Owner recorded on connections registered for this file's targets. */
      owner: nonEmpty.default('pgquerylens'),
      /** Rows held in memory while the datastore is unreachable (without spoolDir). */
      bufferRows: intIn(1_000, 100_000_000).default(500_000),
      /** Directory where batches wait on disk, surviving restarts and crashes. */
      spoolDir: nonEmpty.optional(),
      /** Bound of the spool, MiB; the oldest batches go first when it is full. */
      spoolMaxMb: intIn(1, 1_048_576).default(1024),
      /** Data directory of the embedded datastore. */
      dataDir: nonEmpty.optional(),
      /** How often `connections` and `probe_configs` are re-read. */
      refresh: positiveDuration.default(120_000),
    })
    .optional(),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      format: z.enum(LOG_FORMATS).default('json'),
    })
    .default({ level: 'info', format: 'json' }),
  shutdownTimeout: positiveDuration.default(10_000),
});

/** Configuration as written (YAML, env and flags merged), before validation. */
export type RawConfig = Record<string, unknown>;
/** Validated configuration, durations in ms. */
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedTarget = z.output<typeof targetSchema>;

import type { LogFormat, LogLevel, Mode, OutputFormat, SslMode } from './modes.js';
import type { CustomQuerySettings } from './custom-query-settings.js';
import type { NriSettings } from './nri-settings.js';
import type { OtlpSettings } from './otlp-settings.js';
import type { OtlpLogsSettings } from './otlp-logs-settings.js';
import type { TelemetrySettings } from './telemetry-settings.js';
import type { ShardingSettings } from './sharding-settings.js';
import type { QueryPerformanceSettings } from './query-performance-settings.js';

/** What a target is: a PostgreSQL server, or the admin console of a PgBouncer. */
export const TARGET_KINDS = ['postgresql', 'pgbouncer'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** A monitored server with every default applied and its password read. */
export interface ResolvedTarget {
  readonly name: string;
  /** Chooses the connector and which collectors run on it. */
  readonly kind: TargetKind;
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  /** Read from config, file or environment; registered for redaction. */
  readonly password?: string;
  /** Database for server-scoped collectors and discovery. */
  readonly database: string;
  readonly ssl: {
    readonly mode: SslMode;
    readonly rootCertPath?: string;
    readonly certPath?: string;
    readonly keyPath?: string;
  };
  readonly databases: 'all' | readonly string[];
  readonly excludeDatabases: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly maxConnections: number;
  readonly maxConcurrentQueries: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export interface ResolvedCollectorSettings {
  readonly enabled?: boolean;
  readonly intervalMs?: number;
  readonly statementTimeoutMs?: number;
  readonly timeoutMs?: number;
  /** Datastore history, days. */
  readonly retentionDays?: number;
}

/** Top-level connection settings that targets inherit (each may be absent). */
export interface ConnectionDefaults {
  readonly maxConnections?: number;
  readonly maxConcurrentQueries?: number;
  readonly statementTimeout?: number;
  readonly lockTimeout?: number;
  readonly connectTimeout?: number;
}

/** The history datastore as configured. */
export interface ResolvedDatastore {
  /** PostgreSQL URL, or `embedded`. */
  readonly url?: string;
  readonly passwordFile?: string;
  readonly secretFile?: string;
  readonly maxConnections: number;
  readonly owner: string;
  readonly bufferRows: number;
  readonly spoolDir?: string;
  readonly spoolMaxMb: number;
  readonly dataDir?: string;
  /** How often connections and probe settings are re-read, ms. */
  readonly refresh: number;
}

/** The validated, immutable configuration the CLI runs with. */
export interface ResolvedConfig {
  readonly mode: Mode;
  /** Base cadence for collectors that do not declare their own. */
  readonly intervalMs: number;
  readonly targets: readonly ResolvedTarget[];
  /** True when nothing named a target: the CLI may offer the embedded demo server. */
  readonly noTargetConfigured: boolean;
  readonly collectors: Readonly<Record<string, ResolvedCollectorSettings>>;
  /** Statements, ASH, blocking and plans. */
  readonly queryPerformance: QueryPerformanceSettings;
  /** The NRI adapter (New Relic infrastructure agent). */
  readonly nri: NriSettings;
  /** The OTLP metrics adapter (`otel` and `hybrid` modes). */
  readonly otlp: OtlpSettings;
  /** Events as OTLP log records (same modes). */
  readonly otlpLogs: OtlpLogsSettings;
  /** The self-telemetry HTTP listener. */
  readonly telemetry: TelemetrySettings;
  /** This replica's share of the targets. */
  readonly sharding: ShardingSettings;
  /** Custom statistics queries. */
  readonly customQueries: CustomQuerySettings;
  /** Connection limits and timeouts from the top-level `connection`, for targets found later. */
  readonly connection: ConnectionDefaults;
  readonly output?: {
    readonly format: OutputFormat;
    readonly path: string;
    readonly spoolDir?: string;
  };
  readonly export: {
    readonly timeoutMs: number;
    /** Batches held per adapter; undefined: 100, or twice the number of targets when more. */
    readonly queueSize?: number;
    readonly maxRetries: number;
    readonly retryInitialMs: number;
    readonly retryMaxMs: number;
  };
  readonly datastore?: ResolvedDatastore;
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly shutdownTimeoutMs: number;
}

export const CONNECTION_DEFAULTS = {
  maxConnections: 5,
  maxConcurrentQueries: 2,
  statementTimeoutMs: 5_000,
  lockTimeoutMs: 100,
  connectTimeoutMs: 10_000,
} as const;

import type { ConfigIssue } from '../errors.js';
import {
  parseCompression,
  parseKeyValues,
  parseMs,
  parseProtocol,
  type EnvValue,
  type Report,
} from './otel-env-values.js';
import { registerSecret } from '../redact.js';
import type { ParsedOtlp } from './config-schema.js';
import {
  resolveOtlpTls,
  type OtlpProtocol,
  type OtlpSettings,
  type OtlpTls,
} from './otlp-settings.js';

/** The same transports as the metrics. */
export type OtlpLogsProtocol = OtlpProtocol;

/** Which query-performance records are sent as log events. */
export interface OtlpLogEvents {
  /** Slow queries as `db.server.top_query`. */
  readonly topQueries: boolean;
  /** Individual executions as `db.server.query_sample`. */
  readonly querySamples: boolean;
  /** Captured plans as `postgresql.query.plan`. */
  readonly plans: boolean;
  /** New plans and suspected regressions as `postgresql.plan.change`. */
  readonly planChanges: boolean;
  /** Lock-wait edges as `postgresql.blocking`. */
  readonly blockingChains: boolean;
  /** Every Active Session History sample as `db.server.query_sample`. */
  readonly ashSamples: boolean;
}

/** How the OTLP logs adapter exports, with every default and variable applied. */
export interface OtlpLogsSettings {
  /** Whether events are sent as log records at all. */
  readonly enabled: boolean;
  readonly protocol: OtlpLogsProtocol;
  /** Full URL: `http://host:4317` for gRPC, `.../v1/logs` for HTTP. */
  readonly endpoint: string;
  /** Request headers (gRPC metadata); the values are registered as secrets. */
  readonly headers: Readonly<Record<string, string>>;
  /** Per-export timeout, ms. */
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  /** CA and client PEM paths, insecure; as resolveOtlpTls resolves them for the LOGS signal. */
  readonly tls: OtlpTls;
  readonly events: OtlpLogEvents;
  /** Longest string attribute value; longer ones are cut by the SDK. */
  readonly attributeValueLengthLimit: number;
  /** Records waiting, all targets together; beyond it new records are dropped and counted. */
  readonly maxQueueSize: number;
  /** Records per export request (never above maxQueueSize). */
  readonly maxExportBatchSize: number;
}

export const OTLP_LOGS_DEFAULTS = {
  grpcEndpoint: 'http://localhost:4317',
  httpEndpoint: 'http://localhost:4318/v1/logs',
  timeoutMs: 10_000,
  compression: 'none',
  events: {
    topQueries: true,
    querySamples: true,
    plans: true,
    planChanges: true,
    blockingChains: true,
    ashSamples: false,
  },
  attributeValueLengthLimit: 8192,
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
} as const;

const LOGS = 'OTEL_EXPORTER_OTLP_LOGS_';
const GENERIC = 'OTEL_EXPORTER_OTLP_';

/**
 * The logs' transport settings. Each setting is taken from the first of: `otlp.logs.<key>`,
 * `OTEL_EXPORTER_OTLP_LOGS_<VAR>`, `otlp.<key>` (shared with the metrics), the generic
 * `OTEL_EXPORTER_OTLP_<VAR>`, the default. A per-signal variable thus beats the shared file key
 * (so a deployment can point only its logs elsewhere), and the metrics-only variables never
 * leak into the logs. TLS files follow resolveOtlpTls (file keys, then the LOGS variables, then
 * the generic ones). Malformed values are pushed to `issues` naming the key or variable; one
 * resolveOtlp already complained about (a generic variable, a shared file) is not reported twice.
 */
export function resolveOtlpLogs(
  parsed: ParsedOtlp,
  metrics: OtlpSettings,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): OtlpLogsSettings {
  const logs = parsed.logs ?? {};
  const pick = (name: string): EnvValue => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : { name, value };
  };
  const report = (issue: ConfigIssue): void => {
    if (!issues.some((i) => i.path === issue.path)) issues.push(issue);
  };
  const enabled = logs.enabled ?? true;

  const protocol =
    logs.protocol ??
    parseProtocol(pick(`${LOGS}PROTOCOL`), report) ??
    parsed.protocol ??
    parseProtocol(pick(`${GENERIC}PROTOCOL`), report) ??
    // Unset everywhere: the metrics' transport (their own variable or default).
    metrics.protocol;
  const endpoint = resolveEndpoint(parsed, metrics, protocol, pick, enabled, report);
  const headers =
    logs.headers ??
    parseKeyValues(pick(`${LOGS}HEADERS`), report) ??
    parsed.headers ??
    parseKeyValues(pick(`${GENERIC}HEADERS`), report) ??
    {};
  for (const value of Object.values(headers)) registerSecret(value);
  const timeoutMs =
    logs.timeout ??
    parseMs(pick(`${LOGS}TIMEOUT`), report) ??
    parsed.timeout ??
    parseMs(pick(`${GENERIC}TIMEOUT`), report) ??
    OTLP_LOGS_DEFAULTS.timeoutMs;
  const compression =
    logs.compression ??
    parseCompression(pick(`${LOGS}COMPRESSION`), report) ??
    parsed.compression ??
    parseCompression(pick(`${GENERIC}COMPRESSION`), report) ??
    OTLP_LOGS_DEFAULTS.compression;
  // Shared with the metrics (file keys first); their issues must not be reported twice.
  const tlsIssues: ConfigIssue[] = [];
  const tls = resolveOtlpTls(parsed, 'LOGS', env, tlsIssues);
  tlsIssues.forEach(report);
  const d = OTLP_LOGS_DEFAULTS;
  const maxQueueSize = logs.maxQueueSize ?? d.maxQueueSize;
  return {
    enabled,
    protocol,
    endpoint,
    headers,
    timeoutMs,
    compression,
    tls,
    events: { ...d.events, ...definedOnly(logs.events ?? {}) },
    attributeValueLengthLimit: logs.attributeValueLengthLimit ?? d.attributeValueLengthLimit,
    maxQueueSize,
    // The SDK would clamp it too, with a diag warning nobody sees.
    maxExportBatchSize: Math.min(logs.maxExportBatchSize ?? d.maxExportBatchSize, maxQueueSize),
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const isHttp = (protocol: string): boolean => protocol !== 'grpc';

function resolveEndpoint(
  parsed: ParsedOtlp,
  metrics: OtlpSettings,
  protocol: OtlpLogsProtocol,
  pick: (name: string) => EnvValue,
  enabled: boolean,
  report: Report,
): string {
  const fallback = isHttp(protocol)
    ? OTLP_LOGS_DEFAULTS.httpEndpoint
    : OTLP_LOGS_DEFAULTS.grpcEndpoint;
  let url: string;
  let path: string;
  const signal = pick(`${LOGS}ENDPOINT`);
  const generic = pick(`${GENERIC}ENDPOINT`);
  const derived =
    parsed.endpoint === undefined
      ? undefined
      : deriveFromMetrics(parsed.endpoint, metrics.protocol, protocol);
  if (parsed.logs?.endpoint !== undefined) {
    url = parsed.logs.endpoint;
    path = 'otlp.logs.endpoint';
  } else if (signal !== undefined) {
    url = signal.value;
    path = signal.name;
  } else if (derived !== undefined) {
    url = derived;
    path = 'otlp.endpoint';
  } else if (generic !== undefined) {
    // The spec: HTTP exporters append the signal path to the generic endpoint only.
    url = isHttp(protocol) ? `${generic.value.replace(/\/+$/, '')}/v1/logs` : generic.value;
    path = generic.name;
  } else if (parsed.endpoint !== undefined) {
    // Guessing a URL would send the events somewhere nobody configured.
    if (enabled) {
      report({
        path: 'otlp.logs.endpoint',
        message: `cannot derive the ${protocol} logs endpoint from otlp.endpoint: set otlp.logs.endpoint (or otlp.logs.enabled: false)`,
      });
    }
    return fallback;
  } else {
    return fallback;
  }
  try {
    const parsedUrl = new URL(url);
    if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')
      throw new Error('scheme');
  } catch {
    report({ path, message: `invalid URL ${JSON.stringify(url)}: use http(s)://host:port` });
    return fallback;
  }
  return url;
}

/**
 * The metrics' URL turned into the logs' one: the same URL for gRPC; for HTTP the signal path
 * swapped (`…/v1/metrics` → `…/v1/logs`), or added to a bare `host:port`. Undefined when the
 * transports differ (another port, another server) or the HTTP path is a custom one.
 */
function deriveFromMetrics(
  metricsUrl: string,
  metricsProtocol: string,
  protocol: OtlpLogsProtocol,
): string | undefined {
  if (isHttp(metricsProtocol) !== isHttp(protocol)) return undefined;
  if (!isHttp(protocol)) return metricsUrl;
  if (/\/v1\/metrics\/?$/.test(metricsUrl))
    return metricsUrl.replace(/\/v1\/metrics\/?$/, '/v1/logs');
  try {
    const u = new URL(metricsUrl);
    if (u.pathname !== '/' && u.pathname !== '') return undefined;
    if (u.search !== '' || u.hash !== '') return undefined;
  } catch {
    // resolveOtlp reports a malformed otlp.endpoint already.
    return undefined;
  }
  return `${metricsUrl.replace(/\/+$/, '')}/v1/logs`;
}

import { accessSync, constants } from 'node:fs';
import type { ConfigIssue } from '../errors.js';
import {
  parseCompression,
  parseKeyValues,
  parseMs,
  parseProtocol,
  type OtlpProtocol,
  type Report,
} from './otel-env-values.js';
import { registerSecret } from '../redact.js';
import type { ParsedOtlp } from './config-schema.js';

export { OTLP_PROTOCOLS, type OtlpProtocol } from './otel-env-values.js';

/** How the OTLP metrics adapter exports, with every default and variable applied. */
export interface OtlpSettings {
  /** false: nothing is pushed over OTLP. */
  readonly enabled: boolean;
  /** The collector's own metrics go out too. */
  readonly selfMetrics: boolean;
  readonly protocol: OtlpProtocol;
  /** Full URL: `http://host:4317` for gRPC, `.../v1/metrics` for HTTP. */
  readonly endpoint: string;
  /** Request headers (gRPC metadata); the values are registered as secrets. */
  readonly headers: Readonly<Record<string, string>>;
  /** Per-export timeout, ms. */
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  /** How often each target's metrics are pushed, ms. */
  readonly exportIntervalMs: number;
  readonly serviceName: string;
  /** Extra resource attributes (OTEL_RESOURCE_ATTRIBUTES, then `otlp.resourceAttributes`). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Most series per instrument and target before the SDK folds the rest into an overflow series. */
  readonly cardinalityLimit: number;
  readonly tls: OtlpTls;
}

/** TLS material for the endpoint, as PEM file paths (read when the exporter is built). */
export interface OtlpTls {
  /** CA bundle that signed the endpoint's certificate. */
  readonly certificate?: string;
  /** Client certificate chain and key, for mutual TLS. */
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  /** gRPC in plaintext whatever the endpoint's scheme says. */
  readonly insecure: boolean;
}

/**
 * TLS settings of one signal: the `otlp` file keys, else the per-signal variable, else the
 * generic one. Files must be readable now: a typo would otherwise only show as failed exports.
 */
export function resolveOtlpTls(
  parsed: ParsedOtlp,
  signal: 'METRICS' | 'LOGS',
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): OtlpTls {
  const file = (key: 'certificate' | 'clientCertificate' | 'clientKey', suffix: string) => {
    const fromFile = parsed[key];
    const names = [`OTEL_EXPORTER_OTLP_${signal}_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`];
    const name = names.find((n) => (env[n]?.trim() ?? '') !== '');
    const path = fromFile ?? (name === undefined ? undefined : env[name]?.trim());
    if (path === undefined) return {};
    if (!readable(path)) {
      issues.push({
        path: fromFile !== undefined ? `otlp.${key}` : (name ?? key),
        message: `cannot read ${path}`,
      });
      return {};
    }
    return { [key]: path };
  };
  let insecure = parsed.insecure;
  if (insecure === undefined) {
    const names = [`OTEL_EXPORTER_OTLP_${signal}_INSECURE`, 'OTEL_EXPORTER_OTLP_INSECURE'];
    const name = names.find((n) => (env[n]?.trim() ?? '') !== '');
    const value = name === undefined ? undefined : env[name]?.trim().toLowerCase();
    if (value !== undefined && value !== 'true' && value !== 'false') {
      issues.push({
        path: name ?? 'insecure',
        message: `expected true or false, got ${JSON.stringify(value)}`,
      });
    }
    insecure = value === 'true';
  }
  const clientCertificate = file('clientCertificate', 'CLIENT_CERTIFICATE');
  const clientKey = file('clientKey', 'CLIENT_KEY');
  if ((Object.keys(clientCertificate).length === 0) !== (Object.keys(clientKey).length === 0)) {
    issues.push({
      path: 'otlp.clientCertificate',
      message: 'a client certificate needs its key and a key its certificate',
    });
  }
  return {
    ...file('certificate', 'CERTIFICATE'),
    ...clientCertificate,
    ...clientKey,
    insecure,
  };
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export const OTLP_DEFAULTS = {
  protocol: 'grpc',
  grpcEndpoint: 'http://localhost:4317',
  httpEndpoint: 'http://localhost:4318/v1/metrics',
  timeoutMs: 10_000,
  compression: 'none',
  serviceName: 'pgquerylens',
  // Per-table and per-index metrics of a large server pass the SDK's default of 2000.
  cardinalityLimit: 20_000,
} as const;

/**
 * The `otlp` section over the standard OTEL_* variables: the file (or flags) wins over the
 * environment, and a per-signal variable (`..._METRICS_...`) over the generic one. Malformed
 * values are pushed to `issues` naming the key or variable.
 */
export function resolveOtlp(
  parsed: ParsedOtlp,
  env: NodeJS.ProcessEnv,
  baseIntervalMs: number,
  issues: ConfigIssue[],
): OtlpSettings {
  const pick = (names: readonly string[]): { name: string; value: string } | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value !== undefined && value !== '') return { name, value };
    }
    return undefined;
  };
  const report: Report = (issue) => {
    issues.push(issue);
  };
  const protocol =
    parsed.protocol ??
    parseProtocol(
      pick(['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']),
      report,
    ) ??
    OTLP_DEFAULTS.protocol;
  const tls = resolveOtlpTls(parsed, 'METRICS', env, issues);
  const endpoint = resolveEndpoint(parsed.endpoint, protocol, tls.insecure, pick, issues);
  const headers =
    parsed.headers ??
    parseKeyValues(
      pick(['OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS']),
      report,
    ) ??
    {};
  for (const value of Object.values(headers)) registerSecret(value);
  const timeoutMs =
    parsed.timeout ??
    parseMs(pick(['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']), report) ??
    OTLP_DEFAULTS.timeoutMs;
  const compression =
    parsed.compression ??
    parseCompression(
      pick(['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION']),
      report,
    ) ??
    OTLP_DEFAULTS.compression;
  const exportIntervalMs =
    parsed.exportInterval ??
    parseMs(pick(['OTEL_METRIC_EXPORT_INTERVAL']), report) ??
    baseIntervalMs;
  const fromEnv = parseKeyValues(pick(['OTEL_RESOURCE_ATTRIBUTES']), report);
  const resourceAttributes = { ...fromEnv, ...(parsed.resourceAttributes ?? {}) };
  // The spec: OTEL_SERVICE_NAME beats service.name inside OTEL_RESOURCE_ATTRIBUTES.
  const serviceName =
    parsed.serviceName ??
    pick(['OTEL_SERVICE_NAME'])?.value ??
    resourceAttributes['service.name'] ??
    OTLP_DEFAULTS.serviceName;
  return {
    enabled: parsed.enabled ?? true,
    selfMetrics: parsed.selfMetrics ?? true,
    protocol,
    endpoint,
    headers,
    timeoutMs,
    compression,
    exportIntervalMs,
    serviceName,
    resourceAttributes,
    cardinalityLimit: parsed.cardinalityLimit ?? OTLP_DEFAULTS.cardinalityLimit,
    tls,
  };
}

type Pick = (names: readonly string[]) => { name: string; value: string } | undefined;

function resolveEndpoint(
  configured: string | undefined,
  protocol: OtlpProtocol,
  insecure: boolean,
  pick: Pick,
  issues: ConfigIssue[],
): string {
  const fallback = protocol === 'grpc' ? OTLP_DEFAULTS.grpcEndpoint : OTLP_DEFAULTS.httpEndpoint;
  let url: string;
  let path: string;
  if (configured !== undefined) {
    url = configured;
    path = 'otlp.endpoint';
  } else {
    const signal = pick(['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']);
    const generic = signal === undefined ? pick(['OTEL_EXPORTER_OTLP_ENDPOINT']) : undefined;
    if (signal !== undefined) {
      url = signal.value;
      path = signal.name;
    } else if (generic !== undefined) {
      // The spec: HTTP exporters append the signal path to the generic endpoint only.
      url = protocol === 'grpc' ? generic.value : `${generic.value.replace(/\/+$/, '')}/v1/metrics`;
      path = generic.name;
    } else {
      return fallback;
    }
  }
  // The spec: a gRPC endpoint may be a bare host:port, and INSECURE then picks the scheme.
  if (protocol === 'grpc' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    url = `${insecure ? 'http' : 'https'}://${url}`;
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    issues.push({ path, message: `invalid URL ${JSON.stringify(url)}: use http(s)://host:port` });
    return fallback;
  }
  return url;
}

import {
  OTLP_LOGS_DEFAULTS,
  type OtlpLogsSettings,
} from '../../src/core/config/otlp-logs-settings.js';
import { OTLP_DEFAULTS, type OtlpSettings } from '../../src/core/config/otlp-settings.js';

/** Metrics settings for adapter tests: gRPC, short timeout, an interval only forceFlush beats. */
export function otlpTestSettings(over: Partial<OtlpSettings> = {}): OtlpSettings {
  return {
    enabled: true,
    selfMetrics: false,
    tls: { insecure: false },
    protocol: 'grpc',
    endpoint: OTLP_DEFAULTS.grpcEndpoint,
    headers: {},
    timeoutMs: 2_000,
    compression: 'none',
    exportIntervalMs: 600_000,
    serviceName: 'pgquerylens-test',
    resourceAttributes: { 'deployment.environment.name': 'ci' },
    cardinalityLimit: 20_000,
    ...over,
  };
}

/** Logs settings for adapter tests: HTTP/protobuf, every event including raw ASH samples. */
export function otlpLogsTestSettings(over: Partial<OtlpLogsSettings> = {}): OtlpLogsSettings {
  return {
    enabled: true,
    protocol: 'http/protobuf',
    endpoint: OTLP_LOGS_DEFAULTS.httpEndpoint,
    headers: {},
    timeoutMs: 2_000,
    compression: 'none',
    tls: { insecure: false },
    events: { ...OTLP_LOGS_DEFAULTS.events, ashSamples: true },
    attributeValueLengthLimit: 8192,
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    ...over,
  };
}

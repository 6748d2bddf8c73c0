import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import {
  CompressionAlgorithm,
  type OTLPExporterNodeConfigBase,
} from '@opentelemetry/otlp-exporter-base';
import {
  createEmptyMetadata,
  type OTLPGRPCExporterConfigNode,
} from '@opentelemetry/otlp-grpc-exporter-base';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { OtlpLogsSettings } from '../../core/config/otlp-logs-settings.js';
import { grpcCredentials, httpsAgentOptions } from './otlp-tls.js';

/**
 * Transport security overrides. By default it is built from `settings.tls` as for the metrics
 * (otlp-tls.ts): gRPC credentials from the scheme, `insecure` and the PEM files; for an
 * `https://` HTTP endpoint, agent options with the CA and client pair.
 */
export interface LogExporterTransport {
  /** gRPC channel credentials (TLS, mutual TLS or insecure). */
  readonly credentials?: OTLPGRPCExporterConfigNode['credentials'];
  /** HTTP(S) agent options, e.g. `ca`, `cert`, `key` for HTTPS. */
  readonly httpAgentOptions?: OTLPExporterNodeConfigBase['httpAgentOptions'];
}

/**
 * A new exporter for one target's processor (a processor shuts its exporter down with it):
 * gRPC, HTTP/protobuf (VictoriaLogs, a Collector) or HTTP/JSON.
 */
export function createLogExporter(
  settings: OtlpLogsSettings,
  transport: LogExporterTransport = {},
): LogRecordExporter {
  const compression =
    settings.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  const common = { url: settings.endpoint, timeoutMillis: settings.timeoutMs, compression };
  if (settings.protocol === 'grpc') {
    const metadata = createEmptyMetadata();
    for (const [key, value] of Object.entries(settings.headers)) metadata.set(key, value);
    return new GrpcLogExporter({
      ...common,
      metadata,
      credentials: transport.credentials ?? grpcCredentials(settings.tls, settings.endpoint),
    });
  }
  const http: OTLPExporterNodeConfigBase = {
    ...common,
    headers: { ...settings.headers },
    ...(transport.httpAgentOptions !== undefined
      ? { httpAgentOptions: transport.httpAgentOptions }
      : settings.endpoint.startsWith('https://')
        ? { httpAgentOptions: httpsAgentOptions(settings.tls) }
        : {}),
  };
  return settings.protocol === 'http/json' ? new JsonLogExporter(http) : new ProtoLogExporter(http);
}

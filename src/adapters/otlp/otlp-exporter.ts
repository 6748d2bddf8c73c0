import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { createEmptyMetadata } from '@opentelemetry/otlp-grpc-exporter-base';
import {
  AggregationTemporality,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import { grpcCredentials, httpsAgentOptions } from './otlp-tls.js';

/**
 * A new exporter for one target's reader (a reader shuts its exporter down with it, so each
 * target gets its own from the shared settings). Cumulative, as Prometheus needs and
 * VictoriaMetrics recommends.
 */
export function createMetricExporter(settings: OtlpSettings): PushMetricExporter {
  const compression =
    settings.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  const common = {
    url: settings.endpoint,
    timeoutMillis: settings.timeoutMs,
    compression,
    temporalityPreference: AggregationTemporality.CUMULATIVE,
  };
  if (settings.protocol === 'grpc') {
    const metadata = createEmptyMetadata();
    for (const [key, value] of Object.entries(settings.headers)) metadata.set(key, value);
    return new GrpcMetricExporter({
      ...common,
      metadata,
      credentials: grpcCredentials(settings.tls, settings.endpoint),
    });
  }
  const Exporter = settings.protocol === 'http/json' ? JsonMetricExporter : ProtoMetricExporter;
  return new Exporter({
    ...common,
    headers: { ...settings.headers },
    ...(settings.endpoint.startsWith('https://')
      ? { httpAgentOptions: httpsAgentOptions(settings.tls) }
      : {}),
  });
}

/** Told how one export ended and how many data points it carried. */
export type ExportOutcomeListener = (
  ok: boolean,
  error: string | undefined,
  points: number,
) => void;

function pointCount(metrics: ResourceMetrics): number {
  let n = 0;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) n += metric.dataPoints.length;
  }
  return n;
}

/**
 * Wraps an exporter so a provider being retired can be silenced: its shutdown's final collect
 * would otherwise send the stale series once more, which is exactly what retiring it avoids.
 */
export class MutableExporter implements PushMetricExporter {
  private muted = false;
  /** Outcome of the latest real export; undefined before the first. */
  lastOk: boolean | undefined;
  lastError: string | undefined;

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly onResult?: ExportOutcomeListener,
  ) {}

  /** From now on, exports succeed without sending. */
  mute(): void {
    this.muted = true;
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    if (this.muted) {
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.inner.export(metrics, (result) => {
      this.lastOk = result.code === ExportResultCode.SUCCESS;
      this.lastError = this.lastOk ? undefined : (result.error?.message ?? 'export failed');
      this.onResult?.(this.lastOk, this.lastError, pointCount(metrics));
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

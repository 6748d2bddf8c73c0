import { hostname } from 'node:os';
import { ValueType, type Observable } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import type { SelfMetricPoint, SelfMetricSource } from '../../core/self-telemetry.js';
import { withTimeout } from '../../core/timeout.js';
import { createMetricExporter } from './otlp-exporter.js';
import { uuidV5 } from './otlp-resource.js';

/** A namespace of our own for the collector's instance id (not the receiver's). */
const COLLECTOR_NAMESPACE = '0b6f3c1e-5f0a-5c55-9a43-7d1f6f1c2a11';

type Meter = ReturnType<MeterProvider['getMeter']>;

/**
 * The collector's own metrics over OTLP, on a provider of their own: the resource is the
 * collector process (service.*, host.name), not a monitored server. Instruments are created the
 * first time a name shows up, each with one callback registered once (otel.md §4(d)); every
 * callback reads the same reading of the source, taken once per export.
 */
export class SelfMeter {
  readonly #provider: MeterProvider;
  readonly #meter: Meter;
  readonly #source: SelfMetricSource;
  readonly #timeoutMs: number;
  readonly #instruments = new Set<string>();
  #reading: { at: number; points: readonly SelfMetricPoint[] } | undefined;

  constructor(settings: OtlpSettings, source: SelfMetricSource, version: string) {
    this.#source = source;
    this.#timeoutMs = settings.timeoutMs + 1_000;
    const host = hostname();
    this.#provider = new MeterProvider({
      resource: resourceFromAttributes({
        ...settings.resourceAttributes,
        'service.name': settings.serviceName,
        'service.version': version,
        'service.instance.id': uuidV5(`${host}/${process.pid}`, COLLECTOR_NAMESPACE),
        'host.name': host,
      }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: createMetricExporter(settings),
          exportIntervalMillis: settings.exportIntervalMs,
          exportTimeoutMillis: Math.min(settings.timeoutMs, settings.exportIntervalMs),
        }),
      ],
    });
    this.#meter = this.#provider.getMeter('pgquerylens.self', version);
    this.sync();
  }

  /** Creates instruments for names the source reports for the first time. */
  sync(): void {
    for (const point of this.#read(true)) {
      if (this.#instruments.has(point.name)) continue;
      this.#instruments.add(point.name);
      const instrument = this.#create(point);
      const name = point.name;
      instrument.addCallback((result) => {
        for (const p of this.#read(false)) {
          if (p.name === name) result.observe(p.value, p.attributes);
        }
      });
    }
  }

  /** Final export, bounded: an unreachable endpoint must not hold the exit. */
  async shutdown(): Promise<void> {
    await withTimeout('OTLP self-metrics export', this.#timeoutMs, () =>
      this.#provider.shutdown(),
    ).catch(() => undefined);
  }

  /** One reading per export: callbacks of one collection share it. */
  #read(fresh: boolean): readonly SelfMetricPoint[] {
    const now = Date.now();
    if (fresh || this.#reading === undefined || now - this.#reading.at > 1_000) {
      this.#reading = { at: now, points: this.#source.selfMetrics() };
    }
    return this.#reading.points;
  }

  #create(point: SelfMetricPoint): Observable {
    const options = {
      description: point.description,
      unit: point.unit,
      valueType: point.integer ? ValueType.INT : ValueType.DOUBLE,
    };
    return point.kind === 'counter'
      ? this.#meter.createObservableCounter(point.name, options)
      : this.#meter.createObservableGauge(point.name, options);
  }
}

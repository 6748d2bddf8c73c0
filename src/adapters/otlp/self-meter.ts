import { hostname } from 'node:os';
import { ValueType, type Observable } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import type { SelfMetricPoint, SelfMetricSource } from '../../core/self-telemetry.js';
import { withTimeout } from '../../core/timeout.js';
import { createMetricExporter, MutableExporter } from './otlp-exporter.js';
import { uuidV5 } from './otlp-resource.js';

/** A namespace of our own for the collector's instance id (not the receiver's). */
const COLLECTOR_NAMESPACE = '0b6f3c1e-5f0a-5c55-9a43-7d1f6f1c2a11';

type Meter = ReturnType<MeterProvider['getMeter']>;

/** One provider with its instruments; replaced whole when a series must disappear. */
interface Generation {
  readonly provider: MeterProvider;
  readonly exporter: MutableExporter;
  readonly meter: Meter;
  readonly instruments: Set<string>;
}

/**
 * The collector's own metrics over OTLP, on a provider of their own: the resource is the
 * collector process (service.*, host.name), not a monitored server. Instruments are created the
 * first time a name shows up, each with one callback registered once (otel.md §4(d)); every
 * callback reads the same reading of the source, taken once per export. When a series goes
 * away (a target removed), the provider is rebuilt, or the SDK would keep exporting its last
 * value (§4(a)).
 */
export class SelfMeter {
  readonly #settings: OtlpSettings;
  readonly #source: SelfMetricSource;
  readonly #version: string;
  readonly #timeoutMs: number;
  #generation: Generation;
  #keys = new Set<string>();
  #reading: { at: number; points: readonly SelfMetricPoint[] } | undefined;

  constructor(settings: OtlpSettings, source: SelfMetricSource, version: string) {
    this.#settings = settings;
    this.#source = source;
    this.#version = version;
    this.#timeoutMs = settings.timeoutMs + 1_000;
    this.#generation = this.#build();
    this.sync();
  }

  /** Creates instruments for new names; rebuilds the provider when a series disappeared. */
  sync(): void {
    const points = this.#read(true);
    const keys = new Set(points.map(seriesKey));
    const lost = [...this.#keys].some((k) => !keys.has(k));
    this.#keys = keys;
    if (lost) {
      const old = this.#generation;
      this.#generation = this.#build();
      old.exporter.mute();
      void old.provider.shutdown().catch(() => undefined);
    }
    const g = this.#generation;
    for (const point of points) {
      if (g.instruments.has(point.name)) continue;
      g.instruments.add(point.name);
      const name = point.name;
      this.#create(g.meter, point).addCallback((result) => {
        for (const p of this.#read(false)) {
          if (p.name === name) result.observe(p.value, p.attributes);
        }
      });
    }
  }

  /** Final export, bounded: an unreachable endpoint must not hold the exit. */
  async shutdown(): Promise<void> {
    await withTimeout('OTLP self-metrics export', this.#timeoutMs, () =>
      this.#generation.provider.shutdown(),
    ).catch(() => undefined);
  }

  #build(): Generation {
    const settings = this.#settings;
    const host = hostname();
    const exporter = new MutableExporter(createMetricExporter(settings));
    const provider = new MeterProvider({
      resource: resourceFromAttributes({
        ...settings.resourceAttributes,
        'service.name': settings.serviceName,
        'service.version': this.#version,
        'service.instance.id': uuidV5(`${host}/${process.pid}`, COLLECTOR_NAMESPACE),
        'host.name': host,
      }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: settings.exportIntervalMs,
          exportTimeoutMillis: Math.min(settings.timeoutMs, settings.exportIntervalMs),
          // targets × collectors × outcomes passes the SDK's default 2000 at ~16 targets.
          cardinalityLimits: { default: settings.cardinalityLimit },
        }),
      ],
    });
    return {
      provider,
      exporter,
      meter: provider.getMeter('pgquerylens.self', this.#version),
      instruments: new Set(),
    };
  }

  /** One reading per export: callbacks of one collection share it. */
  #read(fresh: boolean): readonly SelfMetricPoint[] {
    const now = Date.now();
    if (fresh || this.#reading === undefined || now - this.#reading.at > 1_000) {
      this.#reading = { at: now, points: this.#source.selfMetrics() };
    }
    return this.#reading.points;
  }

  #create(meter: Meter, point: SelfMetricPoint): Observable {
    const options = {
      description: point.description,
      unit: point.unit,
      valueType: point.integer ? ValueType.INT : ValueType.DOUBLE,
    };
    return point.kind === 'counter'
      ? meter.createObservableCounter(point.name, options)
      : meter.createObservableGauge(point.name, options);
  }
}

function seriesKey(p: SelfMetricPoint): string {
  return `${p.name}\u0000${Object.entries(p.attributes)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('\u0000')}`;
}

import { ValueType, type Observable } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import type { TargetIdentity } from '../../core/model/target-identity.js';
import type { AdapterHealth } from '../../core/self-telemetry.js';
import { METRIC_DESCRIPTORS } from '../../core/semantic-metrics/catalogue.js';
import type { MetricDescriptor } from '../../core/semantic-metrics/metric-types.js';
import {
  createMetricExporter,
  MutableExporter,
  type ExportOutcomeListener,
} from './otlp-exporter.js';
import { targetResourceAttributes } from './otlp-resource.js';
import { seriesKey, type TargetSnapshot } from '../../core/semantic-metrics/target-snapshot.js';

/** Instrumentation scope of every metric. */
const SCOPE = 'pgquerylens';

/** One MeterProvider and its reader, retired as a whole. */
interface Generation {
  readonly provider: MeterProvider;
  readonly exporter: MutableExporter;
}

/**
 * The SDK side of one target: a MeterProvider per monitored server, because a provider has one
 * Resource and the server's identity is the resource (otel.md §4(c)).
 *
 * Stale series (§4(a)): the SDK keeps exporting every attribute set an asynchronous cumulative
 * instrument ever observed, with its last value. So when the target's series set loses a member
 * (a dropped table, a vanished database, a reading gone stale), the provider is rebuilt: the old
 * one is muted and shut down, a new one starts from the current snapshot. Rebuilding costs
 * nothing the backend needs (PostgreSQL counters are absolute values; delta totals live in the
 * snapshot); a series set that only grows never triggers it.
 */
export class TargetMeter {
  private generation: Generation;
  private keys = new Set<string>();

  constructor(
    private readonly target: TargetIdentity,
    private readonly settings: OtlpSettings,
    private readonly snapshot: TargetSnapshot,
    private readonly versionLabel: string,
    /** Told how every export ended (the adapter logs outages once). */
    private readonly onResult?: ExportOutcomeListener,
  ) {
    this.generation = this.build();
  }

  /** After the snapshot changed: rebuilds the provider when a series disappeared. */
  async sync(): Promise<void> {
    const keys = new Set(this.snapshot.points.map(seriesKey));
    const lost = [...this.keys].some((k) => !keys.has(k));
    this.keys = keys;
    if (!lost) return;
    const old = this.generation;
    this.generation = this.build();
    await retire(old);
  }

  /** Outcome of the latest export of this target's metrics. */
  get health(): AdapterHealth {
    const e = this.generation.exporter;
    return {
      reachable: e.lastOk,
      ...(e.lastError === undefined ? {} : { detail: e.lastError }),
    };
  }

  /** Sends what the reader holds now. */
  async forceFlush(): Promise<void> {
    await this.generation.provider.forceFlush();
  }

  /** Final export, then releases the provider. */
  async shutdown(): Promise<void> {
    await this.generation.provider.shutdown();
  }

  /** Releases the provider without exporting again (the target went away). */
  async discard(): Promise<void> {
    await retire(this.generation);
  }

  private build(): Generation {
    const exporter = new MutableExporter(createMetricExporter(this.settings), this.onResult);
    const reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: this.settings.exportIntervalMs,
      // The SDK requires the timeout not to exceed the interval.
      exportTimeoutMillis: Math.min(this.settings.timeoutMs, this.settings.exportIntervalMs),
      cardinalityLimits: { default: this.settings.cardinalityLimit },
    });
    const provider = new MeterProvider({
      resource: resourceFromAttributes(targetResourceAttributes(this.target, this.settings)),
      readers: [reader],
    });
    const meter = provider.getMeter(SCOPE, this.versionLabel);
    const instruments = new Map<string, Observable>();
    for (const d of METRIC_DESCRIPTORS) instruments.set(d.name, createInstrument(meter, d));
    // One batch callback, registered once per provider (§4(d)); it reads the snapshot only.
    meter.addBatchObservableCallback(
      (result) => {
        for (const point of this.snapshot.points) {
          const instrument = instruments.get(point.descriptor.name);
          if (instrument !== undefined) result.observe(instrument, point.value, point.attributes);
        }
      },
      [...instruments.values()],
    );
    return { provider, exporter };
  }
}

type Meter = ReturnType<MeterProvider['getMeter']>;

/** Gauge, counter or up-down counter; delta counters become cumulative sums of their totals. */
function createInstrument(meter: Meter, d: MetricDescriptor): Observable {
  const options = {
    description: d.description,
    unit: d.unit,
    valueType: d.integer ? ValueType.INT : ValueType.DOUBLE,
  };
  if (d.instrument === 'gauge') return meter.createObservableGauge(d.name, options);
  if (d.instrument === 'counter') return meter.createObservableCounter(d.name, options);
  return meter.createObservableUpDownCounter(d.name, options);
}

async function retire(generation: Generation): Promise<void> {
  generation.exporter.mute();
  await generation.provider.shutdown().catch(() => undefined);
}

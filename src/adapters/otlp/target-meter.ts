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

/** The largest delay setInterval accepts (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

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
 *
 * The export cadence belongs to the target, not to a provider: this class's own timer exports,
 * and a rebuild waits for its next tick. A provider's own timer would restart with every rebuild,
 * and a target whose series set loses a member on every batch (sessions moving between states
 * do, on any busy server) would never reach its first export; it would also rebuild on every
 * batch, where now it rebuilds at most once per export.
 */
export class TargetMeter {
  private generation: Generation;
  private keys = new Set<string>();
  #rebuildDue = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: TargetIdentity,
    private readonly settings: OtlpSettings,
    private readonly snapshot: TargetSnapshot,
    private readonly versionLabel: string,
    /** Told how every export ended (the adapter logs outages once). */
    private readonly onResult?: ExportOutcomeListener,
  ) {
    this.generation = this.build();
    this.#timer = setInterval(() => void this.forceFlush(), settings.exportIntervalMs);
    this.#timer.unref();
  }

  /** After the snapshot changed: a series gone away means a new provider, at the next export. */
  sync(): Promise<void> {
    const keys = new Set(this.snapshot.points.map(seriesKey));
    if ([...this.keys].some((k) => !keys.has(k))) this.#rebuildDue = true;
    this.keys = keys;
    return Promise.resolve();
  }

  /** Swaps in a provider built from the current snapshot if a series went away since the last. */
  async #rebuildIfDue(): Promise<void> {
    if (!this.#rebuildDue) return;
    this.#rebuildDue = false;
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

  /** Exports the current snapshot now (the periodic export, or the caller's flush). */
  async forceFlush(): Promise<void> {
    try {
      await this.#rebuildIfDue();
      // The reader skips a collect while its previous export runs, so ticks never stack.
      await this.generation.provider.forceFlush();
    } catch {
      // The exporter has counted and reported the failure; the next tick tries again.
    }
  }

  /** Final export, then releases the provider. */
  async shutdown(): Promise<void> {
    this.#stopTimer();
    await this.#rebuildIfDue();
    await this.generation.provider.shutdown();
  }

  /** Releases the provider without exporting again (the target went away). */
  async discard(): Promise<void> {
    this.#stopTimer();
    await retire(this.generation);
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  private build(): Generation {
    const exporter = new MutableExporter(createMetricExporter(this.settings), this.onResult);
    const reader = new PeriodicExportingMetricReader({
      exporter,
      // Never fires: exports come from this class's timer (see the class comment). The largest
      // delay a Node timer takes; anything above it would fire at once.
      exportIntervalMillis: MAX_TIMER_MS,
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

import type { NriSettings } from '../../core/config/nri-settings.js';
import { errorMessage } from '../../core/errors.js';
import type { ExportAdapter } from '../../core/export-adapter.js';
import type { Logger } from '../../core/logger.js';
import type { TargetIdentity } from '../../core/model/target-identity.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import { rateStatePath } from './nri-state-file.js';
import { RateState } from './v3/rate-state.js';
import { buildV3Documents, serializeV3Document } from './v3/v3-documents.js';
import { buildV3Entities } from './v3/v3-entities.js';
import { buildV3QpmGroups } from './v3/v3-qpm-sets.js';
import { buildV4Documents } from './v4/v4-documents.js';

/** Construction options of NriAdapter. */
export interface NriAdapterOptions {
  readonly settings: NriSettings;
  /**
   * Directory of the rate files (v3), checked by the caller; rates are kept in memory only
   * when undefined (a directory that cannot be trusted).
   */
  readonly stateDir?: string;
  /** Names a target's rate file: everything that shapes its state, hashed. */
  readonly stateKey: (target: TargetIdentity) => string;
  /** Reported as integration_version. */
  readonly integrationVersion: string;
  /** Collection interval, ms (v4's `interval.ms`). */
  readonly intervalMs: number;
  /** Writes one line to stdout; resolves once written. */
  readonly writeLine: (line: string, signal?: AbortSignal) => Promise<void>;
  readonly logger: Logger;
  /** `{}` is written when nothing else was for this long (daemon mode only), ms. */
  readonly heartbeatMs?: number;
  readonly now?: () => number;
}

/**
 * Payloads for the New Relic infrastructure agent on stdout, one JSON document per line:
 * protocol 4 (dimensional metrics, inventory, events) or protocol 3 exactly as nri-postgresql
 * prints it. Protocol 3 rates need the previous sample, kept per target in a state file so a
 * one-shot run (a fresh process every interval) continues where the last one stopped.
 */
export class NriAdapter implements ExportAdapter {
  readonly name = 'nri';
  readonly #options: NriAdapterOptions;
  readonly #now: () => number;
  readonly #rates = new Map<string, RateState>();
  #lastWriteAt: number;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: NriAdapterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastWriteAt = this.#now();
    const every = options.heartbeatMs;
    if (every !== undefined) {
      // The agent kills an integration silent for its timeout (120 s by default); a heartbeat
      // line resets that clock while collectors on long intervals have nothing to say.
      this.#heartbeat = setInterval(() => {
        if (this.#now() - this.#lastWriteAt < every) return;
        this.#write('{}').catch((err: unknown) => {
          options.logger.warn('could not write an NRI heartbeat', { err: errorMessage(err) });
        });
      }, every);
      this.#heartbeat.unref();
    }
  }

  async export(batch: UnifiedMetrics, signal: AbortSignal): Promise<void> {
    for (const line of this.#render(batch)) {
      await this.#write(line, signal);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    return Promise.resolve();
  }

  /** The batch's stdout lines. */
  #render(batch: UnifiedMetrics): string[] {
    const s = this.#options.settings;
    const now = this.#now();
    if (s.protocol === 4) {
      const docs = buildV4Documents(
        batch,
        {
          integrationVersion: this.#options.integrationVersion,
          intervalMs: this.#options.intervalMs,
          metrics: s.metrics,
          inventory: s.inventory,
          events: s.events,
          ...(s.clusterName === undefined ? {} : { clusterName: s.clusterName }),
          ...(s.serviceName === undefined ? {} : { serviceName: s.serviceName }),
        },
        now,
      );
      return docs.map((doc) => JSON.stringify(doc));
    }
    const rates = this.#ratesOf(batch, now);
    const entities =
      s.metrics || s.inventory
        ? buildV3Entities(
            batch,
            rates,
            {
              ...(s.collection === undefined ? {} : { collection: s.collection }),
              ignoreTables: s.ignoreTables,
              metrics: s.metrics,
              inventory: s.inventory,
              ...(s.clusterName === undefined ? {} : { clusterName: s.clusterName }),
              ...(s.serviceName === undefined ? {} : { serviceName: s.serviceName }),
            },
            now,
          )
        : [];
    const qpm = s.events
      ? buildV3QpmGroups(batch, {
          countThreshold: s.countThreshold,
          responseTimeThresholdMs: s.responseTimeThresholdMs,
        })
      : [];
    this.#saveRates(batch, rates, now);
    return buildV3Documents(batch.target, entities, qpm, this.#options.integrationVersion).map(
      serializeV3Document,
    );
  }

  /** The target's rate state: in memory after the first batch, from its file before. */
  #ratesOf(batch: UnifiedMetrics, now: number): RateState {
    const key = batch.target.name;
    let rates = this.#rates.get(key);
    if (rates === undefined) {
      const dir = this.#options.stateDir;
      if (dir === undefined) {
        rates = new RateState(this.#options.settings.stateTtlMs);
        this.#rates.set(key, rates);
        return rates;
      }
      const file = rateStatePath(dir, this.#options.stateKey(batch.target));
      const loaded = RateState.load(file, this.#options.settings.stateTtlMs, now);
      // A missing file is every first run's normal case, not worth a warning.
      if (loaded.problem !== undefined && loaded.missing !== true) {
        // A rebuilt state only costs one run of zero rates, as on first install.
        this.#options.logger.warn('NRI rate state unusable; starting afresh', {
          file,
          reason: loaded.problem,
        });
      }
      rates = loaded.state;
      this.#rates.set(key, rates);
    }
    return rates;
  }

  #saveRates(batch: UnifiedMetrics, rates: RateState, now: number): void {
    const dir = this.#options.stateDir;
    if (dir === undefined) return;
    const file = rateStatePath(dir, this.#options.stateKey(batch.target));
    try {
      rates.save(file, now);
    } catch (err) {
      this.#options.logger.warn('could not save the NRI rate state', {
        file,
        err: errorMessage(err),
      });
    }
  }

  async #write(line: string, signal?: AbortSignal): Promise<void> {
    await this.#options.writeLine(line, signal);
    this.#lastWriteAt = this.#now();
  }
}

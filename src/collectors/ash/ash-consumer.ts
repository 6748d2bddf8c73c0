import type { CollectContext } from '../../core/collector.js';
import { CollectorUnavailableError } from '../../core/errors.js';
import type { AshTick } from './ash-ring.js';
import type { AshSampler } from './ash-sampler.js';
import type { AshService } from './ash-service.js';

/** What a consumer read from a target's sampler since its previous run. */
export interface AshWindowRead {
  readonly sampler: AshSampler;
  readonly ticks: readonly AshTick[];
  readonly lostTicks: number;
  /** The window the ticks cover (epoch ms). */
  readonly start: number;
  readonly end: number;
}

/**
 * Reads the ticks a collector has not seen, each collector from its own cursor so their
 * cadences are independent. A target without a running sampler makes the collector
 * unavailable, with the reason in the batch.
 */
export class AshConsumer {
  readonly #name: string;
  readonly #service: AshService;
  readonly #lastRead = new Map<string, number>();

  constructor(name: string, service: AshService) {
    this.#name = name;
    this.#service = service;
  }

  read(ctx: CollectContext): AshWindowRead {
    const sampler = this.#service.sampler(ctx.target.name);
    if (sampler === undefined) {
      throw new CollectorUnavailableError('the session sampler does not run on this target');
    }
    const end = Date.now();
    const { ticks, lostTicks } = sampler.ring.read(this.#name, end);
    const start = this.#lastRead.get(ctx.target.name) ?? ticks[0]?.at ?? end;
    this.#lastRead.set(ctx.target.name, end);
    return { sampler, ticks, lostTicks, start, end };
  }
}

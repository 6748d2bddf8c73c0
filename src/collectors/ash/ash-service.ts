import type { QueryPerformanceSettings } from '../../core/config/query-performance-settings.js';
import type { Logger } from '../../core/logger.js';
import type { TargetIdentity } from '../../core/model/target-identity.js';
import type { TargetConnector } from '../../core/target-connector.js';
import type { TargetService } from '../../core/target-service.js';
import { ASH_CONSUMERS, BLOCKING_SESSIONS } from '../query-performance-names.js';
import { AshSampler } from './ash-sampler.js';

/** The session samplers of every PostgreSQL target, for the collectors that read them. */
export class AshService implements TargetService {
  readonly name = 'session sampler';
  readonly #settings: QueryPerformanceSettings;
  readonly #samplers = new Map<string, AshSampler>();

  readonly #startSamplers: boolean;

  constructor(settings: QueryPerformanceSettings, startSamplers = true) {
    this.#settings = settings;
    this.#startSamplers = startSamplers;
  }

  attach(
    target: TargetIdentity,
    connector: TargetConnector,
    enabled: (collector: string) => boolean,
    logger: Logger,
  ): void {
    // PgBouncer and other targets without sessions to sample have no dedicated connections.
    if (connector.openDedicated === undefined) return;
    const previous = this.#samplers.get(target.name);
    if (previous !== undefined) void previous.stop();
    const sampler = new AshSampler({
      target: target.name,
      connector,
      settings: this.#settings,
      logger,
      wanted: () => ASH_CONSUMERS.some(enabled),
      blockingWanted: () => enabled(BLOCKING_SESSIONS),
    });
    sampler.ring.subscribe(ASH_CONSUMERS);
    this.#samplers.set(target.name, sampler);
    if (this.#startSamplers) sampler.start();
  }

  /** The sampler of a target, when it has one. */
  sampler(target: string): AshSampler | undefined {
    return this.#samplers.get(target);
  }

  async detach(target: string): Promise<void> {
    const sampler = this.#samplers.get(target);
    this.#samplers.delete(target);
    await sampler?.stop();
  }

  async close(): Promise<void> {
    const all = [...this.#samplers.values()];
    this.#samplers.clear();
    await Promise.all(all.map((s) => s.stop()));
  }
}

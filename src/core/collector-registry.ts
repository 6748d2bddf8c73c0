import type { Collector, CollectorDefinition } from './collector.js';

/** Per-collector switches from configuration. */
export interface CollectorToggle {
  readonly enabled?: boolean;
}

/** The set of known collectors; the configuration picks which run. */
export class CollectorRegistry {
  readonly #definitions = new Map<string, CollectorDefinition>();

  /** Adds a collector; names must be unique. */
  register(collector: Collector, options: { enabledByDefault: boolean }): this {
    if (this.#definitions.has(collector.name)) {
      throw new Error(`collector ${collector.name} is registered twice`);
    }
    this.#definitions.set(collector.name, {
      collector,
      enabledByDefault: options.enabledByDefault,
    });
    return this;
  }

  /** Every registered collector, in registration order. */
  list(): CollectorDefinition[] {
    return [...this.#definitions.values()];
  }

  /** Whether a name is registered. */
  has(name: string): boolean {
    return this.#definitions.has(name);
  }

  /** The collectors that run under `toggles` (unknown names are the config's job to reject). */
  enabled(toggles: Readonly<Record<string, CollectorToggle | undefined>>): Collector[] {
    return this.list()
      .filter((d) => toggles[d.collector.name]?.enabled ?? d.enabledByDefault)
      .map((d) => d.collector);
  }
}

import type { V4Common, V4Dataset, V4Entity, V4Event, V4Inventory, V4Metric } from './v4-types.js';

/** A dataset while it is being filled. */
interface OpenDataset {
  readonly entity: V4Entity;
  readonly metrics: V4Metric[];
  readonly events: V4Event[];
  inventory: V4Inventory;
}

/**
 * One dataset per entity, in the order entities were first named, so the same batch always
 * prints the same documents.
 */
export class DatasetBook {
  readonly #open = new Map<string, OpenDataset>();

  /** The dataset of `entity`, created on first use. */
  for(entity: V4Entity): OpenDataset {
    const key = `${entity.type}\u0000${entity.name}`;
    let open = this.#open.get(key);
    if (open === undefined) {
      open = { entity, metrics: [], events: [], inventory: {} };
      this.#open.set(key, open);
    }
    return open;
  }

  /** The finished datasets, sharing `common`. */
  datasets(common: V4Common): V4Dataset[] {
    return [...this.#open.values()].map((open) => ({
      common,
      entity: open.entity,
      metrics: open.metrics,
      inventory: open.inventory,
      events: open.events,
      ignore_entity: false,
    }));
  }
}

import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import { probeSamples } from './v3-metric-sets.js';
import type { V3Entity } from './v3-types.js';

/** The SDK's longest inventory key; longer ones are cut to this length. */
export const V3_INVENTORY_KEY_MAX = 375;

/** The pg_settings columns nri files under each setting, in its order. */
const FIELDS = ['setting', 'boot_val', 'reset_val'] as const;

/** Whether the batch carries the settings the inventory is made of. */
export function hasInventory(batch: UnifiedMetrics): boolean {
  return probeSamples(batch, 'pg_settings').length > 0;
}

/**
 * The instance inventory nri-postgresql reports: `<name>/setting`, `<name>/boot_val` and
 * `<name>/reset_val` per pg_settings row, each `{"value": <text or null>}`. Keys are inserted
 * in byte order, which is the order Go prints a map in. `primary_conninfo` passwords arrive
 * already masked by the probe.
 */
export function settingsInventory(batch: UnifiedMetrics): V3Entity['inventory'] {
  const items: [string, string | null][] = [];
  for (const row of probeSamples(batch, 'pg_settings').flatMap((s) => s.rows)) {
    const name = row.name;
    if (typeof name !== 'string') continue;
    for (const field of FIELDS) {
      const value = row[field];
      const key = `${name}/${field}`.slice(0, V3_INVENTORY_KEY_MAX);
      items.push([key, value === null || value === undefined ? null : String(value)]);
    }
  }
  items.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const inventory: V3Entity['inventory'] = {};
  for (const [key, value] of items) inventory[key] = { value };
  return inventory;
}

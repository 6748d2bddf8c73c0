import type { UnifiedMetrics } from '../../../core/model/unified-metrics.js';
import type { V4Inventory } from './v4-types.js';

const SETTING_FIELDS = ['setting', 'boot_val', 'reset_val'] as const;

/**
 * Inventory from the pg_settings probe, keyed as nri-postgresql keys it:
 * `<name>/setting`, `<name>/boot_val`, `<name>/reset_val`, each `{"value": text | null}`.
 */
export function settingsInventory(batch: UnifiedMetrics): V4Inventory {
  const inventory: V4Inventory = {};
  for (const sample of batch.probes) {
    if (sample.probe !== 'pg_settings') continue;
    for (const row of sample.rows) {
      const name = row.name;
      if (typeof name !== 'string' || name === '') continue;
      for (const field of SETTING_FIELDS) {
        const value = row[field];
        inventory[`${name}/${field}`] = {
          value: value === null || value === undefined ? null : String(value),
        };
      }
    }
  }
  return inventory;
}

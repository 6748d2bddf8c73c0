import path from 'node:path';

/**
 * Where a target's rates live between runs: one file per target and configuration (`key`), so
 * two integrations watching different servers, or one server differently, never share state.
 */
export function rateStatePath(stateDir: string, key: string): string {
  return path.join(stateDir, `pgquerylens-nri-rates-${key}.json`);
}

import { createHash } from 'node:crypto';
import path from 'node:path';
import type { TargetIdentity } from '../../core/model/target-identity.js';

/**
 * Where a target's rates live between runs: one file per target, so two integrations
 * watching different servers from one agent never share (or clobber) state.
 */
export function rateStatePath(stateDir: string, target: TargetIdentity): string {
  const id = createHash('sha256')
    .update(`${target.name}\u0000${target.host}\u0000${target.port}`)
    .digest('hex')
    .slice(0, 16);
  return path.join(stateDir, `pgquerylens-nri-rates-${id}.json`);
}

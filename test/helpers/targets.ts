import { loadConfig } from '../../src/core/config/load-config.js';
import type { ResolvedTarget } from '../../src/core/config/resolved-config.js';

/** A fully resolved target for `url`, as the CLI would build it, with overrides. */
export function targetFor(url: string, extra: Record<string, unknown> = {}): ResolvedTarget {
  const config = loadConfig({
    env: {},
    flags: { targets: [{ url, ...extra }] },
    knownCollectors: [],
  });
  const target = config.targets[0];
  if (target === undefined) throw new Error('no target resolved');
  return target;
}

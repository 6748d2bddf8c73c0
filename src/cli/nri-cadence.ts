import { V3_SOURCE_PROBES } from '../adapters/nri/v3/v3-source-probes.js';
import type { ResolvedConfig } from '../core/config/resolved-config.js';

/**
 * A long-running protocol-3 integration (`--daemon`, `hybrid`) reads the probes behind
 * nri-postgresql's samples at the base interval, unless the user chose otherwise: with their
 * own cadences (settings every 10 minutes, bloat hourly) the samples would arrive in pieces
 * and dashboards built on nri-postgresql would show gaps. A one-shot run reads everything
 * anyway.
 */
export function withNriCadence(config: ResolvedConfig): ResolvedConfig {
  const longRunning = config.mode === 'hybrid' || (config.mode === 'nri' && config.nri.daemon);
  if (!longRunning || config.nri.protocol !== 3) return config;
  const collectors = { ...config.collectors };
  for (const name of V3_SOURCE_PROBES) {
    const own = collectors[name];
    if (own?.intervalMs === undefined) collectors[name] = { ...own, intervalMs: config.intervalMs };
  }
  return Object.freeze({ ...config, collectors });
}

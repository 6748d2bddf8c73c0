import { describe, expect, it } from 'vitest';
import { builtinCollectorNames } from '../../src/collectors/builtin-collectors.js';
import { V3_SOURCE_PROBES } from '../../src/adapters/nri/v3/v3-source-probes.js';
import { loadConfig } from '../../src/core/config/load-config.js';
import { withNriCadence } from '../../src/cli/nri-cadence.js';

function config(flags: Record<string, unknown>) {
  return loadConfig({
    env: {},
    flags: { targets: [{ url: 'postgres://u@db1/postgres' }], interval: '20s', ...flags },
    knownCollectors: builtinCollectorNames(),
  });
}

describe('protocol 3 cadence when long-running', () => {
  it('names only real collectors', () => {
    const known = new Set(builtinCollectorNames());
    expect(V3_SOURCE_PROBES.filter((p) => !known.has(p))).toEqual([]);
  });

  it('reads the sample sources at the base interval, keeping what the user set', () => {
    const c = withNriCadence(
      config({
        mode: 'nri',
        nri: { daemon: true, protocol: 3 },
        collectors: { pg_table_bloat: { interval: '1h' } },
      }),
    );
    expect(c.collectors.pg_settings?.intervalMs).toBe(20_000);
    expect(c.collectors.pg_stat_all_tables?.intervalMs).toBe(20_000);
    expect(c.collectors.pg_table_bloat?.intervalMs).toBe(3_600_000);
  });

  it('leaves one-shot runs, protocol 4 and otel alone', () => {
    for (const flags of [
      { mode: 'nri', nri: { protocol: 3 } },
      { mode: 'nri', nri: { daemon: true, protocol: 4 } },
      { mode: 'otel', nri: { protocol: 3 } },
    ]) {
      const c = config(flags);
      expect(withNriCadence(c)).toBe(c);
    }
  });
});

import { describe, expect, inject, it } from 'vitest';
import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import { runProbes } from '../helpers/probe-run.js';
import { catalogProblems } from '../helpers/probe-types.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const major = inject('pgMajor');

describe('the probe catalogue', () => {
  it('has at least 40 probes with unique names, intervals and retention', () => {
    expect(BUILTIN_PROBES.length).toBeGreaterThanOrEqual(40);
    const names = BUILTIN_PROBES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const probe of BUILTIN_PROBES) {
      expect(probe.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(probe.schema.retentionDays).toBeGreaterThan(0);
      expect(probe.description.length).toBeGreaterThan(10);
    }
  });

  for (const [label, url] of [
    ['a superuser', pgUrl],
    ['a pg_monitor-only role', monitorUrl],
  ] as const) {
    it(`runs every probe as ${label}: success or unavailable with a reason, rows match the schema`, async ({
      skip,
    }) => {
      if (url === '') skip('no pg_monitor role on this server');
      const runs = await runProbes(url, BUILTIN_PROBES);
      expect(catalogProblems(runs), `PostgreSQL ${major}`).toEqual([]);
    });
  }
});

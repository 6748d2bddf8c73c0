import { describe, expect, inject, it } from 'vitest';
import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import { runProbes, type ProbeRun } from '../helpers/probe-run.js';
import { fitsType } from '../helpers/probe-types.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const major = inject('pgMajor');

/** Every row's columns are declared in the schema, with values of the declared type. */
function schemaViolations(run: ProbeRun, probeName: string): string[] {
  const probe = BUILTIN_PROBES.find((p) => p.name === probeName);
  if (probe === undefined) return [`${probeName} not found`];
  const types = new Map(probe.schema.columns.map((c) => [c.name, c.type]));
  const problems = new Set<string>();
  for (const row of run.rows) {
    for (const [column, value] of Object.entries(row)) {
      const type = types.get(column);
      if (type === undefined) problems.add(`${probeName}.${column}: not in the schema`);
      else if (!fitsType(value, type)) {
        problems.add(`${probeName}.${column}: ${JSON.stringify(value)} is not ${type}`);
      }
    }
    for (const key of probe.schema.key) {
      if (row[key] === undefined) problems.add(`${probeName}: key column ${key} missing`);
    }
  }
  return [...problems];
}

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
      const failures: string[] = [];
      for (const [name, run] of runs) {
        for (const status of run.statuses) {
          if (!status.success && status.unavailable !== true) {
            failures.push(
              `${name}${status.database === undefined ? '' : `@${status.database}`}: ${status.error ?? '?'}`,
            );
          }
          if (status.unavailable === true) expect(status.error, name).toMatch(/\w{4,}/);
        }
        failures.push(...schemaViolations(run, name));
      }
      expect(failures, `PostgreSQL ${major}`).toEqual([]);
    });
  }
});

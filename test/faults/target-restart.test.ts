import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { cleanEnv } from '../helpers/cli.js';
import { DebianPostgres, debianPostgresSkipReason } from '../helpers/debian-postgres.js';
import {
  batchesIn,
  failedStatuses,
  killDaemons,
  metricValue,
  pollUntil,
  probeRows,
  scrape,
  startDaemon,
} from './support/target-cli.js';
import { RestartablePostgres } from './support/target-postgres.js';

/**
 * Issue 8, fault "one of several targets stopped and restarted": three targets on three real
 * PostgreSQL servers, one of them shut down for real (postmaster stopped) for a couple of
 * intervals and started again from its data on the same port, under the built CLI.
 *
 * Must hold:
 * - the two other targets never miss a cycle: consecutive batches at most 1.5 intervals apart
 *   over the whole run, none with an error or a failed collector, their runs counted as
 *   successes in /metrics;
 * - the stopped target is reported down while its server is away: batches with
 *   `metadata.error` and no probe rows, `pgquerylens_target_up_ratio` 0, a warning in the log;
 * - it recovers within two intervals of its server accepting connections again: a batch
 *   without error and with probe rows, started at most two intervals after the restart, and
 *   `pgquerylens_target_up_ratio` back to 1.
 */

const skipReason = debianPostgresSkipReason();
const pgUrl = inject('pgUrl');

const INTERVAL_MS = 5_000;
const STEADY = ['steady-embedded', 'steady-debian'] as const;
const RESTARTED = 'restarted';

let dir = '';
let steadyDebian: DebianPostgres | undefined;
let restarted: RestartablePostgres | undefined;

beforeAll(async () => {
  if (skipReason !== undefined) return;
  dir = await mkdtemp(path.join(tmpdir(), 'pgql-fault-restart-'));
  [steadyDebian, restarted] = await Promise.all([
    DebianPostgres.start({ shared_preload_libraries: 'pg_stat_statements' }),
    RestartablePostgres.create(),
  ]);
});

afterAll(async () => {
  killDaemons();
  await Promise.all([steadyDebian?.stop(), restarted?.destroy()]);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function ofTarget(batches: readonly UnifiedMetrics[], name: string): UnifiedMetrics[] {
  return batches
    .filter((b) => b.target.name === name)
    .sort((a, b) => Date.parse(a.metadata.startedAt) - Date.parse(b.metadata.startedAt));
}

/** Largest distance between consecutive batch starts, ms. */
function largestGap(batches: readonly UnifiedMetrics[]): number {
  let gap = 0;
  for (let i = 1; i < batches.length; i += 1) {
    gap = Math.max(
      gap,
      Date.parse(batches[i]!.metadata.startedAt) - Date.parse(batches[i - 1]!.metadata.startedAt),
    );
  }
  return gap;
}

const isUp = (b: UnifiedMetrics): boolean =>
  b.metadata.error === undefined && probeRows(b, 'pg_connectivity') > 0;

describe.skipIf(skipReason !== undefined)('one of three targets stopped and restarted', () => {
  it('keeps the others on cadence, reports the stopped one down, recovers it', async ({
    annotate,
  }) => {
    const output = path.join(dir, 'batches.ndjson');
    const config = path.join(dir, 'config.yaml');
    const configuration = {
      interval: `${INTERVAL_MS / 1000}s`,
      otlp: { enabled: false },
      // Only the servers' own database: other suites create and drop databases on the shared one.
      connection: { connectTimeout: '3s' },
      targets: [
        { name: STEADY[0], url: pgUrl, databases: ['postgres'] },
        { name: STEADY[1], url: steadyDebian!.url(), databases: ['postgres'] },
        { name: RESTARTED, url: restarted!.url(), databases: ['postgres'] },
      ],
    };
    await writeFile(config, JSON.stringify(configuration, null, 2), { mode: 0o600 });
    const cli = startDaemon(
      ['--config', config, '--output', 'json', '--output-file', output, '--log-format', 'json'],
      cleanEnv(),
    );
    const port = await cli.telemetryPort();
    const metrics = async (): Promise<string> => (await scrape(port, '/metrics')).body;
    const upOf = async (target: string): Promise<number | undefined> =>
      metricValue(await metrics(), 'pgquerylens_target_up_ratio', { target });

    // Two good cycles everywhere before the fault.
    await pollUntil(
      'two successful cycles on every target',
      async () => {
        const all = await batchesIn(output);
        return [...STEADY, RESTARTED].every((t) => ofTarget(all, t).filter(isUp).length >= 2);
      },
      90_000,
    );

    // The server goes away for real.
    await restarted!.stop();
    const stoppedAt = Date.now();
    const downBatches = async (): Promise<UnifiedMetrics[]> =>
      ofTarget(await batchesIn(output), RESTARTED).filter(
        (b) => Date.parse(b.metadata.startedAt) > stoppedAt,
      );
    await pollUntil(
      'two cycles of the stopped target reported down',
      async () => (await downBatches()).length >= 2,
      4 * INTERVAL_MS + 30_000,
    );
    const whileDown = await downBatches();
    for (const b of whileDown) {
      expect(b.metadata.error, 'a batch of the stopped target without an error').toBeDefined();
      expect(b.probes.flatMap((p) => p.rows)).toEqual([]);
    }
    expect(whileDown[0]!.metadata.error).toMatch(/ECONNREFUSED|connect|terminat|shut/i);
    expect(await upOf(RESTARTED)).toBe(0);
    for (const t of STEADY) expect(await upOf(t)).toBe(1);
    // Booleans on the log, so that a failure cannot print a password a log line might hold.
    expect(/"msg":"target unreachable, will retry next run"/.test(cli.stderr()), 'warned').toBe(
      true,
    );

    // Back from the same data directory, on the same port.
    await restarted!.start();
    const upAt = Date.now();
    let recovered: UnifiedMetrics | undefined;
    await pollUntil(
      'a successful batch of the restarted target',
      async () => {
        recovered = ofTarget(await batchesIn(output), RESTARTED).find(
          (b) => Date.parse(b.metadata.startedAt) >= upAt && isUp(b),
        );
        return recovered !== undefined;
      },
      4 * INTERVAL_MS + 30_000,
    );
    const recoveryMs = Date.parse(recovered!.metadata.startedAt) - upAt;
    await annotate(
      `restarted target: first successful run ${recoveryMs} ms after its server was up`,
    );
    expect(recoveryMs, 'restart → first successful run, ms').toBeLessThanOrEqual(2 * INTERVAL_MS);
    expect(failedStatuses(recovered!)).toEqual([]);
    await pollUntil('target up again in /metrics', async () => (await upOf(RESTARTED)) === 1);

    // A few more cycles after the recovery, then a clean stop.
    const recoveredAt = Date.now();
    await pollUntil(
      'two more cycles of every target',
      async () => {
        const all = await batchesIn(output);
        return [...STEADY, RESTARTED].every(
          (t) =>
            ofTarget(all, t).filter((b) => Date.parse(b.metadata.startedAt) > recoveredAt).length >=
            2,
        );
      },
      4 * INTERVAL_MS + 30_000,
    );
    const finalMetrics = await metrics();
    const result = await cli.stop();
    expect(result.code).toBe(0);

    const all = await batchesIn(output);
    for (const t of STEADY) {
      const own = ofTarget(all, t);
      // The run spans the outage: its cycles are all there, evenly spaced.
      const spanMs =
        Date.parse(own.at(-1)!.metadata.startedAt) - Date.parse(own[0]!.metadata.startedAt);
      expect(spanMs).toBeGreaterThan(Date.now() - stoppedAt - 2 * INTERVAL_MS);
      await annotate(
        `${t}: ${own.length} batches over ${spanMs} ms, largest gap ${largestGap(own)} ms`,
      );
      expect(largestGap(own), `${t}: largest gap between cycles, ms`).toBeLessThanOrEqual(
        1.5 * INTERVAL_MS,
      );
      expect(own.length).toBeGreaterThanOrEqual(Math.floor(spanMs / INTERVAL_MS));
      for (const b of own) {
        expect(b.metadata.error, `${t} batch error`).toBeUndefined();
        expect(failedStatuses(b), `${t} failed collectors`).toEqual([]);
        expect(probeRows(b, 'pg_connectivity'), `${t} connectivity rows`).toBe(1);
      }
      expect(
        metricValue(finalMetrics, 'pgquerylens_collector_runs_total', {
          target: t,
          outcome: 'failure',
        }) ?? 0,
      ).toBe(0);
      expect(
        metricValue(finalMetrics, 'pgquerylens_collector_runs_total', {
          target: t,
          outcome: 'success',
          collector: 'pg_connectivity',
        }),
      ).toBeGreaterThanOrEqual(own.length - 1);
    }
    // The restarted target: failures counted while down, successes before and after.
    expect(
      metricValue(finalMetrics, 'pgquerylens_collector_runs_total', {
        target: RESTARTED,
        collector: 'pg_connectivity',
        outcome: 'failure',
      }),
    ).toBeGreaterThanOrEqual(whileDown.length);
    // Only the stopped target was ever reported unreachable.
    const unreachable = cli
      .stderr()
      .split('\n')
      .filter((l) => l.includes('target unreachable'));
    expect(unreachable.length).toBeGreaterThanOrEqual(2);
    for (const line of unreachable) {
      expect(
        line.includes(`"target":"${RESTARTED}"`),
        'an unreachable target other than the stopped one',
      ).toBe(true);
    }
    expect(/unhandled|"level":"fatal"|"level":60/i.test(cli.stderr()), 'crash in the log').toBe(
      false,
    );
  });
});

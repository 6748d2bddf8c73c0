import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { failedStatuses, killDaemons, probeRows } from './support/target-cli.js';
import {
  CYCLE_MARK,
  cycles,
  dbOf,
  HUNG,
  largestGap,
  ofTarget,
  OTHER,
  PROBE,
  probeStatus,
  runHang,
  sequenceNames,
  type HangDatabases,
  type HangRun,
} from './support/target-hang-scenario.js';

/**
 * Issue 8, fault "a target whose statistics queries hang": a session holding
 * `LOCK TABLE pg_catalog.pg_sequence IN ACCESS EXCLUSIVE MODE` in an open transaction makes the
 * pg_sequence_exhaustion probe wait in that one database (the lock is per database; nothing
 * else the collector runs reads pg_sequence). The target's lock_timeout is raised so that the
 * wait is a real hang, bounded only by the probe's own timeouts. Target `hung` reads the locked
 * database and a free one, target `other` a third database of the same server.
 */

const pgUrl = inject('pgUrl');
let dbs: HangDatabases | undefined;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgql-fault-hang-'));
  const [lockedUrl, freeUrl, otherUrl] = await Promise.all([
    freshDatabase(pgUrl, 'pgql_hang'),
    freshDatabase(pgUrl, 'pgql_hang_free'),
    freshDatabase(pgUrl, 'pgql_hang_other'),
  ]);
  for (const url of [lockedUrl, freeUrl, otherUrl])
    await queryOnce(url, 'CREATE SEQUENCE fault_seq');
  dbs = { dir, serverUrl: pgUrl, lockedUrl, freeUrl, otherUrl };
});

afterAll(async () => {
  killDaemons();
  if (dbs === undefined) return;
  for (const url of [dbs.lockedUrl, dbs.freeUrl, dbs.otherUrl]) {
    await queryOnce(pgUrl, `DROP DATABASE IF EXISTS ${dbOf(url)} WITH (FORCE)`).catch(
      () => undefined,
    );
  }
  await rm(dbs.dir, { recursive: true, force: true });
});

function databases(): HangDatabases {
  if (dbs === undefined) throw new Error('databases not created');
  return dbs;
}

/**
 * Probes whose rows describe passing activity (locks, long sessions, work in progress): other
 * test files share the server, so such rows come and go; they must still run and succeed.
 */
const PASSING = /^(pg_locks|pg_long_running_sessions|pg_stat_progress_|blocking_sessions)/;

/** `collector/database` of a status or sample. */
const keyOf = (s: { collector?: string; probe?: string; database?: string | undefined }) =>
  `${s.collector ?? s.probe ?? ''}/${s.database ?? ''}`;

/**
 * What each cycle of a target must show while the lock is held: every collector that ran in
 * the last cycle before the lock runs again, succeeds (but for `mayFail`), and every probe that
 * had rows (but PASSING ones) has rows again. Returns the departures, one line each.
 */
function cycleProblems(
  run: HangRun,
  target: string,
  intervalMs: number,
  mayFail: string,
  /** Collector runs that may be missing from a cycle (a straggler's, split into its own batch). */
  mayBeAbsent: readonly string[] = [],
): {
  cycles: UnifiedMetrics[];
  problems: string[];
  gap: number;
  ran: string[];
  withRows: string[];
} {
  const mine = cycles(ofTarget(run.batches, target));
  const baseline = mine.filter((b) => Date.parse(b.metadata.startedAt) < run.lockedAt).at(-1);
  const whileLocked = mine.filter((b) => {
    const t = Date.parse(b.metadata.startedAt);
    return t >= run.lockedAt && t <= run.releasedAt;
  });
  if (baseline === undefined)
    return { cycles: whileLocked, problems: ['no cycle before'], gap: 0, ran: [], withRows: [] };
  const everyCycle = (name: string): boolean => run.cadence.get(name) === intervalMs;
  const ran = baseline.metadata.collectors.filter((s) => everyCycle(s.collector)).map(keyOf);
  const withRows = baseline.probes
    .filter((p) => everyCycle(p.probe) && !PASSING.test(p.probe) && p.rows.length > 0)
    .map(keyOf)
    .filter((k) => k !== mayFail && !mayBeAbsent.includes(k));
  const problems: string[] = [];
  for (const b of whileLocked) {
    const at = b.metadata.startedAt.slice(11, 23);
    const statuses = new Map(b.metadata.collectors.map((s) => [keyOf(s), s]));
    for (const key of ran) {
      const s = statuses.get(key);
      if (s === undefined) {
        if (!mayBeAbsent.includes(key)) problems.push(`${at} ${key} did not run`);
      } else if (!s.success && s.unavailable !== true && key !== mayFail)
        problems.push(`${at} ${key} failed: ${s.error ?? ''}`);
    }
    const sampled = new Set(b.probes.filter((p) => p.rows.length > 0).map(keyOf));
    for (const key of withRows) if (!sampled.has(key)) problems.push(`${at} ${key} no rows`);
    if (b.metadata.error !== undefined) problems.push(`${at} run error ${b.metadata.error}`);
  }
  // Gaps across the lock's edges count too: from the cycle before it to the last one in it.
  const gap = largestGap([baseline, ...whileLocked]);
  return { cycles: whileLocked, problems, gap, ran, withRows };
}

/** Skip warnings per target/collector. */
function tally(lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) out[l] = (out[l] ?? 0) + 1;
  return out;
}

function timedOutRuns(run: HangRun, locked: string): UnifiedMetrics[] {
  return ofTarget(run.batches, HUNG, run.lockedAt, run.releasedAt).filter(
    (b) =>
      Date.parse(b.metadata.finishedAt) <= run.releasedAt &&
      probeStatus(b, locked)?.success === false,
  );
}

function summary(run: HangRun, locked: string): string {
  const failures = timedOutRuns(run, locked);
  const durations = failures.map((b) => Math.round(probeStatus(b, locked)!.durationMs));
  const errors = failures.map((b) => probeStatus(b, locked)!.error ?? '');
  return (
    `lock held ${run.releasedAt - run.lockedAt} ms; probe timed out ${failures.length} times ` +
    `(${durations.join(', ')} ms: ${[...new Set(errors)].join(' / ')}); rows again ` +
    `${Date.parse(run.recovered.metadata.finishedAt) - run.releasedAt} ms after release; ` +
    `at most ${run.watch.maxConcurrent(locked)} session(s) of it at once, ` +
    `${run.watch.lockWaits()} of ${run.watch.looks.length} looks saw it wait on a lock; ` +
    `skipped counter ${run.skipped.before} → ${run.skipped.atRelease} → ${run.skipped.last}; ` +
    `skip warnings ${JSON.stringify(tally(run.skipLines))}`
  );
}

/** Checks both cases share: the fault is real, the probe fails as it should, never overlaps. */
function expectHungProbe(run: HangRun, locked: string, error: RegExp, boundMs: number): void {
  // The lock really blocks a reader of pg_sequence, and only in that database.
  expect.soft(run.plainReadLocked, 'plain read in the locked database').toBe('57014');
  expect.soft(run.plainReadOther, 'plain read elsewhere').toBe('');
  expect.soft(run.watch.lockWaits(), 'looks that saw the probe wait on a lock').toBeGreaterThan(0);
  // Never on top of itself: one session of the probe per database at most, never two.
  expect.soft(run.watch.maxConcurrent(locked), 'probe sessions at once').toBe(1);
  for (const url of [databases().freeUrl, databases().otherUrl])
    expect.soft(run.watch.maxConcurrent(dbOf(url))).toBeLessThanOrEqual(1);
  // Nothing else of the hung target failed under the lock, in whichever batch it went out.
  const hungBatches = ofTarget(run.batches, HUNG, run.lockedAt, run.releasedAt);
  expect
    .soft(
      hungBatches.flatMap((b) => [
        ...failedStatuses(b)
          .map(keyOf)
          .filter((k) => k !== `${PROBE}/${locked}`),
        ...(b.metadata.error === undefined ? [] : [b.metadata.error]),
      ]),
      'hung: other failures under the lock',
    )
    .toEqual([]);
  // Every run of the probe that began and ended under the lock timed out at its bound.
  const hungRuns = hungBatches.filter((b) => probeStatus(b, locked) !== undefined);
  const failures = timedOutRuns(run, locked);
  expect.soft(failures.length, 'timed-out runs').toBeGreaterThanOrEqual(2);
  for (const b of hungRuns.filter((r) => Date.parse(r.metadata.finishedAt) <= run.releasedAt)) {
    const status = probeStatus(b, locked)!;
    expect.soft(status.success, `run at ${b.metadata.startedAt}`).toBe(false);
    expect.soft(status.error).toMatch(error);
    expect.soft(status.durationMs).toBeGreaterThanOrEqual(boundMs - 200);
    expect.soft(status.durationMs).toBeLessThan(boundMs + 2_000);
    // The same probe in the target's other, unlocked database read its rows.
    expect.soft(sequenceNames(b, dbOf(databases().freeUrl))).toContain('fault_seq');
  }
  expect(run.exitCode).toBe(0);
  expect(/unhandled|"level":"fatal"|"level":60/i.test(run.stderr), 'crash in the log').toBe(false);
}

/** The other target never noticed: a batch every cycle, every collector and the probe fine. */
function expectOtherUnaffected(
  run: HangRun,
  other: ReturnType<typeof cycleProblems>,
  intervalMs: number,
): void {
  const expected = Math.floor((run.releasedAt - run.lockedAt) / intervalMs) - 1;
  expect.soft(other.cycles.length, 'other: cycles while locked').toBeGreaterThanOrEqual(expected);
  expect
    .soft(other.gap, 'other: largest gap between cycles, ms')
    .toBeLessThanOrEqual(1.5 * intervalMs);
  expect.soft(other.problems, 'other: departures from its last cycle before').toEqual([]);
  // The comparison covers the probe and the cycle's marker, so it cannot pass on nothing.
  const probeThere = `${PROBE}/${dbOf(databases().otherUrl)}`;
  expect
    .soft(other.ran, 'other: collectors compared')
    .toEqual(expect.arrayContaining([`${CYCLE_MARK}/`, probeThere]));
  expect.soft(other.withRows, 'other: probes with rows compared').toContain(probeThere);
  for (const b of other.cycles) {
    expect.soft(probeRows(b, CYCLE_MARK)).toBe(1);
    expect.soft(sequenceNames(b, dbOf(databases().otherUrl))).toContain('fault_seq');
  }
  expect
    .soft(
      run.skipLines.filter((l) => l.startsWith(`${OTHER}/`)),
      'other: skips',
    )
    .toEqual([]);
}

function otherSummary(other: ReturnType<typeof cycleProblems>): string {
  return (
    `other: ${other.cycles.length} cycles, largest gap ${other.gap} ms, ` +
    `${other.problems.length} departures, ${other.ran.length} collector runs compared ` +
    `(${other.withRows.length} with rows: ${other.withRows.join(' ')})`
  );
}

describe('a target whose statistics query hangs behind a lock', () => {
  /**
   * Must hold with the probe's timeouts (3 s) shorter than its interval (8 s), the normal
   * configuration: every run of the probe under the lock times out at ~3 s with a timeout
   * error, never two sessions of it at once; nothing is ever skipped (counter and log); every
   * other collector of the hung target and of the other target runs, succeeds and has rows
   * every cycle, no gap between cycles above 1.5 intervals; rows again within two intervals of
   * the release.
   */
  it('timeout shorter than the interval: fails each cycle alone, everything else on time', async ({
    annotate,
  }) => {
    const intervalMs = 8_000;
    const boundMs = 3_000;
    const locked = dbOf(databases().lockedUrl);
    const run = await runHang(databases(), {
      label: 'short',
      intervalMs,
      probeSettings: { statementTimeout: `${boundMs}ms`, timeout: `${boundMs}ms` },
      timeouts: 3,
      timeoutsWithinMs: 4 * intervalMs + 30_000,
      recoveryWithinMs: 2 * intervalMs + 30_000,
    });
    const hung = cycleProblems(run, HUNG, intervalMs, `${PROBE}/${locked}`);
    const other = cycleProblems(run, OTHER, intervalMs, '');
    const expected = Math.floor((run.releasedAt - run.lockedAt) / intervalMs) - 1;
    await annotate(
      `short: ${summary(run, locked)}; hung: ${hung.cycles.length} cycles, largest gap ` +
        `${hung.gap} ms, ${hung.problems.length} departures; ${hung.ran.length} collector runs ` +
        `compared each cycle: ${hung.ran.join(' ')}; with rows: ${hung.withRows.join(' ')}; ` +
        otherSummary(other),
    );

    // Server or collector, whichever bound fires first: both are 3 s.
    expectHungProbe(
      run,
      locked,
      new RegExp(`statement timeout|timed out after ${boundMs} ms`),
      boundMs,
    );
    expect.soft(run.skipped.last, 'skipped runs (self-metrics)').toBe(0);
    expect.soft(tally(run.skipLines), 'skip warnings').toEqual({});
    expect.soft(hung.cycles.length, 'hung: cycles while locked').toBeGreaterThanOrEqual(expected);
    expect
      .soft(hung.gap, 'hung: largest gap between cycles, ms')
      .toBeLessThanOrEqual(1.5 * intervalMs);
    expect.soft(hung.problems, 'hung: departures from its last cycle before').toEqual([]);
    const probeFree = `${PROBE}/${dbOf(databases().freeUrl)}`;
    expect
      .soft(hung.ran, 'hung: collectors compared')
      .toEqual(expect.arrayContaining([`${CYCLE_MARK}/`, `${PROBE}/${locked}`, probeFree]));
    expect.soft(hung.withRows, 'hung: probes with rows compared').toContain(probeFree);
    expectOtherUnaffected(run, other, intervalMs);
    expect
      .soft(Date.parse(run.recovered.metadata.finishedAt) - run.releasedAt, 'recovery, ms')
      .toBeLessThanOrEqual(2 * intervalMs);
  });

  /**
   * Must hold with the probe's run deadline (6 s) longer than its interval (2 s) and a statement
   * timeout (30 s) that would let the statement outlive it: every run under the lock times out
   * at ~6 s, the collector's cancel ends the statement, so pg_stat_activity never shows two
   * sessions of the probe; the turns that come due meanwhile are skipped, counted and logged;
   * the other target goes on every cycle, and so do the hung target's other collectors (the
   * group hands them over before its next turn and the straggler's batch follows on its own);
   * the probe in the hung target's free database has rows; rows again within the deadline plus
   * two intervals of the release. Skipping is per collector, so the probe's run on the free
   * database waits for the locked one and may miss turns.
   */
  it('timeout longer than the interval: skips instead of overlapping, other target on time', async ({
    annotate,
  }) => {
    const intervalMs = 2_000;
    const boundMs = 6_000;
    const locked = dbOf(databases().lockedUrl);
    const run = await runHang(databases(), {
      label: 'long',
      intervalMs,
      probeSettings: { statementTimeout: '30s', timeout: `${boundMs}ms` },
      timeouts: 2,
      timeoutsWithinMs: 4 * boundMs + 30_000,
      recoveryWithinMs: boundMs + 4 * intervalMs + 30_000,
    });
    const other = cycleProblems(run, OTHER, intervalMs, '');
    const probeFree = `${PROBE}/${dbOf(databases().freeUrl)}`;
    const hung = cycleProblems(run, HUNG, intervalMs, `${PROBE}/${locked}`, [
      `${PROBE}/${locked}`,
      probeFree,
    ]);
    await annotate(
      `long: ${summary(run, locked)}; hung: ${hung.cycles.length} cycles, largest gap ` +
        `${hung.gap} ms, ${hung.problems.length} departures; ${otherSummary(other)}`,
    );

    expectHungProbe(run, locked, new RegExp(`${PROBE} timed out after ${boundMs} ms`), boundMs);
    // Skipped, not stacked: counted by the scheduler and logged, naming the probe.
    expect
      .soft(run.skipped.atRelease - run.skipped.before, 'skipped while locked')
      .toBeGreaterThanOrEqual(2);
    expect
      .soft(tally(run.skipLines)[`${HUNG}/${PROBE}`] ?? 0, 'skip warnings naming the probe')
      .toBeGreaterThanOrEqual(2);
    // One warning per overrun, and its end says how many turns it skipped: they add up to the
    // counter (only the probe overran).
    const endedTurns = run.overrunEnds.reduce((n, e) => n + e.skippedTurns, 0);
    expect
      .soft(endedTurns, 'turns skipped, by the overrun-ended lines')
      .toBe(run.skipped.last - run.skipped.before);
    expect
      .soft([...new Set(run.overrunEnds.map((e) => e.key))], 'overruns')
      .toEqual([`${HUNG}/${PROBE}`]);
    // The hung target's other collectors ran every cycle: the straggler did not hold them.
    expect
      .soft(hung.cycles.length, 'hung: cycles while locked')
      .toBeGreaterThanOrEqual(Math.floor((run.releasedAt - run.lockedAt) / intervalMs) - 1);
    expect
      .soft(hung.gap, 'hung: largest gap between cycles, ms')
      .toBeLessThanOrEqual(1.5 * intervalMs);
    expect.soft(hung.problems, 'hung: departures from its last cycle before').toEqual([]);
    expectOtherUnaffected(run, other, intervalMs);
    expect
      .soft(Date.parse(run.recovered.metadata.finishedAt) - run.releasedAt, 'recovery, ms')
      .toBeLessThanOrEqual(boundMs + 2 * intervalMs);
  });
});

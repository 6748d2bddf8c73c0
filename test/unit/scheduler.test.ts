import { describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { sleep } from '../../src/core/timeout.js';

describe('Scheduler', () => {
  it('skips a run that is still in progress instead of queueing it', async () => {
    let running = 0;
    let maxConcurrent = 0;
    let started = 0;
    const scheduler = new Scheduler(
      [{ target: 't', collector: 'slow', intervalMs: 40 }],
      async () => {
        started += 1;
        running += 1;
        maxConcurrent = Math.max(maxConcurrent, running);
        await sleep(130);
        running -= 1;
      },
      { jitterRatio: 0, coalesceMs: 5 },
    );
    scheduler.start();
    await sleep(600);
    await scheduler.stop(1_000);
    expect(maxConcurrent).toBe(1);
    // Each 130 ms run spans about three 40 ms turns: roughly two skipped per run.
    expect(scheduler.stats.skipped).toBeGreaterThanOrEqual(started);
    expect(scheduler.stats.runs).toBe(started);
    // Nothing was queued: after stop no further run starts.
    const after = started;
    await sleep(200);
    expect(started).toBe(after);
  });

  it('runs a released collector on its next turn while the rest of its group still runs', async () => {
    const starts: string[][] = [];
    let concurrentSlow = 0;
    let maxConcurrentSlow = 0;
    const scheduler = new Scheduler(
      [
        { target: 't', collector: 'fast', intervalMs: 60 },
        { target: 't', collector: 'slow', intervalMs: 60 },
      ],
      async (_target, collectors, _signal, turn) => {
        starts.push([...collectors].sort());
        if (!collectors.includes('slow')) return;
        concurrentSlow += 1;
        maxConcurrentSlow = Math.max(maxConcurrentSlow, concurrentSlow);
        // The runner hands the finished collector over before the next turn, then the
        // straggler takes four turns.
        expect(turn.nextTurnInMs).toBeGreaterThan(0);
        expect(turn.nextTurnInMs).toBeLessThanOrEqual(60);
        turn.release(['fast']);
        await sleep(250);
        concurrentSlow -= 1;
      },
      { jitterRatio: 0, coalesceMs: 5 },
    );
    scheduler.start();
    await sleep(420);
    await scheduler.stop(1_000);
    // fast ran at (nearly) every turn, slow never twice at once and was skipped meanwhile.
    expect(starts.filter((g) => g.includes('fast')).length).toBeGreaterThanOrEqual(5);
    expect(maxConcurrentSlow).toBe(1);
    expect(starts.filter((g) => g.includes('slow')).length).toBeLessThanOrEqual(2);
    expect(scheduler.stats.skipped).toBeGreaterThanOrEqual(3);
  });

  it('a group ending does not free a released collector that is running again', async () => {
    let fastRunning = 0;
    let maxFast = 0;
    const scheduler = new Scheduler(
      [
        { target: 't', collector: 'fast', intervalMs: 50 },
        { target: 't', collector: 'slow', intervalMs: 10_000 },
      ],
      async (_target, collectors, _signal, turn) => {
        if (collectors.includes('slow')) {
          turn.release(['fast']);
          await sleep(120);
          return;
        }
        // fast alone: longer than a turn, so it must be skipped, never doubled, even when the
        // slow group that once held it ends meanwhile.
        fastRunning += 1;
        maxFast = Math.max(maxFast, fastRunning);
        await sleep(130);
        fastRunning -= 1;
      },
      { jitterRatio: 0, coalesceMs: 5 },
    );
    scheduler.start();
    await sleep(500);
    await scheduler.stop(1_000);
    expect(maxFast).toBe(1);
  });

  it('logs an overrun once when it starts and once when it ends, not per skipped turn', async () => {
    const lines: { level: string; msg: string; fields: LogFields | undefined }[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
      warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
      error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
      child: () => logger,
    };
    let runs = 0;
    const scheduler = new Scheduler(
      [
        { target: 't', collector: 'a', intervalMs: 40 },
        { target: 't', collector: 'b', intervalMs: 40 },
      ],
      async () => {
        runs += 1;
        // The first run overruns about four turns; the rest are quick.
        if (runs === 1) await sleep(170);
      },
      { jitterRatio: 0, coalesceMs: 5, logger },
    );
    scheduler.start();
    await sleep(400);
    await scheduler.stop(1_000);
    expect(scheduler.stats.skipped).toBeGreaterThanOrEqual(6);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.fields).toMatchObject({ target: 't', collectors: ['a', 'b'] });
    const ended = lines.filter((l) => l.msg === 'overrunning run ended');
    expect(ended.map((l) => l.fields?.collector).sort()).toEqual(['a', 'b']);
    expect(Number(ended[0]?.fields?.skippedTurns)).toBeGreaterThanOrEqual(3);
  });

  it('runs collectors of one target that fall due together as one group', async () => {
    const groups: string[][] = [];
    const scheduler = new Scheduler(
      [
        { target: 'a', collector: 'fast', intervalMs: 50 },
        { target: 'a', collector: 'slow', intervalMs: 100 },
        { target: 'b', collector: 'fast', intervalMs: 50 },
      ],
      (target, collectors) => {
        groups.push([target, ...collectors.sort()]);
        return Promise.resolve();
      },
      { jitterRatio: 0, coalesceMs: 10 },
    );
    scheduler.start();
    await sleep(230);
    await scheduler.stop(1_000);
    const aGroups = groups.filter((g) => g[0] === 'a');
    expect(aGroups[0]).toEqual(['a', 'fast', 'slow']);
    expect(aGroups.filter((g) => g.includes('slow')).length).toBeLessThan(aGroups.length);
    expect(groups.some((g) => g[0] === 'b')).toBe(true);
    expect(groups.every((g) => g[0] === 'a' || g.join() === 'b,fast')).toBe(true);
  });

  it('spreads targets with a random phase within the jitter ratio', async () => {
    const firstAt = new Map<string, number>();
    const t0 = Date.now();
    const phases = [0.0, 0.9];
    let call = 0;
    const scheduler = new Scheduler(
      [
        { target: 'early', collector: 'c', intervalMs: 1_000 },
        { target: 'late', collector: 'c', intervalMs: 1_000 },
      ],
      (target) => {
        if (!firstAt.has(target)) firstAt.set(target, Date.now() - t0);
        return Promise.resolve();
      },
      { jitterRatio: 0.2, random: () => phases[call++ % 2] ?? 0 },
    );
    scheduler.start(t0);
    await sleep(300);
    await scheduler.stop(100);
    expect(firstAt.get('early')).toBeLessThan(60);
    // 0.9 × 0.2 × 1000 ms = 180 ms
    expect(firstAt.get('late')).toBeGreaterThanOrEqual(170);
  });

  it('spreads a large fleet over the whole interval', async () => {
    const entries = Array.from({ length: 150 }, (_, i) => ({
      target: `t${i}`,
      collector: 'c',
      intervalMs: 1_000,
    }));
    const firstAt: number[] = [];
    const t0 = Date.now();
    const scheduler = new Scheduler(
      entries,
      () => {
        firstAt.push(Date.now() - t0);
        return Promise.resolve();
      },
      { jitterRatio: 0.1, random: () => 0.8 },
    );
    scheduler.start(t0);
    await sleep(1_000);
    await scheduler.stop(100);
    // 0.8 of the whole interval (800 ms), not of its first tenth (80 ms).
    expect(firstAt.length).toBeGreaterThanOrEqual(150);
    expect(Math.min(...firstAt)).toBeGreaterThanOrEqual(750);
  });

  it('waits for runs in flight on stop, and aborts them at the deadline', async () => {
    let finished = false;
    let aborted = false;
    const scheduler = new Scheduler(
      [{ target: 't', collector: 'c', intervalMs: 10_000 }],
      async (_t, _c, signal) => {
        await sleep(150);
        finished = true;
        await sleep(5_000, signal);
        aborted = signal.aborted;
      },
      { jitterRatio: 0 },
    );
    scheduler.start();
    await sleep(20);
    expect(scheduler.inFlight).toBe(1);
    const inTime = await scheduler.stop(300);
    expect(finished).toBe(true);
    expect(inTime).toBe(false);
    await sleep(10);
    expect(aborted).toBe(true);
  });

  it('counts a run that throws and keeps scheduling', async () => {
    let calls = 0;
    const scheduler = new Scheduler(
      [{ target: 't', collector: 'c', intervalMs: 30 }],
      () => {
        calls += 1;
        return Promise.reject(new Error('boom'));
      },
      { jitterRatio: 0, coalesceMs: 5 },
    );
    scheduler.start();
    await sleep(200);
    await scheduler.stop(100);
    expect(calls).toBeGreaterThan(2);
    expect(scheduler.stats.failed).toBe(calls);
  });

  it('rejects a non-positive interval', () => {
    expect(
      () =>
        new Scheduler([{ target: 't', collector: 'c', intervalMs: 0 }], () => Promise.resolve()),
    ).toThrow(/interval of t\/c must be positive/);
  });

  it('adds, changes and removes targets while running, never running one collector twice', async () => {
    const runs: string[] = [];
    let concurrentSlow = 0;
    let maxConcurrentSlow = 0;
    const scheduler = new Scheduler(
      [{ target: 'a', collector: 'x', intervalMs: 40 }],
      async (target, collectors) => {
        runs.push(`${target}:${collectors.sort().join('+')}`);
        if (target === 'b') {
          concurrentSlow += 1;
          maxConcurrentSlow = Math.max(maxConcurrentSlow, concurrentSlow);
          await sleep(120);
          concurrentSlow -= 1;
        }
      },
      { jitterRatio: 0, coalesceMs: 5 },
    );
    scheduler.start();
    await sleep(100);
    scheduler.setTarget('b', [{ target: 'b', collector: 'y', intervalMs: 30 }]);
    await sleep(60);
    // Mid-run, b's interval changes: the run in flight still counts, nothing overlaps.
    scheduler.setTarget('b', [{ target: 'b', collector: 'y', intervalMs: 20 }]);
    await sleep(200);
    scheduler.removeTarget('a');
    const aRunsAtRemoval = runs.filter((r) => r.startsWith('a:')).length;
    await sleep(150);
    await scheduler.stop(1_000);
    expect(runs.filter((r) => r.startsWith('b:')).length).toBeGreaterThanOrEqual(2);
    expect(maxConcurrentSlow).toBe(1);
    expect(runs.filter((r) => r.startsWith('a:')).length).toBe(aRunsAtRemoval);
    expect(aRunsAtRemoval).toBeGreaterThanOrEqual(2);
  });
});

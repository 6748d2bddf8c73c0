import { describe, expect, it } from 'vitest';
import type { ExportAdapter } from '../../src/core/export-adapter.js';
import { ExportManager } from '../../src/core/export-manager.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { sleep } from '../../src/core/timeout.js';
import { fakeBatch, seqOf } from '../helpers/batches.js';

/** An adapter whose behaviour per call the test decides. */
class ScriptedAdapter implements ExportAdapter {
  readonly received: number[] = [];
  calls = 0;
  flushed = 0;
  shutDown = 0;
  constructor(
    readonly name: string,
    readonly behaviour: (call: number, signal: AbortSignal) => Promise<void>,
  ) {}
  async export(batch: UnifiedMetrics, signal: AbortSignal): Promise<void> {
    this.calls += 1;
    await this.behaviour(this.calls, signal);
    this.received.push(seqOf(batch));
  }
  forceFlush(): Promise<void> {
    this.flushed += 1;
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.shutDown += 1;
    return Promise.resolve();
  }
}

/** A manager with fast retries; tests override what they exercise. */
function managerFor(
  adapters: ExportAdapter[],
  options: Partial<ConstructorParameters<typeof ExportManager>[1]> = {},
): ExportManager {
  return new ExportManager(adapters, {
    exportTimeoutMs: 5_000,
    queueSize: 10,
    maxRetries: 0,
    backoff: { initialMs: 1, maxMs: 1 },
    ...options,
  });
}

const never = (): Promise<void> => new Promise(() => undefined);
const fail = (): Promise<void> => Promise.reject(new Error('endpoint refused'));
const ok = (): Promise<void> => Promise.resolve();

describe('ExportManager', () => {
  it('keeps delivering every batch to a healthy adapter while another hangs and another throws', async () => {
    const hanging = new ScriptedAdapter('hanging', never);
    const throwing = new ScriptedAdapter('throwing', fail);
    const healthy = new ScriptedAdapter('healthy', ok);
    const manager = new ExportManager([hanging, throwing, healthy], {
      exportTimeoutMs: 50,
      queueSize: 4,
      maxRetries: 1,
      backoff: { initialMs: 5, maxMs: 10 },
    });
    // Batches arrive over time, as collection runs finish.
    for (let seq = 1; seq <= 20; seq += 1) {
      const before = performance.now();
      manager.publish(fakeBatch(seq));
      // publish never waits on an adapter, however stuck.
      expect(performance.now() - before).toBeLessThan(20);
      await sleep(5);
    }
    await manager.drain(3_000);
    await sleep(20);
    expect(healthy.received).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const stats = manager.stats();
    expect(stats.healthy).toMatchObject({ exported: 20, dropped: 0, retried: 0 });
    expect(stats.throwing?.exported).toBe(0);
    expect(stats.throwing?.retried).toBeGreaterThan(0);
    expect(stats.hanging?.exported).toBe(0);
    // Every batch is accounted for: delivered, or dropped after retries or queue overflow.
    for (const name of ['throwing', 'hanging']) {
      expect((stats[name]?.dropped ?? 0) + (stats[name]?.queued ?? 0)).toBe(20);
    }
    await manager.shutdown(500);
    expect(healthy.flushed).toBe(1);
    expect(healthy.shutDown).toBe(1);
  });

  it('retries a failing batch with backoff and delivers it once the adapter recovers', async () => {
    const flaky = new ScriptedAdapter('flaky', (call) => (call <= 2 ? fail() : ok()));
    const manager = new ExportManager([flaky], {
      exportTimeoutMs: 100,
      queueSize: 10,
      maxRetries: 5,
      backoff: { initialMs: 10, maxMs: 40 },
    });
    manager.publish(fakeBatch(1));
    manager.publish(fakeBatch(2));
    expect(await manager.drain(2_000)).toBe(true);
    expect(flaky.received).toEqual([1, 2]);
    expect(manager.stats().flaky).toMatchObject({
      exported: 2,
      retried: 2,
      failedAttempts: 2,
      dropped: 0,
    });
    await manager.shutdown(100);
  });

  it('drops the oldest waiting batch when the queue is full, and counts it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new ScriptedAdapter('slow', (call) => (call === 1 ? gate : ok()));
    const manager = managerFor([slow], { exportTimeoutMs: 5_000, queueSize: 3, maxRetries: 0 });
    manager.publish(fakeBatch(1));
    await sleep(5);
    for (let seq = 2; seq <= 6; seq += 1) manager.publish(fakeBatch(seq));
    release();
    await manager.drain(1_000);
    // Batch 1 was in flight and is never dropped by overflow; of 2-6, the three newest wait.
    expect(slow.received).toEqual([1, 4, 5, 6]);
    expect(manager.stats().slow).toMatchObject({ exported: 4, dropped: 2, queued: 0 });
    await manager.shutdown(100);
  });

  it('reads a queue bound given as a function at every push, so it can follow the fleet', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new ScriptedAdapter('slow', (call) => (call === 1 ? gate : ok()));
    let bound = 2;
    const manager = managerFor([slow], {
      exportTimeoutMs: 5_000,
      queueSize: () => bound,
      maxRetries: 0,
    });
    manager.publish(fakeBatch(1));
    await sleep(5);
    for (let seq = 2; seq <= 4; seq += 1) manager.publish(fakeBatch(seq));
    // Bound 2: batch 2 made way for 4. Then the fleet grows: nothing more is dropped.
    bound = 5;
    for (let seq = 5; seq <= 7; seq += 1) manager.publish(fakeBatch(seq));
    release();
    await manager.drain(1_000);
    expect(slow.received).toEqual([1, 3, 4, 5, 6, 7]);
    expect(manager.stats().slow).toMatchObject({ dropped: 1 });
    await manager.shutdown(100);
  });

  it('aborts the signal of an export that outlives its timeout', async () => {
    let abortedWith: unknown;
    const hanging = new ScriptedAdapter('hanging', (_call, signal) => {
      return new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          abortedWith = signal.reason;
          reject(signal.reason as Error);
        });
      });
    });
    const manager = managerFor([hanging], { exportTimeoutMs: 30, queueSize: 2, maxRetries: 0 });
    manager.publish(fakeBatch(1));
    await manager.drain(1_000);
    expect(String(abortedWith)).toMatch(/export to hanging timed out after 30 ms/);
    expect(manager.stats().hanging).toMatchObject({ exported: 0, dropped: 1 });
    await manager.shutdown(100);
  });

  it('shuts down within its deadline even when an adapter hangs, counting what was left', async () => {
    const hanging = new ScriptedAdapter('hanging', never);
    hanging.forceFlush = never;
    const manager = managerFor([hanging], {
      exportTimeoutMs: 10_000,
      queueSize: 10,
      maxRetries: 3,
    });
    manager.publish(fakeBatch(1));
    manager.publish(fakeBatch(2));
    const started = Date.now();
    await manager.shutdown(300);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(manager.stats().hanging?.dropped).toBe(2);
    expect(hanging.shutDown).toBe(1);
    manager.publish(fakeBatch(3));
    expect(hanging.calls).toBe(1);
    expect(manager.stats().hanging?.dropped).toBe(3);
  });

  it('counts a batch once even when the queue holds one and it is in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new ScriptedAdapter('slow', (call) => (call === 1 ? gate : ok()));
    const manager = managerFor([slow], { exportTimeoutMs: 5_000, queueSize: 1, maxRetries: 0 });
    manager.publish(fakeBatch(1));
    await sleep(5);
    manager.publish(fakeBatch(2));
    manager.publish(fakeBatch(3));
    release();
    await manager.drain(1_000);
    expect(slow.received).toEqual([1, 3]);
    const stats = manager.stats().slow;
    expect((stats?.exported ?? 0) + (stats?.dropped ?? 0)).toBe(3);
    await manager.shutdown(100);
  });
});

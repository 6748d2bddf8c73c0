import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUERY_PERFORMANCE_DEFAULTS } from '../../src/core/config/query-performance-settings.js';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { QueryPerformanceState } from '../../src/collectors/query-performance-state.js';
import { StatementDeltaTracker } from '../../src/collectors/statements/statement-deltas.js';
import { PlanRegressionTracker } from '../../src/collectors/plans/plan-regression.js';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { OneShotStateStore } from '../../src/cli/one-shot-state.js';
import { prepareStateDirectory } from '../../src/cli/state-directory.js';

const keyOf = (t: { name: string; port: number }) => `${t.name}-${t.port}`;

const TARGET = { name: 'db1', host: 'db1.example', port: 5432, labels: {} };

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (msg: string, fields?: LogFields) =>
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return { logger, lines };
}

describe('OneShotStateStore', () => {
  it('round-trips, writes 0600 without leaving a temp file, and honours the TTL', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgql-state-'));
    const { logger, lines } = recordingLogger();
    const store = new OneShotStateStore(dir, 60_000, logger, keyOf);
    expect(store.load(TARGET)).toBeUndefined();
    store.save(TARGET, { svc: { a: 1 } }, 1_000_000);
    expect(store.load(TARGET, 1_030_000)).toEqual({ svc: { a: 1 } });
    expect(store.load(TARGET, 1_070_000)).toBeUndefined();
    expect(readdirSync(dir)).toEqual([path.basename(store.fileOf(TARGET))]);
    expect(statSync(store.fileOf(TARGET)).mode & 0o777).toBe(0o600);
    // A missing file on the first run is normal: nothing logged.
    expect(lines).toEqual([]);
  });

  it('a corrupt file is reported once and treated as absent, never thrown', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgql-state-'));
    const { logger, lines } = recordingLogger();
    const store = new OneShotStateStore(dir, 60_000, logger, keyOf);
    for (const junk of ['{not json', '[]', '{"version":99,"savedAt":1,"services":{}}', '\u0000']) {
      writeFileSync(store.fileOf(TARGET), junk);
      expect(store.load(TARGET)).toBeUndefined();
    }
    expect(lines.filter((l) => l.startsWith('warn collector state corrupt'))).toHaveLength(4);
  });

  it('one run at a time holds a target; a dead holder or an old lock does not count', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgql-state-'));
    const { logger, lines } = recordingLogger();
    const store = new OneShotStateStore(dir, 60_000, logger, keyOf);
    const other = new OneShotStateStore(dir, 60_000, logger, keyOf);
    expect(store.acquire(TARGET)).toBe(true);
    expect(store.holds(TARGET)).toBe(true);
    // This process is alive, so a second store (another run) must wait its turn.
    expect(other.acquire(TARGET)).toBe(false);
    expect(lines.some((l) => l.includes('another run of this target'))).toBe(true);
    store.release(TARGET);
    expect(other.acquire(TARGET)).toBe(true);
    other.release(TARGET);
    // A lock left by a process that is gone.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(`${store.fileOf(TARGET)}.lock`, gone.stdout.toString());
    expect(store.acquire(TARGET)).toBe(true);
    store.release(TARGET);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never reads state through a link and never quotes a bad file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgql-state-'));
    const { logger, lines } = recordingLogger();
    const store = new OneShotStateStore(dir, 60_000, logger, keyOf);
    const secret = path.join(dir, 'secret');
    writeFileSync(secret, 'TOPSECRET-not-json');
    symlinkSync(secret, store.fileOf(TARGET));
    expect(store.load(TARGET)).toBeUndefined();
    rmSync(store.fileOf(TARGET));
    writeFileSync(store.fileOf(TARGET), 'TOPSECRET-not-json');
    expect(store.load(TARGET)).toBeUndefined();
    expect(lines.join('\n')).not.toContain('TOPSECRET');
    expect(lines).toHaveLength(2);
  });

  it('keeps state only in a directory that is ours alone', () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'pgql-state-'));
    const { logger, lines } = recordingLogger();
    const dir = prepareStateDirectory(base, logger);
    expect(dir).toBe(path.join(base, 'pgquerylens'));
    expect(statSync(dir ?? '').mode & 0o777).toBe(0o700);
    chmodSync(dir ?? '', 0o777);
    expect(prepareStateDirectory(base, logger)).toBeUndefined();
    const planted = mkdtempSync(path.join(os.tmpdir(), 'pgql-state-'));
    mkdirSync(path.join(planted, 'elsewhere'), { mode: 0o700 });
    symlinkSync(path.join(planted, 'elsewhere'), path.join(planted, 'pgquerylens'));
    expect(prepareStateDirectory(planted, logger)).toBeUndefined();
    expect(lines.filter((l) => l.startsWith('warn state directory'))).toHaveLength(2);
  });

  it('targets on different servers never share a file', () => {
    const store = new OneShotStateStore('/x', 1, recordingLogger().logger, keyOf);
    expect(store.fileOf(TARGET)).not.toBe(store.fileOf({ ...TARGET, port: 5433 }));
  });
});

describe('query-performance state across processes', () => {
  const rows = (calls: number) => [
    {
      userid: 10,
      dbid: 5,
      queryid: '-42',
      toplevel: true,
      counters: { calls, total_exec_time: calls * 2 },
    },
  ];

  it('a restored statement baseline gives deltas in the next process', () => {
    const first = new StatementDeltaTracker();
    first.apply({ takenAt: new Date(1_000_000), monitoredDbids: [5], rows: rows(10) });
    const saved = JSON.parse(JSON.stringify(first.saveState())) as unknown;

    const next = new StatementDeltaTracker();
    expect(next.restoreState(saved)).toBe(true);
    const result = next.apply({
      takenAt: new Date(1_030_000),
      monitoredDbids: [5],
      rows: rows(25),
    });
    expect(result.status).toBe('ok');
    expect(result.intervalSeconds).toBe(30);
    expect(result.deltas[0]?.counters.calls).toBe(15);
    expect(result.deltas[0]?.counters.total_exec_time).toBe(30);
  });

  it('a baseline that is not ours is refused and leaves a first run', () => {
    const tracker = new StatementDeltaTracker();
    for (const junk of [null, 1, {}, { layout: 'v0', keys: [], values: '' }]) {
      expect(tracker.restoreState(junk)).toBe(false);
    }
    const saved = new StatementDeltaTracker();
    saved.apply({ takenAt: new Date(1_000_000), monitoredDbids: [5], rows: rows(1) });
    const state = saved.saveState();
    expect(tracker.restoreState({ ...state, values: 'AAAA' })).toBe(false);
    expect(
      tracker.apply({ takenAt: new Date(2_000_000), monitoredDbids: [5], rows: rows(2) }).status,
    ).toBe('baseline');
  });

  it('plan histories survive, so a plan change is seen across processes', () => {
    const q = { databaseName: 'app', queryId: '7' };
    const first = new PlanRegressionTracker();
    expect(first.observePlan(q, 'aaaa', true, new Date(1_000_000))).toBeUndefined();
    const next = new PlanRegressionTracker();
    next.restoreState(JSON.parse(JSON.stringify(first.saveState())));
    expect(next.observePlan(q, 'bbbb', true, new Date(1_060_000))?.kind).toBe('new_plan');
    // Garbage is skipped entry by entry.
    const other = new PlanRegressionTracker();
    other.restoreState([{ key: 1 }, null, 'x']);
    expect(other.size).toBe(0);
  });

  it('the whole state round-trips through JSON, EXPLAIN times included', () => {
    const state = new QueryPerformanceState(QUERY_PERFORMANCE_DEFAULTS, undefined, false);
    state.deltas('t').apply({ takenAt: new Date(1_000_000), monitoredDbids: [5], rows: rows(3) });
    expect(state.planBudget.take('t', 'app', '7', 1, Date.now())).toBe(true);
    state.planBudget.done('t', 'app', '7', Date.now(), 'ok');
    const saved = JSON.parse(JSON.stringify(state.saveState('t'))) as unknown;

    const next = new QueryPerformanceState(QUERY_PERFORMANCE_DEFAULTS, undefined, false);
    next.restoreState('t', saved);
    // Explained in the previous process: not again within the per-query interval.
    expect(next.planBudget.take('t', 'app', '7', 2, Date.now())).toBe(false);
    expect(
      next.deltas('t').apply({ takenAt: new Date(1_010_000), monitoredDbids: [5], rows: rows(4) })
        .status,
    ).toBe('ok');
    next.restoreState('t', { version: 0 });
    next.restoreState('t', 'garbage');
  });
});

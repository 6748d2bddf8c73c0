import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/timeout.js';
import { cleanEnv, collect, startCli } from '../helpers/cli.js';

function demoDirs(dir: string): string[] {
  // Data directories only; the shared copy of the binaries (pgquerylens-pg-bin-*) may stay.
  return readdirSync(dir).filter(
    (d) => d.startsWith('pgquerylens-pg-') && !d.startsWith('pgquerylens-pg-bin-'),
  );
}

async function waitFor(
  read: () => string,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(read());
    if (match !== null) return match;
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}:\n${read()}`);
    await sleep(50);
  }
}

describe('npm start with nothing configured (the embedded demo)', () => {
  it('starts PostgreSQL, collects from it, and on Ctrl-C stops and removes everything', async () => {
    const child = startCli([]);
    const done = collect(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [, dataDir] = await waitFor(() => stderr, /embedded PostgreSQL started .*dataDir=(\S+)/);
    expect(existsSync(dataDir!)).toBe(true);
    // The first cycle's summary names the server and the probes it read.
    await waitFor(() => stdout, /pg_stat_database \[postgres\]: 1 row, \d+ commits/);
    expect(stdout).toMatch(
      /embedded PostgreSQL \d+\.\d+: \d+\/\d+ collector runs ok, \d+ unavailable; \d+ rows/,
    );
    expect(stdout).not.toMatch(/ failed/);
    expect(stdout).toMatch(/pg_stat_activity_summary: \d+ rows, sessions: .*\d+ background/);
    expect(stdout).toMatch(/pg_stat_database \[postgres\]: 1 row, \d+ commits/);
    // The session sampler runs from the start; its window is in the same batches.
    expect(stdout).toMatch(/active sessions: [\d.]+ average over \d+ ticks/);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(0);
    expect(stderr).toMatch(/embedded PostgreSQL stopped and its data removed/);
    expect(existsSync(dataDir!)).toBe(false);
    // The password of the embedded superuser never reaches the output.
    expect(stdout + stderr).not.toMatch(/postgres:[A-Za-z0-9_-]{20,}@/);
  });

  it('a Ctrl-C during start-up is a clean stop that leaves nothing behind', async () => {
    // A temporary directory of its own: other suites running at the same time make and remove
    // embedded servers in the shared one. World-searchable, as the shared one is, because as
    // root the server runs as another user.
    const tmp = mkdtempSync(path.join(tmpdir(), 'pgql-demo-tmp-'));
    chmodSync(tmp, 0o755);
    try {
      const child = startCli([], cleanEnv({ TMPDIR: tmp }));
      const done = collect(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor(() => stderr, /starting an embedded PostgreSQL/);
      child.kill('SIGINT');
      const result = await done;
      expect(result.code).toBe(0);
      expect(demoDirs(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { sleep } from '../../src/core/timeout.js';
import { cleanEnv, collect, runCli, startCli } from '../helpers/cli.js';

const pgUrl = inject('pgUrl');
const testDatabases = inject('testDatabases');
const password = new URL(pgUrl).password;
const dir = mkdtempSync(path.join(tmpdir(), 'pgql-cli-'));

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function downUrl(): string {
  const url = new URL(pgUrl);
  url.port = '1';
  return url.toString();
}

describe('the built CLI', () => {
  it('--once --output=json prints one valid UnifiedMetrics line per target and exits 0', async () => {
    const second = new URL(pgUrl);
    second.pathname = `/${testDatabases[0]}`;
    const result = await runCli([
      '--target',
      pgUrl,
      '--target',
      second.toString(),
      '--once',
      '--output=json',
      '--log-level=warn',
    ]);
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out).toHaveLength(2);
    const batches = out.map((l) => JSON.parse(l) as UnifiedMetrics);
    const hostPort = `127.0.0.1:${new URL(pgUrl).port}`;
    expect(batches.map((b) => b.target.name).sort()).toEqual([
      hostPort,
      `${hostPort}/${testDatabases[0]}`,
    ]);
    for (const batch of batches) {
      expect(batch.schemaVersion).toBe(1);
      expect(batch.metadata.collectors.filter((c) => !c.success && c.unavailable !== true)).toEqual(
        [],
      );
      expect(batch.probes.map((p) => p.probe)).toEqual(
        expect.arrayContaining(['pg_stat_database', 'pg_stat_activity_summary', 'pg_settings']),
      );
    }
    // Logs are on stderr, and no secret reaches either stream.
    expect(result.stdout).not.toContain(password);
    expect(result.stderr).not.toContain(password);
  });

  it('writes JSON lines to a file with --output-file and keeps stdout clean', async () => {
    const file = path.join(dir, 'out.jsonl');
    const result = await runCli([
      '--target',
      pgUrl,
      '--once',
      '--output=json',
      `--output-file=${file}`,
      '--log-level=warn',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(lines(readFileSync(file, 'utf8'))).toHaveLength(1);
  });

  it('exits 1 when every target is unreachable, after reporting it in the batch and the log', async () => {
    const result = await runCli(['--target', downUrl(), '--once', '--output=json']);
    expect(result.code).toBe(1);
    const [line] = lines(result.stdout);
    const batch = JSON.parse(line ?? '{}') as UnifiedMetrics;
    expect(batch.metadata.error).toMatch(/ECONNREFUSED/);
    expect(result.stderr).toMatch(/target unreachable/);
    expect(result.stderr).not.toContain(password);
  });

  it('validate exits 2 naming each bad key, one line each, with no stack trace', async () => {
    const config = path.join(dir, 'bad.yaml');
    writeFileSync(
      config,
      `mode: turbo
targets:
  - url: postgres://mon:topsecret-pw@db1/app
    host: db1
  - host: db2
    sslmode: sometimes
collectors:
  pg_stat_activty: { enabled: true }
`,
    );
    const result = await runCli(['validate', '--config', config]);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'config error: mode: must be one of "nri", "otel", "hybrid"',
      'config error: targets[0].host: set url or host, not both',
      'config error: targets[1].sslmode: must be one of "disable", "allow", "prefer", "require", "verify-ca", "verify-full"',
      'config error: collectors.pg_stat_activty: unknown collector (did you mean pg_stat_activity?)',
    ]);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(result.stderr + result.stdout).not.toContain('topsecret-pw');
  });

  it('validate accepts a good file and prints it with secrets masked', async () => {
    const config = path.join(dir, 'good.yaml');
    writeFileSync(
      config,
      `mode: hybrid
interval: 15s
targets:
  - name: main
    url: postgres://mon:another-secret@db1:5433/app?sslmode=require
    labels: { env: prod }
collectors:
  pg_settings: { interval: 30m }
`,
    );
    const result = await runCli(['validate', '-c', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('configuration is valid');
    expect(result.stdout).toContain('name: main');
    expect(result.stdout).toContain('sslmode: require');
    expect(result.stdout).not.toContain('another-secret');
  });

  it('a bad flag is a usage error (exit 2); --help and --version exit 0', async () => {
    const bad = await runCli(['--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown argument/);
    const badMode = await runCli(['--mode=agent', '--once']);
    expect(badMode.code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--target/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reads targets and secrets from the environment (PGQUERYLENS_TARGETS_FILE)', async () => {
    const file = path.join(dir, 'targets');
    writeFileSync(file, `${pgUrl}\n`);
    const result = await runCli(
      ['--once', '--output=json', '--log-level=warn'],
      cleanEnv({ PGQUERYLENS_TARGETS_FILE: file }),
    );
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toHaveLength(1);
  });

  it('uses the PG* variables as the target when nothing else is configured', async () => {
    const url = new URL(pgUrl);
    const result = await runCli(
      ['--once', '--output=json', '--log-level=warn'],
      cleanEnv({
        PGHOST: url.hostname,
        PGPORT: url.port,
        PGUSER: url.username,
        PGPASSWORD: password,
        PGDATABASE: 'postgres',
      }),
    );
    expect(result.code).toBe(0);
    const batch = JSON.parse(lines(result.stdout)[0] ?? '{}') as UnifiedMetrics;
    expect(batch.target.name).toBe(`${url.hostname}:${url.port}`);
  });

  it('on SIGTERM stops scheduling, finishes, flushes and exits 0', async () => {
    const child = startCli([
      '--target',
      pgUrl,
      '--interval=1s',
      '--output=json',
      '--log-level=info',
    ]);
    const done = collect(child);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Wait for at least two collection cycles.
    for (let i = 0; i < 100 && lines(stdout).length < 2; i += 1) await sleep(100);
    expect(lines(stdout).length).toBeGreaterThanOrEqual(2);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(result.stderr).toMatch(/"msg":"stopping/);
    const stopped = lines(result.stderr)
      .map(
        (l) =>
          JSON.parse(l) as {
            msg?: string;
            export?: Record<string, { exported: number; dropped: number }>;
          },
      )
      .find((l) => l.msg === 'stopped');
    // Every batch printed was counted as exported, and none was lost on the way out.
    expect(stopped?.export?.json?.exported).toBe(lines(result.stdout).length);
    expect(stopped?.export?.json?.dropped).toBe(0);
    for (const line of lines(result.stdout)) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });

  it('exits at once on a second signal', async () => {
    // A local server that accepts connections and never answers keeps a run (and so the
    // first shutdown) waiting on its connect timeout.
    const sockets: Socket[] = [];
    const blackhole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as AddressInfo).port;
    try {
      const child = startCli([
        '--target',
        `postgres://u@127.0.0.1:${port}/db`,
        '--interval=1s',
        '--output=json',
      ]);
      const done = collect(child);
      for (let i = 0; i < 50 && sockets.length === 0; i += 1) await sleep(100);
      expect(sockets.length).toBeGreaterThan(0);
      child.kill('SIGTERM');
      await sleep(200);
      const secondAt = Date.now();
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code).toBe(1);
      expect(Date.now() - secondAt).toBeLessThan(2_000);
      expect(result.stderr).toMatch(/second signal/);
    } finally {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
    }
  });
});

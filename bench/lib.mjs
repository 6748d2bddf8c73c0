// Helpers every bench shares: paths into the build, knobs from the environment (with the
// BENCH_QUICK smoke-run values), statistics, child processes and their /proc figures, embedded
// servers, Markdown output and the machine description. Kept free of bench-specific logic.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export { sleep };

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cli = path.join(root, 'dist', 'cli', 'main.js');

/** Imports a module of the build (dist/<p>), with a hint when the build is missing. */
export async function dist(p) {
  try {
    return await import(path.join(root, 'dist', p));
  } catch (err) {
    throw new Error(`cannot load dist/${p} (run npm run build first): ${err.message}`, {
      cause: err,
    });
  }
}

// ---- Knobs ----------------------------------------------------------------------------------

/** BENCH_QUICK=1: a fast smoke run of every bench, to check the command works. */
export const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

/**
 * Where results go: bench/results, or bench/results/quick for a smoke run, so it never
 * overwrites real results; BENCH_RESULTS_DIR overrides both.
 */
export const resultsDir = process.env.BENCH_RESULTS_DIR
  ? path.resolve(process.env.BENCH_RESULTS_DIR)
  : path.join(root, 'bench', 'results', ...(quick ? ['quick'] : []));

/** A positive integer from the environment; `quickValue` when BENCH_QUICK is set. */
export function positiveInt(name, fallback, quickValue = fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return quick ? quickValue : fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** A comma-separated list of positive integers from the environment. */
export function intList(name, fallback, quickValue = fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return quick ? quickValue : fallback;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`${name} must be a comma-separated list of positive integers`);
  }
  return list;
}

// ---- Statistics and formatting --------------------------------------------------------------

export const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
export const mean = (xs) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
export const percentile = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
export const round = (n, d = 0) => Math.round(n * 10 ** d) / 10 ** d;
export const fmt = (n) => (Number.isFinite(n) ? n.toLocaleString('en-US') : 'n/a');
/** A number with about three significant digits, for tables mixing 0.02 and 20,000. */
export const num = (n) => {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a >= 100) return fmt(round(n));
  if (a >= 10) return String(round(n, 1));
  if (a >= 1) return String(round(n, 2));
  return String(round(n, 3));
};
export const mb = (kb) => round(kb / 1024, 1);
/** a / b as "1.23×", or n/a. */
export const ratio = (a, b) => (b > 0 && Number.isFinite(a) ? `${num(a / b)}×` : 'n/a');

/** Least-squares line y = intercept + slope·x, with r². */
export function linearFit(xs, ys) {
  const n = xs.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = sxx === 0 || syy === 0 ? NaN : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}

/** A Markdown table; `align` holds 'l' or 'r' per column. */
export function mdTable(header, rows, align = header.map((_, i) => (i === 0 ? 'l' : 'r'))) {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (c) =>
    `| ${c.map((v, i) => (align[i] === 'l' ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'l' ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

// ---- Processes ------------------------------------------------------------------------------

/** Spawns `node ...args`; stdout and stderr are collected unless `onStdout` takes stdout. */
export function spawnNode(args, { env = process.env, cwd, onStdout } = {}) {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', onStdout ?? ((d) => (stdout += d)));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('exit', (code, signal) => resolve(code ?? signal));
  });
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopChild(child, exited, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A kB field of /proc/<pid>/status (VmRSS, VmHWM), NaN when the process is gone. */
export function procStatusKb(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

let clockTicks;
/** User + system CPU time of a process so far, ms, from /proc/<pid>/stat. */
export function procCpuMs(pid) {
  clockTicks ??=
    Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a truthy value; throws `what` after `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 60_000, intervalMs = 200, what = 'condition' }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** GET a URL's body as text (no fetch dependency on the lint globals). */
export async function httpText(url, timeoutMs = 120_000) {
  const res = await globalThis.fetch(url, { signal: globalThis.AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${new URL(url).pathname}: HTTP ${res.status}`);
  return text;
}

/** Parses a Prometheus exposition into samples { name, labels (raw text), value }. */
export function parseExposition(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    const labels = brace >= 0 && brace < space ? line.slice(brace + 1, line.lastIndexOf('}')) : '';
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

// ---- Servers --------------------------------------------------------------------------------

/** An embedded PostgreSQL (pg_stat_statements preloaded by EmbeddedServer), silent. */
export async function startEmbedded(settings = {}) {
  const { EmbeddedServer } = await dist('cli/embedded/embedded-server.js');
  const { silentLogger } = await dist('core/logger.js');
  return EmbeddedServer.start({ logger: silentLogger, settings });
}

/**
 * Tables `names` in the connected database, each with its primary key, a secondary index (and
 * every other table a second one unless `secondIndex` is false), `rows` rows, analysed:
 * statistics views with real content.
 */
export async function createTables(client, names, rows, { secondIndex = true } = {}) {
  for (const [t, table] of names.entries()) {
    await client.query(`CREATE TABLE ${table} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account int NOT NULL, label text NOT NULL, amount numeric(12,2) NOT NULL,
      created timestamptz NOT NULL DEFAULT now())`);
    await client.query(`CREATE INDEX ${table}_account ON ${table} (account)`);
    if (secondIndex && t % 2 === 0) {
      await client.query(`CREATE INDEX ${table}_created ON ${table} (created)`);
    }
    await client.query(
      `INSERT INTO ${table} (account, label, amount, created)
       SELECT g % 50, 'item ' || g, (g * 7 % 1000) / 10.0, now() - g * interval '1 minute'
         FROM generate_series(1, ${rows}) g`,
    );
  }
  await client.query('ANALYZE');
}

/** A light workload on the tables: point reads, an index range, a scan and an update each. */
export async function tableWorkload(client, names, rows, tick) {
  for (const table of names) {
    for (let k = 0; k < 3; k++) {
      await client.query(`SELECT * FROM ${table} WHERE id = $1`, [((tick * 3 + k) % rows) + 1]);
    }
    await client.query(`SELECT count(*), sum(amount) FROM ${table} WHERE account = $1`, [
      tick % 50,
    ]);
    await client.query(`SELECT count(*) FROM ${table} WHERE label LIKE $1`, [`%${tick % 10}%`]);
    await client.query(`UPDATE ${table} SET amount = amount + 1 WHERE id = $1`, [
      (tick % rows) + 1,
    ]);
  }
}

// ---- The peer: prometheus-postgres-exporter ----------------------------------------------------

export const EXPORTER = process.env.POSTGRES_EXPORTER ?? '/usr/bin/prometheus-postgres-exporter';
export const EXAMPLE_QUERIES = '/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml';

/**
 * Debian's example queries.yaml, made to work on this server the way a user would have to:
 * pg_stat_statements' columns as renamed in PostgreSQL 13 and 17, and pg_process_idle run once
 * per server (without `master: true` every discovered database reports the same series and each
 * scrape fails with HTTP 500).
 */
export function exampleQueries(major) {
  let text = readFileSync(EXAMPLE_QUERIES, 'utf8');
  const edits = [];
  if (major >= 13) {
    for (const c of ['total', 'min', 'max', 'mean', 'stddev']) {
      text = text.replace(`${c}_time / 1000`, `${c}_exec_time / 1000`);
    }
    edits.push('`*_time` → `*_exec_time` in pg_stat_statements (PostgreSQL 13)');
  }
  if (major >= 17) {
    text = text
      .replace(' blk_read_time / 1000', ' shared_blk_read_time / 1000')
      .replace(' blk_write_time / 1000', ' shared_blk_write_time / 1000');
    edits.push('`blk_*_time` → `shared_blk_*_time` (PostgreSQL 17)');
  }
  text = text.replace(/^pg_process_idle:$/m, 'pg_process_idle:\n  master: true');
  edits.push('`master: true` on pg_process_idle (else duplicate series and HTTP 500 per scrape)');
  return { text, edits };
}

/** The exporter's version line, e.g. `0.11.1 (branch: debian/sid, revision: 0.11.1-3+b5)`. */
export function exporterVersion() {
  const r = spawnSync(EXPORTER, ['--version'], { encoding: 'utf8' });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0] ?? '';
  return line.replace(/^postgres_exporter, version /, '') || 'unknown';
}

/**
 * Starts the exporter on a free port with nothing but DATA_SOURCE_NAME in its environment, and
 * resolves once it listens. `log()` is its stderr (it may hold DSNs: redact before printing).
 */
export async function startExporter(dataSourceName, args = []) {
  const port = await freePort();
  const child = spawn(
    EXPORTER,
    [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...args],
    { env: { DATA_SOURCE_NAME: dataSourceName }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('exit', resolve);
  });
  const handle = {
    child,
    exited,
    pid: child.pid,
    url: `http://127.0.0.1:${port}/metrics`,
    log: () => log,
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the exporter exited ${child.exitCode}`);
        try {
          await httpText(`http://127.0.0.1:${port}/`, 2_000);
          return true;
        } catch {
          return false;
        }
      },
      { what: `the exporter to listen on ${port}`, timeoutMs: 30_000 },
    );
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
  return handle;
}

/** The exporter's logged errors, deduplicated: message, collector and error text. */
export function exporterErrors(log) {
  const lines = log
    .split('\n')
    .filter((l) => l.includes('level=error'))
    .map((l) => {
      const msg = /msg="([^"]*)"/.exec(l)?.[1] ?? l.slice(0, 160);
      const name = / name=(\S+)/.exec(l)?.[1];
      const err = /err="((?:[^"\\]|\\.)*)"/.exec(l)?.[1]?.replace(/\\"/g, '"');
      return `${msg}${name ? ` ${name}` : ''}${err ? `: ${err}` : ''}`;
    });
  return [...new Set(lines)];
}

// ---- Output ---------------------------------------------------------------------------------

/** The machine, for a results header: CPU model and count, RAM, OS, Node. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown CPU',
    cores: cpus.length,
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

/** One line describing the machine. */
export function machineLine() {
  const m = machine();
  return `${m.cpu}, ${m.cores} CPUs, ${m.ramGiB} GiB, ${m.os}, Node ${m.node}`;
}

/** Load average before and after, and a warning block when the machine was busy. */
export function loadNote(loadBefore) {
  const after = os.loadavg()[0];
  const cores = os.cpus().length;
  const line = `1-minute load average ${round(loadBefore, 2)} before, ${round(after, 2)} after, on ${cores} CPUs`;
  const busy = Math.max(loadBefore, after) > cores * 0.75;
  return {
    line,
    warning: busy
      ? `\n> **Warning:** the machine was busy (${line}): absolute figures are noisy; the ratios, measured in the same run, hold better.\n`
      : '',
  };
}

/** Writes bench/results/<name>.md and prints it. */
export function writeResult(name, markdown) {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.md`);
  writeFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  console.log(markdown);
  console.log(`(written to ${path.relative(root, file)})`);
  return file;
}

/** `text` with every secret replaced by ****: passwords must never reach the output. */
export function redact(text, secrets) {
  let out = String(text);
  for (const secret of secrets) if (secret) out = out.split(secret).join('****');
  return out;
}

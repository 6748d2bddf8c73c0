import { spawn } from 'node:child_process';
import { CLI } from '../../helpers/cli.js';
import type { Output } from './fuzz-verdict.js';

/**
 * The environment every fuzzed run starts from, in-process and in the CLI alike: nothing of the
 * developer's, a private TMPDIR (NRI state), and the telemetry listener on a free port.
 */
export function baseEnv(tmp: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TMPDIR: tmp,
    PGQUERYLENS_TELEMETRY_PORT: '0',
  };
}

/** Runs the built CLI in `cwd` (relative output paths land there); killed after `timeoutMs`. */
export function runCliIn(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<Output & { readonly timedOut: boolean; readonly ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    if (stdout.length < 1_000_000) stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 1_000_000) stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/**
 * Runs `work` over `items`, `parallel` at a time, until all are done or `budgetMs` has passed;
 * returns how many were run.
 */
export async function runBounded<T>(
  items: readonly T[],
  parallel: number,
  budgetMs: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<number> {
  const deadline = Date.now() + budgetMs;
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && Date.now() < deadline) {
      const index = next;
      next += 1;
      await work(items[index] as T, index);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return done;
}

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;

/**
 * A fuzzed configuration made safe to run for real: every target points at a closed port
 * (keeping the fuzzed target settings otherwise), no datastore (an embedded one would start a
 * server), OTLP at the closed port with a 1 s timeout, the listener on port 0. Whatever else
 * the fuzzer chose stays, valid or not.
 */
export function forRun(
  config: Record<string, unknown>,
  closedPort: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  const unreachable = `postgres://fuzz@127.0.0.1:${closedPort}/postgres`;
  const targets = Array.isArray(out.targets) ? out.targets : [{}];
  out.targets = targets.map((t: unknown) => {
    const fields = asObject(t);
    if (fields === undefined) return t;
    const rest = Object.fromEntries(
      Object.entries(fields).filter(([k]) => !['url', 'host', 'port', 'type'].includes(k)),
    );
    return { ...rest, url: unreachable, connectTimeout: '1s' };
  });
  delete out.datastore;
  const endpoint = `http://127.0.0.1:${closedPort}`;
  const otlp = asObject(out.otlp);
  if (otlp !== undefined || out.otlp === undefined) {
    const logs = asObject(otlp?.logs);
    out.otlp = {
      ...otlp,
      endpoint,
      timeout: '1s',
      ...(logs === undefined ? {} : { logs: { ...logs, endpoint, timeout: '1s' } }),
    };
  }
  const telemetry = asObject(out.telemetry);
  if (telemetry !== undefined) out.telemetry = { ...telemetry, port: 0 };
  return out;
}

/** Variables that would replace the safe targets or the datastore, or reach a real server. */
export const RUN_UNSAFE_VARS = [
  'PGQUERYLENS_TARGETS',
  'PGQUERYLENS_TARGETS_FILE',
  'PGQUERYLENS_DATASTORE_URL',
  'PGQUERYLENS_DATASTORE_URL_FILE',
  'PGQUERYLENS_TELEMETRY_PORT',
  'PGQUERYLENS_TELEMETRY_HOST',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  'HOSTNAME',
  'PORT',
];

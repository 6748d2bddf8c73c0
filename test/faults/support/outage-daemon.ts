import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv, collect, startCli, type CliResult } from '../../helpers/cli.js';

/**
 * The collector as a long-running process for the outage tests: its config file, its logs as
 * they come, its telemetry port, its memory, and a bounded copy of its stdout.
 */

/** Outage length: PGQUERYLENS_FAULT_OUTAGE_SECONDS for quick local iterations, 120 s by default. */
export function outageMs(): number {
  const seconds = Number(process.env.PGQUERYLENS_FAULT_OUTAGE_SECONDS ?? '120');
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000;
}

/** Waits until `check` holds, polling; the error says what was awaited and, if given, why not. */
export async function pollUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  detail: () => string = () => '',
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}. ${detail()}`.trim());
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Writes `config` as the collector's configuration file (JSON is YAML). */
export async function writeConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, 'pgquerylens.yaml');
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

/** One JSON log line of the collector. */
export interface LogRecord {
  readonly msg?: string;
  readonly level?: string | number;
  readonly [key: string]: unknown;
}

/** A running collector. */
export interface Daemon {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Resolves when the process has exited, with everything it wrote. */
  readonly exited: Promise<CliResult>;
  stderr(): string;
  /** Lines written to stdout so far (NRI payloads in hybrid mode), counted, not kept. */
  stdoutLines(): number;
  /** Its JSON log lines so far. */
  logs(): LogRecord[];
  /** The port of /metrics and /readyz, once it listens. */
  telemetryPort(timeoutMs?: number): Promise<number>;
  /** Whether the process is still running. */
  running(): boolean;
}

const children = new Set<ChildProcessWithoutNullStreams>();

/** Kills every collector still running (afterAll/afterEach): nothing outlives a failed test. */
export function killDaemons(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/** Starts `pgquerylens --config <file>` with JSON logs and a free telemetry port. */
export function startDaemon(config: string, exitTimeoutMs = 600_000): Daemon {
  const child = startCli(['--config', config, '--log-format', 'json'], cleanEnv());
  children.add(child);
  let stderr = '';
  let stdoutLines = 0;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    for (const byte of d) if (byte === 10) stdoutLines += 1;
  });
  // collect() keeps stdout too; NRI payloads over a few minutes are a few MB at most.
  const exited = collect(child, exitTimeoutMs);
  const logs = (): LogRecord[] =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogRecord];
        } catch {
          return [];
        }
      });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid ?? 0,
    exited,
    stderr: () => stderr,
    stdoutLines: () => stdoutLines,
    logs,
    running,
    telemetryPort: async (timeoutMs = 60_000) => {
      let port: number | undefined;
      await pollUntil(
        'the telemetry listener',
        () => {
          if (!running()) throw new Error(`the collector exited early:\n${stderr}`);
          const line = logs().find((r) => r.msg === 'telemetry listening');
          port = typeof line?.port === 'number' ? line.port : undefined;
          return port !== undefined;
        },
        timeoutMs,
      );
      return port ?? 0;
    },
  };
}

/** The collector's `stopped` log line: export lane counters and the datastore's. */
export interface StopLog {
  readonly export?: Record<
    string,
    { exported: number; dropped: number; queued: number; retried: number; droppedRows: number }
  >;
  readonly datastore?: {
    readonly rowsWritten: number;
    readonly batchesWritten: number;
    readonly duplicateBatches: number;
    readonly failedWrites: number;
    readonly rejectedRows: number;
    readonly droppedRows: number;
    readonly bufferedRows: number;
  };
}

export function stopLog(daemon: Daemon): StopLog {
  const stopped = daemon.logs().find((r) => r.msg === 'stopped');
  if (stopped === undefined) throw new Error(`no 'stopped' log line in:\n${daemon.stderr()}`);
  return stopped as StopLog;
}

/** Resident memory of a process, bytes, from /proc/<pid>/status (VmRSS). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** One sample of the Prometheus text of /metrics. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** GET /metrics, parsed into samples. */
export async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** GET /readyz: its status and the checks that failed. */
export async function readiness(port: number): Promise<{ status: number; failing: string[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await res.json()) as { checks?: { name: string; ok: boolean }[] };
  return {
    status: res.status,
    failing: (body.checks ?? []).filter((c) => !c.ok).map((c) => c.name),
  };
}

export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    }
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function total(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  return samples
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

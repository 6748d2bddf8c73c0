import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { UnifiedMetrics } from '../../../src/core/model/unified-metrics.js';
import { cleanEnv, collect, startCli, type CliResult } from '../../helpers/cli.js';

/** A long-running CLI process whose output is kept as it arrives. */
export interface Daemon {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves when the process exits (killed with SIGKILL after `maxRunMs`). */
  readonly exited: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  /** The telemetry listener's port, from the `telemetry listening` log line (JSON logs). */
  telemetryPort(timeoutMs?: number): Promise<number>;
  /** SIGTERM, then the result. */
  stop(): Promise<CliResult>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** SIGKILLs every daemon still running: for afterAll, so a failed test leaves nothing behind. */
export function killDaemons(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

export function startDaemon(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  maxRunMs = 180_000,
): Daemon {
  const child = startCli(args, env);
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = collect(child, maxRunMs);
  void exited.finally(() => running.delete(child)).catch(() => undefined);
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    telemetryPort: async (timeoutMs = 60_000) => {
      let port: number | undefined;
      await pollUntil(
        'the telemetry listener',
        () => {
          const line = stderr.split('\n').find((l) => l.includes('telemetry listening'));
          if (line !== undefined) port = (JSON.parse(line) as { port: number }).port;
          return port !== undefined;
        },
        timeoutMs,
      );
      return port ?? 0;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function pollUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The complete batches of a JSON-lines output file so far (a line being written is left out). */
export async function batchesIn(file: string): Promise<UnifiedMetrics[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return batchesOf(text);
}

/** The complete batches of JSON-lines text. */
export function batchesOf(text: string): UnifiedMetrics[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as UnifiedMetrics);
}

/** GET on the telemetry listener. */
export async function scrape(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/**
 * A metric's value summed over the series of the Prometheus text whose labels include every
 * one of `labels`; undefined when no series matches.
 */
export function metricValue(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Rows of `probe` in a batch (0 when the probe is absent). */
export function probeRows(batch: UnifiedMetrics, probe: string): number {
  return batch.probes.filter((p) => p.probe === probe).reduce((n, p) => n + p.rows.length, 0);
}

/** Collector statuses that failed for another reason than the server lacking something. */
export function failedStatuses(
  batch: UnifiedMetrics,
): UnifiedMetrics['metadata']['collectors'][number][] {
  return batch.metadata.collectors.filter((s) => !s.success && s.unavailable !== true);
}

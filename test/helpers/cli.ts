import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it (npm test builds it first). */
export const CLI = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/cli/main.js',
);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment without the developer's PG* or PGQUERYLENS_* variables leaking into a test. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG') && !key.startsWith('PGQUERYLENS_')) env[key] = value;
  }
  // Port 0: CLIs started side by side must not fight over the telemetry listener's 9464.
  return { ...env, PGQUERYLENS_TELEMETRY_PORT: '0', ...extra };
}

export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { env, stdio: 'pipe' });
}

export function runCli(
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<CliResult> {
  const child = startCli(args, env);
  return collect(child, timeoutMs);
}

export function collect(
  child: ChildProcessWithoutNullStreams,
  timeoutMs = 60_000,
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not exit within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

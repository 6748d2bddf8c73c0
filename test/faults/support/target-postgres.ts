import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { OsUser } from '../../../src/cli/embedded/os-user.js';
import {
  DEBIAN_PG_BIN,
  freePort,
  initCluster,
  serverDir,
  serverUser,
  spawnServer,
  stopProcess,
  SUPERUSER,
  waitUntil,
} from '../../helpers/debian-postgres.js';

/**
 * A Debian PostgreSQL 15 cluster that can be stopped for real and started again from its data
 * directory on the same port, so a collector keeps the same URL through the outage (a refused
 * connection, not a proxy's reset). DebianPostgres removes its data on stop; this one keeps it
 * until destroy().
 */
export class RestartablePostgres {
  #child: ChildProcess | undefined;
  #log: () => string = () => '';
  readonly #exitHook: () => void;

  private constructor(
    readonly port: number,
    readonly password: string,
    private readonly dir: string,
    private readonly runAs: OsUser | undefined,
    private readonly settings: Readonly<Record<string, string>>,
  ) {
    // If the test process dies without destroy(), leave no server or data behind.
    this.#exitHook = () => {
      this.#child?.kill('SIGQUIT');
      rmSync(this.dir, { recursive: true, force: true });
    };
    process.on('exit', this.#exitHook);
  }

  /** initdb, then start on a free port. */
  static async create(
    settings: Readonly<Record<string, string>> = {},
  ): Promise<RestartablePostgres> {
    const runAs = await serverUser();
    const dir = await serverDir('pgql-fault-pg-', runAs);
    try {
      const password = await initCluster(dir, runAs);
      const server = new RestartablePostgres(await freePort(), password, dir, runAs, settings);
      await server.start();
      return server;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Superuser URL of `database` (holds the password: never print it). */
  url(database = 'postgres'): string {
    return `postgres://${SUPERUSER}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Starts the server on its port and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const all: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      shared_preload_libraries: 'pg_stat_statements',
      compute_query_id: 'on',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ...this.settings,
    };
    const args = ['-D', path.join(this.dir, 'data'), '-p', String(this.port)];
    for (const [name, value] of Object.entries(all)) args.push('-c', `${name}=${value}`);
    const { child, log } = spawnServer(path.join(DEBIAN_PG_BIN, 'postgres'), args, this.runAs);
    this.#child = child;
    this.#log = log;
    await waitUntil(
      `Debian postgres on port ${this.port}`,
      child,
      () => log().includes('ready to accept connections'),
      log,
      60_000,
    );
  }

  /** Fast shutdown (SIGINT), keeping the data directory. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child !== undefined) await stopProcess(child, 'SIGINT');
  }

  /** The current server process's log so far. */
  log(): string {
    return this.#log();
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    process.off('exit', this.#exitHook);
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

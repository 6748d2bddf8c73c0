import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import {
  freePort,
  serverDir,
  serverUser,
  skipReasonFor,
  spawnServer,
  stopProcess,
  waitUntil,
  writePrivate,
} from './debian-postgres.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Why the PgBouncer suites skip here; throws when PGQUERYLENS_REQUIRE_DEBIAN_PG=1. */
export function pgbouncerSkipReason(): string | undefined {
  return skipReasonFor({ [PGBOUNCER]: 'pgbouncer' });
}

/** Role allowed on the admin console's SHOW commands (stats_users), not a PostgreSQL role. */
export const STATS_USER = 'pgql_stats';

/**
 * A throwaway PgBouncer on 127.0.0.1 in front of one PostgreSQL, transaction pooling, with
 * an auth file holding the backend superuser (whose password also logs PgBouncer in to the
 * server) and a stats-only console user. Runs as an unprivileged user when we are root:
 * PgBouncer refuses root.
 */
export class PgBouncerServer {
  private constructor(
    readonly port: number,
    readonly statsPassword: string,
    private readonly backend: URL,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly exitHook: () => void,
  ) {}

  /** URL of `database` through the bouncer, as the backend's own user. */
  url(database: string): string {
    const u = new URL(this.backend.toString());
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.pathname = `/${database}`;
    return u.toString();
  }

  /** URL of the admin console as the stats user. */
  consoleUrl(): string {
    return `postgres://${STATS_USER}:${encodeURIComponent(this.statsPassword)}@127.0.0.1:${this.port}/pgbouncer`;
  }

  static async start(backendUrl: string): Promise<PgBouncerServer> {
    const backend = new URL(backendUrl);
    const user = decodeURIComponent(backend.username);
    const password = decodeURIComponent(backend.password);
    const runAs = await serverUser();
    const dir = await serverDir('pgquerylens-pgbouncer-', runAs);
    try {
      const statsPassword = randomBytes(12).toString('base64url');
      const authFile = path.join(dir, 'userlist.txt');
      // Plain-text entries: PgBouncer needs the real password to log in to a SCRAM server.
      await writePrivate(
        authFile,
        `${quote(user)} ${quote(password)}\n${quote(STATS_USER)} ${quote(statsPassword)}\n`,
        runAs,
      );
      let lastError: unknown;
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const port = await freePort();
        const ini = path.join(dir, 'pgbouncer.ini');
        await writeFile(
          ini,
          [
            '[databases]',
            `* = host=${backend.hostname} port=${backend.port || '5432'}`,
            '[pgbouncer]',
            'listen_addr = 127.0.0.1',
            `listen_port = ${port}`,
            'unix_socket_dir =',
            'auth_type = scram-sha-256',
            `auth_file = ${authFile}`,
            `stats_users = ${STATS_USER}`,
            'pool_mode = transaction',
            'default_pool_size = 5',
            '',
          ].join('\n'),
        );
        const { child, log } = spawnServer(PGBOUNCER, [ini], runAs);
        try {
          await waitUntil('pgbouncer', child, () => accepts(port), log);
        } catch (err) {
          lastError = err;
          await stopProcess(child, 'SIGKILL');
          continue;
        }
        const exitHook = (): void => {
          child.kill('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        };
        process.on('exit', exitHook);
        return new PgBouncerServer(port, statsPassword, backend, dir, child, exitHook);
      }
      throw lastError instanceof Error ? lastError : new Error('pgbouncer did not start');
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Immediate shutdown (SIGTERM), then removes its files. */
  async stop(): Promise<void> {
    process.off('exit', this.exitHook);
    await stopProcess(this.child, 'SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }
}

function quote(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

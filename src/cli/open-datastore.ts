import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { createDatastorePool } from '../adapters/datastore/datastore-pool.js';
import type { ResolvedDatastore } from '../core/config/resolved-config.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { registerSecret } from '../core/redact.js';
import { EmbeddedServer } from './embedded/embedded-server.js';

/** A reachable datastore and how to let go of it. */
export interface OpenDatastore {
  readonly pool: pg.Pool;
  /** Stops the embedded server, if one was started (the pool is closed by its user). */
  readonly close: () => Promise<void>;
}

/** Where `datastore.url: embedded` keeps its data when `dataDir` is not set. */
export function defaultEmbeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  // Root's home is private, and the server runs as an unprivileged user who must reach it.
  if (process.getuid?.() === 0) return '/var/lib/pgquerylens/datastore';
  const base = env.XDG_DATA_HOME ?? path.join(homedir(), '.local', 'share');
  return path.join(base, 'pgquerylens', 'datastore');
}

/**
 * Builds the datastore pool from configuration: a URL (with the password from
 * `datastore.passwordFile` when set) or `embedded`, which starts (or re-opens) a PostgreSQL kept
 * under the data directory.
 */
export async function openDatastore(
  datastore: ResolvedDatastore,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenDatastore> {
  const url = datastore.url;
  if (url === undefined) {
    throw new ConfigError([{ path: 'datastore.url', message: 'not set' }]);
  }
  if (url === 'embedded') {
    const dataDir = datastore.dataDir ?? defaultEmbeddedDataDir(env);
    const server = await EmbeddedServer.start({ logger, dataDir, env });
    registerSecret(server.password);
    const pool = createDatastorePool({
      url: server.url(),
      maxConnections: datastore.maxConnections,
    });
    return { pool, close: () => server.stop() };
  }
  let withPassword = url;
  if (datastore.passwordFile !== undefined) {
    let password: string;
    try {
      password = readFileSync(datastore.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError([
        { path: 'datastore.passwordFile', message: `cannot read: ${errorMessage(err)}` },
      ]);
    }
    registerSecret(password);
    try {
      const parsed = new URL(url);
      // URL userinfo is percent-decoded by the driver: a literal % must arrive as %25.
      parsed.password = encodeURIComponent(password);
      withPassword = parsed.toString();
    } catch {
      throw new ConfigError([
        {
          path: 'datastore.url',
          message: 'must be a postgres:// URL to combine with passwordFile',
        },
      ]);
    }
  }
  const pool = createDatastorePool({ url: withPassword, maxConnections: datastore.maxConnections });
  return { pool, close: () => Promise.resolve() };
}
